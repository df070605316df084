// The Kubernetes executor against a real kube-apiserver 1.20: run only by
// tests/apply/kubernetes_apply_test.sh, which starts the server (KUBECONFIG
// set) and installs Gateway API's HTTPRoute CRD. The samples are compiled,
// rendered, planned and applied as `ferry apply` would; no controller runs,
// so a fake one (RolloutFaker) writes each Deployment's status when the
// executor starts waiting for it, unless a test wants the rollout to hang.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compiler/apply/apply.h"
#include "compiler/apply/kubernetes_executor.h"
#include "compiler/apply/kubernetes_internal.h"
#include "compiler/driver/render.h"
#include "compiler/plan/plan.h"
#include "compiler/support/file_system.h"

namespace ferry::apply {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

auto Kubectl(const std::vector<std::string>& args, std::string_view input = {}) -> KubectlResult {
  static std::unique_ptr<KubectlRunner> runner = MakeProcessRunner();
  std::vector<std::string> argv{"kubectl"};
  argv.insert(argv.end(), args.begin(), args.end());
  return runner->Run(argv, input, std::chrono::seconds(60));
}

auto GetJson(const std::vector<std::string>& args) -> json {
  std::vector<std::string> full{"get"};
  full.insert(full.end(), args.begin(), args.end());
  full.insert(full.end(), {"-o", "json", "--show-managed-fields"});
  const KubectlResult result = Kubectl(full);
  INFO(result.err);
  REQUIRE(result.ok());
  return json::parse(result.out);
}

// Every kubectl run of the executor, its output kept to check that no
// secret value ever reached it.
class RecordingRunner final : public KubectlRunner {
 public:
  auto Run(const std::vector<std::string>& argv, std::string_view input,
           std::chrono::milliseconds timeout) -> KubectlResult override {
    KubectlResult result = inner_->Run(argv, input, timeout);
    for (const std::string& arg : argv) output += arg + " ";
    output += "\n" + result.out + result.err;
    return result;
  }
  std::string output;

 private:
  std::unique_ptr<KubectlRunner> inner_ = MakeProcessRunner();
};

// Progress that plays the Deployment controller: when the executor says it
// waits for a Deployment, its status is written as a finished rollout.
class RolloutFaker final : public Progress {
 public:
  void Line(std::string_view text) override {
    lines.emplace_back(text);
    constexpr std::string_view kWaiting = "waiting for Deployment ";
    if (!finish_rollouts || text.substr(0, kWaiting.size()) != kWaiting) return;
    const std::string object(
        text.substr(kWaiting.size(), text.find(" to roll out") - kWaiting.size()));
    const std::string ns = object.substr(0, object.find('/'));
    const std::string name = object.substr(object.find('/') + 1);
    const json deployment = GetJson({"deployment", name, "-n", ns});
    const long long replicas = deployment["spec"].value("replicas", 1);
    const json status = {{"status",
                          {{"observedGeneration", deployment["metadata"]["generation"]},
                           {"replicas", replicas},
                           {"updatedReplicas", replicas},
                           {"readyReplicas", replicas},
                           {"availableReplicas", replicas}}}};
    const KubectlResult patched =
        Kubectl({"patch", "deployment", name, "-n", ns, "--subresource=status", "--type=merge",
                 "-p", status.dump()});
    INFO(patched.err);
    CHECK(patched.ok());
  }
  void Fraction(std::string_view, double) override {}

  bool finish_rollouts = true;
  std::vector<std::string> lines;
};

struct Loaded {
  driver::RenderRun run;
  plan::Desired desired;
};

auto Load(const std::string& manifest) -> std::unique_ptr<Loaded> {
  auto loaded = std::make_unique<Loaded>();
  support::DiskFileSystem disk;
  diag::Sink sink;
  loaded->run = driver::CompileAndRender(disk, manifest, sink);
  REQUIRE(loaded->run.project);
  REQUIRE_FALSE(loaded->run.result.files.empty());
  loaded->desired = plan::DesiredResources(*loaded->run.project, loaded->run.result,
                                           plan::ExecutorKind::Kubernetes);
  return loaded;
}

auto PlanFor(const Loaded& loaded, const plan::State& state) -> plan::Plan {
  diag::Sink sink;
  plan::Plan made = plan::MakePlan(*loaded.run.project, loaded.desired, state, sink);
  return made;
}

// Executes `plan` as apply does (recording each completed action); the first
// failure is returned.
auto Execute(Executor& executor, const Loaded& loaded, const plan::Plan& plan, plan::State& state,
             Progress& progress, std::chrono::seconds timeout = std::chrono::seconds(30))
    -> ActionOutcome {
  ProjectPaths paths;
  for (const plan::Action& action : plan.actions) {
    ExecuteContext context{
        *loaded.run.project, loaded.run.result, loaded.desired, state, paths, progress};
    context.ready_timeout = timeout;
    ActionOutcome outcome = executor.Execute(action, context);
    if (!outcome.ok) return outcome;
    if (outcome.record) {
      state.Put(*outcome.record);
    } else {
      state.Remove(action.address);
    }
  }
  ActionOutcome done;
  done.ok = true;
  return done;
}

auto NewState(const Loaded& loaded) -> plan::State {
  plan::State state;
  state.project = loaded.desired.project;
  state.executor = "kubernetes";
  state.lineage = "test";
  return state;
}

auto MakeExecutor(std::shared_ptr<KubectlRunner> runner, std::chrono::seconds rollout = {})
    -> std::unique_ptr<KubernetesExecutor> {
  KubernetesOptions options;
  options.runner = std::move(runner);
  options.poll_interval = std::chrono::milliseconds(200);
  options.rollout_timeout = rollout;
  return std::make_unique<KubernetesExecutor>(options);
}

auto Sample(const std::string& name) -> std::string {
  return std::string(FERRY_SOURCE_DIR) + "/samples/" + name + "/ferry.yaml";
}

auto ManagedByFerry(const json& object) -> bool {
  for (const json& field : object["metadata"].value("managedFields", json::array())) {
    if (field.value("manager", "") == "ferry" && field.value("operation", "") == "Apply") {
      return true;
    }
  }
  return false;
}

auto Decode(const std::string& base64) -> std::string {
  std::string out;
  REQUIRE(kube::Base64Decode(base64, out));
  return out;
}

TEST_CASE("faq-matching: apply, no-op plan, status, keys, prune, drift, timeout, destroy") {
  const std::unique_ptr<Loaded> loaded = Load(Sample("faq-matching"));
  auto recorder = std::make_shared<RecordingRunner>();
  const std::unique_ptr<KubernetesExecutor> executor = MakeExecutor(recorder);
  RolloutFaker progress;
  plan::State state = NewState(*loaded);

  // --- apply from nothing ---
  const plan::Plan first = PlanFor(*loaded, state);
  REQUIRE(first.Counts(plan::ActionKind::Create) == first.actions.size());
  const ActionOutcome applied = Execute(*executor, *loaded, first, state, progress);
  INFO(applied.error);
  REQUIRE(applied.ok);
  std::size_t objects = 0;
  for (const plan::ResourceState& resource : state.resources) {
    if (resource.type != "object") continue;
    ++objects;
    const std::optional<kube::ObjectRef> ref =
        kube::ObjectFromAttributes(resource.address, resource.attributes);
    REQUIRE(ref);
    std::vector<std::string> args{ref->Resource(), ref->name};
    if (!ref->ns.empty()) args.insert(args.end(), {"-n", ref->ns});
    const json live = GetJson(args);
    INFO(resource.address);
    CHECK(ManagedByFerry(live));
    CHECK(resource.live.at("uid") == live["metadata"]["uid"].get<std::string>());
  }
  CHECK(objects == 12);

  // The key Secret: labelled, two 43-character keys, never in any output.
  const json secret = GetJson({"secret", "faq-keys", "-n", "faq-matching"});
  CHECK(secret["metadata"]["labels"]["ferry.dev/project"] == "faq-matching");
  CHECK(secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ferry");
  const std::string primary = Decode(secret["data"]["primary"]);
  const std::string secondary = Decode(secret["data"]["secondary"]);
  CHECK(primary.size() == 43);
  CHECK(secondary.size() == 43);
  CHECK(recorder->output.find(primary) == std::string::npos);
  CHECK(recorder->output.find(secret["data"]["primary"].get<std::string>()) == std::string::npos);
  for (const std::string& line : progress.lines) CHECK(line.find(primary) == std::string::npos);

  // --- a second apply has nothing to do ---
  CHECK(PlanFor(*loaded, state).actions.empty());

  // --- status and keys ---
  std::string error;
  const std::vector<EndpointStatus> status = executor->Status(state, {}, error);
  CHECK(error.empty());
  REQUIRE(status.size() == 1);
  CHECK(status[0].name == "faq");
  CHECK(status[0].auth == "key");
  CHECK(status[0].scoring_uri ==
        "http://ferry-router.faq-matching.svc.cluster.local/api/v1/service/faq/score (ClusterIP; "
        "use kubectl port-forward)");
  REQUIRE(status[0].versions.size() == 1);
  CHECK(status[0].versions[0].weight == 100);
  CHECK(status[0].versions[0].replicas.size() == 3);
  CHECK(status[0].versions[0].revision.size() == 16);
  CHECK(status[0].healthy);
  std::optional<EndpointSecret> keys = executor->ReadSecret(state, {}, "faq", error);
  REQUIRE(keys);
  CHECK(keys->primary == primary);
  keys->primary = "regenerated-primary-key";
  CHECK(executor->WriteSecret(state, {}, "faq", *keys, error));
  CHECK(Decode(GetJson({"secret", "faq-keys", "-n", "faq-matching"})["data"]["primary"]) ==
        "regenerated-primary-key");
  CHECK(recorder->output.find("regenerated-primary-key") == std::string::npos);

  // --- prune: an object an apply created but never recorded ---
  const std::string orphan = R"({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
      "name": "faq-orphan", "namespace": "faq-matching", "labels": {
      "app.kubernetes.io/managed-by": "ferry", "ferry.dev/project": "faq-matching"}}})";
  REQUIRE(Kubectl({"apply", "--server-side", "--field-manager=ferry", "-f", "-"}, orphan).ok());
  REQUIRE(Kubectl({"create", "configmap", "users-own", "-n", "faq-matching"}).ok());
  const std::vector<std::string> pruned =
      executor->PruneUndesired("faq-matching", loaded->desired, error, &state);
  CHECK(error.empty());
  CHECK(pruned == std::vector<std::string>{"ConfigMap faq-matching/faq-orphan on prod"});
  CHECK(IsNotFound(Kubectl({"get", "configmap", "faq-orphan", "-n", "faq-matching"})));
  CHECK(Kubectl({"get", "configmap", "users-own", "-n", "faq-matching"}).ok());

  // --- drift: a hand edit and a hand deletion, then apply takes them back ---
  // faq-live is autoscaled by the router within 3..12: only a count outside that is drift.
  REQUIRE(Kubectl({"patch", "deployment", "faq-live", "-n", "faq-matching", "--type=merge", "-p",
                   R"({"spec": {"replicas": 13}})"})
              .ok());
  REQUIRE(Kubectl({"delete", "poddisruptionbudget", "faq-live", "-n", "faq-matching"}).ok());
  const std::vector<Observed> observed = executor->Refresh(state, {}, error);
  CHECK(error.empty());
  REQUIRE(observed.size() == state.resources.size());
  plan::State refreshed = state;
  for (const Observed& entry : observed) {
    if (entry.address == "object.prod.Deployment.faq-live") {
      CHECK(entry.exists);
      CHECK(entry.attributes.at("spec.replicas") == "13");
      CHECK(entry.note ==
            "Deployment faq-matching/faq-live was changed outside ferry: "
            "spec.replicas (13, outside the router's range 3..12)");
    } else if (entry.address == "object.prod.PodDisruptionBudget.faq-live") {
      CHECK_FALSE(entry.exists);
    } else {
      INFO(entry.address, " ", entry.note);
      CHECK(entry.exists);
      CHECK(entry.note.empty());
    }
    if (!entry.exists) {
      refreshed.Remove(entry.address);
      continue;
    }
    plan::ResourceState* resource = refreshed.Find(entry.address);
    resource->attributes = entry.attributes;
    resource->hash = plan::HashAttributes(resource->type, resource->attributes);
  }
  const plan::Plan repair = PlanFor(*loaded, refreshed);
  REQUIRE(repair.actions.size() == 2);
  CHECK(repair.Counts(plan::ActionKind::Create) == 1);
  CHECK(repair.Counts(plan::ActionKind::Update) == 1);
  REQUIRE(Execute(*executor, *loaded, repair, refreshed, progress).ok);
  CHECK(GetJson({"deployment", "faq-live", "-n", "faq-matching"})["spec"]["replicas"] == 3);
  CHECK(Kubectl({"get", "poddisruptionbudget", "faq-live", "-n", "faq-matching"}).ok());
  state = refreshed;

  // --- a rollout that never finishes: the apply stops before traffic ---
  {
    const std::unique_ptr<KubernetesExecutor> impatient =
        MakeExecutor(recorder, std::chrono::seconds(2));
    const plan::ResourceState* recorded = state.Find("object.prod.Deployment.faq-live");
    REQUIRE(recorded);
    // A new image (its tag edited): a new pod template, so a new generation.
    Loaded edited{loaded->run, loaded->desired};
    for (render::RenderedFile& file : edited.run.result.files) {
      if (file.path == "kubernetes/prod/deployment-faq-live.yaml") {
        const std::size_t image = file.contents.find("image: ");
        REQUIRE(image != std::string::npos);
        file.contents.insert(file.contents.find('\n', image), "-edited");
      }
    }
    plan::Action update;
    update.kind = plan::ActionKind::Update;
    update.address = recorded->address;
    update.type = "object";
    update.prior = *recorded;
    update.desired = *plan::FindResource(loaded->desired, recorded->address);
    std::string& image = update.desired->attributes["spec.template.spec.containers[0].image"];
    image.insert(image.size() - 1, "-edited");
    const std::string config_version =
        GetJson({"configmap", "ferry-router", "-n", "faq-matching"})["metadata"]["resourceVersion"];
    progress.finish_rollouts = false;
    ProjectPaths paths;
    ExecuteContext context{
        *edited.run.project, edited.run.result, edited.desired, state, paths, progress};
    const ActionOutcome timed_out = impatient->Execute(update, context);
    progress.finish_rollouts = true;
    CHECK_FALSE(timed_out.ok);
    CHECK_FALSE(timed_out.record);
    CHECK(timed_out.error.rfind("Deployment faq-matching/faq-live did not finish rolling out "
                                "within 2 s: observed generation 3 of 4, 3 of 3 replicas "
                                "updated, 3 available, 3 in all. Traffic was not moved to it",
                                0) == 0);
    CHECK(timed_out.detail.find("no log to show: `kubectl logs deployment/faq-live -n "
                                "faq-matching --tail=20` gave: ") == 0);
    CHECK(GetJson({"configmap", "ferry-router", "-n",
                   "faq-matching"})["metadata"]["resourceVersion"] == config_version);
  }

  // --- destroy: every recorded object deleted in reverse order, then nothing is left ---
  plan::Desired nothing;
  nothing.project = "faq-matching";
  nothing.executor = plan::ExecutorKind::Kubernetes;
  Loaded empty{loaded->run, nothing};
  const plan::State before = state;
  std::string orphan_again = orphan;
  orphan_again.replace(orphan_again.find("faq-orphan"), 10, "faq-orphan-2");
  REQUIRE(
      Kubectl({"apply", "--server-side", "--field-manager=ferry", "-f", "-"}, orphan_again).ok());
  const plan::Plan destroy = PlanFor(empty, state);
  CHECK(destroy.Counts(plan::ActionKind::Delete) == before.resources.size());
  const ActionOutcome destroyed = Execute(*executor, empty, destroy, state, progress);
  INFO(destroyed.error);
  REQUIRE(destroyed.ok);
  CHECK(state.resources.empty());
  // faq-orphan-2 (made before the destroy, as a killed apply would have) goes too
  // (AfterApply: the clusters this executor worked on; there is no state file here).
  ProjectPaths nowhere;
  nowhere.state_dir = "/nonexistent/.ferry";
  const std::vector<std::string> leftovers = executor->AfterApply(nothing, nowhere, error);
  CHECK(leftovers == std::vector<std::string>{"ConfigMap faq-matching/faq-orphan-2 on prod"});
  CHECK(error.empty());
  const json left = GetJson({"deployments,services,configmaps,secrets,roles", "-n", "faq-matching",
                             "-l", "ferry.dev/project=faq-matching"});
  CHECK(left["items"].empty());
  const json ns = GetJson({"namespace", "faq-matching"});
  CHECK(ns["metadata"].contains("deletionTimestamp"));
}

TEST_CASE("controlled-rollout: a traffic change updates the router, not the models") {
  const fs::path copy =
      fs::temp_directory_path() / ("ferry-kube-rollout-" + std::to_string(getpid()));
  fs::remove_all(copy);
  fs::copy(fs::path(FERRY_SOURCE_DIR) / "samples/controlled-rollout", copy,
           fs::copy_options::recursive);
  const std::unique_ptr<Loaded> loaded = Load((copy / "ferry.yaml").string());
  const std::unique_ptr<KubernetesExecutor> executor =
      MakeExecutor(std::make_shared<RecordingRunner>());
  RolloutFaker progress;
  plan::State state = NewState(*loaded);
  const ActionOutcome applied =
      Execute(*executor, *loaded, PlanFor(*loaded, state), state, progress);
  INFO(applied.error);
  REQUIRE(applied.ok);
  const auto routes = [] {
    return GetJson({"configmap", "ferry-router", "-n", "churn-rollout"})["data"]["routes.yaml"]
        .get<std::string>();
  };
  CHECK(routes().find("weight: 20.0") != std::string::npos);
  const json before = GetJson({"deployments", "-n", "churn-rollout"});

  // a: 20 -> 30, so the default b serves 70.
  std::string text;
  {
    std::ifstream in(copy / "ferry.yaml");
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  text.replace(text.find("traffic: 20"), 11, "traffic: 30");
  std::ofstream(copy / "ferry.yaml") << text;
  const std::unique_ptr<Loaded> edited = Load((copy / "ferry.yaml").string());
  const plan::Plan change = PlanFor(*edited, state);
  INFO(plan::FormatPlanText(change, false));
  // The router's ConfigMap carries the weights; render stamps its sha256 on the router's pod
  // template (ferry.dev/routes-sha256), so the router rolls too. The models stay as they are.
  REQUIRE(change.actions.size() == 2);
  CHECK(change.actions[0].kind == plan::ActionKind::Update);
  CHECK(change.actions[0].address == "object.shared.ConfigMap.ferry-router");
  CHECK(change.actions[1].kind == plan::ActionKind::Update);
  CHECK(change.actions[1].address == "object.shared.Deployment.ferry-router");
  REQUIRE(change.actions[1].changes.size() == 1);
  CHECK(change.actions[1].changes[0].field ==
        "spec.template.metadata.annotations.ferry.dev/routes-sha256");
  REQUIRE(Execute(*executor, *edited, change, state, progress).ok);
  CHECK(routes().find("weight: 30.0") != std::string::npos);
  CHECK(routes().find("weight: 70.0") != std::string::npos);
  const json after = GetJson({"deployments", "-n", "churn-rollout"});
  REQUIRE(after["items"].size() == before["items"].size());
  for (std::size_t i = 0; i < after["items"].size(); ++i) {
    const json& deployment = after["items"][i];
    if (deployment["metadata"]["name"] == "ferry-router") continue;
    INFO(deployment["metadata"]["name"]);
    CHECK(deployment["metadata"]["resourceVersion"] ==
          before["items"][i]["metadata"]["resourceVersion"]);
  }
  CHECK(PlanFor(*edited, state).actions.empty());
  fs::remove_all(copy);
}

// The recorded Deployment of `version` (its app.kubernetes.io/version label).
auto DeploymentOf(const plan::State& state, std::string_view version) -> std::string {
  for (const plan::ResourceState& resource : state.resources) {
    const std::optional<kube::ObjectRef> ref =
        kube::ObjectFromAttributes(resource.address, resource.attributes);
    if (ref && ref->kind == "Deployment" &&
        kube::AttributeString(resource.attributes, "metadata.labels.app.kubernetes.io/version") ==
            version) {
      return ref->name;
    }
  }
  return "";
}

// Whether field manager `manager` owns the Deployment's spec.replicas.
auto OwnsReplicas(const json& deployment, std::string_view manager) -> bool {
  for (const json& field : deployment["metadata"].value("managedFields", json::array())) {
    if (field.value("manager", "") != manager) continue;
    const json spec = field.value("fieldsV1", json::object()).value("f:spec", json::object());
    if (spec.contains("f:replicas")) return true;
  }
  return false;
}

TEST_CASE("controlled-rollout: an autoscaled replica count is not drift; an update keeps it") {
  const fs::path copy =
      fs::temp_directory_path() / ("ferry-kube-autoscaled-" + std::to_string(getpid()));
  fs::remove_all(copy);
  fs::copy(fs::path(FERRY_SOURCE_DIR) / "samples/controlled-rollout", copy,
           fs::copy_options::recursive);
  const auto edit = [&](std::string_view from, std::string_view to) {
    std::ifstream in(copy / "ferry.yaml");
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    const std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(copy / "ferry.yaml") << text;
  };
  const std::unique_ptr<Loaded> loaded = Load((copy / "ferry.yaml").string());
  const std::unique_ptr<KubernetesExecutor> executor =
      MakeExecutor(std::make_shared<RecordingRunner>());
  RolloutFaker progress;
  plan::State state = NewState(*loaded);
  const ActionOutcome applied =
      Execute(*executor, *loaded, PlanFor(*loaded, state), state, progress);
  INFO(applied.error);
  REQUIRE(applied.ok);
  // Version b is autoscaled by the router within 2..8 and starts at 2.
  const std::string b = DeploymentOf(state, "b");
  REQUIRE_FALSE(b.empty());
  const auto replicas = [&] {
    return GetJson({"deployment", b, "-n", "churn-rollout"})["spec"]["replicas"].get<int>();
  };
  REQUIRE(replicas() == 2);
  // `ferry plan` (apply refreshes first): the recorded state as it really is.
  const auto refreshed_plan = [&](const Loaded& with, std::vector<std::string>& notes) {
    std::string error;
    const std::optional<plan::State> refreshed = Refresh(*executor, state, {}, notes, error);
    INFO(error);
    REQUIRE(refreshed);
    state = *refreshed;
    return PlanFor(with, state);
  };

  // A new pod template (b's CPU) before anything scaled: ferry is the count's only owner, and
  // letting go of it must not reset it to Kubernetes' default of 1.
  edit("resources: {cpu: 0.5, memory_gb: 1}\n        autoscale: {enabled: true, min_replicas: 2",
       "resources: {cpu: 0.75, memory_gb: 1}\n        autoscale: {enabled: true, min_replicas: 2");
  const std::unique_ptr<Loaded> cpu = Load((copy / "ferry.yaml").string());
  std::vector<std::string> notes;
  const plan::Plan cpu_plan = refreshed_plan(*cpu, notes);
  CHECK(notes.empty());
  INFO(plan::FormatPlanText(cpu_plan, false));
  REQUIRE(cpu_plan.actions.size() == 1);
  CHECK(cpu_plan.actions[0].address == "object.shared.Deployment." + b);
  REQUIRE(Execute(*executor, *cpu, cpu_plan, state, progress).ok);
  CHECK(replicas() == 2);
  CHECK_FALSE(OwnsReplicas(GetJson({"deployment", b, "-n", "churn-rollout"}), "ferry"));

  // The autoscaler scales b to 5 (as the router does, through the scale subresource).
  REQUIRE(Kubectl({"scale", "deployment", b, "-n", "churn-rollout", "--replicas=5"}).ok());
  notes.clear();
  CHECK(refreshed_plan(*cpu, notes).actions.empty());
  CHECK(notes.empty());

  // Outside 2..8 it is drift, and the apply that repairs it sets the manifest's count.
  REQUIRE(Kubectl({"scale", "deployment", b, "-n", "churn-rollout", "--replicas=9"}).ok());
  notes.clear();
  const plan::Plan repair = refreshed_plan(*cpu, notes);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("spec.replicas (9, outside the router's range 2..8)") != std::string::npos);
  REQUIRE(repair.actions.size() == 1);
  REQUIRE(Execute(*executor, *cpu, repair, state, progress).ok);
  CHECK(replicas() == 2);

  // Scaled again, then a new image (b serves churn-scorer@1's bundle): the update keeps 5.
  REQUIRE(Kubectl({"scale", "deployment", b, "-n", "churn-rollout", "--replicas=5"}).ok());
  const std::string image_before = GetJson({"deployment", b, "-n", "churn-rollout"})
      ["spec"]["template"]["spec"]["containers"][0]["image"];
  edit("model: churn-scorer@2", "model: churn-scorer@1");
  const std::unique_ptr<Loaded> image = Load((copy / "ferry.yaml").string());
  notes.clear();
  const plan::Plan image_plan = refreshed_plan(*image, notes);
  CHECK(notes.empty());
  REQUIRE_FALSE(image_plan.actions.empty());
  REQUIRE(Execute(*executor, *image, image_plan, state, progress).ok);
  const json after = GetJson({"deployment", b, "-n", "churn-rollout"});
  CHECK(after["spec"]["template"]["spec"]["containers"][0]["image"] != image_before);
  CHECK(after["spec"]["replicas"] == 5);
  notes.clear();
  CHECK(refreshed_plan(*image, notes).actions.empty());
  CHECK(notes.empty());
  fs::remove_all(copy);
}

TEST_CASE("gateway-rollout: HTTPRoutes and HPAs apply, and pruning lists HTTPRoutes") {
  const std::unique_ptr<Loaded> loaded = Load(Sample("gateway-rollout"));
  const std::unique_ptr<KubernetesExecutor> executor =
      MakeExecutor(std::make_shared<RecordingRunner>());
  RolloutFaker progress;
  plan::State state = NewState(*loaded);
  const ActionOutcome applied =
      Execute(*executor, *loaded, PlanFor(*loaded, state), state, progress);
  INFO(applied.error);
  REQUIRE(applied.ok);
  const json route = GetJson({"httproute", "churn", "-n", "churn-gateway"});
  CHECK(ManagedByFerry(route));
  std::string status_error;
  const std::vector<EndpointStatus> status = executor->Status(state, {}, status_error);
  CHECK(status_error.empty());
  REQUIRE(status.size() == 1);
  CHECK(status[0].name == "churn");
  CHECK(status[0].scoring_uri == "/api/v1/service/churn/score (through the Gateway's address)");
  REQUIRE(status[0].versions.size() == 2);
  CHECK(status[0].versions[0].name == "a");
  CHECK(status[0].versions[0].weight == doctest::Approx(20));
  CHECK(status[0].versions[1].name == "b");
  CHECK(status[0].versions[1].weight == doctest::Approx(80));
  CHECK(status[0].healthy);
  // Without the HTTPRoute in what is desired, pruning deletes it.
  plan::Desired without = loaded->desired;
  std::erase_if(without.resources, [](const plan::Resource& r) {
    return r.address.find(".HTTPRoute.") != std::string::npos;
  });
  std::string error;
  const std::vector<std::string> pruned =
      executor->PruneUndesired("churn-gateway", without, error, &state);
  CHECK(error.empty());
  CHECK(pruned == std::vector<std::string>{"HTTPRoute churn-gateway/churn on edge"});
}

}  // namespace
}  // namespace ferry::apply

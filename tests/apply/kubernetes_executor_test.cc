// The Kubernetes executor against a fake kubectl: the exact command lines it
// runs, what it records, its rollout wait and timeout, Secrets (values never
// in messages), pruning and refresh. The real API server runs in
// kubernetes_apply_kubetest.cc.
#include "compiler/apply/kubernetes_executor.h"

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/apply/kubernetes_internal.h"

namespace ferry::apply {
namespace {

using Argv = std::vector<std::string>;

struct Call {
  Argv argv;
  std::string input;
};

class FakeKubectl final : public KubectlRunner {
 public:
  using Handler = std::function<KubectlResult(const Argv&, std::string_view)>;
  explicit FakeKubectl(Handler handler) : handler_(std::move(handler)) {}

  auto Run(const Argv& argv, std::string_view input, std::chrono::milliseconds /*timeout*/)
      -> KubectlResult override {
    calls.push_back({argv, std::string(input)});
    return handler_(argv, input);
  }

  std::vector<Call> calls;

 private:
  Handler handler_;
};

auto Ok(std::string out = {}) -> KubectlResult {
  KubectlResult result;
  result.exit_code = 0;
  result.out = std::move(out);
  return result;
}

auto Fail(std::string err) -> KubectlResult {
  KubectlResult result;
  result.exit_code = 1;
  result.err = std::move(err);
  return result;
}

auto Has(const Argv& argv, std::string_view word) -> bool {
  return std::find(argv.begin(), argv.end(), word) != argv.end();
}

class NullProgress final : public Progress {
 public:
  void Line(std::string_view text) override { lines.emplace_back(text); }
  void Fraction(std::string_view, double) override {}
  std::vector<std::string> lines;
};

// One executor, a fake kubectl, and everything an ExecuteContext needs.
struct Fixture {
  explicit Fixture(FakeKubectl::Handler handler, std::chrono::seconds rollout_timeout = {})
      : fake(std::make_shared<FakeKubectl>(std::move(handler))) {
    KubernetesOptions options;
    options.runner = fake;
    options.kubeconfig = "/tmp/kubeconfig";
    options.poll_interval = std::chrono::milliseconds(1);
    options.rollout_timeout = rollout_timeout;
    executor = std::make_unique<KubernetesExecutor>(options);
    desired.project = "faq-matching";
    desired.executor = plan::ExecutorKind::Kubernetes;
  }

  auto Execute(const plan::Action& action) -> ActionOutcome {
    ExecuteContext context{project, rendered, desired, state, paths, progress};
    context.ready_timeout = std::chrono::seconds(1);
    return executor->Execute(action, context);
  }

  // Calls other than the context listing.
  auto Work() const -> std::vector<Call> {
    std::vector<Call> work;
    for (const Call& call : fake->calls) {
      if (!Has(call.argv, "get-contexts")) work.push_back(call);
    }
    return work;
  }

  std::shared_ptr<FakeKubectl> fake;
  std::unique_ptr<KubernetesExecutor> executor;
  ir::Project project;
  render::RenderResult rendered;
  plan::Desired desired;
  plan::State state;
  ProjectPaths paths;
  NullProgress progress;
};

auto ObjectAction(plan::ActionKind kind, std::string kind_name, std::string api_version,
                  std::string name, std::string path) -> plan::Action {
  plan::Action action;
  action.kind = kind;
  action.address = "object.prod." + kind_name + "." + name;
  action.type = "object";
  plan::Resource resource;
  resource.address = action.address;
  resource.type = "object";
  resource.hash = "abc123";
  resource.attributes = {{"apiVersion", "\"" + api_version + "\""},
                         {"kind", "\"" + kind_name + "\""},
                         {"metadata.name", "\"" + name + "\""},
                         {"manifest.path", "\"" + path + "\""}};
  if (kind_name != "Namespace") resource.attributes["metadata.namespace"] = "\"faq-matching\"";
  if (kind == plan::ActionKind::Delete) {
    plan::ResourceState prior;
    prior.address = resource.address;
    prior.type = "object";
    prior.attributes = resource.attributes;
    action.prior = prior;
  } else {
    action.desired = resource;
  }
  return action;
}

constexpr std::string_view kContexts = "ferry-test\nprod\n";

auto Contexts(const Argv& argv) -> bool { return Has(argv, "get-contexts"); }

const Argv kApplyTail = {"apply",
                         "--server-side",
                         "--field-manager=ferry",
                         "--force-conflicts",
                         "-f",
                         "-",
                         "-o",
                         "jsonpath={.metadata.uid} {.metadata.resourceVersion} "
                         "{.metadata.generation}"};

TEST_CASE("kubectl argv: program, --kubeconfig, --context, then the arguments") {
  FakeKubectl fake([](const Argv&, std::string_view) { return Ok(); });
  Kubectl kubectl(fake, "/usr/bin/kubectl", "/etc/k.yaml", std::chrono::seconds(5));
  CHECK(kubectl.Argv("prod", {"get", "ns"}) ==
        Argv{"/usr/bin/kubectl", "--kubeconfig=/etc/k.yaml", "--context=prod", "get", "ns"});
  Kubectl plain(fake, "kubectl", "", std::chrono::seconds(5));
  CHECK(plain.Argv("", {"version"}) == Argv{"kubectl", "version"});
}

TEST_CASE("KubectlErrorLine skips kubectl's version-skew warning") {
  KubectlResult result;
  result.exit_code = 1;
  result.err =
      "WARNING: version difference between client (1.32) and server (1.20) exceeds\n"
      "Error from server (NotFound): deployments.apps \"x\" not found\n";
  CHECK(KubectlErrorLine(result) ==
        "Error from server (NotFound): deployments.apps \"x\" not found");
  CHECK(IsNotFound(result));
}

TEST_CASE("the process runner captures stdout, stderr, stdin and the exit code, and times out") {
  std::unique_ptr<KubectlRunner> runner = MakeProcessRunner();
  const KubectlResult echoed =
      runner->Run({"sh", "-c", "cat; echo oops >&2; exit 3"}, "hello\n", std::chrono::seconds(10));
  CHECK(echoed.exit_code == 3);
  CHECK(echoed.out == "hello\n");
  CHECK(echoed.err == "oops\n");
  CHECK_FALSE(echoed.ok());
  const KubectlResult slow = runner->Run({"sleep", "10"}, "", std::chrono::milliseconds(200));
  CHECK(slow.timed_out);
  const KubectlResult missing = runner->Run({"/nonexistent/kubectl"}, "", std::chrono::seconds(10));
  CHECK(missing.exit_code == 127);
}

TEST_CASE("apply: an object goes through server-side apply on its cluster's context") {
  Fixture fixture([](const Argv& argv, std::string_view) {
    if (Contexts(argv)) return Ok(std::string(kContexts));
    return Ok("uid-1 42 1");
  });
  fixture.rendered.files.push_back({"kubernetes/prod/configmap-ferry-router.yaml", "kind: X\n"});
  const plan::Action action =
      ObjectAction(plan::ActionKind::Create, "ConfigMap", "v1", "ferry-router",
                   "kubernetes/prod/configmap-ferry-router.yaml");
  const ActionOutcome outcome = fixture.Execute(action);
  REQUIRE(outcome.ok);
  const std::vector<Call> work = fixture.Work();
  REQUIRE(work.size() == 1);
  Argv expected{"kubectl", "--kubeconfig=/tmp/kubeconfig", "--context=prod"};
  expected.insert(expected.end(), kApplyTail.begin(), kApplyTail.end());
  CHECK(work[0].argv == expected);
  CHECK(work[0].input == "kind: X\n");
  REQUIRE(outcome.record);
  CHECK(outcome.record->hash == "abc123");
  CHECK(outcome.record->attributes == action.desired->attributes);
  CHECK(outcome.record->live.at("uid") == "uid-1");
  CHECK(outcome.record->live.at("resourceVersion") == "42");
  CHECK(outcome.record->live.at("namespace") == "faq-matching");
  CHECK(outcome.record->live.at("context") == "prod");
}

TEST_CASE("apply: a cluster without a context of its name goes to the current context") {
  Fixture fixture([](const Argv& argv, std::string_view) {
    if (Contexts(argv)) return Ok("ferry-test\n");
    return Ok("uid-1 1 1");
  });
  fixture.rendered.files.push_back({"kubernetes/prod/namespace-faq-matching.yaml", "n"});
  const ActionOutcome outcome =
      fixture.Execute(ObjectAction(plan::ActionKind::Create, "Namespace", "v1", "faq-matching",
                                   "kubernetes/prod/namespace-faq-matching.yaml"));
  REQUIRE(outcome.ok);
  for (const Call& call : fixture.Work()) {
    for (const std::string& word : call.argv) CHECK(word.rfind("--context", 0) != 0);
  }
}

TEST_CASE("apply: a missing rendered file is an error, nothing runs") {
  Fixture fixture([](const Argv& argv, std::string_view) {
    return Contexts(argv) ? Ok(std::string(kContexts)) : Ok();
  });
  const ActionOutcome outcome = fixture.Execute(ObjectAction(
      plan::ActionKind::Create, "ConfigMap", "v1", "ferry-router", "kubernetes/prod/gone.yaml"));
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.error ==
        "object.prod.ConfigMap.ferry-router: its rendered file 'kubernetes/prod/gone.yaml' is "
        "not in this render");
  CHECK(fixture.Work().empty());
}

auto DeploymentJson(int generation, int observed, int wanted, int updated, int available)
    -> std::string {
  return nlohmann::json{{"metadata", {{"generation", generation}}},
                        {"spec", {{"replicas", wanted}}},
                        {"status",
                         {{"observedGeneration", observed},
                          {"replicas", updated},
                          {"updatedReplicas", updated},
                          {"availableReplicas", available}}}}
      .dump();
}

TEST_CASE("apply: a Deployment is done when its rollout is complete") {
  int reads = 0;
  Fixture fixture([&](const Argv& argv, std::string_view) {
    if (Contexts(argv)) return Ok(std::string(kContexts));
    if (Has(argv, "apply")) return Ok("uid-d 7 2");
    ++reads;
    if (reads == 1) return Ok(DeploymentJson(2, 1, 3, 3, 3));  // not yet observed
    if (reads == 2) return Ok(DeploymentJson(2, 2, 3, 2, 2));  // rolling
    return Ok(DeploymentJson(2, 2, 3, 3, 3));
  });
  fixture.rendered.files.push_back({"kubernetes/prod/deployment-faq-live.yaml", "d"});
  const ActionOutcome outcome =
      fixture.Execute(ObjectAction(plan::ActionKind::Update, "Deployment", "apps/v1", "faq-live",
                                   "kubernetes/prod/deployment-faq-live.yaml"));
  REQUIRE(outcome.ok);
  CHECK(reads == 3);
  const std::vector<Call> work = fixture.Work();
  REQUIRE(work.size() == 4);
  CHECK(work[1].argv == Argv{"kubectl", "--kubeconfig=/tmp/kubeconfig", "--context=prod", "get",
                             "deployment.v1.apps", "faq-live", "-n", "faq-matching", "-o", "json"});
  CHECK(outcome.record->live.at("generation") == "2");
}

TEST_CASE("apply: a Deployment with 0 replicas is rolled out at once") {
  Fixture fixture([&](const Argv& argv, std::string_view) {
    if (Contexts(argv)) return Ok(std::string(kContexts));
    if (Has(argv, "apply")) return Ok("uid-d 7 1");
    return Ok(DeploymentJson(1, 1, 0, 0, 0));
  });
  fixture.rendered.files.push_back({"kubernetes/prod/deployment-faq-live.yaml", "d"});
  CHECK(fixture
            .Execute(ObjectAction(plan::ActionKind::Create, "Deployment", "apps/v1", "faq-live",
                                  "kubernetes/prod/deployment-faq-live.yaml"))
            .ok);
}

TEST_CASE("apply: a Deployment that does not roll out in time fails with its status") {
  Fixture fixture(
      [&](const Argv& argv, std::string_view) {
        if (Contexts(argv)) return Ok(std::string(kContexts));
        if (Has(argv, "apply")) return Ok("uid-d 7 1");
        if (Has(argv, "logs")) {
          return Fail("error: timed out waiting for the condition\n");
        }
        return Ok(DeploymentJson(1, 1, 3, 0, 0));
      },
      std::chrono::seconds(1));
  fixture.rendered.files.push_back({"kubernetes/prod/deployment-faq-live.yaml", "d"});
  const ActionOutcome outcome =
      fixture.Execute(ObjectAction(plan::ActionKind::Create, "Deployment", "apps/v1", "faq-live",
                                   "kubernetes/prod/deployment-faq-live.yaml"));
  CHECK_FALSE(outcome.ok);
  CHECK_FALSE(outcome.record);
  CHECK(outcome.error.rfind("Deployment faq-matching/faq-live did not finish rolling out within "
                            "1 s: observed generation 1 of 1, 0 of 3 replicas updated, 0 "
                            "available, 0 in all. Traffic was not moved to it",
                            0) == 0);
  CHECK(outcome.detail ==
        "no log to show: `kubectl logs deployment/faq-live -n faq-matching --tail=20` gave: "
        "error: timed out waiting for the condition (no pod of the Deployment has started; a "
        "cluster with no nodes, or an API server alone, runs none)");
  CHECK(Has(fixture.Work().back().argv, "deployment/faq-live"));
}

TEST_CASE("delete and replace: kubectl delete with the object's resource, then apply") {
  Fixture fixture([](const Argv& argv, std::string_view) {
    return Contexts(argv) ? Ok(std::string(kContexts)) : Ok("u 1 1");
  });
  fixture.rendered.files.push_back({"kubernetes/prod/poddisruptionbudget-faq-live.yaml", "p"});
  REQUIRE(fixture
              .Execute(ObjectAction(plan::ActionKind::Delete, "PodDisruptionBudget",
                                    "policy/v1beta1", "faq-live", ""))
              .ok);
  REQUIRE(
      fixture
          .Execute(ObjectAction(plan::ActionKind::Replace, "PodDisruptionBudget", "policy/v1beta1",
                                "faq-live", "kubernetes/prod/poddisruptionbudget-faq-live.yaml"))
          .ok);
  REQUIRE(
      fixture.Execute(ObjectAction(plan::ActionKind::Delete, "Namespace", "v1", "faq-matching", ""))
          .ok);
  const std::vector<Call> work = fixture.Work();
  REQUIRE(work.size() == 4);
  const Argv prefix{"kubectl", "--kubeconfig=/tmp/kubeconfig", "--context=prod"};
  auto with_prefix = [&](Argv tail) {
    Argv argv = prefix;
    argv.insert(argv.end(), tail.begin(), tail.end());
    return argv;
  };
  const Argv delete_pdb = with_prefix({"delete", "poddisruptionbudget.v1beta1.policy", "faq-live",
                                       "-n", "faq-matching", "--ignore-not-found", "--wait"});
  CHECK(work[0].argv == delete_pdb);
  CHECK(work[1].argv == delete_pdb);
  CHECK(work[2].argv == with_prefix(kApplyTail));
  CHECK(work[3].argv ==
        with_prefix({"delete", "namespace", "faq-matching", "--ignore-not-found", "--wait=false"}));
}

auto SecretAction(plan::ActionKind kind, std::string mode) -> plan::Action {
  plan::Action action;
  action.kind = kind;
  action.address = "secret.faq";
  action.type = "secret";
  plan::Resource resource;
  resource.address = "secret.faq";
  resource.type = "secret";
  resource.hash = "h";
  resource.attributes = {{"cluster", "\"prod\""},
                         {"mode", "\"" + mode + "\""},
                         {"name", "\"faq-keys\""},
                         {"namespace", "\"faq-matching\""}};
  action.desired = resource;
  return action;
}

TEST_CASE("secret: new keys are applied as a labelled Secret and never appear in messages") {
  std::string applied;
  Fixture fixture([&](const Argv& argv, std::string_view input) {
    if (Contexts(argv)) return Ok(std::string(kContexts));
    if (Has(argv, "get"))
      return Fail("Error from server (NotFound): secrets \"faq-keys\" not found");
    applied = std::string(input);
    // A kubectl that echoes what it was given, as some errors do.
    return Fail("error: rejected " + applied);
  });
  const ActionOutcome outcome = fixture.Execute(SecretAction(plan::ActionKind::Create, "key"));
  CHECK_FALSE(outcome.ok);
  const auto manifest = nlohmann::json::parse(applied);
  CHECK(manifest["kind"] == "Secret");
  CHECK(manifest["type"] == "Opaque");
  CHECK(manifest["metadata"]["namespace"] == "faq-matching");
  CHECK(manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ferry");
  CHECK(manifest["metadata"]["labels"]["ferry.dev/project"] == "faq-matching");
  std::string primary, secondary;
  REQUIRE(kube::Base64Decode(manifest["data"]["primary"].get<std::string>(), primary));
  REQUIRE(kube::Base64Decode(manifest["data"]["secondary"].get<std::string>(), secondary));
  CHECK(primary.size() == 43);
  CHECK(primary != secondary);
  CHECK(outcome.error.find(primary) == std::string::npos);
  CHECK(outcome.error.find(manifest["data"]["primary"].get<std::string>()) == std::string::npos);
  CHECK(outcome.error.find("<redacted>") != std::string::npos);
  CHECK(outcome.detail.empty());
  for (const std::string& line : fixture.progress.lines) {
    CHECK(line.find(primary) == std::string::npos);
  }
}

TEST_CASE("secret: token auth gets one signing key") {
  std::string applied;
  Fixture fixture([&](const Argv& argv, std::string_view input) {
    if (Contexts(argv)) return Ok(std::string(kContexts));
    if (Has(argv, "get")) return Fail("Error from server (NotFound): secrets \"x\" not found");
    applied = std::string(input);
    return Ok("uid-s 3");
  });
  const ActionOutcome outcome = fixture.Execute(SecretAction(plan::ActionKind::Create, "token"));
  REQUIRE(outcome.ok);
  const auto data = nlohmann::json::parse(applied)["data"];
  CHECK(data.size() == 1);
  CHECK(data.contains("signing-key"));
  CHECK(outcome.record->live.at("uid") == "uid-s");
}

TEST_CASE("secret: an existing Secret is adopted, its values kept") {
  Fixture fixture([&](const Argv& argv, std::string_view) {
    if (Contexts(argv)) return Ok(std::string(kContexts));
    return Ok("uid-old 9");
  });
  const ActionOutcome outcome = fixture.Execute(SecretAction(plan::ActionKind::Create, "key"));
  REQUIRE(outcome.ok);
  const std::vector<Call> work = fixture.Work();
  REQUIRE(work.size() == 1);
  CHECK(Has(work[0].argv, "get"));
  CHECK(Has(work[0].argv, "jsonpath={.metadata.uid} {.metadata.resourceVersion}"));
  CHECK(outcome.record->live.at("adopted") == "true");
  CHECK(outcome.record->live.at("uid") == "uid-old");
}

TEST_CASE(
    "prune: deletes the labelled objects not desired, namespaces last, terminating ones not") {
  Fixture fixture([&](const Argv& argv, std::string_view) {
    if (Contexts(argv)) return Ok(std::string(kContexts));
    if (Has(argv, "namespaces")) {
      return Ok(
          "Namespace v1 <none> faq-matching <none>\n"
          "Namespace v1 <none> old-ns <none>\n"
          "Namespace v1 <none> going-ns 2026-11-23T14:00:00Z\n");
    }
    if (Has(argv, "httproutes.gateway.networking.k8s.io")) {
      return Fail("error: the server doesn't have a resource type \"httproutes\"");
    }
    if (Has(argv, "get")) {
      return Ok(
          "ConfigMap v1 faq-matching ferry-router <none>\n"
          "Deployment apps/v1 faq-matching faq-old <none>\n"
          "Secret v1 faq-matching faq-keys <none>\n");
    }
    return Ok();
  });
  plan::Resource config;
  config.address = "object.prod.ConfigMap.ferry-router";
  config.type = "object";
  config.attributes = {{"apiVersion", "\"v1\""}, {"metadata.namespace", "\"faq-matching\""}};
  plan::Resource ns;
  ns.address = "object.prod.Namespace.faq-matching";
  ns.type = "object";
  ns.attributes = {{"apiVersion", "\"v1\""}};
  fixture.desired.resources = {config, ns,
                               SecretAction(plan::ActionKind::Create, "key").desired.value()};
  std::string error;
  const std::vector<std::string> deleted =
      fixture.executor->PruneUndesired("faq-matching", fixture.desired, error);
  CHECK(error.empty());
  CHECK(deleted == std::vector<std::string>{"Deployment faq-matching/faq-old on prod",
                                            "Namespace old-ns on prod"});
  const std::vector<Call> work = fixture.Work();
  REQUIRE(work.size() == 5);
  CHECK(Has(work[0].argv, "app.kubernetes.io/managed-by=ferry,ferry.dev/project=faq-matching"));
  CHECK(Has(work[0].argv, "-A"));
  CHECK(Has(work[3].argv, "deployment.v1.apps"));
  CHECK(Has(work[4].argv, "namespace"));
}

TEST_CASE("refresh: a hand edit shows as the changed field, a deleted object as gone") {
  Fixture fixture([&](const Argv& argv, std::string_view) {
    if (Contexts(argv)) return Ok(std::string(kContexts));
    if (Has(argv, "faq-live")) {
      return Ok(R"({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "faq-live", "namespace": "faq-matching", "uid": "u"},
                    "spec": {"replicas": 5, "paused": false}})");
    }
    if (Has(argv, "secret")) return Ok("uid");
    return Fail("Error from server (NotFound): configmaps \"ferry-router\" not found");
  });
  plan::State state;
  plan::ResourceState deployment;
  deployment.address = "object.prod.Deployment.faq-live";
  deployment.type = "object";
  deployment.attributes = {{"apiVersion", "\"apps/v1\""},
                           {"kind", "\"Deployment\""},
                           {"manifest.path", "\"kubernetes/prod/deployment-faq-live.yaml\""},
                           {"metadata.name", "\"faq-live\""},
                           {"metadata.namespace", "\"faq-matching\""},
                           {"spec.replicas", "3"},
                           {"spec.strategy.type", "\"RollingUpdate\""}};
  plan::ResourceState config = deployment;
  config.address = "object.prod.ConfigMap.ferry-router";
  config.attributes = {{"apiVersion", "\"v1\""}, {"metadata.namespace", "\"faq-matching\""}};
  plan::ResourceState secret;
  secret.address = "secret.faq";
  secret.type = "secret";
  secret.attributes = SecretAction(plan::ActionKind::Create, "key").desired->attributes;
  state.resources = {config, deployment, secret};
  std::string error;
  const std::vector<Observed> observed = fixture.executor->Refresh(state, fixture.paths, error);
  REQUIRE(error.empty());
  REQUIRE(observed.size() == 3);
  CHECK_FALSE(observed[0].exists);
  CHECK(observed[0].note == "ConfigMap faq-matching/ferry-router is gone from the cluster");
  CHECK(observed[1].exists);
  CHECK(observed[1].attributes.at("spec.replicas") == "5");
  CHECK(observed[1].attributes.at("manifest.path") ==
        "\"kubernetes/prod/deployment-faq-live.yaml\"");
  CHECK(observed[1].attributes.count("spec.strategy.type") == 0);
  CHECK_FALSE(observed[1].attributes.count("spec.paused"));
  CHECK(observed[1].note ==
        "Deployment faq-matching/faq-live was changed outside ferry: spec.replicas, "
        "spec.strategy.type");
  CHECK(observed[2].exists);
  CHECK(observed[2].attributes == secret.attributes);
}

TEST_CASE("refresh: an unreachable cluster is an error, not a deletion") {
  Fixture fixture([&](const Argv& argv, std::string_view) {
    if (Contexts(argv)) return Ok(std::string(kContexts));
    return Fail("Unable to connect to the server: dial tcp 127.0.0.1:1: connect: refused");
  });
  plan::State state;
  plan::ResourceState config;
  config.address = "object.prod.ConfigMap.ferry-router";
  config.type = "object";
  config.attributes = {{"apiVersion", "\"v1\""}, {"metadata.namespace", "\"faq-matching\""}};
  state.resources = {config};
  std::string error;
  CHECK(fixture.executor->Refresh(state, fixture.paths, error).empty());
  CHECK(error ==
        "kubectl could not read ConfigMap faq-matching/ferry-router: Unable to connect to "
        "the server: dial tcp 127.0.0.1:1: connect: refused");
}

// The router's routes.yaml as render writes it: faq-live autoscaled 3..12,
// faq-fixed at a fixed count.
constexpr std::string_view kRoutes =
    "format: 1\n"
    "autoscaler:\n  enabled: true\n"
    "endpoints:\n"
    "  - name: faq\n"
    "    versions:\n"
    "      - name: live\n"
    "        deployment: faq-live\n"
    "        autoscale:\n          enabled: true\n          min_replicas: 3\n"
    "          max_replicas: 12\n"
    "      - name: fixed\n"
    "        deployment: faq-fixed\n"
    "        autoscale:\n          enabled: false\n          min_replicas: 2\n"
    "          max_replicas: 2\n";

auto ObjectAttributes(std::string_view kind, std::string_view api_version, std::string_view name)
    -> plan::Attributes {
  return {{"apiVersion", nlohmann::json(api_version).dump()},
          {"kind", nlohmann::json(kind).dump()},
          {"metadata.name", nlohmann::json(name).dump()},
          {"metadata.namespace", "\"faq-matching\""}};
}

auto RouterConfig() -> plan::ResourceState {
  plan::ResourceState config;
  config.address = "object.prod.ConfigMap.ferry-router";
  config.type = "object";
  config.attributes = ObjectAttributes("ConfigMap", "v1", "ferry-router");
  config.attributes["data.routes.yaml"] = nlohmann::json(kRoutes).dump();
  return config;
}

auto RecordedDeployment(std::string_view name, int replicas) -> plan::ResourceState {
  plan::ResourceState deployment;
  deployment.address = "object.prod.Deployment." + std::string(name);
  deployment.type = "object";
  deployment.attributes = ObjectAttributes("Deployment", "apps/v1", name);
  deployment.attributes["spec.replicas"] = std::to_string(replicas);
  return deployment;
}

// A live object with the recorded fields of `recorded` (a key "a.b.c" becomes
// {"a": {"b.c": ...}}, which flattens back to "a.b.c"), and spec.replicas set
// to `replicas` when given.
auto LiveJson(const plan::ResourceState& recorded, std::optional<int> replicas = std::nullopt)
    -> std::string {
  nlohmann::json live;
  for (const auto& [key, value] : recorded.attributes) {
    const std::size_t dot = key.find('.');
    const nlohmann::json parsed = nlohmann::json::parse(value);
    if (dot == std::string::npos) {
      live[key] = parsed;
    } else {
      live[key.substr(0, dot)][key.substr(dot + 1)] = parsed;
    }
  }
  if (replicas) live["spec"]["replicas"] = *replicas;
  return live.dump();
}

TEST_CASE("refresh: an autoscaled Deployment's replicas are drift only outside its range") {
  plan::ResourceState hpa;
  hpa.address = "object.prod.HorizontalPodAutoscaler.faq-canary";
  hpa.type = "object";
  hpa.attributes = ObjectAttributes("HorizontalPodAutoscaler", "autoscaling/v2", "faq-canary");
  hpa.attributes["spec.scaleTargetRef.kind"] = "\"Deployment\"";
  hpa.attributes["spec.scaleTargetRef.name"] = "\"faq-canary\"";
  hpa.attributes["spec.minReplicas"] = "2";
  hpa.attributes["spec.maxReplicas"] = "8";
  plan::State state;
  state.resources = {RouterConfig(),
                     RecordedDeployment("faq-live", 3),
                     RecordedDeployment("faq-fixed", 2),
                     RecordedDeployment("faq-canary", 2),
                     RecordedDeployment("faq-canary-high", 2),
                     hpa};
  std::map<std::string, int> live_replicas = {
      {"faq-live", 7}, {"faq-fixed", 3}, {"faq-canary", 8}, {"faq-canary-high", 5}};
  Fixture fixture([&](const Argv& argv, std::string_view) {
    if (Contexts(argv)) return Ok(std::string(kContexts));
    for (const plan::ResourceState& resource : state.resources) {
      const std::string name = kube::AttributeString(resource.attributes, "metadata.name");
      const auto ref = kube::ObjectFromAttributes(resource.address, resource.attributes);
      if (!Has(argv, name) || !Has(argv, ref->Resource())) continue;
      if (live_replicas.count(name)) return Ok(LiveJson(resource, live_replicas[name]));
      return Ok(LiveJson(resource));
    }
    return Fail("Error from server (NotFound): not found");
  });
  std::string error;
  std::vector<Observed> observed = fixture.executor->Refresh(state, fixture.paths, error);
  REQUIRE(error.empty());
  REQUIRE(observed.size() == 6);
  // The router scaled faq-live from 3 to 7 (its range is 3..12): recorded as 3, no note.
  CHECK(observed[0].note.empty());
  CHECK(observed[1].attributes.at("spec.replicas") == "3");
  CHECK(observed[1].note.empty());
  // faq-fixed is not autoscaled (autoscale.enabled: false): 2 -> 3 is a hand edit.
  CHECK(observed[2].attributes.at("spec.replicas") == "3");
  CHECK(observed[2].note ==
        "Deployment faq-matching/faq-fixed was changed outside ferry: spec.replicas");
  // The HPA (2..8) scaled faq-canary to 8; faq-canary-high is no HPA's target.
  CHECK(observed[3].attributes.at("spec.replicas") == "2");
  CHECK(observed[3].note.empty());
  CHECK(observed[4].note ==
        "Deployment faq-matching/faq-canary-high was changed outside ferry: spec.replicas");
  CHECK(observed[5].note.empty());

  // Outside the range: 13 > 12 for the router, 1 < 2 for the HPA.
  live_replicas["faq-live"] = 13;
  live_replicas["faq-canary"] = 1;
  observed = fixture.executor->Refresh(state, fixture.paths, error);
  REQUIRE(error.empty());
  REQUIRE(observed.size() == 6);
  CHECK(observed[1].attributes.at("spec.replicas") == "13");
  CHECK(observed[1].note ==
        "Deployment faq-matching/faq-live was changed outside ferry: spec.replicas (13, outside "
        "the router's range 3..12)");
  CHECK(observed[3].attributes.at("spec.replicas") == "1");
  CHECK(observed[3].note ==
        "Deployment faq-matching/faq-canary was changed outside ferry: spec.replicas (1, outside "
        "HorizontalPodAutoscaler faq-canary's range 2..8)");
}

// A rendered Deployment as render writes it: spec.replicas at the top of spec.
constexpr std::string_view kDeploymentYaml =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: faq-live\n"
    "  namespace: faq-matching\n"
    "spec:\n"
    "  replicas: 3\n"
    "  template:\n"
    "    spec:\n"
    "      containers:\n"
    "        - image: registry/faq:abc\n";

struct AutoscaledApply {
  explicit AutoscaledApply(std::optional<int> live_replicas)
      : fixture([this, live_replicas](const Argv& argv, std::string_view) {
          if (Contexts(argv)) return Ok(std::string(kContexts));
          if (Has(argv, "jsonpath={.spec.replicas}")) {
            if (!live_replicas) {
              return Fail("Error from server (NotFound): deployments.apps \"faq-live\" not found");
            }
            return Ok(std::to_string(*live_replicas));
          }
          if (Has(argv, "--field-manager=ferry-autoscaled-replicas")) {
            return Ok("deployment.apps/faq-live");
          }
          if (Has(argv, "apply")) return Ok("uid-d 7 2");
          const int replicas = live_replicas.value_or(3);
          return Ok(DeploymentJson(2, 2, replicas, replicas, replicas));
        }) {
    fixture.rendered.files.push_back({"kubernetes/prod/deployment-faq-live.yaml",
                                      std::string(kDeploymentYaml)});
    const plan::ResourceState config = RouterConfig();
    plan::Resource desired_config;
    desired_config.address = config.address;
    desired_config.type = config.type;
    desired_config.attributes = config.attributes;
    fixture.desired.resources.push_back(desired_config);
  }

  auto Run(plan::ActionKind kind) -> ActionOutcome {
    return fixture.Execute(ObjectAction(kind, "Deployment", "apps/v1", "faq-live",
                                        "kubernetes/prod/deployment-faq-live.yaml"));
  }

  // The manifest ferry's own field manager applied.
  auto FerryManifest() const -> std::string {
    for (const Call& call : fixture.Work()) {
      if (Has(call.argv, "--field-manager=ferry")) return call.input;
    }
    return "(none)";
  }

  auto Handovers() const -> std::vector<Call> {
    std::vector<Call> calls;
    for (const Call& call : fixture.Work()) {
      if (Has(call.argv, "--field-manager=ferry-autoscaled-replicas")) calls.push_back(call);
    }
    return calls;
  }

  Fixture fixture;
};

TEST_CASE("apply: an existing autoscaled Deployment is applied without spec.replicas") {
  AutoscaledApply apply(7);
  const ActionOutcome outcome = apply.Run(plan::ActionKind::Update);
  INFO(outcome.error);
  REQUIRE(outcome.ok);
  const std::vector<Call> work = apply.fixture.Work();
  REQUIRE(work.size() >= 3);
  CHECK(work[0].argv == Argv{"kubectl", "--kubeconfig=/tmp/kubeconfig", "--context=prod", "get",
                             "deployment.v1.apps", "faq-live", "-n", "faq-matching", "-o",
                             "jsonpath={.spec.replicas}"});
  // The live count is held by a second field manager first, so ferry's letting go of the field
  // does not reset it to Kubernetes' default.
  const std::vector<Call> handovers = apply.Handovers();
  REQUIRE(handovers.size() == 1);
  CHECK(handovers[0].argv == Argv{"kubectl", "--kubeconfig=/tmp/kubeconfig", "--context=prod",
                                  "apply", "--server-side",
                                  "--field-manager=ferry-autoscaled-replicas",
                                  "--force-conflicts", "--validate=false", "-f", "-", "-o",
                                  "name"});
  CHECK(nlohmann::json::parse(handovers[0].input) ==
        nlohmann::json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "faq-live", "namespace": "faq-matching"},
            "spec": {"replicas": 7}})"));
  CHECK(work[1].argv == handovers[0].argv);
  std::string expected(kDeploymentYaml);
  expected.erase(expected.find("  replicas: 3\n"), 14);
  CHECK(apply.FerryManifest() == expected);
  // What is recorded is still the manifest's: refresh judges the live count by the range.
  CHECK(outcome.record->attributes.at("manifest.path") ==
        "\"kubernetes/prod/deployment-faq-live.yaml\"");
}

TEST_CASE("apply: an autoscaled Deployment keeps spec.replicas on create and out of range") {
  SUBCASE("create: the starting count") {
    AutoscaledApply apply(std::nullopt);
    REQUIRE(apply.Run(plan::ActionKind::Create).ok);
    CHECK(apply.FerryManifest() == kDeploymentYaml);
    CHECK(apply.Handovers().empty());
  }
  SUBCASE("update of a Deployment that is gone: created again with its count") {
    AutoscaledApply apply(std::nullopt);
    REQUIRE(apply.Run(plan::ActionKind::Update).ok);
    CHECK(apply.FerryManifest() == kDeploymentYaml);
    CHECK(apply.Handovers().empty());
  }
  SUBCASE("update with the live count outside 3..12: the manifest's count is applied") {
    AutoscaledApply apply(20);
    REQUIRE(apply.Run(plan::ActionKind::Update).ok);
    CHECK(apply.FerryManifest() == kDeploymentYaml);
    CHECK(apply.Handovers().empty());
  }
}

TEST_CASE("apply: a Deployment no autoscaler owns is applied with its spec.replicas") {
  AutoscaledApply apply(7);
  apply.fixture.desired.resources.clear();
  REQUIRE(apply.Run(plan::ActionKind::Update).ok);
  CHECK(apply.FerryManifest() == kDeploymentYaml);
  for (const Call& call : apply.fixture.Work()) {
    CHECK_FALSE(Has(call.argv, "jsonpath={.spec.replicas}"));
  }
}

TEST_CASE("WithoutSpecReplicas drops only the top-level spec's replicas") {
  CHECK(kube::WithoutSpecReplicas("kind: D\nspec:\n  replicas: 3\n  paused: false\n"
                                  "status:\n  replicas: 2\n") ==
        "kind: D\nspec:\n  paused: false\nstatus:\n  replicas: 2\n");
}

TEST_CASE("FlattenJson names fields as plan attributes do") {
  plan::Attributes flat;
  REQUIRE(FlattenJson(R"({"a": {"b": [1, "x", {}], "c": true}, "d": [], "e": null})", flat));
  CHECK(flat == plan::Attributes{{"a.b[0]", "1"},
                                 {"a.b[1]", "\"x\""},
                                 {"a.b[2]", "{}"},
                                 {"a.c", "true"},
                                 {"d", "[]"},
                                 {"e", "null"}});
}

}  // namespace
}  // namespace ferry::apply

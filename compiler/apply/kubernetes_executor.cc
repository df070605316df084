// The Kubernetes executor's actions and pruning. Reading live objects back
// (refresh, status, logs, keys) is in kubernetes_observe.cc.
#include "compiler/apply/kubernetes_executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "compiler/apply/apply.h"
#include "compiler/apply/kubernetes_internal.h"
#include "compiler/apply/secrets.h"

namespace ferry::apply {

using kube::ObjectRef;
using nlohmann::json;

KubernetesExecutor::Impl::Impl(KubernetesOptions opts)
    : options(std::move(opts)),
      runner(options.runner ? options.runner : std::shared_ptr<KubectlRunner>(MakeProcessRunner())),
      kubectl(*runner, options.kubectl, options.kubeconfig, options.command_timeout) {}

auto KubernetesExecutor::Impl::ContextFor(std::string_view cluster) -> std::string {
  if (!options.context.empty()) return options.context;
  if (!contexts) {
    contexts.emplace();
    const KubectlResult result = kubectl.Run("", {"config", "get-contexts", "-o", "name"});
    // No kubeconfig at all: every cluster goes to kubectl's defaults.
    if (result.ok()) {
      std::istringstream lines(result.out);
      for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) contexts->push_back(line);
      }
    }
  }
  if (std::find(contexts->begin(), contexts->end(), cluster) != contexts->end()) {
    return std::string(cluster);
  }
  return "";
}

namespace {

auto Failure(std::string error, std::string detail = {}) -> ActionOutcome {
  ActionOutcome outcome;
  outcome.error = std::move(error);
  outcome.detail = std::move(detail);
  return outcome;
}

auto Recorded(const plan::Action& action, std::map<std::string, std::string, std::less<>> live)
    -> ActionOutcome {
  ActionOutcome outcome;
  outcome.ok = true;
  outcome.record = RecordOf(action, live);
  return outcome;
}

// apply prints "<uid> <resourceVersion> <generation>" (jsonpath below).
auto LiveFromApply(const ObjectRef& ref, std::string_view context, const KubectlResult& result)
    -> std::map<std::string, std::string, std::less<>> {
  std::map<std::string, std::string, std::less<>> live{
      {"cluster", ref.cluster}, {"kind", ref.kind}, {"name", ref.name}};
  if (!ref.ns.empty()) live["namespace"] = ref.ns;
  if (!context.empty()) live["context"] = std::string(context);
  std::istringstream words(result.out);
  std::string uid, version, generation;
  words >> uid >> version >> generation;
  if (!uid.empty()) live["uid"] = uid;
  if (!version.empty()) live["resourceVersion"] = version;
  if (!generation.empty()) live["generation"] = generation;
  return live;
}

const std::vector<std::string> kApplyArgs = {
    "apply",
    "--server-side",
    "--field-manager=ferry",
    "--force-conflicts",
    "-f",
    "-",
    "-o",
    "jsonpath={.metadata.uid} {.metadata.resourceVersion} {.metadata.generation}"};

// The field manager that holds an autoscaled Deployment's spec.replicas once
// ferry's manager has let go of it.
constexpr std::string_view kReplicasManager = "ferry-autoscaled-replicas";

auto DeleteArgs(const ObjectRef& ref) -> std::vector<std::string> {
  std::vector<std::string> args{"delete", ref.Resource(), ref.name};
  const std::vector<std::string> ns = ref.NamespaceArgs();
  args.insert(args.end(), ns.begin(), ns.end());
  args.push_back("--ignore-not-found");
  // Without controllers a Namespace never finishes terminating, and on a real
  // cluster it takes every object in it along: ferry does not wait for it.
  args.push_back(ref.kind == "Namespace" ? "--wait=false" : "--wait");
  return args;
}

// What a Deployment's status says, and whether its rollout is complete: the
// controller saw the latest spec and every replica is updated and available.
struct Rollout {
  bool done = false;
  std::string description;
};

auto ReadRollout(const json& deployment) -> Rollout {
  const long long generation = kube::IntAt(deployment, "/metadata/generation");
  const long long observed = kube::IntAt(deployment, "/status/observedGeneration");
  const long long wanted = deployment.contains(json::json_pointer("/spec/replicas"))
                               ? kube::IntAt(deployment, "/spec/replicas")
                               : 1;
  const long long total = kube::IntAt(deployment, "/status/replicas");
  const long long updated = kube::IntAt(deployment, "/status/updatedReplicas");
  const long long available = kube::IntAt(deployment, "/status/availableReplicas");
  Rollout rollout;
  rollout.done =
      observed >= generation && updated == wanted && available == wanted && total <= updated;
  rollout.description = fmt::format(
      "observed generation {} of {}, {} of {} replicas updated, {} available, {} in all", observed,
      generation, updated, wanted, available, total);
  if (const auto conditions = deployment.find("status");
      conditions != deployment.end() && conditions->contains("conditions")) {
    for (const json& condition : (*conditions)["conditions"]) {
      if (condition.value("status", "") == "False" && condition.contains("message")) {
        rollout.description +=
            "; " + condition.value("type", "") + ": " + condition["message"].get<std::string>();
      }
    }
  }
  return rollout;
}

auto Seconds(std::chrono::seconds timeout) -> std::string {
  return std::to_string(timeout.count()) + " s";
}

}  // namespace

KubernetesExecutor::KubernetesExecutor(KubernetesOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

auto KubernetesExecutor::ContextFor(std::string_view cluster) -> std::string {
  return impl_->ContextFor(cluster);
}

namespace {

class ActionRunner {
 public:
  ActionRunner(KubernetesExecutor::Impl& impl, const plan::Action& action, ExecuteContext& context)
      : impl_(impl), action_(action), context_(context) {}

  auto Object() -> ActionOutcome {
    const plan::Attributes& attributes =
        action_.desired ? action_.desired->attributes : action_.prior->attributes;
    const std::optional<ObjectRef> ref = kube::ObjectFromAttributes(action_.address, attributes);
    if (!ref) return Failure(fmt::format("{}: not an object address", action_.address));
    if (action_.kind == plan::ActionKind::Delete || action_.kind == plan::ActionKind::Replace) {
      context_.progress.Line("deleting " + ref->Describe());
      const KubectlResult deleted = impl_.Run(ref->cluster, DeleteArgs(*ref));
      if (!deleted.ok()) {
        return Failure(fmt::format("kubectl could not delete {}: {}", ref->Describe(),
                                   KubectlErrorLine(deleted)));
      }
      if (action_.kind == plan::ActionKind::Delete) {
        ActionOutcome outcome;
        outcome.ok = true;
        return outcome;
      }
    }
    return ApplyObject(*ref);
  }

  auto Secret() -> ActionOutcome {
    const plan::Attributes& attributes =
        action_.desired ? action_.desired->attributes : action_.prior->attributes;
    const ObjectRef ref = kube::SecretFromAttributes(action_.address, attributes);
    if (ref.ns.empty()) {
      return Failure(
          fmt::format("{}: the Secret's namespace is not known (no 'namespace' "
                      "attribute)",
                      action_.address));
    }
    if (action_.kind == plan::ActionKind::Delete || action_.kind == plan::ActionKind::Replace) {
      const KubectlResult deleted = impl_.Run(ref.cluster, DeleteArgs(ref));
      if (!deleted.ok()) {
        return Failure(fmt::format("kubectl could not delete {}: {}", ref.Describe(),
                                   KubectlErrorLine(deleted)));
      }
      if (action_.kind == plan::ActionKind::Delete) {
        ActionOutcome outcome;
        outcome.ok = true;
        return outcome;
      }
    }
    return CreateSecret(ref, kube::AttributeString(attributes, "mode"));
  }

 private:
  auto ApplyObject(const ObjectRef& ref) -> ActionOutcome {
    const std::string path = kube::AttributeString(action_.desired->attributes, "manifest.path");
    const auto& files = context_.rendered.files;
    const auto file = std::find_if(files.begin(), files.end(),
                                   [&](const render::RenderedFile& f) { return f.path == path; });
    if (path.empty() || file == files.end()) {
      return Failure(
          fmt::format("{}: its rendered file '{}' is not in this render", action_.address, path));
    }
    std::string manifest = file->contents;
    if (ref.kind == "Deployment" && action_.kind == plan::ActionKind::Update) {
      if (const auto range = kube::AutoscaledRange(context_.desired, ref)) {
        std::string failure;
        if (!KeepAutoscaledReplicas(ref, *range, manifest, failure)) return Failure(failure);
      }
    }
    context_.progress.Line("applying " + ref.Describe());
    const KubectlResult applied = impl_.Run(ref.cluster, kApplyArgs, manifest);
    if (!applied.ok()) {
      return Failure(fmt::format("kubectl apply of {} ({}) failed: {}", ref.Describe(), path,
                                 KubectlErrorLine(applied)),
                     applied.err);
    }
    const std::string context = impl_.ContextFor(ref.cluster);
    if (ref.kind == "Deployment") {
      ActionOutcome waited = WaitForRollout(ref);
      if (!waited.ok) return waited;
    }
    return Recorded(action_, LiveFromApply(ref, context, applied));
  }

  // An existing autoscaled Deployment is applied without spec.replicas, so
  // ferry's field manager lets go of it and the autoscaler's count stays. The
  // live count is first applied by a second field manager: were ferry the
  // field's only owner (no scaling since it was created), dropping it would
  // reset it to Kubernetes' default of 1. A count outside the autoscaler's
  // range is drift: the manifest's count is applied.
  auto KeepAutoscaledReplicas(const ObjectRef& ref, const kube::ReplicaRange& range,
                              std::string& manifest, std::string& failure) -> bool {
    const KubectlResult read = impl_.Run(ref.cluster, {"get", ref.Resource(), ref.name, "-n",
                                                       ref.ns, "-o", "jsonpath={.spec.replicas}"});
    if (IsNotFound(read)) return true;  // created again: the starting count
    if (!read.ok()) {
      failure = fmt::format("kubectl could not read {}: {}", ref.Describe(),
                            KubectlErrorLine(read));
      return false;
    }
    const std::optional<json> live = kube::ParseJson(read.out);
    if (!live || !live->is_number_integer() || live->get<long long>() < range.min ||
        live->get<long long>() > range.max) {
      return true;
    }
    const json replicas_only = {
        {"apiVersion", ref.api_version},
        {"kind", ref.kind},
        {"metadata", {{"name", ref.name}, {"namespace", ref.ns}}},
        {"spec", {{"replicas", live->get<long long>()}}}};
    const KubectlResult held = impl_.Run(
        ref.cluster,
        {"apply", "--server-side", "--field-manager=" + std::string(kReplicasManager),
         "--force-conflicts", "--validate=false", "-f", "-", "-o", "name"},
        replicas_only.dump());
    if (!held.ok()) {
      failure = fmt::format("kubectl could not hand {}'s replica count to {}: {}", ref.Describe(),
                            range.owner, KubectlErrorLine(held));
      return false;
    }
    context_.progress.Line(fmt::format("keeping {}'s {} replicas ({} scales it within {}..{})",
                                       ref.Describe(), live->get<long long>(), range.owner,
                                       range.min, range.max));
    manifest = kube::WithoutSpecReplicas(manifest);
    return true;
  }

  auto WaitForRollout(const ObjectRef& ref) -> ActionOutcome {
    const std::chrono::seconds timeout = impl_.options.rollout_timeout.count() > 0
                                             ? impl_.options.rollout_timeout
                                             : context_.ready_timeout;
    context_.progress.Line(
        fmt::format("waiting for {} to roll out (up to {})", ref.Describe(), Seconds(timeout)));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last = "its status could not be read";
    while (true) {
      const KubectlResult read =
          impl_.Run(ref.cluster, {"get", ref.Resource(), ref.name, "-n", ref.ns, "-o", "json"});
      if (read.ok()) {
        if (std::optional<json> deployment = kube::ParseJson(read.out)) {
          const Rollout rollout = ReadRollout(*deployment);
          if (rollout.done) return Recorded(action_, {});
          last = rollout.description;
        }
      } else {
        last = "kubectl get failed: " + KubectlErrorLine(read);
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(impl_.options.poll_interval);
    }
    return Failure(
        fmt::format("{} did not finish rolling out within {}: {}. Traffic was not moved to it (the "
                    "objects that route to it come after it and were not applied); fix what keeps "
                    "its pods from becoming available, then run `ferry apply` again",
                    ref.Describe(), Seconds(timeout), last),
        LogTail(ref));
  }

  auto LogTail(const ObjectRef& ref) -> std::string {
    const std::string command =
        fmt::format("kubectl logs deployment/{} -n {} --tail=20", ref.name, ref.ns);
    const KubectlResult logs = impl_.Run(
        ref.cluster,
        {"logs", "deployment/" + ref.name, "-n", ref.ns, "--tail=20", "--pod-running-timeout=5s"});
    if (logs.ok() && !logs.out.empty()) return "the last lines of `" + command + "`:\n" + logs.out;
    return fmt::format(
        "no log to show: `{}` gave: {} (no pod of the Deployment has started; a "
        "cluster with no nodes, or an API server alone, runs none)",
        command, logs.ok() ? "nothing" : KubectlErrorLine(logs));
  }

  auto CreateSecret(const ObjectRef& ref, const std::string& mode) -> ActionOutcome {
    // An apply killed after creating the Secret left it: adopt its values.
    // Only the metadata is read, so the values never enter this process.
    const KubectlResult existing =
        impl_.Run(ref.cluster, {"get", "secret", ref.name, "-n", ref.ns, "-o",
                                "jsonpath={.metadata.uid} {.metadata.resourceVersion}"});
    std::map<std::string, std::string, std::less<>> live;
    if (existing.ok()) {
      context_.progress.Line("adopting the existing " + ref.Describe());
      live = LiveFromApply(ref, impl_.ContextFor(ref.cluster), existing);
      live["adopted"] = "true";
      return Recorded(action_, std::move(live));
    }
    if (!IsNotFound(existing)) {
      return Failure(
          fmt::format("kubectl could not read {}: {}", ref.Describe(), KubectlErrorLine(existing)));
    }
    EndpointSecret values;
    values.mode = mode == "token" ? "token" : "key";
    if (values.mode == "token") {
      values.signing_key = GenerateKey();
    } else {
      values.primary = GenerateKey();
      values.secondary = GenerateKey();
    }
    if ((values.mode == "token" && values.signing_key.empty()) ||
        (values.mode == "key" && (values.primary.empty() || values.secondary.empty()))) {
      return Failure("the random generator (OpenSSL RAND_bytes) failed; no key was made");
    }
    context_.progress.Line("creating " + ref.Describe() + " (values not shown)");
    const KubectlResult applied = impl_.Run(
        ref.cluster, kApplyArgs, kube::SecretManifest(ref, context_.desired.project, values));
    if (!applied.ok()) {
      const std::vector<std::string> secrets{values.primary, values.secondary, values.signing_key};
      return Failure(kube::Redact(
          fmt::format("kubectl apply of {} failed: {}", ref.Describe(), KubectlErrorLine(applied)),
          secrets));
    }
    return Recorded(action_, LiveFromApply(ref, impl_.ContextFor(ref.cluster), applied));
  }

  KubernetesExecutor::Impl& impl_;
  const plan::Action& action_;
  ExecuteContext& context_;
};

}  // namespace

auto KubernetesExecutor::Execute(const plan::Action& action, ExecuteContext& context)
    -> ActionOutcome {
  const bool deleting = action.kind == plan::ActionKind::Delete;
  if ((deleting && !action.prior) || (!deleting && !action.desired)) {
    return Failure(fmt::format("{}: the action has no {} resource", action.address,
                               deleting ? "recorded" : "desired"));
  }
  ActionRunner runner(*impl_, action, context);
  for (const auto* attributes : {action.desired ? &action.desired->attributes : nullptr,
                                 action.prior ? &action.prior->attributes : nullptr}) {
    if (attributes == nullptr) continue;
    if (action.type == "object") {
      if (auto ref = kube::ObjectFromAttributes(action.address, *attributes)) {
        impl_->clusters_touched.insert(ref->cluster);
      }
    }
    if (action.type == "secret") {
      const ObjectRef ref = kube::SecretFromAttributes(action.address, *attributes);
      if (!ref.cluster.empty()) impl_->clusters_touched.insert(ref.cluster);
    }
  }
  if (action.type == "cluster") {
    // The manifest's record of a cluster ferry does not create (AKS is made elsewhere).
    if (deleting) {
      ActionOutcome outcome;
      outcome.ok = true;
      return outcome;
    }
    return Recorded(action, {});
  }
  if (action.type == "secret") return runner.Secret();
  if (action.type == "object") return runner.Object();
  return Failure(fmt::format("{}: the Kubernetes executor does not handle resources of type '{}'",
                             action.address, action.type));
}

namespace {

// The kinds ferry writes: what pruning lists (HTTPRoute separately: it is a CRD
// that a cluster may not have).
constexpr std::string_view kPrunedKinds =
    "configmaps,deployments.apps,services,serviceaccounts,secrets,"
    "roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,"
    "networkpolicies.networking.k8s.io,poddisruptionbudgets.policy,"
    "horizontalpodautoscalers.autoscaling";
constexpr std::string_view kPrunedCustomKinds = "httproutes.gateway.networking.k8s.io";
constexpr std::string_view kColumns =
    "custom-columns=KIND:.kind,API:.apiVersion,NAMESPACE:.metadata.namespace,NAME:.metadata.name,"
    "DELETING:.metadata.deletionTimestamp";

auto Key(std::string_view kind, std::string_view ns, std::string_view name) -> std::string {
  return fmt::format("{}/{}/{}", kind, ns, name);
}

// Clusters named by desired resources and the recorded state.
auto ClustersOf(const plan::Desired& desired, const plan::State* recorded)
    -> std::set<std::string> {
  std::set<std::string> clusters;
  auto add = [&](std::string_view address, std::string_view type,
                 const plan::Attributes& attributes) {
    if (type == "cluster") clusters.insert(std::string(address.substr(address.find('.') + 1)));
    if (type == "object") {
      if (auto ref = kube::ObjectFromAttributes(address, attributes)) clusters.insert(ref->cluster);
    }
    if (type == "secret") {
      const ObjectRef ref = kube::SecretFromAttributes(address, attributes);
      if (!ref.cluster.empty()) clusters.insert(ref.cluster);
    }
  };
  for (const plan::Resource& resource : desired.resources) {
    add(resource.address, resource.type, resource.attributes);
  }
  if (recorded != nullptr) {
    for (const plan::ResourceState& resource : recorded->resources) {
      add(resource.address, resource.type, resource.attributes);
    }
  }
  return clusters;
}

}  // namespace

auto KubernetesExecutor::PruneUndesired(std::string_view project, const plan::Desired& desired,
                                        std::string& error, const plan::State* recorded)
    -> std::vector<std::string> {
  // Several clusters may go to one context (the current one): prune per context,
  // keeping what any of its clusters wants.
  std::map<std::string, std::set<std::string>> wanted_by_context;
  std::map<std::string, std::string> cluster_of_context;
  std::set<std::string> clusters = ClustersOf(desired, recorded);
  clusters.insert(impl_->clusters_touched.begin(), impl_->clusters_touched.end());
  if (clusters.empty()) clusters.insert("");
  for (const std::string& cluster : clusters) {
    const std::string context = impl_->ContextFor(cluster);
    wanted_by_context[context];
    cluster_of_context.emplace(context, cluster);
  }
  for (const plan::Resource& resource : desired.resources) {
    std::optional<ObjectRef> ref;
    if (resource.type == "object")
      ref = kube::ObjectFromAttributes(resource.address, resource.attributes);
    if (resource.type == "secret")
      ref = kube::SecretFromAttributes(resource.address, resource.attributes);
    if (!ref) continue;
    wanted_by_context[impl_->ContextFor(ref->cluster)].insert(Key(ref->kind, ref->ns, ref->name));
  }

  const std::string selector =
      fmt::format("app.kubernetes.io/managed-by=ferry,ferry.dev/project={}", project);
  std::vector<std::string> deleted;
  for (const auto& [context, wanted] : wanted_by_context) {
    const std::string& cluster = cluster_of_context[context];
    std::vector<ObjectRef> found;
    for (std::string_view kinds :
         {kPrunedKinds, kPrunedCustomKinds, std::string_view("namespaces")}) {
      const KubectlResult listed =
          impl_->kubectl.Run(context, {"get", std::string(kinds), "-A", "-l", selector, "-o",
                                       std::string(kColumns), "--no-headers"});
      if (!listed.ok()) {
        // A cluster without Gateway API has no HTTPRoutes to prune.
        if (kinds == kPrunedCustomKinds &&
            listed.err.find("doesn't have a resource type") != std::string::npos) {
          continue;
        }
        error =
            fmt::format("kubectl could not list ferry's objects of project '{}'{}: {}", project,
                        context.empty() ? "" : " on context " + context, KubectlErrorLine(listed));
        return deleted;
      }
      std::istringstream lines(listed.out);
      for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        ObjectRef ref;
        std::string deleting;
        words >> ref.kind >> ref.api_version >> ref.ns >> ref.name >> deleting;
        // Already going (a terminating Namespace): nothing to do.
        if (ref.name.empty() || deleting != "<none>") continue;
        if (ref.ns == "<none>") ref.ns.clear();
        ref.cluster = cluster;
        if (!wanted.count(Key(ref.kind, ref.ns, ref.name))) found.push_back(ref);
      }
    }
    // Namespaces last: deleting one takes everything in it along.
    std::stable_partition(found.begin(), found.end(),
                          [](const ObjectRef& ref) { return ref.kind != "Namespace"; });
    for (const ObjectRef& ref : found) {
      const KubectlResult result = impl_->kubectl.Run(context, DeleteArgs(ref));
      if (!result.ok()) {
        error = fmt::format("kubectl could not delete {}, which ferry no longer wants: {}",
                            ref.Describe(), KubectlErrorLine(result));
        return deleted;
      }
      deleted.push_back(ref.Describe() + (cluster.empty() ? "" : " on " + cluster));
    }
  }
  return deleted;
}

auto KubernetesExecutor::AfterApply(const plan::Desired& desired, const ProjectPaths& paths,
                                    std::string& error) -> std::vector<std::string> {
  // The recorded clusters too: a cluster no longer in the manifest still has
  // ferry's objects on it. An unreadable state file only narrows the search.
  plan::State recorded;
  const std::string state_path = StatePath(paths, plan::ExecutorKind::Kubernetes);
  std::ifstream file(state_path);
  bool have_state = false;
  if (file) {
    std::stringstream text;
    text << file.rdbuf();
    have_state = !plan::ParseState(text.str(), state_path, recorded).has_value();
  }
  return PruneUndesired(desired.project, desired, error, have_state ? &recorded : nullptr);
}

namespace {

void Flatten(const json& value, const std::string& prefix, plan::Attributes& out) {
  if (value.is_object()) {
    if (value.empty()) out[prefix] = "{}";
    for (const auto& [key, child] : value.items()) {
      Flatten(child, prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (value.is_array()) {
    if (value.empty()) out[prefix] = "[]";
    for (std::size_t i = 0; i < value.size(); ++i) {
      Flatten(value[i], prefix + "[" + std::to_string(i) + "]", out);
    }
  } else {
    out[prefix] = kube::CanonicalScalar(value);
  }
}

}  // namespace

auto FlattenJson(std::string_view json_text, plan::Attributes& out) -> bool {
  const std::optional<json> value = kube::ParseJson(json_text);
  if (!value) return false;
  Flatten(*value, "", out);
  return true;
}

auto MakeKubernetesExecutor(KubernetesOptions options) -> std::unique_ptr<Executor> {
  return std::make_unique<KubernetesExecutor>(std::move(options));
}

}  // namespace ferry::apply

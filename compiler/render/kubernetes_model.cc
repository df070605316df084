// Per endpoint version: the Deployment that runs its scoring bundle, the
// Service in front of it, and a PodDisruptionBudget when it runs more than one
// replica.
#include <fmt/format.h>

#include <string>

#include "compiler/render/kubernetes_objects.h"
#include "compiler/render/names.h"

namespace ferry::render::kube {
namespace {

// Where gateway-mode model pods find their auth Secret's files
// (primary/secondary keys, or the token signing key).
constexpr std::string_view kAuthDirectory = "/etc/ferry/auth";
// Where `serve --collect-dir` writes model data: an emptyDir, since the root
// file system is read-only.
constexpr std::string_view kCollectDirectory = "/var/lib/ferry/collect";

auto IsGateway(const ClusterContext& context) -> bool {
  return context.cluster.routing == ir::Routing::Gateway;
}

// `serve` listens on all interfaces (its default is loopback, which a Service
// cannot reach). Behind the router, the router checks keys and tokens and the
// NetworkPolicy lets only it in; with a gateway, each pod checks them itself.
auto ServeArgs(const ClusterContext& context, const ModelUnit& unit) -> Value {
  List args{"serve", "--host", "0.0.0.0", "--port", std::to_string(kModelPort)};
  const AuthSecret auth = AuthOf(*unit.endpoint);
  if (IsGateway(context)) {
    args.emplace_back("--auth");
    args.emplace_back(auth.mode);
    if (!auth.secret.empty()) {
      args.emplace_back("--keys");
      args.emplace_back(kAuthDirectory);
    }
  } else {
    args.emplace_back("--auth");
    args.emplace_back("none");
  }
  // The limits (issue 8) and batching (issue 9), as the local executor runs them too.
  AppendServeLimits(*unit.version, kCollectDirectory, args);
  return args;
}

// Requests equal limits (Guaranteed QoS: the autoscaler's utilization figures
// and the capacity checks assume a replica gets what it asked for).
auto Resources(const ClusterContext& context, const ModelUnit& unit) -> Value {
  Value amounts;
  amounts["cpu"] = CpuQuantity(unit.version->resources.cpu);
  amounts["memory"] = MemoryQuantity(unit.version->resources.memory_gb);
  const ir::Target target = unit.endpoint->target;
  if (target != ir::Target::Cpu) {
    if (const catalog::Accelerator* device =
            context.catalog.FindAccelerator(ir::ToString(target))) {
      // One GPU per replica unless more are asked for [003]; one FPGA per replica.
      const std::int64_t count =
          target == ir::Target::Gpu ? std::max<std::int64_t>(1, unit.version->resources.gpu) : 1;
      amounts[device->resource] = std::to_string(count);
    }
  }
  return Value::Object({{"requests", amounts}, {"limits", amounts}});
}

// Node selector and tolerations of the endpoint's accelerator, if any.
void PlaceOnDevices(const ClusterContext& context, const ModelUnit& unit, Value& pod) {
  if (unit.endpoint->target == ir::Target::Cpu) return;
  const catalog::Accelerator* device =
      context.catalog.FindAccelerator(ir::ToString(unit.endpoint->target));
  if (device == nullptr) return;
  for (const auto& [label, value] : device->node_selector) pod["nodeSelector"][label] = value;
  List tolerations;
  for (const catalog::Toleration& toleration : device->tolerations) {
    tolerations.push_back(Value::Object({{"key", toleration.key},
                                         {"operator", "Equal"},
                                         {"value", toleration.value},
                                         {"effect", toleration.effect}}));
  }
  if (!tolerations.empty()) pod["tolerations"] = std::move(tolerations);
}

auto Environment(const ClusterContext& context, const ModelUnit& unit) -> List {
  List env;
  const ir::Index index = unit.version->environment;
  if (index == ir::kNone) return env;
  // std::map: sorted by name, so the list is deterministic.
  for (const auto& [name, value] :
       context.project.environments[static_cast<std::size_t>(index)].variables) {
    env.push_back(Value::Object({{"name", name}, {"value", value}}));
  }
  return env;
}

auto PodSpec(const ClusterContext& context, const ModelUnit& unit) -> Value {
  Value container;
  container["name"] = "model";
  container["image"] = unit.image;
  container["imagePullPolicy"] = "IfNotPresent";
  container["args"] = ServeArgs(context, unit);
  container["ports"] = Value::Array(
      {Value::Object({{"name", "http"}, {"containerPort", kModelPort}, {"protocol", "TCP"}})});
  container["resources"] = Resources(context, unit);
  container["readinessProbe"] = HttpProbe("/readyz", "http", unit.version->probes, false);
  container["livenessProbe"] = HttpProbe("/healthz", "http", unit.version->probes, true);
  container["securityContext"] = ContainerSecurityContext();
  if (List env = Environment(context, unit); !env.empty()) container["env"] = std::move(env);

  List mounts{Value::Object({{"name", "tmp"}, {"mountPath", "/tmp"}})};
  List volumes{Value::Object({{"name", "tmp"}, {"emptyDir", Value(Map{})}})};
  const AuthSecret auth = AuthOf(*unit.endpoint);
  if (IsGateway(context) && !auth.secret.empty()) {
    mounts.push_back(
        Value::Object({{"name", "auth"}, {"mountPath", kAuthDirectory}, {"readOnly", true}}));
    volumes.push_back(Value::Object(
        {{"name", "auth"},
         {"secret", Value::Object({{"secretName", auth.secret}, {"defaultMode", 0440}})}}));
  }
  if (unit.version->serving.collect_data) {
    mounts.push_back(Value::Object({{"name", "collect"}, {"mountPath", kCollectDirectory}}));
    volumes.push_back(Value::Object({{"name", "collect"}, {"emptyDir", Value(Map{})}}));
  }
  container["volumeMounts"] = std::move(mounts);

  Value pod;
  // Model pods never call the Kubernetes API.
  pod["automountServiceAccountToken"] = false;
  pod["securityContext"] = PodSecurityContext();
  pod["containers"] = Value::Array({std::move(container)});
  pod["volumes"] = std::move(volumes);
  PlaceOnDevices(context, unit, pod);
  return pod;
}

void EmitDeployment(ClusterContext& context, const ModelUnit& unit, const Map& labels) {
  Value deployment;
  deployment["metadata"] = Metadata(context, unit.name, labels);
  Value& spec = deployment["spec"];
  spec["replicas"] = unit.scaling.replicas;
  spec["selector"]["matchLabels"] = SelectorOf(labels);
  // A new pod must be ready before an old one goes: traffic never lands on a
  // version that failed its readiness check.
  spec["strategy"] =
      Value::Object({{"type", "RollingUpdate"},
                     {"rollingUpdate", Value::Object({{"maxSurge", 1}, {"maxUnavailable", 0}})}});
  spec["template"]["metadata"]["labels"] = labels;
  spec["template"]["spec"] = PodSpec(context, unit);
  Emit(context, "Deployment", std::move(deployment));
}

void EmitService(ClusterContext& context, const ModelUnit& unit, const Map& labels) {
  Value service;
  service["metadata"] = Metadata(context, unit.name, labels);
  service["spec"]["type"] = "ClusterIP";
  service["spec"]["selector"] = SelectorOf(labels);
  service["spec"]["ports"] = Value::Array({Value::Object(
      {{"name", "http"}, {"port", kModelPort}, {"targetPort", "http"}, {"protocol", "TCP"}})});
  Emit(context, "Service", std::move(service));
}

}  // namespace

void RenderModel(ClusterContext& context, const ModelUnit& unit) {
  const Map labels = ModelLabels(context, unit);
  EmitDeployment(context, unit, labels);
  EmitService(context, unit, labels);
  if (unit.scaling.replicas > 1) EmitDisruptionBudget(context, unit.name, labels);
}

}  // namespace ferry::render::kube

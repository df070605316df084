// routing: gateway — instead of ferry's router, a Gateway API HTTPRoute per
// endpoint splits traffic by the resolved weights, and a HorizontalPodAutoscaler
// per autoscaled version scales it with the seeds' behaviour. The HTTPRoutes
// attach to a Gateway named "ferry" in the project's namespace, which the
// cluster's admin provides (with its listeners and TLS); the model pods check
// keys and tokens themselves.
#include <cmath>
#include <string>
#include <vector>

#include "compiler/render/kubernetes_objects.h"
#include "compiler/render/names.h"

namespace ferry::render::kube {
namespace {

// Gateway API weights are integers: the resolved percentages in basis points.
auto Weight(const ir::Version& version) -> std::int64_t {
  return static_cast<std::int64_t>(std::llround(version.resolved_traffic * 100));
}

void EmitRoute(ClusterContext& context, const std::vector<const ModelUnit*>& units) {
  const ir::Endpoint& endpoint = *units.front()->endpoint;
  List backends;
  for (const ModelUnit* unit : units) {
    backends.push_back(Value::Object({{"group", ""},
                                      {"kind", "Service"},
                                      {"name", unit->name},
                                      {"port", kModelPort},
                                      {"weight", Weight(*unit->version)}}));
  }
  // "/api/v1/service/<endpoint>" matches by path element (so also
  // ".../<endpoint>/score", never ".../<endpoint>x"); the rewrite hands the
  // model its own path, "/score".
  Value rule;
  rule["matches"] = Value::Array({Value::Object(
      {{"path", Value::Object({{"type", "PathPrefix"}, {"value", EndpointPath(endpoint)}})}})});
  rule["filters"] = Value::Array({Value::Object(
      {{"type", "URLRewrite"},
       {"urlRewrite", Value::Object({{"path", Value::Object({{"type", "ReplacePrefixMatch"},
                                                             {"replacePrefixMatch", "/"}})}})}})});
  rule["backendRefs"] = std::move(backends);

  Map labels = ModelLabels(context, *units.front());
  labels["app.kubernetes.io/instance"] = DnsLabel({endpoint.name});
  labels.erase("app.kubernetes.io/version");  // one route serves every version
  Value route;
  route["metadata"] = Metadata(context, DnsLabel({endpoint.name}), labels);
  route["spec"]["parentRefs"] = Value::Array({Value::Object(
      {{"group", "gateway.networking.k8s.io"}, {"kind", "Gateway"}, {"name", kGatewayName}})});
  route["spec"]["rules"] = Value::Array({std::move(rule)});
  Emit(context, "HTTPRoute", std::move(route));
}

// The seeds' autoscaler behaviour [004]: add replicas eagerly (double every
// second, no stabilization), remove them conservatively (after 60 s).
auto Behavior() -> Value {
  return Value::Object({
      {"scaleUp",
       Value::Object(
           {{"stabilizationWindowSeconds", 0},
            {"selectPolicy", "Max"},
            {"policies",
             Value::Array(
                 {Value::Object({{"type", "Percent"}, {"value", 100}, {"periodSeconds", 1}}),
                  Value::Object({{"type", "Pods"}, {"value", 1}, {"periodSeconds", 1}})})}})},
      {"scaleDown",
       Value::Object(
           {{"stabilizationWindowSeconds", 60},
            {"policies", Value::Array({Value::Object(
                             {{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}})})}})},
  });
}

void EmitAutoscaler(ClusterContext& context, const ModelUnit& unit) {
  Value hpa;
  hpa["metadata"] = Metadata(context, unit.name, ModelLabels(context, unit));
  Value& spec = hpa["spec"];
  spec["scaleTargetRef"] =
      Value::Object({{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", unit.name}});
  spec["minReplicas"] = unit.scaling.min_replicas;
  spec["maxReplicas"] = unit.scaling.max_replicas;
  spec["metrics"] = Value::Array({Value::Object(
      {{"type", "Resource"},
       {"resource",
        Value::Object({{"name", "cpu"},
                       {"target", Value::Object({{"type", "Utilization"},
                                                 {"averageUtilization",
                                                  unit.scaling.target_utilization}})}})}})});
  spec["behavior"] = Behavior();
  Emit(context, "HorizontalPodAutoscaler", std::move(hpa));
}

}  // namespace

void RenderGateway(ClusterContext& context, const std::vector<ModelUnit>& units) {
  // Units come grouped by endpoint, in declaration order.
  for (std::size_t i = 0; i < units.size();) {
    std::vector<const ModelUnit*> group;
    for (const ir::Endpoint* endpoint = units[i].endpoint;
         i < units.size() && units[i].endpoint == endpoint; ++i) {
      group.push_back(&units[i]);
    }
    EmitRoute(context, group);
  }
  // No autoscaler on DEV_TEST clusters: scaling.autoscaled is false there.
  for (const ModelUnit& unit : units) {
    if (unit.scaling.autoscaled) EmitAutoscaler(context, unit);
  }
}

}  // namespace ferry::render::kube

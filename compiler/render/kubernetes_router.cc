// routing: router — the seeds' architecture: one front end per cluster,
// ferry's router, which checks keys and tokens, splits traffic by the
// resolved weights and autoscales the model Deployments through their scale
// subresource. Its routes live in a ConfigMap; its rights are exactly that.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compiler/render/kubernetes_objects.h"
#include "compiler/render/names.h"
#include "compiler/support/sha256.h"

namespace ferry::render::kube {
namespace {

constexpr std::string_view kRoutesDirectory = "/etc/ferry/routes";
constexpr std::string_view kSecretsDirectory = "/etc/ferry/secrets";
constexpr std::string_view kTlsDirectory = "/etc/ferry/tls";
constexpr std::string_view kRoutesKey = "routes.yaml";
constexpr std::string_view kModelsPolicy = "ferry-models";

auto IsDevTest(const ClusterContext& context) -> bool {
  return context.cluster.purpose == ir::Purpose::DevTest;
}

auto RouterImage(const ClusterContext& context) -> std::string {
  const std::string& registry = context.project.workspace.registry;
  return fmt::format("{}{}ferry/router:{}", registry, registry.empty() ? "" : "/", kFerryVersion);
}

auto VersionRoute(const ClusterContext& context, const ModelUnit& unit) -> Value {
  const ir::Version& version = *unit.version;
  Value route;
  route["name"] = version.name;
  route["deployment"] = unit.name;
  route["service"] = ServiceHost(context, unit);
  // The split as the compiler resolved it once; the router never recomputes it.
  route["weight"] = version.resolved_traffic;
  route["role"] = ir::ToString(version.role);
  route["default"] = version.is_default;
  // The replica answers 504 at this limit itself; the router waits as long.
  route["timeout_ms"] = version.serving.request_timeout_ms;
  route["autoscale"] = Value::Object({
      {"enabled", unit.scaling.autoscaled},
      {"min_replicas", unit.scaling.min_replicas},
      {"max_replicas", unit.scaling.max_replicas},
      {"target_utilization", unit.scaling.target_utilization},
      {"max_concurrent_requests_per_replica",
       version.autoscale.max_concurrent_requests_per_replica},
  });
  return route;
}

// The router's configuration: per endpoint its path, auth and versions.
auto Routes(const ClusterContext& context, const std::vector<ModelUnit>& units) -> Value {
  Value routes;
  routes["format"] = 1;
  routes["cluster"] = context.cluster.name;
  routes["namespace"] = context.ns;
  routes["listen"]["http"] = kRouterHttpPort;
  // Scale up within about 1 s, down after about 60 s; off on DEV_TEST [004].
  routes["autoscaler"] = Value::Object(
      {{"enabled", !IsDevTest(context)}, {"scale_up_seconds", 1}, {"scale_down_seconds", 60}});
  if (context.cluster.tls_secret) {
    routes["listen"]["https"] = kRouterHttpsPort;
    routes["tls"] = Value::Object({{"secret", *context.cluster.tls_secret},
                                   {"redirect_http", context.cluster.tls_redirect_http},
                                   {"directory", kTlsDirectory}});
  }
  List endpoints;
  for (std::size_t i = 0; i < units.size();) {
    const ir::Endpoint& endpoint = *units[i].endpoint;
    Value entry;
    entry["name"] = endpoint.name;
    entry["path"] = EndpointPath(endpoint) + "/score";
    const AuthSecret auth = AuthOf(endpoint);
    entry["auth"]["mode"] = auth.mode;
    if (!auth.secret.empty()) {
      entry["auth"]["secret"] = auth.secret;
      entry["auth"]["directory"] = fmt::format("{}/{}", kSecretsDirectory, auth.secret);
    }
    List versions;
    for (; i < units.size() && units[i].endpoint == &endpoint; ++i) {
      versions.push_back(VersionRoute(context, units[i]));
    }
    entry["versions"] = std::move(versions);
    endpoints.push_back(std::move(entry));
  }
  routes["endpoints"] = std::move(endpoints);
  return routes;
}

// The key and token Secrets of the cluster's endpoints, sorted.
auto AuthSecrets(const std::vector<ModelUnit>& units) -> std::vector<std::string> {
  std::vector<std::string> secrets;
  for (const ModelUnit& unit : units) {
    if (AuthSecret auth = AuthOf(*unit.endpoint); !auth.secret.empty()) {
      secrets.push_back(std::move(auth.secret));
    }
  }
  std::sort(secrets.begin(), secrets.end());
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  return secrets;
}

auto RouterPod(const ClusterContext& context, const std::vector<ModelUnit>& units) -> Value {
  const bool tls = context.cluster.tls_secret.has_value();
  List args{"router", "--routes", fmt::format("{}/{}", kRoutesDirectory, kRoutesKey), "--port",
            std::to_string(kRouterHttpPort)};
  List ports{
      Value::Object({{"name", "http"}, {"containerPort", kRouterHttpPort}, {"protocol", "TCP"}})};
  List mounts{
      Value::Object({{"name", "tmp"}, {"mountPath", "/tmp"}}),
      Value::Object({{"name", "routes"}, {"mountPath", kRoutesDirectory}, {"readOnly", true}})};
  List volumes{
      Value::Object({{"name", "tmp"}, {"emptyDir", Value(Map{})}}),
      Value::Object({{"name", "routes"}, {"configMap", Value::Object({{"name", kRouterName}})}})};
  auto mount_secret = [&](const std::string& volume, const std::string& secret,
                          const std::string& directory) {
    mounts.push_back(
        Value::Object({{"name", volume}, {"mountPath", directory}, {"readOnly", true}}));
    volumes.push_back(Value::Object(
        {{"name", volume},
         {"secret", Value::Object({{"secretName", secret}, {"defaultMode", 0440}})}}));
  };
  for (const std::string& secret : AuthSecrets(units)) {
    mount_secret(DnsLabel({"auth", secret}), secret,
                 fmt::format("{}/{}", kSecretsDirectory, secret));
  }
  if (tls) {
    args.insert(args.end(), {"--tls-port", std::to_string(kRouterHttpsPort)});
    ports.push_back(Value::Object(
        {{"name", "https"}, {"containerPort", kRouterHttpsPort}, {"protocol", "TCP"}}));
    mount_secret("tls", *context.cluster.tls_secret, std::string(kTlsDirectory));
  }
  ir::Probes probes;  // the defaults: 10 s period, 5 s delay, 2 s timeout, 3 failures
  Value container;
  container["name"] = "router";
  container["image"] = RouterImage(context);
  container["imagePullPolicy"] = "IfNotPresent";
  container["args"] = std::move(args);
  container["ports"] = std::move(ports);
  Value amounts = Value::Object({{"cpu", "250m"}, {"memory", "256Mi"}});
  container["resources"] = Value::Object({{"requests", amounts}, {"limits", amounts}});
  container["readinessProbe"] = HttpProbe("/readyz", "http", probes, false);
  container["livenessProbe"] = HttpProbe("/healthz", "http", probes, true);
  container["securityContext"] = ContainerSecurityContext();
  container["volumeMounts"] = std::move(mounts);

  Value pod;
  pod["serviceAccountName"] = kRouterName;
  pod["securityContext"] = PodSecurityContext();
  pod["containers"] = Value::Array({std::move(container)});
  pod["volumes"] = std::move(volumes);
  return pod;
}

void EmitRouterDeployment(ClusterContext& context, const std::vector<ModelUnit>& units,
                          const Map& labels, const std::string& routes_text) {
  // Two router pods on FAST_PROD so one can go (node drain, update) without
  // an outage; one on DEV_TEST, which promises no fault tolerance [000].
  const std::int64_t replicas = IsDevTest(context) ? 1 : 2;
  Value deployment;
  deployment["metadata"] = Metadata(context, kRouterName, labels);
  Value& spec = deployment["spec"];
  spec["replicas"] = replicas;
  spec["selector"]["matchLabels"] = SelectorOf(labels);
  spec["strategy"] =
      Value::Object({{"type", "RollingUpdate"},
                     {"rollingUpdate", Value::Object({{"maxSurge", 1}, {"maxUnavailable", 0}})}});
  spec["template"]["metadata"]["labels"] = labels;
  // New routes (weights, versions) roll the router pods.
  spec["template"]["metadata"]["annotations"]["ferry.dev/routes-sha256"] =
      support::Sha256Hex(routes_text);
  spec["template"]["spec"] = RouterPod(context, units);
  Emit(context, "Deployment", std::move(deployment));
  if (replicas > 1) EmitDisruptionBudget(context, kRouterName, labels);
}

void EmitRouterService(ClusterContext& context, const Map& labels) {
  List ports{
      Value::Object({{"name", "http"}, {"port", 80}, {"targetPort", "http"}, {"protocol", "TCP"}})};
  if (context.cluster.tls_secret) {
    ports.push_back(Value::Object(
        {{"name", "https"}, {"port", 443}, {"targetPort", "https"}, {"protocol", "TCP"}}));
  }
  Value service;
  service["metadata"] = Metadata(context, kRouterName, labels);
  service["spec"]["type"] = "LoadBalancer";
  service["spec"]["selector"] = SelectorOf(labels);
  service["spec"]["ports"] = std::move(ports);
  Emit(context, "Service", std::move(service));
}

auto Rule(std::string_view group, std::string_view resource, List verbs,
          const std::vector<std::string>& names) -> Value {
  Value rule = Value::Object({{"apiGroups", Value::Array({group})},
                              {"resources", Value::Array({resource})},
                              {"verbs", std::move(verbs)}});
  if (!names.empty()) rule["resourceNames"] = List(names.begin(), names.end());
  return rule;
}

// Only what the router needs: read its Secrets, scale its model Deployments,
// watch Deployments and Service endpoints for readiness.
void EmitRbac(ClusterContext& context, const std::vector<ModelUnit>& units, const Map& labels) {
  Value account;
  account["metadata"] = Metadata(context, kRouterName, labels);
  Emit(context, "ServiceAccount", std::move(account));

  std::vector<std::string> deployments;
  deployments.reserve(units.size());
  for (const ModelUnit& unit : units) deployments.push_back(unit.name);
  std::sort(deployments.begin(), deployments.end());
  List rules;
  // resourceNames empty would mean every Secret: the rule exists only with names.
  std::vector<std::string> secrets = AuthSecrets(units);
  if (context.cluster.tls_secret) secrets.push_back(*context.cluster.tls_secret);
  std::sort(secrets.begin(), secrets.end());
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  if (!secrets.empty()) rules.push_back(Rule("", "secrets", {"get"}, secrets));
  rules.push_back(Rule("apps", "deployments/scale", {"get", "patch", "update"}, deployments));
  rules.push_back(Rule("apps", "deployments", {"get", "list", "watch"}, {}));
  rules.push_back(Rule("", "endpoints", {"get", "list", "watch"}, {}));
  Value role;
  role["metadata"] = Metadata(context, kRouterName, labels);
  role["rules"] = std::move(rules);
  Emit(context, "Role", std::move(role));

  Value binding;
  binding["metadata"] = Metadata(context, kRouterName, labels);
  binding["roleRef"] = Value::Object(
      {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", kRouterName}});
  binding["subjects"] = Value::Array({Value::Object(
      {{"kind", "ServiceAccount"}, {"name", kRouterName}, {"namespace", context.ns}})});
  Emit(context, "RoleBinding", std::move(binding));
}

// Model pods accept connections only from the router's pods, on the model port.
void EmitModelsPolicy(ClusterContext& context, const Map& router_labels) {
  Map models;
  models["app.kubernetes.io/component"] = "model";
  models["ferry.dev/project"] = router_labels.at("ferry.dev/project");
  Value policy;
  policy["metadata"] = Metadata(context, kModelsPolicy, router_labels);
  policy["spec"]["podSelector"]["matchLabels"] = std::move(models);
  policy["spec"]["policyTypes"] = Value::Array({"Ingress"});
  policy["spec"]["ingress"] = Value::Array({Value::Object(
      {{"from",
        Value::Array({Value::Object(
            {{"podSelector", Value::Object({{"matchLabels", SelectorOf(router_labels)}})}})})},
       {"ports", Value::Array({Value::Object({{"protocol", "TCP"}, {"port", kModelPort}})})}})});
  Emit(context, "NetworkPolicy", std::move(policy));
}

}  // namespace

void RenderRouter(ClusterContext& context, const std::vector<ModelUnit>& units) {
  const Map labels = RouterLabels(context);
  const std::string routes_text = ToYaml(Routes(context, units));
  Value config;
  config["metadata"] = Metadata(context, kRouterName, labels);
  config["data"][kRoutesKey] = routes_text;
  Emit(context, "ConfigMap", std::move(config));
  EmitRouterDeployment(context, units, labels, routes_text);
  EmitRouterService(context, labels);
  EmitRbac(context, units, labels);
  EmitModelsPolicy(context, labels);
}

}  // namespace ferry::render::kube

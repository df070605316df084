// The Kubernetes executor's reads: refresh (drift), status, logs and the
// endpoints' Secrets. Secret values are read only by ReadSecret, for
// `ferry keys`; nothing here logs them.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>

#include "compiler/apply/kubernetes_executor.h"
#include "compiler/apply/kubernetes_internal.h"

namespace ferry::apply {

using kube::ObjectRef;
using nlohmann::json;

namespace {

auto StartsWith(std::string_view text, std::string_view prefix) -> bool {
  return text.substr(0, prefix.size()) == prefix;
}

// Attributes that are not fields of the object (the rendered file's path).
auto Observable(std::string_view key) -> bool { return !StartsWith(key, "manifest."); }

auto GetJson(KubernetesExecutor::Impl& impl, const ObjectRef& ref, KubectlResult& result)
    -> std::optional<json> {
  std::vector<std::string> args{"get", ref.Resource(), ref.name};
  const std::vector<std::string> ns = ref.NamespaceArgs();
  args.insert(args.end(), ns.begin(), ns.end());
  args.insert(args.end(), {"-o", "json"});
  result = impl.Run(ref.cluster, args);
  if (!result.ok()) return std::nullopt;
  return kube::ParseJson(result.out);
}

// An autoscaled Deployment's spec.replicas is the autoscaler's to change:
// inside the autoscaler's range it is not drift.
auto AutoscalerOwns(const std::optional<kube::ReplicaRange>& range, std::string_view key,
                    const plan::Attributes& live) -> bool {
  if (!range || key != "spec.replicas") return false;
  const auto found = live.find(key);
  if (found == live.end()) return false;
  const std::optional<json> value = kube::ParseJson(found->second);
  if (!value || !value->is_number_integer()) return false;
  const long long replicas = value->get<long long>();
  return replicas >= range->min && replicas <= range->max;
}

auto ObserveObject(KubernetesExecutor::Impl& impl, const plan::State& state,
                   const plan::ResourceState& recorded, Observed& observed, std::string& error)
    -> bool {
  const std::optional<ObjectRef> ref =
      kube::ObjectFromAttributes(recorded.address, recorded.attributes);
  if (!ref) return true;
  KubectlResult result;
  const std::optional<json> live = GetJson(impl, *ref, result);
  if (!live) {
    if (IsNotFound(result)) {
      observed.exists = false;
      observed.note = ref->Describe() + " is gone from the cluster";
      return true;
    }
    error = fmt::format("kubectl could not read {}: {}", ref->Describe(),
                        result.ok() ? "its JSON did not parse" : KubectlErrorLine(result));
    return false;
  }
  plan::Attributes flat;
  FlattenJson(live->dump(), flat);
  const std::optional<kube::ReplicaRange> range =
      ref->kind == "Deployment" ? kube::AutoscaledRange(state, *ref) : std::nullopt;
  std::vector<std::string> changed;
  observed.attributes.clear();
  for (const auto& [key, value] : recorded.attributes) {
    if (!Observable(key) || AutoscalerOwns(range, key, flat)) {
      observed.attributes[key] = value;
      continue;
    }
    const auto found = flat.find(key);
    if (found != flat.end()) observed.attributes[key] = found->second;
    if (found == flat.end() || found->second != value) {
      changed.push_back(key == "spec.replicas" && range && found != flat.end()
                            ? fmt::format("spec.replicas ({}, outside {}'s range {}..{})",
                                          found->second, range->owner, range->min, range->max)
                            : key);
    }
  }
  if (!changed.empty()) {
    std::string fields;
    for (std::size_t i = 0; i < changed.size() && i < 5; ++i) {
      fields += (i == 0 ? "" : ", ") + changed[i];
    }
    if (changed.size() > 5) fields += fmt::format(" and {} more", changed.size() - 5);
    observed.note = fmt::format("{} was changed outside ferry: {}", ref->Describe(), fields);
  }
  return true;
}

auto ObserveSecret(KubernetesExecutor::Impl& impl, const plan::ResourceState& recorded,
                   Observed& observed, std::string& error) -> bool {
  const ObjectRef ref = kube::SecretFromAttributes(recorded.address, recorded.attributes);
  // Existence only: the values are never read for refresh.
  const KubectlResult result = impl.Run(
      ref.cluster, {"get", "secret", ref.name, "-n", ref.ns, "-o", "jsonpath={.metadata.uid}"});
  if (result.ok()) return true;
  if (IsNotFound(result)) {
    observed.exists = false;
    observed.note = ref.Describe() + " is gone from the cluster";
    return true;
  }
  error = fmt::format("kubectl could not read {}: {}", ref.Describe(), KubectlErrorLine(result));
  return false;
}

}  // namespace

auto KubernetesExecutor::Refresh(const plan::State& state, const ProjectPaths& /*paths*/,
                                 std::string& error) -> std::vector<Observed> {
  std::vector<Observed> observed;
  for (const plan::ResourceState& recorded : state.resources) {
    Observed entry;
    entry.address = recorded.address;
    entry.attributes = recorded.attributes;
    bool ok = true;
    if (recorded.type == "object") ok = ObserveObject(*impl_, state, recorded, entry, error);
    if (recorded.type == "secret") ok = ObserveSecret(*impl_, recorded, entry, error);
    if (!ok) return {};
    observed.push_back(std::move(entry));
  }
  return observed;
}

namespace {

// The recorded objects of `kind` (e.g. every ferry-router ConfigMap).
auto RecordedObjects(const plan::State& state, std::string_view kind, std::string_view name = {})
    -> std::vector<ObjectRef> {
  std::vector<ObjectRef> refs;
  for (const plan::ResourceState& resource : state.resources) {
    if (resource.type != "object") continue;
    std::optional<ObjectRef> ref =
        kube::ObjectFromAttributes(resource.address, resource.attributes);
    if (ref && ref->kind == kind && (name.empty() || ref->name == name)) refs.push_back(*ref);
  }
  return refs;
}

auto ScoringBase(KubernetesExecutor::Impl& impl, const ObjectRef& router_config) -> std::string {
  ObjectRef service = router_config;
  service.kind = "Service";
  service.api_version = "v1";
  KubectlResult result;
  const std::optional<json> live = GetJson(impl, service, result);
  std::string port;
  if (live) {
    const long long number = kube::IntAt(*live, "/spec/ports/0/port");
    if (number != 0 && number != 80) port = ":" + std::to_string(number);
    const json::json_pointer ingress("/status/loadBalancer/ingress/0");
    if (live->contains(ingress)) {
      const json& entry = live->at(ingress);
      const std::string host = entry.value("ip", entry.value("hostname", ""));
      if (!host.empty()) return "http://" + host + port;
    }
  }
  return fmt::format("http://{}.{}.svc.cluster.local{}", service.name, service.ns, port);
}

// The pods of a version's Deployment; `revision` gets its image's tag (the
// image's content hash prefix).
auto Replicas(KubernetesExecutor::Impl& impl, const ObjectRef& deployment, std::string& revision)
    -> std::vector<ReplicaStatus> {
  std::vector<ReplicaStatus> replicas;
  KubectlResult result;
  const std::optional<json> live = GetJson(impl, deployment, result);
  if (!live) return replicas;
  const json::json_pointer image("/spec/template/spec/containers/0/image");
  if (live->contains(image) && live->at(image).is_string()) {
    const std::string reference = live->at(image).get<std::string>();
    const std::size_t colon = reference.rfind(':');
    if (colon != std::string::npos && reference.find('/', colon) == std::string::npos) {
      revision = reference.substr(colon + 1);
    }
  }
  std::string selector;
  const json::json_pointer labels("/spec/selector/matchLabels");
  if (live->contains(labels)) {
    for (const auto& [key, value] : live->at(labels).items()) {
      selector += (selector.empty() ? "" : ",") + key + "=" + value.get<std::string>();
    }
  }
  const KubectlResult pods = impl.Run(
      deployment.cluster, {"get", "pods", "-n", deployment.ns, "-l", selector, "-o", "json"});
  if (std::optional<json> list = pods.ok() ? kube::ParseJson(pods.out) : std::nullopt) {
    for (const json& pod : list->value("items", json::array())) {
      ReplicaStatus replica;
      replica.name = pod["metadata"].value("name", "");
      for (const json& condition : pod["status"].value("conditions", json::array())) {
        if (condition.value("type", "") == "Ready") {
          replica.ready = condition.value("status", "") == "True";
        }
      }
      replica.detail = pod["status"].value("phase", "Unknown");
      if (const std::string node = pod["spec"].value("nodeName", ""); !node.empty()) {
        replica.detail += " on " + node;
      }
      replicas.push_back(std::move(replica));
    }
  }
  if (!replicas.empty()) return replicas;
  // No pod listed (or none readable): what the Deployment's status counts.
  const long long total = kube::IntAt(*live, "/status/replicas");
  const long long ready = kube::IntAt(*live, "/status/readyReplicas");
  for (long long i = 0; i < total; ++i) {
    replicas.push_back({fmt::format("{} replica {}", deployment.name, i + 1), i < ready,
                        "counted by the Deployment's status (no pod listed)"});
  }
  return replicas;
}

// A cluster on Gateway API routing: each endpoint is an HTTPRoute whose
// backendRefs' weights (out of their sum) are the versions' traffic.
auto GatewayStatus(KubernetesExecutor::Impl& impl, const plan::State& state,
                   std::vector<EndpointStatus>& endpoints, std::string& error) -> bool {
  for (const ObjectRef& route : RecordedObjects(state, "HTTPRoute")) {
    KubectlResult result;
    const std::optional<json> live = GetJson(impl, route, result);
    if (!live) {
      error =
          fmt::format("kubectl could not read {}: {}", route.Describe(), KubectlErrorLine(result));
      return false;
    }
    EndpointStatus endpoint;
    const json labels = (*live)["metadata"].value("labels", json::object());
    endpoint.name = labels.value("app.kubernetes.io/name", route.name);
    const json rule = live->value("spec", json::object()).value("rules", json::array()).empty()
                          ? json::object()
                          : (*live)["spec"]["rules"][0];
    const json path = rule.value("matches", json::array()).empty()
                          ? json::object()
                          : rule["matches"][0].value("path", json::object());
    const std::string prefix = path.value("value", "/api/v1/service/" + endpoint.name);
    endpoint.scoring_uri = prefix + "/score (through the Gateway's address)";
    endpoint.swagger_uri = prefix + "/swagger.json (through the Gateway's address)";
    const plan::ResourceState* secret = state.Find("secret." + endpoint.name);
    endpoint.auth = secret != nullptr ? kube::AttributeString(secret->attributes, "mode") : "none";
    const json backends = rule.value("backendRefs", json::array());
    long long total = 0;
    for (const json& backend : backends) total += backend.value("weight", 1LL);
    for (const json& backend : backends) {
      VersionStatus version;
      ObjectRef deployment = route;
      deployment.kind = "Deployment";
      deployment.api_version = "apps/v1";
      deployment.name = backend.value("name", "");
      version.name = deployment.name;
      for (const plan::ResourceState& resource : state.resources) {
        const auto ref = kube::ObjectFromAttributes(resource.address, resource.attributes);
        if (ref && ref->kind == "Deployment" && ref->name == deployment.name) {
          version.name = kube::AttributeString(resource.attributes,
                                               "metadata.labels.app.kubernetes.io/version");
        }
      }
      version.weight = total > 0 ? 100.0 * static_cast<double>(backend.value("weight", 1LL)) /
                                       static_cast<double>(total)
                                 : 0;
      version.replicas = Replicas(impl, deployment, version.revision);
      const bool ready = std::any_of(version.replicas.begin(), version.replicas.end(),
                                     [](const ReplicaStatus& r) { return r.ready; });
      if (ready && version.weight > 0) endpoint.healthy = true;
      endpoint.versions.push_back(std::move(version));
    }
    endpoints.push_back(std::move(endpoint));
  }
  return true;
}

}  // namespace

auto KubernetesExecutor::Status(const plan::State& state, const ProjectPaths& /*paths*/,
                                std::string& error) -> std::vector<EndpointStatus> {
  std::vector<EndpointStatus> endpoints;
  for (const ObjectRef& config : RecordedObjects(state, "ConfigMap", "ferry-router")) {
    KubectlResult result;
    const std::optional<json> live = GetJson(*impl_, config, result);
    if (!live) {
      error =
          fmt::format("kubectl could not read {}: {}", config.Describe(), KubectlErrorLine(result));
      return {};
    }
    const std::string routes_text = live->value("data", json::object()).value("routes.yaml", "");
    YAML::Node routes;
    try {
      routes = YAML::Load(routes_text);
    } catch (const YAML::Exception& exception) {
      error =
          fmt::format("{}: routes.yaml does not parse: {}", config.Describe(), exception.what());
      return {};
    }
    const std::string base = ScoringBase(*impl_, config);
    const bool cluster_ip = base.find(".svc.cluster.local") != std::string::npos;
    for (const YAML::Node& entry : routes["endpoints"]) {
      EndpointStatus endpoint;
      endpoint.name = entry["name"].as<std::string>("");
      const std::string path = entry["path"].as<std::string>("");
      endpoint.scoring_uri =
          base + path + (cluster_ip ? " (ClusterIP; use kubectl port-forward)" : "");
      const std::string swagger = path.substr(0, path.rfind('/')) + "/swagger.json";
      endpoint.swagger_uri = base + swagger;
      endpoint.auth = entry["auth"] ? entry["auth"]["mode"].as<std::string>("none") : "none";
      for (const YAML::Node& version_node : entry["versions"]) {
        VersionStatus version;
        version.name = version_node["name"].as<std::string>("");
        version.weight = version_node["weight"].as<double>(0);
        version.is_default = version_node["default"].as<bool>(false);
        version.role = version_node["role"].as<std::string>("");
        ObjectRef deployment = config;
        deployment.kind = "Deployment";
        deployment.api_version = "apps/v1";
        deployment.name = version_node["deployment"].as<std::string>("");
        version.replicas = Replicas(*impl_, deployment, version.revision);
        const bool ready = std::any_of(version.replicas.begin(), version.replicas.end(),
                                       [](const ReplicaStatus& r) { return r.ready; });
        if (ready && version.weight > 0) endpoint.healthy = true;
        endpoint.versions.push_back(std::move(version));
      }
      endpoints.push_back(std::move(endpoint));
    }
  }
  if (!GatewayStatus(*impl_, state, endpoints, error)) return {};
  std::sort(endpoints.begin(), endpoints.end(),
            [](const EndpointStatus& a, const EndpointStatus& b) { return a.name < b.name; });
  return endpoints;
}

auto KubernetesExecutor::Logs(const plan::State& state, const ProjectPaths& /*paths*/,
                              std::string_view endpoint, std::string_view version,
                              std::size_t lines, std::string& error) -> std::string {
  std::string logs;
  bool any = false;
  for (const plan::ResourceState& resource : state.resources) {
    const std::optional<ObjectRef> ref =
        kube::ObjectFromAttributes(resource.address, resource.attributes);
    if (!ref || ref->kind != "Deployment") continue;
    const auto label = [&](std::string_view key) {
      return kube::AttributeString(resource.attributes, "metadata.labels." + std::string(key));
    };
    if (label("app.kubernetes.io/component") != "model" ||
        label("app.kubernetes.io/name") != endpoint ||
        (!version.empty() && label("app.kubernetes.io/version") != version)) {
      continue;
    }
    any = true;
    std::string selector;
    constexpr std::string_view kSelector = "spec.selector.matchLabels.";
    for (const auto& [key, value] : resource.attributes) {
      if (!StartsWith(key, kSelector)) continue;
      selector += (selector.empty() ? "" : ",") + key.substr(kSelector.size()) + "=" +
                  kube::AttributeString(resource.attributes, key);
    }
    const KubectlResult result =
        impl_->Run(ref->cluster, {"logs", "-n", ref->ns, "-l", selector, "--prefix",
                                  "--all-containers", "--tail=" + std::to_string(lines)});
    if (!result.ok()) {
      error =
          fmt::format("kubectl logs of {} failed: {}", ref->Describe(), KubectlErrorLine(result));
      return "";
    }
    logs += result.out;
  }
  if (!any) {
    error = fmt::format("no applied Deployment of endpoint '{}'{}", endpoint,
                        version.empty() ? "" : fmt::format(" version '{}'", version));
  }
  return logs;
}

namespace {

auto RecordedSecret(const plan::State& state, std::string_view endpoint, std::string& error)
    -> std::optional<std::pair<ObjectRef, std::string>> {
  const std::string address = "secret." + std::string(endpoint);
  const plan::ResourceState* recorded = state.Find(address);
  if (recorded == nullptr) {
    error = fmt::format("endpoint '{}' has no applied keys (no {} in the state): run `ferry apply`",
                        endpoint, address);
    return std::nullopt;
  }
  return std::pair{kube::SecretFromAttributes(address, recorded->attributes),
                   kube::AttributeString(recorded->attributes, "mode")};
}

}  // namespace

auto KubernetesExecutor::ReadSecret(const plan::State& state, const ProjectPaths& /*paths*/,
                                    std::string_view endpoint, std::string& error)
    -> std::optional<EndpointSecret> {
  const auto recorded = RecordedSecret(state, endpoint, error);
  if (!recorded) return std::nullopt;
  const auto& [ref, mode] = *recorded;
  const KubectlResult result =
      impl_->Run(ref.cluster, {"get", "secret", ref.name, "-n", ref.ns, "-o", "json"});
  const std::optional<json> live = result.ok() ? kube::ParseJson(result.out) : std::nullopt;
  if (!live) {
    error = fmt::format("kubectl could not read {}: {}", ref.Describe(),
                        result.ok() ? "its JSON did not parse" : KubectlErrorLine(result));
    return std::nullopt;
  }
  EndpointSecret secret;
  secret.mode = mode.empty() ? "key" : mode;
  const json data = live->value("data", json::object());
  const std::pair<const char*, std::string*> fields[] = {{"primary", &secret.primary},
                                                         {"secondary", &secret.secondary},
                                                         {"signing-key", &secret.signing_key}};
  for (const auto& [key, target] : fields) {
    if (data.contains(key) && data[key].is_string() &&
        !kube::Base64Decode(data[key].get<std::string>(), *target)) {
      error = fmt::format("{}: its '{}' is not base64", ref.Describe(), key);
      return std::nullopt;
    }
  }
  return secret;
}

auto KubernetesExecutor::WriteSecret(const plan::State& state, const ProjectPaths& /*paths*/,
                                     std::string_view endpoint, const EndpointSecret& secret,
                                     std::string& error) -> bool {
  const auto recorded = RecordedSecret(state, endpoint, error);
  if (!recorded) return false;
  const ObjectRef& ref = recorded->first;
  const KubectlResult result = impl_->Run(ref.cluster,
                                          {"apply", "--server-side", "--field-manager=ferry",
                                           "--force-conflicts", "-f", "-", "-o", "name"},
                                          kube::SecretManifest(ref, state.project, secret));
  if (!result.ok()) {
    error = kube::Redact(
        fmt::format("kubectl apply of {} failed: {}", ref.Describe(), KubectlErrorLine(result)),
        {secret.primary, secret.secondary, secret.signing_key});
    return false;
  }
  return true;
}

}  // namespace ferry::apply

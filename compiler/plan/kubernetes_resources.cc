// The kubernetes executor's desired resources: every rendered object, read
// back from its YAML so that a plan's field changes name the object's own
// fields, and the endpoints' auth Secrets, which render never writes (their
// values are made at apply time and never printed).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "compiler/plan/resources_internal.h"
#include "compiler/render/names.h"
#include "compiler/render/serving.h"

namespace ferry::plan {
namespace {

using support::List;
using support::Map;
using support::Value;

constexpr std::string_view kRouterName = "ferry-router";

// A plain scalar as YAML reads it; ToYaml quotes every string that would read
// as something else, so render's objects come back with their types.
auto PlainScalar(const std::string& text) -> Value {
  if (text == "true") return true;
  if (text == "false") return false;
  if (text.empty() || text == "null" || text == "~") return Value();
  const char* end = text.data() + text.size();
  std::int64_t integer = 0;
  if (auto [at, error] = std::from_chars(text.data(), end, integer);
      error == std::errc() && at == end) {
    return integer;
  }
  if (text.find_first_of(".eE") != std::string::npos) {
    double number = 0;
    if (auto [at, error] = std::from_chars(text.data(), end, number);
        error == std::errc() && at == end) {
      return number;
    }
  }
  return Value(text);
}

auto ToValue(const YAML::Node& node) -> Value {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Map map;
      for (const auto& entry : node) map[entry.first.Scalar()] = ToValue(entry.second);
      return Value(std::move(map));
    }
    case YAML::NodeType::Sequence: {
      List list;
      for (const YAML::Node& item : node) list.push_back(ToValue(item));
      return Value(std::move(list));
    }
    case YAML::NodeType::Scalar:
      // "!": quoted or a block scalar, always a string.
      return node.Tag() == "?" ? PlainScalar(node.Scalar()) : Value(node.Scalar());
    default:
      return Value();
  }
}

auto Get(const Value& value, std::string_view key) -> const Value* {
  if (!value.is_map()) return nullptr;
  auto it = value.map().find(key);
  return it == value.map().end() ? nullptr : &it->second;
}

auto GetString(const Value& value, std::string_view key) -> std::string {
  const Value* item = Get(value, key);
  return item != nullptr && item->is_string() ? item->string() : std::string();
}

auto Label(const Value& document, std::string_view key) -> std::string {
  const Value* metadata = Get(document, "metadata");
  const Value* labels = metadata != nullptr ? Get(*metadata, "labels") : nullptr;
  return labels != nullptr ? GetString(*labels, key) : std::string();
}

/// One rendered object, read back.
struct Object {
  std::string path;
  std::string cluster;
  std::string kind;
  std::string name;
  std::string address;
  Value document;
  const ir::Endpoint* endpoint = nullptr;  ///< a model version's objects and HTTPRoutes
  const ir::Version* version = nullptr;    ///< a model version's objects
};

// "kubernetes/<cluster>/<kind>-<name>.yaml" -> "<cluster>"; nullopt for other files.
auto ClusterOfPath(std::string_view path) -> std::optional<std::string> {
  constexpr std::string_view kPrefix = "kubernetes/";
  if (!path.starts_with(kPrefix) || !path.ends_with(".yaml")) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  const std::size_t slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return std::string(path.substr(0, slash));
}

auto ReadObject(const render::RenderedFile& file, std::string cluster) -> Object {
  Object object;
  object.path = file.path;
  object.cluster = std::move(cluster);
  try {
    object.document = ToValue(YAML::Load(file.contents));
  } catch (const YAML::Exception&) {
    // Render writes every object; text it cannot read back still gets a
    // resource (its path), so nothing rendered is silently dropped.
    object.document = Value();
  }
  object.kind = GetString(object.document, "kind");
  if (const Value* metadata = Get(object.document, "metadata")) {
    object.name = GetString(*metadata, "name");
  }
  const std::size_t slash = file.path.rfind('/');
  if (object.kind.empty()) object.kind = "Unknown";
  if (object.name.empty()) object.name = file.path.substr(slash + 1, file.path.size() - slash - 6);
  object.address = "object." + object.cluster + "." + object.kind + "." + object.name;
  return object;
}

// The endpoint (and version) whose objects carry these labels on `cluster`.
void MatchModel(const ir::Project& project, Object& object) {
  if (Label(object.document, "app.kubernetes.io/component") != "model") return;
  const std::string endpoint_label = Label(object.document, "app.kubernetes.io/name");
  const std::string version_label = Label(object.document, "app.kubernetes.io/version");
  for (const ir::Endpoint& endpoint : project.endpoints) {
    if (endpoint.cluster_name != object.cluster ||
        render::DnsLabel({endpoint.name}) != endpoint_label) {
      continue;
    }
    object.endpoint = &endpoint;
    for (const ir::Version& version : endpoint.versions) {
      if (render::DnsLabel({version.name}) == version_label) object.version = &version;
    }
    return;
  }
}

auto IsModelWorkload(const Object& object) -> bool {
  return object.version != nullptr &&
         (object.kind == "Deployment" || object.kind == "Service" ||
          object.kind == "PodDisruptionBudget" || object.kind == "HorizontalPodAutoscaler");
}

auto FindCluster(const ir::Project& project, std::string_view name) -> const ir::Cluster* {
  for (const ir::Cluster& cluster : project.clusters) {
    if (cluster.name == name) return &cluster;
  }
  return nullptr;
}

auto LocationOf(const ir::Project& project, const Object& object) -> diag::Location {
  if (object.version != nullptr) return object.version->origin.location;
  if (object.endpoint != nullptr) return object.endpoint->origin.location;
  if (const ir::Cluster* cluster = FindCluster(project, object.cluster)) {
    return cluster->origin.location;
  }
  return project.origin.location;
}

void AddUnique(std::vector<std::string>& list, std::string item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(std::move(item));
}

/// The objects of one cluster, with what their dependencies are found by.
struct ClusterObjects {
  std::string namespace_address;
  std::vector<std::string> model_workloads;  ///< Deployments and Services of model versions
  std::map<std::string, std::string, std::less<>> router_parts;  ///< kind -> address
};

auto SecretAddress(const ir::Endpoint& endpoint) -> std::optional<std::string> {
  if (render::AuthOf(endpoint).secret.empty()) return std::nullopt;
  return "secret." + endpoint.name;
}

// Namespace first; then what the object reads (its endpoint's Secret), runs
// (the model workloads a router routes to) or mounts (the router's config
// and rights).
auto DependenciesOf(const Object& object, const ClusterObjects& cluster)
    -> std::vector<std::string> {
  std::vector<std::string> needs;
  if (object.kind == "Namespace") return {"cluster." + object.cluster};
  if (!cluster.namespace_address.empty()) needs.push_back(cluster.namespace_address);
  if (IsModelWorkload(object)) {
    if (std::optional<std::string> secret = SecretAddress(*object.endpoint)) {
      AddUnique(needs, *secret);
    }
  }
  const bool router_config = object.kind == "ConfigMap" && object.name == kRouterName;
  if (router_config || object.kind == "HTTPRoute") {
    for (const std::string& workload : cluster.model_workloads) AddUnique(needs, workload);
  }
  if (object.name == kRouterName && (object.kind == "Deployment" || object.kind == "RoleBinding")) {
    const std::vector<std::string_view> kinds =
        object.kind == "Deployment"
            ? std::vector<std::string_view>{"ConfigMap", "ServiceAccount", "Role", "RoleBinding"}
            : std::vector<std::string_view>{"ServiceAccount", "Role"};
    for (std::string_view kind : kinds) {
      if (auto it = cluster.router_parts.find(kind); it != cluster.router_parts.end()) {
        AddUnique(needs, it->second);
      }
    }
  }
  return needs;
}

void AddSecrets(const ir::Project& project, const std::map<std::string, ClusterObjects>& clusters,
                std::vector<Resource>& out) {
  const std::string ns = render::DnsLabel({project.name});
  for (const ir::Endpoint& endpoint : project.endpoints) {
    auto cluster = clusters.find(endpoint.cluster_name);
    // Only where render wrote the endpoint's cluster (a namespace to put it in).
    if (cluster == clusters.end() || cluster->second.namespace_address.empty()) continue;
    const render::AuthSecret auth = render::AuthOf(endpoint);
    if (auth.secret.empty()) continue;
    out.push_back(MakeResource("secret." + endpoint.name,
                               Value::Object({{"mode", auth.mode},
                                              {"name", auth.secret},
                                              {"namespace", ns},
                                              {"cluster", endpoint.cluster_name}}),
                               {cluster->second.namespace_address}, endpoint.origin.At("auth")));
  }
}

}  // namespace

void AddKubernetes(const ir::Project& project, const render::RenderResult& rendered,
                   std::vector<Resource>& out) {
  std::vector<Object> objects;
  std::map<std::string, ClusterObjects> clusters;
  for (const render::RenderedFile& file : rendered.files) {
    std::optional<std::string> cluster = ClusterOfPath(file.path);
    if (!cluster) continue;
    Object object = ReadObject(file, std::move(*cluster));
    MatchModel(project, object);
    if (object.kind == "HTTPRoute") {
      for (const ir::Endpoint& endpoint : project.endpoints) {
        if (endpoint.cluster_name == object.cluster &&
            render::DnsLabel({endpoint.name}) == object.name) {
          object.endpoint = &endpoint;
        }
      }
    }
    ClusterObjects& known = clusters[object.cluster];
    if (object.kind == "Namespace") known.namespace_address = object.address;
    if (IsModelWorkload(object) && (object.kind == "Deployment" || object.kind == "Service")) {
      known.model_workloads.push_back(object.address);
    }
    if (object.name == kRouterName) known.router_parts[object.kind] = object.address;
    objects.push_back(std::move(object));
  }
  for (Object& object : objects) {
    std::vector<std::string> needs = DependenciesOf(object, clusters[object.cluster]);
    Resource resource = MakeResource(object.address, object.document, std::move(needs),
                                     LocationOf(project, object));
    // The executor applies the rendered text itself (RenderResult, by this path).
    resource.attributes["manifest.path"] = support::ToCanonicalJson(Value(object.path));
    out.push_back(std::move(resource));
  }
  AddSecrets(project, clusters, out);
}

}  // namespace ferry::plan

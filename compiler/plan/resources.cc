// The desired resources of both executors. Every attribute is a flat dotted
// path to the canonical JSON of one scalar, so a change shows up as exactly
// the fields that moved, and a resource's hash changes exactly when one did.
#include "compiler/plan/resources.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "compiler/plan/resources_internal.h"
#include "compiler/render/serving.h"
#include "compiler/support/sha256.h"

namespace ferry::plan {

using support::List;
using support::Map;
using support::Value;

namespace {

// The local router listens on loopback only: the scoring URI is this machine's.
constexpr std::string_view kLocalHost = "127.0.0.1";

auto Type(std::string_view address) -> std::string {
  return std::string(address.substr(0, address.find('.')));
}

auto ClusterAttributes(const ir::Cluster& cluster) -> Value {
  return Value::Object({
      {"provider", ir::ToString(cluster.provider)},
      {"purpose", ir::ToString(cluster.purpose)},
      {"vm_size", cluster.vm_size},
      {"agent_count", cluster.agent_count},
      {"kubernetes_version", cluster.kubernetes_version},
      {"region", cluster.region},
      {"detached", cluster.detached},
      {"routing", ir::ToString(cluster.routing)},
  });
}

void AddClusters(const ir::Project& project, std::vector<Resource>& out) {
  for (const ir::Cluster& cluster : project.clusters) {
    out.push_back(MakeResource("cluster." + cluster.name, ClusterAttributes(cluster), {},
                               cluster.origin.location));
  }
}

auto FindBundle(const render::RenderResult& rendered, const ir::Endpoint& endpoint,
                const ir::Version& version) -> const render::BundleRef* {
  for (const render::BundleRef& bundle : rendered.bundles) {
    if (bundle.endpoint == endpoint.name && bundle.version == version.name) return &bundle;
  }
  return nullptr;
}

// An endpoint runs locally when its split resolved and render built every
// version's bundle (render leaves such an endpoint out whole).
auto RunsLocally(const ir::Endpoint& endpoint, const render::RenderResult& rendered) -> bool {
  if (!endpoint.traffic_resolved || endpoint.cluster == ir::kNone) return false;
  return std::all_of(endpoint.versions.begin(), endpoint.versions.end(),
                     [&](const ir::Version& version) {
                       return FindBundle(rendered, endpoint, version) != nullptr;
                     });
}

// A version's replicas as the local executor starts them: `serve` behind the
// router, which checks keys and tokens itself, with the limits and scaling the
// Kubernetes renderer gives the same version. Paths are relative to the
// manifest's folder.
auto VersionAttributes(const ir::Cluster& cluster, const ir::Endpoint& endpoint,
                       const ir::Version& version, const render::BundleRef& bundle) -> Value {
  List args{"--auth", "none"};
  render::AppendServeLimits(version,
                            fmt::format(".ferry/collect/{}/{}", endpoint.name, version.name), args);
  const render::Scaling scaling = render::ScalingOf(cluster, version);
  return Value::Object({
      {"bundle", bundle.sha256},
      {"role", ir::ToString(version.role)},
      {"timeout_ms", version.serving.request_timeout_ms},
      {"args", std::move(args)},
      {"autoscale", Value::Object({
                        {"enabled", scaling.autoscaled},
                        {"min_replicas", scaling.min_replicas},
                        {"max_replicas", scaling.max_replicas},
                        {"target_utilization", scaling.target_utilization},
                        {"max_concurrent_requests_per_replica",
                         version.autoscale.max_concurrent_requests_per_replica},
                    })},
  });
}

auto TrafficAttributes(const ir::Endpoint& endpoint) -> Value {
  Value versions;
  for (const ir::Version& version : endpoint.versions) {
    versions[version.name] = Value::Object({
        // The split as the compiler resolved it once, as the router reads it.
        {"weight", version.resolved_traffic},
        {"default", version.is_default},
        {"role", ir::ToString(version.role)},
    });
  }
  Value attributes;
  attributes["path"] = render::EndpointPath(endpoint) + "/score";
  attributes["auth"]["mode"] = render::AuthOf(endpoint).mode;
  if (!versions.is_null()) attributes["versions"] = std::move(versions);
  return attributes;
}

void AddLocalEndpoint(const ir::Project& project, const render::RenderResult& rendered,
                      const ir::Endpoint& endpoint, std::vector<Resource>& out) {
  const ir::Cluster& cluster = project.clusters[static_cast<std::size_t>(endpoint.cluster)];
  const std::string cluster_address = "cluster." + cluster.name;
  std::vector<std::string> traffic_needs;
  for (const ir::Version& version : endpoint.versions) {
    const render::BundleRef& bundle = *FindBundle(rendered, endpoint, version);
    const std::string suffix = endpoint.name + "." + version.name;
    out.push_back(MakeResource("bundle." + suffix,
                               Value::Object({{"sha256", bundle.sha256},
                                              {"directory", bundle.directory},
                                              {"target", ir::ToString(endpoint.target)}}),
                               {}, version.origin.location));
    out.push_back(
        MakeResource("version." + suffix, VersionAttributes(cluster, endpoint, version, bundle),
                     {"bundle." + suffix, "router", cluster_address}, version.origin.location));
    traffic_needs.push_back("version." + suffix);
  }
  if (const std::string mode = render::AuthOf(endpoint).mode; mode != "none") {
    out.push_back(MakeResource("secret." + endpoint.name, Value::Object({{"mode", mode}}), {},
                               endpoint.origin.At("auth")));
    traffic_needs.push_back("secret." + endpoint.name);
  }
  out.push_back(MakeResource("traffic." + endpoint.name, TrafficAttributes(endpoint),
                             std::move(traffic_needs), endpoint.origin.location));
}

void AddLocal(const ir::Project& project, const render::RenderResult& rendered,
              std::vector<Resource>& out) {
  bool any = false;
  // The router autoscales unless every endpoint it serves is on DEV_TEST [004].
  bool autoscaler = false;
  for (const ir::Endpoint& endpoint : project.endpoints) {
    if (!RunsLocally(endpoint, rendered)) continue;
    AddLocalEndpoint(project, rendered, endpoint, out);
    any = true;
    const ir::Cluster& cluster = project.clusters[static_cast<std::size_t>(endpoint.cluster)];
    autoscaler |= cluster.purpose != ir::Purpose::DevTest;
  }
  if (!any) return;
  // Scale up within about 1 s, down after about 60 s, as the cluster router does.
  out.push_back(MakeResource("router",
                             Value::Object({{"host", kLocalHost},
                                            {"autoscaler", Value::Object({
                                                               {"enabled", autoscaler},
                                                               {"scale_up_seconds", 1},
                                                               {"scale_down_seconds", 60},
                                                           })}}),
                             {}, project.origin.location));
}

}  // namespace

auto ToString(ExecutorKind kind) -> std::string_view {
  switch (kind) {
    case ExecutorKind::Local:
      return "local";
    case ExecutorKind::Kubernetes:
      return "kubernetes";
  }
  return "local";
}

void Flatten(const Value& value, const std::string& prefix, Attributes& attributes) {
  if (value.is_map() && !value.map().empty()) {
    for (const auto& [key, item] : value.map()) {
      Flatten(item, prefix.empty() ? key : prefix + "." + key, attributes);
    }
    return;
  }
  if (value.is_list() && !value.list().empty()) {
    for (std::size_t i = 0; i < value.list().size(); ++i) {
      Flatten(value.list()[i], fmt::format("{}[{}]", prefix, i), attributes);
    }
    return;
  }
  // Scalars, and empty maps and lists ("emptyDir: {}" means something).
  attributes[prefix] = support::ToCanonicalJson(value);
}

auto MakeResource(std::string address, const Value& document, std::vector<std::string> depends_on,
                  diag::Location location) -> Resource {
  Resource resource;
  resource.type = Type(address);
  resource.address = std::move(address);
  if (!document.is_null()) Flatten(document, "", resource.attributes);
  resource.depends_on = std::move(depends_on);
  resource.location = std::move(location);
  return resource;
}

auto HashAttributes(std::string_view type, const Attributes& attributes) -> std::string {
  Map fields;
  for (const auto& [field, value] : attributes) fields.emplace(field, value);
  return support::Sha256Hex(
      support::ToCanonicalJson(Value::Object({{"type", type}, {"attributes", Value(fields)}})));
}

auto DesiredResources(const ir::Project& project, const render::RenderResult& rendered,
                      ExecutorKind executor) -> Desired {
  Desired desired;
  desired.project = project.name;
  desired.executor = executor;
  AddClusters(project, desired.resources);
  if (executor == ExecutorKind::Local) {
    AddLocal(project, rendered, desired.resources);
  } else {
    AddKubernetes(project, rendered, desired.resources);
  }
  std::sort(desired.resources.begin(), desired.resources.end(),
            [](const Resource& a, const Resource& b) { return a.address < b.address; });
  std::string inputs;
  for (Resource& resource : desired.resources) {
    resource.hash = HashAttributes(resource.type, resource.attributes);
    inputs += resource.address;
    inputs += '\0';
    inputs += resource.hash;
    inputs += '\n';
  }
  desired.inputs_sha256 = support::Sha256Hex(inputs);
  return desired;
}

auto FindResource(const Desired& desired, std::string_view address) -> const Resource* {
  auto it = std::lower_bound(
      desired.resources.begin(), desired.resources.end(), address,
      [](const Resource& resource, std::string_view key) { return resource.address < key; });
  if (it == desired.resources.end() || it->address != address) return nullptr;
  return &*it;
}

}  // namespace ferry::plan

#include "compiler/render/kubernetes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "compiler/render/kubernetes_objects.h"
#include "compiler/render/names.h"
#include "compiler/support/sha256.h"

namespace ferry::render {
namespace kube {

auto Emit(ClusterContext& context, std::string_view kind, Value object) -> bool {
  const std::string name = object["metadata"]["name"].string();
  const std::optional<std::string> api = context.catalog.ApiVersion(kind, context.kube_version);
  if (!api) {
    if (context.unserved_kinds.insert(std::string(kind)).second) {
      std::string served;
      for (const catalog::KubeApi& candidate : context.catalog.ApiVersions(kind)) {
        served += served.empty() ? "" : ", ";
        served += candidate.max ? fmt::format("{} by {}.{} .. {}.{}", candidate.api_version,
                                              candidate.min.major, candidate.min.minor,
                                              candidate.max->major, candidate.max->minor)
                                : fmt::format("{} by {}.{} and later", candidate.api_version,
                                              candidate.min.major, candidate.min.minor);
      }
      context.sink.Add(
          diag::Code::kKindNotServed, context.cluster.origin.At("kubernetes_version"),
          context.cluster.origin.PathOf("kubernetes_version"),
          fmt::format("cluster '{}' declares Kubernetes {}, which serves no API version of {} "
                      "({}); no {} is written for this cluster (the first was '{}')",
                      context.cluster.name, context.cluster.kubernetes_version, kind,
                      served.empty() ? "ferry's catalog lists none" : "served: " + served, kind,
                      name));
    }
    return false;
  }
  object["apiVersion"] = *api;
  object["kind"] = kind;
  std::string lower;
  for (char c : kind) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  context.files.push_back(RenderedFile{
      .path = fmt::format("kubernetes/{}/{}-{}.yaml", context.cluster.name, lower, name),
      .contents = ToYaml(object),
  });
  return true;
}

auto Metadata(const ClusterContext& context, std::string_view name, const Map& labels) -> Value {
  Value metadata;
  metadata["name"] = name;
  metadata["namespace"] = context.ns;
  metadata["labels"] = labels;
  return metadata;
}

namespace {

auto CommonLabels(const ClusterContext& context) -> Map {
  const std::string project = DnsLabel({context.project.name});
  return Map{
      {"app.kubernetes.io/part-of", Value(project)},
      {"app.kubernetes.io/managed-by", Value("ferry")},
      {"ferry.dev/project", Value(project)},
      {"ferry.dev/cluster", Value(context.cluster_label)},
  };
}

}  // namespace

auto ModelLabels(const ClusterContext& context, const ModelUnit& unit) -> Map {
  Map labels = CommonLabels(context);
  labels["app.kubernetes.io/name"] = DnsLabel({unit.endpoint->name});
  labels["app.kubernetes.io/instance"] = unit.name;
  labels["app.kubernetes.io/version"] = DnsLabel({unit.version->name});
  labels["app.kubernetes.io/component"] = "model";
  return labels;
}

auto RouterLabels(const ClusterContext& context) -> Map {
  Map labels = CommonLabels(context);
  labels["app.kubernetes.io/name"] = kRouterName;
  labels["app.kubernetes.io/instance"] = kRouterName;
  labels["app.kubernetes.io/version"] = kFerryVersion;
  labels["app.kubernetes.io/component"] = "router";
  return labels;
}

auto SelectorOf(const Map& labels) -> Map {
  Map selector;
  for (const char* key :
       {"app.kubernetes.io/instance", "app.kubernetes.io/component", "ferry.dev/project"}) {
    if (auto it = labels.find(key); it != labels.end()) selector.emplace(key, it->second);
  }
  return selector;
}

auto CpuQuantity(double cores) -> std::string {
  const auto millicores = std::max<std::int64_t>(1, std::llround(cores * 1000));
  if (millicores % 1000 == 0) return std::to_string(millicores / 1000);
  return std::to_string(millicores) + "m";
}

auto MemoryQuantity(double gigabytes) -> std::string {
  const auto mebibytes = std::max<std::int64_t>(1, std::llround(gigabytes * 1024));
  if (mebibytes % 1024 == 0) return std::to_string(mebibytes / 1024) + "Gi";
  return std::to_string(mebibytes) + "Mi";
}

auto PodSecurityContext() -> Value {
  return Value::Object({
      {"runAsNonRoot", true},
      {"runAsUser", kRunAsUser},
      {"runAsGroup", kRunAsUser},
      // Mounted Secrets are group-readable (0440), so the group must be ours.
      {"fsGroup", kRunAsUser},
  });
}

auto ContainerSecurityContext() -> Value {
  return Value::Object({
      {"runAsNonRoot", true},
      {"runAsUser", kRunAsUser},
      {"readOnlyRootFilesystem", true},
      {"allowPrivilegeEscalation", false},
      {"capabilities", Value::Object({{"drop", Value::Array({"ALL"})}})},
  });
}

auto HttpProbe(std::string_view path, std::string_view port, const ir::Probes& probes,
               bool liveness) -> Value {
  return Value::Object({
      {"httpGet", Value::Object({{"path", path}, {"port", port}})},
      {"periodSeconds", probes.period_seconds},
      {"initialDelaySeconds", probes.initial_delay_seconds},
      {"timeoutSeconds", probes.timeout_seconds},
      {"failureThreshold", probes.failure_threshold},
      // The API server accepts only 1 for a liveness probe's successThreshold.
      {"successThreshold", liveness ? std::int64_t{1} : probes.success_threshold},
  });
}

void EmitDisruptionBudget(ClusterContext& context, std::string_view name, const Map& labels) {
  Value budget;
  budget["metadata"] = Metadata(context, name, labels);
  budget["spec"]["maxUnavailable"] = 1;
  budget["spec"]["selector"]["matchLabels"] = SelectorOf(labels);
  Emit(context, "PodDisruptionBudget", std::move(budget));
}

auto ServiceHost(const ClusterContext& context, const ModelUnit& unit) -> std::string {
  return fmt::format("{}.{}.svc.cluster.local:{}", unit.name, context.ns, kModelPort);
}

namespace {

auto ImageOf(std::span<const ImageRef> images, const ir::Endpoint& endpoint,
             const ir::Version& version) -> const ImageRef* {
  for (const ImageRef& image : images) {
    if (image.endpoint == endpoint.name && image.version == version.name) return &image;
  }
  return nullptr;
}

// Whether every version of `endpoint` has its image in `images`.
auto HasImages(std::span<const ImageRef> images, const ir::Endpoint& endpoint) -> bool {
  return std::all_of(
      endpoint.versions.begin(), endpoint.versions.end(),
      [&](const ir::Version& version) { return ImageOf(images, endpoint, version) != nullptr; });
}

// The model versions on cluster `index`, in declaration order, each with a
// name unique among the cluster's Deployments: "<endpoint>-<version>", and
// when two would read the same ("a-b" + "c", "a" + "b-c", or the router's own
// name) each of them gets a hash of its endpoint and version appended.
auto UnitsOn(const ir::Project& project, ir::Index index, std::span<const ImageRef> images)
    -> std::vector<ModelUnit> {
  const ir::Cluster& cluster = project.clusters[static_cast<std::size_t>(index)];
  std::vector<ModelUnit> units;
  for (const ir::Endpoint& endpoint : project.endpoints) {
    // An endpoint with a version that has no image is left out whole, as one
    // whose traffic did not resolve: its split would name a version that cannot run.
    if (endpoint.cluster != index || !endpoint.traffic_resolved || !HasImages(images, endpoint)) {
      continue;
    }
    for (const ir::Version& version : endpoint.versions) {
      units.push_back(ModelUnit{
          .endpoint = &endpoint,
          .version = &version,
          .name = DnsLabel({endpoint.name, version.name}),
          .image = ImageOf(images, endpoint, version)->reference,
          .scaling = ScalingOf(cluster, version),
      });
    }
  }
  std::map<std::string, int, std::less<>> uses{{std::string(kRouterName), 1}};
  for (const ModelUnit& unit : units) ++uses[unit.name];
  for (ModelUnit& unit : units) {
    if (uses[unit.name] > 1) {
      const std::string hash =
          support::Sha256Hex(unit.endpoint->name + "/" + unit.version->name).substr(0, 8);
      unit.name = DnsLabel({unit.endpoint->name, unit.version->name, hash});
    }
  }
  return units;
}

void RenderNamespace(ClusterContext& context) {
  Map labels = CommonLabels(context);
  Value object;
  object["metadata"]["name"] = context.ns;
  object["metadata"]["labels"] = std::move(labels);
  Emit(context, "Namespace", std::move(object));
}

void RenderCluster(const ir::Project& project, const catalog::Catalog& catalog, ir::Index index,
                   std::span<const ImageRef> images, diag::Sink& sink,
                   std::vector<RenderedFile>& files) {
  const ir::Cluster& cluster = project.clusters[static_cast<std::size_t>(index)];
  const std::vector<ModelUnit> units = UnitsOn(project, index, images);
  if (units.empty()) return;
  const std::optional<catalog::KubeVersion> version =
      catalog::ParseKubeVersion(cluster.kubernetes_version);
  if (!version) {
    // The schema rejects such a version first; kept so that render never guesses.
    sink.Add(diag::Code::kKindNotServed, cluster.origin.At("kubernetes_version"),
             cluster.origin.PathOf("kubernetes_version"),
             fmt::format("cluster '{}' declares Kubernetes '{}', which is not a version; no "
                         "object is written for this cluster",
                         cluster.name, cluster.kubernetes_version));
    return;
  }
  ClusterContext context{
      .project = project,
      .catalog = catalog,
      .cluster = cluster,
      .kube_version = *version,
      .ns = DnsLabel({project.name}),
      .cluster_label = DnsLabel({cluster.name}),
      .sink = sink,
      .files = files,
      .unserved_kinds = {},
  };
  RenderNamespace(context);
  for (const ModelUnit& unit : units) RenderModel(context, unit);
  if (cluster.routing == ir::Routing::Gateway) {
    RenderGateway(context, units);
  } else {
    RenderRouter(context, units);
  }
}

}  // namespace
}  // namespace kube

auto RenderKubernetes(const ir::Project& project, const catalog::Catalog& catalog,
                      std::span<const ImageRef> images, diag::Sink& sink)
    -> std::vector<RenderedFile> {
  std::vector<RenderedFile> files;
  for (std::size_t i = 0; i < project.clusters.size(); ++i) {
    kube::RenderCluster(project, catalog, static_cast<ir::Index>(i), images, sink, files);
  }
  std::sort(files.begin(), files.end(),
            [](const RenderedFile& a, const RenderedFile& b) { return a.path < b.path; });
  return files;
}

}  // namespace ferry::render

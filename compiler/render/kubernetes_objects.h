// Internal to the Kubernetes renderer (kubernetes*.cc): what one cluster's
// objects share — its names, labels, quantities and the one function that
// writes an object with the API version the cluster serves.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/render/render.h"
#include "compiler/render/serving.h"
#include "compiler/support/value.h"

namespace ferry::render::kube {

inline constexpr std::int64_t kModelPort = 5001;
inline constexpr std::int64_t kRouterHttpPort = 8080;
inline constexpr std::int64_t kRouterHttpsPort = 8443;
inline constexpr std::string_view kRouterName = "ferry-router";
inline constexpr std::string_view kFerryVersion = "0.1.0";
/// The Gateway that HTTPRoutes attach to; the cluster's admin provides it.
inline constexpr std::string_view kGatewayName = "ferry";
/// Model and router containers run as this unprivileged user and group.
inline constexpr std::int64_t kRunAsUser = 10001;

/// One endpoint version on its cluster, with the names its objects use.
struct ModelUnit {
  const ir::Endpoint* endpoint = nullptr;
  const ir::Version* version = nullptr;
  std::string name;   ///< Deployment, Service, PDB and HPA name; unique per cluster
  std::string image;  ///< the image reference
  Scaling scaling;
};

/// One cluster being rendered: everything its objects are written with.
struct ClusterContext {
  const ir::Project& project;
  const catalog::Catalog& catalog;
  const ir::Cluster& cluster;
  catalog::KubeVersion kube_version;
  std::string ns;             ///< the project's namespace
  std::string cluster_label;  ///< the cluster's name as a label value
  diag::Sink& sink;
  std::vector<RenderedFile>& files;
  /// Kinds already reported as not served (one E0701 per kind and cluster).
  std::set<std::string, std::less<>> unserved_kinds;
};

/// Writes `object` as kubernetes/<cluster>/<kind>-<name>.yaml with apiVersion
/// and kind filled in. When the cluster's version serves no API version of
/// `kind`, reports E0701 (once per kind) and writes nothing; returns whether
/// it was written.
auto Emit(ClusterContext& context, std::string_view kind, Value object) -> bool;

/// metadata: name, namespace (unless empty) and labels.
auto Metadata(const ClusterContext& context, std::string_view name, const Map& labels) -> Value;

/// The app.kubernetes.io/* and ferry.dev/* labels of a model version's objects.
auto ModelLabels(const ClusterContext& context, const ModelUnit& unit) -> Map;
/// The same labels for the router's objects.
auto RouterLabels(const ClusterContext& context) -> Map;
/// The labels selectors use: only those that never change for an object
/// (instance, component, project), since a Deployment's selector is immutable.
auto SelectorOf(const Map& labels) -> Map;

/// Kubernetes quantities in exact units: 0.5 cores -> "500m", 2 -> "2";
/// 0.5 GB -> "512Mi", 1 -> "1Gi" (GB read as GiB).
auto CpuQuantity(double cores) -> std::string;
auto MemoryQuantity(double gigabytes) -> std::string;

/// The pod and container security settings every ferry container runs with:
/// non-root, read-only root filesystem, no privilege escalation, no capabilities.
auto PodSecurityContext() -> Value;
auto ContainerSecurityContext() -> Value;
/// An HTTP GET probe on the named port.
auto HttpProbe(std::string_view path, std::string_view port, const ir::Probes& probes,
               bool liveness) -> Value;
/// A PodDisruptionBudget named `name` letting one pod of `selector` go at a time.
void EmitDisruptionBudget(ClusterContext& context, std::string_view name, const Map& labels);
/// The in-cluster address of a model version's Service: "<svc>.<ns>.svc.cluster.local:5001".
auto ServiceHost(const ClusterContext& context, const ModelUnit& unit) -> std::string;

/// Per version: Deployment, Service, PodDisruptionBudget when replicas > 1.
void RenderModel(ClusterContext& context, const ModelUnit& unit);
/// routing: router — the router's Deployment, Service, ConfigMap, RBAC and
/// the NetworkPolicy that lets only it reach the model pods.
void RenderRouter(ClusterContext& context, const std::vector<ModelUnit>& units);
/// routing: gateway — an HTTPRoute per endpoint and an HPA per autoscaled version.
void RenderGateway(ClusterContext& context, const std::vector<ModelUnit>& units);

}  // namespace ferry::render::kube

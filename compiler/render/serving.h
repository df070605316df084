// How an endpoint and its versions are served, shared by every place that
// starts them: the Kubernetes renderer (Deployments, the router's routes,
// HPAs) and the plan's local resources (compiler/plan), so both executors
// serve the same path with the same auth, limits and scaling.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "compiler/ir/project.h"
#include "compiler/support/value.h"

namespace ferry::render {

/// How one version's replicas are scaled on its cluster.
struct Scaling {
  /// Whether an autoscaler (the router's, or an HPA in gateway mode) owns
  /// the replica count. Never on DEV_TEST clusters [004].
  bool autoscaled = false;
  /// The Deployment's spec.replicas: the autoscaler's minimum, else the fixed count.
  std::int64_t replicas = 1;
  std::int64_t min_replicas = 1;
  std::int64_t max_replicas = 1;
  /// Percent: autoscale.target_utilization, or hpa.cpu_utilization when the HPA is enabled.
  std::int64_t target_utilization = 70;
};

/// How an endpoint's callers authenticate, and the Secret holding the material.
struct AuthSecret {
  std::string mode;    ///< "key", "token" or "none"
  std::string secret;  ///< "<endpoint>-keys", "<endpoint>-token-signing"; empty for none
};

/// The auth mode and Secret name of `endpoint`.
auto AuthOf(const ir::Endpoint& endpoint) -> AuthSecret;

/// "/api/v1/service/<endpoint>", the scoring URI's prefix.
auto EndpointPath(const ir::Endpoint& endpoint) -> std::string;

/// The scaling of `version` on `cluster`: ferry's `autoscale`, else the `hpa`
/// settings, else (and always on DEV_TEST) the fixed replica count.
auto ScalingOf(const ir::Cluster& cluster, const ir::Version& version) -> Scaling;

/// Appends the `serve` flags of the limits the scoring server enforces
/// (issue 8) and its batching (issue 9) to `args`; model data is collected
/// under `collect_directory` when the version asks for it.
void AppendServeLimits(const ir::Version& version, std::string_view collect_directory,
                       support::List& args);

}  // namespace ferry::render

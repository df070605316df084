#include "compiler/render/serving.h"

#include <fmt/format.h>

#include <string>
#include <utility>

namespace ferry::render {

auto AuthOf(const ir::Endpoint& endpoint) -> AuthSecret {
  // Key and token together is E0401; render runs on checked projects only.
  if (endpoint.auth.token) return {"token", endpoint.name + "-token-signing"};
  if (endpoint.auth.key) return {"key", endpoint.name + "-keys"};
  return {"none", ""};
}

auto EndpointPath(const ir::Endpoint& endpoint) -> std::string {
  return "/api/v1/service/" + endpoint.name;
}

// One autoscaler per version (E0505 forbids two): ferry's `autoscale`, or the
// `hpa` settings. In router mode the router applies either (never an HPA
// object); in gateway mode an HPA does.
auto ScalingOf(const ir::Cluster& cluster, const ir::Version& version) -> Scaling {
  Scaling scaling;
  scaling.target_utilization = version.autoscale.target_utilization;
  // DEV_TEST clusters have no autoscaler [004]: the fixed count, always.
  if (cluster.purpose != ir::Purpose::DevTest) {
    if (version.autoscale.enabled) {
      scaling.autoscaled = true;
      scaling.min_replicas = version.autoscale.min_replicas;
      scaling.max_replicas = version.autoscale.max_replicas;
    } else if (version.hpa.enabled) {
      scaling.autoscaled = true;
      scaling.min_replicas = version.hpa.min_replicas;
      scaling.max_replicas = version.hpa.max_replicas;
      scaling.target_utilization = version.hpa.cpu_utilization;
    }
  }
  if (scaling.autoscaled) {
    scaling.replicas = scaling.min_replicas;
  } else {
    scaling.replicas = scaling.min_replicas = scaling.max_replicas = version.replicas;
  }
  return scaling;
}

// The concurrency limit is the autoscaler's: a replica over it answers 503,
// and the router sends the request elsewhere.
void AppendServeLimits(const ir::Version& version, std::string_view collect_directory,
                       support::List& args) {
  const auto flag = [&](std::string_view name, std::string value) {
    args.emplace_back(name);
    args.emplace_back(std::move(value));
  };
  flag("--max-concurrent", std::to_string(version.autoscale.max_concurrent_requests_per_replica));
  flag("--max-body-bytes", std::to_string(version.serving.max_body_bytes));
  flag("--request-timeout-ms", std::to_string(version.serving.request_timeout_ms));
  if (version.batching.enabled) {
    flag("--batch-max", std::to_string(version.batching.max_batch));
    flag("--batch-wait-ms", fmt::format("{:g}", version.batching.max_wait_ms));
  }
  if (version.serving.collect_data) flag("--collect-dir", std::string(collect_directory));
}

}  // namespace ferry::render

#include "compiler/ir/traffic.h"

#include <algorithm>
#include <cmath>

namespace ferry::ir {
namespace {

// Shares are written in decimal: 33.3 + 33.3 + 33.4 must not count as over 100.
constexpr double kTolerance = 1e-9;

auto CountMarked(const Endpoint& endpoint) -> std::size_t {
  std::size_t count = 0;
  for (const Version& version : endpoint.versions) count += version.is_default ? 1 : 0;
  return count;
}

// The first version marked default, else the first version.
auto PickDefault(const Endpoint& endpoint) -> Index {
  for (std::size_t i = 0; i < endpoint.versions.size(); ++i) {
    if (endpoint.versions[i].is_default) return static_cast<Index>(i);
  }
  return 0;
}

auto ValidShare(double traffic) -> bool {
  return std::isfinite(traffic) && traffic >= 0 && traffic <= 100;
}

}  // namespace

void ResolveTraffic(Endpoint& endpoint) {
  endpoint.traffic_resolved = false;
  endpoint.default_version = kNone;
  for (Version& version : endpoint.versions) version.resolved_traffic = 0;
  if (endpoint.versions.empty()) return;

  const Index chosen = PickDefault(endpoint);
  endpoint.default_version = chosen;
  // Several marks are E0204: keep them as written so the check sees them.
  if (CountMarked(endpoint) > 1) return;
  endpoint.versions[static_cast<std::size_t>(chosen)].is_default = true;
  double sum = 0;
  for (const Version& version : endpoint.versions) {
    if (!ValidShare(version.traffic)) return;
    sum += version.traffic;
  }
  if (sum > 100 + kTolerance) return;

  for (Version& version : endpoint.versions) version.resolved_traffic = version.traffic;
  endpoint.versions[static_cast<std::size_t>(chosen)].resolved_traffic += std::max(0.0, 100 - sum);
  endpoint.traffic_resolved = true;
}

}  // namespace ferry::ir

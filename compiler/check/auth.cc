// Authentication rules: key or token (not both), token issuing per region,
// and open endpoints on production clusters.
#include <fmt/format.h>

#include "compiler/check/rules.h"

namespace ferry::check {
namespace {

void CheckKeyAndToken(const Context& context, const ir::Endpoint& endpoint) {
  if (!endpoint.auth.key || !endpoint.auth.token) return;
  context.sink.Add(diag::Code::kKeyAndToken, endpoint.origin.At("auth"),
                   endpoint.origin.PathOf("auth"),
                   fmt::format("endpoint '{}' enables both key and token authentication; they are "
                               "alternatives, so choose one (auth: key or auth: token)",
                               endpoint.name));
}

void CheckTokenRegion(const Context& context, const ir::Endpoint& endpoint,
                      const ir::Cluster& cluster) {
  const std::string& workspace_region = context.project.workspace.region;
  if (!endpoint.auth.token || workspace_region.empty() || cluster.region.empty() ||
      cluster.region == workspace_region) {
    return;
  }
  diag::Diagnostic& d = context.sink.Add(
      diag::Code::kTokenRegion, endpoint.origin.At("auth"), endpoint.origin.PathOf("auth"),
      fmt::format("endpoint '{}' uses token authentication, but its cluster '{}' is in {} and the "
                  "workspace in {}; tokens are issued by the workspace's region, so put both in "
                  "one region or use key authentication",
                  endpoint.name, cluster.name, cluster.region, workspace_region));
  d.notes.push_back({fmt::format("the region of cluster '{}' is set here", cluster.name),
                     cluster.origin.At("region")});
}

void CheckAuthOff(const Context& context, const ir::Endpoint& endpoint,
                  const ir::Cluster& cluster) {
  if (endpoint.auth.key || endpoint.auth.token || cluster.purpose != ir::Purpose::FastProd) {
    return;
  }
  context.sink.Add(diag::Code::kAuthOffInProduction, endpoint.origin.At("auth"),
                   endpoint.origin.PathOf("auth"),
                   fmt::format("endpoint '{}' turns authentication off on FAST_PROD cluster '{}', "
                               "so anyone who reaches it can score; use auth: key or auth: token",
                               endpoint.name, cluster.name));
}

}  // namespace

void CheckAuth(const Context& context) {
  for (const ir::Endpoint& endpoint : context.project.endpoints) {
    CheckKeyAndToken(context, endpoint);
    const ir::Cluster* cluster = ClusterOf(context, endpoint);
    if (cluster == nullptr) continue;
    CheckTokenRegion(context, endpoint, *cluster);
    CheckAuthOff(context, endpoint, *cluster);
  }
}

}  // namespace ferry::check

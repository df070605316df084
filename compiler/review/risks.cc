// Risk flags: the changes that pass every check yet can hurt a running
// service, so a reviewer must see them first. Only declarations present on
// both sides are judged: a new endpoint has no clients to lose.
#include <algorithm>
#include <string>
#include <vector>

#include "compiler/review/compare.h"

namespace ferry::review::detail {
namespace {

/// The fewest replicas a version may run, and the setting that says so
/// (render's scaling rule: DEV_TEST has no autoscaler; autoscale, else hpa,
/// else the fixed count).
auto MinReplicas(const ir::Cluster* cluster, const ir::Version& version)
    -> std::pair<std::int64_t, std::string> {
  const bool dev_test = cluster != nullptr && cluster->purpose == ir::Purpose::DevTest;
  if (!dev_test && version.autoscale.enabled) {
    return {version.autoscale.min_replicas, "autoscale.min_replicas"};
  }
  if (!dev_test && version.hpa.enabled) return {version.hpa.min_replicas, "hpa.min_replicas"};
  return {version.replicas, "replicas"};
}

/// Whether `version` (by its BASE name) received traffic in BASE.
auto Served(const ir::Endpoint& endpoint, const ir::Version& version) -> bool {
  return endpoint.traffic_resolved && version.resolved_traffic > 0 &&
         !SameShare(version.resolved_traffic, 0);
}

struct EndpointPair {
  const ir::Endpoint& base;
  const ir::Endpoint& head;
  const ir::Cluster* base_cluster;
  const ir::Cluster* head_cluster;
  /// BASE version name -> HEAD version name, for the versions HEAD keeps.
  std::map<std::string, std::string> kept;
};

void NewVersionServes(const EndpointPair& pair, std::vector<Risk>& risks) {
  if (!pair.head.traffic_resolved) return;
  std::map<std::string, std::string> head_to_base;
  for (const auto& [old_name, new_name] : pair.kept) head_to_base[new_name] = old_name;
  for (const ir::Version& version : pair.head.versions) {
    if (!Served(pair.head, version)) continue;
    auto old_name = head_to_base.find(version.name);
    const ir::Version* old =
        old_name == head_to_base.end() ? nullptr : FindVersion(pair.base, old_name->second);
    // An unresolved BASE split says nothing about a version BASE declared.
    if (old != nullptr && (!pair.base.traffic_resolved || Served(pair.base, *old))) continue;
    risks.push_back({.kind = RiskKind::NewVersionServes,
                     .subject = "endpoint " + pair.head.name,
                     .message = "version " + version.name + " receives " +
                                Percent(version.resolved_traffic) + " of the requests to '" +
                                pair.head.name + "' and has never served before",
                     .location = version.origin.location});
  }
}

void AuthDisabled(const EndpointPair& pair, std::vector<Risk>& risks) {
  const bool was_on = pair.base.auth.key || pair.base.auth.token;
  const bool is_on = pair.head.auth.key || pair.head.auth.token;
  if (!was_on || is_on) return;
  risks.push_back({.kind = RiskKind::AuthDisabled,
                   .subject = "endpoint " + pair.head.name,
                   .message = "authentication is turned off: anyone who can reach '" +
                              pair.head.name + "' can score",
                   .location = pair.head.origin.At("auth")});
}

void CapacityToZero(const EndpointPair& pair, std::vector<Risk>& risks) {
  const std::string subject = "endpoint " + pair.head.name;
  std::vector<std::string> serving;
  bool kept_serving = false;
  for (const ir::Version& version : pair.base.versions) {
    if (!Served(pair.base, version)) continue;
    serving.push_back(version.name);
    kept_serving = kept_serving || pair.kept.contains(version.name);
  }
  if (pair.head.versions.empty() && !pair.base.versions.empty()) {
    risks.push_back({.kind = RiskKind::CapacityToZero,
                     .subject = subject,
                     .message = "every version of '" + pair.head.name +
                                "' is removed: the endpoint serves nothing",
                     .location = pair.head.origin.location});
  } else if (!serving.empty() && !kept_serving) {
    std::string names;
    for (const std::string& name : serving) names += (names.empty() ? "" : ", ") + name;
    risks.push_back({.kind = RiskKind::CapacityToZero,
                     .subject = subject,
                     .message = "every version that served '" + pair.head.name +
                                "' is replaced at once (" + names +
                                "): nothing serves until the new versions are ready",
                     .location = pair.head.origin.location});
  }
  std::map<std::string, std::string> head_to_base;
  for (const auto& [old_name, new_name] : pair.kept) head_to_base[new_name] = old_name;
  for (const ir::Version& version : pair.head.versions) {
    const auto [replicas, setting] = MinReplicas(pair.head_cluster, version);
    if (replicas > 0 || !Served(pair.head, version)) continue;
    auto old_name = head_to_base.find(version.name);
    const ir::Version* old =
        old_name == head_to_base.end() ? nullptr : FindVersion(pair.base, old_name->second);
    // Already allowed to reach zero in BASE: not this change's doing.
    if (old != nullptr && MinReplicas(pair.base_cluster, *old).first <= 0) continue;
    risks.push_back({.kind = RiskKind::CapacityToZero,
                     .subject = subject,
                     .message = "version " + version.name + " may run 0 replicas (" + setting +
                                " 0) while it receives " + Percent(version.resolved_traffic),
                     .location = version.origin.At(setting.substr(0, setting.find('.')))});
  }
}

}  // namespace

auto FindRisks(const ir::Project& base, const ir::Project& head, const Renames& renames)
    -> std::vector<Risk> {
  std::vector<Risk> risks;
  for (const ir::Cluster& cluster : head.clusters) {
    const ir::Cluster* old = FindCluster(base, cluster.name);
    if (old == nullptr || old->vm_size == cluster.vm_size) continue;
    risks.push_back({.kind = RiskKind::VmSizeChanged,
                     .subject = "cluster " + cluster.name,
                     .message = "VM size changes " + old->vm_size + " → " + cluster.vm_size +
                                ": a cluster's nodes cannot be resized, only agent_count may "
                                "change (create a new cluster and move the endpoints)",
                     .location = cluster.origin.At("vm_size")});
  }
  std::map<std::string, std::string> head_to_base;
  for (const ir::Endpoint& e : head.endpoints) head_to_base[e.name] = e.name;
  for (const auto& [old_name, new_name] : renames.endpoints) head_to_base[new_name] = old_name;
  for (const ir::Endpoint& endpoint : head.endpoints) {
    const ir::Endpoint* old = FindEndpoint(base, head_to_base[endpoint.name]);
    if (old == nullptr) continue;
    EndpointPair pair{.base = *old,
                      .head = endpoint,
                      .base_cluster = FindCluster(base, old->cluster_name),
                      .head_cluster = FindCluster(head, endpoint.cluster_name),
                      .kept = {}};
    auto version_renames = renames.versions.find(endpoint.name);
    for (const ir::Version& version : old->versions) {
      std::string name = version.name;
      if (version_renames != renames.versions.end()) {
        auto renamed = version_renames->second.find(name);
        if (renamed != version_renames->second.end()) name = renamed->second;
      }
      if (FindVersion(endpoint, name) != nullptr) pair.kept[version.name] = name;
    }
    NewVersionServes(pair, risks);
    AuthDisabled(pair, risks);
    CapacityToZero(pair, risks);
  }
  std::stable_sort(risks.begin(), risks.end(), [](const Risk& a, const Risk& b) {
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.subject != b.subject) return a.subject < b.subject;
    return a.message < b.message;
  });
  return risks;
}

}  // namespace ferry::review::detail

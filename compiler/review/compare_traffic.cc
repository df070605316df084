// The resolved traffic split compared per endpoint: only the figures a
// reviewer must read (shares that moved, default and control changes).
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "compiler/review/compare.h"

namespace ferry::review::detail {
namespace {

auto Share(const ir::Endpoint* endpoint, std::string_view version) -> std::optional<double> {
  if (endpoint == nullptr || !endpoint->traffic_resolved) return std::nullopt;
  for (const ir::Version& v : endpoint->versions) {
    if (v.name == version) return v.resolved_traffic;
  }
  return std::nullopt;
}

auto DefaultName(const ir::Endpoint* endpoint) -> std::string {
  if (endpoint == nullptr || endpoint->default_version == ir::kNone) return "";
  return endpoint->versions[static_cast<std::size_t>(endpoint->default_version)].name;
}

auto ControlName(const ir::Endpoint* endpoint) -> std::string {
  if (endpoint == nullptr) return "";
  for (const ir::Version& version : endpoint->versions) {
    if (version.role == ir::Role::Control) return version.name;
  }
  return "";
}

auto Changed(const TrafficShare& share) -> bool {
  if (share.before.has_value() != share.after.has_value()) return true;
  return share.before.has_value() && !SameShare(*share.before, *share.after);
}

/// One endpoint's change; `renames` maps its BASE version names to HEAD's.
auto CompareEndpoint(const std::string& name, const ir::Endpoint* base, const ir::Endpoint* head,
                     const std::map<std::string, std::string>& renames)
    -> std::optional<TrafficChange> {
  auto in_head_terms = [&](const std::string& version) {
    auto renamed = renames.find(version);
    return renamed == renames.end() ? version : renamed->second;
  };
  TrafficChange change;
  change.endpoint = name;
  change.base_present = base != nullptr;
  change.head_present = head != nullptr;
  change.base_resolved = base != nullptr && base->traffic_resolved;
  change.head_resolved = head != nullptr && head->traffic_resolved;
  change.default_before = in_head_terms(DefaultName(base));
  change.default_after = DefaultName(head);
  change.control_before = in_head_terms(ControlName(base));
  change.control_after = ControlName(head);
  std::map<std::string, std::string> versions;  // HEAD name -> BASE name
  if (base != nullptr) {
    for (const ir::Version& v : base->versions) versions[in_head_terms(v.name)] = v.name;
  }
  if (head != nullptr) {
    for (const ir::Version& v : head->versions) versions.try_emplace(v.name, "");
  }
  for (const auto& [head_name, base_name] : versions) {
    TrafficShare share;
    share.version = head_name;
    if (!base_name.empty() && base_name != head_name) share.old_version = base_name;
    share.before = base_name.empty() ? std::nullopt : Share(base, base_name);
    share.after = Share(head, head_name);
    if (Changed(share)) change.shares.push_back(std::move(share));
  }
  // A new or removed endpoint's default and control are not moves.
  const bool both = base != nullptr && head != nullptr;
  if (!both) {
    change.default_before = change.default_after = "";
    change.control_before = change.control_after = "";
  }
  const bool moved = change.default_before != change.default_after ||
                     change.control_before != change.control_after ||
                     change.base_resolved != change.head_resolved;
  if (change.shares.empty() && !moved) return std::nullopt;
  return change;
}

}  // namespace

auto CompareTraffic(const ir::Project& base, const ir::Project& head, const Renames& renames)
    -> std::vector<TrafficChange> {
  std::map<std::string, std::string> head_to_base;
  for (const auto& [old_name, new_name] : renames.endpoints) head_to_base[new_name] = old_name;
  std::vector<TrafficChange> changes;
  for (const ir::Endpoint& endpoint : head.endpoints) {
    auto renamed = head_to_base.find(endpoint.name);
    const std::string base_name = renamed == head_to_base.end() ? endpoint.name : renamed->second;
    auto versions = renames.versions.find(endpoint.name);
    static const std::map<std::string, std::string> kNoRenames;
    std::optional<TrafficChange> change =
        CompareEndpoint(endpoint.name, FindEndpoint(base, base_name), &endpoint,
                        versions == renames.versions.end() ? kNoRenames : versions->second);
    if (change) changes.push_back(std::move(*change));
  }
  for (const ir::Endpoint& endpoint : base.endpoints) {
    if (FindEndpoint(head, endpoint.name) != nullptr || renames.endpoints.contains(endpoint.name)) {
      continue;
    }
    std::optional<TrafficChange> change = CompareEndpoint(endpoint.name, &endpoint, nullptr, {});
    if (change) changes.push_back(std::move(*change));
  }
  std::sort(changes.begin(), changes.end(),
            [](const TrafficChange& a, const TrafficChange& b) { return a.endpoint < b.endpoint; });
  return changes;
}

}  // namespace ferry::review::detail

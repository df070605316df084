// MakePlan: the desired resources against the recorded state. A resource is
// created when the state lacks it, deleted when the manifest no longer asks
// for it, updated when fields changed, and replaced when a changed field
// cannot change in place (or the last apply left it tainted).
#include "compiler/plan/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace ferry::plan {
namespace {

/// The scalar a canonical attribute text holds, for messages: strings unquoted.
auto Unquoted(std::string_view text) -> std::string {
  const nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
  if (value.is_string()) return value.get<std::string>();
  return std::string(text);
}

// The object kind of an "object.<cluster>.<Kind>.<name>" resource.
auto KindOf(std::string_view address, const Attributes& attributes) -> std::string {
  if (auto it = attributes.find("kind"); it != attributes.end()) return Unquoted(it->second);
  std::size_t first = address.find('.');
  std::size_t second = first == std::string_view::npos ? first : address.find('.', first + 1);
  std::size_t third = second == std::string_view::npos ? second : address.find('.', second + 1);
  if (third == std::string_view::npos) return {};
  return std::string(address.substr(second + 1, third - second - 1));
}

/// Why a change of `field` cannot be made in place; empty when it can.
auto ReplacementReason(std::string_view type, std::string_view kind, std::string_view field)
    -> std::string_view {
  if (type == "bundle" && field == "sha256") return "new bundle content";
  if (type == "version" && field == "bundle") {
    return "the bundle changed: the new revision starts beside the old one and takes over once "
           "ready";
  }
  if (type == "secret" && field == "mode") {
    return "the auth mode changed: new key material replaces the old";
  }
  if (type == "router" && field == "host") return "the router's listen address changed";
  if (type == "object" && kind == "Deployment" && field.starts_with("spec.selector.")) {
    return "a Deployment's spec.selector is immutable: it is deleted and created again";
  }
  return {};
}

constexpr std::string_view kTaintedReason = "tainted: it failed during the last apply";

// Both sides are sorted by field: one merge.
auto Diff(const Attributes& before, const Attributes& after) -> std::vector<FieldChange> {
  std::vector<FieldChange> changes;
  auto old_it = before.begin();
  auto new_it = after.begin();
  while (old_it != before.end() || new_it != after.end()) {
    if (new_it == after.end() || (old_it != before.end() && old_it->first < new_it->first)) {
      changes.push_back({.field = old_it->first, .before = old_it->second, .after = {}});
      ++old_it;
    } else if (old_it == before.end() || new_it->first < old_it->first) {
      changes.push_back({.field = new_it->first, .before = {}, .after = new_it->second});
      ++new_it;
    } else {
      if (old_it->second != new_it->second) {
        changes.push_back(
            {.field = old_it->first, .before = old_it->second, .after = new_it->second});
      }
      ++old_it;
      ++new_it;
    }
  }
  return changes;
}

// Kahn's algorithm, always taking the smallest ready address, so the order is
// the same on every run. Dependencies outside `resources` are already there
// (or are planned elsewhere) and do not hold anything back.
auto TopologicalOrder(const std::vector<Resource>& resources) -> std::vector<const Resource*> {
  std::map<std::string_view, const Resource*> by_address;
  for (const Resource& resource : resources) by_address.emplace(resource.address, &resource);
  std::map<std::string_view, std::size_t> waiting;
  std::map<std::string_view, std::vector<std::string_view>> dependents;
  for (const Resource& resource : resources) {
    std::set<std::string_view> needs;
    for (const std::string& need : resource.depends_on) {
      if (need != resource.address && by_address.contains(need)) needs.insert(need);
    }
    waiting[resource.address] = needs.size();
    for (std::string_view need : needs) dependents[need].push_back(resource.address);
  }
  std::set<std::string_view> ready;
  for (const auto& [address, count] : waiting) {
    if (count == 0) ready.insert(address);
  }
  std::vector<const Resource*> order;
  while (!ready.empty()) {
    const std::string_view address = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(by_address[address]);
    for (std::string_view dependent : dependents[address]) {
      if (--waiting[dependent] == 0) ready.insert(dependent);
    }
  }
  // A cycle (never made by DesiredResources): the rest by address, not lost.
  if (order.size() < resources.size()) {
    for (const auto& [address, count] : waiting) {
      if (count > 0) order.push_back(by_address[address]);
    }
  }
  return order;
}

// Deleted resources have no depends_on of their own: their type says what
// goes first. Lower goes earlier: whatever routes to a thing before the
// thing, what runs in a namespace before the namespace, the cluster last.
auto DeleteRank(const ResourceState& resource) -> int {
  const std::string_view type = resource.type;
  if (type == "traffic") return 0;
  if (type == "version") return 1;
  if (type == "bundle" || type == "router" || type == "secret") return 6;
  if (type == "cluster") return 8;
  if (type != "object") return 5;
  const std::string kind = KindOf(resource.address, resource.attributes);
  if (kind == "HTTPRoute" || kind == "ConfigMap") return 0;
  if (kind == "HorizontalPodAutoscaler" || kind == "PodDisruptionBudget") return 1;
  if (kind == "Deployment") return 2;
  if (kind == "RoleBinding") return 4;
  if (kind == "Role" || kind == "ServiceAccount") return 5;
  if (kind == "Namespace") return 7;
  return 3;
}

auto SameOwner(const Plan& plan, const State& state) -> bool {
  return (state.project.empty() || state.project == plan.project) &&
         (state.executor.empty() || state.executor == plan.executor);
}

void ReportOtherOwner(const ir::Project& project, const Plan& plan, const State& state,
                      diag::Sink& sink) {
  sink.Add(diag::Code::kStateOfAnotherProject, project.origin.At("project"), "project",
           fmt::format("the recorded state here belongs to project '{}' (executor {}), but this "
                       "manifest is project '{}' (executor {}); nothing is planned against it. "
                       "Use another folder for this project, or run `ferry destroy` with the old "
                       "project's manifest first",
                       state.project, state.executor.empty() ? "unknown" : state.executor,
                       plan.project, plan.executor));
}

auto FindCluster(const ir::Project& project, std::string_view address) -> const ir::Cluster* {
  for (const ir::Cluster& cluster : project.clusters) {
    if (address == "cluster." + cluster.name) return &cluster;
  }
  return nullptr;
}

// A cluster's nodes keep the size they were created with [000]: an error at
// the manifest's vm_size, never a replace that would delete the cluster.
auto VmSizeChanged(const ir::Project& project, const Resource& desired, const ResourceState& prior,
                   diag::Sink& sink) -> bool {
  auto before = prior.attributes.find("vm_size");
  auto after = desired.attributes.find("vm_size");
  if (before == prior.attributes.end() || after == desired.attributes.end() ||
      before->second == after->second) {
    return false;
  }
  const ir::Cluster* cluster = FindCluster(project, desired.address);
  const std::string name = desired.address.substr(desired.address.find('.') + 1);
  sink.Add(diag::Code::kVmSizeInPlace,
           cluster != nullptr ? cluster->origin.At("vm_size") : desired.location,
           cluster != nullptr ? cluster->origin.PathOf("vm_size") : "clusters." + name + ".vm_size",
           fmt::format("cluster '{}' was applied with vm_size {}; a cluster's VM size cannot "
                       "change in place, only its agent_count. Create a new cluster (a new "
                       "name) with the new size and move the endpoints to it",
                       name, Unquoted(before->second)));
  return true;
}

// The action taking `prior` to `desired`, or nullopt when nothing changes.
auto ChangeAction(const Resource& desired, const ResourceState& prior) -> std::optional<Action> {
  Action action{.kind = ActionKind::Update,
                .address = desired.address,
                .type = desired.type,
                .changes = Diff(prior.attributes, desired.attributes),
                .reason = {},
                .desired = desired,
                .prior = prior};
  if (action.changes.empty() && prior.hash == desired.hash && !prior.tainted) return std::nullopt;
  const std::string kind = KindOf(desired.address, desired.attributes);
  for (FieldChange& change : action.changes) {
    const std::string_view reason = ReplacementReason(desired.type, kind, change.field);
    if (reason.empty()) continue;
    change.forces_replacement = true;
    if (action.reason.empty()) action.reason = reason;
  }
  if (prior.tainted) action.reason = kTaintedReason;
  if (!action.reason.empty()) action.kind = ActionKind::Replace;
  return action;
}

}  // namespace

auto ToString(ActionKind kind) -> std::string_view {
  switch (kind) {
    case ActionKind::Create:
      return "create";
    case ActionKind::Update:
      return "update";
    case ActionKind::Replace:
      return "replace";
    case ActionKind::Delete:
      return "delete";
  }
  return "create";
}

auto Plan::Counts(ActionKind kind) const -> std::size_t {
  return static_cast<std::size_t>(std::count_if(
      actions.begin(), actions.end(), [&](const Action& action) { return action.kind == kind; }));
}

auto MakePlan(const ir::Project& project, const Desired& desired, const State& state,
              diag::Sink& sink) -> Plan {
  Plan plan;
  plan.project = desired.project;
  plan.executor = std::string(ToString(desired.executor));
  plan.state_lineage = state.lineage;
  plan.state_serial = state.serial;
  plan.inputs_sha256 = desired.inputs_sha256;
  if (!SameOwner(plan, state)) {
    ReportOtherOwner(project, plan, state, sink);
    return plan;
  }
  for (const Resource* resource : TopologicalOrder(desired.resources)) {
    const ResourceState* prior = state.Find(resource->address);
    if (prior == nullptr) {
      plan.actions.push_back(Action{.kind = ActionKind::Create,
                                    .address = resource->address,
                                    .type = resource->type,
                                    .changes = {},
                                    .reason = {},
                                    .desired = *resource,
                                    .prior = std::nullopt});
      continue;
    }
    if (resource->type == "cluster" && VmSizeChanged(project, *resource, *prior, sink)) continue;
    if (std::optional<Action> action = ChangeAction(*resource, *prior)) {
      plan.actions.push_back(std::move(*action));
    }
  }
  std::vector<const ResourceState*> gone;
  for (const ResourceState& resource : state.resources) {
    if (FindResource(desired, resource.address) == nullptr) gone.push_back(&resource);
  }
  std::stable_sort(gone.begin(), gone.end(), [](const ResourceState* a, const ResourceState* b) {
    const int rank_a = DeleteRank(*a);
    const int rank_b = DeleteRank(*b);
    return rank_a != rank_b ? rank_a < rank_b : a->address < b->address;
  });
  for (const ResourceState* resource : gone) {
    plan.actions.push_back(Action{.kind = ActionKind::Delete,
                                  .address = resource->address,
                                  .type = resource->type,
                                  .changes = {},
                                  .reason = {},
                                  .desired = std::nullopt,
                                  .prior = *resource});
  }
  return plan;
}

auto SummaryLine(const Plan& plan) -> std::string {
  return fmt::format("Plan: {} to create, {} to update, {} to replace, {} to delete.",
                     plan.Counts(ActionKind::Create), plan.Counts(ActionKind::Update),
                     plan.Counts(ActionKind::Replace), plan.Counts(ActionKind::Delete));
}

}  // namespace ferry::plan

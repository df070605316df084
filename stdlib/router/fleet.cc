#include "router/fleet.h"

#include <algorithm>
#include <map>
#include <utility>

namespace ferry::router {
namespace {

// How many replicas a version runs without the autoscaler's say: the
// autoscaler's bounds applied to `current` (min_replicas when it is off).
auto Bounded(const AutoscalerSettings& settings, std::int64_t current) -> std::int64_t {
  if (!settings.enabled) return settings.min_replicas;
  return std::clamp(current, settings.min_replicas, settings.max_replicas);
}

}  // namespace

auto ReadyCount(const ReplicaSet& set) -> std::int64_t {
  std::int64_t ready = 0;
  for (const Replica& replica : set.Replicas()) ready += replica.ready ? 1 : 0;
  return ready;
}

Fleet::Fleet(ReplicaFactory factory, const Clock& clock)
    : factory_(std::move(factory)), clock_(clock) {}

auto Fleet::Start(const Routes& routes, const EndpointRoute& endpoint, const VersionRoute& version,
                  std::int64_t replicas, std::string& error) -> std::shared_ptr<RevisionReplicas> {
  auto started = std::make_shared<RevisionReplicas>();
  started->revision = RevisionOf(version);
  started->replicas = factory_(routes.ns, endpoint, version, error);
  if (!started->replicas) return nullptr;
  started->autoscaler =
      std::make_unique<Autoscaler>(SettingsFor(routes.autoscaler, version.autoscale), clock_);
  started->replicas->Scale(replicas);
  return started;
}

auto Fleet::Apply(const Routes& routes, std::string& error) -> bool {
  std::map<std::pair<std::string, std::string>, const FleetVersion*> previous;
  for (const auto& versions : versions_) {
    for (const FleetVersion& version : versions) {
      previous[{version.endpoint, version.route.name}] = &version;
    }
  }
  std::vector<std::vector<FleetVersion>> next;
  for (const EndpointRoute& endpoint : routes.endpoints) {
    auto& row = next.emplace_back();
    for (const VersionRoute& route : endpoint.versions) {
      FleetVersion version{endpoint.name, route, nullptr, nullptr};
      const std::string revision = RevisionOf(route);
      const AutoscalerSettings settings = SettingsFor(routes.autoscaler, route.autoscale);
      const auto found = previous.find({endpoint.name, route.name});
      const FleetVersion* before = found == previous.end() ? nullptr : found->second;
      if (before == nullptr) {
        version.serving = Start(routes, endpoint, route, settings.min_replicas, error);
      } else if (before->serving->revision == revision) {
        // Unchanged (or rolled back): the serving processes stay; a starting
        // revision not named any more is dropped.
        version.serving = before->serving;
      } else {
        version.serving = before->serving;
        if (before->starting && before->starting->revision == revision) {
          version.starting = before->starting;
        } else {
          // The new revision starts with the capacity the serving one has now.
          version.starting = Start(routes, endpoint, route,
                                   Bounded(settings, before->serving->replicas->Desired()), error);
          if (!version.starting) version.serving = nullptr;
        }
      }
      if (!version.serving) {
        return false;  // `next` (and the sets it started) is dropped
      }
      row.push_back(std::move(version));
    }
  }
  // Committed: new autoscaler settings for kept sets (their counts bounded by them).
  for (auto& row : next) {
    for (FleetVersion& version : row) {
      const AutoscalerSettings settings = SettingsFor(routes.autoscaler, version.route.autoscale);
      for (RevisionReplicas* revision : {version.serving.get(), version.starting.get()}) {
        if (revision == nullptr || revision->autoscaler->settings() == settings) continue;
        revision->autoscaler = std::make_unique<Autoscaler>(settings, clock_);
        const std::int64_t desired = revision->replicas->Desired();
        if (Bounded(settings, desired) != desired) {
          revision->replicas->Scale(Bounded(settings, desired));
        }
      }
    }
  }
  routes_ = routes;
  versions_ = std::move(next);
  return true;
}

auto Fleet::Reconcile(TimePoint now) -> bool {
  bool promoted = false;
  for (auto& row : versions_) {
    for (FleetVersion& version : row) {
      version.serving->replicas->Reconcile(now);
      if (!version.starting) continue;
      version.starting->replicas->Reconcile(now);
      const std::int64_t wanted = std::max<std::int64_t>(
          1,
          std::min(ReadyCount(*version.serving->replicas), version.starting->replicas->Desired()));
      if (ReadyCount(*version.starting->replicas) >= wanted) {
        version.serving = std::move(version.starting);
        version.starting = nullptr;
        promoted = true;
      }
    }
  }
  return promoted;
}

auto Fleet::Sets() const -> ReplicaSets {
  ReplicaSets sets;
  for (const auto& row : versions_) {
    auto& sets_row = sets.emplace_back();
    for (const FleetVersion& version : row) sets_row.push_back(version.serving->replicas.get());
  }
  return sets;
}

auto Fleet::Hold() const -> std::shared_ptr<const void> {
  auto held = std::make_shared<std::vector<std::shared_ptr<RevisionReplicas>>>();
  for (const auto& row : versions_) {
    for (const FleetVersion& version : row) held->push_back(version.serving);
  }
  return held;
}

}  // namespace ferry::router

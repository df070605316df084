// Fleet: the replica sets and autoscalers of every version the routes name,
// kept across reloads (SIGHUP) and rolled from one revision to the next.
//
// A version is keyed by (endpoint name, version name); its replicas by that
// and the revision (routes' local.revision, RevisionOf). Apply(new routes):
//   - same revision as serving: the same set, processes untouched;
//   - a new revision: a new set starts beside the serving one ("starting");
//     the proxy keeps routing to the serving set until Reconcile sees the new
//     one with as many ready replicas as the serving one has ready (at least
//     1, at most its desired count), then the new one serves (promotion) and
//     the old one is released;
//   - back to the serving revision while rolling: the starting set is dropped,
//     the serving one is kept untouched;
//   - a version that is gone: released.
// "Released" means the fleet drops its reference: a proxy generation that
// still routes to the set (Hold) keeps it, and its processes, alive until its
// last request finished. The fleet is used from the control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "router/autoscaler.h"
#include "router/proxy.h"
#include "router/replicas.h"
#include "router/routes.h"

namespace ferry::router {

/// One revision of a version: its replicas and their autoscaler.
struct RevisionReplicas {
  std::string revision;
  std::unique_ptr<ReplicaSet> replicas;
  std::unique_ptr<Autoscaler> autoscaler;
};

/// One version of the routes as the fleet runs it.
struct FleetVersion {
  std::string endpoint;
  VersionRoute route;
  /// The revision that gets the version's traffic.
  std::shared_ptr<RevisionReplicas> serving;
  /// While rolling: the routes' revision, started but not ready enough yet.
  std::shared_ptr<RevisionReplicas> starting;
};

/// Creates the replica set of one version (local processes or Kubernetes);
/// nullptr with `error` set when it cannot.
/// `ns` is the routes' namespace (for Kubernetes versions).
using ReplicaFactory =
    std::function<std::unique_ptr<ReplicaSet>(const std::string& ns, const EndpointRoute& endpoint,
                                              const VersionRoute& version, std::string& error)>;

/// Ready replicas among `set`'s.
auto ReadyCount(const ReplicaSet& set) -> std::int64_t;

/// See the file comment.
class Fleet {
 public:
  /// `clock` must outlive the fleet (the autoscalers read it).
  Fleet(ReplicaFactory factory, const Clock& clock);

  /// Runs `routes` from now on (see the file comment). On failure (a set
  /// could not be created) nothing changes and `error` says why.
  auto Apply(const Routes& routes, std::string& error) -> bool;

  /// Reconciles every set (serving and starting) at `now` and promotes
  /// starting revisions that are ready. True when one was promoted: the
  /// proxy must be rebuilt (Sets changed).
  auto Reconcile(TimePoint now) -> bool;

  /// The versions in routes order: versions()[endpoint][version].
  auto versions() const -> const std::vector<std::vector<FleetVersion>>& { return versions_; }
  /// The routes last applied.
  auto routes() const -> const Routes& { return routes_; }

  /// The serving sets, for a Proxy.
  auto Sets() const -> ReplicaSets;
  /// Keeps the serving sets (and so their processes) alive while held.
  auto Hold() const -> std::shared_ptr<const void>;

 private:
  auto Start(const Routes& routes, const EndpointRoute& endpoint, const VersionRoute& version,
             std::int64_t replicas, std::string& error) -> std::shared_ptr<RevisionReplicas>;

  ReplicaFactory factory_;
  const Clock& clock_;
  Routes routes_;
  std::vector<std::vector<FleetVersion>> versions_;
};

}  // namespace ferry::router

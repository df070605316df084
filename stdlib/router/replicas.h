// The router's view of an endpoint version's replicas, and the one scaling
// interface with two back ends: local processes (local_replicas.h's
// LocalReplicas) and a Kubernetes Deployment (kube_replicas.h's KubeReplicas).
// The proxy asks for ready replicas; the autoscaler (autoscaler.h) asks for
// counts and sets them.
// Threads: Replicas() may be called from any thread at any time (the proxy);
// Desired(), Scale() and Reconcile() from one control thread (the autoscaler
// loop). SteadyClock is the real clock for both.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ferry::router {

/// Monotonic time as the router sees it; tests drive a simulated clock.
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual auto Now() const -> TimePoint = 0;
};

/// The real monotonic clock.
class SteadyClock : public Clock {
 public:
  auto Now() const -> TimePoint override { return std::chrono::steady_clock::now(); }
};

/// One replica: where to send requests and whether it may get any.
struct Replica {
  std::string host;  ///< "127.0.0.1" or a pod IP
  int port = 0;
  bool ready = false;  ///< passed its readiness check (GET /readyz)
};

/// One replica as the router's status file shows it.
struct ReplicaStatus {
  std::size_t slot = 0;  ///< the replica's index (stable across restarts for local ones)
  int pid = 0;           ///< 0: not a local process, or waiting to restart
  int port = 0;
  bool ready = false;
  std::string log;  ///< the local replica's log file (absolute); "" on Kubernetes
};

/// The replicas of one endpoint version.
class ReplicaSet {
 public:
  virtual ~ReplicaSet() = default;
  /// The replicas for the status file; by default Replicas() by index, no pid or log.
  virtual auto Status() const -> std::vector<ReplicaStatus> {
    std::vector<ReplicaStatus> status;
    for (const Replica& replica : Replicas()) {
      status.push_back({status.size(), 0, replica.port, replica.ready, ""});
    }
    return status;
  }
  /// The replicas as last observed (ready or not).
  virtual auto Replicas() const -> std::vector<Replica> = 0;
  /// The replica count asked for (what the back end is converging to).
  virtual auto Desired() const -> std::int64_t = 0;
  /// Asks for `count` replicas: starts or stops processes, or patches the
  /// Deployment's scale subresource.
  virtual void Scale(std::int64_t count) = 0;
  /// Observes the world again at `now`: restarts crashed processes, probes
  /// readiness, reads the Service's endpoints. Called periodically.
  virtual void Reconcile(TimePoint now) = 0;
};

}  // namespace ferry::router

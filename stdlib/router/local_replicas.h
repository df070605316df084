// LocalReplicas: an endpoint version's replicas as child processes of the
// router (the local executor's back end; routes.yaml's `local:` form).
//
// Each replica runs `command` (a bundle's bin/serve argv) with
// `--port <port>` appended, in `working_directory`, stdout and stderr
// appended to `<log_directory>/<log_prefix>-<slot>.log` (slot = the replica's
// index, stable across restarts; `ferry logs` reads these files). Children get
// PR_SET_PDEATHSIG(SIGKILL) so they die with the router.
//
// Ports: the router asks the OS for a free port (bind to port 0, then close)
// and passes it. Another process could take that port before the child binds
// it, so a replica only counts as ready once GET /readyz answers 200 on the
// port AND the socket listening there belongs to the child (its inode is one
// of the child's file descriptors, from /proc). A child that loses the race
// fails to bind and exits; it is restarted on a fresh port. Requests never go
// to a process that is not the replica.
//
// Crashed replicas are restarted with exponential backoff and are not ready
// until they pass readiness again. Scaling down stops the newest replicas:
// SIGTERM, then SIGKILL after the grace period. The destructor stops all.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "router/replicas.h"

namespace ferry::router {

/// GET /readyz on host:port answered 200 within the timeout.
using ReadinessProbe =
    std::function<bool(const std::string& host, int port, std::chrono::milliseconds timeout)>;

/// The default probe: a blocking HTTP/1.1 GET /readyz.
auto ProbeReadyz(const std::string& host, int port, std::chrono::milliseconds timeout) -> bool;

/// How to run one version's replicas.
struct LocalReplicasOptions {
  std::vector<std::string> command;  ///< argv; `--port P` is appended
  std::string working_directory;     ///< empty: the router's own
  std::string log_directory;         ///< created if missing; empty: "<working dir>/logs"
  std::string log_prefix = "replica";
  std::string host = "127.0.0.1";  ///< where the replicas listen (serve's default host)
  std::chrono::milliseconds probe_timeout{500};
  /// How often a ready replica is probed again (a not-ready one: every Reconcile).
  std::chrono::milliseconds probe_interval{1000};
  /// SIGTERM to SIGKILL.
  std::chrono::milliseconds stop_grace{5000};
  /// First restart delay after a crash; doubled per crash up to restart_backoff_max,
  /// back to the first once the replica has passed readiness.
  std::chrono::milliseconds restart_backoff{250};
  std::chrono::milliseconds restart_backoff_max{30000};
  ReadinessProbe probe = ProbeReadyz;  ///< tests may replace it
};

/// Replicas as local processes. See the file comment.
class LocalReplicas : public ReplicaSet {
 public:
  /// Starts nothing until Scale(); `clock` must outlive the set.
  LocalReplicas(LocalReplicasOptions options, const Clock& clock);
  /// Stops every replica (SIGTERM, SIGKILL after the grace period) and reaps it.
  ~LocalReplicas() override;
  LocalReplicas(const LocalReplicas&) = delete;
  auto operator=(const LocalReplicas&) -> LocalReplicas& = delete;

  auto Replicas() const -> std::vector<Replica> override;
  auto Desired() const -> std::int64_t override;
  void Scale(std::int64_t count) override;
  void Reconcile(TimePoint now) override;
  /// Every slot's process (pid 0 while waiting to restart) and absolute log path.
  auto Status() const -> std::vector<ReplicaStatus> override;

  /// Process ids of the running replicas by slot (0 while waiting to restart).
  auto Pids() const -> std::vector<pid_t>;
  /// The log file of the replica in `slot`.
  auto LogPath(std::size_t slot) const -> std::string;

 private:
  struct Process;
  void Start(Process& process, TimePoint now);
  void Publish();

  LocalReplicasOptions options_;
  const Clock& clock_;
  std::string log_directory_;
  /// Serializes Scale, Reconcile and the destructor (the control thread's calls).
  mutable std::mutex control_mutex_;
  std::vector<std::unique_ptr<Process>> processes_;  ///< by slot, oldest first
  std::vector<std::unique_ptr<Process>> stopping_;   ///< scaled away, not yet reaped
  std::int64_t desired_ = 0;
  /// What Replicas() returns; guarded by published_mutex_ (read by the proxy).
  mutable std::mutex published_mutex_;
  std::vector<Replica> published_;
};

}  // namespace ferry::router

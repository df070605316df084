// The project's router process as the local executor drives it: its files
// under .ferry/run/, starting it detached, adopting one already running,
// reloading routes and waiting on its status file, stopping it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "compiler/apply/executor.h"
#include "compiler/apply/local_executor.h"
#include "compiler/apply/local_routes.h"

namespace ferry::apply {

/// The local executor's files of one project, as absolute paths.
struct LocalFiles {
  explicit LocalFiles(const ProjectPaths& paths);
  std::string project_dir;  ///< the manifest's folder
  std::string state_dir;    ///< <project>/.ferry
  std::string routes;       ///< .ferry/run/routes.yaml
  std::string pid_file;     ///< .ferry/run/router.pid
  std::string status_file;  ///< .ferry/run/status.json
  std::string logs_dir;     ///< .ferry/logs
  std::string router_log;   ///< .ferry/logs/router.log
  std::string secrets_dir;  ///< .ferry/secrets
  std::string cache_dir;
  auto Layout() const -> LocalLayout;
};

class LocalRouter {
 public:
  LocalRouter(const ProjectPaths& paths, const LocalOptions& options);

  auto files() const -> const LocalFiles& { return files_; }

  /// The pid of the project's router when one runs (its pid file is locked).
  auto Running() const -> std::optional<pid_t>;
  /// status.json as it is now; nullopt with `error` when missing or unreadable.
  auto ReadStatus(std::string& error) const -> std::optional<RouterStatus>;

  /// Writes `routes` and starts the router detached on `port` (0: any);
  /// waits for its status file. nullopt with `error` and `detail` (the tail
  /// of router.log) when it does not come up.
  auto Start(const std::string& routes, int port, std::string& error, std::string& detail)
      -> std::optional<RouterStatus>;

  /// Writes `routes` atomically and has the running router load them
  /// (SIGHUP), waiting until its status names their sha256. A router that
  /// refuses them keeps the old ones: `error` then holds its reasons.
  auto Reload(const std::string& routes, std::string& error) -> std::optional<RouterStatus>;

  /// Polls status.json until `done` holds or `timeout` passes; the last
  /// status read is in `last` either way.
  auto WaitFor(const std::function<bool(const RouterStatus&)>& done,
               std::chrono::milliseconds timeout, std::optional<RouterStatus>& last) const -> bool;

  /// Stops the project's router (SIGTERM, then SIGKILL after the grace
  /// period) if it runs and is ours; its replicas stop with it. Removes the
  /// run files. False with `error` when a process that is not our router
  /// holds the pid file.
  auto Stop(std::string& error, std::string& note) -> bool;

 private:
  auto WriteRoutes(const std::string& routes, std::string& error) -> bool;
  auto IsOurRouter(pid_t pid) const -> bool;

  LocalFiles files_;
  LocalOptions options_;
};

/// The last `lines` lines of the file at `path` (all of it when shorter).
auto TailOfFile(const std::string& path, std::size_t lines) -> std::string;

}  // namespace ferry::apply

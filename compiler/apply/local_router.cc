#include "compiler/apply/local_router.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "compiler/apply/process.h"
#include "compiler/apply/state_store.h"
#include "compiler/support/file_system.h"
#include "compiler/support/sha256.h"

namespace ferry::apply {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kRouterLogLines = 20;

auto Absolute(const std::string& path) -> std::string {
  std::error_code ec;
  fs::path absolute = fs::absolute(path.empty() ? "." : path, ec);
  return absolute.lexically_normal().string();
}

// The status file is replaced by rename: a new inode or mtime is a new write.
auto FileIdentity(const std::string& path) -> std::pair<ino_t, std::int64_t> {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return {0, 0};
  return {info.st_ino,
          static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec};
}

}  // namespace

LocalFiles::LocalFiles(const ProjectPaths& paths) {
  state_dir = Absolute(paths.state_dir);
  // Keep no trailing slash ("/a/.ferry/" normalizes to "/a/.ferry/").
  while (state_dir.size() > 1 && state_dir.back() == '/') state_dir.pop_back();
  project_dir = fs::path(state_dir).parent_path().string();
  routes = state_dir + "/run/routes.yaml";
  pid_file = state_dir + "/run/router.pid";
  status_file = state_dir + "/run/status.json";
  logs_dir = state_dir + "/logs";
  router_log = logs_dir + "/router.log";
  secrets_dir = state_dir + "/secrets";
  cache_dir = Absolute(paths.cache_dir);
}

auto LocalFiles::Layout() const -> LocalLayout {
  return LocalLayout{project_dir, secrets_dir, cache_dir};
}

auto TailOfFile(const std::string& path, std::size_t lines) -> std::string {
  std::ifstream in(path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string text;
  for (const std::string& kept : tail) text += kept + "\n";
  return text;
}

LocalRouter::LocalRouter(const ProjectPaths& paths, const LocalOptions& options)
    : files_(paths), options_(options) {}

auto LocalRouter::Running() const -> std::optional<pid_t> {
  if (!PidFileLocked(files_.pid_file)) return std::nullopt;
  std::optional<pid_t> pid = ReadPidFile(files_.pid_file);
  // Locked but not written yet: a router in its first instant; its pid comes.
  for (int i = 0; !pid && i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pid = ReadPidFile(files_.pid_file);
  }
  return pid;
}

auto LocalRouter::ReadStatus(std::string& error) const -> std::optional<RouterStatus> {
  const std::optional<std::string> text = support::DiskFileSystem().Read(files_.status_file);
  if (!text) {
    error = "the router's status file " + files_.status_file + " is missing";
    return std::nullopt;
  }
  return ParseRouterStatus(*text, error);
}

auto LocalRouter::WaitFor(const std::function<bool(const RouterStatus&)>& done,
                          std::chrono::milliseconds timeout,
                          std::optional<RouterStatus>& last) const -> bool {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    std::string ignored;
    if (std::optional<RouterStatus> status = ReadStatus(ignored)) last = std::move(status);
    if (last && done(*last)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(options_.poll_interval);
  }
}

auto LocalRouter::WriteRoutes(const std::string& routes, std::string& error) -> bool {
  return MakeDirectories(fs::path(files_.routes).parent_path().string(), error) &&
         WriteFileAtomically(files_.routes, routes, error, 0600);
}

auto LocalRouter::Start(const std::string& routes, int port, std::string& error,
                        std::string& detail) -> std::optional<RouterStatus> {
  if (!WriteRoutes(routes, error) || !MakeDirectories(files_.logs_dir, error)) return std::nullopt;
  const std::string program =
      options_.router_program.empty() ? DefaultRouterProgram() : options_.router_program;
  // A status file left by a router that died would read as this one's.
  ::unlink(files_.status_file.c_str());
  const std::vector<std::string> argv{
      program,         "--routes",      files_.routes,     "--port",        std::to_string(port),
      "--host",        "127.0.0.1",     "--log-directory", files_.logs_dir, "--pid-file",
      files_.pid_file, "--status-file", files_.status_file};
  const std::optional<pid_t> pid = SpawnDetached(argv, "/", files_.router_log, error);
  if (!pid) return std::nullopt;
  // Up when its status file names it; an exit before that is a failure now,
  // not at the timeout.
  std::optional<RouterStatus> status;
  bool exited = false;
  const auto deadline = Clock::now() + options_.router_timeout;
  while (!exited && Clock::now() < deadline) {
    std::string ignored;
    status = ReadStatus(ignored);
    if (status && status->pid == *pid) return status;
    exited = !ProcessAlive(*pid);
    if (!exited) std::this_thread::sleep_for(options_.poll_interval);
  }
  // A router that neither came up nor exited is stopped: nothing half-started stays.
  if (!exited) TerminateProcess(*pid, static_cast<int>(options_.stop_grace.count()));
  error = exited ? "the router exited right after starting (see " + files_.router_log + ")"
                 : "the router did not write " + files_.status_file + " within " +
                       std::to_string(options_.router_timeout.count() / 1000) + " s";
  detail = TailOfFile(files_.router_log, kRouterLogLines);
  return std::nullopt;
}

auto LocalRouter::Reload(const std::string& routes, std::string& error)
    -> std::optional<RouterStatus> {
  if (!WriteRoutes(routes, error)) return std::nullopt;
  const std::optional<pid_t> pid = Running();
  if (!pid) {
    error = "the project's router is not running (" + files_.pid_file +
            " is not locked); `ferry plan --refresh` shows what is gone";
    return std::nullopt;
  }
  const std::string sha256 = support::Sha256Hex(routes);
  std::string ignored;
  std::optional<RouterStatus> status = ReadStatus(ignored);
  if (status && status->pid == *pid && status->routes_sha256 == sha256) return status;
  const auto before = FileIdentity(files_.status_file);
  if (::kill(*pid, SIGHUP) != 0) {
    error = "cannot signal the router (pid " + std::to_string(*pid) + ")";
    return std::nullopt;
  }
  bool refused = false;
  bool died = false;
  const bool loaded = WaitFor(
      [&](const RouterStatus& current) {
        if (current.routes_sha256 == sha256) return true;
        refused = !current.reload_error.empty() && FileIdentity(files_.status_file) != before;
        died = !ProcessAlive(*pid);
        return refused || died;
      },
      options_.router_timeout, status);
  if (loaded && status && status->routes_sha256 == sha256) return status;
  if (refused && status) {
    error = "the router refused the new routes (" + files_.routes + ") and keeps the old ones:\n" +
            status->reload_error;
  } else if (died) {
    error = "the router (pid " + std::to_string(*pid) + ") exited during a reload (see " +
            files_.router_log + ")";
  } else {
    error = "the router did not load the new routes within " +
            std::to_string(options_.router_timeout.count() / 1000) + " s (see " +
            files_.router_log + ")";
  }
  return std::nullopt;
}

auto LocalRouter::IsOurRouter(pid_t pid) const -> bool {
  const std::vector<std::string> args = ProcessCommandLine(pid);
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--pid-file" && args[i + 1] == files_.pid_file) return true;
  }
  return false;
}

auto LocalRouter::Stop(std::string& error, std::string& note) -> bool {
  const std::optional<pid_t> pid = Running();
  if (!pid) {
    note = "the router was not running";
  } else if (!IsOurRouter(*pid)) {
    error = "process " + std::to_string(*pid) + " holds " + files_.pid_file +
            " but is not this project's router; it was left running";
    return false;
  } else if (!TerminateProcess(*pid, static_cast<int>(options_.stop_grace.count()))) {
    error = "the router (pid " + std::to_string(*pid) + ") did not stop";
    return false;
  } else {
    note = "stopped the router (pid " + std::to_string(*pid) + ")";
  }
  // The lock goes with the last of its threads; a start right after must not see it.
  for (int i = 0; i < 250 && PidFileLocked(files_.pid_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Nothing runs from these any more; a later start writes them afresh.
  for (const std::string& file : {files_.status_file, files_.routes, files_.pid_file}) {
    ::unlink(file.c_str());
  }
  return true;
}

}  // namespace ferry::apply

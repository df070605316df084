#include "router/local_replicas.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "router_fixtures.h"

namespace ferry::router {
namespace {

using namespace std::chrono_literals;
using router_test::ReadFile;
using router_test::ScratchDir;

auto FakeServe() -> std::string {
  return std::string(FERRY_SOURCE_DIR) + "/tests/router/testdata/fake_serve.py";
}

auto Options(const ScratchDir& dir, std::vector<std::string> extra = {}) -> LocalReplicasOptions {
  LocalReplicasOptions options;
  options.command = {"/usr/bin/python3", FakeServe()};
  options.command.insert(options.command.end(), extra.begin(), extra.end());
  options.working_directory = dir.path();
  options.log_directory = dir.path() + "/logs";
  options.stop_grace = 2000ms;
  options.restart_backoff = 50ms;
  return options;
}

/// Reconciles every 20 ms until `done` or 15 s pass; whether `done` came true.
auto ReconcileUntil(LocalReplicas& set, const std::function<bool()>& done) -> bool {
  SteadyClock clock;
  for (auto deadline = clock.Now() + 15s; clock.Now() < deadline;) {
    set.Reconcile(clock.Now());
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

auto ReadyCount(const LocalReplicas& set) -> int {
  int ready = 0;
  for (const Replica& replica : set.Replicas()) ready += replica.ready ? 1 : 0;
  return ready;
}

/// Whether `pid` runs (a zombie waiting for init to reap it counts as dead).
auto Alive(pid_t pid) -> bool {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

TEST_CASE("local_replicas.start_restart_scale_down_and_stop") {
  ScratchDir dir;
  SteadyClock clock;
  std::vector<pid_t> all_pids;
  {
    LocalReplicas set(Options(dir), clock);
    set.Scale(2);
    CHECK(set.Desired() == 2);
    REQUIRE(ReconcileUntil(set, [&] { return ReadyCount(set) == 2; }));
    std::vector<Replica> replicas = set.Replicas();
    REQUIRE(replicas.size() == 2);
    CHECK(replicas[0].host == "127.0.0.1");
    CHECK(replicas[0].port != replicas[1].port);
    std::vector<pid_t> pids = set.Pids();
    all_pids.insert(all_pids.end(), pids.begin(), pids.end());
    // Each replica logs to its own file, runs in the working directory and got --port.
    std::string log = ReadFile(set.LogPath(1));
    CHECK(log.find("pid=" + std::to_string(pids[1])) != std::string::npos);
    CHECK(log.find("port=" + std::to_string(replicas[1].port)) != std::string::npos);
    CHECK(log.find("cwd=" + dir.path()) != std::string::npos);

    // A crashed replica is restarted, and is not ready until it passes readiness.
    ::kill(pids[0], SIGKILL);
    REQUIRE(ReconcileUntil(set, [&] { return set.Pids()[0] != pids[0]; }));
    CHECK(ReadyCount(set) <= 1);
    REQUIRE(ReconcileUntil(set, [&] { return ReadyCount(set) == 2; }));
    pid_t restarted = set.Pids()[0];
    CHECK(restarted > 0);
    all_pids.push_back(restarted);
    CHECK(ReadFile(set.LogPath(0)).find("pid=" + std::to_string(restarted)) != std::string::npos);

    // Scaling 2 -> 1 stops the newest replica.
    set.Scale(1);
    CHECK(set.Desired() == 1);
    REQUIRE(set.Replicas().size() == 1);
    CHECK(set.Pids() == std::vector<pid_t>{restarted});
    REQUIRE(ReconcileUntil(set, [&] { return !Alive(pids[1]); }));
    CHECK(ReadyCount(set) == 1);
  }
  // Destroyed: no replica outlives the set.
  for (pid_t pid : all_pids) CHECK_FALSE(Alive(pid));
}

TEST_CASE("local_replicas.replicas_die_with_the_router") {
  ScratchDir dir;
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  // A stand-in router: a child process that starts one replica, reports its
  // pid and waits to be killed.
  pid_t router = ::fork();
  REQUIRE(router >= 0);
  if (router == 0) {
    SteadyClock clock;
    LocalReplicas set(Options(dir), clock);
    set.Scale(1);
    pid_t replica = set.Pids()[0];
    if (::write(pipe_fds[1], &replica, sizeof(replica)) != sizeof(replica)) ::_exit(1);
    for (;;) ::pause();
  }
  ::close(pipe_fds[1]);
  pid_t replica = 0;
  REQUIRE(::read(pipe_fds[0], &replica, sizeof(replica)) == sizeof(replica));
  ::close(pipe_fds[0]);
  REQUIRE(replica > 0);
  CHECK(Alive(replica));
  ::kill(router, SIGKILL);  // no destructor runs: only PR_SET_PDEATHSIG can stop the replica
  ::waitpid(router, nullptr, 0);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (Alive(replica) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK_FALSE(Alive(replica));
}

TEST_CASE("local_replicas.not_ready_until_readyz_answers") {
  ScratchDir dir;
  SteadyClock clock;
  LocalReplicas set(Options(dir, {"--ready-after-ms", "1500"}), clock);
  set.Scale(1);
  auto started = clock.Now();
  REQUIRE(ReconcileUntil(set, [&] { return ReadyCount(set) == 1; }));
  CHECK(clock.Now() - started >= 1500ms);
}

TEST_CASE("local_replicas.sigkill_after_the_grace_period") {
  ScratchDir dir;
  SteadyClock clock;
  LocalReplicasOptions options = Options(dir, {"--ignore-term"});
  options.stop_grace = 300ms;
  LocalReplicas set(options, clock);
  set.Scale(1);
  REQUIRE(ReconcileUntil(set, [&] { return ReadyCount(set) == 1; }));
  pid_t pid = set.Pids()[0];
  auto stopped = clock.Now();
  set.Scale(0);
  CHECK(set.Replicas().empty());
  REQUIRE(ReconcileUntil(set, [&] { return !Alive(pid); }));
  CHECK(clock.Now() - stopped >= 300ms);  // SIGTERM was ignored: SIGKILL at the deadline
}

TEST_CASE("local_replicas.a_command_that_cannot_run_is_retried_and_never_ready") {
  ScratchDir dir;
  SteadyClock clock;
  LocalReplicasOptions options = Options(dir);
  options.command = {dir.path() + "/no-such-serve"};
  LocalReplicas set(options, clock);
  set.Scale(1);
  // It exits at once; restarted with a growing backoff, it never becomes ready.
  std::set<pid_t> pids;
  ReconcileUntil(set, [&] {
    if (set.Pids()[0] > 0) pids.insert(set.Pids()[0]);
    return pids.size() >= 3;
  });
  CHECK(pids.size() >= 3);
  CHECK(ReadyCount(set) == 0);
  CHECK(ReadFile(set.LogPath(0)).find("cannot run " + options.command[0]) != std::string::npos);
}

TEST_CASE("local_replicas.readiness_counts_only_on_the_replicas_own_socket") {
  ScratchDir dir;
  SteadyClock clock;
  LocalReplicasOptions options = Options(dir);
  // A replica that listens on nothing, while "something" answers /readyz on its
  // port (as when another process took the port first): never ready.
  options.command = {"/bin/sh", "-c", "exec sleep 30", "sh"};
  options.probe = [](const std::string&, int, std::chrono::milliseconds) { return true; };
  LocalReplicas set(options, clock);
  set.Scale(1);
  SteadyClock real;
  for (auto until = real.Now() + 500ms; real.Now() < until;) {
    set.Reconcile(real.Now());
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(set.Replicas().size() == 1);
  CHECK_FALSE(set.Replicas()[0].ready);
}

TEST_CASE("local_replicas.probes_run_side_by_side") {
  ScratchDir dir;
  SteadyClock clock;
  LocalReplicasOptions options = Options(dir);
  // Each probe waits (up to 2 s) until three run at once, then probes for
  // real: probed one after another, none would ever see the other two.
  auto state = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto running = std::make_shared<int>(0);
  auto most = std::make_shared<int>(0);
  options.probe = [state, running, most](const std::string& host, int port,
                                         std::chrono::milliseconds timeout) {
    {
      std::unique_lock lock(state->first);
      *most = std::max(*most, ++*running);
      state->second.notify_all();
      state->second.wait_for(lock, 2s, [&] { return *running >= 3; });
    }
    const bool ready = ProbeReadyz(host, port, timeout);
    std::lock_guard lock(state->first);
    --*running;
    return ready;
  };
  LocalReplicas set(options, clock);
  set.Scale(3);
  CHECK(ReconcileUntil(set, [&] { return ReadyCount(set) == 3; }));
  std::lock_guard lock(state->first);
  CHECK(*most == 3);
}

}  // namespace
}  // namespace ferry::router

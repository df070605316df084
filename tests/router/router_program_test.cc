// The `router` program end to end: local replicas (testdata/echo_serve.py)
// started by the router, requests split by the weights, clean SIGTERM.
// clang-format off
#include <utility>  // first: Boost 1.74's Asio uses std::exchange without including it
// clang-format on

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "router_fixtures.h"
#include "runtime/json.h"

namespace ferry::router {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The router as a child process whose stdout and stderr the test reads.
class RouterProcess {
 public:
  explicit RouterProcess(std::vector<std::string> arguments) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::dup2(fds[1], STDERR_FILENO);
      ::close(fds[0]);
      std::vector<char*> argv{const_cast<char*>(FERRY_ROUTER_BINARY)};
      for (std::string& argument : arguments) argv.push_back(argument.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
    // The router logs every request: keep reading so its writes never block on a full pipe.
    reader_ = std::thread([this] {
      char chunk[4096];
      for (ssize_t read; (read = ::read(out_, chunk, sizeof chunk)) > 0;) {
        std::lock_guard lock(mutex_);
        output_.append(chunk, static_cast<std::size_t>(read));
      }
    });
  }
  ~RouterProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    reader_.join();  // the pipe ends when the router (and its children) are gone
    ::close(out_);
  }

  /// Waits until a line of stdout contains `text` (or `timeout` passes); returns the line.
  auto WaitForLine(std::string_view text, std::chrono::milliseconds timeout) -> std::string {
    const auto deadline = Steady::now() + timeout;
    while (Steady::now() < deadline) {
      {
        std::lock_guard lock(mutex_);
        for (std::size_t begin = 0, end; (end = output_.find('\n', begin)) != std::string::npos;
             begin = end + 1) {
          std::string line = output_.substr(begin, end - begin);
          if (line.find(text) != std::string::npos) return line;
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return "";
  }

  /// Sends SIGTERM and waits up to `timeout` for the exit; its status, or -1.
  auto Terminate(std::chrono::milliseconds timeout) -> int {
    ::kill(pid_, SIGTERM);
    return Wait(timeout);
  }

  /// Waits up to `timeout` for the exit; its status, or -1.
  auto Wait(std::chrono::milliseconds timeout) -> int {
    const auto deadline = Steady::now() + timeout;
    while (Steady::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  auto pid() const -> pid_t { return pid_; }
  /// Everything written so far.
  auto Output() -> std::string {
    std::lock_guard lock(mutex_);
    return output_;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool exited_ = false;
  std::thread reader_;
  std::mutex mutex_;
  std::string output_;
};

// One request on a new connection; status 0 when nothing answers.
auto Fetch(int port, bhttp::verb method, std::string_view target, std::string_view body = "")
    -> bhttp::response<bhttp::string_body> {
  asio::io_context context;
  beast::tcp_stream stream(context);
  beast::error_code ec;
  stream.connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
  bhttp::response<bhttp::string_body> answer;
  answer.result(0u);  // stays 0 unless an answer is read
  if (ec) return answer;
  bhttp::request<bhttp::string_body> request{method,
                                             beast::string_view(target.data(), target.size()), 11};
  request.set(bhttp::field::host, "127.0.0.1");
  request.set(bhttp::field::content_type, "application/json");
  request.body() = std::string(body);
  request.prepare_payload();
  beast::flat_buffer buffer;
  bhttp::write(stream, request, ec);
  if (!ec) bhttp::read(stream, buffer, answer, ec);
  return answer;
}

auto LocalVersion(std::string_view name, double weight) -> std::string {
  return "  - name: " + std::string(name) + "\n    weight: " + std::to_string(weight) +
         "\n    autoscale: {min_replicas: 2, max_replicas: 2, max_concurrent_requests_per_replica: "
         "4}\n    local:\n      command: [/usr/bin/python3, " FERRY_SOURCE_DIR
         "/tests/router/testdata/echo_serve.py, --name, " +
         std::string(name) + "]\n";
}

TEST_CASE("router program: local replicas, the split, and a clean SIGTERM") {
  router_test::ScratchDir dir;
  router_test::WriteFile(dir / "routes.yaml",
                         "format: 1\nlisten: {http: 0}\nautoscaler: {enabled: false}\n"
                         "endpoints:\n- name: churn\n  path: /api/v1/service/churn/score\n"
                         "  versions:\n" +
                             LocalVersion("a", 25) + LocalVersion("b", 75));
  RouterProcess router({"--routes", dir / "routes.yaml", "--port", "0", "--host", "127.0.0.1",
                        "--log-directory", dir / "logs"});
  const std::string listening = router.WaitForLine("\"listening\"", 20s);
  REQUIRE_MESSAGE(!listening.empty(), "the router did not start");
  const std::size_t at = listening.find("\"port\":");
  REQUIRE(at != std::string::npos);
  const int port = std::stoi(listening.substr(at + 7));
  CHECK(Fetch(port, bhttp::verb::get, "/healthz").result_int() == 200);

  // Ready once every endpoint has a ready replica (the replicas are python: give them time).
  const auto deadline = Steady::now() + 30s;
  while (Fetch(port, bhttp::verb::get, "/readyz?all").result_int() != 200) {
    REQUIRE(Steady::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
  // Both versions' two replicas each must be ready before the split is exact.
  while (Fetch(port, bhttp::verb::get, "/readyz").body().find("\"ready_replicas\": 4") ==
         std::string::npos) {
    REQUIRE(Steady::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
  std::map<std::string, int> versions;
  std::set<std::string> replicas;
  for (int i = 0; i < 400; ++i) {
    const auto answer = Fetch(port, bhttp::verb::post, "/api/v1/service/churn/score", "{}");
    REQUIRE(answer.result_int() == 200);
    ++versions[std::string(answer["X-Ferry-Version"])];
    const std::string& body = answer.body();
    replicas.insert(body.substr(body.find("\"port\"")));
  }
  CHECK(versions["a"] == 100);
  CHECK(versions["b"] == 300);
  CHECK(replicas.size() == 4);

  CHECK(router.Terminate(20s) == 0);
  CHECK(!router.WaitForLine("\"stopped\"", 1s).empty());
  CHECK(Fetch(port, bhttp::verb::get, "/healthz").result_int() == 0);
}

TEST_CASE("router program: the autoscaler's decisions are log lines") {
  router_test::ScratchDir dir;
  // One replica taking one request at a time, 1.5 s each: two requests at
  // once are a load of two replicas against a 70% target (2 / 0.7 -> 3, within
  // max 3; less while the second waits for the slot, but above 1 / 0.7 -> 2).
  // The second waits at most 1.5 s for the slot (the router waits 5 s), so
  // both are answered however slowly new replicas start.
  router_test::WriteFile(
      dir / "routes.yaml",
      "format: 1\nlisten: {http: 0}\n"
      "autoscaler: {enabled: true, scale_up_seconds: 1, scale_down_seconds: 60}\n"
      "endpoints:\n- name: slow\n  path: /api/v1/service/slow/score\n  versions:\n"
      "  - name: v1\n    weight: 100\n"
      "    autoscale: {enabled: true, min_replicas: 1, max_replicas: 3, target_utilization: 70,"
      " max_concurrent_requests_per_replica: 1}\n"
      "    local:\n      command: [/usr/bin/python3, " FERRY_SOURCE_DIR
      "/tests/router/testdata/echo_serve.py, --name, v1, --delay-ms, '1500']\n");
  RouterProcess router({"--routes", dir / "routes.yaml", "--port", "0", "--host", "127.0.0.1",
                        "--log-directory", dir / "logs"});
  const std::string listening = router.WaitForLine("\"listening\"", 20s);
  REQUIRE_MESSAGE(!listening.empty(), "the router did not start");
  const int port = std::stoi(listening.substr(listening.find("\"port\":") + 7));
  const auto deadline = Steady::now() + 30s;
  while (Fetch(port, bhttp::verb::get, "/readyz?all").result_int() != 200) {
    REQUIRE(Steady::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([port] {
      CHECK(Fetch(port, bhttp::verb::post, "/api/v1/service/slow/score", "{}").result_int() == 200);
    });
  }
  const std::string scaled = router.WaitForLine("\"msg\":\"scale\"", 10s);
  for (std::thread& client : clients) client.join();
  REQUIRE_MESSAGE(!scaled.empty(), "no scale line");
  CHECK_MESSAGE(scaled.find("\"endpoint\":\"slow\",\"version\":\"v1\",\"direction\":\"up\","
                            "\"from\":1,\"to\":") != std::string::npos,
                scaled);
  // How far up depends on the load averaged over the last second: 2 or 3.
  const std::size_t to = scaled.find("\"to\":");
  REQUIRE(to != std::string::npos);
  const int replicas = std::stoi(scaled.substr(to + 5));
  CHECK(replicas >= 2);
  CHECK(replicas <= 3);
  CHECK(router.Terminate(20s) == 0);
}

// Rewrites the routes file the way the local executor does: a temporary file, then rename.
void ReplaceRoutes(const std::string& path, const std::string& text) {
  router_test::WriteFile(path + ".next", text);
  REQUIRE(std::rename((path + ".next").c_str(), path.c_str()) == 0);
}

// Routes: endpoint churn, version live running echo_serve --name NAME at
// revision REVISION, ready after READY_AFTER_MS; `extra` appended (more endpoints).
auto RollingRoutes(std::string_view name, std::string_view revision, int ready_after_ms,
                   std::string_view extra = "") -> std::string {
  return "format: 1\nlisten: {http: 0}\nautoscaler: {enabled: false}\n"
         "endpoints:\n- name: churn\n  path: /api/v1/service/churn/score\n  versions:\n"
         "  - name: live\n    weight: 100\n    default: true\n    role: control\n"
         "    autoscale: {min_replicas: 1, max_replicas: 1, max_concurrent_requests_per_replica: "
         "8}\n    local:\n      revision: " +
         std::string(revision) +
         "\n      command: [/usr/bin/python3, " FERRY_SOURCE_DIR
         "/tests/router/testdata/echo_serve.py, --name, " +
         std::string(name) + ", --ready-after-ms, '" + std::to_string(ready_after_ms) + "']\n" +
         std::string(extra);
}

// A parsed JSON document, indexed by key or position (absent: null).
class Json {
 public:
  explicit Json(ferry_rt::json::Value value)
      : root_(std::make_shared<const ferry_rt::json::Value>(std::move(value))), at_(root_.get()) {}
  auto operator[](const char* key) const -> Json {
    const auto found = at_->object.find(key);
    return {root_, found == at_->object.end() ? &Null() : &found->second};
  }
  auto operator[](int index) const -> Json {
    const auto i = static_cast<std::size_t>(index);
    return {root_, i < at_->array.size() ? &at_->array[i] : &Null()};
  }
  auto text() const -> const std::string& { return at_->string; }
  auto number() const -> std::int64_t { return static_cast<std::int64_t>(at_->number); }

 private:
  Json(std::shared_ptr<const ferry_rt::json::Value> root, const ferry_rt::json::Value* at)
      : root_(std::move(root)), at_(at) {}
  static auto Null() -> const ferry_rt::json::Value& {
    static const ferry_rt::json::Value null;
    return null;
  }
  std::shared_ptr<const ferry_rt::json::Value> root_;
  const ferry_rt::json::Value* at_;
};

// Waits until the status file parses and `accept` holds for it; the document.
template <typename Accept>
auto WaitForStatus(const std::string& path, Accept accept, std::chrono::seconds timeout) -> Json {
  const auto deadline = Steady::now() + timeout;
  std::string text;
  while (Steady::now() < deadline) {
    text = router_test::ReadFile(path);
    if (!text.empty()) {
      std::optional<Json> status;
      try {
        status.emplace(ferry_rt::json::Parse(text));
      } catch (const std::exception&) {
        FAIL("the status file is not JSON: " << text);  // written atomically: never half
      }
      if (accept(*status)) return *status;
    }
    std::this_thread::sleep_for(50ms);
  }
  FAIL("status never as expected; last: " << text);
  return Json({});
}

auto Live(const Json& status) -> Json { return status["endpoints"][0]["versions"][0]; }

TEST_CASE("router program: reloads and rolling replacements drop no request") {
  router_test::ScratchDir dir;
  const std::string routes = dir / "routes.yaml";
  const std::string status_file = dir / "status.json";
  router_test::WriteFile(routes, RollingRoutes("old", "r1", 0));
  RouterProcess router({"--routes", routes, "--port", "0", "--host", "127.0.0.1", "--log-directory",
                        dir / "logs", "--status-file", status_file, "--pid-file",
                        dir / "router.pid"});
  const std::string listening = router.WaitForLine("\"listening\"", 20s);
  REQUIRE_MESSAGE(!listening.empty(), "the router did not start: " << router.Output());
  const int port = std::stoi(listening.substr(listening.find("\"port\":") + 7));
  Json status = WaitForStatus(
      status_file, [](const auto& s) { return Live(s)["ready"].number() == 1; }, 30s);
  CHECK(status["pid"].number() == router.pid());
  CHECK(status["port"].number() == port);
  CHECK(status["reloads"].number() == 0);
  CHECK(status["routes_sha256"].text().size() == 64);
  CHECK(Live(status)["revision"].text() == "r1");
  const std::int64_t old_pid = Live(status)["replicas"][0]["pid"].number();
  CHECK(old_pid > 0);
  CHECK(Live(status)["replicas"][0]["log"].text() == dir / "logs/churn-live-0.log");

  // Load from four clients through every step below.
  std::atomic<bool> stop{false};
  std::mutex seen_mutex;
  std::map<std::string, int> served;  // by replica name
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        const auto answer = Fetch(port, bhttp::verb::post, "/api/v1/service/churn/score", "{}");
        std::lock_guard lock(seen_mutex);
        if (answer.result_int() != 200) {
          failures.push_back(std::to_string(answer.result_int()) + " " + answer.body());
        } else {
          ++served[Json(ferry_rt::json::Parse(answer.body()))["name"].text()];
        }
      }
    });
  }
  auto served_by = [&](const std::string& name) {
    std::lock_guard lock(seen_mutex);
    return served[name];
  };
  std::this_thread::sleep_for(500ms);

  // A new revision that never gets ready: the old one keeps serving.
  ReplaceRoutes(routes, RollingRoutes("new", "r2", 600000));
  ::kill(router.pid(), SIGHUP);
  status = WaitForStatus(
      status_file, [](const auto& s) { return s["reloads"].number() == 1; }, 10s);
  CHECK(Live(status)["revision"].text() == "r2");
  CHECK(Live(status)["previous_revision"].text() == "r1");
  CHECK(Live(status)["ready"].number() == 0);
  std::this_thread::sleep_for(2s);  // two readiness rounds: r2 stays unready
  CHECK(served_by("new") == 0);

  // Rolled back: r2's replica goes, r1's process is untouched.
  ReplaceRoutes(routes, RollingRoutes("old", "r1", 0));
  ::kill(router.pid(), SIGHUP);
  status = WaitForStatus(
      status_file, [](const auto& s) { return s["reloads"].number() == 2; }, 10s);
  CHECK(Live(status)["previous_revision"].text() == "");
  CHECK(Live(status)["replicas"][0]["pid"].number() == old_pid);

  // Reloads in a row, each a new proxy generation over the same replica.
  for (int reloads = 3; reloads <= 12; ++reloads) {
    ::kill(router.pid(), SIGHUP);
    status = WaitForStatus(
        status_file, [&](const auto& s) { return s["reloads"].number() == reloads; }, 10s);
  }
  CHECK(Live(status)["replicas"][0]["pid"].number() == old_pid);

  // A broken routes file: logged, recorded, the old routes keep running.
  ReplaceRoutes(routes, "format: 1\nlisten: {http: 0}\nendpoints: 7\n");
  ::kill(router.pid(), SIGHUP);
  status = WaitForStatus(
      status_file, [](const auto& s) { return !s["reload_error"].text().empty(); }, 10s);
  CHECK(status["reload_error"].text() == routes + ":3:12: endpoints: expected a list of endpoints");
  CHECK(status["reloads"].number() == 12);
  CHECK(!router.WaitForLine("\"reload failed\"", 5s).empty());

  // A new revision that gets ready takes over; a new endpoint starts at weight 0.
  const std::string waiting =
      "- name: fresh\n  path: /api/v1/service/fresh/score\n  versions:\n"
      "  - name: v1\n    weight: 0\n    local:\n      command: [/usr/bin/python3, " FERRY_SOURCE_DIR
      "/tests/router/testdata/echo_serve.py, --name, fresh]\n";
  ReplaceRoutes(routes, RollingRoutes("new", "r3", 0, waiting));
  ::kill(router.pid(), SIGHUP);
  status = WaitForStatus(
      status_file,
      [](const auto& s) {
        return s["reloads"].number() == 13 && Live(s)["previous_revision"].text().empty() &&
               s["endpoints"][1]["versions"][0]["ready"].number() == 1;
      },
      30s);
  CHECK(status["reload_error"].text() == "");
  CHECK(Live(status)["revision"].text() == "r3");
  const auto deadline = Steady::now() + 10s;
  while (served_by("new") < 20 && Steady::now() < deadline) std::this_thread::sleep_for(50ms);
  stop = true;
  for (std::thread& client : clients) client.join();
  CHECK(served_by("new") >= 20);
  CHECK(served_by("old") >= 50);
  CHECK_MESSAGE(failures.empty(), failures.size() << " failed, first: " << failures.front());

  const auto fresh = Fetch(port, bhttp::verb::post, "/api/v1/service/fresh/score", "{}");
  CHECK(fresh.result_int() == 503);
  CHECK(fresh.body().find("\"not_serving\"") != std::string::npos);
  CHECK(Fetch(port, bhttp::verb::get, "/readyz?all").result_int() == 200);

  // r1's process is stopped once the requests routed to it are done.
  const auto stopped_by = Steady::now() + 15s;
  while (::kill(static_cast<pid_t>(old_pid), 0) == 0 && Steady::now() < stopped_by) {
    std::this_thread::sleep_for(50ms);
  }
  CHECK(::kill(static_cast<pid_t>(old_pid), 0) != 0);
  CHECK(router.Terminate(20s) == 0);
}

TEST_CASE("router program: the pid file is locked for the router's life") {
  router_test::ScratchDir dir;
  const std::string pid_file = dir / "router.pid";
  router_test::WriteFile(dir / "routes.yaml", "format: 1\nlisten: {http: 0}\nendpoints: []\n");
  RouterProcess first({"--routes", dir / "routes.yaml", "--port", "0", "--host", "127.0.0.1",
                       "--pid-file", pid_file});
  const std::string listening = first.WaitForLine("\"listening\"", 20s);
  REQUIRE_MESSAGE(!listening.empty(), first.Output());
  CHECK(router_test::ReadFile(pid_file) == std::to_string(first.pid()) + "\n");
  {
    const int fd = ::open(pid_file.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    CHECK(::flock(fd, LOCK_EX | LOCK_NB) != 0);  // ferry's liveness test: a router is alive
    ::close(fd);
  }
  RouterProcess second({"--routes", dir / "routes.yaml", "--port", "0", "--host", "127.0.0.1",
                        "--pid-file", pid_file});
  CHECK(second.Wait(10s) == 2);
  CHECK(second.WaitForLine("another router", 5s) ==
        "router: another router (pid " + std::to_string(first.pid()) + ") holds " + pid_file);
  CHECK(router_test::ReadFile(pid_file) == std::to_string(first.pid()) + "\n");
  // Nothing to route: ready, and every path is a 404.
  const int port = std::stoi(listening.substr(listening.find("\"port\":") + 7));
  CHECK(Fetch(port, bhttp::verb::get, "/readyz?all").result_int() == 200);
  CHECK(Fetch(port, bhttp::verb::post, "/api/v1/service/x/score", "{}").result_int() == 404);
  CHECK(first.Terminate(20s) == 0);
  // The file stays; its lock went with the process.
  const int fd = ::open(pid_file.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  CHECK(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  ::close(fd);
}

// SIGHUP, SIGINT and SIGTERM go to the control loop's sigtimedwait only: a
// thread with them unblocked (the logger's writer once was one) gets a
// reload signal now and then, and SIGHUP's default action kills the router.
TEST_CASE("router program: every thread blocks the control signals") {
  router_test::ScratchDir dir;
  router_test::WriteFile(dir / "routes.yaml", "format: 1\nlisten: {http: 0}\nendpoints: []\n");
  RouterProcess router({"--routes", dir / "routes.yaml", "--port", "0", "--host", "127.0.0.1"});
  const std::string listening = router.WaitForLine("\"listening\"", 20s);
  REQUIRE_MESSAGE(!listening.empty(), router.Output());
  const std::string tasks = "/proc/" + std::to_string(router.pid()) + "/task";
  const unsigned long long wanted =
      (1ULL << (SIGHUP - 1)) | (1ULL << (SIGINT - 1)) | (1ULL << (SIGTERM - 1));
  int threads = 0;
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    // The main thread is the one waiting in sigtimedwait, which unblocks
    // the awaited signals for the length of the wait.
    if (task.path().filename().string() == std::to_string(router.pid())) continue;
    const std::string status = router_test::ReadFile(task.path().string() + "/status");
    const std::size_t at = status.find("SigBlk:");
    REQUIRE(at != std::string::npos);
    const unsigned long long blocked = std::stoull(status.substr(at + 7), nullptr, 16);
    CHECK_MESSAGE((blocked & wanted) == wanted, "thread " << task.path().filename().string()
                                                          << " leaves a control signal unblocked");
    ++threads;
  }
  CHECK(threads >= 2);  // the logger's writer, the listener's workers
}

}  // namespace
}  // namespace ferry::router

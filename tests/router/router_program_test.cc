// The `router` program end to end: local replicas (testdata/echo_serve.py)
// started by the router, requests split by the weights, clean SIGTERM.
// clang-format off
#include <utility>  // first: Boost 1.74's Asio uses std::exchange without including it
// clang-format on

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "router_fixtures.h"

namespace ferry::router {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The router as a child process whose stdout the test reads.
class RouterProcess {
 public:
  explicit RouterProcess(std::vector<std::string> arguments) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
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

}  // namespace
}  // namespace ferry::router

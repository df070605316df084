// PooledUpstream against scripted replicas on 127.0.0.1: raw sockets that
// answer with exactly the bytes a test writes (well-formed or not), so
// timeouts, answers cut short, malformed answers and pooled connections the
// replica closed are all exercised over real TCP.
#include "router/upstream.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ferry::router {
namespace {

using namespace std::chrono_literals;

void WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

auto Lower(std::string text) -> std::string {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Reads one request (head and Content-Length body); empty at end of stream.
auto ReadRequest(int fd, std::string& pending) -> std::string {
  char chunk[4096];
  while (true) {
    if (const std::size_t end = pending.find("\r\n\r\n"); end != std::string::npos) {
      std::size_t length = 0;
      const std::string head = Lower(pending.substr(0, end));
      if (const std::size_t at = head.find("\r\ncontent-length: "); at != std::string::npos) {
        length = std::stoul(head.substr(at + 18));
      }
      if (pending.size() >= end + 4 + length) {
        std::string request = pending.substr(0, end + 4 + length);
        pending.erase(0, request.size());
        return request;
      }
    }
    const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) return {};
    pending.append(chunk, static_cast<std::size_t>(got));
  }
}

// Serves one connection at a time on a thread of its own: for each request,
// `script(fd, index, request)` writes the answer (index counts requests over
// all connections) and says whether to keep the connection open.
class ScriptedReplica {
 public:
  using Script = std::function<bool(int fd, int index, const std::string& request)>;

  explicit ScriptedReplica(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listen_fd_, 16) == 0);
    socklen_t size = sizeof address;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedReplica() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  ScriptedReplica(const ScriptedReplica&) = delete;
  auto operator=(const ScriptedReplica&) -> ScriptedReplica& = delete;

  auto replica() const -> Replica { return {"127.0.0.1", port_, true}; }
  auto connections() const -> int { return connections_; }
  auto requests() const -> std::vector<std::string> {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void Serve() {
    while (true) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      ++connections_;
      // A guard against a test that hangs: no read waits more than 10 s.
      const timeval limit{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      std::string pending;
      while (true) {
        const std::string request = ReadRequest(fd, pending);
        if (request.empty()) break;
        int index = 0;
        {
          std::lock_guard lock(mutex_);
          index = static_cast<int>(requests_.size());
          requests_.push_back(request);
        }
        if (!script_(fd, index, request)) break;
      }
      ::close(fd);
    }
  }

  Script script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

auto Score(std::string body = "{\"data\": [[1]]}") -> UpstreamRequest {
  return {"POST", "/score", "application/json", std::move(body), "req-1"};
}

struct Outcome {
  std::optional<UpstreamResponse> response;
  UpstreamFailure failure = UpstreamFailure::kUnreachable;
  std::string error;
};

auto Send(PooledUpstream& upstream, const ScriptedReplica& replica,
          const UpstreamRequest& request = Score(), std::chrono::milliseconds timeout = 5000ms)
    -> Outcome {
  Outcome outcome;
  outcome.response =
      upstream.Send(replica.replica(), request, timeout, outcome.failure, outcome.error);
  return outcome;
}

constexpr std::string_view kOk =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"
    "{\"ok\": true}";

TEST_CASE("upstream: the request as sent, the answer as read, and the connection kept") {
  ScriptedReplica replica([](int fd, int index, const std::string&) {
    if (index == 0) {
      WriteAll(fd, kOk);
    } else {
      WriteAll(fd,
               "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
               "Retry-After: 7\r\nContent-Length: 2\r\n\r\n{}");
    }
    return true;
  });
  PooledUpstream upstream;
  const Outcome first = Send(upstream, replica);
  REQUIRE_MESSAGE(first.response.has_value(), first.error);
  CHECK(first.response->status == 200);
  CHECK(first.response->content_type == "application/json");
  CHECK(first.response->body == "{\"ok\": true}");
  CHECK(first.response->retry_after.empty());
  CHECK(upstream.IdleConnections() == 1);
  // The client's Content-Type cannot add header lines.
  const Outcome second =
      Send(upstream, replica, {"GET", "/swagger.json", "text/plain\r\nX-Evil: 1", "", "req-2"});
  REQUIRE_MESSAGE(second.response.has_value(), second.error);
  CHECK(second.response->status == 503);
  CHECK(second.response->retry_after == "7");
  CHECK(second.response->body == "{}");
  CHECK(replica.connections() == 1);
  const std::vector<std::string> requests = replica.requests();
  REQUIRE(requests.size() == 2);
  const std::string port = std::to_string(replica.replica().port);
  CHECK(requests[0] == "POST /score HTTP/1.1\r\nHost: 127.0.0.1:" + port +
                           "\r\nContent-Type: application/json\r\nX-Request-Id: req-1\r\n"
                           "Content-Length: 15\r\n\r\n{\"data\": [[1]]}");
  CHECK(requests[1] ==
        "GET /swagger.json HTTP/1.1\r\nHost: 127.0.0.1:" + port +
            "\r\nContent-Type: text/plain  X-Evil: 1\r\nX-Request-Id: req-2\r\n\r\n");
}

TEST_CASE("upstream: chunked answers, and answers that end with the connection") {
  ScriptedReplica replica([](int fd, int index, const std::string&) {
    if (index == 0) {
      WriteAll(fd,
               "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n");
      return true;
    }
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    return false;
  });
  PooledUpstream upstream;
  const Outcome chunked = Send(upstream, replica);
  REQUIRE_MESSAGE(chunked.response.has_value(), chunked.error);
  CHECK(chunked.response->body == "{\"a\": 1}");
  CHECK(upstream.IdleConnections() == 1);
  const Outcome to_close = Send(upstream, replica);
  REQUIRE_MESSAGE(to_close.response.has_value(), to_close.error);
  CHECK(to_close.response->content_type == "text/plain");
  CHECK(to_close.response->body == "until the end");
  // That connection is closed: not pooled.
  CHECK(upstream.IdleConnections() == 0);
}

TEST_CASE("upstream: a large answer arrives whole") {
  const std::string large(3 << 20, 'x');
  ScriptedReplica replica([&large](int fd, int, const std::string&) {
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                     std::to_string(large.size()) + "\r\n\r\n" + large);
    return true;
  });
  PooledUpstream upstream;
  const Outcome outcome = Send(upstream, replica, Score(std::string(2 << 20, 'y')));
  REQUIRE_MESSAGE(outcome.response.has_value(), outcome.error);
  CHECK(outcome.response->body == large);
  CHECK(replica.requests().at(0).size() > (2 << 20));
}

TEST_CASE("upstream: a replica that does not answer in time is kTimedOut") {
  ScriptedReplica replica([](int fd, int, const std::string&) {
    // Never answers: waits until the router gives up and closes.
    std::string ignored;
    ReadRequest(fd, ignored);
    return false;
  });
  PooledUpstream upstream;
  const Outcome outcome = Send(upstream, replica, Score(), 100ms);
  CHECK_FALSE(outcome.response.has_value());
  CHECK(outcome.failure == UpstreamFailure::kTimedOut);
  CHECK(outcome.error == "replica 127.0.0.1:" + std::to_string(replica.replica().port) +
                             " did not answer within 100 ms");
  CHECK(upstream.IdleConnections() == 0);
}

TEST_CASE("upstream: an answer cut short is kUnreachable and not sent again") {
  ScriptedReplica replica([](int fd, int index, const std::string&) {
    if (index == 0) {
      WriteAll(fd, kOk);
      return true;
    }
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\": ");
    return false;
  });
  PooledUpstream upstream;
  REQUIRE(Send(upstream, replica).response.has_value());
  // On the pooled connection: part of an answer came, so the request was taken.
  const Outcome cut = Send(upstream, replica);
  CHECK_FALSE(cut.response.has_value());
  CHECK(cut.failure == UpstreamFailure::kUnreachable);
  CHECK(cut.error == "replica 127.0.0.1:" + std::to_string(replica.replica().port) +
                         " failed: closed the connection mid-answer");
  CHECK(replica.requests().size() == 2);
  CHECK(upstream.IdleConnections() == 0);
}

TEST_CASE("upstream: malformed answers are kUnreachable with a message") {
  const std::vector<std::string> answers = {
      "HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
      "SMTP ready\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  for (const std::string& answer : answers) {
    CAPTURE(answer);
    ScriptedReplica replica([&answer](int fd, int, const std::string&) {
      WriteAll(fd, answer);
      return true;
    });
    PooledUpstream upstream;
    const Outcome outcome = Send(upstream, replica);
    CHECK_FALSE(outcome.response.has_value());
    CHECK(outcome.failure == UpstreamFailure::kUnreachable);
    CHECK(outcome.error.find("failed: malformed answer: ") != std::string::npos);
    CHECK(upstream.IdleConnections() == 0);
  }
}

TEST_CASE("upstream: an answer over 1 GiB is refused from its Content-Length") {
  ScriptedReplica replica([](int fd, int, const std::string&) {
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n{");
    return true;
  });
  PooledUpstream upstream;
  const Outcome outcome = Send(upstream, replica);
  CHECK_FALSE(outcome.response.has_value());
  CHECK(outcome.failure == UpstreamFailure::kUnreachable);
  CHECK(outcome.error.ends_with("failed: the answer is over 1 GiB"));
}

TEST_CASE("upstream: a pooled connection the replica closed is retried once on a new one") {
  // Answers keep-alive, then closes anyway (as a replica's idle timeout does).
  ScriptedReplica replica([](int fd, int, const std::string&) {
    WriteAll(fd, kOk);
    return false;
  });
  PooledUpstream upstream;
  REQUIRE(Send(upstream, replica).response.has_value());
  CHECK(upstream.IdleConnections() == 1);
  const Outcome retried = Send(upstream, replica);
  REQUIRE_MESSAGE(retried.response.has_value(), retried.error);
  CHECK(retried.response->status == 200);
  CHECK(replica.connections() == 2);
  CHECK(replica.requests().size() == 2);
}

TEST_CASE("upstream: a replica that refuses connections is kUnreachable") {
  // A port that was free a moment ago: nothing listens there.
  int port = 0;
  {
    ScriptedReplica gone([](int, int, const std::string&) { return false; });
    port = gone.replica().port;
  }
  PooledUpstream upstream;
  UpstreamFailure failure = UpstreamFailure::kTimedOut;
  std::string error;
  CHECK_FALSE(upstream.Send({"127.0.0.1", port, true}, Score(), 1000ms, failure, error));
  CHECK(failure == UpstreamFailure::kUnreachable);
  CHECK(error == "replica 127.0.0.1:" + std::to_string(port) + " failed: Connection refused");
}

}  // namespace
}  // namespace ferry::router

// The Listener over raw sockets on 127.0.0.1: the bytes it writes, answers
// too large for one send, idle connections closed by the sweep, and
// connections spread over workers.
#include "router/listener.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

namespace ferry::router {
namespace {

namespace http = ferry_rt::serve::http;

// A blocking client socket with a 10 s guard on every read.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    const timeval limit{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  auto operator=(const RawClient&) -> RawClient& = delete;

  void Write(std::string_view bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `size` bytes came or the server closed: what came.
  auto Read(std::size_t size) -> std::string {
    std::string got;
    char chunk[65536];
    while (got.size() < size) {
      const ssize_t n = ::recv(fd_, chunk, std::min(sizeof chunk, size - got.size()), 0);
      if (n <= 0) break;
      got.append(chunk, static_cast<std::size_t>(n));
    }
    return got;
  }
  // True when the server closed the connection (read gives end of stream).
  auto ClosedByServer() -> bool {
    char byte = 0;
    return ::recv(fd_, &byte, 1, 0) == 0;
  }

 private:
  int fd_ = -1;
};

auto Start(const ListenerOptions& options, http::Handler handler) -> std::unique_ptr<Listener> {
  std::string error;
  auto listener = Listener::Start(options, std::move(handler), error);
  REQUIRE_MESSAGE(listener != nullptr, error);
  return listener;
}

auto Local() -> ListenerOptions {
  ListenerOptions options;
  options.host = "127.0.0.1";
  options.threads = 2;
  return options;
}

TEST_CASE("listener: the answer's bytes, kept alive, then Connection: close") {
  auto listener = Start(Local(), [](const http::Request& request, http::Response& response) {
    response.status = request.target == "/busy" ? 503 : 200;
    if (request.target == "/busy") response.headers.emplace_back("Retry-After", "1");
    response.body = "{\"got\": \"" + request.body + "\"}";
  });
  RawClient client(listener->port());
  client.Write("POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  const std::string ok =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
      "{\"got\": \"hi\"}";
  CHECK(client.Read(ok.size()) == ok);
  client.Write("GET /busy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string busy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
      "Connection: close\r\nContent-Length: 11\r\n\r\n{\"got\": \"\"}";
  CHECK(client.Read(busy.size()) == busy);
  CHECK(client.ClosedByServer());
}

TEST_CASE("listener: an answer larger than the socket takes at once arrives whole") {
  const std::string large(16 << 20, 'z');
  auto listener = Start(Local(), [&large](const http::Request&, http::Response& response) {
    response.content_type = "text/plain";
    response.body = large;
  });
  RawClient client(listener->port());
  for (int round = 0; round < 2; ++round) {
    client.Write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                             std::to_string(large.size()) + "\r\n\r\n";
    CHECK(client.Read(head.size()) == head);
    CHECK(client.Read(large.size()) == large);
  }
}

TEST_CASE("listener: a connection idle past the read timeout is closed") {
  ListenerOptions options = Local();
  options.read_timeout_ms = 100;
  auto listener = Start(options, [](const http::Request&, http::Response&) {});
  RawClient idle(listener->port());
  CHECK(idle.ClosedByServer());
  // Half a request is no better than none.
  RawClient slow(listener->port());
  slow.Write("POST /score HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345");
  CHECK(slow.ClosedByServer());
}

TEST_CASE("listener: connections are dealt out to every worker") {
  ListenerOptions options = Local();
  options.threads = 4;
  std::mutex mutex;
  std::set<std::thread::id> threads;
  auto listener = Start(options, [&](const http::Request&, http::Response&) {
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  for (int i = 0; i < 4; ++i) {
    RawClient client(listener->port());
    client.Write("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(client.Read(1) == "H");
  }
  std::lock_guard lock(mutex);
  CHECK(threads.size() == 4);
}

}  // namespace
}  // namespace ferry::router

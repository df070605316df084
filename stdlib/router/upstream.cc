#include "router/upstream.h"

// clang-format off
#include <utility>  // first: Boost 1.74's Asio uses std::exchange without including it
// clang-format on

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <cstring>

namespace ferry::router {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Steady = std::chrono::steady_clock;

// A replica's answer is read whole; scoring answers are small, but swagger
// documents and batch outputs can be large.
constexpr std::uint64_t kMaxResponseBytes = std::uint64_t{1} << 30;
// Replicas close idle connections after their read timeout (30 s); drop ours
// well before, so a request rarely meets a connection closed under it.
constexpr auto kMaxIdle = std::chrono::seconds(20);
// Bytes asked of one recv: a scoring answer fits in one.
constexpr std::size_t kReadChunk = std::size_t{64} << 10;

auto Key(const Replica& replica) -> std::string {
  return replica.host + ":" + std::to_string(replica.port);
}

// What went wrong with one exchange; nothing when `what` is empty and it did
// not time out.
struct Fault {
  bool timed_out = false;
  std::string what;
  auto failed() const -> bool { return timed_out || !what.empty(); }
};

auto Errno(int number) -> Fault { return {false, std::strerror(number)}; }

// Waits until `fd` is ready for `events` or `deadline` passes: poll(2) with
// the time left as its timeout, so a connection needs no timer and no epoll
// instance of its own.
auto Wait(int fd, short events, Steady::time_point deadline) -> Fault {
  while (true) {
    const auto left = deadline - Steady::now();
    if (left <= Steady::duration::zero()) return {true, {}};
    // Rounded up: a timeout of 0 would busy-wait through the last millisecond.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(std::min<std::int64_t>(ms, 1 << 30)));
    if (ready > 0) return {};
    if (ready < 0 && errno != EINTR) return Errno(errno);
  }
}

// A non-blocking TCP connection (TCP_NODELAY) to the first of the replica's
// addresses that accepts one before `deadline`.
auto Connect(const Replica& replica, Steady::time_point deadline, int& connected) -> Fault {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(replica.port);
  if (const int code = ::getaddrinfo(replica.host.c_str(), port.c_str(), &hints, &addresses)) {
    return {false, std::string("cannot resolve the host: ") + ::gai_strerror(code)};
  }
  Fault fault{false, "no address"};
  for (const addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
    const int fd = ::socket(address->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      fault = Errno(errno);
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    fault = {};
    if (::connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        fault = Errno(errno);
      } else if (fault = Wait(fd, POLLOUT, deadline); !fault.failed()) {
        int error = 0;
        socklen_t size = sizeof error;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
        if (error != 0) fault = Errno(error);
      }
    }
    if (!fault.failed()) {
      connected = fd;
      break;
    }
    ::close(fd);
    if (fault.timed_out) break;
  }
  ::freeaddrinfo(addresses);
  return fault;
}

// A header value as sent: CR, LF and NUL would end the header early.
void AppendValue(std::string& head, std::string_view value) {
  const std::size_t start = head.size();
  head += value;
  for (std::size_t at = head.find_first_of(std::string_view("\r\n\0", 3), start);
       at != std::string::npos; at = head.find_first_of(std::string_view("\r\n\0", 3), at)) {
    head[at] = ' ';
  }
}

// The request line and headers, as Beast's serializer wrote them.
auto RequestHead(const UpstreamRequest& request, const std::string& host) -> std::string {
  std::string head;
  head.reserve(128 + request.target.size() + request.content_type.size() +
               request.request_id.size());
  AppendValue(head, request.method);
  head += ' ';
  AppendValue(head, request.target);
  head += " HTTP/1.1\r\nHost: ";
  head += host;
  head += "\r\nContent-Type: ";
  AppendValue(head, request.content_type);
  if (!request.request_id.empty()) {
    head += "\r\nX-Request-Id: ";
    AppendValue(head, request.request_id);
  }
  // Beast's prepare_payload: no Content-Length on an empty GET.
  const bool has_body = !request.body.empty() || request.method == "POST" ||
                        request.method == "PUT" || request.method == "PATCH";
  if (has_body) head += "\r\nContent-Length: " + std::to_string(request.body.size());
  head += "\r\n\r\n";
  return head;
}

// Writes head and body with as few sendmsg calls as the socket allows (one
// for a scoring request). MSG_NOSIGNAL: a replica that closed is EPIPE, not SIGPIPE.
auto SendAll(int fd, std::string_view head, std::string_view body, Steady::time_point deadline)
    -> Fault {
  std::array<iovec, 2> parts{iovec{const_cast<char*>(head.data()), head.size()},
                             iovec{const_cast<char*>(body.data()), body.size()}};
  std::size_t first = 0;
  while (first < parts.size()) {
    if (parts[first].iov_len == 0) {
      ++first;
      continue;
    }
    msghdr message{};
    message.msg_iov = &parts[first];
    message.msg_iovlen = parts.size() - first;
    const ssize_t sent = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return Errno(errno);
      if (Fault fault = Wait(fd, POLLOUT, deadline); fault.failed()) return fault;
      continue;
    }
    auto left = static_cast<std::size_t>(sent);
    for (; first < parts.size() && left >= parts[first].iov_len; ++first) {
      left -= parts[first].iov_len;
    }
    if (left > 0) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + left;
      parts[first].iov_len -= left;
    }
  }
  return {};
}

}  // namespace

struct PooledUpstream::Connection {
  int fd = -1;
  // Bytes read but not yet parsed: empty between requests.
  beast::flat_buffer buffer;
  Steady::time_point idle_since;

  Connection() = default;
  Connection(const Connection&) = delete;
  auto operator=(const Connection&) -> Connection& = delete;
  ~Connection() {
    if (fd >= 0) ::close(fd);
  }

  // Reads one answer into `parser`. `started` tells whether any byte of it
  // arrived (a pooled connection closed before that is safe to retry).
  auto Read(bhttp::response_parser<bhttp::string_body>& parser, Steady::time_point deadline,
            bool& started) -> Fault {
    // The answer takes the replica's time: wait before the first recv rather
    // than have it fail with EAGAIN.
    bool wait_first = true;
    while (true) {
      if (buffer.size() > 0) {
        started = true;
        beast::error_code ec;
        const std::size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (!ec && parser.is_done()) return {};
        if (ec == bhttp::error::body_limit) return {false, "the answer is over 1 GiB"};
        if (ec && ec != bhttp::error::need_more)
          return {false, "malformed answer: " + ec.message()};
        if (used > 0 && buffer.size() > 0) continue;
      }
      if (wait_first) {
        if (Fault fault = Wait(fd, POLLIN, deadline); fault.failed()) return fault;
        wait_first = false;
      }
      const ssize_t got = ::recv(fd, buffer.prepare(kReadChunk).data(), kReadChunk, 0);
      if (got > 0) {
        buffer.commit(static_cast<std::size_t>(got));
      } else if (got == 0) {
        // An answer without a length ends with the connection.
        beast::error_code ec;
        if (parser.got_some()) parser.put_eof(ec);
        if (parser.got_some() && !ec && parser.is_done()) return {};
        return {false, started ? "closed the connection mid-answer" : "closed the connection"};
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (Fault fault = Wait(fd, POLLIN, deadline); fault.failed()) return fault;
      } else if (errno != EINTR) {
        return Errno(errno);
      }
    }
  }
};

PooledUpstream::PooledUpstream(std::size_t max_idle_per_replica)
    : max_idle_(max_idle_per_replica) {}

PooledUpstream::~PooledUpstream() = default;

auto PooledUpstream::Take(const std::string& key) -> std::unique_ptr<Connection> {
  std::lock_guard lock(mutex_);
  auto found = idle_.find(key);
  if (found == idle_.end()) return nullptr;
  auto& pool = found->second;
  const auto now = Steady::now();
  while (!pool.empty()) {
    std::unique_ptr<Connection> connection = std::move(pool.back());
    pool.pop_back();
    if (now - connection->idle_since < kMaxIdle) return connection;
  }
  return nullptr;
}

void PooledUpstream::Give(const std::string& key, std::unique_ptr<Connection> connection) {
  connection->idle_since = Steady::now();
  std::lock_guard lock(mutex_);
  auto& pool = idle_[key];
  if (pool.size() < max_idle_) pool.push_back(std::move(connection));
}

auto PooledUpstream::IdleConnections() const -> std::size_t {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& [key, pool] : idle_) count += pool.size();
  return count;
}

auto PooledUpstream::Send(const Replica& replica, const UpstreamRequest& request,
                          std::chrono::milliseconds timeout, UpstreamFailure& failure,
                          std::string& error) -> std::optional<UpstreamResponse> {
  const std::string key = Key(replica);
  const auto deadline = Steady::now() + timeout;
  const std::string head = RequestHead(request, key);

  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> connection = attempt == 0 ? Take(key) : nullptr;
    const bool reused = connection != nullptr;
    Fault fault;
    if (!reused) {
      connection = std::make_unique<Connection>();
      fault = Connect(replica, deadline, connection->fd);
    }
    if (!fault.failed()) fault = SendAll(connection->fd, head, request.body, deadline);
    bhttp::response_parser<bhttp::string_body> parser;
    // Not eager: Beast 1.74's eager parser loses the body_limit error that
    // the header's Content-Length raises, then reserves that many bytes.
    parser.body_limit(kMaxResponseBytes);
    bool started = false;
    if (!fault.failed()) fault = connection->Read(parser, deadline, started);
    if (fault.failed()) {
      // The replica may have closed a pooled connection while it was idle;
      // once part of an answer came, the request was taken and is not resent.
      if (reused && !fault.timed_out && !started) continue;
      failure = fault.timed_out ? UpstreamFailure::kTimedOut : UpstreamFailure::kUnreachable;
      error = fault.timed_out ? "replica " + key + " did not answer within " +
                                    std::to_string(timeout.count()) + " ms"
                              : "replica " + key + " failed: " + fault.what;
      return std::nullopt;
    }
    // Bytes past the answer mean a replica out of step with its requests.
    const bool keep_alive = parser.keep_alive() && connection->buffer.size() == 0;
    bhttp::response<bhttp::string_body> answer = parser.release();
    UpstreamResponse response;
    response.status = static_cast<int>(answer.result_int());
    response.content_type = std::string(answer[bhttp::field::content_type]);
    response.retry_after = std::string(answer[bhttp::field::retry_after]);
    response.body = std::move(answer.body());
    if (keep_alive) Give(key, std::move(connection));
    return response;
  }
  failure = UpstreamFailure::kUnreachable;
  error = "replica " + key + " failed";
  return std::nullopt;
}

}  // namespace ferry::router

#include "router/upstream.h"

// clang-format off
#include <utility>  // first: Boost 1.74's Asio uses std::exchange without including it
// clang-format on

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace ferry::router {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;

// A replica's answer is read whole; scoring answers are small, but swagger
// documents and batch outputs can be large.
constexpr std::uint64_t kMaxResponseBytes = std::uint64_t{1} << 30;
// Replicas close idle connections after their read timeout (30 s); drop ours
// well before, so a request rarely meets a connection closed under it.
constexpr auto kMaxIdle = std::chrono::seconds(20);

auto Key(const Replica& replica) -> std::string {
  return replica.host + ":" + std::to_string(replica.port);
}

}  // namespace

struct PooledUpstream::Connection {
  asio::io_context context{1};
  beast::tcp_stream stream{context};
  beast::flat_buffer buffer;
  Steady::time_point idle_since;

  // Runs the operation `start` begins until it completes or `deadline` passes.
  template <typename Start>
  auto Run(Steady::time_point deadline, Start start) -> beast::error_code {
    beast::error_code result;
    stream.expires_at(deadline);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    context.restart();
    context.run();
    return result;
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
  bhttp::request<bhttp::string_body> message{bhttp::string_to_verb(request.method), request.target,
                                             11};
  message.set(bhttp::field::host, key);
  message.set(bhttp::field::content_type, request.content_type);
  if (!request.request_id.empty()) message.set("X-Request-Id", request.request_id);
  message.keep_alive(true);
  message.body() = request.body;
  message.prepare_payload();

  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> connection = attempt == 0 ? Take(key) : nullptr;
    const bool reused = connection != nullptr;
    beast::error_code ec;
    if (!reused) {
      connection = std::make_unique<Connection>();
      tcp::resolver resolver(connection->context);
      const auto endpoints = resolver.resolve(replica.host, std::to_string(replica.port), ec);
      if (!ec) {
        ec = connection->Run(deadline, [&](auto done) {
          connection->stream.async_connect(endpoints, std::move(done));
        });
      }
      if (!ec) connection->stream.socket().set_option(tcp::no_delay(true), ec);
    }
    if (!ec) {
      ec = connection->Run(deadline, [&](auto done) {
        bhttp::async_write(connection->stream, message, std::move(done));
      });
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    if (!ec) {
      ec = connection->Run(deadline, [&](auto done) {
        bhttp::async_read(connection->stream, connection->buffer, parser, std::move(done));
      });
    }
    if (ec) {
      // The replica may have closed a pooled connection while it was idle.
      if (reused && ec != beast::error::timeout) continue;
      failure =
          ec == beast::error::timeout ? UpstreamFailure::kTimedOut : UpstreamFailure::kUnreachable;
      error = ec == beast::error::timeout ? "replica " + key + " did not answer within " +
                                                std::to_string(timeout.count()) + " ms"
                                          : "replica " + key + " failed: " + ec.message();
      return std::nullopt;
    }
    bhttp::response<bhttp::string_body> answer = parser.release();
    UpstreamResponse response;
    response.status = static_cast<int>(answer.result_int());
    response.content_type = std::string(answer[bhttp::field::content_type]);
    response.retry_after = std::string(answer[bhttp::field::retry_after]);
    response.body = std::move(answer.body());
    if (answer.keep_alive()) Give(key, std::move(connection));
    return response;
  }
  failure = UpstreamFailure::kUnreachable;
  error = "replica " + key + " failed";
  return std::nullopt;
}

}  // namespace ferry::router

// The router's HTTP client to replicas: keep-alive connections pooled per
// replica, so a request normally reuses an idle connection instead of paying
// for a TCP handshake. Plain sockets on the calling thread: one sendmsg for the
// request, then recv, with poll(2) and the time left as its timeout whenever
// the socket has nothing yet (no timer, no event loop per connection); Beast's
// parser reads the answer (Content-Length, chunked, or up to the close).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "router/proxy.h"

namespace ferry::router {

/// An Upstream over pooled keep-alive HTTP/1.1 connections. Thread-safe.
class PooledUpstream : public Upstream {
 public:
  /// Keeps at most `max_idle_per_replica` idle connections to each replica.
  explicit PooledUpstream(std::size_t max_idle_per_replica = 256);
  ~PooledUpstream() override;
  PooledUpstream(const PooledUpstream&) = delete;
  auto operator=(const PooledUpstream&) -> PooledUpstream& = delete;

  /// Sends over an idle connection to the replica (or a new one). A reused
  /// connection that the replica had closed meanwhile (no byte of an answer
  /// came) is retried once on a new connection. Past `timeout`: kTimedOut;
  /// refused, broken, malformed or over 1 GiB: kUnreachable.
  auto Send(const Replica& replica, const UpstreamRequest& request,
            std::chrono::milliseconds timeout, UpstreamFailure& failure, std::string& error)
      -> std::optional<UpstreamResponse> override;

  /// Idle connections currently pooled (for tests).
  auto IdleConnections() const -> std::size_t;

 private:
  struct Connection;
  auto Take(const std::string& key) -> std::unique_ptr<Connection>;
  void Give(const std::string& key, std::unique_ptr<Connection> connection);

  std::size_t max_idle_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

}  // namespace ferry::router

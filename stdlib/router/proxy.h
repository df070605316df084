// The router's request handling, independent of sockets: Proxy::Handle turns
// one http::Request into one http::Response.
//
//   POST <endpoint path>                 /api/v1/service/<endpoint>/score: checked
//                                        (key or token), split by the resolved
//                                        weights, forwarded to a replica
//   GET  /api/v1/service/<e>/swagger.json  the same checks, forwarded to any ready replica
//   GET  /healthz                        200 while the process lives
//   GET  /readyz                         200 once routes are loaded (see docs/router.md);
//                                        /readyz?all: 200 only when every endpoint has a
//                                        ready replica
//   GET  /metrics                        Prometheus text
//
// A version gets requests only while it has a ready replica; within it the
// replica with the fewest outstanding requests below
// max_concurrent_requests_per_replica gets the request. When every replica is
// at that limit the request waits (bounded) for a slot, then gets 503 with
// Retry-After. A replica that fails is not used again until its readiness is
// checked again (ReadinessChecked). An endpoint whose weights sum to 0 answers
// 503 not_serving (the local executor has not assigned it traffic yet). Errors
// are {"error": {"code", "message"}}.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "router/replicas.h"
#include "router/routes.h"
#include "router/split.h"
#include "runtime/serve/auth.h"
#include "runtime/serve/http.h"
#include "runtime/serve/log.h"
#include "runtime/serve/metrics.h"

namespace ferry::router {

namespace http = ferry_rt::serve::http;

/// A request as forwarded to a replica.
struct UpstreamRequest {
  std::string method;
  std::string target;  ///< "/score" or "/swagger.json" (the replica's paths)
  std::string content_type;
  std::string body;
  std::string request_id;  ///< sent as X-Request-Id
};

/// A replica's answer.
struct UpstreamResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string retry_after;  ///< the replica's Retry-After, when it sent one
};

/// Why a forwarded request got no answer.
enum class UpstreamFailure {
  kUnreachable,  ///< could not connect, or the connection broke
  kTimedOut,     ///< no answer within the timeout
};

/// Sends requests to replicas (over kept-alive connections in the real one).
class Upstream {
 public:
  virtual ~Upstream() = default;
  /// Forwards `request` to `replica`; on failure returns nullopt and sets
  /// `failure` and `error` (a message naming the replica, for the client).
  virtual auto Send(const Replica& replica, const UpstreamRequest& request,
                    std::chrono::milliseconds timeout, UpstreamFailure& failure, std::string& error)
      -> std::optional<UpstreamResponse> = 0;
};

/// How the proxy behaves beyond what routes.yaml says.
struct ProxyOptions {
  /// The upstream timeout of versions without `timeout_ms`.
  std::int64_t request_timeout_ms = 60000;
  /// How long a request waits for a replica slot (at most its timeout).
  std::int64_t slot_wait_ms = 5000;
  /// The HTTPS port for redirects (plain scoring requests get 308 to it when
  /// routes' tls.redirect_http is set); unset: no redirects.
  std::optional<int> https_port;
};

/// The replica sets of every version, in routes order: sets[endpoint][version].
/// Borrowed: they must outlive the proxy.
using ReplicaSets = std::vector<std::vector<ReplicaSet*>>;

/// Per endpoint, in routes order: its authenticator (nullptr: mode none).
using Authenticators = std::vector<std::unique_ptr<ferry_rt::serve::Authenticator>>;

/// Creates the endpoints' authenticators from routes' auth sections; on
/// failure returns an empty list and sets `error` (naming the endpoint).
auto MakeAuthenticators(const Routes& routes, std::string& error) -> std::optional<Authenticators>;

/// The router's endpoints. Thread-safe: Handle runs on every worker at once.
class Proxy {
 public:
  /// `routes`, `sets`' pointees, `upstream` and `log` must outlive the proxy.
  Proxy(const Routes& routes, ReplicaSets sets, Authenticators auth, Upstream& upstream,
        ProxyOptions options, ferry_rt::serve::Logger& log);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  auto operator=(const Proxy&) -> Proxy& = delete;

  /// Answers one request; `tls` says whether it came over HTTPS.
  void Handle(const http::Request& request, http::Response& response, bool tls);

  /// In-flight requests of a version (waiting for a slot or forwarded): what
  /// the autoscaler reads.
  auto Busy(std::size_t endpoint, std::size_t version) const -> std::int64_t;

  /// Called after the replica sets' readiness was checked again: replicas
  /// marked failed by a request may be used again if they are ready.
  void ReadinessChecked();

  /// From now on /readyz answers 503 (shutting down: let the load balancer drain).
  void StartDraining();

  /// The Prometheus text /metrics answers.
  auto MetricsText() const -> std::string;

 private:
  struct Version;
  struct Endpoint;
  struct Exchange;
  void Route(const http::Request& request, http::Response& response, bool tls, Exchange& exchange);
  void Forward(Endpoint& endpoint, const http::Request& request, http::Response& response,
               Exchange& exchange, bool swagger);
  auto Acquire(Version& version, std::chrono::steady_clock::time_point deadline)
      -> std::optional<Replica>;
  void Release(Version& version, const Replica& replica);
  auto HasReadyReplica(const Version& version) const -> bool;
  void Ready(const http::Request& request, http::Response& response) const;

  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  Authenticators auth_;
  Upstream& upstream_;
  ProxyOptions options_;
  ferry_rt::serve::Logger& log_;
  std::atomic<bool> draining_{false};
  std::atomic<std::uint64_t> next_request_id_{0};
  std::string id_prefix_;
  mutable ferry_rt::serve::Registry registry_;
  ferry_rt::serve::Family<ferry_rt::serve::Counter>& requests_;
  ferry_rt::serve::Family<ferry_rt::serve::Counter>& auth_failures_;
  ferry_rt::serve::Family<ferry_rt::serve::Counter>& upstream_failures_;
  ferry_rt::serve::Family<ferry_rt::serve::Gauge>& in_flight_;
  ferry_rt::serve::Family<ferry_rt::serve::Gauge>& ready_replicas_;
  ferry_rt::serve::Histogram& duration_;
  ferry_rt::serve::Histogram& routing_;
};

}  // namespace ferry::router

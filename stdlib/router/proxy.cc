#include "router/proxy.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "runtime/json.h"

namespace ferry::router {
namespace {

using Steady = std::chrono::steady_clock;
using ferry_rt::serve::AuthFailureName;
using ferry_rt::serve::Credential;

constexpr std::string_view kApiPrefix = "/api/v1/service/";
// How often a request waiting for a slot looks again at the replicas (new
// ones may have become ready without any slot being freed).
constexpr auto kSlotPoll = std::chrono::milliseconds(50);

auto Key(const Replica& replica) -> std::string {
  return replica.host + ":" + std::to_string(replica.port);
}

auto Seconds(Steady::duration duration) -> double {
  return std::chrono::duration<double>(duration).count();
}

// A client-supplied request id is kept when it is short and plain (it goes
// into logs and headers); otherwise the router makes one.
auto UsableRequestId(std::optional<std::string_view> id) -> bool {
  if (!id || id->empty() || id->size() > 128) return false;
  return std::all_of(id->begin(), id->end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

// The Host header without its port ("[::1]:8080" -> "[::1]").
auto HostName(std::string_view host) -> std::string_view {
  const std::size_t bracket = host.rfind(']');
  const std::size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    return host.substr(0, colon);
  }
  return host;
}

void Unavailable(http::Response& response, std::string_view code, const std::string& message) {
  http::SetError(response, 503, code, message);
  response.headers.emplace_back("Retry-After", "1");
}

}  // namespace

struct Proxy::Version {
  VersionRoute route;
  ReplicaSet* replicas = nullptr;
  std::chrono::milliseconds timeout{0};
  std::atomic<std::int64_t> busy{0};
  ferry_rt::serve::Gauge* in_flight = nullptr;
  mutable std::mutex mutex;
  std::condition_variable slot_freed;
  std::map<std::string, std::int64_t> outstanding;  // by host:port, only non-zero
  std::set<std::string> failed;                     // by host:port, until readiness is checked
  std::size_t rotation = 0;  // where the search for the least busy replica starts
};

struct Proxy::Endpoint {
  EndpointRoute route;
  std::string swagger_path;
  std::unique_ptr<WeightedSplit> split;
  double split_total = 0;  // 0: the local executor has not assigned traffic yet
  std::vector<std::unique_ptr<Version>> versions;
  ferry_rt::serve::Authenticator* auth = nullptr;
};

// What one request did, for its log line and metrics.
struct Proxy::Exchange {
  std::string request_id;
  const Endpoint* endpoint = nullptr;
  const Version* version = nullptr;
  Credential credential = Credential::kNone;
  Steady::duration upstream{0};
};

auto MakeAuthenticators(const Routes& routes, std::string& error) -> std::optional<Authenticators> {
  Authenticators result;
  for (const EndpointRoute& endpoint : routes.endpoints) {
    const auto mode = ferry_rt::serve::ParseAuthMode(endpoint.auth.mode);
    if (!mode) {
      error = "endpoint '" + endpoint.name + "': unknown auth mode '" + endpoint.auth.mode + "'";
      return std::nullopt;
    }
    if (*mode == ferry_rt::serve::AuthMode::kNone) {
      result.push_back(nullptr);
      continue;
    }
    ferry_rt::serve::AuthOptions options;
    options.mode = *mode;
    options.keys_path = endpoint.auth.directory;
    options.audience = endpoint.name;
    std::string why;
    auto auth = ferry_rt::serve::Authenticator::Create(std::move(options), &why);
    if (!auth) {
      error = "endpoint '" + endpoint.name + "': " + why;
      return std::nullopt;
    }
    result.push_back(std::move(auth));
  }
  return result;
}

Proxy::Proxy(const Routes& routes, ReplicaSets sets, Authenticators auth, Upstream& upstream,
             ProxyOptions options, ferry_rt::serve::Logger& log)
    : auth_(std::move(auth)),
      upstream_(upstream),
      options_(std::move(options)),
      log_(log),
      requests_(registry_.AddCounter("ferry_router_requests_total",
                                     "Scoring requests by endpoint, version and status code.",
                                     {"endpoint", "version", "code"})),
      auth_failures_(registry_.AddCounter("ferry_router_auth_failures_total",
                                          "Requests refused by authentication, by reason.",
                                          {"endpoint", "reason"})),
      upstream_failures_(registry_.AddCounter(
          "ferry_router_upstream_failures_total",
          "Forwarded requests that got no answer from a replica.", {"endpoint", "version"})),
      in_flight_(registry_.AddGauge("ferry_router_in_flight",
                                    "Requests in flight per version (waiting or forwarded).",
                                    {"endpoint", "version"})),
      ready_replicas_(registry_.AddGauge("ferry_router_ready_replicas",
                                         "Ready replicas per version.", {"endpoint", "version"})),
      duration_(registry_
                    .AddHistogram("ferry_router_request_duration_seconds",
                                  "Scoring requests' time in the router, replica included.",
                                  ferry_rt::serve::LatencyBuckets())
                    .With({})),
      routing_(registry_
                   .AddHistogram("ferry_router_routing_seconds",
                                 "Scoring requests' time in the router, replica excluded.",
                                 ferry_rt::serve::LatencyBuckets())
                   .With({})) {
  std::random_device random;
  id_prefix_ = std::to_string(random() % 1000000) + "-";
  for (std::size_t e = 0; e < routes.endpoints.size(); ++e) {
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->route = routes.endpoints[e];
    const std::string& path = endpoint->route.path;
    endpoint->swagger_path = path.substr(0, path.rfind('/')) + "/swagger.json";
    endpoint->auth = e < auth_.size() ? auth_[e].get() : nullptr;
    std::vector<double> weights;
    for (std::size_t v = 0; v < endpoint->route.versions.size(); ++v) {
      auto version = std::make_unique<Version>();
      version->route = endpoint->route.versions[v];
      version->replicas = e < sets.size() && v < sets[e].size() ? sets[e][v] : nullptr;
      version->timeout = std::chrono::milliseconds(
          version->route.timeout_ms.value_or(options_.request_timeout_ms));
      version->in_flight = &in_flight_.With({endpoint->route.name, version->route.name});
      weights.push_back(version->route.weight);
      endpoint->split_total += version->route.weight;
      endpoint->versions.push_back(std::move(version));
    }
    endpoint->split = std::make_unique<WeightedSplit>(weights);
    endpoints_.push_back(std::move(endpoint));
  }
}

Proxy::~Proxy() = default;

void Proxy::Handle(const http::Request& request, http::Response& response, bool tls) {
  const auto start = Steady::now();
  Exchange exchange;
  const auto given_id = request.Header("X-Request-Id");
  exchange.request_id = UsableRequestId(given_id)
                            ? std::string(*given_id)
                            : id_prefix_ + std::to_string(next_request_id_.fetch_add(1));
  Route(request, response, tls, exchange);
  response.headers.emplace_back("X-Request-Id", exchange.request_id);
  const auto elapsed = Steady::now() - start;
  if (exchange.endpoint != nullptr) {
    const std::string version = exchange.version ? exchange.version->route.name : "";
    requests_.With({exchange.endpoint->route.name, version, std::to_string(response.status)}).Inc();
    duration_.Observe(Seconds(elapsed));
    routing_.Observe(Seconds(elapsed - exchange.upstream));
    log_.Request({request.method, request.target, response.status,
                  std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count(),
                  static_cast<std::int64_t>(response.body.size()), exchange.request_id,
                  exchange.credential});
  }
}

void Proxy::Route(const http::Request& request, http::Response& response, bool tls,
                  Exchange& exchange) {
  const std::string_view path = request.Path();
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
    if (request.method != "GET" && request.method != "HEAD") {
      http::SetError(response, 405, "method_not_allowed", "use GET");
      response.headers.emplace_back("Allow", "GET");
    } else if (path == "/healthz") {
      response.body = "{\"status\": \"ok\"}\n";
    } else if (path == "/readyz") {
      Ready(request, response);
    } else {
      response.content_type = "text/plain; version=0.0.4";
      response.body = MetricsText();
    }
    return;
  }
  Endpoint* endpoint = nullptr;
  bool swagger = false;
  for (const auto& candidate : endpoints_) {
    if (path == candidate->route.path || path == candidate->swagger_path) {
      endpoint = candidate.get();
      swagger = path == candidate->swagger_path;
    }
  }
  if (endpoint == nullptr) {
    const bool under_api = path.starts_with(kApiPrefix);
    http::SetError(response, 404, "not_found",
                   under_api ? "no endpoint serves '" + std::string(path) + "'"
                             : "unknown path '" + std::string(path) + "'");
    return;
  }
  exchange.endpoint = endpoint;
  if (!tls && options_.https_port) {
    const auto host = request.Header("Host");
    if (!host) {
      http::SetError(response, 400, "bad_request", "missing Host header");
      return;
    }
    const int port = *options_.https_port;
    std::string location = "https://" + std::string(HostName(*host));
    if (port != 443) location += ":" + std::to_string(port);
    location += request.target;
    http::SetError(response, 308, "https_required", "use " + location);
    response.headers.emplace_back("Location", std::move(location));
    return;
  }
  const std::string_view method = swagger ? "GET" : "POST";
  if (request.method != method) {
    http::SetError(response, 405, "method_not_allowed", "use " + std::string(method));
    response.headers.emplace_back("Allow", std::string(method));
    return;
  }
  if (endpoint->auth != nullptr) {
    const ferry_rt::serve::AuthResult result =
        endpoint->auth->Check(request.Header("Authorization"));
    if (!result.ok()) {
      auth_failures_.With({endpoint->route.name, AuthFailureName(*result.failure)}).Inc();
      http::SetError(response, 401, "unauthorized", result.message);
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
      return;
    }
    exchange.credential = result.credential;
  }
  Forward(*endpoint, request, response, exchange, swagger);
}

auto Proxy::HasReadyReplica(const Version& version) const -> bool {
  if (version.replicas == nullptr) return false;
  const std::vector<Replica> replicas = version.replicas->Replicas();
  std::lock_guard lock(version.mutex);
  return std::any_of(replicas.begin(), replicas.end(), [&](const Replica& replica) {
    return replica.ready && !version.failed.contains(Key(replica));
  });
}

void Proxy::Forward(Endpoint& endpoint, const http::Request& request, http::Response& response,
                    Exchange& exchange, bool swagger) {
  if (!swagger && endpoint.split_total <= 0) {
    Unavailable(response, "not_serving",
                "endpoint '" + endpoint.route.name + "' has no traffic assigned yet");
    return;
  }
  std::vector<bool> eligible;
  for (const auto& version : endpoint.versions) eligible.push_back(HasReadyReplica(*version));
  std::optional<std::size_t> pick;
  if (swagger) {
    // Any ready replica describes the endpoint; the default version's first.
    for (std::size_t v = 0; v < eligible.size(); ++v) {
      if (eligible[v] && (!pick || endpoint.versions[v]->route.is_default)) pick = v;
    }
  } else {
    pick = endpoint.split->Next(eligible);
  }
  if (!pick) {
    Unavailable(response, "no_ready_replica",
                "endpoint '" + endpoint.route.name + "' has no ready replica");
    return;
  }
  Version& version = *endpoint.versions[*pick];
  exchange.version = &version;
  response.headers.emplace_back("X-Ferry-Version", version.route.name);

  version.busy.fetch_add(1, std::memory_order_relaxed);
  version.in_flight->Add(1);
  struct Done {
    Version& version;
    ~Done() {
      version.in_flight->Add(-1);
      version.busy.fetch_sub(1, std::memory_order_relaxed);
    }
  } done{version};

  const auto start = Steady::now();
  const auto deadline = start + version.timeout;
  const auto slot_deadline =
      std::min(deadline, start + std::chrono::milliseconds(options_.slot_wait_ms));
  const std::optional<Replica> replica = Acquire(version, slot_deadline);
  if (!replica) {
    Unavailable(response, "overloaded",
                "every ready replica of version '" + version.route.name +
                    "' is at max_concurrent_requests_per_replica; retry later");
    return;
  }
  UpstreamRequest forwarded;
  forwarded.method = request.method;
  forwarded.target = swagger ? "/swagger.json" : "/score";
  if (const std::size_t query = request.target.find('?'); query != std::string::npos) {
    forwarded.target += request.target.substr(query);
  }
  forwarded.content_type = request.Header("Content-Type").value_or("application/json");
  forwarded.body = request.body;
  forwarded.request_id = exchange.request_id;
  UpstreamFailure failure = UpstreamFailure::kUnreachable;
  std::string error;
  const auto sent = Steady::now();
  const auto remaining =
      std::max(std::chrono::milliseconds(1),
               std::chrono::duration_cast<std::chrono::milliseconds>(deadline - sent));
  std::optional<UpstreamResponse> answer =
      upstream_.Send(*replica, forwarded, remaining, failure, error);
  exchange.upstream = Steady::now() - sent;
  Release(version, *replica);
  if (!answer) {
    upstream_failures_.With({endpoint.route.name, version.route.name}).Inc();
    if (failure == UpstreamFailure::kTimedOut) {
      http::SetError(response, 504, "upstream_timeout", error);
      return;
    }
    {
      std::lock_guard lock(version.mutex);
      version.failed.insert(Key(*replica));
    }
    http::SetError(response, 502, "bad_gateway", error);
    return;
  }
  response.status = answer->status;
  response.content_type = std::move(answer->content_type);
  response.body = std::move(answer->body);
  if (!answer->retry_after.empty())
    response.headers.emplace_back("Retry-After", answer->retry_after);
}

auto Proxy::Acquire(Version& version, Steady::time_point deadline) -> std::optional<Replica> {
  const std::int64_t limit =
      std::max<std::int64_t>(1, version.route.autoscale.max_concurrent_requests_per_replica);
  std::unique_lock lock(version.mutex);
  while (true) {
    const std::vector<Replica> replicas =
        version.replicas ? version.replicas->Replicas() : std::vector<Replica>{};
    std::optional<std::size_t> best;
    std::int64_t best_outstanding = 0;
    bool any_ready = false;
    for (std::size_t k = 0; k < replicas.size(); ++k) {
      const std::size_t i = (version.rotation + k) % replicas.size();
      const Replica& replica = replicas[i];
      const std::string key = Key(replica);
      if (!replica.ready || version.failed.contains(key)) continue;
      any_ready = true;
      const auto found = version.outstanding.find(key);
      const std::int64_t outstanding = found == version.outstanding.end() ? 0 : found->second;
      if (outstanding < limit && (!best || outstanding < best_outstanding)) {
        best = i;
        best_outstanding = outstanding;
      }
    }
    if (best) {
      ++version.outstanding[Key(replicas[*best])];
      ++version.rotation;
      return replicas[*best];
    }
    const auto now = Steady::now();
    if (!any_ready || now >= deadline) return std::nullopt;
    version.slot_freed.wait_until(lock, std::min(deadline, now + kSlotPoll));
  }
}

void Proxy::Release(Version& version, const Replica& replica) {
  {
    std::lock_guard lock(version.mutex);
    const auto found = version.outstanding.find(Key(replica));
    if (found != version.outstanding.end() && --found->second <= 0) {
      version.outstanding.erase(found);
    }
  }
  version.slot_freed.notify_all();
}

auto Proxy::Busy(std::size_t endpoint, std::size_t version) const -> std::int64_t {
  if (endpoint >= endpoints_.size() || version >= endpoints_[endpoint]->versions.size()) return 0;
  return endpoints_[endpoint]->versions[version]->busy.load(std::memory_order_relaxed);
}

void Proxy::ReadinessChecked() {
  for (const auto& endpoint : endpoints_) {
    for (const auto& version : endpoint->versions) {
      {
        std::lock_guard lock(version->mutex);
        version->failed.clear();
      }
      // A replica that became ready may take a request that waits for a slot.
      version->slot_freed.notify_all();
    }
  }
}

void Proxy::StartDraining() { draining_.store(true); }

void Proxy::Ready(const http::Request& request, http::Response& response) const {
  const bool need_all = request.target.find("?all") != std::string::npos;
  bool all = true;
  std::string endpoints;
  for (const auto& endpoint : endpoints_) {
    std::int64_t ready = 0;
    for (const auto& version : endpoint->versions) {
      if (version->replicas == nullptr) continue;
      for (const Replica& replica : version->replicas->Replicas()) ready += replica.ready ? 1 : 0;
    }
    all = all && ready > 0;
    if (!endpoints.empty()) endpoints += ", ";
    endpoints += ferry_rt::json::Quote(endpoint->route.name) +
                 ": {\"ready_replicas\": " + std::to_string(ready) + "}";
  }
  const bool ready = !draining_.load() && (!need_all || all);
  response.status = ready ? 200 : 503;
  response.body = std::string("{\"ready\": ") + (ready ? "true" : "false") +
                  (draining_.load() ? ", \"draining\": true" : "") + ", \"endpoints\": {" +
                  endpoints + "}}\n";
}

auto Proxy::MetricsText() const -> std::string {
  for (const auto& endpoint : endpoints_) {
    for (const auto& version : endpoint->versions) {
      std::int64_t ready = 0;
      if (version->replicas != nullptr) {
        for (const Replica& replica : version->replicas->Replicas()) ready += replica.ready ? 1 : 0;
      }
      ready_replicas_.With({endpoint->route.name, version->route.name})
          .Set(static_cast<double>(ready));
    }
  }
  return registry_.Render();
}

}  // namespace ferry::router

// Proxy::Handle without sockets: an in-memory upstream answers for replicas.
#include "router/proxy.h"

#include <doctest/doctest.h>

#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "router/routes.h"
#include "router_fixtures.h"

namespace ferry::router {
namespace {

using router_test::FixedReplicas;
using router_test::KeptLines;
using router_test::ScratchDir;
using router_test::TwoVersionRoutes;
using router_test::WriteFile;

// Answers {"port": P} for each replica; ports in `down` are unreachable;
// while `hold` is set, requests wait until Release().
class FakeUpstream : public Upstream {
 public:
  auto Send(const Replica& replica, const UpstreamRequest& request,
            std::chrono::milliseconds /*timeout*/, UpstreamFailure& failure, std::string& error)
      -> std::optional<UpstreamResponse> override {
    std::unique_lock lock(mutex_);
    ++sent[replica.port];
    last = request;
    if (down.contains(replica.port)) {
      failure = UpstreamFailure::kUnreachable;
      error = "replica 127.0.0.1:" + std::to_string(replica.port) + " refused the connection";
      return std::nullopt;
    }
    ++waiting;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !hold; });
    --waiting;
    return UpstreamResponse{200, "application/json",
                            "{\"port\": " + std::to_string(replica.port) + "}", ""};
  }
  void Hold() {
    std::lock_guard lock(mutex_);
    hold = true;
  }
  void Release() {
    {
      std::lock_guard lock(mutex_);
      hold = false;
    }
    changed_.notify_all();
  }
  void WaitForWaiting(int count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return waiting >= count; });
  }

  std::map<int, int> sent;
  std::set<int> down;
  UpstreamRequest last;
  bool hold = false;
  int waiting = 0;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
};

auto Header(const http::Response& response, std::string_view name) -> std::string {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

// A proxy over routes text with versions a (replica port 1001) and b (ports
// 2001, 2002).
struct Rig {
  explicit Rig(const std::string& routes_text, ProxyOptions options = {})
      : routes(*ParseRoutes(routes_text, "routes.yaml").routes), log(lines) {
    std::string error;
    auto auth = MakeAuthenticators(routes, error);
    REQUIRE_MESSAGE(auth.has_value(), error);
    proxy = std::make_unique<Proxy>(routes, ReplicaSets{{&a, &b}}, std::move(*auth), upstream,
                                    options, log);
  }
  auto Post(std::string_view authorization = "", bool tls = false) -> http::Response {
    http::Request request{
        "POST", "/api/v1/service/churn/score", {{"Host", "example.com:8080"}}, "{\"data\": [[1]]}"};
    if (!authorization.empty()) request.headers.emplace_back("Authorization", authorization);
    request.headers.emplace_back("Content-Type", "application/json");
    return Send(request, tls);
  }
  auto Send(const http::Request& request, bool tls = false) -> http::Response {
    http::Response response;
    proxy->Handle(request, response, tls);
    return response;
  }

  Routes routes;
  FixedReplicas a{{{"127.0.0.1", 1001, true}}};
  FixedReplicas b{{{"127.0.0.1", 2001, true}, {"127.0.0.1", 2002, true}}};
  FakeUpstream upstream;
  KeptLines lines;
  ferry_rt::serve::Logger log;
  std::unique_ptr<Proxy> proxy;
};

TEST_CASE("proxy: 10,000 requests follow the resolved weights within 2%") {
  Rig rig(TwoVersionRoutes(20, 80));
  std::map<std::string, int> versions;
  for (int i = 0; i < 10000; ++i) {
    const http::Response response = rig.Post();
    REQUIRE(response.status == 200);
    ++versions[Header(response, "X-Ferry-Version")];
  }
  CHECK(versions["a"] == doctest::Approx(2000).epsilon(0.02));
  CHECK(versions["b"] == doctest::Approx(8000).epsilon(0.02));
  // Within b, the two replicas share the load.
  CHECK(rig.upstream.sent[2001] == 4000);
  CHECK(rig.upstream.sent[2002] == 4000);
  CHECK(rig.proxy->MetricsText().find(
            "ferry_router_requests_total{endpoint=\"churn\",version=\"b\",code=\"200\"} 8000") !=
        std::string::npos);
}

TEST_CASE("proxy: the request goes to the replica's /score with body, type and request id") {
  Rig rig(TwoVersionRoutes(0, 100));
  http::Request request{"POST",
                        "/api/v1/service/churn/score?verbose=1",
                        {{"Content-Type", "application/octet-stream"}, {"X-Request-Id", "abc-1"}},
                        std::string("\x01\x02", 2)};
  const http::Response response = rig.Send(request);
  CHECK(response.status == 200);
  CHECK(response.body == "{\"port\": 2001}");
  CHECK(Header(response, "X-Request-Id") == "abc-1");
  CHECK(Header(response, "X-Ferry-Version") == "b");
  CHECK(rig.upstream.last.target == "/score?verbose=1");
  CHECK(rig.upstream.last.content_type == "application/octet-stream");
  CHECK(rig.upstream.last.body == std::string("\x01\x02", 2));
  CHECK(rig.upstream.last.request_id == "abc-1");
  // An id that is not plain text is replaced by the router's own.
  request.headers[1].second = "no spaces please";
  CHECK(Header(rig.Send(request), "X-Request-Id") != "no spaces please");
  CHECK(rig.lines.Text().find("\"request_id\":\"abc-1\"") != std::string::npos);
}

TEST_CASE("proxy: a version without a ready replica gets no traffic") {
  Rig rig(TwoVersionRoutes(50, 50));
  rig.a.SetReady(0, false);
  for (int i = 0; i < 100; ++i) CHECK(Header(rig.Post(), "X-Ferry-Version") == "b");
  CHECK(rig.upstream.sent[1001] == 0);
  rig.a.SetReady(0, true);
  std::map<std::string, int> versions;
  for (int i = 0; i < 100; ++i) ++versions[Header(rig.Post(), "X-Ferry-Version")];
  CHECK(versions["a"] == 50);
  CHECK(versions["b"] == 50);
}

TEST_CASE("proxy: no ready replica at all is 503 with Retry-After") {
  Rig rig(TwoVersionRoutes(50, 50));
  rig.a.SetReady(0, false);
  rig.b.SetReady(0, false);
  rig.b.SetReady(1, false);
  const http::Response response = rig.Post();
  CHECK(response.status == 503);
  CHECK(Header(response, "Retry-After") == "1");
  CHECK(response.body.find("\"no_ready_replica\"") != std::string::npos);
  // /readyz: the router serves; ?all asks whether every endpoint can answer.
  CHECK(rig.Send({"GET", "/readyz", {}, ""}).status == 200);
  const http::Response all = rig.Send({"GET", "/readyz?all", {}, ""});
  CHECK(all.status == 503);
  CHECK(all.body == "{\"ready\": false, \"endpoints\": {\"churn\": {\"ready_replicas\": 0}}}\n");
}

TEST_CASE("proxy: a replica that fails is 502 and unused until readiness is checked again") {
  Rig rig(TwoVersionRoutes(0, 100));
  rig.upstream.down.insert(2001);
  const http::Response failed = rig.Post();
  CHECK(failed.status == 502);
  CHECK(failed.body.find("\"bad_gateway\"") != std::string::npos);
  CHECK(failed.body.find("127.0.0.1:2001") != std::string::npos);
  for (int i = 0; i < 10; ++i) CHECK(rig.Post().status == 200);
  CHECK(rig.upstream.sent[2001] == 1);
  CHECK(rig.upstream.sent[2002] == 10);
  rig.upstream.down.clear();
  rig.proxy->ReadinessChecked();
  for (int i = 0; i < 10; ++i) CHECK(rig.Post().status == 200);
  CHECK(rig.upstream.sent[2001] == 6);
}

TEST_CASE("proxy: replicas at max_concurrent_requests_per_replica: wait, then 503") {
  ProxyOptions options;
  options.slot_wait_ms = 100;
  Rig rig(TwoVersionRoutes(100, 0), options);
  rig.upstream.Hold();
  auto first = std::async(std::launch::async, [&] { return rig.Post(); });
  rig.upstream.WaitForWaiting(1);
  CHECK(rig.proxy->Busy(0, 0) == 1);
  const http::Response second = rig.Post();  // a's one replica is busy: waits 100 ms, then 503
  CHECK(second.status == 503);
  CHECK(Header(second, "Retry-After") == "1");
  CHECK(second.body.find("max_concurrent_requests_per_replica") != std::string::npos);
  // A request that waits gets the slot as soon as the first one finishes.
  options.slot_wait_ms = 60000;
  Rig patient(TwoVersionRoutes(100, 0), options);
  patient.upstream.Hold();
  auto held = std::async(std::launch::async, [&] { return patient.Post(); });
  patient.upstream.WaitForWaiting(1);
  auto queued = std::async(std::launch::async, [&] { return patient.Post(); });
  while (patient.proxy->Busy(0, 0) < 2) std::this_thread::yield();
  CHECK(patient.upstream.sent[1001] == 1);
  patient.upstream.Release();
  CHECK(held.get().status == 200);
  CHECK(queued.get().status == 200);
  CHECK(patient.proxy->Busy(0, 0) == 0);
  rig.upstream.Release();
  CHECK(first.get().status == 200);
}

TEST_CASE("proxy: key auth") {
  ScratchDir keys;
  WriteFile(keys / "primary", "key-one");
  WriteFile(keys / "secondary", "key-two");
  Rig rig(TwoVersionRoutes(0, 100, "key", keys.path()));
  const http::Response missing = rig.Post();
  CHECK(missing.status == 401);
  CHECK(Header(missing, "WWW-Authenticate") == "Bearer");
  CHECK(missing.body.find("\"unauthorized\"") != std::string::npos);
  CHECK(rig.Post("Bearer key-three").status == 401);
  CHECK(rig.Post("key-one").status == 401);  // not a Bearer credential
  CHECK(rig.Post("Bearer key-one").status == 200);
  CHECK(rig.Post("Bearer key-two").status == 200);
  CHECK(rig.upstream.sent[2001] + rig.upstream.sent[2002] == 2);
  // Credentials never reach the log.
  CHECK(rig.lines.Text().find("key-") == std::string::npos);
  CHECK(rig.lines.Text().find("\"auth\":\"secondary\"") != std::string::npos);
}

TEST_CASE("proxy: token auth") {
  ScratchDir keys;
  WriteFile(keys / "signing-key", "sign-here");
  Rig rig(TwoVersionRoutes(0, 100, "token", keys.path()));
  const std::int64_t now = ferry_rt::serve::SystemClock()();
  auto token = [&](std::string_view key, std::int64_t exp, std::string audience) {
    ferry_rt::serve::TokenClaims claims;
    claims.exp = exp;
    claims.aud = std::move(audience);
    return "Bearer " + ferry_rt::serve::SignToken(key, claims);
  };
  CHECK(rig.Post(token("sign-here", now + 3600, "churn")).status == 200);
  const http::Response expired = rig.Post(token("sign-here", now - 10, "churn"));
  CHECK(expired.status == 401);
  CHECK(expired.body.find("expired") != std::string::npos);
  CHECK(rig.Post(token("forged-key", now + 3600, "churn")).status == 401);
  CHECK(rig.Post(token("sign-here", now + 3600, "other")).status == 401);
  CHECK(rig.Post().status == 401);
  CHECK(rig.proxy->MetricsText().find(
            "ferry_router_auth_failures_total{endpoint=\"churn\",reason=\"expired\"} 1") !=
        std::string::npos);
}

TEST_CASE("proxy: plain HTTP scoring requests are redirected to HTTPS, probes are not") {
  ProxyOptions options;
  options.https_port = 8443;
  Rig rig(TwoVersionRoutes(0, 100), options);
  const http::Response redirect = rig.Post();
  CHECK(redirect.status == 308);
  CHECK(Header(redirect, "Location") == "https://example.com:8443/api/v1/service/churn/score");
  CHECK(rig.upstream.sent.empty());
  CHECK(rig.Post("", true).status == 200);
  CHECK(rig.Send({"GET", "/healthz", {}, ""}).status == 200);
  CHECK(rig.Send({"GET", "/readyz", {}, ""}).status == 200);
}

TEST_CASE("proxy: swagger.json, wrong methods and unknown paths") {
  Rig rig(TwoVersionRoutes(20, 80));
  const http::Response swagger = rig.Send({"GET", "/api/v1/service/churn/swagger.json", {}, ""});
  CHECK(swagger.status == 200);
  CHECK(rig.upstream.last.target == "/swagger.json");
  CHECK(rig.upstream.last.method == "GET");
  const http::Response get_score = rig.Send({"GET", "/api/v1/service/churn/score", {}, ""});
  CHECK(get_score.status == 405);
  CHECK(Header(get_score, "Allow") == "POST");
  CHECK(rig.Send({"POST", "/api/v1/service/churn/swagger.json", {}, ""}).status == 405);
  const http::Response unknown = rig.Send({"POST", "/api/v1/service/other/score", {}, ""});
  CHECK(unknown.status == 404);
  CHECK(unknown.body.find("no endpoint serves '/api/v1/service/other/score'") != std::string::npos);
  CHECK(rig.Send({"GET", "/", {}, ""}).status == 404);
  CHECK(rig.Send({"POST", "/healthz", {}, ""}).status == 405);
  rig.proxy->StartDraining();
  CHECK(rig.Send({"GET", "/readyz", {}, ""}).status == 503);
}

TEST_CASE("proxy: an endpoint whose weights sum to 0 answers 503 not_serving") {
  Rig rig(TwoVersionRoutes(0, 0));
  const http::Response response = rig.Post();
  CHECK(response.status == 503);
  CHECK(response.body.find("\"not_serving\"") != std::string::npos);
  CHECK(response.body.find("endpoint 'churn' has no traffic assigned yet") != std::string::npos);
  CHECK(Header(response, "Retry-After") == "1");
  CHECK(rig.upstream.sent.empty());
  // The replicas are ready: /readyz?all says so (the local executor waits for it).
  http::Request ready{"GET", "/readyz?all", {}, ""};
  CHECK(rig.Send(ready).status == 200);
}

}  // namespace
}  // namespace ferry::router

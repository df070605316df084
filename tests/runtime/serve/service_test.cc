// serve/server.h: the endpoints, auth and limits, request in and response
// out without sockets (server_test.cc runs the same over HTTP).
#include "runtime/serve/server.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "tests/cli/process_util.h"
#include "tests/runtime/serve/fixture.h"

namespace ferry_rt::serve {
namespace {

using testing::Auth;
using testing::CaptureSink;
using testing::Fixture;
using testing::Gate;
using testing::LinearModel;

auto HeaderOf(const http::Response& response, std::string_view name) -> std::string {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "(none)";
}

constexpr const char* kTwoRows = R"({"data": [[1, 1, 1], [2, 0, 0]]})";

TEST_CASE("health answers during load; ready and scoring only after it") {
  Fixture f(ServiceOptions{.threads = 2});
  CHECK(f.Call("GET", "/healthz").status == 200);
  const http::Response not_ready = f.Call("GET", "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(HeaderOf(not_ready, "Retry-After") == "1");
  CHECK(f.Score(kTwoRows).status == 503);
  CHECK(f.counts->instances == 0);
  REQUIRE(f.service->Load());
  CHECK(f.counts->instances == 2);  // one per worker thread
  CHECK(f.Call("GET", "/readyz").status == 200);
  const http::Response scored = f.Score(kTwoRows);
  CHECK(scored.status == 200);
  CHECK(scored.body == "{\"outputs\": {\"y\": [[6.5],[2.5]]}}\n");
  CHECK(HeaderOf(scored, "X-Request-Id").size() > 8);
}

TEST_CASE("a model that fails to load keeps /readyz at 503 saying why") {
  CaptureSink sink;
  Logger log(sink);
  std::string error;
  auto auth = Authenticator::Create({}, &error);
  Service service({}, {ModelSource{"broken", []() -> std::unique_ptr<Model> {
                                     throw Error("weights.bin: sha256 mismatch");
                                   }}},
                  *auth, log);
  CHECK(!service.Load());
  http::Response response;
  service.Handle({"GET", "/readyz", {}, ""}, response);
  CHECK(response.status == 503);
  CHECK(response.body ==
        "{\"error\": {\"code\": \"load_failed\", \"message\": \"the model failed to load: "
        "weights.bin: sha256 mismatch\"}}\n");
}

TEST_CASE("raw float32 bodies score like JSON rows") {
  Fixture f(ServiceOptions{});
  REQUIRE(f.service->Load());
  const float rows[] = {1, 1, 1, 2, 0, 0};
  std::string bytes(sizeof(rows), '\0');
  std::memcpy(bytes.data(), rows, sizeof(rows));
  const http::Response response =
      f.Score(bytes, {{"content-type", "application/octet-stream"}});
  CHECK(response.status == 200);
  CHECK(response.body == f.Score(kTwoRows).body);
}

TEST_CASE("bad requests get 4xx with a message naming the problem") {
  Fixture f(ServiceOptions{});
  REQUIRE(f.service->Load());
  const auto check = [&f](const http::Response& response, int status, const std::string& body) {
    CHECK(response.status == status);
    CHECK(response.body == body);
  };
  check(f.Score(R"({"data": [[1, 2, 3]])"), 400,
        "{\"error\": {\"code\": \"bad_request\", \"message\": \"malformed JSON: "
        "bad JSON at byte 20: unexpected end of input\"}}\n");
  check(f.Score(R"({"data": [[1, 2]]})"), 400,
        "{\"error\": {\"code\": \"bad_request\", \"message\": \"input 'x': each row needs 3 "
        "values, got 2\"}}\n");
  check(f.Score(R"({"data": [["a", "b", "c"]]})"), 400,
        "{\"error\": {\"code\": \"bad_request\", \"message\": \"input 'x' takes float32 values "
        "(numbers); row 0 has a string\"}}\n");
  check(f.Score(R"({"data": [[1, 2, 3]], "model": "other"})"), 400,
        "{\"error\": {\"code\": \"bad_request\", \"message\": \"no model 'other' in this "
        "bundle\"}}\n");
  check(f.Score("x", {{"Content-Type", "text/plain"}}), 415,
        "{\"error\": {\"code\": \"unsupported_media_type\", \"message\": \"POST /score takes "
        "application/json, application/octet-stream, image/png or image/jpeg, not "
        "'text/plain'\"}}\n");
  check(f.Score("\x89PNG", {{"Content-Type", "image/png"}}), 400,
        "{\"error\": {\"code\": \"bad_request\", \"message\": \"input 'x' takes no images; "
        "send JSON rows\"}}\n");
  const http::Response get_score = f.Call("GET", "/score");
  check(get_score, 405,
        "{\"error\": {\"code\": \"method_not_allowed\", \"message\": \"this path answers POST "
        "only\"}}\n");
  CHECK(HeaderOf(get_score, "Allow") == "POST");
  CHECK(f.Call("POST", "/healthz").status == 405);
  check(f.Call("GET", "/nowhere"), 404,
        "{\"error\": {\"code\": \"not_found\", \"message\": \"no such path; try POST /score, "
        "GET /swagger.json, /healthz, /readyz or /metrics\"}}\n");
  check(f.Call("GET", "/swagger.json"), 404,
        "{\"error\": {\"code\": \"no_swagger\", \"message\": \"this bundle has no swagger.json "
        "(render it with a ferry that writes one)\"}}\n");
}

TEST_CASE("swagger.json is the bundle's file, read at start") {
  ferry::testing::TempDir dir;
  const std::string path = dir.Write("swagger.json", "{\"openapi\": \"3.0.0\"}\n");
  Fixture f(ServiceOptions{.swagger_path = path});
  std::filesystem::remove(path);  // read at start: later changes do not matter
  const http::Response response = f.Call("GET", "/swagger.json");
  CHECK(response.status == 200);
  CHECK(response.body == "{\"openapi\": \"3.0.0\"}\n");
}

TEST_CASE("metrics count requests by code, and the log has one line per request") {
  Fixture f(ServiceOptions{});
  REQUIRE(f.service->Load());
  f.Score(kTwoRows);
  f.Score(kTwoRows);
  f.Score("{");
  const http::Response metrics = f.Call("GET", "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.content_type == "text/plain; version=0.0.4");
  CHECK(metrics.body.find("ferry_requests_total{code=\"200\"} 2\n") != std::string::npos);
  CHECK(metrics.body.find("ferry_requests_total{code=\"400\"} 1\n") != std::string::npos);
  CHECK(metrics.body.find("ferry_request_duration_seconds_count 3\n") != std::string::npos);
  CHECK(metrics.body.find("ferry_requests_in_flight 0\n") != std::string::npos);
  CHECK(metrics.body.find("ferry_model_load_seconds ") != std::string::npos);
  const std::string log = f.sink.text();
  CHECK(log.find("\"method\":\"POST\",\"path\":\"/score\",\"status\":400") != std::string::npos);
}

TEST_CASE("key auth: missing, wrong, primary, secondary, and a regenerated key") {
  ferry::testing::TempDir dir;
  dir.Write("keys/primary", "key-one");
  dir.Write("keys/secondary", "key-two");
  Fixture f(ServiceOptions{}, Auth(AuthMode::kKey, dir.path() + "/keys"));
  REQUIRE(f.service->Load());
  const http::Response missing = f.Score(kTwoRows);
  CHECK(missing.status == 401);
  CHECK(HeaderOf(missing, "WWW-Authenticate") == "Bearer");
  CHECK(missing.body.find("\"code\": \"missing\"") != std::string::npos);
  const http::Response wrong = f.Score(kTwoRows, {{"Authorization", "Bearer key-three"}});
  CHECK(wrong.status == 401);
  CHECK(wrong.body.find("\"code\": \"unknown_key\"") != std::string::npos);
  CHECK(f.Score(kTwoRows, {{"Authorization", "Bearer key-one"}}).status == 200);
  CHECK(f.Score(kTwoRows, {{"authorization", "Bearer key-two"}}).status == 200);
  // Health, readiness and metrics need no key (probes and Prometheus).
  CHECK(f.Call("GET", "/readyz").status == 200);

  // The primary is regenerated: after the once-a-second check the new key
  // works and the old one no longer does, without a restart.
  dir.Write("keys/primary", "key-one-regenerated");
  f.now += 2;
  CHECK(f.Score(kTwoRows, {{"Authorization", "Bearer key-one"}}).status == 401);
  CHECK(f.Score(kTwoRows, {{"Authorization", "Bearer key-one-regenerated"}}).status == 200);
  const std::string log = f.sink.text();
  CHECK(log.find("\"auth\":\"secondary\"") != std::string::npos);
  for (const char* secret : {"key-one", "key-two", "key-three"}) {
    CHECK_MESSAGE(log.find(secret) == std::string::npos, secret, " appears in the log");
  }
}

TEST_CASE("token auth: valid, expired, forged, wrong audience, alg none") {
  ferry::testing::TempDir dir;
  const std::string keys = dir.Write("keys.txt", "signing-key: sign-me\n");
  Fixture f(ServiceOptions{},
            Auth(AuthMode::kToken, keys, "faq"));
  REQUIRE(f.service->Load());
  const std::int64_t now = f.now.load();
  const auto bearer = [](const std::string& token) {
    return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + token}};
  };
  const std::string valid = SignToken("sign-me", {.exp = now + 60, .refresh_by = now + 30,
                                                  .aud = "faq", .iss = "ferry"});
  CHECK(f.Score(kTwoRows, bearer(valid)).status == 200);
  const auto code = [&](const std::string& token) {
    const http::Response response = f.Score(kTwoRows, bearer(token));
    CHECK(response.status == 401);
    CHECK(HeaderOf(response, "WWW-Authenticate") == "Bearer");
    return response.body.substr(0, response.body.find("\", \"message\""));
  };
  CHECK(code(SignToken("sign-me", {.exp = now - 1, .refresh_by = {}, .aud = "faq", .iss = "ferry"})) ==
        "{\"error\": {\"code\": \"expired");
  CHECK(code(SignToken("not-the-key", {.exp = now + 60, .refresh_by = {}, .aud = "faq", .iss = "ferry"})) ==
        "{\"error\": {\"code\": \"bad_signature");
  CHECK(code(SignToken("sign-me", {.exp = now + 60, .refresh_by = {}, .aud = "other", .iss = "ferry"})) ==
        "{\"error\": {\"code\": \"wrong_audience");
  // alg "none": the header {"alg":"none","typ":"JWT"}, the valid token's claims, no signature.
  const std::string claims = valid.substr(valid.find('.') + 1, valid.rfind('.') - valid.find('.') - 1);
  CHECK(code("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + claims + ".") ==
        "{\"error\": {\"code\": \"bad_algorithm");
  CHECK(f.sink.text().find(valid) == std::string::npos);
}

TEST_CASE("over max concurrent answers 503 at once; the held request still completes") {
  auto gate = std::make_shared<Gate>();
  Fixture f(ServiceOptions{.threads = 2, .max_concurrent = 1}, {}, gate);
  REQUIRE(f.service->Load());
  http::Response held;
  std::thread first([&] { held = f.Score(kTwoRows); });
  gate->AwaitWaiting(1);  // the first request is inside the model
  const http::Response busy = f.Score(kTwoRows);
  CHECK(busy.status == 503);
  CHECK(HeaderOf(busy, "Retry-After") == "1");
  CHECK(busy.body.find("\"code\": \"too_busy\"") != std::string::npos);
  gate->Open();
  first.join();
  CHECK(held.status == 200);
  CHECK(f.Score(kTwoRows).status == 200);
}

TEST_CASE("a request not answered within the timeout gets 504") {
  auto gate = std::make_shared<Gate>();
  Fixture f(ServiceOptions{.request_timeout_ms = 1}, {}, gate);
  REQUIRE(f.service->Load());
  http::Response late;
  std::thread client([&] { late = f.Score(kTwoRows); });
  gate->AwaitWaiting(1);
  // Holds the model past the request's deadline (a precondition, not a measurement).
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  gate->Open();
  client.join();
  CHECK(late.status == 504);
  CHECK(late.body.find("\"code\": \"timeout\"") != std::string::npos);
}

TEST_CASE("with batching, concurrent requests share one run and get their own rows") {
  Fixture f(ServiceOptions{.threads = 2, .max_concurrent = 4, .batch_max = 3,
                           .batch_wait_ms = 3'600'000});
  REQUIRE(f.service->Load());
  CHECK(f.counts->instances == 1);  // the batcher's
  std::vector<http::Response> responses(3);
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&, i] {
      responses[i] = f.Score("{\"data\": [[" + std::to_string(i) + ", 0, 0]]}");
    });
  }
  for (auto& client : clients) client.join();
  CHECK(f.counts->runs == 1);
  for (int i = 0; i < 3; ++i) {
    CHECK(responses[i].body ==
          "{\"outputs\": {\"y\": [[" + std::to_string(i) + ".5]]}}\n");
  }
}

TEST_CASE("data collection records each scored request") {
  ferry::testing::TempDir dir;
  {
    Fixture f(ServiceOptions{.collect_dir = dir.path() + "/collect"});
    REQUIRE(f.service->Load());
    CHECK(f.Score(kTwoRows, {{"X-Request-Id", "req-1"}}).status == 200);
  }  // the collector flushes on shutdown
  const std::string lines = ferry::testing::ReadWholeFile(dir.path() + "/collect/collect-1.jsonl");
  CHECK(lines.find("\"request_id\":\"req-1\"") != std::string::npos);
  CHECK(lines.find("\"model\":\"linear\"") != std::string::npos);
  CHECK(lines.find("[[6.5],[2.5]]") != std::string::npos);
}

}  // namespace
}  // namespace ferry_rt::serve

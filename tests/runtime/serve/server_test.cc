// serve/http.h + server.h over real sockets on 127.0.0.1 (ports chosen by
// the OS): keep-alive, the transport's own limits (413 from Content-Length,
// malformed requests), 100-continue, and 503 over --max-concurrent while a
// request is held inside the model.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "tests/runtime/serve/fixture.h"
#include "tests/runtime/serve/http_client.h"

namespace ferry_rt::serve {
namespace {

using testing::Fixture;
using testing::Gate;
using testing::HttpConnection;

constexpr const char* kTwoRows = R"({"data": [[1, 1, 1], [2, 0, 0]]})";
constexpr const char* kJson = "Content-Type: application/json\r\n";

TEST_CASE("one keep-alive connection carries several requests") {
  Fixture f(ServiceOptions{.threads = 2});
  REQUIRE(f.service->Load());
  HttpConnection connection(f.Listen(2));
  REQUIRE(connection.connected());
  for (int i = 0; i < 3; ++i) {
    auto scored = connection.Call("POST", "/score", kTwoRows, kJson);
    REQUIRE(scored);
    CHECK(scored->status == 200);
    CHECK(scored->headers["content-type"] == "application/json");
    CHECK(scored->body == "{\"outputs\": {\"y\": [[6.5],[2.5]]}}\n");
  }
  auto health = connection.Call("GET", "/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto missing = connection.Call("GET", "/nope");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  auto wrong_method = connection.Call("DELETE", "/score");
  REQUIRE(wrong_method);
  CHECK(wrong_method->status == 405);
  CHECK(wrong_method->headers["allow"] == "POST");
  auto metrics = connection.Call("GET", "/metrics");
  REQUIRE(metrics);
  CHECK(metrics->headers["content-type"] == "text/plain; version=0.0.4");
  CHECK(metrics->body.find("ferry_requests_total{code=\"200\"} 4\n") != std::string::npos);
  CHECK(f.counts->runs == 3);
}

TEST_CASE("a body over --max-body-bytes gets 413 from its Content-Length, unread") {
  Fixture f(ServiceOptions{});
  REQUIRE(f.service->Load());
  HttpConnection connection(f.Listen(1, 1024));
  // Announces 100 MB and sends none of it: the answer cannot wait for the body.
  connection.Send(
      "POST /score HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
      "Content-Length: 100000000\r\n\r\n");
  auto reply = connection.Read();
  REQUIRE(reply);
  CHECK(reply->status == 413);
  CHECK(reply->body ==
        "{\"error\": {\"code\": \"body_too_large\", \"message\": \"the request body is "
        "100000000 bytes; this server takes at most 1024\"}}\n");
  CHECK(reply->headers["connection"] == "close");
  CHECK(connection.Closed());
  CHECK(f.counts->runs == 0);
}

TEST_CASE("connections idle or stalled past the read timeout are closed; busy ones are not") {
  Fixture f(ServiceOptions{});
  REQUIRE(f.service->Load());
  const int port = f.Listen(1, std::size_t{1} << 20, 300);
  HttpConnection idle(port);
  HttpConnection stalled(port);
  HttpConnection busy(port);
  REQUIRE(idle.Call("GET", "/healthz"));
  stalled.Send("POST /score HTTP/1.1\r\nHost: test\r\n");  // half a header, then nothing
  // The busy connection asks every 50 ms for 900 ms, three timeouts: each
  // request moves its deadline on.
  const auto start = std::chrono::steady_clock::now();
  int answered = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(900)) {
    auto reply = busy.Call("GET", "/healthz");
    REQUIRE(reply);
    CHECK(reply->status == 200);
    ++answered;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(answered >= 10);
  // Closed by now (300 ms plus at most one 37 ms sweep), with no answer.
  CHECK(idle.Closed());
  CHECK(stalled.Closed());
}

TEST_CASE("a malformed request line gets 400 and the connection closes") {
  Fixture f(ServiceOptions{});
  REQUIRE(f.service->Load());
  HttpConnection connection(f.Listen(1));
  connection.Send("NOT HTTP AT ALL\r\n\r\n");
  auto reply = connection.Read();
  REQUIRE(reply);
  CHECK(reply->status == 400);
  CHECK(reply->body.starts_with(
      "{\"error\": {\"code\": \"bad_request\", \"message\": \"malformed HTTP request: "));
  CHECK(connection.Closed());
}

TEST_CASE("Expect: 100-continue gets its interim answer before the body is sent") {
  Fixture f(ServiceOptions{});
  REQUIRE(f.service->Load());
  HttpConnection connection(f.Listen(1));
  const std::string body = kTwoRows;
  connection.Send(
      "POST /score HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
      "Expect: 100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  auto interim = connection.Read();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  connection.Send(body);
  auto reply = connection.Read();
  REQUIRE(reply);
  CHECK(reply->status == 200);
}

TEST_CASE("over --max-concurrent a request gets 503 with Retry-After at once") {
  auto gate = std::make_shared<Gate>();
  Fixture f(ServiceOptions{.threads = 2, .max_concurrent = 1}, {}, gate);
  REQUIRE(f.service->Load());
  const int port = f.Listen(2);
  // Connections go to the two workers in turn: the first is held in the
  // model on one, the second is answered by the other.
  HttpConnection held(port);
  held.Send(std::string("POST /score HTTP/1.1\r\nHost: t\r\n") + kJson + "Content-Length: " +
            std::to_string(std::string(kTwoRows).size()) + "\r\n\r\n" + kTwoRows);
  gate->AwaitWaiting(1);
  HttpConnection second(port);
  auto busy = second.Call("POST", "/score", kTwoRows, kJson);
  REQUIRE(busy);
  CHECK(busy->status == 503);
  CHECK(busy->headers["retry-after"] == "1");
  auto ready = second.Call("GET", "/readyz");  // the same connection stays usable
  REQUIRE(ready);
  CHECK(ready->status == 200);
  gate->Open();
  auto done = held.Read();
  REQUIRE(done);
  CHECK(done->status == 200);
}

TEST_CASE("the server listens before the models load: healthz 200, readyz 503") {
  Fixture f(ServiceOptions{});
  HttpConnection connection(f.Listen(1));
  auto health = connection.Call("GET", "/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto ready = connection.Call("GET", "/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  REQUIRE(f.service->Load());
  auto now_ready = connection.Call("GET", "/readyz");
  REQUIRE(now_ready);
  CHECK(now_ready->status == 200);
}

}  // namespace
}  // namespace ferry_rt::serve

// The router over real sockets on 127.0.0.1 (ports from the OS): fake
// replicas are Listeners that say which version they are; clients are Beast.
// clang-format off
#include <utility>  // first: Boost 1.74's Asio uses std::exchange without including it
// clang-format on

#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "router/listener.h"
#include "router/proxy.h"
#include "router/routes.h"
#include "router/upstream.h"
#include "router_fixtures.h"

namespace ferry::router {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using router_test::FixedReplicas;
using router_test::KeptLines;
using router_test::ScratchDir;
using router_test::TwoVersionRoutes;

using Answer = bhttp::response<bhttp::string_body>;

auto Message(std::string_view method, std::string_view target, std::string_view body)
    -> bhttp::request<bhttp::string_body> {
  bhttp::request<bhttp::string_body> request{
      bhttp::string_to_verb(beast::string_view(method.data(), method.size())),
      beast::string_view(target.data(), target.size()), 11};
  request.set(bhttp::field::host, "localhost:1");
  request.set(bhttp::field::content_type, "application/json");
  request.body() = std::string(body);
  request.prepare_payload();
  return request;
}

// A keep-alive plain HTTP client.
class Client {
 public:
  explicit Client(int port) : stream_(context_) {
    stream_.connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  }
  auto Send(std::string_view method, std::string_view target, std::string_view body = "")
      -> Answer {
    bhttp::write(stream_, Message(method, target, body));
    Answer answer;
    bhttp::read(stream_, buffer_, answer);
    return answer;
  }

 private:
  asio::io_context context_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// One request over HTTPS (the test's self-signed certificate is not verified).
auto SendTls(int port, std::string_view method, std::string_view target, std::string_view body)
    -> Answer {
  asio::io_context context;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_verify_mode(asio::ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> stream(context, tls);
  beast::get_lowest_layer(stream).connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  stream.handshake(asio::ssl::stream_base::client);
  bhttp::write(stream, Message(method, target, body));
  Answer answer;
  beast::flat_buffer buffer;
  bhttp::read(stream, buffer, answer);
  return answer;
}

// A replica that answers every request with its version's name.
auto FakeReplica(const std::string& version) -> std::unique_ptr<Listener> {
  ListenerOptions options;
  options.host = "127.0.0.1";
  options.threads = 2;
  std::string error;
  auto listener = Listener::Start(
      options,
      [version](const http::Request& request, http::Response& response) {
        response.body = "{\"version\": \"" + version + "\", \"target\": \"" + request.target +
                        "\", \"bytes\": " + std::to_string(request.body.size()) + "}";
      },
      error);
  REQUIRE_MESSAGE(listener != nullptr, error);
  return listener;
}

// The router in front of replica sets a and b, on a plain listener and,
// with `tls_directory`, an HTTPS one (plain scoring requests then redirect).
struct Router {
  Router(const std::string& routes_text, ReplicaSets sets, const std::string& tls_directory = "")
      : routes(*ParseRoutes(routes_text, "routes.yaml").routes), log(lines) {
    std::string error;
    auto auth = MakeAuthenticators(routes, error);
    REQUIRE(auth.has_value());
    ListenerOptions options;
    options.host = "127.0.0.1";
    options.threads = 4;
    if (!tls_directory.empty()) {
      options.certificate_file = tls_directory + "/tls.crt";
      options.key_file = tls_directory + "/tls.key";
      secure = Listener::Start(
          options,
          [this](const http::Request& request, http::Response& response) {
            proxy->Handle(request, response, true);
          },
          error);
      REQUIRE_MESSAGE(secure != nullptr, error);
      proxy_options.https_port = secure->port();
    }
    proxy = std::make_unique<Proxy>(routes, std::move(sets), std::move(*auth), upstream,
                                    proxy_options, log);
    options.certificate_file.clear();
    options.key_file.clear();
    plain = Listener::Start(
        options,
        [this](const http::Request& request, http::Response& response) {
          proxy->Handle(request, response, false);
        },
        error);
    REQUIRE_MESSAGE(plain != nullptr, error);
  }
  ~Router() {
    plain->Stop();
    if (secure) secure->Stop();
  }

  Routes routes;
  KeptLines lines;
  ferry_rt::serve::Logger log;
  ProxyOptions proxy_options;
  PooledUpstream upstream;
  std::unique_ptr<Proxy> proxy;
  std::unique_ptr<Listener> secure;
  std::unique_ptr<Listener> plain;
};

TEST_CASE("router over sockets: 10,000 requests split 20/80 within 2%") {
  auto replica_a = FakeReplica("a");
  auto replica_b = FakeReplica("b");
  FixedReplicas a({{"127.0.0.1", replica_a->port(), true}});
  FixedReplicas b({{"127.0.0.1", replica_b->port(), true}});
  Router router(TwoVersionRoutes(20, 80), {{&a, &b}});
  Client client(router.plain->port());
  std::map<std::string, int> versions;
  for (int i = 0; i < 10000; ++i) {
    const Answer answer = client.Send("POST", "/api/v1/service/churn/score", "{\"data\": [[1]]}");
    REQUIRE(answer.result_int() == 200);
    const std::string version(answer["X-Ferry-Version"]);
    REQUIRE(answer.body() ==
            "{\"version\": \"" + version + "\", \"target\": \"/score\", \"bytes\": 15}");
    ++versions[version];
  }
  CHECK(versions["a"] == doctest::Approx(2000).epsilon(0.02));
  CHECK(versions["b"] == doctest::Approx(8000).epsilon(0.02));
  // Keep-alive upstream: sequential requests reuse one connection per replica.
  CHECK(router.upstream.IdleConnections() == 2);
  const Answer swagger = client.Send("GET", "/api/v1/service/churn/swagger.json");
  CHECK(swagger.result_int() == 200);
  CHECK(swagger.body().find("/swagger.json") != std::string::npos);
}

TEST_CASE("router over sockets: a replica that is down is 502, the other version serves") {
  auto replica_a = FakeReplica("a");
  auto gone = FakeReplica("b");
  const int dead_port = gone->port();
  gone.reset();  // nothing listens there any more
  FixedReplicas a({{"127.0.0.1", replica_a->port(), true}});
  FixedReplicas b({{"127.0.0.1", dead_port, true}});
  Router router(TwoVersionRoutes(0, 100), {{&a, &b}});
  Client client(router.plain->port());
  const Answer failed = client.Send("POST", "/api/v1/service/churn/score", "{}");
  CHECK(failed.result_int() == 502);
  CHECK(failed["Content-Type"] == "application/json");
  CHECK(failed.body().find("\"bad_gateway\"") != std::string::npos);
  // b's only replica is marked failed: the endpoint has no usable version left with weight.
  const Answer after = client.Send("POST", "/api/v1/service/churn/score", "{}");
  CHECK(after.result_int() == 503);
  CHECK(after["Retry-After"] == "1");
  CHECK(client.Send("GET", "/healthz").result_int() == 200);
}

TEST_CASE("router over sockets: HTTPS, and plain scoring requests redirected to it") {
  ScratchDir tls;
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -keyout " +
      (tls / "tls.key") + " -out " + (tls / "tls.crt") + " 2>/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
  auto replica = FakeReplica("b");
  FixedReplicas a({});
  FixedReplicas b({{"127.0.0.1", replica->port(), true}});
  Router router(TwoVersionRoutes(0, 100), {{&a, &b}}, tls.path());
  const Answer secure =
      SendTls(router.secure->port(), "POST", "/api/v1/service/churn/score", "{\"data\": []}");
  CHECK(secure.result_int() == 200);
  CHECK(secure["X-Ferry-Version"] == "b");
  Client client(router.plain->port());
  const Answer redirect = client.Send("POST", "/api/v1/service/churn/score", "{}");
  CHECK(redirect.result_int() == 308);
  CHECK(redirect["Location"] == "https://localhost:" + std::to_string(router.secure->port()) +
                                    "/api/v1/service/churn/score");
  CHECK(client.Send("GET", "/healthz").result_int() == 200);
  CHECK(client.Send("GET", "/readyz").result_int() == 200);
  CHECK(SendTls(router.secure->port(), "GET", "/metrics", "")
            .body()
            .find("ferry_router_requests_total{endpoint=\"churn\",version=\"b\",code=\"200\"} 1") !=
        std::string::npos);
  // A certificate that cannot be read is an error naming the file.
  ListenerOptions broken;
  broken.certificate_file = tls / "missing.crt";
  broken.key_file = tls / "tls.key";
  std::string error;
  CHECK(Listener::Start(
            broken, [](const http::Request&, http::Response&) {}, error) == nullptr);
  CHECK(error.find("missing.crt") != std::string::npos);
}

TEST_CASE("router over sockets: bodies over the limit are 413 without being read") {
  ListenerOptions options;
  options.host = "127.0.0.1";
  options.max_body_bytes = 10;
  std::string error;
  auto listener = Listener::Start(
      options, [](const http::Request&, http::Response&) {}, error);
  REQUIRE(listener != nullptr);
  Client client(listener->port());
  const Answer answer = client.Send("POST", "/x", std::string(11, 'x'));
  CHECK(answer.result_int() == 413);
  CHECK(answer.body().find("\"body_too_large\"") != std::string::npos);
}

auto RunRouter(const std::string& arguments) -> std::pair<int, std::string> {
  const std::string command = std::string(FERRY_ROUTER_BINARY) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  while (std::size_t read = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, read);
  const int status = ::pclose(pipe);
  return {WEXITSTATUS(status), output};
}

TEST_CASE("router program: routes errors and bad flags exit 2 with their locations") {
  ScratchDir dir;
  router_test::WriteFile(dir / "routes.yaml", "format: 2\n");
  CHECK(RunRouter("--routes " + (dir / "routes.yaml") + " --port 0") ==
        std::pair<int, std::string>{
            2, dir / "routes.yaml" +
                   ":1:9: format: unsupported routes format 2 (this router reads format 1)\n"});
  const auto [status, output] = RunRouter("--routes " + (dir / "routes.yaml") + " --port x");
  CHECK(status == 2);
  CHECK(output.starts_with("router: bad value 'x' for --port\nusage: router"));
}

}  // namespace
}  // namespace ferry::router

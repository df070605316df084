// The HTTP/1.1 transport of `serve` (and the router): a server with
// keep-alive that calls one handler per request on its worker threads.
// Everything above this header (endpoints, limits, auth) sees only Request
// and Response, so it is tested without sockets, and the library underneath
// (chosen by measurement: docs/http-library.md) stays out of other headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry_rt::serve::http {

/// One request as the handler sees it: the whole body already read.
struct Request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< the request target: path and query ("/score?x=1")
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first header called `name` (any case), nullopt when absent.
  auto Header(std::string_view name) const -> std::optional<std::string_view>;
  /// The target without its query.
  auto Path() const -> std::string_view;
};

/// The handler's answer.
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  ///< besides Content-Type/-Length
  std::string body;
};

/// The JSON error body every ferry server answers with:
/// {"error": {"code": "...", "message": "..."}} and a newline.
auto ErrorBody(std::string_view code, std::string_view message) -> std::string;

/// Sets `response` to an error: `status`, the JSON error body.
void SetError(Response& response, int status, std::string_view code, std::string_view message);

/// True when two header field names are equal ignoring ASCII case (field
/// names are case-insensitive: RFC 9110, 5.1).
auto HeaderNameEquals(std::string_view a, std::string_view b) -> bool;

/// The reason phrase of a status code ("Not Found").
auto StatusText(int status) -> std::string_view;

/// Called once per request on a worker thread; many run at once.
using Handler = std::function<void(const Request&, Response&)>;

/// How the transport listens.
struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;     ///< 0: a free port chosen by the OS (see Server::port)
  int threads = 0;  ///< worker threads; 0: the number of cores
  /// Bodies above this are answered 413 from their Content-Length, unread.
  std::size_t max_body_bytes = std::size_t{64} << 20;
  /// A connection idle (or sending a request) longer than this is closed.
  std::int64_t read_timeout_ms = 30000;
};

/// A listening HTTP/1.1 server.
class Server {
 public:
  /// Binds and listens (so `port` is known at once) and starts the workers.
  /// Throws ferry_rt::Error naming the address when it cannot bind.
  Server(const ServerOptions& options, Handler handler);
  /// Stops listening, closes connections, joins the workers.
  ~Server();
  Server(const Server&) = delete;
  auto operator=(const Server&) -> Server& = delete;

  /// The port listened on.
  auto port() const -> int;
  /// Stops accepting and returns once the workers have finished. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry_rt::serve::http

// The router's listening side: HTTP/1.1 with keep-alive, plain or TLS
// (Boost.Beast over Boost.Asio, asio::ssl on OpenSSL), calling one handler
// per request with serve's http::Request and http::Response. Its own rather
// than serve's http::Server because the router terminates TLS. Each worker
// thread runs its own io_context and serves the connections dealt to it; the
// handler blocks while the replica answers, so a worker proxies one request at
// a time and the worker count bounds the requests in flight. A TLS listener
// reloads its certificate and key when their files change (see
// ListenerOptions::log).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/serve/http.h"
#include "runtime/serve/log.h"

namespace ferry::router {

/// Where and how a listener listens.
struct ListenerOptions {
  std::string host = "0.0.0.0";
  int port = 0;      ///< 0: a free port chosen by the OS (see Listener::port)
  int threads = 16;  ///< worker threads: requests handled at once (see above)
  /// Bodies above this are answered 413 from their Content-Length, unread.
  std::size_t max_body_bytes = std::size_t{64} << 20;
  /// A connection idle, sending a request or taking its answer longer than
  /// this is closed (checked a few times per timeout, not per operation).
  std::int64_t read_timeout_ms = 30000;
  /// Both set: HTTPS with this PEM certificate chain and private key. Both
  /// files are looked at (stat, following symlinks) once a second; when one
  /// changed, the pair is loaded again and new connections use it, while open
  /// ones keep theirs. A pair that does not load (half written, a key not
  /// matching the certificate) leaves the previous one in use and is tried
  /// again at its next change.
  std::string certificate_file;
  std::string key_file;
  /// Where certificate reloads and failed reloads are reported; may be null.
  ferry_rt::serve::Logger* log = nullptr;
};

/// A listening HTTP or HTTPS server.
class Listener {
 public:
  /// Loads the certificate (if any), binds, listens and starts the workers;
  /// nullptr with `error` set (naming the file or address) on failure.
  static auto Start(const ListenerOptions& options, ferry_rt::serve::http::Handler handler,
                    std::string& error) -> std::unique_ptr<Listener>;
  /// Stops (see Stop).
  ~Listener();
  Listener(const Listener&) = delete;
  auto operator=(const Listener&) -> Listener& = delete;

  /// The port listened on.
  auto port() const -> int;
  /// Whether it serves HTTPS.
  auto tls() const -> bool;
  /// Stops accepting, closes connections and joins the workers. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit Listener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::router

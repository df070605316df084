#include "router/listener.h"

// clang-format off
#include <utility>  // first: Boost 1.74's Asio uses std::exchange without including it
// clang-format on

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <thread>
#include <vector>

namespace ferry::router {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace http = ferry_rt::serve::http;
using tcp = asio::ip::tcp;

struct Shared {
  ListenerOptions options;
  http::Handler handler;
};

auto ToRequest(const bhttp::request<bhttp::string_body>& message) -> http::Request {
  http::Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = message.body();
  return request;
}

auto ToMessage(http::Response response, bool keep_alive) -> bhttp::response<bhttp::string_body> {
  bhttp::response<bhttp::string_body> message;
  message.version(11);
  message.result(static_cast<unsigned>(response.status));
  message.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) message.insert(name, value);
  message.body() = std::move(response.body);
  message.keep_alive(keep_alive);
  message.prepare_payload();
  return message;
}

// One connection: read a request, answer it, repeat while kept alive.
// `Stream` is beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... Args>
  Session(const Shared& shared, Args&&... args)
      : shared_(shared), stream_(std::forward<Args>(args)...) {}

  void Start() {
    if constexpr (kTls) {
      Expire();
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->Read();
                              });
    } else {
      Read();
    }
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void Expire() {
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::milliseconds(shared_.options.read_timeout_ms));
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(shared_.options.max_body_bytes);
    Expire();
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      http::Response response;
      http::SetError(
          response, 413, "body_too_large",
          "the request body is over " + std::to_string(shared_.options.max_body_bytes) + " bytes");
      return Write(std::move(response), false);
    }
    if (ec) return Close();
    const bhttp::request<bhttp::string_body>& message = parser_->get();
    const bool keep_alive = message.keep_alive();
    http::Response response;
    shared_.handler(ToRequest(message), response);
    Write(std::move(response), keep_alive);
  }

  void Write(http::Response response, bool keep_alive) {
    response_ = ToMessage(std::move(response), keep_alive);
    beast::get_lowest_layer(stream_).expires_never();
    bhttp::async_write(stream_, response_,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec || !self->response_.keep_alive()) return self->Close();
                         self->Read();
                       });
  }

  void Close() {
    if constexpr (kTls) {
      Expire();
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  const Shared& shared_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
};

}  // namespace

struct Listener::Impl {
  Shared shared;
  std::optional<asio::ssl::context> ssl;
  asio::io_context context;
  tcp::acceptor acceptor{context};
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  int port = 0;

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        if (ssl) {
          std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(shared, std::move(socket),
                                                                          *ssl)
              ->Start();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(shared, std::move(socket))->Start();
        }
      }
      Accept();
    });
  }
};

Listener::Listener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Listener::~Listener() { Stop(); }

auto Listener::Start(const ListenerOptions& options, http::Handler handler, std::string& error)
    -> std::unique_ptr<Listener> {
  auto impl = std::make_unique<Impl>();
  impl->shared = {options, std::move(handler)};
  if (!options.certificate_file.empty() || !options.key_file.empty()) {
    impl->ssl.emplace(asio::ssl::context::tls_server);
    impl->ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    impl->ssl->use_certificate_chain_file(options.certificate_file, ec);
    if (ec) {
      error = "cannot load the TLS certificate " + options.certificate_file + ": " + ec.message();
      return nullptr;
    }
    impl->ssl->use_private_key_file(options.key_file, asio::ssl::context::pem, ec);
    if (ec) {
      error = "cannot load the TLS key " + options.key_file + ": " + ec.message();
      return nullptr;
    }
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    error = "cannot listen on '" + options.host + "': not an IP address";
    return nullptr;
  }
  const tcp::endpoint endpoint{address, static_cast<unsigned short>(options.port)};
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
            ec.message();
    return nullptr;
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->Accept();
  const int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    impl->threads.emplace_back([context = &impl->context] { context->run(); });
  }
  return std::unique_ptr<Listener>(new Listener(std::move(impl)));
}

auto Listener::port() const -> int { return impl_->port; }

auto Listener::tls() const -> bool { return impl_->ssl.has_value(); }

void Listener::Stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->context, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->context.stop();
  for (std::thread& thread : impl_->threads) thread.join();
}

}  // namespace ferry::router

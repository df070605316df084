#include "router/listener.h"

// clang-format off
#include <utility>  // first: Boost 1.74's Asio uses std::exchange without including it
// clang-format on

// Layout: one io_context per worker thread, run by that thread alone, so a
// connection's reads, handler call and writes never change threads and the
// workers share no queue (one context run by every thread cost about four
// futex calls per request). One acceptor on a thread of its own deals the
// connections out in turn. The tradeoff: the handler blocks while a replica
// answers, and a blocked worker holds its own connections only, so a
// connection may wait behind its neighbour's request while another worker
// idles; ListenerOptions::threads is sized for that (many workers).
//
// Timeouts are deadlines swept by each worker, not a timer per operation:
// beast::tcp_stream re-arms a timer (timerfd_settime) on every read and write.
//
// TLS: the acceptor's thread alone owns the current asio::ssl::context and,
// once a second, stats the certificate and key files; when they changed it
// builds a new context and later accepts use it. Each session holds a
// shared_ptr to the context it was made with, so an old context lives exactly
// as long as its connections. The accept path itself makes no extra calls.

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace ferry::router {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace http = ferry_rt::serve::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ferry_rt::serve::LogField;

struct Shared {
  ListenerOptions options;
  http::Handler handler;
};

auto View(beast::string_view text) -> std::string_view { return {text.data(), text.size()}; }

auto ToRequest(bhttp::request<bhttp::string_body>&& message) -> http::Request {
  http::Request request;
  request.method = std::string(View(message.method_string()));
  request.target = std::string(View(message.target()));
  for (const auto& field : message) {
    request.headers.emplace_back(View(field.name_string()), View(field.value()));
  }
  request.body = std::move(message.body());
  return request;
}

// The status line and headers, as Beast's serializer wrote them for a
// version 1.1 response with prepare_payload.
void AppendHead(const http::Response& response, bool keep_alive, std::string& out) {
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += View(bhttp::obsolete_reason(static_cast<bhttp::status>(response.status)));
  out += "\r\nContent-Type: ";
  out += response.content_type;
  for (const auto& [name, value] : response.headers) {
    out += "\r\n";
    out += name;
    out += ": ";
    out += value;
  }
  if (!keep_alive) out += "\r\nConnection: close";
  out += "\r\nContent-Length: ";
  out += std::to_string(response.body.size());
  out += "\r\n\r\n";
}

// Why a certificate and key pair did not load: the file and OpenSSL's reason.
struct TlsLoadError {
  std::string file;
  std::string reason;
  std::string message;  // both, as one sentence for Listener::Start's error
};

// A server context holding the pair named in `options`, or nullptr and `error`.
auto LoadTlsContext(const ListenerOptions& options, TlsLoadError& error)
    -> std::shared_ptr<asio::ssl::context> {
  ::ERR_clear_error();  // the reason read below must be this load's
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  beast::error_code ec;
  context->use_certificate_chain_file(options.certificate_file, ec);
  if (ec) {
    error = {options.certificate_file, ec.message(),
             "cannot load the TLS certificate " + options.certificate_file + ": " + ec.message()};
    return nullptr;
  }
  context->use_private_key_file(options.key_file, asio::ssl::context::pem, ec);
  if (ec) {
    error = {options.key_file, ec.message(),
             "cannot load the TLS key " + options.key_file + ": " + ec.message()};
    return nullptr;
  }
  // OpenSSL refuses a key of the certificate's type that does not match it,
  // but files a key of another type (RSA for an EC certificate) in a slot of
  // its own, and every handshake would then fail: check the pair as a whole.
  if (::SSL_CTX_check_private_key(context->native_handle()) != 1) {
    const unsigned long code = ::ERR_get_error();
    const std::string reason =
        code != 0
            ? beast::error_code(static_cast<int>(code), asio::error::get_ssl_category()).message()
            : std::string("no private key");
    ::ERR_clear_error();
    error = {options.key_file, reason,
             "the TLS key " + options.key_file + " does not match the certificate " +
                 options.certificate_file + ": " + reason};
    return nullptr;
  }
  return context;
}

// What identifies a file's content without reading it: a kubelet's `..data`
// symlink swap or a rename over changes the inode, a rewrite in place the
// size or mtime. A missing file is all zeros.
struct FileStamp {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t size = 0;
  std::int64_t mtime_s = 0;
  std::int64_t mtime_ns = 0;
  auto operator==(const FileStamp&) const -> bool = default;
};

auto StampOf(const std::string& path) -> FileStamp {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return {};
  return {static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino),
          static_cast<std::int64_t>(info.st_size), static_cast<std::int64_t>(info.st_mtim.tv_sec),
          static_cast<std::int64_t>(info.st_mtim.tv_nsec)};
}

// The certificate's and the key's stamps.
struct PairStamp {
  FileStamp certificate;
  FileStamp key;
  auto operator==(const PairStamp&) const -> bool = default;
};

auto StampOf(const ListenerOptions& options) -> PairStamp {
  return {StampOf(options.certificate_file), StampOf(options.key_file)};
}

class SessionBase;

// A worker thread's io_context and the connections it serves, for the sweep.
// Members in this order: sessions left in the context unlink themselves while
// the context is destroyed, so the list outlives it.
struct Worker {
  std::vector<SessionBase*> sessions;
  asio::io_context context{1};
  asio::steady_timer sweep{context};
};

// What the sweep sees of a connection. Only the worker's thread touches its
// list (or the destructor of its context, after that thread has stopped).
class SessionBase {
 public:
  explicit SessionBase(Worker& worker) : worker_(worker) { worker_.sessions.push_back(this); }
  virtual ~SessionBase() {
    auto& sessions = worker_.sessions;
    sessions.erase(std::find(sessions.begin(), sessions.end(), this));
  }
  SessionBase(const SessionBase&) = delete;
  auto operator=(const SessionBase&) -> SessionBase& = delete;

  // Closes the socket once the deadline has passed, which ends the pending
  // operation with an error.
  void CloseIfPast(Clock::time_point now) {
    if (now < deadline_) return;
    deadline_ = Clock::time_point::max();
    CloseSocket();
  }

 protected:
  virtual void CloseSocket() = 0;
  Worker& worker_;
  Clock::time_point deadline_ = Clock::time_point::max();
};

// One connection: read a request, answer it, repeat while kept alive.
// `Stream` is tcp::socket or beast::ssl_stream<tcp::socket>.
template <typename Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  // `tls_context` (null for plain sessions) is the one `args` refer to.
  template <typename... Args>
  Session(const Shared& shared, Worker& worker, std::shared_ptr<asio::ssl::context> tls_context,
          Args&&... args)
      : SessionBase(worker),
        shared_(shared),
        tls_context_(std::move(tls_context)),
        stream_(std::forward<Args>(args)...) {}

  void Start() {
    if constexpr (kTls) {
      Arm();
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->Read();
                              });
    } else {
      // Writes are tried at once (see Write); asio's own operations are
      // unaffected by the flag.
      beast::error_code ignored;
      stream_.non_blocking(true, ignored);
      Read();
    }
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  // Covers the next read or write; the handler runs on this thread, so no
  // sweep can see a request that is being proxied.
  void Arm() {
    deadline_ = Clock::now() + std::chrono::milliseconds(shared_.options.read_timeout_ms);
  }

  void CloseSocket() override {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).close(ignored);
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(shared_.options.max_body_bytes);
    Arm();
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
    const bool keep_alive = parser_->get().keep_alive();
    http::Response response;
    shared_.handler(ToRequest(parser_->release()), response);
    Write(std::move(response), keep_alive);
  }

  void Write(http::Response response, bool keep_alive) {
    response_ = std::move(response);
    keep_alive_ = keep_alive;
    head_.clear();
    AppendHead(response_, keep_alive_, head_);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(response_.body)};
    if constexpr (!kTls) {
      // An answer usually fits the socket's send buffer: send it now and go
      // straight back to reading, rather than queue a completion for it
      // (which costs the worker one more epoll_wait per request).
      beast::error_code ec;
      std::size_t sent = stream_.write_some(buffers, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        sent = 0;
      }
      if (ec) return Close();
      if (sent == head_.size() + response_.body.size()) return Written();
      const std::size_t from_head = std::min(sent, head_.size());
      buffers = {asio::buffer(head_) + from_head,
                 asio::buffer(response_.body) + (sent - from_head)};
    }
    Arm();
    asio::async_write(stream_, buffers,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->Close();
                        self->Written();
                      });
  }

  void Written() {
    if (!keep_alive_) return Close();
    Read();
  }

  void Close() {
    if constexpr (kTls) {
      Arm();
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        self->deadline_ = Clock::time_point::max();
      });
    } else {
      deadline_ = Clock::time_point::max();
      beast::error_code ignored;
      stream_.shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  const Shared& shared_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // outlives stream_, which uses it
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  http::Response response_;
  std::string head_;
  bool keep_alive_ = true;
};

}  // namespace

// Members are destroyed in reverse order, and the order matters: a pending
// accept (destroyed with accept_context) holds a socket of a worker context,
// and sessions left in a worker context refer to `shared`. So the accept side
// goes first, then the workers, then what sessions refer to.
struct Listener::Impl {
  Shared shared;
  bool tls = false;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  asio::io_context accept_context{1};
  tcp::acceptor acceptor{accept_context};
  // The acceptor's thread alone touches these (after Start): the context new
  // connections get, the stamp of the files it was loaded from, and that of
  // the last pair that failed (so a failure is logged once per change).
  std::shared_ptr<asio::ssl::context> ssl;
  PairStamp loaded_stamp;
  std::optional<PairStamp> failed_stamp;
  asio::steady_timer certificate_check{accept_context};
  std::vector<std::thread> threads;
  std::size_t next_worker = 0;
  std::atomic<bool> stopped{false};
  int port = 0;

  void Accept() {
    Worker& worker = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    acceptor.async_accept(
        worker.context, [this, &worker](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
          if (!ec) {
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            // The session belongs to its worker's thread from its first line on.
            asio::post(worker.context, [this, &worker, context = ssl,
                                        socket = std::move(socket)]() mutable {
              if (context) {
                asio::ssl::context& tls_context = *context;
                std::make_shared<Session<beast::ssl_stream<tcp::socket>>>(
                    shared, worker, std::move(context), std::move(socket), tls_context)
                    ->Start();
              } else {
                std::make_shared<Session<tcp::socket>>(shared, worker, nullptr, std::move(socket))
                    ->Start();
              }
            });
          }
          Accept();
        });
  }

  // Once a second on the acceptor's thread: a changed pair is loaded and used
  // for later accepts; one that fails keeps the current context.
  void CheckCertificate() {
    certificate_check.expires_after(std::chrono::seconds(1));
    certificate_check.async_wait([this](beast::error_code ec) {
      if (ec) return;
      ReloadIfChanged();
      CheckCertificate();
    });
  }

  void ReloadIfChanged() {
    const ListenerOptions& options = shared.options;
    // Stamped before reading, so a change during the read is seen next time.
    const PairStamp stamp = StampOf(options);
    if (stamp == loaded_stamp || stamp == failed_stamp) return;
    TlsLoadError error;
    std::shared_ptr<asio::ssl::context> fresh = LoadTlsContext(options, error);
    if (!fresh) {
      failed_stamp = stamp;
      if (options.log != nullptr) {
        options.log->Error(
            "TLS certificate reload failed; keeping the previous certificate",
            {LogField::Str("file", error.file), LogField::Str("error", error.reason)});
      }
      return;
    }
    ssl = std::move(fresh);
    loaded_stamp = stamp;
    failed_stamp.reset();
    if (options.log != nullptr) {
      options.log->Info("TLS certificate reloaded",
                        {LogField::Str("certificate", options.certificate_file),
                         LogField::Str("key", options.key_file)});
    }
  }

  // Eight sweeps per timeout (at least every 10 ms, at most every second), so
  // a connection is closed within an eighth of the timeout past its deadline.
  auto SweepPeriod() const -> std::chrono::milliseconds {
    return std::chrono::milliseconds(
        std::clamp<std::int64_t>(shared.options.read_timeout_ms / 8, 10, 1000));
  }

  void Sweep(Worker& worker) {
    worker.sweep.expires_after(SweepPeriod());
    worker.sweep.async_wait([this, &worker](beast::error_code ec) {
      if (ec) return;
      const Clock::time_point now = Clock::now();
      // Closing only posts completions; no session leaves the list here.
      for (SessionBase* session : worker.sessions) session->CloseIfPast(now);
      Sweep(worker);
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
    impl->tls = true;
    impl->loaded_stamp = StampOf(options);
    TlsLoadError tls_error;
    impl->ssl = LoadTlsContext(options, tls_error);
    if (!impl->ssl) {
      error = tls_error.message;
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
  const int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    impl->workers.push_back(std::make_unique<Worker>());
    impl->guards.push_back(asio::make_work_guard(impl->workers.back()->context));
    impl->Sweep(*impl->workers.back());
  }
  impl->Accept();
  if (impl->tls) impl->CheckCertificate();
  for (auto& worker : impl->workers) {
    impl->threads.emplace_back([context = &worker->context] { context->run(); });
  }
  impl->threads.emplace_back([raw = impl.get()] { raw->accept_context.run(); });
  return std::unique_ptr<Listener>(new Listener(std::move(impl)));
}

auto Listener::port() const -> int { return impl_->port; }

auto Listener::tls() const -> bool { return impl_->tls; }

void Listener::Stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->accept_context.stop();
  for (auto& worker : impl_->workers) worker->context.stop();
  for (std::thread& thread : impl_->threads) thread.join();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace ferry::router

// http::Server on Boost.Beast (chosen by measurement: docs/http-library.md).
//
// Layout, as measured fastest: one io_context per worker thread, each run by
// its thread alone, so a connection's reads, handler call and writes never
// change threads and nothing is locked. One acceptor on a thread of its own
// hands connections to the workers round robin (so a worker busy scoring
// never delays an accept). The handler runs on the worker's thread: a slow
// model holds that worker's other connections, which is why the number of
// workers is also the number of model instances.
//
// Timeouts are deadlines swept by each worker, not a timer per operation:
// beast::tcp_stream re-arms a timer on every read and write, which cost two
// timerfd_settime calls per request (strace -c on bin/serve under wrk: 2 of
// the 7 system calls a request made). A connection's deadline is a number; a
// timer per worker closes the connections past theirs a few times per timeout.
// clang-format off
#include <utility>  // first: Boost 1.74's asio uses std::exchange without including <utility>
// clang-format on

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "runtime/model.h"
#include "runtime/serve/http.h"

namespace ferry_rt::serve::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

// Boost 1.74's string_view is its own type.
auto View(beast::string_view text) -> std::string_view { return {text.data(), text.size()}; }

using Clock = std::chrono::steady_clock;

class Session;

// A worker thread's io_context and the connections it serves, for the sweep.
// Members in this order: sessions left in the context unlink themselves while
// the context is destroyed, so the list outlives it.
struct Worker {
  std::vector<Session*> sessions;
  asio::io_context context{1};
  asio::steady_timer sweep{context};
};

// One keep-alive connection: read a request, answer it, read the next.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Worker& worker, const ServerOptions& options, const Handler& handler)
      : socket_(std::move(socket)), worker_(worker), options_(options), handler_(handler) {
    worker_.sessions.push_back(this);
  }

  ~Session() {
    // Only the worker's thread touches its list (or the destructor of its
    // context, after that thread has stopped).
    auto& sessions = worker_.sessions;
    sessions.erase(std::find(sessions.begin(), sessions.end(), this));
  }

  void Start() { ReadHeader(); }

  // Called by the worker's sweep: closes the connection once its deadline has
  // passed, which ends the pending read or write with operation_aborted.
  void CloseIfPast(Clock::time_point now) {
    if (now < deadline_) return;
    deadline_ = Clock::time_point::max();
    beast::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(64 * 1024);
    // The body limit is checked from Content-Length in OnHeader (the parser
    // would fail on it as a malformed header), then set for chunked bodies.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    ArmDeadline();
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return Fail(ec);
    const auto& header = parser_->get();
    keep_alive_ = header.keep_alive();
    if (parser_->content_length() && *parser_->content_length() > options_.max_body_bytes) {
      // 413 from the header alone; the unread body makes the connection unusable.
      keep_alive_ = false;
      SetError(response_, 413, "body_too_large",
               "the request body is " + std::to_string(*parser_->content_length()) +
                   " bytes; this server takes at most " + std::to_string(options_.max_body_bytes));
      return Write();
    }
    parser_->body_limit(options_.max_body_bytes);
    const auto expect = header.find(bhttp::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      // curl waits a second for this before sending bodies over 1 KiB (images).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                               [self = shared_from_this()](beast::error_code error, std::size_t) {
                                 if (error) return self->Fail(error);
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRequest(ec); });
  }

  void OnRequest(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      SetError(response_, 413, "body_too_large",
               "the request body is over " + std::to_string(options_.max_body_bytes) + " bytes");
      return Write();
    }
    if (ec) return Fail(ec);
    bhttp::request<bhttp::string_body> message = parser_->release();
    request_.method.assign(View(message.method_string()));
    request_.target.assign(View(message.target()));
    request_.headers.clear();
    for (const auto& field : message) {
      request_.headers.emplace_back(View(field.name_string()), View(field.value()));
    }
    request_.body = std::move(message.body());
    response_.status = 200;
    response_.content_type = "application/json";
    response_.headers.clear();
    response_.body.clear();
    try {
      handler_(request_, response_);
    } catch (const std::exception& /*error*/) {
      SetError(response_, 500, "internal", "the server failed to answer this request");
    }
    Write();
  }

  void Write() {
    // Serialized by hand: the fields are few and known, and one buffer is reused.
    out_.clear();
    out_ += "HTTP/1.1 ";
    out_ += std::to_string(response_.status);
    out_ += ' ';
    out_ += StatusText(response_.status);
    out_ += "\r\nContent-Type: ";
    out_ += response_.content_type;
    out_ += "\r\nContent-Length: ";
    out_ += std::to_string(response_.body.size());
    for (const auto& [name, value] : response_.headers) {
      out_ += "\r\n";
      out_ += name;
      out_ += ": ";
      out_ += value;
    }
    out_ += keep_alive_ ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
    const bool head = request_.method == "HEAD";
    std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(out_), asio::buffer(response_.body.data(), head ? 0 : response_.body.size())};
    ArmDeadline();
    asio::async_write(socket_, buffers,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->Fail(ec);
                        if (!self->keep_alive_) return self->Close();
                        self->request_.method.clear();
                        self->ReadHeader();
                      });
  }

  void Fail(beast::error_code ec) {
    // A malformed request gets a 400 once; disconnects and timeouts just close.
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
        !answered_bad_request_) {
      answered_bad_request_ = true;
      keep_alive_ = false;
      SetError(response_, ec == bhttp::error::header_limit ? 431 : 400, "bad_request",
               "malformed HTTP request: " + ec.message());
      return Write();
    }
    Close();
  }

  void Close() {
    deadline_ = Clock::time_point::max();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  // Covers the next reads or write; the handler runs on this thread, so no
  // sweep can see a request that is being scored.
  void ArmDeadline() {
    deadline_ = Clock::now() + std::chrono::milliseconds(options_.read_timeout_ms);
  }

  tcp::socket socket_;
  Worker& worker_;
  Clock::time_point deadline_ = Clock::time_point::max();
  const ServerOptions& options_;
  const Handler& handler_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;
  Response response_;
  std::string out_;
  bool keep_alive_ = true;
  bool answered_bad_request_ = false;
};

}  // namespace

// Members are destroyed in reverse order, and the order matters: a pending
// accept (destroyed with accept_context) holds a socket of a worker context, and
// sessions left in a worker context hold references to options and handler. So
// the accept side goes first, then the workers, then what sessions refer to.
struct Server::Impl {
  ServerOptions options;
  Handler handler;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  asio::io_context accept_context{1};
  tcp::acceptor acceptor{accept_context};
  std::vector<std::thread> threads;
  std::size_t next_worker = 0;
  int port = 0;
  bool stopped = false;

  void Accept() {
    Worker& worker = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    acceptor.async_accept(
        worker.context, [this, &worker](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted) return;
          if (!ec) {
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            // The session belongs to its worker's thread from its first line on.
            asio::post(worker.context, [this, &worker, socket = std::move(socket)]() mutable {
              std::make_shared<Session>(std::move(socket), worker, options, handler)->Start();
            });
          }
          Accept();
        });
  }

  // Eight sweeps per timeout (at least every 10 ms, at most every second), so
  // a connection is closed within an eighth of the timeout past its deadline.
  auto SweepPeriod() const -> std::chrono::milliseconds {
    return std::chrono::milliseconds(
        std::clamp<std::int64_t>(options.read_timeout_ms / 8, 10, 1000));
  }

  void Sweep(Worker& worker) {
    worker.sweep.expires_after(SweepPeriod());
    worker.sweep.async_wait([this, &worker](beast::error_code ec) {
      if (ec) return;
      const Clock::time_point now = Clock::now();
      // Closing only posts completions; no session leaves the list here.
      for (Session* session : worker.sessions) session->CloseIfPast(now);
      Sweep(worker);
    });
  }
};

Server::Server(const ServerOptions& options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->handler = std::move(handler);
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(threads, 1);
  const std::string where = options.host + ":" + std::to_string(options.port);
  try {
    const tcp::endpoint endpoint{asio::ip::make_address(options.host),
                                 static_cast<unsigned short>(options.port)};
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    impl_->port = impl_->acceptor.local_endpoint().port();
  } catch (const std::exception& error) {
    throw Error("cannot listen on " + where + ": " + error.what());
  }
  for (int i = 0; i < threads; ++i) {
    impl_->workers.push_back(std::make_unique<Worker>());
    impl_->guards.push_back(asio::make_work_guard(impl_->workers.back()->context));
    impl_->Sweep(*impl_->workers.back());
  }
  impl_->Accept();
  for (auto& worker : impl_->workers) {
    impl_->threads.emplace_back([context = &worker->context] { context->run(); });
  }
  impl_->threads.emplace_back([impl = impl_.get()] { impl->accept_context.run(); });
}

Server::~Server() { Stop(); }

auto Server::port() const -> int { return impl_->port; }

void Server::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->accept_context.stop();
  for (auto& worker : impl_->workers) worker->context.stop();
  for (auto& thread : impl_->threads) thread.join();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace ferry_rt::serve::http

// Boost.Beast candidate, third layout: io_context per thread and a plain tcp::socket.
#include <utility>  // Boost 1.74 asio uses std::exchange without including it
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "common.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::atomic<unsigned> g_sink{0};

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : stream_(std::move(socket)) {}
  void Start() { Read(); }

 private:
  void Read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->Close();
                       self->Handle();
                     });
  }
  void Handle() {
    response_ = {};
    response_.version(request_.version());
    response_.keep_alive(request_.keep_alive());
    if (request_.method() == http::verb::post && request_.target() == "/score") {
      g_sink.fetch_add(http_choice::Checksum(request_.body()), std::memory_order_relaxed);
      response_.result(http::status::ok);
      response_.set(http::field::content_type, "application/json");
      response_.body() = http_choice::kAnswer;
    } else {
      response_.result(http::status::not_found);
    }
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec || !self->response_.keep_alive()) return self->Close();
                        self->Read();
                      });
  }
  void Close() {
    beast::error_code ec;
    stream_.shutdown(tcp::socket::shutdown_send, ec);
  }

  tcp::socket stream_;  // plain socket: beast::tcp_stream adds timer bookkeeping per operation
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

void Accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(socket))->Start();
    }
    Accept(acceptor);
  });
}

int main(int argc, char** argv) {
  // One io_context per thread (concurrency hint 1: no reactor locking), each with its own
  // SO_REUSEPORT acceptor; the kernel spreads connections over the threads.
  auto port = static_cast<unsigned short>(http_choice::PortFromArgs(argc, argv));
  constexpr int kThreads = 2;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  for (int i = 0; i < kThreads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    auto acceptor = std::make_unique<tcp::acceptor>(*contexts.back());
    tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), port};
    acceptor->open(endpoint.protocol());
    acceptor->set_option(asio::socket_base::reuse_address(true));
    acceptor->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    acceptor->bind(endpoint);
    acceptor->listen();
    Accept(*acceptor);
    acceptors.push_back(std::move(acceptor));
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < kThreads; ++i) threads.emplace_back([&contexts, i] { contexts[i]->run(); });
  contexts[0]->run();
  for (auto& thread : threads) thread.join();
}

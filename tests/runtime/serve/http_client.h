// A deliberately plain HTTP/1.1 client for the server's tests: raw bytes out,
// one response parsed back (Content-Length bodies only), so a test controls
// exactly what goes on the wire (keep-alive, bad framing, huge lengths).
// Header-only: the test glob builds only *_test.cc files.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

namespace ferry_rt::serve::testing {

/// One parsed response.
struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
};

/// One TCP connection to 127.0.0.1:port.
class HttpConnection {
 public:
  explicit HttpConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    timeval timeout{.tv_sec = 30, .tv_usec = 0};  // a hung server fails the test, not the run
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~HttpConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  HttpConnection(const HttpConnection&) = delete;
  auto operator=(const HttpConnection&) -> HttpConnection& = delete;

  auto connected() const -> bool { return fd_ >= 0; }

  /// Writes `bytes` as they are.
  void Send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

  /// Reads one response; nullopt when the connection closed (or timed out) first.
  auto Read() -> std::optional<HttpReply> {
    std::size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    HttpReply reply;
    const std::string head = pending_.substr(0, end);
    pending_.erase(0, end + 4);
    reply.status = std::atoi(head.substr(head.find(' ') + 1, 3).c_str());
    std::size_t at = head.find("\r\n");
    while (at != std::string::npos) {
      const std::size_t next = head.find("\r\n", at + 2);
      const std::string line = head.substr(at + 2, next == std::string::npos ? next : next - at - 2);
      const std::size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      at = next;
    }
    const std::size_t length = std::stoul(reply.headers.count("content-length") != 0
                                              ? reply.headers["content-length"]
                                              : std::string("0"));
    while (pending_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    reply.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return reply;
  }

  /// True when the server closed the connection: a read returns 0 (or the
  /// connection was reset). A read that times out (30 s) is not a close.
  auto Closed() -> bool {
    if (!pending_.empty()) return false;
    char byte = 0;
    const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  /// Sends a request with a Content-Length body and reads the response.
  auto Call(const std::string& method, const std::string& target, const std::string& body = "",
            const std::string& extra_headers = "") -> std::optional<HttpReply> {
    Send(method + " " + target + " HTTP/1.1\r\nHost: test\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body);
    return Read();
  }

 private:
  auto Fill() -> bool {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string pending_;
};

}  // namespace ferry_rt::serve::testing

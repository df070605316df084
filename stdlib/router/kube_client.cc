// The API server's HTTPS client on Boost.Beast and asio::ssl (OpenSSL), the
// HTTP library ferry chose (docs/http-library.md). One TLS connection per
// request: the router sends a few requests a second at most, and a fresh
// connection never trips over one the server closed.
#include "router/kube_client.h"

#include <openssl/ssl.h>
#include <sys/stat.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ferry::router {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto kRequestTimeout = std::chrono::seconds(10);

/// "https://host:port/prefix" split up; nullopt for anything but https.
struct ServerUrl {
  std::string host;
  std::string port;
  std::string prefix;  ///< a path prefix (API servers behind a proxy), no trailing '/'
};

auto ParseServer(const std::string& server) -> std::optional<ServerUrl> {
  constexpr std::string_view kScheme = "https://";
  if (server.rfind(kScheme, 0) != 0) return std::nullopt;
  std::string rest = server.substr(kScheme.size());
  ServerUrl url;
  std::size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    url.prefix = rest.substr(slash);
    while (!url.prefix.empty() && url.prefix.back() == '/') url.prefix.pop_back();
    rest.resize(slash);
  }
  std::size_t colon = rest.rfind(':');
  std::size_t bracket = rest.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    url.port = rest.substr(colon + 1);
    rest.resize(colon);
  } else {
    url.port = "443";
  }
  if (rest.size() >= 2 && rest.front() == '[' && rest.back() == ']') {
    rest = rest.substr(1, rest.size() - 2);
  }
  url.host = rest;
  if (url.host.empty() || url.port.empty()) return std::nullopt;
  return url;
}

/// The message of a Kubernetes Status object, or the body itself.
auto StatusMessage(const std::string& body) -> std::string {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("message") && json["message"].is_string()) {
    return json["message"].get<std::string>();
  }
  return body.substr(0, 200);
}

}  // namespace

struct KubeClient::Impl {
  std::mutex mutex;
  std::optional<ServerUrl> url;
  std::unique_ptr<ssl::context> tls;
  std::string setup_error;  ///< why no request can be sent, if so
  std::string token;        ///< the token file's contents as last read
  struct timespec token_mtime {};
};

KubeClient::KubeClient(KubeConfig config) : config_(std::move(config)), impl_(new Impl) {
  impl_->url = ParseServer(config_.server);
  if (!impl_->url) {
    impl_->setup_error = "server '" + config_.server + "' is not an https:// URL";
    return;
  }
  auto tls = std::make_unique<ssl::context>(ssl::context::tls_client);
  boost::system::error_code error;
  if (config_.insecure_skip_tls_verify) {
    tls->set_verify_mode(ssl::verify_none);
  } else {
    tls->set_verify_mode(ssl::verify_peer);
    if (config_.ca_pem.empty()) {
      tls->set_default_verify_paths(error);
    } else {
      tls->add_certificate_authority(asio::buffer(config_.ca_pem), error);
    }
    if (error) impl_->setup_error = "the cluster's CA certificate: " + error.message();
    tls->set_verify_callback(ssl::host_name_verification(impl_->url->host));
  }
  if (!config_.client_certificate_pem.empty()) {
    tls->use_certificate_chain(asio::buffer(config_.client_certificate_pem), error);
    if (!error) {
      tls->use_private_key(asio::buffer(config_.client_key_pem), ssl::context::pem, error);
    }
    if (error) impl_->setup_error = "the client certificate or key: " + error.message();
  }
  impl_->tls = std::move(tls);
}

KubeClient::~KubeClient() = default;

auto KubeClient::BearerToken() -> std::string {
  if (config_.token_file.empty()) return config_.token;
  // ServiceAccount tokens are rotated in place: re-read the file when it changes.
  struct stat info {};
  if (::stat(config_.token_file.c_str(), &info) == 0 &&
      (info.st_mtim.tv_sec != impl_->token_mtime.tv_sec ||
       info.st_mtim.tv_nsec != impl_->token_mtime.tv_nsec || impl_->token.empty())) {
    std::ifstream in(config_.token_file);
    std::ostringstream text;
    text << in.rdbuf();
    impl_->token = text.str();
    while (!impl_->token.empty() && std::isspace(static_cast<unsigned char>(impl_->token.back()))) {
      impl_->token.pop_back();
    }
    impl_->token_mtime = info.st_mtim;
  }
  return impl_->token;
}

auto KubeClient::Get(std::string_view path) -> KubeResponse { return Send("GET", path, ""); }

auto KubeClient::MergePatch(std::string_view path, std::string_view patch) -> KubeResponse {
  return Send("PATCH", path, patch);
}

auto KubeClient::Send(std::string_view method, std::string_view path, std::string_view body)
    -> KubeResponse {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->setup_error.empty()) return {0, "", impl_->setup_error};
  const ServerUrl& url = *impl_->url;

  http::verb verb = method == "PATCH" ? http::verb::patch : http::verb::get;
  http::request<http::string_body> request{verb, url.prefix + std::string(path), 11};
  request.set(http::field::host, url.host);
  request.set(http::field::accept, "application/json");
  request.set(http::field::user_agent, "ferry-router");
  std::string token = BearerToken();
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  if (method == "PATCH") {
    request.set(http::field::content_type, "application/merge-patch+json");
    request.body() = std::string(body);
  }
  request.prepare_payload();

  // Asynchronous operations under one deadline (tcp_stream's expiry) run to
  // completion here, so a dead API server costs at most kRequestTimeout.
  asio::io_context io;
  beast::ssl_stream<beast::tcp_stream> stream(io, *impl_->tls);
  boost::system::error_code error;
  // SNI, for API servers behind a TLS-routing proxy.
  SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
  auto endpoints = tcp::resolver(io).resolve(url.host, url.port, error);
  if (error) return {0, "", "resolving " + url.host + ": " + error.message()};
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  std::string failed_step;
  beast::get_lowest_layer(stream).expires_after(kRequestTimeout);
  beast::get_lowest_layer(stream).async_connect(endpoints, [&](auto ec, const auto&) {
    if (ec) return void((error = ec, failed_step = "connecting to"));
    stream.async_handshake(ssl::stream_base::client, [&](auto ec) {
      if (ec) return void((error = ec, failed_step = "TLS handshake with"));
      http::async_write(stream, request, [&](auto ec, std::size_t) {
        if (ec) return void((error = ec, failed_step = "sending to"));
        http::async_read(stream, buffer, response, [&](auto ec, std::size_t) {
          if (ec) error = ec, failed_step = "reading from";
        });
      });
    });
  });
  io.run();
  if (error) return {0, "", failed_step + " " + config_.server + ": " + error.message()};
  KubeResponse result{static_cast<int>(response.result_int()), std::move(response.body()), ""};
  if (!result.ok()) result.error = StatusMessage(result.body);
  // The connection is dropped unshut: a TLS close_notify round trip buys nothing here.
  return result;
}

}  // namespace ferry::router

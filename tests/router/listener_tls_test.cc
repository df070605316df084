// The Listener's TLS certificate reloading over real sockets on 127.0.0.1:
// a pair renamed over the files, a kubelet-style `..data` symlink swap, a
// half-written certificate and a key of another pair. Certificates are
// self-signed by /usr/bin/openssl; clients compare the peer's subject.
// clang-format off
#include <utility>  // first: Boost 1.74's Asio uses std::exchange without including it
// clang-format on

#include <doctest/doctest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "router/listener.h"
#include "router_fixtures.h"

namespace ferry::router {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using router_test::KeptLines;
using router_test::ScratchDir;
using router_test::WriteFile;

// A self-signed certificate with subject /CN=`name`, as `name`.crt and `name`.key in `directory`.
void MakeCertificate(const ScratchDir& directory, const std::string& name) {
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=" +
      name + " -keyout " + (directory / (name + ".key")) + " -out " +
      (directory / (name + ".crt")) + " 2>/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
}

auto ReadFile(const std::string& path) -> std::string {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `from`'s bytes to `to` the way a careful writer does: a new file, then a rename over.
void RenameOver(const std::string& from, const std::string& to) {
  WriteFile(to + ".new", ReadFile(from));
  fs::rename(to + ".new", to);
}

// A kept-alive HTTPS connection that does not verify the (self-signed) peer.
class TlsClient {
 public:
  explicit TlsClient(int port) : tls_(asio::ssl::context::tls_client), stream_(context_, tls_) {
    tls_.set_verify_mode(asio::ssl::verify_none);
    beast::get_lowest_layer(stream_).connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    stream_.handshake(asio::ssl::stream_base::client);
  }

  // The peer certificate's subject, as "/CN=name".
  auto Subject() -> std::string {
    X509* certificate = ::SSL_get1_peer_certificate(stream_.native_handle());
    if (certificate == nullptr) return "";
    char text[256] = {};
    ::X509_NAME_oneline(::X509_get_subject_name(certificate), text, sizeof text);
    ::X509_free(certificate);
    return text;
  }

  // One GET on this connection: the answer's body.
  auto Get() -> std::string {
    bhttp::request<bhttp::string_body> request{bhttp::verb::get, "/x", 11};
    request.set(bhttp::field::host, "localhost");
    bhttp::write(stream_, request);
    bhttp::response<bhttp::string_body> answer;
    bhttp::read(stream_, buffer_, answer);
    return answer.body();
  }

 private:
  asio::io_context context_;
  asio::ssl::context tls_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

// The subject a new connection sees.
auto NewConnectionSubject(int port) -> std::string { return TlsClient(port).Subject(); }

// Polls `done` every 20 ms for up to 5 s (reloads are looked for once a second).
auto Eventually(const std::function<bool()>& done) -> bool {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

auto Count(const std::string& text, const std::string& what) -> int {
  int count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

constexpr const char* kReloadFailed = "TLS certificate reload failed";

// A TLS listener answering "ok", on `directory`/tls.crt and tls.key, logging to `log`.
auto StartTls(const std::string& directory, ferry_rt::serve::Logger& log)
    -> std::unique_ptr<Listener> {
  ListenerOptions options;
  options.host = "127.0.0.1";
  options.threads = 2;
  options.certificate_file = directory + "/tls.crt";
  options.key_file = directory + "/tls.key";
  options.log = &log;
  std::string error;
  auto listener = Listener::Start(
      options,
      [](const ferry_rt::serve::http::Request&, ferry_rt::serve::http::Response& response) {
        response.body = "ok";
      },
      error);
  REQUIRE_MESSAGE(listener != nullptr, error);
  REQUIRE(listener->tls());
  return listener;
}

TEST_CASE("listener tls: a pair renamed over is used by new connections; broken pairs are not") {
  ScratchDir staging;
  MakeCertificate(staging, "one");
  MakeCertificate(staging, "two");
  ScratchDir live;
  RenameOver(staging / "one.crt", live / "tls.crt");
  RenameOver(staging / "one.key", live / "tls.key");
  KeptLines lines;
  ferry_rt::serve::Logger log(lines);
  auto listener = StartTls(live.path(), log);
  const int port = listener->port();
  CHECK(NewConnectionSubject(port) == "/CN=one");
  TlsClient old(port);
  CHECK(old.Get() == "ok");

  RenameOver(staging / "two.key", live / "tls.key");
  RenameOver(staging / "two.crt", live / "tls.crt");
  CHECK(Eventually([&] { return NewConnectionSubject(port) == "/CN=two"; }));
  CHECK(lines.Text().find("TLS certificate reloaded") != std::string::npos);
  // The connection opened before keeps its certificate and keeps working.
  CHECK(old.Get() == "ok");
  CHECK(old.Subject() == "/CN=one");

  SUBCASE("a half-written certificate keeps the previous pair, then loads once whole") {
    const int failures = Count(lines.Text(), kReloadFailed);
    const std::string whole = ReadFile(staging / "one.crt");
    WriteFile(live / "tls.crt", whole.substr(0, whole.size() / 2));
    CHECK(Eventually([&] { return Count(lines.Text(), kReloadFailed) > failures; }));
    CHECK(lines.Text().find("\"file\":\"" + (live / "tls.crt") + "\"") != std::string::npos);
    CHECK(NewConnectionSubject(port) == "/CN=two");
    CHECK(old.Get() == "ok");
    // Retried when the files change again: the rest of the certificate, then its key.
    WriteFile(live / "tls.crt", whole);
    RenameOver(staging / "one.key", live / "tls.key");
    CHECK(Eventually([&] { return NewConnectionSubject(port) == "/CN=one"; }));
  }

  SUBCASE("a key of another certificate keeps the previous pair, logged once") {
    const int failures = Count(lines.Text(), kReloadFailed);
    RenameOver(staging / "one.crt", live / "tls.crt");  // tls.key is still two's
    CHECK(Eventually([&] { return Count(lines.Text(), kReloadFailed) > failures; }));
    const std::string text = lines.Text();
    REQUIRE(text.rfind(kReloadFailed) != std::string::npos);
    const std::string line = text.substr(text.rfind(kReloadFailed));
    CHECK(line.find("\"file\":\"" + (live / "tls.key") + "\"") != std::string::npos);
    CHECK(line.find("mismatch") != std::string::npos);  // OpenSSL: "key values mismatch"
    CHECK(NewConnectionSubject(port) == "/CN=two");
    // Unchanged files are not loaded (nor logged) again.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    CHECK(Count(lines.Text(), kReloadFailed) == failures + 1);
    CHECK(NewConnectionSubject(port) == "/CN=two");
  }
}

TEST_CASE("listener tls: a Kubernetes Secret volume's ..data symlink swap") {
  ScratchDir staging;
  MakeCertificate(staging, "one");
  MakeCertificate(staging, "two");
  // The kubelet's layout: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/.
  ScratchDir live;
  fs::create_directory(live / "..2026_11_23_first");
  RenameOver(staging / "one.crt", live / "..2026_11_23_first/tls.crt");
  RenameOver(staging / "one.key", live / "..2026_11_23_first/tls.key");
  fs::create_directory_symlink("..2026_11_23_first", live / "..data");
  fs::create_symlink("..data/tls.crt", live / "tls.crt");
  fs::create_symlink("..data/tls.key", live / "tls.key");
  KeptLines lines;
  ferry_rt::serve::Logger log(lines);
  auto listener = StartTls(live.path(), log);
  const int port = listener->port();
  CHECK(NewConnectionSubject(port) == "/CN=one");
  TlsClient old(port);
  CHECK(old.Get() == "ok");

  // The swap: a new timestamped directory, a new link renamed over ..data, the old directory gone.
  fs::create_directory(live / "..2026_11_23_second");
  RenameOver(staging / "two.crt", live / "..2026_11_23_second/tls.crt");
  RenameOver(staging / "two.key", live / "..2026_11_23_second/tls.key");
  fs::create_directory_symlink("..2026_11_23_second", live / "..data_tmp");
  fs::rename(live / "..data_tmp", live / "..data");
  fs::remove_all(live / "..2026_11_23_first");
  CHECK(Eventually([&] { return NewConnectionSubject(port) == "/CN=two"; }));
  CHECK(old.Get() == "ok");
  CHECK(old.Subject() == "/CN=one");
  CHECK(Count(lines.Text(), kReloadFailed) == 0);
}

TEST_CASE("listener tls: a key that does not match the certificate fails Start, naming it") {
  ScratchDir staging;
  MakeCertificate(staging, "one");
  MakeCertificate(staging, "two");
  ListenerOptions options;
  options.host = "127.0.0.1";
  options.certificate_file = staging / "one.crt";
  auto start = [&options](const std::string& key_file) {
    options.key_file = key_file;
    std::string error;
    CHECK(Listener::Start(
              options,
              [](const ferry_rt::serve::http::Request&, ferry_rt::serve::http::Response&) {},
              error) == nullptr);
    return error;
  };
  // Another EC key: OpenSSL refuses it while loading.
  const std::string other = start(staging / "two.key");
  CHECK(other.find(staging / "two.key") != std::string::npos);
  CHECK(other.find("mismatch") != std::string::npos);
  // An RSA key goes to another slot unchecked; SSL_CTX_check_private_key catches it.
  const std::string command = "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " +
                              (staging / "rsa.key") + " 2>/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
  const std::string rsa = start(staging / "rsa.key");
  CHECK(rsa.find(staging / "rsa.key") != std::string::npos);
  CHECK(rsa.find("does not match the certificate " + (staging / "one.crt")) != std::string::npos);
}

}  // namespace
}  // namespace ferry::router

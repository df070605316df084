// A Service over the test models with its authenticator and a captured log,
// shared by the in-process and the over-HTTP tests. Header-only.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "runtime/serve/http.h"
#include "runtime/serve/server.h"
#include "tests/runtime/serve/test_models.h"

namespace ferry_rt::serve::testing {

/// Keeps every log line.
class CaptureSink : public LogSink {
 public:
  void WriteLine(std::string_view line) override {
    std::lock_guard lock(mutex_);
    text_ += line;
  }
  auto text() -> std::string {
    std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  std::mutex mutex_;
  std::string text_;
};

/// A service over LinearModels (or GatedModels when `gate` is set) with its auth and log.
struct Fixture {
  explicit Fixture(ServiceOptions options, AuthOptions auth_options = {},
                   std::shared_ptr<Gate> gate = nullptr)
      : log(sink, [] { return std::int64_t{1'700'000'000'000}; }) {
    std::string error;
    auth_options.clock = [this] { return now.load(); };
    auth = Authenticator::Create(auth_options, &error);
    REQUIRE_MESSAGE(auth, error);
    ModelSource source{"linear", [counts = counts, gate]() -> std::unique_ptr<Model> {
                         if (gate) return std::make_unique<GatedModel>(counts, gate);
                         return std::make_unique<LinearModel>(counts);
                       }};
    service =
        std::make_unique<Service>(std::move(options), std::vector<ModelSource>{source}, *auth, log);
  }

  auto Call(std::string method, std::string target, std::string body = "",
            std::vector<std::pair<std::string, std::string>> headers = {}) -> http::Response {
    http::Request request{std::move(method), std::move(target), std::move(headers),
                          std::move(body)};
    http::Response response;
    service->Handle(request, response);
    return response;
  }
  auto Score(std::string body, std::vector<std::pair<std::string, std::string>> headers = {})
      -> http::Response {
    return Call("POST", "/score", std::move(body), std::move(headers));
  }

  std::atomic<std::int64_t> now{1'700'000'000};
  CaptureSink sink;
  Logger log;
  std::unique_ptr<Authenticator> auth;
  std::shared_ptr<LinearModel::Counts> counts = std::make_shared<LinearModel::Counts>();
  std::unique_ptr<Service> service;
  std::unique_ptr<http::Server> server;  // last: it stops before the service goes

  /// Serves the service over HTTP on 127.0.0.1, on a port the OS chooses; returns it.
  auto Listen(int threads, std::size_t max_body_bytes = std::size_t{1} << 20,
              std::int64_t read_timeout_ms = 30000) -> int {
    http::ServerOptions options;
    options.threads = threads;
    options.max_body_bytes = max_body_bytes;
    options.read_timeout_ms = read_timeout_ms;
    server = std::make_unique<http::Server>(
        options, [this](const http::Request& request, http::Response& response) {
          service->Handle(request, response);
        });
    return server->port();
  }
};

inline auto Auth(AuthMode mode, std::string keys_path, std::string audience = "") -> AuthOptions {
  AuthOptions options;
  options.mode = mode;
  options.keys_path = std::move(keys_path);
  options.audience = std::move(audience);
  return options;
}

}  // namespace ferry_rt::serve::testing

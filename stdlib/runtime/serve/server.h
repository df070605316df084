// The scoring server's endpoints and limits, independent of the transport:
// Service::Handle turns one http::Request into one http::Response.
//
//   POST /score         JSON {"data": [...]}, application/octet-stream (float32
//                       rows) or image/png, image/jpeg; needs auth (--auth)
//   GET  /swagger.json  the bundle's swagger.json, read at start (404 when absent)
//   GET  /healthz       200 while the process lives
//   GET  /readyz        200 once the models are loaded, 503 before
//   GET  /metrics       Prometheus text
// Errors are {"error": {"code", "message"}}: 400 (the request's rows), 401
// (with WWW-Authenticate: Bearer), 404, 405, 413, 415, 503 (loading, or over
// --max-concurrent: Retry-After: 1, at once), 504 (not answered within
// --request-timeout-ms), 500. One log line per request; never a credential.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/model.h"
#include "runtime/serve/auth.h"
#include "runtime/serve/batcher.h"
#include "runtime/serve/collect.h"
#include "runtime/serve/http.h"
#include "runtime/serve/log.h"
#include "runtime/serve/metrics.h"

namespace ferry_rt::serve {

/// One model the server can score, by the name requests select it with.
struct ModelSource {
  std::string name;
  /// Builds one instance (loads the weights); called once per worker thread.
  std::function<std::unique_ptr<Model>()> create;
};

/// What the command line sets (serve --help).
struct ServiceOptions {
  int threads = 1;              ///< model instances per model (one per HTTP worker thread)
  int max_concurrent = 0;       ///< scoring requests in flight at once; 0: `threads`
  std::int64_t request_timeout_ms = 30000;
  std::string default_model{};    ///< --model: empty selects the first source
  std::string swagger_path{};     ///< empty or missing file: /swagger.json answers 404
  std::string collect_dir{};      ///< empty: no data collection
  std::int64_t batch_max = 0;   ///< > 0: dynamic batching (one batcher per model)
  std::int64_t batch_wait_ms = 2;
};

/// The endpoints. Thread-safe: Handle runs on every HTTP worker at once.
class Service {
 public:
  /// `auth` and `log` must outlive the service. Models load in Load, not here.
  Service(ServiceOptions options, std::vector<ModelSource> sources, Authenticator& auth,
          Logger& log);
  ~Service();
  Service(const Service&) = delete;
  auto operator=(const Service&) -> Service& = delete;

  /// Creates every model instance (threads per model, or one per batcher),
  /// then marks the service ready. Returns false, logged and reported by
  /// /readyz, when a model fails to load.
  auto Load() -> bool;

  /// True once Load succeeded.
  auto ready() const -> bool { return ready_.load(std::memory_order_acquire); }

  /// Answers one request.
  void Handle(const http::Request& request, http::Response& response);

  /// The Prometheus text /metrics answers.
  auto MetricsText() const -> std::string;

 private:
  struct Loaded;
  void Route(const http::Request& request, std::string_view request_id,
             http::Response& response, Credential& credential);
  void Score(const http::Request& request, std::string_view request_id,
             http::Response& response, Credential& credential);
  void ScoreAdmitted(const http::Request& request, std::string_view request_id,
                     http::Response& response, std::chrono::steady_clock::time_point deadline);

  ServiceOptions options_;
  std::vector<ModelSource> sources_;
  Authenticator& auth_;
  Logger& log_;
  std::string swagger_;
  bool has_swagger_ = false;
  std::unique_ptr<Loaded> loaded_;
  Registry registry_;
  ServeMetrics metrics_{registry_};
  std::unique_ptr<Collector> collector_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> failed_{false};  // load_error_ is set before this
  std::atomic<int> in_flight_{0};
  std::atomic<std::uint64_t> next_request_id_{0};
  std::string load_error_;
  std::string id_prefix_;
};

}  // namespace ferry_rt::serve

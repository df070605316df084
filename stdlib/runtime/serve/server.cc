#include "runtime/serve/server.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <sstream>
#include <utility>

#include "runtime/scoring.h"

namespace ferry_rt::serve {
namespace {

using Clock = std::chrono::steady_clock;

// A free list of one model's instances: a request takes one for its Run.
class ModelPool {
 public:
  void Add(std::unique_ptr<Model> model) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(model));
  }
  // An instance, or nullptr when none came free before `deadline`.
  auto Acquire(Clock::time_point deadline) -> std::unique_ptr<Model> {
    std::unique_lock lock(mutex_);
    if (!freed_.wait_until(lock, deadline, [this] { return !free_.empty(); })) return nullptr;
    std::unique_ptr<Model> model = std::move(free_.back());
    free_.pop_back();
    return model;
  }
  void Release(std::unique_ptr<Model> model) {
    {
      std::lock_guard lock(mutex_);
      free_.push_back(std::move(model));
    }
    freed_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Model>> free_;
};

// Request ids a client may pass on (the router's X-Request-Id): short, plain characters.
auto UsableRequestId(std::string_view id) -> bool {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '_' || c == '.';
  });
}

auto MediaType(std::optional<std::string_view> content_type) -> std::string {
  std::string type(content_type.value_or("application/json"));
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

void SetBusy(http::Response& response, std::string_view code, std::string_view message) {
  http::SetError(response, 503, code, message);
  response.headers.emplace_back("Retry-After", "1");
}

}  // namespace

// The loaded models: per source a pool (or a batcher) and the declared inputs/outputs.
struct Service::Loaded {
  struct Entry {
    std::string name;
    std::vector<TensorInfo> inputs;
    std::vector<TensorInfo> outputs;
    ModelPool pool;
    std::unique_ptr<Batcher> batcher;
  };
  std::vector<std::unique_ptr<Entry>> entries;

  auto Find(const std::string& name, const std::string& fallback) const -> Entry* {
    const std::string& wanted = name.empty() ? fallback : name;
    if (wanted.empty()) return entries.front().get();
    for (const auto& entry : entries) {
      if (entry->name == wanted) return entry.get();
    }
    return nullptr;
  }
};

Service::Service(ServiceOptions options, std::vector<ModelSource> sources, Authenticator& auth,
                 Logger& log)
    : options_(std::move(options)),
      sources_(std::move(sources)),
      auth_(auth),
      log_(log) {
  options_.threads = std::max(options_.threads, 1);
  if (options_.max_concurrent <= 0) options_.max_concurrent = options_.threads;
  if (!options_.swagger_path.empty()) {
    std::ifstream file(options_.swagger_path, std::ios::binary);
    if (file) {
      swagger_.assign(std::istreambuf_iterator<char>(file), {});
      has_swagger_ = true;
    }
  }
  std::random_device random;
  char prefix[16];
  std::snprintf(prefix, sizeof(prefix), "%08x", random());
  id_prefix_ = prefix;
}

Service::~Service() = default;

auto Service::Load() -> bool {
  const auto start = Clock::now();
  auto loaded = std::make_unique<Loaded>();
  try {
    if (sources_.empty()) throw Error("no model to serve");
    for (const ModelSource& source : sources_) {
      auto entry = std::make_unique<Loaded::Entry>();
      entry->name = source.name;
      const int instances = options_.batch_max > 0 ? 1 : options_.threads;
      for (int i = 0; i < instances; ++i) {
        std::unique_ptr<Model> model = source.create();
        if (!model) throw Error("model '" + source.name + "' could not be created");
        if (i == 0) {
          entry->inputs = model->inputs();
          entry->outputs = model->outputs();
        }
        if (options_.batch_max > 0) {
          BatchOptions batch{.max_rows = options_.batch_max,
                             .max_wait = std::chrono::milliseconds(options_.batch_wait_ms)};
          entry->batcher = std::make_unique<Batcher>(std::move(model), batch);
        } else {
          entry->pool.Add(std::move(model));
        }
      }
      loaded->entries.push_back(std::move(entry));
    }
    if (!options_.default_model.empty() && !loaded->Find("", options_.default_model)) {
      throw Error("--model '" + options_.default_model + "' is not one of the bundle's models");
    }
    if (!options_.collect_dir.empty()) {
      std::string error;
      CollectOptions collect;
      collect.directory = options_.collect_dir;
      collect.dropped = &metrics_.collect_dropped;
      collect.log = &log_;
      collector_ = Collector::Open(std::move(collect), &error);
      if (!collector_) throw Error("--collect-dir: " + error);
    }
  } catch (const std::exception& error) {
    load_error_ = error.what();
    failed_.store(true, std::memory_order_release);
    log_.Error("model load failed", {LogField::Str("error", load_error_)});
    return false;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  metrics_.model_load_seconds.Set(seconds);
  loaded_ = std::move(loaded);
  ready_.store(true, std::memory_order_release);
  log_.Info("ready", {LogField::Num("load_seconds", seconds),
                      LogField::Int("models", static_cast<std::int64_t>(sources_.size()))});
  return true;
}

auto Service::MetricsText() const -> std::string { return registry_.Render(); }

void Service::Handle(const http::Request& request, http::Response& response) {
  const auto start = Clock::now();
  std::string request_id;
  std::optional<std::string_view> given = request.Header("X-Request-Id");
  if (given && UsableRequestId(*given)) {
    request_id = *given;
  } else {
    char id[40];
    std::snprintf(id, sizeof(id), "%s-%llx", id_prefix_.c_str(),
                  static_cast<unsigned long long>(
                      next_request_id_.fetch_add(1, std::memory_order_relaxed)));
    request_id = id;
  }
  Credential credential = Credential::kNone;
  try {
    Route(request, request_id, response, credential);
  } catch (const std::exception& error) {
    log_.Error("request failed", {LogField::Str("error", error.what()),
                                  LogField::Str("request_id", request_id)});
    http::SetError(response, 500, "internal", "the server failed to answer this request");
  }
  response.headers.emplace_back("X-Request-Id", request_id);
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  metrics_.requests.With({std::to_string(response.status)}).Inc();
  metrics_.latency.Observe(std::chrono::duration<double>(latency).count());
  log_.Request({.method = request.method,
                .target = request.target,
                .status = response.status,
                .latency_us = latency.count(),
                .bytes = static_cast<std::int64_t>(response.body.size()),
                .request_id = request_id,
                .auth = credential});
}

void Service::Route(const http::Request& request, std::string_view request_id,
                    http::Response& response, Credential& credential) {
  const std::string_view path = request.Path();
  const bool get = request.method == "GET";
  const auto wrong_method = [&response](const char* allowed) {
    http::SetError(response, 405, "method_not_allowed",
                   std::string("this path answers ") + allowed + " only");
    response.headers.emplace_back("Allow", allowed);
  };
  if (path == "/score") {
    if (request.method != "POST") return wrong_method("POST");
    return Score(request, request_id, response, credential);
  }
  if (path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/swagger.json") {
    if (!get) return wrong_method("GET");
  } else {
    return http::SetError(response, 404, "not_found",
                          "no such path; try POST /score, GET /swagger.json, /healthz, "
                          "/readyz or /metrics");
  }
  if (path == "/healthz") {
    response.body = "{\"status\": \"ok\"}\n";
  } else if (path == "/readyz") {
    if (ready()) {
      response.body = "{\"status\": \"ready\"}\n";
    } else if (!failed_.load(std::memory_order_acquire)) {
      SetBusy(response, "loading", "the model is loading");
    } else {
      http::SetError(response, 503, "load_failed", "the model failed to load: " + load_error_);
    }
  } else if (path == "/metrics") {
    response.content_type = "text/plain; version=0.0.4";
    response.body = MetricsText();
  } else if (has_swagger_) {
    response.body = swagger_;
  } else {
    http::SetError(response, 404, "no_swagger",
                   "this bundle has no swagger.json (render it with a ferry that writes one)");
  }
}

void Service::Score(const http::Request& request, std::string_view request_id,
                    http::Response& response, Credential& credential) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms);
  const AuthResult auth = auth_.Check(request.Header("Authorization"));
  if (!auth.ok()) {
    metrics_.auth_failures.With({AuthFailureName(*auth.failure)}).Inc();
    http::SetError(response, 401, std::string(AuthFailureName(*auth.failure)), auth.message);
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
    return;
  }
  credential = auth.credential;
  if (!ready()) return SetBusy(response, "loading", "the model is loading; retry shortly");
  // Admission: over the limit answers at once rather than queueing.
  if (in_flight_.fetch_add(1, std::memory_order_acq_rel) >= options_.max_concurrent) {
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    return SetBusy(response, "too_busy",
                   "over " + std::to_string(options_.max_concurrent) +
                       " requests in flight on this replica; retry shortly");
  }
  metrics_.in_flight.Add(1);
  try {
    ScoreAdmitted(request, request_id, response, deadline);
  } catch (...) {
    metrics_.in_flight.Add(-1);
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    throw;
  }
  metrics_.in_flight.Add(-1);
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
}

void Service::ScoreAdmitted(const http::Request& request, std::string_view request_id,
                            http::Response& response, Clock::time_point deadline) {
  const std::string type = MediaType(request.Header("Content-Type"));
  Loaded::Entry* entry = nullptr;
  Tensor input;
  try {
    if (type == "application/json" || type == "text/json") {
      const json::Value parsed = ParseRequestJson(request.body);
      const std::string requested = RequestedModel(parsed);
      entry = loaded_->Find(requested, options_.default_model);
      if (!entry) throw RequestError("no model '" + requested + "' in this bundle");
      if (entry->inputs.size() != 1) throw RequestError("serve reads one input; the model has more");
      JsonRows(entry->inputs[0], parsed, input);
    } else if (type == "application/octet-stream" || type == "image/png" || type == "image/jpeg") {
      entry = loaded_->Find("", options_.default_model);
      if (entry->inputs.size() != 1) throw RequestError("serve reads one input; the model has more");
      if (type == "application/octet-stream") {
        Float32Rows(entry->inputs[0], request.body, input);
      } else {
        ImageRow(entry->inputs[0], request.body, input);
      }
    } else {
      return http::SetError(response, 415, "unsupported_media_type",
                            "POST /score takes application/json, application/octet-stream, "
                            "image/png or image/jpeg, not '" + type + "'");
    }
  } catch (const RequestError& error) {
    return http::SetError(response, 400, "bad_request", error.what());
  }

  std::vector<Tensor> outputs;
  if (entry->batcher) {
    std::string error;
    switch (entry->batcher->Score(std::move(input), outputs, error, deadline)) {
      case Batcher::Outcome::kDone:
        break;
      case Batcher::Outcome::kTimedOut:
        return http::SetError(response, 504, "timeout", "not scored within the request timeout");
      case Batcher::Outcome::kFailed:
        return http::SetError(response, 400, "bad_request", error);
    }
  } else {
    ModelPool& pool = entry->pool;
    std::unique_ptr<Model> model = pool.Acquire(deadline);
    if (!model) {
      return http::SetError(response, 504, "timeout", "no model instance came free in time");
    }
    std::vector<Tensor> inputs(1);
    inputs[0] = std::move(input);
    try {
      model->Run(inputs, outputs);
    } catch (const Error& error) {
      pool.Release(std::move(model));
      return http::SetError(response, 400, "bad_request", error.what());
    }
    pool.Release(std::move(model));
  }
  if (Clock::now() > deadline) {
    return http::SetError(response, 504, "timeout", "not scored within the request timeout");
  }
  WriteOutputs(entry->outputs, outputs, response.body);
  if (collector_) {
    // Raw bodies are recorded by their type and size, not their bytes.
    std::string inputs = type == "application/json" || type == "text/json"
                             ? request.body
                             : "{\"content_type\": " + json::Quote(type) +
                                   ", \"bytes\": " + std::to_string(request.body.size()) + "}";
    collector_->Submit({.request_id = std::string(request_id),
                        .model = entry->name,
                        .inputs = std::move(inputs),
                        .outputs = response.body});
  }
}

}  // namespace ferry_rt::serve

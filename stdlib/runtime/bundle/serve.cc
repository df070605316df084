// bin/serve: the bundle's models over HTTP/1.1 (keep-alive).
//   serve [--host H] [--port P] [--auth none|key|token] [--keys PATH] [--audience NAME]
//         [--threads N] [--max-concurrent N] [--max-body-bytes B] [--request-timeout-ms T]
//         [--collect-dir DIR] [--batch-max N --batch-wait-ms W] [--model NAME]
//         [--bundle DIR]
// Endpoints, errors and limits: runtime/serve/server.h. The bundle folder
// (default: the one above this program) holds the models' weights and
// swagger.json. The server listens first, then loads the models, so /healthz
// answers during a long load and /readyz turns 200 once it is done. Logs are
// JSON lines on stdout; the first says where it listens ({"msg":"listening",
// "port":N}, useful with --port 0). SIGTERM or SIGINT stops it.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "runtime/model.h"
#include "runtime/serve/auth.h"
#include "runtime/serve/http.h"
#include "runtime/serve/log.h"
#include "runtime/serve/server.h"

namespace {

using ferry_rt::serve::LogField;

struct Flags {
  ferry_rt::serve::http::ServerOptions http;
  ferry_rt::serve::AuthOptions auth;
  ferry_rt::serve::ServiceOptions service;
  std::string bundle;
};

auto Usage(const std::string& problem) -> int {
  if (!problem.empty()) std::fprintf(stderr, "serve: %s\n", problem.c_str());
  std::fprintf(stderr,
               "usage: serve [--host H] [--port P] [--auth none|key|token] [--keys PATH]\n"
               "             [--audience NAME] [--threads N] [--max-concurrent N]\n"
               "             [--max-body-bytes B] [--request-timeout-ms T] [--collect-dir DIR]\n"
               "             [--batch-max N --batch-wait-ms W] [--model NAME] [--bundle DIR]\n");
  return 2;
}

// A whole non-negative number, or -1.
auto Count(const char* text) -> long long {
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  return end != text && *end == '\0' && value >= 0 ? value : -1;
}

// Parses argv into `flags`; "" when fine, else the problem.
auto Parse(int argc, char** argv, Flags& flags) -> std::string {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return "'" + arg + "' needs a value";
    const char* value = argv[++i];
    const long long number = Count(value);
    const auto need_number = [&](long long low) -> bool { return number >= low; };
    if (arg == "--host") {
      flags.http.host = value;
    } else if (arg == "--port" && need_number(0) && number <= 65535) {
      flags.http.port = static_cast<int>(number);
    } else if (arg == "--auth") {
      auto mode = ferry_rt::serve::ParseAuthMode(value);
      if (!mode) return "--auth takes none, key or token";
      flags.auth.mode = *mode;
    } else if (arg == "--keys") {
      flags.auth.keys_path = value;
    } else if (arg == "--audience") {
      flags.auth.audience = value;
    } else if (arg == "--threads" && need_number(1) && number <= 1024) {
      flags.http.threads = static_cast<int>(number);
    } else if (arg == "--max-concurrent" && need_number(1) && number <= 1'000'000) {
      flags.service.max_concurrent = static_cast<int>(number);
    } else if (arg == "--max-body-bytes" && need_number(1)) {
      flags.http.max_body_bytes = static_cast<std::size_t>(number);
    } else if (arg == "--request-timeout-ms" && need_number(1)) {
      flags.service.request_timeout_ms = number;
    } else if (arg == "--collect-dir") {
      flags.service.collect_dir = value;
    } else if (arg == "--batch-max" && need_number(1)) {
      flags.service.batch_max = number;
    } else if (arg == "--batch-wait-ms" && need_number(0)) {
      flags.service.batch_wait_ms = number;
    } else if (arg == "--model") {
      flags.service.default_model = value;
    } else if (arg == "--bundle") {
      flags.bundle = value;
    } else {
      return "unknown option or bad value: " + arg + " " + value;
    }
  }
  return "";
}

auto AuthModeName(ferry_rt::serve::AuthMode mode) -> const char* {
  switch (mode) {
    case ferry_rt::serve::AuthMode::kKey:
      return "key";
    case ferry_rt::serve::AuthMode::kToken:
      return "token";
    case ferry_rt::serve::AuthMode::kNone:
      break;
  }
  return "none";
}

auto BundleFolder(const char* argv0) -> std::string {
  const std::string self = argv0;
  const auto slash = self.rfind('/');
  return (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/..";
}

}  // namespace

auto main(int argc, char** argv) -> int {
  Flags flags;
  if (const std::string problem = Parse(argc, argv, flags); !problem.empty()) {
    return Usage(problem);
  }
  if (flags.bundle.empty()) flags.bundle = BundleFolder(argv[0]);
  if (flags.http.threads <= 0) {
    flags.http.threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  }
  flags.service.threads = flags.http.threads;
  flags.service.swagger_path = flags.bundle + "/swagger.json";
  flags.http.read_timeout_ms = std::max<std::int64_t>(flags.service.request_timeout_ms, 1000);

  // Every thread started below inherits this mask; main alone waits for the signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  ferry_rt::serve::Logger& log = ferry_rt::serve::StdoutLogger();
  flags.auth.log = &log;
  std::string error;
  std::unique_ptr<ferry_rt::serve::Authenticator> auth =
      ferry_rt::serve::Authenticator::Create(flags.auth, &error);
  if (!auth) {
    log.Error("auth setup failed", {LogField::Str("error", error)});
    return 1;
  }
  std::vector<ferry_rt::serve::ModelSource> sources;
  try {
    for (const ferry_rt::BundledModel& model : ferry_rt::BundledModels()) {
      const std::string weights = flags.bundle + "/" + model.weights;
      sources.push_back({model.name, [create = model.create, weights] { return create(weights); }});
    }
    ferry_rt::serve::Service service(flags.service, std::move(sources), *auth, log);
    ferry_rt::serve::http::Server server(
        flags.http, [&service](const ferry_rt::serve::http::Request& request,
                               ferry_rt::serve::http::Response& response) {
          service.Handle(request, response);
        });
    log.Info("listening", {LogField::Str("host", flags.http.host),
                           LogField::Int("port", server.port()),
                           LogField::Int("threads", flags.http.threads),
                           LogField::Str("auth", AuthModeName(flags.auth.mode))});
    if (!service.Load()) return 1;
    int received = 0;
    sigwait(&stop_signals, &received);
    log.Info("stopping", {LogField::Int("signal", received)});
    server.Stop();
  } catch (const std::exception& failure) {
    log.Error("serve failed", {LogField::Str("error", failure.what())});
    return 1;
  }
  return 0;
}

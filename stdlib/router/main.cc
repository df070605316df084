// router --routes FILE --port P [--tls-port P2] [--host H] [--request-timeout-ms T]
//        [--threads N] [--log-directory DIR]
// Wires routes.yaml to replica sets (local processes or Kubernetes), the
// autoscaler loop and the proxy behind plain and TLS listeners. SIGTERM or
// SIGINT: /readyz turns 503, the listeners stop, local replicas are stopped.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "router/autoscaler.h"
#include "router/kube_replicas.h"
#include "router/listener.h"
#include "router/local_replicas.h"
#include "router/proxy.h"
#include "router/routes.h"
#include "router/upstream.h"

namespace ferry::router {
namespace {

using namespace std::chrono_literals;
using ferry_rt::serve::LogField;

struct Flags {
  std::string routes;
  std::optional<int> port;
  std::optional<int> tls_port;
  std::string host = "0.0.0.0";
  std::optional<std::int64_t> request_timeout_ms;
  int threads = 0;
  std::string log_directory;
};

constexpr std::string_view kUsage =
    "usage: router --routes FILE --port P [--tls-port P2] [--host H] [--request-timeout-ms T]\n"
    "              [--threads N] [--log-directory DIR]\n";

auto ParseNumber(const std::string& text, std::int64_t& value) -> bool {
  char* end = nullptr;
  value = std::strtoll(text.c_str(), &end, 10);
  return !text.empty() && *end == '\0';
}

auto ParseFlags(int argc, char** argv, Flags& flags, std::string& error) -> bool {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      error = "missing value for " + flag;
      return false;
    }
    const std::string value = argv[++i];
    std::int64_t number = 0;
    const bool numeric = ParseNumber(value, number);
    if (flag == "--routes") {
      flags.routes = value;
    } else if (flag == "--host") {
      flags.host = value;
    } else if (flag == "--log-directory") {
      flags.log_directory = value;
    } else if (!numeric || number < 0 || (flag != "--request-timeout-ms" && number > 65535)) {
      error = "bad value '" + value + "' for " + flag;
      return false;
    } else if (flag == "--port") {
      flags.port = static_cast<int>(number);
    } else if (flag == "--tls-port") {
      flags.tls_port = static_cast<int>(number);
    } else if (flag == "--request-timeout-ms") {
      flags.request_timeout_ms = number;
    } else if (flag == "--threads") {
      flags.threads = static_cast<int>(number);
    } else {
      error = "unknown flag " + flag;
      return false;
    }
  }
  if (flags.routes.empty()) error = "--routes is required";
  return error.empty();
}

// One version's replicas and autoscaler.
struct Scaled {
  std::unique_ptr<ReplicaSet> replicas;
  std::unique_ptr<Autoscaler> autoscaler;
};

// Replica sets for every version, in routes order; nullopt (logged) when the
// Kubernetes config cannot be read.
auto MakeReplicaSets(const Routes& routes, const Flags& flags, const Clock& clock,
                     std::vector<std::vector<Scaled>>& scaled, std::string& error) -> bool {
  std::shared_ptr<KubeClient> kube;
  for (const EndpointRoute& endpoint : routes.endpoints) {
    std::vector<Scaled>& versions = scaled.emplace_back();
    for (const VersionRoute& version : endpoint.versions) {
      Scaled entry;
      if (version.local) {
        LocalReplicasOptions options;
        options.command = version.local->command;
        options.working_directory = version.local->working_directory;
        options.log_directory = flags.log_directory;
        options.log_prefix = endpoint.name + "-" + version.name;
        auto local = std::make_unique<LocalReplicas>(std::move(options), clock);
        local->Scale(version.autoscale.min_replicas);
        entry.replicas = std::move(local);
      } else {
        if (!kube) {
          KubeConfigResult config = DefaultKubeConfig();
          if (!config.config) {
            error = "endpoint '" + endpoint.name + "' version '" + version.name +
                    "' runs on Kubernetes, but: " + config.error;
            return false;
          }
          kube = std::make_shared<KubeClient>(std::move(*config.config));
        }
        entry.replicas = std::make_unique<KubeReplicas>(
            KubeReplicasOptions{routes.ns, version.deployment, version.service}, kube);
      }
      entry.autoscaler =
          std::make_unique<Autoscaler>(SettingsFor(routes.autoscaler, version.autoscale), clock);
      versions.push_back(std::move(entry));
    }
  }
  return true;
}

auto Run(int argc, char** argv) -> int {
  auto& log = ferry_rt::serve::StdoutLogger();
  Flags flags;
  std::string error;
  if (!ParseFlags(argc, argv, flags, error)) {
    std::fprintf(stderr, "router: %s\n%s", error.c_str(), kUsage.data());
    return 2;
  }
  const RoutesResult loaded = LoadRoutes(flags.routes);
  for (const RoutesError& problem : loaded.errors) {
    std::fprintf(stderr, "%s\n", problem.ToString().c_str());
  }
  if (!loaded.routes) return 2;
  const Routes& routes = *loaded.routes;
  const std::optional<int> tls_port =
      flags.tls_port ? flags.tls_port : (routes.tls ? routes.listen_https : std::nullopt);
  if (flags.tls_port && !routes.tls) {
    std::fprintf(stderr, "router: --tls-port needs tls.directory in %s\n", flags.routes.c_str());
    return 2;
  }
  std::optional<Authenticators> auth = MakeAuthenticators(routes, error);
  if (!auth) {
    std::fprintf(stderr, "router: %s\n", error.c_str());
    return 2;
  }

  // Signals are taken by sigtimedwait in the control loop below; every thread
  // started from here on inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  SteadyClock clock;
  std::vector<std::vector<Scaled>> scaled;
  if (!MakeReplicaSets(routes, flags, clock, scaled, error)) {
    std::fprintf(stderr, "router: %s\n", error.c_str());
    return 2;
  }
  ReplicaSets sets;
  for (auto& versions : scaled) {
    auto& row = sets.emplace_back();
    for (Scaled& version : versions) row.push_back(version.replicas.get());
  }
  ProxyOptions proxy_options;
  if (flags.request_timeout_ms) proxy_options.request_timeout_ms = *flags.request_timeout_ms;
  if (tls_port && routes.tls && routes.tls->redirect_http) proxy_options.https_port = tls_port;
  PooledUpstream upstream;
  Proxy proxy(routes, std::move(sets), std::move(*auth), upstream, proxy_options, log);

  ListenerOptions options;
  options.host = flags.host;
  options.port = flags.port.value_or(routes.listen_http);
  // The handler blocks while a replica answers: threads bound in-flight
  // requests, and a connection waits while its worker's request is out, so
  // many workers (measured: 4, 16 and 64 serve 16 and 64 clients alike).
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.threads = flags.threads > 0 ? flags.threads : std::max(16, 4 * cores);
  std::unique_ptr<Listener> plain = Listener::Start(
      options,
      [&proxy](const http::Request& request, http::Response& response) {
        proxy.Handle(request, response, false);
      },
      error);
  if (!plain) {
    std::fprintf(stderr, "router: %s\n", error.c_str());
    return 1;
  }
  std::unique_ptr<Listener> secure;
  if (tls_port) {
    options.port = *tls_port;
    options.certificate_file = routes.tls->directory + "/tls.crt";
    options.key_file = routes.tls->directory + "/tls.key";
    options.log = &log;  // certificate reloads (and failed ones) are logged
    secure = Listener::Start(
        options,
        [&proxy](const http::Request& request, http::Response& response) {
          proxy.Handle(request, response, true);
        },
        error);
    if (!secure) {
      std::fprintf(stderr, "router: %s\n", error.c_str());
      return 1;
    }
  }
  log.Info("listening", {LogField::Int("port", plain->port()),
                         LogField::Int("tls_port", secure ? secure->port() : 0),
                         LogField::Int("endpoints", static_cast<std::int64_t>(scaled.size()))});

  // The control loop: the autoscaler every 100 ms, readiness every second.
  auto next_reconcile = clock.Now();
  const timespec tick{0, 100'000'000};
  int signal = 0;
  while (true) {
    signal = sigtimedwait(&stop_signals, nullptr, &tick);
    if (signal == SIGTERM || signal == SIGINT) break;
    const TimePoint now = clock.Now();
    const bool reconcile = now >= next_reconcile;
    for (std::size_t e = 0; e < scaled.size(); ++e) {
      for (std::size_t v = 0; v < scaled[e].size(); ++v) {
        Scaled& version = scaled[e][v];
        if (reconcile) version.replicas->Reconcile(now);
        const std::int64_t busy = proxy.Busy(e, v);
        const std::int64_t before = version.replicas->Desired();
        // Every decision is a log line: why a version has the replicas it has.
        if (auto after = version.autoscaler->Step(*version.replicas, busy)) {
          log.Info("scale", {LogField::Str("endpoint", routes.endpoints[e].name),
                             LogField::Str("version", routes.endpoints[e].versions[v].name),
                             LogField::Str("direction", *after > before ? "up" : "down"),
                             LogField::Int("from", before), LogField::Int("to", *after),
                             LogField::Int("busy", busy)});
        }
      }
    }
    if (reconcile) {
      proxy.ReadinessChecked();
      next_reconcile = now + 1s;
    }
  }
  log.Info("stopping", {LogField::Str("signal", signal == SIGTERM ? "SIGTERM" : "SIGINT")});
  proxy.StartDraining();
  if (secure) secure->Stop();
  plain->Stop();
  scaled.clear();  // stops local replicas
  log.Info("stopped");
  return 0;
}

}  // namespace
}  // namespace ferry::router

auto main(int argc, char** argv) -> int { return ferry::router::Run(argc, argv); }

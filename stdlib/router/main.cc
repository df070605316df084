// router --routes FILE --port P [--tls-port P2] [--host H] [--request-timeout-ms T]
//        [--threads N] [--log-directory DIR] [--pid-file PATH] [--status-file PATH]
// Wires routes.yaml to replica sets (local processes or Kubernetes), the
// autoscaler loop and the proxy behind plain and TLS listeners. SIGHUP: the
// routes file is read again and applied without dropping a request (a new
// proxy generation; see fleet.h for what happens to replicas). SIGTERM or
// SIGINT: /readyz turns 503, the listeners stop, local replicas are stopped.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "router/autoscaler.h"
#include "router/fleet.h"
#include "router/kube_replicas.h"
#include "router/listener.h"
#include "router/local_replicas.h"
#include "router/proxy.h"
#include "router/routes.h"
#include "router/status.h"
#include "router/upstream.h"
#include "runtime/weights.h"

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
  std::string pid_file;
  std::string status_file;
};

constexpr std::string_view kUsage =
    "usage: router --routes FILE --port P [--tls-port P2] [--host H] [--request-timeout-ms T]\n"
    "              [--threads N] [--log-directory DIR] [--pid-file PATH] [--status-file PATH]\n";

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
    } else if (flag == "--pid-file") {
      flags.pid_file = value;
    } else if (flag == "--status-file") {
      flags.status_file = value;
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

// Takes the pid file's lock for the process's life (the descriptor is never
// closed; replicas do not inherit it) and writes the pid into it. -1 and a
// message on stderr when another router holds it or it cannot be opened.
auto LockPidFile(const std::string& path) -> int {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "router: cannot open %s: %s\n", path.c_str(), std::strerror(errno));
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int why = errno;
    if (why == EWOULDBLOCK) {
      char text[32] = {};
      const ssize_t read = ::pread(fd, text, sizeof text - 1, 0);
      const long pid = read > 0 ? std::strtol(text, nullptr, 10) : 0;
      std::fprintf(stderr, "router: another router (pid %ld) holds %s\n", pid, path.c_str());
    } else {
      std::fprintf(stderr, "router: cannot lock %s: %s\n", path.c_str(), std::strerror(why));
    }
    ::close(fd);
    return -1;
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    std::fprintf(stderr, "router: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    ::close(fd);
    return -1;
  }
  return fd;
}

// The routes file's bytes and what they parse to.
struct LoadedRoutes {
  std::string sha256;
  RoutesResult parsed;
};

auto ReadRoutes(const std::string& path) -> LoadedRoutes {
  LoadedRoutes loaded;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    loaded.parsed.errors.push_back({path, 0, 0, "", "cannot read the routes file"});
    return loaded;
  }
  std::ostringstream text;
  text << in.rdbuf();
  loaded.sha256 = ferry_rt::Sha256Hex(text.str());
  loaded.parsed = ParseRoutes(text.str(), path);
  return loaded;
}

// Creates versions' replica sets; the Kubernetes client is made once, when
// the first Kubernetes version needs it.
auto MakeFactory(const Flags& flags, const Clock& clock) -> ReplicaFactory {
  auto kube = std::make_shared<std::shared_ptr<KubeClient>>();
  return [&flags, &clock, kube](const std::string& ns, const EndpointRoute& endpoint,
                                const VersionRoute& version,
                                std::string& error) -> std::unique_ptr<ReplicaSet> {
    if (version.local) {
      LocalReplicasOptions options;
      options.command = version.local->command;
      options.working_directory = version.local->working_directory;
      options.log_directory = flags.log_directory;
      options.log_prefix = endpoint.name + "-" + version.name;
      return std::make_unique<LocalReplicas>(std::move(options), clock);
    }
    if (!*kube) {
      KubeConfigResult config = DefaultKubeConfig();
      if (!config.config) {
        error = "endpoint '" + endpoint.name + "' version '" + version.name +
                "' runs on Kubernetes, but: " + config.error;
        return nullptr;
      }
      *kube = std::make_shared<KubeClient>(std::move(*config.config));
    }
    return std::make_unique<KubeReplicas>(
        KubeReplicasOptions{ns, version.deployment, version.service}, *kube);
  };
}

// One proxy over one set of routes and the replica sets it routes to, which
// it keeps alive: requests in flight finish on the generation they started on.
struct Generation {
  Generation(const Fleet& fleet, Authenticators auth, Upstream& upstream,
             const ProxyOptions& options, ferry_rt::serve::Logger& log)
      : hold(fleet.Hold()),
        proxy(fleet.routes(), fleet.Sets(), std::move(auth), upstream, options, log) {}
  std::shared_ptr<const void> hold;  // destroyed after the proxy
  Proxy proxy;
};

// The generation new requests go to; swapped by the control thread.
class CurrentGeneration {
 public:
  auto Load() const -> std::shared_ptr<Generation> {
    std::lock_guard lock(mutex_);
    return current_;
  }
  /// Installs `next`; returns the previous one.
  auto Swap(std::shared_ptr<Generation> next) -> std::shared_ptr<Generation> {
    std::lock_guard lock(mutex_);
    std::swap(current_, next);
    return next;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<Generation> current_;
};

auto JoinErrors(const std::vector<RoutesError>& errors) -> std::string {
  std::string text;
  for (const RoutesError& problem : errors) {
    if (!text.empty()) text += "\n";
    text += problem.ToString();
  }
  return text;
}

auto Run(int argc, char** argv) -> int {
  // Signals are taken by sigtimedwait in the control loop below. Blocked
  // first, before any thread exists (the logger's writer thread starts with
  // StdoutLogger): a thread with SIGHUP unblocked would be killed by a
  // reload signal the kernel happened to deliver to it.
  sigset_t control_signals;
  sigemptyset(&control_signals);
  sigaddset(&control_signals, SIGTERM);
  sigaddset(&control_signals, SIGINT);
  sigaddset(&control_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &control_signals, nullptr);
  auto& log = ferry_rt::serve::StdoutLogger();
  Flags flags;
  std::string error;
  if (!ParseFlags(argc, argv, flags, error)) {
    std::fprintf(stderr, "router: %s\n%s", error.c_str(), kUsage.data());
    return 2;
  }
  // Before anything starts: a second router for the same project stops here.
  if (!flags.pid_file.empty() && LockPidFile(flags.pid_file) < 0) return 2;
  LoadedRoutes loaded = ReadRoutes(flags.routes);
  for (const RoutesError& problem : loaded.parsed.errors) {
    std::fprintf(stderr, "%s\n", problem.ToString().c_str());
  }
  if (!loaded.parsed.routes) return 2;
  const Routes& routes = *loaded.parsed.routes;
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


  SteadyClock clock;
  std::optional<Fleet> fleet;
  fleet.emplace(MakeFactory(flags, clock), clock);
  if (!fleet->Apply(routes, error)) {
    std::fprintf(stderr, "router: %s\n", error.c_str());
    return 2;
  }
  ProxyOptions proxy_options;
  if (flags.request_timeout_ms) proxy_options.request_timeout_ms = *flags.request_timeout_ms;
  if (tls_port && routes.tls && routes.tls->redirect_http) proxy_options.https_port = tls_port;
  PooledUpstream upstream;
  CurrentGeneration current;
  current.Swap(
      std::make_shared<Generation>(*fleet, std::move(*auth), upstream, proxy_options, log));

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
      [&current](const http::Request& request, http::Response& response) {
        current.Load()->proxy.Handle(request, response, false);
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
        [&current](const http::Request& request, http::Response& response) {
          current.Load()->proxy.Handle(request, response, true);
        },
        error);
    if (!secure) {
      std::fprintf(stderr, "router: %s\n", error.c_str());
      return 1;
    }
  }
  log.Info(
      "listening",
      {LogField::Int("port", plain->port()), LogField::Int("tls_port", secure ? secure->port() : 0),
       LogField::Int("endpoints", static_cast<std::int64_t>(routes.endpoints.size()))});

  RouterStatus status;
  status.pid = ::getpid();
  status.port = plain->port();
  status.tls_port = secure ? secure->port() : 0;
  status.routes_sha256 = loaded.sha256;
  std::string written_status;
  // Written when it changed; after a reload always (a reader may wait for the file to change).
  auto write_status = [&](bool always) {
    if (flags.status_file.empty()) return;
    std::string document = StatusDocument(status, *fleet);
    if (!always && document == written_status) return;
    std::string why;
    if (WriteFileAtomically(flags.status_file, document, why)) {
      written_status = std::move(document);
    } else {
      log.Error("status file", {LogField::Str("error", why)});
    }
  };
  write_status(true);

  // Generations replaced while requests were in flight on them: destroyed
  // here, on the control thread, once nothing else holds them (which also
  // stops the replica sets only they kept).
  std::vector<std::shared_ptr<Generation>> retired;
  // A new generation over the fleet's current sets; false (logged) if the
  // endpoints' authenticators cannot be made.
  auto install = [&](std::string& why) -> bool {
    std::optional<Authenticators> next_auth = MakeAuthenticators(fleet->routes(), why);
    if (!next_auth) return false;
    retired.push_back(current.Swap(
        std::make_shared<Generation>(*fleet, std::move(*next_auth), upstream, proxy_options, log)));
    return true;
  };
  auto reload = [&] {
    LoadedRoutes next = ReadRoutes(flags.routes);
    std::string why = JoinErrors(next.parsed.errors);
    if (next.parsed.routes) {
      const Routes& wanted = *next.parsed.routes;
      // Listeners and TLS are the process's: only a restart changes them.
      if (!flags.port && wanted.listen_http != routes.listen_http) {
        log.Warn("reload ignores listen.http", {LogField::Int("listening", plain->port()),
                                                LogField::Int("routes", wanted.listen_http)});
      }
      std::string auth_error;
      if (!MakeAuthenticators(wanted, auth_error)) {
        why = auth_error;
      } else if (!fleet->Apply(wanted, why)) {
        // `why` says which set could not be made; the old routes stay.
      } else if (!install(why)) {
        // Authenticators failed between the check and now: the fleet runs the new routes
        // but the old generation keeps routing (and holding the sets it routes to).
      } else {
        why.clear();
      }
    }
    if (why.empty()) {
      ++status.reloads;
      status.routes_sha256 = next.sha256;
      status.reload_error.clear();
      log.Info("reloaded", {LogField::Int("reloads", status.reloads),
                            LogField::Str("routes_sha256", status.routes_sha256),
                            LogField::Int("endpoints", static_cast<std::int64_t>(
                                                           fleet->routes().endpoints.size()))});
    } else {
      status.reload_error = why;
      log.Error("reload failed", {LogField::Str("error", why)});
    }
    write_status(true);
  };

  // The control loop: the autoscaler every 100 ms, readiness every second.
  auto next_reconcile = clock.Now();
  const timespec tick{0, 100'000'000};
  int signal = 0;
  while (true) {
    signal = sigtimedwait(&control_signals, nullptr, &tick);
    if (signal == SIGTERM || signal == SIGINT) break;
    if (signal == SIGHUP) reload();
    const TimePoint now = clock.Now();
    const bool reconcile = now >= next_reconcile;
    if (reconcile && fleet->Reconcile(now)) {
      std::string why;
      if (install(why)) {
        log.Info("rolled out", {LogField::Str("routes_sha256", status.routes_sha256)});
      } else {
        log.Error("roll out", {LogField::Str("error", why)});
      }
    }
    const std::shared_ptr<Generation> serving = current.Load();
    const auto& versions = fleet->versions();
    for (std::size_t e = 0; e < versions.size(); ++e) {
      for (std::size_t v = 0; v < versions[e].size(); ++v) {
        RevisionReplicas& revision = *versions[e][v].serving;
        const std::int64_t busy = serving->proxy.Busy(e, v);
        const std::int64_t before = revision.replicas->Desired();
        // Every decision is a log line: why a version has the replicas it has.
        if (auto after = revision.autoscaler->Step(*revision.replicas, busy)) {
          log.Info("scale", {LogField::Str("endpoint", versions[e][v].endpoint),
                             LogField::Str("version", versions[e][v].route.name),
                             LogField::Str("direction", *after > before ? "up" : "down"),
                             LogField::Int("from", before), LogField::Int("to", *after),
                             LogField::Int("busy", busy)});
        }
      }
    }
    std::erase_if(retired, [](const auto& generation) { return generation.use_count() == 1; });
    if (reconcile) {
      serving->proxy.ReadinessChecked();
      next_reconcile = now + 1s;
      write_status(false);
    }
  }
  log.Info("stopping", {LogField::Str("signal", signal == SIGTERM ? "SIGTERM" : "SIGINT")});
  current.Load()->proxy.StartDraining();
  if (secure) secure->Stop();
  plain->Stop();
  current.Swap(nullptr);
  retired.clear();
  fleet.reset();  // stops local replicas
  log.Info("stopped");
  return 0;
}

}  // namespace
}  // namespace ferry::router

auto main(int argc, char** argv) -> int { return ferry::router::Run(argc, argv); }

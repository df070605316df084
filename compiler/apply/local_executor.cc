// The local executor's actions. Every change to what runs goes through one
// path: the state as it will be once the action is recorded -> routes.yaml
// -> SIGHUP -> the router's status says it loaded those bytes.
#include "compiler/apply/local_executor.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "compiler/apply/bundle_cache.h"
#include "compiler/apply/local_router.h"
#include "compiler/apply/local_routes.h"
#include "compiler/apply/local_status.h"
#include "compiler/apply/secrets.h"
#include "compiler/apply/state_store.h"
#include "compiler/support/sha256.h"

namespace ferry::apply {
namespace {

namespace fs = std::filesystem;
using Live = std::map<std::string, std::string, std::less<>>;

constexpr std::size_t kReplicaLogLines = 20;

auto Failure(std::string error, std::string detail = "") -> ActionOutcome {
  ActionOutcome outcome;
  outcome.error = std::move(error);
  outcome.detail = std::move(detail);
  return outcome;
}

auto Success(const plan::Action& action, const Live& live = {}) -> ActionOutcome {
  ActionOutcome outcome;
  outcome.ok = true;
  if (action.kind != plan::ActionKind::Delete) outcome.record = RecordOf(action, live);
  return outcome;
}

auto Seconds(std::chrono::steady_clock::time_point since) -> std::string {
  const auto elapsed = std::chrono::steady_clock::now() - since;
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count()) + " s";
}

auto Attribute(const plan::Action& action, std::string_view field) -> std::string {
  if (!action.desired) return "";
  return StringAttribute(action.desired->attributes, field).value_or("");
}

class LocalExecutor final : public Executor {
 public:
  explicit LocalExecutor(LocalOptions options) : options_(std::move(options)) {}

  auto Kind() const -> plan::ExecutorKind override { return plan::ExecutorKind::Local; }

  auto Refresh(const plan::State& state, const ProjectPaths& paths, std::string& error)
      -> std::vector<Observed> override {
    (void)error;
    return ObserveLocal(state, LocalRouter(paths, options_));
  }

  auto Execute(const plan::Action& action, ExecuteContext& context) -> ActionOutcome override {
    LocalRouter router(context.paths, options_);
    if (action.type == "cluster") return Success(action);
    if (action.type == "bundle") return ExecuteBundle(action, context);
    if (action.type == "secret") return ExecuteSecret(action, router, context);
    if (action.type == "router") return ExecuteRouter(action, router, context);
    if (action.type == "version") return ExecuteVersion(action, router, context);
    if (action.type == "traffic") return ExecuteTraffic(action, router, context);
    return Failure("the local executor has no way to apply " + action.address +
                   " (resource type '" + action.type + "')");
  }

  // An apply killed between changing what runs and recording it can leave
  // routes naming a version the state does not have (say, one that failed
  // and was then removed from the manifest) or a router no state records.
  // Both are found through the saved state, read after apply's last save.
  auto AfterApply(const plan::Desired& desired, const ProjectPaths& paths, std::string& error)
      -> std::vector<std::string> override {
    (void)desired;
    plan::State state;
    bool exists = false;
    if (!StateStore(paths.state_dir + "/state.json").Load(state, exists, error)) return {};
    LocalRouter router(paths, options_);
    std::vector<std::string> done;
    if (const int builds = RemoveStaleBuilds(router.files().cache_dir); builds > 0) {
      done.push_back("removed " + std::to_string(builds) +
                     " unfinished bundle build(s) of killed applies from the cache");
    }
    if (!router.Running()) return done;
    if (state.Find("router") == nullptr) {
      std::string note;
      if (router.Stop(error, note)) done.push_back(note + ": no state records it");
      return done;
    }
    const std::string routes = RenderLocalRoutes(state, router.files().Layout());
    std::string status_error;
    const std::optional<RouterStatus> status = router.ReadStatus(status_error);
    if (status && status->routes_sha256 == support::Sha256Hex(routes)) return done;
    if (router.Reload(routes, error)) {
      done.emplace_back("reloaded the router with the routes of the recorded state");
    }
    return done;
  }

  auto Status(const plan::State& state, const ProjectPaths& paths, std::string& error)
      -> std::vector<EndpointStatus> override {
    return LocalEndpointStatus(state, LocalRouter(paths, options_), error);
  }

  auto Logs(const plan::State& state, const ProjectPaths& paths, std::string_view endpoint,
            std::string_view version, std::size_t lines, std::string& error)
      -> std::string override {
    return LocalLogs(state, LocalFiles(paths), endpoint, version, lines, error);
  }

  auto ReadSecret(const plan::State& state, const ProjectPaths& paths, std::string_view endpoint,
                  std::string& error) -> std::optional<EndpointSecret> override {
    const plan::ResourceState* secret = state.Find("secret." + std::string(endpoint));
    if (secret == nullptr) {
      error = "endpoint '" + std::string(endpoint) + "' has no keys or signing key applied";
      return std::nullopt;
    }
    const std::string mode = StringAttribute(secret->attributes, "mode").value_or("");
    return ReadSecretFolder(LocalFiles(paths).secrets_dir + "/" + std::string(endpoint), mode,
                            error);
  }

  auto WriteSecret(const plan::State& state, const ProjectPaths& paths, std::string_view endpoint,
                   const EndpointSecret& secret, std::string& error) -> bool override {
    if (state.Find("secret." + std::string(endpoint)) == nullptr) {
      error = "endpoint '" + std::string(endpoint) + "' has no keys or signing key applied";
      return false;
    }
    // The router re-reads the files when they change: no reload needed.
    return WriteSecretFolder(LocalFiles(paths).secrets_dir + "/" + std::string(endpoint), secret,
                             error);
  }

 private:
  auto ExecuteBundle(const plan::Action& action, ExecuteContext& context) -> ActionOutcome {
    const auto [endpoint, version] = SplitAddress(action.address);
    const std::string name = endpoint + "-" + version;
    if (action.kind == plan::ActionKind::Delete) {
      context.progress.Line("forgetting bundle " + name +
                            "; its cache entry stays (the cache is shared by projects)");
      return Success(action);
    }
    BundleBuild build;
    build.cache_dir = LocalFiles(context.paths).cache_dir;
    build.sha256 = Attribute(action, "sha256");
    build.directory = Attribute(action, "directory");
    build.cmake = options_.cmake;
    build.build_type = options_.build_type;
    build.jobs = options_.build_jobs;
    const std::string label = "building bundle " + name;
    build.on_progress = [&](double fraction) { context.progress.Fraction(label, fraction); };
    const std::string path = BundleCachePath(build.cache_dir, build.sha256);
    if (!BundleCached(path)) context.progress.Line(label + " into " + path);
    const auto start = std::chrono::steady_clock::now();
    const BundleBuildResult result = BuildBundle(build, context.rendered);
    if (!result.ok) return Failure(result.error, result.detail);
    context.progress.Line(result.cached ? "bundle " + name + " is cached: nothing to build"
                                        : "built bundle " + name + " in " + Seconds(start));
    return Success(action, {{"path", result.path}});
  }

  auto ExecuteSecret(const plan::Action& action, LocalRouter& router, ExecuteContext& context)
      -> ActionOutcome {
    const auto [endpoint, unused] = SplitAddress(action.address);
    const std::string folder = router.files().secrets_dir + "/" + endpoint;
    std::error_code ec;
    if (action.kind == plan::ActionKind::Delete) {
      fs::remove_all(folder, ec);
      if (ec) return Failure("cannot remove " + folder + ": " + ec.message());
      context.progress.Line("removed the key material of endpoint " + endpoint);
      return Success(action);
    }
    const std::string mode = Attribute(action, "mode");
    if (action.kind == plan::ActionKind::Replace) fs::remove_all(folder, ec);
    std::string error;
    // Files already there are an apply killed after writing them: keep them.
    if (ReadSecretFolder(folder, mode, error)) {
      context.progress.Line("endpoint " + endpoint + " keeps its key material (values not shown)");
      return Success(action);
    }
    EndpointSecret secret;
    secret.mode = mode;
    for (const std::string& file : SecretFileNames(mode)) {
      std::string key = GenerateKey();
      if (key.empty()) return Failure("the random number generator failed (OpenSSL RAND_bytes)");
      (file == "primary"     ? secret.primary
       : file == "secondary" ? secret.secondary
                             : secret.signing_key) = key;
    }
    if (!WriteSecretFolder(folder, secret, error)) return Failure(error);
    context.progress.Line("wrote the " + std::string(mode == "key" ? "keys" : "signing key") +
                          " of endpoint " + endpoint + " (values not shown; `ferry " +
                          (mode == "key" ? "keys " : "token ") + endpoint + "` prints them)");
    return Success(action);
  }

  auto ExecuteRouter(const plan::Action& action, LocalRouter& router, ExecuteContext& context)
      -> ActionOutcome {
    std::string error;
    std::string note;
    if (action.kind == plan::ActionKind::Delete || action.kind == plan::ActionKind::Replace) {
      if (!router.Stop(error, note)) return Failure(error);
      context.progress.Line(note);
      if (action.kind == plan::ActionKind::Delete) return Success(action);
    }
    if (const std::optional<pid_t> pid = router.Running();
        pid && action.kind != plan::ActionKind::Replace) {
      // Running already (an apply killed after starting it, or an update): adopt it.
      std::optional<RouterStatus> status = router.Reload(Routes(context, action, {}), error);
      if (!status) return Failure(error);
      context.progress.Line("router running (pid " + std::to_string(*pid) + ", port " +
                            std::to_string(status->port) + ")");
      return Success(action, RouterLive(*status));
    }
    const int port = RecordedPort(action, context.state);
    std::string detail;
    std::optional<RouterStatus> status =
        router.Start(Routes(context, action, {}), port, error, detail);
    if (!status && port != 0) {
      // The port it had is taken now; any port beats no router.
      context.progress.Line("the router could not start on port " + std::to_string(port) +
                            "; trying any free port");
      error.clear();
      detail.clear();
      status = router.Start(Routes(context, action, {}), 0, error, detail);
    }
    if (!status) return Failure(error, detail);
    context.progress.Line("started the router (pid " + std::to_string(status->pid) +
                          ", http://127.0.0.1:" + std::to_string(status->port) + ")");
    return Success(action, RouterLive(*status));
  }

  auto ExecuteTraffic(const plan::Action& action, LocalRouter& router, ExecuteContext& context)
      -> ActionOutcome {
    std::string error;
    if (!ReloadOrSkipDelete(action, router, context, error)) return Failure(error);
    return Success(action);
  }

  auto ExecuteVersion(const plan::Action& action, LocalRouter& router, ExecuteContext& context)
      -> ActionOutcome {
    std::string error;
    if (!ReloadOrSkipDelete(action, router, context, error)) return Failure(error);
    if (action.kind == plan::ActionKind::Delete) return Success(action);
    // Named copies: the readiness lambda captures them (clang 14 cannot capture bindings).
    const std::string endpoint = SplitAddress(action.address).first;
    const std::string version = SplitAddress(action.address).second;
    const std::string revision = VersionRevision(action.desired->attributes);
    const auto ready = [&](const RouterStatus& status) {
      const EndpointInfo* info = status.Find(endpoint);
      const VersionInfo* entry = info != nullptr ? info->Find(version) : nullptr;
      return entry != nullptr && entry->revision == revision && entry->previous_revision.empty() &&
             entry->ready >= 1;
    };
    context.progress.Line("waiting for version " + endpoint + "/" + version +
                          " to pass its readiness check");
    const auto start = std::chrono::steady_clock::now();
    std::optional<RouterStatus> last;
    if (router.WaitFor(ready, context.ready_timeout, last)) {
      context.progress.Line("version " + endpoint + "/" + version + " is ready (" + Seconds(start) +
                            ")");
      return Success(action, {{"revision", revision}});
    }
    return ReadinessFailure(endpoint, version, router, context, last);
  }

  // The version failed: the routes go back to the recorded state (its traffic
  // never moved; a new revision's replicas stop, an old one keeps serving).
  auto ReadinessFailure(const std::string& endpoint, const std::string& version,
                        LocalRouter& router, ExecuteContext& context,
                        const std::optional<RouterStatus>& last) -> ActionOutcome {
    std::string detail = ReplicaLogTails(endpoint, version, router.files(), last, kReplicaLogLines);
    std::string error = "version " + endpoint + "/" + version +
                        " did not pass its readiness check within " +
                        std::to_string(context.ready_timeout.count()) + " s";
    std::string restore_error;
    if (router.Reload(RenderLocalRoutes(context.state, router.files().Layout()), restore_error)) {
      error += "; traffic stays where it was. Its replicas' logs are below (`ferry logs " +
               endpoint + "/" + version + "` for more)";
    } else {
      error += "; restoring the previous routes failed too: " + restore_error;
    }
    return Failure(std::move(error), std::move(detail));
  }

  // Routes for the state after `action`, loaded by the router. A delete
  // while no router runs has nothing to change and succeeds.
  auto ReloadOrSkipDelete(const plan::Action& action, LocalRouter& router, ExecuteContext& context,
                          std::string& error) -> bool {
    if (action.kind == plan::ActionKind::Delete && !router.Running()) {
      context.progress.Line("the router is not running: nothing serves " + action.address);
      return true;
    }
    return router.Reload(Routes(context, action, {}), error).has_value();
  }

  auto Routes(const ExecuteContext& context, const plan::Action& action, const Live& live) const
      -> std::string {
    const LocalFiles files(context.paths);
    return RenderLocalRoutes(StateAfter(context.state, action, live), files.Layout());
  }

  static auto RouterLive(const RouterStatus& status) -> Live {
    return {{"pid", std::to_string(status.pid)}, {"port", std::to_string(status.port)}};
  }

  // The port the project's router had, so the scoring URI survives a restart.
  static auto RecordedPort(const plan::Action& action, const plan::State& state) -> int {
    const plan::ResourceState* recorded = state.Find("router");
    if (recorded == nullptr && action.prior) recorded = &*action.prior;
    if (recorded == nullptr) return 0;
    const auto port = recorded->live.find("port");
    if (port == recorded->live.end()) return 0;
    const int value = std::atoi(port->second.c_str());
    return value > 0 && value < 65536 ? value : 0;
  }

  LocalOptions options_;
};

}  // namespace

auto DefaultRouterProgram() -> std::string {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const fs::path folder = ec ? fs::path(".") : self.parent_path();
  for (const fs::path& candidate : {folder / "stdlib/router/router", folder / "router"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return (folder / "router").string();
}

auto MakeLocalExecutor(LocalOptions options) -> std::unique_ptr<Executor> {
  return std::make_unique<LocalExecutor>(std::move(options));
}

}  // namespace ferry::apply

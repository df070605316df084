// The local executor for real: samples/dev-test's bundle built with CMake
// (once: the cache, $FERRY_CACHE_DIR or one in the build folder, outlives runs),
// the real router started detached, a version brought up and given traffic,
// a scoring request with the applied key, a version that fails its readiness
// check, a crashed router, and a destroy that leaves no process behind.
#include "compiler/apply/local_executor.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "compiler/apply/bundle_cache.h"
#include "compiler/apply/local_router.h"
#include "compiler/apply/local_routes.h"
#include "compiler/apply/process.h"
#include "compiler/apply/state_store.h"
#include "compiler/driver/render.h"
#include "compiler/plan/resources.h"
#include "compiler/support/file_system.h"

namespace ferry::apply {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kBuildDir = fs::path(FERRY_BINARY).parent_path().string();

class RecordingProgress final : public Progress {
 public:
  void Line(std::string_view text) override { lines.emplace_back(text); }
  void Fraction(std::string_view, double fraction) override { fractions.push_back(fraction); }
  auto Saw(std::string_view text) const -> bool {
    for (const std::string& line : lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::vector<std::string> lines;
  std::vector<double> fractions;
};

auto ReadText(const std::string& path) -> std::string {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Answer {
  int status = 0;
  std::string body;
};

// One HTTP/1.1 POST over a fresh connection.
auto Post(std::int64_t port, const std::string& path, const std::string& body,
          const std::string& key) -> Answer {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return {};
  }
  const std::string request = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              "Authorization: Bearer " + key + "\r\n" +
                              "Content-Type: application/json\r\nConnection: close\r\n" +
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  [[maybe_unused]] const ssize_t sent = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
    response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  Answer answer;
  if (response.size() > 12) answer.status = std::atoi(response.c_str() + 9);
  if (const std::size_t end = response.find("\r\n\r\n"); end != std::string::npos) {
    answer.body = response.substr(end + 4);
  }
  return answer;
}

// samples/dev-test compiled and rendered, applied from a scratch project folder.
struct DevTestProject {
  DevTestProject() {
    diag::Sink sink;
    run = driver::CompileAndRender(support::DiskFileSystem(),
                                   std::string(FERRY_SOURCE_DIR) + "/samples/dev-test/ferry.yaml",
                                   sink);
    REQUIRE_FALSE(sink.HasErrors());
    desired = plan::DesiredResources(*run.project, run.result, plan::ExecutorKind::Local);
    const fs::path folder =
        fs::temp_directory_path() / ("ferry-local-e2e-" + std::to_string(::getpid()));
    fs::remove_all(folder);
    fs::create_directories(folder);
    paths.manifest = (folder / "ferry.yaml").string();
    paths.state_dir = (folder / ".ferry").string();
    // CI points every stage at one cache; by hand, the build folder keeps one.
    const char* cache = std::getenv("FERRY_CACHE_DIR");
    const std::string folder_of_cache =
        cache != nullptr && *cache != '\0' ? std::string(cache) : kBuildDir + "/local-test-cache";
    paths.cache_dir = fs::absolute(folder_of_cache).lexically_normal().string();
    options.router_program = kBuildDir + "/stdlib/router/router";
    options.build_jobs = 2;
    options.poll_interval = 50ms;
    state.project = desired.project;
    state.executor = "local";
  }
  ~DevTestProject() {
    std::string error;
    std::string note;
    LocalRouter(paths, options).Stop(error, note);
    fs::remove_all(fs::path(paths.state_dir).parent_path());
  }

  auto ActionFor(const std::string& address, plan::ActionKind kind = plan::ActionKind::Create)
      -> plan::Action {
    plan::Action action;
    action.kind = kind;
    action.address = address;
    action.type = address.substr(0, address.find('.'));
    if (kind != plan::ActionKind::Delete) {
      const plan::Resource* resource = plan::FindResource(desired, address);
      REQUIRE(resource != nullptr);
      action.desired = *resource;
    }
    if (const plan::ResourceState* prior = state.Find(address)) action.prior = *prior;
    return action;
  }

  // Executes `action` and records its outcome, as apply does.
  auto Apply(Executor& executor, const plan::Action& action,
             std::chrono::seconds ready_timeout = 60s) -> ActionOutcome {
    ExecuteContext context{*run.project, run.result, desired,      state,
                           paths,        progress,   ready_timeout};
    ActionOutcome outcome = executor.Execute(action, context);
    if (outcome.ok && outcome.record) state.Put(*outcome.record);
    if (outcome.ok && !outcome.record) state.Remove(action.address);
    return outcome;
  }

  auto Status() const -> RouterStatus {
    std::string error;
    std::optional<RouterStatus> status = LocalRouter(paths, options).ReadStatus(error);
    REQUIRE_MESSAGE(status.has_value(), error);
    return *status;
  }

  auto Key() const -> std::string {
    std::string text = ReadText(paths.state_dir + "/secrets/diabetes/primary");
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

  auto Score() const -> Answer {
    return Post(Status().port, "/api/v1/service/diabetes/score",
                R"({"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]})", Key());
  }

  auto Routes() const -> std::string {
    return RenderLocalRoutes(state, LocalFiles(paths).Layout());
  }

  driver::RenderRun run;
  plan::Desired desired;
  ProjectPaths paths;
  LocalOptions options;
  plan::State state;
  RecordingProgress progress;
};

auto ReplicaPids(const RouterStatus& status) -> std::vector<pid_t> {
  std::vector<pid_t> pids;
  for (const EndpointInfo& endpoint : status.endpoints) {
    for (const VersionInfo& version : endpoint.versions) {
      for (const ReplicaInfo& replica : version.replicas) {
        if (replica.pid > 0) pids.push_back(static_cast<pid_t>(replica.pid));
      }
    }
  }
  return pids;
}

// Processes other than ours whose command line names `text`.
auto ProcessesNaming(const std::string& text) -> std::vector<pid_t> {
  std::vector<pid_t> found;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    if (pid == ::getpid() || !ProcessAlive(pid)) continue;
    for (const std::string& arg : ProcessCommandLine(pid)) {
      if (arg.find(text) != std::string::npos) found.push_back(pid);
    }
  }
  return found;
}

void BringUp(DevTestProject& project, Executor& executor) {
  for (const char* address : {"cluster.dev", "bundle.diabetes.v1", "router", "secret.diabetes",
                              "version.diabetes.v1", "traffic.diabetes"}) {
    const ActionOutcome outcome = project.Apply(executor, project.ActionFor(address));
    REQUIRE_MESSAGE(outcome.ok, address, ": ", outcome.error, "\n", outcome.detail);
  }
}

TEST_CASE("local executor: dev-test applied, scored with its key, adopted, crashed, destroyed") {
  DevTestProject project;
  std::unique_ptr<Executor> executor = MakeLocalExecutor(project.options);
  CHECK(executor->Kind() == plan::ExecutorKind::Local);
  for (const char* address : {"cluster.dev", "bundle.diabetes.v1", "router", "secret.diabetes"}) {
    const ActionOutcome outcome = project.Apply(*executor, project.ActionFor(address));
    REQUIRE_MESSAGE(outcome.ok, address, ": ", outcome.error, "\n", outcome.detail);
  }
  const plan::ResourceState bundle = *project.state.Find("bundle.diabetes.v1");
  const std::string sha256 = *StringAttribute(bundle.attributes, "sha256");
  CHECK(bundle.live.at("path") == project.paths.cache_dir + "/bundles/" + sha256);
  CHECK(fs::exists(bundle.live.at("path") + "/bin/serve"));
  CHECK(project.progress.Saw("bundle diabetes-v1"));

  // The router runs detached, on a port of its own, holding its pid file.
  const plan::ResourceState router = *project.state.Find("router");
  const pid_t router_pid = std::stoi(router.live.at("pid"));
  CHECK(ProcessAlive(router_pid));
  CHECK(PidFileLocked(project.paths.state_dir + "/run/router.pid"));
  CHECK(project.Status().pid == router_pid);
  CHECK(std::stoi(router.live.at("port")) == project.Status().port);

  // Key material: 0600 files; a second create (an apply killed after writing them) keeps them.
  const std::string key = project.Key();
  CHECK(key.size() == 43);
  struct stat info {};
  REQUIRE(::stat((project.paths.state_dir + "/secrets/diabetes/secondary").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  REQUIRE(project.Apply(*executor, project.ActionFor("secret.diabetes")).ok);
  CHECK(project.Key() == key);

  // A new version runs at weight 0 until its traffic is applied.
  ActionOutcome version = project.Apply(*executor, project.ActionFor("version.diabetes.v1"));
  REQUIRE_MESSAGE(version.ok, version.error, "\n", version.detail);
  CHECK(ReadText(project.paths.state_dir + "/run/routes.yaml") == project.Routes());
  CHECK(project.Status().Find("diabetes")->Find("v1")->weight == 0.0);
  CHECK(project.Score().status == 503);
  REQUIRE(project.Apply(*executor, project.ActionFor("traffic.diabetes")).ok);
  CHECK(project.Status().Find("diabetes")->Find("v1")->weight == 100.0);
  const Answer scored = project.Score();
  CHECK(scored.status == 200);
  CHECK(scored.body.find("\"predicted\"") != std::string::npos);
  CHECK(Post(project.Status().port, "/api/v1/service/diabetes/score", "{}", "wrong").status == 401);

  // status, logs and refresh see it all.
  std::string error;
  std::vector<EndpointStatus> endpoints = executor->Status(project.state, project.paths, error);
  CHECK(error.empty());
  REQUIRE(endpoints.size() == 1);
  CHECK(endpoints[0].scoring_uri ==
        "http://127.0.0.1:" + router.live.at("port") + "/api/v1/service/diabetes/score");
  CHECK(endpoints[0].swagger_uri ==
        "http://127.0.0.1:" + router.live.at("port") + "/api/v1/service/diabetes/swagger.json");
  CHECK(endpoints[0].auth == "key");
  CHECK(endpoints[0].healthy);
  REQUIRE(endpoints[0].versions.size() == 1);
  CHECK(endpoints[0].versions[0].weight == 100.0);
  CHECK(endpoints[0].versions[0].revision == sha256.substr(0, 12));
  REQUIRE(endpoints[0].versions[0].replicas.size() == 1);
  CHECK(endpoints[0].versions[0].replicas[0].name == "diabetes-v1-0");
  CHECK(endpoints[0].versions[0].replicas[0].ready);
  const std::string logs = executor->Logs(project.state, project.paths, "diabetes", "", 5, error);
  CHECK(logs.starts_with("diabetes-v1-0 | "));
  for (const Observed& observed : executor->Refresh(project.state, project.paths, error)) {
    CHECK_MESSAGE(observed.exists, observed.address, ": ", observed.note);
    CHECK(observed.attributes == project.state.Find(observed.address)->attributes);
  }
  const std::optional<EndpointSecret> secret =
      executor->ReadSecret(project.state, project.paths, "diabetes", error);
  REQUIRE(secret.has_value());
  CHECK(secret->primary == key);

  // Another ferry (the next apply) adopts the running router instead of starting one.
  std::unique_ptr<Executor> next = MakeLocalExecutor(project.options);
  const ActionOutcome adopted = project.Apply(*next, project.ActionFor("router"));
  REQUIRE(adopted.ok);
  CHECK(adopted.record->live.at("pid") == std::to_string(router_pid));

  // A crashed router: refresh sees it and what it ran gone; create brings all back on its port.
  const std::vector<pid_t> replicas = ReplicaPids(project.Status());
  REQUIRE(replicas.size() == 1);
  ::kill(router_pid, SIGKILL);
  for (int i = 0; i < 200 && (ProcessAlive(router_pid) || ProcessAlive(replicas[0])); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK_FALSE(ProcessAlive(replicas[0]));
  for (const Observed& observed : executor->Refresh(project.state, project.paths, error)) {
    const bool runs = observed.address == "router" || observed.address.starts_with("version.") ||
                      observed.address.starts_with("traffic.");
    CHECK_MESSAGE(observed.exists == !runs, observed.address);
    if (runs)
      CHECK(observed.note == "router process " + std::to_string(router_pid) + " is not running");
  }
  const ActionOutcome restarted = project.Apply(*executor, project.ActionFor("router"));
  REQUIRE_MESSAGE(restarted.ok, restarted.error, "\n", restarted.detail);
  CHECK(restarted.record->live.at("port") == router.live.at("port"));
  std::optional<RouterStatus> last;
  CHECK(LocalRouter(project.paths, project.options)
            .WaitFor(
                [](const RouterStatus& status) {
                  return status.Find("diabetes") && status.Find("diabetes")->Find("v1")->ready == 1;
                },
                30s, last));
  CHECK(project.Score().status == 200);

  // Destroy, in the plan's order: nothing of the project runs afterwards.
  const std::vector<pid_t> running = ReplicaPids(project.Status());
  const pid_t new_router = project.Status().pid;
  for (const char* address : {"traffic.diabetes", "version.diabetes.v1", "secret.diabetes",
                              "router", "bundle.diabetes.v1", "cluster.dev"}) {
    const ActionOutcome outcome =
        project.Apply(*executor, project.ActionFor(address, plan::ActionKind::Delete));
    REQUIRE_MESSAGE(outcome.ok, address, ": ", outcome.error);
  }
  CHECK(project.state.resources.empty());
  CHECK_FALSE(ProcessAlive(new_router));
  for (pid_t pid : running) CHECK_FALSE(ProcessAlive(pid));
  CHECK(ProcessesNaming(project.paths.state_dir).empty());
  CHECK_FALSE(fs::exists(project.paths.state_dir + "/secrets/diabetes"));
  CHECK(fs::exists(project.paths.cache_dir + "/bundles/" + sha256 + "/bin/serve"));
  CHECK(project.progress.Saw("its cache entry stays"));
}

TEST_CASE("local executor: a router that cannot start fails with its log, after any port") {
  DevTestProject project;
  const std::string fake = fs::path(project.paths.state_dir).parent_path().string() + "/router";
  std::ofstream(fake) << "#!/bin/sh\necho \"router: cannot listen on port $4\"\nexit 2\n";
  ::chmod(fake.c_str(), 0755);
  project.options.router_program = fake;
  std::unique_ptr<Executor> executor = MakeLocalExecutor(project.options);
  // The port the router had before: taken now, so any port is tried next.
  plan::ResourceState recorded;
  recorded.address = recorded.type = "router";
  recorded.live = {{"pid", "1"}, {"port", "45678"}};
  project.state.Put(recorded);
  const ActionOutcome outcome =
      project.Apply(*executor, project.ActionFor("router", plan::ActionKind::Replace));
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.error == "the router exited right after starting (see " + project.paths.state_dir +
                             "/logs/router.log)");
  CHECK(outcome.detail == "router: cannot listen on port 45678\nrouter: cannot listen on port 0\n");
  CHECK(project.progress.Saw("the router could not start on port 45678; trying any free port"));
}

TEST_CASE("local executor: a version that fails its readiness check leaves traffic as it was") {
  DevTestProject project;
  std::unique_ptr<Executor> executor = MakeLocalExecutor(project.options);
  BringUp(project, *executor);
  const std::string routes_before = ReadText(project.paths.state_dir + "/run/routes.yaml");
  const std::string revision = project.Status().Find("diabetes")->Find("v1")->revision;

  // A bundle whose server exits at once, as a broken build would.
  const std::string broken = "broken-serve-for-readiness-test";
  const std::string folder = project.paths.cache_dir + "/bundles/" + broken;
  fs::create_directories(folder + "/bin");
  std::ofstream(folder + "/bin/serve") << "#!/bin/sh\necho 'model file is corrupt'\nexit 1\n";
  ::chmod((folder + "/bin/serve").c_str(), 0755);
  plan::Action replace = project.ActionFor("version.diabetes.v1", plan::ActionKind::Replace);
  replace.desired->attributes["bundle"] = "\"" + broken + "\"";

  const ActionOutcome outcome = project.Apply(*executor, replace, 3s);
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.error.starts_with(
      "version diabetes/v1 did not pass its readiness check within 3 s; traffic stays where it "
      "was"));
  CHECK(outcome.detail.find("diabetes-v1-") != std::string::npos);
  CHECK(outcome.detail.find("| model file is corrupt") != std::string::npos);
  // The state is unchanged, and so are the routes: the old revision serves throughout.
  CHECK(VersionRevision(project.state.Find("version.diabetes.v1")->attributes) == revision);
  CHECK(ReadText(project.paths.state_dir + "/run/routes.yaml") == routes_before);
  const VersionInfo running = *project.Status().Find("diabetes")->Find("v1");
  CHECK(running.revision == revision);
  CHECK(running.previous_revision.empty());
  CHECK(project.Score().status == 200);

  // An apply killed while the broken version was starting left it in the routes; the
  // manifest then dropped it, so no action rewrites them: AfterApply does.
  LocalRouter router(project.paths, project.options);
  std::string error;
  REQUIRE(router.Reload(
      RenderLocalRoutes(StateAfter(project.state, replace, {}), router.files().Layout()), error));
  StateStore store(project.paths.state_dir + "/state.json");
  REQUIRE(store.Save(project.state, error));
  // (A test run killed mid-build would add a line about its build folder.)
  RemoveStaleBuilds(project.paths.cache_dir);
  CHECK(executor->AfterApply(project.desired, project.paths, error) ==
        std::vector<std::string>{"reloaded the router with the routes of the recorded state"});
  CHECK_MESSAGE(error.empty(), error);
  CHECK(ReadText(project.paths.state_dir + "/run/routes.yaml") == routes_before);
  CHECK(executor->AfterApply(project.desired, project.paths, error).empty());

  // A router no state records (started by an apply killed before recording it) is stopped.
  const pid_t pid = project.Status().pid;
  const std::vector<pid_t> replicas = ReplicaPids(project.Status());
  plan::State empty;
  empty.project = project.state.project;
  empty.executor = "local";
  REQUIRE(store.Save(empty, error));
  const std::vector<std::string> removed =
      executor->AfterApply(plan::Desired{}, project.paths, error);
  CHECK(error.empty());
  CHECK(removed == std::vector<std::string>{"stopped the router (pid " + std::to_string(pid) +
                                            "): no state records it"});
  CHECK_FALSE(ProcessAlive(pid));
  for (pid_t replica : replicas) CHECK_FALSE(ProcessAlive(replica));
  fs::remove_all(folder);
}

}  // namespace
}  // namespace ferry::apply

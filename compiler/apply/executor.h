// The executor interface: how `apply` changes what runs, and how `plan
// --refresh`, `status`, `logs` and `keys` see it. One implementation per
// kind (local_executor.h, kubernetes_executor.h). This is the I/O edge:
// executors start processes, run kubectl, read clocks.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/project.h"
#include "compiler/plan/plan.h"
#include "compiler/plan/resources.h"
#include "compiler/plan/state.h"
#include "compiler/render/render.h"

namespace ferry::apply {

/// Where a project's files live: `<manifest dir>/.ferry/` and the shared cache.
struct ProjectPaths {
  std::string manifest;   ///< the manifest file
  std::string state_dir;  ///< "<manifest dir>/.ferry"
  /// The content-addressed bundle cache: $FERRY_CACHE_DIR, else
  /// $XDG_CACHE_HOME/ferry, else ~/.cache/ferry (bundles/<sha256>/ below it).
  std::string cache_dir;
};

/// Progress lines and bars; apply prints them, tests collect them.
class Progress {
 public:
  virtual ~Progress() = default;
  /// A line about the action in progress ("building bundle faq-live").
  virtual void Line(std::string_view text) = 0;
  /// A long step's progress, 0..1 (e.g. CMake's "[ 45%]"), for a bar on a terminal.
  virtual void Fraction(std::string_view label, double fraction) = 0;
};

/// What every Execute call gets.
struct ExecuteContext {
  const ir::Project& project;
  const render::RenderResult& rendered;
  const plan::Desired& desired;
  /// The state as recorded so far in this apply (every completed action is in it).
  const plan::State& state;
  const ProjectPaths& paths;
  Progress& progress;
  /// How long a new or updated version may take to pass its readiness check.
  std::chrono::seconds ready_timeout{120};
};

/// The result of one action.
struct ActionOutcome {
  bool ok = false;
  /// What to record on success: the resource's new entry (unset for a delete,
  /// which removes the entry). On failure, when set, recorded too (e.g. a
  /// version that started but failed readiness, recorded tainted so that
  /// nothing leaks and the next apply replaces it).
  std::optional<plan::ResourceState> record;
  /// On failure: what failed and how to fix it, one paragraph.
  std::string error;
  /// On failure: supporting text, e.g. the last lines of the replica's log.
  std::string detail;
};

/// What is really there for one recorded resource (`plan --refresh`).
struct Observed {
  std::string address;
  /// false: gone (a crashed router, an object deleted by hand).
  bool exists = true;
  /// The attributes as they are now (drift shows as a field change); only the
  /// attributes the executor can observe, the rest copied from the record.
  plan::Attributes attributes;
  std::string note;  ///< why it differs, e.g. "router process 1234 is not running"
};

/// One replica as `ferry status` shows it.
struct ReplicaStatus {
  std::string name;  ///< "faq-live-0" or a pod name
  bool ready = false;
  std::string detail;  ///< "pid 1234, port 41817" or "Running on node-1"
};
struct VersionStatus {
  std::string name;
  double weight = 0;  ///< percent, as applied
  bool is_default = false;
  std::string role;
  std::string revision;  ///< the bundle sha256 prefix running
  std::vector<ReplicaStatus> replicas;
};
struct EndpointStatus {
  std::string name;
  std::string scoring_uri;
  std::string swagger_uri;
  std::string auth;  ///< "key", "token", "none"
  bool healthy = false;  ///< at least one ready replica of a version with traffic
  std::vector<VersionStatus> versions;
};

/// An endpoint's authentication material (`ferry keys`, `ferry token`).
struct EndpointSecret {
  std::string mode;  ///< "key" or "token"
  std::string primary;
  std::string secondary;
  std::string signing_key;  ///< token auth: the HS256 key
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual auto Kind() const -> plan::ExecutorKind = 0;

  /// Observes every resource in `state`; an error (e.g. kubectl cannot reach
  /// the cluster) leaves `error` set and returns nothing.
  virtual auto Refresh(const plan::State& state, const ProjectPaths& paths, std::string& error)
      -> std::vector<Observed> = 0;

  /// Runs one action of the plan.
  virtual auto Execute(const plan::Action& action, ExecuteContext& context) -> ActionOutcome = 0;

  /// After a successful apply (or destroy, with an empty `desired`): removes
  /// what the executor finds running for the project that is neither desired
  /// nor recorded (what a killed apply created before recording it); returns
  /// one line per thing removed. The local executor's processes and files
  /// are all found through the state, so it has nothing to do here.
  virtual auto AfterApply(const plan::Desired& desired, const ProjectPaths& paths,
                          std::string& error) -> std::vector<std::string> {
    (void)desired;
    (void)paths;
    (void)error;
    return {};
  }

  /// The endpoints as they run now (`ferry status`).
  virtual auto Status(const plan::State& state, const ProjectPaths& paths, std::string& error)
      -> std::vector<EndpointStatus> = 0;

  /// The last `lines` lines of the logs of ENDPOINT or ENDPOINT/VERSION
  /// (`ferry logs`), each prefixed by its replica's name.
  virtual auto Logs(const plan::State& state, const ProjectPaths& paths, std::string_view endpoint,
                    std::string_view version, std::size_t lines, std::string& error)
      -> std::string = 0;

  /// The endpoint's applied keys or signing key; nullopt with `error` set
  /// when the endpoint has none applied (or it cannot be read).
  virtual auto ReadSecret(const plan::State& state, const ProjectPaths& paths,
                          std::string_view endpoint, std::string& error)
      -> std::optional<EndpointSecret> = 0;
  /// Replaces the endpoint's applied material (`ferry keys --regenerate`);
  /// running routers and replicas pick it up without a restart.
  virtual auto WriteSecret(const plan::State& state, const ProjectPaths& paths,
                           std::string_view endpoint, const EndpointSecret& secret,
                           std::string& error) -> bool = 0;
};

/// The entry an action records on success: its desired resource (address,
/// type, hash, attributes) with the executor's `live` records.
auto RecordOf(const plan::Action& action,
              const std::map<std::string, std::string, std::less<>>& live) -> plan::ResourceState;

/// The executor of `kind`.
auto MakeExecutor(plan::ExecutorKind kind) -> std::unique_ptr<Executor>;

}  // namespace ferry::apply

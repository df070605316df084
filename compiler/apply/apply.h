// The apply loop and what plan/apply/destroy share: where a project's files
// are, refreshing the recorded state against what runs, and executing a
// plan's actions in order, recording each completed one at once so that a
// killed apply loses nothing and the next one converges.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "compiler/apply/executor.h"
#include "compiler/apply/state_store.h"
#include "compiler/plan/plan.h"

namespace ferry::apply {

/// `<manifest dir>/.ferry`, the state file of `kind` in it, and the bundle
/// cache (from the environment: this is the edge).
auto PathsFor(const std::string& manifest, plan::ExecutorKind kind) -> ProjectPaths;
/// ".ferry/state.json" (local) or ".ferry/state.kubernetes.json".
auto StatePath(const ProjectPaths& paths, plan::ExecutorKind kind) -> std::string;

/// `state` as it really is: resources gone are dropped, drifted ones carry
/// their observed attributes (and the hash of those). `notes` says what
/// differed, one line each.
auto Refresh(Executor& executor, const plan::State& state, const ProjectPaths& paths,
             std::vector<std::string>& notes, std::string& error) -> std::optional<plan::State>;

/// Where a test kills apply (SIGKILL to itself): before action N runs, or
/// after it ran and before it is recorded. FERRY_TEST_KILL="before:3" or
/// "after:3" (1-based); only the crash-safety tests set it.
struct KillPoint {
  bool after = false;
  std::size_t action = 0;
};
auto KillPointFromEnvironment() -> std::optional<KillPoint>;

struct ApplyOptions {
  std::chrono::seconds ready_timeout{120};
  std::optional<KillPoint> kill;
};

/// What ExecutePlan did.
struct ApplyReport {
  bool ok = true;
  std::size_t completed = 0;
  std::string failed_address;
  std::string error;
  std::string detail;
};

/// The inputs every action needs.
struct ApplyInputs {
  const ir::Project& project;
  const render::RenderResult& rendered;
  const plan::Desired& desired;
  const ProjectPaths& paths;
};

/// Runs `plan`'s actions in order through `executor`. After each one the
/// state is saved through `store` (so `state` is what is recorded); the
/// first failure stops the loop. `progress` gets a line when an action
/// starts and one with its elapsed time when it ends.
auto ExecutePlan(Executor& executor, const plan::Plan& plan, const ApplyInputs& inputs,
                 plan::State& state, StateStore& store, Progress& progress,
                 const ApplyOptions& options) -> ApplyReport;

}  // namespace ferry::apply

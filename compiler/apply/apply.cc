#include "compiler/apply/apply.h"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fmt/format.h>

#include "compiler/support/file_system.h"

namespace ferry::apply {
namespace {

auto Seconds(std::chrono::steady_clock::duration elapsed) -> std::string {
  return fmt::format("{:.1f}s", std::chrono::duration<double>(elapsed).count());
}

auto PastTense(plan::ActionKind kind) -> std::string_view {
  switch (kind) {
    case plan::ActionKind::Create: return "created";
    case plan::ActionKind::Update: return "updated";
    case plan::ActionKind::Replace: return "replaced";
    case plan::ActionKind::Delete: return "deleted";
  }
  return "done";
}

auto Progressive(plan::ActionKind kind) -> std::string_view {
  switch (kind) {
    case plan::ActionKind::Create: return "creating";
    case plan::ActionKind::Update: return "updating";
    case plan::ActionKind::Replace: return "replacing";
    case plan::ActionKind::Delete: return "deleting";
  }
  return "running";
}

void KillIfAsked(const ApplyOptions& options, std::size_t action, bool after) {
  if (options.kill && options.kill->action == action && options.kill->after == after) {
    raise(SIGKILL);
  }
}

}  // namespace

auto PathsFor(const std::string& manifest, plan::ExecutorKind /*kind*/) -> ProjectPaths {
  ProjectPaths paths;
  paths.manifest = manifest;
  const std::string folder = support::DirName(manifest);
  paths.state_dir = support::JoinPath(folder.empty() ? "." : folder, ".ferry");
  if (const char* cache = std::getenv("FERRY_CACHE_DIR"); cache != nullptr && *cache != '\0') {
    paths.cache_dir = cache;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    paths.cache_dir = std::string(xdg) + "/ferry";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    paths.cache_dir = std::string(home) + "/.cache/ferry";
  } else {
    paths.cache_dir = paths.state_dir + "/cache";
  }
  return paths;
}

auto StatePath(const ProjectPaths& paths, plan::ExecutorKind kind) -> std::string {
  return paths.state_dir +
         (kind == plan::ExecutorKind::Local ? "/state.json" : "/state.kubernetes.json");
}

auto Refresh(Executor& executor, const plan::State& state, const ProjectPaths& paths,
             std::vector<std::string>& notes, std::string& error) -> std::optional<plan::State> {
  std::vector<Observed> observed = executor.Refresh(state, paths, error);
  if (!error.empty()) return std::nullopt;
  plan::State refreshed = state;
  for (const Observed& seen : observed) {
    const plan::ResourceState* recorded = state.Find(seen.address);
    if (recorded == nullptr) continue;
    if (!seen.exists) {
      notes.push_back(seen.address + ": gone" + (seen.note.empty() ? "" : " (" + seen.note + ")"));
      refreshed.Remove(seen.address);
      continue;
    }
    if (seen.attributes == recorded->attributes) continue;
    plan::ResourceState drifted = *recorded;
    drifted.attributes = seen.attributes;
    // The recorded hash is of what was applied; what runs now hashes
    // differently, so the plan shows the drift as a change.
    drifted.hash = plan::HashAttributes(drifted.type, drifted.attributes);
    notes.push_back(seen.address + ": changed outside ferry" +
                    (seen.note.empty() ? "" : " (" + seen.note + ")"));
    refreshed.Put(std::move(drifted));
  }
  return refreshed;
}

auto KillPointFromEnvironment() -> std::optional<KillPoint> {
  const char* text = std::getenv("FERRY_TEST_KILL");
  if (text == nullptr) return std::nullopt;
  const std::string_view spec(text);
  const std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  KillPoint point;
  point.after = spec.substr(0, colon) == "after";
  point.action = std::strtoul(std::string(spec.substr(colon + 1)).c_str(), nullptr, 10);
  if (point.action == 0) return std::nullopt;
  return point;
}

auto ExecutePlan(Executor& executor, const plan::Plan& plan, const ApplyInputs& inputs,
                 plan::State& state, StateStore& store, Progress& progress,
                 const ApplyOptions& options) -> ApplyReport {
  ApplyReport report;
  state.project = inputs.desired.project;
  state.executor = std::string(plan::ToString(inputs.desired.executor));
  for (std::size_t i = 0; i < plan.actions.size(); ++i) {
    const plan::Action& action = plan.actions[i];
    KillIfAsked(options, i + 1, false);
    progress.Line(fmt::format("{}: {}...", action.address, Progressive(action.kind)));
    const auto started = std::chrono::steady_clock::now();
    ExecuteContext context{inputs.project, inputs.rendered, inputs.desired, state, inputs.paths,
                           progress, options.ready_timeout};
    ActionOutcome outcome = executor.Execute(action, context);
    KillIfAsked(options, i + 1, true);
    const std::string elapsed = Seconds(std::chrono::steady_clock::now() - started);
    if (outcome.ok) {
      if (outcome.record) {
        state.Put(std::move(*outcome.record));
      } else {
        state.Remove(action.address);
      }
    } else if (outcome.record) {
      outcome.record->tainted = true;
      state.Put(std::move(*outcome.record));
    }
    std::string save_error;
    const bool saved = store.Save(state, save_error);
    if (!outcome.ok) {
      progress.Line(fmt::format("{}: failed after {}", action.address, elapsed));
      report.ok = false;
      report.failed_address = action.address;
      report.error = outcome.error;
      report.detail = outcome.detail;
      if (!saved) report.error += "\nAlso, the state could not be saved: " + save_error;
      return report;
    }
    if (!saved) {
      report.ok = false;
      report.failed_address = action.address;
      report.error = fmt::format(
          "{} was {}, but the state could not be saved: {}. Fix the cause and run apply again: "
          "it will find what runs and converge.",
          action.address, PastTense(action.kind), save_error);
      return report;
    }
    ++report.completed;
    progress.Line(fmt::format("{}: {} ({})", action.address, PastTense(action.kind), elapsed));
  }
  return report;
}

}  // namespace ferry::apply

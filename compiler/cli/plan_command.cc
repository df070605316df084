// `ferry plan`, `ferry apply` and `ferry destroy`: desired resources against
// the recorded state (refreshed against what runs), the actions between
// them, and executing those actions under the state's lock.
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <ostream>
#include <sstream>

#include "compiler/apply/apply.h"
#include "compiler/apply/state_store.h"
#include "compiler/cli/args.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/front_end.h"
#include "compiler/cli/project_session.h"
#include "compiler/plan/plan.h"

namespace ferry::cli {
namespace {

constexpr int kExitChanges = 2;

const OptionSpec kPlanOptions[] = {
    {"-out", {}, /*any_value=*/true},
    {"--refresh", {}},
    {"--executor", {"local", "kubernetes"}},
    {"--format", {"text", "json"}},
    {"--color", {"auto", "always", "never"}},
};

const OptionSpec kApplyOptions[] = {
    {"--auto-approve", {}},
    {"--executor", {"local", "kubernetes"}},
    {"--ready-timeout", {}, /*any_value=*/true},
    {"--color", {"auto", "always", "never"}},
};

const OptionSpec kDestroyOptions[] = {
    {"--auto-approve", {}},
    {"--executor", {"local", "kubernetes"}},
    {"--color", {"auto", "always", "never"}},
};

// Asks on the terminal; without one, apply needs --auto-approve.
auto Confirm(const Io& io, std::string_view command, std::string_view question) -> bool {
  if (!isatty(STDIN_FILENO)) {
    io.err << "ferry " << command
           << ": not confirmed: stdin is not a terminal; run with --auto-approve to "
           << command << " without asking\n";
    return false;
  }
  io.err << question << "\n  Only 'yes' will be accepted: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "yes") {
    io.err << "ferry " << command << ": cancelled, nothing was changed\n";
    return false;
  }
  return true;
}

auto CountsLine(const plan::Plan& plan) -> std::string {
  return fmt::format("{} created, {} updated, {} replaced, {} deleted",
                     plan.Counts(plan::ActionKind::Create), plan.Counts(plan::ActionKind::Update),
                     plan.Counts(plan::ActionKind::Replace), plan.Counts(plan::ActionKind::Delete));
}

void PrintFailure(const Io& io, std::string_view command, const apply::ApplyReport& report) {
  io.err << "\nferry " << command << ": " << report.failed_address << " failed: " << report.error
         << "\n";
  if (!report.detail.empty()) {
    io.err << report.detail;
    if (!report.detail.ends_with('\n')) io.err << "\n";
  }
  io.err << fmt::format(
      "{} action{} completed and recorded before it; what failed is recorded as it is, "
      "and the next apply continues from there.\n",
      report.completed, report.completed == 1 ? "" : "s");
}

void PrintEndpoints(apply::Executor& executor, const plan::State& state,
                    const apply::ProjectPaths& paths, const Io& io) {
  std::string error;
  const std::vector<apply::EndpointStatus> endpoints = executor.Status(state, paths, error);
  if (!error.empty()) return;
  for (const apply::EndpointStatus& endpoint : endpoints) {
    io.out << fmt::format("  {}: {} (auth {})\n", endpoint.name, endpoint.scoring_uri,
                          endpoint.auth);
  }
}

// Refreshes `state` in place, printing what differed; false on errors.
auto RefreshInto(apply::Executor& executor, plan::State& state, const apply::ProjectPaths& paths,
                 const Io& io, std::string_view command) -> bool {
  std::vector<std::string> notes;
  std::string error;
  std::optional<plan::State> refreshed = apply::Refresh(executor, state, paths, notes, error);
  if (!refreshed) {
    io.err << "ferry " << command << ": cannot read what runs: " << error << "\n";
    return false;
  }
  for (const std::string& note : notes) io.err << "refresh: " << note << "\n";
  state = std::move(*refreshed);
  return true;
}

// Prints plan errors (E09xx) the way check prints diagnostics.
auto PlanOrErrors(const ProjectSession& session, const plan::State& state, const Io& io,
                  bool color) -> std::optional<plan::Plan> {
  diag::Sink sink;
  plan::Plan plan = plan::MakePlan(*session.run.project, session.desired, state, sink);
  PrintDiagnostics(sink, session.run.sources, {.format = "text", .color = color, .quiet = true},
                   io);
  if (sink.HasErrors()) return std::nullopt;
  return plan;
}

// What a killed apply left running unrecorded goes (Executor::AfterApply);
// false, after saying why, when that fails.
auto PruneStrays(apply::Executor& executor, const ProjectSession& session, const Io& io,
                 std::string_view command) -> bool {
  std::string error;
  for (const std::string& line : executor.AfterApply(session.desired, session.paths, error)) {
    io.err << "pruned: " << line << "\n";
  }
  if (!error.empty()) io.err << "ferry " << command << ": " << error << "\n";
  return error.empty();
}

// Runs `plan` and prints the outcome; the exit code.
auto Execute(apply::Executor& executor, const plan::Plan& plan, const ProjectSession& session,
             plan::State& state, apply::StateStore& store, const Io& io,
             std::chrono::seconds ready_timeout, std::string_view command) -> int {
  TerminalProgress progress(io);
  apply::ApplyOptions options;
  options.ready_timeout = ready_timeout;
  options.kill = apply::KillPointFromEnvironment();
  const apply::ApplyInputs inputs{*session.run.project, session.run.result, session.desired,
                                  session.paths};
  const apply::ApplyReport report =
      apply::ExecutePlan(executor, plan, inputs, state, store, progress, options);
  if (!report.ok) {
    PrintFailure(io, command, report);
    return kExitFailure;
  }
  if (!PruneStrays(executor, session, io, command)) return kExitFailure;
  io.out << fmt::format("\n{} complete: {}.\n", command == "destroy" ? "Destroy" : "Apply",
                        CountsLine(plan));
  if (command != "destroy") PrintEndpoints(executor, state, session.paths, io);
  return kExitOk;
}

auto ParseReadyTimeout(const ParsedArgs& parsed, std::chrono::seconds& timeout) -> bool {
  const std::string text = parsed.Value("--ready-timeout", "120");
  char* end = nullptr;
  const long seconds = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || seconds <= 0) return false;
  timeout = std::chrono::seconds(seconds);
  return true;
}

auto ColorOf(const ParsedArgs& parsed, const Io& io) -> bool {
  const std::string color = parsed.Value("--color", "auto");
  return color == "always" || (color == "auto" && io.err_is_terminal);
}

// Takes the state's lock for `operation` and loads the state; prints why
// not and returns false when either fails.
auto LockAndLoad(apply::StateStore& store, std::string_view operation, plan::State& state,
                 const Io& io, std::string_view command) -> bool {
  std::string error;
  std::string note;
  if (!store.Lock(operation, error, note)) {
    io.err << "ferry " << command << ": " << error << "\n";
    return false;
  }
  if (!note.empty()) io.err << "ferry " << command << ": " << note << "\n";
  return LoadState(store, state, io, command);
}

// `apply PLANFILE`: the saved plan, if it is not stale.
auto ApplySavedPlan(const std::string& file, const plan::PlanFile& saved,
                    std::chrono::seconds ready_timeout, const Io& io) -> int {
  const plan::ExecutorKind kind = saved.plan.executor == "kubernetes"
                                      ? plan::ExecutorKind::Kubernetes
                                      : plan::ExecutorKind::Local;
  std::optional<ProjectSession> session = OpenProjectSession(saved.manifest_path, kind, {}, io);
  if (!session) {
    io.err << "ferry apply: the plan " << file << " was made from " << saved.manifest_path
           << ", which no longer compiles; run `ferry plan` again\n";
    return kExitFailure;
  }
  apply::StateStore store(apply::StatePath(session->paths, kind));
  plan::State state;
  if (!LockAndLoad(store, "apply", state, io, "apply")) return kExitFailure;
  if (std::optional<std::string> stale = plan::StalePlanReason(saved.plan, session->desired, state)) {
    io.err << "ferry apply: the saved plan " << file << " is stale: " << *stale << "\n";
    return kExitFailure;
  }
  io.out << plan::FormatPlanText(saved.plan, false);
  if (!saved.plan.HasChanges()) return kExitOk;
  std::unique_ptr<apply::Executor> executor = apply::MakeExecutor(kind);
  return Execute(*executor, saved.plan, *session, state, store, io, ready_timeout, "apply");
}

}  // namespace

auto RunPlan(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kPlanOptions);
  if (!parsed.error.empty()) return UsageError(io, "plan", parsed.error);
  const std::optional<std::string> path = ManifestArgument(parsed, io, "plan");
  if (!path) return kExitUsage;
  const DiagnosticOutput output = ReadDiagnosticOutput(parsed, io);
  const plan::ExecutorKind kind = ExecutorOption(parsed);
  std::optional<ProjectSession> session = OpenProjectSession(*path, kind, output, io);
  if (!session) return kExitFailure;

  apply::StateStore store(apply::StatePath(session->paths, kind));
  const std::string out = parsed.Value("-out", "");
  if (!out.empty()) {
    // A saved plan names the state's serial; holding the lock while it is
    // made keeps a concurrent apply from moving it underneath.
    std::string error;
    std::string note;
    if (!store.Lock("plan -out", error, note)) {
      io.err << "ferry plan: " << error << "\n";
      return kExitFailure;
    }
    if (!note.empty()) io.err << "ferry plan: " << note << "\n";
  }
  plan::State state;
  if (!LoadState(store, state, io, "plan")) return kExitFailure;
  std::unique_ptr<apply::Executor> executor;
  if (parsed.Has("--refresh")) {
    executor = apply::MakeExecutor(kind);
    if (!RefreshInto(*executor, state, session->paths, io, "plan")) return kExitFailure;
  }
  std::optional<plan::Plan> plan = PlanOrErrors(*session, state, io, output.color);
  if (!plan) return kExitFailure;
  if (output.format == "json") {
    io.out << plan::FormatPlanJson(*plan);
  } else {
    io.out << plan::FormatPlanText(*plan, output.color);
  }
  if (!out.empty()) {
    std::string error;
    if (!apply::WriteFileAtomically(out, plan::SerializePlanFile(*plan, session->manifest), error,
                                    0600)) {
      io.err << "ferry plan: " << error << "\n";
      return kExitFailure;
    }
    if (output.format == "text") {
      io.out << "\nSaved the plan to " << out << "; `ferry apply " << out
             << "` executes exactly these actions if nothing changes meanwhile.\n";
    }
  }
  return plan->HasChanges() ? kExitChanges : kExitOk;
}

auto RunApply(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kApplyOptions);
  if (!parsed.error.empty()) return UsageError(io, "apply", parsed.error);
  std::chrono::seconds ready_timeout{120};
  if (!ParseReadyTimeout(parsed, ready_timeout)) {
    return UsageError(io, "apply", "--ready-timeout takes a positive number of seconds");
  }
  if (parsed.positionals.size() == 1) {
    const std::string& candidate = parsed.positionals[0];
    if (!candidate.ends_with(".yaml") && !candidate.ends_with(".yml")) {
      if (std::optional<std::string> text = io.fs.Read(candidate);
          text && text->find("\"ferry-plan\"") != std::string::npos) {
        plan::PlanFile saved;
        if (std::optional<plan::StateError> problem =
                plan::ParsePlanFile(*text, candidate, saved)) {
          io.err << "ferry apply: " << problem->ToString() << "\n";
          return kExitFailure;
        }
        return ApplySavedPlan(candidate, saved, ready_timeout, io);
      }
    }
  }
  const std::optional<std::string> path = ManifestArgument(parsed, io, "apply");
  if (!path) return kExitUsage;
  const bool color = ColorOf(parsed, io);
  const plan::ExecutorKind kind = ExecutorOption(parsed);
  std::optional<ProjectSession> session = OpenProjectSession(*path, kind, {.color = color}, io);
  if (!session) return kExitFailure;

  apply::StateStore store(apply::StatePath(session->paths, kind));
  plan::State state;
  if (!LockAndLoad(store, "apply", state, io, "apply")) return kExitFailure;
  std::unique_ptr<apply::Executor> executor = apply::MakeExecutor(kind);
  // Like Terraform, apply always looks at what runs first: a crashed router
  // or an object deleted by hand is planned back.
  if (!RefreshInto(*executor, state, session->paths, io, "apply")) return kExitFailure;
  std::optional<plan::Plan> plan = PlanOrErrors(*session, state, io, color);
  if (!plan) return kExitFailure;
  io.out << plan::FormatPlanText(*plan, color) << std::flush;
  if (plan->HasChanges() && !parsed.Has("--auto-approve") &&
      !Confirm(io, "apply", "\nDo you want to perform these actions?")) {
    return kExitFailure;
  }
  if (!plan->HasChanges()) {
    // Nothing to do, but strays of a killed apply are still cleaned up.
    return PruneStrays(*executor, *session, io, "apply") ? kExitOk : kExitFailure;
  }
  io.out << "\n" << std::flush;
  return Execute(*executor, *plan, *session, state, store, io, ready_timeout, "apply");
}

auto RunDestroy(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kDestroyOptions);
  if (!parsed.error.empty()) return UsageError(io, "destroy", parsed.error);
  const std::optional<std::string> path = ManifestArgument(parsed, io, "destroy");
  if (!path) return kExitUsage;
  const bool color = ColorOf(parsed, io);
  const plan::ExecutorKind kind = ExecutorOption(parsed);
  // Destroy reads only the state: a manifest that no longer compiles (or is
  // gone) must not keep what runs from being taken down.
  ProjectSession session;
  session.manifest = *path;
  session.executor = kind;
  session.paths = apply::PathsFor(*path, kind);
  session.run.project.emplace();

  apply::StateStore store(apply::StatePath(session.paths, kind));
  plan::State state;
  if (!LockAndLoad(store, "destroy", state, io, "destroy")) return kExitFailure;
  session.desired.project = state.project;
  session.desired.executor = kind;
  session.desired.inputs_sha256 = plan::HashAttributes("destroy", {});
  std::unique_ptr<apply::Executor> executor = apply::MakeExecutor(kind);
  if (!RefreshInto(*executor, state, session.paths, io, "destroy")) return kExitFailure;
  std::optional<plan::Plan> plan = PlanOrErrors(session, state, io, color);
  if (!plan) return kExitFailure;
  io.out << plan::FormatPlanText(*plan, color) << std::flush;
  if (!plan->HasChanges()) {
    return PruneStrays(*executor, session, io, "destroy") ? kExitOk : kExitFailure;
  }
  if (!parsed.Has("--auto-approve") &&
      !Confirm(io, "destroy", "\nDo you really want to destroy everything this project runs?")) {
    return kExitFailure;
  }
  io.out << "\n" << std::flush;
  return Execute(*executor, *plan, session, state, store, io, std::chrono::seconds(120),
                 "destroy");
}

}  // namespace ferry::cli

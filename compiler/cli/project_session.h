// What plan, apply, destroy and the commands that operate a running project
// (status, logs, keys, token, force-unlock) share: the project compiled and
// rendered into desired resources, its state file, and progress on a terminal.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compiler/apply/apply.h"
#include "compiler/apply/executor.h"
#include "compiler/cli/args.h"
#include "compiler/cli/cli.h"
#include "compiler/cli/front_end.h"
#include "compiler/driver/render.h"
#include "compiler/plan/resources.h"

namespace ferry::cli {

/// A manifest compiled, checked, rendered and turned into desired resources.
struct ProjectSession {
  std::string manifest;
  plan::ExecutorKind executor = plan::ExecutorKind::Local;
  apply::ProjectPaths paths;
  driver::RenderRun run;
  plan::Desired desired;
};

/// The --executor option's value (default local).
auto ExecutorOption(const ParsedArgs& parsed) -> plan::ExecutorKind;

/// Compiles, checks and renders `manifest`; prints the diagnostics; nullopt
/// when there are errors (the caller exits 1).
auto OpenProjectSession(const std::string& manifest, plan::ExecutorKind executor,
                        const DiagnosticOutput& output, const Io& io)
    -> std::optional<ProjectSession>;

/// Loads the state of `paths`/`executor` into `state`; prints
/// "ferry COMMAND: ..." and returns false on errors.
auto LoadState(const apply::StateStore& store, plan::State& state, const Io& io,
               std::string_view command) -> bool;

/// Progress on stderr: lines as they come, and a bar redrawn in place for
/// long steps when stderr is a terminal.
class TerminalProgress final : public apply::Progress {
 public:
  explicit TerminalProgress(const Io& io) : io_(io) {}
  void Line(std::string_view text) override;
  void Fraction(std::string_view label, double fraction) override;

 private:
  void ClearBar();
  const Io& io_;
  bool bar_shown_ = false;
};

}  // namespace ferry::cli

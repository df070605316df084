// The command table: every `ferry` command is one row with its help text
// and a handler, so render/plan/apply/diff plug in as new rows.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "compiler/cli/cli.h"

namespace ferry::cli {

/// Runs a command with the arguments after its name; returns the exit code.
using Handler = auto(*)(std::span<const std::string> args, const Io& io) -> int;

struct Command {
  std::string_view name;
  /// One line for `ferry help`.
  std::string_view summary;
  /// "ferry check [PATH] [--format ...]".
  std::string_view usage;
  /// What `ferry help NAME` prints after the usage line.
  std::string_view details;
  Handler run;
};

/// Every command, in the order `ferry help` lists them.
auto Commands() -> std::span<const Command>;
/// The command named `name`, or nullptr.
auto FindCommand(std::string_view name) -> const Command*;

/// Prints "ferry NAME: MESSAGE", the command's usage and a pointer to its
/// help to stderr; returns kExitUsage.
auto UsageError(const Io& io, std::string_view command, std::string_view message) -> int;

/// `ferry check`.
auto RunCheck(std::span<const std::string> args, const Io& io) -> int;
/// `ferry compile`.
auto RunCompile(std::span<const std::string> args, const Io& io) -> int;
/// `ferry render`.
auto RunRender(std::span<const std::string> args, const Io& io) -> int;
/// `ferry plan`, `apply`, `destroy` (plan_command.cc).
auto RunPlan(std::span<const std::string> args, const Io& io) -> int;
auto RunApply(std::span<const std::string> args, const Io& io) -> int;
auto RunDestroy(std::span<const std::string> args, const Io& io) -> int;
/// `ferry status`, `logs`, `keys`, `token`, `force-unlock` (operate_command.cc).
auto RunStatus(std::span<const std::string> args, const Io& io) -> int;
auto RunLogs(std::span<const std::string> args, const Io& io) -> int;
auto RunKeys(std::span<const std::string> args, const Io& io) -> int;
auto RunToken(std::span<const std::string> args, const Io& io) -> int;
auto RunForceUnlock(std::span<const std::string> args, const Io& io) -> int;
/// `ferry golden`.
auto RunGolden(std::span<const std::string> args, const Io& io) -> int;
/// `ferry diff`.
auto RunDiff(std::span<const std::string> args, const Io& io) -> int;
/// `ferry explain`.
auto RunExplain(std::span<const std::string> args, const Io& io) -> int;
/// `ferry help`.
auto RunHelp(std::span<const std::string> args, const Io& io) -> int;

}  // namespace ferry::cli

// The `ferry` command line: parses arguments, dispatches to one command from
// a table and turns diagnostics into output and an exit code. The only place
// that touches the real disk, the terminal and the environment.
#pragma once

#include <iosfwd>
#include <span>
#include <string>

#include "compiler/support/file_system.h"

namespace ferry::cli {

/// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// The version `ferry --version` prints.
inline constexpr const char* kVersion = "0.1.0";

/// What a command may touch: its output streams, whether stderr is a
/// terminal (for `--color auto`) and the file system.
struct Io {
  std::ostream& out;
  std::ostream& err;
  bool err_is_terminal = false;
  const support::FileSystem& fs;
};

/// Runs `ferry` with `args` (without the program name) and returns the exit code.
auto Run(std::span<const std::string> args, const Io& io) -> int;

/// Runs `ferry` from main(): real streams, the real disk.
auto Run(int argc, char** argv) -> int;

}  // namespace ferry::cli

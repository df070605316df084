#include "compiler/cli/cli.h"

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <vector>

#include "compiler/cli/commands.h"

namespace ferry::cli {
namespace {

constexpr int kExitInternal = 3;

constexpr std::string_view kCheckDetails =
    R"(Checks the manifest at PATH (a .yaml/.yml file, or a folder holding
ferry.yaml; default ./ferry.yaml) and reports every problem at once, sorted
by position. Each diagnostic has a code; `ferry explain CODE` explains it.

options:
  --format text|json|sarif    output format (default text); text goes to
                              stderr, JSON and SARIF 2.1.0 to stdout
  --color auto|always|never   color the text output (default auto: when
                              stderr is a terminal and NO_COLOR is unset)
  --quiet                     report errors only, not warnings
  -h, --help                  show this help

exit status: 0 no errors (warnings allowed), 1 errors, 2 usage error
)";

constexpr std::string_view kExplainDetails =
    R"(Prints the explanation of a diagnostic code (e.g. E0203): what it means,
why ferry rejects it, how to fix it, and an example.

options:
  --list                      list every code with its severity and summary
  -h, --help                  show this help

exit status: 0 shown, 2 unknown code or usage error
)";

constexpr std::string_view kHelpDetails = R"(Lists the commands, or shows the help of COMMAND.
)";

// Later commands (render, plan, apply, diff) are new rows here.
constexpr Command kCommands[] = {
    {.name = "check",
     .summary = "validate a manifest and report every problem",
     .usage = "ferry check [PATH] [--format text|json|sarif] [--color auto|always|never] [--quiet]",
     .details = kCheckDetails,
     .run = RunCheck},
    {.name = "explain",
     .summary = "explain a diagnostic code",
     .usage = "ferry explain CODE | ferry explain --list",
     .details = kExplainDetails,
     .run = RunExplain},
    {.name = "help",
     .summary = "show help for ferry or one command",
     .usage = "ferry help [COMMAND]",
     .details = kHelpDetails,
     .run = RunHelp},
};

void PrintOverview(std::ostream& out) {
  out << "ferry " << kVersion << ": a compiler for ML scoring services\n\n"
      << "usage: ferry COMMAND [ARGS]\n\ncommands:\n";
  for (const Command& command : kCommands) {
    std::string name(command.name);
    out << "  " << name << std::string(10 - name.size(), ' ') << command.summary << "\n";
  }
  out << "\nRun 'ferry help COMMAND' for a command's options; 'ferry --version' for the version.\n";
}

void PrintCommandHelp(std::ostream& out, const Command& command) {
  out << "usage: " << command.usage << "\n\n" << command.details;
}

auto WantsHelp(std::span<const std::string> args) -> bool {
  for (const std::string& arg : args) {
    if (arg == "--") return false;
    if (arg == "-h" || arg == "--help") return true;
  }
  return false;
}

}  // namespace

auto Commands() -> std::span<const Command> { return kCommands; }

auto FindCommand(std::string_view name) -> const Command* {
  for (const Command& command : kCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

auto UsageError(const Io& io, std::string_view command, std::string_view message) -> int {
  const Command* found = FindCommand(command);
  io.err << "ferry " << command << ": " << message << "\n";
  if (found != nullptr) io.err << "usage: " << found->usage << "\n";
  io.err << "Run 'ferry help " << command << "' for details.\n";
  return kExitUsage;
}

auto RunHelp(std::span<const std::string> args, const Io& io) -> int {
  if (args.empty()) {
    PrintOverview(io.out);
    return kExitOk;
  }
  const Command* command = FindCommand(args[0]);
  if (command == nullptr || args.size() > 1) {
    io.err << "ferry help: unknown command '" << args[0] << "'\n";
    PrintOverview(io.err);
    return kExitUsage;
  }
  PrintCommandHelp(io.out, *command);
  return kExitOk;
}

auto Run(std::span<const std::string> args, const Io& io) -> int {
  if (args.empty()) {
    PrintOverview(io.err);
    return kExitUsage;
  }
  const std::string& first = args[0];
  if (first == "--version" || first == "-V") {
    io.out << "ferry " << kVersion << "\n";
    return kExitOk;
  }
  if (first == "--help" || first == "-h") return RunHelp({}, io);
  const Command* command = FindCommand(first);
  if (command == nullptr) {
    io.err << "ferry: unknown " << (first.starts_with('-') ? "option" : "command") << " '" << first
           << "'\n";
    PrintOverview(io.err);
    return kExitUsage;
  }
  std::span<const std::string> rest = args.subspan(1);
  if (command->run != RunHelp && WantsHelp(rest)) {
    PrintCommandHelp(io.out, *command);
    return kExitOk;
  }
  return command->run(rest, io);
}

auto Run(int argc, char** argv) -> int {
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  const char* term = std::getenv("TERM");
  bool color = isatty(STDERR_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr &&
               !(term != nullptr && std::string_view(term) == "dumb");
  support::DiskFileSystem disk;
  Io io{.out = std::cout, .err = std::cerr, .err_is_terminal = color, .fs = disk};
  // User errors are values; this only guards against a bug in ferry itself.
  try {
    return Run(args, io);
  } catch (const std::exception& error) {
    std::cerr << "ferry: internal error: " << error.what() << "\n";
    return kExitInternal;
  }
}

}  // namespace ferry::cli

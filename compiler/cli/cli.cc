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

constexpr std::string_view kCompileDetails =
    R"(Compiles the ONNX model MODEL.onnx into a scoring bundle in DIR: generated
C++ (model.cc), weights.bin, bundle.yaml and a CMake project. Every problem
with the model (unsupported operator or opset, unresolvable shape, ...) is
reported with a code; `ferry explain CODE` explains it.

options:
  --target cpu|gpu|fpga       the target (default cpu; gpu and fpga have no
                              code generator yet and are reported as E0810)
  -o, --output DIR            the bundle's folder (required)
  --isa avx512|avx2|sse4.2|portable
                              the CPU instruction set (default avx2)
  --build                     also build the bundle; programs land in DIR/bin
  -h, --help                  show this help

exit status: 0 written, 1 errors, 2 usage error
)";

constexpr std::string_view kRenderDetails =
    R"(Compiles and checks the manifest at PATH (as `ferry check` does) and
renders everything needed to serve it into the folder OUT:
  kubernetes/<cluster>/<kind>-<name>.yaml   one Kubernetes object per file
  images/<environment>-<target>/            image build plan and Dockerfile
  bundles/<endpoint>-<version>/             scoring bundles
With any error, nothing is written. OUT/.ferry-render.json lists what was
written, so rendering again removes files that are no longer produced; a
non-empty OUT without it is refused.

options:
  -o OUT                      the output folder (required)
  --format text|json          diagnostics as text on stderr (default) or
                              JSON on stdout
  --color auto|always|never   color the text output (default auto)
  --quiet                     report errors only, and no summary
  -h, --help                  show this help

exit status: 0 rendered, 1 errors (nothing written), 2 usage error
)";

constexpr std::string_view kGoldenDetails =
    R"(Renders every sample (SAMPLES/<name>/ferry.yaml) and compares the output
with GOLDEN/<name>/ byte for byte. Binary files are kept as <path>.sha256
(their digest and size).

options:
  --check                     compare, print a unified diff per differing
                              file and list missing and extra files (default)
  --update                    rewrite GOLDEN to match, removing stale files
  --samples DIR               the samples folder (default samples)
  --golden DIR                the golden folder (default golden)
  -h, --help                  show this help

exit status: 0 up to date (or updated), 1 differences or a sample that does
not render, 2 usage error
)";

constexpr std::string_view kDiffDetails =
    R"(Compares the project at two git revisions and reports what the change
does: endpoints and versions added, removed or renamed; each endpoint's
traffic split as resolved, before -> after; model, resource, autoscale, auth
and cluster changes; errors the change introduces or fixes; the rendered
Kubernetes objects, images and bundles created, updated or deleted; and the
risks a reviewer should not miss. Both sides are read straight from git (no
checkout; bare repositories work): BASE and HEAD are any revision git
accepts (a branch, a tag, a commit id, HEAD~1, origin/main). The formats are
described in docs/diff.md.

options:
  --repo DIR                  the repository, or any folder inside its work
                              tree (default: the current folder)
  --path SUBDIR               the project's folder (or its manifest) relative
                              to the repository's root (default: the root)
  --format text|markdown|json text for terminals (default), markdown for a
                              pull-request comment, json for tools
  -h, --help                  show this help

exit status: 0 no change, 2 changes, 1 error (a revision or repository that
cannot be read, no manifest on either side, a usage error)
)";

constexpr std::string_view kHelpDetails = R"(Lists the commands, or shows the help of COMMAND.
)";

// Later commands (plan, apply) are new rows here.
constexpr Command kCommands[] = {
    {.name = "check",
     .summary = "validate a manifest and report every problem",
     .usage = "ferry check [PATH] [--format text|json|sarif] [--color auto|always|never] [--quiet]",
     .details = kCheckDetails,
     .run = RunCheck},
    {.name = "compile",
     .summary = "compile an ONNX model into a scoring bundle",
     .usage = "ferry compile MODEL.onnx -o DIR [--target cpu|gpu|fpga] "
              "[--isa avx512|avx2|sse4.2|portable] [--build]",
     .details = kCompileDetails,
     .run = RunCompile},
    {.name = "render",
     .summary = "render Kubernetes objects, image build plans and bundles",
     .usage = "ferry render [PATH] -o OUT [--format text|json] [--color auto|always|never] "
              "[--quiet]",
     .details = kRenderDetails,
     .run = RunRender},
    {.name = "golden",
     .summary = "compare (or update) the samples' rendered golden files",
     .usage = "ferry golden [--check|--update] [--samples DIR] [--golden DIR]",
     .details = kGoldenDetails,
     .run = RunGolden},
    {.name = "diff",
     .summary = "review what a change does between two git revisions",
     .usage = "ferry diff BASE HEAD [--repo DIR] [--path SUBDIR] [--format text|markdown|json]",
     .details = kDiffDetails,
     .run = RunDiff},
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

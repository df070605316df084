#include "compiler/cli/cli.h"

#include <unistd.h>

#include <algorithm>
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

constexpr std::string_view kPlanDetails =
    R"(Compiles, checks and renders the manifest at PATH (as `ferry render` does),
turns it into the resources the executor runs, and compares them with the
state recorded by the last apply (.ferry/state.json beside the manifest; see
docs/plan.md). Prints what `ferry apply` would do: create, update (field by
field), replace (and why) and delete, then a summary line.

options:
  -out FILE                   save the plan; `ferry apply FILE` executes it
                              only if neither the state nor the inputs
                              changed since (otherwise it is refused as stale)
  --refresh                   first read what really runs (crashed processes,
                              objects edited by hand) and plan against that
  --executor local|kubernetes where it runs (default local: this machine)
  --format text|json          the plan as text (default) or as the stable
                              JSON form of docs/plan.md
  --color auto|always|never   color the text output (default auto)
  -h, --help                  show this help

exit status: 0 no changes, 1 error, 2 changes (Terraform's -detailed-exitcode)
)";

constexpr std::string_view kApplyDetails =
    R"(Plans as `ferry plan --refresh` does, shows the plan, asks for
confirmation on a terminal and executes the actions in dependency order,
recording each completed action in the state at once. A new or updated
version gets traffic only after it passes its readiness check; when it does
not, apply stops, leaves traffic where it was and shows the replica's log.
Killed at any point, the next apply converges. With PLANFILE (from
`ferry plan -out`), executes that plan if it is not stale, without asking.

options:
  --auto-approve              do not ask for confirmation
  --executor local|kubernetes where it runs (default local: this machine)
  --ready-timeout SECONDS     how long a version may take to become ready
                              (default 120)
  --color auto|always|never   color the plan (default auto)
  -h, --help                  show this help

exit status: 0 applied (or nothing to do), 1 error
)";

constexpr std::string_view kDestroyDetails =
    R"(Stops and removes everything the state records for the project at PATH
(traffic first, then versions, the router, secrets and bundles' records).
Reads only the state: works even when the manifest no longer compiles.

options:
  --auto-approve              do not ask for confirmation
  --executor local|kubernetes (default local)
  --color auto|always|never   color the plan (default auto)
  -h, --help                  show this help

exit status: 0 destroyed (or nothing to do), 1 error
)";

constexpr std::string_view kStatusDetails =
    R"(Shows the applied project at PATH as it runs now: each endpoint's scoring
and swagger URIs, auth and health, its versions with their traffic, revision
and replicas (ready or not).

options:
  --executor local|kubernetes (default local)
  --format text|json          (default text)
  -h, --help                  show this help

exit status: 0 shown, 1 not applied or unreadable
)";

constexpr std::string_view kLogsDetails =
    R"(Prints the last lines of the logs of every replica of ENDPOINT, or of one
version with ENDPOINT/VERSION, each line prefixed with the replica's name.

options:
  --tail N                    lines per replica (default 100)
  --executor local|kubernetes (default local)
  -h, --help                  show this help

exit status: 0 shown, 1 error
)";

constexpr std::string_view kKeysDetails =
    R"(Prints the primary and secondary keys of ENDPOINT (auth: key), as applied.
Clients send one as "Authorization: Bearer <key>".

options:
  --regenerate primary|secondary
                              replace one key; the running service accepts
                              the new one and refuses the old within a second
                              (the other key keeps working meanwhile)
  --executor local|kubernetes (default local)
  -h, --help                  show this help

exit status: 0 shown, 1 error
)";

constexpr std::string_view kTokenDetails =
    R"(Prints a new access token for ENDPOINT (auth: token) as JSON: accessToken,
tokenType, expiryOn and refreshAfter (seconds since the epoch). The token is
an HS256 JWT signed with the endpoint's applied signing key, for the endpoint
only (aud), valid for --ttl seconds; fetch a new one after refreshAfter.

options:
  --ttl SECONDS               lifetime (default 3600)
  --executor local|kubernetes (default local)
  -h, --help                  show this help

exit status: 0 printed, 1 error
)";

constexpr std::string_view kForceUnlockDetails =
    R"(Removes the state lock with ID (the lock message names it) of the
project at PATH. Only for a lock whose owner is gone and that ferry cannot
take over by itself (an owner on another machine sharing the folder).

options:
  --executor local|kubernetes (default local)
  -h, --help                  show this help

exit status: 0 removed, 1 no such lock
)";

constexpr std::string_view kHelpDetails = R"(Lists the commands, or shows the help of COMMAND.
)";

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
    {.name = "plan",
     .summary = "show what apply would change",
     .usage = "ferry plan [PATH] [-out FILE] [--refresh] [--executor local|kubernetes] "
              "[--format text|json]",
     .details = kPlanDetails,
     .run = RunPlan},
    {.name = "apply",
     .summary = "make what runs match the manifest",
     .usage = "ferry apply [PATH|PLANFILE] [--auto-approve] [--executor local|kubernetes] "
              "[--ready-timeout SECONDS]",
     .details = kApplyDetails,
     .run = RunApply},
    {.name = "destroy",
     .summary = "stop and remove everything the project runs",
     .usage = "ferry destroy [PATH] [--auto-approve] [--executor local|kubernetes]",
     .details = kDestroyDetails,
     .run = RunDestroy},
    {.name = "status",
     .summary = "show the running endpoints, versions, traffic and replicas",
     .usage = "ferry status [PATH] [--executor local|kubernetes] [--format text|json]",
     .details = kStatusDetails,
     .run = RunStatus},
    {.name = "logs",
     .summary = "show the replicas' logs of an endpoint or version",
     .usage = "ferry logs ENDPOINT[/VERSION] [PATH] [--tail N] [--executor local|kubernetes]",
     .details = kLogsDetails,
     .run = RunLogs},
    {.name = "keys",
     .summary = "show or regenerate an endpoint's keys",
     .usage = "ferry keys ENDPOINT [PATH] [--regenerate primary|secondary] "
              "[--executor local|kubernetes]",
     .details = kKeysDetails,
     .run = RunKeys},
    {.name = "token",
     .summary = "issue an access token for an endpoint with token auth",
     .usage = "ferry token ENDPOINT [PATH] [--ttl SECONDS] [--executor local|kubernetes]",
     .details = kTokenDetails,
     .run = RunToken},
    {.name = "force-unlock",
     .summary = "remove a state lock whose owner is gone",
     .usage = "ferry force-unlock ID [PATH] [--executor local|kubernetes]",
     .details = kForceUnlockDetails,
     .run = RunForceUnlock},
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
  std::size_t width = 0;
  for (const Command& command : kCommands) width = std::max(width, command.name.size());
  for (const Command& command : kCommands) {
    out << "  " << command.name << std::string(width + 2 - command.name.size(), ' ')
        << command.summary << "\n";
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

// `ferry check`: compile the manifest up to the checked IR and print every
// diagnostic, sorted and de-duplicated.
#include <algorithm>
#include <ostream>

#include "compiler/catalog/catalog.h"
#include "compiler/cli/args.h"
#include "compiler/cli/commands.h"
#include "compiler/diag/print.h"
#include "compiler/driver/compile.h"

namespace ferry::cli {
namespace {

const OptionSpec kCheckOptions[] = {
    {"--format", {"text", "json", "sarif"}},
    {"--color", {"auto", "always", "never"}},
    {"--quiet", {}},
};

auto WantsColor(std::string_view setting, const Io& io) -> bool {
  if (setting == "always") return true;
  if (setting == "never") return false;
  return io.err_is_terminal;
}

}  // namespace

auto RunCheck(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kCheckOptions);
  if (!parsed.error.empty()) return UsageError(io, "check", parsed.error);
  if (parsed.positionals.size() > 1) {
    return UsageError(io, "check", "expected at most one PATH, got " + std::to_string(parsed.positionals.size()));
  }
  std::string path = driver::ManifestPath(parsed.positionals.empty() ? "" : parsed.positionals[0]);

  diag::Sink sink;
  driver::CompileResult result = driver::Compile(io.fs, path, catalog::Catalog::Builtin(), sink);
  std::vector<diag::Diagnostic> shown = sink.Sorted();
  if (parsed.Has("--quiet")) {
    std::erase_if(shown, [](const diag::Diagnostic& d) { return d.severity != diag::Severity::Error; });
  }

  std::string format = parsed.Value("--format", "text");
  if (format == "json") {
    io.out << diag::PrintJson(shown);
  } else if (format == "sarif") {
    io.out << diag::PrintSarif(shown, kVersion);
  } else {
    io.err << diag::PrintText(shown, result.sources, {.color = WantsColor(parsed.Value("--color", "auto"), io)});
  }
  return sink.HasErrors() ? kExitFailure : kExitOk;
}

}  // namespace ferry::cli

#include "compiler/cli/front_end.h"

#include <algorithm>
#include <ostream>

#include "compiler/catalog/catalog.h"
#include "compiler/cli/commands.h"
#include "compiler/driver/compile.h"
#include "compiler/support/file_system.h"

namespace ferry::cli {

auto ReadDiagnosticOutput(const ParsedArgs& parsed, const Io& io) -> DiagnosticOutput {
  const std::string color = parsed.Value("--color", "auto");
  return DiagnosticOutput{
      .format = parsed.Value("--format", "text"),
      .color = color == "always" || (color == "auto" && io.err_is_terminal),
      .quiet = parsed.Has("--quiet"),
  };
}

auto ManifestArgument(const ParsedArgs& parsed, const Io& io, std::string_view command)
    -> std::optional<std::string> {
  if (parsed.positionals.size() > 1) {
    UsageError(io, command,
               "expected at most one PATH, got " + std::to_string(parsed.positionals.size()));
    return std::nullopt;
  }
  return driver::ManifestPath(parsed.positionals.empty() ? "" : parsed.positionals[0]);
}

void PrintDiagnostics(const diag::Sink& sink, const diag::SourceMap& sources,
                      const DiagnosticOutput& output, const Io& io) {
  std::vector<diag::Diagnostic> shown = sink.Sorted();
  if (output.quiet) {
    std::erase_if(shown,
                  [](const diag::Diagnostic& d) { return d.severity != diag::Severity::Error; });
  }
  if (output.format == "json") {
    io.out << diag::PrintJson(shown);
  } else if (output.format == "sarif") {
    io.out << diag::PrintSarif(shown, kVersion);
  } else {
    io.err << diag::PrintText(shown, sources, {.color = output.color});
  }
}

}  // namespace ferry::cli

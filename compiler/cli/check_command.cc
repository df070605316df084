// `ferry check`: compile the manifest up to the checked IR and print every
// diagnostic, sorted and de-duplicated; when there is no error, a summary of
// what was understood (counts and each endpoint's resolved traffic) on stdout.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>
#include <ostream>

#include "compiler/catalog/catalog.h"
#include "compiler/cli/args.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/front_end.h"
#include "compiler/driver/compile.h"

namespace ferry::cli {
namespace {

const OptionSpec kCheckOptions[] = {
    {"--format", {"text", "json", "sarif"}},
    {"--color", {"auto", "always", "never"}},
    {"--quiet", {}},
};

auto Count(std::size_t n, std::string_view noun) -> std::string {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

// What a clean check establishes, so the user sees the compiler's reading of
// the manifest: the counts, and each endpoint's resolved traffic split.
auto Summary(const std::string& manifest, const ir::Project& project) -> std::string {
  std::size_t model_versions = 0;
  for (const ir::Model& model : project.models) model_versions += model.versions.size();
  std::string out =
      fmt::format("{}: ok: project '{}', {}, {}, {}\n", manifest, project.name,
                  Count(model_versions, "model version"), Count(project.clusters.size(), "cluster"),
                  Count(project.endpoints.size(), "endpoint"));
  for (const ir::Endpoint& endpoint : project.endpoints) {
    out += fmt::format("  endpoint '{}' on cluster '{}' ({}, auth {}):", endpoint.name,
                       endpoint.cluster_name, ir::ToString(endpoint.target),
                       endpoint.auth.token ? "token"
                       : endpoint.auth.key ? "key"
                                           : "none");
    for (std::size_t i = 0; i < endpoint.versions.size(); ++i) {
      const ir::Version& version = endpoint.versions[i];
      std::vector<std::string> marks;
      if (static_cast<ir::Index>(i) == endpoint.default_version) marks.emplace_back("default");
      if (version.role == ir::Role::Control) marks.emplace_back("control");
      // {:g}: 6 significant digits, so 100 - 33.3 - 33.3 reads 33.4.
      out += fmt::format("{} {} {:g}%{}", i == 0 ? "" : ",", version.name, version.resolved_traffic,
                         marks.empty() ? "" : fmt::format(" ({})", fmt::join(marks, ", ")));
    }
    out += "\n";
  }
  return out;
}

}  // namespace

auto RunCheck(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kCheckOptions);
  if (!parsed.error.empty()) return UsageError(io, "check", parsed.error);
  const std::optional<std::string> path = ManifestArgument(parsed, io, "check");
  if (!path) return kExitUsage;

  diag::Sink sink;
  driver::CompileResult result = driver::Compile(io.fs, *path, catalog::Catalog::Builtin(), sink);
  const DiagnosticOutput output = ReadDiagnosticOutput(parsed, io);
  PrintDiagnostics(sink, result.sources, output, io);
  if (output.format == "text" && !output.quiet && !sink.HasErrors() && result.project) {
    io.out << Summary(*path, *result.project);
  }
  return sink.HasErrors() ? kExitFailure : kExitOk;
}

}  // namespace ferry::cli

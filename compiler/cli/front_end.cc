#include "compiler/cli/front_end.h"

#include <algorithm>
#include <ostream>

#include "compiler/catalog/catalog.h"
#include "compiler/cli/commands.h"
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

namespace {

// The bytes of every model file an endpoint version serves, keyed by the
// path as written in the manifest.
auto ReadModelFiles(const support::FileSystem& fs, const std::string& manifest_path,
                    const ir::Project& project) -> render::RenderInputs {
  render::RenderInputs inputs;
  const std::string folder = support::DirName(manifest_path);
  for (const ir::Endpoint& endpoint : project.endpoints) {
    for (const ir::Version& version : endpoint.versions) {
      for (const ir::ModelRef& ref : version.models) {
        if (ref.model == ir::kNone || ref.version == ir::kNone) continue;
        const std::string& path = project.models[ref.model].versions[ref.version].path;
        if (inputs.model_files.contains(path)) continue;
        // A file that cannot be read is left out; render reports it (E0703).
        if (auto bytes = fs.Read(support::JoinPath(folder, path))) {
          inputs.model_files.emplace(path, std::move(*bytes));
        }
      }
    }
  }
  return inputs;
}

}  // namespace

auto CompileAndRender(const support::FileSystem& fs, const std::string& manifest_path,
                      diag::Sink& sink, const catalog::Catalog& catalog) -> RenderRun {
  RenderRun run;
  driver::CompileResult compiled = driver::Compile(fs, manifest_path, catalog, sink);
  run.sources = std::move(compiled.sources);
  run.project = std::move(compiled.project);
  if (sink.HasErrors() || !run.project) return run;
  const render::RenderInputs inputs = ReadModelFiles(fs, manifest_path, *run.project);
  run.result = render::Render(*run.project, catalog, inputs, sink);
  return run;
}

}  // namespace ferry::cli

// What the commands that read a manifest share (check, render, later plan
// and diff): the PATH argument, the diagnostic output options, compiling the
// manifest and printing what the stages reported.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compiler/cli/args.h"
#include "compiler/cli/cli.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/diag/print.h"
#include "compiler/driver/compile.h"
#include "compiler/render/render.h"
#include "compiler/support/file_system.h"

namespace ferry::cli {

/// How diagnostics are printed: --format, --color and --quiet.
struct DiagnosticOutput {
  std::string format = "text";  ///< "text" (stderr), "json" or "sarif" (stdout)
  bool color = false;
  bool quiet = false;  ///< errors only
};

/// The output options as parsed (the command's --format choices were checked by ParseArgs).
auto ReadDiagnosticOutput(const ParsedArgs& parsed, const Io& io) -> DiagnosticOutput;

/// The manifest's path from the command's optional PATH positional, or
/// nullopt after printing a usage error (more than one PATH).
auto ManifestArgument(const ParsedArgs& parsed, const Io& io, std::string_view command)
    -> std::optional<std::string>;

/// Prints `sink`'s diagnostics, sorted and de-duplicated: text to stderr with
/// source lines from `sources`, JSON or SARIF to stdout.
void PrintDiagnostics(const diag::Sink& sink, const diag::SourceMap& sources,
                      const DiagnosticOutput& output, const Io& io);

/// A manifest compiled, checked and rendered (render, golden and diff share this).
struct RenderRun {
  diag::SourceMap sources;
  std::optional<ir::Project> project;  ///< when the manifest loaded (even with check errors)
  render::RenderResult result;         ///< empty when compiling or checking reported errors
};

/// Compiles and checks the manifest at `manifest_path`; when that reports no
/// error, reads the model files it names through `fs` and renders it.
auto CompileAndRender(const support::FileSystem& fs, const std::string& manifest_path,
                      diag::Sink& sink,
                      const catalog::Catalog& catalog = catalog::Catalog::Builtin()) -> RenderRun;

}  // namespace ferry::cli

// What the commands that read a manifest share (check, render, golden, later
// plan): the PATH argument, the diagnostic output options and printing what
// the stages reported. Compiling and rendering is driver/render.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compiler/cli/args.h"
#include "compiler/cli/cli.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/diag/print.h"

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

}  // namespace ferry::cli

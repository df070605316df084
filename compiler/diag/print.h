// Printers for collected diagnostics: the terminal, JSON for tools, SARIF
// 2.1.0 for code-scanning UIs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"

namespace ferry::diag {

/// File name -> file text, used to show the source line under a diagnostic.
using SourceMap = std::map<std::string, std::string>;

struct TextOptions {
  bool color = false;
};

/// `file:line:col: error[E0203]: message`, the source line with carets under
/// the node, then each note the same way and a blank line; last a summary
/// ("error: 2 errors, 1 warning" or "warning: 1 warning"). Empty when there
/// are no diagnostics. Source lines missing from `sources` are left out.
auto PrintText(const std::vector<Diagnostic>& diagnostics, const SourceMap& sources,
               const TextOptions& options = {}) -> std::string;

/// {"diagnostics":[{"code","severity","message","file","line","column","path",
///  "notes":[{"message","file","line","column"}]}]}, one stable layout.
auto PrintJson(const std::vector<Diagnostic>& diagnostics) -> std::string;

/// A SARIF 2.1.0 log with one run, the rules of every code used, and one result each.
auto PrintSarif(const std::vector<Diagnostic>& diagnostics, const std::string& tool_version)
    -> std::string;

}  // namespace ferry::diag

// The front half of the pipeline in one call: read the manifest, load YAML,
// validate the schema, build the IR, run the checks. The CLI and the tests
// use this; the file system is the only I/O and it is injected.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/support/file_system.h"

namespace ferry::driver {

/// Resolves a user's PATH argument: a manifest file, or a folder holding
/// `ferry.yaml`. "" means the current folder.
auto ManifestPath(std::string_view path_argument) -> std::string;

struct CompileResult {
  /// The IR, when the manifest could be loaded (even with check errors).
  std::optional<ir::Project> project;
  /// Source texts by file name, for printing source lines under diagnostics.
  std::map<std::string, std::string> sources;
};

/// Compiles the manifest at `manifest_path` (already resolved by
/// ManifestPath). Every problem goes to `sink`; stages after a failed one
/// still run where their input exists, so one run reports everything.
auto Compile(const support::FileSystem& fs, const std::string& manifest_path,
             const catalog::Catalog& catalog, diag::Sink& sink) -> CompileResult;

}  // namespace ferry::driver

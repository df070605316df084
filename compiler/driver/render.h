// The whole pipeline up to rendered files in one call: compile and check the
// manifest (compile.h), read the model files it names, render. The commands
// that produce outputs (render, golden) and the review (diff) share it; the
// file system is the only I/O and it is injected.
#pragma once

#include <optional>
#include <string>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/diag/print.h"
#include "compiler/ir/project.h"
#include "compiler/render/render.h"
#include "compiler/support/file_system.h"

namespace ferry::driver {

/// A manifest compiled, checked and rendered.
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

}  // namespace ferry::driver

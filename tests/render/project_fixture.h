// Compiling a manifest held in memory into a checked project, for the render
// tests (bundles, images, render). Header-only: the test glob builds only
// *_test.cc files.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <string>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/print.h"
#include "compiler/driver/compile.h"
#include "compiler/render/render.h"
#include "compiler/support/file_system.h"

namespace ferry::render::testing {

/// A checked project and the render inputs that go with it.
struct CompiledProject {
  ir::Project project;
  RenderInputs inputs;
};

/// Compiles `manifest` (as p/ferry.yaml) with `model_files` (path as written
/// in the manifest -> bytes) beside it; fails the test on any error.
inline auto Compile(const std::string& manifest,
                    const std::map<std::string, std::string>& model_files) -> CompiledProject {
  support::MemoryFileSystem fs;
  fs.Add("p/ferry.yaml", manifest);
  CompiledProject out;
  for (const auto& [path, bytes] : model_files) {
    fs.Add("p/" + path, bytes);
    out.inputs.model_files.emplace(path, bytes);
  }
  diag::Sink sink;
  driver::CompileResult result =
      driver::Compile(fs, "p/ferry.yaml", catalog::Catalog::Builtin(), sink);
  INFO(diag::PrintText(sink.Sorted(), result.sources));
  REQUIRE(!sink.HasErrors());
  REQUIRE(result.project.has_value());
  out.project = std::move(*result.project);
  return out;
}

/// The codes `sink` holds, in insertion order ("E0703 E0704").
inline auto Codes(const diag::Sink& sink) -> std::string {
  std::string codes;
  for (const diag::Diagnostic& d : sink.diagnostics()) {
    codes += (codes.empty() ? "" : " ") + std::string(diag::Info(d.code).code);
  }
  return codes;
}

}  // namespace ferry::render::testing

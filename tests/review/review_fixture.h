// Snapshots of manifests held in memory, compiled, checked and rendered as
// `ferry diff` does, for the comparison and printer tests. Header-only: the
// test glob builds only *_test.cc files.
#pragma once

#include <map>
#include <string>

#include "compiler/catalog/catalog.h"
#include "compiler/driver/compile.h"
#include "compiler/render/render.h"
#include "compiler/review/review.h"
#include "compiler/support/file_system.h"
#include "compiler/support/sha256.h"
#include "tests/onnx/test_models.h"

namespace ferry::review::testing {

/// Two real models, so that bumping a version changes a bundle.
inline auto ModelOne() -> const std::string& {
  static const std::string model = ferry::testing::TestModel("linear_classifier");
  return model;
}
inline auto ModelTwo() -> const std::string& {
  static const std::string model = ferry::testing::TestModel("tree_classifier");
  return model;
}

/// The first 12 hex digits of `bytes`' sha256, as reports print a model's digest.
inline auto ShortSha(const std::string& bytes) -> std::string {
  return support::Sha256Hex(bytes).substr(0, 12);
}

/// The models section: scorer@1 and scorer@2, pinned to the models above.
inline auto ModelsSection() -> std::string {
  return "models:\n"
         "  scorer:\n"
         "    versions:\n"
         "      1: {path: models/one.onnx, sha256: " +
         support::Sha256Hex(ModelOne()) +
         "}\n"
         "      2: {path: models/two.onnx, sha256: " +
         support::Sha256Hex(ModelTwo()) + "}\n";
}

/// A project "shop" with cluster `prod` (the given VM size) and `endpoints`
/// (lines indented two spaces under `endpoints:`).
inline auto Manifest(const std::string& endpoints, const std::string& vm_size = "Standard_D3_v2")
    -> std::string {
  return "ferry: 1\n"
         "project: shop\n"
         "workspace: {name: ws, region: westeurope, registry: contoso.azurecr.io}\n" +
         ModelsSection() +
         "clusters:\n"
         "  prod: {vm_size: " +
         vm_size +
         ", agent_count: 3, kubernetes_version: \"1.18.14\"}\n"
         "endpoints:\n" +
         endpoints;
}

/// What `ferry diff` makes of `manifest` at one revision (as p/ferry.yaml):
/// compiled and checked, rendered when clean.
inline auto Take(const std::string& manifest, const std::string& revision) -> Snapshot {
  support::MemoryFileSystem fs;
  fs.Add("p/ferry.yaml", manifest);
  fs.Add("p/models/one.onnx", ModelOne());
  fs.Add("p/models/two.onnx", ModelTwo());
  const catalog::Catalog& catalog = catalog::Catalog::Builtin();
  diag::Sink sink;
  driver::CompileResult compiled = driver::Compile(fs, "p/ferry.yaml", catalog, sink);
  Snapshot snapshot;
  snapshot.revision = revision;
  snapshot.commit = support::Sha256Hex(revision).substr(0, 40);
  snapshot.manifest_found = true;
  snapshot.project = std::move(compiled.project);
  snapshot.sources = std::move(compiled.sources);
  if (!sink.HasErrors() && snapshot.project) {
    render::RenderInputs inputs;
    inputs.model_files.emplace("models/one.onnx", ModelOne());
    inputs.model_files.emplace("models/two.onnx", ModelTwo());
    snapshot.rendered = render::Render(*snapshot.project, catalog, inputs, sink);
  }
  snapshot.diagnostics = sink.Sorted();
  return snapshot;
}

/// A revision without a manifest.
inline auto Missing(const std::string& revision) -> Snapshot {
  Snapshot snapshot;
  snapshot.revision = revision;
  snapshot.commit = support::Sha256Hex(revision).substr(0, 40);
  return snapshot;
}

}  // namespace ferry::review::testing

// Scoring bundles: per endpoint version, bundles/<endpoint>-<version>/ holds
// what the image's builder stage compiles and the program serves: a
// bundle.yaml (endpoint, version, target, the cluster's instruction sets, the
// models with the model compiler's facts on each, the scoring samples), the
// model files and the model compiler's output (codegen::CompileModels:
// model.cc, models.cc, weights.bin, CMakeLists.txt), built against the one
// copy of the scoring runtime at OUT/runtime/. A version serving several
// models has each model's files under models/<model>-<version>/, and its
// programs select a model by name. GPU versions are compiled by the gpu back
// end (model_gpu.cu, with the CPU code as model.cc, their host reference); FPGA
// versions carry the CPU back end's code until their own back end exists.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/render/render.h"

namespace ferry::render {

/// One bundle: its identity and its files (paths relative to OUT).
struct Bundle {
  BundleRef ref;
  std::vector<RenderedFile> files;  ///< sorted by path
  /// The scoring runtime's sources it builds with ("runtime/...", relative to
  /// OUT; the same for every bundle, written once). Empty without code.
  std::vector<RenderedFile> runtime;
};

/// The bundle of `endpoint`'s version `version`. A model file missing from
/// `inputs` or whose bytes differ from the manifest's sha256 is E0703, and a
/// model the compiler refuses is its E08xx; then there is no bundle. Expects resolved
/// references (Render checks them).
auto RenderBundle(const ir::Project& project, const catalog::Catalog& catalog,
                  const ir::Endpoint& endpoint, const ir::Version& version,
                  const RenderInputs& inputs, diag::Sink& sink) -> std::optional<Bundle>;

/// Every endpoint version's bundle, in declaration order (missing ones left out).
auto RenderBundles(const ir::Project& project, const catalog::Catalog& catalog,
                   const RenderInputs& inputs, diag::Sink& sink) -> std::vector<Bundle>;

/// The bundle's content hash: sha256 over the canonical JSON of the list of
/// {path relative to `directory`, sha256 of the bytes}, sorted by path
/// (RenderBundle passes the runtime's files too, as "runtime/..."). The
/// folder's own name does not count; every byte of every file does.
auto BundleHash(std::string_view directory, std::span<const RenderedFile> files) -> std::string;

/// "bundles/<endpoint>-<version>".
auto BundleDirectory(const ir::Endpoint& endpoint, const ir::Version& version) -> std::string;

}  // namespace ferry::render

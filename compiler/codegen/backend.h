// The code generator: a Backend per target over the shared graph IR, and
// CompileBundle, the pure function `ferry compile` and `ferry render` call to
// turn model bytes into a bundle's files. Target-specific code lives only in
// the back ends (cpu_backend.cc; gpu and fpga plug in later).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/codegen/stages.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/graph/graph.h"
#include "compiler/graph/passes.h"
#include "compiler/support/value.h"

namespace ferry::codegen {

enum class Target { kCpu, kGpu, kFpga };
/// The instruction set the CPU bundle is compiled for (its -march flags).
enum class Isa { kAvx512, kAvx2, kSse42, kPortable };

/// "cpu", "gpu", "fpga"; ParseTarget is its inverse.
auto TargetName(Target target) -> std::string_view;
auto ParseTarget(std::string_view name) -> std::optional<Target>;
/// "avx512", "avx2", "sse4.2", "portable"; ParseIsa is its inverse.
auto IsaName(Isa isa) -> std::string_view;
auto ParseIsa(std::string_view name) -> std::optional<Isa>;

/// One file of a bundle, its path relative to the bundle's folder.
struct File {
  std::string path;
  std::string bytes;
  bool binary = false;
};

/// A constant the generated code reads from weights.bin.
/// ONNX-ML and text operators' array attributes (coefficients, tree nodes) go
/// to weights.bin too, as constants that no node reads: `node` and
/// `attribute` then say whose they are (strings such as nodes_modes as codes).
struct Weight {
  std::string name;
  graph::ValueId value = graph::kNoValue;
  std::size_t node = kNotAnAttribute;
  std::string attribute;
  static constexpr std::size_t kNotAnAttribute = static_cast<std::size_t>(-1);
};

/// The codes nodes_modes is stored as in weights.bin (its index in this list).
inline constexpr std::string_view kTreeNodeModes[] = {
    "BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "LEAF"};

/// Rows a quantizing back end (fpga) fits its fixed-point scales to: JSON
/// {"data": [row, ...]}, each row one input of the model.
struct CalibrationSource {
  /// The file as diagnostics name it ("" when there are no rows at all).
  std::string file;
  std::string json;
  /// Set when the rows are the endpoint's input_sample (a fallback that warns),
  /// where the manifest declares it.
  std::optional<diag::Location> sample;
};

/// What every back end gets for each model of a bundle: the optimized graph,
/// its memory plan, the weights (in weights.bin order), the options and
/// where the model's files go.
struct Lowering {
  const graph::Graph& graph;
  const graph::MemoryPlan& plan;
  const std::vector<Weight>& weights;
  /// The sha256 of its weights.bin, checked by the generated code when it loads it.
  std::string weights_sha256;
  Isa isa = Isa::kPortable;
  /// What a request selects the model by (`"model": NAME`).
  std::string name;
  /// The folder of its code and weights.bin in the bundle: "" for a one-model
  /// bundle, else "models/<folder>/".
  std::string folder;
  /// The C++ namespace of its code: ferry_rt (whose CreateModel model.h
  /// declares) for a one-model bundle, a namespace of its own inside it otherwise.
  std::string cpp_namespace = "ferry_rt";
  /// The calibration rows (fpga only); never null when CompileModels made it.
  const CalibrationSource* calibration = nullptr;
  /// The pre- and post-processing stages compiled in around it (stages.h).
  Stages stages;
};

class Backend {
 public:
  virtual ~Backend() = default;
  /// The target this back end generates for.
  virtual auto target() const -> Target = 0;
  /// The generated sources and build files of a bundle serving `models` (the
  /// default first): each model's code in its folder, and what serves them
  /// all. Not weights.bin or bundle.yaml, which are shared. nullopt with diagnostics.
  virtual auto Generate(std::span<const Lowering> models, diag::Sink& sink) const
      -> std::optional<std::vector<File>> = 0;
};

/// The back end of `target`. Every target has one today; nullptr would mean a
/// target added to the enum before its back end.
auto FindBackend(Target target) -> std::unique_ptr<Backend>;

/// One model to compile into a bundle.
struct ModelSource {
  /// What a request selects it by (`"model": NAME`).
  std::string name;
  /// The ONNX file, as diagnostics and bundle.yaml name it.
  std::string file;
  std::string_view bytes;
  /// Its folder under models/ when the bundle serves several models.
  std::string folder;
  /// The rows a quantizing target calibrates on (empty: none given).
  CalibrationSource calibration;
  /// The stages the endpoint declares (default: none, the stages are inferred).
  DeclaredStages stages;
};

/// A compiled bundle: its files, bundle.yaml among them, and what bundle.yaml
/// says as a Value (`bundle`, `target`, `isa`, and per model its `name`,
/// `onnx`, `code`, `weights`, `arena_bytes`, `naive_bytes`, `inputs`,
/// `outputs`), for callers that merge it into their own.
struct CompiledBundle {
  std::vector<File> files;
  support::Value manifest;
};

/// Model bytes -> a bundle's files: load, optimize, plan memory, generate.
/// One model's files go to the bundle's root; several models' each to
/// models/<folder>/, in their own C++ namespace, with their own weights.bin,
/// and the bundle's programs select one by name (the first by default).
/// Deterministic: the same inputs give the same bytes. nullopt with
/// diagnostics on any error (E08xx).
auto CompileModels(std::span<const ModelSource> models, Target target, Isa isa, diag::Sink& sink)
    -> std::optional<CompiledBundle>;

/// `ferry compile`'s one-model bundle: CompileModels's files for the model in
/// `model_file` (which names it in diagnostics), named after the file's stem.
auto CompileBundle(std::string_view model_file, std::string_view model_bytes, Target target,
                   Isa isa, diag::Sink& sink) -> std::optional<std::vector<File>>;

}  // namespace ferry::codegen

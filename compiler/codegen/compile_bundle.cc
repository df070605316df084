// The target-independent part of code generation: the pass pipeline, the
// weights files, bundle.yaml (one Value), and dispatch to the target's back end.
#include <algorithm>
#include <iterator>
#include <set>
#include <variant>

#include "compiler/codegen/backend.h"
#include "compiler/codegen/generated_cpp.h"
#include "compiler/codegen/stages.h"
#include "compiler/codegen/weights.h"
#include "compiler/graph/ops.h"
#include "compiler/onnx/load_onnx.h"
#include "compiler/support/sha256.h"

namespace ferry::codegen {

// Defined in cpu_backend.cc and fpga_backend.cc.
auto MakeCpuBackend() -> std::unique_ptr<Backend>;
auto MakeFpgaBackend() -> std::unique_ptr<Backend>;
// Defined in gpu_backend.cc.
auto MakeGpuBackend() -> std::unique_ptr<Backend>;

namespace {

/// Constants read by some node, in node order: the contents of weights.bin.
auto CollectWeights(const graph::Graph& graph) -> std::vector<Weight> {
  std::vector<Weight> weights;
  std::set<graph::ValueId> seen;
  auto add = [&](graph::ValueId id) {
    if (id == graph::kNoValue || graph.Constant(id) == nullptr || !seen.insert(id).second) return;
    if (graph.value(id).dtype == graph::DType::kString) return;  // strings stay attributes
    weights.push_back(Weight{.name = graph.value(id).name,
                             .value = id,
                             .node = Weight::kNotAnAttribute,
                             .attribute = {}});
  };
  for (const graph::Node& node : graph.nodes) {
    for (graph::ValueId id : node.inputs) add(id);
  }
  for (graph::ValueId id : graph.outputs) add(id);
  return weights;
}

/// Moves the float and int64 array attributes of ONNX-ML and TfIdfVectorizer
/// nodes into constants (and `weights`), so that large models keep their
/// parameters out of the generated C++. nodes_modes becomes int64 codes.
auto AddAttributeWeights(graph::Graph& graph, std::vector<Weight>& weights, diag::Sink& sink)
    -> bool {
  std::set<std::string> names;
  for (const graph::Value& value : graph.values) names.insert(value.name);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const graph::Node& node = graph.nodes[n];
    if (node.domain != graph::kMlDomain && node.op_type != "TfIdfVectorizer") continue;
    for (const auto& [attribute, value] : node.attributes) {
      graph::TensorData data;
      graph::DType dtype = graph::DType::kFloat32;
      if (const auto* floats = std::get_if<std::vector<float>>(&value)) {
        data.f32 = *floats;
      } else if (const auto* ints = std::get_if<std::vector<std::int64_t>>(&value)) {
        data.i64 = *ints;
        dtype = graph::DType::kInt64;
      } else if (attribute == "nodes_modes") {
        dtype = graph::DType::kInt64;
        for (const std::string& mode : std::get<std::vector<std::string>>(value)) {
          const auto* found = std::find(std::begin(kTreeNodeModes), std::end(kTreeNodeModes), mode);
          if (found == std::end(kTreeNodeModes)) {
            sink.Add(diag::Code::kOnnxAttribute, diag::Location{.file = graph.source},
                     graph::NodePath(node),
                     "nodes_modes has '" + mode +
                         "'; supported: BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, "
                         "BRANCH_EQ, BRANCH_NEQ, LEAF");
            return false;
          }
          data.i64.push_back(found - std::begin(kTreeNodeModes));
        }
      } else {
        continue;
      }
      if (data.f32.empty() && data.i64.empty()) continue;
      std::string name = "attr:" + node.name + ":" + attribute;
      while (!names.insert(name).second) name += "_";
      graph::ValueId id = graph.AddValue(graph::Value{
          .name = name, .dtype = dtype, .shape = {}, .has_shape = false, .constant = data});
      weights.push_back(Weight{.name = name, .value = id, .node = n, .attribute = attribute});
    }
  }
  return true;
}

auto ShapeValue(const graph::Shape& shape) -> support::Value {
  support::List dims;
  for (const graph::Dim& dim : shape) {
    dims.push_back(dim.known() ? support::Value(dim.size) : support::Value(dim.symbol));
  }
  return support::Value(std::move(dims));
}

auto TensorsValue(const graph::Graph& graph, const std::vector<graph::ValueId>& ids)
    -> support::Value {
  support::List tensors;
  for (graph::ValueId id : ids) {
    const graph::Value& value = graph.value(id);
    tensors.push_back(support::Value::Object({{"name", value.name},
                                              {"dtype", DTypeName(value.dtype)},
                                              {"shape", ShapeValue(value.shape)}}));
  }
  return support::Value(std::move(tensors));
}

auto ExtentValue(const graph::Extent& extent) -> support::Value {
  return support::Value::Object({{"per_batch", extent.per_batch}, {"fixed", extent.fixed}});
}

/// One model's entry in bundle.yaml's `models`: what was compiled and what it needs.
auto ModelFacts(const ModelSource& source, const graph::Graph& graph, const Lowering& lowering,
                std::string_view code_file, std::string_view weights_file) -> support::Value {
  support::Value facts = support::Value::Object({
      {"name", source.name},
      {"onnx", support::Value::Object(
                   {{"file", source.file}, {"sha256", support::Sha256Hex(source.bytes)}})},
      {"code", code_file},
      {"weights",
       support::Value::Object({{"file", weights_file}, {"sha256", lowering.weights_sha256}})},
      {"arena_bytes", ExtentValue(lowering.plan.arena)},
      {"naive_bytes", ExtentValue(lowering.plan.naive)},
      {"inputs", TensorsValue(graph, graph.inputs)},
      {"outputs", TensorsValue(graph, graph.outputs)},
  });
  // The pre- and post-processing stages compiled in around the model (stages.h).
  support::Value stages = StagesFacts(graph, lowering.stages);
  if (!stages.is_null()) facts["stages"] = std::move(stages);
  return facts;
}

/// A model's file name as `ferry compile` names a one-model bundle: its stem.
auto ModelName(std::string_view model_file) -> std::string {
  std::string_view name = model_file.substr(model_file.find_last_of('/') + 1);
  if (name.ends_with(".onnx") && name.size() > 5) name.remove_suffix(5);
  return std::string(name);
}

// bundle.yaml's format version, for the programs that read it.
constexpr std::int64_t kBundleFormat = 1;

/// One model loaded, optimized and planned, with its weights file: what its
/// Lowering points into.
struct PreparedModel {
  graph::Graph graph;
  graph::MemoryPlan plan;
  std::vector<Weight> weights;
  File weights_file;
};

auto Prepare(const ModelSource& source, diag::Sink& sink) -> std::optional<PreparedModel> {
  std::optional<graph::Graph> graph = onnx::LoadOnnx(source.file, source.bytes, sink);
  // The declared image size is fixed before shape inference; the declared
  // post stage is appended after optimization, as the model's last nodes.
  if (!graph || !ApplyDeclaredImage(*graph, source.stages, sink) ||
      !graph::Optimize(*graph, sink) || !AddPostStage(*graph, source.stages, sink)) {
    return std::nullopt;
  }
  PreparedModel model{.graph = std::move(*graph), .plan = {}, .weights = {}, .weights_file = {}};
  model.plan = graph::PlanMemory(model.graph);
  model.weights = CollectWeights(model.graph);
  if (!AddAttributeWeights(model.graph, model.weights, sink)) return std::nullopt;
  std::vector<NamedTensor> tensors;
  tensors.reserve(model.weights.size());
  for (const Weight& weight : model.weights) {
    tensors.push_back(NamedTensor{.name = weight.name,
                                  .dtype = model.graph.value(weight.value).dtype,
                                  .data = model.graph.Constant(weight.value)});
  }
  model.weights_file = File{.path = "weights.bin", .bytes = WriteWeights(tensors), .binary = true};
  return model;
}

}  // namespace

auto TargetName(Target target) -> std::string_view {
  switch (target) {
    case Target::kCpu:
      return "cpu";
    case Target::kGpu:
      return "gpu";
    case Target::kFpga:
      return "fpga";
  }
  return "?";
}

auto ParseTarget(std::string_view name) -> std::optional<Target> {
  for (Target target : {Target::kCpu, Target::kGpu, Target::kFpga}) {
    if (TargetName(target) == name) return target;
  }
  return std::nullopt;
}

auto IsaName(Isa isa) -> std::string_view {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kSse42:
      return "sse4.2";
    case Isa::kPortable:
      return "portable";
  }
  return "?";
}

auto ParseIsa(std::string_view name) -> std::optional<Isa> {
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kSse42, Isa::kPortable}) {
    if (IsaName(isa) == name) return isa;
  }
  return std::nullopt;
}

auto FindBackend(Target target) -> std::unique_ptr<Backend> {
  if (target == Target::kCpu) return MakeCpuBackend();
  if (target == Target::kFpga) return MakeFpgaBackend();
  if (target == Target::kGpu) return MakeGpuBackend();
  return nullptr;
}

auto CompileModels(std::span<const ModelSource> models, Target target, Isa isa, diag::Sink& sink)
    -> std::optional<CompiledBundle> {
  std::unique_ptr<Backend> backend = FindBackend(target);
  if (backend == nullptr) {
    sink.Add(diag::Code::kTargetUnavailable,
             diag::Location{.file = models.empty() ? "" : models.front().file}, "",
             "this ferry has no " + std::string(TargetName(target)) + " back end");
    return std::nullopt;
  }
  std::vector<PreparedModel> prepared;
  prepared.reserve(models.size());
  for (const ModelSource& source : models) {
    std::optional<PreparedModel> model = Prepare(source, sink);
    if (!model) return std::nullopt;
    prepared.push_back(std::move(*model));
  }
  const bool several = models.size() > 1;
  std::vector<Lowering> lowerings;
  lowerings.reserve(models.size());
  for (std::size_t i = 0; i < models.size(); ++i) {
    lowerings.push_back(Lowering{
        .graph = prepared[i].graph,
        .plan = prepared[i].plan,
        .weights = prepared[i].weights,
        .weights_sha256 = support::Sha256Hex(prepared[i].weights_file.bytes),
        .isa = isa,
        .name = models[i].name,
        .folder = several ? "models/" + models[i].folder + "/" : "",
        // Numbered, so that names differing only in punctuation stay apart.
        .cpp_namespace =
            several ? CppIdentifier("ferry_rt::model" + std::to_string(i) + "_", models[i].name)
                    : "ferry_rt",
        .calibration = &models[i].calibration,
        .stages = DetectStages(prepared[i].graph, models[i].stages)});
  }
  std::optional<std::vector<File>> files = backend->Generate(lowerings, sink);
  if (!files) return std::nullopt;

  CompiledBundle bundle;
  support::List facts;
  for (std::size_t i = 0; i < models.size(); ++i) {
    const Lowering& lowering = lowerings[i];
    File weights = std::move(prepared[i].weights_file);
    weights.path = lowering.folder + weights.path;
    // A GPU bundle's code is model_gpu.cu; its model.cc is the host reference.
    const std::string code = target == Target::kGpu ? "model_gpu.cu" : "model.cc";
    facts.push_back(
        ModelFacts(models[i], prepared[i].graph, lowering, lowering.folder + code, weights.path));
    files->push_back(std::move(weights));
  }
  bundle.manifest = support::Value::Object({{"bundle", kBundleFormat},
                                            {"target", TargetName(target)},
                                            {"isa", IsaName(isa)},
                                            {"models", support::Value(std::move(facts))}});
  files->push_back(File{
      .path = "bundle.yaml",
      .bytes = "# Generated by ferry compile; do not edit.\n" + support::ToYaml(bundle.manifest),
      .binary = false});
  bundle.files = std::move(*files);
  return bundle;
}

auto CompileBundle(std::string_view model_file, std::string_view model_bytes, Target target,
                   Isa isa, diag::Sink& sink) -> std::optional<std::vector<File>> {
  const ModelSource source{.name = ModelName(model_file),
                           .file = std::string(model_file),
                           .bytes = model_bytes,
                           .folder = "",
                           .calibration = {},
                           .stages = {}};
  std::optional<CompiledBundle> bundle = CompileModels({&source, 1}, target, isa, sink);
  if (!bundle) return std::nullopt;
  return std::move(bundle->files);
}

}  // namespace ferry::codegen

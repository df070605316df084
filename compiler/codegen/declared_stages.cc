// The stages the manifest declares (scoring.preprocess, scoring.postprocess),
// applied to a model's graph: the image size fixed on its first input before
// optimization, the post stage appended as graph nodes after it, so that
// every back end compiles it as it compiles the model's own nodes.
#include <algorithm>
#include <set>
#include <string>

#include <fmt/format.h>

#include "compiler/codegen/stages.h"
#include "compiler/graph/passes.h"

namespace ferry::codegen {
namespace {

/// Where diagnostics about a declaration point: `declared` in the manifest,
/// or the model file when nothing names the manifest.
auto Where(const graph::Graph& graph, const diag::Location& declared) -> diag::Location {
  if (!declared.file.empty()) return declared;
  return diag::Location{.file = graph.source};
}

auto ShapeText(const graph::Shape& shape) -> std::string {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += shape[i].known() ? std::to_string(shape[i].size) : shape[i].symbol;
  }
  return text + "]";
}

auto IsFloatImage(const graph::Value& input) -> bool {
  const graph::Shape& shape = input.shape;
  return input.dtype == graph::DType::kFloat32 && shape.size() == 4 && shape[1].known() &&
         (shape[1].size == 1 || shape[1].size == 3);
}

/// Fixes spatial dimension `axis` of `shape` to `declared` (0: keep the
/// model's); the problem as a sentence when it cannot.
auto FixSide(graph::Shape& shape, std::size_t axis, std::int64_t declared, const char* side)
    -> std::string {
  graph::Dim& dim = shape[axis];
  if (declared == 0) {
    if (dim.known()) return "";
    return fmt::format("its {} is '{}', not fixed; declare preprocess.image.size", side,
                       dim.symbol);
  }
  if (!dim.known()) {
    dim = graph::Dim{.size = declared, .symbol = {}};
    return "";
  }
  if (dim.size == declared) return "";
  return fmt::format("it takes images of {} {}, and size declares {}", side, dim.size, declared);
}

/// A value name not used in `graph`, starting from `base`.
auto UniqueName(const graph::Graph& graph, const std::string& base) -> std::string {
  std::set<std::string> names;
  for (const graph::Value& value : graph.values) names.insert(value.name);
  std::string name = base;
  for (int n = 2; names.contains(name); ++n) name = base + "_" + std::to_string(n);
  return name;
}

/// Frees `name` for a post-stage output: an intermediate value holding it is
/// renamed. False when a graph input or another output holds it.
auto FreeName(graph::Graph& graph, const std::string& name) -> bool {
  for (std::size_t id = 0; id < graph.values.size(); ++id) {
    if (graph.values[id].name != name) continue;
    const auto value = static_cast<graph::ValueId>(id);
    const auto is = [&](const std::vector<graph::ValueId>& ids) {
      return std::find(ids.begin(), ids.end(), value) != ids.end();
    };
    if (is(graph.inputs) || is(graph.outputs)) return false;
    graph.values[id].name = UniqueName(graph, name + "_model");
  }
  return true;
}

auto AddNode(graph::Graph& graph, const std::string& op_type, std::vector<graph::ValueId> inputs,
             std::vector<graph::ValueId> outputs, std::int64_t axis) -> graph::Node& {
  graph::Node node;
  node.name = "postprocess_" + op_type;
  node.op_type = op_type;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attributes["axis"] = axis;
  node.fused_from = {node.name};
  graph.nodes.push_back(std::move(node));
  return graph.nodes.back();
}

auto AddComputed(graph::Graph& graph, const std::string& name, graph::DType dtype)
    -> graph::ValueId {
  return graph.AddValue(graph::Value{
      .name = name, .dtype = dtype, .shape = {}, .has_shape = false, .constant = std::nullopt});
}

}  // namespace

auto ApplyDeclaredImage(graph::Graph& graph, const DeclaredStages& declared, diag::Sink& sink)
    -> bool {
  if (!declared.image) return true;
  const DeclaredImage& image = *declared.image;
  const diag::Location at = Where(graph, declared.image_location);
  const std::string path = declared.path.empty() ? "" : declared.path + ".preprocess.image";
  const bool string_inputs = std::any_of(graph.inputs.begin(), graph.inputs.end(), [&](auto id) {
    return graph.value(id).dtype == graph::DType::kString;
  });
  if (graph.inputs.empty() || string_inputs || !IsFloatImage(graph.value(graph.inputs[0]))) {
    const std::string what =
        graph.inputs.empty()
            ? "the model has no input"
            : fmt::format("its first input '{}' is {} {}{}", graph.value(graph.inputs[0]).name,
                          graph::DTypeName(graph.value(graph.inputs[0]).dtype),
                          ShapeText(graph.value(graph.inputs[0]).shape),
                          string_inputs ? " and the model takes strings" : "");
    sink.Add(diag::Code::kStageImageInput, at, path,
             fmt::format("preprocess.image needs a model whose first input is float [rows, 1 or "
                         "3, H, W] and no string input; {}",
                         what));
    return false;
  }
  graph::Value& input = graph.value(graph.inputs[0]);
  const std::int64_t channels = input.shape[1].size;
  bool ok = true;
  for (const auto& [field, values] : {std::pair{"mean", &image.mean}, {"std", &image.std}}) {
    if (values->size() <= 1 || static_cast<std::int64_t>(values->size()) == channels) continue;
    sink.Add(diag::Code::kStageImageChannels, at, path,
             fmt::format("preprocess.image.{} has {} values and input '{}' has {} channel{}; give "
                         "1 (every channel) or {}",
                         field, values->size(), input.name, channels, channels == 1 ? "" : "s",
                         channels));
    ok = false;
  }
  for (const auto& [axis, side, size] :
       {std::tuple{std::size_t{2}, "height", image.height}, {std::size_t{3}, "width", image.width}}) {
    const std::string problem = FixSide(input.shape, axis, size, side);
    if (problem.empty()) continue;
    sink.Add(diag::Code::kStageImageInput, at, path,
             fmt::format("preprocess.image does not fit input '{}' {}: {}", input.name,
                         ShapeText(input.shape), problem));
    ok = false;
  }
  return ok;
}

auto AddPostStage(graph::Graph& graph, const DeclaredStages& declared, diag::Sink& sink) -> bool {
  if (declared.top_k == 0 && !declared.softmax) return true;
  const diag::Location at = Where(graph, declared.post_location);
  const std::string path = declared.path.empty() ? "" : declared.path + ".postprocess";
  const auto output = std::find_if(graph.outputs.begin(), graph.outputs.end(), [&](auto id) {
    return graph.value(id).dtype == graph::DType::kFloat32;
  });
  const graph::Value* scores = output == graph.outputs.end() ? nullptr : &graph.value(*output);
  if (scores == nullptr || scores->shape.size() != 2 || !scores->shape[1].known()) {
    sink.Add(diag::Code::kStagePostOutput, at, path,
             scores == nullptr
                 ? std::string("postprocess needs a float output [rows, classes]; the model has "
                               "no float output")
                 : fmt::format("postprocess needs a float output [rows, classes]; the model's "
                               "first float output '{}' is {}",
                               scores->name, ShapeText(scores->shape)));
    return false;
  }
  const std::int64_t classes = scores->shape[1].size;
  if (declared.top_k > classes) {
    sink.Add(diag::Code::kStageTopK, at, path + ".top_k",
             fmt::format("postprocess.top_k is {} and output '{}' has {} classes", declared.top_k,
                         scores->name, classes));
    return false;
  }
  if (!declared.labels.empty() && static_cast<std::int64_t>(declared.labels.size()) != classes) {
    sink.Add(diag::Code::kStageLabels, at, path + ".labels",
             fmt::format("the labels file has {} labels and output '{}' has {} classes; give one "
                         "label per class, one per line",
                         declared.labels.size(), scores->name, classes));
    return false;
  }
  const std::size_t slot = static_cast<std::size_t>(output - graph.outputs.begin());
  graph::ValueId source = *output;
  const std::string source_name = scores->name;
  if (declared.top_k == 0) {
    // Softmax alone: the output keeps its name, now holding probabilities.
    graph.value(source).name = UniqueName(graph, source_name + "_logits");
    const graph::ValueId probabilities = AddComputed(graph, source_name, graph::DType::kFloat32);
    AddNode(graph, "Softmax", {source}, {probabilities}, -1);
    graph.outputs[slot] = probabilities;
    return graph::InferShapes(graph, sink);
  }
  for (const char* name : {"classes", "scores"}) {
    if (graph.value(source).name == name) {
      graph.value(source).name = UniqueName(graph, std::string(name) + "_model");
    } else if (!FreeName(graph, name)) {
      sink.Add(diag::Code::kStagePostOutput, at, path,
               fmt::format("postprocess.top_k adds the outputs 'classes' and 'scores', and the "
                           "model already has an input or output named '{}'",
                           name));
      return false;
    }
  }
  if (declared.softmax) {
    const graph::ValueId probabilities =
        AddComputed(graph, UniqueName(graph, source_name + "_softmax"), graph::DType::kFloat32);
    AddNode(graph, "Softmax", {source}, {probabilities}, -1);
    source = probabilities;
  }
  const graph::ValueId k = graph.AddValue(graph::Value{
      .name = UniqueName(graph, "postprocess_k"),
      .dtype = graph::DType::kInt64,
      .shape = {graph::Dim{.size = 1, .symbol = {}}},
      .has_shape = true,
      .constant = graph::TensorData{.f32 = {}, .i64 = {declared.top_k}, .str = {}}});
  const graph::ValueId best = AddComputed(graph, "scores", graph::DType::kFloat32);
  const graph::ValueId ids = AddComputed(graph, "classes", graph::DType::kInt64);
  graph::Node& top_k = AddNode(graph, "TopK", {source, k}, {best, ids}, -1);
  top_k.attributes["largest"] = std::int64_t{1};
  top_k.attributes["sorted"] = std::int64_t{1};
  graph.outputs[slot] = ids;
  graph.outputs.insert(graph.outputs.begin() + static_cast<std::ptrdiff_t>(slot) + 1, best);
  return graph::InferShapes(graph, sink);
}

}  // namespace ferry::codegen

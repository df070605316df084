#include "compiler/codegen/stages.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ferry::codegen {
namespace {

constexpr std::int64_t kMaxImageSide = 16384;  // as ferry_rt::ImageStage accepts

/// The "labels" metadata as a list of strings; empty when absent or not a JSON array of strings.
auto Labels(const graph::Graph& graph) -> std::vector<std::string> {
  auto found = graph.metadata.find("labels");
  if (found == graph.metadata.end()) return {};
  nlohmann::json parsed = nlohmann::json::parse(found->second, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array() || parsed.empty()) return {};
  std::vector<std::string> labels;
  for (const nlohmann::json& item : parsed) {
    if (!item.is_string()) return {};
    labels.push_back(item.get<std::string>());
  }
  return labels;
}

/// The size of `value`'s dimension `axis` (negative counts from the end), or -1 when unknown.
auto AxisSize(const graph::Graph& graph, graph::ValueId value, std::int64_t axis) -> std::int64_t {
  if (value == graph::kNoValue) return -1;
  const graph::Shape& shape = graph.value(value).shape;
  const auto rank = static_cast<std::int64_t>(shape.size());
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank || !shape[static_cast<std::size_t>(axis)].known()) return -1;
  return shape[static_cast<std::size_t>(axis)].size;
}

/// Whether graph output `id` holds indices along an axis of `classes` entries.
auto IsClassIndex(const graph::Graph& graph, graph::ValueId id, std::int64_t classes) -> bool {
  if (graph.value(id).dtype != graph::DType::kInt64) return false;
  for (const graph::Node& node : graph.nodes) {
    if (node.op_type == "TopK" && node.domain.empty() && node.outputs.size() == 2 &&
        node.outputs[1] == id) {
      return AxisSize(graph, node.Input(0), node.Int("axis", -1)) == classes;
    }
    if (node.op_type == "ArgMax" && node.domain.empty() && !node.outputs.empty() &&
        node.outputs[0] == id) {
      return AxisSize(graph, node.Input(0), node.Int("axis", 0)) == classes;
    }
  }
  return false;
}

}  // namespace

auto DetectStages(const graph::Graph& graph) -> Stages {
  Stages stages;
  // Rows of strings mean one thing per bundle: a model with string inputs
  // (words for its Tokenizer) gets no image stage.
  const bool string_inputs = std::any_of(graph.inputs.begin(), graph.inputs.end(), [&](auto id) {
    return graph.value(id).dtype == graph::DType::kString;
  });
  if (!graph.inputs.empty() && !string_inputs) {
    const graph::Value& input = graph.value(graph.inputs[0]);
    const graph::Shape& shape = input.shape;
    const bool image = input.dtype == graph::DType::kFloat32 && shape.size() == 4 &&
                       shape[1].known() && (shape[1].size == 1 || shape[1].size == 3) &&
                       shape[2].known() && shape[3].known() && shape[2].size >= 1 &&
                       shape[3].size >= 1 && shape[2].size <= kMaxImageSide &&
                       shape[3].size <= kMaxImageSide;
    if (image) {
      stages.image = ImageStageFacts{
          .input = 0, .channels = shape[1].size, .height = shape[2].size, .width = shape[3].size};
    }
  }
  std::vector<std::string> labels = Labels(graph);
  if (!labels.empty()) {
    for (std::size_t i = 0; i < graph.outputs.size(); ++i) {
      if (IsClassIndex(graph, graph.outputs[i], static_cast<std::int64_t>(labels.size()))) {
        stages.label_outputs.push_back(i);
      }
    }
    if (!stages.label_outputs.empty()) stages.labels = std::move(labels);
  }
  return stages;
}

auto StagesFacts(const graph::Graph& graph, const Stages& stages) -> support::Value {
  support::Value facts;
  if (stages.image) {
    const ImageStageFacts& image = *stages.image;
    facts["image"] = support::Value::Object({
        {"input", graph.value(graph.inputs[image.input]).name},
        {"formats", support::Value::Array({"png", "jpeg"})},
        {"channels", image.channels},
        {"height", image.height},
        {"width", image.width},
        {"resize", "bilinear-antialiased"},
        {"scale", "0..1"},
    });
  }
  if (!stages.label_outputs.empty()) {
    support::List outputs;
    for (std::size_t i : stages.label_outputs)
      outputs.emplace_back(graph.value(graph.outputs[i]).name);
    facts["labels"] =
        support::Value::Object({{"outputs", support::Value(std::move(outputs))},
                                {"count", static_cast<std::int64_t>(stages.labels.size())}});
  }
  return facts;
}

}  // namespace ferry::codegen

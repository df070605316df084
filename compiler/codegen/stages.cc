#include "compiler/codegen/stages.h"

#include <algorithm>
#include <locale>
#include <nlohmann/json.hpp>
#include <sstream>

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

/// The node that writes `value`, or nullptr for inputs and constants.
auto Producer(const graph::Graph& graph, graph::ValueId value) -> const graph::Node* {
  for (const graph::Node& node : graph.nodes) {
    if (std::find(node.outputs.begin(), node.outputs.end(), value) != node.outputs.end()) {
      return &node;
    }
  }
  return nullptr;
}

/// What AddPostStage appended: found from the output it replaced (`classes`
/// after TopK, or the first float output after Softmax) back to its source.
auto FindPostStage(const graph::Graph& graph, const DeclaredStages& declared)
    -> std::optional<PostStageFacts> {
  if (declared.top_k == 0 && !declared.softmax) return std::nullopt;
  for (graph::ValueId output : graph.outputs) {
    const graph::Node* node = Producer(graph, output);
    if (node == nullptr || !node->name.starts_with("postprocess_")) continue;
    PostStageFacts facts{.source = {}, .softmax = declared.softmax, .top_k = declared.top_k,
                         .classes = 0};
    graph::ValueId scores = node->Input(0);
    if (node->op_type == "TopK") {
      facts.classes = AxisSize(graph, scores, -1);
      const graph::Node* softmax = Producer(graph, scores);
      if (declared.softmax && softmax != nullptr) scores = softmax->Input(0);
    } else {
      facts.classes = AxisSize(graph, scores, -1);
    }
    facts.source = graph.value(scores).name;
    return facts;
  }
  return std::nullopt;
}

}  // namespace

auto DetectStages(const graph::Graph& graph, const DeclaredStages& declared) -> Stages {
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
      stages.image = ImageStageFacts{.input = 0,
                                     .channels = shape[1].size,
                                     .height = shape[2].size,
                                     .width = shape[3].size,
                                     .mean = {},
                                     .std = {}};
      if (declared.image) {
        stages.image->mean = declared.image->mean;
        stages.image->std = declared.image->std;
      }
    }
  }
  // Declared labels name the post stage's classes in place of the model's own.
  std::vector<std::string> labels = declared.labels.empty() ? Labels(graph) : declared.labels;
  if (!labels.empty()) {
    for (std::size_t i = 0; i < graph.outputs.size(); ++i) {
      if (IsClassIndex(graph, graph.outputs[i], static_cast<std::int64_t>(labels.size()))) {
        stages.label_outputs.push_back(i);
      }
    }
    if (!stages.label_outputs.empty()) stages.labels = std::move(labels);
  }
  stages.post = FindPostStage(graph, declared);
  return stages;
}

auto ImageStageMembers(const ImageStageFacts& image) -> std::string {
  const std::string dims = std::to_string(image.channels) + ", " + std::to_string(image.height) +
                           ", " + std::to_string(image.width);
  // Values that read back as the declared floats.
  const auto floats = [](const std::vector<double>& values) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(9);
    out << std::scientific << "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
      out << (i > 0 ? ", " : "") << static_cast<float>(values[i]) << "f";
    }
    out << "}";
    return out.str();
  };
  const bool normalised = !image.mean.empty() || !image.std.empty();
  std::string out = "  // The image stage: PNG or JPEG rows -> [rows, " + dims + "] floats in 0..1" +
                    (normalised ? ", then (x - mean) / std per channel" : "") + ".\n";
  out += "  ImageStage image_{" + dims;
  if (normalised) out += ", " + floats(image.mean) + ", " + floats(image.std);
  out += "};\n";
  out += "  std::vector<Tensor> decoded_;\n";
  return out;
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
    const auto numbers = [](const std::vector<double>& values) {
      support::List list;
      for (double value : values) list.emplace_back(value);
      return support::Value(std::move(list));
    };
    if (!image.mean.empty()) facts["image"]["mean"] = numbers(image.mean);
    if (!image.std.empty()) facts["image"]["std"] = numbers(image.std);
  }
  if (!stages.label_outputs.empty()) {
    support::List outputs;
    for (std::size_t i : stages.label_outputs)
      outputs.emplace_back(graph.value(graph.outputs[i]).name);
    facts["labels"] =
        support::Value::Object({{"outputs", support::Value(std::move(outputs))},
                                {"count", static_cast<std::int64_t>(stages.labels.size())}});
  }
  if (stages.post) {
    facts["post"] = support::Value::Object({{"output", stages.post->source},
                                            {"softmax", stages.post->softmax},
                                            {"top_k", stages.post->top_k},
                                            {"classes", stages.post->classes}});
  }
  return facts;
}

}  // namespace ferry::codegen

// Fusion: Conv+BatchNormalization folded into the Conv's weights, MatMul+Add
// into Gemm, and a following activation into the Gemm or Conv's epilogue.
#include <cmath>

#include "compiler/graph/passes.h"

namespace ferry::graph {
namespace {

/// How many node inputs read each value; graph outputs count as one more.
auto UseCounts(const Graph& graph) -> std::vector<int> {
  std::vector<int> uses(graph.values.size(), 0);
  for (const Node& node : graph.nodes) {
    for (ValueId id : node.inputs) {
      if (id != kNoValue) ++uses[static_cast<std::size_t>(id)];
    }
  }
  for (ValueId id : graph.outputs) ++uses[static_cast<std::size_t>(id)];
  return uses;
}

/// The node after `index` that reads `value`, when it is its only reader.
auto SoleConsumer(Graph& graph, const std::vector<int>& uses, std::size_t index, ValueId value)
    -> Node* {
  if (uses[static_cast<std::size_t>(value)] != 1) return nullptr;
  for (std::size_t n = index + 1; n < graph.nodes.size(); ++n) {
    for (ValueId id : graph.nodes[n].inputs) {
      if (id == value) return &graph.nodes[n];
    }
  }
  return nullptr;
}

/// `consumer` is merged into `node`: node takes over its output and name list.
void Absorb(Node& node, Node& consumer) {
  node.outputs = consumer.outputs;
  node.fused_from.insert(node.fused_from.end(), consumer.fused_from.begin(),
                         consumer.fused_from.end());
  consumer.op_type.clear();  // marks it removed
}

auto AddConstant(Graph& graph, const std::string& name, DType dtype, Shape shape,
                 TensorData data) -> ValueId {
  Value value;
  value.name = name;
  value.dtype = dtype;
  value.shape = std::move(shape);
  value.has_shape = true;
  value.constant = std::move(data);
  return graph.AddValue(std::move(value));
}

/// y = (conv(x, W) + b - mean) * scale / sqrt(var + eps) + beta, folded into W and b.
auto FoldBatchNorm(Graph& graph, Node& conv, Node& bn) -> bool {
  for (std::size_t i = 1; i < 5; ++i) {
    if (graph.Constant(bn.Input(i)) == nullptr) return false;
  }
  const TensorData* weights = graph.Constant(conv.Input(1));
  const TensorData* bias = graph.Constant(conv.Input(2));
  if (weights == nullptr || (conv.Input(2) != kNoValue && bias == nullptr)) return false;
  const std::vector<float>& scale = graph.Constant(bn.inputs[1])->f32;
  const std::vector<float>& beta = graph.Constant(bn.inputs[2])->f32;
  const std::vector<float>& mean = graph.Constant(bn.inputs[3])->f32;
  const std::vector<float>& var = graph.Constant(bn.inputs[4])->f32;
  float epsilon = bn.Float("epsilon", 1e-5F);
  std::size_t channels = scale.size();
  if (channels == 0 || weights->f32.size() % channels != 0) return false;
  std::size_t per_channel = weights->f32.size() / channels;
  TensorData new_weights = *weights;
  TensorData new_bias;
  for (std::size_t c = 0; c < channels; ++c) {
    float factor = scale[c] / std::sqrt(var[c] + epsilon);
    for (std::size_t i = 0; i < per_channel; ++i) new_weights.f32[c * per_channel + i] *= factor;
    float b = bias != nullptr ? bias->f32[c] : 0.0F;
    new_bias.f32.push_back((b - mean[c]) * factor + beta[c]);
  }
  Shape weight_shape = graph.value(conv.inputs[1]).shape;
  conv.inputs.resize(3);
  conv.inputs[1] = AddConstant(graph, conv.name + ".folded_weight", DType::kFloat32,
                               std::move(weight_shape), std::move(new_weights));
  conv.inputs[2] = AddConstant(graph, conv.name + ".folded_bias", DType::kFloat32,
                               KnownShape({static_cast<std::int64_t>(channels)}),
                               std::move(new_bias));
  Absorb(conv, bn);
  return true;
}

/// MatMul(A, B) + C with a 2-D A, a constant B and a bias C -> Gemm(A, B, C).
auto MatMulAddToGemm(Graph& graph, Node& matmul, Node* add) -> bool {
  if (graph.value(matmul.inputs[0]).shape.size() != 2) return false;
  if (graph.Constant(matmul.inputs[1]) == nullptr) return false;
  matmul.op_type = "Gemm";
  if (add == nullptr || add->op_type != "Add") return true;
  ValueId product = matmul.outputs[0];
  ValueId other = add->inputs[0] == product ? add->inputs[1] : add->inputs[0];
  const Value& bias = graph.value(other);
  const Shape& out = graph.value(add->outputs[0]).shape;
  bool row_bias = bias.constant && bias.dtype == DType::kFloat32 && !bias.shape.empty() &&
                  bias.shape.size() <= 2 && bias.shape.back() == out.back() &&
                  (bias.shape.size() == 1 || bias.shape[0] == Dim{1, {}});
  if (!row_bias || graph.value(add->outputs[0]).shape != graph.value(product).shape) return true;
  matmul.inputs.push_back(other);
  Absorb(matmul, *add);
  return true;
}

/// Relu/Sigmoid/Tanh/Clip after a Gemm or Conv becomes its epilogue.
auto FuseActivation(Graph& graph, Node& node, Node& next) -> bool {
  if (node.activation != Activation::kNone) return false;
  if (next.op_type == "Relu") {
    node.activation = Activation::kRelu;
  } else if (next.op_type == "Sigmoid") {
    node.activation = Activation::kSigmoid;
  } else if (next.op_type == "Tanh") {
    node.activation = Activation::kTanh;
  } else if (next.op_type == "Clip") {
    const TensorData* low = graph.Constant(next.Input(1));
    const TensorData* high = graph.Constant(next.Input(2));
    if ((next.Input(1) != kNoValue && low == nullptr) ||
        (next.Input(2) != kNoValue && high == nullptr)) {
      return false;
    }
    node.activation = Activation::kClip;
    node.clip_min = low != nullptr ? low->f32.at(0) : -INFINITY;
    node.clip_max = high != nullptr ? high->f32.at(0) : INFINITY;
  } else {
    return false;
  }
  Absorb(node, next);
  return true;
}

}  // namespace

auto Fuse(Graph& graph) -> int {
  int removed = 0;
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    // Each fusion invalidates the use counts' view of the node's output.
    std::vector<int> uses = UseCounts(graph);
    Node& node = graph.nodes[n];
    if (node.op_type.empty() || !node.domain.empty()) continue;
    Node* next = SoleConsumer(graph, uses, n, node.outputs[0]);
    if (node.op_type == "MatMul") {
      std::size_t before = node.fused_from.size();
      MatMulAddToGemm(graph, node, next);
      if (node.fused_from.size() > before) {
        ++removed;
        uses = UseCounts(graph);
        next = SoleConsumer(graph, uses, n, node.outputs[0]);
      }
    }
    if (node.op_type == "Conv" && next != nullptr && next->op_type == "BatchNormalization" &&
        FoldBatchNorm(graph, node, *next)) {
      ++removed;
      uses = UseCounts(graph);
      next = SoleConsumer(graph, uses, n, node.outputs[0]);
    }
    if ((node.op_type == "Gemm" || node.op_type == "Conv") && next != nullptr &&
        FuseActivation(graph, node, *next)) {
      ++removed;
    }
  }
  std::erase_if(graph.nodes, [](const Node& node) { return node.op_type.empty(); });
  return removed;
}

}  // namespace ferry::graph

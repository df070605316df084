// Constant folding: nodes whose inputs are all constants become constants.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "compiler/graph/passes.h"

namespace ferry::graph {
namespace {

auto Sizes(const Shape& shape) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> sizes;
  for (const Dim& dim : shape) sizes.push_back(dim.size);
  return sizes;
}

/// For each element of `out` (row-major), the index of the element of `in`
/// that numpy broadcasting reads (in's rank <= out's rank).
auto BroadcastIndex(const std::vector<std::int64_t>& out, const std::vector<std::int64_t>& in)
    -> std::vector<std::size_t> {
  std::size_t count = 1;
  for (std::int64_t size : out) count *= static_cast<std::size_t>(size);
  std::vector<std::size_t> index(count, 0);
  std::size_t offset = out.size() - in.size();
  for (std::size_t flat = 0; flat < count; ++flat) {
    std::size_t rest = flat;
    std::size_t source = 0;
    std::size_t in_stride = 1;
    for (std::size_t d = out.size(); d > 0; --d) {
      auto size = static_cast<std::size_t>(out[d - 1]);
      std::size_t coordinate = rest % size;
      rest /= size;
      if (d - 1 < offset) continue;
      auto in_size = static_cast<std::size_t>(in[d - 1 - offset]);
      if (in_size != 1) source += coordinate * in_stride;
      in_stride *= in_size;
    }
    index[flat] = source;
  }
  return index;
}

auto BinaryFloat(const std::string& op, float a, float b) -> float {
  if (op == "Add") return a + b;
  if (op == "Sub") return a - b;
  if (op == "Mul") return a * b;
  return a / b;
}

/// int64 arithmetic wraps (as ONNX Runtime's does in practice) instead of
/// overflowing; division by zero, undefined in ONNX, folds to 0.
auto BinaryInt(const std::string& op, std::int64_t a, std::int64_t b) -> std::int64_t {
  auto ua = static_cast<std::uint64_t>(a);
  auto ub = static_cast<std::uint64_t>(b);
  if (op == "Add") return static_cast<std::int64_t>(ua + ub);
  if (op == "Sub") return static_cast<std::int64_t>(ua - ub);
  if (op == "Mul") return static_cast<std::int64_t>(ua * ub);
  if (b == 0 || (b == -1 && a == std::numeric_limits<std::int64_t>::min())) return 0;
  return a / b;
}

auto FoldBinary(const Graph& graph, const Node& node, const Value& out) -> TensorData {
  const Value& a = graph.value(node.inputs[0]);
  const Value& b = graph.value(node.inputs[1]);
  std::vector<std::size_t> ia = BroadcastIndex(Sizes(out.shape), Sizes(a.shape));
  std::vector<std::size_t> ib = BroadcastIndex(Sizes(out.shape), Sizes(b.shape));
  TensorData data;
  for (std::size_t i = 0; i < ia.size(); ++i) {
    if (out.dtype == DType::kFloat32) {
      float x = a.constant->f32[ia[i]];
      float y = b.constant->f32[ib[i]];
      data.f32.push_back(BinaryFloat(node.op_type, x, y));
    } else {
      data.i64.push_back(BinaryInt(node.op_type, a.constant->i64[ia[i]], b.constant->i64[ib[i]]));
    }
  }
  return data;
}

auto FoldUnary(const Node& node, const TensorData& in) -> TensorData {
  TensorData data = in;
  std::function<float(float)> f = [](float x) { return x; };
  if (node.op_type == "Relu") f = [](float x) { return x > 0.0F ? x : 0.0F; };
  if (node.op_type == "Sigmoid") f = [](float x) { return 1.0F / (1.0F + std::exp(-x)); };
  if (node.op_type == "Tanh") f = [](float x) { return std::tanh(x); };
  for (float& x : data.f32) x = f(x);
  return data;
}

auto FoldTranspose(const Graph& graph, const Node& node) -> TensorData {
  const Value& in = graph.value(node.inputs[0]);
  std::vector<std::int64_t> sizes = Sizes(in.shape);
  std::vector<std::int64_t> perm = node.Ints("perm");
  if (perm.empty()) {
    for (std::size_t i = sizes.size(); i > 0; --i) perm.push_back(std::int64_t(i - 1));
  }
  std::vector<std::size_t> in_strides(sizes.size(), 1);
  for (std::size_t d = sizes.size(); d > 1; --d) {
    in_strides[d - 2] = in_strides[d - 1] * static_cast<std::size_t>(sizes[d - 1]);
  }
  std::size_t count = in.constant->f32.size() + in.constant->i64.size();
  TensorData data;
  for (std::size_t flat = 0; flat < count; ++flat) {
    std::size_t rest = flat;
    std::size_t source = 0;
    for (std::size_t d = perm.size(); d > 0; --d) {
      auto axis = static_cast<std::size_t>(perm[d - 1]);
      auto size = static_cast<std::size_t>(sizes[axis]);
      source += (rest % size) * in_strides[axis];
      rest /= size;
    }
    if (in.dtype == DType::kFloat32) data.f32.push_back(in.constant->f32[source]);
    if (in.dtype == DType::kInt64) data.i64.push_back(in.constant->i64[source]);
  }
  return data;
}

/// Concat of constants along `axis`: blocks of each input interleaved.
auto FoldConcat(const Graph& graph, const Node& node, const Value& out) -> TensorData {
  auto rank = static_cast<std::int64_t>(out.shape.size());
  std::int64_t axis = node.Int("axis", 0);
  if (axis < 0) axis += rank;
  std::size_t outer = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= static_cast<std::size_t>(out.shape[d].size);
  TensorData data;
  for (std::size_t o = 0; o < outer; ++o) {
    for (ValueId id : node.inputs) {
      const Value& in = graph.value(id);
      std::size_t count = in.constant->f32.size() + in.constant->i64.size();
      std::size_t block = outer == 0 ? 0 : count / outer;
      for (std::size_t i = o * block; i < (o + 1) * block; ++i) {
        if (in.dtype == DType::kFloat32) data.f32.push_back(in.constant->f32[i]);
        if (in.dtype == DType::kInt64) data.i64.push_back(in.constant->i64[i]);
      }
    }
  }
  return data;
}

/// Whether `node` can be folded: a foldable op, all inputs constant, a
/// known, small output.
auto Foldable(const Graph& graph, const Node& node, std::int64_t max_elements) -> bool {
  static const std::vector<std::string> kOps = {"Add",  "Sub",     "Mul",       "Div",
                                                "Relu", "Sigmoid", "Tanh",      "Identity",
                                                "Flatten", "Reshape", "Transpose", "Concat"};
  if (std::find(kOps.begin(), kOps.end(), node.op_type) == kOps.end()) return false;
  if (node.outputs.size() != 1) return false;
  for (ValueId id : node.inputs) {
    if (id == kNoValue || graph.Constant(id) == nullptr) return false;
    if (graph.value(id).dtype == DType::kString) return false;
  }
  const Value& out = graph.value(node.outputs[0]);
  std::optional<std::int64_t> count = ElementCount(out.shape);
  if (!out.has_shape || !count || *count > max_elements) return false;
  bool is_float = out.dtype == DType::kFloat32;
  if (!is_float && (node.op_type == "Relu" || node.op_type == "Sigmoid" ||
                    node.op_type == "Tanh" || node.op_type == "Div")) {
    return false;
  }
  return true;
}

auto Evaluate(const Graph& graph, const Node& node, const Value& out) -> TensorData {
  const std::string& op = node.op_type;
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return FoldBinary(graph, node, out);
  if (op == "Transpose") return FoldTranspose(graph, node);
  if (op == "Concat") return FoldConcat(graph, node, out);
  // Identity, Flatten and Reshape keep the data; the activations map it.
  return FoldUnary(node, *graph.Constant(node.inputs[0]));
}

}  // namespace

auto FoldConstants(Graph& graph, std::int64_t max_elements) -> int {
  int folded = 0;
  std::vector<Node> kept;
  for (Node& node : graph.nodes) {
    if (!Foldable(graph, node, max_elements)) {
      kept.push_back(std::move(node));
      continue;
    }
    Value& out = graph.value(node.outputs[0]);
    out.constant = Evaluate(graph, node, out);
    ++folded;
  }
  graph.nodes = std::move(kept);
  return folded;
}

}  // namespace ferry::graph

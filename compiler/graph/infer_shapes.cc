// Shape inference: the driver and the context the per-operator rules use.
#include <map>

#include "compiler/graph/passes.h"
#include "compiler/graph/shape_rules.h"

namespace ferry::graph {
namespace shapes {

void Context::SetOutput(std::size_t i, DType dtype, Shape shape) {
  if (i >= node_.outputs.size() || node_.outputs[i] == kNoValue) return;
  Value& out = graph_.value(node_.outputs[i]);
  out.dtype = dtype;
  out.shape = std::move(shape);
  out.has_shape = true;
}

auto Context::Invalid(const std::string& message) -> bool {
  sink_.Add(diag::Code::kOnnxAttribute, diag::Location{.file = graph_.source}, NodePath(node_),
            message);
  return false;
}

auto Context::Unresolved(const std::string& message) -> bool {
  sink_.Add(diag::Code::kOnnxShape, diag::Location{.file = graph_.source}, NodePath(node_),
            message);
  return false;
}

auto Context::RequireFloat(std::size_t i) -> bool {
  if (input(i).dtype == DType::kFloat32) return true;
  return Invalid("input " + std::to_string(i) + " ('" + input(i).name + "') is " +
                 std::string(DTypeName(input(i).dtype)) + "; " + node_.op_type +
                 " takes float32");
}

auto Context::RequireRank(std::size_t i, std::int64_t low, std::int64_t high) -> bool {
  if (rank(i) >= low && rank(i) <= high) return true;
  std::string expected = low == high ? std::to_string(low)
                                     : std::to_string(low) + " to " + std::to_string(high);
  return Invalid("input " + std::to_string(i) + " ('" + input(i).name + "') has shape " +
                 Describe(*this, i) + "; " + node_.op_type + " takes rank " + expected);
}

auto Context::Axis(std::int64_t axis, std::int64_t rank) -> std::optional<std::int64_t> {
  std::int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) {
    Invalid("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return std::nullopt;
  }
  return normalized;
}

auto Context::FreshSymbol(const std::string& suffix) const -> Dim {
  return Dim{.size = 0, .symbol = node_.name + ":" + suffix};
}

auto Describe(const Context& context, std::size_t i) -> std::string {
  return ShapeString(context.shape(i));
}

auto Product(const Shape& shape, std::size_t begin, std::size_t end) -> std::optional<Dim> {
  std::int64_t known = 1;
  std::string symbol;
  for (std::size_t i = begin; i < end && i < shape.size(); ++i) {
    if (shape[i].known()) {
      if (shape[i].size != 0 && known > kMaxElements / shape[i].size) return std::nullopt;
      known *= shape[i].size;
    } else if (symbol.empty()) {
      symbol = shape[i].symbol;
    } else {
      return std::nullopt;
    }
  }
  if (symbol.empty()) return Dim{.size = known, .symbol = {}};
  // symbol * 0 is 0; symbol * k (k > 1) has no name of its own.
  if (known == 0) return Dim{.size = 0, .symbol = {}};
  if (known != 1) return std::nullopt;
  return Dim{.size = 0, .symbol = symbol};
}

}  // namespace shapes

namespace {

using Rule = auto (*)(shapes::Context&) -> bool;

auto Rules() -> const std::map<std::string, Rule, std::less<>>& {
  static const std::map<std::string, Rule, std::less<>> rules = {
      {"Add", shapes::InferElementwise},
      {"ArgMax", shapes::InferArgMax},
      {"AveragePool", shapes::InferPool},
      {"BatchNormalization", shapes::InferBatchNorm},
      {"Clip", shapes::InferUnary},
      {"Concat", shapes::InferConcat},
      {"Conv", shapes::InferConv},
      {"Div", shapes::InferElementwise},
      {"Flatten", shapes::InferFlatten},
      {"Gemm", shapes::InferGemm},
      {"GlobalAveragePool", shapes::InferGlobalPool},
      {"Identity", shapes::InferUnary},
      {"LinearClassifier", shapes::InferLinearClassifier},
      {"LinearRegressor", shapes::InferLinearRegressor},
      {"MatMul", shapes::InferMatMul},
      {"MaxPool", shapes::InferPool},
      {"Mul", shapes::InferElementwise},
      {"Normalizer", shapes::InferScalerLike},
      {"Relu", shapes::InferUnary},
      {"Reshape", shapes::InferReshape},
      {"Scaler", shapes::InferScalerLike},
      {"Sigmoid", shapes::InferUnary},
      {"Softmax", shapes::InferSoftmax},
      {"StringNormalizer", shapes::InferStringNormalizer},
      {"Sub", shapes::InferElementwise},
      {"Tanh", shapes::InferUnary},
      {"TfIdfVectorizer", shapes::InferTfIdf},
      {"TopK", shapes::InferTopK},
      {"Transpose", shapes::InferTranspose},
      {"TreeEnsembleClassifier", shapes::InferTreeClassifier},
      {"TreeEnsembleRegressor", shapes::InferTreeRegressor},
  };
  return rules;
}

/// Every present input has a shape (its producer succeeded); false otherwise,
/// without a diagnostic: the producer's error is the one to read.
auto InputsReady(const Graph& graph, const Node& node) -> bool {
  for (ValueId id : node.inputs) {
    if (id != kNoValue && !graph.value(id).has_shape) return false;
  }
  return true;
}

/// Every output's known dimensions multiply to at most kMaxElements, so later
/// size arithmetic (the memory plan, the code generator) cannot overflow.
auto WithinLimits(const Graph& graph, const std::vector<ValueId>& values, const std::string& path,
                  diag::Sink& sink) -> bool {
  for (ValueId id : values) {
    if (id == kNoValue) continue;
    std::int64_t known = 1;
    for (const Dim& dim : graph.value(id).shape) {
      if (!dim.known() || dim.size == 0) continue;
      if (dim.size < 0 || known > shapes::kMaxElements / dim.size) {
        sink.Add(diag::Code::kOnnxLimits, diag::Location{.file = graph.source}, path,
                 "tensor '" + graph.value(id).name + "' " + ShapeString(graph.value(id).shape) +
                     " has more than 2^40 elements");
        return false;
      }
      known *= dim.size;
    }
  }
  return true;
}

}  // namespace

auto InferShapes(Graph& graph, diag::Sink& sink) -> bool {
  bool ok = true;
  if (!WithinLimits(graph, graph.inputs, "graph inputs", sink)) return false;
  for (ValueId id : graph.inputs) {
    if (graph.value(id).has_shape) continue;
    sink.Add(diag::Code::kOnnxShape, diag::Location{.file = graph.source},
             "graph input '" + graph.value(id).name + "'",
             "the graph input has no shape; declare its shape (only the batch dimension may be "
             "symbolic)");
    ok = false;
  }
  for (Node& node : graph.nodes) {
    if (!InputsReady(graph, node)) {
      ok = false;
      continue;
    }
    for (ValueId out : node.outputs) {
      if (out != kNoValue) graph.value(out).has_shape = false;
    }
    auto rule = Rules().find(node.op_type);
    shapes::Context context(graph, node, sink);
    if (rule == Rules().end()) {
      ok = context.Invalid("no shape rule for operator '" + node.op_type + "'") && ok;
      continue;
    }
    if (!rule->second(context)) {
      ok = false;
    } else if (!WithinLimits(graph, node.outputs, NodePath(node), sink)) {
      ok = false;
    }
  }
  return ok;
}

}  // namespace ferry::graph

// Internal to shape inference: the context each operator's rule sees, and
// the rules, grouped by file (shapes_basic.cc, shapes_nn.cc, shapes_ml.cc).
#pragma once

#include <optional>
#include <string>

#include "compiler/diag/diagnostic.h"
#include "compiler/graph/graph.h"

namespace ferry::graph::shapes {

/// The most elements a tensor may have (known dimensions only): 2^40.
inline constexpr std::int64_t kMaxElements = std::int64_t{1} << 40;
/// The largest size an attribute may give a dimension, kernel, stride or pad.
inline constexpr std::int64_t kMaxAttribute = std::int64_t{1} << 31;

/// One node being inferred: its inputs, its outputs, and where errors go.
class Context {
 public:
  Context(Graph& graph, Node& node, diag::Sink& sink) : graph_(graph), node_(node), sink_(sink) {}

  auto node() const -> const Node& { return node_; }
  auto graph() const -> const Graph& { return graph_; }
  auto has_input(std::size_t i) const -> bool { return node_.Input(i) != kNoValue; }
  auto input(std::size_t i) const -> const Value& { return graph_.value(node_.inputs[i]); }
  auto shape(std::size_t i) const -> const Shape& { return input(i).shape; }
  auto rank(std::size_t i) const -> std::int64_t {
    return static_cast<std::int64_t>(shape(i).size());
  }
  /// The constant data of input i, or nullptr.
  auto constant(std::size_t i) const -> const TensorData* {
    return graph_.Constant(node_.Input(i));
  }
  void SetOutput(std::size_t i, DType dtype, Shape shape);

  /// E0807: invalid attributes or input shapes. Always returns false.
  auto Invalid(const std::string& message) -> bool;
  /// E0806: a shape that cannot be resolved at compile time. Always returns false.
  auto Unresolved(const std::string& message) -> bool;
  /// Requires input i to be float32 (E0807 otherwise).
  auto RequireFloat(std::size_t i) -> bool;
  /// Requires input i to have a rank in [low, high].
  auto RequireRank(std::size_t i, std::int64_t low, std::int64_t high) -> bool;
  /// Normalizes a possibly negative axis against `rank`; nullopt (reported) when out of range.
  auto Axis(std::int64_t axis, std::int64_t rank) -> std::optional<std::int64_t>;
  /// A new symbolic dimension unique to this node's output.
  auto FreshSymbol(const std::string& suffix) const -> Dim;

 private:
  Graph& graph_;
  Node& node_;
  diag::Sink& sink_;
};

/// "[batch, 3]" of input i, for messages.
auto Describe(const Context& context, std::size_t i) -> std::string;

/// The product of `dims` as one dimension: known, or one symbol times 1.
auto Product(const Shape& shape, std::size_t begin, std::size_t end) -> std::optional<Dim>;

// shapes_basic.cc
auto InferElementwise(Context& context) -> bool;
auto InferUnary(Context& context) -> bool;
auto InferSoftmax(Context& context) -> bool;
auto InferFlatten(Context& context) -> bool;
auto InferReshape(Context& context) -> bool;
auto InferTranspose(Context& context) -> bool;
auto InferConcat(Context& context) -> bool;
auto InferTopK(Context& context) -> bool;
auto InferArgMax(Context& context) -> bool;
// shapes_nn.cc
auto InferGemm(Context& context) -> bool;
auto InferMatMul(Context& context) -> bool;
auto InferConv(Context& context) -> bool;
auto InferPool(Context& context) -> bool;
auto InferGlobalPool(Context& context) -> bool;
auto InferBatchNorm(Context& context) -> bool;
// shapes_ml.cc
auto InferScalerLike(Context& context) -> bool;
auto InferLinearRegressor(Context& context) -> bool;
auto InferLinearClassifier(Context& context) -> bool;
auto InferTreeRegressor(Context& context) -> bool;
auto InferTreeClassifier(Context& context) -> bool;
auto InferStringNormalizer(Context& context) -> bool;
auto InferTfIdf(Context& context) -> bool;

}  // namespace ferry::graph::shapes

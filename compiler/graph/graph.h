// The model compiler's graph IR: tensors with a dtype and a (partly
// symbolic) shape, constants, and nodes with typed attributes, in
// topological order. The ONNX front end builds it; shape inference,
// constant folding, fusion and the memory plan refine it; back ends read it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ferry::graph {

/// Element types the compiler handles; everything else is rejected by the loader.
enum class DType : std::uint8_t { kFloat32, kInt64, kString };

/// "float32", "int64" or "string".
auto DTypeName(DType dtype) -> std::string_view;

/// One dimension: a known size, or a symbol ("batch") that is fixed only at run time.
struct Dim {
  std::int64_t size = 0;
  /// Non-empty for a symbolic dimension; `size` is then meaningless.
  std::string symbol;

  auto known() const -> bool { return symbol.empty(); }
  auto operator==(const Dim&) const -> bool = default;
};

using Shape = std::vector<Dim>;

/// A shape of known sizes.
auto KnownShape(std::initializer_list<std::int64_t> sizes) -> Shape;
auto KnownShape(const std::vector<std::int64_t>& sizes) -> Shape;
/// "[batch, 3, 32, 32]".
auto ShapeString(const Shape& shape) -> std::string;
/// Whether every dimension is known.
auto IsKnown(const Shape& shape) -> bool;
/// The element count of a known shape (nullopt when a dimension is symbolic
/// or the product overflows).
auto ElementCount(const Shape& shape) -> std::optional<std::int64_t>;

/// A constant's values: exactly one of the vectors is used, per dtype.
struct TensorData {
  std::vector<float> f32;
  std::vector<std::int64_t> i64;
  std::vector<std::string> str;

  auto operator==(const TensorData&) const -> bool = default;
};

using ValueId = std::int32_t;
/// An omitted optional input of a node.
inline constexpr ValueId kNoValue = -1;

/// A tensor flowing through the graph.
struct Value {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  /// Whether `shape` is set (graph inputs and constants always; others after inference).
  bool has_shape = false;
  /// Initializers and folded values; empty for computed tensors.
  std::optional<TensorData> constant;
};

/// A constant tensor attribute (e.g. ConstantOfShape's value); rare in our op set.
struct TensorAttribute {
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;
  TensorData data;
  auto operator==(const TensorAttribute&) const -> bool = default;
};

using Attribute = std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>,
                               std::vector<float>, std::vector<std::string>, TensorAttribute>;

/// The activation a Gemm or Conv applies to its result (its fused epilogue).
enum class Activation : std::uint8_t { kNone, kRelu, kSigmoid, kTanh, kClip };

/// "none", "relu", "sigmoid", "tanh" or "clip".
auto ActivationName(Activation activation) -> std::string_view;

struct Node {
  /// The ONNX node's name, or a generated "<op>_<index>" when it has none.
  std::string name;
  std::string op_type;
  /// "" (the default ONNX domain) or "ai.onnx.ml".
  std::string domain;
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  std::map<std::string, Attribute, std::less<>> attributes;
  /// Set by fusion: the activation applied after the op (bias is an input).
  Activation activation = Activation::kNone;
  float clip_min = 0.0F;
  float clip_max = 0.0F;
  /// Names of the ONNX nodes this node stands for after fusion (itself first).
  std::vector<std::string> fused_from;

  auto Int(std::string_view attribute, std::int64_t fallback) const -> std::int64_t;
  auto Float(std::string_view attribute, float fallback) const -> float;
  auto String(std::string_view attribute, std::string_view fallback) const -> std::string;
  auto Ints(std::string_view attribute) const -> std::vector<std::int64_t>;
  auto Floats(std::string_view attribute) const -> std::vector<float>;
  auto Strings(std::string_view attribute) const -> std::vector<std::string>;
  auto Has(std::string_view attribute) const -> bool { return attributes.contains(attribute); }
  /// The i-th input, or kNoValue when absent.
  auto Input(std::size_t i) const -> ValueId { return i < inputs.size() ? inputs[i] : kNoValue; }
};

struct Graph {
  /// The model file's name, for diagnostics.
  std::string source;
  std::string name;
  /// Opset versions of the default and ai.onnx.ml domains (0 when not imported).
  std::int64_t opset = 0;
  std::int64_t ml_opset = 0;
  /// The model's metadata_props (key -> value; the last of a repeated key wins),
  /// e.g. "labels": the class names as a JSON array.
  std::map<std::string, std::string> metadata;
  std::vector<Value> values;
  /// Topologically sorted.
  std::vector<Node> nodes;
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;

  /// Adds a value and returns its id.
  auto AddValue(Value value) -> ValueId;
  auto value(ValueId id) -> Value& { return values[static_cast<std::size_t>(id)]; }
  auto value(ValueId id) const -> const Value& { return values[static_cast<std::size_t>(id)]; }
  /// The constant data of `id`, or nullptr when it is computed (or kNoValue).
  auto Constant(ValueId id) const -> const TensorData*;
};

/// The diagnostic path of a node: "node 'conv1' (Conv)".
auto NodePath(const Node& node) -> std::string;

}  // namespace ferry::graph

#include "compiler/graph/graph.h"

#include <limits>

namespace ferry::graph {
namespace {

template <typename T>
auto Get(const Node& node, std::string_view attribute) -> const T* {
  auto found = node.attributes.find(attribute);
  if (found == node.attributes.end()) return nullptr;
  return std::get_if<T>(&found->second);
}

}  // namespace

auto DTypeName(DType dtype) -> std::string_view {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kInt64: return "int64";
    case DType::kString: return "string";
  }
  return "?";
}

auto ActivationName(Activation activation) -> std::string_view {
  switch (activation) {
    case Activation::kNone: return "none";
    case Activation::kRelu: return "relu";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kTanh: return "tanh";
    case Activation::kClip: return "clip";
  }
  return "?";
}

auto KnownShape(std::initializer_list<std::int64_t> sizes) -> Shape {
  return KnownShape(std::vector<std::int64_t>(sizes));
}

auto KnownShape(const std::vector<std::int64_t>& sizes) -> Shape {
  Shape shape;
  for (std::int64_t size : sizes) shape.push_back(Dim{.size = size, .symbol = {}});
  return shape;
}

auto ShapeString(const Shape& shape) -> std::string {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += shape[i].known() ? std::to_string(shape[i].size) : shape[i].symbol;
  }
  return out + "]";
}

auto IsKnown(const Shape& shape) -> bool {
  for (const Dim& dim : shape) {
    if (!dim.known()) return false;
  }
  return true;
}

auto ElementCount(const Shape& shape) -> std::optional<std::int64_t> {
  std::int64_t count = 1;
  for (const Dim& dim : shape) {
    if (!dim.known() || dim.size < 0) return std::nullopt;
    if (dim.size != 0 && count > std::numeric_limits<std::int64_t>::max() / dim.size) {
      return std::nullopt;
    }
    count *= dim.size;
  }
  return count;
}

auto Node::Int(std::string_view attribute, std::int64_t fallback) const -> std::int64_t {
  const auto* found = Get<std::int64_t>(*this, attribute);
  return found != nullptr ? *found : fallback;
}

auto Node::Float(std::string_view attribute, float fallback) const -> float {
  const auto* found = Get<float>(*this, attribute);
  return found != nullptr ? *found : fallback;
}

auto Node::String(std::string_view attribute, std::string_view fallback) const -> std::string {
  const auto* found = Get<std::string>(*this, attribute);
  return found != nullptr ? *found : std::string(fallback);
}

auto Node::Ints(std::string_view attribute) const -> std::vector<std::int64_t> {
  const auto* found = Get<std::vector<std::int64_t>>(*this, attribute);
  return found != nullptr ? *found : std::vector<std::int64_t>{};
}

auto Node::Floats(std::string_view attribute) const -> std::vector<float> {
  const auto* found = Get<std::vector<float>>(*this, attribute);
  return found != nullptr ? *found : std::vector<float>{};
}

auto Node::Strings(std::string_view attribute) const -> std::vector<std::string> {
  const auto* found = Get<std::vector<std::string>>(*this, attribute);
  return found != nullptr ? *found : std::vector<std::string>{};
}

auto Graph::AddValue(Value value) -> ValueId {
  values.push_back(std::move(value));
  return static_cast<ValueId>(values.size() - 1);
}

auto Graph::Constant(ValueId id) const -> const TensorData* {
  if (id < 0 || static_cast<std::size_t>(id) >= values.size()) return nullptr;
  const Value& found = values[static_cast<std::size_t>(id)];
  return found.constant ? &*found.constant : nullptr;
}

auto NodePath(const Node& node) -> std::string {
  return "node '" + node.name + "' (" + node.op_type + ")";
}

}  // namespace ferry::graph

// Shape rules of the elementwise and data-movement operators.
#include <set>

#include "compiler/graph/shape_rules.h"

namespace ferry::graph::shapes {
namespace {

/// Numpy broadcasting of two dimensions; nullopt when they cannot broadcast.
auto BroadcastDim(const Dim& a, const Dim& b) -> std::optional<Dim> {
  if (a == b) return a;
  if (a.known() && a.size == 1) return b;
  if (b.known() && b.size == 1) return a;
  if (a.known() && b.known()) return std::nullopt;
  // A symbol against a known size > 1: the size wins (the symbol must equal it at run time).
  if (a.known()) return a;
  if (b.known()) return b;
  return std::nullopt;
}

/// The value of a scalar or one-element int64 constant input, or nullopt.
auto ScalarInt(const Context& context, std::size_t i) -> std::optional<std::int64_t> {
  const TensorData* data = context.constant(i);
  if (data == nullptr || data->i64.size() != 1) return std::nullopt;
  return data->i64[0];
}

}  // namespace

auto InferElementwise(Context& context) -> bool {
  const Value& a = context.input(0);
  const Value& b = context.input(1);
  if (a.dtype != b.dtype || a.dtype == DType::kString) {
    return context.Invalid("inputs are " + std::string(DTypeName(a.dtype)) + " and " +
                           std::string(DTypeName(b.dtype)) +
                           "; both must be float32 or both int64");
  }
  std::size_t rank = std::max(a.shape.size(), b.shape.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    std::size_t from_end = rank - i;
    Dim da = from_end <= a.shape.size() ? a.shape[a.shape.size() - from_end] : Dim{1, {}};
    Dim db = from_end <= b.shape.size() ? b.shape[b.shape.size() - from_end] : Dim{1, {}};
    std::optional<Dim> dim = BroadcastDim(da, db);
    if (!dim) {
      return context.Invalid("input shapes " + Describe(context, 0) + " and " +
                             Describe(context, 1) + " do not broadcast");
    }
    out[i] = *dim;
  }
  context.SetOutput(0, a.dtype, std::move(out));
  return true;
}

auto InferUnary(Context& context) -> bool {
  const Value& x = context.input(0);
  if (context.node().op_type != "Identity" && !context.RequireFloat(0)) return false;
  if (context.node().op_type == "Clip") {
    for (std::size_t i = 1; i < 3; ++i) {
      if (!context.has_input(i)) continue;
      const TensorData* bound = context.constant(i);
      if (bound == nullptr || bound->f32.size() != 1) {
        return context.Unresolved("Clip's bound '" + context.input(i).name +
                                  "' must be a constant float32 scalar");
      }
    }
  }
  context.SetOutput(0, x.dtype, x.shape);
  return true;
}

auto InferSoftmax(Context& context) -> bool {
  if (!context.RequireFloat(0)) return false;
  // Before opset 13 the default axis is 1 (2-D coercion); since, -1.
  std::int64_t fallback = context.graph().opset < 13 ? 1 : -1;
  if (!context.Axis(context.node().Int("axis", fallback), context.rank(0))) return false;
  context.SetOutput(0, DType::kFloat32, context.shape(0));
  return true;
}

auto InferFlatten(Context& context) -> bool {
  std::int64_t rank = context.rank(0);
  std::int64_t axis = context.node().Int("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) {
    return context.Invalid("axis " + std::to_string(context.node().Int("axis", 1)) +
                           " is out of range for rank " + std::to_string(rank));
  }
  auto split = static_cast<std::size_t>(axis);
  std::optional<Dim> outer = Product(context.shape(0), 0, split);
  std::optional<Dim> inner = Product(context.shape(0), split, context.shape(0).size());
  if (!outer || !inner) {
    return context.Unresolved("flattening " + Describe(context, 0) + " at axis " +
                              std::to_string(axis) + " multiplies a symbolic dimension");
  }
  context.SetOutput(0, context.input(0).dtype, {*outer, *inner});
  return true;
}

auto InferReshape(Context& context) -> bool {
  const TensorData* target = context.constant(1);
  if (target == nullptr || context.input(1).dtype != DType::kInt64) {
    return context.Unresolved("the target shape '" + context.input(1).name +
                              "' is computed at run time; it must be a constant int64 tensor");
  }
  const Shape& in = context.shape(0);
  bool allow_zero = context.node().Int("allowzero", 0) != 0;
  Shape out;
  int infer_at = -1;
  for (std::size_t i = 0; i < target->i64.size(); ++i) {
    std::int64_t size = target->i64[i];
    if (size == -1 && infer_at < 0) {
      infer_at = static_cast<int>(i);
      out.push_back(Dim{1, {}});
    } else if (size == 0 && !allow_zero) {
      if (i >= in.size()) return context.Invalid("target dimension " + std::to_string(i) +
                                                 " copies a dimension the input lacks");
      out.push_back(in[i]);
    } else if (size < 0 || size > kMaxAttribute) {
      return context.Invalid("target shape has an invalid dimension " + std::to_string(size));
    } else {
      out.push_back(Dim{size, {}});
    }
  }
  // Symbols on both sides cancel; what remains must divide out exactly.
  std::multiset<std::string> in_symbols;
  std::int64_t in_known = 1;
  for (const Dim& dim : in) {
    if (dim.known()) in_known *= dim.size;  // bounded by inference's element limit
    else in_symbols.insert(dim.symbol);
  }
  std::int64_t out_known = 1;
  for (const Dim& dim : out) {
    if (dim.known()) {
      if (dim.size != 0 && out_known > kMaxElements / dim.size) {
        return context.Invalid("the target shape has more than 2^40 elements");
      }
      out_known *= dim.size;
    } else if (auto found = in_symbols.find(dim.symbol); found != in_symbols.end()) {
      in_symbols.erase(found);
    } else {
      return context.Unresolved("the target shape's dimension '" + dim.symbol +
                                "' does not come from the input " + Describe(context, 0));
    }
  }
  if (infer_at >= 0) {
    auto& dim = out[static_cast<std::size_t>(infer_at)];
    if (out_known == 0 || in_known % out_known != 0) {
      return context.Invalid("cannot reshape " + Describe(context, 0) + " to the target");
    }
    if (in_symbols.empty()) {
      dim = Dim{in_known / out_known, {}};
    } else if (in_symbols.size() == 1 && in_known == out_known) {
      dim = Dim{0, *in_symbols.begin()};
    } else {
      return context.Unresolved("the -1 dimension of the reshape of " + Describe(context, 0) +
                                " is not a whole multiple of a symbolic dimension");
    }
  } else if (!in_symbols.empty() || in_known != out_known) {
    return context.Invalid("cannot reshape " + Describe(context, 0) + " to " + ShapeString(out));
  }
  context.SetOutput(0, context.input(0).dtype, std::move(out));
  return true;
}

auto InferTranspose(Context& context) -> bool {
  const Shape& in = context.shape(0);
  std::vector<std::int64_t> perm = context.node().Ints("perm");
  if (perm.empty()) {
    for (std::size_t i = in.size(); i > 0; --i) perm.push_back(static_cast<std::int64_t>(i - 1));
  }
  std::vector<bool> seen(in.size(), false);
  Shape out;
  for (std::int64_t axis : perm) {
    if (axis < 0 || axis >= context.rank(0) || seen[static_cast<std::size_t>(axis)] ||
        perm.size() != in.size()) {
      return context.Invalid("perm is not a permutation of the input's " +
                             std::to_string(in.size()) + " axes");
    }
    seen[static_cast<std::size_t>(axis)] = true;
    out.push_back(in[static_cast<std::size_t>(axis)]);
  }
  context.SetOutput(0, context.input(0).dtype, std::move(out));
  return true;
}

auto InferConcat(Context& context) -> bool {
  std::optional<std::int64_t> axis = context.Axis(context.node().Int("axis", 0), context.rank(0));
  if (!axis) return false;
  Shape out = context.shape(0);
  auto at = static_cast<std::size_t>(*axis);
  for (std::size_t i = 1; i < context.node().inputs.size(); ++i) {
    const Shape& shape = context.shape(i);
    if (shape.size() != out.size() || context.input(i).dtype != context.input(0).dtype) {
      return context.Invalid("input " + std::to_string(i) + " has shape " + Describe(context, i) +
                             " of another rank or dtype than input 0's " + Describe(context, 0));
    }
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (d == at) continue;
      if (shape[d] != out[d]) {
        return context.Invalid("input shapes " + Describe(context, 0) + " and " +
                               Describe(context, i) + " differ outside axis " +
                               std::to_string(*axis));
      }
    }
    if (!out[at].known() || !shape[at].known()) {
      return context.Unresolved("concatenating along a symbolic dimension");
    }
    out[at].size += shape[at].size;
  }
  context.SetOutput(0, context.input(0).dtype, std::move(out));
  return true;
}

auto InferTopK(Context& context) -> bool {
  std::optional<std::int64_t> k = ScalarInt(context, 1);
  if (!k) return context.Unresolved("K ('" + context.input(1).name +
                                    "') must be a constant int64 with one element");
  std::optional<std::int64_t> axis = context.Axis(context.node().Int("axis", -1), context.rank(0));
  if (!axis) return false;
  Shape out = context.shape(0);
  Dim& dim = out[static_cast<std::size_t>(*axis)];
  if (*k < 0 || (dim.known() && *k > dim.size)) {
    return context.Invalid("K = " + std::to_string(*k) + " exceeds the axis size " +
                           std::to_string(dim.size) + " of " + Describe(context, 0));
  }
  dim = Dim{*k, {}};
  context.SetOutput(0, context.input(0).dtype, out);
  context.SetOutput(1, DType::kInt64, out);
  return true;
}

auto InferArgMax(Context& context) -> bool {
  std::optional<std::int64_t> axis = context.Axis(context.node().Int("axis", 0), context.rank(0));
  if (!axis) return false;
  Shape out = context.shape(0);
  if (context.node().Int("keepdims", 1) != 0) {
    out[static_cast<std::size_t>(*axis)] = Dim{1, {}};
  } else {
    out.erase(out.begin() + *axis);
  }
  context.SetOutput(0, DType::kInt64, std::move(out));
  return true;
}

}  // namespace ferry::graph::shapes

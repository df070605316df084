// Shape rules of the matrix, convolution, pooling and normalization operators.
#include "compiler/graph/shape_rules.h"

namespace ferry::graph::shapes {
namespace {

auto DimString(const Dim& dim) -> std::string {
  return dim.known() ? std::to_string(dim.size) : dim.symbol;
}

/// A per-spatial-axis attribute (strides, dilations), `fallback` when absent.
auto PerAxis(const Node& node, const char* name, std::size_t axes, std::int64_t fallback)
    -> std::vector<std::int64_t> {
  std::vector<std::int64_t> values = node.Ints(name);
  return values.empty() ? std::vector<std::int64_t>(axes, fallback) : values;
}

/// Output spatial sizes of a sliding window (Conv, MaxPool, AveragePool), or
/// false (reported) when the attributes do not fit the input.
auto WindowOutput(Context& context, const std::vector<std::int64_t>& kernel, Shape& out) -> bool {
  const Node& node = context.node();
  const Shape& in = context.shape(0);
  std::size_t axes = in.size() - 2;
  std::vector<std::int64_t> strides = PerAxis(node, "strides", axes, 1);
  std::vector<std::int64_t> dilations = PerAxis(node, "dilations", axes, 1);
  std::vector<std::int64_t> pads = PerAxis(node, "pads", 2 * axes, 0);
  std::string auto_pad = node.String("auto_pad", "NOTSET");
  bool ceil_mode = node.Int("ceil_mode", 0) != 0;
  if (kernel.size() != axes || strides.size() != axes || dilations.size() != axes ||
      pads.size() != 2 * axes) {
    return context.Invalid("kernel_shape, strides, dilations or pads do not match the " +
                           std::to_string(axes) + " spatial axes of " + Describe(context, 0));
  }
  for (std::size_t i = 0; i < axes; ++i) {
    const Dim& size = in[i + 2];
    if (!size.known()) {
      return context.Unresolved("spatial dimension '" + size.symbol + "' of " +
                                Describe(context, 0) + " must be known");
    }
    for (std::int64_t value : {kernel[i], strides[i], dilations[i], pads[i], pads[i + axes]}) {
      if (value > kMaxAttribute) return context.Invalid("a window attribute exceeds 2^31");
    }
    if (kernel[i] <= 0 || strides[i] <= 0 || dilations[i] <= 0 || pads[i] < 0 ||
        pads[i + axes] < 0) {
      return context.Invalid("kernel_shape, strides and dilations must be positive, pads >= 0");
    }
    std::int64_t extent = dilations[i] * (kernel[i] - 1) + 1;
    std::int64_t result = 0;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      result = (size.size + strides[i] - 1) / strides[i];
    } else if (auto_pad == "VALID") {
      result = size.size < extent ? 0 : (size.size - extent) / strides[i] + 1;
    } else if (auto_pad == "NOTSET") {
      std::int64_t padded = size.size + pads[i] + pads[i + axes] - extent;
      if (padded < 0) {
        return context.Invalid("the window (" + std::to_string(extent) +
                               ") is larger than the padded input " + Describe(context, 0));
      }
      result = (ceil_mode ? (padded + strides[i] - 1) : padded) / strides[i] + 1;
    } else {
      return context.Invalid("auto_pad '" + auto_pad + "' is not NOTSET, SAME_UPPER, " +
                             "SAME_LOWER or VALID");
    }
    if (result <= 0) return context.Invalid("the output of " + Describe(context, 0) + " is empty");
    out.push_back(Dim{result, {}});
  }
  return true;
}

}  // namespace

auto InferGemm(Context& context) -> bool {
  if (!context.RequireFloat(0) || !context.RequireFloat(1) || !context.RequireRank(0, 2, 2) ||
      !context.RequireRank(1, 2, 2)) {
    return false;
  }
  bool trans_a = context.node().Int("transA", 0) != 0;
  bool trans_b = context.node().Int("transB", 0) != 0;
  const Shape& a = context.shape(0);
  const Shape& b = context.shape(1);
  Dim m = a[trans_a ? 1 : 0];
  Dim k = a[trans_a ? 0 : 1];
  Dim kb = b[trans_b ? 1 : 0];
  Dim n = b[trans_b ? 0 : 1];
  if (!k.known() || !kb.known() || !n.known()) {
    return context.Unresolved("the inner and output dimensions of " + Describe(context, 0) +
                              " x " + Describe(context, 1) + " must be known");
  }
  if (k != kb) {
    return context.Invalid("A " + Describe(context, 0) + (trans_a ? " (transposed)" : "") +
                           " and B " + Describe(context, 1) + (trans_b ? " (transposed)" : "") +
                           " have inner dimensions " + DimString(k) + " and " + DimString(kb));
  }
  if (context.has_input(2)) {
    if (!context.RequireFloat(2)) return false;
    const Shape& c = context.shape(2);
    bool ok = c.size() <= 2;
    for (std::size_t i = 0; ok && i < c.size(); ++i) {
      const Dim& target = i + 2 - c.size() == 0 ? m : n;
      ok = (c[i].known() && c[i].size == 1) || c[i] == target;
    }
    if (!ok) {
      return context.Invalid("C " + Describe(context, 2) + " does not broadcast to [" +
                             DimString(m) + ", " + DimString(n) + "]");
    }
  }
  context.SetOutput(0, DType::kFloat32, {m, n});
  return true;
}

auto InferMatMul(Context& context) -> bool {
  if (!context.RequireFloat(0) || !context.RequireFloat(1) || !context.RequireRank(0, 2, 8)) {
    return false;
  }
  if (context.rank(1) != 2) {
    return context.Invalid("B " + Describe(context, 1) +
                           " must be a matrix; batched right operands are not supported");
  }
  const Shape& a = context.shape(0);
  const Shape& b = context.shape(1);
  if (!a.back().known() || !b[0].known() || !b[1].known()) {
    return context.Unresolved("the inner and output dimensions of " + Describe(context, 0) +
                              " x " + Describe(context, 1) + " must be known");
  }
  if (a.back() != b[0]) {
    return context.Invalid("A " + Describe(context, 0) + " and B " + Describe(context, 1) +
                           " have inner dimensions " + DimString(a.back()) + " and " +
                           DimString(b[0]));
  }
  Shape out = a;
  out.back() = b[1];
  context.SetOutput(0, DType::kFloat32, std::move(out));
  return true;
}

auto InferConv(Context& context) -> bool {
  if (!context.RequireFloat(0) || !context.RequireFloat(1) || !context.RequireRank(0, 3, 5) ||
      !context.RequireRank(1, context.rank(0), context.rank(0))) {
    return false;
  }
  const Shape& x = context.shape(0);
  const Shape& w = context.shape(1);
  if (!IsKnown(w) || !x[1].known()) {
    return context.Unresolved("the weights " + Describe(context, 1) + " and input channels of " +
                              Describe(context, 0) + " must be known");
  }
  std::int64_t group = context.node().Int("group", 1);
  if (group <= 0 || x[1].size % group != 0 || w[0].size % group != 0 ||
      w[1].size * group != x[1].size) {
    return context.Invalid("input " + Describe(context, 0) + ", weights " + Describe(context, 1) +
                           " and group " + std::to_string(group) + " do not fit");
  }
  std::vector<std::int64_t> kernel = context.node().Ints("kernel_shape");
  if (kernel.empty()) {
    for (std::size_t i = 2; i < w.size(); ++i) kernel.push_back(w[i].size);
  }
  for (std::size_t i = 0; i < kernel.size() && i + 2 < w.size(); ++i) {
    if (kernel[i] != w[i + 2].size) {
      return context.Invalid("kernel_shape does not match the weights " + Describe(context, 1));
    }
  }
  if (context.has_input(2) &&
      (context.rank(2) != 1 || context.shape(2)[0] != w[0] || !context.RequireFloat(2))) {
    return context.Invalid("bias " + Describe(context, 2) + " must have shape [" +
                           std::to_string(w[0].size) + "]");
  }
  Shape out = {x[0], w[0]};
  if (!WindowOutput(context, kernel, out)) return false;
  context.SetOutput(0, DType::kFloat32, std::move(out));
  return true;
}

auto InferPool(Context& context) -> bool {
  if (!context.RequireFloat(0) || !context.RequireRank(0, 3, 5)) return false;
  std::vector<std::int64_t> kernel = context.node().Ints("kernel_shape");
  if (kernel.empty()) return context.Invalid("kernel_shape is required");
  Shape out = {context.shape(0)[0], context.shape(0)[1]};
  if (!WindowOutput(context, kernel, out)) return false;
  context.SetOutput(0, DType::kFloat32, std::move(out));
  return true;
}

auto InferGlobalPool(Context& context) -> bool {
  if (!context.RequireFloat(0) || !context.RequireRank(0, 3, 5)) return false;
  Shape out = context.shape(0);
  for (std::size_t i = 2; i < out.size(); ++i) out[i] = Dim{1, {}};
  context.SetOutput(0, DType::kFloat32, std::move(out));
  return true;
}

auto InferBatchNorm(Context& context) -> bool {
  if (!context.RequireFloat(0) || !context.RequireRank(0, 2, 5)) return false;
  const Dim& channels = context.shape(0)[1];
  for (std::size_t i = 1; i < 5; ++i) {
    if (!context.RequireFloat(i)) return false;
    if (context.rank(i) != 1 || context.shape(i)[0] != channels) {
      return context.Invalid("input " + std::to_string(i) + " ('" + context.input(i).name +
                             "') has shape " + Describe(context, i) + "; expected [" +
                             DimString(channels) + "]");
    }
  }
  context.SetOutput(0, DType::kFloat32, context.shape(0));
  return true;
}

}  // namespace ferry::graph::shapes

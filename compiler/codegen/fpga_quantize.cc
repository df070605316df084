// Calibration and quantization of the FPGA kernel (fpga_quantize.h).
#include "compiler/codegen/fpga_quantize.h"

#include <algorithm>
#include <cmath>

#include "compiler/codegen/fpga_layers.h"
#include "compiler/codegen/stages.h"

namespace ferry::codegen::fpga {
namespace {

auto QMax(int bits) -> std::int64_t { return (std::int64_t{1} << (bits - 1)) - 1; }

/// RMS error of symmetric int8 quantization at `scale`, relative to the RMS value.
struct ErrorSum {
  double error = 0;
  double value = 0;
  void Add(const std::vector<float>& values, double scale) {
    for (float x : values) {
      const double q = std::clamp(std::round(x / scale), -127.0, 127.0) * scale;
      error += (x - q) * (x - q);
      value += static_cast<double>(x) * x;
    }
  }
  auto Relative() const -> double { return value > 0 ? std::sqrt(error / value) : 0.0; }
};

auto ScaleFor(double max_abs, int bits) -> double {
  return max_abs > 0 ? max_abs / static_cast<double>(QMax(bits)) : 1.0;
}

/// Bits and scale of a set of values: int8 unless that loses more than kInt8ErrorLimit.
auto Choose(const std::vector<const std::vector<float>*>& sets, double& max_abs, double& error)
    -> int {
  max_abs = 0;
  for (const auto* values : sets) {
    for (float x : *values) max_abs = std::max(max_abs, static_cast<double>(std::fabs(x)));
  }
  ErrorSum sum;
  for (const auto* values : sets) sum.Add(*values, ScaleFor(max_abs, 8));
  error = sum.Relative();
  return error > kInt8ErrorLimit ? 16 : 8;
}

/// multiplier / 2^shift ~ real, with the multiplier below 2^23 (so that a
/// 40-bit accumulator times it fits 64 bits).
void FixedMultiplier(double real, std::int64_t& multiplier, int& shift) {
  shift = 0;
  while (shift < 62 && real * std::ldexp(1.0, shift + 1) < static_cast<double>(1 << 23)) ++shift;
  multiplier = std::llround(real * std::ldexp(1.0, shift));
}

/// Weights, bias, requantization and clamps of one layer, its tensors' scales known.
void QuantizeLayer(const FloatLayer& floats, const std::vector<QTensor>& tensors, QLayer& layer) {
  const QTensor& in = tensors[layer.input];
  const QTensor& out = tensors[layer.output];
  const std::int64_t qmax = QMax(out.bits);
  layer.low = floats.relu ? 0 : -qmax;
  layer.high = qmax;
  if (floats.clip) {
    layer.low = std::max<std::int64_t>(layer.low, std::llround(floats.clip_min / out.scale));
    layer.high = std::min<std::int64_t>(layer.high, std::llround(floats.clip_max / out.scale));
  }
  if (layer.kind == LayerKind::kMaxPool || layer.kind == LayerKind::kRelu) return;
  double weight_max = 0;
  double weight_error = 0;
  if (layer.kind == LayerKind::kAddConstant) {
    layer.weight_scale = 1.0;  // the input passes through with weight 1
    layer.weight_bits = 8;
  } else {
    layer.weight_bits = Choose({&floats.weights}, weight_max, weight_error);
    layer.weight_scale = ScaleFor(weight_max, layer.weight_bits);
    const std::int64_t wmax = QMax(layer.weight_bits);
    for (float w : floats.weights) {
      layer.weights.push_back(static_cast<std::int32_t>(
          std::clamp<std::int64_t>(std::llround(w / layer.weight_scale), -wmax, wmax)));
    }
  }
  const double acc_scale =
      in.scale * (layer.kind == LayerKind::kAddConstant ? 1.0 : layer.weight_scale);
  std::int64_t bias_max = 0;
  for (float b : floats.bias) {
    const std::int64_t q =
        std::clamp<std::int64_t>(std::llround(b / acc_scale), INT32_MIN, INT32_MAX);
    layer.bias.push_back(q);
    bias_max = std::max(bias_max, q < 0 ? -q : q);
  }
  FixedMultiplier(acc_scale / out.scale, layer.multiplier, layer.shift);
  const double bound =
      static_cast<double>(std::max<std::int64_t>(layer.reduction, 1)) *
          static_cast<double>(QMax(in.bits) + 1) *
          static_cast<double>(layer.kind == LayerKind::kAddConstant ? 1
                                                                    : QMax(layer.weight_bits) + 1) +
      static_cast<double>(bias_max);
  layer.acc_bits = bound < std::ldexp(1.0, 31) ? 32 : 48;
}

auto LargestDivisorAtMost(std::int64_t n, std::int64_t limit) -> std::int64_t {
  for (std::int64_t d = std::min(n, limit); d > 1; --d) {
    if (n % d == 0) return d;
  }
  return 1;
}

/// Reduction length and unroll: a conv's whole window when it has at most
/// kMaxUnroll taps (else one input channel's), 32 lanes of a dense row.
void ChooseUnroll(const std::vector<QTensor>& tensors, QLayer& layer) {
  const QTensor& in = tensors[layer.input];
  if (layer.kind == LayerKind::kConv) {
    layer.reduction = in.dims[0] * layer.kernel_h * layer.kernel_w;
    layer.unroll =
        layer.reduction <= kMaxUnroll ? layer.reduction : layer.kernel_h * layer.kernel_w;
  } else if (layer.kind == LayerKind::kDense) {
    layer.reduction = in.elements;
    layer.unroll = LargestDivisorAtMost(in.elements, 32);
  } else {
    layer.reduction = 1;
    layer.unroll = 1;
  }
}

}  // namespace

auto PlanFixedPoint(const Lowering& lowering, diag::Sink& sink) -> std::optional<QPlan> {
  std::optional<LayerGraph> layers = BuildLayers(lowering.graph, sink);
  if (!layers) return std::nullopt;
  QPlan& plan = layers->plan;
  const InputFacts facts{.row_size = plan.tensors[plan.input].elements,
                         .image = lowering.stages.image.has_value()};
  const CalibrationSource none;
  std::optional<Calibration> calibration =
      ReadCalibration(lowering.calibration != nullptr ? *lowering.calibration : none, facts, sink);
  if (!calibration) return std::nullopt;

  // Every tensor's values on every row: the float kernel, layer by layer.
  std::vector<std::vector<std::vector<float>>> values(plan.tensors.size());
  values[plan.input] = calibration->rows;
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    for (const std::vector<float>& row : values[plan.layers[i].input]) {
      values[plan.layers[i].output].push_back(RunFloatLayer(*layers, i, row));
    }
  }
  // Scales per group of tensors sharing one (a pool or relu and its input).
  for (std::size_t t = 0; t < plan.tensors.size(); ++t) {
    if (layers->scale_of[t] != t) continue;
    std::vector<const std::vector<float>*> sets;
    for (std::size_t member = 0; member < plan.tensors.size(); ++member) {
      if (layers->scale_of[member] != t) continue;
      for (const std::vector<float>& row : values[member]) sets.push_back(&row);
    }
    QTensor& tensor = plan.tensors[t];
    tensor.bits = Choose(sets, tensor.max_abs, tensor.int8_error);
    tensor.scale = ScaleFor(tensor.max_abs, tensor.bits);
  }
  for (std::size_t t = 0; t < plan.tensors.size(); ++t) {
    const QTensor& root = plan.tensors[layers->scale_of[t]];
    plan.tensors[t].bits = root.bits;
    plan.tensors[t].scale = root.scale;
    plan.tensors[t].max_abs = root.max_abs;
    plan.tensors[t].int8_error = root.int8_error;
  }
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    ChooseUnroll(plan.tensors, plan.layers[i]);
    QuantizeLayer(layers->floats[i], plan.tensors, plan.layers[i]);
  }
  plan.reference = values[plan.output];
  plan.calibration = std::move(*calibration);
  return std::move(layers->plan);
}

auto EstimateResources(const QPlan& plan, const QLayer& layer) -> LayerResources {
  const QTensor& in = plan.tensors[layer.input];
  const QTensor& out = plan.tensors[layer.output];
  LayerResources r;
  r.weight_bytes = static_cast<std::int64_t>(layer.weights.size()) * (layer.weight_bits / 8) +
                   static_cast<std::int64_t>(layer.bias.size()) * 4;
  r.cycles = in.elements;  // reading the input stream into the frame buffer
  switch (layer.kind) {
    case LayerKind::kConv:
    case LayerKind::kDense:
      r.multipliers = layer.unroll + 1;  // the MACs and the requantizing multiply
      r.buffer_bytes = in.elements * (in.bits / 8);
      r.cycles += out.elements * (layer.reduction / layer.unroll);
      break;
    case LayerKind::kMaxPool:
      r.buffer_bytes = in.elements * (in.bits / 8);
      r.cycles += out.elements;
      break;
    case LayerKind::kRelu:
      r.cycles = in.elements;  // streams through, no buffer
      break;
    case LayerKind::kAddConstant:
      r.multipliers = 1;
      r.cycles = in.elements;
      break;
  }
  return r;
}

}  // namespace ferry::codegen::fpga

// Internal to the FPGA back end: the fixed-point plan of a model. The graph
// splits into a kernel (a chain of layers the FPGA runs on int8/int16 streams)
// and a host tail (Softmax, TopK, ArgMax in float after the kernel's output is
// dequantized). Calibration runs the float kernel on the calibration rows
// (fpga_interpret.h) and records each tensor's largest magnitude; scales are
// symmetric per tensor, scale = max|x| / (2^(bits-1) - 1), and a tensor is
// int16 when int8 would lose too much (kInt8ErrorLimit).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/codegen/backend.h"
#include "compiler/codegen/fpga_calibration.h"

namespace ferry::codegen::fpga {

/// A tensor is stored as int16 when int8 quantization's RMS error on the
/// calibration data exceeds this fraction of the tensor's RMS value.
inline constexpr double kInt8ErrorLimit = 0.02;
/// Most multipliers one layer's unrolled inner loop may use.
inline constexpr std::int64_t kMaxUnroll = 128;

/// One activation tensor of the kernel (reshapes share their input's).
struct QTensor {
  std::string name;                ///< the graph value's name
  std::vector<std::int64_t> dims;  ///< without the batch dimension
  std::int64_t elements = 0;
  int bits = 8;
  double scale = 1.0;     ///< real value = integer * scale
  double max_abs = 0.0;   ///< over the calibration rows
  double int8_error = 0;  ///< RMS error of int8 quantization / RMS value
};

enum class LayerKind { kConv, kDense, kMaxPool, kRelu, kAddConstant };

/// One kernel layer: one HLS function between two streams.
struct QLayer {
  LayerKind kind = LayerKind::kDense;
  std::size_t node = 0;    ///< index into graph.nodes
  std::string name;        ///< a C++ identifier from the node's name
  std::string onnx;        ///< "conv1 (Conv + Relu)": the ONNX nodes it implements
  std::size_t input = 0;   ///< index into QPlan::tensors
  std::size_t output = 0;  ///< index into QPlan::tensors
  // Weights (conv [oc][ic][kh][kw], dense [out][in]) and int32 bias at scale in*w.
  std::vector<std::int32_t> weights;
  int weight_bits = 8;
  double weight_scale = 1.0;
  std::vector<std::int64_t> bias;
  // Requantization to the output: y = (acc * multiplier + 2^(shift-1)) >> shift.
  std::int64_t multiplier = 1;
  int shift = 0;
  int acc_bits = 32;
  // Clamp of the output in output integers (relu: 0; clip: its bounds).
  std::int64_t low = 0;
  std::int64_t high = 0;
  // Window of conv and pool: kernel, stride, pads (begin) over H and W.
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  /// Multiply-accumulates of the unrolled inner loop: DSP-equivalents per cycle.
  std::int64_t unroll = 1;
  /// Reduction length per output (ic*kh*kw or inputs).
  std::int64_t reduction = 0;
};

/// The quantized kernel, the host tail and the calibration evidence.
struct QPlan {
  std::vector<QTensor> tensors;
  std::vector<QLayer> layers;
  std::size_t input = 0;   ///< tensor the host quantizes and streams in
  std::size_t output = 0;  ///< tensor the kernel streams out
  /// ONNX nodes run on the host after the kernel, in order ("probabilities (Softmax)").
  std::vector<std::string> host_tail;
  /// Whether the kernel's output is scored by its top-1 class.
  bool classifier = false;
  Calibration calibration;
  /// The float kernel's output per calibration row (the reference).
  std::vector<std::vector<float>> reference;
};

/// Splits, calibrates and quantizes `lowering`'s graph. Reports E0811 for a
/// node the FPGA back end cannot run (naming it) and E0812/W0813 for
/// calibration problems; nullopt on error.
auto PlanFixedPoint(const Lowering& lowering, diag::Sink& sink) -> std::optional<QPlan>;

/// Multiply-accumulate units, weight bytes and buffer bytes of a layer.
struct LayerResources {
  std::int64_t multipliers = 0;
  std::int64_t weight_bytes = 0;
  std::int64_t buffer_bytes = 0;
  std::int64_t cycles = 0;  ///< per row, with the inner loop at II=1
};
auto EstimateResources(const QPlan& plan, const QLayer& layer) -> LayerResources;

}  // namespace ferry::codegen::fpga

// Dense neural-network kernels: Gemm/MatMul, Conv, pools, BatchNormalization,
// Softmax, with fused epilogues (bias + activation).
#pragma once

#include <cstdint>
#include <limits>

#include "runtime/model.h"

namespace ferry_rt::k {

/// The activation fused into a kernel's epilogue (after bias).
enum class ActivationKind { kNone, kRelu, kSigmoid, kTanh, kClip };

/// An activation and, for kClip, its bounds: `Activation{ActivationKind::kClip, 0.0f, 6.0f}`.
struct Activation {
  ActivationKind kind = ActivationKind::kNone;
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};

/// How Gemm's C (bias) broadcasts over the M x N result.
enum class BiasShape {
  kAuto,    // (N) when bias is non-null: the common Gemm/MatMul+Add case
  kScalar,  // one value
  kRow,     // N values, one per column (shape (N) or (1, N))
  kColumn,  // M values, one per row (shape (M, 1))
  kFull,    // M x N values
};

/// ONNX Gemm: Y = act(alpha * op(A) * op(B) + beta * C). op(A) is M x K
/// (A is K x M when trans_a), op(B) is K x N (B is N x K when trans_b).
/// `bias` may be nullptr. Y must not alias A, B or C.
void Gemm(const float* a, const float* b, const float* bias, float* y, std::int64_t m,
          std::int64_t n, std::int64_t k, bool trans_a, bool trans_b, float alpha, float beta,
          Activation act, BiasShape bias_shape = BiasShape::kAuto);

/// ONNX MatMul with numpy broadcasting of the batch dimensions: A is (..., M, K),
/// B is (..., K, N), Y is (..., M, N). 1-D operands follow numpy's rules
/// (A (K) is a row, B (K) a column); `y_shape` is the result shape.
void MatMul(const float* a, const Dims& a_shape, const float* b, const Dims& b_shape, float* y,
            const Dims& y_shape);

/// 2-D convolution geometry (1-D convolutions use in_h = out_h = kernel_h = 1).
/// Pads are ONNX's (begin, end) per axis, already resolved from auto_pad.
struct ConvParams {
  std::int64_t batch = 1;
  std::int64_t in_channels = 1, in_h = 1, in_w = 1;
  std::int64_t out_channels = 1, out_h = 1, out_w = 1;
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t group = 1;
};

/// ONNX Conv (NCHW): X (batch, in_channels, in_h, in_w), W (out_channels,
/// in_channels / group, kernel_h, kernel_w), bias (out_channels) or nullptr,
/// Y (batch, out_channels, out_h, out_w) = act(conv + bias).
void Conv(const float* x, const float* w, const float* bias, float* y, const ConvParams& p,
          Activation act);

/// Pooling geometry over NCHW (1-D pools use in_h = out_h = kernel_h = 1).
struct PoolParams {
  std::int64_t batch = 1, channels = 1;
  std::int64_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  /// AveragePool's count_include_pad.
  bool count_include_pad = false;
};

/// ONNX MaxPool (padding never wins the max).
void MaxPool(const float* x, float* y, const PoolParams& p);
/// ONNX AveragePool (padded cells counted only when count_include_pad).
void AveragePool(const float* x, float* y, const PoolParams& p);
/// ONNX GlobalAveragePool: the mean of each of `planes` (batch * channels)
/// runs of `spatial` values.
void GlobalAveragePool(const float* x, float* y, std::int64_t planes, std::int64_t spatial);
/// GlobalMaxPool, the same with max.
void GlobalMaxPool(const float* x, float* y, std::int64_t planes, std::int64_t spatial);

/// ONNX BatchNormalization (inference): per channel c,
/// y = scale[c] * (x - mean[c]) / sqrt(var[c] + epsilon) + bias[c], then act.
void BatchNormalization(const float* x, const float* scale, const float* bias, const float* mean,
                        const float* var, float epsilon, float* y, std::int64_t batch,
                        std::int64_t channels, std::int64_t spatial, Activation act = {});

/// ONNX Softmax over the middle axis of an (outer, axis, inner) view: for
/// opset >= 13 outer = prod(dims before axis), inner = prod(dims after);
/// opset < 13 coerces to 2-D, i.e. inner = 1, axis = prod(dims from axis).
void Softmax(const float* x, float* y, std::int64_t outer, std::int64_t axis, std::int64_t inner);
/// ONNX LogSoftmax, same view.
void LogSoftmax(const float* x, float* y, std::int64_t outer, std::int64_t axis,
                std::int64_t inner);

/// Applies `act` to n values in place.
void ApplyActivation(float* y, std::int64_t n, Activation act);

}  // namespace ferry_rt::k

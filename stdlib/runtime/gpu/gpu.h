// The GPU part of the scoring runtime: what a GPU bundle's generated
// model_gpu.cu calls. A Context per Model instance (its CUDA stream and
// library handles: a server keeps one Model per worker thread, so each worker
// has its own stream), device and pinned host buffers, cuBLAS/cublasLt GEMMs
// with fused bias + ReLU epilogues, cuDNN convolutions (algorithm measured once
// per batch-size bucket, fused conv + bias + ReLU) and pooling, and the kernels the
// libraries do not provide (kernels.cu). Every failure throws ferry_rt::Error
// naming the call and the library's message; nothing aborts.
//
// Numerics: float32 throughout, TF32 tensor cores off (cuBLAS compute type
// 32F, cuDNN FMA math), so outputs stay within 1e-3 relative of the CPU target.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include "runtime/model.h"

namespace ferry_rt::gpu {

/// Throw Error("<what>: <library message>") unless the call succeeded.
void Check(cudaError_t status, const char* what);
void Check(cublasStatus_t status, const char* what);
void Check(cudnnStatus_t status, const char* what);

/// Throws Error("no CUDA device: ... (cudaGetDeviceCount: ...)") when this
/// process sees no usable CUDA device. CreateModel calls it first, so that
/// serve and score exit at start-up with that message.
void RequireDevice();

/// Device memory that only grows: Reserve keeps the allocation when it is
/// large enough (the contents are not kept when it grows).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  auto operator=(const DeviceBuffer&) -> DeviceBuffer& = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  auto operator=(DeviceBuffer&& other) noexcept -> DeviceBuffer&;
  ~DeviceBuffer();
  void Reserve(std::size_t bytes);
  auto bytes() const -> std::size_t { return bytes_; }
  template <typename T>
  auto As() const -> T* {
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

/// Page-locked host memory (cudaMallocHost): copies from and to it run
/// asynchronously on the stream at full PCIe speed.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  auto operator=(const PinnedBuffer&) -> PinnedBuffer& = delete;
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  auto operator=(PinnedBuffer&& other) noexcept -> PinnedBuffer&;
  ~PinnedBuffer();
  void Reserve(std::size_t bytes);
  auto data() const -> void* { return data_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

/// One Model instance's stream, library handles and scratch workspace.
class Context {
 public:
  Context();
  Context(const Context&) = delete;
  auto operator=(const Context&) -> Context& = delete;
  ~Context();

  auto stream() const -> cudaStream_t { return stream_; }
  auto blas() const -> cublasHandle_t { return blas_; }
  auto lt() const -> cublasLtHandle_t { return lt_; }
  auto dnn() const -> cudnnHandle_t { return dnn_; }
  /// Scratch for cuBLAS and cuDNN, grown to the largest size asked for.
  auto Workspace(std::size_t bytes) -> void*;
  auto workspace_bytes() const -> std::size_t { return workspace_.bytes(); }
  /// Waits for the stream; throws Error when a kernel on it failed.
  void Synchronize();

  /// Host -> device and device -> host copies on the stream (async with pinned memory).
  void Upload(void* device, const void* host, std::size_t bytes);
  void Download(void* host, const void* device, std::size_t bytes);
  void CopyOnDevice(void* to, const void* from, std::size_t bytes);

 private:
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  cudnnHandle_t dnn_ = nullptr;
  DeviceBuffer workspace_;
};

/// The activation an op applies to its result (k::Activation's kinds).
enum class ActKind : int { kNone = 0, kRelu, kSigmoid, kTanh, kClip };
struct Act {
  ActKind kind = ActKind::kNone;
  float min = 0.0F;
  float max = 0.0F;
};

/// How Gemm's C broadcasts onto the [m, n] result.
enum class BiasShape : int { kNone = 0, kScalar, kRow, kColumn, kFull };

/// ONNX Gemm, row-major: y[m, n] = act(alpha * op(a) op(b) + beta * c). A row
/// bias with beta 1 and no or a ReLU activation runs as one cublasLt matmul
/// with a BIAS / RELU_BIAS epilogue; the rest as cublasSgemm plus an epilogue kernel.
class Gemm {
 public:
  Gemm(std::int64_t n, std::int64_t k, bool trans_a, bool trans_b, float alpha, float beta, Act act,
       BiasShape bias);
  Gemm(const Gemm&) = delete;
  auto operator=(const Gemm&) -> Gemm& = delete;
  ~Gemm();
  void Run(Context& context, const float* a, const float* b, const float* c, float* y,
           std::int64_t m);

 private:
  void Plan(Context& context, std::int64_t m, const float* bias);
  std::int64_t n_, k_;
  bool trans_a_, trans_b_;
  float alpha_, beta_;
  Act act_;
  BiasShape bias_;
  bool use_lt_ = false;
  // The cublasLt plan for the last m (the batch changes rarely).
  std::int64_t planned_m_ = -1;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t layout_a_ = nullptr, layout_b_ = nullptr, layout_d_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
  std::size_t algo_workspace_ = 0;
  bool have_algo_ = false;
};

/// y[batch.., m, n] = a[batch.., m, k] b[batch.., k, n] (b shared when
/// b_batch_stride is 0): strided-batched cuBLAS.
void MatMul(Context& context, const float* a, const float* b, float* y, std::int64_t batches,
            std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t b_batch_stride);

/// A 2-D convolution's geometry (1-D convolutions have height 1).
struct ConvShape {
  std::int64_t in_channels = 0, out_channels = 0, group = 1;
  std::int64_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, dilation_h = 1, dilation_w = 1;
  std::int64_t pad_bottom = 0, pad_right = 0;
};

/// ONNX Conv through cuDNN: descriptors built once per batch size, the
/// algorithm measured (cudnnFindConvolutionForwardAlgorithm) once per
/// power-of-two bucket of batch sizes;
/// bias + ReLU fused with cudnnConvolutionBiasActivationForward, other
/// epilogues as a kernel after the convolution. `bias` (nullptr: none) must
/// be given to every Run when `has_bias`. cuDNN pads both sides alike, so an
/// asymmetrically padded input is first copied, padded, into a scratch buffer.
class Conv {
 public:
  Conv(const ConvShape& shape, bool has_bias, Act act);
  Conv(const Conv&) = delete;
  auto operator=(const Conv&) -> Conv& = delete;
  ~Conv();
  void Run(Context& context, const float* x, const float* weight, const float* bias, float* y,
           std::int64_t batch);

 private:
  struct Plan {
    cudnnTensorDescriptor_t x = nullptr, y = nullptr;
    cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    std::size_t workspace = 0;
  };
  auto PlanFor(Context& context, std::int64_t batch) -> Plan&;
  /// Sets the input and output descriptors for `batch`; checks cuDNN's output size.
  void Describe(cudnnTensorDescriptor_t x, cudnnTensorDescriptor_t y, std::int64_t batch) const;
  auto FindAlgorithm(Context& context, std::int64_t batch) -> cudnnConvolutionFwdAlgo_t;
  ConvShape shape_;
  bool has_bias_;
  Act act_;
  bool explicit_pad_ = false;
  DeviceBuffer padded_;
  bool fused_ = false;
  cudnnFilterDescriptor_t filter_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;
  cudnnTensorDescriptor_t bias_desc_ = nullptr;
  cudnnActivationDescriptor_t relu_ = nullptr;
  std::map<std::int64_t, Plan> plans_;
  // The algorithm per power-of-two bucket of batch sizes.
  std::map<std::int64_t, cudnnConvolutionFwdAlgo_t> algorithms_;
};

/// A pooling window (k::PoolParams without the batch).
struct PoolShape {
  std::int64_t channels = 0;
  std::int64_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  bool count_include_pad = false;
};

/// ONNX MaxPool / AveragePool: cuDNN when the window is one cuDNN computes
/// (symmetric pads, no dilation, its output size matches), else a direct kernel.
class Pool {
 public:
  Pool(const PoolShape& shape, bool max);
  Pool(const Pool&) = delete;
  auto operator=(const Pool&) -> Pool& = delete;
  ~Pool();
  void Run(Context& context, const float* x, float* y, std::int64_t batch);

 private:
  PoolShape shape_;
  bool max_;
  bool cudnn_ = false;
  cudnnPoolingDescriptor_t pool_ = nullptr;
  cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr;
  std::int64_t planned_batch_ = -1;
};

/// Broadcast shapes of up to Dims::kMaxRank axes, as strides.
struct Broadcast {
  int rank = 0;
  std::int64_t out[Dims::kMaxRank] = {};
  std::int64_t a_stride[Dims::kMaxRank] = {};
  std::int64_t b_stride[Dims::kMaxRank] = {};
};
/// The strides that broadcast `a` and `b` (numpy rules) onto `y`.
auto MakeBroadcast(const Dims& a, const Dims& b, const Dims& y) -> Broadcast;

enum class BinaryOp : int { kAdd = 0, kSub, kMul, kDiv };

// The kernels (kernels.cu). Sizes are element counts; all run on the context's stream.
/// y = act(a op b) with broadcasting.
void Binary(Context& context, BinaryOp op, const float* a, const float* b, float* y,
            const Broadcast& shape, Act act);
/// y = act(x) elementwise (y may be x).
void Activate(Context& context, const float* x, float* y, std::int64_t count, Act act);
/// y[o, c, i] = act(y[o, c, i] + bias[c]) in place: bias per channel over `inner` cells.
void BiasActivate(Context& context, float* y, const float* bias, std::int64_t outer,
                  std::int64_t channels, std::int64_t inner, Act act);
/// y = act(alpha * y + beta * c) in place over an [m, n] result, c broadcast by `shape`.
void GemmEpilogue(Context& context, float* y, const float* c, std::int64_t m, std::int64_t n,
                  float alpha, float beta, BiasShape shape, Act act);
/// y[rows] = mean over `cells` of x[rows, cells].
void GlobalAveragePool(Context& context, const float* x, float* y, std::int64_t rows,
                       std::int64_t cells);
/// Inference BatchNormalization over [n, c, inner], then act.
void BatchNorm(Context& context, const float* x, const float* scale, const float* bias,
               const float* mean, const float* var, float epsilon, float* y, std::int64_t n,
               std::int64_t c, std::int64_t inner, Act act);
/// Softmax over the middle axis of (outer, axis, inner).
void Softmax(Context& context, const float* x, float* y, std::int64_t outer, std::int64_t axis,
             std::int64_t inner);
/// TopK over the middle axis of (outer, axis, inner), sorted, ties to the lower index.
void TopK(Context& context, const float* x, std::int64_t outer, std::int64_t axis,
          std::int64_t inner, std::int64_t k, bool largest, float* values, std::int64_t* indices);
/// ArgMax over the middle axis of (outer, axis, inner).
void ArgMax(Context& context, const float* x, std::int64_t outer, std::int64_t axis,
            std::int64_t inner, bool select_last_index, std::int64_t* y);
/// y = x transposed by `perm` (x's shape `dims`).
void Transpose(Context& context, const float* x, const Dims& dims, const Dims& perm, float* y);
/// y = x zero-padded: [planes, h, w] -> [planes, top + h + bottom, left + w + right].
void Pad2D(Context& context, const float* x, float* y, std::int64_t planes, std::int64_t h,
           std::int64_t w, std::int64_t top, std::int64_t left, std::int64_t bottom,
           std::int64_t right);
/// Direct pooling (any pads, dilations) over [batch, channels, h, w].
void PoolDirect(Context& context, const float* x, float* y, std::int64_t batch,
                const PoolShape& shape, bool max);

/// A model's float32 weights on the device: one allocation, uploaded once
/// (through pinned memory) when the model is created.
class DeviceWeights {
 public:
  /// Adds a tensor to upload; returns its offset in bytes (256-byte aligned).
  auto Add(const float* host, std::int64_t count) -> std::size_t;
  /// Uploads everything added and waits for it.
  void Upload(Context& context);
  auto At(std::size_t offset) const -> const float* {
    return reinterpret_cast<const float*>(buffer_.As<unsigned char>() + offset);
  }

 private:
  struct Pending {
    const float* host;
    std::int64_t count;
    std::size_t offset;
  };
  std::size_t bytes_ = 0;
  std::vector<Pending> pending_;
  DeviceBuffer buffer_;
};

}  // namespace ferry_rt::gpu

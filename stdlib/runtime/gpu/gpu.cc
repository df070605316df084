// The host side of the GPU runtime (gpu.h): error checks, buffers, the
// per-model Context, and the cuBLAS / cublasLt / cuDNN wrappers.
#include "runtime/gpu/gpu.h"

#include <cstring>
#include <string>
#include <utility>

namespace ferry_rt::gpu {

void Check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw Error(std::string("CUDA: ") + what + ": " + cudaGetErrorName(status) + " (" +
                cudaGetErrorString(status) + ")");
  }
}

void Check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw Error(std::string("cuBLAS: ") + what + ": " + cublasGetStatusName(status) + " (" +
                cublasGetStatusString(status) + ")");
  }
}

void Check(cudnnStatus_t status, const char* what) {
  if (status != CUDNN_STATUS_SUCCESS) {
    throw Error(std::string("cuDNN: ") + what + ": " + cudnnGetErrorString(status));
  }
}

void RequireDevice() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    throw Error(std::string("no CUDA device: this bundle was compiled for target gpu and needs an "
                            "NVIDIA GPU with its driver (cudaGetDeviceCount: ") +
                cudaGetErrorName(status) + ": " + cudaGetErrorString(status) + ")");
  }
  if (count == 0) {
    throw Error(
        "no CUDA device: this bundle was compiled for target gpu and needs an NVIDIA GPU "
        "(cudaGetDeviceCount: 0 devices)");
  }
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

auto DeviceBuffer::operator=(DeviceBuffer&& other) noexcept -> DeviceBuffer& {
  std::swap(data_, other.data_);
  std::swap(bytes_, other.bytes_);
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (data_ != nullptr) cudaFree(data_);
}

void DeviceBuffer::Reserve(std::size_t bytes) {
  if (bytes <= bytes_ && data_ != nullptr) return;
  if (data_ != nullptr) cudaFree(data_);
  data_ = nullptr;
  bytes_ = 0;
  Check(cudaMalloc(&data_, bytes == 0 ? 1 : bytes), "cudaMalloc");
  bytes_ = bytes;
  // Zeros, not whatever the allocator hands out: a library reading a buffer it
  // then scales by 0 (cuDNN's z with alpha2 = 0) never sees a NaN bit pattern.
  Check(cudaMemset(data_, 0, bytes == 0 ? 1 : bytes), "cudaMemset");
}

PinnedBuffer::PinnedBuffer(PinnedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

auto PinnedBuffer::operator=(PinnedBuffer&& other) noexcept -> PinnedBuffer& {
  std::swap(data_, other.data_);
  std::swap(bytes_, other.bytes_);
  return *this;
}

PinnedBuffer::~PinnedBuffer() {
  if (data_ != nullptr) cudaFreeHost(data_);
}

void PinnedBuffer::Reserve(std::size_t bytes) {
  if (bytes <= bytes_ && data_ != nullptr) return;
  if (data_ != nullptr) cudaFreeHost(data_);
  data_ = nullptr;
  bytes_ = 0;
  Check(cudaMallocHost(&data_, bytes == 0 ? 1 : bytes), "cudaMallocHost");
  bytes_ = bytes;
}

Context::Context() {
  Check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  Check(cublasCreate(&blas_), "cublasCreate");
  Check(cublasSetStream(blas_, stream_), "cublasSetStream");
  // Full float32: no TF32 tensor cores behind the caller's back.
  Check(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  Check(cublasLtCreate(&lt_), "cublasLtCreate");
  Check(cudnnCreate(&dnn_), "cudnnCreate");
  Check(cudnnSetStream(dnn_, stream_), "cudnnSetStream");
}

Context::~Context() {
  if (dnn_ != nullptr) cudnnDestroy(dnn_);
  if (lt_ != nullptr) cublasLtDestroy(lt_);
  if (blas_ != nullptr) cublasDestroy(blas_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

auto Context::Workspace(std::size_t bytes) -> void* {
  if (bytes > workspace_.bytes()) {
    // The stream may still use the old workspace.
    Synchronize();
    workspace_.Reserve(bytes);
  }
  return workspace_.As<void>();
}

void Context::Synchronize() {
  Check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  Check(cudaGetLastError(), "a kernel");
}

void Context::Upload(void* device, const void* host, std::size_t bytes) {
  if (bytes == 0) return;
  Check(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream_), "upload");
}

void Context::Download(void* host, const void* device, std::size_t bytes) {
  if (bytes == 0) return;
  Check(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream_), "download");
}

void Context::CopyOnDevice(void* to, const void* from, std::size_t bytes) {
  if (bytes == 0 || to == from) return;
  Check(cudaMemcpyAsync(to, from, bytes, cudaMemcpyDeviceToDevice, stream_), "copy");
}

// ---- GEMM -------------------------------------------------------------------

namespace {

// The most scratch a cublasLt algorithm may ask for.
constexpr std::size_t kLtWorkspace = std::size_t{32} << 20;

}  // namespace

Gemm::Gemm(std::int64_t n, std::int64_t k, bool trans_a, bool trans_b, float alpha, float beta,
           Act act, BiasShape bias)
    : n_(n),
      k_(k),
      trans_a_(trans_a),
      trans_b_(trans_b),
      alpha_(alpha),
      beta_(beta),
      act_(act),
      bias_(bias) {
  const bool epilogue_fits = act.kind == ActKind::kNone || act.kind == ActKind::kRelu;
  const bool bias_fits = bias == BiasShape::kNone || (bias == BiasShape::kRow && beta == 1.0F);
  use_lt_ = epilogue_fits && bias_fits;
}

Gemm::~Gemm() {
  if (layout_d_ != nullptr) cublasLtMatrixLayoutDestroy(layout_d_);
  if (layout_b_ != nullptr) cublasLtMatrixLayoutDestroy(layout_b_);
  if (layout_a_ != nullptr) cublasLtMatrixLayoutDestroy(layout_a_);
  if (desc_ != nullptr) cublasLtMatmulDescDestroy(desc_);
}

// Row-major y[m, n] = op(a) op(b) is column-major y^T[n, m] = op(b)^T op(a)^T:
// cuBLAS's "A" is our b and its "B" our a, and a column bias of y^T (cublasLt's
// BIAS epilogue) is a row bias of y.
void Gemm::Plan(Context& context, std::int64_t m, const float* bias) {
  if (planned_m_ == m) return;
  if (layout_d_ != nullptr) cublasLtMatrixLayoutDestroy(layout_d_);
  if (layout_b_ != nullptr) cublasLtMatrixLayoutDestroy(layout_b_);
  if (layout_a_ != nullptr) cublasLtMatrixLayoutDestroy(layout_a_);
  if (desc_ != nullptr) cublasLtMatmulDescDestroy(desc_);
  layout_a_ = layout_b_ = layout_d_ = nullptr;
  desc_ = nullptr;
  have_algo_ = false;
  planned_m_ = m;
  Check(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul descriptor");
  const cublasOperation_t op_b = trans_b_ ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a_ ? CUBLAS_OP_T : CUBLAS_OP_N;
  Check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &op_b, sizeof(op_b)),
        "TRANSA");
  Check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &op_a, sizeof(op_a)),
        "TRANSB");
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  if (bias_ == BiasShape::kRow) {
    epilogue = act_.kind == ActKind::kRelu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  } else if (act_.kind == ActKind::kRelu) {
    epilogue = CUBLASLT_EPILOGUE_RELU;
  }
  Check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                       sizeof(epilogue)),
        "EPILOGUE");
  if (bias_ == BiasShape::kRow) {
    // Set before the heuristic query too: algorithms may depend on its alignment.
    Check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                         sizeof(bias)),
          "BIAS_POINTER");
  }
  const auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
  if (trans_b_) {
    Check(cublasLtMatrixLayoutCreate(&layout_a_, CUDA_R_32F, u(k_), u(n_), k_), "layout b");
  } else {
    Check(cublasLtMatrixLayoutCreate(&layout_a_, CUDA_R_32F, u(n_), u(k_), n_), "layout b");
  }
  if (trans_a_) {
    Check(cublasLtMatrixLayoutCreate(&layout_b_, CUDA_R_32F, u(m), u(k_), m), "layout a");
  } else {
    Check(cublasLtMatrixLayoutCreate(&layout_b_, CUDA_R_32F, u(k_), u(m), k_), "layout a");
  }
  Check(cublasLtMatrixLayoutCreate(&layout_d_, CUDA_R_32F, u(n_), u(m), n_), "layout y");
  cublasLtMatmulPreference_t preference = nullptr;
  Check(cublasLtMatmulPreferenceCreate(&preference), "matmul preference");
  const std::size_t most = kLtWorkspace;
  cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &most,
                                       sizeof(most));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status =
      cublasLtMatmulAlgoGetHeuristic(context.lt(), desc_, layout_a_, layout_b_, layout_d_,
                                     layout_d_, preference, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  if (status == CUBLAS_STATUS_SUCCESS && found > 0) {
    algo_ = result.algo;
    algo_workspace_ = result.workspaceSize;
    have_algo_ = true;
  }
}

void Gemm::Run(Context& context, const float* a, const float* b, const float* c, float* y,
               std::int64_t m) {
  if (m == 0 || n_ == 0) return;
  if (use_lt_) {
    Plan(context, m, c);
    if (have_algo_) {
      if (bias_ == BiasShape::kRow) {
        Check(
            cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &c, sizeof(c)),
            "BIAS_POINTER");
      }
      const float zero = 0.0F;
      void* workspace = context.Workspace(algo_workspace_);
      Check(cublasLtMatmul(context.lt(), desc_, &alpha_, b, layout_a_, a, layout_b_, &zero, y,
                           layout_d_, y, layout_d_, &algo_, workspace, algo_workspace_,
                           context.stream()),
            "cublasLtMatmul");
      return;
    }
  }
  const float zero = 0.0F;
  const float one = 1.0F;
  const bool fold_alpha = bias_ == BiasShape::kNone || beta_ == 0.0F;
  const int m32 = static_cast<int>(m);
  const int n32 = static_cast<int>(n_);
  const int k32 = static_cast<int>(k_);
  Check(
      cublasSgemm(context.blas(), trans_b_ ? CUBLAS_OP_T : CUBLAS_OP_N,
                  trans_a_ ? CUBLAS_OP_T : CUBLAS_OP_N, n32, m32, k32, fold_alpha ? &alpha_ : &one,
                  b, trans_b_ ? k32 : n32, a, trans_a_ ? m32 : k32, &zero, y, n32),
      "cublasSgemm");
  if (!fold_alpha || act_.kind != ActKind::kNone) {
    GemmEpilogue(context, y, fold_alpha ? nullptr : c, m, n_, fold_alpha ? 1.0F : alpha_,
                 fold_alpha ? 0.0F : beta_, fold_alpha ? BiasShape::kNone : bias_, act_);
  }
}

void MatMul(Context& context, const float* a, const float* b, float* y, std::int64_t batches,
            std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t b_batch_stride) {
  if (batches == 0 || m == 0 || n == 0) return;
  const float zero = 0.0F;
  const float one = 1.0F;
  const int m32 = static_cast<int>(m);
  const int n32 = static_cast<int>(n);
  const int k32 = static_cast<int>(k);
  Check(cublasSgemmStridedBatched(context.blas(), CUBLAS_OP_N, CUBLAS_OP_N, n32, m32, k32, &one, b,
                                  n32, b_batch_stride, a, k32, m * k, &zero, y, n32, m * n,
                                  static_cast<int>(batches)),
        "cublasSgemmStridedBatched");
}

// ---- Convolution ------------------------------------------------------------

namespace {

auto Int(std::int64_t value) -> int { return static_cast<int>(value); }

}  // namespace

Conv::Conv(const ConvShape& shape, bool has_bias, Act act)
    : shape_(shape), has_bias_(has_bias), act_(act) {
  explicit_pad_ = shape.pad_top != shape.pad_bottom || shape.pad_left != shape.pad_right;
  const std::int64_t pad_h = explicit_pad_ ? 0 : shape.pad_top;
  const std::int64_t pad_w = explicit_pad_ ? 0 : shape.pad_left;
  Check(cudnnCreateFilterDescriptor(&filter_), "filter descriptor");
  Check(cudnnSetFilter4dDescriptor(filter_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                   Int(shape.out_channels), Int(shape.in_channels / shape.group),
                                   Int(shape.kernel_h), Int(shape.kernel_w)),
        "cudnnSetFilter4dDescriptor");
  Check(cudnnCreateConvolutionDescriptor(&conv_), "convolution descriptor");
  Check(cudnnSetConvolution2dDescriptor(conv_, Int(pad_h), Int(pad_w), Int(shape.stride_h),
                                        Int(shape.stride_w), Int(shape.dilation_h),
                                        Int(shape.dilation_w), CUDNN_CROSS_CORRELATION,
                                        CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
  Check(cudnnSetConvolutionGroupCount(conv_, Int(shape.group)), "cudnnSetConvolutionGroupCount");
  Check(cudnnSetConvolutionMathType(conv_, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
  if (has_bias_) {
    Check(cudnnCreateTensorDescriptor(&bias_desc_), "bias descriptor");
    Check(cudnnSetTensor4dDescriptor(bias_desc_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1,
                                     Int(shape.out_channels), 1, 1),
          "cudnnSetTensor4dDescriptor");
  }
  // cuDNN fuses bias + ReLU into the convolution (not sigmoid, tanh or clip).
  fused_ = has_bias_ && act.kind == ActKind::kRelu;
  if (fused_) {
    Check(cudnnCreateActivationDescriptor(&relu_), "activation descriptor");
    Check(cudnnSetActivationDescriptor(relu_, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
          "cudnnSetActivationDescriptor");
  }
}

Conv::~Conv() {
  for (auto& [batch, plan] : plans_) {
    if (plan.x != nullptr) cudnnDestroyTensorDescriptor(plan.x);
    if (plan.y != nullptr) cudnnDestroyTensorDescriptor(plan.y);
  }
  if (relu_ != nullptr) cudnnDestroyActivationDescriptor(relu_);
  if (bias_desc_ != nullptr) cudnnDestroyTensorDescriptor(bias_desc_);
  if (conv_ != nullptr) cudnnDestroyConvolutionDescriptor(conv_);
  if (filter_ != nullptr) cudnnDestroyFilterDescriptor(filter_);
}

void Conv::Describe(cudnnTensorDescriptor_t x, cudnnTensorDescriptor_t y,
                    std::int64_t batch) const {
  const std::int64_t in_h = shape_.in_h + (explicit_pad_ ? shape_.pad_top + shape_.pad_bottom : 0);
  const std::int64_t in_w = shape_.in_w + (explicit_pad_ ? shape_.pad_left + shape_.pad_right : 0);
  Check(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, Int(batch),
                                   Int(shape_.in_channels), Int(in_h), Int(in_w)),
        "cudnnSetTensor4dDescriptor");
  int dims[4] = {};
  Check(cudnnGetConvolution2dForwardOutputDim(conv_, x, filter_, &dims[0], &dims[1], &dims[2],
                                              &dims[3]),
        "cudnnGetConvolution2dForwardOutputDim");
  if (dims[1] != shape_.out_channels || dims[2] != shape_.out_h || dims[3] != shape_.out_w) {
    throw Error("cuDNN: a convolution's output is " + std::to_string(dims[1]) + "x" +
                std::to_string(dims[2]) + "x" + std::to_string(dims[3]) + ", the model's " +
                std::to_string(shape_.out_channels) + "x" + std::to_string(shape_.out_h) + "x" +
                std::to_string(shape_.out_w));
  }
  Check(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, Int(batch),
                                   Int(shape_.out_channels), Int(shape_.out_h), Int(shape_.out_w)),
        "cudnnSetTensor4dDescriptor");
}

// The fastest algorithm at `batch` that keeps float32 math (no TF32 tensor-core results).
auto Conv::FindAlgorithm(Context& context, std::int64_t batch) -> cudnnConvolutionFwdAlgo_t {
  cudnnTensorDescriptor_t x = nullptr;
  cudnnTensorDescriptor_t y = nullptr;
  cudnnConvolutionFwdAlgoPerf_t results[CUDNN_CONVOLUTION_FWD_ALGO_COUNT] = {};
  int returned = 0;
  try {
    Check(cudnnCreateTensorDescriptor(&x), "input descriptor");
    Check(cudnnCreateTensorDescriptor(&y), "output descriptor");
    Describe(x, y, batch);
    context.Synchronize();
    Check(
        cudnnFindConvolutionForwardAlgorithm(context.dnn(), x, filter_, conv_, y,
                                             CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, results),
        "cudnnFindConvolutionForwardAlgorithm");
  } catch (...) {
    if (y != nullptr) cudnnDestroyTensorDescriptor(y);
    if (x != nullptr) cudnnDestroyTensorDescriptor(x);
    throw;
  }
  cudnnDestroyTensorDescriptor(y);
  cudnnDestroyTensorDescriptor(x);
  for (int i = 0; i < returned; ++i) {
    const cudnnConvolutionFwdAlgoPerf_t& result = results[i];
    if (result.status == CUDNN_STATUS_SUCCESS && result.mathType != CUDNN_TENSOR_OP_MATH &&
        result.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) {
      return result.algo;
    }
  }
  return CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
}

auto Conv::PlanFor(Context& context, std::int64_t batch) -> Plan& {
  auto found = plans_.find(batch);
  if (found != plans_.end()) return found->second;
  Plan& plan = plans_[batch];
  Check(cudnnCreateTensorDescriptor(&plan.x), "input descriptor");
  Check(cudnnCreateTensorDescriptor(&plan.y), "output descriptor");
  Describe(plan.x, plan.y, batch);
  // Measured once per power-of-two bucket of batch sizes: a dynamically
  // batched server sees many sizes, and each measurement costs milliseconds.
  std::int64_t bucket = 1;
  while (bucket < batch) bucket *= 2;
  auto algorithm = algorithms_.find(bucket);
  if (algorithm == algorithms_.end()) {
    algorithm = algorithms_.emplace(bucket, FindAlgorithm(context, bucket)).first;
  }
  plan.algo = algorithm->second;
  if (cudnnGetConvolutionForwardWorkspaceSize(context.dnn(), plan.x, filter_, conv_, plan.y,
                                              plan.algo, &plan.workspace) != CUDNN_STATUS_SUCCESS) {
    plan.algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    Check(cudnnGetConvolutionForwardWorkspaceSize(context.dnn(), plan.x, filter_, conv_, plan.y,
                                                  plan.algo, &plan.workspace),
          "cudnnGetConvolutionForwardWorkspaceSize");
  }
  return plan;
}

void Conv::Run(Context& context, const float* x, const float* weight, const float* bias, float* y,
               std::int64_t batch) {
  if (batch == 0) return;
  Plan& plan = PlanFor(context, batch);
  if (explicit_pad_) {
    const std::int64_t h = shape_.in_h + shape_.pad_top + shape_.pad_bottom;
    const std::int64_t w = shape_.in_w + shape_.pad_left + shape_.pad_right;
    const std::int64_t planes = batch * shape_.in_channels;
    padded_.Reserve(static_cast<std::size_t>(planes * h * w) * sizeof(float));
    Pad2D(context, x, padded_.As<float>(), planes, shape_.in_h, shape_.in_w, shape_.pad_top,
          shape_.pad_left, shape_.pad_bottom, shape_.pad_right);
    x = padded_.As<float>();
  }
  void* workspace = context.Workspace(plan.workspace);
  const float one = 1.0F;
  const float zero = 0.0F;
  if (fused_ && bias != nullptr) {
    const cudnnStatus_t status = cudnnConvolutionBiasActivationForward(
        context.dnn(), &one, plan.x, x, filter_, weight, conv_, plan.algo, workspace,
        plan.workspace, &zero, plan.y, y, bias_desc_, bias, relu_, plan.y, y);
    if (status == CUDNN_STATUS_SUCCESS) return;
    // No fused form for this algorithm or shape (NOT_SUPPORTED, or a parameter the
    // fused call rejects): convolution, then the epilogue kernel, from now on.
    fused_ = false;
  }
  Check(cudnnConvolutionForward(context.dnn(), &one, plan.x, x, filter_, weight, conv_, plan.algo,
                                workspace, plan.workspace, &zero, plan.y, y),
        "cudnnConvolutionForward");
  if (bias != nullptr || act_.kind != ActKind::kNone) {
    BiasActivate(context, y, bias, batch, shape_.out_channels, shape_.out_h * shape_.out_w, act_);
  }
}

// ---- Pooling ----------------------------------------------------------------

Pool::Pool(const PoolShape& shape, bool max) : shape_(shape), max_(max) {
  const bool symmetric = shape.pad_top == shape.pad_bottom && shape.pad_left == shape.pad_right;
  const bool plain = shape.dilation_h == 1 && shape.dilation_w == 1;
  if (!symmetric || !plain) return;
  Check(cudnnCreatePoolingDescriptor(&pool_), "pooling descriptor");
  const cudnnPoolingMode_t mode = max ? CUDNN_POOLING_MAX
                                  : shape.count_include_pad
                                      ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                      : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  Check(cudnnSetPooling2dDescriptor(pool_, mode, CUDNN_NOT_PROPAGATE_NAN, Int(shape.kernel_h),
                                    Int(shape.kernel_w), Int(shape.pad_top), Int(shape.pad_left),
                                    Int(shape.stride_h), Int(shape.stride_w)),
        "cudnnSetPooling2dDescriptor");
  Check(cudnnCreateTensorDescriptor(&x_), "input descriptor");
  Check(cudnnCreateTensorDescriptor(&y_), "output descriptor");
  Check(cudnnSetTensor4dDescriptor(x_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, Int(shape.channels),
                                   Int(shape.in_h), Int(shape.in_w)),
        "cudnnSetTensor4dDescriptor");
  int dims[4] = {};
  Check(cudnnGetPooling2dForwardOutputDim(pool_, x_, &dims[0], &dims[1], &dims[2], &dims[3]),
        "cudnnGetPooling2dForwardOutputDim");
  // ceil_mode windows: cuDNN rounds down, so the direct kernel takes them.
  cudnn_ = dims[2] == shape.out_h && dims[3] == shape.out_w;
}

Pool::~Pool() {
  if (y_ != nullptr) cudnnDestroyTensorDescriptor(y_);
  if (x_ != nullptr) cudnnDestroyTensorDescriptor(x_);
  if (pool_ != nullptr) cudnnDestroyPoolingDescriptor(pool_);
}

void Pool::Run(Context& context, const float* x, float* y, std::int64_t batch) {
  if (batch == 0) return;
  if (!cudnn_) {
    PoolDirect(context, x, y, batch, shape_, max_);
    return;
  }
  if (planned_batch_ != batch) {
    Check(cudnnSetTensor4dDescriptor(x_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, Int(batch),
                                     Int(shape_.channels), Int(shape_.in_h), Int(shape_.in_w)),
          "cudnnSetTensor4dDescriptor");
    Check(cudnnSetTensor4dDescriptor(y_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, Int(batch),
                                     Int(shape_.channels), Int(shape_.out_h), Int(shape_.out_w)),
          "cudnnSetTensor4dDescriptor");
    planned_batch_ = batch;
  }
  const float one = 1.0F;
  const float zero = 0.0F;
  Check(cudnnPoolingForward(context.dnn(), pool_, &one, x_, x, &zero, y_, y),
        "cudnnPoolingForward");
}

// ---- Broadcasting and weights -----------------------------------------------

auto MakeBroadcast(const Dims& a, const Dims& b, const Dims& y) -> Broadcast {
  Broadcast out;
  out.rank = y.rank;
  std::int64_t a_step = 1;
  std::int64_t b_step = 1;
  for (int d = y.rank - 1; d >= 0; --d) {
    out.out[d] = y[d];
    const int ad = d - (y.rank - a.rank);
    const int bd = d - (y.rank - b.rank);
    const std::int64_t a_size = ad >= 0 ? a[ad] : 1;
    const std::int64_t b_size = bd >= 0 ? b[bd] : 1;
    out.a_stride[d] = a_size == 1 ? 0 : a_step;
    out.b_stride[d] = b_size == 1 ? 0 : b_step;
    a_step *= a_size;
    b_step *= b_size;
  }
  return out;
}

auto DeviceWeights::Add(const float* host, std::int64_t count) -> std::size_t {
  const std::size_t offset = bytes_;
  pending_.push_back(Pending{host, count, offset});
  bytes_ += (static_cast<std::size_t>(count) * sizeof(float) + 255) / 256 * 256;
  return offset;
}

void DeviceWeights::Upload(Context& context) {
  buffer_.Reserve(bytes_);
  // One pinned staging copy, so the upload is a single fast DMA.
  PinnedBuffer staging;
  staging.Reserve(bytes_);
  auto* bytes = static_cast<unsigned char*>(staging.data());
  for (const Pending& tensor : pending_) {
    const std::size_t size = static_cast<std::size_t>(tensor.count) * sizeof(float);
    if (size != 0) std::memcpy(bytes + tensor.offset, tensor.host, size);
  }
  context.Upload(buffer_.As<void>(), staging.data(), bytes_);
  context.Synchronize();
  pending_.clear();
}

}  // namespace ferry_rt::gpu

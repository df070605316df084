// The GPU runtime's own kernels (gpu.h): what cuBLAS and cuDNN do not do, or
// do not do fused. Grid-stride loops over 64-bit element counts; every launch
// goes to the model's stream and is checked with cudaGetLastError.
#include <cfloat>

#include "runtime/gpu/gpu.h"

namespace ferry_rt::gpu {
namespace {

constexpr int kThreads = 256;

auto Blocks(std::int64_t count) -> unsigned {
  const std::int64_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

void Launched(const char* kernel) { Check(cudaGetLastError(), kernel); }

__device__ __forceinline__ auto Apply(float v, Act act) -> float {
  switch (act.kind) {
    case ActKind::kNone:
      return v;
    case ActKind::kRelu:
      return v > 0.0F ? v : 0.0F;
    case ActKind::kSigmoid:
      return 1.0F / (1.0F + expf(-v));
    case ActKind::kTanh:
      return tanhf(v);
    case ActKind::kClip:
      return fminf(fmaxf(v, act.min), act.max);
  }
  return v;
}

__global__ void BinaryKernel(BinaryOp op, const float* a, const float* b, float* y, Broadcast shape,
                             std::int64_t count, Act act) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t rest = i;
    std::int64_t ai = 0;
    std::int64_t bi = 0;
    for (int d = shape.rank - 1; d >= 0; --d) {
      const std::int64_t at = rest % shape.out[d];
      rest /= shape.out[d];
      ai += at * shape.a_stride[d];
      bi += at * shape.b_stride[d];
    }
    const float l = a[ai];
    const float r = b[bi];
    float v = 0.0F;
    switch (op) {
      case BinaryOp::kAdd:
        v = l + r;
        break;
      case BinaryOp::kSub:
        v = l - r;
        break;
      case BinaryOp::kMul:
        v = l * r;
        break;
      case BinaryOp::kDiv:
        v = l / r;
        break;
    }
    y[i] = Apply(v, act);
  }
}

__global__ void ActivateKernel(const float* x, float* y, std::int64_t count, Act act) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    y[i] = Apply(x[i], act);
  }
}

__global__ void BiasActivateKernel(float* y, const float* bias, std::int64_t channels,
                                   std::int64_t inner, std::int64_t count, Act act) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float b = bias == nullptr ? 0.0F : bias[(i / inner) % channels];
    y[i] = Apply(y[i] + b, act);
  }
}

__global__ void GemmEpilogueKernel(float* y, const float* c, std::int64_t m, std::int64_t n,
                                   float alpha, float beta, BiasShape shape, Act act) {
  const std::int64_t count = m * n;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    float bias = 0.0F;
    switch (shape) {
      case BiasShape::kNone:
        break;
      case BiasShape::kScalar:
        bias = c[0];
        break;
      case BiasShape::kRow:
        bias = c[i % n];
        break;
      case BiasShape::kColumn:
        bias = c[i / n];
        break;
      case BiasShape::kFull:
        bias = c[i];
        break;
    }
    y[i] = Apply(alpha * y[i] + beta * bias, act);
  }
}

// One block per row; a shared-memory tree reduction.
__global__ void RowMeanKernel(const float* x, float* y, std::int64_t cells) {
  __shared__ float partial[kThreads];
  const float* row = x + blockIdx.x * cells;
  float sum = 0.0F;
  for (std::int64_t i = threadIdx.x; i < cells; i += blockDim.x) sum += row[i];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int step = blockDim.x / 2; step > 0; step /= 2) {
    if (threadIdx.x < step) partial[threadIdx.x] += partial[threadIdx.x + step];
    __syncthreads();
  }
  if (threadIdx.x == 0) y[blockIdx.x] = partial[0] / static_cast<float>(cells);
}

__global__ void BatchNormKernel(const float* x, const float* scale, const float* bias,
                                const float* mean, const float* var, float epsilon, float* y,
                                std::int64_t c, std::int64_t inner, std::int64_t count, Act act) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t ch = (i / inner) % c;
    const float v = (x[i] - mean[ch]) / sqrtf(var[ch] + epsilon) * scale[ch] + bias[ch];
    y[i] = Apply(v, act);
  }
}

// One block per (outer, inner) row of the axis: max, then sum of exp, then scale.
__global__ void SoftmaxKernel(const float* x, float* y, std::int64_t axis, std::int64_t inner) {
  __shared__ float partial[kThreads];
  const std::int64_t o = blockIdx.x / inner;
  const std::int64_t in = blockIdx.x % inner;
  const float* row = x + o * axis * inner + in;
  float* out = y + o * axis * inner + in;
  float best = -FLT_MAX;
  for (std::int64_t a = threadIdx.x; a < axis; a += blockDim.x) best = fmaxf(best, row[a * inner]);
  partial[threadIdx.x] = best;
  __syncthreads();
  for (int step = blockDim.x / 2; step > 0; step /= 2) {
    if (threadIdx.x < step) {
      partial[threadIdx.x] = fmaxf(partial[threadIdx.x], partial[threadIdx.x + step]);
    }
    __syncthreads();
  }
  best = partial[0];
  __syncthreads();
  float sum = 0.0F;
  for (std::int64_t a = threadIdx.x; a < axis; a += blockDim.x) {
    const float e = expf(row[a * inner] - best);
    out[a * inner] = e;
    sum += e;
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int step = blockDim.x / 2; step > 0; step /= 2) {
    if (threadIdx.x < step) partial[threadIdx.x] += partial[threadIdx.x + step];
    __syncthreads();
  }
  const float scale = 1.0F / partial[0];
  for (std::int64_t a = threadIdx.x; a < axis; a += blockDim.x) out[a * inner] *= scale;
}

// Whether (v, i) goes before (w, j): the larger (or smaller) value, ties to the lower index.
__device__ __forceinline__ auto Before(float v, std::int64_t i, float w, std::int64_t j,
                                       bool largest) -> bool {
  if (j < 0) return i >= 0;
  if (i < 0) return false;
  if (v != w) return largest ? v > w : v < w;
  return i < j;
}

// One block per row: k rounds of a block-wide arg-best over the values not taken yet
// (a value is taken when it goes before the previous round's pick).
__global__ void TopKKernel(const float* x, std::int64_t axis, std::int64_t inner, std::int64_t k,
                           bool largest, float* values, std::int64_t* indices) {
  __shared__ float best_value[kThreads];
  __shared__ std::int64_t best_index[kThreads];
  const std::int64_t o = blockIdx.x / inner;
  const std::int64_t in = blockIdx.x % inner;
  const float* row = x + o * axis * inner + in;
  float last_value = 0.0F;
  std::int64_t last_index = -1;
  for (std::int64_t round = 0; round < k; ++round) {
    float value = 0.0F;
    std::int64_t index = -1;
    for (std::int64_t a = threadIdx.x; a < axis; a += blockDim.x) {
      const float v = row[a * inner];
      // Only those after the last pick in the order are still candidates.
      if (last_index >= 0 && !Before(last_value, last_index, v, a, largest)) continue;
      if (Before(v, a, value, index, largest)) {
        value = v;
        index = a;
      }
    }
    best_value[threadIdx.x] = value;
    best_index[threadIdx.x] = index;
    __syncthreads();
    for (int step = blockDim.x / 2; step > 0; step /= 2) {
      if (threadIdx.x < step &&
          Before(best_value[threadIdx.x + step], best_index[threadIdx.x + step],
                 best_value[threadIdx.x], best_index[threadIdx.x], largest)) {
        best_value[threadIdx.x] = best_value[threadIdx.x + step];
        best_index[threadIdx.x] = best_index[threadIdx.x + step];
      }
      __syncthreads();
    }
    last_value = best_value[0];
    last_index = best_index[0];
    if (threadIdx.x == 0) {
      values[(o * k + round) * inner + in] = last_value;
      indices[(o * k + round) * inner + in] = last_index;
    }
    __syncthreads();
  }
}

__global__ void ArgMaxKernel(const float* x, std::int64_t outer, std::int64_t axis,
                             std::int64_t inner, bool select_last_index, std::int64_t* y) {
  const std::int64_t rows = outer * inner;
  for (std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float* in = x + (r / inner) * axis * inner + r % inner;
    std::int64_t best = 0;
    for (std::int64_t a = 1; a < axis; ++a) {
      const float v = in[a * inner];
      const float b = in[best * inner];
      if (v > b || (select_last_index && v == b)) best = a;
    }
    y[r] = best;
  }
}

struct TransposeShape {
  int rank = 0;
  std::int64_t out[Dims::kMaxRank] = {};
  std::int64_t in_stride[Dims::kMaxRank] = {};  // of the input axis each output axis reads
};

__global__ void TransposeKernel(const float* x, float* y, TransposeShape shape,
                                std::int64_t count) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t rest = i;
    std::int64_t from = 0;
    for (int d = shape.rank - 1; d >= 0; --d) {
      from += (rest % shape.out[d]) * shape.in_stride[d];
      rest /= shape.out[d];
    }
    y[i] = x[from];
  }
}

__global__ void PoolKernel(const float* x, float* y, std::int64_t planes, PoolShape s, bool max) {
  const std::int64_t count = planes * s.out_h * s.out_w;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t ox = i % s.out_w;
    const std::int64_t oy = (i / s.out_w) % s.out_h;
    const std::int64_t plane = i / (s.out_w * s.out_h);
    const float* in = x + plane * s.in_h * s.in_w;
    float acc = max ? -INFINITY : 0.0F;
    std::int64_t cells = 0;
    for (std::int64_t ky = 0; ky < s.kernel_h; ++ky) {
      const std::int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
      for (std::int64_t kx = 0; kx < s.kernel_w; ++kx) {
        const std::int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
        const bool inside = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w;
        // Padded cells the window covers (ceil_mode's overhang is not padding).
        const bool padded = iy >= -s.pad_top && iy < s.in_h + s.pad_bottom && ix >= -s.pad_left &&
                            ix < s.in_w + s.pad_right;
        if (inside) {
          const float v = in[iy * s.in_w + ix];
          acc = max ? fmaxf(acc, v) : acc + v;
          ++cells;
        } else if (padded && s.count_include_pad) {
          ++cells;
        }
      }
    }
    y[i] = max ? acc : (cells == 0 ? 0.0F : acc / static_cast<float>(cells));
  }
}

__global__ void Pad2DKernel(const float* x, float* y, std::int64_t h, std::int64_t w,
                            std::int64_t top, std::int64_t left, std::int64_t out_h,
                            std::int64_t out_w, std::int64_t count) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t ox = i % out_w;
    const std::int64_t oy = (i / out_w) % out_h;
    const std::int64_t plane = i / (out_w * out_h);
    const std::int64_t iy = oy - top;
    const std::int64_t ix = ox - left;
    const bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
    y[i] = inside ? x[(plane * h + iy) * w + ix] : 0.0F;
  }
}

}  // namespace

void Pad2D(Context& context, const float* x, float* y, std::int64_t planes, std::int64_t h,
           std::int64_t w, std::int64_t top, std::int64_t left, std::int64_t bottom,
           std::int64_t right) {
  const std::int64_t out_h = top + h + bottom;
  const std::int64_t out_w = left + w + right;
  const std::int64_t count = planes * out_h * out_w;
  if (count == 0) return;
  Pad2DKernel<<<Blocks(count), kThreads, 0, context.stream()>>>(x, y, h, w, top, left, out_h, out_w,
                                                                count);
  Launched("Pad2D");
}

void Binary(Context& context, BinaryOp op, const float* a, const float* b, float* y,
            const Broadcast& shape, Act act) {
  std::int64_t count = 1;
  for (int d = 0; d < shape.rank; ++d) count *= shape.out[d];
  if (count == 0) return;
  BinaryKernel<<<Blocks(count), kThreads, 0, context.stream()>>>(op, a, b, y, shape, count, act);
  Launched("Binary");
}

void Activate(Context& context, const float* x, float* y, std::int64_t count, Act act) {
  if (count == 0) return;
  ActivateKernel<<<Blocks(count), kThreads, 0, context.stream()>>>(x, y, count, act);
  Launched("Activate");
}

void BiasActivate(Context& context, float* y, const float* bias, std::int64_t outer,
                  std::int64_t channels, std::int64_t inner, Act act) {
  const std::int64_t count = outer * channels * inner;
  if (count == 0) return;
  BiasActivateKernel<<<Blocks(count), kThreads, 0, context.stream()>>>(y, bias, channels, inner,
                                                                       count, act);
  Launched("BiasActivate");
}

void GemmEpilogue(Context& context, float* y, const float* c, std::int64_t m, std::int64_t n,
                  float alpha, float beta, BiasShape shape, Act act) {
  if (m * n == 0) return;
  GemmEpilogueKernel<<<Blocks(m * n), kThreads, 0, context.stream()>>>(y, c, m, n, alpha, beta,
                                                                       shape, act);
  Launched("GemmEpilogue");
}

void GlobalAveragePool(Context& context, const float* x, float* y, std::int64_t rows,
                       std::int64_t cells) {
  if (rows == 0) return;
  RowMeanKernel<<<static_cast<unsigned>(rows), kThreads, 0, context.stream()>>>(x, y, cells);
  Launched("GlobalAveragePool");
}

void BatchNorm(Context& context, const float* x, const float* scale, const float* bias,
               const float* mean, const float* var, float epsilon, float* y, std::int64_t n,
               std::int64_t c, std::int64_t inner, Act act) {
  const std::int64_t count = n * c * inner;
  if (count == 0) return;
  BatchNormKernel<<<Blocks(count), kThreads, 0, context.stream()>>>(
      x, scale, bias, mean, var, epsilon, y, c, inner, count, act);
  Launched("BatchNorm");
}

void Softmax(Context& context, const float* x, float* y, std::int64_t outer, std::int64_t axis,
             std::int64_t inner) {
  if (outer * inner == 0 || axis == 0) return;
  SoftmaxKernel<<<static_cast<unsigned>(outer * inner), kThreads, 0, context.stream()>>>(x, y, axis,
                                                                                         inner);
  Launched("Softmax");
}

void TopK(Context& context, const float* x, std::int64_t outer, std::int64_t axis,
          std::int64_t inner, std::int64_t k, bool largest, float* values, std::int64_t* indices) {
  if (outer * inner == 0 || k == 0) return;
  TopKKernel<<<static_cast<unsigned>(outer * inner), kThreads, 0, context.stream()>>>(
      x, axis, inner, k, largest, values, indices);
  Launched("TopK");
}

void ArgMax(Context& context, const float* x, std::int64_t outer, std::int64_t axis,
            std::int64_t inner, bool select_last_index, std::int64_t* y) {
  if (outer * inner == 0) return;
  ArgMaxKernel<<<Blocks(outer * inner), kThreads, 0, context.stream()>>>(x, outer, axis, inner,
                                                                         select_last_index, y);
  Launched("ArgMax");
}

void Transpose(Context& context, const float* x, const Dims& dims, const Dims& perm, float* y) {
  TransposeShape shape;
  shape.rank = dims.rank;
  std::int64_t strides[Dims::kMaxRank] = {};
  std::int64_t step = 1;
  for (int d = dims.rank - 1; d >= 0; --d) {
    strides[d] = step;
    step *= dims[d];
  }
  for (int d = 0; d < dims.rank; ++d) {
    shape.out[d] = dims[static_cast<int>(perm[d])];
    shape.in_stride[d] = strides[perm[d]];
  }
  const std::int64_t count = dims.count();
  if (count == 0) return;
  TransposeKernel<<<Blocks(count), kThreads, 0, context.stream()>>>(x, y, shape, count);
  Launched("Transpose");
}

void PoolDirect(Context& context, const float* x, float* y, std::int64_t batch,
                const PoolShape& shape, bool max) {
  const std::int64_t planes = batch * shape.channels;
  const std::int64_t count = planes * shape.out_h * shape.out_w;
  if (count == 0) return;
  PoolKernel<<<Blocks(count), kThreads, 0, context.stream()>>>(x, y, planes, shape, max);
  Launched("Pool");
}

}  // namespace ferry_rt::gpu

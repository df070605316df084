// Elementwise kernels with numpy broadcasting, and data movement.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "runtime/kernels_tensor.h"

namespace ferry_rt::k {
namespace {

// Walks y's elements in order with the matching offsets into A and B, whose
// shapes are right-aligned against y's and broadcast where a dim is 1. The
// innermost dimension is handed to `op` whole as a (count, a_step, b_step) run.
template <typename T, typename Op>
void Broadcast(const T* a, const Dims& a_shape, const T* b, const Dims& b_shape, T* y,
               const Dims& y_shape, Op op) {
  int rank = y_shape.rank;
  std::int64_t total = y_shape.count();
  if (total == 0) return;
  if (a_shape.count() == total && b_shape.count() == total) {
    for (std::int64_t i = 0; i < total; ++i) y[i] = op(a[i], b[i]);
    return;
  }
  if (b_shape.count() == 1) {
    T bv = b[0];
    if (a_shape.count() == total) {
      for (std::int64_t i = 0; i < total; ++i) y[i] = op(a[i], bv);
      return;
    }
  }
  if (rank == 0) {
    y[0] = op(a[0], b[0]);
    return;
  }
  // Strides of A and B per y dimension (0 where broadcast).
  std::int64_t a_stride[Dims::kMaxRank] = {};
  std::int64_t b_stride[Dims::kMaxRank] = {};
  std::int64_t stride = 1;
  for (int d = a_shape.rank - 1; d >= 0; --d) {
    a_stride[d + rank - a_shape.rank] = a_shape[d] == 1 ? 0 : stride;
    stride *= a_shape[d];
  }
  stride = 1;
  for (int d = b_shape.rank - 1; d >= 0; --d) {
    b_stride[d + rank - b_shape.rank] = b_shape[d] == 1 ? 0 : stride;
    stride *= b_shape[d];
  }
  std::int64_t inner = y_shape[rank - 1];
  std::int64_t as = a_stride[rank - 1];
  std::int64_t bs = b_stride[rank - 1];
  std::int64_t index[Dims::kMaxRank] = {};
  for (std::int64_t row = 0; row < total / inner; ++row) {
    std::int64_t a_off = 0, b_off = 0;
    for (int d = 0; d < rank - 1; ++d) {
      a_off += index[d] * a_stride[d];
      b_off += index[d] * b_stride[d];
    }
    T* out = y + row * inner;
    const T* ap = a + a_off;
    const T* bp = b + b_off;
    if (as == 1 && bs == 1) {
      for (std::int64_t i = 0; i < inner; ++i) out[i] = op(ap[i], bp[i]);
    } else if (as == 1 && bs == 0) {
      T bv = bp[0];
      for (std::int64_t i = 0; i < inner; ++i) out[i] = op(ap[i], bv);
    } else if (as == 0 && bs == 1) {
      T av = ap[0];
      for (std::int64_t i = 0; i < inner; ++i) out[i] = op(av, bp[i]);
    } else {
      for (std::int64_t i = 0; i < inner; ++i) out[i] = op(ap[i * as], bp[i * bs]);
    }
    for (int d = rank - 2; d >= 0; --d) {
      if (++index[d] < y_shape[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

#define FERRY_BINARY(NAME, T, EXPR)                                                 \
  void NAME(const T* a, const Dims& a_shape, const T* b, const Dims& b_shape, T* y, \
            const Dims& y_shape) {                                                  \
    Broadcast(a, a_shape, b, b_shape, y, y_shape, [](T l, T r) { return EXPR; });   \
  }
FERRY_BINARY(Add, float, l + r)
FERRY_BINARY(Sub, float, l - r)
FERRY_BINARY(Mul, float, l* r)
FERRY_BINARY(Div, float, l / r)
FERRY_BINARY(Add, std::int64_t, l + r)
FERRY_BINARY(Sub, std::int64_t, l - r)
FERRY_BINARY(Mul, std::int64_t, l* r)
FERRY_BINARY(Div, std::int64_t, r == 0 ? std::int64_t{0} : l / r)
#undef FERRY_BINARY

void Relu(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : 0;
}
void Sigmoid(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = 1.0F / (1.0F + std::exp(-x[i]));
}
void Tanh(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
void Exp(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
void Log(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]);
}
void Sqrt(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
}
void Neg(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = -x[i];
}
void Abs(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::fabs(x[i]);
}
void Clip(const float* x, float* y, std::int64_t n, float lo, float hi) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(x[i], lo), hi);
}

void Copy(const float* x, float* y, std::int64_t n) {
  if (x != y && n > 0) std::memmove(y, x, static_cast<std::size_t>(n) * sizeof(float));
}
void Copy(const std::int64_t* x, std::int64_t* y, std::int64_t n) {
  if (x != y && n > 0) std::memmove(y, x, static_cast<std::size_t>(n) * sizeof(std::int64_t));
}
void Copy(const std::string* x, std::string* y, std::int64_t n) {
  if (x != y) std::copy(x, x + n, y);
}
void Cast(const float* x, std::int64_t* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = static_cast<std::int64_t>(x[i]);
}
void Cast(const std::int64_t* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i]);
}

namespace {

template <typename T>
void TransposeImpl(const T* x, const Dims& x_shape, const Dims& perm, T* y) {
  int rank = x_shape.rank;
  std::int64_t x_stride[Dims::kMaxRank];
  std::int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    x_stride[d] = stride;
    stride *= x_shape[d];
  }
  std::int64_t total = x_shape.count();
  if (rank == 0 || total == 0) {
    if (total == 1) y[0] = x[0];
    return;
  }
  // y's dims and the matching source strides.
  std::int64_t y_dim[Dims::kMaxRank];
  std::int64_t src_stride[Dims::kMaxRank];
  for (int d = 0; d < rank; ++d) {
    y_dim[d] = x_shape[static_cast<int>(perm[d])];
    src_stride[d] = x_stride[perm[d]];
  }
  std::int64_t index[Dims::kMaxRank] = {};
  std::int64_t inner = y_dim[rank - 1];
  std::int64_t inner_stride = src_stride[rank - 1];
  for (std::int64_t row = 0; row < total / inner; ++row) {
    std::int64_t off = 0;
    for (int d = 0; d < rank - 1; ++d) off += index[d] * src_stride[d];
    T* out = y + row * inner;
    for (std::int64_t i = 0; i < inner; ++i) out[i] = x[off + i * inner_stride];
    for (int d = rank - 2; d >= 0; --d) {
      if (++index[d] < y_dim[d]) break;
      index[d] = 0;
    }
  }
}

template <typename T>
void ConcatImpl(const T* const* inputs, const std::int64_t* axis_sizes, int count,
                std::int64_t outer, std::int64_t inner, T* y) {
  for (std::int64_t o = 0; o < outer; ++o) {
    for (int i = 0; i < count; ++i) {
      std::int64_t run = axis_sizes[i] * inner;
      std::copy(inputs[i] + o * run, inputs[i] + (o + 1) * run, y);
      y += run;
    }
  }
}

}  // namespace

void Transpose(const float* x, const Dims& x_shape, const Dims& perm, float* y) {
  TransposeImpl(x, x_shape, perm, y);
}
void Transpose(const std::int64_t* x, const Dims& x_shape, const Dims& perm, std::int64_t* y) {
  TransposeImpl(x, x_shape, perm, y);
}
void Concat(const float* const* inputs, const std::int64_t* axis_sizes, int count,
            std::int64_t outer, std::int64_t inner, float* y) {
  ConcatImpl(inputs, axis_sizes, count, outer, inner, y);
}
void Concat(const std::int64_t* const* inputs, const std::int64_t* axis_sizes, int count,
            std::int64_t outer, std::int64_t inner, std::int64_t* y) {
  ConcatImpl(inputs, axis_sizes, count, outer, inner, y);
}

void Gather(const float* data, std::int64_t rows, std::int64_t inner, const std::int64_t* indices,
            std::int64_t count, float* y) {
  for (std::int64_t i = 0; i < count; ++i) {
    std::int64_t index = indices[i] < 0 ? indices[i] + rows : indices[i];
    if (index < 0 || index >= rows) {
      throw Error("Gather: index " + std::to_string(indices[i]) + " is outside [" +
                  std::to_string(-rows) + ", " + std::to_string(rows - 1) + "]");
    }
    std::copy(data + index * inner, data + (index + 1) * inner, y + i * inner);
  }
}

void TopK(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner, std::int64_t k,
          bool largest, float* values, std::int64_t* indices) {
  thread_local std::vector<std::int64_t> order;
  order.resize(static_cast<std::size_t>(axis));
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      const float* in = x + o * axis * inner + i;
      std::iota(order.begin(), order.end(), 0);
      auto before = [in, inner, largest](std::int64_t l, std::int64_t r) {
        float lv = in[l * inner];
        float rv = in[r * inner];
        if (lv != rv) return largest ? lv > rv : lv < rv;
        return l < r;
      };
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      for (std::int64_t j = 0; j < k; ++j) {
        values[(o * k + j) * inner + i] = in[order[j] * inner];
        indices[(o * k + j) * inner + i] = order[j];
      }
    }
  }
}

namespace {

template <bool kMax>
void ArgImpl(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner,
             bool select_last_index, std::int64_t* y) {
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      const float* in = x + o * axis * inner + i;
      std::int64_t best = 0;
      for (std::int64_t a = 1; a < axis; ++a) {
        float v = in[a * inner];
        float b = in[best * inner];
        bool better = kMax ? v > b : v < b;
        if (better || (select_last_index && v == b)) best = a;
      }
      y[o * inner + i] = best;
    }
  }
}

template <typename Step>
void ReduceImpl(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner, float* y,
                float start, Step step) {
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      float acc = start;
      for (std::int64_t a = 0; a < axis; ++a) acc = step(acc, x[(o * axis + a) * inner + i]);
      y[o * inner + i] = acc;
    }
  }
}

}  // namespace

void ArgMax(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner,
            bool select_last_index, std::int64_t* y) {
  ArgImpl<true>(x, outer, axis, inner, select_last_index, y);
}
void ArgMin(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner,
            bool select_last_index, std::int64_t* y) {
  ArgImpl<false>(x, outer, axis, inner, select_last_index, y);
}
void ReduceSum(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner,
               float* y) {
  ReduceImpl(x, outer, axis, inner, y, 0.0F, [](float a, float v) { return a + v; });
}
void ReduceMean(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner,
                float* y) {
  ReduceSum(x, outer, axis, inner, y);
  for (std::int64_t i = 0; i < outer * inner; ++i) y[i] /= static_cast<float>(axis);
}
void ReduceMax(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner,
               float* y) {
  ReduceImpl(x, outer, axis, inner, y, -INFINITY, [](float a, float v) { return std::max(a, v); });
}

}  // namespace ferry_rt::k

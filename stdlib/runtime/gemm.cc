// Gemm / MatMul: a blocked GEMM over B packed into 16-column panels, with an
// AVX-512 or AVX2/FMA micro-kernel (MR rows x 16 to 48 columns of
// accumulators) and a portable one the compiler vectorises. Constant B
// (weights) is packed once.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <tuple>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#include "runtime/gemm_core.h"
#include "runtime/weights.h"

namespace ferry_rt::k::detail {
namespace {

constexpr std::int64_t kBlockK = 256;
constexpr std::int64_t kBlockM = 240;
// Panels of B per chunk that every row block streams past (RowBlock's widths divide it).
#if defined(__AVX512F__)
constexpr std::int64_t kChunk = 6;
#else
constexpr std::int64_t kChunk = 3;
#endif

inline auto Activate(float v, const Activation& act) -> float {
  switch (act.kind) {
    case ActivationKind::kNone:
      return v;
    case ActivationKind::kRelu:
      return v > 0 ? v : 0;
    case ActivationKind::kSigmoid:
      return 1.0F / (1.0F + std::exp(-v));
    case ActivationKind::kTanh:
      return std::tanh(v);
    case ActivationKind::kClip:
      return std::min(std::max(v, act.min), act.max);
  }
  return v;
}

inline auto BiasAt(const Epilogue& e, std::int64_t row, std::int64_t col, std::int64_t n) -> float {
  if (e.bias == nullptr) return 0;
  switch (e.bias_shape) {
    case BiasShape::kScalar:
      return e.bias[0];
    case BiasShape::kAuto:
    case BiasShape::kRow:
      return e.bias[col];
    case BiasShape::kColumn:
      return e.bias[row];
    case BiasShape::kFull:
      return e.bias[row * n + col];
  }
  return 0;
}

// Stores an MR x W tile of accumulated sums into C: the first K block writes,
// later ones add; the last applies the epilogue. Branches sit outside the
// column loops so that those vectorise.
template <int MR, int W>
inline void StoreTile(float (&acc)[MR][W], float* c, std::int64_t ldc, std::int64_t row0,
                      std::int64_t col0, std::int64_t cols, std::int64_t n, bool first, bool last,
                      const Epilogue& e) {
  const std::int64_t width = std::min<std::int64_t>(cols, W);
  for (int r = 0; r < MR; ++r) {
    float* out = c + (row0 + r) * ldc + col0;
    float* t = acc[r];
    if (!first) {
      for (std::int64_t j = 0; j < width; ++j) t[j] += out[j];
    }
    if (last) {
      if (e.alpha != 1.0F) {
        for (std::int64_t j = 0; j < width; ++j) t[j] *= e.alpha;
      }
      if (e.bias != nullptr) {
        switch (e.bias_shape) {
          case BiasShape::kAuto:
          case BiasShape::kRow: {
            const float* b = e.bias + col0;
            for (std::int64_t j = 0; j < width; ++j) t[j] += e.beta * b[j];
            break;
          }
          case BiasShape::kFull: {
            const float* b = e.bias + (row0 + r) * n + col0;
            for (std::int64_t j = 0; j < width; ++j) t[j] += e.beta * b[j];
            break;
          }
          case BiasShape::kColumn:
          case BiasShape::kScalar: {
            float b = e.beta * e.bias[e.bias_shape == BiasShape::kColumn ? row0 + r : 0];
            for (std::int64_t j = 0; j < width; ++j) t[j] += b;
            break;
          }
        }
      }
      switch (e.act.kind) {
        case ActivationKind::kNone:
          break;
        case ActivationKind::kRelu:
          for (std::int64_t j = 0; j < width; ++j) t[j] = t[j] > 0.0F ? t[j] : 0.0F;
          break;
        case ActivationKind::kClip:
          for (std::int64_t j = 0; j < width; ++j)
            t[j] = std::min(std::max(t[j], e.act.min), e.act.max);
          break;
        default:
          for (std::int64_t j = 0; j < width; ++j) t[j] = Activate(t[j], e.act);
          break;
      }
    }
    for (std::int64_t j = 0; j < width; ++j) out[j] = t[j];
  }
}

// One tile: MR rows of A (k0..k0+kc) times NP panels of packed B.
template <int MR, int NP>
void MicroKernel(const float* a, std::int64_t lda, const float* const* panels, std::int64_t kc,
                 float (&acc)[MR][NP * kPanel]) {
#if defined(__AVX512F__)
  // One 16-float panel row per register.
  __m512 sum[MR][NP];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int q = 0; q < NP; ++q) sum[r][q] = _mm512_setzero_ps();
  }
  for (std::int64_t p = 0; p < kc; ++p) {
    __m512 bv[NP];
#pragma GCC unroll 16
    for (int q = 0; q < NP; ++q) bv[q] = _mm512_loadu_ps(panels[q] + p * kPanel);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      __m512 av = _mm512_set1_ps(a[r * lda + p]);
#pragma GCC unroll 16
      for (int q = 0; q < NP; ++q) sum[r][q] = _mm512_fmadd_ps(av, bv[q], sum[r][q]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int q = 0; q < NP; ++q) _mm512_storeu_ps(&acc[r][q * kPanel], sum[r][q]);
  }
#elif defined(__AVX2__) && defined(__FMA__)
  // The accumulators must live in registers: every loop over them is unrolled
  // (GCC keeps an indexed __m256 array in memory otherwise, even at -O2).
  __m256 sum[MR][NP * 2];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int v = 0; v < NP * 2; ++v) sum[r][v] = _mm256_setzero_ps();
  }
  for (std::int64_t p = 0; p < kc; ++p) {
    __m256 bv[NP * 2];
#pragma GCC unroll 16
    for (int q = 0; q < NP; ++q) {
      bv[2 * q] = _mm256_load_ps(panels[q] + p * kPanel);
      bv[2 * q + 1] = _mm256_load_ps(panels[q] + p * kPanel + 8);
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      __m256 av = _mm256_broadcast_ss(a + r * lda + p);
#pragma GCC unroll 16
      for (int v = 0; v < NP * 2; ++v) sum[r][v] = _mm256_fmadd_ps(av, bv[v], sum[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int v = 0; v < NP * 2; ++v) _mm256_storeu_ps(&acc[r][v * 8], sum[r][v]);
  }
#else
  for (int r = 0; r < MR; ++r) {
    for (int j = 0; j < NP * kPanel; ++j) acc[r][j] = 0;
  }
  for (std::int64_t p = 0; p < kc; ++p) {
    for (int r = 0; r < MR; ++r) {
      float av = a[r * lda + p];
      for (int q = 0; q < NP; ++q) {
        const float* bp = panels[q] + p * kPanel;
        for (int j = 0; j < kPanel; ++j) acc[r][q * kPanel + j] += av * bp[j];
      }
    }
  }
#endif
}

template <int MR, int NP>
void Tile(const float* a, std::int64_t lda, const float* packed_b, float* c, std::int64_t ldc,
          std::int64_t row0, std::int64_t panel0, std::int64_t k, std::int64_t k0, std::int64_t kc,
          std::int64_t n, bool first, bool last, const Epilogue& e) {
  const float* panels[NP];
  for (int q = 0; q < NP; ++q) panels[q] = packed_b + (panel0 + q) * k * kPanel + k0 * kPanel;
  alignas(64) float acc[MR][NP * kPanel];
  MicroKernel<MR, NP>(a + row0 * lda + k0, lda, panels, kc, acc);
  std::int64_t col0 = panel0 * kPanel;
  StoreTile<MR, NP * kPanel>(acc, c, ldc, row0, col0, std::min(NP * kPanel, n - col0), n, first,
                             last, e);
}

// Panels [q0, q1) for MR rows.
template <int MR>
void RowBlock(const float* a, std::int64_t lda, const float* packed_b, float* c, std::int64_t ldc,
              std::int64_t row0, std::int64_t q0, std::int64_t q1, std::int64_t k, std::int64_t k0,
              std::int64_t kc, std::int64_t n, bool first, bool last, const Epilogue& e) {
  std::int64_t q = q0;
#if defined(__AVX512F__)
  // A panel is one register here: three (or, for 5-6 rows, two) panels keep
  // 9-12 accumulators in flight.
  constexpr int kWide = MR <= 4 ? 3 : 2;
#else
  // With few rows, three panels at a time keep enough independent
  // accumulators in flight to hide the FMA latency.
  constexpr int kWide = MR <= 2 ? 3 : (MR <= 4 ? 2 : 1);
#endif
  if constexpr (kWide > 1) {
    for (; q + kWide <= q1; q += kWide) {
      Tile<MR, kWide>(a, lda, packed_b, c, ldc, row0, q, k, k0, kc, n, first, last, e);
    }
  }
  for (; q < q1; ++q) {
    Tile<MR, 1>(a, lda, packed_b, c, ldc, row0, q, k, k0, kc, n, first, last, e);
  }
}

// Rows [row0, row0 + rows) for one K block. Panels are the outer loop: a
// chunk of kChunk panels (K block x 16 kChunk floats) stays in L1/L2 while every row
// block streams past it, so B is read from memory once per K block.
void Rows(const float* a, std::int64_t lda, const float* packed_b, float* c, std::int64_t ldc,
          std::int64_t row0, std::int64_t rows, std::int64_t k, std::int64_t k0, std::int64_t kc,
          std::int64_t n, bool first, bool last, const Epilogue& e) {
  std::int64_t panels = (n + kPanel - 1) / kPanel;
  std::int64_t end = row0 + rows;
  for (std::int64_t q0 = 0; q0 < panels; q0 += kChunk) {
    std::int64_t q1 = std::min(panels, q0 + kChunk);
    std::int64_t r = row0;
    for (; r + 6 <= end; r += 6) {
      RowBlock<6>(a, lda, packed_b, c, ldc, r, q0, q1, k, k0, kc, n, first, last, e);
    }
    switch (end - r) {
      case 5:
        RowBlock<5>(a, lda, packed_b, c, ldc, r, q0, q1, k, k0, kc, n, first, last, e);
        break;
      case 4:
        RowBlock<4>(a, lda, packed_b, c, ldc, r, q0, q1, k, k0, kc, n, first, last, e);
        break;
      case 3:
        RowBlock<3>(a, lda, packed_b, c, ldc, r, q0, q1, k, k0, kc, n, first, last, e);
        break;
      case 2:
        RowBlock<2>(a, lda, packed_b, c, ldc, r, q0, q1, k, k0, kc, n, first, last, e);
        break;
      case 1:
        RowBlock<1>(a, lda, packed_b, c, ldc, r, q0, q1, k, k0, kc, n, first, last, e);
        break;
      default:
        break;
    }
  }
}

}  // namespace

void PackB(const float* b, std::int64_t k, std::int64_t n, bool trans, PackedB& out) {
  std::int64_t panels = (n + kPanel - 1) / kPanel;
  out.resize(static_cast<std::size_t>(panels * k * kPanel));
  float* packed = out.data();
  std::int64_t tail = n - (panels - 1) * kPanel;
  if (!trans) {
    // Eight panels at a time: each row of B is read 512 bytes at a stretch and
    // only eight write streams are open (one per panel: row-by-row over all
    // panels puts the writes k*64 bytes apart, in one cache set).
    for (std::int64_t q0 = 0; q0 < panels; q0 += 8) {
      std::int64_t q1 = std::min(panels, q0 + 8);
      for (std::int64_t p = 0; p < k; ++p) {
        const float* row = b + p * n;
        for (std::int64_t q = q0; q < q1; ++q) {
          float* dst = packed + (q * k + p) * kPanel;
          std::int64_t cols = q + 1 < panels ? kPanel : tail;
          for (std::int64_t j = 0; j < cols; ++j) dst[j] = row[q * kPanel + j];
          for (std::int64_t j = cols; j < kPanel; ++j) dst[j] = 0.0F;
        }
      }
    }
    return;
  }
  // B is N x K: each column of op(B) is a contiguous row of B.
  for (std::int64_t q = 0; q < panels; ++q) {
    float* panel = packed + q * k * kPanel;
    std::int64_t cols = q + 1 < panels ? kPanel : tail;
    for (std::int64_t j = 0; j < kPanel; ++j) {
      const float* src = b + (q * kPanel + j) * k;
      if (j >= cols) {
        for (std::int64_t p = 0; p < k; ++p) panel[p * kPanel + j] = 0.0F;
        continue;
      }
      for (std::int64_t p = 0; p < k; ++p) panel[p * kPanel + j] = src[p];
    }
  }
}

auto CachedPackedB(const float* b, std::int64_t k, std::int64_t n, bool trans) -> const float* {
  if (!IsWeightsMemory(b)) return nullptr;
  return CachedDerivedWeights(std::make_tuple(b, k, n, trans),
                              [&](PackedB& packed) { PackB(b, k, n, trans, packed); });
}

void GemmPacked(const float* a, std::int64_t lda, const float* packed_b, float* c, std::int64_t ldc,
                std::int64_t m, std::int64_t n, std::int64_t k, const Epilogue& epilogue) {
  if (k == 0) {
    static const float kZero[kPanel] = {};
    // An empty product: only the epilogue contributes.
    for (std::int64_t r = 0; r < m; ++r) {
      for (std::int64_t j = 0; j < n; ++j) {
        float v = epilogue.bias ? epilogue.beta * BiasAt(epilogue, r, j, n) : kZero[0];
        c[r * ldc + j] = Activate(v, epilogue.act);
      }
    }
    return;
  }
  for (std::int64_t m0 = 0; m0 < m; m0 += kBlockM) {
    std::int64_t rows = std::min(kBlockM, m - m0);
    for (std::int64_t k0 = 0; k0 < k; k0 += kBlockK) {
      std::int64_t kc = std::min(kBlockK, k - k0);
      Rows(a, lda, packed_b, c, ldc, m0, rows, k, k0, kc, n, k0 == 0, k0 + kc == k, epilogue);
    }
  }
}

auto Scratch(int slot, std::size_t count) -> float* {
  thread_local std::vector<float, AlignedAllocator<float>> buffers[4];
  auto& buffer = buffers[slot];
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

}  // namespace ferry_rt::k::detail

namespace ferry_rt::k {

void Gemm(const float* a, const float* b, const float* bias, float* y, std::int64_t m,
          std::int64_t n, std::int64_t k, bool trans_a, bool trans_b, float alpha, float beta,
          Activation act, BiasShape bias_shape) {
  using detail::PackedB;
  const float* packed = detail::CachedPackedB(b, k, n, trans_b);
  if (packed == nullptr) {
    thread_local PackedB scratch;
    detail::PackB(b, k, n, trans_b, scratch);
    packed = scratch.data();
  }
  const float* a_rows = a;
  if (trans_a) {
    float* t = detail::Scratch(0, static_cast<std::size_t>(m * k));
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t p = 0; p < k; ++p) t[i * k + p] = a[p * m + i];
    }
    a_rows = t;
  }
  detail::Epilogue e{alpha, beta, bias,
                     bias_shape == BiasShape::kAuto ? BiasShape::kRow : bias_shape, act};
  detail::GemmPacked(a_rows, k, packed, y, n, m, n, k, e);
}

void MatMul(const float* a, const Dims& a_shape, const float* b, const Dims& b_shape, float* y,
            const Dims& y_shape) {
  // numpy semantics: promote 1-D operands, then broadcast the batch dims.
  std::int64_t m = a_shape.rank >= 2 ? a_shape[a_shape.rank - 2] : 1;
  std::int64_t k = a_shape[a_shape.rank - 1];
  std::int64_t n = b_shape.rank >= 2 ? b_shape[b_shape.rank - 1] : 1;
  int a_batch_rank = std::max(0, a_shape.rank - 2);
  int b_batch_rank = std::max(0, b_shape.rank - 2);
  int batch_rank = std::max(a_batch_rank, b_batch_rank);
  std::int64_t batches = 1;
  for (int i = 0; i < batch_rank; ++i) batches *= y_shape[i];
  (void)y_shape;
  detail::Epilogue e;
  if (b_batch_rank == 0) {
    // One B for every batch: fold A's batch dims into M.
    const float* packed = detail::CachedPackedB(b, k, n, false);
    if (packed == nullptr) {
      thread_local detail::PackedB scratch;
      detail::PackB(b, k, n, false, scratch);
      packed = scratch.data();
    }
    detail::GemmPacked(a, k, packed, y, n, m * batches, n, k, e);
    return;
  }
  thread_local detail::PackedB scratch;
  for (std::int64_t index = 0; index < batches; ++index) {
    // The offsets of this batch index in A and B, broadcasting size-1 dims.
    std::int64_t a_off = 0, b_off = 0, rest = index, a_stride = 1, b_stride = 1;
    for (int d = batch_rank - 1; d >= 0; --d) {
      std::int64_t dim = y_shape[d];
      std::int64_t i = rest % dim;
      rest /= dim;
      int ad = d - (batch_rank - a_batch_rank);
      int bd = d - (batch_rank - b_batch_rank);
      if (ad >= 0) {
        std::int64_t size = a_shape[ad];
        a_off += (size == 1 ? 0 : i) * a_stride;
        a_stride *= size;
      }
      if (bd >= 0) {
        std::int64_t size = b_shape[bd];
        b_off += (size == 1 ? 0 : i) * b_stride;
        b_stride *= size;
      }
    }
    detail::PackB(b + b_off * k * n, k, n, false, scratch);
    detail::GemmPacked(a + a_off * m * k, k, scratch.data(), y + index * m * n, n, m, n, k, e);
  }
}

}  // namespace ferry_rt::k

// Convolution. 3x3 stride-1 convolutions (the bulk of a ResNet) use Winograd
// F(2x2, 3x3): 16 GEMMs over transformed weights (computed once per loaded
// weights file) and transformed 4x4 input tiles, 2.25x fewer multiplies. The
// rest is Conv as GEMM: the weights (out_channels x in_channels*kh*kw) times
// the input's patches, gathered straight into the packed-panel layout the GEMM
// core reads (im2col without a separate copy); 1x1 stride-1 convolutions pack
// the input as it is. Pools and BatchNormalization are direct loops.
#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "runtime/gemm_core.h"
#include "runtime/kernels_nn.h"
#include "runtime/weights.h"

namespace ferry_rt::k {
namespace {

using detail::kPanel;

// Packs the patches of one image's channel group into panels of 16 output
// positions: panel q, row (c, kh, kw), column j holds the input under
// kernel tap (kh, kw) of channel c for output position q*16+j (0 in padding).
// Panel by panel, so writes are sequential (row-by-row order writes one line
// per panel, k*64 bytes apart: the same cache set when k is a multiple of 64).
// A panel is split into runs of positions on one output row; with stride 1 a
// run reads consecutive inputs, clipped to the row with zeros outside.
void PackPatches(const float* x, const ConvParams& p, std::int64_t channels, float* packed) {
  std::int64_t n = p.out_h * p.out_w;
  std::int64_t panels = (n + kPanel - 1) / kPanel;
  struct Run {
    std::int64_t first, count, oh, ow;
  };
  for (std::int64_t q = 0; q < panels; ++q) {
    Run runs[kPanel];
    int run_count = 0;
    std::int64_t cols = std::min(kPanel, n - q * kPanel);
    for (std::int64_t j = 0; j < cols;) {
      std::int64_t pos = q * kPanel + j;
      std::int64_t oh = pos / p.out_w;
      std::int64_t ow = pos % p.out_w;
      std::int64_t count = std::min(cols - j, p.out_w - ow);
      runs[run_count++] = {j, count, oh, ow};
      j += count;
    }
    float* out = packed + q * channels * p.kernel_h * p.kernel_w * kPanel;
    for (std::int64_t c = 0; c < channels; ++c) {
      const float* plane = x + c * p.in_h * p.in_w;
      for (std::int64_t kh = 0; kh < p.kernel_h; ++kh) {
        for (std::int64_t kw = 0; kw < p.kernel_w; ++kw, out += kPanel) {
          for (std::int64_t j = cols; j < kPanel; ++j) out[j] = 0.0F;
          for (int r = 0; r < run_count; ++r) {
            const Run& run = runs[r];
            float* dst = out + run.first;
            std::int64_t ih = run.oh * p.stride_h - p.pad_top + kh * p.dilation_h;
            if (ih < 0 || ih >= p.in_h) {
              for (std::int64_t j = 0; j < run.count; ++j) dst[j] = 0.0F;
              continue;
            }
            const float* in = plane + ih * p.in_w;
            std::int64_t iw = run.ow * p.stride_w - p.pad_left + kw * p.dilation_w;
            if (p.stride_w == 1) {
              std::int64_t lo = std::clamp<std::int64_t>(-iw, 0, run.count);
              std::int64_t hi = std::clamp<std::int64_t>(p.in_w - iw, lo, run.count);
              for (std::int64_t j = 0; j < lo; ++j) dst[j] = 0.0F;
              for (std::int64_t j = lo; j < hi; ++j) dst[j] = in[iw + j];
              for (std::int64_t j = hi; j < run.count; ++j) dst[j] = 0.0F;
            } else if (p.stride_w == 2) {
              // The even columns of the stretch: padding, whole vectors, the rest.
              std::int64_t j = 0;
              for (; j < run.count && iw + 2 * j < 0; ++j) dst[j] = 0.0F;
#if defined(__AVX2__) && defined(__FMA__)
              for (; j + 8 <= run.count && iw + 2 * j + 16 <= p.in_w; j += 8) {
                const float* src = in + iw + 2 * j;
                // a0 a2 b0 b2 | a4 a6 b4 b6, then the 64-bit pairs in order.
                __m256 even = _mm256_shuffle_ps(_mm256_loadu_ps(src), _mm256_loadu_ps(src + 8),
                                                _MM_SHUFFLE(2, 0, 2, 0));
                even = _mm256_castpd_ps(
                    _mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0)));
                _mm256_storeu_ps(dst + j, even);
              }
#endif
              for (; j < run.count; ++j) {
                std::int64_t at = iw + 2 * j;
                dst[j] = at >= 0 && at < p.in_w ? in[at] : 0.0F;
              }
            } else {
              for (std::int64_t j = 0; j < run.count; ++j, iw += p.stride_w) {
                dst[j] = iw >= 0 && iw < p.in_w ? in[iw] : 0.0F;
              }
            }
          }
        }
      }
    }
  }
}

auto IsPointwise(const ConvParams& p) -> bool {
  return p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
         p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0;
}

// Winograd F(2x2, 3x3) for 3x3, stride 1, dilation 1, one group, with enough
// channels for the GEMMs to outweigh the transforms. 16 is not tuned: it pays
// from 64 channels (every ResNet layer, 2-3x), and is about even at 32 -> 64
// on 14x14 (bench/bundle/kernel_bench.cc).
auto UseWinograd(const ConvParams& p) -> bool {
  return p.kernel_h == 3 && p.kernel_w == 3 && p.stride_h == 1 && p.stride_w == 1 &&
         p.dilation_h == 1 && p.dilation_w == 1 && p.group == 1 && p.in_channels >= 16 &&
         p.out_channels >= 16 && p.out_h >= 2 && p.out_w >= 2;
}

// The 16 matrices U[xi] = (G g G^T)[xi] (out_channels x in_channels each,
// xi = 4 * row + column of the 4x4 transformed kernel) for weights w.
void WinogradWeights(const float* w, std::int64_t cout, std::int64_t cin, float* u) {
  std::int64_t plane = cout * cin;
  for (std::int64_t o = 0; o < cout; ++o) {
    for (std::int64_t i = 0; i < cin; ++i) {
      const float* g = w + (o * cin + i) * 9;
      float t[4][3];  // G g
      for (int c = 0; c < 3; ++c) {
        t[0][c] = g[c];
        t[1][c] = 0.5F * (g[c] + g[3 + c] + g[6 + c]);
        t[2][c] = 0.5F * (g[c] - g[3 + c] + g[6 + c]);
        t[3][c] = g[6 + c];
      }
      for (int r = 0; r < 4; ++r) {
        float row[4] = {t[r][0], 0.5F * (t[r][0] + t[r][1] + t[r][2]),
                        0.5F * (t[r][0] - t[r][1] + t[r][2]), t[r][2]};
        for (int c = 0; c < 4; ++c) u[(r * 4 + c) * plane + o * cin + i] = row[c];
      }
    }
  }
}

// The transformed weights of `w`: computed once per loaded weights file and
// kept by address (weights are immutable), or each call into `scratch` for
// weights that are not in a weights file.
auto CachedWinogradWeights(const float* w, std::int64_t cout, std::int64_t cin,
                           detail::PackedB& scratch) -> const float* {
  std::size_t count = static_cast<std::size_t>(16 * cout * cin);
  if (!IsWeightsMemory(w)) {
    scratch.resize(count);
    WinogradWeights(w, cout, cin, scratch.data());
    return scratch.data();
  }
  return detail::CachedDerivedWeights(std::make_tuple(w, cout, cin), [&](detail::PackedB& u) {
    u.resize(count);
    WinogradWeights(w, cout, cin, u.data());
  });
}

struct WinogradGeometry {
  std::int64_t tiles_h, tiles_w, tiles;
  std::int64_t half;  // tiles_w + 1: the even (or odd) columns of a padded input row
  std::int64_t rows;  // 2 * tiles_h + 2: the padded input rows
};

// The input of one image, padded (zeros outside the image; tile (th, tw)
// starts at input row 2*th - pad_top, column 2*tw - pad_left) and with each
// row split into its even and odd columns: channel c, row r is at
// out + (c * rows + r) * 2 * half, even columns first. Tile tw's columns are
// then even[tw], odd[tw], even[tw + 1], odd[tw + 1]: every transform step
// below reads consecutive floats.
void WinogradPad(const float* x, const ConvParams& p, const WinogradGeometry& g, float* out) {
  for (std::int64_t c = 0; c < p.in_channels; ++c) {
    const float* plane = x + c * p.in_h * p.in_w;
    for (std::int64_t r = 0; r < g.rows; ++r, out += 2 * g.half) {
      float* even = out;
      float* odd = out + g.half;
      std::int64_t ih = r - p.pad_top;
      if (ih < 0 || ih >= p.in_h) {
        std::fill(out, out + 2 * g.half, 0.0F);
        continue;
      }
      const float* in = plane + ih * p.in_w;
      for (std::int64_t j = 0; j < g.half; ++j) {
        std::int64_t iw = 2 * j - p.pad_left;
        even[j] = iw >= 0 && iw < p.in_w ? in[iw] : 0.0F;
        odd[j] = iw + 1 >= 0 && iw + 1 < p.in_w ? in[iw + 1] : 0.0F;
      }
    }
  }
}

// The transforms run over consecutive tiles a lane group at a time: eight
// floats in an AVX register where there is AVX2, then one float for the rest.
// Both lane types take + and - (GCC and Clang vector operators on __m256).
struct ScalarLane {
  using T = float;
  static constexpr std::int64_t kWidth = 1;
  static auto Load(const float* p) -> T { return *p; }
  static void Store(float* p, T v) { *p = v; }
};

#if defined(__AVX2__) && defined(__FMA__)
struct AvxLane {
  using T = __m256;
  static constexpr std::int64_t kWidth = 8;
  static auto Load(const float* p) -> T { return _mm256_loadu_ps(p); }
  static void Store(float* p, T v) { _mm256_storeu_ps(p, v); }
};

// Runs body.template operator()<Lane>(j) for j in [0, n): AVX lanes, then scalar.
template <typename Body>
inline void ForLanes(std::int64_t n, Body&& body) {
  std::int64_t j = 0;
  for (; j + 8 <= n; j += 8) body.template operator()<AvxLane>(j);
  for (; j < n; ++j) body.template operator()<ScalarLane>(j);
}
#else
template <typename Body>
inline void ForLanes(std::int64_t n, Body&& body) {
  for (std::int64_t j = 0; j < n; ++j) body.template operator()<ScalarLane>(j);
}
#endif

// V[xi] = (B^T d B)[xi] for the 4x4 input tiles d of tiles [t0, t1), written
// as 16 GEMM B operands in packed panels: V[xi] at v + xi * panels * cin * 16
// (panels = ceil((t1 - t0) / 16)), tile t0 + l in panel l / 16, column l % 16.
void WinogradInput(const float* padded, std::int64_t cin, const WinogradGeometry& g,
                   std::int64_t t0, std::int64_t t1, float* v, float* work) {
  const std::int64_t count = t1 - t0;
  const std::int64_t panels = (count + kPanel - 1) / kPanel;
  const std::int64_t xi_stride = panels * cin * kPanel;
  const std::int64_t half = g.half;
  const std::int64_t row = 2 * half;  // one padded row: even then odd columns
  float* e = work;                    // 4 x half: B^T over the rows, even columns
  float* o = e + 4 * half;            // 4 x half: odd columns
  std::int64_t used = count - (panels - 1) * kPanel;
  if (used < kPanel) {
    // The last panel's columns past the last tile stay zero.
    for (int xi = 0; xi < 16; ++xi) {
      float* last = v + xi * xi_stride + (panels - 1) * cin * kPanel;
      std::fill(last, last + cin * kPanel, 0.0F);
    }
  }
  for (std::int64_t c = 0; c < cin; ++c) {
    const float* channel = padded + c * g.rows * row;
    for (std::int64_t t = t0; t < t1;) {
      // A run of tiles on one tile row: B^T over its four input rows.
      std::int64_t th = t / g.tiles_w;
      std::int64_t tw0 = t % g.tiles_w;
      std::int64_t n = std::min(t1 - t, g.tiles_w - tw0);
      for (std::int64_t s = 0; s < 2; ++s) {
        const float* d0 = channel + 2 * th * row + s * half + tw0;
        float* r = s == 0 ? e : o;
        ForLanes(n + 1, [&]<typename L>(std::int64_t j) {
          auto a0 = L::Load(d0 + j), a1 = L::Load(d0 + row + j);
          auto a2 = L::Load(d0 + 2 * row + j), a3 = L::Load(d0 + 3 * row + j);
          L::Store(r + j, a0 - a2);
          L::Store(r + half + j, a1 + a2);
          L::Store(r + 2 * half + j, a2 - a1);
          L::Store(r + 3 * half + j, a1 - a3);
        });
      }
      // Then over the columns, straight into the panels, one stretch per panel.
      for (std::int64_t j = 0; j < n;) {
        std::int64_t local = t - t0 + j;
        std::int64_t q = local / kPanel;
        std::int64_t col = local % kPanel;
        std::int64_t stretch = std::min(n - j, kPanel - col);
        float* out = v + (q * cin + c) * kPanel + col;
        for (std::int64_t i = 0; i < 4; ++i) {
          const float* ei = e + i * half + j;
          const float* oi = o + i * half + j;
          float* v0 = out + 4 * i * xi_stride;
          ForLanes(stretch, [&]<typename L>(std::int64_t k) {
            auto e0 = L::Load(ei + k), e1 = L::Load(ei + k + 1);
            auto o0 = L::Load(oi + k), o1 = L::Load(oi + k + 1);
            L::Store(v0 + k, e0 - e1);
            L::Store(v0 + xi_stride + k, o0 + e1);
            L::Store(v0 + 2 * xi_stride + k, e1 - o0);
            L::Store(v0 + 3 * xi_stride + k, o0 - o1);
          });
        }
        j += stretch;
      }
      t += n;
    }
  }
}

// Y = act(A^T M A + bias) for tiles [t0, t1): M[xi] (out_channels x ldm, the
// tiles' results in columns 0..t1-t0) at m + xi * out_channels * ldm.
void WinogradOutput(const float* m, std::int64_t ldm, std::int64_t t0, std::int64_t t1,
                    const float* bias, float* y, const ConvParams& p, const WinogradGeometry& g,
                    Activation act, float* work) {
  const std::int64_t count = t1 - t0;
  const std::int64_t xs = p.out_channels * ldm;  // from one M[xi] to the next
  float* y00 = work;
  float* y01 = y00 + ldm;
  float* y10 = y01 + ldm;
  float* y11 = y10 + ldm;
  for (std::int64_t oc = 0; oc < p.out_channels; ++oc) {
    float b = bias == nullptr ? 0.0F : bias[oc];
    const float* mm = m + oc * ldm;
    ForLanes(count, [&]<typename L>(std::int64_t j) {
      typename L::T s0[4], s1[4];
      for (int c = 0; c < 4; ++c) {
        auto a0 = L::Load(mm + c * xs + j), a1 = L::Load(mm + (4 + c) * xs + j);
        auto a2 = L::Load(mm + (8 + c) * xs + j), a3 = L::Load(mm + (12 + c) * xs + j);
        s0[c] = a0 + a1 + a2;
        s1[c] = a1 - a2 - a3;
      }
      float bias_lanes[8] = {b, b, b, b, b, b, b, b};
      auto bv = L::Load(bias_lanes);
      L::Store(y00 + j, s0[0] + s0[1] + s0[2] + bv);
      L::Store(y01 + j, s0[1] - s0[2] - s0[3] + bv);
      L::Store(y10 + j, s1[0] + s1[1] + s1[2] + bv);
      L::Store(y11 + j, s1[1] - s1[2] - s1[3] + bv);
    });
    ApplyActivation(work, 4 * ldm, act);
    float* out = y + oc * p.out_h * p.out_w;
    for (std::int64_t t = t0; t < t1;) {
      std::int64_t th = t / g.tiles_w;
      std::int64_t tw0 = t % g.tiles_w;
      std::int64_t n = std::min(t1 - t, g.tiles_w - tw0);
      std::int64_t local = t - t0;
      for (int r = 0; r < 2; ++r) {
        std::int64_t oh = 2 * th + r;
        if (oh >= p.out_h) break;
        float* dst = out + oh * p.out_w + 2 * tw0;
        const float* left = (r == 0 ? y00 : y10) + local;
        const float* right = (r == 0 ? y01 : y11) + local;
        // Whole pairs, then the odd column at the right edge.
        std::int64_t pairs = std::min(n, p.out_w / 2 - tw0);
        std::int64_t j = 0;
#if defined(__AVX2__) && defined(__FMA__)
        for (; j + 8 <= pairs; j += 8) {
          __m256 l = _mm256_loadu_ps(left + j), h = _mm256_loadu_ps(right + j);
          __m256 lo = _mm256_unpacklo_ps(l, h), hi = _mm256_unpackhi_ps(l, h);
          _mm256_storeu_ps(dst + 2 * j, _mm256_permute2f128_ps(lo, hi, 0x20));
          _mm256_storeu_ps(dst + 2 * j + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
        }
#endif
        for (; j < pairs; ++j) {
          dst[2 * j] = left[j];
          dst[2 * j + 1] = right[j];
        }
        if (pairs < n) dst[2 * pairs] = left[pairs];
      }
      t += n;
    }
  }
}

void WinogradConv(const float* x, const float* w, const float* bias, float* y, const ConvParams& p,
                  Activation act) {
  WinogradGeometry g;
  g.tiles_h = (p.out_h + 1) / 2;
  g.tiles_w = (p.out_w + 1) / 2;
  g.tiles = g.tiles_h * g.tiles_w;
  g.half = g.tiles_w + 1;
  g.rows = 2 * g.tiles_h + 2;
  const std::int64_t cin = p.in_channels;
  const std::int64_t cout = p.out_channels;
  thread_local detail::PackedB uncached;
  const float* u = CachedWinogradWeights(w, cout, cin, uncached);
  // Tiles go through in blocks whose transformed inputs and products (16
  // floats per tile and channel each) stay in a 512 KiB L2 cache.
  std::int64_t block_panels =
      std::max<std::int64_t>(1, (384 * 1024) / ((cin + cout) * 16 * kPanel * 4));
  std::int64_t block = std::min(block_panels * kPanel, (g.tiles + kPanel - 1) / kPanel * kPanel);
  float* v = detail::Scratch(1, static_cast<std::size_t>(16 * block * cin));
  float* m = detail::Scratch(2, static_cast<std::size_t>(16 * block * cout));
  std::size_t padded_size = static_cast<std::size_t>(cin * g.rows * 2 * g.half);
  std::size_t work_size = static_cast<std::size_t>(std::max(8 * g.half, 4 * block));
  float* padded = detail::Scratch(3, padded_size + work_size);
  float* work = padded + padded_size;
  detail::Epilogue plain;
  for (std::int64_t b = 0; b < p.batch; ++b) {
    WinogradPad(x + b * cin * p.in_h * p.in_w, p, g, padded);
    float* yb = y + b * cout * p.out_h * p.out_w;
    for (std::int64_t t0 = 0; t0 < g.tiles; t0 += block) {
      std::int64_t t1 = std::min(g.tiles, t0 + block);
      std::int64_t count = t1 - t0;
      std::int64_t xi_stride = (count + kPanel - 1) / kPanel * cin * kPanel;
      WinogradInput(padded, cin, g, t0, t1, v, work);
      for (int xi = 0; xi < 16; ++xi) {
        detail::GemmPacked(u + xi * cout * cin, cin, v + xi * xi_stride, m + xi * cout * block,
                           block, cout, count, cin, plain);
      }
      WinogradOutput(m, block, t0, t1, bias, yb, p, g, act, work);
    }
  }
}

// A 3x3, stride-1 convolution of one input channel (a network's first layer
// on grey images): im2col would pack 9 copies of the image for a K = 9 GEMM,
// so instead each output row is 9 FMAs per 8 outputs over a padded copy of
// the image, the sums held in registers. Taps add in the GEMM's order (kh, kw),
// then the bias, then the activation.
auto UseDirectSingleChannel(const ConvParams& p) -> bool {
  return p.kernel_h == 3 && p.kernel_w == 3 && p.stride_h == 1 && p.stride_w == 1 &&
         p.dilation_h == 1 && p.dilation_w == 1 && p.group == 1 && p.in_channels == 1;
}

// Output channels [co, co + C) of one image from its padded copy: C independent
// sums per vector, so that the FMA latency is hidden and each load serves C.
template <int C>
void DirectSingleChannelBlock(const float* padded, std::int64_t width, const float* w,
                              const float* bias, float* y, std::int64_t co, const ConvParams& p,
                              bool vector_relu) {
  const std::int64_t plane = p.out_h * p.out_w;
  for (std::int64_t oh = 0; oh < p.out_h; ++oh) {
    const float* r0 = padded + oh * width;
    const float* r1 = r0 + width;
    const float* r2 = r1 + width;
    std::int64_t j = 0;
#if defined(__AVX2__) && defined(__FMA__)
    // The row's last 8 outputs overlap the previous vector rather than going
    // scalar (the same sums, stored twice).
    for (; j < p.out_w && p.out_w >= 8; j += 8) {
      if (j + 8 > p.out_w) j = p.out_w - 8;
      const __m256 in[9] = {
          _mm256_loadu_ps(r0 + j), _mm256_loadu_ps(r0 + j + 1), _mm256_loadu_ps(r0 + j + 2),
          _mm256_loadu_ps(r1 + j), _mm256_loadu_ps(r1 + j + 1), _mm256_loadu_ps(r1 + j + 2),
          _mm256_loadu_ps(r2 + j), _mm256_loadu_ps(r2 + j + 1), _mm256_loadu_ps(r2 + j + 2)};
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const float* wc = w + (co + c) * 9;
        __m256 s = _mm256_mul_ps(_mm256_broadcast_ss(wc), in[0]);
#pragma GCC unroll 8
        for (int t = 1; t < 9; ++t) s = _mm256_fmadd_ps(_mm256_broadcast_ss(wc + t), in[t], s);
        if (bias != nullptr) s = _mm256_add_ps(s, _mm256_set1_ps(bias[co + c]));
        if (vector_relu) s = _mm256_max_ps(s, _mm256_setzero_ps());
        _mm256_storeu_ps(y + (co + c) * plane + oh * p.out_w + j, s);
      }
    }
#endif
    for (; j < p.out_w; ++j) {
      for (int c = 0; c < C; ++c) {
        const float* wc = w + (co + c) * 9;
        float s = wc[0] * r0[j];
        s = std::fma(wc[1], r0[j + 1], s);
        s = std::fma(wc[2], r0[j + 2], s);
        s = std::fma(wc[3], r1[j], s);
        s = std::fma(wc[4], r1[j + 1], s);
        s = std::fma(wc[5], r1[j + 2], s);
        s = std::fma(wc[6], r2[j], s);
        s = std::fma(wc[7], r2[j + 1], s);
        s = std::fma(wc[8], r2[j + 2], s);
        y[(co + c) * plane + oh * p.out_w + j] = bias != nullptr ? s + bias[co + c] : s;
      }
    }
  }
}

void DirectSingleChannelConv(const float* x, const float* w, const float* bias, float* y,
                             const ConvParams& p, Activation act) {
  const std::int64_t width = p.out_w + 2;  // = pad_left + in_w + pad_right
  const std::int64_t height = p.out_h + 2;
  float* padded = detail::Scratch(1, static_cast<std::size_t>(height * width));
  const std::int64_t plane = p.out_h * p.out_w;
#if defined(__AVX2__) && defined(__FMA__)
  // Rows of 8 or more go through the vector loop alone, which applies a ReLU itself.
  const bool vector_relu = act.kind == ActivationKind::kRelu && p.out_w >= 8;
#else
  const bool vector_relu = false;
#endif
  for (std::int64_t b = 0; b < p.batch; ++b) {
    const float* image = x + b * p.in_h * p.in_w;
    for (std::int64_t r = 0; r < height; ++r) {
      std::int64_t ih = r - p.pad_top;
      float* row = padded + r * width;
      for (std::int64_t c = 0; c < width; ++c) {
        std::int64_t iw = c - p.pad_left;
        row[c] = ih >= 0 && ih < p.in_h && iw >= 0 && iw < p.in_w ? image[ih * p.in_w + iw] : 0.0F;
      }
    }
    float* yb = y + b * p.out_channels * plane;
    std::int64_t co = 0;
    for (; co + 4 <= p.out_channels; co += 4) {
      DirectSingleChannelBlock<4>(padded, width, w, bias, yb, co, p, vector_relu);
    }
    for (; co < p.out_channels; ++co) {
      DirectSingleChannelBlock<1>(padded, width, w, bias, yb, co, p, vector_relu);
    }
    if (!vector_relu) ApplyActivation(yb, p.out_channels * plane, act);
  }
}

}  // namespace

void Conv(const float* x, const float* w, const float* bias, float* y, const ConvParams& p,
          Activation act) {
  if (UseWinograd(p)) {
    WinogradConv(x, w, bias, y, p, act);
    return;
  }
  if (UseDirectSingleChannel(p)) {
    DirectSingleChannelConv(x, w, bias, y, p, act);
    return;
  }
  std::int64_t in_group = p.in_channels / p.group;
  std::int64_t out_group = p.out_channels / p.group;
  std::int64_t n = p.out_h * p.out_w;
  std::int64_t k = in_group * p.kernel_h * p.kernel_w;
  std::int64_t panels = (n + kPanel - 1) / kPanel;
  float* packed = detail::Scratch(1, static_cast<std::size_t>(panels * k * kPanel));
  for (std::int64_t b = 0; b < p.batch; ++b) {
    for (std::int64_t g = 0; g < p.group; ++g) {
      const float* xg = x + (b * p.in_channels + g * in_group) * p.in_h * p.in_w;
      if (IsPointwise(p)) {
        // Pack the (channels x positions) matrix as it is, panel by panel.
        for (std::int64_t q = 0; q < panels; ++q) {
          std::int64_t cols = std::min(kPanel, n - q * kPanel);
          float* out = packed + q * k * kPanel;
          for (std::int64_t c = 0; c < k; ++c) {
            const float* row = xg + c * n + q * kPanel;
            for (std::int64_t j = 0; j < kPanel; ++j) out[c * kPanel + j] = j < cols ? row[j] : 0;
          }
        }
      } else {
        PackPatches(xg, p, in_group, packed);
      }
      detail::Epilogue e;
      e.bias = bias == nullptr ? nullptr : bias + g * out_group;
      e.bias_shape = BiasShape::kColumn;
      e.act = act;
      float* yg = y + (b * p.out_channels + g * out_group) * n;
      detail::GemmPacked(w + g * out_group * k, k, packed, yg, n, out_group, n, k, e);
    }
  }
}

namespace {

template <typename Reduce>
void Pool(const float* x, float* y, const PoolParams& p, Reduce reduce) {
  for (std::int64_t plane = 0; plane < p.batch * p.channels; ++plane) {
    const float* in = x + plane * p.in_h * p.in_w;
    float* out = y + plane * p.out_h * p.out_w;
    for (std::int64_t oh = 0; oh < p.out_h; ++oh) {
      for (std::int64_t ow = 0; ow < p.out_w; ++ow) {
        out[oh * p.out_w + ow] =
            reduce(in, oh * p.stride_h - p.pad_top, ow * p.stride_w - p.pad_left);
      }
    }
  }
}

}  // namespace

void MaxPool(const float* x, float* y, const PoolParams& p) {
  // Per output row: the columns whose window lies inside the input take
  // unchecked loops, one pass per kernel tap over the whole stretch (they
  // vectorise); the few border columns take the checked window walk.
  auto window = [&p](const float* in, std::int64_t top, std::int64_t left) {
    float best = -std::numeric_limits<float>::infinity();
    for (std::int64_t kh = 0; kh < p.kernel_h; ++kh) {
      std::int64_t ih = top + kh * p.dilation_h;
      if (ih < 0 || ih >= p.in_h) continue;
      for (std::int64_t kw = 0; kw < p.kernel_w; ++kw) {
        std::int64_t iw = left + kw * p.dilation_w;
        if (iw >= 0 && iw < p.in_w) best = std::max(best, in[ih * p.in_w + iw]);
      }
    }
    return best;
  };
  const std::int64_t span = (p.kernel_w - 1) * p.dilation_w;
  // Interior columns: ow * stride - pad_left >= 0 and ... + span < in_w.
  std::int64_t lo = (p.pad_left + p.stride_w - 1) / p.stride_w;
  std::int64_t hi =
      p.in_w - 1 - span + p.pad_left >= 0 ? (p.in_w - 1 - span + p.pad_left) / p.stride_w + 1 : 0;
  lo = std::min(lo, p.out_w);
  hi = std::clamp(hi, lo, p.out_w);
  for (std::int64_t plane = 0; plane < p.batch * p.channels; ++plane) {
    const float* in = x + plane * p.in_h * p.in_w;
    float* out = y + plane * p.out_h * p.out_w;
    for (std::int64_t oh = 0; oh < p.out_h; ++oh, out += p.out_w) {
      std::int64_t top = oh * p.stride_h - p.pad_top;
      for (std::int64_t ow = 0; ow < lo; ++ow)
        out[ow] = window(in, top, ow * p.stride_w - p.pad_left);
      for (std::int64_t ow = hi; ow < p.out_w; ++ow) {
        out[ow] = window(in, top, ow * p.stride_w - p.pad_left);
      }
      for (std::int64_t ow = lo; ow < hi; ++ow) out[ow] = -std::numeric_limits<float>::infinity();
      for (std::int64_t kh = 0; kh < p.kernel_h; ++kh) {
        std::int64_t ih = top + kh * p.dilation_h;
        if (ih < 0 || ih >= p.in_h) continue;
        for (std::int64_t kw = 0; kw < p.kernel_w; ++kw) {
          const float* src = in + ih * p.in_w + kw * p.dilation_w - p.pad_left;
          if (p.stride_w == 2) {
            for (std::int64_t ow = lo; ow < hi; ++ow) out[ow] = std::max(out[ow], src[2 * ow]);
          } else {
            for (std::int64_t ow = lo; ow < hi; ++ow) {
              out[ow] = std::max(out[ow], src[ow * p.stride_w]);
            }
          }
        }
      }
    }
  }
}

void AveragePool(const float* x, float* y, const PoolParams& p) {
  Pool(x, y, p, [&p](const float* in, std::int64_t top, std::int64_t left) {
    float sum = 0;
    std::int64_t inside = 0;
    std::int64_t counted = 0;
    for (std::int64_t kh = 0; kh < p.kernel_h; ++kh) {
      std::int64_t ih = top + kh * p.dilation_h;
      for (std::int64_t kw = 0; kw < p.kernel_w; ++kw) {
        std::int64_t iw = left + kw * p.dilation_w;
        // count_include_pad counts the declared padding, not cells past it.
        bool in_padded = ih < p.in_h + p.pad_bottom && iw < p.in_w + p.pad_right;
        if (ih >= 0 && ih < p.in_h && iw >= 0 && iw < p.in_w) {
          sum += in[ih * p.in_w + iw];
          ++inside;
        }
        if (in_padded) ++counted;
      }
    }
    std::int64_t divisor = p.count_include_pad ? counted : inside;
    return divisor > 0 ? sum / static_cast<float>(divisor) : 0.0F;
  });
}

void GlobalAveragePool(const float* x, float* y, std::int64_t planes, std::int64_t spatial) {
  for (std::int64_t i = 0; i < planes; ++i) {
    float sum = 0;
    for (std::int64_t j = 0; j < spatial; ++j) sum += x[i * spatial + j];
    y[i] = sum / static_cast<float>(spatial);
  }
}

void GlobalMaxPool(const float* x, float* y, std::int64_t planes, std::int64_t spatial) {
  for (std::int64_t i = 0; i < planes; ++i) {
    float best = -std::numeric_limits<float>::infinity();
    for (std::int64_t j = 0; j < spatial; ++j) best = std::max(best, x[i * spatial + j]);
    y[i] = best;
  }
}

void BatchNormalization(const float* x, const float* scale, const float* bias, const float* mean,
                        const float* var, float epsilon, float* y, std::int64_t batch,
                        std::int64_t channels, std::int64_t spatial, Activation act) {
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t c = 0; c < channels; ++c) {
      float factor = scale[c] / std::sqrt(var[c] + epsilon);
      float shift = bias[c] - mean[c] * factor;
      const float* in = x + (b * channels + c) * spatial;
      float* out = y + (b * channels + c) * spatial;
      for (std::int64_t i = 0; i < spatial; ++i) out[i] = in[i] * factor + shift;
      ApplyActivation(out, spatial, act);
    }
  }
}

void ApplyActivation(float* y, std::int64_t n, Activation act) {
  switch (act.kind) {
    case ActivationKind::kNone:
      return;
    case ActivationKind::kRelu:
      for (std::int64_t i = 0; i < n; ++i) y[i] = y[i] > 0 ? y[i] : 0;
      return;
    case ActivationKind::kSigmoid:
      for (std::int64_t i = 0; i < n; ++i) y[i] = 1.0F / (1.0F + std::exp(-y[i]));
      return;
    case ActivationKind::kTanh:
      for (std::int64_t i = 0; i < n; ++i) y[i] = std::tanh(y[i]);
      return;
    case ActivationKind::kClip:
      for (std::int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(y[i], act.min), act.max);
      return;
  }
}

namespace {

template <bool kLog>
void SoftmaxImpl(const float* x, float* y, std::int64_t outer, std::int64_t axis,
                 std::int64_t inner) {
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      const float* in = x + o * axis * inner + i;
      float* out = y + o * axis * inner + i;
      float top = -std::numeric_limits<float>::infinity();
      for (std::int64_t a = 0; a < axis; ++a) top = std::max(top, in[a * inner]);
      float sum = 0;
      for (std::int64_t a = 0; a < axis; ++a) {
        float e = std::exp(in[a * inner] - top);
        sum += e;
        if (!kLog) out[a * inner] = e;
      }
      if (kLog) {
        float log_sum = std::log(sum);
        for (std::int64_t a = 0; a < axis; ++a) out[a * inner] = in[a * inner] - top - log_sum;
      } else {
        float inv = 1.0F / sum;
        for (std::int64_t a = 0; a < axis; ++a) out[a * inner] *= inv;
      }
    }
  }
}

}  // namespace

void Softmax(const float* x, float* y, std::int64_t outer, std::int64_t axis, std::int64_t inner) {
  SoftmaxImpl<false>(x, y, outer, axis, inner);
}

void LogSoftmax(const float* x, float* y, std::int64_t outer, std::int64_t axis,
                std::int64_t inner) {
  SoftmaxImpl<true>(x, y, outer, axis, inner);
}

}  // namespace ferry_rt::k

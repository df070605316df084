// Conv as GEMM: the weights (out_channels x in_channels*kh*kw) times the
// input's patches, gathered straight into the packed-panel layout the GEMM
// core reads (im2col without a separate copy); 1x1 stride-1 convolutions pack
// the input as it is. Pools and BatchNormalization are direct loops.
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/gemm_core.h"
#include "runtime/kernels_nn.h"

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

}  // namespace

void Conv(const float* x, const float* w, const float* bias, float* y, const ConvParams& p,
          Activation act) {
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
  Pool(x, y, p, [&p](const float* in, std::int64_t top, std::int64_t left) {
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
  });
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

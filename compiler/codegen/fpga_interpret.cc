// The float semantics of the FPGA kernel's layers, as the CPU back end's
// kernels compute them (NCHW, zero padding, pads at the top/left first):
// calibration runs them to find each tensor's range and the reference the
// C-simulation is checked against.
#include <algorithm>
#include <limits>

#include "compiler/codegen/fpga_layers.h"

namespace ferry::codegen::fpga {
namespace {

auto Activate(const FloatLayer& f, float value) -> float {
  if (f.relu) value = std::max(value, 0.0F);
  if (f.clip) value = std::min(std::max(value, f.clip_min), f.clip_max);
  return value;
}

auto Conv(const QLayer& layer, const FloatLayer& f, const QTensor& in, const QTensor& out,
          const std::vector<float>& x) -> std::vector<float> {
  const std::int64_t ic_n = in.dims[0], ih = in.dims[1], iw = in.dims[2];
  const std::int64_t oc_n = out.dims[0], oh_n = out.dims[1], ow_n = out.dims[2];
  std::vector<float> y(static_cast<std::size_t>(out.elements));
  for (std::int64_t oc = 0; oc < oc_n; ++oc) {
    for (std::int64_t oh = 0; oh < oh_n; ++oh) {
      for (std::int64_t ow = 0; ow < ow_n; ++ow) {
        float acc = f.bias.empty() ? 0.0F : f.bias[static_cast<std::size_t>(oc)];
        for (std::int64_t ic = 0; ic < ic_n; ++ic) {
          for (std::int64_t kh = 0; kh < layer.kernel_h; ++kh) {
            const std::int64_t h = oh * layer.stride_h + kh - layer.pad_h;
            if (h < 0 || h >= ih) continue;
            for (std::int64_t kw = 0; kw < layer.kernel_w; ++kw) {
              const std::int64_t w = ow * layer.stride_w + kw - layer.pad_w;
              if (w < 0 || w >= iw) continue;
              acc += x[static_cast<std::size_t>((ic * ih + h) * iw + w)] *
                     f.weights[static_cast<std::size_t>(
                         ((oc * ic_n + ic) * layer.kernel_h + kh) * layer.kernel_w + kw)];
            }
          }
        }
        y[static_cast<std::size_t>((oc * oh_n + oh) * ow_n + ow)] = Activate(f, acc);
      }
    }
  }
  return y;
}

auto Dense(const FloatLayer& f, const QTensor& in, const QTensor& out, const std::vector<float>& x)
    -> std::vector<float> {
  std::vector<float> y(static_cast<std::size_t>(out.elements));
  const auto n = static_cast<std::size_t>(in.elements);
  for (std::size_t o = 0; o < y.size(); ++o) {
    float acc = f.bias.empty() ? 0.0F : f.bias[o];
    for (std::size_t i = 0; i < n; ++i) acc += x[i] * f.weights[o * n + i];
    y[o] = Activate(f, acc);
  }
  return y;
}

auto MaxPool(const QLayer& layer, const QTensor& in, const QTensor& out,
             const std::vector<float>& x) -> std::vector<float> {
  const std::int64_t ih = in.dims[1], iw = in.dims[2];
  const std::int64_t c_n = out.dims[0], oh_n = out.dims[1], ow_n = out.dims[2];
  std::vector<float> y(static_cast<std::size_t>(out.elements));
  for (std::int64_t c = 0; c < c_n; ++c) {
    for (std::int64_t oh = 0; oh < oh_n; ++oh) {
      for (std::int64_t ow = 0; ow < ow_n; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        for (std::int64_t kh = 0; kh < layer.kernel_h; ++kh) {
          const std::int64_t h = oh * layer.stride_h + kh - layer.pad_h;
          if (h < 0 || h >= ih) continue;
          for (std::int64_t kw = 0; kw < layer.kernel_w; ++kw) {
            const std::int64_t w = ow * layer.stride_w + kw - layer.pad_w;
            if (w < 0 || w >= iw) continue;
            best = std::max(best, x[static_cast<std::size_t>((c * ih + h) * iw + w)]);
          }
        }
        y[static_cast<std::size_t>((c * oh_n + oh) * ow_n + ow)] = best;
      }
    }
  }
  return y;
}

}  // namespace

auto RunFloatLayer(const LayerGraph& layers, std::size_t index, const std::vector<float>& input)
    -> std::vector<float> {
  const QLayer& layer = layers.plan.layers[index];
  const FloatLayer& f = layers.floats[index];
  const QTensor& in = layers.plan.tensors[layer.input];
  const QTensor& out = layers.plan.tensors[layer.output];
  switch (layer.kind) {
    case LayerKind::kConv:
      return Conv(layer, f, in, out, input);
    case LayerKind::kDense:
      return Dense(f, in, out, input);
    case LayerKind::kMaxPool:
      return MaxPool(layer, in, out, input);
    case LayerKind::kRelu: {
      std::vector<float> y = input;
      for (float& value : y) value = Activate(f, value);
      return y;
    }
    case LayerKind::kAddConstant: {
      std::vector<float> y = input;
      for (std::size_t i = 0; i < y.size(); ++i) y[i] = Activate(f, y[i] + f.bias[i]);
      return y;
    }
  }
  return input;
}

}  // namespace ferry::codegen::fpga

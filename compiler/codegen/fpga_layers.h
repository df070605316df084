// Internal to the FPGA back end: the kernel's layers read off the graph
// (fpga_layers.cc) and their float semantics, the CPU reference's, which
// calibration runs (fpga_interpret.cc).
#pragma once

#include <optional>
#include <vector>

#include "compiler/codegen/fpga_quantize.h"

namespace ferry::codegen::fpga {

/// A layer's float parameters, before quantization.
struct FloatLayer {
  std::vector<float> weights;  ///< conv [oc][ic][kh][kw], dense [out][in]
  std::vector<float> bias;     ///< per output channel; per element for kAddConstant
  bool relu = false;
  bool clip = false;
  float clip_min = 0;
  float clip_max = 0;
};

/// The kernel as layers on unquantized tensors (QPlan's tensors with dims and
/// names only, layers with their windows), their float parameters, and the
/// host tail; which tensors take their producer's input scale (pool, relu).
struct LayerGraph {
  QPlan plan;
  std::vector<FloatLayer> floats;
  /// Per tensor: the tensor whose scale it shares, or itself.
  std::vector<std::size_t> scale_of;
};

/// Reads the kernel chain and host tail off the graph; E0821 on a node it
/// cannot place.
auto BuildLayers(const graph::Graph& graph, diag::Sink& sink) -> std::optional<LayerGraph>;

/// Runs layer `index` in float: the values of its output tensor.
auto RunFloatLayer(const LayerGraph& layers, std::size_t index, const std::vector<float>& input)
    -> std::vector<float>;

}  // namespace ferry::codegen::fpga

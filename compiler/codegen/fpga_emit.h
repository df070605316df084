// Internal to the FPGA back end: the text of a model's fpga/ folder from its
// fixed-point plan. Every kernel layer is one HLS function between two
// hls::streams (DATAFLOW between them): it reads its input into an on-chip
// frame buffer, then produces its output in NCHW order with the inner
// reduction unrolled under `#pragma HLS PIPELINE II=1`.
#pragma once

#include <string>
#include <vector>

#include "compiler/codegen/backend.h"
#include "compiler/codegen/fpga_quantize.h"

namespace ferry::codegen::fpga {

/// kernel.h: tensor types, scales and the entry points' declarations.
auto EmitKernelHeader(const QPlan& plan, const std::string& model) -> std::string;
/// weights.h: the quantized weights and biases as ROM initializers.
auto EmitWeights(const QPlan& plan) -> std::string;
/// model_hls.cpp: the layer functions and the two entry points,
/// ferry_fpga_top (memory-mapped rows, the Vitis kernel) and ferry_fpga_stream
/// (AXI streams).
auto EmitKernel(const QPlan& plan, const std::string& model) -> std::string;

/// tb.cpp, the C-simulation test bench, and tb_data.bin, what it reads: the
/// calibration rows and the float reference of the kernel's output.
auto EmitTestBench(const QPlan& plan) -> std::string;
auto EmitTestData(const QPlan& plan) -> std::string;
/// run_hls.tcl, host.cpp, CMakeLists.txt and resources.yaml.
auto EmitHlsScript(const QPlan& plan, const std::string& model) -> std::string;
auto EmitHost(const QPlan& plan) -> std::string;
auto EmitCmake(const std::string& model) -> std::string;
auto EmitResources(const QPlan& plan, const std::string& model) -> std::string;

/// What the test bench accepts: top-1 agreement on this share of rows for
/// classifiers; relative L2 error of every row for other models.
inline constexpr double kMinTop1Agreement = 0.95;
inline constexpr double kMaxRelativeError = 0.05;

}  // namespace ferry::codegen::fpga

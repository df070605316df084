// The FPGA back end: the CPU back end's bundle (the host reference, which
// serves requests and pre/post-processes around the device) plus, per model,
// an fpga/ folder: the fixed-point plan (fpga_quantize.h) emitted as HLS C++
// (fpga_emit.h), a C-simulation test bench with its data, a Vitis HLS
// script, an XRT host program, a CMake project and resource estimates.
#include <algorithm>
#include <iterator>

#include "compiler/codegen/backend.h"
#include "compiler/codegen/bundle_assembly.h"
#include "compiler/codegen/fpga_emit.h"
#include "compiler/codegen/fpga_quantize.h"

namespace ferry::codegen {

auto MakeCpuBackend() -> std::unique_ptr<Backend>;

namespace {

constexpr std::string_view kShimFolder = "stdlib/runtime/fpga/";

/// One model's fpga/ files, or nullopt with diagnostics.
auto FpgaFiles(const Lowering& model, diag::Sink& sink) -> std::optional<std::vector<File>> {
  std::optional<fpga::QPlan> plan = fpga::PlanFixedPoint(model, sink);
  if (!plan) return std::nullopt;
  if (plan->layers.empty()) {
    sink.Add(diag::Code::kFpgaOperator, diag::Location{.file = model.graph.source}, "",
             "the model has no layer the FPGA kernel runs (Conv, Gemm, MatMul, MaxPool, ...)");
    return std::nullopt;
  }
  const std::string folder = model.folder + "fpga/";
  auto text = [&](std::string name, std::string bytes) {
    return File{.path = folder + name, .bytes = std::move(bytes), .binary = false};
  };
  std::vector<File> files = {
      text("CMakeLists.txt", fpga::EmitCmake(model.name)),
      text("host.cpp", fpga::EmitHost(*plan)),
      text("kernel.h", fpga::EmitKernelHeader(*plan, model.name)),
      text("model_hls.cpp", fpga::EmitKernel(*plan, model.name)),
      text("resources.yaml", fpga::EmitResources(*plan, model.name)),
      text("run_hls.tcl", fpga::EmitHlsScript(*plan, model.name)),
      text("tb.cpp", fpga::EmitTestBench(*plan)),
      File{.path = folder + "tb_data.bin", .bytes = fpga::EmitTestData(*plan), .binary = true},
      text("weights.h", fpga::EmitWeights(*plan)),
  };
  std::ranges::move(EmbeddedFolder(kShimFolder, folder + "hls/"), std::back_inserter(files));
  return files;
}

class FpgaBackend final : public Backend {
 public:
  auto target() const -> Target override { return Target::kFpga; }

  auto Generate(std::span<const Lowering> models, diag::Sink& sink) const
      -> std::optional<std::vector<File>> override {
    std::optional<std::vector<File>> files = MakeCpuBackend()->Generate(models, sink);
    if (!files) return std::nullopt;
    for (const Lowering& model : models) {
      std::optional<std::vector<File>> fpga = FpgaFiles(model, sink);
      if (!fpga) return std::nullopt;
      files->insert(files->end(), std::make_move_iterator(fpga->begin()),
                    std::make_move_iterator(fpga->end()));
    }
    return files;
  }
};

}  // namespace

auto MakeFpgaBackend() -> std::unique_ptr<Backend> { return std::make_unique<FpgaBackend>(); }

}  // namespace ferry::codegen

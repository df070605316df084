// The GPU back end (target gpu): per model a model_gpu.cu (gpu_emit.h) and,
// as its host reference, the CPU back end's model.cc in a namespace of its
// own; models.cc (the GPU models, what bin/score and bin/serve run) and
// models_host.cc (the reference, bin/score_host); the bundle's CMakeLists.txt:
// the CPU template with CUDA enabled, its model library made of the .cu
// files, plus the GPU section (stdlib/runtime/gpu/bundle.cmake.in); and
// runtime/, the same copy of the scoring runtime every bundle carries.
#include <algorithm>
#include <iterator>
#include <span>

#include "compiler/codegen/backend.h"
#include "compiler/codegen/bundle_assembly.h"
#include "compiler/codegen/cpu_emit.h"
#include "compiler/codegen/gpu_emit.h"
#include "compiler/support/embedded.h"

namespace ferry::codegen {
namespace {

constexpr std::string_view kGpuSection = "stdlib/runtime/gpu/bundle.cmake.in";

/// The namespace of a model's host reference: its GPU namespace's "host".
auto HostNamespace(const Lowering& model) -> std::string { return model.cpp_namespace + "::host"; }

class GpuBackend final : public Backend {
 public:
  auto target() const -> Target override { return Target::kGpu; }

  auto Generate(std::span<const Lowering> models, diag::Sink& sink) const
      -> std::optional<std::vector<File>> override {
    if (models.empty()) return std::vector<File>{};
    std::vector<File> files;
    for (const Lowering& model : models) {
      std::optional<std::string> gpu = EmitGpuModel(model, sink);
      if (!gpu) return std::nullopt;
      Lowering host = model;
      host.cpp_namespace = HostNamespace(model);
      std::optional<std::string> reference = EmitModel(host, sink);
      if (!reference) return std::nullopt;
      files.push_back(File{.path = model.folder + "model_gpu.cu", .bytes = std::move(*gpu)});
      files.push_back(File{.path = model.folder + "model.cc", .bytes = std::move(*reference)});
    }
    std::optional<std::string> cmake = BundleCmake(models);
    if (!cmake) {
      ReportNoRuntime(models, sink);
      return std::nullopt;
    }
    files.push_back(File{.path = "CMakeLists.txt", .bytes = std::move(*cmake)});
    files.push_back(File{.path = "models.cc",
                         .bytes = ModelTable(models, "The GPU models this bundle serves",
                                             [](const Lowering& m) { return m.cpp_namespace; })});
    files.push_back(File{.path = "models_host.cc",
                         .bytes = ModelTable(models,
                                             "The host references of this bundle's models "
                                             "(bin/score_host)",
                                             HostNamespace)});
    // runtime/ as CPU bundles have it: the FPGA back end's HLS stand-ins are
    // for FPGA bundles only.
    std::ranges::move(
        EmbeddedFolder(kRuntimeFolder, "runtime/", {kBundleTemplate, "stdlib/runtime/fpga/"}),
        std::back_inserter(files));
    return files;
  }

 private:
  /// The CPU bundle template with CUDA enabled and the GPU models as its
  /// model library (so bin/score and bin/serve run them), then the GPU section.
  static auto BundleCmake(std::span<const Lowering> models) -> std::optional<std::string> {
    std::optional<std::string> text = FillBundleTemplate(models, "model_gpu.cu");
    std::optional<std::string_view> section = support::FindEmbedded(kGpuSection);
    if (!text || !section) return std::nullopt;
    if (!ReplaceAll(*text, "project(ferry_bundle CXX)", "project(ferry_bundle CXX CUDA)")) {
      return std::nullopt;
    }
    std::string host_sources;
    for (const Lowering& model : models) host_sources += model.folder + "model.cc ";
    std::string gpu(*section);
    ReplaceAll(gpu, "@HOST_SOURCES@", host_sources + "models_host.cc");
    // Set before project(): the CUDA architectures and compiler, and FERRY_GPU for runtime/.
    const std::string prelude =
        "# isa: " + std::string(IsaName(models.front().isa)) +
        "\n# target: gpu (CUDA, cuBLAS, cuDNN); the host reference builds as bin/score_host.\n"
        "if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)\n"
        "  set(CMAKE_CUDA_ARCHITECTURES \"80;90\" CACHE STRING \"GPU architectures to compile "
        "for (80: A100, 90: H100)\")\n"
        "endif()\n"
        "if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS "
        "/usr/local/cuda/bin/nvcc)\n"
        "  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)\n"
        "endif()\n"
        "set(FERRY_GPU ON)\n";
    return prelude + *text + "\n" + gpu;
  }
};

}  // namespace

auto MakeGpuBackend() -> std::unique_ptr<Backend> { return std::make_unique<GpuBackend>(); }

}  // namespace ferry::codegen

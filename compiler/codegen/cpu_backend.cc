// The CPU back end: generates per model a model.cc, a ferry_rt::Model subclass
// whose Run calls the runtime's kernels (namespace ferry_rt::k) one ONNX node
// at a time, intermediates living in one arena laid out by the memory plan;
// models.cc, the table the bundle's programs select a model from; the
// bundle's CMakeLists.txt from the runtime's template with the ISA's compiler
// flags; and runtime/, the scoring runtime's sources embedded in ferry.
#include <algorithm>
#include <iterator>
#include <span>

#include "compiler/codegen/backend.h"
#include "compiler/codegen/bundle_assembly.h"
#include "compiler/codegen/cpu_emit.h"

namespace ferry::codegen {
namespace {

/// The runtime's bundle template filled in for the models' model.cc files.
auto BundleCmake(std::span<const Lowering> models) -> std::optional<std::string> {
  std::optional<std::string> text = FillBundleTemplate(models, "model.cc");
  if (!text) return std::nullopt;
  return "# isa: " + std::string(IsaName(models.front().isa)) + "\n" + *text;
}

class CpuBackend final : public Backend {
 public:
  auto target() const -> Target override { return Target::kCpu; }

  auto Generate(std::span<const Lowering> models, diag::Sink& sink) const
      -> std::optional<std::vector<File>> override {
    if (models.empty()) return std::vector<File>{};
    std::vector<File> files;
    for (const Lowering& model : models) {
      std::optional<std::string> source = EmitModel(model, sink);
      if (!source) return std::nullopt;
      files.push_back(
          File{.path = model.folder + "model.cc", .bytes = std::move(*source), .binary = false});
    }
    std::optional<std::string> cmake = BundleCmake(models);
    if (!cmake) {
      ReportNoRuntime(models, sink);
      return std::nullopt;
    }
    files.push_back(File{.path = "CMakeLists.txt", .bytes = std::move(*cmake), .binary = false});
    files.push_back(File{.path = "models.cc",
                         .bytes = ModelTable(models, "The models this bundle serves",
                                             [](const Lowering& m) { return m.cpp_namespace; }),
                         .binary = false});
    // The FPGA back end's HLS stand-ins go to fpga/hls/ of FPGA bundles only.
    std::ranges::move(
        EmbeddedFolder(kRuntimeFolder, "runtime/", {kBundleTemplate, "stdlib/runtime/fpga/"}),
        std::back_inserter(files));
    return files;
  }
};

}  // namespace

auto MakeCpuBackend() -> std::unique_ptr<Backend> { return std::make_unique<CpuBackend>(); }

}  // namespace ferry::codegen

// The CPU back end: generates model.cc, a ferry_rt::Model subclass whose Run
// calls the runtime's kernels (namespace ferry_rt::k) one ONNX node at a time,
// intermediates living in one arena laid out by the memory plan; the bundle's
// CMakeLists.txt from the runtime's template with the ISA's compiler flags;
// and runtime/, the scoring runtime's sources embedded in ferry.
#include <map>

#include "compiler/codegen/backend.h"
#include "compiler/codegen/cpu_emit.h"
#include "compiler/support/embedded.h"

namespace ferry::codegen {
namespace {

constexpr std::string_view kRuntimeFolder = "stdlib/runtime/";
constexpr std::string_view kTemplate = "stdlib/runtime/bundle/CMakeLists.txt.in";

auto MarchFlags(Isa isa) -> std::string_view {
  switch (isa) {
    case Isa::kAvx512:
      return "-march=skylake-avx512";
    case Isa::kAvx2:
      return "-march=haswell";
    case Isa::kSse42:
      return "-msse4.2";
    case Isa::kPortable:
      return "";
  }
  return "";
}

/// The runtime's bundle template with @ISA_FLAGS@ filled in, or nullopt when
/// this ferry was built without the runtime embedded.
auto BundleCmake(const Lowering& lowering) -> std::optional<std::string> {
  std::optional<std::string_view> text = support::FindEmbedded(kTemplate);
  if (!text) return std::nullopt;
  std::string out(*text);
  const std::string placeholder = "@ISA_FLAGS@";
  for (auto at = out.find(placeholder); at != std::string::npos; at = out.find(placeholder)) {
    out.replace(at, placeholder.size(), MarchFlags(lowering.isa));
  }
  return "# isa: " + std::string(IsaName(lowering.isa)) + "\n" + out;
}

class CpuBackend final : public Backend {
 public:
  auto target() const -> Target override { return Target::kCpu; }

  auto Generate(const Lowering& lowering, diag::Sink& sink) const
      -> std::optional<std::vector<File>> override {
    std::optional<std::string> model = EmitModel(lowering, sink);
    if (!model) return std::nullopt;
    std::optional<std::string> cmake = BundleCmake(lowering);
    if (!cmake) {
      sink.Add(diag::Code::kTargetUnavailable, diag::Location{.file = lowering.graph.source}, "",
               "this ferry was built without the scoring runtime (stdlib/runtime) embedded");
      return std::nullopt;
    }
    std::vector<File> files = {
        File{.path = "CMakeLists.txt", .bytes = std::move(*cmake), .binary = false},
        File{.path = "model.cc", .bytes = std::move(*model), .binary = false},
    };
    for (const support::EmbeddedFile& file : support::EmbeddedFiles()) {
      if (!file.path.starts_with(kRuntimeFolder) || file.path == kTemplate) continue;
      files.push_back(
          File{.path = "runtime/" + std::string(file.path.substr(kRuntimeFolder.size())),
               .bytes = std::string(file.contents),
               .binary = false});
    }
    return files;
  }
};

}  // namespace

auto MakeCpuBackend() -> std::unique_ptr<Backend> { return std::make_unique<CpuBackend>(); }

}  // namespace ferry::codegen

// Internal to the back ends: what the CPU and GPU back ends (and the FPGA
// one, around the CPU bundle) both put in a bundle besides the models' code —
// the runtime's CMake template filled in, the models.cc table the bundle's
// programs select a model from, and copies of embedded runtime files.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/codegen/backend.h"
#include "compiler/diag/diagnostic.h"

namespace ferry::codegen {

/// The scoring runtime's sources, as embedded in ferry.
inline constexpr std::string_view kRuntimeFolder = "stdlib/runtime/";
/// The runtime's bundle CMakeLists.txt template (not copied into runtime/).
inline constexpr std::string_view kBundleTemplate = "stdlib/runtime/bundle/CMakeLists.txt.in";

/// The compiler flags of `isa` (the template's @ISA_FLAGS@).
auto MarchFlags(Isa isa) -> std::string_view;

/// Replaces every `placeholder` in `text` by `value`, left to right, never
/// inside a value put in; false when `placeholder` was not there.
auto ReplaceAll(std::string& text, std::string_view placeholder, std::string_view value) -> bool;

/// The runtime's bundle template with @ISA_FLAGS@ (the first model's ISA),
/// @IMAGE_STAGE@ (ON when some model has an image stage) and @MODEL_SOURCES@
/// (each model's `model_source` in its folder, then models.cc) filled in, or
/// nullopt when this ferry was built without the runtime embedded.
auto FillBundleTemplate(std::span<const Lowering> models, std::string_view model_source)
    -> std::optional<std::string>;

/// E0810 at the first model: this ferry has no runtime embedded to build a bundle with.
void ReportNoRuntime(std::span<const Lowering> models, diag::Sink& sink);

/// A models.cc (model.h's BundledModels): `what` the table holds, in its
/// comment, then every model (the default first) with its weights file and
/// the CreateModel of the namespace `namespace_of` gives it.
auto ModelTable(std::span<const Lowering> models, std::string_view what,
                const std::function<std::string(const Lowering&)>& namespace_of) -> std::string;

/// The embedded files under `folder` as text files under `to` (their paths
/// below `folder` kept), leaving out those whose path starts with one of `skip`.
auto EmbeddedFolder(std::string_view folder, const std::string& to,
                    std::initializer_list<std::string_view> skip = {}) -> std::vector<File>;

}  // namespace ferry::codegen

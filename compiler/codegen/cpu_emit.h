// Internal to the CPU back end: model.cc's text from the lowered graph.
#pragma once

#include <optional>
#include <string>

#include "compiler/codegen/backend.h"

namespace ferry::codegen {

/// The C++ of model.cc, or nullopt (with E0804 naming the node) for a node
/// the CPU back end cannot emit.
auto EmitModel(const Lowering& lowering, diag::Sink& sink) -> std::optional<std::string>;

}  // namespace ferry::codegen

// Internal to the GPU back end: model_gpu.cu's text from the lowered graph.
#pragma once

#include <optional>
#include <string>

#include "compiler/codegen/backend.h"

namespace ferry::codegen {

/// The CUDA C++ of model_gpu.cu (a ferry_rt::Model running every node on the
/// device), or nullopt with E0811 naming the first node the GPU back end
/// cannot lower (and why), suggesting target cpu.
auto EmitGpuModel(const Lowering& lowering, diag::Sink& sink) -> std::optional<std::string>;

/// The ONNX operators the GPU back end lowers, sorted (for messages and docs).
auto GpuOperators() -> const std::vector<std::string>&;

}  // namespace ferry::codegen

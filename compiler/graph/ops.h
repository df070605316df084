// The operators the model compiler supports: one row per (domain, op type)
// with its arity, shared by the loader (which rejects everything else) and
// the passes.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace ferry::graph {

/// The ONNX-ML domain's name; the default domain is "".
inline constexpr std::string_view kMlDomain = "ai.onnx.ml";

struct OpSchema {
  /// "" or kMlDomain.
  std::string_view domain;
  std::string_view op_type;
  int min_inputs;
  int max_inputs;
  int min_outputs;
  int max_outputs;
};

/// Every supported operator, sorted by domain then op type.
auto SupportedOps() -> std::span<const OpSchema>;
/// The row for `op_type` in `domain` ("" or "ai.onnx" for the default domain).
auto FindOp(std::string_view domain, std::string_view op_type) -> const OpSchema*;
/// "Add, ArgMax, ... and ai.onnx.ml: LinearClassifier, ...", for diagnostics.
auto SupportedOpList() -> std::string;

}  // namespace ferry::graph

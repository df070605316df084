// The ONNX front end: model file bytes -> graph IR, or diagnostics (E08xx).
// A corrupt, truncated or hostile file yields errors, never a crash or an
// unbounded allocation: sizes are checked against the file before use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "compiler/diag/diagnostic.h"
#include "compiler/graph/graph.h"

namespace ferry::onnx {

/// The opset versions ferry compiles (inclusive).
inline constexpr std::int64_t kMinOpset = 11;
inline constexpr std::int64_t kMaxOpset = 17;
inline constexpr std::int64_t kMinMlOpset = 1;
inline constexpr std::int64_t kMaxMlOpset = 3;

/// Bounds a model must stay within (E0809); no real scoring model comes close.
struct Limits {
  std::size_t max_file_bytes = std::size_t{1} << 30;
  std::size_t max_rank = 8;
  std::int64_t max_dim = std::int64_t{1} << 31;
  std::size_t max_nodes = 1'000'000;
};

/// Decodes the ONNX model in `bytes` (read from `file`, named in diagnostics)
/// into a graph whose nodes are topologically sorted and all supported, with
/// the shapes of its inputs and constants. Returns nullopt after adding errors.
auto LoadOnnx(std::string_view file, std::string_view bytes, diag::Sink& sink,
              const Limits& limits = {}) -> std::optional<graph::Graph>;

}  // namespace ferry::onnx

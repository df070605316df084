// weights.bin: the bundle's constants in one binary file, read by the
// runtime's weights reader (stdlib/runtime/weights.h). Layout, little-endian:
//   "FERRYW1\0"                      8 bytes of magic
//   u64 count
//   count entries: u32 name length, name bytes, u32 dtype (0 float32, 1 int64),
//                  u64 offset (from the start of the file), u64 byte size
//   the data of each tensor at its offset, every offset a multiple of 64.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/graph/graph.h"

namespace ferry::codegen {

/// One tensor of a weights file.
struct WeightsEntry {
  std::string name;
  graph::DType dtype = graph::DType::kFloat32;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

/// A named constant to write.
struct NamedTensor {
  std::string name;
  graph::DType dtype = graph::DType::kFloat32;
  const graph::TensorData* data = nullptr;
};

/// The bytes of a weights file holding `tensors` (float32 or int64) in order.
auto WriteWeights(const std::vector<NamedTensor>& tensors) -> std::string;

/// The entries of a weights file, or nullopt when it is malformed (the
/// runtime has its own reader; this one serves tests and tools).
auto ReadWeightsIndex(std::string_view bytes) -> std::optional<std::vector<WeightsEntry>>;

}  // namespace ferry::codegen

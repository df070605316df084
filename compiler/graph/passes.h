// The graph passes between the front end and the back ends: shape
// inference, constant folding, fusion, dead-node removal and the memory plan.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/graph/graph.h"

namespace ferry::graph {

/// Sets the dtype and shape of every node output from the graph's inputs and
/// constants (symbolic dimensions such as the batch flow through). Reports
/// E0806 (unresolvable) and E0807 (invalid) naming the node; false on error.
auto InferShapes(Graph& graph, diag::Sink& sink) -> bool;

/// Evaluates nodes whose inputs are all constants (elementwise arithmetic,
/// Transpose, Reshape, Identity, Concat, Flatten, ...) into constants, up to
/// `max_elements` per result. Returns the number of nodes folded.
auto FoldConstants(Graph& graph, std::int64_t max_elements = std::int64_t{1} << 22) -> int;

/// Folds BatchNormalization into the Conv before it and merges MatMul + Add
/// into Gemm, and a following Relu/Sigmoid/Tanh/Clip into the Gemm or Conv's
/// activation epilogue. Needs inferred shapes. Returns the number of nodes removed.
auto Fuse(Graph& graph) -> int;

/// Drops nodes none of whose outputs reach a graph output, and unused constants.
auto RemoveDeadNodes(Graph& graph) -> int;

/// A size or offset in bytes that may grow with the batch: per_batch * B + fixed.
struct Extent {
  std::int64_t per_batch = 0;
  std::int64_t fixed = 0;
  auto At(std::int64_t batch) const -> std::int64_t { return per_batch * batch + fixed; }
  auto operator==(const Extent&) const -> bool = default;
};

/// Where one intermediate tensor lives in the arena.
struct Buffer {
  ValueId value = kNoValue;
  Extent offset;
  Extent size;
  /// Index of the node that writes it and of the last node that reads it.
  std::size_t first_node = 0;
  std::size_t last_node = 0;
};

/// Intermediate float/int64 tensors placed in one arena, reusing the space of
/// tensors no longer live. Graph inputs, outputs and constants are not in it;
/// tensors whose size is not per_batch * B + fixed (strings, other symbolic
/// dims) are listed in `dynamic` and get their own storage.
struct MemoryPlan {
  /// The symbol the arena's extents are linear in ("" when every shape is known).
  std::string batch_symbol;
  std::vector<Buffer> buffers;
  std::vector<ValueId> dynamic;
  Extent arena;
  /// The sum of all buffers' sizes: the arena without reuse.
  Extent naive;
};

/// Offsets are 64-byte aligned; two buffers overlap only if never live together.
auto PlanMemory(const Graph& graph) -> MemoryPlan;

/// The symbol of the batch dimension: dimension 0 of the first graph input, if symbolic.
auto BatchSymbol(const Graph& graph) -> std::string;

/// Shape inference, then folding, fusion and dead-node removal to a fixed
/// point; false (with diagnostics) when the graph cannot be compiled.
auto Optimize(Graph& graph, diag::Sink& sink) -> bool;

}  // namespace ferry::graph

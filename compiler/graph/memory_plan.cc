// The memory plan: intermediate tensors share one arena, a tensor reusing
// the bytes of tensors that are dead by the time it is written.
#include <algorithm>

#include "compiler/graph/passes.h"

namespace ferry::graph {
namespace {

constexpr std::int64_t kAlignment = 64;
/// The batch size the greedy placement compares sizes at.
constexpr std::int64_t kReferenceBatch = 32;

auto AlignUp(std::int64_t bytes) -> std::int64_t {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

/// The byte size of `value` as per_batch * B + fixed, or nullopt when it is
/// not linear in the batch symbol (strings, other symbols).
auto SizeOf(const Value& value, const std::string& batch) -> std::optional<Extent> {
  if (value.dtype == DType::kString || !value.has_shape) return std::nullopt;
  std::int64_t bytes = value.dtype == DType::kFloat32 ? 4 : 8;
  bool batched = false;
  for (const Dim& dim : value.shape) {
    if (dim.known()) {
      bytes *= dim.size;
    } else if (dim.symbol == batch && !batched) {
      batched = true;
    } else {
      return std::nullopt;
    }
  }
  // Per-batch sizes are padded too, so every offset stays aligned at any batch.
  if (batched) return Extent{.per_batch = AlignUp(bytes), .fixed = 0};
  return Extent{.per_batch = 0, .fixed = AlignUp(bytes)};
}

auto Plus(const Extent& a, const Extent& b) -> Extent {
  return Extent{.per_batch = a.per_batch + b.per_batch, .fixed = a.fixed + b.fixed};
}

/// a <= b at every batch size (component-wise).
auto NotAfter(const Extent& a, const Extent& b) -> bool {
  return a.per_batch <= b.per_batch && a.fixed <= b.fixed;
}

auto Max(const Extent& a, const Extent& b) -> Extent {
  return Extent{.per_batch = std::max(a.per_batch, b.per_batch),
                .fixed = std::max(a.fixed, b.fixed)};
}

/// The lowest offset at which `buffer` overlaps none of `placed` that are live
/// at the same time, for every batch size.
auto Place(const Buffer& buffer, const std::vector<Buffer>& placed) -> Extent {
  std::vector<const Buffer*> conflicts;
  for (const Buffer& other : placed) {
    if (other.first_node <= buffer.last_node && buffer.first_node <= other.last_node) {
      conflicts.push_back(&other);
    }
  }
  std::vector<Extent> candidates = {Extent{}};
  for (const Buffer* other : conflicts) candidates.push_back(Plus(other->offset, other->size));
  std::sort(candidates.begin(), candidates.end(), [](const Extent& a, const Extent& b) {
    return std::pair(a.At(kReferenceBatch), a.fixed) < std::pair(b.At(kReferenceBatch), b.fixed);
  });
  for (const Extent& candidate : candidates) {
    bool fits = std::all_of(conflicts.begin(), conflicts.end(), [&](const Buffer* other) {
      return NotAfter(Plus(candidate, buffer.size), other->offset) ||
             NotAfter(Plus(other->offset, other->size), candidate);
    });
    if (fits) return candidate;
  }
  // Past every conflicting buffer always fits.
  Extent end;
  for (const Buffer* other : conflicts) end = Max(end, Plus(other->offset, other->size));
  return end;
}

}  // namespace

auto BatchSymbol(const Graph& graph) -> std::string {
  if (graph.inputs.empty()) return "";
  const Value& first = graph.value(graph.inputs[0]);
  if (first.shape.empty() || first.shape[0].known()) return "";
  return first.shape[0].symbol;
}

auto PlanMemory(const Graph& graph) -> MemoryPlan {
  MemoryPlan plan;
  plan.batch_symbol = BatchSymbol(graph);
  std::vector<bool> is_output(graph.values.size(), false);
  for (ValueId id : graph.outputs) is_output[static_cast<std::size_t>(id)] = true;
  std::vector<std::size_t> last_use(graph.values.size(), 0);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ValueId id : graph.nodes[n].inputs) {
      if (id != kNoValue) last_use[static_cast<std::size_t>(id)] = n;
    }
  }
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ValueId id : graph.nodes[n].outputs) {
      if (id == kNoValue || is_output[static_cast<std::size_t>(id)]) continue;
      std::optional<Extent> size = SizeOf(graph.value(id), plan.batch_symbol);
      if (!size) {
        plan.dynamic.push_back(id);
        continue;
      }
      plan.buffers.push_back(Buffer{.value = id, .offset = {}, .size = *size, .first_node = n,
                                    .last_node = std::max(n, last_use[std::size_t(id)])});
      plan.naive = Plus(plan.naive, *size);
    }
  }
  // Largest first, ties in graph order: the classic greedy-by-size heuristic.
  std::vector<std::size_t> order(plan.buffers.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return plan.buffers[a].size.At(kReferenceBatch) > plan.buffers[b].size.At(kReferenceBatch);
  });
  std::vector<Buffer> placed;
  for (std::size_t i : order) {
    Buffer& buffer = plan.buffers[i];
    buffer.offset = Place(buffer, placed);
    placed.push_back(buffer);
    plan.arena = Max(plan.arena, Plus(buffer.offset, buffer.size));
  }
  return plan;
}

}  // namespace ferry::graph

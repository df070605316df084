// Dead-node removal and the pass pipeline.
#include "compiler/graph/passes.h"

namespace ferry::graph {

auto RemoveDeadNodes(Graph& graph) -> int {
  std::vector<bool> live(graph.values.size(), false);
  for (ValueId id : graph.outputs) live[static_cast<std::size_t>(id)] = true;
  std::vector<bool> keep(graph.nodes.size(), false);
  for (std::size_t n = graph.nodes.size(); n > 0; --n) {
    const Node& node = graph.nodes[n - 1];
    for (ValueId id : node.outputs) {
      if (id != kNoValue && live[static_cast<std::size_t>(id)]) keep[n - 1] = true;
    }
    if (!keep[n - 1]) continue;
    for (ValueId id : node.inputs) {
      if (id != kNoValue) live[static_cast<std::size_t>(id)] = true;
    }
  }
  std::vector<Node> kept;
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    if (keep[n]) kept.push_back(std::move(graph.nodes[n]));
  }
  int removed = static_cast<int>(graph.nodes.size() - kept.size());
  graph.nodes = std::move(kept);
  return removed;
}

auto Optimize(Graph& graph, diag::Sink& sink) -> bool {
  if (!InferShapes(graph, sink)) return false;
  FoldConstants(graph);
  Fuse(graph);
  RemoveDeadNodes(graph);
  return true;
}

}  // namespace ferry::graph

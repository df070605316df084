// Loading a test model and running the graph passes, for the graph tests.
#pragma once

#include <doctest/doctest.h>

#include "compiler/graph/passes.h"
#include "compiler/onnx/load_onnx.h"
#include "tests/onnx/test_models.h"

namespace ferry::testing {

/// Loads tests/onnx/models/NAME.onnx; fails the test when it does not load.
inline auto LoadTestGraph(const std::string& name) -> graph::Graph {
  diag::Sink sink;
  std::optional<graph::Graph> graph = onnx::LoadOnnx(name + ".onnx", TestModel(name), sink);
  REQUIRE(graph);
  return std::move(*graph);
}

/// The shape of the value named `name`, as text ("" when absent).
inline auto ShapeOf(const graph::Graph& graph, const std::string& name) -> std::string {
  for (const graph::Value& value : graph.values) {
    if (value.name == name) {
      return std::string(graph::DTypeName(value.dtype)) + graph::ShapeString(value.shape);
    }
  }
  return "";
}

}  // namespace ferry::testing

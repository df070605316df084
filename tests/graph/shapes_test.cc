// Shape inference over the test models: every operator's rule, symbolic
// batch dimensions, and the errors for invalid and unresolvable shapes.
#include <doctest/doctest.h>

#include "tests/graph/graph_test_util.h"

namespace ferry::graph {
namespace {

using testing::LoadTestGraph;
using testing::ShapeOf;

auto Inferred(const std::string& name) -> Graph {
  Graph graph = LoadTestGraph(name);
  diag::Sink sink;
  CHECK(InferShapes(graph, sink));
  CHECK(sink.diagnostics().empty());
  return graph;
}

/// The only diagnostic of inferring NAME, as "CODE path: message".
auto InferError(const std::string& name) -> std::string {
  Graph graph = LoadTestGraph(name);
  diag::Sink sink;
  CHECK(!InferShapes(graph, sink));
  REQUIRE(sink.diagnostics().size() == 1);
  const diag::Diagnostic& d = sink.diagnostics()[0];
  return std::string(diag::Info(d.code).code) + " " + d.path + ": " + d.message;
}

TEST_CASE("MLP: MatMul, Add, Relu, Gemm (transB), Tanh, Softmax") {
  Graph graph = Inferred("mlp");
  CHECK(ShapeOf(graph, "h1") == "float32[batch, 8]");
  CHECK(ShapeOf(graph, "a1") == "float32[batch, 8]");
  CHECK(ShapeOf(graph, "h2") == "float32[batch, 6]");
  CHECK(ShapeOf(graph, "probabilities") == "float32[batch, 3]");
}

TEST_CASE("CNN: Conv (pads, groups), BatchNormalization, pools, Flatten, TopK, ArgMax") {
  Graph graph = Inferred("cnn");
  CHECK(ShapeOf(graph, "c1") == "float32[batch, 4, 8, 8]");
  CHECK(ShapeOf(graph, "n1") == "float32[batch, 4, 8, 8]");
  CHECK(ShapeOf(graph, "p1") == "float32[batch, 4, 4, 4]");
  CHECK(ShapeOf(graph, "c2") == "float32[batch, 6, 4, 4]");
  CHECK(ShapeOf(graph, "p2") == "float32[batch, 6, 2, 2]");
  CHECK(ShapeOf(graph, "g") == "float32[batch, 6, 1, 1]");
  CHECK(ShapeOf(graph, "flat") == "float32[batch, 6]");
  CHECK(ShapeOf(graph, "scores") == "float32[batch, 5]");
  CHECK(ShapeOf(graph, "top_scores") == "float32[batch, 2]");
  CHECK(ShapeOf(graph, "top_classes") == "int64[batch, 2]");
  CHECK(ShapeOf(graph, "best") == "int64[batch]");
}

TEST_CASE("Transpose, Concat, Reshape (0 and -1), Identity, broadcasting, Clip, Sigmoid") {
  Graph graph = Inferred("shapes");
  CHECK(ShapeOf(graph, "xt") == "float32[batch, 2, 3]");
  CHECK(ShapeOf(graph, "cat") == "float32[batch, 2, 6]");
  CHECK(ShapeOf(graph, "flat") == "float32[batch, 12]");
  CHECK(ShapeOf(graph, "scaled") == "float32[batch, 12]");
  CHECK(ShapeOf(graph, "halved") == "float32[batch, 12]");
  CHECK(ShapeOf(graph, "y") == "float32[batch, 12]");
}

TEST_CASE("ONNX-ML operators: labels and probabilities per row") {
  Graph linear = Inferred("linear_classifier");
  CHECK(ShapeOf(linear, "xs") == "float32[batch, 3]");
  CHECK(ShapeOf(linear, "label") == "int64[batch]");
  CHECK(ShapeOf(linear, "probabilities") == "float32[batch, 3]");
  CHECK(ShapeOf(Inferred("linear_regressor"), "z") == "float32[batch, 1]");
  CHECK(ShapeOf(Inferred("tree_regressor"), "y") == "float32[batch, 1]");
  Graph trees = Inferred("tree_classifier");
  CHECK(ShapeOf(trees, "label") == "int64[batch]");
  CHECK(ShapeOf(trees, "probabilities") == "float32[batch, 2]");
}

TEST_CASE("text: StringNormalizer's word count is symbolic, TfIdfVectorizer's width is not") {
  Graph graph = Inferred("text");
  CHECK(ShapeOf(graph, "lower") == "string[1, normalize:words]");
  CHECK(ShapeOf(graph, "tfidf") == "float32[1, 4]");
}

TEST_CASE("every sample model's shapes resolve") {
  for (const std::string& path : testing::SampleModelPaths()) {
    CAPTURE(path);
    diag::Sink sink;
    std::optional<Graph> graph = onnx::LoadOnnx(
        path, testing::ReadFileBytes(std::string(FERRY_SOURCE_DIR) + "/" + path), sink);
    REQUIRE(graph);
    CHECK(InferShapes(*graph, sink));
    CHECK(sink.diagnostics().empty());
    for (ValueId id : graph->outputs) CHECK(graph->value(id).has_shape);
  }
}

TEST_CASE("invalid input shapes name the node, the op type and the shapes") {
  CHECK(InferError("bad_gemm_shapes") ==
        "E0807 node 'fc' (Gemm): A [batch, 3] and B [4, 3] have inner dimensions 3 and 4");
}

TEST_CASE("a dynamic dimension that must be known is an unresolvable shape") {
  CHECK(InferError("bad_dynamic") ==
        "E0806 node 'fc' (Gemm): the inner and output dimensions of [batch, features] x [3, 3] "
        "must be known");
}

TEST_CASE("a Reshape whose target is computed at run time cannot be resolved") {
  Graph graph = LoadTestGraph("shapes");
  // Make the target a computed tensor: drop its constant data.
  for (Value& value : graph.values) {
    if (value.name == "target") value.constant.reset();
  }
  diag::Sink sink;
  CHECK(!InferShapes(graph, sink));
  REQUIRE(!sink.diagnostics().empty());
  CHECK(sink.diagnostics()[0].code == diag::Code::kOnnxShape);
  CHECK(sink.diagnostics()[0].path == "node 'reshape' (Reshape)");
}

}  // namespace
}  // namespace ferry::graph

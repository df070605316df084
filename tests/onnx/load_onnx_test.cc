// The ONNX front end: good models load into the graph IR; each kind of bad
// model gets its own diagnostic naming the node, the op type and what is supported.
#include "compiler/onnx/load_onnx.h"

#include <doctest/doctest.h>

#include "tests/onnx/test_models.h"

namespace ferry::onnx {
namespace {

using graph::DType;

auto Load(const std::string& name, diag::Sink& sink) -> std::optional<graph::Graph> {
  std::string bytes = testing::TestModel(name);
  REQUIRE(!bytes.empty());
  return LoadOnnx(name + ".onnx", bytes, sink);
}

/// Loads a bad model and returns its only diagnostic's "CODE path: message".
auto OnlyError(const std::string& name) -> std::string {
  diag::Sink sink;
  std::optional<graph::Graph> graph = Load(name, sink);
  CHECK(!graph);
  REQUIRE(sink.diagnostics().size() == 1);
  const diag::Diagnostic& d = sink.diagnostics()[0];
  CHECK(d.location.file == name + ".onnx");
  return std::string(diag::Info(d.code).code) + " " + d.path + ": " + d.message;
}

TEST_CASE("the MLP loads with its inputs, initializers and nodes in order") {
  diag::Sink sink;
  std::optional<graph::Graph> graph = Load("mlp", sink);
  REQUIRE(graph);
  CHECK(sink.diagnostics().empty());
  CHECK(graph->opset == 13);
  REQUIRE(graph->inputs.size() == 1);
  const graph::Value& x = graph->value(graph->inputs[0]);
  CHECK(x.name == "x");
  CHECK(x.dtype == DType::kFloat32);
  CHECK(graph::ShapeString(x.shape) == "[batch, 4]");
  REQUIRE(graph->nodes.size() == 7);
  CHECK(graph->nodes[0].name == "fc1");
  CHECK(graph->nodes[3].op_type == "Gemm");
  CHECK(graph->nodes[3].Int("transB", 0) == 1);
  const graph::TensorData* w1 = graph->Constant(graph->nodes[0].inputs[1]);
  REQUIRE(w1 != nullptr);
  CHECK(w1->f32.size() == 32);
  CHECK(graph::ShapeString(graph->value(graph->nodes[0].inputs[1]).shape) == "[4, 8]");
}

TEST_CASE("ML and text models load with their domains and attributes") {
  diag::Sink sink;
  std::optional<graph::Graph> trees = Load("tree_classifier", sink);
  REQUIRE(trees);
  CHECK(trees->ml_opset == 3);
  CHECK(trees->nodes[0].domain == "ai.onnx.ml");
  CHECK(trees->nodes[0].Strings("nodes_modes").size() == 6);
  CHECK(trees->nodes[0].String("post_transform", "") == "LOGISTIC");
  std::optional<graph::Graph> text = Load("text", sink);
  REQUIRE(text);
  CHECK(text->value(text->inputs[0]).dtype == DType::kString);
  CHECK(graph::ShapeString(text->value(text->inputs[0]).shape) == "[1, words]");
  CHECK(sink.diagnostics().empty());
}

TEST_CASE("every sample model loads") {
  for (const std::string& path : testing::SampleModelPaths()) {
    CAPTURE(path);
    diag::Sink sink;
    std::string bytes = testing::ReadFileBytes(std::string(FERRY_SOURCE_DIR) + "/" + path);
    REQUIRE(!bytes.empty());
    CHECK(LoadOnnx(path, bytes, sink).has_value());
    CHECK(sink.diagnostics().empty());
  }
}

TEST_CASE("an unsupported operator is named with its node and the supported list") {
  std::string error = OnlyError("bad_operator");
  CHECK(error.starts_with(
      "E0804 node 'erf' (Erf): operator 'Erf' is not supported; supported: Add, ArgMax, "));
  CHECK(error.find("; ai.onnx.ml: LinearClassifier, ") != std::string::npos);
}

TEST_CASE("an opset outside the supported range is reported with the range") {
  CHECK(OnlyError("bad_opset") ==
        "E0803 opset_import: the model imports ONNX opset 9; supported: 11 to 17");
}

TEST_CASE("structural errors: a dangling input, a cycle, a short tensor") {
  CHECK(OnlyError("bad_dangling") ==
        "E0802 node 'add' (Add): reads tensor 'missing', which no node, graph input or "
        "initializer provides");
  CHECK(OnlyError("bad_cycle") == "E0802 node 'add_a' (Add): the node is part of a cycle");
  CHECK(OnlyError("bad_tensor_size") ==
        "E0802 initializer 'w': tensor 'w' declares 9 elements but holds 3");
}

TEST_CASE("an unsupported element type and external data are reported") {
  CHECK(OnlyError("bad_dtype") ==
        "E0805 graph input 'h': element type 10 is not supported; supported: float32, int64, "
        "string");
  CHECK(OnlyError("bad_external") ==
        "E0808 initializer 'w': tensor 'w' keeps its data in an external file");
}

TEST_CASE("a tensor declaring 2^62 elements with no data is rejected before allocating") {
  CHECK(OnlyError("bad_huge_tensor") ==
        "E0809 initializer 'w': tensor has more than 2^32 elements");
}

TEST_CASE("bytes that are not an ONNX model") {
  diag::Sink sink;
  CHECK(!LoadOnnx("empty.onnx", "", sink));
  CHECK(!LoadOnnx("text.onnx", "ferry: 1\nproject: x\n", sink));
  CHECK(!LoadOnnx("zeros.onnx", std::string(64, '\0'), sink));
  REQUIRE(sink.diagnostics().size() == 3);
  for (const diag::Diagnostic& d : sink.diagnostics()) CHECK(d.code == diag::Code::kOnnxNotAModel);
  CHECK(sink.diagnostics()[0].message == "the file is empty");
}

TEST_CASE("the size limits reject a file, a rank or a dimension beyond them") {
  std::string bytes = testing::TestModel("cnn");
  diag::Sink sink;
  Limits file;
  file.max_file_bytes = 100;
  Limits rank;
  rank.max_rank = 3;
  Limits dim;
  dim.max_dim = 4;
  Limits nodes;
  nodes.max_nodes = 3;
  for (const Limits& limits : {file, rank, dim, nodes}) {
    CHECK(!LoadOnnx("cnn.onnx", bytes, sink, limits));
  }
  REQUIRE(!sink.diagnostics().empty());
  for (const diag::Diagnostic& d : sink.diagnostics()) CHECK(d.code == diag::Code::kOnnxLimits);
}

}  // namespace
}  // namespace ferry::onnx

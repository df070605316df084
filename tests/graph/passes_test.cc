// Constant folding, fusion, dead-node removal and the memory plan.
#include <doctest/doctest.h>

#include "tests/graph/graph_test_util.h"

namespace ferry::graph {
namespace {

using testing::LoadTestGraph;

auto Optimized(const std::string& name) -> Graph {
  Graph graph = LoadTestGraph(name);
  diag::Sink sink;
  REQUIRE(Optimize(graph, sink));
  return graph;
}

auto OpTypes(const Graph& graph) -> std::string {
  std::string out;
  for (const Node& node : graph.nodes) {
    out += (out.empty() ? "" : " ") + node.op_type;
    if (node.activation != Activation::kNone) out += "+" + std::string(ActivationName(node.activation));
  }
  return out;
}

TEST_CASE("constant subgraphs fold into one constant") {
  Graph graph = LoadTestGraph("folding");
  diag::Sink sink;
  REQUIRE(InferShapes(graph, sink));
  CHECK(FoldConstants(graph) == 3);
  REQUIRE(graph.nodes.size() == 2);
  const TensorData* w = graph.Constant(graph.nodes[0].inputs[1]);
  const TensorData* wa = nullptr;
  const TensorData* wb = nullptr;
  for (ValueId id = 0; id < static_cast<ValueId>(graph.values.size()); ++id) {
    if (graph.value(id).name == "wa") wa = graph.Constant(id);
    if (graph.value(id).name == "wb") wb = graph.Constant(id);
  }
  REQUIRE(w != nullptr);
  REQUIRE(wa != nullptr);
  REQUIRE(wb != nullptr);
  // w = transpose((wa + wb) * 0.5): w[i][j] = mean of wa[j][i] and wb[j][i], wa being 2x3.
  REQUIRE(w->f32.size() == 6);
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 2; ++j) {
      CHECK(w->f32[i * 2 + j] == doctest::Approx((wa->f32[j * 3 + i] + wb->f32[j * 3 + i]) * 0.5F));
    }
  }
}

TEST_CASE("fusion: MatMul+Add+Relu and Gemm+Tanh become Gemms with epilogues") {
  Graph graph = Optimized("mlp");
  CHECK(OpTypes(graph) == "Gemm+relu Gemm+tanh Gemm Softmax");
  CHECK(graph.nodes[0].fused_from == std::vector<std::string>{"fc1", "fc1_bias", "relu1"});
  CHECK(graph.nodes[0].inputs.size() == 3);
}

TEST_CASE("fusion: Conv+BatchNormalization+Relu becomes one Conv") {
  Graph graph = Optimized("cnn");
  CHECK(OpTypes(graph) ==
        "Conv+relu MaxPool Conv AveragePool GlobalAveragePool Flatten Gemm TopK ArgMax");
  CHECK(graph.nodes[0].fused_from == std::vector<std::string>{"conv1", "bn1", "relu1"});
  CHECK(graph.value(graph.nodes[0].outputs[0]).name == "r1");
}

TEST_CASE("BatchNormalization folds into the Conv's weights and bias exactly") {
  Graph graph;
  graph.source = "inline";
  auto constant = [&graph](const std::string& name, Shape shape, std::vector<float> data) {
    Value value;
    value.name = name;
    value.shape = std::move(shape);
    value.has_shape = true;
    value.constant = TensorData{.f32 = std::move(data), .i64 = {}, .str = {}};
    return graph.AddValue(std::move(value));
  };
  Value x;
  x.name = "x";
  x.shape = {Dim{0, "batch"}, Dim{1, {}}, Dim{2, {}}, Dim{2, {}}};
  x.has_shape = true;
  graph.inputs = {graph.AddValue(x)};
  ValueId w = constant("w", KnownShape({2, 1, 1, 1}), {2, 3});
  ValueId b = constant("b", KnownShape({2}), {1, 1});
  ValueId scale = constant("scale", KnownShape({2}), {1, 2});
  ValueId beta = constant("beta", KnownShape({2}), {0, 1});
  ValueId mean = constant("mean", KnownShape({2}), {1, 0});
  ValueId var = constant("var", KnownShape({2}), {3, 0});
  Value c;
  c.name = "c";
  ValueId conv_out = graph.AddValue(c);
  c.name = "y";
  ValueId y = graph.AddValue(c);
  graph.outputs = {y};
  Node conv{.name = "conv", .op_type = "Conv", .domain = "", .inputs = {graph.inputs[0], w, b},
            .outputs = {conv_out}, .attributes = {}, .activation = Activation::kNone,
            .clip_min = 0, .clip_max = 0, .fused_from = {"conv"}};
  Node bn{.name = "bn", .op_type = "BatchNormalization", .domain = "",
          .inputs = {conv_out, scale, beta, mean, var}, .outputs = {y},
          .attributes = {{"epsilon", 1.0F}}, .activation = Activation::kNone, .clip_min = 0,
          .clip_max = 0, .fused_from = {"bn"}};
  graph.nodes = {conv, bn};
  diag::Sink sink;
  REQUIRE(InferShapes(graph, sink));
  CHECK(Fuse(graph) == 1);
  REQUIRE(graph.nodes.size() == 1);
  // factor = scale / sqrt(var + eps) = {0.5, 2}; b' = (b - mean) * factor + beta.
  CHECK(graph.Constant(graph.nodes[0].inputs[1])->f32 == std::vector<float>{1, 6});
  CHECK(graph.Constant(graph.nodes[0].inputs[2])->f32 == std::vector<float>{0, 3});
  CHECK(graph.nodes[0].outputs[0] == y);
}

TEST_CASE("nodes whose results reach no output are removed") {
  Graph graph = LoadTestGraph("cnn");
  diag::Sink sink;
  REQUIRE(InferShapes(graph, sink));
  graph.outputs.pop_back();  // drop 'best': the ArgMax is dead
  CHECK(RemoveDeadNodes(graph) == 1);
  CHECK(graph.nodes.back().op_type == "TopK");
}

TEST_CASE("the memory plan reuses the space of dead tensors") {
  Graph graph = Optimized("mlp");
  MemoryPlan plan = PlanMemory(graph);
  CHECK(plan.batch_symbol == "batch");
  REQUIRE(plan.buffers.size() == 3);
  // Three 64-byte-per-row buffers in a chain: the first and third share space.
  CHECK(plan.naive == Extent{.per_batch = 192, .fixed = 0});
  CHECK(plan.arena == Extent{.per_batch = 128, .fixed = 0});
}

TEST_CASE("no two buffers live at once overlap, at any batch size, in any model") {
  std::vector<std::string> models = testing::GoodTestModels();
  for (const std::string& name : models) {
    CAPTURE(name);
    Graph graph = Optimized(name);
    MemoryPlan plan = PlanMemory(graph);
    for (std::int64_t batch : {1, 7, 32, 1000}) {
      for (const Buffer& a : plan.buffers) {
        CHECK(a.offset.At(batch) % 64 == 0);
        CHECK(a.offset.At(batch) + a.size.At(batch) <= plan.arena.At(batch));
        for (const Buffer& b : plan.buffers) {
          if (&a == &b || a.last_node < b.first_node || b.last_node < a.first_node) continue;
          bool apart = a.offset.At(batch) + a.size.At(batch) <= b.offset.At(batch) ||
                       b.offset.At(batch) + b.size.At(batch) <= a.offset.At(batch);
          CHECK(apart);
        }
      }
    }
    CHECK(plan.arena.At(32) <= plan.naive.At(32));
  }
}

}  // namespace
}  // namespace ferry::graph

// The pieces of generated code the back ends share (generated_cpp.h,
// bundle_assembly.h): literals that compile to the bytes given, sizes as
// expressions over bound symbols, the attribute logic both emitters lower
// alike (Gemm's bias broadcast, auto_pad), the TensorInfo tables, and the
// bundle's template, models.cc and embedded folders.
#include "compiler/codegen/generated_cpp.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "compiler/codegen/backend.h"
#include "compiler/codegen/bundle_assembly.h"

namespace ferry::codegen {
namespace {

using graph::Dim;
using graph::KnownShape;
using graph::Shape;

auto Symbol(const std::string& name) -> Dim { return Dim{0, name}; }
auto Sized(std::int64_t size) -> Dim { return Dim{size, ""}; }

auto AddTensor(graph::Graph& graph, const std::string& name, graph::DType dtype, Shape shape)
    -> graph::ValueId {
  graph::Value value;
  value.name = name;
  value.dtype = dtype;
  value.shape = std::move(shape);
  value.has_shape = true;
  return graph.AddValue(std::move(value));
}

/// A model of a bundle for the bundle-level helpers (no graph behind it).
auto Model(const graph::Graph& graph, const graph::MemoryPlan& plan,
           const std::vector<Weight>& weights, Isa isa, const std::string& name) -> Lowering {
  // graph, plan, weights, weights_sha256, isa, name, folder, cpp_namespace, calibration, stages
  return Lowering{
      graph,   plan, weights, "", isa, name, "models/" + name + "/", "ferry_rt::" + name,
      nullptr, {}};
}

TEST_CASE("C++ literals: strings byte for byte, identifiers, floats that read back") {
  CHECK(CppStringLiteral("plain text") == "\"plain text\"");
  CHECK(CppStringLiteral("a\"b\\c") == "\"a\\\"b\\\\c\"");
  // Control and non-ASCII bytes as three octal digits; '?' too, so no trigraph forms.
  CHECK(CppStringLiteral("\n\x7f\xff?") == "\"\\012\\177\\377\\077\"");
  CHECK(CppStringLiteral(std::string("\0"
                                     "1",
                                     2)) == "\"\\0001\"");
  CHECK(CppStringList({}) == "{}");
  CHECK(CppStringList({"cat", "dog"}) == "{\"cat\", \"dog\"}");

  CHECK(CppIdentifier("w_", "conv1/weight:0") == "w_conv1_weight_0");
  CHECK(CppIdentifier("", "dense-2.bias") == "dense_2_bias");

  CHECK(CppFloatLiteral(0.1F, "INFINITY") == "1.000000015e-01f");
  CHECK(CppFloatLiteral(-2.0F, "INFINITY") == "-2.000000000e+00f");
  CHECK(CppFloatLiteral(std::numeric_limits<float>::infinity(), "INFINITY") == "INFINITY");
  CHECK(CppFloatLiteral(-std::numeric_limits<float>::infinity(), "std::inf()") == "-std::inf()");
  for (float value : {0.1F, 1.0F / 3.0F, 3.4028235e38F, 1.17549435e-38F, 1.4e-45F, -7.25F}) {
    const std::string literal = CppFloatLiteral(value, "INFINITY");
    CHECK_MESSAGE(std::strtof(literal.c_str(), nullptr) == value, literal);
  }
  CHECK(RuntimeDTypeExpr(graph::DType::kInt64) == "DType::kInt64");
  CHECK(RuntimeDTypeExpr(graph::DType::kString) == "DType::kString");
}

TEST_CASE("sizes: known factors folded, symbols as their bound expressions") {
  graph::Graph graph;
  graph.inputs.push_back(
      AddTensor(graph, "x", graph::DType::kFloat32, {Symbol("N"), Sized(3), Sized(4)}));
  graph.inputs.push_back(AddTensor(graph, "y", graph::DType::kFloat32, {Symbol("N"), Symbol("T")}));
  SizeExprs sizes;
  sizes.BindInputs(graph);
  const Shape& x = graph.value(graph.inputs[0]).shape;
  // A symbol is bound to its first use.
  CHECK(sizes.Size(Symbol("N")) == "in[0].shape[0]");
  CHECK(sizes.Size(Symbol("T")) == "in[1].shape[1]");
  CHECK(sizes.Dims(x) == "Dims{in[0].shape[0], 3, 4}");
  CHECK(sizes.Product(x, 0, 3) == "12 * in[0].shape[0]");
  CHECK(sizes.Product(x, 0, 1) == "in[0].shape[0]");
  CHECK(sizes.Product(x, 1, 3) == "12");
  CHECK(sizes.Product(x, 3, 3) == "1");
  CHECK(sizes.Count(KnownShape({2, 5})) == "10");
  CHECK(sizes.unresolved().empty());

  CHECK(sizes.Product({Sized(2), Symbol("W")}, 0, 2) == "2 * 0");
  CHECK(sizes.unresolved() == "W");
  sizes.ClearUnresolved();
  sizes.Bind("W", "t7_.shape[1]");
  CHECK(sizes.Product({Sized(2), Symbol("W")}, 0, 2) == "2 * t7_.shape[1]");
  CHECK(sizes.unresolved().empty());
}

TEST_CASE("Gemm's bias broadcast, axes and Transpose's permutation") {
  CHECK(GemmBiasShape(KnownShape({1})) == "kScalar");
  CHECK(GemmBiasShape(KnownShape({1, 1})) == "kScalar");
  CHECK(GemmBiasShape(KnownShape({5})) == "kRow");
  CHECK(GemmBiasShape(KnownShape({1, 5})) == "kRow");
  CHECK(GemmBiasShape(KnownShape({5, 1})) == "kColumn");
  CHECK(GemmBiasShape({Symbol("M"), Sized(1)}) == "kColumn");
  CHECK(GemmBiasShape(KnownShape({5, 7})) == "kFull");

  CHECK(NormalizeAxis(-1, 4) == 3U);
  CHECK(NormalizeAxis(1, 4) == 1U);

  graph::Node transpose;
  CHECK(TransposePermExpr(transpose, 3) == "Dims{2, 1, 0}");
  transpose.attributes["perm"] = std::vector<std::int64_t>{0, 2, 3, 1};
  CHECK(TransposePermExpr(transpose, 4) == "Dims{0, 2, 3, 1}");
}

TEST_CASE("Clip's bounds and Conv's kernel: attributes, constant inputs, defaults") {
  graph::Graph graph;
  graph::Node clip;
  clip.op_type = "Clip";
  clip.inputs = {AddTensor(graph, "x", graph::DType::kFloat32, KnownShape({4}))};
  CHECK(ClipBounds(graph, clip) == std::array<float, 2>{-std::numeric_limits<float>::infinity(),
                                                        std::numeric_limits<float>::infinity()});
  clip.attributes["min"] = 0.5F;
  CHECK(ClipBounds(graph, clip) ==
        std::array<float, 2>{0.5F, std::numeric_limits<float>::infinity()});
  // Opset 11: the inputs; an omitted one keeps the default.
  graph::Value max;
  max.name = "max";
  max.has_shape = true;
  max.constant = graph::TensorData{.f32 = {6.0F}, .i64 = {}, .str = {}};
  clip.inputs = {clip.inputs[0], graph::kNoValue, graph.AddValue(max)};
  CHECK(ClipBounds(graph, clip) == std::array<float, 2>{0.5F, 6.0F});
  clip.inputs[1] = AddTensor(graph, "computed", graph::DType::kFloat32, {});
  CHECK_FALSE(ClipBounds(graph, clip).has_value());

  graph::Node conv;
  CHECK(ConvKernel(conv, KnownShape({8, 3, 5, 3})) == std::vector<std::int64_t>{5, 3});
  conv.attributes["kernel_shape"] = std::vector<std::int64_t>{2, 2};
  CHECK(ConvKernel(conv, KnownShape({8, 3, 5, 3})) == std::vector<std::int64_t>{2, 2});
}

TEST_CASE("window geometry: explicit pads, SAME_UPPER and SAME_LOWER, 1-D in the width slot") {
  graph::Node conv;
  conv.attributes["pads"] = std::vector<std::int64_t>{1, 2, 3, 4};
  conv.attributes["strides"] = std::vector<std::int64_t>{2, 1};
  Window w = WindowGeometry(conv, {3, 3}, KnownShape({1, 3, 8, 8}), KnownShape({1, 4, 5, 10}));
  CHECK(w.kernel[0] == 3);
  CHECK(w.stride[0] == 2);
  CHECK(w.stride[1] == 1);
  CHECK(w.dilation[1] == 1);
  CHECK(w.pad_begin[0] == 1);
  CHECK(w.pad_begin[1] == 2);
  CHECK(w.pad_end[0] == 3);
  CHECK(w.pad_end[1] == 4);

  // Width 6, kernel 3, stride 2, 3 outputs: one padding column, after (UPPER) or before (LOWER).
  graph::Node pool;
  pool.attributes["strides"] = std::vector<std::int64_t>{2};
  pool.attributes["auto_pad"] = std::string("SAME_UPPER");
  w = WindowGeometry(pool, {3}, KnownShape({1, 2, 6}), KnownShape({1, 2, 3}));
  CHECK(w.kernel[0] == 1);
  CHECK(w.kernel[1] == 3);
  CHECK(w.stride[1] == 2);
  CHECK(w.pad_begin[1] == 0);
  CHECK(w.pad_end[1] == 1);
  pool.attributes["auto_pad"] = std::string("SAME_LOWER");
  w = WindowGeometry(pool, {3}, KnownShape({1, 2, 6}), KnownShape({1, 2, 3}));
  CHECK(w.pad_begin[1] == 1);
  CHECK(w.pad_end[1] == 0);
  CHECK(w.pad_begin[0] == 0);
  CHECK(w.pad_end[0] == 0);
}

TEST_CASE("node comments, pass-through outputs and the TensorInfo tables") {
  graph::Node node;
  node.name = "conv\n1";
  node.op_type = "Conv";
  node.fused_from = {"conv\n1", "relu1"};
  CHECK(NodeComment(node) == "    // node 'conv 1' (Conv), fused with relu1\n");

  graph::Graph graph;
  const graph::ValueId image = AddTensor(graph, "image", graph::DType::kFloat32,
                                         {Symbol("N"), Sized(3), Sized(8), Sized(8)});
  const graph::ValueId classes = AddTensor(graph, "classes", graph::DType::kInt64, {Symbol("N")});
  graph.inputs = {image};
  graph.outputs = {classes, image};
  graph::Node argmax;
  argmax.name = "argmax";
  argmax.op_type = "ArgMax";
  argmax.inputs = {image};
  argmax.outputs = {classes};
  graph.nodes.push_back(argmax);
  CHECK(PassThroughOutputs(graph) == std::vector<std::size_t>{1});

  Stages stages;
  stages.image.emplace();
  stages.image->input = 0;
  stages.labels = {"cat", "dog"};
  stages.label_outputs = {0};
  CHECK(TensorInfoTables(graph, stages) ==
        "  const std::vector<TensorInfo> inputs_ = {\n"
        "      {\"image\", DType::kFloat32, {-1, 3, 8, 8}, InputStage::kImage},\n"
        "  };\n"
        "  const std::vector<TensorInfo> outputs_ = {\n"
        "      {\"classes\", DType::kInt64, {-1},\n"
        "       InputStage::kNone, {\"cat\", \"dog\"}},\n"
        "      {\"image\", DType::kFloat32, {-1, 3, 8, 8}},\n"
        "  };\n");
  CHECK(ArenaPointer("arena_.data()", "float", graph::Extent{64, 128}) ==
        "reinterpret_cast<float*>(arena_.data() + 64 * batch + 128)");
}

TEST_CASE("ReplaceAll replaces every placeholder once and never inside what it put in") {
  std::string text = "a @X@ b @X@";
  CHECK(ReplaceAll(text, "@X@", "[@X@]"));
  CHECK(text == "a [@X@] b [@X@]");
  CHECK_FALSE(ReplaceAll(text, "@Y@", "y"));
  CHECK(text == "a [@X@] b [@X@]");
}

TEST_CASE("the bundle template, models.cc and the embedded runtime folders") {
  const graph::Graph graph;
  const graph::MemoryPlan plan;
  const std::vector<Weight> weights;
  std::vector<Lowering> models;
  models.push_back(Model(graph, plan, weights, Isa::kAvx512, "first"));
  models.push_back(Model(graph, plan, weights, Isa::kSse42, "second"));
  models.back().name = "second\"";
  models.back().stages.image.emplace();

  std::optional<std::string> cmake = FillBundleTemplate(models, "model.cc");
  REQUIRE(cmake);
  CHECK(cmake->find('@') == std::string::npos);
  // The first model's ISA; the image stage when any model has one.
  CHECK(cmake->find("-march=skylake-avx512") != std::string::npos);
  CHECK(cmake->find("-msse4.2") == std::string::npos);
  CHECK(cmake->find("models/first/model.cc models/second/model.cc models.cc") != std::string::npos);
  CHECK(MarchFlags(Isa::kPortable).empty());

  const std::string table = ModelTable(models, "The models this bundle serves",
                                       [](const Lowering& m) { return m.cpp_namespace; });
  CHECK(table.find("// The models this bundle serves, the default first") != std::string::npos);
  CHECK(table.find("namespace ferry_rt::first {\nauto CreateModel(") != std::string::npos);
  CHECK(table.find("{\"first\", \"models/first/weights.bin\", &ferry_rt::first::CreateModel},\n"
                   "      {\"second\\\"\", \"models/second/weights.bin\", "
                   "&ferry_rt::second::CreateModel},") != std::string::npos);
  // A one-model bundle's factory is the ferry_rt::CreateModel model.h declares already.
  const std::string one =
      ModelTable(std::span(models).first(1), "One", [](const Lowering&) { return "ferry_rt"; });
  CHECK(one.find("namespace ferry_rt {\n\nauto BundledModels()") != std::string::npos);
  CHECK(one.find("auto CreateModel(") == std::string::npos);

  const std::vector<File> runtime =
      EmbeddedFolder(kRuntimeFolder, "runtime/", {kBundleTemplate, "stdlib/runtime/fpga/"});
  auto has = [](const std::vector<File>& files, const std::string& path) {
    return std::any_of(files.begin(), files.end(), [&](const File& f) { return f.path == path; });
  };
  CHECK(has(runtime, "runtime/model.h"));
  CHECK_FALSE(has(runtime, "runtime/bundle/CMakeLists.txt.in"));
  CHECK_FALSE(has(runtime, "runtime/fpga/ap_int.h"));
  CHECK(
      has(EmbeddedFolder(kRuntimeFolder, "runtime/", {kBundleTemplate}), "runtime/fpga/ap_int.h"));
  const std::vector<File> shims = EmbeddedFolder("stdlib/runtime/fpga/", "models/a/fpga/hls/");
  CHECK(has(shims, "models/a/fpga/hls/ap_int.h"));
  CHECK(std::all_of(shims.begin(), shims.end(), [](const File& f) {
    return f.path.starts_with("models/a/fpga/hls/") && !f.binary && !f.bytes.empty();
  }));
}

}  // namespace
}  // namespace ferry::codegen

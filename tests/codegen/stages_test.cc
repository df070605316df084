// Stage detection (compiler/codegen/stages.h): which models get the image
// stage and which outputs are reported as class labels, the loader carrying
// metadata_props through, bundle.yaml's facts, and what the CPU back end
// compiles in (decided at compile time, not per request).
#include "compiler/codegen/stages.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/codegen/backend.h"
#include "compiler/graph/passes.h"
#include "compiler/onnx/load_onnx.h"
#include "compiler/support/value.h"

namespace ferry::codegen {
namespace {

auto SampleModelBytes(const std::string& path) -> std::string {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/samples/" + path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), path);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

/// samples/<path>, loaded and optimized as CompileBundle does.
auto SampleGraph(const std::string& path) -> graph::Graph {
  diag::Sink sink;
  std::optional<graph::Graph> graph = onnx::LoadOnnx(path, SampleModelBytes(path), sink);
  REQUIRE(graph);
  REQUIRE(graph::Optimize(*graph, sink));
  return std::move(*graph);
}

constexpr const char* kResnet = "image-classification/models/resnet_mini_v1.onnx";
constexpr const char* kDigits = "fpga-inference/models/digit_reader_v1.onnx";
constexpr const char* kFaq = "faq-matching/models/faq_ranker_v1.onnx";
const char* const kCifar =
    R"(["airplane","automobile","bird","cat","deer","dog","frog","horse","ship","truck"])";

auto FindFile(const std::vector<File>& files, const std::string& path) -> std::string {
  for (const File& file : files) {
    if (file.path == path) return file.bytes;
  }
  FAIL("no " << path);
  return "";
}

TEST_CASE("the loader keeps metadata_props") {
  const graph::Graph graph = SampleGraph(kResnet);
  REQUIRE(graph.metadata.contains("labels"));
  CHECK(graph.metadata.at("labels") == kCifar);
  const graph::Graph faq = SampleGraph(kFaq);
  CHECK(faq.metadata.size() == 1);
  CHECK(faq.metadata.at("faq").starts_with(R"([{"id":0,"question":"How do I reset my password?")"));
}

TEST_CASE("image inputs and class-index outputs of the samples' models") {
  {
    const graph::Graph graph = SampleGraph(kResnet);
    const Stages stages = DetectStages(graph);
    REQUIRE(stages.image);
    CHECK(stages.image->input == 0);
    CHECK(stages.image->channels == 3);
    CHECK(stages.image->height == 32);
    CHECK(stages.image->width == 32);
    CHECK(stages.labels.size() == 10);
    CHECK(stages.labels[9] == "truck");
    CHECK(stages.label_outputs == std::vector<std::size_t>{1});  // classes (TopK's indices)
  }
  {
    const Stages stages = DetectStages(SampleGraph(kDigits));
    REQUIRE(stages.image);
    CHECK(stages.image->channels == 1);
    CHECK(stages.image->height == 28);
    CHECK(stages.label_outputs == std::vector<std::size_t>{1});
    CHECK(stages.labels.front() == "0");
  }
  {  // Strings in (the Tokenizer's raw text), no labels metadata: neither stage.
    const Stages stages = DetectStages(SampleGraph(kFaq));
    CHECK(!stages.image);
    CHECK(stages.label_outputs.empty());
  }
}

TEST_CASE("labels need a JSON array of strings as long as the indexed axis") {
  graph::Graph graph = SampleGraph(kResnet);
  for (const char* labels : {R"(["a","b","c"])", "not json", R"({"labels": 1})",
                             R"(["a","b","c","d","e","f","g","h","i",10])", "[]"}) {
    CAPTURE(labels);
    graph.metadata["labels"] = labels;
    const Stages stages = DetectStages(graph);
    CHECK(stages.label_outputs.empty());
    CHECK(stages.labels.empty());
    CHECK(stages.image);  // unaffected
  }
}

TEST_CASE("only float [N, 1 or 3, H, W] inputs with known H and W get the image stage") {
  graph::Graph graph = SampleGraph(kResnet);
  graph::Value& input = graph.value(graph.inputs[0]);
  input.shape[1].size = 2;
  CHECK(!DetectStages(graph).image);
  input.shape[1].size = 3;
  input.shape[2] = graph::Dim{.size = 0, .symbol = "height"};
  CHECK(!DetectStages(graph).image);
  input.shape[2] = graph::Dim{.size = 32, .symbol = ""};
  CHECK(DetectStages(graph).image);
  input.dtype = graph::DType::kInt64;
  CHECK(!DetectStages(graph).image);
}

TEST_CASE("ArgMax over the class axis is a class index; over another axis it is not") {
  for (std::int64_t axis : {1, 0}) {
    CAPTURE(axis);
    graph::Graph graph;
    graph.source = "argmax.onnx";
    graph::ValueId x = graph.AddValue(graph::Value{
        .name = "x",
        .dtype = graph::DType::kFloat32,
        .shape = {graph::Dim{.size = 0, .symbol = "batch"}, graph::Dim{.size = 4, .symbol = ""}},
        .has_shape = true,
        .constant = std::nullopt});
    graph::ValueId y = graph.AddValue(graph::Value{
        .name = "y",
        .dtype = graph::DType::kInt64,
        .shape = {graph::Dim{.size = 0, .symbol = "batch"}, graph::Dim{.size = 1, .symbol = ""}},
        .has_shape = true,
        .constant = std::nullopt});
    graph::Node argmax;
    argmax.name = "best";
    argmax.op_type = "ArgMax";
    argmax.inputs = {x};
    argmax.outputs = {y};
    argmax.attributes["axis"] = axis;
    graph.nodes.push_back(argmax);
    graph.inputs = {x};
    graph.outputs = {y};
    graph.metadata["labels"] = R"(["north","east","south","west"])";
    const Stages stages = DetectStages(graph);
    CHECK(stages.label_outputs.size() == (axis == 1 ? 1U : 0U));
    CHECK(!stages.image);  // rank 2
  }
}

TEST_CASE("bundle.yaml's stages facts") {
  const graph::Graph graph = SampleGraph(kResnet);
  CHECK(support::ToYaml(StagesFacts(graph, DetectStages(graph))) ==
        "image:\n"
        "  channels: 3\n"
        "  formats:\n"
        "  - png\n"
        "  - jpeg\n"
        "  height: 32\n"
        "  input: image\n"
        "  resize: bilinear-antialiased\n"
        "  scale: \"0..1\"\n"
        "  width: 32\n"
        "labels:\n"
        "  count: 10\n"
        "  outputs:\n"
        "  - classes\n");
  const graph::Graph faq = SampleGraph(kFaq);
  CHECK(StagesFacts(faq, DetectStages(faq)).is_null());
}

TEST_CASE("the CPU bundle compiles the stages in: image decoding, labels, libpng and libjpeg") {
  diag::Sink sink;
  std::optional<std::vector<File>> image =
      CompileBundle(kResnet, SampleModelBytes(kResnet), Target::kCpu, Isa::kPortable, sink);
  REQUIRE(image);
  const std::string model = FindFile(*image, "model.cc");
  CHECK(model.find("#include \"runtime/image.h\"") != std::string::npos);
  CHECK(model.find("ImageStage image_{3, 32, 32};") != std::string::npos);
  CHECK(model.find("image_.Run(given[0], decoded_[0]);") != std::string::npos);
  CHECK(model.find("{\"image\", DType::kFloat32, {-1, 3, 32, 32}, InputStage::kImage}") !=
        std::string::npos);
  CHECK(model.find("InputStage::kNone, {\"airplane\", \"automobile\"") != std::string::npos);
  CHECK(FindFile(*image, "CMakeLists.txt").find("set(FERRY_IMAGE_STAGE ON)") != std::string::npos);
  CHECK(FindFile(*image, "bundle.yaml").find("stages:\n") != std::string::npos);

  std::optional<std::vector<File>> text =
      CompileBundle(kFaq, SampleModelBytes(kFaq), Target::kCpu, Isa::kPortable, sink);
  REQUIRE(text);
  CHECK(FindFile(*text, "model.cc").find("runtime/image.h") == std::string::npos);
  CHECK(FindFile(*text, "CMakeLists.txt").find("set(FERRY_IMAGE_STAGE OFF)") != std::string::npos);
  CHECK(FindFile(*text, "bundle.yaml").find("stages:") == std::string::npos);
}

}  // namespace
}  // namespace ferry::codegen

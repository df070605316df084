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

/// samples/<path> as the loader reads it, before optimization.
auto LoadedGraph(const std::string& path) -> graph::Graph {
  diag::Sink sink;
  std::optional<graph::Graph> graph = onnx::LoadOnnx(path, SampleModelBytes(path), sink);
  REQUIRE(graph);
  return std::move(*graph);
}

/// The codes and messages in `sink`, one "CODE message" line each.
auto Diagnostics(const diag::Sink& sink) -> std::string {
  std::string out;
  for (const diag::Diagnostic& diagnostic : sink.diagnostics()) {
    out += std::string(diag::Info(diagnostic.code).code) + " " + diagnostic.path + ": " +
           diagnostic.message + "\n";
  }
  return out;
}

constexpr const char* kResnet = "image-classification/models/resnet_mini_v1.onnx";
constexpr const char* kChurn = "controlled-rollout/models/churn_logistic_v1.onnx";
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

TEST_CASE("a declared image size fixes symbolic sides and must match fixed ones") {
  DeclaredStages declared;
  declared.path = "endpoints.cifar.scoring";
  declared.image = DeclaredImage{.height = 48, .width = 40, .mean = {}, .std = {}};
  graph::Graph graph = LoadedGraph(kResnet);
  graph.value(graph.inputs[0]).shape[2] = graph::Dim{.size = 0, .symbol = "height"};
  graph.value(graph.inputs[0]).shape[3] = graph::Dim{.size = 0, .symbol = "width"};
  diag::Sink sink;
  CHECK(ApplyDeclaredImage(graph, declared, sink));
  CHECK(Diagnostics(sink).empty());
  CHECK(graph.value(graph.inputs[0]).shape[2] == graph::Dim{.size = 48, .symbol = ""});
  CHECK(graph.value(graph.inputs[0]).shape[3] == graph::Dim{.size = 40, .symbol = ""});

  graph::Graph fixed = LoadedGraph(kResnet);
  CHECK(!ApplyDeclaredImage(fixed, declared, sink));
  CHECK(Diagnostics(sink) ==
        "E0830 endpoints.cifar.scoring.preprocess.image: preprocess.image does not fit input "
        "'image' [batch, 3, 32, 32]: it takes images of height 32, and size declares 48\n"
        "E0830 endpoints.cifar.scoring.preprocess.image: preprocess.image does not fit input "
        "'image' [batch, 3, 32, 32]: it takes images of width 32, and size declares 40\n");

  // Without a size, the model's own must be fixed.
  declared.image = DeclaredImage{};
  diag::Sink unsized;
  graph = LoadedGraph(kResnet);
  CHECK(ApplyDeclaredImage(graph, declared, unsized));
  graph.value(graph.inputs[0]).shape[3] = graph::Dim{.size = 0, .symbol = "width"};
  CHECK(!ApplyDeclaredImage(graph, declared, unsized));
  CHECK(Diagnostics(unsized) ==
        "E0830 endpoints.cifar.scoring.preprocess.image: preprocess.image does not fit input "
        "'image' [batch, 3, 32, width]: its width is 'width', not fixed; declare "
        "preprocess.image.size\n");
}

TEST_CASE("a declared image stage needs a float image input and one mean/std per channel") {
  DeclaredStages declared;
  declared.image =
      DeclaredImage{.height = 0, .width = 0, .mean = {0.485, 0.456, 0.406}, .std = {0.5}};
  diag::Sink sink;
  graph::Graph churn = LoadedGraph(kChurn);
  CHECK(!ApplyDeclaredImage(churn, declared, sink));
  graph::Graph digits = LoadedGraph(kDigits);
  CHECK(!ApplyDeclaredImage(digits, declared, sink));
  CHECK(Diagnostics(sink) ==
        "E0830 : preprocess.image needs a model whose first input is float [rows, 1 or 3, H, W] "
        "and no string input; its first input 'features' is float32 [batch, 8]\n"
        "E0831 : preprocess.image.mean has 3 values and input 'image' has 1 channel; give 1 "
        "(every channel) or 1\n");
  CHECK(sink.diagnostics()[0].location.file == kChurn);

  // Accepted: the values reach the stage facts, bundle.yaml and the generated model.
  const std::string bytes = SampleModelBytes(kResnet);
  // Assigned member by member: GCC 12 at -O3 reports the designated
  // initializer's empty calibration as maybe-uninitialized (a false positive).
  ModelSource source;
  source.name = "cifar";
  source.file = kResnet;
  source.bytes = bytes;
  source.stages = declared;
  diag::Sink compiled;
  std::optional<CompiledBundle> bundle =
      CompileModels({&source, 1}, Target::kCpu, Isa::kPortable, compiled);
  REQUIRE_MESSAGE(bundle, Diagnostics(compiled));
  const std::string model = FindFile(bundle->files, "model.cc");
  CHECK(model.find("ImageStage image_{3, 32, 32, {4.850000143e-01f, 4.560000002e-01f, "
                   "4.059999883e-01f}, {5.000000000e-01f}};") != std::string::npos);
  CHECK(model.find("then (x - mean) / std per channel") != std::string::npos);
  const std::string yaml = FindFile(bundle->files, "bundle.yaml");
  INFO(yaml);
  CHECK(yaml.find("      mean:\n      - 0.485\n      - 0.456\n      - 0.406\n") != std::string::npos);
  CHECK(yaml.find("      std:\n      - 0.5\n") != std::string::npos);
}

TEST_CASE("the declared post stage: softmax and top_k over the first float output, labelled") {
  DeclaredStages declared;
  declared.softmax = true;
  declared.top_k = 1;
  declared.labels = {"stays", "churns"};
  graph::Graph graph = SampleGraph(kChurn);
  diag::Sink sink;
  REQUIRE(AddPostStage(graph, declared, sink));
  CHECK(Diagnostics(sink).empty());
  std::vector<std::string> outputs;
  for (graph::ValueId id : graph.outputs) outputs.push_back(graph.value(id).name);
  CHECK(outputs == std::vector<std::string>{"label", "classes", "scores"});
  const graph::Value& classes = graph.value(graph.outputs[1]);
  CHECK(classes.dtype == graph::DType::kInt64);
  REQUIRE(classes.shape.size() == 2);
  CHECK(classes.shape[1] == graph::Dim{.size = 1, .symbol = ""});
  CHECK(graph.nodes[graph.nodes.size() - 2].op_type == "Softmax");
  CHECK(graph.nodes.back().op_type == "TopK");

  const Stages stages = DetectStages(graph, declared);
  CHECK(stages.labels == declared.labels);
  CHECK(stages.label_outputs == std::vector<std::size_t>{1});
  CHECK(support::ToYaml(StagesFacts(graph, stages)) ==
        "labels:\n"
        "  count: 2\n"
        "  outputs:\n"
        "  - classes\n"
        "post:\n"
        "  classes: 2\n"
        "  output: probabilities\n"
        "  softmax: true\n"
        "  top_k: 1\n");
  // Nothing declared: the model keeps its outputs and inferred stages.
  graph::Graph plain = SampleGraph(kChurn);
  REQUIRE(AddPostStage(plain, DeclaredStages{}, sink));
  CHECK(plain.outputs.size() == 2);
  CHECK(!DetectStages(plain).post);
}

TEST_CASE("softmax alone keeps the output's name; top_k and labels must fit the classes") {
  DeclaredStages softmax;
  softmax.softmax = true;
  graph::Graph graph = SampleGraph(kChurn);
  diag::Sink sink;
  REQUIRE(AddPostStage(graph, softmax, sink));
  CHECK(graph.value(graph.outputs[1]).name == "probabilities");
  CHECK(graph.nodes.back().op_type == "Softmax");
  CHECK(graph.value(graph.nodes.back().inputs[0]).name == "probabilities_logits");

  DeclaredStages declared;
  declared.path = "endpoints.churn.scoring";
  declared.top_k = 3;
  graph::Graph too_many = SampleGraph(kChurn);
  CHECK(!AddPostStage(too_many, declared, sink));
  declared.top_k = 1;
  declared.labels = {"a", "b", "c"};
  graph::Graph labels = SampleGraph(kChurn);
  CHECK(!AddPostStage(labels, declared, sink));
  declared.labels.clear();
  graph::Graph images = SampleGraph(kResnet);  // its float output is already top-3 `scores`
  CHECK(!AddPostStage(images, declared, sink));
  graph::Graph cube = SampleGraph(kChurn);
  cube.value(cube.outputs[1]).shape.push_back(graph::Dim{.size = 1, .symbol = ""});
  CHECK(!AddPostStage(cube, declared, sink));
  CHECK(Diagnostics(sink) ==
        "E0833 endpoints.churn.scoring.postprocess.top_k: postprocess.top_k is 3 and output "
        "'probabilities' has 2 classes\n"
        "E0834 endpoints.churn.scoring.postprocess.labels: the labels file has 3 labels and "
        "output 'probabilities' has 2 classes; give one label per class, one per line\n"
        "E0832 endpoints.churn.scoring.postprocess: postprocess.top_k adds the outputs 'classes' "
        "and 'scores', and the model already has an input or output named 'classes'\n"
        "E0832 endpoints.churn.scoring.postprocess: postprocess needs a float output [rows, "
        "classes]; the model's first float output 'probabilities' is [batch, 2, 1]\n");
}

}  // namespace
}  // namespace ferry::codegen

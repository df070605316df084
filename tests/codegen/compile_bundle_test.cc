// CompileBundle: the files of a bundle, deterministic; weights.bin round-trips;
// targets without a back end are an error, not a silent fallback.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "compiler/codegen/backend.h"
#include "compiler/codegen/weights.h"
#include "compiler/support/sha256.h"
#include "tests/onnx/test_models.h"

namespace ferry::codegen {
namespace {

auto FindFile(const std::vector<File>& files, const std::string& path) -> const File* {
  for (const File& file : files) {
    if (file.path == path) return &file;
  }
  return nullptr;
}

TEST_CASE("weights.bin round-trips names, dtypes, aligned offsets and bytes") {
  graph::TensorData floats{.f32 = {1.5F, -2.0F, 3.25F}, .i64 = {}, .str = {}};
  graph::TensorData ints{.f32 = {}, .i64 = {7, -9}, .str = {}};
  std::string bytes = WriteWeights(
      {{"fc.weight", graph::DType::kFloat32, &floats}, {"k", graph::DType::kInt64, &ints}});
  std::optional<std::vector<WeightsEntry>> index = ReadWeightsIndex(bytes);
  REQUIRE(index);
  REQUIRE(index->size() == 2);
  CHECK((*index)[0].name == "fc.weight");
  CHECK((*index)[0].size == 12);
  CHECK((*index)[1].dtype == graph::DType::kInt64);
  for (const WeightsEntry& entry : *index) CHECK(entry.offset % 64 == 0);
  float second = 0;
  std::memcpy(&second, bytes.data() + (*index)[0].offset + 4, 4);
  CHECK(second == -2.0F);
  std::int64_t last = 0;
  std::memcpy(&last, bytes.data() + (*index)[1].offset + 8, 8);
  CHECK(last == -9);
  CHECK(!ReadWeightsIndex(bytes.substr(0, 20)));
  CHECK(!ReadWeightsIndex("FERRYW0"));
}

TEST_CASE("the MLP compiles to model.cc, CMakeLists.txt, bundle.yaml and weights.bin") {
  diag::Sink sink;
  std::string model = testing::TestModel("mlp");
  std::optional<std::vector<File>> files =
      CompileBundle("mlp.onnx", model, Target::kCpu, Isa::kAvx2, sink);
  REQUIRE(files);
  CHECK(sink.diagnostics().empty());
  const File* source = FindFile(*files, "model.cc");
  const File* yaml = FindFile(*files, "bundle.yaml");
  const File* weights = FindFile(*files, "weights.bin");
  const File* cmake = FindFile(*files, "CMakeLists.txt");
  REQUIRE(source != nullptr);
  REQUIRE(yaml != nullptr);
  REQUIRE(weights != nullptr);
  REQUIRE(cmake != nullptr);
  CHECK(weights->binary);
  CHECK(source->bytes.find("// node 'fc1' (Gemm), fused with fc1_bias, relu1\n") !=
        std::string::npos);
  CHECK(source->bytes.find(support::Sha256Hex(weights->bytes)) != std::string::npos);
  CHECK(yaml->bytes.find("sha256: " + support::Sha256Hex(model)) != std::string::npos);
  CHECK(yaml->bytes.find("isa: avx2\n") != std::string::npos);
  CHECK(yaml->bytes.find("  - {name: \"x\", dtype: float32, shape: [\"batch\", 4]}\n") !=
        std::string::npos);
  CHECK(cmake->bytes.find("-march=haswell") != std::string::npos);
  // Six constants: w1, b1, w2, b2, w3, b3.
  std::optional<std::vector<WeightsEntry>> index = ReadWeightsIndex(weights->bytes);
  REQUIRE(index);
  CHECK(index->size() == 6);
  // Deterministic: a second compilation gives the same bytes.
  std::optional<std::vector<File>> again =
      CompileBundle("mlp.onnx", model, Target::kCpu, Isa::kAvx2, sink);
  REQUIRE(again);
  REQUIRE(again->size() == files->size());
  for (std::size_t i = 0; i < files->size(); ++i) CHECK((*again)[i].bytes == (*files)[i].bytes);
}

TEST_CASE("every good test model and sample model generates a CPU bundle with the runtime") {
  std::vector<std::pair<std::string, std::string>> models;
  for (const std::string& name : testing::GoodTestModels()) {
    models.emplace_back(name + ".onnx", testing::TestModel(name));
  }
  for (const std::string& path : testing::SampleModelPaths()) {
    models.emplace_back(path, testing::ReadFileBytes(std::string(FERRY_SOURCE_DIR) + "/" + path));
  }
  for (const auto& [name, bytes] : models) {
    CAPTURE(name);
    REQUIRE(!bytes.empty());
    diag::Sink sink;
    std::optional<std::vector<File>> files =
        CompileBundle(name, bytes, Target::kCpu, Isa::kPortable, sink);
    REQUIRE(files);
    CHECK(sink.diagnostics().empty());
    // The runtime travels with the bundle; its template gets the ISA flags.
    CHECK(FindFile(*files, "runtime/model.h") != nullptr);
    CHECK(FindFile(*files, "runtime/kernels.h") != nullptr);
    CHECK(FindFile(*files, "runtime/CMakeLists.txt") != nullptr);
    CHECK(FindFile(*files, "runtime/bundle/score.cc") != nullptr);
    const File* cmake = FindFile(*files, "CMakeLists.txt");
    REQUIRE(cmake != nullptr);
    CHECK(cmake->bytes.find("add_subdirectory(${FERRY_RUNTIME_DIR} runtime)") != std::string::npos);
    CHECK(cmake->bytes.find("@ISA_FLAGS@") == std::string::npos);
    const File* source = FindFile(*files, "model.cc");
    REQUIRE(source != nullptr);
    CHECK(source->bytes.find("CreateModel") != std::string::npos);
  }
}

TEST_CASE("ONNX-ML attributes go to weights.bin, not into the generated C++") {
  diag::Sink sink;
  std::optional<std::vector<File>> files =
      CompileBundle("tree_classifier.onnx", testing::TestModel("tree_classifier"), Target::kCpu,
                    Isa::kAvx2, sink);
  REQUIRE(files);
  std::optional<std::vector<WeightsEntry>> index =
      ReadWeightsIndex(FindFile(*files, "weights.bin")->bytes);
  REQUIRE(index);
  std::vector<std::string> names;
  for (const WeightsEntry& entry : *index) names.push_back(entry.name);
  const std::string& source = FindFile(*files, "model.cc")->bytes;
  for (const char* attribute : {"nodes_values", "nodes_modes", "class_weights"}) {
    CAPTURE(attribute);
    auto found = std::find_if(names.begin(), names.end(), [&](const std::string& name) {
      return name.ends_with(std::string(":") + attribute);
    });
    REQUIRE(found != names.end());
    CHECK(source.find("\"" + *found + "\"") != std::string::npos);
  }
}

TEST_CASE("gpu and fpga targets report that their back end is not available") {
  for (Target target : {Target::kGpu, Target::kFpga}) {
    diag::Sink sink;
    CHECK(!CompileBundle("mlp.onnx", testing::TestModel("mlp"), target, Isa::kAvx2, sink));
    REQUIRE(sink.diagnostics().size() == 1);
    CHECK(sink.diagnostics()[0].code == diag::Code::kTargetUnavailable);
    CHECK(sink.diagnostics()[0].message ==
          "the " + std::string(TargetName(target)) +
              " back end is not available yet; only --target cpu generates code");
  }
}

TEST_CASE("a model error stops compilation with its diagnostic") {
  diag::Sink sink;
  CHECK(!CompileBundle("bad.onnx", testing::TestModel("bad_operator"), Target::kCpu, Isa::kPortable,
                       sink));
  REQUIRE(sink.diagnostics().size() == 1);
  CHECK(sink.diagnostics()[0].code == diag::Code::kOnnxOperator);
}

TEST_CASE("a model taking words splits raw text with the compiled-in Tokenizer") {
  diag::Sink sink;
  std::optional<std::vector<File>> faq =
      CompileBundle("faq.onnx",
                    testing::ReadFileBytes(std::string(FERRY_SOURCE_DIR) +
                                           "/samples/faq-matching/models/faq_ranker_v1.onnx"),
                    Target::kCpu, Isa::kPortable, sink);
  REQUIRE(faq);
  const std::string& source = FindFile(*faq, "model.cc")->bytes;
  // Input 'tokens' is [1, words] strings: one string per row is text to split.
  CHECK(source.find("const bool raw_text = given[0].shape[1] == 1;") != std::string::npos);
  CHECK(source.find("tokenizer_.Run(given[0].str.data(), given[0].shape[0], words_[0].str, "
                    "width);") != std::string::npos);
  CHECK(source.find("a.tokenexp = \"\\\\b\\\\w\\\\w+\\\\b\";") != std::string::npos);
  // Numbers in: no Tokenizer.
  std::optional<std::vector<File>> mlp =
      CompileBundle("mlp.onnx", testing::TestModel("mlp"), Target::kCpu, Isa::kPortable, sink);
  REQUIRE(mlp);
  CHECK(FindFile(*mlp, "model.cc")->bytes.find("tokenizer_") == std::string::npos);
}

}  // namespace
}  // namespace ferry::codegen

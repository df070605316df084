// The GPU back end's generator, on the CPU: which files a target-gpu bundle
// has, what model_gpu.cu calls for each node (cuDNN convolutions, cublasLt
// GEMMs, generated fused Add + ReLU kernels, the runtime's kernels), that the
// host reference is the CPU back end's code in a namespace of its own, that
// the output is deterministic, and that ops without a lowering are E0811.
// Compiling the generated CUDA is the ctest `gpu-build`
// (tests/runtime/gpu/gpu_build.sh); running it needs a device (label `gpu`).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "compiler/codegen/backend.h"
#include "compiler/codegen/gpu_emit.h"
#include "tests/onnx/test_models.h"

namespace ferry::codegen {
namespace {

auto FindFile(const std::vector<File>& files, const std::string& path) -> const File* {
  for (const File& file : files) {
    if (file.path == path) return &file;
  }
  return nullptr;
}

auto Occurrences(const std::string& text, const std::string& what) -> std::size_t {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

auto ResnetMini() -> std::string {
  return testing::ReadFileBytes(std::string(FERRY_SOURCE_DIR) +
                                "/samples/image-classification/models/resnet_mini_v1.onnx");
}

auto CompileGpu(const std::string& file, const std::string& bytes, diag::Sink& sink)
    -> std::optional<std::vector<File>> {
  return CompileBundle(file, bytes, Target::kGpu, Isa::kAvx2, sink);
}

TEST_CASE("a gpu bundle has the CUDA model, its host reference, both tables and the runtime") {
  diag::Sink sink;
  std::optional<std::vector<File>> files = CompileGpu("resnet_mini_v1.onnx", ResnetMini(), sink);
  const std::string why = sink.diagnostics().empty() ? "" : sink.diagnostics()[0].message;
  REQUIRE_MESSAGE(files.has_value(), why);
  for (const char* path : {"model_gpu.cu", "model.cc", "models.cc", "models_host.cc",
                           "CMakeLists.txt", "weights.bin", "bundle.yaml", "runtime/gpu/gpu.h",
                           "runtime/gpu/gpu.cc", "runtime/gpu/kernels.cu", "runtime/model.h"}) {
    CHECK_MESSAGE(FindFile(*files, path) != nullptr, path);
  }
  // The CPU bundle template is filled in, not copied.
  CHECK(FindFile(*files, "runtime/bundle/CMakeLists.txt.in") == nullptr);

  const std::string& host = FindFile(*files, "model.cc")->bytes;
  CHECK(host.find("namespace ferry_rt::host {") != std::string::npos);
  CHECK(host.find("k::Conv(") != std::string::npos);

  const std::string& table = FindFile(*files, "models.cc")->bytes;
  CHECK(table.find("{\"resnet_mini_v1\", \"weights.bin\", &ferry_rt::CreateModel}") !=
        std::string::npos);
  const std::string& host_table = FindFile(*files, "models_host.cc")->bytes;
  CHECK(host_table.find("namespace ferry_rt::host {\nauto CreateModel(") != std::string::npos);
  CHECK(host_table.find("&ferry_rt::host::CreateModel}") != std::string::npos);

  const std::string& cmake = FindFile(*files, "CMakeLists.txt")->bytes;
  CHECK(cmake.starts_with("# isa: avx2\n"));
  CHECK(cmake.find("project(ferry_bundle CXX CUDA)") != std::string::npos);
  CHECK(cmake.find("set(CMAKE_CUDA_ARCHITECTURES \"80;90\"") != std::string::npos);
  CHECK(cmake.find("set(FERRY_GPU ON)") < cmake.find("add_subdirectory("));
  CHECK(cmake.find("add_library(ferry_model STATIC model_gpu.cu models.cc)") != std::string::npos);
  CHECK(cmake.find("add_library(ferry_model_host STATIC model.cc models_host.cc)") !=
        std::string::npos);
  CHECK(cmake.find("target_link_libraries(ferry_model PUBLIC ferry_gpu)") != std::string::npos);
  CHECK(cmake.find("$<$<COMPILE_LANGUAGE:CXX>:${FERRY_ISA_LIST}>") != std::string::npos);
  CHECK(cmake.find("add_executable(score_host") != std::string::npos);
  CHECK(cmake.find("@") == std::string::npos);

  const std::string& manifest = FindFile(*files, "bundle.yaml")->bytes;
  CHECK(manifest.find("target: gpu") != std::string::npos);
  CHECK(manifest.find("code: model_gpu.cu") != std::string::npos);
}

TEST_CASE("model_gpu.cu lowers ResNet nodes to cuDNN, cublasLt and fused kernels") {
  diag::Sink sink;
  std::optional<std::vector<File>> files = CompileGpu("resnet_mini_v1.onnx", ResnetMini(), sink);
  REQUIRE(files);
  const std::string& cu = FindFile(*files, "model_gpu.cu")->bytes;
  // Nine convolutions (BatchNorm and ReLU folded in), each a cuDNN layer built once.
  CHECK(Occurrences(cu, "std::make_unique<g::Conv>(") == 9);
  CHECK(Occurrences(cu, "->Run(ctx_, ") == 9 + 1 + 1);  // convs, the stem's pool, the fc
  CHECK(cu.find("std::make_unique<g::Pool>(") != std::string::npos);
  // The stem conv: 3 -> 16 channels? Only that the shape is spelled out with the ReLU fused.
  CHECK(cu.find("g::Act{g::ActKind::kRelu, 0.0f, 0.0f}") != std::string::npos);
  // The fc: a Gemm with a row bias, planned for cublasLt's BIAS epilogue.
  CHECK(cu.find("std::make_unique<g::Gemm>(10, ") != std::string::npos);
  CHECK(cu.find("g::BiasShape::kRow") != std::string::npos);
  // Each residual Add and the ReLU after it: one generated kernel, the Relu node skipped.
  CHECK(Occurrences(cu, "__global__ void Elementwise") == 3);
  CHECK(Occurrences(cu, "v = fmaxf(v, 0.0f);") == 3);
  CHECK(Occurrences(cu, "// fused with node 'block") == 3);
  CHECK(cu.find("g::Activate(") == std::string::npos);
  CHECK(cu.find("g::GlobalAveragePool(ctx_, ") != std::string::npos);
  CHECK(cu.find("g::Softmax(ctx_, ") != std::string::npos);
  CHECK(cu.find("g::TopK(ctx_, ") != std::string::npos);
  // Weights once at creation; no device: a clear error before anything else.
  CHECK(cu.find("device_.Upload(ctx_);") != std::string::npos);
  CHECK(cu.find("g::RequireDevice();\n  return std::make_unique<GpuModel>") != std::string::npos);
  // Images decoded on the host, then the rows go up through pinned memory.
  CHECK(cu.find("image_.Run(given[0], decoded_[0]);") != std::string::npos);
  CHECK(cu.find("g::PinnedBuffer in_host_[1];") != std::string::npos);
  CHECK(cu.find("ctx_.Synchronize();") != std::string::npos);
  // Nothing of the CPU kernels.
  CHECK(cu.find("k::") == std::string::npos);
}

TEST_CASE("gpu bundles are deterministic") {
  diag::Sink first_sink;
  diag::Sink second_sink;
  std::optional<std::vector<File>> first = CompileGpu("m.onnx", ResnetMini(), first_sink);
  std::optional<std::vector<File>> second = CompileGpu("m.onnx", ResnetMini(), second_sink);
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(first->size() == second->size());
  for (std::size_t i = 0; i < first->size(); ++i) {
    CHECK((*first)[i].path == (*second)[i].path);
    CHECK((*first)[i].bytes == (*second)[i].bytes);
  }
}

TEST_CASE("every operator model of the runtime's tests lowers to the gpu, or is E0811") {
  // (Those the CPU target rejects too are not the gpu back end's business.)
  // The ONNX-ML and text operators have no gpu lowering; everything else does.
  const std::vector<std::string> host_only = {
      "linear_classifier", "linear_regressor", "scaler",    "normalizer",
      "string_normalizer", "tfidf_vectorizer", "tokenizer", "tree_"};
  const std::filesystem::path folder = std::string(FERRY_SOURCE_DIR) + "/tests/runtime/models";
  std::vector<std::filesystem::path> models;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() == ".onnx") models.push_back(entry.path());
  }
  std::sort(models.begin(), models.end());
  REQUIRE(models.size() > 20);
  for (const std::filesystem::path& model : models) {
    const std::string name = model.stem().string();
    const bool expect_host_only =
        std::any_of(host_only.begin(), host_only.end(),
                    [&](const std::string& prefix) { return name.starts_with(prefix); });
    const std::string bytes = testing::ReadFileBytes(model.string());
    diag::Sink cpu_sink;
    if (!CompileBundle(name + ".onnx", bytes, Target::kCpu, Isa::kAvx2, cpu_sink)) continue;
    diag::Sink sink;
    std::optional<std::vector<File>> files = CompileGpu(name + ".onnx", bytes, sink);
    if (expect_host_only) {
      CHECK_MESSAGE(!files, name);
      REQUIRE_MESSAGE(!sink.diagnostics().empty(), name);
      CHECK_MESSAGE(sink.diagnostics()[0].code == diag::Code::kGpuOperator, name);
    } else {
      const std::string why =
          name + ": " + (sink.diagnostics().empty() ? "" : sink.diagnostics()[0].message);
      CHECK_MESSAGE(files.has_value(), why);
    }
  }
}

TEST_CASE("an operator without a gpu lowering is E0811 naming the node and suggesting cpu") {
  diag::Sink sink;
  CHECK(!CompileGpu("tree_classifier.onnx", testing::TestModel("tree_classifier"), sink));
  REQUIRE(sink.diagnostics().size() == 1);
  const diag::Diagnostic& d = sink.diagnostics()[0];
  CHECK(d.code == diag::Code::kGpuOperator);
  CHECK(d.path.find("(TreeEnsembleClassifier)") != std::string::npos);
  CHECK(d.message.find("no lowering for 'ai.onnx.ml.TreeEnsembleClassifier'") != std::string::npos);
  CHECK(d.message.find("target cpu") != std::string::npos);

  diag::Sink text_sink;
  CHECK(!CompileGpu("text.onnx", testing::TestModel("text"), text_sink));
  REQUIRE(!text_sink.diagnostics().empty());
  CHECK(text_sink.diagnostics()[0].code == diag::Code::kGpuOperator);
  CHECK(text_sink.diagnostics()[0].message.find("not strings") != std::string::npos);
}

TEST_CASE("several models in a gpu bundle each get a GPU and a host namespace") {
  const std::string mlp = testing::TestModel("mlp");
  const std::string cnn = testing::TestModel("cnn");
  std::vector<ModelSource> sources(2);
  sources[0].name = "mlp";
  sources[0].file = "mlp.onnx";
  sources[0].bytes = mlp;
  sources[0].folder = "mlp-1";
  sources[1].name = "cnn";
  sources[1].file = "cnn.onnx";
  sources[1].bytes = cnn;
  sources[1].folder = "cnn-1";
  diag::Sink sink;
  std::optional<CompiledBundle> bundle = CompileModels(sources, Target::kGpu, Isa::kPortable, sink);
  REQUIRE(bundle);
  const File* cu = FindFile(bundle->files, "models/cnn-1/model_gpu.cu");
  REQUIRE(cu != nullptr);
  CHECK(cu->bytes.find("namespace ferry_rt::model1_cnn {") != std::string::npos);
  const File* host = FindFile(bundle->files, "models/cnn-1/model.cc");
  REQUIRE(host != nullptr);
  CHECK(host->bytes.find("namespace ferry_rt::model1_cnn::host {") != std::string::npos);
  const std::string& table = FindFile(bundle->files, "models.cc")->bytes;
  CHECK(table.find("&ferry_rt::model0_mlp::CreateModel}") != std::string::npos);
  const std::string& cmake = FindFile(bundle->files, "CMakeLists.txt")->bytes;
  CHECK(cmake.find("models/mlp-1/model_gpu.cu models/cnn-1/model_gpu.cu models.cc") !=
        std::string::npos);
}

TEST_CASE("GpuOperators lists the lowered operators, sorted") {
  const std::vector<std::string>& ops = GpuOperators();
  CHECK(std::is_sorted(ops.begin(), ops.end()));
  CHECK(std::find(ops.begin(), ops.end(), "Conv") != ops.end());
  CHECK(std::find(ops.begin(), ops.end(), "TreeEnsembleClassifier") == ops.end());
}

}  // namespace
}  // namespace ferry::codegen

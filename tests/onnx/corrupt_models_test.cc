// No input crashes the model compiler: every prefix and many bit-flipped
// versions of every test model either compile through the graph passes or
// produce an error diagnostic. CI runs this under ASan and UBSan.
#include <doctest/doctest.h>

#include "compiler/graph/passes.h"
#include "compiler/onnx/load_onnx.h"
#include "tests/onnx/test_models.h"

namespace ferry::onnx {
namespace {

/// Loads and optimizes `bytes`; true when that either succeeded or said why not.
auto Survives(const std::string& bytes) -> bool {
  diag::Sink sink;
  std::optional<graph::Graph> graph = LoadOnnx("mutant.onnx", bytes, sink);
  if (!graph) return sink.HasErrors();
  if (!graph::Optimize(*graph, sink)) return sink.HasErrors();
  graph::PlanMemory(*graph);
  return true;
}

auto AllModels() -> std::vector<std::string> {
  std::vector<std::string> names = testing::GoodTestModels();
  for (const char* bad : {"bad_operator", "bad_opset", "bad_dangling", "bad_cycle", "bad_dtype",
                          "bad_external", "bad_tensor_size", "bad_gemm_shapes", "bad_dynamic",
                          "bad_huge_tensor"}) {
    names.emplace_back(bad);
  }
  return names;
}

TEST_CASE("every truncation of every test model is diagnosed, never a crash") {
  for (const std::string& name : AllModels()) {
    CAPTURE(name);
    std::string bytes = testing::TestModel(name);
    REQUIRE(!bytes.empty());
    int failures = 0;
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      if (!Survives(bytes.substr(0, length))) ++failures;
    }
    CHECK(failures == 0);
  }
}

TEST_CASE("bit flips in every byte of every test model are diagnosed, never a crash") {
  for (const std::string& name : AllModels()) {
    CAPTURE(name);
    std::string bytes = testing::TestModel(name);
    int failures = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      // Two flips per byte: a low bit (changes values and lengths by a little)
      // and a high bit (turns varints into continuations, tags into others).
      for (int bit : {static_cast<int>(i % 4), 7}) {
        std::string mutant = bytes;
        mutant[i] = static_cast<char>(mutant[i] ^ (1 << bit));
        if (!Survives(mutant)) ++failures;
      }
    }
    CHECK(failures == 0);
  }
}

}  // namespace
}  // namespace ferry::onnx

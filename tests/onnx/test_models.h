// Reads the checked-in test models (tests/onnx/models, written by
// make_test_models.py) and the samples' models, for the model-compiler tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ferry::testing {

/// The bytes of tests/onnx/models/NAME.onnx; empty when missing.
inline auto ReadFileBytes(const std::string& path) -> std::string {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline auto TestModelPath(const std::string& name) -> std::string {
  return std::string(FERRY_SOURCE_DIR) + "/tests/onnx/models/" + name + ".onnx";
}

inline auto TestModel(const std::string& name) -> std::string {
  return ReadFileBytes(TestModelPath(name));
}

/// The models that load and compile (everything but bad_*).
inline auto GoodTestModels() -> std::vector<std::string> {
  return {"mlp",    "cnn",           "shapes",          "folding",         "linear_classifier",
          "linear_regressor", "tree_regressor", "tree_classifier", "text"};
}

/// The samples' models, relative to the source tree.
inline auto SampleModelPaths() -> std::vector<std::string> {
  return {"samples/controlled-rollout/models/churn_boosted_v2.onnx",
          "samples/controlled-rollout/models/churn_logistic_v1.onnx",
          "samples/dev-test/models/diabetes_ridge_v1.onnx",
          "samples/faq-matching/models/faq_ranker_v1.onnx",
          "samples/fpga-inference/models/digit_reader_v1.onnx",
          "samples/image-classification/models/resnet_mini_v1.onnx"};
}

}  // namespace ferry::testing

// ONNX Runtime as a test oracle and benchmark anchor: libonnxruntime.so
// (from the npm package onnxruntime-node) loaded with dlopen, one session per
// model, one intra-op thread, inputs and outputs as ferry_rt::Tensor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace ferry::oracle {

/// Where the ONNX Runtime library is: $FERRY_ORT_LIBRARY, else the path CMake
/// found (FERRY_ORT_LIBRARY cache variable); empty when neither is set.
auto OrtLibraryPath() -> std::string;

/// How to get the oracle, for the failure message when it is missing.
auto OrtInstallHint() -> std::string;

/// One loaded model. Throws ferry_rt::Error when the library or model cannot be loaded.
class OrtSession {
 public:
  OrtSession(const std::string& library, const std::string& model_path);
  ~OrtSession();
  OrtSession(const OrtSession&) = delete;
  auto operator=(const OrtSession&) -> OrtSession& = delete;

  /// Runs the model: named inputs in, the named outputs out (float32, int64 or string).
  void Run(const std::vector<std::string>& input_names, const std::vector<ferry_rt::Tensor>& inputs,
           const std::vector<std::string>& output_names, std::vector<ferry_rt::Tensor>& outputs);

  /// The library's version string.
  auto version() const -> std::string;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::oracle

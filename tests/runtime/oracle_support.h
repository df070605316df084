// Helpers shared by the runtime's comparison tests: random inputs, the ONNX
// Runtime oracle for a checked-in model, sidecar attributes and the error measure.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/json.h"
#include "runtime/model.h"
#include "tests/oracle/ort_session.h"

namespace ferry::runtime_test {

inline auto ModelPath(const std::string& name) -> std::string {
  return std::string(FERRY_SOURCE_DIR) + "/tests/runtime/models/" + name + ".onnx";
}

/// A float32 tensor of `shape` with uniform values in [lo, hi), seeded by `seed`.
inline auto RandomF32(std::vector<std::int64_t> shape, unsigned seed, float lo = -1.0F,
                      float hi = 1.0F) -> ferry_rt::Tensor {
  ferry_rt::Tensor t;
  t.dtype = ferry_rt::DType::kFloat32;
  t.shape = std::move(shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(lo, hi);
  t.f32.resize(static_cast<std::size_t>(ferry_rt::ElementCount(t.shape)));
  for (float& v : t.f32) v = uniform(rng);
  return t;
}

inline auto Strings(std::vector<std::int64_t> shape, std::vector<std::string> values)
    -> ferry_rt::Tensor {
  ferry_rt::Tensor t;
  t.dtype = ferry_rt::DType::kString;
  t.shape = std::move(shape);
  t.str = std::move(values);
  return t;
}

/// The ONNX Runtime session for tests/runtime/models/NAME.onnx. Fails the test
/// (never skips) with install instructions when the library is missing.
inline auto Oracle(const std::string& name) -> std::unique_ptr<oracle::OrtSession> {
  std::string library = oracle::OrtLibraryPath();
  REQUIRE_MESSAGE(!library.empty(), oracle::OrtInstallHint());
  return std::make_unique<oracle::OrtSession>(library, ModelPath(name));
}

/// Runs the oracle on named inputs and returns its named outputs.
inline auto RunOracle(const std::string& name, const std::vector<std::string>& input_names,
                      const std::vector<ferry_rt::Tensor>& inputs,
                      const std::vector<std::string>& output_names)
    -> std::vector<ferry_rt::Tensor> {
  auto session = Oracle(name);
  std::vector<ferry_rt::Tensor> outputs;
  session->Run(input_names, inputs, output_names, outputs);
  return outputs;
}

/// The worst relative error of `ours` against `theirs`: |a - b| / max(|b|,
/// 1e-3 * max|b|), so values near zero are judged against the tensor's scale.
inline auto MaxRelativeError(const std::vector<float>& ours, const std::vector<float>& theirs)
    -> double {
  REQUIRE(ours.size() == theirs.size());
  double scale = 0;
  for (float v : theirs) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  double worst = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    double b = theirs[i];
    double denominator = std::max({std::fabs(b), 1e-3 * scale, 1e-12});
    double error = std::fabs(static_cast<double>(ours[i]) - b) / denominator;
    if (std::isnan(ours[i]) != std::isnan(theirs[i])) error = 1e9;
    worst = std::max(worst, std::isnan(ours[i]) ? 0.0 : error);
  }
  return worst;
}

/// Checks shape and values (max relative error 1e-4) of a float32 result.
inline void ExpectClose(const std::vector<std::int64_t>& shape, const std::vector<float>& ours,
                        const ferry_rt::Tensor& theirs) {
  CHECK(shape == theirs.shape);
  double error = MaxRelativeError(ours, theirs.f32);
  CHECK_MESSAGE(error <= 1e-4, "max relative error " << error);
}

/// The sidecar attributes tests/runtime/models/NAME.json.
inline auto Sidecar(const std::string& name) -> ferry_rt::json::Value {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/tests/runtime/models/" + name + ".json");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return ferry_rt::json::Parse(text.str());
}

inline auto Floats(const ferry_rt::json::Value& v, const std::string& key) -> std::vector<float> {
  std::vector<float> out;
  auto found = v.object.find(key);
  if (found == v.object.end()) return out;
  for (const auto& item : found->second.array) out.push_back(static_cast<float>(item.number));
  return out;
}

inline auto Ints(const ferry_rt::json::Value& v, const std::string& key)
    -> std::vector<std::int64_t> {
  std::vector<std::int64_t> out;
  auto found = v.object.find(key);
  if (found == v.object.end()) return out;
  for (const auto& item : found->second.array)
    out.push_back(static_cast<std::int64_t>(item.number));
  return out;
}

inline auto Texts(const ferry_rt::json::Value& v, const std::string& key)
    -> std::vector<std::string> {
  std::vector<std::string> out;
  auto found = v.object.find(key);
  if (found == v.object.end()) return out;
  for (const auto& item : found->second.array) out.push_back(item.string);
  return out;
}

inline auto Text(const ferry_rt::json::Value& v, const std::string& key, std::string fallback)
    -> std::string {
  auto found = v.object.find(key);
  return found == v.object.end() ? fallback : found->second.string;
}

inline auto Int(const ferry_rt::json::Value& v, const std::string& key, std::int64_t fallback)
    -> std::int64_t {
  auto found = v.object.find(key);
  return found == v.object.end() ? fallback : static_cast<std::int64_t>(found->second.number);
}

}  // namespace ferry::runtime_test

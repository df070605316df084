// ResNet-18 end to end against ONNX Runtime: bench/bundle/make_models.py
// writes the full model (3x224x224, 1000 classes, random weights, Conv +
// BatchNormalization + Relu blocks, so every kernel path of the convolution
// runs: the 7x7 stride-2 stem, Winograd 3x3, stride-2 3x3, 1x1 stride-2
// shortcuts), `ferry compile` turns it into a bundle, CMake builds it
// (Release, not under the test's sanitizers), and bin/score's outputs for a
// random batch of two images are compared with ONNX Runtime's (in-process C
// API, bench/bundle's ort_bench --dump) and with the exact result
// (bench/bundle/reference.py, float64 numpy): max relative error 1e-4 in the
// sense of tests/runtime/oracle_support.h beyond ONNX Runtime's own distance
// from the exact result. Suite "ort": needs the oracle.
// Takes a minute or two the first time (the runtime's build; ccache helps).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace ferry::codegen {
namespace {

namespace fs = std::filesystem;

auto Shell(const std::string& command) -> int { return std::system(command.c_str()); }

auto Quote(const fs::path& path) -> std::string { return "'" + path.string() + "'"; }

auto ReadText(const fs::path& path) -> std::string {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

auto ReadNumbers(const fs::path& path) -> std::vector<double> {
  std::vector<double> numbers;
  std::ifstream in(path);
  for (double v = 0; in >> v;) numbers.push_back(v);
  return numbers;
}

/// |a - b| / max(|b|, 1e-3 * max|b|) at worst: tests/runtime/oracle_support.h's measure.
auto MaxRelativeError(const std::vector<double>& ours, const std::vector<double>& theirs)
    -> double {
  double scale = 0;
  for (double v : theirs) scale = std::max(scale, std::fabs(v));
  double worst = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    double denominator = std::max({std::fabs(theirs[i]), 1e-3 * scale, 1e-12});
    worst = std::max(worst, std::fabs(ours[i] - theirs[i]) / denominator);
  }
  return worst;
}

/// Every number of a nested JSON array, in order.
void Flatten(const nlohmann::json& value, std::vector<double>& flat) {
  if (!value.is_array()) {
    flat.push_back(value.get<double>());
    return;
  }
  for (const nlohmann::json& item : value) Flatten(item, flat);
}

TEST_SUITE("ort") {
  TEST_CASE("ResNet-18 compiled by ferry scores a batch as ONNX Runtime does") {
    const fs::path root = fs::temp_directory_path() / "ferry-resnet18-test";
    const fs::path model = root / "resnet18.onnx";
    const fs::path bundle = root / "bundle";
    const std::string log = Quote(root / "log.txt");
    fs::create_directories(root);
    if (!fs::exists(model)) {
      REQUIRE(Shell("/usr/bin/python3 '" FERRY_SOURCE_DIR "/bench/bundle/make_models.py' --out " +
                    Quote(root) + " resnet18 >" + log + " 2>&1") == 0);
    }
    REQUIRE_MESSAGE(Shell("'" FERRY_BINARY "' compile " + Quote(model) + " -o " + Quote(bundle) +
                          " >" + log + " 2>&1") == 0,
                    ReadText(root / "log.txt"));
    std::string launcher = Shell("command -v ccache >/dev/null 2>&1") == 0
                               ? " -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
                               : "";
    REQUIRE_MESSAGE(
        Shell("cmake -S " + Quote(bundle) + " -B " + Quote(bundle / "build") +
              " -DCMAKE_BUILD_TYPE=Release" + launcher + " >" + log + " 2>&1 && cmake --build " +
              Quote(bundle / "build") + " -j2 >>" + log + " 2>&1") == 0,
        ReadText(root / "log.txt"));

    // Two images of uniform [0, 1) values, as text for ort_bench and as JSON
    // for bin/score (%.9g: both read the same float32 values).
    constexpr int kBatch = 2;
    std::mt19937 rng(2026);
    std::uniform_real_distribution<float> uniform(0.0F, 1.0F);
    {
      std::ofstream text(root / "input.txt");
      std::ofstream json(root / "input.json");
      char number[32];
      json << "{\"data\": [";
      for (int b = 0; b < kBatch; ++b) {
        json << (b ? ", [" : "[");
        for (int c = 0; c < 3; ++c) {
          json << (c ? ", [" : "[");
          for (int h = 0; h < 224; ++h) {
            json << (h ? ", [" : "[");
            for (int w = 0; w < 224; ++w) {
              std::snprintf(number, sizeof number, "%.9g", static_cast<double>(uniform(rng)));
              json << (w ? ", " : "") << number;
              text << number << '\n';
            }
            json << ']';
          }
          json << ']';
        }
        json << ']';
      }
      json << "]}";
    }
    REQUIRE_MESSAGE(
        Shell("'" FERRY_ORT_BENCH "' " + Quote(model) + " X 3,224,224 Y --batch " +
              std::to_string(kBatch) + " --input " + Quote(root / "input.txt") + " --dump " +
              Quote(root / "ort.txt") + " --bench 0 >" + log + " 2>&1") == 0,
        ReadText(root / "log.txt"));
    REQUIRE(Shell(Quote(bundle / "bin" / "score") + " <" + Quote(root / "input.json") + " >" +
                  Quote(root / "ours.json") + " 2>" + log) == 0);

    REQUIRE_MESSAGE(Shell("/usr/bin/python3 '" FERRY_SOURCE_DIR "/bench/bundle/reference.py' " +
                          Quote(model) + " " + Quote(root / "input.txt") + " 3,224,224 " +
                          Quote(root / "exact.txt") + " >" + log + " 2>&1") == 0,
                    ReadText(root / "log.txt"));

    std::vector<double> theirs = ReadNumbers(root / "ort.txt");
    std::vector<double> exact = ReadNumbers(root / "exact.txt");
    std::vector<double> ours;
    Flatten(nlohmann::json::parse(ReadText(root / "ours.json"))["outputs"]["Y"], ours);
    REQUIRE(theirs.size() == static_cast<std::size_t>(kBatch * 1000));
    REQUIRE(ours.size() == theirs.size());
    REQUIRE(exact.size() == theirs.size());
    // As tests/runtime/ops_vs_ort_test.cc's ExpectConvClose: within 1e-4 of
    // ONNX Runtime and of the exact result, beyond ONNX Runtime's own distance
    // from the exact result (float32 rounding over 20 layers of 64-4608-term
    // sums is of that order: ONNX Runtime measures about 1.2e-4 here).
    double ours_theirs = MaxRelativeError(ours, theirs);
    double ours_exact = MaxRelativeError(ours, exact);
    double theirs_exact = MaxRelativeError(theirs, exact);
    MESSAGE("ResNet-18, batch 2, max relative error: ferry against ONNX Runtime "
            << ours_theirs << ", ferry against exact " << ours_exact
            << ", ONNX Runtime against exact " << theirs_exact);
    CHECK(ours_theirs <= 1e-4 + theirs_exact);
    CHECK(ours_exact <= 1e-4 + theirs_exact);
  }
}

}  // namespace
}  // namespace ferry::codegen

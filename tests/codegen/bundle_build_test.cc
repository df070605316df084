// Builds CPU bundles for a few test models and checks that bin/score gives
// the outputs ONNX Runtime gives (tests/codegen/expected/*.json, written by
// tests/codegen/make_expected.js): generated code, weights.bin, the embedded
// runtime and the bundle's CMake project end to end.
//
// Building the runtime takes a minute or two, so the bundles share one CMake
// project in a fixed temporary folder: the MLP's bundle exactly as generated,
// the other models' model.cc, models.cc and weights.bin added to it as further
// libraries and scorers. Files are rewritten only when their bytes change, so
// a second run rebuilds nothing.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/codegen/backend.h"
#include "tests/onnx/test_models.h"

namespace ferry::codegen {
namespace {

namespace fs = std::filesystem;

void WriteIfChanged(const fs::path& path, const std::string& bytes) {
  if (fs::exists(path) && testing::ReadFileBytes(path.string()) == bytes) return;
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

auto Compile(const std::string& name, Isa isa) -> std::vector<File> {
  diag::Sink sink;
  std::optional<std::vector<File>> files =
      CompileBundle(name + ".onnx", testing::TestModel(name), Target::kCpu, isa, sink);
  REQUIRE_MESSAGE(files.has_value(), name);
  return *files;
}

/// A flat list of the numbers (or strings) of a nested JSON array, and its shape.
void Flatten(const nlohmann::json& value, std::size_t depth, std::vector<std::int64_t>& shape,
             std::vector<nlohmann::json>& flat) {
  if (!value.is_array()) {
    flat.push_back(value);
    return;
  }
  if (shape.size() <= depth) shape.push_back(static_cast<std::int64_t>(value.size()));
  for (const nlohmann::json& item : value) Flatten(item, depth + 1, shape, flat);
}

auto Shell(const std::string& command) -> int { return std::system(command.c_str()); }

TEST_CASE("built CPU bundles score their inputs as ONNX Runtime does") {
  const std::vector<std::string> models = {"mlp", "cnn", "tree_classifier", "linear_classifier",
                                           "text"};
  // The host's instruction set, so that the AVX2 kernels run where they can.
  __builtin_cpu_init();
  Isa isa =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? Isa::kAvx2 : Isa::kPortable;
  fs::path root = fs::temp_directory_path() / "ferry-codegen-bundle-test";
  std::string cmake_extra;
  // Models whose input is an image ([N, 1 or 3, H, W]) link the runtime's image stage.
  const std::string image_on = "set(FERRY_IMAGE_STAGE ON)";
  bool image_stage = false;
  for (const std::string& name : models) {
    std::vector<File> files = Compile(name, isa);
    bool main_bundle = name == models.front();
    for (const File& file : files) {
      if (main_bundle) {
        if (file.path != "CMakeLists.txt") WriteIfChanged(root / file.path, file.bytes);
      } else if (file.path == "model.cc" || file.path == "models.cc" ||
                 file.path == "weights.bin") {
        WriteIfChanged(root / "models" / name / file.path, file.bytes);
      }
    }
    bool image_model = false;
    for (const File& file : files) {
      if (file.path == "CMakeLists.txt") {
        image_model = file.bytes.find(image_on) != std::string::npos;
      }
    }
    image_stage |= image_model;
    if (main_bundle) {
      for (const File& file : files) {
        if (file.path == "CMakeLists.txt") cmake_extra = file.bytes;
      }
      continue;
    }
    // The same targets as the bundle's own ferry_model and score, named per model.
    std::string block =
        "\nadd_library(ferry_model_@ STATIC models/@/model.cc models/@/models.cc)\n"
        "target_include_directories(ferry_model_@ PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})\n"
        "target_compile_options(ferry_model_@ PRIVATE ${FERRY_ISA_LIST})\n"
        "target_link_libraries(ferry_model_@ PUBLIC ferry_runtime" +
        std::string(image_model ? " ferry_image)\n" : ")\n") +
        "add_executable(score_@ runtime/bundle/score.cc)\n"
        "target_link_libraries(score_@ PRIVATE ferry_model_@)\n"
        "set_target_properties(score_@ PROPERTIES RUNTIME_OUTPUT_DIRECTORY\n"
        "  ${CMAKE_CURRENT_SOURCE_DIR}/models/@/bin)\n";
    for (auto at = block.find('@'); at != std::string::npos; at = block.find('@', at)) {
      block.replace(at, 1, name);
    }
    cmake_extra += block;
  }
  const std::string image_off = "set(FERRY_IMAGE_STAGE OFF)";
  if (image_stage && cmake_extra.find(image_off) != std::string::npos) {
    cmake_extra.replace(cmake_extra.find(image_off), image_off.size(), image_on);
  }
  WriteIfChanged(root / "CMakeLists.txt", cmake_extra);

  std::string quoted = "'" + root.string() + "'";
  std::string launcher = Shell("command -v ccache >/dev/null 2>&1") == 0
                             ? " -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
                             : "";
  std::string log = quoted + "/build.log";
  int built = Shell("cmake -S " + quoted + " -B " + quoted + "/build -DCMAKE_BUILD_TYPE=Release" +
                    launcher + " >" + log + " 2>&1 && cmake --build " + quoted + "/build -j2 >>" +
                    log + " 2>&1");
  REQUIRE_MESSAGE(built == 0, testing::ReadFileBytes((root / "build.log").string()));

  for (const std::string& name : models) {
    CAPTURE(name);
    nlohmann::json expected = nlohmann::json::parse(testing::ReadFileBytes(
        std::string(FERRY_SOURCE_DIR) + "/tests/codegen/expected/" + name + ".json"));
    fs::path program = name == models.front() ? root / "bin" / "score"
                                              : root / "models" / name / "bin" / ("score_" + name);
    fs::path input = root / (name + ".in.json");
    fs::path output = root / (name + ".out.json");
    WriteIfChanged(input, expected["input"].dump());
    REQUIRE(Shell("'" + program.string() + "' <'" + input.string() + "' >'" + output.string() +
                  "' 2>&1") == 0);
    std::string text = testing::ReadFileBytes(output.string());
    CAPTURE(text);
    nlohmann::json actual = nlohmann::json::parse(text)["outputs"];
    REQUIRE(actual.size() == expected["outputs"].size());
    for (const auto& [output_name, want] : expected["outputs"].items()) {
      CAPTURE(output_name);
      REQUIRE(actual.contains(output_name));
      std::vector<std::int64_t> shape;
      std::vector<nlohmann::json> values;
      Flatten(actual[output_name], 0, shape, values);
      CHECK(shape == want["shape"].get<std::vector<std::int64_t>>());
      REQUIRE(values.size() == want["values"].size());
      for (std::size_t i = 0; i < values.size(); ++i) {
        double got = values[i].get<double>();
        double wanted = want["values"][i].get<double>();
        // Relative error 1e-4, absolute near zero (the bound for float targets).
        CHECK_MESSAGE(std::abs(got - wanted) <= 1e-4 * std::max(1.0, std::abs(wanted)), "value ", i,
                      ": got ", got, ", ONNX Runtime ", wanted);
      }
    }
  }
}

}  // namespace
}  // namespace ferry::codegen

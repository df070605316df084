// `ferry render` of the image samples (image-classification: RGB 32x32, top 3
// of 10 named classes; fpga-inference: gray 28x28 digits) writes bundles that
// build with their own CMakeLists.txt and score their manifest's input_sample,
// a base64 PNG, through the compiled-in image stage: the classes are the
// output_sample's, the scores its rounded figures, and both agree with ONNX
// Runtime run on the same decoded tensor (suite "ort").
//
// Each bundle builds in a fixed temporary folder (ferry render rewrites only
// changed files, so a second run rebuilds nothing).
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/image.h"
#include "runtime/json.h"
#include "tests/cli/process_util.h"
#include "tests/runtime/oracle_support.h"

namespace ferry::runtime_test {
namespace {

namespace fs = std::filesystem;
using ferry_rt::Tensor;
using ferry_rt::json::Value;

struct ImageSample {
  const char* sample;  ///< samples/<sample>
  const char* bundle;  ///< bundles/<endpoint>-<version>
  const char* model;   ///< the ONNX file in the sample
  int channels;
  std::int64_t side;
};

/// The first endpoint's scoring samples in samples/<name>/ferry.yaml.
auto Scoring(const std::string& name) -> YAML::Node {
  YAML::Node manifest =
      YAML::LoadFile(std::string(FERRY_SOURCE_DIR) + "/samples/" + name + "/ferry.yaml");
  YAML::Node scoring = manifest["endpoints"].begin()->second["scoring"];
  REQUIRE(scoring["input_sample"]["data"].IsSequence());
  REQUIRE(scoring["output_sample"].IsMap());
  return scoring;
}

auto Shell(const std::string& command) -> int { return std::system(command.c_str()); }

/// Renders samples/<name> into `out` and builds `bundle` there with its own CMakeLists.txt.
void RenderAndBuild(const ImageSample& sample, const fs::path& out) {
  const testing::ProcessResult rendered = testing::RunProcess(
      FERRY_BINARY,
      {"render", std::string(FERRY_SOURCE_DIR) + "/samples/" + sample.sample, "-o", out.string()});
  INFO(rendered.err);
  REQUIRE(rendered.exit_code == 0);
  const fs::path bundle = out / "bundles" / sample.bundle;
  const std::string lists = testing::ReadWholeFile((bundle / "CMakeLists.txt").string());
  CHECK(lists.find("set(FERRY_IMAGE_STAGE ON)") != std::string::npos);
  const std::string facts = testing::ReadWholeFile((bundle / "bundle.yaml").string());
  CHECK(facts.find("    image:\n") != std::string::npos);
  CHECK(facts.find("    labels:\n") != std::string::npos);

  // The samples' clusters have AVX2; a host without it builds portable code.
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const std::string launcher = Shell("command -v ccache >/dev/null 2>&1") == 0
                                   ? " -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
                                   : "";
  const std::string quoted = testing::ShellQuote(bundle.string());
  const std::string log = testing::ShellQuote((out / "build.log").string());
  const int built =
      Shell("cmake -S " + quoted + " -B " + quoted + "/build" + " -DCMAKE_BUILD_TYPE=Release" +
            launcher + (avx2 ? "" : " -DFERRY_ISA_FLAGS=") + " >" + log +
            " 2>&1 && cmake --build " + quoted + "/build -j2 >>" + log + " 2>&1");
  REQUIRE_MESSAGE(built == 0, testing::ReadWholeFile((out / "build.log").string()));
}

/// bin/score's JSON for `request`.
auto Score(const fs::path& program, const std::string& request, const fs::path& scratch) -> Value {
  const fs::path input = scratch.string() + ".in.json";
  const fs::path output = scratch.string() + ".out.json";
  std::ofstream(input, std::ios::binary | std::ios::trunc) << request;
  const int status =
      Shell(testing::ShellQuote(program.string()) + " <" + testing::ShellQuote(input.string()) +
            " >" + testing::ShellQuote(output.string()) + " 2>&1");
  const std::string text = testing::ReadWholeFile(output.string());
  INFO(text);
  REQUIRE(status == 0);
  return ferry_rt::json::Parse(text);
}

void FlattenJson(const Value& value, std::vector<const Value*>& flat) {
  if (value.kind != Value::Kind::kArray) {
    flat.push_back(&value);
    return;
  }
  for (const Value& item : value.array) FlattenJson(item, flat);
}

void FlattenYaml(const YAML::Node& node, std::vector<YAML::Node>& flat) {
  if (!node.IsSequence()) {
    flat.push_back(node);
    return;
  }
  for (const YAML::Node& item : node) FlattenYaml(item, flat);
}

TEST_SUITE("ort") {
  TEST_CASE(
      "ferry render's image bundles build and score their samples' PNG as ONNX Runtime does") {
    const fs::path root = fs::temp_directory_path() / "ferry-image-bundle-test";
    for (const ImageSample& sample :
         {ImageSample{"image-classification", "classify-v1", "models/resnet_mini_v1.onnx", 3, 32},
          ImageSample{"fpga-inference", "digits-v1", "models/digit_reader_v1.onnx", 1, 28}}) {
      CAPTURE(sample.sample);
      const fs::path out = root / sample.sample;
      fs::create_directories(out);
      RenderAndBuild(sample, out);

      const YAML::Node scoring = Scoring(sample.sample);
      const std::string image = scoring["input_sample"]["data"][0].as<std::string>();
      // A GPU bundle's bin/score needs a device; its host reference (the CPU back end's
      // code for the same model and image stage) scores here.
      const fs::path bin = out / "bundles" / sample.bundle / "bin";
      const fs::path scorer = fs::exists(bin / "score_host") ? bin / "score_host" : bin / "score";
      const Value result =
          Score(scorer,
                "{\"data\": [" + ferry_rt::json::Quote(image) + "]}", out / "score");
      CAPTURE(image);
      const Value& outputs = result.object.at("outputs");

      // ONNX Runtime on the tensor the image stage decodes from the same string.
      const ferry_rt::ImageStage stage(sample.channels, sample.side, sample.side);
      Tensor rows;
      rows.dtype = ferry_rt::DType::kString;
      rows.shape = {1};
      rows.str = {image};
      Tensor decoded;
      stage.Run(rows, decoded);
      std::string library = oracle::OrtLibraryPath();
      REQUIRE_MESSAGE(!library.empty(), oracle::OrtInstallHint());
      oracle::OrtSession session(library, std::string(FERRY_SOURCE_DIR) + "/samples/" +
                                              sample.sample + "/" + sample.model);
      std::vector<Tensor> want;
      session.Run({"image"}, {decoded}, {"scores", "classes"}, want);

      std::vector<const Value*> scores;
      FlattenJson(outputs.object.at("scores"), scores);
      std::vector<float> ours;
      for (const Value* v : scores) ours.push_back(static_cast<float>(v->number));
      CHECK(MaxRelativeError(ours, want[0].f32) <= 1e-4);
      std::vector<const Value*> ids;
      FlattenJson(result.object.at("class_ids").object.at("classes"), ids);
      REQUIRE(ids.size() == want[1].i64.size());
      for (std::size_t i = 0; i < ids.size(); ++i) {
        CHECK(static_cast<std::int64_t>(ids[i]->number) == want[1].i64[i]);
      }

      // The manifest's output_sample: its keys, the classes exactly, the scores to its 3 decimals.
      const YAML::Node expected = scoring["output_sample"];
      CHECK(outputs.object.size() == expected.size());
      std::vector<const Value*> classes;
      FlattenJson(outputs.object.at("classes"), classes);
      std::vector<YAML::Node> want_classes;
      std::vector<YAML::Node> want_scores;
      FlattenYaml(expected["classes"], want_classes);
      FlattenYaml(expected["scores"], want_scores);
      REQUIRE(classes.size() == want_classes.size());
      for (std::size_t i = 0; i < classes.size(); ++i) {
        REQUIRE(classes[i]->kind == Value::Kind::kString);
        CHECK(classes[i]->string == want_classes[i].as<std::string>());
      }
      REQUIRE(ours.size() == want_scores.size());
      for (std::size_t i = 0; i < ours.size(); ++i) {
        const double w = want_scores[i].as<double>();
        CHECK_MESSAGE(std::abs(ours[i] - w) <= 5e-4 + 1e-6, "score ", i, ": got ", ours[i],
                      ", the sample says ", w);
      }

      // The same image as rows of raw numbers gives the same scores (the stage is optional).
      std::string numbers = "{\"data\": [[";
      for (std::size_t i = 0; i < decoded.f32.size(); ++i) {
        numbers += (i ? "," : "") + ferry_rt::json::Number(decoded.f32[i]);
      }
      const Value plain =
          Score(scorer, numbers + "]]}", out / "plain");
      std::vector<const Value*> plain_scores;
      FlattenJson(plain.object.at("outputs").object.at("scores"), plain_scores);
      REQUIRE(plain_scores.size() == scores.size());
      for (std::size_t i = 0; i < scores.size(); ++i) {
        CHECK(plain_scores[i]->number == scores[i]->number);
      }
    }
  }
}

}  // namespace
}  // namespace ferry::runtime_test

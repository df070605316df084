// `ferry render` of the samples writes bundles that build and score their
// endpoint's input_sample as the manifest's output_sample says: the FAQ
// sample (raw text in, split into words by the bundle's compiled-in Tokenizer)
// and dev-test (numbers in). A version serving both models gets one bundle
// whose scorer selects either, and gives each model's answers exactly as its
// one-model bundle does. The real ferry binary renders; CMake builds.
//
// Building the runtime takes a minute or two, so the bundles share one CMake
// project in a fixed temporary folder: the two-model bundle's CMakeLists.txt
// exactly as rendered (it finds OUT/runtime by itself), and the one-model
// bundles' model.cc and models.cc added as further libraries and scorers
// against that runtime. ferry render rewrites only changed files, so a second
// run rebuilds nothing.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/driver/compile.h"
#include "compiler/support/file_system.h"
#include "tests/cli/process_util.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

struct Sample {
  std::string input;   ///< the endpoint's input_sample, canonical JSON
  std::string output;  ///< its output_sample
};

/// The scoring samples of the first endpoint of samples/<name>/ferry.yaml.
auto SamplesOf(const std::string& name) -> Sample {
  support::DiskFileSystem disk;
  diag::Sink sink;
  driver::CompileResult compiled =
      driver::Compile(disk, std::string(FERRY_SOURCE_DIR) + "/samples/" + name + "/ferry.yaml",
                      catalog::Catalog::Builtin(), sink);
  REQUIRE(compiled.project);
  REQUIRE(!compiled.project->endpoints.empty());
  const ir::Endpoint& endpoint = compiled.project->endpoints[0];
  REQUIRE(!endpoint.input_sample_json.empty());
  REQUIRE(!endpoint.output_sample_json.empty());
  return {endpoint.input_sample_json, endpoint.output_sample_json};
}

void Flatten(const nlohmann::json& value, std::vector<nlohmann::json>& flat) {
  if (!value.is_array()) {
    flat.push_back(value);
    return;
  }
  for (const nlohmann::json& item : value) Flatten(item, flat);
}

auto Shell(const std::string& command) -> int { return std::system(command.c_str()); }

/// What `program` with `args` (shell words) writes for `input` on stdin,
/// stdout and stderr together, and its exit code.
auto Score(const fs::path& program, const std::string& args, const std::string& input,
           const fs::path& scratch) -> std::pair<int, std::string> {
  const fs::path in = scratch.string() + ".in.json";
  const fs::path out = scratch.string() + ".out.json";
  {
    std::ofstream file(in, std::ios::binary | std::ios::trunc);
    file << input;
  }
  const int status = Shell(ShellQuote(program.string()) + args + " <" + ShellQuote(in.string()) +
                           " >" + ShellQuote(out.string()) + " 2>&1");
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadWholeFile(out.string())};
}

/// The FAQ sample's manifest with dev-test's model added, and a version
/// serving both models (FAQ first), in `folder` with both model files.
void WriteTwoModelProject(const fs::path& folder) {
  const std::string source = FERRY_SOURCE_DIR;
  std::string manifest = ReadWholeFile(source + "/samples/faq-matching/ferry.yaml");
  const std::string diabetes = ReadWholeFile(source + "/samples/dev-test/ferry.yaml");
  const std::size_t model_at = diabetes.find("  diabetes-ridge:\n");
  const std::size_t model_end = diabetes.find("\n\n", model_at);
  REQUIRE(model_at != std::string::npos);
  REQUIRE(model_end != std::string::npos);
  const std::size_t insert_at = manifest.find("\nenvironments:");
  REQUIRE(insert_at != std::string::npos);
  manifest.insert(insert_at, diabetes.substr(model_at, model_end - model_at + 1));
  const std::string one = "        model: faq-ranker@1\n";
  REQUIRE(manifest.find(one) != std::string::npos);
  manifest.replace(manifest.find(one), one.size(),
                   "        models: [faq-ranker@1, diabetes-ridge@1]\n");
  fs::create_directories(folder / "models");
  const auto write_if_changed = [](const fs::path& path, const std::string& bytes) {
    if (ReadWholeFile(path.string()) == bytes) return;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  };
  write_if_changed(folder / "ferry.yaml", manifest);
  write_if_changed(folder / "models" / "faq_ranker_v1.onnx",
                   ReadWholeFile(source + "/samples/faq-matching/models/faq_ranker_v1.onnx"));
  write_if_changed(folder / "models" / "diabetes_ridge_v1.onnx",
                   ReadWholeFile(source + "/samples/dev-test/models/diabetes_ridge_v1.onnx"));
}

/// Runs `program` on the sample's input and checks every output the sample
/// names: integers exactly, floats to the sample's 3 decimals.
void CheckScores(const fs::path& program, const Sample& sample, const fs::path& scratch) {
  CAPTURE(program.string());
  const fs::path input = scratch.string() + ".in.json";
  const fs::path output = scratch.string() + ".out.json";
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out << sample.input;
  }
  REQUIRE(Shell(ShellQuote(program.string()) + " <" + ShellQuote(input.string()) + " >" +
                ShellQuote(output.string()) + " 2>&1") == 0);
  const std::string text = ReadWholeFile(output.string());
  CAPTURE(text);
  const nlohmann::json actual = nlohmann::json::parse(text)["outputs"];
  const nlohmann::json expected = nlohmann::json::parse(sample.output);
  REQUIRE(!expected.empty());
  for (const auto& [name, want] : expected.items()) {
    CAPTURE(name);
    REQUIRE(actual.contains(name));
    std::vector<nlohmann::json> got;
    std::vector<nlohmann::json> wanted;
    Flatten(actual[name], got);
    Flatten(want, wanted);
    REQUIRE(got.size() == wanted.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (wanted[i].is_number_integer()) {
        CHECK_MESSAGE(got[i] == wanted[i], "value ", i);
      } else {
        const double g = got[i].get<double>();
        const double w = wanted[i].get<double>();
        CHECK_MESSAGE(std::abs(g - w) <= 6e-4 + 1e-5 * std::abs(w), "value ", i, ": got ", g,
                      ", the sample says ", w);
      }
    }
  }
}

TEST_CASE("ferry render's bundles build and score their samples' input") {
  const fs::path root = fs::temp_directory_path() / "ferry-render-bundle-test";
  const std::string source = FERRY_SOURCE_DIR;
  WriteTwoModelProject(root / "two-models-project");
  const std::vector<std::pair<std::string, std::string>> projects = {
      {"faq-matching", source + "/samples/faq-matching"},
      {"dev-test", source + "/samples/dev-test"},
      {"two-models", (root / "two-models-project").string()}};
  for (const auto& [name, project] : projects) {
    CAPTURE(name);
    fs::create_directories(root);
    const ProcessResult rendered =
        RunProcess(FERRY_BINARY, {"render", project, "-o", (root / name).string()});
    INFO(rendered.err);
    REQUIRE(rendered.exit_code == 0);
    // One runtime for the whole output, none inside the bundles.
    CHECK(fs::exists(root / name / "runtime" / "CMakeLists.txt"));
  }
  const fs::path faq = root / "faq-matching" / "bundles" / "faq-live";
  const fs::path diabetes = root / "dev-test" / "bundles" / "diabetes-v1";
  const fs::path both = root / "two-models" / "bundles" / "faq-live";
  REQUIRE(fs::exists(faq / "models.cc"));
  REQUIRE(fs::exists(diabetes / "model.cc"));
  REQUIRE(fs::exists(both / "CMakeLists.txt"));
  REQUIRE(fs::exists(both / "models" / "faq-ranker-1" / "weights.bin"));
  REQUIRE(fs::exists(both / "models" / "diabetes-ridge-1" / "weights.bin"));
  CHECK(!fs::exists(faq / "runtime"));

  const std::string cmake =
      "cmake_minimum_required(VERSION 3.16)\n"
      "project(ferry_render_bundles CXX)\n"
      "add_subdirectory(two-models/bundles/faq-live two-models)\n"
      "separate_arguments(ISA UNIX_COMMAND \"${FERRY_ISA_FLAGS}\")\n"
      "function(one_model_scorer name folder)\n"
      "  add_library(ferry_model_${name} STATIC ${folder}/model.cc ${folder}/models.cc)\n"
      "  target_compile_options(ferry_model_${name} PRIVATE ${ISA})\n"
      "  target_link_libraries(ferry_model_${name} PUBLIC ferry_runtime)\n"
      "  add_executable(score_${name} ${FERRY_RUNTIME_DIR}/bundle/score.cc)\n"
      "  target_link_libraries(score_${name} PRIVATE ferry_model_${name})\n"
      "  set_target_properties(score_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY\n"
      "    ${CMAKE_CURRENT_SOURCE_DIR}/${folder}/bin)\n"
      "endfunction()\n"
      "one_model_scorer(faq faq-matching/bundles/faq-live)\n"
      "one_model_scorer(diabetes dev-test/bundles/diabetes-v1)\n";
  const fs::path lists = root / "CMakeLists.txt";
  if (ReadWholeFile(lists.string()) != cmake) {
    std::ofstream out(lists, std::ios::binary | std::ios::trunc);
    out << cmake;
  }

  // The samples' clusters have AVX2; a host without it builds portable code.
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const std::string quoted = ShellQuote(root.string());
  const std::string launcher = Shell("command -v ccache >/dev/null 2>&1") == 0
                                   ? " -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
                                   : "";
  const std::string log = ShellQuote((root / "build.log").string());
  const int built =
      Shell("cmake -S " + quoted + " -B " + quoted + "/build -DCMAKE_BUILD_TYPE=Release" +
            launcher + (avx2 ? "" : " -DFERRY_ISA_FLAGS=") + " >" + log +
            " 2>&1 && cmake --build " + quoted + "/build -j2 >>" + log + " 2>&1");
  REQUIRE_MESSAGE(built == 0, ReadWholeFile((root / "build.log").string()));

  const Sample faq_sample = SamplesOf("faq-matching");
  const Sample diabetes_sample = SamplesOf("dev-test");
  {  // faq-matching: raw text in, the FAQ ids of the best matches out.
    CHECK(faq_sample.input == R"({"data":[["how do I reset my password?"]]})");
    CHECK(nlohmann::json::parse(faq_sample.output)["faq_ids"] ==
          nlohmann::json::parse("[[0,9,7]]"));
    CheckScores(faq / "bin" / "score_faq", faq_sample, root / "faq");
  }
  {  // dev-test: numbers in, the regression's prediction out.
    CheckScores(diabetes / "bin" / "score_diabetes", diabetes_sample, root / "diabetes");
  }
  {  // Two models in one bundle: each answers as its own bundle does.
    const fs::path score = both / "bin" / "score";
    const auto [faq_status, faq_alone] =
        Score(faq / "bin" / "score_faq", "", faq_sample.input, root / "faq-alone");
    const auto [diabetes_status, diabetes_alone] = Score(
        diabetes / "bin" / "score_diabetes", "", diabetes_sample.input, root / "diabetes-alone");
    REQUIRE(faq_status == 0);
    REQUIRE(diabetes_status == 0);
    nlohmann::json named_faq = nlohmann::json::parse(faq_sample.input);
    named_faq["model"] = "faq-ranker";
    nlohmann::json named_diabetes = nlohmann::json::parse(diabetes_sample.input);
    named_diabetes["model"] = "diabetes-ridge";
    // The first declared model by default; a request's "model"; --model.
    CHECK(Score(score, "", faq_sample.input, root / "both") == std::pair(0, faq_alone));
    CHECK(Score(score, "", named_faq.dump(), root / "both") == std::pair(0, faq_alone));
    CHECK(Score(score, "", named_diabetes.dump(), root / "both") == std::pair(0, diabetes_alone));
    CHECK(Score(score, " --model diabetes-ridge", diabetes_sample.input, root / "both") ==
          std::pair(0, diabetes_alone));
    // The request's key wins over --model.
    CHECK(Score(score, " --model diabetes-ridge", named_faq.dump(), root / "both") ==
          std::pair(0, faq_alone));
    CheckScores(score, faq_sample, root / "both-faq");
    nlohmann::json unknown = nlohmann::json::parse(faq_sample.input);
    unknown["model"] = "faq";
    CHECK(Score(score, "", unknown.dump(), root / "both") ==
          std::pair(1, std::string("score: no model 'faq' in this bundle; it serves "
                                   "'faq-ranker', 'diabetes-ridge'\n")));
    CHECK(Score(score, " --model ridge", diabetes_sample.input, root / "both").first == 1);
    // Benchmarks select the same way.
    CHECK(Score(score, " --bench 3 --model diabetes-ridge", "", root / "both")
              .second.starts_with("median_us="));
  }
}

}  // namespace
}  // namespace ferry::testing

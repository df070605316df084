// `ferry render` of the samples writes bundles that build and score their
// endpoint's input_sample as the manifest's output_sample says: the FAQ
// sample (raw text in, split into words by the bundle's compiled-in Tokenizer)
// and dev-test (numbers in). The real ferry binary renders; CMake builds.
//
// Building the runtime takes a minute or two, so both samples share one CMake
// project in a fixed temporary folder: the FAQ bundle's CMakeLists.txt exactly
// as rendered (it finds OUT/runtime by itself), and dev-test's model.cc added
// as a further library and scorer against that runtime. ferry render rewrites
// only changed files, so a second run rebuilds nothing.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
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
  for (const char* name : {"faq-matching", "dev-test"}) {
    CAPTURE(name);
    fs::create_directories(root);
    const ProcessResult rendered = RunProcess(
        FERRY_BINARY, {"render", source + "/samples/" + name, "-o", (root / name).string()});
    INFO(rendered.err);
    REQUIRE(rendered.exit_code == 0);
    // One runtime for the whole output, none inside the bundles.
    CHECK(fs::exists(root / name / "runtime" / "CMakeLists.txt"));
  }
  const fs::path faq = root / "faq-matching" / "bundles" / "faq-live";
  const fs::path diabetes = root / "dev-test" / "bundles" / "diabetes-v1";
  REQUIRE(fs::exists(faq / "CMakeLists.txt"));
  REQUIRE(fs::exists(diabetes / "model.cc"));
  CHECK(!fs::exists(faq / "runtime"));

  const std::string cmake =
      "cmake_minimum_required(VERSION 3.16)\n"
      "project(ferry_render_bundles CXX)\n"
      "add_subdirectory(faq-matching/bundles/faq-live faq)\n"
      "separate_arguments(ISA UNIX_COMMAND \"${FERRY_ISA_FLAGS}\")\n"
      "add_library(ferry_model_diabetes STATIC dev-test/bundles/diabetes-v1/model.cc)\n"
      "target_compile_options(ferry_model_diabetes PRIVATE ${ISA})\n"
      "target_link_libraries(ferry_model_diabetes PUBLIC ferry_runtime)\n"
      "add_executable(score_diabetes ${FERRY_RUNTIME_DIR}/bundle/score.cc)\n"
      "target_link_libraries(score_diabetes PRIVATE ferry_model_diabetes)\n"
      "set_target_properties(score_diabetes PROPERTIES RUNTIME_OUTPUT_DIRECTORY\n"
      "  ${CMAKE_CURRENT_SOURCE_DIR}/dev-test/bundles/diabetes-v1/bin)\n";
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

  {  // faq-matching: raw text in, the FAQ ids of the best matches out.
    const Sample sample = SamplesOf("faq-matching");
    CHECK(sample.input == R"({"data":[["how do I reset my password?"]]})");
    CHECK(nlohmann::json::parse(sample.output)["faq_ids"] == nlohmann::json::parse("[[0,9,7]]"));
    CheckScores(faq / "bin" / "score", sample, root / "faq");
  }
  {  // dev-test: numbers in, the regression's prediction out.
    CheckScores(diabetes / "bin" / "score_diabetes", SamplesOf("dev-test"), root / "diabetes");
  }
}

}  // namespace
}  // namespace ferry::testing

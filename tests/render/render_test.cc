#include "compiler/render/render.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "compiler/support/sha256.h"
#include "tests/onnx/test_models.h"
#include "tests/render/project_fixture.h"

namespace ferry::render {
namespace {

using testing::Codes;
using testing::Compile;

// A real model: render compiles CPU versions' models into their bundles.
const std::string kModel = ferry::testing::TestModel("linear_classifier");

/// A project with one model and the endpoints `endpoints` (lines indented two spaces).
auto Manifest(const std::string& endpoints) -> std::string {
  return "ferry: 1\n"
         "project: shop\n"
         "workspace: {name: ws, region: westeurope, registry: contoso.azurecr.io}\n"
         "models:\n"
         "  scorer:\n"
         "    versions:\n"
         "      1: {path: models/m.onnx, sha256: " +
         support::Sha256Hex(kModel) +
         "}\n"
         "clusters:\n"
         "  prod: {vm_size: Standard_D3_v2, agent_count: 3, kubernetes_version: \"1.18.14\"}\n"
         "endpoints:\n" +
         endpoints;
}

const std::string kTwoVersions =
    "  churn:\n"
    "    cluster: prod\n"
    "    versions:\n"
    "      a: {model: scorer@1, traffic: 20}\n"
    "      b: {model: scorer@1, traffic: 40, default: true}\n";

auto Paths(const RenderResult& result) -> std::vector<std::string> {
  std::vector<std::string> paths;
  for (const RenderedFile& file : result.files) paths.push_back(file.path);
  return paths;
}

TEST_CASE("Render writes bundles, image plans and Kubernetes objects, sorted by path") {
  const auto compiled = Compile(Manifest(kTwoVersions), {{"models/m.onnx", kModel}});
  diag::Sink sink;
  const RenderResult result =
      Render(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink);
  CHECK(Codes(sink) == "");
  const std::vector<std::string> paths = Paths(result);
  CHECK(std::is_sorted(paths.begin(), paths.end()));
  CHECK(std::adjacent_find(paths.begin(), paths.end()) == paths.end());
  for (const char* expected :
       {"bundles/churn-a/bundle.yaml", "bundles/churn-a/model.onnx", "bundles/churn-b/bundle.yaml",
        "bundles/churn-b/model.onnx", "bundles/churn-b/model.cc", "bundles/churn-b/weights.bin",
        "images/builtin-cpu-cpu/Dockerfile", "images/builtin-cpu-cpu/build.yaml",
        "runtime/CMakeLists.txt", "runtime/bundle/score.cc"}) {
    CAPTURE(expected);
    CHECK(std::find(paths.begin(), paths.end(), expected) != paths.end());
  }
  REQUIRE(result.bundles.size() == 2);
  REQUIRE(result.images.size() == 2);
  CHECK(result.bundles[0].directory == "bundles/churn-a");
  // Same model and environment, but the bundle names its endpoint version: two images.
  CHECK(result.images[0].reference != result.images[1].reference);

  // Every model Deployment runs the image the plan builds for it.
  for (const ImageRef& image : result.images) {
    CAPTURE(image.version);
    const std::string path = "kubernetes/prod/deployment-churn-" + image.version + ".yaml";
    const auto file = std::find_if(result.files.begin(), result.files.end(),
                                   [&](const RenderedFile& f) { return f.path == path; });
    REQUIRE(file != result.files.end());
    CHECK(file->contents.find("image: " + image.reference + "\n") != std::string::npos);
  }
}

TEST_CASE("Render gives the same bytes every time") {
  const auto compiled = Compile(Manifest(kTwoVersions), {{"models/m.onnx", kModel}});
  diag::Sink sink;
  const RenderResult first =
      Render(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink);
  const RenderResult second =
      Render(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink);
  REQUIRE(first.files.size() == second.files.size());
  for (std::size_t i = 0; i < first.files.size(); ++i) {
    CHECK(first.files[i].path == second.files[i].path);
    CHECK(first.files[i].contents == second.files[i].contents);
  }
}

TEST_CASE("E0702: render refuses a project whose traffic split did not resolve") {
  support::MemoryFileSystem fs;
  fs.Add("p/models/m.onnx", kModel);
  fs.Add("p/ferry.yaml", Manifest("  churn:\n"
                                  "    cluster: prod\n"
                                  "    versions:\n"
                                  "      a: {model: scorer@1, traffic: 70}\n"
                                  "      b: {model: scorer@1, traffic: 70}\n"));
  diag::Sink check_sink;
  const auto compiled =
      driver::Compile(fs, "p/ferry.yaml", catalog::Catalog::Builtin(), check_sink);
  REQUIRE(check_sink.HasErrors());
  REQUIRE(compiled.project.has_value());
  REQUIRE(!compiled.project->endpoints[0].traffic_resolved);

  diag::Sink sink;
  RenderInputs inputs;
  inputs.model_files.emplace("models/m.onnx", kModel);
  const RenderResult result = Render(*compiled.project, catalog::Catalog::Builtin(), inputs, sink);
  CHECK(Codes(sink) == "E0702");
  CHECK(result.files.empty());
  CHECK(result.images.empty());
  REQUIRE(sink.diagnostics().size() == 1);
  CHECK(sink.diagnostics()[0].path == "endpoints.churn");
  CHECK(sink.diagnostics()[0].message ==
        "endpoint 'churn' cannot be rendered: its traffic split is not resolved; run the checks "
        "(ferry check) and fix their errors first");
}

TEST_CASE("E0702: render refuses a project with an unresolved reference") {
  auto compiled = Compile(Manifest(kTwoVersions), {{"models/m.onnx", kModel}});
  SUBCASE("cluster") { compiled.project.endpoints[0].cluster = ir::kNone; }
  SUBCASE("model") { compiled.project.endpoints[0].versions[1].models[0].model = ir::kNone; }
  SUBCASE("environment") { compiled.project.endpoints[0].versions[0].environment_name = "gone"; }
  diag::Sink sink;
  CHECK(Render(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink).files.empty());
  CHECK(Codes(sink) == "E0702");
}

TEST_CASE("E0704: names that meet when joined with '-' write nothing") {
  const auto compiled = Compile(Manifest("  churn-a:\n"
                                         "    cluster: prod\n"
                                         "    versions:\n"
                                         "      v1: {model: scorer@1}\n"
                                         "  churn:\n"
                                         "    cluster: prod\n"
                                         "    versions:\n"
                                         "      a-v1: {model: scorer@1}\n"),
                                {{"models/m.onnx", kModel}});
  diag::Sink sink;
  const RenderResult result =
      Render(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink);
  CHECK(result.files.empty());
  // Reported once per path, not once per file that shares it.
  std::size_t clashes = 0;
  for (const diag::Diagnostic& d : sink.diagnostics()) {
    if (diag::Info(d.code).code != "E0704") continue;
    ++clashes;
    CHECK(d.message.find("'bundles/churn-a-v1/") != std::string::npos);
  }
  // CMakeLists.txt, bundle.yaml, model.cc, model.onnx, models.cc, swagger.json, weights.bin
  // (the runtime is shared).
  CHECK(clashes == 7);
}

TEST_CASE("E0703 from a bundle is reported through Render, and that version gets no image") {
  auto compiled = Compile(Manifest(kTwoVersions), {{"models/m.onnx", kModel}});
  compiled.inputs.model_files.clear();
  diag::Sink sink;
  const RenderResult result =
      Render(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink);
  CHECK(Codes(sink) == "E0703 E0703");
  CHECK(result.images.empty());
  CHECK(result.bundles.empty());
}

// Every render code (E07xx) is asserted by some test in tests/render/, as
// the check codes are by tests/check/cases.
TEST_CASE("Every E07xx code is reported by a test in tests/render") {
  std::string tests;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(FERRY_SOURCE_DIR) + "/tests/render")) {
    if (!entry.path().string().ends_with("_test.cc")) continue;
    std::ifstream in(entry.path());
    tests.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::size_t render_codes = 0;
  for (const diag::CodeInfo& info : diag::AllCodes()) {
    if (!info.code.starts_with("E07")) continue;
    ++render_codes;
    CAPTURE(info.code);
    CHECK(tests.find("\"" + std::string(info.code)) != std::string::npos);
  }
  CHECK(render_codes >= 4);
}

}  // namespace
}  // namespace ferry::render

// The bundled samples are the first thing a user runs: each must compile with
// no error through the same pipeline as `ferry check`, on the real disk and the
// built-in catalog. The controlled-rollout sample also pins the seeds' worked
// traffic example as resolved in the IR.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/diag/print.h"
#include "compiler/driver/compile.h"
#include "compiler/ir/project.h"
#include "compiler/support/file_system.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

const fs::path kSamples = fs::path(FERRY_SOURCE_DIR) / "samples";

/// Every sample folder (one holding a ferry.yaml), sorted by name.
auto SampleFolders() -> std::vector<std::string> {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(kSamples)) {
    if (entry.is_directory() && fs::exists(entry.path() / "ferry.yaml")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Compiled {
  driver::CompileResult result;
  diag::Sink sink;
};

auto CompileSample(const std::string& name) -> Compiled {
  Compiled compiled;
  support::DiskFileSystem disk;
  std::string manifest = driver::ManifestPath((kSamples / name).string());
  compiled.result = driver::Compile(disk, manifest, catalog::Catalog::Builtin(), compiled.sink);
  return compiled;
}

auto FindEndpoint(const ir::Project& project, std::string_view name) -> const ir::Endpoint* {
  for (const ir::Endpoint& endpoint : project.endpoints) {
    if (endpoint.name == name) return &endpoint;
  }
  return nullptr;
}

TEST_CASE("samples: the seeds' scenarios are all bundled") {
  // More samples may come; these five must stay.
  const std::vector<std::string> seeds = {"controlled-rollout", "dev-test", "faq-matching",
                                          "fpga-inference", "image-classification"};
  std::vector<std::string> present = SampleFolders();
  CHECK(std::includes(present.begin(), present.end(), seeds.begin(), seeds.end()));
}

TEST_CASE("samples: every sample compiles without errors") {
  for (const std::string& name : SampleFolders()) {
    CAPTURE(name);
    Compiled compiled = CompileSample(name);
    // The whole report, warnings included, so a failure shows what to fix.
    std::string report = diag::PrintText(compiled.sink.Sorted(), compiled.result.sources);
    INFO(report);
    CHECK(compiled.sink.Count(diag::Severity::Error) == 0);
    // Warnings are allowed (a rule may be advisory for a sample) but reported.
    WARN(compiled.sink.Count(diag::Severity::Warning) == 0);
    REQUIRE(compiled.result.project.has_value());
  }
}

TEST_CASE("samples: every manifest points editors at the schema") {
  for (const std::string& name : SampleFolders()) {
    CAPTURE(name);
    std::optional<std::string> text =
        support::DiskFileSystem().Read((kSamples / name / "ferry.yaml").string());
    REQUIRE(text.has_value());
    CHECK(text->substr(0, text->find('\n')) ==
          "# yaml-language-server: $schema=../../schemas/ferry.schema.json");
  }
}

TEST_CASE("samples: every endpoint's split resolves to 100 percent") {
  for (const std::string& name : SampleFolders()) {
    Compiled compiled = CompileSample(name);
    REQUIRE(compiled.result.project.has_value());
    for (const ir::Endpoint& endpoint : compiled.result.project->endpoints) {
      CAPTURE(name);
      CAPTURE(endpoint.name);
      CHECK(endpoint.traffic_resolved);
      double total = 0;
      for (const ir::Version& version : endpoint.versions) total += version.resolved_traffic;
      CHECK(total == doctest::Approx(100));
    }
  }
}

TEST_CASE("samples: controlled-rollout resolves the seeds' worked example") {
  // a 20% treatment, b 40% default and control: b takes the 40% remainder.
  Compiled compiled = CompileSample("controlled-rollout");
  REQUIRE(compiled.result.project.has_value());
  const ir::Endpoint* churn = FindEndpoint(*compiled.result.project, "churn");
  REQUIRE(churn != nullptr);
  REQUIRE(churn->versions.size() == 2);
  REQUIRE(churn->traffic_resolved);
  const ir::Version& a = churn->versions[0];
  const ir::Version& b = churn->versions[1];
  CHECK(a.name == "a");
  CHECK(b.name == "b");
  CHECK(churn->default_version == 1);
  CHECK_FALSE(a.is_default);
  CHECK(b.is_default);
  CHECK(a.role == ir::Role::Treatment);
  CHECK(b.role == ir::Role::Control);
  CHECK(a.traffic == 20);
  CHECK(b.traffic == 40);
  CHECK(a.resolved_traffic == 20);
  CHECK(b.resolved_traffic == 80);
  // Two versions of one model: the logistic v1 and the boosted-tree v2.
  REQUIRE(a.models.size() == 1);
  REQUIRE(b.models.size() == 1);
  CHECK(a.models[0].text == "churn-scorer@1");
  CHECK(b.models[0].text == "churn-scorer@2");
  CHECK(a.models[0].model == b.models[0].model);
  CHECK(a.models[0].version == 0);
  CHECK(b.models[0].version == 1);
}

TEST_CASE("samples: model files stay small enough for the repository") {
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(kSamples)) {
    if (entry.path().extension() != ".onnx") continue;
    CAPTURE(entry.path().string());
    CHECK(entry.file_size() < 400 * 1024);
  }
}

}  // namespace
}  // namespace ferry

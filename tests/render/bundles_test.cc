#include "compiler/render/bundles.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "compiler/render/value.h"
#include "compiler/support/sha256.h"
#include "tests/onnx/test_models.h"
#include "tests/render/project_fixture.h"

namespace ferry::render {
namespace {

using testing::Codes;
using testing::Compile;

// Real models: CPU versions compile theirs into the bundle.
const std::string kRanker1 = ferry::testing::TestModel("linear_classifier");
const std::string kRanker2 = ferry::testing::TestModel("mlp");

/// A project with endpoint 'faq' on a Standard_D3_v2 cluster and the
/// versions `versions` (lines indented six spaces).
auto Manifest(const std::string& versions, const std::string& scoring = "") -> std::string {
  return "ferry: 1\n"
         "project: shop\n"
         "workspace: {name: ws, region: westeurope, registry: contoso.azurecr.io}\n"
         "models:\n"
         "  ranker:\n"
         "    versions:\n"
         "      1: {path: models/r1.onnx, sha256: " +
         support::Sha256Hex(kRanker1) +
         "}\n"
         "      2: {path: models/r2.onnx, sha256: " +
         support::Sha256Hex(kRanker2) +
         "}\n"
         "clusters:\n"
         "  prod: {vm_size: Standard_D3_v2, agent_count: 3, kubernetes_version: \"1.18.14\"}\n"
         "endpoints:\n"
         "  faq:\n"
         "    cluster: prod\n" +
         scoring + "    versions:\n" + versions;
}

// How the YAML printer writes `text` as a value (digests may be quoted).
auto YamlScalar(const std::string& text) -> std::string {
  std::string yaml = ToYaml(Value(text));
  yaml.pop_back();
  return yaml;
}

auto Files() -> std::map<std::string, std::string> {
  return {{"models/r1.onnx", kRanker1}, {"models/r2.onnx", kRanker2}};
}

TEST_CASE("RenderBundle writes bundle.yaml and the model file") {
  const auto compiled = Compile(Manifest("      live: {model: ranker@1}\n",
                                         "    scoring:\n"
                                         "      input_sample: {data: [[1.5, 2]], flag: true}\n"
                                         "      output_sample: {label: [\"yes\"]}\n"),
                                Files());
  const ir::Endpoint& endpoint = compiled.project.endpoints[0];
  diag::Sink sink;
  const auto bundle = RenderBundle(compiled.project, catalog::Catalog::Builtin(), endpoint,
                                   endpoint.versions[0], compiled.inputs, sink);
  CHECK(Codes(sink) == "");
  REQUIRE(bundle.has_value());
  CHECK(bundle->ref.endpoint == "faq");
  CHECK(bundle->ref.version == "live");
  CHECK(bundle->ref.directory == "bundles/faq-live");
  std::vector<std::string> paths;
  for (const RenderedFile& file : bundle->files) paths.push_back(file.path);
  // The model compiler's files beside the model; its runtime goes to OUT/runtime once.
  CHECK(paths ==
        std::vector<std::string>{"bundles/faq-live/CMakeLists.txt", "bundles/faq-live/bundle.yaml",
                                 "bundles/faq-live/model.cc", "bundles/faq-live/model.onnx",
                                 "bundles/faq-live/weights.bin"});
  REQUIRE(paths.size() == 5);
  CHECK(!bundle->runtime.empty());
  for (const RenderedFile& file : bundle->runtime) CHECK(file.path.starts_with("runtime/"));
  const std::string& yaml = bundle->files[1].contents;
  CHECK(!bundle->files[1].binary);
  const std::string rendered =
      "# Rendered by ferry; do not edit.\n"
      "backend: cpu\n"
      "bundle: 1\n"
      "cluster_isa:\n"
      "- avx2\n"
      "- sse4.2\n"
      "endpoint: faq\n"
      "models:\n"
      "- file: model.onnx\n"
      "  name: ranker\n"
      "  path: models/r1.onnx\n"
      "  sha256: " +
      YamlScalar(support::Sha256Hex(kRanker1)) +
      "\n"
      "  version: 1\n"
      "samples:\n"
      "  input:\n"
      "    data:\n"
      "    - - 1.5\n"
      "      - 2\n"
      "    flag: true\n"
      "  output:\n"
      "    label:\n"
      "    - \"yes\"\n"
      "target: cpu\n"
      "version: live\n"
      "# The compiled model (ferry compile):\n";
  CHECK(yaml.starts_with(rendered));
  // codegen's facts follow once: the ISA picked from the cluster's, best first.
  CHECK(yaml.find("\nisa: avx2\n") != std::string::npos);
  CHECK(yaml.find("\nweights: {file: weights.bin, sha256: ") != std::string::npos);
  CHECK(yaml.find("bundle: 1", 1) == yaml.find("bundle: 1"));
  CHECK(yaml.find("target: ", yaml.find("target: ") + 1) == std::string::npos);
  CHECK(bundle->files[3].binary);
  CHECK(bundle->files[3].contents == kRanker1);
  CHECK(bundle->files[4].binary);
  std::vector<RenderedFile> hashed = bundle->files;
  hashed.insert(hashed.end(), bundle->runtime.begin(), bundle->runtime.end());
  CHECK(bundle->ref.sha256 == BundleHash(bundle->ref.directory, hashed));
}

TEST_CASE("A version serving several models gets one file per model version") {
  const auto compiled = Compile(Manifest("      both: {models: [ranker@1, ranker@2]}\n"), Files());
  diag::Sink sink;
  const auto bundles =
      RenderBundles(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink);
  REQUIRE(bundles.size() == 1);
  std::vector<std::string> paths;
  for (const RenderedFile& file : bundles[0].files) paths.push_back(file.path);
  CHECK(paths == std::vector<std::string>{"bundles/faq-both/bundle.yaml",
                                          "bundles/faq-both/models/ranker-1.onnx",
                                          "bundles/faq-both/models/ranker-2.onnx"});
  CHECK(bundles[0].files[2].contents == kRanker2);
  CHECK(bundles[0].files[0].contents.find("- file: models/ranker-2.onnx\n") != std::string::npos);
  // One model per generated bundle, so no code yet, and bundle.yaml says so.
  CHECK(bundles[0].files[0].contents.find("code: \"not generated (one model") != std::string::npos);
  CHECK(bundles[0].runtime.empty());
}

TEST_CASE("BundleHash covers every byte and path, not the folder's name or the files' order") {
  const std::vector<RenderedFile> files = {
      {.path = "bundles/a-b/bundle.yaml", .contents = "x: 1\n"},
      {.path = "bundles/a-b/model.onnx", .contents = "weights", .binary = true}};
  const std::string hash = BundleHash("bundles/a-b", files);
  CHECK(hash.size() == 64);
  using Files = std::vector<RenderedFile>;
  CHECK(BundleHash("bundles/c-d",
                   Files{{.path = "bundles/c-d/bundle.yaml", .contents = "x: 1\n"},
                         {.path = "bundles/c-d/model.onnx", .contents = "weights"}}) == hash);
  CHECK(BundleHash("bundles/a-b", Files{files[1], files[0]}) == hash);
  CHECK(BundleHash("bundles/a-b",
                   Files{files[0], {.path = files[1].path, .contents = "weightS"}}) != hash);
  CHECK(BundleHash("bundles/a-b",
                   Files{files[0], {.path = "bundles/a-b/m.onnx", .contents = "weights"}}) != hash);
  CHECK(BundleHash("bundles/a-b", Files{files[0]}) != hash);
}

TEST_CASE("E0703: model bytes missing or changed since the check leave the bundle out") {
  auto compiled = Compile(Manifest("      live: {model: ranker@1}\n"), Files());
  const ir::Endpoint& endpoint = compiled.project.endpoints[0];
  SUBCASE("missing") { compiled.inputs.model_files.erase("models/r1.onnx"); }
  SUBCASE("changed") { compiled.inputs.model_files["models/r1.onnx"] = "retrained"; }
  diag::Sink sink;
  CHECK(!RenderBundle(compiled.project, catalog::Catalog::Builtin(), endpoint, endpoint.versions[0],
                      compiled.inputs, sink)
             .has_value());
  CHECK(Codes(sink) == "E0703");
  REQUIRE(sink.diagnostics().size() == 1);
  const diag::Diagnostic& d = sink.diagnostics()[0];
  CHECK(d.path == "models.ranker.versions.1.path");
  CHECK(d.location.line == 7);
  CHECK(d.message.find("bundle 'bundles/faq-live' is not written") != std::string::npos);
}

TEST_CASE("A CPU model the compiler refuses is its diagnostic, and no bundle") {
  const std::string refused = ferry::testing::TestModel("bad_operator");
  std::string manifest = Manifest("      live: {model: ranker@1}\n");
  const std::string digest = support::Sha256Hex(kRanker1);
  manifest.replace(manifest.find(digest), digest.size(), support::Sha256Hex(refused));
  const auto compiled =
      Compile(manifest, {{"models/r1.onnx", refused}, {"models/r2.onnx", kRanker2}});
  diag::Sink sink;
  const auto bundles =
      RenderBundles(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink);
  CHECK(bundles.empty());
  REQUIRE(sink.HasErrors());
  CHECK(Codes(sink).starts_with("E08"));
  CHECK(sink.diagnostics()[0].location.file == "models/r1.onnx");
}

}  // namespace
}  // namespace ferry::render

#include "compiler/render/bundles.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "compiler/render/value.h"
#include "compiler/support/sha256.h"
#include "tests/render/project_fixture.h"

namespace ferry::render {
namespace {

using testing::Codes;
using testing::Compile;

const std::string kRanker1 = "ranker one";
const std::string kRanker2 = "ranker two";

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
  REQUIRE(bundle->files.size() == 2);
  CHECK(bundle->files[0].path == "bundles/faq-live/bundle.yaml");
  CHECK(!bundle->files[0].binary);
  CHECK(bundle->files[0].contents ==
        "bundle: 1\n"
        "endpoint: faq\n"
        "isa:\n"
        "- avx2\n"
        "- sse4.2\n"
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
            "version: live\n");
  CHECK(bundle->files[1].path == "bundles/faq-live/model.onnx");
  CHECK(bundle->files[1].binary);
  CHECK(bundle->files[1].contents == kRanker1);
  CHECK(bundle->ref.sha256 == BundleHash(bundle->ref.directory, bundle->files));
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

}  // namespace
}  // namespace ferry::render

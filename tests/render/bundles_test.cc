#include "compiler/render/bundles.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

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
                                 "bundles/faq-live/models.cc", "bundles/faq-live/swagger.json",
                                 "bundles/faq-live/weights.bin"});
  REQUIRE(paths.size() == 7);
  CHECK(!bundle->runtime.empty());
  for (const RenderedFile& file : bundle->runtime) CHECK(file.path.starts_with("runtime/"));
  const std::string& yaml = bundle->files[1].contents;
  CHECK(!bundle->files[1].binary);
  // One document: render's facts with the model compiler's merged in (the ISA
  // picked from the cluster's, best first; per model its code and weights).
  CHECK(
      yaml.starts_with("# Rendered by ferry; do not edit.\n"
                       "backend: cpu\n"
                       "bundle: 1\n"
                       "cluster_isa:\n"
                       "- avx2\n"
                       "- sse4.2\n"
                       "endpoint: faq\n"
                       "isa: avx2\n"
                       "models:\n"
                       "- arena_bytes:\n"));
  CHECK(yaml.find("\n"
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
                  "version: live\n") != std::string::npos);
  YAML::Node manifest = YAML::Load(yaml);
  REQUIRE(manifest["models"].size() == 1);
  YAML::Node model = manifest["models"][0];
  CHECK(model["name"].as<std::string>() == "ranker");
  CHECK(model["version"].as<int>() == 1);
  CHECK(model["path"].as<std::string>() == "models/r1.onnx");
  CHECK(model["sha256"].as<std::string>() == support::Sha256Hex(kRanker1));
  CHECK(model["file"].as<std::string>() == "model.onnx");
  CHECK(model["code"].as<std::string>() == "model.cc");
  CHECK(model["weights"]["file"].as<std::string>() == "weights.bin");
  CHECK(model["weights"]["sha256"].as<std::string>() ==
        support::Sha256Hex(bundle->files[6].contents));
  CHECK(model["inputs"].size() == 1);
  CHECK(!model["onnx"]);
  CHECK(!model["select"]);
  CHECK(!manifest["code"]);
  CHECK(bundle->files[3].binary);
  CHECK(bundle->files[3].contents == kRanker1);
  CHECK(bundle->files[6].binary);
  // The OpenAPI document serve returns, inferred from the samples.
  CHECK(!bundle->files[5].binary);
  CHECK(bundle->files[5].contents.find(
            R"("example":{"data":[[1.5,2]],"flag":true},"schema":{"properties":{"data":{"items":)"
            R"({"items":{"type":"number"},"type":"array"},"type":"array"},"flag":{"type":)"
            R"("boolean"}},"required":["data","flag"],"type":"object"}})") != std::string::npos);
  std::vector<RenderedFile> hashed = bundle->files;
  hashed.insert(hashed.end(), bundle->runtime.begin(), bundle->runtime.end());
  CHECK(bundle->ref.sha256 == BundleHash(bundle->ref.directory, hashed));
}

TEST_CASE("A version serving several models compiles each into its own folder") {
  const auto compiled = Compile(Manifest("      both: {models: [ranker@2, ranker@1]}\n"), Files());
  diag::Sink sink;
  const auto bundles =
      RenderBundles(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink);
  CHECK(Codes(sink) == "");
  REQUIRE(bundles.size() == 1);
  std::vector<std::string> paths;
  for (const RenderedFile& file : bundles[0].files) paths.push_back(file.path);
  CHECK(paths == std::vector<std::string>{
                     "bundles/faq-both/CMakeLists.txt", "bundles/faq-both/bundle.yaml",
                     "bundles/faq-both/models.cc", "bundles/faq-both/models/ranker-1/model.cc",
                     "bundles/faq-both/models/ranker-1/model.onnx",
                     "bundles/faq-both/models/ranker-1/weights.bin",
                     "bundles/faq-both/models/ranker-2/model.cc",
                     "bundles/faq-both/models/ranker-2/model.onnx",
                     "bundles/faq-both/models/ranker-2/weights.bin",
                     "bundles/faq-both/swagger.json"});
  REQUIRE(paths.size() == 10);
  CHECK(bundles[0].files[4].contents == kRanker1);
  CHECK(bundles[0].files[7].contents == kRanker2);
  CHECK(!bundles[0].runtime.empty());
  // Two versions of one model: requests select them as name@version, the
  // declared first by default.
  YAML::Node manifest = YAML::Load(bundles[0].files[1].contents);
  REQUIRE(manifest["models"].size() == 2);
  CHECK(manifest["models"][0]["select"].as<std::string>() == "ranker@2");
  CHECK(manifest["models"][0]["file"].as<std::string>() == "models/ranker-2/model.onnx");
  CHECK(manifest["models"][0]["code"].as<std::string>() == "models/ranker-2/model.cc");
  CHECK(manifest["models"][1]["weights"]["file"].as<std::string>() ==
        "models/ranker-1/weights.bin");
  const std::string& table = bundles[0].files[2].contents;
  CHECK(table.find("{\"ranker@2\", \"models/ranker-2/weights.bin\"") <
        table.find("{\"ranker@1\", \"models/ranker-1/weights.bin\""));
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

TEST_CASE("declared stages change the bundle: top_k with labels over the model's scores") {
  const std::string versions = "      live: {model: ranker@2}\n";
  const std::string scoring =
      "    scoring:\n"
      "      postprocess: {softmax: true, top_k: 2, labels: models/labels.txt}\n";
  std::map<std::string, std::string> files = Files();
  files["models/labels.txt"] = "setosa\nversicolor\r\nvirginica\n";
  const auto plain = Compile(Manifest(versions), files);
  const auto declared = Compile(Manifest(versions, scoring), files);
  diag::Sink sink;
  const ir::Endpoint& plain_endpoint = plain.project.endpoints[0];
  const auto before = RenderBundle(plain.project, catalog::Catalog::Builtin(), plain_endpoint,
                                   plain_endpoint.versions[0], plain.inputs, sink);
  const ir::Endpoint& endpoint = declared.project.endpoints[0];
  const auto after = RenderBundle(declared.project, catalog::Catalog::Builtin(), endpoint,
                                  endpoint.versions[0], declared.inputs, sink);
  CHECK(Codes(sink) == "");
  REQUIRE(before.has_value());
  REQUIRE(after.has_value());
  CHECK(before->ref.directory == after->ref.directory);
  const auto find = [](const Bundle& bundle, const std::string& name) -> std::string {
    for (const RenderedFile& file : bundle.files) {
      if (file.path == "bundles/faq-live/" + name) return file.contents;
    }
    FAIL("no " << name);
    return "";
  };
  CHECK(find(*before, "model.cc").find("postprocess_TopK") == std::string::npos);
  const std::string model = find(*after, "model.cc");
  CHECK(model.find("postprocess_TopK") != std::string::npos);
  CHECK(model.find("InputStage::kNone, {\"setosa\", \"versicolor\", \"virginica\"}") !=
        std::string::npos);
  YAML::Node facts = YAML::Load(find(*after, "bundle.yaml"))["models"][0];
  CHECK(facts["outputs"][0]["name"].as<std::string>() == "classes");
  CHECK(facts["outputs"][0]["shape"][1].as<int>() == 2);
  CHECK(facts["outputs"][1]["name"].as<std::string>() == "scores");
  CHECK(facts["stages"]["post"]["output"].as<std::string>() == "probabilities");
  CHECK(facts["stages"]["labels"]["count"].as<int>() == 3);
  CHECK(!YAML::Load(find(*before, "bundle.yaml"))["models"][0]["stages"]);

  // A labels file that does not fit, or that render was not given, is an error.
  auto wrong = Compile(Manifest(versions, scoring), files);
  wrong.inputs.model_files["models/labels.txt"] = "setosa\nversicolor\n";
  diag::Sink wrong_sink;
  CHECK(!RenderBundle(wrong.project, catalog::Catalog::Builtin(), wrong.project.endpoints[0],
                      wrong.project.endpoints[0].versions[0], wrong.inputs, wrong_sink)
             .has_value());
  CHECK(Codes(wrong_sink) == "E0834");
  CHECK(wrong_sink.diagnostics()[0].path == "endpoints.faq.scoring.postprocess.labels");
  CHECK(wrong_sink.diagnostics()[0].location.file == "p/ferry.yaml");
  wrong.inputs.model_files.erase("models/labels.txt");
  diag::Sink missing;
  CHECK(!RenderBundle(wrong.project, catalog::Catalog::Builtin(), wrong.project.endpoints[0],
                      wrong.project.endpoints[0].versions[0], wrong.inputs, missing)
             .has_value());
  CHECK(Codes(missing) == "E0834");
}

}  // namespace
}  // namespace ferry::render

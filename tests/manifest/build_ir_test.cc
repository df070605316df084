#include "compiler/manifest/build_ir.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "compiler/manifest/load_yaml.h"
#include "tests/manifest/manifest_samples.h"

namespace ferry::manifest {
namespace {

/// The project built from `yaml` (after the schema) and the diagnostics as
/// "line:column code path: message".
struct Built {
  ir::Project project;
  std::vector<std::string> diagnostics;
};

auto Build(std::string_view yaml, bool with_schema = true) -> Built {
  diag::Sink sink;
  std::optional<Document> document = LoadYaml("ferry.yaml", yaml, sink);
  REQUIRE(document.has_value());
  const InvalidNodes invalid = with_schema ? ValidateSchema(*document, sink) : InvalidNodes{};
  Built built{BuildProject(*document, invalid, sink), {}};
  for (const diag::Diagnostic& d : sink.Sorted()) {
    built.diagnostics.push_back(
        std::to_string(d.location.line) + ":" + std::to_string(d.location.column) + " " +
        std::string(diag::Info(d.code).code) + " " + d.path + ": " + d.message);
  }
  return built;
}

auto Small(std::string_view extra) -> std::string {
  return std::string(testing::kSmallManifest) + std::string(extra);
}

TEST_CASE("the complete example builds with every field") {
  const Built built = Build(testing::kFullManifest);
  CHECK(built.diagnostics.empty());
  const ir::Project& p = built.project;
  CHECK(p.name == "faq-matching");
  CHECK(p.workspace.registry == "contoso.azurecr.io");
  REQUIRE(p.models.size() == 1);
  REQUIRE(p.models[0].versions.size() == 2);
  CHECK(p.models[0].versions[1].version == 4);
  CHECK(p.models[0].tags.at("task") == "ranking");
  REQUIRE(p.environments.size() == 1);
  CHECK(p.environments[0].steps == std::vector<std::string>{"RUN apt-get install -y libgomp1"});
  CHECK(p.environments[0].registry->password_secret == "registry-password");
  REQUIRE(p.clusters.size() == 1);
  CHECK(p.clusters[0].attach.has_value());
  CHECK(p.clusters[0].tls_secret == "prod-tls");
  REQUIRE(p.endpoints.size() == 1);
  const ir::Endpoint& faq = p.endpoints[0];
  CHECK(faq.cluster == 0);
  CHECK(faq.input_sample_json == R"({"data":[["how do I reset my password?"]]})");
  CHECK(faq.output_sample_json == R"({"outputs":{"label":[12]}})");
  REQUIRE(faq.versions.size() == 2);
  const ir::Version& a = faq.versions[0];
  CHECK(a.role == ir::Role::Control);
  CHECK(a.models[0].model == 0);
  CHECK(a.models[0].version == 0);
  CHECK(faq.versions[1].models[0].version == 1);
  CHECK(a.environment == 0);
  CHECK(a.resources.cpu == 0.5);
  CHECK(a.autoscale.max_replicas == 4);
  CHECK(faq.traffic_resolved);
  CHECK(a.resolved_traffic == 90);
  CHECK(faq.versions[1].resolved_traffic == 10);
}

TEST_CASE("defaults from docs/manifest.md") {
  std::string text = Small("      b: {model: ranker@1, autoscale: {min_replicas: 3}}\n");
  text.replace(text.find("    versions:\n      a:"), 0, "    target: gpu\n");
  const Built built = Build(text);
  CHECK(built.diagnostics.empty());
  const ir::Project& p = built.project;
  const ir::Cluster& prod = p.clusters[0];
  CHECK(prod.provider == ir::Provider::Aks);
  CHECK(prod.purpose == ir::Purpose::FastProd);
  CHECK(prod.region == "westeurope");
  CHECK(prod.network == ir::NetworkPlugin::Kubenet);
  CHECK(prod.routing == ir::Routing::Router);
  CHECK_FALSE(prod.detached);
  const ir::Endpoint& faq = p.endpoints[0];
  CHECK(faq.target == ir::Target::Gpu);
  CHECK(faq.auth.key);
  CHECK_FALSE(faq.auth.token);
  const ir::Version& a = faq.versions[0];
  CHECK(a.traffic == 0);
  CHECK(a.role == ir::Role::Treatment);
  CHECK(a.environment == ir::kNone);
  CHECK(a.resources.cpu == 0.1);
  CHECK(a.resources.memory_gb == 0.5);
  CHECK(a.resources.gpu == 1);
  CHECK(a.autoscale.enabled);
  CHECK(a.autoscale.target_utilization == 70);
  CHECK(a.replicas == 1);
  CHECK(a.probes.period_seconds == 10);
  CHECK(faq.versions[1].replicas == 3);
  // No default marked: the first version takes the remainder.
  CHECK(faq.default_version == 0);
  CHECK(a.resolved_traffic == 100);
}

TEST_CASE("serving and batching: defaults, GPU batching, declared values") {
  const Built defaults = Build(Small(""));
  CHECK(defaults.diagnostics.empty());
  const ir::Version& plain = defaults.project.endpoints[0].versions[0];
  CHECK(plain.serving.max_body_bytes == 16 * 1024 * 1024);
  CHECK(plain.serving.request_timeout_ms == 60000);
  CHECK_FALSE(plain.serving.collect_data);
  CHECK_FALSE(plain.batching.enabled);
  CHECK(plain.batching.max_batch == 32);
  CHECK(plain.batching.max_wait_ms == 2);

  std::string text = Small(
      "      b: {model: ranker@1, serving: {max_body_mb: 0.5, request_timeout_ms: 1500, "
      "collect_data: true}, batching: {enabled: false, max_batch: 8, max_wait_ms: 0.5}}\n");
  text.replace(text.find("    versions:\n      a:"), 0, "    target: gpu\n");
  const Built gpu = Build(text);
  CHECK(gpu.diagnostics.empty());
  const ir::Version& a = gpu.project.endpoints[0].versions[0];
  CHECK(a.batching.enabled);
  const ir::Version& b = gpu.project.endpoints[0].versions[1];
  CHECK(b.serving.max_body_bytes == 512 * 1024);
  CHECK(b.serving.request_timeout_ms == 1500);
  CHECK(b.serving.collect_data);
  CHECK_FALSE(b.batching.enabled);
  CHECK(b.batching.max_batch == 8);
  CHECK(b.batching.max_wait_ms == 0.5);
  CHECK(b.origin.fields.contains("serving.max_body_mb"));
  CHECK(b.origin.fields.contains("batching.max_batch"));
}

TEST_CASE("declared stages and calibration, with their origins") {
  const std::string text = Small("") +
                           "    scoring:\n"
                           "      preprocess: {image: {size: [240, 320], mean: [0.5], std: "
                           "[0.2, 0.3, 0.4]}}\n"
                           "      postprocess: {softmax: true, top_k: 3, labels: labels.txt}\n"
                           "      calibration: data/calibration.json\n";
  const Built built = Build(text);
  CHECK(built.diagnostics.empty());
  const ir::Endpoint& faq = built.project.endpoints[0];
  REQUIRE(faq.stages.image.has_value());
  CHECK(faq.stages.image->height == 240);
  CHECK(faq.stages.image->width == 320);
  CHECK(faq.stages.image->mean == std::vector<double>{0.5});
  CHECK(faq.stages.image->std == std::vector<double>{0.2, 0.3, 0.4});
  CHECK(faq.stages.softmax);
  CHECK(faq.stages.top_k == 3);
  CHECK(faq.stages.labels_path == "labels.txt");
  CHECK(faq.calibration_path == "data/calibration.json");
  CHECK(faq.stages.origin.path == "endpoints.faq.scoring");
  CHECK(faq.stages.origin.PathOf("postprocess.top_k") == "endpoints.faq.scoring.postprocess.top_k");
  CHECK(faq.stages.origin.At("postprocess.top_k").line == 17);
  CHECK(faq.origin.At("scoring.calibration").line == 18);

  // No declarations: nothing overrides the stages inferred from the model.
  const Built none = Build(Small(""));
  CHECK_FALSE(none.project.endpoints[0].stages.image.has_value());
  CHECK(none.project.endpoints[0].stages.top_k == 0);
  CHECK(none.project.endpoints[0].calibration_path.empty());
}

TEST_CASE("E0105: an image size is two integers in 1..16384") {
  const Built built = Build(Small("") +
                            "    scoring:\n"
                            "      preprocess: {image: {size: [0, 224, 3]}}\n");
  REQUIRE(!built.diagnostics.empty());
  for (const std::string& line : built.diagnostics) CHECK(line.find("E0105") != std::string::npos);
  // The rejected size is left out, whatever else of the stage survives.
  const std::optional<ir::ImageStage>& image = built.project.endpoints[0].stages.image;
  CHECK((!image || image->height == 0));
}

TEST_CASE("auth as a mapping turns on only what it names") {
  const Built built = Build(Small("    auth: {token: true}\n"));
  CHECK_FALSE(built.project.endpoints[0].auth.key);
  CHECK(built.project.endpoints[0].auth.token);
  CHECK_FALSE(Build(Small("    auth: none\n")).project.endpoints[0].auth.key);
}

TEST_CASE("E0201: an unknown model, with a suggestion") {
  const Built built = Build(Small("      b: {model: rankr@1}\n"));
  CHECK(built.diagnostics ==
        std::vector<std::string>{"15:18 E0201 endpoints.faq.versions.b.model: model 'rankr' is not "
                                 "declared; did you mean 'ranker'?"});
  CHECK(built.project.endpoints[0].versions[1].models[0].model == ir::kNone);
}

TEST_CASE("E0202: an unknown model version lists the declared ones") {
  const Built built = Build(Small("      b: {models: [ranker@1, ranker@7]}\n"));
  CHECK(built.diagnostics ==
        std::vector<std::string>{"15:30 E0202 endpoints.faq.versions.b.models.1: model 'ranker' "
                                 "has no version 7; declared versions: 1"});
  const ir::Version& b = built.project.endpoints[0].versions[1];
  REQUIRE(b.models.size() == 2);
  CHECK(b.models[0].version == 0);
  CHECK(b.models[1].model == 0);
  CHECK(b.models[1].version == ir::kNone);
}

TEST_CASE("E0207 and E0208: unknown environment and cluster") {
  std::string text = Small("      b: {model: ranker@1, environment: cpu}\n");
  text.replace(text.find("cluster: prod"), 13, "cluster: prd");
  const Built built = Build(text);
  CHECK(
      built.diagnostics ==
      std::vector<std::string>{
          "12:14 E0208 endpoints.faq.cluster: cluster 'prd' is not declared; did you mean 'prod'?",
          "15:41 E0207 endpoints.faq.versions.b.environment: environment 'cpu' is not declared"});
  CHECK(built.project.endpoints[0].cluster_name == "prd");
  CHECK(built.project.endpoints[0].cluster == ir::kNone);
}

TEST_CASE("E0209: a malformed reference the schema did not see") {
  const Built built = Build(Small("      b: {model: ranker-1}\n"), /*with_schema=*/false);
  CHECK(built.diagnostics ==
        std::vector<std::string>{"15:18 E0209 endpoints.faq.versions.b.model: 'ranker-1' is not a "
                                 "valid model reference: write "
                                 "the model reference as name@version, e.g. faq-ranker@3"});
}

TEST_CASE("nodes the schema rejected are skipped without follow-on errors") {
  const Built built =
      Build(Small("      b: {model: ranker-1, traffic: lots}\n"
                  "  other: {cluster: prod, versions: {a: {model: Gone@1}}}\n"));
  CHECK(built.diagnostics.size() == 3);
  // Only the schema's own reports: E01xx, and E0209 for the reference's form.
  for (const std::string& line : built.diagnostics) {
    CHECK((line.find(" E01") != std::string::npos || line.find(" E0209 ") != std::string::npos));
  }
  const ir::Version& b = built.project.endpoints[0].versions[1];
  CHECK(b.traffic == 0);
  // The rejected reference is kept, unresolved, so checks know it is there.
  REQUIRE(b.models.size() == 1);
  CHECK(b.models[0].text == "ranker-1");
  CHECK(b.models[0].model == ir::kNone);
}

TEST_CASE("references to a rejected declaration stay quiet") {
  std::string text = Small("  second: {cluster: prod, versions: {a: {model: broken@1}}}\n");
  text.replace(text.find("clusters:"), 0, "  broken: {versions: 3}\n");
  const Built built = Build(text);
  CHECK(built.diagnostics ==
        std::vector<std::string>{
            "8:22 E0101 models.broken.versions: 'versions' must be a mapping, not an integer"});
  CHECK(built.project.models.size() == 1);
}

TEST_CASE("origins hold the declaration, its path and each written field") {
  const Built built = Build(Small("      b: {model: ranker@1, autoscale: {min_replicas: 2}}\n"));
  const ir::Version& b = built.project.endpoints[0].versions[1];
  CHECK(b.origin.path == "endpoints.faq.versions.b");
  CHECK(b.origin.location.line == 15);
  CHECK(b.origin.location.column == 7);
  CHECK(b.origin.At("autoscale.min_replicas").column == 54);
  CHECK(b.origin.At("model").column == 18);
  // Fields not written point at the declaration.
  CHECK(b.origin.At("traffic").column == 7);
  CHECK(b.origin.PathOf("traffic") == "endpoints.faq.versions.b.traffic");
  CHECK(b.models[0].location.column == 18);
  const ir::Cluster& prod = built.project.clusters[0];
  CHECK(prod.origin.path == "clusters.prod");
  CHECK(prod.origin.At("agent_count").line == 9);
  CHECK(built.project.models[0].versions[0].origin.path == "models.ranker.versions.1");
  CHECK(built.project.origin.At("workspace.region").line == 3);
}

}  // namespace
}  // namespace ferry::manifest

#include "compiler/render/images.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "compiler/render/bundles.h"
#include "compiler/support/sha256.h"
#include "compiler/support/value.h"
#include "tests/onnx/test_models.h"
#include "tests/render/project_fixture.h"

namespace ferry::render {
namespace {

using testing::Codes;
using testing::Compile;

/// The parts of a manifest the image hash tests vary.
struct Inputs {
  std::string model_bytes = ferry::testing::TestModel("linear_classifier");
  std::string base_image = "contoso.azurecr.io/base/cpu:7";
  std::string steps = "[\"RUN apt-get install -y libgomp1\", \"RUN echo ready\"]";
  std::string build_flags = "[\"-O3\"]";
  std::string variables = "{OMP_NUM_THREADS: \"1\", MODE: fast}";
  std::string description = "FAQ matching";
  std::string traffic = "30";
  std::string max_replicas = "4";
  std::string version_b = "      b: {model: ranker@1}\n";
};

auto Manifest(const Inputs& in) -> std::string {
  return "ferry: 1\n"
         "project: shop\n"
         "workspace: {name: ws, region: westeurope, registry: contoso.azurecr.io}\n"
         "models:\n"
         "  ranker:\n"
         "    versions:\n"
         "      1: {path: models/r1.onnx, sha256: " +
         support::Sha256Hex(in.model_bytes) +
         "}\n"
         "environments:\n"
         "  tuned:\n"
         "    base_image: " +
         in.base_image +
         "\n"
         "    steps: " +
         in.steps +
         "\n"
         "    build_flags: " +
         in.build_flags +
         "\n"
         "    variables: " +
         in.variables +
         "\n"
         "clusters:\n"
         "  prod: {vm_size: Standard_D3_v2, agent_count: 3, kubernetes_version: \"1.18.14\"}\n"
         "endpoints:\n"
         "  faq:\n"
         "    cluster: prod\n"
         "    description: " +
         in.description +
         "\n"
         "    versions:\n"
         "      a: {model: ranker@1, environment: tuned, traffic: " +
         in.traffic + ", autoscale: {min_replicas: 1, max_replicas: " + in.max_replicas + "}}\n" +
         in.version_b;
}

auto RenderInputsOf(const Inputs& in) -> RenderResult {
  const auto compiled = Compile(Manifest(in), {{"models/r1.onnx", in.model_bytes}});
  diag::Sink sink;
  RenderResult result =
      Render(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink);
  CHECK(Codes(sink) == "");
  return result;
}

// Version a's image hash.
auto HashOf(const Inputs& in) -> std::string {
  const RenderResult result = RenderInputsOf(in);
  REQUIRE(result.images.size() == 2);
  CHECK(result.images[0].version == "a");
  return result.images[0].sha256;
}

auto FileOf(const RenderResult& result, const std::string& path) -> std::string {
  for (const RenderedFile& file : result.files) {
    if (file.path == path) return file.contents;
  }
  FAIL("no file ", path);
  return "";
}

TEST_CASE("The image hash changes when an input that goes into the image changes") {
  const std::string base = HashOf({});
  CHECK(base.size() == 64);
  Inputs in;
  SUBCASE("base image") { in.base_image = "contoso.azurecr.io/base/cpu:8"; }
  SUBCASE("a step") { in.steps = "[\"RUN apt-get install -y libgomp1\", \"RUN echo Ready\"]"; }
  SUBCASE("the order of the steps") {
    in.steps = "[\"RUN echo ready\", \"RUN apt-get install -y libgomp1\"]";
  }
  SUBCASE("a variable's value") { in.variables = "{OMP_NUM_THREADS: \"2\", MODE: fast}"; }
  SUBCASE("a variable's name") { in.variables = "{OMP_NUM_THREAD: \"1\", MODE: fast}"; }
  SUBCASE("a build flag") { in.build_flags = "[\"-O2\"]"; }
  SUBCASE("the model's bytes (through the bundle)") {
    in.model_bytes = ferry::testing::TestModel("linear_regressor");
  }
  CHECK(HashOf(in) != base);
}

TEST_CASE("The image hash does not change for inputs that do not go into the image") {
  const std::string base = HashOf({});
  Inputs in;
  SUBCASE("the endpoint's description") { in.description = "FAQ matching, now with more FAQs"; }
  SUBCASE("traffic") { in.traffic = "60"; }
  SUBCASE("replicas") { in.max_replicas = "9"; }
  SUBCASE("the order of variables in the manifest") {
    in.variables = "{MODE: fast, OMP_NUM_THREADS: \"1\"}";
  }
  SUBCASE("another version") { in.version_b = "      b: {model: ranker@1, traffic: 10}\n"; }
  CHECK(HashOf(in) == base);
}

TEST_CASE("EnvironmentHash and ImageHash read only what goes into the image") {
  ResolvedEnvironment environment{.name = "tuned",
                                  .target = ir::Target::Cpu,
                                  .base_image = "b:1",
                                  .builder_image = "builder:1",
                                  .steps = {"RUN x"},
                                  .build_flags = {"-O3"},
                                  .variables = {{"A", "1"}}};
  const std::string hash = EnvironmentHash(environment);
  ResolvedEnvironment renamed = environment;
  renamed.name = "other";
  CHECK(EnvironmentHash(renamed) == hash);
  ResolvedEnvironment gpu = environment;
  gpu.target = ir::Target::Gpu;
  CHECK(EnvironmentHash(gpu) != hash);
  ResolvedEnvironment builder = environment;
  builder.builder_image = "builder:2";
  CHECK(EnvironmentHash(builder) != hash);
  // A step split in two is a different image, though the text joins the same.
  ResolvedEnvironment split = environment;
  split.steps = {"RUN", "x"};
  CHECK(EnvironmentHash(split) != hash);

  CHECK(ImageHash(hash, std::string(64, 'a')) != ImageHash(hash, std::string(64, 'b')));
  CHECK(ImageHash(hash, std::string(64, 'a')) == ImageHash(hash, std::string(64, 'a')));
}

TEST_CASE("An image's reference, lookup order and build come from its hash") {
  const RenderResult result = RenderInputsOf({});
  REQUIRE(result.images.size() == 2);
  const ImageRef& a = result.images[0];
  CHECK(a.endpoint == "faq");
  CHECK(a.environment == "tuned");
  CHECK(a.target == ir::Target::Cpu);
  const std::string tag = a.sha256.substr(0, 16);
  CHECK(a.reference == "contoso.azurecr.io/ferry/tuned-cpu:" + tag);
  // Version b names no environment: the target's built-in one.
  const ImageRef& b = result.images[1];
  CHECK(b.environment == "builtin-cpu");
  CHECK(b.reference.starts_with("contoso.azurecr.io/ferry/builtin-cpu-cpu:"));

  const std::string plan = FileOf(result, "images/tuned-cpu/build.yaml");
  CHECK(plan.find("  base_image: contoso.azurecr.io/base/cpu:7\n") != std::string::npos);
  CHECK(plan.find("  - reference: contoso.azurecr.io/ferry/tuned-cpu:" + tag +
                  "\n    source: workspace\n"
                  "  - reference: mcr.microsoft.com/ferry/tuned-cpu:" +
                  tag +
                  "\n    source: global\n"
                  "  - source: build\n") != std::string::npos);
  CHECK(plan.find("    args:\n      BUNDLE: bundles/faq-a\n") != std::string::npos);
  CHECK(plan.find(ToYaml(Value::Object({{"sha256", a.sha256}}))) != std::string::npos);

  const std::string builtin = FileOf(result, "images/builtin-cpu-cpu/build.yaml");
  const catalog::TargetImages* cpu = catalog::Catalog::Builtin().FindTargetImages("cpu");
  REQUIRE(cpu != nullptr);
  CHECK(builtin.find("  base_image: " + cpu->base_image + "\n") != std::string::npos);
  CHECK(builtin.find("  builtin: true\n") != std::string::npos);
}

TEST_CASE("The Dockerfile builds the bundle in a builder stage and serves it as a non-root user") {
  const RenderResult result = RenderInputsOf({});
  const std::string dockerfile = FileOf(result, "images/tuned-cpu/Dockerfile");
  const std::string builder = catalog::Catalog::Builtin().FindTargetImages("cpu")->builder_image;
  CHECK(dockerfile.find("\nFROM " + builder +
                        " AS builder\nARG BUNDLE\n"
                        "COPY ${BUNDLE}/ /src/bundle/\n"
                        "COPY runtime/ /src/runtime/\n"
                        "RUN [\"cmake\",\"-S\",\"/src/bundle\",\"-B\",\"/src/build\","
                        "\"-DCMAKE_BUILD_TYPE=Release\",\"-DFERRY_RUNTIME_DIR=/src/runtime\","
                        "\"-DCMAKE_CXX_FLAGS=-O3\"]\n") != std::string::npos);
  CHECK(
      dockerfile.ends_with("\nFROM contoso.azurecr.io/base/cpu:7 AS runtime\n"
                           "RUN apt-get install -y libgomp1\n"
                           "RUN echo ready\n"
                           "ENV MODE=\"fast\"\n"
                           "ENV OMP_NUM_THREADS=\"1\"\n"
                           "COPY --from=builder /opt/ferry/ /opt/ferry/\n"
                           "USER 10001:10001\n"
                           "EXPOSE 5001\n"
                           "ENTRYPOINT [\"/opt/ferry/bin/serve\"]\n"
                           "CMD [\"--port\",\"5001\"]\n"));
}

TEST_CASE("The built-in catalog names the images of every target and the global registry") {
  const catalog::Catalog& catalog = catalog::Catalog::Builtin();
  CHECK(catalog.defaults().global_registry == "mcr.microsoft.com/ferry");
  for (const char* target : {"cpu", "gpu", "fpga"}) {
    CAPTURE(target);
    const catalog::TargetImages* images = catalog.FindTargetImages(target);
    REQUIRE(images != nullptr);
    CHECK(images->base_image.find(std::string("runtime-") + target) != std::string::npos);
    CHECK(images->builder_image.find(std::string("builder-") + target) != std::string::npos);
  }
  CHECK(catalog.FindTargetImages("tpu") == nullptr);
}

TEST_CASE("E0704: an environment named like a built-in one gets no image") {
  Inputs in;
  auto manifest = Manifest(in);
  // Rename 'tuned' to the built-in name of the cpu target, used beside the built-in itself.
  for (std::size_t at = manifest.find("tuned"); at != std::string::npos;
       at = manifest.find("tuned")) {
    manifest.replace(at, 5, "builtin-cpu");
  }
  const auto compiled = Compile(manifest, {{"models/r1.onnx", in.model_bytes}});
  diag::Sink sink;
  std::vector<BundleRef> bundles;
  for (const Bundle& bundle :
       RenderBundles(compiled.project, catalog::Catalog::Builtin(), compiled.inputs, sink)) {
    bundles.push_back(bundle.ref);
  }
  // Version b (the built-in) first, so a's environment is the one that clashes.
  std::swap(bundles[0], bundles[1]);
  const RenderedImages images =
      RenderImages(compiled.project, catalog::Catalog::Builtin(), bundles, sink);
  CHECK(Codes(sink) == "E0704");
  REQUIRE(images.images.size() == 1);
  CHECK(images.images[0].version == "b");
  REQUIRE(sink.diagnostics().size() == 1);
  CHECK(sink.diagnostics()[0].path == "endpoints.faq.versions.a.environment");
}

}  // namespace
}  // namespace ferry::render

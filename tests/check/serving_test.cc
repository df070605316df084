// Serving limits, batching, declared stages and the data files they name.
#include <doctest/doctest.h>

#include "tests/check/check_fixture.h"

namespace ferry::check {
namespace {

using testing::Run;
using testing::ValidDigests;
using testing::ValidProject;
using Lines = std::vector<std::string>;

TEST_CASE("E0508: serving limits must be positive, at the nested field") {
  ir::Project project = ValidProject();
  ir::Version& version = project.endpoints[0].versions[0];
  version.origin.fields["serving.max_body_mb"] = {"ferry.yaml", 50, 20, 0};
  version.serving.max_body_bytes = -1024 * 1024;
  version.serving.request_timeout_ms = 0;
  CHECK(Run(project) ==
        Lines{"40:3: E0508 endpoints.faq.versions.a.serving.request_timeout_ms: version 'a' of "
              "endpoint 'faq' has a request timeout of 0 ms; it must be positive",
              "50:20: E0508 endpoints.faq.versions.a.serving.max_body_mb: version 'a' of endpoint "
              "'faq' accepts request bodies of at most -1 MB; it must be positive"});
  version.serving.max_body_bytes = 1;
  version.serving.request_timeout_ms = 1;
  CHECK(Run(project) == Lines{});
}

TEST_CASE("E0509: batching ranges, on every target and even when disabled") {
  ir::Project project = ValidProject();
  ir::Version& version = project.endpoints[0].versions[0];
  version.batching.max_batch = 4097;
  version.batching.max_wait_ms = 1000.5;
  CHECK(Run(project) ==
        Lines{"40:3: E0509 endpoints.faq.versions.a.batching.max_batch: version 'a' of endpoint "
              "'faq' batches at most 4097 rows; max_batch must be 1..4096",
              "40:3: E0509 endpoints.faq.versions.a.batching.max_wait_ms: version 'a' of "
              "endpoint 'faq' waits 1000.5 ms for a batch to fill; max_wait_ms must be 0..1000"});
  // The bounds themselves are fine, and batching on a CPU target is allowed.
  version.batching = {.enabled = true, .max_batch = 4096, .max_wait_ms = 0};
  CHECK(Run(project) == Lines{});
  version.batching.max_batch = 1;
  version.batching.max_wait_ms = 1000;
  CHECK(Run(project) == Lines{});
}

auto WithStages(ir::Project project) -> ir::Project {
  ir::Endpoint& endpoint = project.endpoints[0];
  endpoint.stages.origin = testing::MakeOrigin(
      "endpoints.faq.scoring", 60,
      {"preprocess.image.mean", "preprocess.image.std", "postprocess.top_k", "postprocess.labels"});
  endpoint.stages.image = ir::ImageStage{
      .height = 224, .width = 224, .mean = {0.485, 0.456, 0.406}, .std = {0.229, 0.224, 0.225}};
  endpoint.stages.softmax = true;
  endpoint.stages.top_k = 3;
  endpoint.stages.labels_path = "models/labels.txt";
  return project;
}

auto DigestsWithLabels() -> ModelFileDigests {
  ModelFileDigests digests = ValidDigests();
  digests["models/labels.txt"] = std::string(64, 'b');
  return digests;
}

TEST_CASE("E0605: mean/std with 1 or 3 values, std positive, top_k >= 1, labels need top_k") {
  const ir::Project valid = WithStages(ValidProject());
  CHECK(Run(valid, DigestsWithLabels()) == Lines{});

  ir::Project project = valid;
  ir::Stages& stages = project.endpoints[0].stages;
  stages.image->mean = {0.5, 0.5};
  stages.image->std = {0.2, 0};
  stages.top_k = 0;
  CHECK(Run(project, DigestsWithLabels()) ==
        Lines{"61:5: E0605 endpoints.faq.scoring.preprocess.image.mean: endpoint 'faq': the "
              "image stage's mean has 2 values; give 1 (all channels) or 3 (red, green, blue)",
              "62:5: E0605 endpoints.faq.scoring.preprocess.image.std: endpoint 'faq': the image "
              "stage divides by std, and its value 2 is 0; every std must be positive",
              "62:5: E0605 endpoints.faq.scoring.preprocess.image.std: endpoint 'faq': the image "
              "stage's std has 2 values; give 1 (all channels) or 3 (red, green, blue)",
              "63:5: E0605 endpoints.faq.scoring.postprocess.top_k: endpoint 'faq': top_k is 0; "
              "it must be at least 1"});

  // One value applies to every channel.
  project = valid;
  project.endpoints[0].stages.image->mean = {0.5};
  project.endpoints[0].stages.image->std = {0.25};
  CHECK(Run(project, DigestsWithLabels()) == Lines{});

  project = valid;
  project.endpoints[0].stages.origin.fields.erase("postprocess.top_k");
  project.endpoints[0].stages.top_k = 0;
  CHECK(Run(project, DigestsWithLabels()) ==
        Lines{"64:5: E0605 endpoints.faq.scoring.postprocess.labels: endpoint 'faq': labels name "
              "the classes top_k reports, and postprocess has no top_k; add top_k (e.g. top_k: "
              "1)"});
}

TEST_CASE("E0606: labels and calibration files that cannot be read") {
  ir::Project project = WithStages(ValidProject());
  project.endpoints[0].calibration_path = "data/calibration.json";
  project.endpoints[0].origin.fields["scoring.calibration"] = {"ferry.yaml", 70, 20, 0};
  ModelFileDigests digests = ValidDigests();
  digests["models/labels.txt"] = std::nullopt;
  digests["data/calibration.json"] = std::nullopt;
  CHECK(Run(project, digests) ==
        Lines{"64:5: E0606 endpoints.faq.scoring.postprocess.labels: endpoint 'faq': the labels "
              "file: cannot read 'models/labels.txt' (paths are relative to the manifest's "
              "folder)",
              "70:20: E0606 endpoints.faq.scoring.calibration: endpoint 'faq': the calibration "
              "file: cannot read 'data/calibration.json' (paths are relative to the manifest's "
              "folder)"});
  digests["models/labels.txt"] = "x";
  digests["data/calibration.json"] = "y";
  CHECK(Run(project, digests) == Lines{});
}

}  // namespace
}  // namespace ferry::check

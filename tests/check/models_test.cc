#include <doctest/doctest.h>

#include "tests/check/check_fixture.h"

namespace ferry::check {
namespace {

using testing::Run;
using testing::ValidProject;
using Lines = std::vector<std::string>;

TEST_CASE("E0308: a GPU or FPGA target on a VM size without the device") {
  ir::Project project = ValidProject();
  project.endpoints[0].target = ir::Target::Gpu;
  CHECK(Run(project) ==
        Lines{"32:5: E0308 endpoints.faq.target: endpoint 'faq' targets gpu, but cluster 'prod' "
              "uses Standard_D3_v2, which has no GPU; deploy it to a cluster created with a GPU "
              "VM size (a node pool added later is not supported), such as Standard_NC6, "
              "Standard_NC6s_v3, Standard_NC4as_T4_v3, Standard_ND6s, Standard_ND40rs_v2"});
  project.endpoints[0].target = ir::Target::Fpga;
  CHECK(Run(project) ==
        Lines{"32:5: E0308 endpoints.faq.target: endpoint 'faq' targets fpga, but cluster 'prod' "
              "uses Standard_D3_v2, which has no FPGA; deploy it to a cluster created with an FPGA "
              "VM size (a node pool added later is not supported), such as Standard_PB6s"});
  project.clusters[0].vm_size = "Standard_PB6s";
  project.clusters[0].agent_count = 2;
  CHECK(Run(project) == Lines{});
}

TEST_CASE("E0601 and E0602: model files as the driver found them") {
  ir::Project project = ValidProject();
  CHECK(Run(project, {{"models/faq.onnx", std::nullopt}}) ==
        Lines{"8:5: E0601 models.faq-ranker.versions.3.path: model 'faq-ranker' version 3: cannot "
              "read 'models/faq.onnx' (paths are relative to the manifest's folder)"});
  const std::string actual(64, 'b');
  CHECK(Run(project, {{"models/faq.onnx", actual}}) ==
        Lines{"9:5: E0602 models.faq-ranker.versions.3.sha256: model 'faq-ranker' version 3: "
              "'models/faq.onnx' has sha256 " +
              actual +
              ", not the one declared; if the file "
              "changed on purpose, declare the new digest"});
}

TEST_CASE("W0603 and W0604: declarations nothing uses") {
  ir::Project project = ValidProject();
  ir::ModelVersion unused = project.models[0].versions[0];
  unused.version = 4;
  unused.origin.path = "models.faq-ranker.versions.4";
  unused.origin.location.line = 10;
  project.models[0].versions.push_back(unused);
  ir::Environment environment;
  environment.name = "gpu-env";
  environment.origin = testing::MakeOrigin("environments.gpu-env", 15);
  project.environments.push_back(environment);
  CHECK(Run(project) ==
        Lines{"10:3: W0603 models.faq-ranker.versions.4: model 'faq-ranker' version 4 is declared "
              "but no endpoint deploys it; deploy it or remove it",
              "15:3: W0604 environments.gpu-env: environment 'gpu-env' is declared but no version "
              "uses it; use it or remove it"});
  // A reference that did not resolve may have meant either, so neither is reported.
  ir::Version& version = project.endpoints[0].versions[0];
  version.models[0].version = ir::kNone;
  version.environment_name = "gpu-evn";
  CHECK(Run(project) == Lines{});
  // A version left without models had its reference rejected by the schema.
  version.models.clear();
  version.environment_name.clear();
  CHECK(Run(project) ==
        Lines{"15:3: W0604 environments.gpu-env: environment 'gpu-env' is declared but no version "
              "uses it; use it or remove it"});
}

}  // namespace
}  // namespace ferry::check

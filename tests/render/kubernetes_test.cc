// RenderKubernetes as a whole: API versions per the cluster's Kubernetes
// version (E0701 where a kind is not served), deterministic output, images
// from the build plans (an endpoint without them is left out), and every sample.
#include "compiler/render/kubernetes.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/render/kubernetes_fixture.h"

namespace ferry::render {
namespace {

using kube_testing::Cluster;
using kube_testing::CompileManifest;
using kube_testing::ImagesFor;
using kube_testing::kDir;
using kube_testing::kRollout;
using kube_testing::Manifest;
using kube_testing::Render;
using kube_testing::Rendered;
using kube_testing::RenderSample;

TEST_CASE("API versions follow the cluster's declared Kubernetes version") {
  struct Case {
    const char* version;
    const char* pdb;
    const char* hpa;
    const char* route;
  };
  for (const Case& c :
       {Case{"1.20.2", "policy/v1beta1", "autoscaling/v2beta2",
             "gateway.networking.k8s.io/v1beta1"},
        Case{"1.23.1", "policy/v1", "autoscaling/v2", "gateway.networking.k8s.io/v1beta1"},
        Case{"1.27.3", "policy/v1", "autoscaling/v2", "gateway.networking.k8s.io/v1"}}) {
    CAPTURE(c.version);
    const Rendered r = Render(Manifest(Cluster(c.version, ", routing: gateway"), kRollout));
    CHECK(r.sink.diagnostics().empty());
    CHECK(r.Yaml(std::string(kDir) + "poddisruptionbudget-churn-b.yaml")["apiVersion"]
              .as<std::string>() == c.pdb);
    CHECK(r.Yaml(std::string(kDir) + "horizontalpodautoscaler-churn-b.yaml")["apiVersion"]
              .as<std::string>() == c.hpa);
    CHECK(r.Yaml(std::string(kDir) + "httproute-churn.yaml")["apiVersion"].as<std::string>() ==
          c.route);
  }
  const Rendered old = Render(Manifest(Cluster("1.16.13"), kRollout));
  CHECK(old.Yaml(std::string(kDir) + "poddisruptionbudget-churn-b.yaml")["apiVersion"]
            .as<std::string>() == "policy/v1beta1");
  CHECK(old.Yaml(std::string(kDir) + "networkpolicy-ferry-models.yaml")["apiVersion"]
            .as<std::string>() == "networking.k8s.io/v1");
}

TEST_CASE("E0701: an HPA on Kubernetes 1.17 is reported at kubernetes_version, not written") {
  const std::string manifest = Manifest(Cluster("1.17.9", ", routing: gateway"), kRollout);
  const Rendered r = Render(manifest);
  REQUIRE(r.sink.diagnostics().size() == 1);
  const diag::Diagnostic& d = r.sink.diagnostics()[0];
  CHECK(d.code == diag::Code::kKindNotServed);
  CHECK(diag::Info(d.code).code == "E0701");
  CHECK(d.path == "clusters.prod.kubernetes_version");
  CHECK(d.location.file == "p/ferry.yaml");
  CHECK(d.location.line == 10);
  CHECK(d.location.column == manifest.find("\"1.17.9\"") - manifest.find("  prod:") + 1);
  CHECK(d.message ==
        "cluster 'prod' declares Kubernetes 1.17.9, which serves no API version of "
        "HorizontalPodAutoscaler (served: autoscaling/v2beta2 by 1.18 .. 1.25, autoscaling/v2 by "
        "1.23 and later); no HorizontalPodAutoscaler is written for this cluster (the first was "
        "'churn-a')");
  for (const std::string& path : r.Paths()) {
    CHECK(path.find("horizontalpodautoscaler") == std::string::npos);
  }
  // Everything else is still written.
  CHECK(r.Has(std::string(kDir) + "httproute-churn.yaml"));
  CHECK(r.Has(std::string(kDir) + "deployment-churn-a.yaml"));
}

TEST_CASE("rendering twice gives the same bytes, and images come from the build plan") {
  const std::string manifest = Manifest(Cluster("1.20.2", ", tls: {secret: t}"), kRollout);
  const Rendered first = Render(manifest);
  const Rendered second = Render(manifest);
  REQUIRE(first.files.size() == second.files.size());
  for (std::size_t i = 0; i < first.files.size(); ++i) {
    CHECK(first.files[i].path == second.files[i].path);
    CHECK(first.files[i].contents == second.files[i].contents);
  }

  const ir::Project project = CompileManifest(manifest);
  std::vector<ImageRef> images = ImagesFor(project);
  REQUIRE(images.size() == 2);
  images[1].reference = "r.io/ferry/cpu@sha256:abc";
  diag::Sink sink;
  const auto files = RenderKubernetes(project, catalog::Catalog::Builtin(), images, sink);
  CHECK(sink.diagnostics().empty());
  const auto deployment = std::find_if(files.begin(), files.end(), [](const RenderedFile& file) {
    return file.path == "kubernetes/prod/deployment-churn-b.yaml";
  });
  REQUIRE(deployment != files.end());
  CHECK(YAML::Load(deployment->contents)["spec"]["template"]["spec"]["containers"][0]["image"]
            .as<std::string>() == "r.io/ferry/cpu@sha256:abc");
}

TEST_CASE("an endpoint with a version that has no image is left out whole") {
  const std::string endpoints = kRollout +
                                "  other:\n"
                                "    cluster: prod\n"
                                "    versions:\n"
                                "      only: {model: scorer@1}\n";
  const ir::Project project = CompileManifest(Manifest(Cluster("1.20.2"), endpoints));
  std::vector<ImageRef> images = ImagesFor(project);
  REQUIRE(images.size() == 3);
  // churn's version a has no image: churn gets no objects; other is rendered.
  images.erase(images.begin());
  diag::Sink sink;
  const auto files = RenderKubernetes(project, catalog::Catalog::Builtin(), images, sink);
  CHECK(sink.diagnostics().empty());
  std::vector<std::string> deployments;
  for (const RenderedFile& file : files) {
    if (file.path.find("/deployment-") != std::string::npos) deployments.push_back(file.path);
    CHECK(file.contents.find("churn-a") == std::string::npos);
  }
  CHECK(deployments == std::vector<std::string>{"kubernetes/prod/deployment-ferry-router.yaml",
                                                "kubernetes/prod/deployment-other-only.yaml"});
  // Without any image, nothing runs on the cluster: no objects at all.
  CHECK(RenderKubernetes(project, catalog::Catalog::Builtin(), {}, sink).empty());
}

TEST_CASE("every sample renders without a diagnostic") {
  for (const char* name : {"controlled-rollout", "dev-test", "faq-matching", "fpga-inference",
                           "gateway-rollout", "image-classification"}) {
    CAPTURE(name);
    const Rendered r = RenderSample(name);
    CHECK(r.sink.diagnostics().empty());
    CHECK(r.files.size() >= 9);
  }
}

}  // namespace
}  // namespace ferry::render

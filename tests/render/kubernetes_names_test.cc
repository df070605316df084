// Object names and labels: the shared labels on every object, long names
// shortened to valid DNS labels, colliding names told apart by a hash.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "compiler/render/kubernetes.h"
#include "compiler/render/names.h"
#include "tests/render/kubernetes_fixture.h"

namespace ferry::render {
namespace {

using kube_testing::Cluster;
using kube_testing::IsLabelValue;
using kube_testing::kDir;
using kube_testing::kRollout;
using kube_testing::Manifest;
using kube_testing::Render;
using kube_testing::Rendered;

TEST_CASE("every object carries the shared labels, all valid label values") {
  const Rendered r = Render(Manifest(Cluster("1.20.2"), kRollout));
  for (const RenderedFile& file : r.files) {
    CAPTURE(file.path);
    const YAML::Node labels = YAML::Load(file.contents)["metadata"]["labels"];
    CHECK(labels["app.kubernetes.io/managed-by"].as<std::string>() == "ferry");
    CHECK(labels["app.kubernetes.io/part-of"].as<std::string>() == "churn");
    CHECK(labels["ferry.dev/project"].as<std::string>() == "churn");
    CHECK(labels["ferry.dev/cluster"].as<std::string>() == "prod");
    for (const auto& label : labels) CHECK(IsLabelValue(label.second.as<std::string>()));
  }
  const YAML::Node labels =
      r.Yaml(std::string(kDir) + "deployment-churn-a.yaml")["metadata"]["labels"];
  CHECK(labels["app.kubernetes.io/name"].as<std::string>() == "churn");
  CHECK(labels["app.kubernetes.io/instance"].as<std::string>() == "churn-a");
  CHECK(labels["app.kubernetes.io/version"].as<std::string>() == "a");
  CHECK(labels["app.kubernetes.io/component"].as<std::string>() == "model");
}

TEST_CASE("long names are shortened to valid, distinct DNS labels") {
  // The longest names the schema allows: 32 + 1 + 32 characters.
  const std::string endpoint(32, 'e');
  const std::string one = "version-number-one-" + std::string(13, 'x');
  const std::string two = "version-number-two-" + std::string(13, 'x');
  const std::string endpoints = "  " + endpoint + ":\n    cluster: prod\n    versions:\n      " +
                                one + ": {model: scorer@1}\n      " + two +
                                ": {model: scorer@2, traffic: 10}\n";
  const Rendered r = Render(Manifest(Cluster("1.20.2"), endpoints));
  CHECK(r.sink.diagnostics().empty());
  std::vector<std::string> names;
  for (const RenderedFile& file : r.files) {
    const YAML::Node object = YAML::Load(file.contents);
    const std::string name = object["metadata"]["name"].as<std::string>();
    CAPTURE(name);
    CHECK(IsDnsLabel(name));
    for (const auto& label : object["metadata"]["labels"]) {
      CHECK(IsLabelValue(label.second.as<std::string>()));
    }
    if (object["kind"].as<std::string>() == "Deployment") names.push_back(name);
  }
  REQUIRE(names.size() == 3);  // two versions and the router
  CHECK(names[0] != names[1]);
  CHECK(names[0] == DnsLabel({endpoint, one}));
  CHECK(names[0].size() == 63);
  CHECK(names[0].starts_with(endpoint + "-version-number-one-"));
}

TEST_CASE("names that would collide get a hash of endpoint and version") {
  const std::string endpoints =
      "  a-b:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      c: {model: scorer@1}\n"
      "  a:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      b-c: {model: scorer@2}\n"
      "  ferry:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      router: {model: scorer@2}\n";
  const Rendered r = Render(Manifest(Cluster("1.20.2"), endpoints));
  std::vector<std::string> deployments;
  for (const std::string& path : r.Paths()) {
    if (path.starts_with("kubernetes/prod/deployment-")) deployments.push_back(path);
  }
  CHECK(deployments.size() == 4);
  CHECK(std::find(deployments.begin(), deployments.end(),
                  "kubernetes/prod/deployment-a-b-c.yaml") == deployments.end());
  CHECK(r.Has("kubernetes/prod/deployment-ferry-router.yaml"));
  CHECK(r.Yaml("kubernetes/prod/deployment-ferry-router.yaml")["metadata"]["labels"]
                                                              ["app.kubernetes.io/component"]
                                                                  .as<std::string>() == "router");
}

}  // namespace
}  // namespace ferry::render

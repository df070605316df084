// The router front end (routing: router, the default): one Deployment and
// Service per version plus ferry's router, its routes.yaml, the Secrets it
// names and the NetworkPolicy that admits only it.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "compiler/render/kubernetes.h"
#include "tests/render/kubernetes_fixture.h"

namespace ferry::render {
namespace {

using kube_testing::Cluster;
using kube_testing::kDir;
using kube_testing::kRollout;
using kube_testing::Manifest;
using kube_testing::Render;
using kube_testing::Rendered;
using kube_testing::Strings;

TEST_CASE("router mode renders one Deployment and Service per version plus the router") {
  const Rendered r = Render(Manifest(Cluster("1.16.13"), kRollout));
  CHECK(r.sink.diagnostics().empty());
  CHECK(r.Paths() == std::vector<std::string>{
                         "kubernetes/prod/configmap-ferry-router.yaml",
                         "kubernetes/prod/deployment-churn-a.yaml",
                         "kubernetes/prod/deployment-churn-b.yaml",
                         "kubernetes/prod/deployment-ferry-router.yaml",
                         "kubernetes/prod/namespace-churn.yaml",
                         "kubernetes/prod/networkpolicy-ferry-models.yaml",
                         "kubernetes/prod/poddisruptionbudget-churn-b.yaml",
                         "kubernetes/prod/poddisruptionbudget-ferry-router.yaml",
                         "kubernetes/prod/role-ferry-router.yaml",
                         "kubernetes/prod/rolebinding-ferry-router.yaml",
                         "kubernetes/prod/service-churn-a.yaml",
                         "kubernetes/prod/service-churn-b.yaml",
                         "kubernetes/prod/service-ferry-router.yaml",
                         "kubernetes/prod/serviceaccount-ferry-router.yaml",
                     });
  const YAML::Node deployment = r.Yaml(std::string(kDir) + "deployment-churn-b.yaml");
  CHECK(deployment["apiVersion"].as<std::string>() == "apps/v1");
  CHECK(deployment["kind"].as<std::string>() == "Deployment");
  CHECK(deployment["metadata"]["namespace"].as<std::string>() == "churn");
  // The router autoscales: the Deployment starts at autoscale.min_replicas.
  CHECK(deployment["spec"]["replicas"].as<int>() == 2);
  const YAML::Node container = deployment["spec"]["template"]["spec"]["containers"][0];
  CHECK(container["image"].as<std::string>() == kube_testing::TestImage("churn", "b"));
  CHECK(Strings(container["args"]) ==
        std::vector<std::string>{"serve", "--host", "0.0.0.0", "--port", "5001", "--auth", "none",
                                 "--max-concurrent", "1", "--max-body-bytes", "16777216",
                                 "--request-timeout-ms", "60000"});
  CHECK(container["resources"]["requests"]["cpu"].as<std::string>() == "500m");
  CHECK(container["resources"]["limits"]["memory"].as<std::string>() == "1Gi");
  CHECK(container["ports"][0]["containerPort"].as<int>() == 5001);
  const YAML::Node service = r.Yaml(std::string(kDir) + "service-churn-b.yaml");
  CHECK(service["spec"]["type"].as<std::string>() == "ClusterIP");
  CHECK(service["spec"]["ports"][0]["port"].as<int>() == 5001);
  // Only immutable labels select.
  CHECK(service["spec"]["selector"].size() == 3);
  CHECK(service["spec"]["selector"]["app.kubernetes.io/instance"].as<std::string>() == "churn-b");
}

TEST_CASE("routes.yaml carries the resolved weights, auth mode and Secret names") {
  const Rendered r = Render(Manifest(Cluster("1.16.13", ", tls: {secret: churn-tls}"), kRollout));
  const YAML::Node config = r.Yaml(std::string(kDir) + "configmap-ferry-router.yaml");
  const YAML::Node routes = YAML::Load(config["data"]["routes.yaml"].as<std::string>());
  const YAML::Node endpoint = routes["endpoints"][0];
  CHECK(endpoint["path"].as<std::string>() == "/api/v1/service/churn/score");
  CHECK(endpoint["auth"]["mode"].as<std::string>() == "key");
  CHECK(endpoint["auth"]["secret"].as<std::string>() == "churn-keys");
  const YAML::Node a = endpoint["versions"][0];
  const YAML::Node b = endpoint["versions"][1];
  CHECK(a["weight"].as<double>() == 20);
  CHECK(b["weight"].as<double>() == 80);
  CHECK(a["role"].as<std::string>() == "treatment");
  CHECK(b["role"].as<std::string>() == "control");
  CHECK_FALSE(a["default"].as<bool>());
  CHECK(b["default"].as<bool>());
  CHECK(b["service"].as<std::string>() == "churn-b.churn.svc.cluster.local:5001");
  CHECK(b["deployment"].as<std::string>() == "churn-b");
  CHECK(b["autoscale"]["enabled"].as<bool>());
  CHECK(b["autoscale"]["min_replicas"].as<int>() == 2);
  CHECK(b["autoscale"]["max_replicas"].as<int>() == 8);
  CHECK(b["autoscale"]["target_utilization"].as<int>() == 60);
  CHECK(b["autoscale"]["max_concurrent_requests_per_replica"].as<int>() == 1);
  CHECK(routes["tls"]["secret"].as<std::string>() == "churn-tls");
  CHECK(routes["tls"]["redirect_http"].as<bool>());

  // The router serves HTTPS, mounts both Secrets and may read only them.
  const YAML::Node service = r.Yaml(std::string(kDir) + "service-ferry-router.yaml");
  CHECK(service["spec"]["type"].as<std::string>() == "LoadBalancer");
  CHECK(service["spec"]["ports"].size() == 2);
  CHECK(service["spec"]["ports"][1]["port"].as<int>() == 443);
  const YAML::Node pod =
      r.Yaml(std::string(kDir) + "deployment-ferry-router.yaml")["spec"]["template"]["spec"];
  std::vector<std::string> mounted;
  for (const YAML::Node& volume : pod["volumes"]) {
    if (volume["secret"]) mounted.push_back(volume["secret"]["secretName"].as<std::string>());
    if (volume["configMap"]) mounted.push_back(volume["configMap"]["name"].as<std::string>());
  }
  std::sort(mounted.begin(), mounted.end());
  CHECK(mounted == std::vector<std::string>{"churn-keys", "churn-tls", "ferry-router"});
  CHECK(pod["serviceAccountName"].as<std::string>() == "ferry-router");
  const YAML::Node rules = r.Yaml(std::string(kDir) + "role-ferry-router.yaml")["rules"];
  CHECK(Strings(rules[0]["resources"]) == std::vector<std::string>{"secrets"});
  CHECK(Strings(rules[0]["resourceNames"]) == std::vector<std::string>{"churn-keys", "churn-tls"});
  CHECK(Strings(rules[1]["resources"]) == std::vector<std::string>{"deployments/scale"});
  CHECK(Strings(rules[1]["verbs"]) == std::vector<std::string>{"get", "patch", "update"});
  CHECK(Strings(rules[1]["resourceNames"]) == std::vector<std::string>{"churn-a", "churn-b"});
}

TEST_CASE("Secrets are referenced by name and never written") {
  const Rendered r = Render(Manifest(Cluster("1.20.2", ", tls: {secret: churn-tls}"), kRollout));
  for (const RenderedFile& file : r.files) {
    CAPTURE(file.path);
    CHECK(YAML::Load(file.contents)["kind"].as<std::string>() != "Secret");
    CHECK(file.contents.find("primary") == std::string::npos);
  }
}

TEST_CASE("the NetworkPolicy admits only router pods to the model port") {
  const Rendered r = Render(Manifest(Cluster("1.16.13"), kRollout));
  const YAML::Node spec = r.Yaml(std::string(kDir) + "networkpolicy-ferry-models.yaml")["spec"];
  CHECK(spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"].as<std::string>() ==
        "model");
  const YAML::Node from = spec["ingress"][0]["from"][0]["podSelector"]["matchLabels"];
  CHECK(from["app.kubernetes.io/component"].as<std::string>() == "router");
  CHECK(spec["ingress"][0]["ports"][0]["port"].as<int>() == 5001);
}

}  // namespace
}  // namespace ferry::render

// The Gateway API front end (routing: gateway): an HTTPRoute with basis-point
// weights and an HPA per version instead of ferry's router.
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
using kube_testing::RenderSample;
using kube_testing::Strings;

TEST_CASE("gateway mode: an HTTPRoute with basis-point weights, HPAs, no router") {
  const Rendered r = Render(Manifest(Cluster("1.20.2", ", routing: gateway"), kRollout));
  for (const std::string& path : r.Paths()) {
    CHECK(path.find("ferry-router") == std::string::npos);
    CHECK(path.find("networkpolicy") == std::string::npos);
  }
  const YAML::Node route = r.Yaml(std::string(kDir) + "httproute-churn.yaml");
  CHECK(route["spec"]["parentRefs"][0]["name"].as<std::string>() == "ferry");
  CHECK(route["spec"]["parentRefs"][0]["kind"].as<std::string>() == "Gateway");
  const YAML::Node rule = route["spec"]["rules"][0];
  CHECK(rule["matches"][0]["path"]["value"].as<std::string>() == "/api/v1/service/churn");
  CHECK(rule["matches"][0]["path"]["type"].as<std::string>() == "PathPrefix");
  CHECK(rule["backendRefs"][0]["name"].as<std::string>() == "churn-a");
  CHECK(rule["backendRefs"][0]["weight"].as<int>() == 2000);
  CHECK(rule["backendRefs"][1]["weight"].as<int>() == 8000);
  CHECK(rule["backendRefs"][1]["port"].as<int>() == 5001);

  const YAML::Node hpa = r.Yaml(std::string(kDir) + "horizontalpodautoscaler-churn-b.yaml");
  CHECK(hpa["spec"]["scaleTargetRef"]["name"].as<std::string>() == "churn-b");
  CHECK(hpa["spec"]["minReplicas"].as<int>() == 2);
  CHECK(hpa["spec"]["maxReplicas"].as<int>() == 8);
  CHECK(hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"].as<int>() == 60);
  const YAML::Node up = hpa["spec"]["behavior"]["scaleUp"];
  CHECK(up["stabilizationWindowSeconds"].as<int>() == 0);
  CHECK(up["policies"][0]["type"].as<std::string>() == "Percent");
  CHECK(up["policies"][0]["value"].as<int>() == 100);
  CHECK(up["policies"][0]["periodSeconds"].as<int>() == 1);
  CHECK(hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"].as<int>() == 60);

  // Each model pod checks keys itself, from the mounted Secret.
  const YAML::Node pod =
      r.Yaml(std::string(kDir) + "deployment-churn-a.yaml")["spec"]["template"]["spec"];
  CHECK(Strings(pod["containers"][0]["args"]) ==
        std::vector<std::string>{"serve", "--host", "0.0.0.0", "--port", "5001", "--auth", "key",
                                 "--keys", "/etc/ferry/auth", "--max-concurrent", "1",
                                 "--max-body-bytes", "16777216", "--request-timeout-ms",
                                 "60000"});
  CHECK(pod["volumes"][1]["secret"]["secretName"].as<std::string>() == "churn-keys");
  CHECK(pod["containers"][0]["volumeMounts"][1]["mountPath"].as<std::string>() ==
        "/etc/ferry/auth");
}

TEST_CASE("gateway mode: the HPA takes hpa's settings when the HPA is the autoscaler") {
  const std::string endpoints =
      "  churn:\n"
      "    cluster: prod\n"
      "    auth: token\n"
      "    versions:\n"
      "      a: {model: scorer@1, autoscale: {enabled: false}, hpa: {enabled: true, "
      "min_replicas: 3, max_replicas: 5, cpu_utilization: 55}}\n";
  const Rendered r = Render(Manifest(Cluster("1.20.2", ", routing: gateway"), endpoints));
  const YAML::Node hpa = r.Yaml(std::string(kDir) + "horizontalpodautoscaler-churn-a.yaml");
  CHECK(hpa["spec"]["minReplicas"].as<int>() == 3);
  CHECK(hpa["spec"]["maxReplicas"].as<int>() == 5);
  CHECK(hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"].as<int>() == 55);
  const YAML::Node deployment = r.Yaml(std::string(kDir) + "deployment-churn-a.yaml");
  CHECK(deployment["spec"]["replicas"].as<int>() == 3);
  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  CHECK(pod["volumes"][1]["secret"]["secretName"].as<std::string>() == "churn-token-signing");
  CHECK(Strings(pod["containers"][0]["args"])[6] == "token");
  CHECK(r.Yaml(std::string(kDir) +
               "httproute-churn.yaml")["spec"]["rules"][0]["backendRefs"][0]["weight"]
            .as<int>() == 10000);
}

TEST_CASE("the gateway-rollout sample: HTTPRoute 2000/8000 and an HPA per version") {
  const Rendered r = RenderSample("gateway-rollout");
  const std::string dir = "kubernetes/edge/";
  const YAML::Node route = r.Yaml(dir + "httproute-churn.yaml");
  CHECK(route["apiVersion"].as<std::string>() == "gateway.networking.k8s.io/v1beta1");
  CHECK(route["metadata"]["namespace"].as<std::string>() == "churn-gateway");
  const YAML::Node backends = route["spec"]["rules"][0]["backendRefs"];
  CHECK(backends[0]["weight"].as<int>() == 2000);
  CHECK(backends[1]["weight"].as<int>() == 8000);
  const YAML::Node a = r.Yaml(dir + "horizontalpodautoscaler-churn-a.yaml");
  CHECK(a["apiVersion"].as<std::string>() == "autoscaling/v2beta2");
  CHECK(a["spec"]["maxReplicas"].as<int>() == 4);
  CHECK(a["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"].as<int>() == 70);
  const YAML::Node b = r.Yaml(dir + "horizontalpodautoscaler-churn-b.yaml");
  CHECK(b["spec"]["minReplicas"].as<int>() == 2);
  CHECK(b["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"].as<int>() == 60);
  CHECK(r.Yaml(dir + "poddisruptionbudget-churn-b.yaml")["apiVersion"].as<std::string>() ==
        "policy/v1beta1");
  CHECK_FALSE(r.Has(dir + "deployment-ferry-router.yaml"));
}

}  // namespace
}  // namespace ferry::render

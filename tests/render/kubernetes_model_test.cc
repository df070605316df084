// Each version's Deployment: replicas and autoscaling per cluster purpose,
// PodDisruptionBudgets, probes and the pod's security settings, device
// requests and node selection, and the quantities they are written in.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "compiler/render/kubernetes.h"
#include "compiler/render/kubernetes_objects.h"
#include "tests/render/kubernetes_fixture.h"

namespace ferry::render {
namespace {

using kube_testing::Cluster;
using kube_testing::kDevTest;
using kube_testing::kDir;
using kube_testing::Manifest;
using kube_testing::Render;
using kube_testing::Rendered;
using kube_testing::Strings;

TEST_CASE("DEV_TEST clusters run fixed replicas and no autoscaler") {
  const std::string endpoints =
      "  churn:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      a: {model: scorer@1, autoscale: {enabled: false}, replicas: 2}\n";
  const Rendered router = Render(Manifest(kDevTest + "}", endpoints));
  CHECK(router.sink.diagnostics().empty());
  CHECK(router.Yaml(std::string(kDir) + "deployment-churn-a.yaml")["spec"]["replicas"].as<int>() ==
        2);
  const YAML::Node routes = YAML::Load(
      router.Yaml(std::string(kDir) + "configmap-ferry-router.yaml")["data"]["routes.yaml"]
          .as<std::string>());
  CHECK_FALSE(routes["autoscaler"]["enabled"].as<bool>());
  CHECK_FALSE(routes["endpoints"][0]["versions"][0]["autoscale"]["enabled"].as<bool>());
  CHECK(router.Yaml(std::string(kDir) + "deployment-ferry-router.yaml")["spec"]["replicas"]
            .as<int>() == 1);

  // Even an autoscale left on (W0305) does not scale on DEV_TEST, nor does an HPA appear.
  const std::string scaled =
      "  churn:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      a: {model: scorer@1, autoscale: {enabled: true, min_replicas: 3}, replicas: 1}\n";
  const Rendered gateway = Render(Manifest(kDevTest + ", routing: gateway}", scaled));
  CHECK(gateway.sink.diagnostics().empty());
  CHECK(gateway.Yaml(std::string(kDir) + "deployment-churn-a.yaml")["spec"]["replicas"].as<int>() ==
        1);
  for (const std::string& path : gateway.Paths()) {
    CHECK(path.find("horizontalpodautoscaler") == std::string::npos);
    CHECK(path.find("poddisruptionbudget") == std::string::npos);
  }
}

TEST_CASE("a PodDisruptionBudget only where a version runs more than one replica") {
  const std::string endpoints =
      "  churn:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      one: {model: scorer@1, autoscale: {enabled: false}, replicas: 1}\n"
      "      three: {model: scorer@2, autoscale: {enabled: false}, replicas: 3}\n";
  const Rendered r = Render(Manifest(Cluster("1.21.1"), endpoints));
  CHECK_FALSE(r.Has(std::string(kDir) + "poddisruptionbudget-churn-one.yaml"));
  const YAML::Node pdb = r.Yaml(std::string(kDir) + "poddisruptionbudget-churn-three.yaml");
  CHECK(pdb["apiVersion"].as<std::string>() == "policy/v1");
  CHECK(pdb["spec"]["maxUnavailable"].as<int>() == 1);
  CHECK(pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"].as<std::string>() ==
        "churn-three");
  CHECK(r.Yaml(std::string(kDir) + "deployment-churn-three.yaml")["spec"]["replicas"].as<int>() ==
        3);
}

TEST_CASE("probes carry the version's settings; pods run locked down") {
  const std::string endpoints =
      "  churn:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      a: {model: scorer@1, probes: {period_seconds: 7, initial_delay_seconds: 11, "
      "timeout_seconds: 3, failure_threshold: 4, success_threshold: 2}}\n";
  const Rendered r = Render(Manifest(Cluster("1.20.2"), endpoints));
  const YAML::Node pod =
      r.Yaml(std::string(kDir) + "deployment-churn-a.yaml")["spec"]["template"]["spec"];
  const YAML::Node container = pod["containers"][0];
  const YAML::Node ready = container["readinessProbe"];
  CHECK(ready["httpGet"]["path"].as<std::string>() == "/readyz");
  CHECK(ready["periodSeconds"].as<int>() == 7);
  CHECK(ready["initialDelaySeconds"].as<int>() == 11);
  CHECK(ready["timeoutSeconds"].as<int>() == 3);
  CHECK(ready["failureThreshold"].as<int>() == 4);
  CHECK(ready["successThreshold"].as<int>() == 2);
  const YAML::Node live = container["livenessProbe"];
  CHECK(live["httpGet"]["path"].as<std::string>() == "/healthz");
  CHECK(live["periodSeconds"].as<int>() == 7);
  // Kubernetes accepts only 1 for liveness.
  CHECK(live["successThreshold"].as<int>() == 1);

  const YAML::Node security = container["securityContext"];
  CHECK(security["runAsNonRoot"].as<bool>());
  CHECK(security["runAsUser"].as<int>() == 10001);
  CHECK(security["readOnlyRootFilesystem"].as<bool>());
  CHECK_FALSE(security["allowPrivilegeEscalation"].as<bool>());
  CHECK(Strings(security["capabilities"]["drop"]) == std::vector<std::string>{"ALL"});
  CHECK(pod["securityContext"]["runAsNonRoot"].as<bool>());
  CHECK(container["volumeMounts"][0]["mountPath"].as<std::string>() == "/tmp");
  CHECK(pod["volumes"][0]["emptyDir"].IsMap());
  // Defaults: 0.1 cores, 0.5 GB.
  CHECK(container["resources"]["limits"]["cpu"].as<std::string>() == "100m");
  CHECK(container["resources"]["requests"]["memory"].as<std::string>() == "512Mi");
}

TEST_CASE("GPU and FPGA targets request their device and select its nodes") {
  const std::string gpu_endpoints =
      "  vision:\n"
      "    cluster: prod\n"
      "    target: gpu\n"
      "    versions:\n"
      "      one: {model: scorer@1, resources: {cpu: 2, memory_gb: 8}}\n"
      "      two: {model: scorer@2, traffic: 10, resources: {cpu: 4, memory_gb: 16, gpu: 2}}\n";
  const Rendered gpu = Render(Manifest(
      "{provider: kubernetes, vm_size: Standard_NC12s_v3, agent_count: 1, kubernetes_version: "
      "\"1.20.2\"}",
      gpu_endpoints));
  const YAML::Node one =
      gpu.Yaml(std::string(kDir) + "deployment-vision-one.yaml")["spec"]["template"]["spec"];
  CHECK(one["containers"][0]["resources"]["limits"]["nvidia.com/gpu"].as<std::string>() == "1");
  CHECK(one["containers"][0]["resources"]["requests"]["nvidia.com/gpu"].as<std::string>() == "1");
  CHECK(one["containers"][0]["resources"]["limits"]["cpu"].as<std::string>() == "2");
  CHECK(one["nodeSelector"]["accelerator"].as<std::string>() == "nvidia");
  CHECK(one["tolerations"][0]["key"].as<std::string>() == "sku");
  const YAML::Node two =
      gpu.Yaml(std::string(kDir) + "deployment-vision-two.yaml")["spec"]["template"]["spec"];
  CHECK(two["containers"][0]["resources"]["limits"]["nvidia.com/gpu"].as<std::string>() == "2");
  CHECK(two["containers"][0]["resources"]["limits"]["memory"].as<std::string>() == "16Gi");

  const std::string fpga_endpoints =
      "  digits:\n"
      "    cluster: prod\n"
      "    target: fpga\n"
      "    versions:\n"
      "      v1: {model: scorer@1, resources: {cpu: 1, memory_gb: 2}}\n";
  const Rendered fpga = Render(
      Manifest("{provider: kubernetes, vm_size: Standard_PB6s, agent_count: 2, kubernetes_version: "
               "\"1.20.2\"}",
               fpga_endpoints));
  const catalog::Accelerator* device = catalog::Catalog::Builtin().FindAccelerator("fpga");
  REQUIRE(device != nullptr);
  const YAML::Node pod =
      fpga.Yaml(std::string(kDir) + "deployment-digits-v1.yaml")["spec"]["template"]["spec"];
  CHECK(pod["containers"][0]["resources"]["limits"][device->resource].as<std::string>() == "1");
  CHECK(pod["containers"][0]["resources"]["requests"][device->resource].as<std::string>() == "1");
  CHECK_FALSE(pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]);
  for (const auto& [label, value] : device->node_selector) {
    CHECK(pod["nodeSelector"][label].as<std::string>() == value);
  }
}

TEST_CASE("quantities are exact Kubernetes units") {
  CHECK(kube::CpuQuantity(0.5) == "500m");
  CHECK(kube::CpuQuantity(2) == "2");
  CHECK(kube::CpuQuantity(0.1) == "100m");
  CHECK(kube::CpuQuantity(1.25) == "1250m");
  CHECK(kube::CpuQuantity(0.0001) == "1m");
  CHECK(kube::MemoryQuantity(0.5) == "512Mi");
  CHECK(kube::MemoryQuantity(1) == "1Gi");
  CHECK(kube::MemoryQuantity(0.2) == "205Mi");
  CHECK(kube::MemoryQuantity(16) == "16Gi");
  CHECK(kube::MemoryQuantity(1.5) == "1536Mi");
}

TEST_CASE("serve args carry the version's limits, batching and data collection") {
  const std::string endpoints =
      "  churn:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      a: {model: scorer@1, autoscale: {max_concurrent_requests_per_replica: 4}}\n"
      "      b: {model: scorer@2, traffic: 10, serving: {max_body_mb: 0.5, request_timeout_ms: "
      "2500, collect_data: true}, batching: {enabled: true, max_batch: 8, max_wait_ms: 1.5}}\n";
  const Rendered rendered = Render(Manifest(Cluster("1.20.2"), endpoints));
  CHECK(rendered.sink.diagnostics().empty());
  const YAML::Node a =
      rendered.Yaml(std::string(kDir) + "deployment-churn-a.yaml")["spec"]["template"]["spec"];
  CHECK(Strings(a["containers"][0]["args"]) ==
        std::vector<std::string>{"serve", "--host", "0.0.0.0", "--port", "5001", "--auth", "none",
                                 "--max-concurrent", "4", "--max-body-bytes", "16777216",
                                 "--request-timeout-ms", "60000"});
  CHECK(a["volumes"].size() == 1);

  const YAML::Node b =
      rendered.Yaml(std::string(kDir) + "deployment-churn-b.yaml")["spec"]["template"]["spec"];
  CHECK(Strings(b["containers"][0]["args"]) ==
        std::vector<std::string>{"serve", "--host", "0.0.0.0", "--port", "5001", "--auth", "none",
                                 "--max-concurrent", "1", "--max-body-bytes", "524288",
                                 "--request-timeout-ms", "2500", "--batch-max", "8",
                                 "--batch-wait-ms", "1.5", "--collect-dir",
                                 "/var/lib/ferry/collect"});
  // The root file system is read-only: collected data goes to an emptyDir.
  const YAML::Node mount = b["containers"][0]["volumeMounts"][1];
  CHECK(mount["name"].as<std::string>() == "collect");
  CHECK(mount["mountPath"].as<std::string>() == "/var/lib/ferry/collect");
  CHECK(b["volumes"][1]["name"].as<std::string>() == "collect");
  CHECK(b["volumes"][1]["emptyDir"].IsMap());

  const YAML::Node routes = YAML::Load(
      rendered.Yaml(std::string(kDir) + "configmap-ferry-router.yaml")["data"]["routes.yaml"]
          .as<std::string>());
  CHECK(routes["endpoints"][0]["versions"][0]["timeout_ms"].as<int>() == 60000);
  CHECK(routes["endpoints"][0]["versions"][1]["timeout_ms"].as<int>() == 2500);
}

TEST_CASE("GPU versions batch by default; batching can be turned off") {
  const std::string endpoints =
      "  vision:\n"
      "    cluster: prod\n"
      "    target: gpu\n"
      "    versions:\n"
      "      on: {model: scorer@1, resources: {cpu: 2, memory_gb: 8}}\n"
      "      off: {model: scorer@2, traffic: 10, resources: {cpu: 2, memory_gb: 8}, batching: "
      "{enabled: false}}\n";
  const Rendered gpu = Render(Manifest(
      "{provider: kubernetes, vm_size: Standard_NC12s_v3, agent_count: 1, kubernetes_version: "
      "\"1.20.2\"}",
      endpoints));
  const auto args = [&](const std::string& version) {
    return Strings(gpu.Yaml(std::string(kDir) + "deployment-vision-" + version + ".yaml")
                       ["spec"]["template"]["spec"]["containers"][0]["args"]);
  };
  const std::vector<std::string> on = args("on");
  REQUIRE(on.size() >= 4);
  CHECK(std::vector<std::string>(on.end() - 4, on.end()) ==
        std::vector<std::string>{"--batch-max", "32", "--batch-wait-ms", "2"});
  for (const std::string& arg : args("off")) CHECK(arg.find("--batch") == std::string::npos);
}

}  // namespace
}  // namespace ferry::render

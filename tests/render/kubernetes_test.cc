#include "compiler/render/kubernetes.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compiler/driver/compile.h"
#include "compiler/render/kubernetes_objects.h"
#include "compiler/render/names.h"
#include "compiler/support/file_system.h"
#include "compiler/support/sha256.h"

namespace ferry::render {
namespace {

constexpr const char* kModelBytes = "onnx bytes";

/// A project 'churn' (registry contoso.azurecr.io) with one model (two
/// versions), the cluster `cluster` (a YAML mapping body, e.g. "{vm_size: ...}")
/// named 'prod', and the endpoints `endpoints` (lines indented two spaces).
auto Manifest(const std::string& cluster, const std::string& endpoints) -> std::string {
  const std::string digest = support::Sha256Hex(kModelBytes);
  return "ferry: 1\n"
         "project: churn\n"
         "workspace: {name: ws, region: westeurope, registry: contoso.azurecr.io}\n"
         "models:\n"
         "  scorer:\n"
         "    versions:\n"
         "      1: {path: models/m.onnx, sha256: " +
         digest +
         "}\n"
         "      2: {path: models/m.onnx, sha256: " +
         digest +
         "}\n"
         "clusters:\n"
         "  prod: " +
         cluster +
         "\n"
         "endpoints:\n" +
         endpoints;
}

/// A FAST_PROD cluster of 3 x 4 vCPUs at `version` with `extra` fields.
auto Cluster(const std::string& version, const std::string& extra = "") -> std::string {
  return "{provider: kubernetes, vm_size: Standard_D3_v2, agent_count: 3, kubernetes_version: \"" +
         version + "\"" + extra + "}";
}

/// The seeds' worked example: a 20% treatment, b 40% default and control -> 20/80.
const std::string kRollout =
    "  churn:\n"
    "    cluster: prod\n"
    "    versions:\n"
    "      a: {model: scorer@1, traffic: 20, role: treatment, autoscale: {min_replicas: 1, "
    "max_replicas: 4}}\n"
    "      b: {model: scorer@2, traffic: 40, role: control, default: true, resources: {cpu: 0.5, "
    "memory_gb: 1}, autoscale: {min_replicas: 2, max_replicas: 8, target_utilization: 60}}\n";

struct Rendered {
  std::vector<RenderedFile> files;
  diag::Sink sink;

  auto Paths() const -> std::vector<std::string> {
    std::vector<std::string> paths;
    for (const RenderedFile& file : files) paths.push_back(file.path);
    return paths;
  }
  auto Has(const std::string& path) const -> bool {
    return std::any_of(files.begin(), files.end(),
                       [&](const RenderedFile& file) { return file.path == path; });
  }
  auto Text(const std::string& path) const -> std::string {
    for (const RenderedFile& file : files) {
      if (file.path == path) return file.contents;
    }
    FAIL("no file " << path);
    return "";
  }
  auto Yaml(const std::string& path) const -> YAML::Node { return YAML::Load(Text(path)); }
};

/// Compiles `manifest` (which must pass the checks) and renders it.
auto Render(const std::string& manifest) -> Rendered {
  support::MemoryFileSystem fs;
  fs.Add("p/models/m.onnx", kModelBytes);
  fs.Add("p/ferry.yaml", manifest);
  Rendered rendered;
  diag::Sink compile_sink;
  driver::CompileResult result =
      driver::Compile(fs, "p/ferry.yaml", catalog::Catalog::Builtin(), compile_sink);
  std::string messages;
  for (const diag::Diagnostic& d : compile_sink.diagnostics()) messages += d.message + "\n";
  CAPTURE(messages);
  REQUIRE_FALSE(compile_sink.HasErrors());
  REQUIRE(result.project.has_value());
  rendered.files =
      RenderKubernetes(*result.project, catalog::Catalog::Builtin(), {}, rendered.sink);
  return rendered;
}

auto Strings(const YAML::Node& list) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const YAML::Node& item : list) out.push_back(item.as<std::string>());
  return out;
}

constexpr const char* kDir = "kubernetes/prod/";

/// Whether `value` is a valid Kubernetes label value: at most 63 characters,
/// alphanumerics, '-', '_' and '.', starting and ending alphanumeric.
auto IsLabelValue(const std::string& value) -> bool {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (value.empty()) return true;
  if (value.size() > 63 || !alnum(value.front()) || !alnum(value.back())) return false;
  return std::all_of(value.begin(), value.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

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
  CHECK(container["image"].as<std::string>() == "contoso.azurecr.io/ferry/churn-b:unbuilt");
  CHECK(Strings(container["args"]) ==
        std::vector<std::string>{"serve", "--host", "0.0.0.0", "--port", "5001", "--auth", "none"});
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
                                 "--keys", "/etc/ferry/auth"});
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

const std::string kDevTest =
    "{provider: kubernetes, purpose: dev_test, vm_size: Standard_D2_v2, agent_count: 1, "
    "kubernetes_version: \"1.20.2\"";

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

TEST_CASE("rendering twice gives the same bytes, and images come from the build plan") {
  const std::string manifest = Manifest(Cluster("1.20.2", ", tls: {secret: t}"), kRollout);
  const Rendered first = Render(manifest);
  const Rendered second = Render(manifest);
  REQUIRE(first.files.size() == second.files.size());
  for (std::size_t i = 0; i < first.files.size(); ++i) {
    CHECK(first.files[i].path == second.files[i].path);
    CHECK(first.files[i].contents == second.files[i].contents);
  }

  support::MemoryFileSystem fs;
  fs.Add("p/models/m.onnx", kModelBytes);
  fs.Add("p/ferry.yaml", manifest);
  diag::Sink sink;
  const auto result = driver::Compile(fs, "p/ferry.yaml", catalog::Catalog::Builtin(), sink);
  REQUIRE(result.project.has_value());
  std::vector<ImageRef> images(1);
  images[0].endpoint = "churn";
  images[0].version = "b";
  images[0].reference = "r.io/ferry/cpu@sha256:abc";
  const auto files = RenderKubernetes(*result.project, catalog::Catalog::Builtin(), images, sink);
  for (const RenderedFile& file : files) {
    if (file.path != "kubernetes/prod/deployment-churn-b.yaml") continue;
    CHECK(YAML::Load(file.contents)["spec"]["template"]["spec"]["containers"][0]["image"]
              .as<std::string>() == "r.io/ferry/cpu@sha256:abc");
  }
}

/// Renders the sample folder `name` from the source tree.
auto RenderSample(const std::string& name) -> Rendered {
  support::DiskFileSystem disk;
  diag::Sink compile_sink;
  const std::string manifest =
      driver::ManifestPath(std::string(FERRY_SOURCE_DIR) + "/samples/" + name);
  driver::CompileResult result =
      driver::Compile(disk, manifest, catalog::Catalog::Builtin(), compile_sink);
  REQUIRE_FALSE(compile_sink.HasErrors());
  REQUIRE(result.project.has_value());
  Rendered rendered;
  rendered.files =
      RenderKubernetes(*result.project, catalog::Catalog::Builtin(), {}, rendered.sink);
  return rendered;
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

}  // namespace
}  // namespace ferry::render

// KubeReplicas and KubeClient against a real kube-apiserver (ctest
// router.kube_replicas, label kube): tests/router/kube_replicas_test.sh
// starts the server, creates the Deployment, Service and Endpoints with
// kubectl and runs this binary with KUBECONFIG and FERRY_KUBE_NS set. No pod
// ever runs there: the Endpoints object stands in for the pods.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "router/kube_client.h"
#include "router/kube_replicas.h"

namespace ferry::router {
namespace {

auto Env(const char* name) -> std::string {
  const char* value = std::getenv(name);
  REQUIRE_MESSAGE(value != nullptr, name, " is not set: run tests/router/kube_replicas_test.sh");
  return value;
}

auto Client() -> std::shared_ptr<KubeClient> {
  KubeConfigResult result = DefaultKubeConfig();
  REQUIRE_MESSAGE(result.config, result.error);
  return std::make_shared<KubeClient>(*result.config);
}

auto Options(const std::string& ns, const std::string& deployment, const std::string& service)
    -> KubeReplicasOptions {
  KubeReplicasOptions options;
  options.ns = ns;
  options.deployment = deployment;
  options.service = service;
  return options;
}

auto DeploymentReplicas(KubeClient& client, const std::string& ns, const std::string& name)
    -> std::int64_t {
  KubeResponse response = client.Get("/apis/apps/v1/namespaces/" + ns + "/deployments/" + name);
  REQUIRE_MESSAGE(response.ok(), response.error);
  return nlohmann::json::parse(response.body)["spec"]["replicas"].get<std::int64_t>();
}

TEST_CASE("kube_replicas.reads_endpoints_and_scales_the_deployment") {
  std::string ns = Env("FERRY_KUBE_NS");
  auto client = Client();
  CHECK(client->config().server == "https://127.0.0.1:16443");
  KubeReplicas set(Options(ns, "churn-a", "churn-a." + ns + ".svc.cluster.local:5001"), client);
  CHECK(set.Replicas().empty());  // nothing read yet
  set.Reconcile(TimePoint{});
  CHECK(set.last_error() == "");
  CHECK(set.Desired() == 2);
  auto replicas = set.Replicas();
  REQUIRE(replicas.size() == 3);
  CHECK(replicas[0].host == "10.244.0.11");
  CHECK(replicas[0].port == 5001);
  CHECK(replicas[0].ready);
  CHECK(replicas[1].host == "10.244.0.12");
  CHECK(replicas[1].ready);
  CHECK(replicas[2].host == "10.244.0.13");
  CHECK_FALSE(replicas[2].ready);  // notReadyAddresses

  set.Scale(5);
  CHECK(set.last_error() == "");
  CHECK(set.Desired() == 5);
  CHECK(DeploymentReplicas(*client, ns, "churn-a") == 5);
  set.Scale(1);
  CHECK(DeploymentReplicas(*client, ns, "churn-a") == 1);
  set.Reconcile(TimePoint{});
  CHECK(set.Desired() == 1);
}

TEST_CASE("kube_replicas.a_service_without_endpoints_has_no_replicas") {
  std::string ns = Env("FERRY_KUBE_NS");
  KubeReplicas set(Options(ns, "churn-b", "churn-b"), Client());
  set.Reconcile(TimePoint{});
  CHECK(set.last_error() == "");
  CHECK(set.Desired() == 1);
  CHECK(set.Replicas().empty());
}

TEST_CASE("kube_replicas.failures_are_values") {
  std::string ns = Env("FERRY_KUBE_NS");
  KubeReplicas set(Options(ns, "no-such", "no-such"), Client());
  set.Scale(3);
  CHECK(set.Desired() == 0);
  CHECK(set.last_error().find("HTTP 404") != std::string::npos);
  CHECK(set.last_error().find("no-such") != std::string::npos);
  set.Reconcile(TimePoint{});
  CHECK(set.last_error().find("HTTP 404") != std::string::npos);

  // A token the server does not know: 401.
  KubeConfig config = Client()->config();
  config.token = "wrong";
  config.token_file.clear();
  KubeClient stranger(config);
  KubeResponse response = stranger.Get("/api/v1/namespaces/" + ns + "/endpoints/churn-a");
  CHECK(response.status == 401);
  CHECK_FALSE(response.ok());
}

TEST_CASE("kube_client.verifies_the_server_certificate") {
  std::string ns = Env("FERRY_KUBE_NS");
  KubeConfig config = Client()->config();
  config.insecure_skip_tls_verify = false;
  // The API server's self-signed serving certificate and its CA (written by kube-apiserver).
  std::ifstream in(Env("FERRY_KUBE_SERVING_CERT"));
  config.ca_pem.assign(std::istreambuf_iterator<char>(in), {});
  REQUIRE_FALSE(config.ca_pem.empty());
  KubeClient trusting(config);
  KubeResponse response = trusting.Get("/api/v1/namespaces/" + ns + "/endpoints/churn-a");
  CHECK_MESSAGE(response.ok(), response.error);
  // Without that CA (the system's roots only) the handshake fails.
  config.ca_pem.clear();
  KubeClient distrusting(config);
  response = distrusting.Get("/api/v1/namespaces/" + ns + "/endpoints/churn-a");
  CHECK(response.status == 0);
  CHECK(response.error.find("TLS handshake") != std::string::npos);
}

}  // namespace
}  // namespace ferry::router

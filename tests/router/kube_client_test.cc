#include "router/kube_client.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "router/kube_replicas.h"

namespace ferry::router {
namespace {

auto WriteTemp(const std::string& name, const std::string& text) -> std::string {
  std::string path =
      (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))).string();
  std::ofstream(path) << text;
  return path;
}

TEST_CASE("kube_replicas.service_ref_from_routes") {
  ServiceRef ref = ParseServiceRef("churn-a.churn-rollout.svc.cluster.local:5001", 80);
  CHECK(ref.name == "churn-a");
  CHECK(ref.port == 5001);
  ref = ParseServiceRef("churn-b", 5001);
  CHECK(ref.name == "churn-b");
  CHECK(ref.port == 5001);
  ref = ParseServiceRef("churn-b:notaport", 5001);
  CHECK(ref.name == "churn-b");
  CHECK(ref.port == 5001);
}

TEST_CASE("kube_client.kubeconfig_current_context") {
  // "LS0tLS1CRUdJTi0tLS0t" is base64 for "-----BEGIN-----".
  std::string path = WriteTemp("ferry-kubeconfig", R"(apiVersion: v1
kind: Config
clusters:
- {name: other, cluster: {server: "https://10.0.0.1:6443"}}
- {name: test, cluster: {server: "https://127.0.0.1:16443", certificate-authority-data: LS0tLS1CRUdJTi0tLS0t}}
users:
- {name: admin, user: {token: secret-token}}
- {name: cert, user: {client-certificate-data: LS0tLS1CRUdJTi0tLS0t, client-key-data: LS0tLS1CRUdJTi0tLS0t}}
contexts:
- {name: a, context: {cluster: other, user: cert}}
- {name: b, context: {cluster: test, user: admin, namespace: models}}
current-context: b
)");
  KubeConfigResult result = LoadKubeconfig(path);
  REQUIRE_MESSAGE(result.config, result.error);
  CHECK(result.config->server == "https://127.0.0.1:16443");
  CHECK(result.config->ca_pem == "-----BEGIN-----");
  CHECK(result.config->token == "secret-token");
  CHECK(result.config->client_certificate_pem.empty());
  CHECK(result.config->ns == "models");
  CHECK_FALSE(result.config->insecure_skip_tls_verify);
  std::filesystem::remove(path);
}

TEST_CASE("kube_client.kubeconfig_errors_are_values") {
  CHECK(LoadKubeconfig("/nonexistent/kubeconfig").error ==
        "cannot read kubeconfig /nonexistent/kubeconfig");
  std::string path = WriteTemp("ferry-kubeconfig-bad", "current-context: missing\ncontexts: []\n");
  KubeConfigResult result = LoadKubeconfig(path);
  CHECK_FALSE(result.config);
  CHECK(result.error == path + ": no current context 'missing'");
  std::filesystem::remove(path);
  // Not a pod either.
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK(InClusterConfig("/nonexistent").error.find("not in a pod") != std::string::npos);
}

TEST_CASE("kube_client.in_cluster_config") {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ferry-sa-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "sa-token\n";
  std::ofstream(dir / "ca.crt") << "CA";
  std::ofstream(dir / "namespace") << "churn-rollout\n";
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  KubeConfigResult result = InClusterConfig(dir.string());
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  REQUIRE_MESSAGE(result.config, result.error);
  CHECK(result.config->server == "https://10.96.0.1:443");
  CHECK(result.config->token_file == (dir / "token").string());
  CHECK(result.config->ca_pem == "CA");
  CHECK(result.config->ns == "churn-rollout");
  std::filesystem::remove_all(dir);
}

TEST_CASE("kube_client.unreachable_server_is_an_error_value") {
  KubeConfig config;
  config.server = "http://127.0.0.1:1";
  KubeClient bad_url(config);
  KubeResponse response = bad_url.Get("/api");
  CHECK(response.status == 0);
  CHECK(response.error == "server 'http://127.0.0.1:1' is not an https:// URL");
  // Port 1 on loopback: nothing listens; connection refused.
  config.server = "https://127.0.0.1:1";
  config.insecure_skip_tls_verify = true;
  KubeClient refused(config);
  response = refused.Get("/api");
  CHECK(response.status == 0);
  CHECK(response.error.find("connecting to https://127.0.0.1:1") == 0);
}

}  // namespace
}  // namespace ferry::router

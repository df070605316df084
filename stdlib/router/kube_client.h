// A minimal Kubernetes API client for the router: GET and PATCH of JSON
// objects over HTTPS, authenticated as the router's ServiceAccount (in a pod)
// or as a kubeconfig's user (tests, or a router run by hand). Only what
// KubeReplicas needs; never throws: failures are values.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::router {

/// Where the API server is and who the client is.
struct KubeConfig {
  std::string server;  ///< "https://host:port"
  std::string ca_pem;  ///< the cluster's CA certificate(s); empty: the system's
  bool insecure_skip_tls_verify = false;
  std::string token;       ///< a bearer token, or
  std::string token_file;  ///< a file holding it, re-read when it changes (rotated SA tokens)
  std::string client_certificate_pem;  ///< or a client certificate and its key
  std::string client_key_pem;
  std::string ns;  ///< the context's (or the pod's) namespace; may be empty
};

/// A config, or why there is none.
struct KubeConfigResult {
  std::optional<KubeConfig> config;
  std::string error;
};

/// Reads a kubeconfig file: its current context's cluster, user and namespace.
/// File references (certificate-authority, client-certificate, client-key,
/// tokenFile) are read relative to the kubeconfig's folder.
auto LoadKubeconfig(const std::string& path) -> KubeConfigResult;

/// The in-pod config: KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount's
/// token, CA and namespace under `account_directory`.
auto InClusterConfig(const std::string& account_directory =
                         "/var/run/secrets/kubernetes.io/serviceaccount") -> KubeConfigResult;

/// $KUBECONFIG when set, otherwise the in-pod config.
auto DefaultKubeConfig() -> KubeConfigResult;

/// One answer from the API server.
struct KubeResponse {
  int status = 0;     ///< HTTP status; 0 when no answer came (see error)
  std::string body;   ///< JSON
  std::string error;  ///< transport failure, or the Status message of a non-2xx answer

  auto ok() const -> bool { return status >= 200 && status < 300; }
};

/// A blocking client; one request at a time per client (a mutex serializes).
class KubeClient {
 public:
  explicit KubeClient(KubeConfig config);
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  auto operator=(const KubeClient&) -> KubeClient& = delete;

  /// GET `path` (e.g. "/api/v1/namespaces/NS/endpoints/NAME").
  auto Get(std::string_view path) -> KubeResponse;
  /// PATCH `path` with a JSON merge patch.
  auto MergePatch(std::string_view path, std::string_view patch) -> KubeResponse;

  auto config() const -> const KubeConfig& { return config_; }

 private:
  auto Send(std::string_view method, std::string_view path, std::string_view body) -> KubeResponse;
  auto BearerToken() -> std::string;

  KubeConfig config_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::router

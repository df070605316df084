// Where the Kubernetes API server is and how to authenticate: a kubeconfig
// file or the pod's ServiceAccount (kube_client.h).
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "router/kube_client.h"

namespace ferry::router {
namespace {

auto ReadFile(const std::string& path, std::string& contents) -> bool {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  contents = buffer.str();
  return true;
}

/// Standard base64 (kubeconfig's *-data fields); nullopt when malformed.
auto DecodeBase64(std::string_view text) -> std::optional<std::string> {
  std::string out;
  unsigned int bits = 0;
  int count = 0;
  for (char c : text) {
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    if (c >= '0' && c <= '9') value = c - '0' + 52;
    if (c == '+') value = 62;
    if (c == '/') value = 63;
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned int>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

/// The entry called `name` in a kubeconfig list (clusters, users, contexts): its `field` map.
auto Named(const YAML::Node& list, const std::string& name, const char* field) -> YAML::Node {
  if (list && list.IsSequence()) {
    for (const YAML::Node& entry : list) {
      if (entry["name"] && entry["name"].as<std::string>() == name) return entry[field];
    }
  }
  return YAML::Node();
}

/// A PEM from `<key>-data` (base64) or `<key>` (a file, relative to `base`).
auto Pem(const YAML::Node& node, const std::string& key, const std::filesystem::path& base,
         std::string& pem, std::string& error) -> bool {
  if (node[key + "-data"]) {
    auto decoded = DecodeBase64(node[key + "-data"].as<std::string>());
    if (!decoded) error = key + "-data is not base64";
    pem = decoded.value_or("");
    return decoded.has_value();
  }
  if (node[key]) {
    std::filesystem::path file = node[key].as<std::string>();
    if (file.is_relative()) file = base / file;
    if (!ReadFile(file.string(), pem)) {
      error = "cannot read " + key + " " + file.string();
      return false;
    }
  }
  return true;
}

auto Fail(std::string error) -> KubeConfigResult { return {std::nullopt, std::move(error)}; }

auto FromKubeconfig(const YAML::Node& root, const std::filesystem::path& base) -> KubeConfigResult {
  std::string context_name =
      root["current-context"] ? root["current-context"].as<std::string>() : "";
  YAML::Node context = Named(root["contexts"], context_name, "context");
  if (!context.IsMap()) return Fail("no current context '" + context_name + "'");
  std::string cluster_name = context["cluster"] ? context["cluster"].as<std::string>() : "";
  std::string user_name = context["user"] ? context["user"].as<std::string>() : "";
  YAML::Node cluster = Named(root["clusters"], cluster_name, "cluster");
  if (!cluster.IsMap() || !cluster["server"])
    return Fail("no cluster '" + cluster_name + "' with a server");
  KubeConfig config;
  config.server = cluster["server"].as<std::string>();
  config.insecure_skip_tls_verify =
      cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
  config.ns = context["namespace"] ? context["namespace"].as<std::string>() : "";
  std::string error;
  if (!Pem(cluster, "certificate-authority", base, config.ca_pem, error)) return Fail(error);
  YAML::Node user = Named(root["users"], user_name, "user");
  if (user && user.IsMap()) {
    if (user["token"]) config.token = user["token"].as<std::string>();
    if (user["tokenFile"]) {
      std::filesystem::path file = user["tokenFile"].as<std::string>();
      config.token_file = (file.is_relative() ? base / file : file).string();
    }
    if (!Pem(user, "client-certificate", base, config.client_certificate_pem, error) ||
        !Pem(user, "client-key", base, config.client_key_pem, error)) {
      return Fail(error);
    }
  }
  return {std::move(config), ""};
}

}  // namespace

auto LoadKubeconfig(const std::string& path) -> KubeConfigResult {
  std::string text;
  if (!ReadFile(path, text)) return Fail("cannot read kubeconfig " + path);
  try {
    KubeConfigResult result =
        FromKubeconfig(YAML::Load(text), std::filesystem::path(path).parent_path());
    if (!result.config) result.error = path + ": " + result.error;
    return result;
  } catch (const YAML::Exception& e) {
    return Fail(path + ": not a kubeconfig: " + e.what());
  }
}

auto InClusterConfig(const std::string& account_directory) -> KubeConfigResult {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    return Fail("not in a pod: KUBERNETES_SERVICE_HOST/PORT are not set (and KUBECONFIG is not)");
  }
  KubeConfig config;
  std::string host_text = host;
  // An IPv6 service address needs brackets in a URL.
  if (host_text.find(':') != std::string::npos) host_text = "[" + host_text + "]";
  config.server = "https://" + host_text + ":" + port;
  config.token_file = account_directory + "/token";
  std::string token;
  if (!ReadFile(config.token_file, token)) return Fail("cannot read " + config.token_file);
  if (!ReadFile(account_directory + "/ca.crt", config.ca_pem)) {
    return Fail("cannot read " + account_directory + "/ca.crt");
  }
  if (ReadFile(account_directory + "/namespace", config.ns)) {
    while (!config.ns.empty() && std::isspace(static_cast<unsigned char>(config.ns.back()))) {
      config.ns.pop_back();
    }
  }
  return {std::move(config), ""};
}

auto DefaultKubeConfig() -> KubeConfigResult {
  const char* kubeconfig = std::getenv("KUBECONFIG");
  if (kubeconfig != nullptr && *kubeconfig != '\0') {
    // KUBECONFIG may list several files; the first one is used.
    std::string first = kubeconfig;
    return LoadKubeconfig(first.substr(0, first.find(':')));
  }
  return InClusterConfig();
}

}  // namespace ferry::router

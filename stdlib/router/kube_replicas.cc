#include "router/kube_replicas.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace ferry::router {
namespace {

using Json = nlohmann::json;

/// The port pods listen on in one Endpoints subset: the one named "http"
/// (the Service's targetPort), else the only one, else `fallback`.
auto SubsetPort(const Json& subset, int fallback) -> int {
  const Json* ports = subset.contains("ports") ? &subset["ports"] : nullptr;
  if (ports == nullptr || !ports->is_array() || ports->empty()) return fallback;
  for (const Json& port : *ports) {
    if (port.value("name", "") == "http" && port.contains("port") && port["port"].is_number()) {
      return port["port"].get<int>();
    }
  }
  const Json& first = ports->front();
  return first.contains("port") && first["port"].is_number() ? first["port"].get<int>() : fallback;
}

void AddAddresses(const Json& subset, const char* field, bool ready, int port,
                  std::vector<Replica>& replicas) {
  if (!subset.contains(field) || !subset[field].is_array()) return;
  for (const Json& address : subset[field]) {
    if (address.contains("ip") && address["ip"].is_string()) {
      replicas.push_back({address["ip"].get<std::string>(), port, ready});
    }
  }
}

}  // namespace

auto ParseServiceRef(const std::string& service, int default_port) -> ServiceRef {
  ServiceRef ref{service, default_port};
  std::size_t colon = service.rfind(':');
  if (colon != std::string::npos) {
    int port = 0;
    const char* begin = service.data() + colon + 1;
    const char* end = service.data() + service.size();
    auto [rest, error] = std::from_chars(begin, end, port);
    if (error == std::errc() && rest == end && port > 0 && port < 65536) ref.port = port;
    ref.name = service.substr(0, colon);
  }
  // "name.namespace.svc.cluster.local": the Service (and its Endpoints) is the first label.
  ref.name = ref.name.substr(0, ref.name.find('.'));
  return ref;
}

KubeReplicas::KubeReplicas(KubeReplicasOptions options, std::shared_ptr<KubeClient> client)
    : options_(std::move(options)),
      service_(ParseServiceRef(options_.service, options_.port)),
      client_(std::move(client)) {}

auto KubeReplicas::ScalePath() const -> std::string {
  return "/apis/apps/v1/namespaces/" + options_.ns + "/deployments/" + options_.deployment +
         "/scale";
}

auto KubeReplicas::EndpointsPath() const -> std::string {
  return "/api/v1/namespaces/" + options_.ns + "/endpoints/" + service_.name;
}

void KubeReplicas::Fail(const std::string& what, const KubeResponse& response) {
  std::string error = what + ": ";
  if (response.status != 0) error += "HTTP " + std::to_string(response.status) + ": ";
  error += response.error;
  std::lock_guard lock(mutex_);
  last_error_ = error;
}

auto KubeReplicas::Replicas() const -> std::vector<Replica> {
  std::lock_guard lock(mutex_);
  return replicas_;
}

auto KubeReplicas::Desired() const -> std::int64_t {
  std::lock_guard lock(mutex_);
  return desired_;
}

auto KubeReplicas::last_error() const -> std::string {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void KubeReplicas::Scale(std::int64_t count) {
  if (count < 0) count = 0;
  Json patch = {{"spec", {{"replicas", count}}}};
  KubeResponse response = client_->MergePatch(ScalePath(), patch.dump());
  if (!response.ok()) {
    Fail("scaling deployment " + options_.ns + "/" + options_.deployment, response);
    return;
  }
  std::lock_guard lock(mutex_);
  desired_ = count;
  last_error_.clear();
}

void KubeReplicas::Reconcile(TimePoint /*now*/) {
  KubeResponse scale = client_->Get(ScalePath());
  Json scale_json = scale.ok() ? Json::parse(scale.body, nullptr, false) : Json();
  std::int64_t desired = -1;
  if (scale_json.is_object() && scale_json.contains("spec") && scale_json["spec"].is_object()) {
    desired = scale_json["spec"].value("replicas", std::int64_t{0});
  }
  if (desired < 0) {
    Fail("reading deployments/scale " + options_.ns + "/" + options_.deployment,
         scale.ok() ? KubeResponse{scale.status, "", "not a Scale object"} : scale);
    return;
  }
  KubeResponse endpoints = client_->Get(EndpointsPath());
  Json endpoints_json = endpoints.ok() ? Json::parse(endpoints.body, nullptr, false) : Json();
  std::vector<Replica> replicas;
  if (endpoints.status == 404) {
    // No Endpoints object yet (the Service was just created): no replicas.
  } else if (!endpoints_json.is_object()) {
    Fail(
        "reading endpoints " + options_.ns + "/" + service_.name,
        endpoints.ok() ? KubeResponse{endpoints.status, "", "not an Endpoints object"} : endpoints);
    std::lock_guard lock(mutex_);
    desired_ = desired;
    return;
  } else if (endpoints_json.contains("subsets") && endpoints_json["subsets"].is_array()) {
    for (const Json& subset : endpoints_json["subsets"]) {
      int port = SubsetPort(subset, service_.port);
      AddAddresses(subset, "addresses", true, port, replicas);
      AddAddresses(subset, "notReadyAddresses", false, port, replicas);
    }
  }
  std::lock_guard lock(mutex_);
  desired_ = desired;
  replicas_ = std::move(replicas);
  last_error_.clear();
}

}  // namespace ferry::router

// KubeReplicas: an endpoint version's replicas as a Kubernetes Deployment's
// pods, seen through its Service's Endpoints object, in the routes' namespace.
// Replicas() are the Endpoints' addresses (ready) and notReadyAddresses (not
// ready) on the Service's port (5001); Desired() and Scale() go through the
// Deployment's scale subresource. Exactly the verbs the rendered Role
// (role-ferry-router.yaml) grants: get endpoints, get/patch deployments/scale.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "router/kube_client.h"
#include "router/replicas.h"

namespace ferry::router {

/// Which objects hold one version's replicas.
struct KubeReplicasOptions {
  std::string ns;          ///< routes' `namespace`
  std::string deployment;  ///< the version's Deployment
  /// The version's Service: "name.ns.svc.cluster.local:5001" (routes' `service`) or a
  /// bare name; the Endpoints object has the Service's name.
  std::string service;
  int port = 5001;  ///< used when `service` names no port
};

/// The Service name and port in routes' `service` ("churn-a.ns.svc...:5001" -> churn-a, 5001).
struct ServiceRef {
  std::string name;
  int port = 0;
};
auto ParseServiceRef(const std::string& service, int default_port) -> ServiceRef;

/// Replicas of a Deployment. Reconcile() reads the Endpoints and the scale
/// subresource; until the first successful read there are no replicas.
class KubeReplicas : public ReplicaSet {
 public:
  /// `client` may be shared by every version's set.
  KubeReplicas(KubeReplicasOptions options, std::shared_ptr<KubeClient> client);

  auto Replicas() const -> std::vector<Replica> override;
  /// The scale subresource's spec.replicas as last read or set.
  auto Desired() const -> std::int64_t override;
  /// PATCHes spec.replicas; on failure Desired() keeps the old count (see last_error).
  void Scale(std::int64_t count) override;
  void Reconcile(TimePoint now) override;

  /// The last failure talking to the API server ("" after a success), for the router's log.
  auto last_error() const -> std::string;

 private:
  auto ScalePath() const -> std::string;
  auto EndpointsPath() const -> std::string;
  void Fail(const std::string& what, const KubeResponse& response);

  KubeReplicasOptions options_;
  ServiceRef service_;
  std::shared_ptr<KubeClient> client_;
  mutable std::mutex mutex_;
  std::vector<Replica> replicas_;
  std::int64_t desired_ = 0;
  std::string last_error_;
};

}  // namespace ferry::router

// What the Kubernetes executor's two source files share (not a public API):
// the executor's state, object references and small JSON/base64 helpers.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compiler/apply/kubectl.h"
#include "compiler/apply/kubernetes_executor.h"
#include "compiler/plan/resources.h"
#include "compiler/plan/state.h"

namespace ferry::apply::kube {

/// One Kubernetes object as ferry names it.
struct ObjectRef {
  std::string cluster;
  std::string kind;
  std::string name;
  std::string ns;           ///< empty: cluster-scoped
  std::string api_version;  ///< "apps/v1", "v1"

  /// kubectl's resource argument: "deployment.v1.apps", or "service" for the core group.
  auto Resource() const -> std::string;
  /// "Deployment faq-matching/faq-live" (or "Namespace faq-matching").
  auto Describe() const -> std::string;
  /// ["-n", ns] or nothing.
  auto NamespaceArgs() const -> std::vector<std::string>;
};

/// The decoded JSON string at `key` ("" when absent or not a string).
auto AttributeString(const plan::Attributes& attributes, std::string_view key) -> std::string;

/// The reference of an object.<cluster>.<Kind>.<name> resource from its attributes.
auto ObjectFromAttributes(std::string_view address, const plan::Attributes& attributes)
    -> std::optional<ObjectRef>;

/// A secret.<endpoint> resource's Secret (name, namespace, cluster attributes).
auto SecretFromAttributes(std::string_view address, const plan::Attributes& attributes)
    -> ObjectRef;

/// Parses JSON without throwing.
auto ParseJson(std::string_view text) -> std::optional<nlohmann::json>;
/// The canonical JSON of a scalar, as support::ToCanonicalJson writes it.
auto CanonicalScalar(const nlohmann::json& value) -> std::string;
/// The integer at `pointer` ("/status/replicas"), 0 when absent.
auto IntAt(const nlohmann::json& document, const char* pointer) -> long long;

auto Base64Encode(std::string_view bytes) -> std::string;
auto Base64Decode(std::string_view text, std::string& out) -> bool;

/// `text` with every occurrence of each of `secrets` (and of its base64
/// form) replaced by "<redacted>".
auto Redact(std::string text, const std::vector<std::string>& secrets) -> std::string;

/// The replica range of the autoscaler that owns a Deployment's replica count.
struct ReplicaRange {
  long long min = 1;
  long long max = 1;
  std::string owner;  ///< "the router" or "HorizontalPodAutoscaler <name>"
};

/// One resource's address and attributes (recorded or desired).
using ResourceView = std::pair<std::string_view, const plan::Attributes*>;

/// The range of the autoscaler of `deployment` among `resources`: a
/// ferry-router ConfigMap in its namespace whose routes.yaml has a version with
/// `deployment: <name>` and `autoscale.enabled: true`, or a
/// HorizontalPodAutoscaler whose spec.scaleTargetRef names it. None: the
/// Deployment's spec.replicas is ferry's alone.
auto AutoscaledRange(const std::vector<ResourceView>& resources, const ObjectRef& deployment)
    -> std::optional<ReplicaRange>;
auto AutoscaledRange(const plan::State& state, const ObjectRef& deployment)
    -> std::optional<ReplicaRange>;
auto AutoscaledRange(const plan::Desired& desired, const ObjectRef& deployment)
    -> std::optional<ReplicaRange>;

/// A rendered manifest's YAML without its top-level `spec.replicas` line
/// (render writes `spec:` then two-space indented fields).
auto WithoutSpecReplicas(std::string_view manifest) -> std::string;

/// The Secret manifest (JSON) ferry applies for an endpoint.
auto SecretManifest(const ObjectRef& secret, std::string_view project, const EndpointSecret& values)
    -> std::string;

}  // namespace ferry::apply::kube

namespace ferry::apply {

struct KubernetesExecutor::Impl {
  explicit Impl(KubernetesOptions options);

  KubernetesOptions options;
  std::shared_ptr<KubectlRunner> runner;
  Kubectl kubectl;
  /// The kubeconfig's context names, read once.
  std::optional<std::vector<std::string>> contexts;
  /// The clusters this executor's actions went to (destroy empties the state).
  std::set<std::string> clusters_touched;

  auto ContextFor(std::string_view cluster) -> std::string;
  auto Run(std::string_view cluster, const std::vector<std::string>& args,
           std::string_view input = {}) -> KubectlResult {
    return kubectl.Run(ContextFor(cluster), args, input);
  }
};

}  // namespace ferry::apply

// The Kubernetes executor: applies a project's rendered objects with kubectl
// (server-side apply, field manager "ferry"), creates the endpoints' key
// Secrets, waits for Deployments to roll out before traffic objects move,
// prunes ferry's labelled objects that are no longer desired, and reads live
// objects back for refresh and status (docs/kubernetes-executor.md).
//
// Which cluster: the objects of kubernetes/<cluster>/ go to the kubeconfig
// context named <cluster> when there is one, else to the current context
// (KubernetesOptions::context overrides both).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/apply/executor.h"
#include "compiler/apply/kubectl.h"

namespace ferry::apply {

struct KubernetesOptions {
  std::string kubectl = "kubectl";  ///< the program (PATH lookup without a '/')
  std::string kubeconfig;           ///< --kubeconfig; empty: kubectl's own ($KUBECONFIG, ~/.kube)
  std::string context;              ///< forces one context for every cluster
  /// How long a Deployment may take to roll out; 0: the apply's ready_timeout.
  std::chrono::seconds rollout_timeout{0};
  /// How often a rolling-out Deployment is read.
  std::chrono::milliseconds poll_interval{1000};
  /// The time limit of one kubectl command.
  std::chrono::milliseconds command_timeout{std::chrono::seconds(60)};
  /// Runs kubectl; null: real processes. Tests pass a fake.
  std::shared_ptr<KubectlRunner> runner;
};

class KubernetesExecutor : public Executor {
 public:
  explicit KubernetesExecutor(KubernetesOptions options);

  auto Kind() const -> plan::ExecutorKind override { return plan::ExecutorKind::Kubernetes; }
  auto Refresh(const plan::State& state, const ProjectPaths& paths, std::string& error)
      -> std::vector<Observed> override;
  auto Execute(const plan::Action& action, ExecuteContext& context) -> ActionOutcome override;
  /// PruneUndesired on the clusters that `desired`, the state file in
  /// `paths` and this executor's actions name.
  auto AfterApply(const plan::Desired& desired, const ProjectPaths& paths, std::string& error)
      -> std::vector<std::string> override;
  auto Status(const plan::State& state, const ProjectPaths& paths, std::string& error)
      -> std::vector<EndpointStatus> override;
  auto Logs(const plan::State& state, const ProjectPaths& paths, std::string_view endpoint,
            std::string_view version, std::size_t lines, std::string& error)
      -> std::string override;
  auto ReadSecret(const plan::State& state, const ProjectPaths& paths, std::string_view endpoint,
                  std::string& error) -> std::optional<EndpointSecret> override;
  auto WriteSecret(const plan::State& state, const ProjectPaths& paths, std::string_view endpoint,
                   const EndpointSecret& secret, std::string& error) -> bool override;

  /// Deletes every object labelled app.kubernetes.io/managed-by=ferry and
  /// ferry.dev/project=`project` (of the kinds ferry writes, Secrets
  /// included, in any namespace, plus Namespaces) that `desired` does not
  /// ask for, on the clusters that `desired` and `recorded` (may be null)
  /// name: what an apply killed between kubectl and the state write left.
  /// Returns what it deleted ("Deployment faq-matching/faq-old on prod");
  /// `error` set when listing or deleting failed.
  auto PruneUndesired(std::string_view project, const plan::Desired& desired, std::string& error,
                      const plan::State* recorded = nullptr) -> std::vector<std::string>;

  /// The kubeconfig context the objects of `cluster` go to ("" = current).
  auto ContextFor(std::string_view cluster) -> std::string;

  /// The implementation's state (kubernetes_internal.h; not an API).
  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

/// The Kubernetes executor with `options`.
auto MakeKubernetesExecutor(KubernetesOptions options) -> std::unique_ptr<Executor>;

/// Flattens a JSON document into dotted attribute paths (lists as [i]) to the
/// canonical JSON of each scalar, as plan::Attributes hold rendered objects;
/// empty maps and lists are "{}" and "[]". Exposed for tests.
auto FlattenJson(std::string_view json_text, plan::Attributes& out) -> bool;

}  // namespace ferry::apply

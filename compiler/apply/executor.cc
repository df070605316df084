#include "compiler/apply/executor.h"

#include "compiler/apply/kubernetes_executor.h"
#include "compiler/apply/local_executor.h"

namespace ferry::apply {

auto MakeExecutor(plan::ExecutorKind kind) -> std::unique_ptr<Executor> {
  if (kind == plan::ExecutorKind::Kubernetes) return MakeKubernetesExecutor(KubernetesOptions{});
  return MakeLocalExecutor(LocalOptions{});
}

}  // namespace ferry::apply

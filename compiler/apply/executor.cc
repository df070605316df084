#include "compiler/apply/executor.h"

#include "compiler/apply/kubernetes_executor.h"
#include "compiler/apply/local_executor.h"

namespace ferry::apply {

auto RecordOf(const plan::Action& action,
              const std::map<std::string, std::string, std::less<>>& live) -> plan::ResourceState {
  plan::ResourceState record;
  record.address = action.address;
  record.type = action.type;
  if (action.desired) {
    record.hash = action.desired->hash;
    record.attributes = action.desired->attributes;
  }
  record.live = live;
  return record;
}

auto MakeExecutor(plan::ExecutorKind kind) -> std::unique_ptr<Executor> {
  if (kind == plan::ExecutorKind::Kubernetes) return MakeKubernetesExecutor(KubernetesOptions{});
  return MakeLocalExecutor(LocalOptions{});
}

}  // namespace ferry::apply

// Cluster rules: the VM size, the FAST_PROD and DEV_TEST sizing rules, the
// supported Kubernetes versions, attaching, and deploying to detached clusters.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "compiler/check/rules.h"
#include "compiler/support/suggest.h"

namespace ferry::check {
namespace {

void CheckVmSize(const Context& context, const ir::Cluster& cluster) {
  // An empty size was already reported by the schema as a missing field.
  if (cluster.vm_size.empty() || VmSizeOf(context, cluster) != nullptr) return;
  std::vector<std::string> names;
  for (const catalog::VmSize& size : context.catalog.vm_sizes()) names.push_back(size.name);
  const auto suggestion = support::Suggest(cluster.vm_size, names);
  const std::string fix = suggestion ? fmt::format("did you mean '{}'?", *suggestion)
                                     : "see stdlib/catalog/vm_sizes.yaml for the known sizes";
  context.sink.Add(diag::Code::kUnknownVmSize, cluster.origin.At("vm_size"),
                   cluster.origin.PathOf("vm_size"),
                   fmt::format("cluster '{}' uses VM size '{}', which is not in the catalog; {}",
                               cluster.name, cluster.vm_size, fix));
}

void CheckFastProd(const Context& context, const ir::Cluster& cluster,
                   const catalog::VmSize& size) {
  const std::int64_t minimum = context.catalog.defaults().fast_prod_min_vcpus;
  const std::int64_t total = cluster.agent_count * size.vcpus;
  if (total >= minimum) return;
  const std::int64_t needed = (minimum + size.vcpus - 1) / size.vcpus;
  context.sink.Add(
      diag::Code::kFastProdTooSmall, cluster.origin.At("agent_count"),
      cluster.origin.PathOf("agent_count"),
      fmt::format("cluster '{}' is FAST_PROD with {} × {} ({}) = {} vCPUs, fewer than "
                  "the {} required; use agent_count ≥ {} or a larger VM size",
                  cluster.name, cluster.agent_count, size.name,
                  Plural(static_cast<double>(size.vcpus), "vCPU"), total, minimum, needed));
}

void CheckDevTest(const Context& context, const ir::Cluster& cluster, const catalog::VmSize& size) {
  const bool created = !cluster.attach.has_value();
  if (created && cluster.agent_count != 1) {
    context.sink.Add(diag::Code::kDevTestNodeCount, cluster.origin.At("agent_count"),
                     cluster.origin.PathOf("agent_count"),
                     fmt::format("cluster '{}' is DEV_TEST and created by ferry, so it has one "
                                 "node, but agent_count is {}; set agent_count: 1 or attach an "
                                 "existing cluster",
                                 cluster.name, cluster.agent_count));
  }
  // A created DEV_TEST cluster has one node whatever agent_count says.
  const std::int64_t nodes = created ? 1 : cluster.agent_count;
  const std::int64_t total = nodes * size.vcpus;
  const std::int64_t recommended = context.catalog.defaults().dev_test_recommended_vcpus;
  if (total >= recommended) return;
  context.sink.Add(diag::Code::kDevTestFewVcpus, cluster.origin.At("vm_size"),
                   cluster.origin.PathOf("vm_size"),
                   fmt::format("cluster '{}' is DEV_TEST with {} in total ({} × {}); at least {} "
                               "are recommended; use a larger VM size",
                               cluster.name, Plural(static_cast<double>(total), "vCPU"), nodes,
                               size.name, recommended));
}

void CheckKubernetesVersion(const Context& context, const ir::Cluster& cluster) {
  // An unparsable version is the schema's E0105; an empty one its E0102.
  const auto version = catalog::ParseKubeVersion(cluster.kubernetes_version);
  if (!version) return;
  const bool attach = cluster.attach.has_value();
  const std::string_view provider = ir::ToString(cluster.provider);
  const auto range = context.catalog.KubernetesRange(provider, attach);
  if (!range || range->Contains(*version)) return;
  context.sink.Add(
      diag::Code::kKubernetesVersion, cluster.origin.At("kubernetes_version"),
      cluster.origin.PathOf("kubernetes_version"),
      fmt::format("cluster '{}' has Kubernetes {}, outside {}, the range supported for {} "
                  "'{}' clusters [source: {}]; use a version in that range",
                  cluster.name, cluster.kubernetes_version, range->ToString(),
                  attach ? "attached" : "created", provider, range->source));
}

// AKS resource ids are case-insensitive; other identifiers (kubeconfig
// contexts) are compared as written.
auto AttachKey(const ir::Cluster& cluster) -> std::string {
  std::string key = *cluster.attach;
  if (cluster.provider == ir::Provider::Aks) {
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  return fmt::format("{}:{}", ir::ToString(cluster.provider), key);
}

void CheckAttachedTwice(const Context& context) {
  std::vector<std::pair<std::string, const ir::Cluster*>> seen;
  for (const ir::Cluster& cluster : context.project.clusters) {
    // A detached cluster is no longer attached, so it cannot clash.
    if (!cluster.attach || cluster.attach->empty() || cluster.detached) continue;
    const std::string key = AttachKey(cluster);
    const auto first = std::find_if(seen.begin(), seen.end(),
                                    [&](const auto& entry) { return entry.first == key; });
    if (first == seen.end()) {
      seen.emplace_back(key, &cluster);
      continue;
    }
    const ir::Cluster& original = *first->second;
    diag::Diagnostic& d = context.sink.Add(
        diag::Code::kClusterAttachedTwice, cluster.origin.At("attach"),
        cluster.origin.PathOf("attach"),
        fmt::format("cluster '{}' attaches the same cluster as '{}'; each new attachment breaks "
                    "the previous one, so declare it once",
                    cluster.name, original.name));
    d.notes.push_back({fmt::format("cluster '{}' attaches it here", original.name),
                       original.origin.At("attach")});
  }
}

void CheckDetached(const Context& context) {
  for (const ir::Endpoint& endpoint : context.project.endpoints) {
    const ir::Cluster* cluster = ClusterOf(context, endpoint);
    if (cluster == nullptr || !cluster->detached) continue;
    diag::Diagnostic& d = context.sink.Add(
        diag::Code::kDetachedCluster, endpoint.origin.At("cluster"),
        endpoint.origin.PathOf("cluster"),
        fmt::format("endpoint '{}' is deployed to cluster '{}', which is detached; deploy it to "
                    "an attached cluster or attach '{}' again",
                    endpoint.name, cluster->name, cluster->name));
    d.notes.push_back({fmt::format("cluster '{}' is detached here", cluster->name),
                       cluster->origin.At("detached")});
  }
}

}  // namespace

void CheckClusters(const Context& context) {
  for (const ir::Cluster& cluster : context.project.clusters) {
    CheckVmSize(context, cluster);
    CheckKubernetesVersion(context, cluster);
    const catalog::VmSize* size = VmSizeOf(context, cluster);
    // agent_count < 1 was rejected by the schema; sizing needs both inputs.
    if (size == nullptr || cluster.agent_count < 1) continue;
    if (cluster.purpose == ir::Purpose::FastProd) {
      CheckFastProd(context, cluster, *size);
    } else {
      CheckDevTest(context, cluster, *size);
    }
  }
  CheckAttachedTwice(context);
  CheckDetached(context);
}

}  // namespace ferry::check

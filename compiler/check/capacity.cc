// Capacity rules: per-replica requests against one node, autoscaler
// settings, and the minimum replicas against the whole cluster.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "compiler/check/rules.h"

namespace ferry::check {
namespace {

auto DescribeNode(const catalog::VmSize& size) -> std::string {
  std::string text =
      fmt::format("{}: {}, {} GB", size.name, Plural(static_cast<double>(size.vcpus), "vCPU"),
                  FormatNumber(size.memory_gb));
  if (size.gpus > 0) {
    text += fmt::format(", {} {} GPU{}", size.gpus, size.gpu_model, size.gpus == 1 ? "" : "s");
  }
  return text;
}

void ReportNotPositive(const Context& context, const ir::Endpoint& endpoint,
                       const ir::Version& version, std::string_view field, double value,
                       std::string_view what) {
  const std::string nested = fmt::format("resources.{}", field);
  context.sink.Add(diag::Code::kResourceNotPositive, FieldAt(version.origin, nested, "resources"),
                   version.origin.PathOf(nested),
                   fmt::format("{} asks for {} {} per replica; it must be positive",
                               DescribeVersion(endpoint, version), FormatNumber(value), what));
}

void ReportExceedsNode(const Context& context, const ir::Endpoint& endpoint,
                       const ir::Version& version, const ir::Cluster& cluster,
                       const catalog::VmSize& size, std::string_view field, std::string amount) {
  const std::string nested = fmt::format("resources.{}", field);
  context.sink.Add(
      diag::Code::kResourceExceedsNode, FieldAt(version.origin, nested, "resources"),
      version.origin.PathOf(nested),
      fmt::format("{} asks for {} per replica, more than one node of cluster '{}' has ({}); "
                  "ask for less or use a larger VM size",
                  DescribeVersion(endpoint, version), amount, cluster.name, DescribeNode(size)));
}

void CheckResources(const Context& context, const ir::Endpoint& endpoint,
                    const ir::Version& version, const ir::Cluster* cluster,
                    const catalog::VmSize* size) {
  const ir::Resources& r = version.resources;
  if (r.cpu <= 0) ReportNotPositive(context, endpoint, version, "cpu", r.cpu, "CPU cores");
  if (r.memory_gb <= 0) {
    ReportNotPositive(context, endpoint, version, "memory_gb", r.memory_gb, "GB of memory");
  }
  if (cluster == nullptr || size == nullptr) return;
  if (r.cpu > static_cast<double>(size->vcpus)) {
    ReportExceedsNode(context, endpoint, version, *cluster, *size, "cpu",
                      Plural(r.cpu, "CPU core"));
  }
  if (r.memory_gb > size->memory_gb) {
    ReportExceedsNode(context, endpoint, version, *cluster, *size, "memory_gb",
                      fmt::format("{} GB of memory", FormatNumber(r.memory_gb)));
  }
  // A GPU target on a VM without GPUs is E0308; here the node has some.
  if (endpoint.target == ir::Target::Gpu && size->gpus > 0 && r.gpu > size->gpus) {
    context.sink.Add(
        diag::Code::kGpuRequestExceedsNode, FieldAt(version.origin, "resources.gpu", "resources"),
        version.origin.PathOf("resources.gpu"),
        fmt::format("{} asks for {} per replica, more than one node of cluster '{}' "
                    "has ({}); ask for fewer GPUs or use a VM size with more",
                    DescribeVersion(endpoint, version), Plural(static_cast<double>(r.gpu), "GPU"),
                    cluster->name, DescribeNode(*size)));
  }
}

void CheckMinMax(const Context& context, const ir::Endpoint& endpoint, const ir::Version& version,
                 std::string_view scaler, std::int64_t min, std::int64_t max) {
  if (min <= max) return;
  const std::string nested = fmt::format("{}.min_replicas", scaler);
  context.sink.Add(diag::Code::kAutoscaleMinMax, FieldAt(version.origin, nested, scaler),
                   version.origin.PathOf(nested),
                   fmt::format("{} has {} min_replicas {}, greater than max_replicas {}; raise "
                               "max_replicas or lower min_replicas",
                               DescribeVersion(endpoint, version), scaler, min, max));
}

void CheckAutoscalers(const Context& context, const ir::Endpoint& endpoint,
                      const ir::Version& version) {
  const ir::Autoscale& a = version.autoscale;
  CheckMinMax(context, endpoint, version, "autoscale", a.min_replicas, a.max_replicas);
  CheckMinMax(context, endpoint, version, "hpa", version.hpa.min_replicas,
              version.hpa.max_replicas);
  if (a.target_utilization < 1 || a.target_utilization > 100) {
    context.sink.Add(diag::Code::kAutoscaleTarget,
                     FieldAt(version.origin, "autoscale.target_utilization", "autoscale"),
                     version.origin.PathOf("autoscale.target_utilization"),
                     fmt::format("{} has autoscale target_utilization {}, outside 1..100 (the "
                                 "default is {})",
                                 DescribeVersion(endpoint, version), a.target_utilization,
                                 context.catalog.defaults().target_utilization));
  }
  if (a.enabled && version.hpa.enabled) {
    context.sink.Add(diag::Code::kTwoAutoscalers, version.origin.At("hpa"),
                     version.origin.PathOf("hpa"),
                     fmt::format("{} enables both ferry's autoscaler and a Kubernetes HPA, which "
                                 "would fight over the replica count; set autoscale: {{enabled: "
                                 "false}} or remove hpa",
                                 DescribeVersion(endpoint, version)));
  }
}

// The replicas a version runs at least: its autoscaler's minimum, else the
// fixed count.
auto MinimumReplicas(const ir::Version& version) -> std::int64_t {
  if (version.autoscale.enabled) return version.autoscale.min_replicas;
  if (version.hpa.enabled) return version.hpa.min_replicas;
  return version.replicas;
}

void CheckOvercommitted(const Context& context, std::size_t cluster_index) {
  const ir::Cluster& cluster = context.project.clusters[cluster_index];
  const catalog::VmSize* size = VmSizeOf(context, cluster);
  // Deploying to a detached cluster is E0309; its capacity no longer matters.
  if (size == nullptr || cluster.agent_count < 1 || cluster.detached) return;
  double needed = 0;
  std::vector<diag::Note> notes;
  for (const ir::Endpoint& endpoint : context.project.endpoints) {
    if (endpoint.cluster != static_cast<ir::Index>(cluster_index)) continue;
    for (const ir::Version& version : endpoint.versions) {
      // A request that is not positive or larger than a node is E0501/E0502.
      const double cpu = version.resources.cpu;
      if (cpu <= 0 || cpu > static_cast<double>(size->vcpus)) continue;
      const std::int64_t replicas = MinimumReplicas(version);
      needed += static_cast<double>(replicas) * version.resources.cpu;
      notes.push_back(
          {fmt::format("{} needs {} × {} = {}", DescribeVersion(endpoint, version), replicas,
                       Plural(version.resources.cpu, "core"),
                       FormatNumber(static_cast<double>(replicas) * version.resources.cpu)),
           version.origin.location});
    }
  }
  const std::int64_t available = cluster.agent_count * size->vcpus;
  if (needed <= static_cast<double>(available)) return;
  diag::Diagnostic& d = context.sink.Add(
      diag::Code::kClusterOvercommitted, cluster.origin.At("agent_count"),
      cluster.origin.PathOf("agent_count"),
      fmt::format("cluster '{}' has {} ({} × {}), but its versions need {} at their minimum "
                  "replicas; add nodes, use a larger VM size or lower the requests",
                  cluster.name, Plural(static_cast<double>(available), "vCPU"), cluster.agent_count,
                  size->name, Plural(needed, "core")));
  d.notes = std::move(notes);
}

}  // namespace

void CheckCapacity(const Context& context) {
  for (const ir::Endpoint& endpoint : context.project.endpoints) {
    const ir::Cluster* cluster = ClusterOf(context, endpoint);
    const catalog::VmSize* size = cluster == nullptr ? nullptr : VmSizeOf(context, *cluster);
    for (const ir::Version& version : endpoint.versions) {
      CheckResources(context, endpoint, version, cluster, size);
      CheckAutoscalers(context, endpoint, version);
    }
  }
  for (std::size_t i = 0; i < context.project.clusters.size(); ++i) CheckOvercommitted(context, i);
}

}  // namespace ferry::check

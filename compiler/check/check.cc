#include "compiler/check/check.h"

#include <fmt/format.h>

#include "compiler/check/rules.h"

namespace ferry::check {

void Check(const ir::Project& project, const catalog::Catalog& catalog,
           const ModelFileDigests& digests, diag::Sink& sink) {
  const Context context{project, catalog, sink};
  CheckClusters(context);
  CheckEndpoints(context);
  CheckAuth(context);
  CheckCapacity(context);
  CheckModels(context, digests);
  CheckServing(context);
  CheckStages(context, digests);
}

auto ClusterOf(const Context& context, const ir::Endpoint& endpoint) -> const ir::Cluster* {
  const auto& clusters = context.project.clusters;
  if (endpoint.cluster < 0 || static_cast<std::size_t>(endpoint.cluster) >= clusters.size()) {
    return nullptr;
  }
  return &clusters[static_cast<std::size_t>(endpoint.cluster)];
}

auto VmSizeOf(const Context& context, const ir::Cluster& cluster) -> const catalog::VmSize* {
  return context.catalog.FindVmSize(cluster.vm_size);
}

auto FormatNumber(double value) -> std::string { return fmt::format("{:g}", value); }

auto Plural(double count, std::string_view noun) -> std::string {
  return fmt::format("{} {}{}", FormatNumber(count), noun, count == 1 ? "" : "s");
}

auto DescribeVersion(const ir::Endpoint& endpoint, const ir::Version& version) -> std::string {
  return fmt::format("version '{}' of endpoint '{}'", version.name, endpoint.name);
}

auto FieldAt(const ir::Origin& origin, std::string_view nested, std::string_view field)
    -> const diag::Location& {
  if (origin.fields.contains(nested)) return origin.At(nested);
  return origin.At(field);
}

}  // namespace ferry::check

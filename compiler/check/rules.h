// Internal to check/: the rule groups Check runs, and the small helpers they
// share. Each group reports every violation of its rules; a rule skips
// anything whose inputs did not resolve (a kNone reference, an unknown VM
// size), which was already reported, so one mistake gives one error.
#pragma once

#include <string>
#include <string_view>

#include "compiler/catalog/catalog.h"
#include "compiler/check/check.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"

namespace ferry::check {

/// What every rule reads and where it reports.
struct Context {
  const ir::Project& project;
  const catalog::Catalog& catalog;
  diag::Sink& sink;
};

/// E0301, E0302, W0303, E0304, E0306, E0307, E0309.
void CheckClusters(const Context& context);
/// E0203, E0204, E0205, E0206, E0210, E0211, E0212, W0305.
void CheckEndpoints(const Context& context);
/// E0401, E0402, W0403.
void CheckAuth(const Context& context);
/// E0501, E0502, E0503, E0504, E0505, W0506, E0507.
void CheckCapacity(const Context& context);
/// E0308, E0601, E0602, W0603, W0604.
void CheckModels(const Context& context, const ModelFileDigests& digests);
/// E0508, E0509.
void CheckServing(const Context& context);
/// E0605, E0606.
void CheckStages(const Context& context, const ModelFileDigests& files);

/// The endpoint's cluster, or nullptr when the reference did not resolve.
auto ClusterOf(const Context& context, const ir::Endpoint& endpoint) -> const ir::Cluster*;
/// The cluster's VM size, or nullptr when it is not in the catalog (E0301).
auto VmSizeOf(const Context& context, const ir::Cluster& cluster) -> const catalog::VmSize*;

/// A number as people write it: 20, 0.5, 33.3 (at most 6 significant digits).
auto FormatNumber(double value) -> std::string;
/// "1 vCPU", "2 vCPUs": `count` and `noun`, plural unless the count is 1.
auto Plural(double count, std::string_view noun) -> std::string;
/// "version 'a' of endpoint 'faq'".
auto DescribeVersion(const ir::Endpoint& endpoint, const ir::Version& version) -> std::string;
/// The location of the first of `fields` written in the file (a nested
/// field may be recorded as "resources.cpu"), else of the declaration.
auto FieldAt(const ir::Origin& origin, std::string_view nested, std::string_view field)
    -> const diag::Location&;

}  // namespace ferry::check

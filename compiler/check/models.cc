// Model and environment rules: accelerators the target needs, model files
// and their digests, and declarations nothing uses.
#include <fmt/format.h>

#include <set>
#include <string>
#include <utility>

#include "compiler/check/rules.h"

namespace ferry::check {
namespace {

// The smallest size of each family that has the device, in catalog order,
// as examples for the fix.
auto SizesWithDevice(const catalog::Catalog& catalog, bool gpu) -> std::string {
  std::string names;
  std::set<std::string> families;
  for (const catalog::VmSize& size : catalog.vm_sizes()) {
    if ((gpu ? size.gpus : size.fpgas) == 0 || !families.insert(size.family).second) continue;
    if (!names.empty()) names += ", ";
    names += size.name;
  }
  return names;
}

void CheckAccelerator(const Context& context, const ir::Endpoint& endpoint) {
  if (endpoint.target == ir::Target::Cpu) return;
  const ir::Cluster* cluster = ClusterOf(context, endpoint);
  const catalog::VmSize* size = cluster == nullptr ? nullptr : VmSizeOf(context, *cluster);
  if (size == nullptr) return;
  const bool gpu = endpoint.target == ir::Target::Gpu;
  if ((gpu ? size->gpus : size->fpgas) > 0) return;
  const std::string_view device = gpu ? "GPU" : "FPGA";
  context.sink.Add(
      diag::Code::kAcceleratorMissing, endpoint.origin.At("target"),
      endpoint.origin.PathOf("target"),
      fmt::format("endpoint '{}' targets {}, but cluster '{}' uses {}, which has no {}; deploy it "
                  "to a cluster created with {} VM size (a node pool added later is not "
                  "supported), such as {}",
                  endpoint.name, ir::ToString(endpoint.target), cluster->name, size->name, device,
                  gpu ? "a GPU" : "an FPGA", SizesWithDevice(context.catalog, gpu)));
}

void CheckModelFile(const Context& context, const ir::Model& model, const ir::ModelVersion& version,
                    const ModelFileDigests& digests) {
  const auto found = digests.find(version.path);
  // The driver gathers every path; a missing entry means nothing was read.
  if (version.path.empty() || found == digests.end()) return;
  if (!found->second) {
    context.sink.Add(diag::Code::kModelFileMissing, version.origin.At("path"),
                     version.origin.PathOf("path"),
                     fmt::format("model '{}' version {}: cannot read '{}' (paths are relative to "
                                 "the manifest's folder)",
                                 model.name, version.version, version.path));
    return;
  }
  if (version.sha256.empty() || *found->second == version.sha256) return;
  context.sink.Add(diag::Code::kModelChecksum, version.origin.At("sha256"),
                   version.origin.PathOf("sha256"),
                   fmt::format("model '{}' version {}: '{}' has sha256 {}, not the one declared; "
                               "if the file changed on purpose, declare the new digest",
                               model.name, version.version, version.path, *found->second));
}

// What the endpoints use. A reference that did not resolve (E0201, E0202,
// E0207) may have meant any declaration, so nothing it could have meant is
// reported unused.
struct Uses {
  std::set<std::pair<ir::Index, ir::Index>> model_versions;
  std::set<ir::Index> models_with_unresolved_version;
  bool unresolved_model = false;
  std::set<ir::Index> environments;
  bool unresolved_environment = false;
};

auto CollectUses(const ir::Project& project) -> Uses {
  Uses uses;
  for (const ir::Endpoint& endpoint : project.endpoints) {
    for (const ir::Version& version : endpoint.versions) {
      // No models at all: the schema rejected the reference (model or
      // models is required), so it is unknown what it meant.
      if (version.models.empty()) uses.unresolved_model = true;
      for (const ir::ModelRef& ref : version.models) {
        uses.model_versions.emplace(ref.model, ref.version);
        if (ref.model == ir::kNone) uses.unresolved_model = true;
        if (ref.version == ir::kNone) uses.models_with_unresolved_version.insert(ref.model);
      }
      uses.environments.insert(version.environment);
      if (version.environment == ir::kNone && !version.environment_name.empty()) {
        uses.unresolved_environment = true;
      }
    }
  }
  return uses;
}

void CheckUnused(const Context& context) {
  const ir::Project& project = context.project;
  const Uses uses = CollectUses(project);
  for (std::size_t m = 0; m < project.models.size() && !uses.unresolved_model; ++m) {
    const ir::Model& model = project.models[m];
    if (uses.models_with_unresolved_version.contains(static_cast<ir::Index>(m))) continue;
    for (std::size_t v = 0; v < model.versions.size(); ++v) {
      if (uses.model_versions.contains({static_cast<ir::Index>(m), static_cast<ir::Index>(v)})) {
        continue;
      }
      const ir::ModelVersion& version = model.versions[v];
      context.sink.Add(diag::Code::kUnusedModel, version.origin.location, version.origin.path,
                       fmt::format("model '{}' version {} is declared but no endpoint deploys "
                                   "it; deploy it or remove it",
                                   model.name, version.version));
    }
  }
  for (std::size_t e = 0; e < project.environments.size() && !uses.unresolved_environment; ++e) {
    if (uses.environments.contains(static_cast<ir::Index>(e))) continue;
    const ir::Environment& environment = project.environments[e];
    context.sink.Add(diag::Code::kUnusedEnvironment, environment.origin.location,
                     environment.origin.path,
                     fmt::format("environment '{}' is declared but no version uses it; use it or "
                                 "remove it",
                                 environment.name));
  }
}

}  // namespace

void CheckModels(const Context& context, const ModelFileDigests& digests) {
  for (const ir::Endpoint& endpoint : context.project.endpoints)
    CheckAccelerator(context, endpoint);
  for (const ir::Model& model : context.project.models) {
    for (const ir::ModelVersion& version : model.versions) {
      CheckModelFile(context, model, version, digests);
    }
  }
  CheckUnused(context);
}

}  // namespace ferry::check

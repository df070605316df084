// Internal to compiler/plan's desired resources (resources.cc, for both
// executors, and kubernetes_resources.cc): how a resource is built from a
// document, and the Kubernetes executor's resources.
#pragma once

#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/plan/resources.h"
#include "compiler/render/render.h"
#include "compiler/support/value.h"

namespace ferry::plan {

/// Adds `value` to `attributes` as flat fields under `prefix`: map entries as
/// "prefix.key", list items as "prefix[i]", scalars (and empty maps and
/// lists) as their canonical JSON.
void Flatten(const support::Value& value, const std::string& prefix, Attributes& attributes);

/// A resource at `address` whose attributes are `document` flattened; the
/// hash is filled in by DesiredResources once every resource is made.
auto MakeResource(std::string address, const support::Value& document,
                  std::vector<std::string> depends_on, diag::Location location) -> Resource;

/// The kubernetes executor's resources besides the clusters: one per rendered
/// object (kubernetes/<cluster>/*.yaml) and one per endpoint's auth Secret.
void AddKubernetes(const ir::Project& project, const render::RenderResult& rendered,
                   std::vector<Resource>& out);

}  // namespace ferry::plan

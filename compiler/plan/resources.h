// The desired resources: what a checked, rendered project asks an executor to
// run, one Resource per thing that is created, updated or deleted on its own.
// Pure: the same project and render give the same resources and hashes.
//
// Addresses (stable, sorted, what plans and state files name):
//   cluster.<cluster>                 a cluster's declaration (both executors record it; the
//                                     VM-size rule reads it)
//   bundle.<endpoint>.<version>       a scoring bundle (local: built into the cache)
//   secret.<endpoint>                 the endpoint's keys or token signing key (auth key|token)
//   router                            local: the router process of the project
//   version.<endpoint>.<version>      local: a version's replicas (routes.yaml entry)
//   traffic.<endpoint>                local: the endpoint's path, auth and resolved weights
//   object.<cluster>.<Kind>.<name>    kubernetes: one rendered object (kubernetes/<cluster>/*.yaml)
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/render/render.h"

namespace ferry::plan {

enum class ExecutorKind { Local, Kubernetes };
auto ToString(ExecutorKind kind) -> std::string_view;  ///< "local" | "kubernetes"

/// Flat attributes: a dotted field path ("autoscale.min_replicas",
/// "spec.template.spec.containers[0].image") to the canonical JSON of its
/// scalar value ("3", "\"abc\"", "true"). What field-level diffs compare.
using Attributes = std::map<std::string, std::string, std::less<>>;

struct Resource {
  std::string address;  ///< see the file comment
  std::string type;     ///< the address's first part: "cluster", "bundle", "secret", ...
  Attributes attributes;
  /// Addresses this one needs first (created before it, deleted after it).
  std::vector<std::string> depends_on;
  /// sha256 (hex) of the canonical JSON of {type, attributes}: what change detection compares.
  std::string hash;
  /// Where the resource is declared in the manifest (for plan errors).
  diag::Location location;
};

/// Everything a plan is computed from, on the desired side.
struct Desired {
  std::string project;
  ExecutorKind executor = ExecutorKind::Local;
  std::vector<Resource> resources;  ///< sorted by address
  /// sha256 over every resource's address and hash: a saved plan is stale
  /// when the inputs' value differs at apply time.
  std::string inputs_sha256;
};

/// The resources `project` (checked, rendered as `rendered`) asks `executor` for.
auto DesiredResources(const ir::Project& project, const render::RenderResult& rendered,
                      ExecutorKind executor) -> Desired;

/// The resource at `address`, or nullptr.
auto FindResource(const Desired& desired, std::string_view address) -> const Resource*;

/// sha256 of the canonical JSON of {type, attributes}.
auto HashAttributes(std::string_view type, const Attributes& attributes) -> std::string;

}  // namespace ferry::plan

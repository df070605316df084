// Stage 3: YAML tree -> typed IR. Applies defaults, resolves every reference
// (model@version, environment, cluster) with "did you mean" suggestions, and
// resolves each endpoint's traffic split.
#pragma once

#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/manifest/schema.h"
#include "compiler/manifest/yaml_tree.h"

namespace ferry::manifest {

/// Builds the project from a schema-validated document. Nodes in `invalid`
/// were already reported and are skipped silently (their fields keep their
/// defaults, references to them stay unresolved). Reports E0201, E0202,
/// E0207, E0208, E0209 (references); the domain rules are check's job.
auto BuildProject(const Document& document, const InvalidNodes& invalid, diag::Sink& sink)
    -> ir::Project;

}  // namespace ferry::manifest

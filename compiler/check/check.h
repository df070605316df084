// Stage 4: the domain rules of DOMAIN.md over the typed IR. Every rule
// reports all its violations, each at the node that caused it.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"

namespace ferry::check {

/// What the edge found for each file the project names (model files, an
/// endpoint's labels and calibration files), keyed by the path as written in
/// the manifest: its sha256, or nullopt when it could not be read. Gathered
/// by the driver so checking stays a pure function.
using ModelFileDigests = std::map<std::string, std::optional<std::string>>;

/// Runs every check. Rules are grouped by subject in clusters.cc,
/// endpoints.cc, auth.cc, capacity.cc, models.cc, serving.cc and stages.cc.
void Check(const ir::Project& project, const catalog::Catalog& catalog,
           const ModelFileDigests& digests, diag::Sink& sink);

}  // namespace ferry::check

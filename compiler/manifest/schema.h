// Stage 2: YAML tree -> shape diagnostics, against schemas/ferry.schema.json
// (through valijson), each reported at the offending node.
#pragma once

#include <string_view>
#include <unordered_set>

#include "compiler/diag/diagnostic.h"
#include "compiler/manifest/yaml_tree.h"

namespace ferry::manifest {

/// Nodes the schema rejected. Later stages skip them (and anything below
/// them) instead of piling follow-on errors on a bad node.
using InvalidNodes = std::unordered_set<const Node*>;

/// Validates `document` against the embedded manifest schema. Adds one
/// diagnostic per problem (E0101 type, E0102 missing field, E0103 unknown
/// field with a "did you mean", E0104 value not in an enum, E0105 pattern or
/// form, E0106 format version) at the position of the offending node — for a
/// missing field, the mapping that lacks it — and returns the rejected nodes.
auto ValidateSchema(const Document& document, diag::Sink& sink) -> InvalidNodes;

/// Validates against a schema given as text (for tests).
auto ValidateSchema(const Document& document, std::string_view schema_json, diag::Sink& sink)
    -> InvalidNodes;

}  // namespace ferry::manifest

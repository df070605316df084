// The YAML tree as JSON (for the schema validator and the scoring samples),
// and the way back from a JSON position to the node it came from.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "compiler/manifest/yaml_tree.h"

namespace ferry::manifest {

/// The node as JSON with typed scalars from its NodeKind. Mapping keys use
/// their text; when two keys have the same text (3 and "3") the first wins.
auto ToJson(const Node& node) -> nlohmann::json;

/// The node reached from `root` by `steps` (mapping keys, or sequence
/// indices in decimal), matching ToJson's choice of the first key; nullptr
/// when there is none.
auto NodeAt(const Node* root, std::span<const std::string> steps) -> const Node*;

/// The key node of `key` in `mapping` (the first with that text), or nullptr.
auto KeyNodeOf(const Node* mapping, std::string_view key) -> const Node*;

/// The value node of `key` in `mapping` (the first with that text), or nullptr.
auto ValueOf(const Node* mapping, std::string_view key) -> const Node*;

}  // namespace ferry::manifest

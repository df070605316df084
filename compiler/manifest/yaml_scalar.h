// YAML 1.2 core-schema resolution of scalars, shared by the loader and its
// tests. Internal to the manifest stage.
#pragma once

#include <optional>
#include <string_view>

#include "compiler/manifest/yaml_tree.h"

namespace ferry::manifest::detail {

/// The core-schema kind of a plain (untagged, unquoted) scalar.
auto ResolvePlain(std::string_view text) -> NodeKind;

/// Whether `text` is a valid value for an explicitly tagged scalar of `kind`
/// (e.g. "12" for !!int); String accepts everything.
auto MatchesKind(NodeKind kind, std::string_view text) -> bool;

/// The kind named by a scalar's explicit core tag ("tag:yaml.org,2002:int"),
/// or nullopt for any other tag.
auto CoreTagKind(std::string_view tag) -> std::optional<NodeKind>;

/// A tag as the user wrote it: "tag:yaml.org,2002:int" -> "!!int".
auto ShortTag(std::string_view tag) -> std::string;

}  // namespace ferry::manifest::detail

// Stage 1: manifest text -> YAML tree with positions.
#pragma once

#include <optional>
#include <string_view>

#include "compiler/diag/diagnostic.h"
#include "compiler/manifest/yaml_tree.h"

namespace ferry::manifest {

/// Limits that keep hostile input cheap.
struct LoadLimits {
  /// Maximum number of nodes after expanding aliases (stops "billion laughs").
  std::size_t max_expanded_nodes = 1'000'000;
  /// Maximum nesting depth.
  std::size_t max_depth = 256;
};

/// Parses `text` (the contents of `file`) into a Document. Every problem is
/// added to `sink` with its position: invalid UTF-8 (E0006), tab indentation
/// (E0004), syntax errors (E0002, one error, never a crash), duplicate keys
/// (E0003), aliases that cycle (E0005) or expand too far (E0008), tags,
/// non-scalar keys and several documents (E0007), an empty file (E0009).
/// Returns nullopt when the text cannot be turned into a tree; a Document
/// may still be returned alongside recoverable errors (e.g. duplicate keys:
/// the first occurrence is kept).
auto LoadYaml(std::string_view file, std::string_view text, diag::Sink& sink,
              const LoadLimits& limits = {}) -> std::optional<Document>;

}  // namespace ferry::manifest

// Reading the manifest schema at a position of the document: which
// subschemas apply there and what they allow, so schema diagnostics can name
// the allowed fields, types and values and explain the expected form.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compiler/manifest/yaml_tree.h"

namespace ferry::manifest {

/// The subschemas that apply at one position: `$ref`s followed and
/// oneOf/anyOf/allOf branches flattened, the outermost first.
class SchemaFacets {
 public:
  SchemaFacets() = default;
  explicit SchemaFacets(std::vector<const nlohmann::json*> facets) : facets_(std::move(facets)) {}

  /// The facets at the value of `step` (a key, or an index when `in_sequence`).
  auto Child(const nlohmann::json& root, std::string_view step, bool in_sequence) const
      -> SchemaFacets;

  /// Every JSON type allowed here ("string", "object", ...); empty: any.
  auto Types() const -> std::vector<std::string>;
  /// The allowed values of the first `enum`, if any.
  auto EnumValues() const -> std::vector<std::string>;
  /// The union of every `properties` name, in schema order.
  auto Properties() const -> std::vector<std::string>;
  /// The first value of `keyword` among the facets (e.g. "title", "minimum").
  auto First(std::string_view keyword) const -> const nlohmann::json*;
  /// Groups of fields of which exactly one is required (oneOf of `required`).
  auto Alternatives() const -> std::vector<std::vector<std::string>>;
  /// "(required when 'plugin' is 'azure_cni')" when an if/then asks for
  /// `field`, else "".
  auto ConditionFor(std::string_view field) const -> std::string;

  auto empty() const -> bool { return facets_.empty(); }

 private:
  std::vector<const nlohmann::json*> facets_;
};

/// The facets of the schema's root.
auto RootFacets(const nlohmann::json& root) -> SchemaFacets;

/// The facets at `steps` from the root, walking `document_root` alongside to
/// tell sequence indices from keys.
auto FacetsAt(const nlohmann::json& root, const Node* document_root,
              std::span<const std::string> steps) -> SchemaFacets;

}  // namespace ferry::manifest

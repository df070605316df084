#include "compiler/manifest/schema_lookup.h"

#include <algorithm>

#include "compiler/manifest/to_json.h"

namespace ferry::manifest {
namespace {

using nlohmann::json;

// Only local references ("#/definitions/x") occur in ferry's schema.
auto Resolve(const json& root, const json& schema) -> const json* {
  const json* current = &schema;
  for (int hops = 0; hops < 16 && current->is_object() && current->contains("$ref"); ++hops) {
    const json& ref = (*current)["$ref"];
    if (!ref.is_string()) return nullptr;
    std::string pointer = ref.get<std::string>();
    if (pointer.rfind('#', 0) != 0) return nullptr;
    pointer.erase(0, 1);
    const json::json_pointer path(pointer);
    if (!root.contains(path)) return nullptr;
    current = &root.at(path);
  }
  return current;
}

void Expand(const json& root, const json& schema, std::vector<const json*>& out, int depth) {
  if (depth > 16 || !schema.is_object()) return;
  // A $ref's siblings (title, description) are for editors; keep them too.
  out.push_back(&schema);
  const json* target = Resolve(root, schema);
  if (target != nullptr && target != &schema) Expand(root, *target, out, depth + 1);
  for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
    auto it = schema.find(keyword);
    if (it == schema.end() || !it->is_array()) continue;
    for (const json& branch : *it) Expand(root, branch, out, depth + 1);
  }
}

auto Facets(const json& root, const json& schema) -> std::vector<const json*> {
  std::vector<const json*> out;
  Expand(root, schema, out, 0);
  return out;
}

void AddUnique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

}  // namespace

auto SchemaFacets::Child(const json& root, std::string_view step, bool in_sequence) const
    -> SchemaFacets {
  std::vector<const json*> out;
  for (const json* facet : facets_) {
    const json* child = nullptr;
    if (in_sequence) {
      auto items = facet->find("items");
      if (items != facet->end() && items->is_object()) child = &*items;
    } else {
      auto properties = facet->find("properties");
      auto additional = facet->find("additionalProperties");
      if (properties != facet->end() && properties->contains(std::string(step))) {
        child = &(*properties)[std::string(step)];
      } else if (additional != facet->end() && additional->is_object()) {
        child = &*additional;
      }
    }
    if (child != nullptr) {
      for (const json* expanded : Facets(root, *child)) out.push_back(expanded);
    }
  }
  return SchemaFacets(std::move(out));
}

auto SchemaFacets::Types() const -> std::vector<std::string> {
  std::vector<std::string> types;
  for (const json* facet : facets_) {
    auto it = facet->find("type");
    if (it == facet->end()) continue;
    if (it->is_string()) AddUnique(types, it->get<std::string>());
    if (it->is_array()) {
      for (const json& type : *it) {
        if (type.is_string()) AddUnique(types, type.get<std::string>());
      }
    }
  }
  return types;
}

auto SchemaFacets::EnumValues() const -> std::vector<std::string> {
  std::vector<std::string> values;
  const json* values_json = First("enum");
  if (values_json == nullptr || !values_json->is_array()) return values;
  for (const json& value : *values_json) {
    values.push_back(value.is_string() ? value.get<std::string>() : value.dump());
  }
  return values;
}

auto SchemaFacets::Properties() const -> std::vector<std::string> {
  std::vector<std::string> names;
  for (const json* facet : facets_) {
    auto it = facet->find("properties");
    if (it == facet->end() || !it->is_object()) continue;
    for (auto property = it->begin(); property != it->end(); ++property) {
      AddUnique(names, property.key());
    }
  }
  return names;
}

auto SchemaFacets::First(std::string_view keyword) const -> const json* {
  for (const json* facet : facets_) {
    auto it = facet->find(std::string(keyword));
    if (it != facet->end()) return &*it;
  }
  return nullptr;
}

auto SchemaFacets::Alternatives() const -> std::vector<std::vector<std::string>> {
  std::vector<std::vector<std::string>> groups;
  for (const json* facet : facets_) {
    auto one_of = facet->find("oneOf");
    if (one_of == facet->end() || !one_of->is_array()) continue;
    std::vector<std::string> group;
    for (const json& branch : *one_of) {
      auto required = branch.find("required");
      if (branch.size() != 1 || required == branch.end() || required->size() != 1) break;
      group.push_back((*required)[0].get<std::string>());
    }
    if (group.size() == one_of->size() && !group.empty()) groups.push_back(std::move(group));
  }
  return groups;
}

auto SchemaFacets::ConditionFor(std::string_view field) const -> std::string {
  for (const json* facet : facets_) {
    auto condition = facet->find("if");
    auto then = facet->find("then");
    if (condition == facet->end() || then == facet->end()) continue;
    const json required = then->value("required", json::array());
    if (std::find(required.begin(), required.end(), json(field)) == required.end()) continue;
    const json properties = condition->value("properties", json::object());
    for (auto it = properties.begin(); it != properties.end(); ++it) {
      if (!it->contains("const")) continue;
      const json& value = (*it)["const"];
      return " (required when '" + it.key() + "' is '" +
             (value.is_string() ? value.get<std::string>() : value.dump()) + "')";
    }
  }
  return "";
}

auto RootFacets(const json& root) -> SchemaFacets { return SchemaFacets(Facets(root, root)); }

auto FacetsAt(const json& root, const Node* document_root, std::span<const std::string> steps)
    -> SchemaFacets {
  SchemaFacets facets = RootFacets(root);
  const Node* node = document_root;
  for (const std::string& step : steps) {
    const bool in_sequence = node != nullptr && node->kind == NodeKind::Sequence;
    facets = facets.Child(root, step, in_sequence);
    node = NodeAt(node, std::span<const std::string>(&step, 1));
  }
  return facets;
}

}  // namespace ferry::manifest

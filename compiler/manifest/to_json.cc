#include "compiler/manifest/to_json.h"

#include <charconv>

namespace ferry::manifest {
namespace {

auto FindEntry(const Node* mapping, std::string_view key) -> const Entry* {
  if (mapping == nullptr || mapping->kind != NodeKind::Mapping) return nullptr;
  for (const Entry& entry : mapping->entries) {
    if (entry.key != nullptr && entry.key->text == key) return &entry;
  }
  return nullptr;
}

}  // namespace

auto ToJson(const Node& node) -> nlohmann::json {
  switch (node.kind) {
    case NodeKind::Null:
      return nullptr;
    case NodeKind::Bool:
      return node.AsBool();
    case NodeKind::Int:
      return node.AsInt();
    case NodeKind::Float:
      return node.AsDouble();
    case NodeKind::String:
      return node.text;
    case NodeKind::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const Node* item : node.items) array.push_back(ToJson(*item));
      return array;
    }
    case NodeKind::Mapping: {
      nlohmann::json object = nlohmann::json::object();
      for (const Entry& entry : node.entries) {
        if (object.contains(entry.key->text)) continue;
        object[entry.key->text] = ToJson(*entry.value);
      }
      return object;
    }
  }
  return nullptr;
}

auto NodeAt(const Node* root, std::span<const std::string> steps) -> const Node* {
  const Node* node = root;
  for (const std::string& step : steps) {
    if (node == nullptr) return nullptr;
    if (node->kind == NodeKind::Sequence) {
      std::size_t index = 0;
      auto [end, error] = std::from_chars(step.data(), step.data() + step.size(), index);
      if (error != std::errc() || end != step.data() + step.size() || index >= node->items.size()) {
        return nullptr;
      }
      node = node->items[index];
    } else {
      node = ValueOf(node, step);
    }
  }
  return node;
}

auto KeyNodeOf(const Node* mapping, std::string_view key) -> const Node* {
  const Entry* entry = FindEntry(mapping, key);
  return entry == nullptr ? nullptr : entry->key;
}

auto ValueOf(const Node* mapping, std::string_view key) -> const Node* {
  const Entry* entry = FindEntry(mapping, key);
  return entry == nullptr ? nullptr : entry->value;
}

}  // namespace ferry::manifest

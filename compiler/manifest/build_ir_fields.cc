#include "compiler/manifest/build_ir_fields.h"

#include "compiler/manifest/to_json.h"

namespace ferry::manifest {

auto FieldReader::Written(std::string_view name) const -> const Node* {
  const Node* value = ValueOf(mapping_, name);
  if (value == nullptr) return nullptr;
  origin_.fields.insert_or_assign(prefix_ + std::string(name), context_.document.LocationOf(value));
  return value;
}

auto FieldReader::Get(std::string_view name) const -> const Node* {
  const Node* value = Written(name);
  return context_.IsInvalid(value) ? nullptr : value;
}

void FieldReader::String(std::string_view name, std::string& out) const {
  const Node* value = Get(name);
  if (value != nullptr && value->kind == NodeKind::String) out = value->text;
}

void FieldReader::Number(std::string_view name, double& out) const {
  const Node* value = Get(name);
  if (value != nullptr && value->IsNumber()) out = value->AsDouble();
}

void FieldReader::Integer(std::string_view name, std::int64_t& out) const {
  const Node* value = Get(name);
  if (value != nullptr && value->kind == NodeKind::Int) out = value->AsInt();
}

void FieldReader::Boolean(std::string_view name, bool& out) const {
  const Node* value = Get(name);
  if (value != nullptr && value->kind == NodeKind::Bool) out = value->AsBool();
}

void FieldReader::StringList(std::string_view name, std::vector<std::string>& out) const {
  const Node* value = Get(name);
  if (value == nullptr || value->kind != NodeKind::Sequence) return;
  for (const Node* item : value->items) {
    if (item->kind == NodeKind::String && !context_.IsInvalid(item)) out.push_back(item->text);
  }
}

void FieldReader::StringMap(std::string_view name, std::map<std::string, std::string>& out) const {
  const Node* value = Get(name);
  if (value == nullptr || value->kind != NodeKind::Mapping) return;
  for (const Entry& entry : value->entries) {
    if (entry.value->kind == NodeKind::String && !context_.IsInvalid(entry.value)) {
      out.emplace(entry.key->text, entry.value->text);
    }
  }
}

auto FieldReader::Nested(std::string_view name) const -> FieldReader {
  const Node* value = Get(name);
  const Node* mapping = value != nullptr && value->kind == NodeKind::Mapping ? value : nullptr;
  return FieldReader(context_, mapping, origin_, prefix_ + std::string(name) + ".");
}

auto IsPoisoned(const std::set<std::string, std::less<>>& poisoned, std::string_view name) -> bool {
  return poisoned.contains(name) || poisoned.contains(kEverything);
}

auto OriginOf(const BuildContext& context, const Node* at, std::string path) -> ir::Origin {
  ir::Origin origin;
  origin.location = context.document.LocationOf(at);
  origin.path = std::move(path);
  return origin;
}

void ForEachDeclared(
    const BuildContext& context, const Node* table, std::set<std::string, std::less<>>& poisoned,
    const std::function<void(const std::string&, const Node*, const Node*)>& build) {
  if (table == nullptr) return;
  if (context.IsInvalid(table) || table->kind != NodeKind::Mapping) {
    poisoned.insert(std::string(kEverything));
    return;
  }
  for (const Entry& entry : table->entries) {
    if (context.IsInvalid(entry.key) || context.IsInvalid(entry.value) ||
        entry.value->kind != NodeKind::Mapping) {
      poisoned.insert(entry.key->text);
      continue;
    }
    build(entry.key->text, entry.key, entry.value);
  }
}

}  // namespace ferry::manifest

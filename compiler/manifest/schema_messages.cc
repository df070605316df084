#include "compiler/manifest/schema_messages.h"

#include <cctype>

namespace ferry::manifest {
namespace {

auto Quoted(const std::string& name) -> std::string { return "'" + name + "'"; }

// Names of the entities that sit at a fixed depth under a top-level table.
auto NamedEntity(std::span<const std::string> steps) -> std::string {
  const std::string& table = steps[0];
  if (steps.size() == 2) {
    if (table == "models") return "model " + Quoted(steps[1]);
    if (table == "environments") return "environment " + Quoted(steps[1]);
    if (table == "clusters") return "cluster " + Quoted(steps[1]);
    if (table == "endpoints") return "endpoint " + Quoted(steps[1]);
  }
  if (steps.size() == 4 && steps[2] == "versions") {
    if (table == "models") return "version " + steps[3] + " of model " + Quoted(steps[1]);
    if (table == "endpoints") return "endpoint version " + Quoted(steps[3]);
  }
  return "";
}

}  // namespace

auto DottedPath(std::span<const std::string> steps) -> std::string {
  std::string path;
  for (const std::string& step : steps) {
    if (!path.empty()) path += '.';
    path += step;
  }
  return path;
}

auto EntityName(std::span<const std::string> steps) -> std::string {
  if (steps.empty()) return "the manifest";
  if (steps.size() == 1) return "the " + steps[0];
  if (std::string named = NamedEntity(steps); !named.empty()) return named;
  return "the " + steps.back() + " of " + EntityName(steps.first(steps.size() - 1));
}

auto FieldLabel(std::span<const std::string> steps) -> std::string {
  if (steps.empty()) return "the manifest";
  // A list item is named with its list: 'steps.0'.
  std::size_t first = steps.size() - 1;
  while (first > 0 && !steps[first].empty() &&
         std::isdigit(static_cast<unsigned char>(steps[first][0]))) {
    --first;
  }
  return Quoted(DottedPath(steps.subspan(first)));
}

auto JsonTypeName(std::string_view type) -> std::string {
  if (type == "string") return "a string";
  if (type == "integer") return "an integer";
  if (type == "number") return "a number";
  if (type == "boolean") return "true or false";
  if (type == "object") return "a mapping";
  if (type == "array") return "a list";
  if (type == "null") return "null";
  return std::string(type);
}

auto JsonTypeOf(const Node& node) -> std::string {
  switch (node.kind) {
    case NodeKind::Null:
      return "null";
    case NodeKind::Bool:
      return "boolean";
    case NodeKind::Int:
      return "integer";
    case NodeKind::Float:
      return "number";
    case NodeKind::String:
      return "string";
    case NodeKind::Sequence:
      return "array";
    case NodeKind::Mapping:
      return "object";
  }
  return "null";
}

auto JoinAlternatives(const std::vector<std::string>& words, std::string_view last) -> std::string {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? std::string(last) : std::string(", ");
    out += words[i];
  }
  return out;
}

auto Quote(std::string_view text) -> std::string {
  constexpr std::size_t kMax = 40;
  if (text.size() <= kMax) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kMax - 3)) + "...'";
}

auto TitleNoun(std::string_view title) -> std::string {
  std::string noun(title);
  const bool acronym = noun.size() > 1 && std::isupper(static_cast<unsigned char>(noun[1]));
  if (!noun.empty() && !acronym)
    noun[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(noun[0])));
  return noun;
}

}  // namespace ferry::manifest

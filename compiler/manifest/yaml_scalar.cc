#include "compiler/manifest/yaml_scalar.h"

#include <algorithm>
#include <initializer_list>
#include <string>

namespace ferry::manifest::detail {
namespace {

constexpr std::string_view kCoreTagPrefix = "tag:yaml.org,2002:";

auto IsOneOf(std::string_view text, std::initializer_list<std::string_view> words) -> bool {
  return std::find(words.begin(), words.end(), text) != words.end();
}

auto IsDigits(std::string_view text, std::string_view alphabet) -> bool {
  return !text.empty() && text.find_first_not_of(alphabet) == std::string_view::npos;
}

auto DropSign(std::string_view text) -> std::string_view {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  return text;
}

auto IsNull(std::string_view text) -> bool {
  return IsOneOf(text, {"", "~", "null", "Null", "NULL"});
}

auto IsBool(std::string_view text) -> bool {
  return IsOneOf(text, {"true", "True", "TRUE", "false", "False", "FALSE"});
}

// [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+
auto IsInt(std::string_view text) -> bool {
  if (text.starts_with("0o")) return IsDigits(text.substr(2), "01234567");
  if (text.starts_with("0x")) return IsDigits(text.substr(2), "0123456789abcdefABCDEF");
  return IsDigits(DropSign(text), "0123456789");
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? | [-+]?\.inf | \.nan
auto IsFloat(std::string_view text) -> bool {
  if (IsOneOf(text, {".nan", ".NaN", ".NAN"})) return true;
  std::string_view body = DropSign(text);
  if (IsOneOf(body, {".inf", ".Inf", ".INF"})) return true;
  std::size_t exponent = body.find_first_of("eE");
  std::string_view mantissa = body.substr(0, exponent);
  std::size_t dot = mantissa.find('.');
  std::string_view whole = mantissa.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : mantissa.substr(dot + 1);
  constexpr std::string_view kDigits = "0123456789";
  if (whole.empty() && fraction.empty()) return false;
  if (!whole.empty() && !IsDigits(whole, kDigits)) return false;
  if (!fraction.empty() && !IsDigits(fraction, kDigits)) return false;
  if (exponent == std::string_view::npos) return true;
  return IsDigits(DropSign(body.substr(exponent + 1)), kDigits);
}

}  // namespace

auto ResolvePlain(std::string_view text) -> NodeKind {
  if (IsNull(text)) return NodeKind::Null;
  if (IsBool(text)) return NodeKind::Bool;
  if (IsInt(text)) return NodeKind::Int;
  if (IsFloat(text)) return NodeKind::Float;
  return NodeKind::String;
}

auto MatchesKind(NodeKind kind, std::string_view text) -> bool {
  switch (kind) {
    case NodeKind::Null:
      return IsNull(text);
    case NodeKind::Bool:
      return IsBool(text);
    case NodeKind::Int:
      return IsInt(text);
    case NodeKind::Float:
      return IsFloat(text) || IsInt(text);
    case NodeKind::String:
      return true;
    case NodeKind::Sequence:
    case NodeKind::Mapping:
      return false;
  }
  return false;
}

auto CoreTagKind(std::string_view tag) -> std::optional<NodeKind> {
  if (!tag.starts_with(kCoreTagPrefix)) return std::nullopt;
  std::string_view name = tag.substr(kCoreTagPrefix.size());
  if (name == "str") return NodeKind::String;
  if (name == "int") return NodeKind::Int;
  if (name == "float") return NodeKind::Float;
  if (name == "bool") return NodeKind::Bool;
  if (name == "null") return NodeKind::Null;
  if (name == "seq") return NodeKind::Sequence;
  if (name == "map") return NodeKind::Mapping;
  return std::nullopt;
}

auto ShortTag(std::string_view tag) -> std::string {
  if (tag.starts_with(kCoreTagPrefix)) return "!!" + std::string(tag.substr(kCoreTagPrefix.size()));
  return std::string(tag);
}

}  // namespace ferry::manifest::detail

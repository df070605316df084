#include "compiler/manifest/yaml_tree.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace ferry::manifest {
namespace {

// Parses the digits of an Int node's text (already validated by the loader)
// in `base`, saturating instead of overflowing.
auto ParseDigits(std::string_view digits, int base, bool negative) -> std::int64_t {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  std::int64_t value = 0;
  for (char c : digits) {
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return 0;
    }
    // Accumulate towards the sign so that INT64_MIN itself is representable.
    if (negative) {
      if (value < (kMin + digit) / base) return kMin;
      value = value * base - digit;
    } else {
      if (value > (kMax - digit) / base) return kMax;
      value = value * base + digit;
    }
  }
  return value;
}

auto ParseInt(std::string_view text) -> std::int64_t {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.starts_with("0x")) return ParseDigits(text.substr(2), 16, negative);
  if (text.starts_with("0o")) return ParseDigits(text.substr(2), 8, negative);
  return ParseDigits(text, 10, negative);
}

auto ParseFloat(std::string_view text) -> double {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == ".inf" || text == ".Inf" || text == ".INF") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (text == ".nan" || text == ".NaN" || text == ".NAN") return std::nan("");
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range) {
    // from_chars leaves the value alone on overflow; mirror strtod instead.
    value = std::numeric_limits<double>::infinity();
  } else if (error != std::errc() || end != text.data() + text.size()) {
    return 0;
  }
  return negative ? -value : value;
}

auto IsDecimal(std::string_view text) -> bool {
  return !text.starts_with("0x") && !text.starts_with("0o") && !text.starts_with("-0x") &&
         !text.starts_with("+0x") && !text.starts_with("-0o") && !text.starts_with("+0o");
}

}  // namespace

auto Node::Find(std::string_view key) const -> const Node* {
  for (const Entry& entry : entries) {
    if (entry.key->text == key) return entry.value;
  }
  return nullptr;
}

auto Node::FindKey(std::string_view key) const -> const Node* {
  for (const Entry& entry : entries) {
    if (entry.key->text == key) return entry.key;
  }
  return nullptr;
}

auto Node::AsDouble() const -> double {
  if (kind == NodeKind::Float) return ParseFloat(text);
  if (kind != NodeKind::Int) return 0;
  // Decimal integers beyond int64 keep their magnitude as a double.
  if (IsDecimal(text)) return ParseFloat(text);
  return static_cast<double>(ParseInt(text));
}

auto Node::AsInt() const -> std::int64_t { return kind == NodeKind::Int ? ParseInt(text) : 0; }

auto Node::AsBool() const -> bool {
  return kind == NodeKind::Bool && (text == "true" || text == "True" || text == "TRUE");
}

auto Node::KindName() const -> std::string_view {
  switch (kind) {
    case NodeKind::Null:
      return "empty";
    case NodeKind::Bool:
      return "a boolean";
    case NodeKind::Int:
      return "an integer";
    case NodeKind::Float:
      return "a decimal number";
    case NodeKind::String:
      return "a string";
    case NodeKind::Sequence:
      return "a list";
    case NodeKind::Mapping:
      return "a mapping";
  }
  return "empty";
}

auto Document::LocationOf(const Node* node) const -> diag::Location {
  if (node == nullptr) return diag::Location{.file = file_};
  return diag::Location{
      .file = file_,
      .line = node->mark.line,
      .column = node->mark.column,
      .end_column = node->width == 0 ? 0 : node->mark.column + node->width,
  };
}

auto Document::NewNode(NodeKind kind, Mark mark) -> Node* {
  nodes_.push_back(std::make_unique<Node>());
  Node* node = nodes_.back().get();
  node->kind = kind;
  node->mark = mark;
  return node;
}

}  // namespace ferry::manifest

#include "compiler/support/value.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace ferry::support {

auto Value::operator[](std::string_view key) -> Value& {
  if (is_null()) data_ = Map{};
  Map& entries = map();
  auto it = entries.find(key);
  if (it == entries.end()) it = entries.emplace(std::string(key), Value{}).first;
  return it->second;
}

namespace {

auto FormatDouble(double value) -> std::string {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  std::array<char, 64> buffer{};
  auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  std::string text(buffer.data(), end);
  // Keep a double a double when read back ("2" would become an integer).
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          std::array<char, 8> escape{};
          std::snprintf(escape.data(), escape.size(), "\\u%04x", c);
          out += escape.data();
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// Words YAML 1.1 or 1.2 readers turn into booleans or null.
auto IsReservedWord(std::string_view text) -> bool {
  static constexpr std::string_view kWords[] = {
      "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
      "True", "False", "Yes", "No", "On", "Off", "Y", "N", "Null", "NULL",
      "TRUE", "FALSE", "YES", "NO", "ON", "OFF"};
  for (std::string_view word : kWords) {
    if (text == word) return true;
  }
  return false;
}

// Anything a YAML reader could take for a number (123, 1.5, 1e3, 0x1F, .5, 1_000, 12:30).
auto LooksNumeric(std::string_view text) -> bool {
  std::string_view rest = text;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) rest.remove_prefix(1);
  if (rest.empty()) return false;
  if (rest == ".inf" || rest == ".Inf" || rest == ".nan" || rest == ".NaN") return true;
  bool digit = false;
  for (char c : rest) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '_' && c != ':' && c != 'x' && c != 'o' &&
               c != '+' && c != '-' && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F')) {
      return false;
    }
  }
  return digit && ((rest[0] >= '0' && rest[0] <= '9') || rest[0] == '.');
}

// Plain (unquoted) only for a conservative set of strings that read back as
// the same string in every YAML reader.
auto CanBePlain(std::string_view text) -> bool {
  if (text.empty() || IsReservedWord(text) || LooksNumeric(text)) return false;
  const char first = text.front();
  const bool first_ok = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
                        (first >= '0' && first <= '9') || first == '/' || first == '_' ||
                        first == '.';
  if (!first_ok) return false;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '/' || c == '@' || c == '=' ||
                    c == '+' || c == ':' || c == ' ';
    if (!ok) return false;
  }
  if (text.back() == ' ' || text.back() == ':') return false;
  return text.find(": ") == std::string_view::npos && text.find(" #") == std::string_view::npos;
}

// A literal block (|) keeps multi-line text readable in golden files; it is
// used only where it reads back exactly (printable text, no leading space on
// the first line, no trailing spaces).
auto CanBeLiteralBlock(std::string_view text) -> bool {
  if (text.find('\n') == std::string_view::npos) return false;
  if (text.front() == ' ' || text.front() == '\n') return false;
  char previous = '\0';
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
    if (c == '\n' && previous == ' ') return false;
    previous = static_cast<char>(c);
  }
  return previous != ' ';
}

void AppendIndent(std::string& out, int indent) { out.append(static_cast<std::size_t>(indent), ' '); }

void AppendString(std::string& out, const std::string& text, int indent) {
  if (CanBePlain(text)) {
    out += text;
    return;
  }
  if (!CanBeLiteralBlock(text)) {
    AppendJsonString(out, text);
    return;
  }
  std::size_t trailing = 0;
  while (trailing < text.size() && text[text.size() - 1 - trailing] == '\n') ++trailing;
  out += trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
  std::size_t start = 0;
  const std::size_t body_end = text.size() - trailing;
  while (start <= body_end) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos || end > body_end) end = body_end;
    out += '\n';
    if (end > start) {
      AppendIndent(out, indent);
      out.append(text, start, end - start);
    }
    start = end + 1;
  }
  for (std::size_t i = 1; i < trailing; ++i) out += '\n';
}

auto IsEmptyCollection(const Value& value) -> bool {
  return (value.is_map() && value.map().empty()) || (value.is_list() && value.list().empty());
}

auto IsBlockCollection(const Value& value) -> bool {
  return (value.is_map() || value.is_list()) && !IsEmptyCollection(value);
}

void AppendScalar(std::string& out, const Value& value, int indent) {
  std::visit(
      [&](const auto& data) {
        using T = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += data ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out += std::to_string(data);
        } else if constexpr (std::is_same_v<T, double>) {
          out += FormatDouble(data);
        } else if constexpr (std::is_same_v<T, std::string>) {
          AppendString(out, data, indent);
        } else if constexpr (std::is_same_v<T, List>) {
          out += "[]";
        } else {
          out += "{}";
        }
      },
      value.data());
}

void AppendKey(std::string& out, const std::string& key) {
  if (CanBePlain(key)) {
    out += key;
  } else {
    AppendJsonString(out, key);
  }
}

// Writes `value` whose first line continues the current line (after "key:" or "- ").
void AppendBlock(std::string& out, const Value& value, int indent, bool after_dash);

void AppendMapEntries(std::string& out, const Map& map, int indent, bool first_inline) {
  bool first = true;
  for (const auto& [key, item] : map) {
    if (!(first && first_inline)) AppendIndent(out, indent);
    first = false;
    AppendKey(out, key);
    out += ':';
    if (IsBlockCollection(item)) {
      out += '\n';
      // Lists under a key are not indented further (the kubectl style).
      AppendBlock(out, item, item.is_list() ? indent : indent + 2, false);
    } else {
      out += ' ';
      AppendScalar(out, item, indent + 2);
      out += '\n';
    }
  }
}

void AppendBlock(std::string& out, const Value& value, int indent, bool after_dash) {
  if (value.is_map() && !value.map().empty()) {
    AppendMapEntries(out, value.map(), indent, after_dash);
    return;
  }
  if (value.is_list() && !value.list().empty()) {
    bool first = true;
    for (const Value& item : value.list()) {
      if (!(first && after_dash)) AppendIndent(out, indent);
      first = false;
      out += "- ";
      if (IsBlockCollection(item)) {
        AppendBlock(out, item, indent + 2, true);
      } else {
        AppendScalar(out, item, indent + 2);
        out += '\n';
      }
    }
    return;
  }
  if (!after_dash) AppendIndent(out, indent);
  AppendScalar(out, value, indent + 2);
  out += '\n';
}

void AppendJson(std::string& out, const Value& value) {
  std::visit(
      [&](const auto& data) {
        using T = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += data ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out += std::to_string(data);
        } else if constexpr (std::is_same_v<T, double>) {
          out += std::isfinite(data) ? FormatDouble(data) : "null";
        } else if constexpr (std::is_same_v<T, std::string>) {
          AppendJsonString(out, data);
        } else if constexpr (std::is_same_v<T, List>) {
          out += '[';
          for (std::size_t i = 0; i < data.size(); ++i) {
            if (i > 0) out += ',';
            AppendJson(out, data[i]);
          }
          out += ']';
        } else {
          out += '{';
          bool first = true;
          for (const auto& [key, item] : data) {
            if (!first) out += ',';
            first = false;
            AppendJsonString(out, key);
            out += ':';
            AppendJson(out, item);
          }
          out += '}';
        }
      },
      value.data());
}

}  // namespace

auto ToYaml(const Value& value) -> std::string {
  std::string out;
  AppendBlock(out, value, 0, false);
  return out;
}

auto ToCanonicalJson(const Value& value) -> std::string {
  std::string out;
  AppendJson(out, value);
  return out;
}

}  // namespace ferry::support

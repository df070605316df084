#include "compiler/plan/json_reader.h"

#include <algorithm>
#include <limits>

#include "compiler/support/value.h"

namespace ferry::plan::json_io {
namespace {

// Attribute values are scalars; anything nested deeper than this is not
// ferry's and is refused before the (recursive) conversion below sees it.
constexpr int kDeepestAttribute = 32;

auto IsBlank(std::string_view text) -> bool {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

// nlohmann's message after its own "parse error at line L, column C: ".
auto Detail(std::string_view what) -> std::string {
  std::size_t column = what.find("column ");
  std::size_t colon = column == std::string_view::npos ? column : what.find(": ", column);
  if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
  return std::string(what);
}

auto ToValue(const Json& value) -> support::Value {
  switch (value.type()) {
    case Json::value_t::boolean:
      return support::Value(value.get<bool>());
    case Json::value_t::number_integer:
      return support::Value(value.get<std::int64_t>());
    case Json::value_t::number_unsigned: {
      auto number = value.get<std::uint64_t>();
      if (number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return support::Value(static_cast<std::int64_t>(number));
      }
      return support::Value(static_cast<double>(number));
    }
    case Json::value_t::number_float:
      return support::Value(value.get<double>());
    case Json::value_t::string:
      return support::Value(value.get<std::string>());
    case Json::value_t::array: {
      support::List items;
      for (const Json& item : value) items.push_back(ToValue(item));
      return support::Value(std::move(items));
    }
    case Json::value_t::object: {
      support::Map entries;
      for (const auto& [key, item] : value.items()) entries.emplace(key, ToValue(item));
      return support::Value(std::move(entries));
    }
    default:
      return support::Value();
  }
}

// True when `value` nests deeper than `limit` levels (stops looking there).
auto DeeperThan(const Json& value, int limit) -> bool {
  if (!value.is_structured()) return false;
  if (limit == 0) return true;
  return std::any_of(value.begin(), value.end(),
                     [&](const Json& item) { return DeeperThan(item, limit - 1); });
}

}  // namespace

auto ParseText(std::string_view text, std::string_view file, std::string_view recovery, Json& out)
    -> std::optional<StateError> {
  if (IsBlank(text)) {
    return StateError{std::string(file), 0, 0,
                      "truncated or corrupt: the file is empty; " + std::string(recovery)};
  }
  try {
    out = Json::parse(text.begin(), text.end());
    return std::nullopt;
  } catch (const Json::parse_error& error) {
    // `byte` counts the characters read, the failing one included.
    std::size_t at = std::min<std::size_t>(error.byte == 0 ? 0 : error.byte - 1, text.size());
    std::string_view before = text.substr(0, at);
    int line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
    std::size_t newline = before.rfind('\n');
    int column = static_cast<int>(newline == std::string_view::npos ? at + 1 : at - newline);
    std::string message = at >= text.size()
                              ? "truncated or corrupt: the file ends in the middle of the JSON (" +
                                    Detail(error.what()) + "); "
                              : "corrupt: not valid JSON (" + Detail(error.what()) + "); ";
    return StateError{std::string(file), line, column, message + std::string(recovery)};
  }
}

auto Print(const Json& value) -> std::string {
  return value.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

auto FromCanonical(std::string_view canonical) -> Json {
  Json value = Json::parse(canonical.begin(), canonical.end(), nullptr, false);
  if (value.is_discarded()) return Json(std::string(canonical));
  return value;
}

auto ToCanonical(const Json& value) -> std::string {
  return support::ToCanonicalJson(ToValue(value));
}

auto AttributesToJson(const Attributes& attributes) -> Json {
  Json object = Json::object();
  for (const auto& [field, canonical] : attributes) object[field] = FromCanonical(canonical);
  return object;
}

auto FieldReader::Find(const Json& object, std::string_view key) -> const Json* {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

auto FieldReader::String(const Json& object, std::string_view path, std::string_view key)
    -> std::string {
  const Json* value = Find(object, key);
  if (value == nullptr) {
    Fail(Join(path, key), "missing (expected a string)");
  } else if (!value->is_string()) {
    Fail(Join(path, key), "expected a string, found " + std::string(Describe(*value)));
  } else {
    return value->get<std::string>();
  }
  return {};
}

auto FieldReader::Integer(const Json& object, std::string_view path, std::string_view key)
    -> std::int64_t {
  const Json* value = Find(object, key);
  if (value == nullptr) {
    Fail(Join(path, key), "missing (expected an integer)");
  } else if (value->is_number_integer() &&
             !(value->is_number_unsigned() &&
               value->get<std::uint64_t>() >
                   static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
    return value->get<std::int64_t>();
  } else {
    Fail(Join(path, key), "expected an integer, found " + std::string(Describe(*value)));
  }
  return 0;
}

auto FieldReader::Bool(const Json& object, std::string_view path, std::string_view key,
                       bool fallback) -> bool {
  const Json* value = Find(object, key);
  if (value == nullptr) return fallback;
  if (value->is_boolean()) return value->get<bool>();
  Fail(Join(path, key), "expected true or false, found " + std::string(Describe(*value)));
  return fallback;
}

auto FieldReader::Object(const Json& object, std::string_view path, std::string_view key,
                         bool required) -> const Json* {
  const Json* value = Find(object, key);
  if (value == nullptr) {
    if (required) Fail(Join(path, key), "missing (expected an object)");
    return nullptr;
  }
  if (value->is_object()) return value;
  Fail(Join(path, key), "expected an object, found " + std::string(Describe(*value)));
  return nullptr;
}

auto FieldReader::Array(const Json& object, std::string_view path, std::string_view key)
    -> const Json* {
  const Json* value = Find(object, key);
  if (value == nullptr) {
    Fail(Join(path, key), "missing (expected an array)");
  } else if (!value->is_array()) {
    Fail(Join(path, key), "expected an array, found " + std::string(Describe(*value)));
  } else {
    return value;
  }
  return nullptr;
}

auto FieldReader::StringMap(const Json& object, std::string_view path, std::string_view key)
    -> std::map<std::string, std::string, std::less<>> {
  std::map<std::string, std::string, std::less<>> entries;
  const Json* map = Object(object, path, key, false);
  if (map == nullptr) return entries;
  std::string map_path = Join(path, key);
  for (const auto& [name, value] : map->items()) {
    if (!value.is_string()) {
      Fail(Join(map_path, name), "expected a string, found " + std::string(Describe(value)));
      continue;
    }
    entries.emplace(name, value.get<std::string>());
  }
  return entries;
}

auto FieldReader::ReadAttributes(const Json& object, std::string_view path, std::string_view key)
    -> Attributes {
  Attributes attributes;
  const Json* map = Object(object, path, key, true);
  if (map == nullptr) return attributes;
  std::string map_path = Join(path, key);
  for (const auto& [field, value] : map->items()) {
    if (DeeperThan(value, kDeepestAttribute)) {
      Fail(Join(map_path, field), "nested too deeply to be an attribute value");
      continue;
    }
    attributes.emplace(field, ToCanonical(value));
  }
  return attributes;
}

void FieldReader::OnlyKnownKeys(const Json& object, std::string_view path,
                                std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string names;
    for (std::string_view name : known) names += (names.empty() ? "" : ", ") + std::string(name);
    Fail(Join(path, key), "unknown field (expected one of: " + names + ")");
  }
}

void FieldReader::Fail(std::string_view path, std::string_view message) {
  if (error_) return;
  error_ = path.empty() ? std::string(message) : std::string(path) + ": " + std::string(message);
}

auto Join(std::string_view path, std::string_view key) -> std::string {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

auto Index(std::string_view path, std::size_t index) -> std::string {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

auto Describe(const Json& value) -> std::string_view {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return "something else";
  }
}

}  // namespace ferry::plan::json_io

// A small sorted-key document model and its printers: render writes every
// object, build plan and bundle.yaml as a Value, and codegen its bundle.yaml.
// Maps keep their keys sorted, so the same value always prints as the same bytes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ferry::support {

class Value;
using List = std::vector<Value>;
using Map = std::map<std::string, Value, std::less<>>;

class Value {
 public:
  Value() = default;  ///< null
  Value(bool value) : data_(value) {}
  Value(int value) : data_(std::int64_t{value}) {}
  Value(std::int64_t value) : data_(value) {}
  Value(double value) : data_(value) {}
  Value(const char* value) : data_(std::string(value)) {}
  Value(std::string_view value) : data_(std::string(value)) {}
  Value(std::string value) : data_(std::move(value)) {}
  Value(List value) : data_(std::move(value)) {}
  Value(Map value) : data_(std::move(value)) {}

  /// A map from key/value pairs: Value::Object({{"a", 1}, {"b", "x"}}).
  static auto Object(std::initializer_list<std::pair<const std::string, Value>> entries) -> Value {
    return Value(Map(entries));
  }
  static auto Array(std::initializer_list<Value> items) -> Value { return Value(List(items)); }

  auto is_null() const -> bool { return std::holds_alternative<std::monostate>(data_); }
  auto is_map() const -> bool { return std::holds_alternative<Map>(data_); }
  auto is_list() const -> bool { return std::holds_alternative<List>(data_); }
  auto is_string() const -> bool { return std::holds_alternative<std::string>(data_); }

  /// Accessors; calling the wrong one is a programming error (std::bad_variant_access).
  auto map() -> Map& { return std::get<Map>(data_); }
  auto map() const -> const Map& { return std::get<Map>(data_); }
  auto list() -> List& { return std::get<List>(data_); }
  auto list() const -> const List& { return std::get<List>(data_); }
  auto string() const -> const std::string& { return std::get<std::string>(data_); }

  /// The entry `key` of a map, created as null when missing (turns a null into a map).
  auto operator[](std::string_view key) -> Value&;

  auto data() const -> const auto& { return data_; }
  friend auto operator==(const Value&, const Value&) -> bool = default;

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, List, Map> data_;
};

/// Block-style YAML, keys sorted, two-space indentation, ending in a newline.
/// Strings that YAML would read as something else (numbers, booleans, null,
/// anything with special characters) are double-quoted; multi-line strings
/// use literal blocks.
auto ToYaml(const Value& value) -> std::string;

/// Compact JSON with sorted keys (the canonical encoding that content hashes use).
auto ToCanonicalJson(const Value& value) -> std::string;

}  // namespace ferry::support

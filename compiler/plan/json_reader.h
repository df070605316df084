// Reading and writing the plan stage's JSON files (state.cc, plan_file.cc):
// parsing text with line:column errors, attribute values between their
// canonical text and JSON values, and a reader that checks each field's type
// and names the first wrong one by its path ("resources[3].hash").
// Internal to compiler/plan; nothing here throws.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "compiler/plan/state.h"

namespace ferry::plan::json_io {

using Json = nlohmann::json;

/// Parses `text` into `out`. An empty file, a file cut short and bad JSON are
/// errors naming `file` (with line and column where there is a place), each
/// followed by `recovery` ("the previous good state may be in FILE.backup").
auto ParseText(std::string_view text, std::string_view file, std::string_view recovery, Json& out)
    -> std::optional<StateError>;

/// Pretty JSON (2 spaces, keys sorted) ending in a newline; invalid UTF-8 is replaced.
auto Print(const Json& value) -> std::string;

/// The JSON value a canonical attribute text holds; text that is not JSON stays a string.
auto FromCanonical(std::string_view canonical) -> Json;
/// The canonical text of a value (support::ToCanonicalJson's bytes, so it round-trips).
auto ToCanonical(const Json& value) -> std::string;

/// Attributes as an object of JSON values, and back.
auto AttributesToJson(const Attributes& attributes) -> Json;

/// Checks fields one by one, keeping the first problem; every getter returns
/// a default value after a problem, so callers check `error()` once at the end.
class FieldReader {
 public:
  /// The value at `key` of `object` (whose path is `path`); nullptr when absent.
  auto Find(const Json& object, std::string_view key) -> const Json*;
  auto String(const Json& object, std::string_view path, std::string_view key) -> std::string;
  auto Integer(const Json& object, std::string_view path, std::string_view key) -> std::int64_t;
  /// A boolean; `fallback` when the key is absent.
  auto Bool(const Json& object, std::string_view path, std::string_view key, bool fallback) -> bool;
  /// An object (or nullptr after a problem); absent is a problem when `required`.
  auto Object(const Json& object, std::string_view path, std::string_view key, bool required)
      -> const Json*;
  /// An array (or nullptr after a problem); absent is a problem.
  auto Array(const Json& object, std::string_view path, std::string_view key) -> const Json*;
  /// An object of strings; absent reads as empty.
  auto StringMap(const Json& object, std::string_view path, std::string_view key)
      -> std::map<std::string, std::string, std::less<>>;
  /// An object of JSON values, as canonical texts.
  auto ReadAttributes(const Json& object, std::string_view path, std::string_view key)
      -> Attributes;
  /// A problem for every key of `object` not in `known` (the first one is kept).
  void OnlyKnownKeys(const Json& object, std::string_view path,
                     std::initializer_list<std::string_view> known);
  /// Records "PATH: MESSAGE" unless a problem was recorded already.
  void Fail(std::string_view path, std::string_view message);

  auto ok() const -> bool { return !error_.has_value(); }
  auto error() const -> const std::optional<std::string>& { return error_; }

 private:
  std::optional<std::string> error_;
};

/// "a.b" (or "b" under the root "").
auto Join(std::string_view path, std::string_view key) -> std::string;
/// "a[3]".
auto Index(std::string_view path, std::size_t index) -> std::string;
/// The JSON type of `value` in words: "a string", "a number", "an object", ...
auto Describe(const Json& value) -> std::string_view;

}  // namespace ferry::plan::json_io

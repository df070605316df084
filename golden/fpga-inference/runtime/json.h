// A small JSON reader and writer for the `score` program's stdin/stdout
// ({"data": [[...], ...]} in, {"outputs": {...}} out). Standalone so a bundle
// needs no JSON library.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ferry_rt::json {

/// A parsed JSON value.
struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::map<std::string, Value> object;
};

/// Parses `text`; throws ferry_rt::Error with the byte offset on bad input.
/// Nesting is limited to 64 levels so hostile input cannot exhaust the stack.
auto Parse(std::string_view text) -> Value;

/// `text` as a JSON string literal (quotes and escapes added).
auto Quote(std::string_view text) -> std::string;

/// A float as JSON: shortest round-trip form; NaN and infinities become null.
auto Number(double value) -> std::string;

}  // namespace ferry_rt::json

// The score program's JSON: a recursive-descent reader with a depth limit.
#include "runtime/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "runtime/model.h"

namespace ferry_rt::json {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  auto Document() -> Value {
    Value value = Parse(0);
    Space();
    if (pos_ != text_.size()) Fail("unexpected text after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw Error("bad JSON at byte " + std::to_string(pos_) + ": " + what);
  }
  void Space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  auto Peek() -> char {
    Space();
    if (pos_ >= text_.size()) Fail("unexpected end of input");
    return text_[pos_];
  }
  void Expect(char c) {
    if (Peek() != c) Fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  auto Literal(std::string_view word) -> bool {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  auto Parse(int depth) -> Value {
    if (depth > 64) Fail("nesting deeper than 64 levels");
    Value value;
    char c = Peek();
    if (c == '{') {
      value.kind = Value::Kind::kObject;
      ++pos_;
      if (Peek() == '}') {
        ++pos_;
        return value;
      }
      for (;;) {
        if (Peek() != '"') Fail("expected a string key");
        std::string key = String();
        Expect(':');
        value.object[key] = Parse(depth + 1);
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        Expect('}');
        return value;
      }
    }
    if (c == '[') {
      value.kind = Value::Kind::kArray;
      ++pos_;
      if (Peek() == ']') {
        ++pos_;
        return value;
      }
      for (;;) {
        value.array.push_back(Parse(depth + 1));
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        Expect(']');
        return value;
      }
    }
    if (c == '"') {
      value.kind = Value::Kind::kString;
      value.string = String();
      return value;
    }
    if (Literal("true")) {
      value.kind = Value::Kind::kBool;
      value.boolean = true;
      return value;
    }
    if (Literal("false")) {
      value.kind = Value::Kind::kBool;
      return value;
    }
    if (Literal("null")) return value;
    value.kind = Value::Kind::kNumber;
    const char* begin = text_.data() + pos_;
    const char* end = text_.data() + text_.size();
    auto [next, error] = std::from_chars(begin, end, value.number);
    if (error != std::errc() || next == begin) Fail("expected a value");
    pos_ += static_cast<std::size_t>(next - begin);
    return value;
  }

  auto String() -> std::string {
    ++pos_;  // the opening quote
    std::string out;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          if (pos_ + 4 > text_.size()) Fail("short \\u escape");
          unsigned code = 0;
          auto [p, err] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, code, 16);
          if (err != std::errc() || p != text_.data() + pos_ + 4) Fail("bad \\u escape");
          pos_ += 4;
          // UTF-8 encode (surrogate pairs are kept as two 3-byte sequences).
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default:
          out += e;
          break;
      }
    }
    Fail("unterminated string");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

auto Parse(std::string_view text) -> Value { return Reader(text).Document(); }

auto Quote(std::string_view text) -> std::string {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned>(c));
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

auto Number(double value) -> std::string {
  if (!std::isfinite(value)) return "null";
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<float>(value));
  if (error != std::errc()) return "null";
  return std::string(buffer, end);
}

}  // namespace ferry_rt::json

#include "compiler/codegen/fpga_calibration.h"

#include <charconv>
#include <cmath>
#include <memory>

namespace ferry::codegen::fpga {
namespace {

/// A JSON value with the line and column it starts at: just enough JSON for
/// calibration files, kept here because nlohmann's parser forgets positions.
struct JsonNode {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  double number = 0;
  // An object's members as two parallel lists: std::pair<std::string, JsonNode>
  // would need JsonNode complete here (clang refuses; std::vector does not).
  std::vector<std::string> member_keys;
  std::vector<JsonNode> member_values;
  std::vector<JsonNode> items;                            // arrays
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

/// Nesting deeper than this is not a tensor row; it stops runaway recursion.
constexpr int kMaxDepth = 64;

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  /// The document, or nullopt with error() set.
  auto Document() -> std::optional<JsonNode> {
    std::optional<JsonNode> value = Value(0);
    SkipSpace();
    if (value && at_ < text_.size()) return Fail("unexpected text after the JSON value");
    return value;
  }
  auto error() const -> const std::string& { return error_; }
  auto line() const -> std::uint32_t { return line_; }
  auto column() const -> std::uint32_t { return column_; }

 private:
  auto Fail(std::string message) -> std::optional<JsonNode> {
    if (error_.empty()) error_ = std::move(message);
    return std::nullopt;
  }
  void Advance() {
    if (text_[at_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++at_;
  }
  void SkipSpace() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\t' || text_[at_] == '\r')) {
      Advance();
    }
  }
  auto Value(int depth) -> std::optional<JsonNode> {
    SkipSpace();
    if (depth > kMaxDepth) return Fail("nesting is deeper than 64 levels");
    if (at_ >= text_.size()) return Fail("the JSON ends early");
    JsonNode node;
    node.line = line_;
    node.column = column_;
    const char c = text_[at_];
    if (c == '{' || c == '[') return Container(std::move(node), depth);
    if (c == '"') {
      std::optional<std::string> text = String();
      if (!text) return std::nullopt;
      node.kind = JsonNode::Kind::kString;
      return node;
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(at_).starts_with(word)) {
        for (std::size_t i = 0; i < word.size(); ++i) Advance();
        node.kind = word == "null" ? JsonNode::Kind::kNull : JsonNode::Kind::kBool;
        return node;
      }
    }
    const char* begin = text_.data() + at_;
    auto [end, status] = std::from_chars(begin, text_.data() + text_.size(), node.number);
    if (status != std::errc() || end == begin) return Fail("expected a JSON value");
    for (auto n = end - begin; n > 0; --n) Advance();
    node.kind = JsonNode::Kind::kNumber;
    return node;
  }
  auto String() -> std::optional<std::string> {
    std::string out;
    Advance();  // the opening quote
    while (at_ < text_.size() && text_[at_] != '"') {
      if (text_[at_] == '\\') Advance();
      if (at_ < text_.size()) {
        out += text_[at_];
        Advance();
      }
    }
    if (at_ >= text_.size()) {
      Fail("a string is not closed");
      return std::nullopt;
    }
    Advance();
    return out;
  }
  auto Container(JsonNode node, int depth) -> std::optional<JsonNode> {
    const bool object = text_[at_] == '{';
    const char close = object ? '}' : ']';
    node.kind = object ? JsonNode::Kind::kObject : JsonNode::Kind::kArray;
    Advance();
    SkipSpace();
    if (at_ < text_.size() && text_[at_] == close) {
      Advance();
      return node;
    }
    while (true) {
      std::string key;
      if (object) {
        SkipSpace();
        if (at_ >= text_.size() || text_[at_] != '"') return Fail("expected a key in quotes");
        std::optional<std::string> name = String();
        if (!name) return std::nullopt;
        key = std::move(*name);
        SkipSpace();
        if (at_ >= text_.size() || text_[at_] != ':') return Fail("expected ':' after a key");
        Advance();
      }
      std::optional<JsonNode> item = Value(depth + 1);
      if (!item) return std::nullopt;
      if (object) {
        node.member_keys.push_back(std::move(key));
        node.member_values.push_back(std::move(*item));
      } else {
        node.items.push_back(std::move(*item));
      }
      SkipSpace();
      if (at_ < text_.size() && text_[at_] == ',') {
        Advance();
        continue;
      }
      if (at_ < text_.size() && text_[at_] == close) {
        Advance();
        return node;
      }
      return Fail(std::string("expected ',' or '") + close + "'");
    }
  }

  std::string_view text_;
  std::size_t at_ = 0;
  std::uint32_t line_ = 1;
  std::uint32_t column_ = 1;
  std::string error_;
};

/// Appends the numbers of a nested numeric array; false at the first non-number.
auto Flatten(const JsonNode& node, std::vector<float>& out, const JsonNode*& bad) -> bool {
  if (node.kind == JsonNode::Kind::kNumber) {
    out.push_back(static_cast<float>(node.number));
    return true;
  }
  if (node.kind != JsonNode::Kind::kArray) {
    bad = &node;
    return false;
  }
  for (const JsonNode& item : node.items) {
    if (!Flatten(item, out, bad)) return false;
  }
  return true;
}

struct Reader {
  const CalibrationSource& source;
  diag::Sink& sink;

  auto At(std::uint32_t line, std::uint32_t column) const -> diag::Location {
    if (source.sample) return *source.sample;
    return diag::Location{.file = source.file, .line = line, .column = column, .end_column = 0};
  }
  auto Path() const -> std::string { return source.sample ? "scoring.input_sample" : ""; }
  void Error(const JsonNode& node, const std::string& path, std::string message) const {
    sink.Add(diag::Code::kFpgaCalibration, At(node.line, node.column), path, std::move(message));
  }
};

auto RowsFromDocument(const Reader& reader, const JsonNode& document, const InputFacts& input,
                      bool& strings) -> std::optional<std::vector<std::vector<float>>> {
  const JsonNode* data = nullptr;
  for (std::size_t i = 0; i < document.member_keys.size(); ++i) {
    if (document.member_keys[i] == "data") data = &document.member_values[i];
  }
  if (document.kind != JsonNode::Kind::kObject || data == nullptr ||
      data->kind != JsonNode::Kind::kArray || data->items.empty()) {
    reader.Error(data != nullptr ? *data : document, reader.Path(),
                 "calibration data must be an object {\"data\": [row, ...]} with at least one row");
    return std::nullopt;
  }
  std::vector<std::vector<float>> rows;
  for (std::size_t r = 0; r < data->items.size(); ++r) {
    const JsonNode& item = data->items[r];
    const std::string path =
        reader.Path() + (reader.Path().empty() ? "" : ".") + "data[" + std::to_string(r) + "]";
    if (item.kind == JsonNode::Kind::kString) {
      strings = true;
      if (input.image) return std::nullopt;  // the caller falls back or reports
    }
    std::vector<float> row;
    const JsonNode* bad = nullptr;
    if (!Flatten(item, row, bad)) {
      reader.Error(*bad, path,
                   "row " + std::to_string(r) +
                       " is not a numeric tensor (images must be given as their decoded 0..1 "
                       "pixels, not as PNG or JPEG strings)");
      return std::nullopt;
    }
    if (static_cast<std::int64_t>(row.size()) != input.row_size) {
      reader.Error(item, path,
                   "row " + std::to_string(r) + " has " + std::to_string(row.size()) +
                       " numbers; one input of the model has " + std::to_string(input.row_size));
      return std::nullopt;
    }
    for (float value : row) {
      if (!std::isfinite(value)) {
        reader.Error(item, path, "row " + std::to_string(r) + " has a number out of float range");
        return std::nullopt;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

auto Synthetic(const CalibrationSource& source, const InputFacts& input, diag::Sink& sink,
               const std::string& why) -> std::optional<Calibration> {
  const diag::Location where = source.sample ? *source.sample : diag::Location{.file = source.file};
  if (!input.image) {
    sink.Add(diag::Code::kFpgaCalibration, where, source.sample ? "scoring.input_sample" : "",
             why +
                 ", and the model's input is not an image, so no range can be assumed; name "
                 "a calibration file (scoring.calibration)");
    return std::nullopt;
  }
  sink.Add(diag::Code::kFpgaCalibrationFallback, where, source.sample ? "scoring.input_sample" : "",
           why +
               "; calibrating on 16 synthetic 0..1 images (black, white, uniform noise) "
               "instead: name a calibration file (scoring.calibration)");
  Calibration calibration;
  calibration.rows = SyntheticImageRows(input.row_size);
  calibration.source = "synthetic images (no calibration file)";
  return calibration;
}

}  // namespace

auto SyntheticImageRows(std::int64_t row_size) -> std::vector<std::vector<float>> {
  std::vector<std::vector<float>> rows;
  const auto size = static_cast<std::size_t>(row_size);
  rows.emplace_back(size, 0.0F);
  rows.emplace_back(size, 1.0F);
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  for (int r = 0; r < 14; ++r) {
    std::vector<float> row(size);
    for (float& value : row) {
      // splitmix64: the same rows on every machine.
      state += 0x9E3779B97F4A7C15ULL;
      std::uint64_t z = state;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      z ^= z >> 31;
      value = static_cast<float>(z >> 40) / static_cast<float>(1 << 24);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

auto ReadCalibration(const CalibrationSource& source, const InputFacts& input, diag::Sink& sink)
    -> std::optional<Calibration> {
  if (source.json.empty()) {
    return Synthetic(source, input, sink,
                     "the FPGA version has no calibration file or input sample");
  }
  const Reader reader{.source = source, .sink = sink};
  JsonReader json(source.json);
  std::optional<JsonNode> document = json.Document();
  if (!document) {
    sink.Add(diag::Code::kFpgaCalibration, reader.At(json.line(), json.column()), reader.Path(),
             "calibration data is not valid JSON: " + json.error());
    return std::nullopt;
  }
  bool strings = false;
  std::optional<std::vector<std::vector<float>>> rows =
      RowsFromDocument(reader, *document, input, strings);
  if (!rows && strings && input.image) {
    if (!source.sample) {
      reader.Error(*document, "data",
                   "calibration rows are strings: images must be given as their decoded 0..1 "
                   "pixels, not as PNG or JPEG strings");
      return std::nullopt;
    }
    return Synthetic(source, input, sink,
                     "the FPGA version has no calibration file and its input sample is an image "
                     "string, which the compiler does not decode");
  }
  if (!rows) return std::nullopt;
  Calibration calibration;
  calibration.rows = std::move(*rows);
  const std::string count =
      std::to_string(calibration.rows.size()) + (calibration.rows.size() == 1 ? " row" : " rows");
  if (source.sample) {
    sink.Add(diag::Code::kFpgaCalibrationFallback, *source.sample, "scoring.input_sample",
             "the FPGA version has no calibration file; calibrating on its input sample (" + count +
                 "): name a calibration file (scoring.calibration)");
    calibration.source = "input_sample (" + count + ")";
  } else {
    calibration.source = source.file.substr(source.file.find_last_of('/') + 1) + " (" + count + ")";
  }
  return calibration;
}

}  // namespace ferry::codegen::fpga

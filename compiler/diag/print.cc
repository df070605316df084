#include "compiler/diag/print.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace ferry::diag {
namespace {

/// ANSI sequences for one output; all empty when color is off.
struct Style {
  std::string_view bold;
  std::string_view reset;
  std::string_view error;
  std::string_view warning;
  std::string_view note;
  std::string_view gutter;
};

constexpr Style kPlain{};
constexpr Style kAnsi{"\x1b[1m", "\x1b[0m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;36m", "\x1b[1;34m"};

auto ColorOf(const Style& style, Severity severity) -> std::string_view {
  switch (severity) {
    case Severity::Error:
      return style.error;
    case Severity::Warning:
      return style.warning;
    case Severity::Note:
      return style.note;
  }
  return style.error;
}

auto IsContinuationByte(char c) -> bool { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// Line `line` (1-based) of `file`'s text without its line break, or nullopt
/// when the file is unknown or the line is past the end.
auto SourceLine(const SourceMap& sources, const Location& location)
    -> std::optional<std::string_view> {
  auto found = sources.find(location.file);
  if (found == sources.end() || location.line == 0) return std::nullopt;
  std::string_view text = found->second;
  for (std::uint32_t line = 1; line < location.line; ++line) {
    std::size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return std::nullopt;
    text.remove_prefix(newline + 1);
  }
  if (text.empty() && !found->second.empty() && found->second.back() == '\n') return std::nullopt;
  text = text.substr(0, text.find('\n'));
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

/// The source line made safe for a terminal: control characters (other than
/// tabs) become '?', one byte for one byte so carets stay aligned.
auto Printable(std::string_view line) -> std::string {
  std::string out(line);
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) c = '?';
  }
  return out;
}

/// Spaces (tabs where the source has tabs, so terminals align both lines
/// alike) up to the node, then one '^' per character of the node.
auto CaretLine(std::string_view line, const Location& location) -> std::string {
  std::size_t start = std::min<std::size_t>(location.column - 1, line.size());
  std::string out;
  for (std::size_t i = 0; i < start; ++i) {
    if (line[i] == '\t') {
      out += '\t';
    } else if (!IsContinuationByte(line[i])) {
      out += ' ';
    }
  }
  std::size_t width = 0;
  if (location.end_column > location.column) {
    std::size_t end = std::min<std::size_t>(location.end_column - 1, line.size());
    for (std::size_t i = start; i < end; ++i) width += IsContinuationByte(line[i]) ? 0 : 1;
  }
  out.append(std::max<std::size_t>(width, 1), '^');
  return out;
}

/// "file:line:col" with the unknown parts left out; empty without a file.
auto Position(const Location& location) -> std::string {
  std::string out = location.file;
  if (out.empty()) return out;
  if (location.line > 0) out += ":" + std::to_string(location.line);
  if (location.line > 0 && location.column > 0) out += ":" + std::to_string(location.column);
  return out;
}

auto DigitCount(std::uint32_t n) -> std::size_t { return std::to_string(n).size(); }

/// Writes one block of a diagnostic's or note's output.
class TextWriter {
 public:
  TextWriter(const SourceMap& sources, const Style& style, std::size_t gutter)
      : sources_(sources), style_(style), gutter_(gutter) {}

  void Header(const Location& location, Severity severity, std::string_view label,
              std::string_view message) {
    std::string position = Position(location);
    if (!position.empty()) out_ += Str(style_.bold) + position + ": " + Str(style_.reset);
    out_ += Str(ColorOf(style_, severity)) + std::string(label) + Str(style_.reset);
    out_ += Str(style_.bold) + ": " + std::string(message) + Str(style_.reset) + "\n";
  }

  void Snippet(const Location& location, Severity severity) {
    std::optional<std::string_view> line = SourceLine(sources_, location);
    if (!line) return;
    std::string number = std::to_string(location.line);
    std::string bar = Str(style_.gutter) + std::string(gutter_, ' ') + " |" + Str(style_.reset);
    out_ += bar + "\n";
    out_ += Str(style_.gutter) + std::string(gutter_ - number.size(), ' ') + number + " |" +
            Str(style_.reset) + " " + Printable(*line) + "\n";
    if (location.column == 0) return;
    std::string carets = CaretLine(*line, location);
    carets.insert(carets.find('^'), ColorOf(style_, severity));
    out_ += bar + " " + carets + Str(style_.reset) + "\n";
  }

  /// A note without a place: "   = note: message", under the diagnostic.
  void FloatingNote(std::string_view message) {
    out_ += std::string(gutter_, ' ') + " = " + Str(style_.note) + "note" + Str(style_.reset) +
            ": " + std::string(message) + "\n";
  }

  auto Take() -> std::string { return std::move(out_); }

 private:
  static auto Str(std::string_view s) -> std::string { return std::string(s); }

  const SourceMap& sources_;
  const Style& style_;
  std::size_t gutter_;
  std::string out_;
};

/// Width of the line-number gutter: the widest line number the block shows.
auto GutterWidth(const Diagnostic& diagnostic) -> std::size_t {
  std::uint32_t widest = diagnostic.location.line;
  for (const Note& note : diagnostic.notes) widest = std::max(widest, note.location.line);
  return DigitCount(widest);
}

auto PrintOne(const Diagnostic& diagnostic, const SourceMap& sources, const Style& style)
    -> std::string {
  TextWriter writer(sources, style, GutterWidth(diagnostic));
  std::string label = std::string(SeverityName(diagnostic.severity)) + "[" +
                      std::string(Info(diagnostic.code).code) + "]";
  writer.Header(diagnostic.location, diagnostic.severity, label, diagnostic.message);
  writer.Snippet(diagnostic.location, diagnostic.severity);
  for (const Note& note : diagnostic.notes) {
    if (note.location.file.empty()) {
      writer.FloatingNote(note.message);
      continue;
    }
    writer.Header(note.location, Severity::Note, "note", note.message);
    writer.Snippet(note.location, Severity::Note);
  }
  return writer.Take() + "\n";
}

auto Plural(std::size_t n, std::string_view word) -> std::string {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

/// "error: 2 errors, 1 warning", "warning: 1 warning", or "" when clean.
auto Summary(const std::vector<Diagnostic>& diagnostics, const Style& style) -> std::string {
  auto count = [&](Severity s) {
    return static_cast<std::size_t>(
        std::count_if(diagnostics.begin(), diagnostics.end(),
                      [&](const Diagnostic& d) { return d.severity == s; }));
  };
  std::size_t errors = count(Severity::Error);
  std::size_t warnings = count(Severity::Warning);
  if (errors == 0 && warnings == 0) return "";
  Severity lead = errors > 0 ? Severity::Error : Severity::Warning;
  std::string counts = errors > 0 ? Plural(errors, "error") : "";
  if (warnings > 0) counts += (counts.empty() ? "" : ", ") + Plural(warnings, "warning");
  return std::string(ColorOf(style, lead)) + std::string(SeverityName(lead)) +
         std::string(style.reset) + std::string(style.bold) + ": " + counts +
         std::string(style.reset) + "\n";
}

}  // namespace

auto PrintText(const std::vector<Diagnostic>& diagnostics, const SourceMap& sources,
               const TextOptions& options) -> std::string {
  const Style& style = options.color ? kAnsi : kPlain;
  std::string out;
  for (const Diagnostic& diagnostic : diagnostics) out += PrintOne(diagnostic, sources, style);
  return out + Summary(diagnostics, style);
}

auto PrintJson(const std::vector<Diagnostic>& diagnostics) -> std::string {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Diagnostic& d : diagnostics) {
    nlohmann::ordered_json item;
    item["code"] = Info(d.code).code;
    item["severity"] = SeverityName(d.severity);
    item["message"] = d.message;
    item["file"] = d.location.file;
    item["line"] = d.location.line;
    item["column"] = d.location.column;
    item["path"] = d.path;
    item["notes"] = nlohmann::ordered_json::array();
    for (const Note& note : d.notes) {
      nlohmann::ordered_json n;
      n["message"] = note.message;
      n["file"] = note.location.file;
      n["line"] = note.location.line;
      n["column"] = note.location.column;
      item["notes"].push_back(std::move(n));
    }
    list.push_back(std::move(item));
  }
  nlohmann::ordered_json root;
  root["diagnostics"] = std::move(list);
  // Messages quote user text, which may not be UTF-8: replace, never throw.
  return root.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace ferry::diag

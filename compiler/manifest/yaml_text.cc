#include "compiler/manifest/yaml_text.h"

#include <fmt/format.h>

#include <optional>
#include <string>

namespace ferry::manifest::detail {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

struct Decoded {
  char32_t code_point = 0;
  std::size_t length = 0;
};

// Decodes the UTF-8 sequence at `offset`; nullopt for a bad lead byte, a cut
// short or overlong sequence, a surrogate or a code point past U+10FFFF.
auto DecodeUtf8(std::string_view text, std::size_t offset) -> std::optional<Decoded> {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(offset);
  if (lead < 0x80) return Decoded{lead, 1};
  std::size_t length = 0;
  char32_t value = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    value = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    value = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    value = lead & 0x07;
  } else {
    return std::nullopt;
  }
  if (offset + length > text.size()) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(offset + i) & 0xC0) != 0x80) return std::nullopt;
    value = (value << 6) | (byte(offset + i) & 0x3F);
  }
  constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kSmallest[length] || value > 0x10FFFF) return std::nullopt;
  if (value >= 0xD800 && value <= 0xDFFF) return std::nullopt;
  return Decoded{value, length};
}

// YAML 1.2's printable set (c-printable).
auto IsPrintable(char32_t c) -> bool {
  return c == 0x09 || c == 0x0A || c == 0x0D || (c >= 0x20 && c <= 0x7E) || c == 0x85 ||
         (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

auto TrimRight(std::string_view s) -> std::string_view {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

auto TrimLeft(std::string_view s) -> std::string_view {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// Whether `content` ends with a block scalar indicator ("|", ">-", "|2+").
auto EndsWithIndicatorExact(std::string_view content) -> bool {
  content = TrimRight(content);
  std::size_t end = content.size();
  std::size_t modifiers = 0;
  while (end > 0 && modifiers < 2 &&
         std::string_view("+-0123456789").find(content[end - 1]) != std::string_view::npos) {
    --end;
    ++modifiers;
  }
  if (end == 0 || (content[end - 1] != '|' && content[end - 1] != '>')) return false;
  return end == 1 || content[end - 2] == ' ' || content[end - 2] == '\t';
}

// Also looks through a trailing comment ("key: |  # note").
auto EndsWithBlockIndicator(std::string_view content) -> bool {
  if (EndsWithIndicatorExact(content)) return true;
  std::size_t comment = content.rfind(" #");
  return comment != std::string_view::npos && EndsWithIndicatorExact(content.substr(0, comment));
}

auto IsBlankOrMarker(std::string_view line) -> bool {
  line = TrimRight(TrimLeft(line));
  if (line.empty() || line.front() == '#' || line.front() == '%') return true;
  if (!line.starts_with("---") && !line.starts_with("...")) return false;
  std::string_view rest = TrimLeft(line.substr(3));
  return rest.empty() || (rest.front() == '#' && rest.size() < line.size() - 3);
}

// Calls `visit(line_index, line)` for each line without its '\n'.
template <typename Visit>
void ForEachLine(std::string_view text, Visit visit) {
  std::uint32_t index = 0;
  while (true) {
    std::size_t end = text.find('\n');
    if (!visit(index, text.substr(0, end))) return;
    if (end == std::string_view::npos) return;
    text.remove_prefix(end + 1);
    ++index;
  }
}

}  // namespace

SourceText::SourceText(std::string_view file, std::string_view text) : file_(file), text_(text) {
  if (text_.starts_with(kBom)) {
    text_.remove_prefix(kBom.size());
    bom_ = static_cast<std::uint32_t>(kBom.size());
  }
}

auto SourceText::At(std::size_t offset) const -> diag::Location {
  std::string_view before = text_.substr(0, offset);
  std::size_t line = 0;
  for (char c : before) line += c == '\n' ? 1 : 0;
  std::size_t line_start = before.rfind('\n');
  std::size_t column =
      line_start == std::string_view::npos ? before.size() : before.size() - line_start - 1;
  return AtMark(static_cast<int>(line), static_cast<int>(column));
}

auto SourceText::AtMark(int line, int column) const -> diag::Location {
  if (line < 0 || column < 0) return At(text_.size());
  return diag::Location{
      .file = std::string(file_),
      .line = static_cast<std::uint32_t>(line) + 1,
      .column = static_cast<std::uint32_t>(column) + 1 + (line == 0 ? bom_ : 0),
  };
}

auto CheckUtf8(const SourceText& source, diag::Sink& sink) -> bool {
  std::string_view text = source.text();
  for (std::size_t i = 0; i < text.size();) {
    std::optional<Decoded> decoded = DecodeUtf8(text, i);
    if (!decoded) {
      sink.Add(diag::Code::kYamlNotUtf8, source.At(i), "",
               fmt::format("the manifest is not valid UTF-8 (byte 0x{:02x} here); "
                           "save the file with UTF-8 encoding",
                           static_cast<unsigned char>(text[i])));
      return false;
    }
    i += decoded->length;
  }
  return true;
}

auto CheckCharacters(const SourceText& source, diag::Sink& sink) -> bool {
  std::string_view text = source.text();
  for (std::size_t i = 0; i < text.size();) {
    Decoded decoded = DecodeUtf8(text, i).value_or(Decoded{0xFFFD, 1});
    if (!IsPrintable(decoded.code_point)) {
      sink.Add(diag::Code::kYamlSyntax, source.At(i), "",
               fmt::format("invalid YAML: the character U+{:04X} is not allowed in YAML; remove "
                           "it, or write it as an escape in a double-quoted string",
                           static_cast<std::uint32_t>(decoded.code_point)));
      return false;
    }
    i += decoded.length;
  }
  return true;
}

auto CheckNotEmpty(const SourceText& source, diag::Sink& sink) -> bool {
  bool empty = true;
  ForEachLine(source.text(), [&](std::uint32_t, std::string_view line) {
    empty = IsBlankOrMarker(line);
    return empty;
  });
  if (empty) {
    sink.Add(diag::Code::kYamlEmpty, source.AtMark(0, 0), "",
             "the manifest is empty; write at least \"ferry: 1\" and \"project: <name>\"");
  }
  return !empty;
}

auto CheckTabs(const SourceText& source, diag::Sink& sink) -> bool {
  constexpr std::size_t kNoBlock = std::string_view::npos;
  std::size_t block_parent = kNoBlock;
  bool ok = true;
  ForEachLine(source.text(), [&](std::uint32_t index, std::string_view line) {
    std::size_t spaces = line.find_first_not_of(' ');
    std::size_t content_start = line.find_first_not_of(" \t");
    std::string_view content =
        TrimRight(content_start == std::string_view::npos ? "" : line.substr(content_start));
    // Inside a block scalar, tabs after the indentation are the value's text.
    if (block_parent != kNoBlock && (content.empty() || spaces > block_parent)) return true;
    block_parent = kNoBlock;
    // yaml-cpp also rejects tabs that start blank and comment lines.
    if (std::size_t tab = line.substr(0, content_start).find('\t'); tab != std::string_view::npos) {
      sink.Add(diag::Code::kYamlTab, source.AtMark(static_cast<int>(index), static_cast<int>(tab)),
               "", std::string(kTabMessage));
      ok = false;
    }
    if (EndsWithBlockIndicator(content)) block_parent = spaces;
    return true;
  });
  return ok;
}

}  // namespace ferry::manifest::detail

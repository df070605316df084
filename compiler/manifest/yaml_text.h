// Checks on the raw manifest text that run before the YAML parser, so the
// parser only ever sees text it handles well. Internal to the manifest stage.
#pragma once

#include <cstdint>
#include <string_view>

#include "compiler/diag/diagnostic.h"

namespace ferry::manifest::detail {

/// The manifest text with its byte-order mark split off, and the mapping from
/// offsets to 1-based lines and byte columns.
class SourceText {
 public:
  SourceText(std::string_view file, std::string_view text);

  auto file() const -> std::string_view { return file_; }
  /// The text after any UTF-8 byte-order mark; the parser reads this.
  auto text() const -> std::string_view { return text_; }
  /// The location of byte `offset` of text().
  auto At(std::size_t offset) const -> diag::Location;
  /// The location of a 0-based parser position (the mark skips the BOM).
  auto AtMark(int line, int column) const -> diag::Location;

 private:
  std::string_view file_;
  std::string_view text_;
  std::uint32_t bom_ = 0;
};

/// The message of E0004.
inline constexpr std::string_view kTabMessage =
    "a tab is used for indentation; YAML indents with spaces only, replace the tab with spaces";

/// E0006 at the first byte that is not valid UTF-8; false when found.
auto CheckUtf8(const SourceText& source, diag::Sink& sink) -> bool;
/// E0002 at the first character YAML does not allow (controls, U+FFFE...).
auto CheckCharacters(const SourceText& source, diag::Sink& sink) -> bool;
/// E0009 when the text has nothing but blanks, comments and document markers.
auto CheckNotEmpty(const SourceText& source, diag::Sink& sink) -> bool;
/// E0004 on every line whose leading blanks hold a tab (block scalar contents excepted).
auto CheckTabs(const SourceText& source, diag::Sink& sink) -> bool;

}  // namespace ferry::manifest::detail

// Files compiled into the binary (catalogs, schema, explain pages), so the
// compiler core never reads the environment or an install path.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace ferry::support {

/// One embedded file: its path relative to the source tree and its bytes.
struct EmbeddedFile {
  std::string_view path;
  std::string_view contents;
};

/// Every embedded file, in the order CMake listed them.
auto EmbeddedFiles() -> std::span<const EmbeddedFile>;

/// The contents of the embedded file at `path` (e.g. "schemas/ferry.schema.json").
auto FindEmbedded(std::string_view path) -> std::optional<std::string_view>;

}  // namespace ferry::support

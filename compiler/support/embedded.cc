#include "compiler/support/embedded.h"

namespace ferry::support {

auto FindEmbedded(std::string_view path) -> std::optional<std::string_view> {
  for (const EmbeddedFile& file : EmbeddedFiles()) {
    if (file.path == path) return file.contents;
  }
  return std::nullopt;
}

}  // namespace ferry::support

// A fresh directory under the system temp directory, removed with its
// contents at scope exit; tests run in parallel, so each gets its own. The
// serve and router tests share it (tests/router/router_fixtures.h).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace ferry::serve_test {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ferry-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  auto operator=(const ScratchDir&) -> ScratchDir& = delete;

  /// The directory (empty when it could not be made).
  auto path() const -> const std::string& { return path_; }
  /// `name` inside the directory.
  auto operator/(const std::string& name) const -> std::string { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Writes `text` to `path` (replacing it).
inline void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

/// The content of `path` ("" when absent).
inline auto ReadFile(const std::string& path) -> std::string {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace ferry::serve_test

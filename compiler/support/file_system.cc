#include "compiler/support/file_system.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace ferry::support {

auto DiskFileSystem::Read(const std::string& path) const -> std::optional<std::string> {
  // A folder opens fine as a stream on Linux, so only read regular files.
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error) || error) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return contents;
}

auto MemoryFileSystem::Read(const std::string& path) const -> std::optional<std::string> {
  auto found = files_.find(path);
  if (found == files_.end()) return std::nullopt;
  return found->second;
}

auto JoinPath(std::string_view folder, std::string_view relative) -> std::string {
  if (folder.empty() || relative.starts_with('/')) return std::string(relative);
  std::string joined(folder);
  if (!joined.ends_with('/')) joined += '/';
  joined += relative;
  return joined;
}

auto DirName(std::string_view path) -> std::string {
  std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return "";
  // Keep the root of an absolute path: "/a.yaml" -> "/".
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace ferry::support

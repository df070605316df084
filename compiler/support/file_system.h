// Disk access behind an interface, so the pipeline is tested with an
// in-memory fake and the core never touches the disk itself.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::support {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  /// The whole file, or nullopt when it cannot be read (missing, a folder, no permission).
  virtual auto Read(const std::string& path) const -> std::optional<std::string> = 0;
};

/// The real disk.
class DiskFileSystem final : public FileSystem {
 public:
  auto Read(const std::string& path) const -> std::optional<std::string> override;
};

/// Files held in memory, for tests.
class MemoryFileSystem final : public FileSystem {
 public:
  void Add(std::string path, std::string contents) {
    files_[std::move(path)] = std::move(contents);
  }
  auto Read(const std::string& path) const -> std::optional<std::string> override;

 private:
  std::map<std::string, std::string, std::less<>> files_;
};

/// Joins a folder and a relative path ("" + "a" = "a", "x" + "a" = "x/a");
/// an absolute `relative` is returned as is.
auto JoinPath(std::string_view folder, std::string_view relative) -> std::string;
/// The folder part of `path` ("a/b/c.yaml" -> "a/b", "c.yaml" -> "").
auto DirName(std::string_view path) -> std::string;

}  // namespace ferry::support

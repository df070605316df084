#include "compiler/support/file_system.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ferry::support {
namespace {

/// A fresh folder under the build's temp dir, removed when the test ends.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("ferry_fs_test_" + name)) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  auto path() const -> std::string { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST_CASE("DiskFileSystem reads a whole file, bytes as they are") {
  TempDir dir("read");
  std::string contents("line 1\r\nline 2\0tail", 19);
  std::ofstream(dir.path() + "/m.yaml", std::ios::binary) << contents;
  DiskFileSystem fs;
  CHECK(fs.Read(dir.path() + "/m.yaml") == contents);
  std::ofstream(dir.path() + "/empty.yaml", std::ios::binary).flush();
  CHECK(fs.Read(dir.path() + "/empty.yaml") == std::string());
}

TEST_CASE("DiskFileSystem gives nothing for a missing file or a folder") {
  TempDir dir("missing");
  DiskFileSystem fs;
  CHECK_FALSE(fs.Read(dir.path() + "/nope.yaml").has_value());
  CHECK_FALSE(fs.Read(dir.path()).has_value());
  CHECK_FALSE(fs.Read("").has_value());
}

TEST_CASE("MemoryFileSystem holds what was added") {
  MemoryFileSystem fs;
  fs.Add("a/ferry.yaml", "ferry: 1\n");
  fs.Add("a/ferry.yaml", "ferry: 2\n");
  CHECK(fs.Read("a/ferry.yaml") == std::string("ferry: 2\n"));
  CHECK_FALSE(fs.Read("ferry.yaml").has_value());
}

TEST_CASE("JoinPath and DirName") {
  CHECK(JoinPath("", "a") == "a");
  CHECK(JoinPath("x", "a") == "x/a");
  CHECK(JoinPath("x/", "a/b.onnx") == "x/a/b.onnx");
  CHECK(JoinPath("x", "/abs/m.onnx") == "/abs/m.onnx");
  CHECK(DirName("a/b/c.yaml") == "a/b");
  CHECK(DirName("c.yaml") == "");
  CHECK(DirName("/c.yaml") == "/");
}

}  // namespace
}  // namespace ferry::support

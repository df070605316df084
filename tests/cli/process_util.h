// Test helpers for running the `ferry` binary as a subprocess and for
// scratch folders. Header-only: the test glob builds only *_test.cc files.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>

namespace ferry::testing {

/// What a finished process printed and how it exited.
struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Wraps `text` in single quotes for /bin/sh.
inline auto ShellQuote(const std::string& text) -> std::string {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// A folder under the system temp folder, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ferry-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  auto operator=(const TempDir&) -> TempDir& = delete;

  auto path() const -> const std::string& { return path_; }

  /// Writes `contents` to `relative` inside the folder, creating folders; returns the full path.
  auto Write(const std::string& relative, const std::string& contents) const -> std::string {
    std::filesystem::path full = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary) << contents;
    return full.string();
  }

 private:
  std::string path_;
};

inline auto ReadWholeFile(const std::string& path) -> std::string {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Runs `program` with `args` (each quoted for the shell) in `cwd`, capturing
/// stdout and stderr separately.
inline auto RunProcess(const std::string& program, std::initializer_list<std::string> args,
                       const std::string& cwd = ".") -> ProcessResult {
  TempDir scratch;
  std::string err_path = scratch.path() + "/stderr";
  std::string command = "cd " + ShellQuote(cwd) + " && " + ShellQuote(program);
  for (const std::string& arg : args) command += " " + ShellQuote(arg);
  command += " 2>" + ShellQuote(err_path);

  ProcessResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = ReadWholeFile(err_path);
  return result;
}

}  // namespace ferry::testing

#include "compiler/apply/bundle_cache.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

#include "compiler/apply/process.h"

namespace ferry::apply {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kDetailLines = 30;
constexpr std::string_view kRuntimePrefix = "runtime/";

// "[ 45%] Building CXX object ..." -> 0.45; -1 for other lines.
auto ProgressOf(std::string_view line) -> double {
  if (line.size() < 6 || line[0] != '[') return -1;
  const std::size_t close = line.find("%]");
  if (close == std::string_view::npos || close > 5) return -1;
  int percent = 0;
  bool digits = false;
  for (char c : line.substr(1, close - 1)) {
    if (c == ' ') continue;
    if (c < '0' || c > '9') return -1;
    percent = percent * 10 + (c - '0');
    digits = true;
  }
  return digits ? percent / 100.0 : -1;
}

auto WriteFile(const fs::path& path, const std::string& contents, std::string& error) -> bool {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) {
    error = "cannot write " + path.string() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

// The bundle's files and the runtime they build with, laid out as `ferry compile` does.
auto WriteSources(const BundleBuild& build, const render::RenderResult& rendered,
                  const fs::path& folder, std::string& error) -> bool {
  const std::string prefix = build.directory + "/";
  bool any = false;
  for (const render::RenderedFile& file : rendered.files) {
    fs::path target;
    if (file.path.starts_with(prefix)) {
      target = folder / file.path.substr(prefix.size());
      any = true;
    } else if (file.path.starts_with(kRuntimePrefix)) {
      target = folder / file.path;
    } else {
      continue;
    }
    if (!WriteFile(target, file.contents, error)) return false;
  }
  if (!any) error = "the render output has no files under " + build.directory;
  return any;
}

auto Tail(const std::deque<std::string>& lines) -> std::string {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

// Runs one CMake step, keeping the last lines and reporting progress.
auto RunCmake(const BundleBuild& build, const std::vector<std::string>& argv,
              const fs::path& folder, std::deque<std::string>& tail, std::string& error) -> bool {
  const int code = RunAndStream(
      argv, folder.string(),
      [&](std::string_view line) {
        tail.emplace_back(line);
        if (tail.size() > kDetailLines) tail.pop_front();
        if (const double fraction = ProgressOf(line); fraction >= 0 && build.on_progress) {
          build.on_progress(fraction);
        }
      },
      error);
  if (code == 0) return true;
  if (error.empty()) error = argv[0] + " exited with status " + std::to_string(code);
  return false;
}

auto NextBuildNumber() -> int {
  static std::atomic<int> counter{0};
  return counter++;
}

}  // namespace

auto BundleCachePath(std::string_view cache_dir, std::string_view sha256) -> std::string {
  return std::string(cache_dir) + "/bundles/" + std::string(sha256);
}

auto BundleCached(const std::string& path) -> bool {
  return ::access((path + "/bin/serve").c_str(), X_OK) == 0;
}

auto RemoveStaleBuilds(const std::string& cache_dir) -> int {
  std::error_code ec;
  int removed = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(cache_dir + "/bundles", ec)) {
    const std::string name = entry.path().filename().string();
    const std::size_t mark = name.find(".tmp-");
    if (mark == std::string::npos) continue;
    const std::string rest = name.substr(mark + 5);
    const std::size_t dash = rest.find('-');
    char* end = nullptr;
    const long pid = std::strtol(rest.c_str(), &end, 10);
    if (dash == std::string::npos || end != rest.c_str() + dash || pid <= 0) continue;
    if (ProcessAlive(static_cast<pid_t>(pid))) continue;
    // Its compilers may still run (their ferry was killed, not they).
    KillProcessesWorkingIn(entry.path().string());
    std::error_code remove_error;
    fs::remove_all(entry.path(), remove_error);
    if (!remove_error) ++removed;
  }
  return removed;
}

auto BuildBundle(const BundleBuild& build, const render::RenderResult& rendered)
    -> BundleBuildResult {
  BundleBuildResult result;
  result.path = BundleCachePath(build.cache_dir, build.sha256);
  if (BundleCached(result.path)) {
    result.ok = result.cached = true;
    return result;
  }
  RemoveStaleBuilds(build.cache_dir);
  const fs::path folder =
      result.path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(NextBuildNumber());
  std::error_code ec;
  fs::remove_all(folder, ec);
  fs::create_directories(folder, ec);
  if (ec) {
    result.error = "cannot create the bundle cache folder " + folder.string() + ": " + ec.message();
    return result;
  }
  const auto fail = [&](std::string error, std::string detail) {
    std::error_code ignored;
    fs::remove_all(folder, ignored);
    result.error = std::move(error);
    result.detail = std::move(detail);
    return result;
  };
  std::string error;
  if (!WriteSources(build, rendered, folder, error)) return fail(error, "");
  const unsigned processors = std::max(1u, std::thread::hardware_concurrency());
  const int jobs = build.jobs > 0 ? build.jobs : static_cast<int>(processors);
  std::deque<std::string> tail;
  if (!RunCmake(build,
                {build.cmake, "-S", ".", "-B", "build", "-DCMAKE_BUILD_TYPE=" + build.build_type},
                folder, tail, error) ||
      !RunCmake(build, {build.cmake, "--build", "build", "-j", std::to_string(jobs)}, folder, tail,
                error)) {
    return fail("building bundle " + build.directory + " failed: " + error, Tail(tail));
  }
  if (!BundleCached(folder.string())) {
    return fail("building bundle " + build.directory + " left no bin/serve", Tail(tail));
  }
  // The object files are not part of the entry; bin/ holds the programs.
  fs::remove_all(folder / "build", ec);
  fs::rename(folder, result.path, ec);
  if (ec) {
    // Another build of the same bundle won the race: keep its entry, drop ours.
    std::error_code ignored;
    fs::remove_all(folder, ignored);
    if (!BundleCached(result.path)) {
      result.error = "cannot move the built bundle into " + result.path + ": " + ec.message();
      return result;
    }
  }
  result.ok = true;
  return result;
}

}  // namespace ferry::apply

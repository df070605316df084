// The content-addressed bundle cache with a stand-in for CMake (a shell
// script), so hits, misses, progress, failures and stale builds are checked
// in milliseconds; local_executor_test.cc builds a real bundle.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "compiler/apply/bundle_cache.h"
#include "compiler/apply/process.h"

namespace ferry::apply {
namespace {

namespace fs = std::filesystem;

auto ScratchFolder(const std::string& name) -> std::string {
  const fs::path folder =
      fs::temp_directory_path() / ("ferry-cache-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder.string();
}

void WriteExecutable(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0755);
}

// `cmake -S . -B build ...` records its arguments; `cmake --build build -j N`
// prints progress and links bin/serve from the bundle's files (or fails).
auto FakeCmake(const std::string& folder, bool fail) -> std::string {
  const std::string path = folder + "/fake-cmake";
  WriteExecutable(path, std::string("#!/bin/sh\n") +
                            "if [ \"$1\" = -S ]; then mkdir -p build; echo \"$@\" > build/args; "
                            "echo configured; exit 0; fi\n"
                            "echo '[ 10%] Building model.cc'\n"
                            "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 "
                            "24 25 26 27 28 29 30 31 32 33 34 35; do echo \"line $i\"; done\n" +
                            (fail ? "echo 'model.cc:1: error: broken' ; exit 2\n"
                                  : "echo '[100%] Linking serve'\nmkdir -p bin; "
                                    "cat CMakeLists.txt runtime/CMakeLists.txt > bin/serve; "
                                    "chmod +x bin/serve\n"));
  return path;
}

auto Rendered() -> render::RenderResult {
  render::RenderResult rendered;
  rendered.files = {{"bundles/faq-live/CMakeLists.txt", "bundle\n", false},
                    {"bundles/faq-live/weights.bin", std::string("\0\1", 2), true},
                    {"bundles/other-x/CMakeLists.txt", "other\n", false},
                    {"kubernetes/prod/namespace-x.yaml", "ns\n", false},
                    {"runtime/CMakeLists.txt", "runtime\n", false}};
  return rendered;
}

auto Build(const std::string& folder, const std::string& cmake) -> BundleBuild {
  BundleBuild build;
  build.cache_dir = folder + "/cache";
  build.sha256 = "0123abcd";
  build.directory = "bundles/faq-live";
  build.cmake = cmake;
  build.jobs = 2;
  return build;
}

TEST_CASE("local bundle cache: a miss builds the bundle and its runtime into <sha256>/") {
  const std::string folder = ScratchFolder("miss");
  BundleBuild build = Build(folder, FakeCmake(folder, false));
  std::vector<double> fractions;
  build.on_progress = [&](double fraction) { fractions.push_back(fraction); };
  const BundleBuildResult result = BuildBundle(build, Rendered());
  REQUIRE_MESSAGE(result.ok, result.error);
  CHECK_FALSE(result.cached);
  CHECK(result.path == folder + "/cache/bundles/0123abcd");
  CHECK(BundleCached(result.path));
  std::ifstream serve(result.path + "/bin/serve");
  CHECK(std::string((std::istreambuf_iterator<char>(serve)), {}) == "bundle\nruntime\n");
  CHECK(fs::file_size(result.path + "/weights.bin") == 2);
  CHECK_FALSE(fs::exists(result.path + "/other-x"));
  CHECK_FALSE(fs::exists(result.path + "/build"));  // object files are not kept
  CHECK(fractions == std::vector<double>{0.1, 1.0});
  // Nothing but the entry is left in the cache.
  CHECK(std::distance(fs::directory_iterator(folder + "/cache/bundles"),
                      fs::directory_iterator()) == 1);
  fs::remove_all(folder);
}

TEST_CASE("local bundle cache: a hit builds nothing") {
  const std::string folder = ScratchFolder("hit");
  WriteExecutable(folder + "/cache/bundles/0123abcd/bin/serve", "#!/bin/sh\n");
  // A CMake that fails on any call: a hit must not call it.
  const BundleBuildResult result = BuildBundle(Build(folder, "/bin/false"), Rendered());
  CHECK(result.ok);
  CHECK(result.cached);
  CHECK(result.path == folder + "/cache/bundles/0123abcd");
  fs::remove_all(folder);
}

TEST_CASE("local bundle cache: a failed build says why, keeps the last 30 lines, leaves nothing") {
  const std::string folder = ScratchFolder("fail");
  const BundleBuildResult result = BuildBundle(Build(folder, FakeCmake(folder, true)), Rendered());
  CHECK_FALSE(result.ok);
  CHECK(result.error ==
        "building bundle bundles/faq-live failed: " + folder + "/fake-cmake exited with status 2");
  CHECK(result.detail.ends_with("line 35\nmodel.cc:1: error: broken\n"));
  CHECK(result.detail.starts_with("line 7\n"));
  CHECK_FALSE(fs::exists(result.path));
  CHECK(fs::is_empty(folder + "/cache/bundles"));
  fs::remove_all(folder);
}

TEST_CASE("local bundle cache: builds of dead processes are removed, live ones kept") {
  const std::string folder = ScratchFolder("stale");
  const std::string bundles = folder + "/cache/bundles";
  // Pid 2^22 + 1 is above Linux's pid_max limit: never a live process.
  fs::create_directories(bundles + "/aaaa.tmp-4194305-0/build");
  fs::create_directories(bundles + "/bbbb.tmp-" + std::to_string(::getpid()) + "-3");
  fs::create_directories(bundles + "/cccc");
  // A compiler still running in the dead build's folder is stopped with it.
  std::string error;
  const std::optional<pid_t> compiler = SpawnDetached(
      {"/bin/sleep", "60"}, bundles + "/aaaa.tmp-4194305-0/build", folder + "/log", error);
  REQUIRE_MESSAGE(compiler.has_value(), error);
  CHECK(RemoveStaleBuilds(folder + "/cache") == 1);
  for (int i = 0; i < 100 && ProcessAlive(*compiler); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE(ProcessAlive(*compiler));
  CHECK_FALSE(fs::exists(bundles + "/aaaa.tmp-4194305-0"));
  CHECK(fs::exists(bundles + "/bbbb.tmp-" + std::to_string(::getpid()) + "-3"));
  CHECK(fs::exists(bundles + "/cccc"));
  fs::remove_all(folder);
}

TEST_CASE(
    "local bundle cache: no files under the bundle's folder is an error, not an empty entry") {
  const std::string folder = ScratchFolder("empty");
  BundleBuild build = Build(folder, FakeCmake(folder, false));
  build.directory = "bundles/missing";
  const BundleBuildResult result = BuildBundle(build, Rendered());
  CHECK_FALSE(result.ok);
  CHECK(result.error == "the render output has no files under bundles/missing");
  CHECK(fs::is_empty(folder + "/cache/bundles"));
  fs::remove_all(folder);
}

}  // namespace
}  // namespace ferry::apply

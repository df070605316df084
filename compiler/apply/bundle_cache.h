// The content-addressed bundle cache of the local executor:
// <cache_dir>/bundles/<bundle sha256>/ holds a built bundle (bin/serve), so
// an unchanged bundle is never built twice, in any project. An entry is
// built in <sha256>.tmp-<pid>-<n>/ and renamed into place when complete, so a
// killed build never leaves a half entry, and two builds racing both end
// with one complete entry.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/render/render.h"

namespace ferry::apply {

/// "<cache_dir>/bundles/<sha256>".
auto BundleCachePath(std::string_view cache_dir, std::string_view sha256) -> std::string;

/// True when the entry at `path` is complete (holds bin/serve).
auto BundleCached(const std::string& path) -> bool;

struct BundleBuild {
  std::string cache_dir;
  std::string sha256;
  /// The bundle's folder in the render output ("bundles/faq-live"): its files
  /// become the entry's files; the render's runtime/ goes to runtime/ in it.
  std::string directory;
  std::string cmake = "cmake";
  std::string build_type = "Release";
  int jobs = 0;  ///< 0: the number of processors
  /// CMake's "[ NN%]" as a fraction in 0..1.
  std::function<void(double fraction)> on_progress;
};

struct BundleBuildResult {
  bool ok = false;
  bool cached = false;  ///< the entry was already there: nothing was built
  std::string path;     ///< the entry's folder
  std::string error;    ///< what failed
  std::string detail;   ///< the last lines of the build output
};

/// Builds `build` from `rendered`'s files unless its entry exists; removes
/// the temporary folders of builds whose process is gone first.
auto BuildBundle(const BundleBuild& build, const render::RenderResult& rendered)
    -> BundleBuildResult;

/// Removes "<sha>.tmp-<pid>-<n>" folders under `cache_dir`/bundles whose pid
/// is not a live process (a build whose ferry was killed), stopping the
/// build processes still working in them. Returns how many.
auto RemoveStaleBuilds(const std::string& cache_dir) -> int;

}  // namespace ferry::apply

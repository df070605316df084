// Writing rendered files to a folder on disk: the I/O edge of `ferry render`
// and `ferry golden`. Render keeps a listing of what it wrote in the output
// folder (.ferry-render.json), so a re-render removes the files it no longer
// produces and never touches a folder that holds someone else's files.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/render/render.h"

namespace ferry::cli {

/// The listing of what `ferry render` wrote, inside OUT.
inline constexpr std::string_view kRenderListing = ".ferry-render.json";

/// What a write did; `error` is set (and the rest partial) when it failed.
struct WriteOutcome {
  std::string error;
  std::size_t written = 0;    ///< files created or changed
  std::size_t unchanged = 0;  ///< files that already held these bytes (left untouched)
  std::size_t removed = 0;    ///< stale files deleted
};

/// Every regular file under `folder`, as sorted '/'-separated relative paths
/// (empty when the folder does not exist).
auto ListFiles(const std::string& folder) -> std::vector<std::string>;

/// Writes each file under `folder`, creating folders, unless it already holds
/// the same bytes (so unchanged files keep their times). Each write goes to
/// a temporary file renamed into place. False with outcome.error on failure.
auto WriteFiles(const std::string& folder, std::span<const render::RenderedFile> files,
                WriteOutcome& outcome) -> bool;

/// Deletes `relative` paths under `folder`, then the folders they leave
/// empty (never `folder` itself). Missing files are fine.
auto RemoveFiles(const std::string& folder, std::span<const std::string> relative,
                 WriteOutcome& outcome) -> bool;

/// `ferry render`'s write: refuses a non-empty `out` without a listing (or
/// with an unreadable one), writes `files`, deletes the files the previous
/// listing names that `files` no longer has, and writes the new listing
/// (path and sha256 of each file).
auto WriteRenderOutput(const std::string& out, std::span<const render::RenderedFile> files)
    -> WriteOutcome;

}  // namespace ferry::cli

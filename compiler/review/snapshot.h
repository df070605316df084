// One side of a review: the project compiled, checked and (when clean)
// rendered from any file system, in particular one git revision's tree.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "compiler/catalog/catalog.h"
#include "compiler/review/git_tree.h"
#include "compiler/review/review.h"
#include "compiler/support/file_system.h"

namespace ferry::review {

/// Compiles and checks the manifest at `manifest_path` in `fs` and, when that
/// reports no error, renders it with the model files read through `fs`.
/// A missing manifest is not an error: the snapshot says `manifest_found` false.
auto TakeSnapshot(const support::FileSystem& fs, const std::string& manifest_path,
                  const catalog::Catalog& catalog, std::string revision, std::string commit)
    -> Snapshot;

/// A revision's snapshot, or why the revision could not be read.
struct RevisionSnapshot {
  Snapshot snapshot;
  std::string error;  ///< "" on success ("cannot resolve revision 'x': ...")
};

/// Resolves `revision` in `repository` and snapshots the manifest at
/// `manifest_path` (relative to the repository's root) in its tree.
auto TakeRevisionSnapshot(const std::shared_ptr<GitRepository>& repository,
                          std::string_view revision, const std::string& manifest_path,
                          const catalog::Catalog& catalog) -> RevisionSnapshot;

}  // namespace ferry::review

// A project's files as one git revision holds them, read with libgit2 straight
// from the object database: no checkout, no work tree needed (bare
// repositories work), nothing written. `ferry diff` compiles each side of a
// review through one of these file systems.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "compiler/support/file_system.h"

// libgit2's handles, so this header does not pull in <git2.h>.
struct git_repository;
struct git_tree;

namespace ferry::review {

class GitRepository;
struct OpenedRepository;
struct RevisionTree;

/// Opens the repository at `path`: a work tree or any folder inside it (the
/// search goes up, as git's does), a `.git` folder, or a bare repository.
auto OpenRepository(const std::string& path) -> OpenedRepository;

/// Resolves `revision` in any spelling git accepts (a branch, a tag, a full or
/// short commit id, "HEAD~1", "origin/main", "main@{1}") to a commit and opens its tree.
auto ReadRevision(const std::shared_ptr<GitRepository>& repository, std::string_view revision)
    -> RevisionTree;

/// A repository opened read-only (see OpenRepository; errors are values).
class GitRepository {
 public:
  ~GitRepository();
  GitRepository(const GitRepository&) = delete;
  auto operator=(const GitRepository&) -> GitRepository& = delete;

  /// Where the repository's git folder is (for a bare repository, the repository itself).
  auto git_dir() const -> std::string;
  /// Whether the repository has no work tree.
  auto bare() const -> bool;

 private:
  friend auto OpenRepository(const std::string& path) -> OpenedRepository;
  friend auto ReadRevision(const std::shared_ptr<GitRepository>& repository,
                           std::string_view revision) -> RevisionTree;
  explicit GitRepository(git_repository* handle) : handle_(handle) {}
  git_repository* handle_;
};

/// What `OpenRepository` found.
struct OpenedRepository {
  std::shared_ptr<GitRepository> repository;  ///< null when `error` is set
  std::string error;                          ///< "" on success
};

/// A commit's tree as a file system. Paths are relative to the repository's
/// root, '/'-separated; "." and ".." parts are resolved, a path that leaves
/// the root or is absolute reads as missing. Symbolic links inside the tree
/// are followed; folders and submodules read as missing, like on disk.
class GitTree final : public support::FileSystem {
 public:
  ~GitTree() override;
  GitTree(const GitTree&) = delete;
  auto operator=(const GitTree&) -> GitTree& = delete;

  auto Read(const std::string& path) const -> std::optional<std::string> override;

 private:
  friend auto ReadRevision(const std::shared_ptr<GitRepository>& repository,
                           std::string_view revision) -> RevisionTree;
  GitTree(std::shared_ptr<GitRepository> repository, git_tree* tree)
      : repository_(std::move(repository)), tree_(tree) {}
  auto ReadNormalized(const std::string& path, int links_left) const -> std::optional<std::string>;

  // The tree's objects belong to the repository: keep it open while the tree lives.
  std::shared_ptr<GitRepository> repository_;
  git_tree* tree_;
};

/// One revision resolved and its tree opened.
struct RevisionTree {
  std::string commit;             ///< the full commit id (40 hex digits)
  std::unique_ptr<GitTree> tree;  ///< null when `error` is set
  std::string error;              ///< "" on success
};

/// The '/'-separated path with "." and empty parts dropped and ".." resolved;
/// nullopt when it is absolute or climbs above the root ("a/./b/../c" -> "a/c").
auto NormalizeTreePath(std::string_view path) -> std::optional<std::string>;

}  // namespace ferry::review

#include "compiler/review/git_tree.h"

#include <git2.h>

#include <utility>
#include <vector>

namespace ferry::review {
namespace {

// How many symbolic links one read follows before giving up (a loop, or a chain too long).
constexpr int kMaxLinks = 8;

// libgit2's message for the last failed call, or a fallback.
auto LastError(std::string_view fallback) -> std::string {
  const git_error* error = git_error_last();
  if (error == nullptr || error->message == nullptr || *error->message == '\0') {
    return std::string(fallback);
  }
  return error->message;
}

// Frees a libgit2 object when it goes out of scope.
template <typename T, void (*Free)(T*)>
struct Owned {
  T* handle = nullptr;
  Owned() = default;
  Owned(const Owned&) = delete;
  auto operator=(const Owned&) -> Owned& = delete;
  ~Owned() {
    if (handle != nullptr) Free(handle);
  }
  auto release() -> T* { return std::exchange(handle, nullptr); }
};

using OwnedObject = Owned<git_object, git_object_free>;
using OwnedEntry = Owned<git_tree_entry, git_tree_entry_free>;
using OwnedBlob = Owned<git_blob, git_blob_free>;
using OwnedTree = Owned<git_tree, git_tree_free>;

}  // namespace

GitRepository::~GitRepository() {
  git_repository_free(handle_);
  git_libgit2_shutdown();
}

auto GitRepository::git_dir() const -> std::string { return git_repository_path(handle_); }

auto GitRepository::bare() const -> bool { return git_repository_is_bare(handle_) != 0; }

auto OpenRepository(const std::string& path) -> OpenedRepository {
  // Reference counted by libgit2; ~GitRepository balances it.
  git_libgit2_init();
  git_repository* handle = nullptr;
  if (git_repository_open_ext(&handle, path.c_str(), 0, nullptr) != 0) {
    std::string error =
        "cannot open a git repository at '" + path + "': " + LastError("not a git repository");
    git_libgit2_shutdown();
    return {.repository = nullptr, .error = std::move(error)};
  }
  return {.repository = std::shared_ptr<GitRepository>(new GitRepository(handle)), .error = ""};
}

auto ReadRevision(const std::shared_ptr<GitRepository>& repository, std::string_view revision)
    -> RevisionTree {
  const std::string spelled(revision);
  const auto failed = [&](std::string_view what) {
    return RevisionTree{.commit = "",
                        .tree = nullptr,
                        .error = "cannot resolve revision '" + spelled + "': " + LastError(what)};
  };
  // "-x" would be taken as an option by git's own tools; refuse it here too.
  if (spelled.empty() || spelled.starts_with('-')) {
    return RevisionTree{
        .commit = "", .tree = nullptr, .error = "invalid revision '" + spelled + "'"};
  }
  OwnedObject found;
  if (git_revparse_single(&found.handle, repository->handle_, spelled.c_str()) != 0) {
    return failed("not found");
  }
  OwnedObject commit;
  if (git_object_peel(&commit.handle, found.handle, GIT_OBJECT_COMMIT) != 0) {
    // libgit2's own message names only the object's id and type number.
    return RevisionTree{.commit = "",
                        .tree = nullptr,
                        .error = "revision '" + spelled + "' is a " +
                                 git_object_type2string(git_object_type(found.handle)) +
                                 ", not a commit"};
  }
  OwnedTree tree;
  if (git_commit_tree(&tree.handle, reinterpret_cast<git_commit*>(commit.handle)) != 0) {
    return failed("the commit's tree cannot be read");
  }
  char id[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(id, sizeof id, git_object_id(commit.handle));
  return RevisionTree{.commit = id,
                      .tree = std::unique_ptr<GitTree>(new GitTree(repository, tree.release())),
                      .error = ""};
}

GitTree::~GitTree() { git_tree_free(tree_); }

auto GitTree::Read(const std::string& path) const -> std::optional<std::string> {
  std::optional<std::string> normalized = NormalizeTreePath(path);
  if (!normalized || normalized->empty()) return std::nullopt;
  return ReadNormalized(*normalized, kMaxLinks);
}

auto GitTree::ReadNormalized(const std::string& path, int links_left) const
    -> std::optional<std::string> {
  OwnedEntry entry;
  if (git_tree_entry_bypath(&entry.handle, tree_, path.c_str()) != 0) return std::nullopt;
  const git_filemode_t mode = git_tree_entry_filemode(entry.handle);
  if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE &&
      mode != GIT_FILEMODE_LINK) {
    return std::nullopt;
  }
  OwnedBlob blob;
  if (git_blob_lookup(&blob.handle, git_tree_owner(tree_), git_tree_entry_id(entry.handle)) != 0) {
    return std::nullopt;
  }
  std::string contents(static_cast<const char*>(git_blob_rawcontent(blob.handle)),
                       static_cast<std::size_t>(git_blob_rawsize(blob.handle)));
  if (mode != GIT_FILEMODE_LINK) return contents;
  // A link's blob is its target, relative to the link's folder.
  if (links_left == 0) return std::nullopt;
  const std::size_t slash = path.rfind('/');
  const std::string folder = slash == std::string::npos ? "" : path.substr(0, slash);
  std::optional<std::string> target =
      NormalizeTreePath(folder.empty() ? contents : folder + "/" + contents);
  if (!target || target->empty() || contents.starts_with('/')) return std::nullopt;
  return ReadNormalized(*target, links_left - 1);
}

auto NormalizeTreePath(std::string_view path) -> std::optional<std::string> {
  if (path.starts_with('/')) return std::nullopt;
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string joined;
  for (std::string_view part : parts) {
    if (!joined.empty()) joined += '/';
    joined += part;
  }
  return joined;
}

}  // namespace ferry::review

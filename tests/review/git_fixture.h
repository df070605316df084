// Real git repositories for the review tests, written with libgit2 straight
// into the object database (no git binary, no work tree needed): each commit
// is given as the whole tree it holds. Commit times are fixed, so commit ids
// are the same on every run. Header-only: the test glob builds only *_test.cc.
#pragma once

#include <doctest/doctest.h>
#include <git2.h>

#include <map>
#include <string>

namespace ferry::testing {

/// Path in the repository -> contents (a path ending in "@link" is written as
/// a symbolic link to `contents`, without the suffix).
using GitFiles = std::map<std::string, std::string>;

class GitFixture {
 public:
  /// Creates an empty repository at `path` whose HEAD is refs/heads/main.
  explicit GitFixture(const std::string& path, bool bare = false) {
    git_libgit2_init();
    // The _INIT macro leaves fields unnamed, which -Wmissing-field-initializers rejects.
    git_repository_init_options options;
    REQUIRE(git_repository_init_options_init(&options, GIT_REPOSITORY_INIT_OPTIONS_VERSION) == 0);
    options.flags = GIT_REPOSITORY_INIT_MKPATH | (bare ? GIT_REPOSITORY_INIT_BARE : 0);
    options.initial_head = "main";
    REQUIRE(git_repository_init_ext(&repository_, path.c_str(), &options) == 0);
  }
  ~GitFixture() {
    git_repository_free(repository_);
    git_libgit2_shutdown();
  }
  GitFixture(const GitFixture&) = delete;
  auto operator=(const GitFixture&) -> GitFixture& = delete;

  /// Commits `files` as the whole tree on `branch` (after its tip, if it has
  /// one; a new branch starts at `start`, a commit id, or with no parent when
  /// "" ). Returns the new commit's id.
  auto Commit(const std::string& branch, const GitFiles& files, const std::string& message,
              const std::string& start = "") -> std::string {
    git_oid tree_id = WriteTree(files);
    git_tree* tree = nullptr;
    REQUIRE(git_tree_lookup(&tree, repository_, &tree_id) == 0);

    const std::string ref = "refs/heads/" + branch;
    git_commit* parent = nullptr;
    git_oid parent_id;
    if (git_reference_name_to_id(&parent_id, repository_, ref.c_str()) == 0 ||
        (!start.empty() && git_oid_fromstr(&parent_id, start.c_str()) == 0)) {
      REQUIRE(git_commit_lookup(&parent, repository_, &parent_id) == 0);
    }
    // A fixed clock: one minute per commit, so ids are stable.
    git_signature* author = nullptr;
    REQUIRE(git_signature_new(&author, "Ferry Test", "test@ferry.invalid",
                              1700000000 + 60 * commits_++, 0) == 0);
    const git_commit* parents[] = {parent};
    git_oid commit_id;
    // Creating the branch's ref here also moves it, when it already points at the parent.
    REQUIRE(git_commit_create(&commit_id, repository_, nullptr, author, author, nullptr,
                              message.c_str(), tree, parent == nullptr ? 0 : 1, parents) == 0);
    git_reference* moved = nullptr;
    REQUIRE(git_reference_create(&moved, repository_, ref.c_str(), &commit_id, /*force=*/1,
                                 nullptr) == 0);
    git_reference_free(moved);
    git_signature_free(author);
    git_commit_free(parent);
    git_tree_free(tree);
    return Id(commit_id);
  }

  /// Points the reference `name` ("refs/tags/v1", "refs/remotes/origin/main") at `commit`.
  void Reference(const std::string& name, const std::string& commit) {
    git_oid id;
    REQUIRE(git_oid_fromstr(&id, commit.c_str()) == 0);
    git_reference* created = nullptr;
    REQUIRE(git_reference_create(&created, repository_, name.c_str(), &id, 1, nullptr) == 0);
    git_reference_free(created);
  }

  /// Adds an annotated tag `name` on `commit`.
  void AnnotatedTag(const std::string& name, const std::string& commit) {
    git_oid id;
    REQUIRE(git_oid_fromstr(&id, commit.c_str()) == 0);
    git_object* target = nullptr;
    REQUIRE(git_object_lookup(&target, repository_, &id, GIT_OBJECT_COMMIT) == 0);
    git_signature* tagger = nullptr;
    REQUIRE(git_signature_new(&tagger, "Ferry Test", "test@ferry.invalid", 1700000000, 0) == 0);
    git_oid tag_id;
    REQUIRE(git_tag_create(&tag_id, repository_, name.c_str(), target, tagger, "release", 1) == 0);
    git_signature_free(tagger);
    git_object_free(target);
  }

 private:
  static auto Id(const git_oid& id) -> std::string {
    char text[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(text, sizeof text, &id);
    return text;
  }

  // Blobs into an in-memory index, then one tree object (with its sub-trees) from it.
  auto WriteTree(const GitFiles& files) -> git_oid {
    git_index* index = nullptr;
    REQUIRE(git_index_new(&index) == 0);
    for (const auto& [name, contents] : files) {
      const bool link = name.ends_with("@link");
      const std::string path = link ? name.substr(0, name.size() - 5) : name;
      git_index_entry entry = {};
      entry.path = path.c_str();
      entry.mode = link ? GIT_FILEMODE_LINK : GIT_FILEMODE_BLOB;
      REQUIRE(git_blob_create_from_buffer(&entry.id, repository_, contents.data(),
                                          contents.size()) == 0);
      REQUIRE(git_index_add(index, &entry) == 0);
    }
    git_oid tree_id;
    REQUIRE(git_index_write_tree_to(&tree_id, index, repository_) == 0);
    git_index_free(index);
    return tree_id;
  }

  git_repository* repository_ = nullptr;
  int commits_ = 0;
};

}  // namespace ferry::testing

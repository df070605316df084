// GitTree against real repositories written with libgit2 (tests/review/git_fixture.h).
#include "compiler/review/git_tree.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "tests/cli/process_util.h"
#include "tests/review/git_fixture.h"

namespace ferry::review {
namespace {

using testing::GitFiles;
using testing::GitFixture;
using testing::TempDir;

// The contents of `path` at `revision`, "<missing>" when the tree has no such file, or the error.
auto ReadAt(const std::shared_ptr<GitRepository>& repository, const std::string& revision,
            const std::string& path) -> std::string {
  RevisionTree read = ReadRevision(repository, revision);
  if (!read.error.empty()) return "error: " + read.error;
  return read.tree->Read(path).value_or("<missing>");
}

auto Open(const std::string& path) -> std::shared_ptr<GitRepository> {
  OpenedRepository opened = OpenRepository(path);
  INFO(opened.error);
  REQUIRE(opened.repository != nullptr);
  CHECK(opened.error == "");
  return opened.repository;
}

TEST_CASE("GitTree reads each revision's files, whatever the revision's spelling") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo");
  const std::string first = git.Commit("main", {{"ferry.yaml", "one\n"}, {"a.txt", "a"}}, "1");
  const std::string second =
      git.Commit("main", {{"ferry.yaml", "two\n"}, {"models/b.onnx", "b"}}, "2");
  const std::string side =
      git.Commit("feature", {{"ferry.yaml", "side\n"}}, "side branch", /*start=*/first);
  git.Reference("refs/tags/v1", first);
  git.AnnotatedTag("v2", second);
  git.Reference("refs/remotes/origin/main", first);

  const std::shared_ptr<GitRepository> repository = Open(dir.path() + "/repo");
  CHECK(!repository->bare());
  CHECK(ReadAt(repository, "HEAD", "ferry.yaml") == "two\n");
  CHECK(ReadAt(repository, "main", "ferry.yaml") == "two\n");
  CHECK(ReadAt(repository, "HEAD~1", "ferry.yaml") == "one\n");
  CHECK(ReadAt(repository, "main^", "ferry.yaml") == "one\n");
  CHECK(ReadAt(repository, first, "ferry.yaml") == "one\n");
  CHECK(ReadAt(repository, first.substr(0, 7), "ferry.yaml") == "one\n");
  CHECK(ReadAt(repository, "v1", "ferry.yaml") == "one\n");
  CHECK(ReadAt(repository, "v2", "ferry.yaml") == "two\n");
  CHECK(ReadAt(repository, "origin/main", "ferry.yaml") == "one\n");
  CHECK(ReadAt(repository, "feature", "ferry.yaml") == "side\n");
  CHECK(ReadAt(repository, "feature~1", "ferry.yaml") == "one\n");

  // A file deleted, a file added; the commit id is the full one, also for an annotated tag.
  CHECK(ReadAt(repository, "HEAD", "a.txt") == "<missing>");
  CHECK(ReadAt(repository, "HEAD~1", "a.txt") == "a");
  CHECK(ReadAt(repository, "HEAD", "models/b.onnx") == "b");
  CHECK(ReadAt(repository, "HEAD~1", "models/b.onnx") == "<missing>");
  CHECK(ReadRevision(repository, "v2").commit == second);
  CHECK(ReadRevision(repository, first.substr(0, 10)).commit == first);
  CHECK(ReadRevision(repository, "feature").commit == side);
  CHECK(second.size() == 40);
}

TEST_CASE("GitTree works in a bare repository and from a folder inside a work tree") {
  TempDir dir;
  {
    GitFixture bare(dir.path() + "/bare.git", /*bare=*/true);
    bare.Commit("main", {{"ferry.yaml", "bare\n"}}, "1");
  }
  const std::shared_ptr<GitRepository> repository = Open(dir.path() + "/bare.git");
  CHECK(repository->bare());
  CHECK(ReadAt(repository, "HEAD", "ferry.yaml") == "bare\n");

  {
    GitFixture work(dir.path() + "/work");
    work.Commit("main", {{"project/ferry.yaml", "nested\n"}}, "1");
  }
  std::filesystem::create_directories(dir.path() + "/work/project/deeper");
  const std::shared_ptr<GitRepository> found = Open(dir.path() + "/work/project/deeper");
  CHECK(std::filesystem::equivalent(found->git_dir(), dir.path() + "/work/.git"));
  // Paths stay relative to the repository's root, not to the folder it was opened from.
  CHECK(ReadAt(found, "HEAD", "project/ferry.yaml") == "nested\n");
  CHECK(ReadAt(found, "HEAD", "ferry.yaml") == "<missing>");
}

TEST_CASE("GitTree paths: normalized, folders and escapes read as missing, links followed") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo");
  git.Commit("main",
             {{"p/ferry.yaml", "manifest"},
              {"p/models/m.onnx", "model"},
              {"shared/m.onnx", "shared model"},
              {"p/linked.onnx@link", "../shared/m.onnx"},
              {"p/absolute.onnx@link", "/etc/passwd"},
              {"p/loop@link", "loop"},
              {"p/dangling@link", "nothing-here"}},
             "1");
  const std::shared_ptr<GitRepository> repository = Open(dir.path() + "/repo");
  RevisionTree head = ReadRevision(repository, "HEAD");
  REQUIRE(head.tree != nullptr);
  const GitTree& tree = *head.tree;
  CHECK(tree.Read("p/ferry.yaml") == "manifest");
  CHECK(tree.Read("./p/ferry.yaml") == "manifest");
  CHECK(tree.Read("p//models/../ferry.yaml") == "manifest");
  CHECK(tree.Read("p/../shared/m.onnx") == "shared model");
  CHECK(tree.Read("p/linked.onnx") == "shared model");
  CHECK(tree.Read("p") == std::nullopt);
  CHECK(tree.Read("p/models") == std::nullopt);
  CHECK(tree.Read("") == std::nullopt);
  CHECK(tree.Read("../p/ferry.yaml") == std::nullopt);
  CHECK(tree.Read("/p/ferry.yaml") == std::nullopt);
  CHECK(tree.Read("p/absolute.onnx") == std::nullopt);
  CHECK(tree.Read("p/loop") == std::nullopt);
  CHECK(tree.Read("p/dangling") == std::nullopt);
  CHECK(tree.Read("p/ferry.yaml/x") == std::nullopt);
}

TEST_CASE("GitTree reports what cannot be opened or resolved, as values") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/plain");
  OpenedRepository none = OpenRepository(dir.path() + "/plain");
  CHECK(none.repository == nullptr);
  CHECK(none.error.starts_with("cannot open a git repository at '" + dir.path() + "/plain': "));

  GitFixture git(dir.path() + "/repo");
  {
    // An empty repository: HEAD names a branch with no commit yet.
    const std::shared_ptr<GitRepository> empty = Open(dir.path() + "/repo");
    RevisionTree unborn = ReadRevision(empty, "HEAD");
    CHECK(unborn.tree == nullptr);
    CHECK(unborn.error.starts_with("cannot resolve revision 'HEAD': "));
  }
  git.Commit("main", {{"ferry.yaml", "one\n"}}, "1");
  const std::shared_ptr<GitRepository> repository = Open(dir.path() + "/repo");
  RevisionTree missing = ReadRevision(repository, "no-such-branch");
  CHECK(missing.tree == nullptr);
  CHECK(missing.commit == "");
  CHECK(missing.error.starts_with("cannot resolve revision 'no-such-branch': "));
  CHECK(ReadRevision(repository, "HEAD~5").error.starts_with("cannot resolve revision 'HEAD~5': "));
  // A blob is not a commit.
  CHECK(ReadRevision(repository, "HEAD:ferry.yaml").error ==
        "revision 'HEAD:ferry.yaml' is a blob, not a commit");
  CHECK(ReadRevision(repository, "").error == "invalid revision ''");
  CHECK(ReadRevision(repository, "--all").error == "invalid revision '--all'");
}

TEST_CASE("NormalizeTreePath") {
  CHECK(NormalizeTreePath("a/./b/../c") == "a/c");
  CHECK(NormalizeTreePath("ferry.yaml") == "ferry.yaml");
  CHECK(NormalizeTreePath("a//b/") == "a/b");
  CHECK(NormalizeTreePath(".") == "");
  CHECK(NormalizeTreePath("a/..") == "");
  CHECK(NormalizeTreePath("..") == std::nullopt);
  CHECK(NormalizeTreePath("a/../../b") == std::nullopt);
  CHECK(NormalizeTreePath("/etc/passwd") == std::nullopt);
}

}  // namespace
}  // namespace ferry::review

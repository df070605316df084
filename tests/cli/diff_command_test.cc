// `ferry diff` run as the real binary on git repositories written with libgit2:
// the seeds' worked traffic example commit by commit (every pair of commits,
// both ways), a bare repository, the three formats, exit codes and errors.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/support/sha256.h"
#include "tests/cli/process_util.h"
#include "tests/onnx/test_models.h"
#include "tests/review/git_fixture.h"
#include "tests/support/manifests.h"

namespace ferry::testing {
namespace {

const std::string kFerry = FERRY_BINARY;
const std::string kModel = TestModel("linear_classifier");

// The worked example [000], DOMAIN.md "Worked examples", one commit per state.
const std::vector<std::string> kWorkedExample = {
    "      a: {model: faq-ranker@3, traffic: 20, default: true}\n",
    "      a: {model: faq-ranker@3, traffic: 20, default: true}\n"
    "      b: {model: faq-ranker@3, traffic: 10}\n",
    "      a: {model: faq-ranker@3, traffic: 20}\n"
    "      b: {model: faq-ranker@3, traffic: 40, role: control, default: true}\n",
};

// The project in `folder` ("" for the root) with endpoint faq's `versions`.
auto Project(const std::string& folder, const std::string& versions) -> GitFiles {
  const std::string prefix = folder.empty() ? "" : folder + "/";
  return {{prefix + "ferry.yaml", FaqManifest(kModel, versions)},
          {prefix + "models/faq.onnx", kModel}};
}

// Writes the worked example's three commits on main; returns their ids.
auto WriteWorkedExample(GitFixture& git, const std::string& folder) -> std::vector<std::string> {
  std::vector<std::string> commits;
  commits.reserve(kWorkedExample.size());
  for (const std::string& versions : kWorkedExample) {
    commits.push_back(git.Commit("main", Project(folder, versions), "step"));
  }
  return commits;
}

// The lines of the text report's section `title` ("Traffic (as resolved):"), up to a blank line.
auto Section(const std::string& report, const std::string& title) -> std::string {
  const std::size_t start = report.find("\n" + title + "\n");
  if (start == std::string::npos) return "<no section '" + title + "'>";
  const std::size_t body = start + title.size() + 2;
  const std::size_t end = report.find("\n\n", body);
  return report.substr(body, end == std::string::npos ? std::string::npos : end + 1 - body);
}

TEST_CASE("ferry diff between each pair of the worked example's commits: the resolved traffic") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo.git", /*bare=*/true);
  const std::vector<std::string> c = WriteWorkedExample(git, "");
  const std::string repo = dir.path() + "/repo.git";
  const auto traffic = [&](const std::string& base, const std::string& head) {
    const ProcessResult result = RunProcess(kFerry, {"diff", base, head, "--repo", repo});
    CHECK(result.exit_code == 2);
    CHECK(result.err == "");
    return Section(result.out, "Traffic (as resolved):");
  };
  // a alone (100%) -> b added at 10%: a keeps 20% and the 70% remainder.
  CHECK(traffic(c[0], c[1]) == "  faq: a: 100% → 90%, b: — → 10%\n");
  // -> b at 40%, default and control: b gets 40% and the 40% remainder.
  CHECK(traffic(c[1], c[2]) ==
        "  faq: a: 90% → 20%, b: 10% → 80% (default moved a → b, control set to b)\n");
  CHECK(traffic(c[0], c[2]) ==
        "  faq: a: 100% → 20%, b: — → 80% (default moved a → b, control set to b)\n");
  // And back.
  CHECK(traffic(c[1], c[0]) == "  faq: a: 90% → 100%, b: 10% → —\n");
  CHECK(traffic(c[2], c[1]) ==
        "  faq: a: 20% → 90%, b: 80% → 10% (default moved b → a, control unset (was b))\n");
  CHECK(traffic(c[2], c[0]) ==
        "  faq: a: 20% → 100%, b: 80% → — (default moved b → a, control unset (was b))\n");

  // The same revision on both sides (spelled differently): no change, exit 0.
  const ProcessResult same = RunProcess(kFerry, {"diff", "main~1", c[1], "--repo", repo});
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("No changes.") != std::string::npos);
}

TEST_CASE("ferry diff reads a project in a sub-folder, from inside the work tree") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo");
  WriteWorkedExample(git, "services/faq");
  // A project added, then removed on a branch.
  git.Commit("teardown", {{"README.md", "gone\n"}}, "remove", /*start=*/"");
  std::filesystem::create_directories(dir.path() + "/repo/services");

  // --repo defaults to the current folder; the search for the repository goes up.
  const ProcessResult result = RunProcess(
      kFerry, {"diff", "HEAD~2", "HEAD", "--path", "services/faq"}, dir.path() + "/repo/services");
  CHECK(result.exit_code == 2);
  CHECK(result.err == "");
  INFO(result.out);
  CHECK(result.out.find("services/faq/ferry.yaml:15:7") != std::string::npos);

  // The manifest itself works as --path too; the project missing on one side is a change.
  const ProcessResult removed =
      RunProcess(kFerry, {"diff", "main", "teardown", "--repo", dir.path() + "/repo", "--path",
                          "services/faq/ferry.yaml"});
  CHECK(removed.exit_code == 2);
  CHECK(removed.err == "");
}

TEST_CASE("ferry diff --format markdown and json, deterministic") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo.git", /*bare=*/true);
  const std::vector<std::string> c = WriteWorkedExample(git, "");
  const std::string repo = dir.path() + "/repo.git";

  const ProcessResult markdown =
      RunProcess(kFerry, {"diff", "HEAD~1", "HEAD", "--repo", repo, "--format", "markdown"});
  CHECK(markdown.exit_code == 2);
  CHECK(markdown.out.find("| change | count |\n") != std::string::npos);
  CHECK(markdown.out.find(
            "- `faq`: a: 90% → 20%, b: 10% → 80% (default moved a → b, control set to b)\n") !=
        std::string::npos);
  CHECK(markdown.out.find("<details>") != std::string::npos);
  CHECK(
      RunProcess(kFerry, {"diff", "HEAD~1", "HEAD", "--repo", repo, "--format", "markdown"}).out ==
      markdown.out);

  const ProcessResult json =
      RunProcess(kFerry, {"diff", "HEAD~2", "HEAD~1", "--repo", repo, "--format", "json"});
  CHECK(json.exit_code == 2);
  const nlohmann::json report = nlohmann::json::parse(json.out);
  CHECK(report["base"]["commit"] == c[0]);
  CHECK(report["head"]["commit"] == c[1]);
  CHECK(report["head"]["revision"] == "HEAD~1");
  CHECK(report["has_changes"] == true);
  REQUIRE(report["traffic"].size() == 1);
  const nlohmann::json& versions = report["traffic"][0]["versions"];
  REQUIRE(versions.size() == 2);
  CHECK(versions[0]["version"] == "a");
  CHECK(versions[0]["before"] == 100.0);
  CHECK(versions[0]["after"] == 90.0);
  CHECK(versions[1]["version"] == "b");
  CHECK(versions[1]["before"].is_null());
  CHECK(versions[1]["after"] == 10.0);

  const ProcessResult none =
      RunProcess(kFerry, {"diff", "HEAD", c[2], "--repo", repo, "--format", "json"});
  CHECK(none.exit_code == 0);
  CHECK(nlohmann::json::parse(none.out)["has_changes"] == false);
}

TEST_CASE("ferry diff reports an invalid manifest's errors as changes, not as its own failure") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo.git", /*bare=*/true);
  WriteWorkedExample(git, "");
  // 20 + 90 > 100 (E0205): HEAD does not compile, and the report says what broke where.
  git.Commit("main",
             Project("",
                     "      a: {model: faq-ranker@3, traffic: 20}\n"
                     "      b: {model: faq-ranker@3, traffic: 90, default: true}\n"),
             "overflow");
  const ProcessResult result =
      RunProcess(kFerry, {"diff", "HEAD~1", "HEAD", "--repo", dir.path() + "/repo.git"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "");
  CHECK(result.out.find("\n  introduced ferry.yaml:14:") != std::string::npos);
  CHECK(result.out.find("error[E0205]") != std::string::npos);

  const ProcessResult help = RunProcess(kFerry, {"help", "diff"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.starts_with("usage: ferry diff BASE HEAD [--repo DIR] [--path SUBDIR] "));
}

TEST_CASE("ferry diff errors exit 1 with one line saying why") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo");
  WriteWorkedExample(git, "");
  const std::string repo = dir.path() + "/repo";
  std::filesystem::create_directories(dir.path() + "/plain");

  const ProcessResult not_a_repo =
      RunProcess(kFerry, {"diff", "HEAD~1", "HEAD", "--repo", dir.path() + "/plain"});
  CHECK(not_a_repo.exit_code == 1);
  CHECK(not_a_repo.out == "");
  CHECK(not_a_repo.err.starts_with("ferry diff: cannot open a git repository at '" + dir.path() +
                                   "/plain': "));

  const ProcessResult unknown = RunProcess(kFerry, {"diff", "nope", "HEAD", "--repo", repo});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.starts_with("ferry diff: cannot resolve revision 'nope': "));

  const ProcessResult no_project =
      RunProcess(kFerry, {"diff", "HEAD~1", "HEAD", "--repo", repo, "--path", "elsewhere"});
  CHECK(no_project.exit_code == 1);
  CHECK(no_project.err ==
        "ferry diff: no elsewhere/ferry.yaml at HEAD~1 nor at HEAD (--path names the project's "
        "folder)\n");

  const ProcessResult outside =
      RunProcess(kFerry, {"diff", "HEAD~1", "HEAD", "--repo", repo, "--path", "../x"});
  CHECK(outside.exit_code == 1);
  CHECK(outside.err ==
        "ferry diff: --path '../x' must be a path inside the repository, relative to its root\n");

  // Usage errors exit 1 too: 2 means "changes".
  const ProcessResult one = RunProcess(kFerry, {"diff", "HEAD", "--repo", repo});
  CHECK(one.exit_code == 1);
  CHECK(one.err.starts_with("ferry diff: expected two revisions, BASE and HEAD; got 1\nusage: "));
  const ProcessResult format =
      RunProcess(kFerry, {"diff", "HEAD~1", "HEAD", "--repo", repo, "--format", "sarif"});
  CHECK(format.exit_code == 1);
  CHECK(format.out == "");
}

TEST_CASE("docs/ci/ferry-review.sh checks the projects and writes and posts the diff comment") {
  TempDir dir;
  const std::string repo = dir.path() + "/repo";
  GitFixture git(repo);
  WriteWorkedExample(git, "services/faq");
  // The CI's checkout: the work tree holds HEAD's files.
  for (const auto& [path, contents] : Project("services/faq", kWorkedExample[2])) {
    dir.Write("repo/" + path, contents);
  }
  const std::string script = std::string(FERRY_SOURCE_DIR) + "/docs/ci/ferry-review.sh";
  const ProcessResult result =
      RunProcess("env",
                 {"FERRY=" + kFerry, "FERRY_COMMENT=" + dir.path() + "/comment.md",
                  "FERRY_POST=cat > " + ShellQuote(dir.path() + "/posted.md"), "bash", script,
                  "HEAD~1", "HEAD"},
                 repo);
  INFO(result.out, result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("services/faq/ferry.yaml: ok: project 'faq-matching'") !=
        std::string::npos);
  const std::string comment = ReadWholeFile(dir.path() + "/comment.md");
  CHECK(comment.starts_with("<!-- ferry-diff -->\n### ferry diff "));
  CHECK(comment.find(
            "- `faq`: a: 90% → 20%, b: 10% → 80% (default moved a → b, control set to b)\n") !=
        std::string::npos);
  CHECK(ReadWholeFile(dir.path() + "/posted.md") == comment);

  // A project that no longer checks fails the job, and the comment still says what changed.
  dir.Write("repo/services/faq/ferry.yaml", "ferry: 1\n");
  const ProcessResult failing =
      RunProcess("env",
                 {"FERRY=" + kFerry, "FERRY_COMMENT=" + dir.path() + "/comment.md", "bash", script,
                  "HEAD~1", "HEAD"},
                 repo);
  CHECK(failing.exit_code == 1);
  CHECK(ReadWholeFile(dir.path() + "/comment.md") == comment);
}

}  // namespace
}  // namespace ferry::testing

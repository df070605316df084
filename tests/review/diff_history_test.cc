// Reviews over a real git history (written with libgit2, tests/review/git_fixture.h):
// the seeds' worked traffic example commit by commit, then a model file
// renamed, a model file deleted, an invalid manifest and its fix, a branch
// that renames a version, and one that removes the project.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/review/review.h"
#include "compiler/review/snapshot.h"
#include "compiler/support/sha256.h"
#include "tests/cli/process_util.h"
#include "tests/onnx/test_models.h"
#include "tests/review/git_fixture.h"

namespace ferry::review {
namespace {

using testing::GitFiles;
using testing::GitFixture;
using testing::TempDir;

// The project lives in a sub-folder of the repository, as in a monorepo.
const std::string kManifest = "services/churn/ferry.yaml";
const std::string kLogistic = testing::TestModel("linear_classifier");
const std::string kTrees = testing::TestModel("tree_classifier");

// The manifest with model version 1 at `v1_path` and endpoint churn's `versions`
// lines (indented six spaces). The versions start on line 15.
auto Manifest(const std::string& v1_path, const std::string& versions) -> std::string {
  return fmt::format(
      "ferry: 1\n"
      "project: churn\n"
      "workspace: {{name: contoso-ml, region: westeurope}}\n"
      "models:\n"
      "  churn:\n"
      "    versions:\n"
      "      1: {{path: {}, sha256: {}}}\n"
      "      2: {{path: models/churn_v2.onnx, sha256: {}}}\n"
      "clusters:\n"
      "  prod: {{vm_size: Standard_D3_v2, agent_count: 3, kubernetes_version: \"1.16.13\"}}\n"
      "endpoints:\n"
      "  churn:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "{}",
      v1_path, support::Sha256Hex(kLogistic), support::Sha256Hex(kTrees), versions);
}

// The worked example's three states [000], DOMAIN.md "Worked examples".
const std::string kAAlone = "      a: {model: churn@1, traffic: 20, default: true}\n";
const std::string kAddB =
    "      a: {model: churn@1, traffic: 20, default: true}\n"
    "      b: {model: churn@2, traffic: 10}\n";
const std::string kPromoteB =
    "      a: {model: churn@1, traffic: 20}\n"
    "      b: {model: churn@2, traffic: 40, role: control, default: true}\n";

// The project's files with `manifest`; both model files unless told otherwise.
auto Files(const std::string& manifest, const std::string& v1_path = "models/churn_v1.onnx",
           bool with_v2 = true) -> GitFiles {
  GitFiles files = {{kManifest, manifest},
                    {"services/churn/" + v1_path, kLogistic},
                    {"README.md", "a monorepo\n"}};
  if (with_v2) files.emplace("services/churn/models/churn_v2.onnx", kTrees);
  return files;
}

// The commits of the history, by name.
struct History {
  std::string a_alone, add_b, promote_b, rename_file, delete_file, invalid, fixed;
  std::string rename_version, teardown;
};

auto WriteHistory(GitFixture& git) -> History {
  History h;
  h.a_alone = git.Commit("main", Files(Manifest("models/churn_v1.onnx", kAAlone)), "a alone");
  h.add_b = git.Commit("main", Files(Manifest("models/churn_v1.onnx", kAddB)), "add b at 10%");
  h.promote_b = git.Commit("main", Files(Manifest("models/churn_v1.onnx", kPromoteB)),
                           "b at 40%, default and control");
  // A git rename: the same bytes under a new name, the manifest follows.
  h.rename_file =
      git.Commit("main", Files(Manifest("models/logistic.onnx", kPromoteB), "models/logistic.onnx"),
                 "rename the logistic model's file");
  // The file of model version 2 deleted while b still serves it.
  h.delete_file = git.Commit(
      "main",
      Files(Manifest("models/logistic.onnx", kPromoteB), "models/logistic.onnx", /*with_v2=*/false),
      "delete churn_v2.onnx");
  // Restored, but b's traffic now overflows: 20 + 90 > 100.
  const std::string overflow =
      "      a: {model: churn@1, traffic: 20}\n"
      "      b: {model: churn@2, traffic: 90, role: control, default: true}\n";
  h.invalid =
      git.Commit("main", Files(Manifest("models/logistic.onnx", overflow), "models/logistic.onnx"),
                 "b at 90%");
  h.fixed =
      git.Commit("main", Files(Manifest("models/logistic.onnx", kPromoteB), "models/logistic.onnx"),
                 "b back at 40%");
  // Branches from the promotion: a version renamed, and the project removed.
  const std::string renamed =
      "      logistic: {model: churn@1, traffic: 20}\n"
      "      b: {model: churn@2, traffic: 40, role: control, default: true}\n";
  h.rename_version = git.Commit("rename", Files(Manifest("models/churn_v1.onnx", renamed)),
                                "rename version a to logistic", h.promote_b);
  h.teardown =
      git.Commit("teardown", {{"README.md", "a monorepo\n"}}, "remove the project", h.promote_b);
  git.Reference("refs/tags/promoted", h.promote_b);
  return h;
}

// A percentage as the tests spell it: "90", "12.5", "-" for absent.
auto Percent(const std::optional<double>& share) -> std::string {
  return share ? fmt::format("{}", *share) : "-";
}

auto OrDash(const std::string& name) -> std::string { return name.empty() ? "-" : name; }

// Each endpoint's resolved traffic change on one line:
// "churn: a 100 -> 90, b - -> 10; default a -> a; control - -> -".
auto TrafficLines(const Report& report) -> std::string {
  std::string lines;
  for (const TrafficChange& change : report.traffic) {
    std::string shares;
    for (const TrafficShare& share : change.shares) {
      shares += fmt::format("{}{} {} -> {}", shares.empty() ? "" : ", ", share.version,
                            Percent(share.before), Percent(share.after));
    }
    lines += fmt::format("{}: {}; default {} -> {}; control {} -> {}\n", change.endpoint, shares,
                         OrDash(change.default_before), OrDash(change.default_after),
                         OrDash(change.control_before), OrDash(change.control_after));
  }
  return lines;
}

auto Risks(const Report& report) -> std::string {
  std::string risks;
  for (const Risk& risk : report.risks) {
    risks += fmt::format("{} {}\n", ToString(risk.kind), risk.subject);
  }
  return risks;
}

// "introduced E0001 services/churn/ferry.yaml:8" per diagnostic change.
auto DiagnosticLines(const Report& report) -> std::string {
  std::string lines;
  for (const DiagnosticChange& change : report.diagnostics) {
    const diag::Diagnostic& d = change.diagnostic;
    lines += fmt::format("{} {} {}:{}\n", change.introduced ? "introduced" : "fixed",
                         diag::Info(d.code).code, d.location.file, d.location.line);
  }
  return lines;
}

class Reviewer {
 public:
  explicit Reviewer(const std::string& path) : repository_(OpenRepository(path).repository) {
    REQUIRE(repository_ != nullptr);
  }
  auto Diff(const std::string& base, const std::string& head) const -> Report {
    RevisionSnapshot before =
        TakeRevisionSnapshot(repository_, base, kManifest, catalog::Catalog::Builtin());
    RevisionSnapshot after =
        TakeRevisionSnapshot(repository_, head, kManifest, catalog::Catalog::Builtin());
    REQUIRE(before.error == "");
    REQUIRE(after.error == "");
    return Compare(before.snapshot, after.snapshot);
  }

 private:
  std::shared_ptr<GitRepository> repository_;
};

TEST_CASE("diff over the worked traffic example reports exactly the resolved traffic changes") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo");
  const History h = WriteHistory(git);
  const Reviewer reviewer(dir.path() + "/repo");

  SUBCASE("a alone -> add b: a keeps its 20% plus the 70% remainder") {
    const Report report = reviewer.Diff(h.a_alone, h.add_b);
    CHECK(TrafficLines(report) ==
          "churn: a 100 -> 90, b - -> 10; default a -> a; control - -> -\n");
    CHECK(Risks(report) == "new-version-serves endpoint churn\n");
    // Model version 2 was declared but served by nothing (W0603); b now serves it.
    CHECK(DiagnosticLines(report) == "fixed W0603 services/churn/ferry.yaml:8\n");
    CHECK(report.HasChanges());
  }
  SUBCASE("add b -> promote b: the default moves a -> b, b becomes the control") {
    const Report report = reviewer.Diff(h.add_b, h.promote_b);
    CHECK(TrafficLines(report) ==
          "churn: a 90 -> 20, b 10 -> 80; default a -> b; control - -> b\n");
    // b served 10% before: no new version serves.
    CHECK(Risks(report) == "");
  }
  SUBCASE("a alone -> promote b, in revision spellings other than ids") {
    const Report report = reviewer.Diff("main~6", "promoted");
    CHECK(report.base_commit == h.a_alone);
    CHECK(report.head_commit == h.promote_b);
    CHECK(report.base_revision == "main~6");
    CHECK(report.head_revision == "promoted");
    CHECK(TrafficLines(report) ==
          "churn: a 100 -> 20, b - -> 80; default a -> b; control - -> b\n");
    CHECK(Risks(report) == "new-version-serves endpoint churn\n");
  }
  SUBCASE("promote b -> a alone: the reverse") {
    const Report report = reviewer.Diff(h.promote_b, h.a_alone);
    CHECK(TrafficLines(report) ==
          "churn: a 20 -> 100, b 80 -> -; default b -> a; control b -> -\n");
  }
  SUBCASE("a commit against itself: no change") {
    const Report report = reviewer.Diff(h.add_b, "main~5");
    CHECK(!report.HasChanges());
    CHECK(TrafficLines(report) == "");
  }
}

TEST_CASE("diff over a renamed file, a deleted file and an invalid manifest") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo");
  const History h = WriteHistory(git);
  const Reviewer reviewer(dir.path() + "/repo");

  SUBCASE("a model file renamed: the model's path changes, traffic does not") {
    const Report report = reviewer.Diff(h.promote_b, h.rename_file);
    CHECK(TrafficLines(report) == "");
    CHECK(DiagnosticLines(report) == "");
    CHECK(Risks(report) == "");
    REQUIRE(report.domain.size() == 1);
    CHECK(report.domain[0].scope == "model");
    CHECK(report.domain[0].kind == ChangeKind::Modified);
    REQUIRE(report.domain[0].fields.size() == 1);
    CHECK(report.domain[0].fields[0].before == "models/churn_v1.onnx");
    CHECK(report.domain[0].fields[0].after == "models/logistic.onnx");
  }
  SUBCASE("a model file deleted: the error it causes, at its line in HEAD") {
    const Report report = reviewer.Diff(h.rename_file, h.delete_file);
    CHECK(DiagnosticLines(report) == "introduced E0601 services/churn/ferry.yaml:8\n");
    // Nothing rendered in HEAD, so objects cannot be compared, and the report says so.
    CHECK(!report.objects_compared);
    CHECK(report.objects_note != "");
    CHECK(report.HasChanges());
  }
  SUBCASE("an invalid manifest, then its fix") {
    const Report broken = reviewer.Diff(h.rename_file, h.invalid);
    CHECK(DiagnosticLines(broken) == "introduced E0205 services/churn/ferry.yaml:15\n");
    const Report fixed = reviewer.Diff(h.invalid, h.fixed);
    CHECK(DiagnosticLines(fixed) == "fixed E0205 services/churn/ferry.yaml:15\n");
    // The fix restores what rename_file had: nothing else differs.
    const Report round_trip = reviewer.Diff(h.rename_file, h.fixed);
    CHECK(!round_trip.HasChanges());
  }
}

TEST_CASE("diff across branches: a version renamed, the project removed") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo");
  const History h = WriteHistory(git);
  const Reviewer reviewer(dir.path() + "/repo");

  SUBCASE("a version renamed on a branch") {
    const Report report = reviewer.Diff("main~4", "rename");
    CHECK(report.base_commit == h.promote_b);
    CHECK(report.head_commit == h.rename_version);
    REQUIRE(report.domain.size() == 1);
    CHECK(report.domain[0].scope == "version");
    CHECK(report.domain[0].kind == ChangeKind::Renamed);
    CHECK(report.domain[0].old_name == "churn/a");
    CHECK(report.domain[0].name == "churn/logistic");
  }
  SUBCASE("the project removed on a branch, and added back") {
    const Report removed = reviewer.Diff(h.promote_b, "teardown");
    CHECK(removed.base_manifest);
    CHECK(!removed.head_manifest);
    CHECK(removed.HasChanges());
    const Report added = reviewer.Diff("teardown", h.promote_b);
    CHECK(!added.base_manifest);
    CHECK(added.head_manifest);
    CHECK(added.HasChanges());
  }
}

TEST_CASE("TakeRevisionSnapshot: what each side of a review holds") {
  TempDir dir;
  GitFixture git(dir.path() + "/repo");
  const History h = WriteHistory(git);
  const std::shared_ptr<GitRepository> repository = OpenRepository(dir.path() + "/repo").repository;
  REQUIRE(repository != nullptr);
  const catalog::Catalog& catalog = catalog::Catalog::Builtin();

  const RevisionSnapshot clean = TakeRevisionSnapshot(repository, "HEAD", kManifest, catalog);
  CHECK(clean.error == "");
  CHECK(clean.snapshot.revision == "HEAD");
  CHECK(clean.snapshot.commit == h.fixed);
  CHECK(clean.snapshot.manifest_found);
  REQUIRE(clean.snapshot.project.has_value());
  CHECK(clean.snapshot.project->endpoints.size() == 1);
  CHECK(clean.snapshot.diagnostics.empty());
  CHECK(clean.snapshot.sources.contains(kManifest));
  // Rendered from the models in the tree: the objects, an image and a bundle per version.
  CHECK(clean.snapshot.rendered.bundles.size() == 2);
  CHECK(!clean.snapshot.rendered.files.empty());

  const RevisionSnapshot invalid = TakeRevisionSnapshot(repository, "HEAD~1", kManifest, catalog);
  CHECK(invalid.snapshot.manifest_found);
  CHECK(invalid.snapshot.project.has_value());
  REQUIRE(invalid.snapshot.diagnostics.size() == 1);
  CHECK(invalid.snapshot.diagnostics[0].code == diag::Code::kTrafficOverflow);
  CHECK(invalid.snapshot.rendered.files.empty());

  const RevisionSnapshot gone = TakeRevisionSnapshot(repository, "teardown", kManifest, catalog);
  CHECK(gone.error == "");
  CHECK(!gone.snapshot.manifest_found);
  CHECK(!gone.snapshot.project.has_value());
  CHECK(gone.snapshot.diagnostics.empty());

  const RevisionSnapshot unknown = TakeRevisionSnapshot(repository, "nope", kManifest, catalog);
  CHECK(unknown.error.starts_with("cannot resolve revision 'nope': "));
}

}  // namespace
}  // namespace ferry::review

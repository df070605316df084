#include "compiler/review/review.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "compiler/review/compare.h"
#include "tests/review/review_fixture.h"

namespace ferry::review {
namespace {

using testing::Manifest;
using testing::Missing;
using testing::Take;

// The seeds' worked traffic example [000], one manifest per step.
const std::string kStep1 =
    "  churn:\n"
    "    cluster: prod\n"
    "    versions:\n"
    "      a: {model: scorer@1, traffic: 20, default: true}\n";
const std::string kStep2 = kStep1 + "      b: {model: scorer@2, traffic: 10}\n";
const std::string kStep3 =
    "  churn:\n"
    "    cluster: prod\n"
    "    versions:\n"
    "      a: {model: scorer@1, traffic: 20}\n"
    "      b: {model: scorer@2, traffic: 40, default: true, role: control}\n";

/// Each endpoint's traffic line, "endpoint: line".
auto TrafficLines(const Report& report) -> std::vector<std::string> {
  std::vector<std::string> lines;
  for (const TrafficChange& change : report.traffic) {
    lines.push_back(change.endpoint + ": " + detail::TrafficLine(change));
  }
  return lines;
}

/// "kind subject: message" per risk.
auto Risks(const Report& report) -> std::vector<std::string> {
  std::vector<std::string> risks;
  for (const Risk& risk : report.risks) {
    risks.push_back(std::string(ToString(risk.kind)) + " " + risk.subject + ": " + risk.message);
  }
  return risks;
}

/// "modified version churn/b: field before → after; ..." per declaration.
auto Domain(const Report& report) -> std::vector<std::string> {
  std::vector<std::string> lines;
  for (const DomainChange& change : report.domain) {
    std::string line = std::string(ToString(change.kind)) + " " + change.scope + " " + change.name;
    if (!change.old_name.empty()) line += " (was " + change.old_name + ")";
    for (const FieldChange& field : change.fields) {
      line += "; " + field.field + ": " + field.before + " → " + field.after;
    }
    lines.push_back(line);
  }
  return lines;
}

auto FindObject(const Report& report, const std::string& path) -> const ObjectChange* {
  for (const ObjectChange& change : report.objects) {
    if (change.path == path) return &change;
  }
  return nullptr;
}

auto Field(const ObjectChange& change, const std::string& field) -> std::string {
  for (const FieldChange& f : change.fields) {
    if (f.field == field) return f.before + " → " + f.after;
  }
  return "(unchanged)";
}

TEST_CASE(
    "review: the seeds' traffic history: each pair of steps reports exactly the resolved changes") {
  const Snapshot one = Take(Manifest(kStep1), "step1");
  const Snapshot two = Take(Manifest(kStep2), "step2");
  const Snapshot three = Take(Manifest(kStep3), "step3");
  using Lines = std::vector<std::string>;
  CHECK(TrafficLines(Compare(one, two)) == Lines{"churn: a: 100% → 90%, b: — → 10%"});
  CHECK(TrafficLines(Compare(two, three)) ==
        Lines{"churn: a: 90% → 20%, b: 10% → 80% (default moved a → b, control set to b)"});
  CHECK(TrafficLines(Compare(one, three)) ==
        Lines{"churn: a: 100% → 20%, b: — → 80% (default moved a → b, control set to b)"});
  CHECK(TrafficLines(Compare(three, one)) ==
        Lines{"churn: a: 20% → 100%, b: 80% → — (default moved b → a, control unset (was b))"});
  CHECK(TrafficLines(Compare(three, two)) ==
        Lines{"churn: a: 20% → 90%, b: 80% → 10% (default moved b → a, control unset (was b))"});

  // The resolved figures themselves, as tools read them.
  const Report report = Compare(two, three);
  REQUIRE(report.traffic.size() == 1);
  const TrafficChange& churn = report.traffic[0];
  REQUIRE(churn.shares.size() == 2);
  CHECK(churn.shares[0].version == "a");
  CHECK(*churn.shares[0].before == 90);
  CHECK(*churn.shares[0].after == 20);
  CHECK(churn.shares[1].version == "b");
  CHECK(*churn.shares[1].before == 10);
  CHECK(*churn.shares[1].after == 80);
  CHECK(churn.default_before == "a");
  CHECK(churn.default_after == "b");
  CHECK(churn.control_before == "");
  CHECK(churn.control_after == "b");
}

TEST_CASE("review: the terminal report of the seeds' promotion step, exactly") {
  const Report report = Compare(Take(Manifest(kStep2), "step2"), Take(Manifest(kStep3), "step3"));
  CHECK(report.HasChanges());
  CHECK(FormatText(report) ==
        "ferry diff step2 (99cb29fd2d2e) → step3 (b32524b5ba12): project 'shop'\n"
        "\n"
        "Traffic (as resolved):\n"
        "  churn: a: 90% → 20%, b: 10% → 80% (default moved a → b, control set to b)\n"
        "\n"
        "Declarations:\n"
        "  ~ version churn/a\n"
        "      default: true → false\n"
        "  ~ version churn/b\n"
        "      declared_traffic: 10 → 40\n"
        "      role: treatment → control\n"
        "      default: false → true\n"
        "\n"
        "Rendered objects:\n"
        "  ~ kubernetes/prod/configmap-ferry-router.yaml (ConfigMap ferry-router)\n"
        "      data[\"routes.yaml\"].endpoints[churn].versions[a].default: true → false\n"
        "      data[\"routes.yaml\"].endpoints[churn].versions[a].weight: 90.0 → 20.0\n"
        "      data[\"routes.yaml\"].endpoints[churn].versions[b].default: false → true\n"
        "      data[\"routes.yaml\"].endpoints[churn].versions[b].role: treatment → control\n"
        "      data[\"routes.yaml\"].endpoints[churn].versions[b].weight: 10.0 → 80.0\n"
        "  ~ kubernetes/prod/deployment-ferry-router.yaml (Deployment ferry-router)\n"
        "      spec.template.metadata.annotations[\"ferry.dev/routes-sha256\"]: "
        "e00da91ba9a1175426d84092ab1096bc956229876e606dc13a28dcbce0a6f98d → "
        "8043260df9741f1bedf191b255dda6c3ea6415743cadf9c5c7155ad13b0c233a\n");
}

TEST_CASE("review: the same revision twice: no changes, in every format") {
  const Snapshot two = Take(Manifest(kStep2), "step2");
  const Report report = Compare(two, two);
  CHECK_FALSE(report.HasChanges());
  CHECK(report.objects_compared);
  CHECK(FormatText(report) ==
        "ferry diff step2 (99cb29fd2d2e) → step2 (99cb29fd2d2e): project 'shop'\nNo changes.\n");
  CHECK(FormatMarkdown(report) ==
        "### ferry diff `step2 (99cb29fd2d2e)` → `step2 (99cb29fd2d2e)`\n\n"
        "Project `shop`. No changes.\n");
  CHECK(FormatJson(report).find("\"has_changes\": false") != std::string::npos);
}

TEST_CASE("review: a version that never served is flagged when it receives traffic") {
  const Snapshot one = Take(Manifest(kStep1), "step1");
  const Snapshot two = Take(Manifest(kStep2), "step2");
  const Snapshot three = Take(Manifest(kStep3), "step3");
  CHECK(Risks(Compare(one, two)) ==
        std::vector<std::string>{"new-version-serves endpoint churn: version b receives 10% of "
                                 "the requests to 'churn' and has never served before"});
  CHECK(Compare(one, two).risks[0].location.line == 16);
  // b served 10% in step 2: more traffic to it is no risk.
  CHECK(Risks(Compare(two, three)).empty());
  // Declared at 0%, b never served; step 3 gives it 80%.
  const std::string zero = kStep1 + "      b: {model: scorer@2, traffic: 0}\n";
  CHECK(Risks(Compare(Take(Manifest(zero), "zero"), three)) ==
        std::vector<std::string>{"new-version-serves endpoint churn: version b receives 80% of "
                                 "the requests to 'churn' and has never served before"});
  // A new endpoint has no clients whose traffic moves.
  const std::string second = kStep1 +
                             "  other:\n"
                             "    cluster: prod\n"
                             "    versions:\n"
                             "      x: {model: scorer@1}\n";
  CHECK(Risks(Compare(one, Take(Manifest(second), "second"))).empty());
}

TEST_CASE(
    "review: declarations: a version added shows its main settings, a bump shows the sha256") {
  const Report added = Compare(Take(Manifest(kStep1), "one"), Take(Manifest(kStep2), "two"));
  const std::string two_sha = testing::ShortSha(testing::ModelTwo());
  CHECK(Domain(added) ==
        std::vector<std::string>{"added version churn/b; model:  → scorer@2 (sha256 " + two_sha +
                                 "); environment:  → (built-in); declared_traffic:  → 10; role:  → "
                                 "treatment; default:  → false"});

  const std::string bumped =
      "  churn:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      a: {model: scorer@2, traffic: 20, default: true}\n";
  const Report bump = Compare(Take(Manifest(kStep1), "one"), Take(Manifest(bumped), "bumped"));
  const std::string one_sha = testing::ShortSha(testing::ModelOne());
  CHECK(Domain(bump) ==
        std::vector<std::string>{"modified version churn/a; model: scorer@1 (sha256 " + one_sha +
                                 ") → scorer@2 (sha256 " + two_sha + ")"});
  CHECK(bump.traffic.empty());
  // The bundle is one digest, never its generated code; the image follows it.
  const ObjectChange* bundle = FindObject(bump, "bundles/churn-a");
  REQUIRE(bundle != nullptr);
  CHECK(bundle->category == "bundle");
  CHECK(bundle->change == ChangeKind::Modified);
  CHECK(bundle->fields.empty());
  CHECK(bundle->sha256_before.size() == 64);
  CHECK(bundle->sha256_after.size() == 64);
  CHECK(bundle->sha256_before != bundle->sha256_after);
  REQUIRE(bump.images.size() == 1);
  CHECK(bump.images[0].endpoint == "churn");
  CHECK(bump.images[0].version == "a");
  CHECK(bump.images[0].before != bump.images[0].after);
  const ObjectChange* deployment = FindObject(bump, "kubernetes/prod/deployment-churn-a.yaml");
  REQUIRE(deployment != nullptr);
  CHECK(Field(*deployment, "spec.template.spec.containers[model].image") ==
        bump.images[0].before + " → " + bump.images[0].after);
  CHECK(FormatText(bump).find(
            "  ~ bundle churn-a changed (sha256 " + detail::ShortHash(bundle->sha256_before) +
            " → " + detail::ShortHash(bundle->sha256_after) + ")\n") != std::string::npos);
}

TEST_CASE("review: renames are detected conservatively") {
  const std::string renamed =
      "  churn:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      first: {model: scorer@1, traffic: 20, default: true}\n"
      "      b: {model: scorer@2, traffic: 10}\n";
  const Report report = Compare(Take(Manifest(kStep2), "two"), Take(Manifest(renamed), "renamed"));
  CHECK(Domain(report) == std::vector<std::string>{"renamed version churn/first (was churn/a)"});
  // Same share under a new name: no traffic change and nothing "never served".
  CHECK(report.traffic.empty());
  CHECK(report.risks.empty());

  SUBCASE("a rename together with a change is a removal and an addition") {
    const std::string changed =
        "  churn:\n"
        "    cluster: prod\n"
        "    versions:\n"
        "      first: {model: scorer@1, traffic: 25, default: true}\n"
        "      b: {model: scorer@2, traffic: 10}\n";
    const Report both = Compare(Take(Manifest(kStep2), "two"), Take(Manifest(changed), "c"));
    CHECK(Domain(both).size() == 2);
    CHECK(Domain(both)[0] == "removed version churn/a");
    CHECK(TrafficLines(both) ==
          std::vector<std::string>{"churn: a: 90% → —, first: — → 90% (default moved a → first)"});
  }
  SUBCASE("two identical candidates: no guess") {
    const std::string twins_base = kStep1 + "      b: {model: scorer@2, traffic: 5}\n" +
                                   "      c: {model: scorer@2, traffic: 5}\n";
    const std::string twins_head = kStep1 + "      d: {model: scorer@2, traffic: 5}\n" +
                                   "      e: {model: scorer@2, traffic: 5}\n";
    const Report twins =
        Compare(Take(Manifest(twins_base), "base"), Take(Manifest(twins_head), "head"));
    for (const DomainChange& change : twins.domain) CHECK(change.kind != ChangeKind::Renamed);
    CHECK(twins.domain.size() == 4);
  }
  SUBCASE("an endpoint renamed with everything else equal") {
    const std::string moved =
        "  attrition:\n"
        "    cluster: prod\n"
        "    versions:\n"
        "      a: {model: scorer@1, traffic: 20, default: true}\n"
        "      b: {model: scorer@2, traffic: 10}\n";
    const Report endpoint = Compare(Take(Manifest(kStep2), "two"), Take(Manifest(moved), "m"));
    CHECK(Domain(endpoint) == std::vector<std::string>{"renamed endpoint attrition (was churn)"});
    CHECK(endpoint.traffic.empty());
    CHECK(endpoint.risks.empty());
  }
}

TEST_CASE("review: risks: authentication turned off, a VM size changed") {
  const std::string no_auth =
      "  churn:\n"
      "    cluster: prod\n"
      "    auth: none\n"
      "    versions:\n"
      "      a: {model: scorer@1, traffic: 20, default: true}\n";
  const Snapshot one = Take(Manifest(kStep1), "one");
  const Report auth = Compare(one, Take(Manifest(no_auth), "open"));
  CHECK(Risks(auth) == std::vector<std::string>{
                           "auth-disabled endpoint churn: authentication is turned off: anyone "
                           "who can reach 'churn' can score"});
  CHECK(auth.risks[0].location.line == 14);
  CHECK(Domain(auth) == std::vector<std::string>{"modified endpoint churn; auth: key → none"});
  // Turning it back on is no risk.
  CHECK(Compare(Take(Manifest(no_auth), "open"), one).risks.empty());

  const Report resized = Compare(one, Take(Manifest(kStep1, "Standard_D4_v2"), "bigger"));
  CHECK(Risks(resized) ==
        std::vector<std::string>{"vm-size-changed cluster prod: VM size changes Standard_D3_v2 → "
                                 "Standard_D4_v2: a cluster's nodes cannot be resized, only "
                                 "agent_count may change (create a new cluster and move the "
                                 "endpoints)"});
  CHECK(Domain(resized) == std::vector<std::string>{
                               "modified cluster prod; vm_size: Standard_D3_v2 → Standard_D4_v2"});
}

TEST_CASE("review: risks: changes that leave an endpoint with nothing serving") {
  const Snapshot two = Take(Manifest(kStep2), "two");
  SUBCASE("every serving version replaced at once") {
    const std::string replaced =
        "  churn:\n"
        "    cluster: prod\n"
        "    versions:\n"
        "      c: {model: scorer@2, traffic: 30, default: true}\n";
    CHECK(Risks(Compare(two, Take(Manifest(replaced), "replaced"))) ==
          std::vector<std::string>{
              "new-version-serves endpoint churn: version c receives 100% of the requests to "
              "'churn' and has never served before",
              "capacity-to-zero endpoint churn: every version that served 'churn' is replaced at "
              "once (a, b): nothing serves until the new versions are ready"});
  }
  SUBCASE("minimum replicas down to zero (the schema rejects it; the review still says why)") {
    Snapshot head = two;
    head.project->endpoints[0].versions[1].autoscale.min_replicas = 0;
    CHECK(Risks(Compare(two, head)) ==
          std::vector<std::string>{"capacity-to-zero endpoint churn: version b may run 0 "
                                   "replicas (autoscale.min_replicas 0) while it receives 10%"});
  }
  SUBCASE("every version removed") {
    Snapshot head = two;
    head.project->endpoints[0].versions.clear();
    head.project->endpoints[0].traffic_resolved = false;
    CHECK(Risks(Compare(two, head)) ==
          std::vector<std::string>{"capacity-to-zero endpoint churn: every version of 'churn' is "
                                   "removed: the endpoint serves nothing"});
  }
  SUBCASE("keeping one serving version is fine") {
    const std::string kept =
        "  churn:\n"
        "    cluster: prod\n"
        "    versions:\n"
        "      a: {model: scorer@1, traffic: 20, default: true}\n"
        "      c: {model: scorer@2, traffic: 0}\n";
    CHECK(Risks(Compare(two, Take(Manifest(kept), "kept"))).empty());
  }
}

TEST_CASE("review: diagnostics are matched by code and path, so moved lines are not news") {
  // BASE already has an error (a traffic share over 100); HEAD keeps it two
  // lines lower and adds a version whose model does not exist.
  const std::string bad =
      "  churn:\n"
      "    cluster: prod\n"
      "    versions:\n"
      "      a: {model: scorer@1, traffic: 120, default: true}\n";
  const std::string worse =
      "  # a comment\n"
      "  # and another\n" +
      bad + "      b: {model: scorer@9}\n";
  const Snapshot base = Take(Manifest(bad), "base");
  const Snapshot head = Take(Manifest(worse), "head");
  REQUIRE(!base.diagnostics.empty());
  const Report report = Compare(base, head);
  INFO(FormatText(report));
  // Introduced first; the unused-version warning goes away because b deploys scorer.
  REQUIRE(report.diagnostics.size() == 2);
  const DiagnosticChange& introduced = report.diagnostics[0];
  CHECK(introduced.introduced);
  CHECK(diag::Info(introduced.diagnostic.code).code == "E0202");
  CHECK(introduced.diagnostic.location.line == 18);
  CHECK_FALSE(report.diagnostics[1].introduced);
  CHECK(diag::Info(report.diagnostics[1].diagnostic.code).code == "W0603");
  CHECK(introduced.diagnostic.path.find("endpoints.churn.versions.b") == 0);
  CHECK_FALSE(report.objects_compared);
  CHECK(report.objects_note == "not rendered because of errors at BASE and HEAD");
  CHECK(FormatText(report).find("Rendered objects: not compared (not rendered because of errors "
                                "at BASE and HEAD)\n") != std::string::npos);

  // Fixing both: two errors fixed, reported where BASE had them.
  const Report fixed = Compare(head, Take(Manifest(kStep2), "fixed"));
  CHECK(fixed.diagnostics.size() == 2);
  for (const DiagnosticChange& change : fixed.diagnostics) CHECK_FALSE(change.introduced);
  CHECK(FormatText(fixed).find("\nDiagnostics:\n  fixed p/ferry.yaml:") != std::string::npos);
  CHECK(fixed.objects_note == "not rendered because of errors at BASE");
}

TEST_CASE("review: a project added, removed, or whose manifest does not load") {
  const Snapshot two = Take(Manifest(kStep2), "two");
  const Report added = Compare(Missing("before"), two);
  CHECK(added.HasChanges());
  CHECK(added.domain_compared);
  CHECK(added.objects_compared);
  CHECK(TrafficLines(added) ==
        std::vector<std::string>{"churn: a: — → 90%, b: — → 10% (new endpoint)"});
  CHECK(FindObject(added, "kubernetes/prod/deployment-churn-a.yaml")->change == ChangeKind::Added);
  CHECK(FormatText(added).find("Project added (no manifest in BASE).\n") != std::string::npos);
  CHECK(added.risks.empty());

  const Report removed = Compare(two, Missing("after"));
  CHECK(TrafficLines(removed) ==
        std::vector<std::string>{"churn: a: 90% → —, b: 10% → — (endpoint removed)"});
  CHECK(FormatMarkdown(removed).find("The project is removed.") != std::string::npos);

  Snapshot broken = Take("ferry: 1\nproject: [unclosed\n", "broken");
  REQUIRE_FALSE(broken.project.has_value());
  const Report unreadable = Compare(two, broken);
  CHECK_FALSE(unreadable.domain_compared);
  CHECK(unreadable.domain_note == "the manifest did not load at HEAD");
  CHECK(unreadable.domain.empty());
  CHECK(unreadable.traffic.empty());
  CHECK_FALSE(unreadable.diagnostics.empty());
  CHECK(unreadable.HasChanges());
}

TEST_CASE("review: Percent prints at most two decimals") {
  CHECK(detail::Percent(20) == "20%");
  CHECK(detail::Percent(100.0 / 3) == "33.33%");
  CHECK(detail::Percent(12.5) == "12.5%");
  CHECK(detail::Percent(0) == "0%");
}

}  // namespace
}  // namespace ferry::review

// The three printers on one report that has every kind of change, against
// golden files in tests/review/golden/ (FERRY_AUTOUPDATE=1 rewrites them; review
// the diff). The report is built by hand so that the golden files do not
// move when the code generator changes a bundle's bytes.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "compiler/review/review.h"

namespace ferry::review {
namespace {

auto GoldenDir() -> std::filesystem::path {
  return std::filesystem::path(FERRY_SOURCE_DIR) / "tests/review/golden";
}

auto AutoUpdate() -> bool {
  const char* value = std::getenv("FERRY_AUTOUPDATE");
  return value != nullptr && std::string_view(value) == "1";
}

/// Compares `actual` with the golden file `name`, or rewrites it.
void CheckGolden(const std::string& name, const std::string& actual) {
  const std::filesystem::path path = GoldenDir() / name;
  if (AutoUpdate()) {
    std::filesystem::create_directories(GoldenDir());
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream expected;
  expected << in.rdbuf();
  CAPTURE(name);
  CHECK(actual == expected.str());
}

auto Location(std::uint32_t line, std::uint32_t column) -> diag::Location {
  return {.file = "churn/ferry.yaml", .line = line, .column = column, .end_column = 0};
}

/// A review of a rollout step that also breaks things a reviewer must see.
auto FullReport() -> Report {
  Report report;
  report.base_revision = "origin/main";
  report.base_commit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
  report.head_revision = "HEAD";
  report.head_commit = "9daeafb9864cf43055ae93beb0afd6c7d144bfa4";
  report.base_manifest = true;
  report.head_manifest = true;
  report.project = "churn-rollout";
  report.domain_compared = true;
  report.objects_compared = true;

  TrafficChange churn;
  churn.endpoint = "churn";
  churn.base_present = churn.head_present = churn.base_resolved = churn.head_resolved = true;
  churn.default_before = "a";
  churn.default_after = "b";
  churn.control_after = "b";
  TrafficShare a;
  a.version = "a";
  a.before = 90;
  a.after = 20;
  TrafficShare b;
  b.version = "b";
  b.before = 10;
  b.after = 80;
  churn.shares = {a, b};
  report.traffic.push_back(churn);

  report.domain.push_back(
      {.scope = "cluster",
       .name = "shared",
       .old_name = "",
       .kind = ChangeKind::Modified,
       .fields = {{"vm_size", "Standard_D3_v2", "Standard_D4_v2"}, {"agent_count", "2", "3"}}});
  report.domain.push_back({.scope = "endpoint",
                           .name = "churn",
                           .old_name = "",
                           .kind = ChangeKind::Modified,
                           .fields = {{"auth", "key", "none"}}});
  report.domain.push_back({.scope = "version",
                           .name = "churn/b",
                           .old_name = "",
                           .kind = ChangeKind::Modified,
                           .fields = {{"declared_traffic", "10", "40"},
                                      {"description", "", "promoted | after `beating` a"}}});
  report.domain.push_back({.scope = "version",
                           .name = "churn/c",
                           .old_name = "churn/old",
                           .kind = ChangeKind::Renamed,
                           .fields = {}});
  report.domain.push_back({.scope = "version",
                           .name = "legacy/x",
                           .old_name = "",
                           .kind = ChangeKind::Removed,
                           .fields = {}});

  diag::Diagnostic introduced{.code = diag::FindCode("E0203")->id,
                              .severity = diag::Severity::Error,
                              .message = "endpoint 'churn' has two controls",
                              .location = Location(48, 15),
                              .path = "endpoints.churn.versions.c.role",
                              .notes = {}};
  diag::Diagnostic fixed = introduced;
  fixed.code = diag::FindCode("W0603")->id;
  fixed.severity = diag::Severity::Warning;
  fixed.path = "models.churn-scorer.versions.3";
  fixed.message = "model 'churn-scorer' version 3 is declared but no endpoint deploys it";
  fixed.location = Location(30, 7);
  report.diagnostics.push_back({true, introduced});
  report.diagnostics.push_back({false, fixed});

  report.risks.push_back({.kind = RiskKind::AuthDisabled,
                          .subject = "endpoint churn",
                          .message = "authentication is turned off",
                          .location = Location(42, 11)});
  report.risks.push_back({.kind = RiskKind::VmSizeChanged,
                          .subject = "cluster shared",
                          .message = "VM size changes Standard_D3_v2 → Standard_D4_v2",
                          .location = Location(20, 14)});

  report.objects.push_back({.category = "bundle",
                            .path = "bundles/churn-b",
                            .kind = "",
                            .name = "churn-b",
                            .change = ChangeKind::Modified,
                            .fields = {},
                            .sha256_before = std::string(64, 'a'),
                            .sha256_after = std::string(64, 'b')});
  report.objects.push_back(
      {.category = "kubernetes",
       .path = "kubernetes/shared/configmap-ferry-router.yaml",
       .kind = "ConfigMap",
       .name = "ferry-router",
       .change = ChangeKind::Modified,
       .fields = {{"data[\"routes.yaml\"].endpoints[churn].versions[a].weight", "90.0", "20.0"}},
       .sha256_before = "",
       .sha256_after = ""});
  report.objects.push_back({.category = "kubernetes",
                            .path = "kubernetes/shared/deployment-churn-c.yaml",
                            .kind = "Deployment",
                            .name = "churn-c",
                            .change = ChangeKind::Added,
                            .fields = {},
                            .sha256_before = "",
                            .sha256_after = std::string(64, 'c')});
  report.objects.push_back({.category = "kubernetes",
                            .path = "kubernetes/shared/deployment-churn-old.yaml",
                            .kind = "Deployment",
                            .name = "churn-old",
                            .change = ChangeKind::Removed,
                            .fields = {},
                            .sha256_before = std::string(64, 'd'),
                            .sha256_after = ""});
  report.images.push_back({.endpoint = "churn",
                           .version = "b",
                           .before = "contoso.azurecr.io/ferry/cpu-default-cpu:3314adcb3b15ee82",
                           .after = "contoso.azurecr.io/ferry/cpu-default-cpu:8f9d8bd724abbbfc",
                           .sha256_before = "3314adcb3b15ee82" + std::string(48, '0'),
                           .sha256_after = "8f9d8bd724abbbfc" + std::string(48, '0')});
  return report;
}

TEST_CASE("review printers: every section, in text, markdown and JSON") {
  const Report report = FullReport();
  REQUIRE(report.HasChanges());
  CheckGolden("full.txt", FormatText(report));
  CheckGolden("full.md", FormatMarkdown(report));
  CheckGolden("full.json", FormatJson(report));
}

TEST_CASE("review printers: sides that were not compared say why") {
  Report report;
  report.base_revision = "main";
  report.head_revision = "feature";
  report.base_manifest = false;
  report.head_manifest = true;
  report.project = "shop";
  report.domain_compared = false;
  report.domain_note = "the manifest did not load at HEAD";
  report.objects_compared = false;
  report.objects_note = "not rendered because of errors at HEAD";
  CheckGolden("not_compared.txt", FormatText(report));
  CheckGolden("not_compared.md", FormatMarkdown(report));
  CheckGolden("not_compared.json", FormatJson(report));
}

}  // namespace
}  // namespace ferry::review

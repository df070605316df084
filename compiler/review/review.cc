// Compare: the parts put together, with the rules for sides that could not
// be compiled or rendered; and the small spellings the printers share.
#include "compiler/review/review.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "compiler/review/compare.h"

namespace ferry::review {
namespace {

auto HasErrors(const std::vector<diag::Diagnostic>& diagnostics) -> bool {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const diag::Diagnostic& d) { return d.severity == diag::Severity::Error; });
}

/// A side whose declarations can be compared: loaded, or no manifest at all.
auto Loaded(const Snapshot& side) -> bool {
  return !side.manifest_found || side.project.has_value();
}

/// A side whose rendered objects can be compared: rendered, or no manifest at all.
auto Rendered(const Snapshot& side) -> bool {
  return !side.manifest_found || (side.project.has_value() && !HasErrors(side.diagnostics));
}

/// `problem` + " at BASE", " at HEAD" or " at BASE and HEAD": the sides that fail `ok`.
auto SideNote(const Snapshot& base, const Snapshot& head, bool (*ok)(const Snapshot&),
              std::string_view problem) -> std::string {
  const std::string text(problem);
  if (!ok(base) && !ok(head)) return text + " at BASE and HEAD";
  if (!ok(base)) return text + " at BASE";
  if (!ok(head)) return text + " at HEAD";
  return "";
}

}  // namespace

auto Report::HasChanges() const -> bool {
  return base_manifest != head_manifest || !domain.empty() || !traffic.empty() ||
         !diagnostics.empty() || !objects.empty() || !images.empty() || !risks.empty();
}

auto Compare(const Snapshot& base, const Snapshot& head) -> Report {
  Report report;
  report.base_revision = base.revision;
  report.base_commit = base.commit;
  report.head_revision = head.revision;
  report.head_commit = head.commit;
  report.base_manifest = base.manifest_found;
  report.head_manifest = head.manifest_found;
  if (head.project) {
    report.project = head.project->name;
  } else if (base.project) {
    report.project = base.project->name;
  }

  const ir::Project empty;
  const ir::Project& base_project = base.project ? *base.project : empty;
  const ir::Project& head_project = head.project ? *head.project : empty;
  report.domain_compared = Loaded(base) && Loaded(head);
  if (report.domain_compared) {
    detail::Renames renames;
    report.domain = detail::CompareDomain(base_project, head_project, renames);
    report.traffic = detail::CompareTraffic(base_project, head_project, renames);
    report.risks = detail::FindRisks(base_project, head_project, renames);
  } else {
    report.domain_note = SideNote(base, head, Loaded, "the manifest did not load");
  }
  report.diagnostics = detail::CompareDiagnostics(base.diagnostics, head.diagnostics);
  report.objects_compared = Rendered(base) && Rendered(head);
  if (report.objects_compared) {
    report.objects = detail::CompareObjects(base.rendered, head.rendered);
    report.images = detail::CompareImages(base.rendered, head.rendered);
  } else {
    report.objects_note = SideNote(base, head, Rendered, "not rendered because of errors");
  }
  return report;
}

auto ToString(ChangeKind kind) -> std::string_view {
  switch (kind) {
    case ChangeKind::Added:
      return "added";
    case ChangeKind::Removed:
      return "removed";
    case ChangeKind::Renamed:
      return "renamed";
    case ChangeKind::Modified:
      return "modified";
  }
  return "modified";
}

auto ToString(RiskKind kind) -> std::string_view {
  switch (kind) {
    case RiskKind::NewVersionServes:
      return "new-version-serves";
    case RiskKind::AuthDisabled:
      return "auth-disabled";
    case RiskKind::VmSizeChanged:
      return "vm-size-changed";
    case RiskKind::CapacityToZero:
      return "capacity-to-zero";
  }
  return "new-version-serves";
}

namespace detail {

auto CompareDiagnostics(const std::vector<diag::Diagnostic>& base,
                        const std::vector<diag::Diagnostic>& head)
    -> std::vector<DiagnosticChange> {
  using Key = std::pair<diag::Code, std::string>;
  // Each side's diagnostics that the other side has fewer of, by code and path.
  auto only_in = [](const std::vector<diag::Diagnostic>& side,
                    const std::vector<diag::Diagnostic>& other) {
    std::map<Key, int> remaining;
    for (const diag::Diagnostic& d : other) ++remaining[{d.code, d.path}];
    std::vector<diag::Diagnostic> sorted = side;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const diag::Diagnostic& a, const diag::Diagnostic& b) {
                       return std::tie(a.location, a.code, a.path, a.message) <
                              std::tie(b.location, b.code, b.path, b.message);
                     });
    std::vector<diag::Diagnostic> only;
    for (diag::Diagnostic& d : sorted) {
      int& count = remaining[{d.code, d.path}];
      if (count > 0) {
        --count;
      } else {
        only.push_back(std::move(d));
      }
    }
    return only;
  };
  std::vector<DiagnosticChange> changes;
  for (diag::Diagnostic& d : only_in(head, base)) changes.push_back({true, std::move(d)});
  for (diag::Diagnostic& d : only_in(base, head)) changes.push_back({false, std::move(d)});
  return changes;
}

auto Percent(double value) -> std::string {
  std::string text = fmt::format("{:.2f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  if (text == "-0") text = "0";
  return text + "%";
}

auto Number(double value) -> std::string {
  if (std::floor(value) == value && std::abs(value) < 1e15) {
    return fmt::format("{}", static_cast<long long>(value));
  }
  return fmt::format("{}", value);
}

auto SameShare(double a, double b) -> bool { return std::abs(a - b) < 1e-9; }

auto ShortHash(std::string_view sha256) -> std::string { return std::string(sha256.substr(0, 12)); }

auto LocationText(const diag::Location& location) -> std::string {
  if (location.line == 0) return location.file;
  return fmt::format("{}:{}:{}", location.file, location.line, location.column);
}

}  // namespace detail

}  // namespace ferry::review

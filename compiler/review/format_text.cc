// The terminal report: a header line, then one section per kind of change,
// risks first. Sections without content are left out.
#include <string>

#include "compiler/review/compare.h"

namespace ferry::review {
namespace {

auto Mark(ChangeKind kind) -> std::string_view {
  switch (kind) {
    case ChangeKind::Added:
      return "+";
    case ChangeKind::Removed:
      return "-";
    case ChangeKind::Renamed:
      return ">";
    case ChangeKind::Modified:
      return "~";
  }
  return "~";
}

void Fields(const std::vector<FieldChange>& fields, std::string& out) {
  for (const FieldChange& field : fields) {
    out += "      " + field.field + ": " + detail::DisplayValue(field.before) + " → " +
           detail::DisplayValue(field.after) + "\n";
  }
}

void Domain(const Report& report, std::string& out) {
  if (report.domain.empty()) return;
  out += "\nDeclarations:\n";
  for (const DomainChange& change : report.domain) {
    out += "  " + std::string(Mark(change.kind)) + " " + change.scope + " " + change.name;
    if (change.kind == ChangeKind::Renamed) out += " (renamed from " + change.old_name + ")";
    if (change.kind == ChangeKind::Removed) out += " (removed)";
    out += "\n";
    Fields(change.fields, out);
  }
}

void Diagnostics(const Report& report, std::string& out) {
  if (report.diagnostics.empty()) return;
  out += "\nDiagnostics:\n";
  for (const DiagnosticChange& change : report.diagnostics) {
    const diag::Diagnostic& d = change.diagnostic;
    out += std::string("  ") + (change.introduced ? "introduced " : "fixed ") +
           detail::LocationText(d.location) + ": " + std::string(diag::SeverityName(d.severity)) +
           "[" + std::string(diag::Info(d.code).code) + "]: " + d.message + "\n";
  }
}

void Objects(const Report& report, std::string& out) {
  if (!report.objects_compared) {
    out += "\nRendered objects: not compared (" + report.objects_note + ")\n";
    return;
  }
  if (report.objects.empty() && report.images.empty()) return;
  if (!report.objects.empty()) out += "\nRendered objects:\n";
  for (const ObjectChange& change : report.objects) {
    out += "  " + std::string(Mark(change.change)) + " ";
    if (change.category == "bundle") {
      out += "bundle " + change.name;
    } else {
      out += change.path;
      if (!change.kind.empty()) out += " (" + change.kind + " " + change.name + ")";
    }
    if (change.change == ChangeKind::Modified && change.fields.empty()) {
      out += " changed (sha256 " + detail::ShortHash(change.sha256_before) + " → " +
             detail::ShortHash(change.sha256_after) + ")";
    }
    out += "\n";
    Fields(change.fields, out);
  }
  if (!report.images.empty()) out += "\nImages:\n";
  for (const ImageChange& image : report.images) {
    out += "  " + image.endpoint + "/" + image.version + ": " + detail::DisplayValue(image.before) +
           " → " + detail::DisplayValue(image.after) + "\n";
  }
}

}  // namespace

auto FormatText(const Report& report) -> std::string {
  std::string out = "ferry diff " + detail::SideName(report.base_revision, report.base_commit) +
                    " → " + detail::SideName(report.head_revision, report.head_commit);
  if (!report.project.empty()) out += ": project '" + report.project + "'";
  out += "\n";
  if (!report.base_manifest && report.head_manifest)
    out += "Project added (no manifest in BASE).\n";
  if (report.base_manifest && !report.head_manifest) {
    out += "Project removed (no manifest in HEAD).\n";
  }
  if (!report.HasChanges()) return out + "No changes.\n";
  if (!report.risks.empty()) out += "\nRisks:\n";
  for (const Risk& risk : report.risks) {
    out += "  ! " + std::string(ToString(risk.kind)) + ": " + risk.subject + ": " + risk.message +
           " (" + detail::LocationText(risk.location) + ")\n";
  }
  if (!report.domain_compared) out += "\nDeclarations: not compared (" + report.domain_note + ")\n";
  if (!report.traffic.empty()) out += "\nTraffic (as resolved):\n";
  for (const TrafficChange& change : report.traffic) {
    out += "  " + change.endpoint + ": " + detail::TrafficLine(change) + "\n";
  }
  Domain(report, out);
  Diagnostics(report, out);
  Objects(report, out);
  return out;
}

}  // namespace ferry::review

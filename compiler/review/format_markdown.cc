// The pull-request comment: a title, a summary table with a row per kind of
// change (always all rows, so comments compare), then the details; each
// updated object's field diff sits in a collapsed <details> section.
#include <string>

#include "compiler/review/compare.h"

namespace ferry::review {
namespace {

/// Text inside a table cell or a code span: no pipes, no backticks, one
/// line; field values are cut at 80 characters, sentences are not cut.
auto Cell(std::string_view value, std::size_t max = 80) -> std::string {
  std::string text;
  for (char c : detail::DisplayValue(value, max)) {
    if (c == '|') {
      text += "\\|";
    } else if (c == '`') {
      text += '\'';
    } else {
      text += c;
    }
  }
  return text;
}

constexpr std::size_t kWhole = std::string::npos;

auto Code(std::string_view value) -> std::string { return "`" + Cell(value) + "`"; }

/// Starts a section, one blank line after what came before.
void Section(std::string& out, std::string_view title) {
  while (out.ends_with("\n\n")) out.pop_back();
  out += "\n#### " + std::string(title) + "\n\n";
}

/// How an output is named: a bundle by its name, anything else by its path.
auto What(const ObjectChange& change) -> std::string {
  if (change.category == "bundle") return "bundle " + Code(change.name);
  return Code(change.path) +
         (change.kind.empty() ? "" : " (" + change.kind + " " + change.name + ")");
}

/// "2 added, 1 modified" over the kinds present, or "none".
template <typename Item, typename KindOf>
auto Counts(const std::vector<Item>& items, KindOf kind_of,
            std::initializer_list<std::pair<ChangeKind, std::string_view>> words) -> std::string {
  std::string text;
  for (const auto& [kind, word] : words) {
    std::size_t count = 0;
    for (const Item& item : items) count += kind_of(item) == kind ? 1 : 0;
    if (count == 0) continue;
    text += (text.empty() ? "" : ", ") + std::to_string(count) + " " + std::string(word);
  }
  return text.empty() ? "none" : text;
}

void Summary(const Report& report, std::string& out) {
  std::size_t introduced = 0;
  for (const DiagnosticChange& change : report.diagnostics) introduced += change.introduced;
  out += "| change | count |\n|---|---|\n";
  out += "| risks | " + std::to_string(report.risks.size()) + " |\n";
  out += "| endpoints with traffic changes | " + std::to_string(report.traffic.size()) + " |\n";
  out += "| declarations | " +
         Counts(report.domain, [](const DomainChange& c) { return c.kind; },
                {{ChangeKind::Added, "added"},
                 {ChangeKind::Modified, "modified"},
                 {ChangeKind::Renamed, "renamed"},
                 {ChangeKind::Removed, "removed"}}) +
         " |\n";
  out += "| diagnostics | " + std::to_string(introduced) + " introduced, " +
         std::to_string(report.diagnostics.size() - introduced) + " fixed |\n";
  const std::string objects =
      report.objects_compared
          ? Counts(report.objects, [](const ObjectChange& c) { return c.change; },
                   {{ChangeKind::Added, "created"},
                    {ChangeKind::Modified, "updated"},
                    {ChangeKind::Removed, "deleted"}})
          : "not compared";
  out += "| rendered objects | " + objects + " |\n";
  out += "| images | " +
         (report.objects_compared ? std::to_string(report.images.size()) + " changed"
                                  : std::string("not compared")) +
         " |\n";
}

void Traffic(const Report& report, std::string& out) {
  if (report.traffic.empty()) return;
  Section(out, "Traffic (as resolved)");
  for (const TrafficChange& change : report.traffic) {
    out += "- " + Code(change.endpoint) + ": " + Cell(detail::TrafficLine(change), kWhole) + "\n";
  }
}

void Domain(const Report& report, std::string& out) {
  if (!report.domain_compared) {
    Section(out, "Declarations");
    out += "Not compared: " + report.domain_note + ".\n";
    return;
  }
  if (report.domain.empty()) return;
  Section(out, "Declarations");
  for (const DomainChange& change : report.domain) {
    out += "- **" + std::string(ToString(change.kind)) + "** " + change.scope + " " +
           Code(change.name);
    if (change.kind == ChangeKind::Renamed) out += " (was " + Code(change.old_name) + ")";
    out += "\n";
    for (const FieldChange& field : change.fields) {
      out +=
          "  - " + Code(field.field) + ": " + Cell(field.before) + " → " + Cell(field.after) + "\n";
    }
  }
}

void Diagnostics(const Report& report, std::string& out) {
  if (report.diagnostics.empty()) return;
  Section(out, "Diagnostics");
  for (const DiagnosticChange& change : report.diagnostics) {
    const diag::Diagnostic& d = change.diagnostic;
    out += std::string("- ") + (change.introduced ? "**introduced** " : "fixed ") +
           std::string(diag::SeverityName(d.severity)) + " " + Code(diag::Info(d.code).code) +
           " at " + Code(detail::LocationText(d.location)) + ": " + Cell(d.message, kWhole) + "\n";
  }
}

void Object(const ObjectChange& change, std::string& out) {
  const std::string what = What(change);
  const std::string_view verb = change.change == ChangeKind::Added     ? "created"
                                : change.change == ChangeKind::Removed ? "deleted"
                                                                       : "updated";
  if (change.fields.empty()) {
    out += "- " + std::string(verb) + " " + what;
    if (change.change == ChangeKind::Modified) {
      out += " (sha256 " + Code(detail::ShortHash(change.sha256_before)) + " → " +
             Code(detail::ShortHash(change.sha256_after)) + ")";
    }
    out += "\n";
    return;
  }
  out += "<details><summary>updated <code>" + Cell(change.path) + "</code>" +
         (change.kind.empty() ? "" : " (" + change.kind + " " + change.name + ")") + ", " +
         std::to_string(change.fields.size()) + (change.fields.size() == 1 ? " field" : " fields") +
         "</summary>\n\n";
  out += "| field | before | after |\n|---|---|---|\n";
  for (const FieldChange& field : change.fields) {
    out +=
        "| " + Code(field.field) + " | " + Cell(field.before) + " | " + Cell(field.after) + " |\n";
  }
  out += "\n</details>\n\n";
}

void Objects(const Report& report, std::string& out) {
  if (!report.objects_compared) {
    Section(out, "Rendered objects");
    out += "Not compared: " + report.objects_note + ".\n";
    return;
  }
  if (!report.objects.empty()) {
    // One line per object without a field diff, then the collapsed diffs.
    Section(out, "Rendered objects");
    std::string details;
    for (const ObjectChange& change : report.objects) {
      Object(change, change.fields.empty() ? out : details);
    }
    if (!details.empty()) out += (out.ends_with("\n\n") ? "" : "\n") + details;
  }
  if (report.images.empty()) return;
  Section(out, "Images");
  out += "| version | before | after |\n|---|---|---|\n";
  for (const ImageChange& image : report.images) {
    out += "| " + Code(image.endpoint + "/" + image.version) + " | " + Cell(image.before) + " | " +
           Cell(image.after) + " |\n";
  }
}

}  // namespace

auto FormatMarkdown(const Report& report) -> std::string {
  std::string out = "### ferry diff " +
                    Code(detail::SideName(report.base_revision, report.base_commit)) + " → " +
                    Code(detail::SideName(report.head_revision, report.head_commit)) + "\n\n";
  std::vector<std::string> sentences;
  if (!report.project.empty()) sentences.push_back("Project " + Code(report.project) + ".");
  if (!report.base_manifest && report.head_manifest) sentences.push_back("The project is added.");
  if (report.base_manifest && !report.head_manifest) {
    sentences.push_back("The project is removed.");
  }
  if (!report.HasChanges()) sentences.push_back("No changes.");
  for (std::size_t i = 0; i < sentences.size(); ++i) out += (i == 0 ? "" : " ") + sentences[i];
  out += "\n";
  if (!report.HasChanges()) return out;
  out += "\n";
  Summary(report, out);
  if (!report.risks.empty()) Section(out, "Risks");
  for (const Risk& risk : report.risks) {
    out += "- **" + std::string(ToString(risk.kind)) + "** " + risk.subject + ": " +
           Cell(risk.message, kWhole) + " (" + Code(detail::LocationText(risk.location)) + ")\n";
  }
  Traffic(report, out);
  Domain(report, out);
  Diagnostics(report, out);
  Objects(report, out);
  while (out.ends_with("\n\n")) out.pop_back();
  return out;
}

}  // namespace ferry::review

// The report for tools: one stable JSON layout (docs/diff.md), keys in a
// fixed order, every list sorted as the report holds it. Format 1; fields
// are only ever added.
#include <nlohmann/json.hpp>
#include <string>

#include "compiler/review/compare.h"

namespace ferry::review {
namespace {

using Json = nlohmann::ordered_json;

auto Side(const std::string& revision, const std::string& commit, bool manifest) -> Json {
  return Json{{"revision", revision}, {"commit", commit}, {"manifest", manifest}};
}

auto Fields(const std::vector<FieldChange>& fields) -> Json {
  Json out = Json::array();
  for (const FieldChange& field : fields) {
    out.push_back(Json{{"field", field.field}, {"before", field.before}, {"after", field.after}});
  }
  return out;
}

auto Location(const diag::Location& location) -> Json {
  return Json{{"file", location.file}, {"line", location.line}, {"column", location.column}};
}

auto Share(const std::optional<double>& share) -> Json {
  return share ? Json(*share) : Json(nullptr);
}

auto Traffic(const TrafficChange& change) -> Json {
  Json versions = Json::array();
  for (const TrafficShare& share : change.shares) {
    versions.push_back(Json{{"version", share.version},
                            {"old_version", share.old_version},
                            {"before", Share(share.before)},
                            {"after", Share(share.after)}});
  }
  return Json{{"endpoint", change.endpoint},
              {"base", Json{{"present", change.base_present}, {"resolved", change.base_resolved}}},
              {"head", Json{{"present", change.head_present}, {"resolved", change.head_resolved}}},
              {"default", Json{{"before", change.default_before}, {"after", change.default_after}}},
              {"control", Json{{"before", change.control_before}, {"after", change.control_after}}},
              {"versions", versions},
              {"summary", detail::TrafficLine(change)}};
}

auto Diagnostic(const DiagnosticChange& change) -> Json {
  const diag::Diagnostic& d = change.diagnostic;
  return Json{{"change", change.introduced ? "introduced" : "fixed"},
              {"code", diag::Info(d.code).code},
              {"severity", diag::SeverityName(d.severity)},
              {"message", d.message},
              {"path", d.path},
              {"location", Location(d.location)}};
}

auto Object(const ObjectChange& change) -> Json {
  return Json{{"category", change.category},
              {"path", change.path},
              {"kind", change.kind},
              {"name", change.name},
              {"change", ToString(change.change)},
              {"fields", Fields(change.fields)},
              {"sha256_before", change.sha256_before},
              {"sha256_after", change.sha256_after}};
}

}  // namespace

auto FormatJson(const Report& report) -> std::string {
  Json out;
  out["format"] = 1;
  out["base"] = Side(report.base_revision, report.base_commit, report.base_manifest);
  out["head"] = Side(report.head_revision, report.head_commit, report.head_manifest);
  out["project"] = report.project;
  out["has_changes"] = report.HasChanges();
  out["risks"] = Json::array();
  for (const Risk& risk : report.risks) {
    out["risks"].push_back(Json{{"kind", ToString(risk.kind)},
                                {"subject", risk.subject},
                                {"message", risk.message},
                                {"location", Location(risk.location)}});
  }
  out["domain_compared"] = report.domain_compared;
  out["domain_note"] = report.domain_note;
  out["traffic"] = Json::array();
  for (const TrafficChange& change : report.traffic) out["traffic"].push_back(Traffic(change));
  out["changes"] = Json::array();
  for (const DomainChange& change : report.domain) {
    out["changes"].push_back(Json{{"scope", change.scope},
                                  {"name", change.name},
                                  {"old_name", change.old_name},
                                  {"change", ToString(change.kind)},
                                  {"fields", Fields(change.fields)}});
  }
  out["diagnostics"] = Json::array();
  for (const DiagnosticChange& change : report.diagnostics) {
    out["diagnostics"].push_back(Diagnostic(change));
  }
  out["objects_compared"] = report.objects_compared;
  out["objects_note"] = report.objects_note;
  out["objects"] = Json::array();
  for (const ObjectChange& change : report.objects) out["objects"].push_back(Object(change));
  out["images"] = Json::array();
  for (const ImageChange& image : report.images) {
    out["images"].push_back(Json{{"endpoint", image.endpoint},
                                 {"version", image.version},
                                 {"before", image.before},
                                 {"after", image.after},
                                 {"sha256_before", image.sha256_before},
                                 {"sha256_after", image.sha256_after}});
  }
  return out.dump(2) + "\n";
}

}  // namespace ferry::review

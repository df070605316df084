// PrintSarif: a SARIF 2.1.0 log for code-scanning UIs. Rules carry the
// explain pages, so a UI can show the full explanation next to a result.
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "compiler/diag/print.h"

namespace ferry::diag {
namespace {

using Json = nlohmann::ordered_json;

/// The enumerator name of each code ("kMultipleControls" -> "MultipleControls"),
/// the SARIF rule's readable name.
auto RuleName(Code id) -> std::string_view {
  static constexpr std::string_view kNames[] = {
#define FERRY_DIAG(id, code, severity, summary) #id,
#include "compiler/diag/codes.def"
#undef FERRY_DIAG
  };
  std::string_view name = kNames[static_cast<std::size_t>(id)];
  if (name.starts_with('k')) name.remove_prefix(1);
  return name;
}

/// The first paragraph of prose in an explain page (headings skipped),
/// joined into one line.
auto FirstParagraph(std::string_view page) -> std::string {
  std::string out;
  while (!page.empty()) {
    std::size_t newline = page.find('\n');
    std::string_view line = page.substr(0, newline);
    page.remove_prefix(newline == std::string_view::npos ? page.size() : newline + 1);
    bool blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
    if (out.empty() && (blank || line.starts_with('#'))) continue;
    if (blank || line.starts_with('#')) break;
    if (!out.empty()) out += ' ';
    out += line;
  }
  return out;
}

auto Rule(const CodeInfo& info) -> Json {
  std::string_view page = ExplainPage(info.code).value_or("");
  std::string full = FirstParagraph(page);
  Json rule;
  rule["id"] = info.code;
  rule["name"] = RuleName(info.id);
  rule["shortDescription"]["text"] = info.summary;
  rule["fullDescription"]["text"] = full.empty() ? std::string(info.summary) : full;
  rule["defaultConfiguration"]["level"] = SeverityName(info.severity);
  rule["help"]["text"] =
      "Run `ferry explain " + std::string(info.code) + "` for the full explanation.";
  if (!page.empty()) rule["help"]["markdown"] = page;
  return rule;
}

/// Percent-encodes what may not appear in a URI reference; '/' is kept.
auto FileUri(std::string_view file) -> std::string {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : file) {
    unsigned char u = static_cast<unsigned char>(c);
    bool plain = std::isalnum(u) || std::string_view("-._~/").find(c) != std::string_view::npos;
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

auto PhysicalLocation(const Location& location) -> Json {
  Json physical;
  physical["artifactLocation"]["uri"] = FileUri(location.file);
  if (location.line == 0) return physical;
  Json region;
  region["startLine"] = location.line;
  if (location.column > 0) region["startColumn"] = location.column;
  if (location.column > 0 && location.end_column > location.column)
    region["endColumn"] = location.end_column;
  physical["region"] = std::move(region);
  return physical;
}

auto Result(const Diagnostic& d, std::size_t rule_index) -> Json {
  Json result;
  result["ruleId"] = Info(d.code).code;
  result["ruleIndex"] = rule_index;
  result["level"] = SeverityName(d.severity);
  result["message"]["text"] = d.message;
  Json location;
  if (!d.location.file.empty()) location["physicalLocation"] = PhysicalLocation(d.location);
  if (!d.path.empty())
    location["logicalLocations"] = Json::array({Json{{"fullyQualifiedName", d.path}}});
  result["locations"] = location.empty() ? Json::array() : Json::array({location});
  Json related = Json::array();
  for (const Note& note : d.notes) {
    Json entry;
    entry["id"] = related.size() + 1;
    if (!note.location.file.empty()) entry["physicalLocation"] = PhysicalLocation(note.location);
    entry["message"]["text"] = note.message;
    related.push_back(std::move(entry));
  }
  if (!related.empty()) result["relatedLocations"] = std::move(related);
  return result;
}

}  // namespace

auto PrintSarif(const std::vector<Diagnostic>& diagnostics, const std::string& tool_version)
    -> std::string {
  // Rules in table order, so the log does not depend on diagnostic order.
  std::set<Code> used;
  for (const Diagnostic& d : diagnostics) used.insert(d.code);
  Json rules = Json::array();
  std::map<Code, std::size_t> rule_index;
  for (Code code : used) {
    rule_index[code] = rules.size();
    rules.push_back(Rule(Info(code)));
  }
  Json results = Json::array();
  for (const Diagnostic& d : diagnostics) results.push_back(Result(d, rule_index[d.code]));

  Json driver;
  driver["name"] = "ferry";
  driver["version"] = tool_version;
  driver["rules"] = std::move(rules);
  Json run;
  run["tool"]["driver"] = std::move(driver);
  run["results"] = std::move(results);
  Json log;
  log["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  log["version"] = "2.1.0";
  log["runs"] = Json::array({std::move(run)});
  return log.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace ferry::diag

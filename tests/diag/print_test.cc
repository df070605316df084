#include "compiler/diag/print.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace ferry::diag {
namespace {

const char* const kManifest =
    "endpoints:\n"
    "  faq:\n"
    "    versions:\n"
    "      a:\n"
    "        role: control\n"
    "      b:\n"
    "        role: control\n";

auto TwoControls() -> Diagnostic {
  Diagnostic d{
      .code = Code::kMultipleControls,
      .severity = Severity::Error,
      .message = "endpoint 'faq' has 2 control versions ('a', 'b'); at most one is allowed",
      .location = {.file = "ferry.yaml", .line = 7, .column = 15, .end_column = 22},
      .path = "endpoints.faq.versions.b.role",
      .notes = {}};
  d.notes.push_back({"first control version declared here",
                     {.file = "ferry.yaml", .line = 5, .column = 15, .end_column = 22}});
  return d;
}

auto Simple(Code code, Location location, std::string message) -> Diagnostic {
  return Diagnostic{.code = code,
                    .severity = Info(code).severity,
                    .message = std::move(message),
                    .location = std::move(location),
                    .path = "",
                    .notes = {}};
}

TEST_CASE("PrintText shows the source line, carets under the node, notes and a summary") {
  SourceMap sources{{"ferry.yaml", kManifest}};
  CHECK(PrintText({TwoControls()}, sources) ==
        "ferry.yaml:7:15: error[E0203]: endpoint 'faq' has 2 control versions ('a', 'b'); at most "
        "one is allowed\n"
        "  |\n"
        "7 |         role: control\n"
        "  |               ^^^^^^^\n"
        "ferry.yaml:5:15: note: first control version declared here\n"
        "  |\n"
        "5 |         role: control\n"
        "  |               ^^^^^^^\n"
        "\n"
        "error: 1 error\n");
}

TEST_CASE("PrintText prints nothing for no diagnostics") { CHECK(PrintText({}, {}) == ""); }

TEST_CASE("PrintText summary counts errors and warnings") {
  SourceMap none;
  Diagnostic warning = Simple(Code::kUnusedModel, {.file = "f.yaml"}, "unused");
  Diagnostic error = Simple(Code::kYamlEmpty, {.file = "f.yaml"}, "empty");
  CHECK(PrintText({warning}, none) == "f.yaml: warning[W0603]: unused\n\nwarning: 1 warning\n");
  CHECK(PrintText({error, error, warning, warning}, none)
            .ends_with("\nerror: 2 errors, 2 warnings\n"));
  CHECK(PrintText({error}, none).ends_with("\nerror: 1 error\n"));
}

TEST_CASE("PrintText widens the gutter to the widest line number in the block") {
  std::string text;
  for (int i = 1; i <= 12; ++i) text += "key" + std::to_string(i) + ": v\n";
  Diagnostic d =
      Simple(Code::kYamlDuplicateKey, {.file = "f.yaml", .line = 10, .column = 1, .end_column = 6},
             "duplicate key 'key10'");
  d.notes.push_back({"first here", {.file = "f.yaml", .line = 9, .column = 1, .end_column = 5}});
  CHECK(PrintText({d}, {{"f.yaml", text}}) ==
        "f.yaml:10:1: error[E0003]: duplicate key 'key10'\n"
        "   |\n"
        "10 | key10: v\n"
        "   | ^^^^^\n"
        "f.yaml:9:1: note: first here\n"
        "   |\n"
        " 9 | key9: v\n"
        "   | ^^^^\n"
        "\n"
        "error: 1 error\n");
}

TEST_CASE("PrintText keeps tabs in the caret line so the caret lines up") {
  Diagnostic d =
      Simple(Code::kYamlTab, {.file = "f.yaml", .line = 2, .column = 3, .end_column = 0}, "tab");
  CHECK(PrintText({d}, {{"f.yaml", "a:\n\t\tb: 1\n"}}) ==
        "f.yaml:2:3: error[E0004]: tab\n"
        "  |\n"
        "2 | \t\tb: 1\n"
        "  | \t\t^\n"
        "\n"
        "error: 1 error\n");
}

TEST_CASE("PrintText counts multi-byte characters once in padding and carets") {
  // "é" is two bytes; columns count bytes.
  Diagnostic d = Simple(Code::kSchemaFormat,
                        {.file = "f.yaml", .line = 1, .column = 5, .end_column = 9}, "bad");
  CHECK(PrintText({d}, {{"f.yaml", "é: ab\xc3\xa9\n"}}) ==
        "f.yaml:1:5: error[E0105]: bad\n"
        "  |\n"
        "1 | é: abé\n"
        "  |    ^^^\n"
        "\n"
        "error: 1 error\n");
}

TEST_CASE("PrintText omits the snippet for lines past the end or unknown files") {
  Diagnostic past =
      Simple(Code::kYamlSyntax, {.file = "f.yaml", .line = 3, .column = 1}, "past the end");
  Diagnostic unknown =
      Simple(Code::kYamlSyntax, {.file = "g.yaml", .line = 1, .column = 1}, "no source");
  SourceMap sources{{"f.yaml", "a: 1\nb: 2\n"}};
  CHECK(PrintText({past, unknown}, sources) ==
        "f.yaml:3:1: error[E0002]: past the end\n"
        "\n"
        "g.yaml:1:1: error[E0002]: no source\n"
        "\n"
        "error: 2 errors\n");
}

TEST_CASE("PrintText clamps a caret past the end of the line and skips it without a column") {
  SourceMap sources{{"f.yaml", "a: 1\r\nb: 2"}};
  Diagnostic beyond =
      Simple(Code::kYamlSyntax, {.file = "f.yaml", .line = 1, .column = 40}, "beyond");
  Diagnostic no_column = Simple(Code::kYamlSyntax, {.file = "f.yaml", .line = 2}, "line only");
  CHECK(PrintText({beyond, no_column}, sources) ==
        "f.yaml:1:40: error[E0002]: beyond\n"
        "  |\n"
        "1 | a: 1\n"
        "  |     ^\n"
        "\n"
        "f.yaml:2: error[E0002]: line only\n"
        "  |\n"
        "2 | b: 2\n"
        "\n"
        "error: 2 errors\n");
}

TEST_CASE("PrintText neutralizes control characters from the source") {
  Diagnostic d = Simple(Code::kYamlSyntax, {.file = "f.yaml", .line = 1, .column = 3}, "x");
  CHECK(PrintText({d}, {{"f.yaml", "a:\x1b[31m\n"}}).find("1 | a:?[31m\n") != std::string::npos);
}

TEST_CASE("PrintText prints location-less diagnostics and notes") {
  Diagnostic d = Simple(Code::kFileUnreadable, {}, "cannot read the manifest 'x.yaml'");
  d.notes.push_back({"pass a folder that holds ferry.yaml", {}});
  CHECK(PrintText({d}, {}) ==
        "error[E0001]: cannot read the manifest 'x.yaml'\n"
        "  = note: pass a folder that holds ferry.yaml\n"
        "\n"
        "error: 1 error\n");
}

TEST_CASE("PrintText colors severities when asked") {
  SourceMap sources{{"ferry.yaml", kManifest}};
  std::string text = PrintText({TwoControls()}, sources, {.color = true});
  CHECK(text.find("\x1b[1;31merror[E0203]\x1b[0m") != std::string::npos);
  CHECK(text.find("\x1b[1;36mnote\x1b[0m") != std::string::npos);
  CHECK(text.find("\x1b[1;31m^^^^^^^\x1b[0m") != std::string::npos);
  CHECK(PrintText({TwoControls()}, sources).find('\x1b') == std::string::npos);
}

TEST_CASE("PrintJson has one stable layout") {
  CHECK(PrintJson({TwoControls()}) ==
        R"({
  "diagnostics": [
    {
      "code": "E0203",
      "severity": "error",
      "message": "endpoint 'faq' has 2 control versions ('a', 'b'); at most one is allowed",
      "file": "ferry.yaml",
      "line": 7,
      "column": 15,
      "path": "endpoints.faq.versions.b.role",
      "notes": [
        {
          "message": "first control version declared here",
          "file": "ferry.yaml",
          "line": 5,
          "column": 15
        }
      ]
    }
  ]
}
)");
  CHECK(PrintJson({}) == "{\n  \"diagnostics\": []\n}\n");
}

TEST_CASE("PrintJson replaces invalid UTF-8 instead of throwing") {
  Diagnostic d =
      Simple(Code::kYamlNotUtf8, {.file = "f.yaml", .line = 1, .column = 1}, "bad byte \xff here");
  auto parsed = nlohmann::json::parse(PrintJson({d}));
  CHECK(parsed["diagnostics"][0]["message"] == "bad byte \xEF\xBF\xBD here");
}

TEST_CASE("PrintSarif writes a 2.1.0 log with rules and results") {
  Diagnostic warning =
      Simple(Code::kUnusedModel, {.file = "my dir/ferry.yaml", .line = 3, .column = 7}, "unused");
  auto log = nlohmann::json::parse(PrintSarif({TwoControls(), warning}, "0.1.0"));
  CHECK(log["version"] == "2.1.0");
  CHECK(log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json");
  REQUIRE(log["runs"].size() == 1);
  const auto& run = log["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "ferry");
  CHECK(run["tool"]["driver"]["version"] == "0.1.0");

  const auto& rules = run["tool"]["driver"]["rules"];
  REQUIRE(rules.size() == 2);
  CHECK(rules[0]["id"] == "E0203");
  CHECK(rules[0]["name"] == "MultipleControls");
  CHECK(rules[0]["shortDescription"]["text"] == "an endpoint has more than one control version");
  CHECK(rules[0]["fullDescription"]["text"].get<std::string>().starts_with(
      "More than one version of an endpoint"));
  CHECK(rules[0]["defaultConfiguration"]["level"] == "error");
  CHECK(rules[0]["help"]["markdown"].get<std::string>().starts_with("# E0203: "));
  CHECK(rules[1]["id"] == "W0603");
  CHECK(rules[1]["defaultConfiguration"]["level"] == "warning");

  const auto& results = run["results"];
  REQUIRE(results.size() == 2);
  CHECK(results[0]["ruleId"] == "E0203");
  CHECK(results[0]["ruleIndex"] == 0);
  CHECK(results[0]["level"] == "error");
  CHECK(results[0]["message"]["text"] == TwoControls().message);
  const auto& physical = results[0]["locations"][0]["physicalLocation"];
  CHECK(physical["artifactLocation"]["uri"] == "ferry.yaml");
  CHECK(physical["region"] ==
        nlohmann::json{{"startLine", 7}, {"startColumn", 15}, {"endColumn", 22}});
  CHECK(results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] ==
        "endpoints.faq.versions.b.role");
  const auto& related = results[0]["relatedLocations"];
  REQUIRE(related.size() == 1);
  CHECK(related[0]["id"] == 1);
  CHECK(related[0]["message"]["text"] == "first control version declared here");
  CHECK(related[0]["physicalLocation"]["region"]["startLine"] == 5);

  CHECK(results[1]["ruleIndex"] == 1);
  CHECK(results[1]["level"] == "warning");
  CHECK(results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "my%20dir/ferry.yaml");
  CHECK(results[1]["locations"][0]["physicalLocation"]["region"] ==
        nlohmann::json{{"startLine", 3}, {"startColumn", 7}});
  CHECK_FALSE(results[1].contains("relatedLocations"));
}

TEST_CASE("PrintSarif is deterministic and lists rules in table order") {
  Diagnostic late =
      Simple(Code::kUnusedEnvironment, {.file = "f.yaml", .line = 1, .column = 1}, "x");
  Diagnostic early = Simple(Code::kYamlEmpty, {.file = "f.yaml", .line = 1, .column = 1}, "y");
  std::string once = PrintSarif({late, early}, "1");
  CHECK(once == PrintSarif({late, early}, "1"));
  auto log = nlohmann::json::parse(once);
  CHECK(log["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "E0009");
  CHECK(log["runs"][0]["results"][0]["ruleIndex"] == 1);
  CHECK(nlohmann::json::parse(PrintSarif({}, "1"))["runs"][0]["results"].empty());
}

TEST_CASE("PrintSarif leaves out the region when the line is unknown") {
  Diagnostic d = Simple(Code::kFileUnreadable, {.file = "x.yaml"}, "cannot read");
  auto log = nlohmann::json::parse(PrintSarif({d}, "1"));
  const auto& physical = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
  CHECK(physical["artifactLocation"]["uri"] == "x.yaml");
  CHECK_FALSE(physical.contains("region"));
}

}  // namespace
}  // namespace ferry::diag

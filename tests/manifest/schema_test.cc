#include "compiler/manifest/schema.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "compiler/manifest/load_yaml.h"
#include "compiler/support/embedded.h"
#include "tests/manifest/manifest_samples.h"

namespace ferry::manifest {
namespace {

using Lines = std::vector<std::string>;

/// Loads `yaml`, validates it and renders each diagnostic as
/// "line:column code path: message", sorted.
auto Validate(std::string_view yaml, InvalidNodes* invalid = nullptr) -> Lines {
  diag::Sink sink;
  std::optional<Document> document = LoadYaml("ferry.yaml", yaml, sink);
  REQUIRE(document.has_value());
  REQUIRE(sink.diagnostics().empty());
  InvalidNodes rejected = ValidateSchema(*document, sink);
  if (invalid != nullptr) *invalid = rejected;
  Lines out;
  for (const diag::Diagnostic& d : sink.Sorted()) {
    out.push_back(std::to_string(d.location.line) + ":" + std::to_string(d.location.column) + " " +
                  std::string(diag::Info(d.code).code) + " " + d.path + ": " + d.message);
  }
  return out;
}

/// The small sample with `extra` appended (lines 15 onwards are the
/// endpoint's versions, at column 7; endpoint fields at column 5).
auto Small(std::string_view extra) -> std::string {
  return std::string(testing::kSmallManifest) + std::string(extra);
}

TEST_CASE("the complete example of docs/manifest.md is valid") {
  CHECK(Validate(testing::kFullManifest) == Lines{});
  CHECK(Validate(testing::kSmallManifest) == Lines{});
}

TEST_CASE("the schema is embedded and is draft 7") {
  const std::optional<std::string_view> schema = support::FindEmbedded("schemas/ferry.schema.json");
  REQUIRE(schema.has_value());
  CHECK(schema->find("\"$schema\": \"http://json-schema.org/draft-07/schema#\"") !=
        std::string_view::npos);
}

TEST_CASE("E0101: a value of the wrong type") {
  CHECK(Validate(Small("      b: {model: ranker@1, traffic: \"20\"}\n")) ==
        Lines{"15:37 E0101 endpoints.faq.versions.b.traffic: 'traffic' must be a number, not a "
              "string"});
  CHECK(Validate("- a\n") == Lines{"1:1 E0101 : the manifest must be a mapping, not a list"});
}

TEST_CASE("E0101: numbers where strings belong ask to be quoted") {
  std::string text(testing::kSmallManifest);
  text.replace(text.find("\"1.16\""), 6, "1.16");
  CHECK(Validate(text) ==
        Lines{"9:71 E0101 clusters.prod.kubernetes_version: 'kubernetes_version' must be a string, "
              "not a decimal number (quote it: \"1.16\")"});
}

TEST_CASE("E0101: a list item names its list") {
  CHECK(Validate(Small("      b: {models: [ranker@1, 3]}\n")) ==
        Lines{"15:30 E0101 endpoints.faq.versions.b.models.1: 'models.1' must be a string, not an "
              "integer (quote it: \"3\")"});
}

TEST_CASE("E0102: a missing field is reported at the mapping that lacks it") {
  CHECK(Validate("ferry: 1\nproject: p\nworkspace: {name: w}\n") ==
        Lines{"1:1 E0102 : the manifest is missing required field 'clusters'",
              "1:1 E0102 : the manifest is missing required field 'endpoints'",
              "1:1 E0102 : the manifest is missing required field 'models'",
              "3:12 E0102 workspace: the workspace is missing required field 'region'"});
}

TEST_CASE("E0102: model and models are alternatives") {
  CHECK(Validate(Small("      b: {traffic: 20}\n")) ==
        Lines{"15:10 E0102 endpoints.faq.versions.b: endpoint version 'b' is missing required "
              "field 'model' or 'models'"});
}

TEST_CASE("E0102: azure_cni needs a subnet") {
  std::string text(testing::kSmallManifest);
  text.replace(text.find("agent_count"), 0, "network: {plugin: azure_cni}, ");
  CHECK(Validate(text) ==
        Lines{"9:44 E0102 clusters.prod.network: the network of cluster 'prod' is missing required "
              "field 'subnet_id' (required when 'plugin' is 'azure_cni')"});
}

TEST_CASE("E0102: tables and lists that must not be empty") {
  CHECK(Validate(Small("      b: {models: []}\n")) ==
        Lines{"15:19 E0102 endpoints.faq.versions.b.models: 'models' must list at least one model "
              "reference"});
  CHECK(Validate(Small("  empty: {cluster: prod, versions: {}}\n")) ==
        Lines{"15:36 E0102 endpoints.empty.versions: 'versions' must declare at least one endpoint "
              "version"});
}

TEST_CASE("E0103: unknown fields are reported at the key, with a suggestion") {
  InvalidNodes invalid;
  CHECK(Validate(Small("      b: {model: ranker@1, trafic: 20, bogus: 1}\n"), &invalid) ==
        Lines{"15:28 E0103 endpoints.faq.versions.b.trafic: unknown field 'trafic' in endpoint "
              "version 'b'; did you mean 'traffic'?",
              "15:40 E0103 endpoints.faq.versions.b.bogus: unknown field 'bogus' in endpoint "
              "version 'b'"});
  // The values under the unknown keys are rejected, not the keys.
  CHECK(invalid.size() == 2);
}

TEST_CASE("E0104: a value outside an enum, with a suggestion") {
  CHECK(Validate(Small("      b: {model: ranker@1, role: controll}\n")) ==
        Lines{"15:34 E0104 endpoints.faq.versions.b.role: 'role' must be one of control or "
              "treatment, not 'controll'; did you mean 'control'?"});
}

TEST_CASE("auth is a choice or a mapping of switches") {
  CHECK(Validate(Small("    auth: token\n")) == Lines{});
  CHECK(Validate(Small("    auth: {key: false, token: true}\n")) == Lines{});
  CHECK(Validate(Small("    auth: keys\n")) ==
        Lines{"15:11 E0104 endpoints.faq.auth: 'auth' must be one of key, token or none, not "
              "'keys'; did you mean 'key'?"});
  CHECK(Validate(Small("    auth: 5\n")) ==
        Lines{"15:11 E0101 endpoints.faq.auth: 'auth' must be a string or a mapping, not an "
              "integer (quote it: \"5\")"});
  CHECK(Validate(Small("    auth: {key: \"yes\", tokn: true}\n")) ==
        Lines{"15:17 E0101 endpoints.faq.auth.key: 'key' must be true or false, not a string",
              "15:24 E0103 endpoints.faq.auth.tokn: unknown field 'tokn' in the auth of endpoint "
              "'faq'; did you mean 'token'?"});
}

TEST_CASE("E0209: model references explain their form (the schema names the code)") {
  CHECK(Validate(Small("      b: {model: ranker-1}\n")) ==
        Lines{"15:18 E0209 endpoints.faq.versions.b.model: 'ranker-1' is not a valid model "
              "reference: write the model reference as name@version, e.g. faq-ranker@3"});
}

TEST_CASE("E0105: names are DNS-1123 labels of limited length") {
  InvalidNodes invalid;
  CHECK(Validate(Small("  Bad_Name: {cluster: prod, versions: {a: {model: ranker@1}}}\n"),
                 &invalid) ==
        Lines{"15:3 E0105 endpoints.Bad_Name: 'Bad_Name' is not a valid endpoint name: names are "
              "lower-case letters, digits and '-', start with a letter, end with a letter or "
              "digit, and have at most 32 characters"});
  CHECK(invalid.size() == 2);
  // 32 characters are fine, 34 are not.
  CHECK(Validate(Small("  abcdefghij-abcdefghij-abcdefghij: {cluster: prod, versions: {a: {model: "
                       "ranker@1}}}\n")) == Lines{});
  CHECK(Validate(Small("  abcdefghij-abcdefghij-abcdefghij-x: {cluster: prod, versions: {a: "
                       "{model: ranker@1}}}\n")) ==
        Lines{"15:3 E0105 endpoints.abcdefghij-abcdefghij-abcdefghij-x: "
              "'abcdefghij-abcdefghij-abcdefghij-x' "
              "is not a valid endpoint name: names are lower-case letters, digits and '-', start "
              "with a letter, end with a letter or digit, and have at most 32 characters"});
}

TEST_CASE("E0105: digests, model version numbers, empty strings and minimums") {
  CHECK(Validate("ferry: 1\nproject: p\nworkspace: {name: w, region: r}\n"
                 "models: {m: {versions: {01: {path: '', sha256: abc}}}}\n"
                 "clusters: {c: {vm_size: v, agent_count: 0, kubernetes_version: '1.16'}}\n"
                 "endpoints: {e: {cluster: c, versions: {a: {model: m@1}}}}\n") ==
        Lines{"4:25 E0105 models.m.versions.01: '01' is not a valid model version number: model "
              "versions are positive integers without leading zeros, e.g. 3",
              "4:36 E0105 models.m.versions.01.path: 'path' must not be empty",
              "4:48 E0105 models.m.versions.01.sha256: 'abc' is not a valid SHA-256: write the "
              "digest as 64 lower-case hexadecimal digits (sha256sum prints it)",
              "5:41 E0105 clusters.c.agent_count: 'agent_count' must be at least 1, not 0"});
}

TEST_CASE("E0105: model and models together") {
  CHECK(Validate(Small("      b: {model: ranker@1, models: [ranker@1]}\n")) ==
        Lines{"15:28 E0105 endpoints.faq.versions.b.models: endpoint version 'b' sets both "
              "'model' and 'models'; write only one"});
}

TEST_CASE("E0106: another format version is the only error reported") {
  CHECK(Validate("ferry: 2\nproject: x\n") ==
        Lines{"1:8 E0106 ferry: format version 2 is not supported; this ferry reads format 1"});
  CHECK(Validate(std::string(testing::kSmallManifest).replace(7, 1, "\"1\"")) ==
        Lines{"1:8 E0101 ferry: 'ferry' must be an integer, not a string"});
}

TEST_CASE("very long strings and names are rejected without exhausting the stack") {
  const std::string long_ref(200000, 'a');
  const std::string long_name(1000, 'a');
  const Lines lines = Validate(Small("      b: {model: " + long_ref + "}\n  " + long_name +
                                     ": {cluster: prod, versions: {a: {model: ranker@1}}}\n"));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("E0209 endpoints.faq.versions.b.model: 'aaaa") != std::string::npos);
  CHECK(lines[1].find("is not a valid endpoint name") != std::string::npos);
}

TEST_CASE("a schema given as text") {
  diag::Sink sink;
  std::optional<Document> document = LoadYaml("f.yaml", "a: 1\n", sink);
  REQUIRE(document.has_value());
  const InvalidNodes invalid = ValidateSchema(
      *document, R"({"type": "object", "properties": {"a": {"type": "string"}}})", sink);
  REQUIRE(sink.diagnostics().size() == 1);
  CHECK(sink.diagnostics()[0].message == "'a' must be a string, not an integer (quote it: \"1\")");
  CHECK(invalid.size() == 1);
}

}  // namespace
}  // namespace ferry::manifest

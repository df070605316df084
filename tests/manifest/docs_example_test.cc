// The complete example in docs/manifest.md is the contract users copy: it
// must load, satisfy the schema and build without a single diagnostic.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "compiler/manifest/build_ir.h"
#include "compiler/manifest/load_yaml.h"
#include "compiler/manifest/schema.h"

namespace ferry::manifest {
namespace {

// The first ```yaml block after the "## A complete example" heading.
auto DocsExample() -> std::string {
  std::ifstream file(std::string(FERRY_SOURCE_DIR) + "/docs/manifest.md");
  std::stringstream text;
  text << file.rdbuf();
  const std::string doc = text.str();
  const std::size_t heading = doc.find("## A complete example");
  const std::size_t open = doc.find("```yaml\n", heading);
  const std::size_t close = doc.find("```\n", open + 8);
  REQUIRE(heading != std::string::npos);
  REQUIRE(open != std::string::npos);
  REQUIRE(close != std::string::npos);
  return doc.substr(open + 8, close - open - 8);
}

TEST_CASE("the complete example of docs/manifest.md compiles without a diagnostic") {
  const std::string example = DocsExample();
  diag::Sink sink;
  std::optional<Document> document = LoadYaml("docs/manifest.md", example, sink);
  REQUIRE(document.has_value());
  const InvalidNodes invalid = ValidateSchema(*document, sink);
  const ir::Project project = BuildProject(*document, invalid, sink);
  for (const diag::Diagnostic& d : sink.diagnostics()) {
    FAIL_CHECK(d.location.line << ":" << d.location.column << " " << d.message);
  }
  CHECK(invalid.empty());
  REQUIRE(project.endpoints.size() == 1);
  const ir::Endpoint& faq = project.endpoints[0];
  REQUIRE(faq.versions.size() == 2);
  CHECK(faq.traffic_resolved);
  CHECK(faq.versions[0].resolved_traffic == 90);
  CHECK(faq.versions[1].resolved_traffic == 10);
}

}  // namespace
}  // namespace ferry::manifest

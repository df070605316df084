// Every code in codes.def has an explain page with the four sections
// `ferry explain` promises.
#include <doctest/doctest.h>

#include <string>

#include "compiler/diag/diagnostic.h"
#include "compiler/support/embedded.h"

namespace ferry::diag {
namespace {

TEST_CASE("every code has an explain page titled with its code and summary") {
  for (const CodeInfo& info : AllCodes()) {
    CAPTURE(info.code);
    std::optional<std::string_view> page = diag::ExplainPage(info.code);
    REQUIRE(page.has_value());
    std::string title = "# " + std::string(info.code) + ": " + std::string(info.summary) + "\n";
    CHECK(page->starts_with(title));
    for (std::string_view section :
         {"\n## What it means\n", "\n## Why\n", "\n## How to fix\n", "\n## Example\n"}) {
      CAPTURE(section);
      CHECK(page->find(section) != std::string_view::npos);
    }
    CHECK(page->find("```yaml\n") != std::string_view::npos);
    CHECK(page->ends_with("\n"));
  }
}

TEST_CASE("no explain page exists for a code that is not in the table") {
  for (const support::EmbeddedFile& file : support::EmbeddedFiles()) {
    if (!file.path.starts_with("compiler/diag/explain/")) continue;
    std::string_view name = file.path.substr(std::string_view("compiler/diag/explain/").size());
    CAPTURE(name);
    REQUIRE(name.ends_with(".md"));
    CHECK(FindCode(name.substr(0, name.size() - 3)).has_value());
  }
}

}  // namespace
}  // namespace ferry::diag

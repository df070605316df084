#include "compiler/diag/diagnostic.h"

#include <doctest/doctest.h>

#include <regex>
#include <set>

namespace ferry::diag {
namespace {

auto At(std::string file, std::uint32_t line, std::uint32_t column) -> Location {
  return Location{.file = std::move(file), .line = line, .column = column};
}

TEST_CASE("Sink::Sorted orders by file, line, column, code and message") {
  Sink sink;
  sink.Add(Code::kUnusedModel, At("b.yaml", 1, 1), "", "late file");
  sink.Add(Code::kTrafficOverflow, At("a.yaml", 9, 3), "", "line 9");
  sink.Add(Code::kMultipleControls, At("a.yaml", 2, 5), "", "second code");
  sink.Add(Code::kUnknownModel, At("a.yaml", 2, 5), "", "first code");
  sink.Add(Code::kUnknownModel, At("a.yaml", 2, 1), "", "column 1");
  std::vector<std::string> messages;
  for (const Diagnostic& d : sink.Sorted()) messages.push_back(d.message);
  CHECK(messages ==
        std::vector<std::string>{"column 1", "first code", "second code", "line 9", "late file"});
}

TEST_CASE("Sink::Sorted removes exact duplicates and keeps near ones") {
  Sink sink;
  sink.Add(Code::kUnknownModel, At("a.yaml", 2, 5), "endpoints.x", "same");
  sink.Add(Code::kUnknownModel, At("a.yaml", 2, 5), "endpoints.x", "same");
  sink.Add(Code::kUnknownModel, At("a.yaml", 2, 5), "endpoints.y", "same");
  sink.Add(Code::kUnknownModel, At("a.yaml", 2, 5), "endpoints.x", "other");
  CHECK(sink.diagnostics().size() == 4);
  CHECK(sink.Sorted().size() == 3);
}

TEST_CASE("Sink counts errors and warnings") {
  Sink sink;
  CHECK_FALSE(sink.HasErrors());
  sink.Add(Code::kUnusedModel, At("a.yaml", 1, 1), "", "w");
  CHECK_FALSE(sink.HasErrors());
  CHECK(sink.Count(Severity::Warning) == 1);
  Diagnostic& added = sink.Add(Code::kYamlEmpty, At("a.yaml", 1, 1), "", "e");
  CHECK(added.severity == Severity::Error);
  CHECK(sink.HasErrors());
  CHECK(sink.Count(Severity::Error) == 1);
}

TEST_CASE("the codes table is well-formed") {
  std::regex form("^[EW][0-9]{4}$");
  std::set<std::string_view> seen;
  std::size_t index = 0;
  for (const CodeInfo& info : AllCodes()) {
    CAPTURE(info.code);
    CHECK(std::regex_match(std::string(info.code), form));
    CHECK(seen.insert(info.code).second);
    CHECK(static_cast<std::size_t>(info.id) == index++);
    CHECK(&Info(info.id) == &info);
    CHECK(info.severity == (info.code[0] == 'E' ? Severity::Error : Severity::Warning));
    CHECK_FALSE(info.summary.empty());
    CHECK(FindCode(info.code)->id == info.id);
  }
  CHECK(seen.size() >= 50);
}

TEST_CASE("FindCode and SeverityName") {
  CHECK(FindCode("E0203")->id == Code::kMultipleControls);
  CHECK_FALSE(FindCode("E9999").has_value());
  CHECK_FALSE(FindCode("e0203").has_value());
  CHECK(SeverityName(Severity::Error) == "error");
  CHECK(SeverityName(Severity::Warning) == "warning");
  CHECK(SeverityName(Severity::Note) == "note");
}

}  // namespace
}  // namespace ferry::diag

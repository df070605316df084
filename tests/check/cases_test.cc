// The file-based case suite. Every tests/check/cases/*.yaml is a complete
// ferry.yaml; its expected diagnostics are its own `# CHECK:` comment lines,
// in the order the driver sorts them:
//
//   # CHECK: 12:9: error[E0203]: endpoint 'faq' has 2 control versions ...
//   # CHECK: 10:9: note: first control version 'a' declared here
//
// (a note follows its diagnostic; a place in another file is prefixed with
// that file's name). A case whose manifest must be something the case file
// cannot be (E0001: a file that does not exist) names it with
// `# MANIFEST: <path>`. Model files live in cases/models/, with their real
// sha256 in the manifests (`sha256sum tests/check/cases/models/*`).
//
// After a deliberate change of messages, regenerate every CHECK line with
//
//   FERRY_AUTOUPDATE=1 build/tests/ferry_tests --test-case='check cases*'
//
// and review the diff. A case file's name starts with the code it is for
// (`E0203_two_controls.yaml`); a test fails when a code has no case.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/driver/compile.h"
#include "compiler/support/file_system.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCheckPrefix = "# CHECK: ";
constexpr std::string_view kManifestPrefix = "# MANIFEST: ";

auto CasesDir() -> fs::path { return fs::path(FERRY_SOURCE_DIR) / "tests" / "check" / "cases"; }

auto ReadBytes(const fs::path& path) -> std::string {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

auto SplitLines(std::string_view text) -> std::vector<std::string> {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

auto CaseFiles() -> std::vector<std::string> {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(CasesDir())) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// The case's text, and the model files, in memory under names relative to
/// the cases folder, so every message is the same on every machine.
auto CaseFileSystem(const std::string& name, const std::string& text) -> support::MemoryFileSystem {
  support::MemoryFileSystem files;
  files.Add(name, text);
  for (const fs::directory_entry& entry : fs::directory_iterator(CasesDir() / "models")) {
    files.Add("models/" + entry.path().filename().string(), ReadBytes(entry.path()));
  }
  return files;
}

auto Place(const diag::Location& location, const std::string& manifest) -> std::string {
  std::string file = location.file == manifest ? "" : location.file + ":";
  return fmt::format("{}{}:{}", file, location.line, location.column);
}

auto OneLine(std::string text) -> std::string {
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at)) {
    text.replace(at, 1, "\\n");
  }
  return text;
}

/// The diagnostics of compiling case `name`, one CHECK line each (without
/// the prefix), notes after their diagnostic.
auto Actual(const std::string& name, const std::string& text) -> std::vector<std::string> {
  std::string manifest = name;
  for (const std::string& line : SplitLines(text)) {
    if (line.starts_with(kManifestPrefix)) manifest = line.substr(kManifestPrefix.size());
  }
  const support::MemoryFileSystem files = CaseFileSystem(name, text);
  diag::Sink sink;
  driver::Compile(files, manifest, catalog::Catalog::Builtin(), sink);
  std::vector<std::string> lines;
  for (const diag::Diagnostic& d : sink.Sorted()) {
    lines.push_back(fmt::format("{}: {}[{}]: {}", Place(d.location, manifest),
                                diag::SeverityName(d.severity), diag::Info(d.code).code,
                                OneLine(d.message)));
    for (const diag::Note& note : d.notes) {
      lines.push_back(
          fmt::format("{}: note: {}", Place(note.location, manifest), OneLine(note.message)));
    }
  }
  return lines;
}

auto Expected(const std::string& text) -> std::vector<std::string> {
  std::vector<std::string> lines;
  for (const std::string& line : SplitLines(text)) {
    if (line.starts_with(kCheckPrefix)) lines.push_back(line.substr(kCheckPrefix.size()));
  }
  return lines;
}

/// `text` without its CHECK lines, then `actual` as the new CHECK lines.
auto Rewrite(const std::string& text, const std::vector<std::string>& actual) -> std::string {
  std::string kept;
  for (const std::string& line : SplitLines(text)) {
    if (!line.starts_with(kCheckPrefix)) kept += line + "\n";
  }
  while (kept.ends_with("\n\n")) kept.pop_back();
  for (const std::string& line : actual) kept += std::string(kCheckPrefix) + line + "\n";
  return kept;
}

auto Join(const std::vector<std::string>& lines) -> std::string {
  std::string joined;
  for (const std::string& line : lines) joined += line + "\n";
  return joined;
}

auto AutoUpdate() -> bool {
  const char* value = std::getenv("FERRY_AUTOUPDATE");
  return value != nullptr && std::string_view(value) == "1";
}

TEST_CASE("check cases: every case reports exactly its CHECK lines") {
  const std::vector<std::string> names = CaseFiles();
  REQUIRE(!names.empty());
  for (const std::string& name : names) {
    CAPTURE(name);
    const std::string text = ReadBytes(CasesDir() / name);
    const std::vector<std::string> actual = Actual(name, text);
    if (AutoUpdate()) {
      const std::string updated = Rewrite(text, actual);
      if (updated != text) std::ofstream(CasesDir() / name, std::ios::binary) << updated;
      continue;
    }
    CHECK(Join(Expected(text)) == Join(actual));
  }
}

// Codes E07xx (render) and E08xx (model compiler) come from later stages,
// which have their own coverage tests (tests/render, tests/onnx).
auto IsCheckStageCode(std::string_view code) -> bool {
  return code.substr(1, 2) < "07";
}

TEST_CASE("check cases: every diagnostic code has a case that reports it") {
  const std::vector<std::string> names = CaseFiles();
  for (const diag::CodeInfo& info : diag::AllCodes()) {
    if (!IsCheckStageCode(info.code)) continue;
    CAPTURE(info.code);
    const std::string tag = fmt::format("[{}]", info.code);
    bool covered = false;
    for (const std::string& name : names) {
      if (!name.starts_with(info.code)) continue;
      const std::string text = ReadBytes(CasesDir() / name);
      const auto expected = Expected(text);
      covered |= std::any_of(expected.begin(), expected.end(), [&](const std::string& line) {
        return line.find(tag) != std::string::npos;
      });
    }
    CHECK(covered);
  }
}

TEST_CASE("check cases: many_violations.yaml reports at least ten codes in one run") {
  const std::string text = ReadBytes(CasesDir() / "many_violations.yaml");
  std::vector<std::string> codes;
  for (const std::string& line : Expected(text)) {
    const std::size_t open = line.find('[');
    if (open != std::string::npos) codes.push_back(line.substr(open + 1, 5));
  }
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  CHECK(codes.size() >= 10);
}

}  // namespace
}  // namespace ferry

#include "compiler/diag/diagnostic.h"

#include <algorithm>
#include <tuple>

#include "compiler/support/embedded.h"

namespace ferry::diag {
namespace {

constexpr CodeInfo kCodes[] = {
#define FERRY_DIAG(id, code, severity, summary) {Code::id, code, Severity::severity, summary},
#include "compiler/diag/codes.def"
#undef FERRY_DIAG
};

auto SortKey(const Diagnostic& d) {
  return std::tie(d.location.file, d.location.line, d.location.column, d.code, d.message);
}

auto SameDiagnostic(const Diagnostic& a, const Diagnostic& b) -> bool {
  return SortKey(a) == SortKey(b) && a.path == b.path;
}

}  // namespace

auto Info(Code id) -> const CodeInfo& { return kCodes[static_cast<std::size_t>(id)]; }

auto AllCodes() -> std::span<const CodeInfo> { return kCodes; }

auto FindCode(std::string_view code) -> std::optional<CodeInfo> {
  for (const CodeInfo& info : kCodes) {
    if (info.code == code) return info;
  }
  return std::nullopt;
}

auto ExplainPage(std::string_view code) -> std::optional<std::string_view> {
  return support::FindEmbedded("compiler/diag/explain/" + std::string(code) + ".md");
}

auto SeverityName(Severity severity) -> std::string_view {
  switch (severity) {
    case Severity::Error:
      return "error";
    case Severity::Warning:
      return "warning";
    case Severity::Note:
      return "note";
  }
  return "error";
}

auto Sink::Add(Code code, Location location, std::string path, std::string message) -> Diagnostic& {
  diagnostics_.push_back(Diagnostic{
      .code = code,
      .severity = Info(code).severity,
      .message = std::move(message),
      .location = std::move(location),
      .path = std::move(path),
      .notes = {},
  });
  return diagnostics_.back();
}

auto Sink::HasErrors() const -> bool { return Count(Severity::Error) > 0; }

auto Sink::Count(Severity severity) const -> std::size_t {
  return static_cast<std::size_t>(
      std::count_if(diagnostics_.begin(), diagnostics_.end(),
                    [&](const Diagnostic& d) { return d.severity == severity; }));
}

auto Sink::Sorted() const -> std::vector<Diagnostic> {
  std::vector<Diagnostic> sorted = diagnostics_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return SortKey(a) < SortKey(b);
  });
  sorted.erase(std::unique(sorted.begin(), sorted.end(), SameDiagnostic), sorted.end());
  return sorted;
}

}  // namespace ferry::diag

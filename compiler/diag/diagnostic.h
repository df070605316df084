// Diagnostics are values: a code from codes.def, a message, the place in the
// manifest that caused it, and notes pointing at related places.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::diag {

enum class Severity { Error, Warning, Note };

/// Every diagnostic kind, one per row of codes.def.
enum class Code : std::uint16_t {
#define FERRY_DIAG(id, code, severity, summary) id,
#include "compiler/diag/codes.def"
#undef FERRY_DIAG
};

/// The static facts of a code: its spelling, severity and one-line summary.
struct CodeInfo {
  Code id;
  std::string_view code;
  Severity severity;
  std::string_view summary;
};

/// The row of codes.def for `id`.
auto Info(Code id) -> const CodeInfo&;
/// Every row of codes.def, in table order.
auto AllCodes() -> std::span<const CodeInfo>;
/// The row whose spelling is `code` ("E0203"), if any.
auto FindCode(std::string_view code) -> std::optional<CodeInfo>;
/// The explain page of `code` ("E0203"), compiled in from
/// compiler/diag/explain/<code>.md; nullopt for an unknown code.
auto ExplainPage(std::string_view code) -> std::optional<std::string_view>;
/// "error", "warning" or "note".
auto SeverityName(Severity severity) -> std::string_view;

/// A place in a source file. Lines and columns count from 1; 0 means unknown.
struct Location {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  /// Where the offending node ends (exclusive), on `line` when known.
  std::uint32_t end_column = 0;

  auto operator<=>(const Location&) const = default;
};

/// A secondary message pointing at a related place.
struct Note {
  std::string message;
  Location location;
};

struct Diagnostic {
  Code code;
  Severity severity;
  std::string message;
  Location location;
  /// The manifest path of the offending node, e.g. "endpoints.faq.versions.b.traffic".
  std::string path;
  std::vector<Note> notes;
};

/// Collects diagnostics. Stages add to it and never print or throw for user
/// errors; the CLI sorts, de-duplicates and prints.
class Sink {
 public:
  /// Adds a diagnostic of `code` (severity from the table) and returns it so
  /// the caller can attach notes.
  auto Add(Code code, Location location, std::string path, std::string message) -> Diagnostic&;

  /// Whether any error (not warning) was added.
  auto HasErrors() const -> bool;
  /// Number of diagnostics of `severity`.
  auto Count(Severity severity) const -> std::size_t;
  /// Diagnostics in insertion order.
  auto diagnostics() const -> const std::vector<Diagnostic>& { return diagnostics_; }
  /// Diagnostics sorted by file, line, column, code, message; exact duplicates removed.
  auto Sorted() const -> std::vector<Diagnostic>;

 private:
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace ferry::diag

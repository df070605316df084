// `ferry explain`: print a code's explanation page, or list every code.
#include <ostream>

#include "compiler/cli/args.h"
#include "compiler/cli/commands.h"
#include "compiler/diag/diagnostic.h"

namespace ferry::cli {
namespace {

const OptionSpec kExplainOptions[] = {
    {"--list", {}},
};

void ListCodes(std::ostream& out) {
  for (const diag::CodeInfo& info : diag::AllCodes()) {
    std::string severity(diag::SeverityName(info.severity));
    out << info.code << "  " << severity << std::string(9 - severity.size(), ' ') << info.summary
        << "\n";
  }
}

/// "e0203" -> "E0203": codes are written upper-case, users may not.
auto Normalize(std::string code) -> std::string {
  for (char& c : code) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return code;
}

}  // namespace

auto RunExplain(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kExplainOptions);
  if (!parsed.error.empty()) return UsageError(io, "explain", parsed.error);
  if (parsed.Has("--list")) {
    if (!parsed.positionals.empty()) return UsageError(io, "explain", "--list takes no CODE");
    ListCodes(io.out);
    return kExitOk;
  }
  if (parsed.positionals.size() != 1)
    return UsageError(io, "explain", "expected one CODE, e.g. E0203");

  std::string code = Normalize(parsed.positionals[0]);
  std::optional<diag::CodeInfo> info = diag::FindCode(code);
  if (!info) {
    io.err << "ferry explain: unknown code '" << parsed.positionals[0]
           << "'; run 'ferry explain --list' to see every code\n";
    return kExitUsage;
  }
  std::optional<std::string_view> page = diag::ExplainPage(code);
  if (!page) {
    // Every code has a page (a test enforces it); say what we know if one is missing.
    io.out << "# " << info->code << ": " << info->summary << "\n";
    return kExitOk;
  }
  io.out << *page;
  if (!page->empty() && page->back() != '\n') io.out << "\n";
  return kExitOk;
}

}  // namespace ferry::cli

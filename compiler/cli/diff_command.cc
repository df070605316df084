// `ferry diff BASE HEAD`: what a change to the project does, read straight
// from two git revisions (no checkout; bare repositories work), compiled on
// both sides and compared semantically. Exit codes follow `terraform plan
// -detailed-exitcode`: 0 no change, 2 changes, 1 error (usage errors too, so
// that 2 always means "changes").
#include <ostream>
#include <string>

#include "compiler/catalog/catalog.h"
#include "compiler/cli/args.h"
#include "compiler/cli/commands.h"
#include "compiler/driver/compile.h"
#include "compiler/review/git_tree.h"
#include "compiler/review/review.h"
#include "compiler/review/snapshot.h"

namespace ferry::cli {
namespace {

constexpr int kExitChanges = 2;

const OptionSpec kDiffOptions[] = {
    {"--repo", {}, /*any_value=*/true},
    {"--path", {}, /*any_value=*/true},
    {"--format", {"text", "markdown", "json"}},
};

auto Fail(const Io& io, std::string_view message) -> int {
  io.err << "ferry diff: " << message << "\n";
  return kExitFailure;
}

auto Format(const review::Report& report, std::string_view format) -> std::string {
  if (format == "markdown") return review::FormatMarkdown(report);
  if (format == "json") return review::FormatJson(report);
  return review::FormatText(report);
}

}  // namespace

auto RunDiff(std::span<const std::string> args, const Io& io) -> int {
  const ParsedArgs parsed = ParseArgs(args, kDiffOptions);
  if (!parsed.error.empty()) {
    UsageError(io, "diff", parsed.error);
    return kExitFailure;
  }
  if (parsed.positionals.size() != 2) {
    UsageError(
        io, "diff",
        "expected two revisions, BASE and HEAD; got " + std::to_string(parsed.positionals.size()));
    return kExitFailure;
  }
  // The manifest inside the repository: --path names a folder holding
  // ferry.yaml (or the manifest itself), relative to the repository's root.
  const std::string path_argument = parsed.Value("--path", "");
  const std::optional<std::string> manifest =
      review::NormalizeTreePath(driver::ManifestPath(path_argument));
  if (!manifest || manifest->empty()) {
    return Fail(io, "--path '" + path_argument +
                        "' must be a path inside the repository, relative to its root");
  }

  const std::string repo = parsed.Value("--repo", ".");
  const review::OpenedRepository opened = review::OpenRepository(repo);
  if (!opened.error.empty()) return Fail(io, opened.error);
  const catalog::Catalog& catalog = catalog::Catalog::Builtin();
  review::RevisionSnapshot base =
      review::TakeRevisionSnapshot(opened.repository, parsed.positionals[0], *manifest, catalog);
  if (!base.error.empty()) return Fail(io, base.error);
  review::RevisionSnapshot head =
      review::TakeRevisionSnapshot(opened.repository, parsed.positionals[1], *manifest, catalog);
  if (!head.error.empty()) return Fail(io, head.error);
  if (!base.snapshot.manifest_found && !head.snapshot.manifest_found) {
    return Fail(io, "no " + *manifest + " at " + parsed.positionals[0] + " nor at " +
                        parsed.positionals[1] + " (--path names the project's folder)");
  }

  const review::Report report = review::Compare(base.snapshot, head.snapshot);
  io.out << Format(report, parsed.Value("--format", "text"));
  return report.HasChanges() ? kExitChanges : kExitOk;
}

}  // namespace ferry::cli

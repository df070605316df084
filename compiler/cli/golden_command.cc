// `ferry golden`: the rendered output of every sample, kept in golden/ and
// reviewed as diffs. --check compares byte for byte and prints a unified
// diff per differing file; --update rewrites golden/. Binary files (model
// weights) are kept as "<path>.sha256" holding their digest and size, and the
// scoring runtime under runtime/ as one listing of digests, runtime.sha256.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <string_view>

#include "compiler/cli/args.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/front_end.h"
#include "compiler/driver/render.h"
#include "compiler/cli/output_folder.h"
#include "compiler/support/sha256.h"
#include "compiler/support/unified_diff.h"

namespace ferry::cli {
namespace {

const OptionSpec kGoldenOptions[] = {
    {"--check", {}},
    {"--update", {}},
    {"--samples", {}, /*any_value=*/true},
    {"--golden", {}, /*any_value=*/true},
};

// Relative path -> contents, as golden/<sample>/ holds them.
using GoldenFiles = std::map<std::string, std::string, std::less<>>;

// The scoring runtime render copies to OUT/runtime/ is the same ~170 KB in
// every sample: golden/<sample>/ keeps one listing of its files' digests
// instead of a copy, so a runtime change shows as one line per changed file.
constexpr std::string_view kRuntimeFolder = "runtime/";
constexpr std::string_view kRuntimeListing = "runtime.sha256";

auto ToGolden(const std::vector<render::RenderedFile>& files) -> GoldenFiles {
  GoldenFiles golden;
  std::string runtime;
  for (const render::RenderedFile& file : files) {
    if (file.path.starts_with(kRuntimeFolder)) {
      // sha256sum's format: "<digest>  <path>".
      runtime += fmt::format("{}  {}\n", support::Sha256Hex(file.contents), file.path);
    } else if (file.binary) {
      golden.emplace(file.path + ".sha256",
                     fmt::format("sha256: {}\nbytes: {}\n", support::Sha256Hex(file.contents),
                                 file.contents.size()));
    } else {
      golden.emplace(file.path, file.contents);
    }
  }
  if (!runtime.empty()) golden.emplace(kRuntimeListing, std::move(runtime));
  return golden;
}

// Sub-folders of `folder` (only those holding a ferry.yaml when `manifests`), sorted.
auto SubFolders(const std::string& folder, bool manifests) -> std::vector<std::string> {
  std::vector<std::string> names;
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) return names;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (!entry.is_directory(error)) continue;
    if (manifests && !std::filesystem::is_regular_file(entry.path() / "ferry.yaml", error)) {
      continue;
    }
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Options {
  std::string samples;
  std::string golden;
  bool update = false;
};

// Prints how `name`'s golden files differ from `rendered`; returns the number of differing files.
auto Compare(const Options& options, const std::string& name, const GoldenFiles& rendered,
             const Io& io) -> std::size_t {
  const std::string folder = support::JoinPath(options.golden, name);
  std::set<std::string, std::less<>> paths;
  for (const auto& [path, contents] : rendered) paths.insert(path);
  for (const std::string& path : ListFiles(folder)) paths.insert(path);
  std::size_t differences = 0;
  for (const std::string& path : paths) {
    const std::string golden_path = support::JoinPath(folder, path);
    const auto actual = rendered.find(path);
    const std::optional<std::string> expected = io.fs.Read(golden_path);
    if (actual == rendered.end()) {
      io.out << "extra: " << golden_path << " is no longer rendered\n";
    } else if (!expected) {
      io.out << "missing: " << golden_path << " is rendered but not in " << options.golden << "\n";
    } else if (*expected != actual->second) {
      io.out << support::UnifiedDiff(*expected, actual->second, golden_path,
                                     fmt::format("rendered {}/{}", name, path));
    } else {
      continue;
    }
    ++differences;
  }
  return differences;
}

// Makes golden/<name>/ hold exactly `rendered`.
auto Update(const Options& options, const std::string& name, const GoldenFiles& rendered,
            WriteOutcome& outcome) -> bool {
  const std::string folder = support::JoinPath(options.golden, name);
  std::vector<render::RenderedFile> files;
  for (const auto& [path, contents] : rendered)
    files.push_back({.path = path, .contents = contents});
  std::vector<std::string> stale;
  for (const std::string& path : ListFiles(folder)) {
    if (!rendered.contains(path)) stale.push_back(path);
  }
  return WriteFiles(folder, files, outcome) && RemoveFiles(folder, stale, outcome);
}

auto ParseOptions(std::span<const std::string> args, const Io& io) -> std::optional<Options> {
  const ParsedArgs parsed = ParseArgs(args, kGoldenOptions);
  std::string error = parsed.error;
  if (error.empty() && !parsed.positionals.empty()) {
    error = fmt::format("unexpected argument '{}'", parsed.positionals[0]);
  }
  if (error.empty() && parsed.Has("--check") && parsed.Has("--update")) {
    error = "--check and --update exclude each other";
  }
  if (!error.empty()) {
    UsageError(io, "golden", error);
    return std::nullopt;
  }
  return Options{.samples = parsed.Value("--samples", "samples"),
                 .golden = parsed.Value("--golden", "golden"),
                 .update = parsed.Has("--update")};
}

// What one run found, over all samples.
struct Tally {
  std::size_t samples = 0;
  std::size_t failed = 0;       ///< samples that do not render
  std::size_t differences = 0;  ///< files that differ, are missing or are extra (--check)
  std::size_t files = 0;        ///< golden files rendered
  WriteOutcome outcome;         ///< what --update wrote and removed
};

// Renders sample `name` and compares it with, or writes it to, its golden
// folder. False when --update could not write (outcome.error says why).
auto RunSample(const Options& options, const std::string& name, const Io& io, Tally& tally)
    -> bool {
  diag::Sink sink;
  const std::string manifest =
      support::JoinPath(support::JoinPath(options.samples, name), "ferry.yaml");
  const driver::RenderRun run = driver::CompileAndRender(io.fs, manifest, sink);
  if (sink.HasErrors()) {
    PrintDiagnostics(sink, run.sources, {.format = "text", .quiet = true}, io);
    io.err << "ferry golden: sample '" << name << "' does not render\n";
    ++tally.failed;
    return true;
  }
  const GoldenFiles rendered = ToGolden(run.result.files);
  tally.files += rendered.size();
  if (!options.update) {
    tally.differences += Compare(options, name, rendered, io);
    return true;
  }
  return Update(options, name, rendered, tally.outcome);
}

// Golden folders whose sample is gone: extra for --check, removed by --update.
auto RunOrphans(const Options& options, const std::vector<std::string>& samples, const Io& io,
                Tally& tally) -> bool {
  const std::set<std::string, std::less<>> known(samples.begin(), samples.end());
  for (const std::string& name : SubFolders(options.golden, /*manifests=*/false)) {
    if (known.contains(name)) continue;
    const std::string folder = support::JoinPath(options.golden, name);
    if (!options.update) {
      io.out << "extra: " << folder << " belongs to no sample in " << options.samples << "\n";
      ++tally.differences;
      continue;
    }
    if (!RemoveFiles(folder, ListFiles(folder), tally.outcome)) return false;
    std::error_code ignored;
    std::filesystem::remove(folder, ignored);
  }
  return true;
}

auto Report(const Options& options, const Tally& tally, const Io& io) -> int {
  if (options.update) {
    io.out << fmt::format("golden: {} samples, {} files in {} ({} written, {} removed)\n",
                          tally.samples - tally.failed, tally.files, options.golden,
                          tally.outcome.written, tally.outcome.removed);
    return tally.failed == 0 ? kExitOk : kExitFailure;
  }
  if (tally.differences > 0) {
    io.out << fmt::format(
        "golden: {} file(s) differ from {}; review the diff, then run 'ferry golden --update'\n",
        tally.differences, options.golden);
  } else if (tally.failed == 0) {
    io.out << fmt::format("golden: {} samples, {} files match {}\n", tally.samples, tally.files,
                          options.golden);
  }
  return tally.failed == 0 && tally.differences == 0 ? kExitOk : kExitFailure;
}

}  // namespace

auto RunGolden(std::span<const std::string> args, const Io& io) -> int {
  const std::optional<Options> options = ParseOptions(args, io);
  if (!options) return kExitUsage;
  const std::vector<std::string> samples = SubFolders(options->samples, /*manifests=*/true);
  if (samples.empty()) {
    io.err << "ferry golden: no samples (folders holding ferry.yaml) in '" << options->samples
           << "'\n";
    return kExitFailure;
  }
  Tally tally;
  tally.samples = samples.size();
  for (const std::string& name : samples) {
    if (!RunSample(*options, name, io, tally)) {
      io.err << "ferry golden: " << tally.outcome.error << "\n";
      return kExitFailure;
    }
  }
  if (!RunOrphans(*options, samples, io, tally)) {
    io.err << "ferry golden: " << tally.outcome.error << "\n";
    return kExitFailure;
  }
  return Report(*options, tally, io);
}

}  // namespace ferry::cli

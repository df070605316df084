// `ferry render`: compile and check the manifest, render everything needed to
// serve it, and write it into OUT. With any error nothing is written. The
// model files' bytes are read here, so render itself stays pure.
#include <fmt/format.h>

#include <optional>
#include <ostream>
#include <set>

#include "compiler/cli/args.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/front_end.h"
#include "compiler/driver/render.h"
#include "compiler/cli/output_folder.h"
#include "compiler/render/render.h"

namespace ferry::cli {
namespace {

const OptionSpec kRenderOptions[] = {
    {"-o", {}, /*any_value=*/true},
    {"--format", {"text", "json"}},
    {"--color", {"auto", "always", "never"}},
    {"--quiet", {}},
};

auto Count(std::size_t n, std::string_view noun) -> std::string {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

// "Rendered 23 files into out: 2 clusters, 14 objects, 3 images, 3 bundles (...)".
auto Summary(const std::string& out, const render::RenderResult& result,
             const WriteOutcome& outcome) -> std::string {
  std::set<std::string, std::less<>> clusters;
  std::size_t objects = 0;
  for (const render::RenderedFile& file : result.files) {
    std::string_view path = file.path;
    if (!path.starts_with("kubernetes/")) continue;
    path.remove_prefix(std::string_view("kubernetes/").size());
    clusters.emplace(path.substr(0, path.find('/')));
    ++objects;
  }
  return fmt::format("Rendered {} into {}: {}, {}, {}, {} ({} written, {} unchanged, {} removed)\n",
                     Count(result.files.size(), "file"), out, Count(clusters.size(), "cluster"),
                     Count(objects, "object"), Count(result.images.size(), "image"),
                     Count(result.bundles.size(), "bundle"), outcome.written, outcome.unchanged,
                     outcome.removed);
}

}  // namespace

auto RunRender(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kRenderOptions);
  if (!parsed.error.empty()) return UsageError(io, "render", parsed.error);
  const std::optional<std::string> path = ManifestArgument(parsed, io, "render");
  if (!path) return kExitUsage;
  const std::string out = parsed.Value("-o", "");
  if (out.empty()) return UsageError(io, "render", "missing the output folder: -o OUT");

  diag::Sink sink;
  driver::RenderRun run = driver::CompileAndRender(io.fs, *path, sink);
  const DiagnosticOutput output = ReadDiagnosticOutput(parsed, io);
  PrintDiagnostics(sink, run.sources, output, io);
  if (sink.HasErrors()) {
    if (output.format == "text") io.err << "ferry render: nothing was written to " << out << "\n";
    return kExitFailure;
  }

  const WriteOutcome outcome = WriteRenderOutput(out, run.result.files);
  if (!outcome.error.empty()) {
    io.err << "ferry render: " << outcome.error << "\n";
    return kExitFailure;
  }
  if (output.format == "text" && !output.quiet) io.out << Summary(out, run.result, outcome);
  return kExitOk;
}

}  // namespace ferry::cli

// `ferry compile MODEL.onnx --target cpu|gpu|fpga -o DIR [--isa ISA] [--build]`:
// compiles one model into a scoring bundle folder; --build also builds it.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "compiler/cli/args.h"
#include "compiler/cli/commands.h"
#include "compiler/codegen/backend.h"
#include "compiler/diag/print.h"

namespace ferry::cli {
namespace {

const OptionSpec kCompileOptions[] = {
    {"--target", {"cpu", "gpu", "fpga"}},
    {"--isa", {"avx512", "avx2", "sse4.2", "portable"}},
    {"--build", {}},
};

/// Takes "-o DIR" / "--output DIR" / "--output=DIR" out of `args` (the shared
/// parser only knows closed choices); returns the folder, "" when absent.
auto TakeOutput(std::vector<std::string>& args, std::string& error) -> std::string {
  std::string folder;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i].starts_with("--output=")) {
      folder = args[i].substr(9);
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i--));
    } else if (args[i] == "-o" || args[i] == "--output") {
      if (i + 1 >= args.size()) {
        error = "option '" + args[i] + "' needs a folder";
        return "";
      }
      folder = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
                 args.begin() + static_cast<std::ptrdiff_t>(i + 2));
      --i;
    }
  }
  return folder;
}

auto WriteFiles(const std::string& folder, const std::vector<codegen::File>& files,
                const Io& io) -> bool {
  std::error_code error;
  for (const codegen::File& file : files) {
    std::filesystem::path path = std::filesystem::path(folder) / file.path;
    std::filesystem::create_directories(path.parent_path(), error);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(file.bytes.data(), static_cast<std::streamsize>(file.bytes.size()));
    if (!out) {
      io.err << "ferry compile: cannot write " << path.string() << "\n";
      return false;
    }
  }
  return true;
}

/// Runs CMake on the bundle; its programs land in DIR/bin.
auto Build(const std::string& folder, const Io& io) -> bool {
  if (!std::filesystem::exists(std::filesystem::path(folder) / "runtime")) {
    io.err << "ferry compile: --build: " << folder
           << "/runtime is missing (this target's bundle has no scoring runtime to build)\n";
    return false;
  }
  std::string quoted = "'" + folder + "'";
  std::string command = "cmake -S " + quoted + " -B " + quoted + "/build -DCMAKE_BUILD_TYPE=Release"
                        " >/dev/null && cmake --build " + quoted + "/build -j2";
  return std::system(command.c_str()) == 0;
}

}  // namespace

auto RunCompile(std::span<const std::string> args, const Io& io) -> int {
  std::vector<std::string> rest(args.begin(), args.end());
  std::string error;
  std::string folder = TakeOutput(rest, error);
  if (!error.empty()) return UsageError(io, "compile", error);
  ParsedArgs parsed = ParseArgs(rest, kCompileOptions);
  if (!parsed.error.empty()) return UsageError(io, "compile", parsed.error);
  if (parsed.positionals.size() != 1) return UsageError(io, "compile", "expected one MODEL.onnx");
  if (folder.empty()) return UsageError(io, "compile", "missing -o DIR");
  const std::string& model = parsed.positionals[0];
  std::optional<std::string> bytes = io.fs.Read(model);
  if (!bytes) {
    io.err << "ferry compile: cannot read '" << model << "'\n";
    return kExitFailure;
  }
  diag::Sink sink;
  std::optional<std::vector<codegen::File>> files = codegen::CompileBundle(
      model, *bytes, *codegen::ParseTarget(parsed.Value("--target", "cpu")),
      *codegen::ParseIsa(parsed.Value("--isa", "avx2")), sink);
  // A model has no lines to point at: the node (the path) leads the message instead.
  std::vector<diag::Diagnostic> shown = sink.Sorted();
  for (diag::Diagnostic& d : shown) {
    if (!d.path.empty()) d.message = d.path + ": " + d.message;
  }
  io.err << diag::PrintText(shown, {}, {.color = io.err_is_terminal});
  if (!files) return kExitFailure;
  if (!WriteFiles(folder, *files, io)) return kExitFailure;
  if (parsed.Has("--build") && !Build(folder, io)) return kExitFailure;
  io.out << "wrote " << files->size() << " files to " << folder << "\n";
  return kExitOk;
}

}  // namespace ferry::cli

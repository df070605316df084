#include "compiler/driver/compile.h"

#include <doctest/doctest.h>

#include "compiler/support/sha256.h"
#include "tests/support/manifests.h"

namespace ferry::driver {
namespace {

TEST_CASE("ManifestPath resolves files, folders and the current folder") {
  CHECK(ManifestPath("") == "ferry.yaml");
  CHECK(ManifestPath(".") == "ferry.yaml");
  CHECK(ManifestPath("./") == "ferry.yaml");
  CHECK(ManifestPath("samples/faq") == "samples/faq/ferry.yaml");
  CHECK(ManifestPath("samples/faq/") == "samples/faq/ferry.yaml");
  CHECK(ManifestPath("samples/faq/ferry.yaml") == "samples/faq/ferry.yaml");
  CHECK(ManifestPath("prod.yml") == "prod.yml");
  CHECK(ManifestPath("/") == "/ferry.yaml");
}

/// A manifest that passes every check, for a model file holding "onnx bytes".
auto CleanManifest() -> std::string {
  return testing::FaqManifest("onnx bytes", "      a: {model: faq-ranker@3, traffic: 100}\n");
}

auto Codes(const diag::Sink& sink) -> std::vector<std::string> {
  std::vector<std::string> codes;
  for (const diag::Diagnostic& d : sink.Sorted()) codes.emplace_back(diag::Info(d.code).code);
  return codes;
}

TEST_CASE("Compile reports an unreadable manifest as E0001 with its path") {
  support::MemoryFileSystem fs;
  diag::Sink sink;
  CompileResult result = Compile(fs, "missing/ferry.yaml", catalog::Catalog::Builtin(), sink);
  REQUIRE(sink.diagnostics().size() == 1);
  const diag::Diagnostic& d = sink.diagnostics()[0];
  CHECK(d.code == diag::Code::kFileUnreadable);
  CHECK(d.location.file == "missing/ferry.yaml");
  CHECK(d.message == "cannot read the manifest 'missing/ferry.yaml'");
  CHECK_FALSE(result.project.has_value());
  CHECK(result.sources.empty());
}

TEST_CASE("Compile runs every stage on a clean manifest") {
  support::MemoryFileSystem fs;
  fs.Add("p/models/faq.onnx", "onnx bytes");
  fs.Add("p/ferry.yaml", CleanManifest());
  diag::Sink sink;
  CompileResult result = Compile(fs, "p/ferry.yaml", catalog::Catalog::Builtin(), sink);
  CHECK(Codes(sink) == std::vector<std::string>{});
  REQUIRE(result.project.has_value());
  CHECK(result.project->name == "faq-matching");
  CHECK(result.sources.at("p/ferry.yaml") == CleanManifest());
}

TEST_CASE("Compile reads model files next to the manifest for their digests") {
  support::MemoryFileSystem fs;
  fs.Add("p/models/faq.onnx", "changed bytes");
  fs.Add("p/ferry.yaml", CleanManifest());
  diag::Sink sink;
  Compile(fs, "p/ferry.yaml", catalog::Catalog::Builtin(), sink);
  CHECK(Codes(sink) == std::vector<std::string>{"E0602"});

  support::MemoryFileSystem no_model;
  no_model.Add("p/ferry.yaml", CleanManifest());
  diag::Sink missing;
  Compile(no_model, "p/ferry.yaml", catalog::Catalog::Builtin(), missing);
  CHECK(Codes(missing) == std::vector<std::string>{"E0601"});
}

TEST_CASE("Compile keeps the source of a manifest that is not YAML") {
  support::MemoryFileSystem fs;
  fs.Add("ferry.yaml", "a: [1, 2\n");
  diag::Sink sink;
  CompileResult result = Compile(fs, "ferry.yaml", catalog::Catalog::Builtin(), sink);
  CHECK(Codes(sink) == std::vector<std::string>{"E0002"});
  CHECK(result.sources.at("ferry.yaml") == "a: [1, 2\n");
  CHECK_FALSE(result.project.has_value());
}

TEST_CASE("Compile runs the checks after schema errors") {
  support::MemoryFileSystem fs;
  fs.Add("p/models/faq.onnx", "onnx bytes");
  std::string text = CleanManifest();
  text += "    extra_field: 1\n";
  text.replace(text.find("agent_count: 3"), 14, "agent_count: 2");
  fs.Add("p/ferry.yaml", text);
  diag::Sink sink;
  CompileResult result = Compile(fs, "p/ferry.yaml", catalog::Catalog::Builtin(), sink);
  CHECK(Codes(sink) == std::vector<std::string>{"E0302", "E0103"});
  CHECK(result.project.has_value());
}

}  // namespace
}  // namespace ferry::driver

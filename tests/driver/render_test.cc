#include "compiler/driver/render.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "compiler/support/file_system.h"
#include "tests/onnx/test_models.h"
#include "tests/support/manifests.h"

namespace ferry::driver {
namespace {

auto HasFile(const RenderRun& run, const std::string& path) -> bool {
  return std::any_of(run.result.files.begin(), run.result.files.end(),
                     [&](const render::RenderedFile& file) { return file.path == path; });
}

TEST_CASE("CompileAndRender reads the model files next to the manifest and renders") {
  const std::string model = ferry::testing::TestModel("linear_classifier");
  support::MemoryFileSystem fs;
  fs.Add("project/ferry.yaml",
         testing::FaqManifest(model, "      a: {model: faq-ranker@3, traffic: 100}\n"));
  fs.Add("project/models/faq.onnx", model);
  diag::Sink sink;
  const RenderRun run = CompileAndRender(fs, "project/ferry.yaml", sink);
  CHECK_FALSE(sink.HasErrors());
  REQUIRE(run.project.has_value());
  CHECK(run.sources.contains("project/ferry.yaml"));
  CHECK(HasFile(run, "bundles/faq-a/model.cc"));
  CHECK(HasFile(run, "bundles/faq-a/model.onnx"));
}

TEST_CASE("CompileAndRender keeps the project but renders nothing when a check fails") {
  support::MemoryFileSystem fs;
  // Traffic over 100: the project loads, the checks refuse it.
  fs.Add("ferry.yaml", testing::FaqManifest("onnx bytes",
                                            "      a: {model: faq-ranker@3, traffic: 70}\n"
                                            "      b: {model: faq-ranker@3, traffic: 70}\n"));
  fs.Add("models/faq.onnx", "onnx bytes");
  diag::Sink sink;
  const RenderRun run = CompileAndRender(fs, "ferry.yaml", sink);
  CHECK(sink.HasErrors());
  CHECK(run.project.has_value());
  CHECK(run.result.files.empty());
}

}  // namespace
}  // namespace ferry::driver

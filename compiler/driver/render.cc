#include "compiler/driver/render.h"

#include <utility>

#include "compiler/driver/compile.h"
#include "compiler/support/file_system.h"

namespace ferry::driver {

namespace {

// The bytes of every model file an endpoint version serves, keyed by the
// path as written in the manifest.
auto ReadModelFiles(const support::FileSystem& fs, const std::string& manifest_path,
                    const ir::Project& project) -> render::RenderInputs {
  render::RenderInputs inputs;
  const std::string folder = support::DirName(manifest_path);
  for (const ir::Endpoint& endpoint : project.endpoints) {
    for (const ir::Version& version : endpoint.versions) {
      for (const ir::ModelRef& ref : version.models) {
        if (ref.model == ir::kNone || ref.version == ir::kNone) continue;
        const std::string& path = project.models[ref.model].versions[ref.version].path;
        if (inputs.model_files.contains(path)) continue;
        // A file that cannot be read is left out; render reports it (E0703).
        if (auto bytes = fs.Read(support::JoinPath(folder, path))) {
          inputs.model_files.emplace(path, std::move(*bytes));
        }
      }
    }
    // An FPGA endpoint's calibration rows and the post stage's labels (check
    // reports a missing file, E0606).
    for (const std::string* data : {&endpoint.calibration_path, &endpoint.stages.labels_path}) {
      if (data->empty() || inputs.model_files.contains(*data)) continue;
      if (auto bytes = fs.Read(support::JoinPath(folder, *data))) {
        inputs.model_files.emplace(*data, std::move(*bytes));
      }
    }
  }
  return inputs;
}

}  // namespace

auto CompileAndRender(const support::FileSystem& fs, const std::string& manifest_path,
                      diag::Sink& sink, const catalog::Catalog& catalog) -> RenderRun {
  RenderRun run;
  CompileResult compiled = Compile(fs, manifest_path, catalog, sink);
  run.sources = std::move(compiled.sources);
  run.project = std::move(compiled.project);
  if (sink.HasErrors() || !run.project) return run;
  const render::RenderInputs inputs = ReadModelFiles(fs, manifest_path, *run.project);
  run.result = render::Render(*run.project, catalog, inputs, sink);
  return run;
}

}  // namespace ferry::driver

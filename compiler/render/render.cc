#include "compiler/render/render.h"

#include <fmt/format.h>

#include <algorithm>

#include "compiler/render/bundles.h"
#include "compiler/render/images.h"
#include "compiler/render/kubernetes.h"

namespace ferry::render {
namespace {

// What did not resolve in `endpoint`, in words; empty when everything did.
auto Unresolved(const ir::Endpoint& endpoint) -> std::string {
  if (endpoint.cluster == ir::kNone) {
    return fmt::format("its cluster '{}' is not resolved", endpoint.cluster_name);
  }
  if (!endpoint.traffic_resolved) return "its traffic split is not resolved";
  for (const ir::Version& version : endpoint.versions) {
    for (const ir::ModelRef& model : version.models) {
      if (model.model == ir::kNone || model.version == ir::kNone) {
        return fmt::format("version '{}' names model '{}', which is not resolved", version.name,
                           model.text);
      }
    }
    if (version.models.empty()) return fmt::format("version '{}' has no model", version.name);
    if (!version.environment_name.empty() && version.environment == ir::kNone) {
      return fmt::format("version '{}' names environment '{}', which is not resolved", version.name,
                         version.environment_name);
    }
  }
  return "";
}

// Reports every endpoint that cannot be rendered; true when there is none.
auto CheckResolved(const ir::Project& project, diag::Sink& sink) -> bool {
  bool resolved = true;
  for (const ir::Endpoint& endpoint : project.endpoints) {
    const std::string problem = Unresolved(endpoint);
    if (problem.empty()) continue;
    sink.Add(diag::Code::kRenderUnresolved, endpoint.origin.location, endpoint.origin.path,
             fmt::format("endpoint '{}' cannot be rendered: {}; run the checks (ferry check) "
                         "and fix their errors first",
                         endpoint.name, problem));
    resolved = false;
  }
  return resolved;
}

// Two files with one path would overwrite each other: report each path
// once. True when every path is unique. `files` is sorted by path.
auto CheckUniquePaths(const ir::Project& project, const std::vector<RenderedFile>& files,
                      diag::Sink& sink) -> bool {
  bool unique = true;
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (files[i].path != files[i - 1].path) continue;
    if (i >= 2 && files[i - 2].path == files[i].path) continue;
    sink.Add(diag::Code::kRenderPathClash, project.origin.location, project.origin.path,
             fmt::format("two rendered files would both be written to '{}' (names joined with "
                         "'-' meet); rename an endpoint, version or environment",
                         files[i].path));
    unique = false;
  }
  return unique;
}

}  // namespace

auto Render(const ir::Project& project, const catalog::Catalog& catalog, const RenderInputs& inputs,
            diag::Sink& sink) -> RenderResult {
  RenderResult result;
  if (!CheckResolved(project, sink)) return result;

  std::vector<Bundle> bundles = RenderBundles(project, catalog, inputs, sink);
  // A model the compiler refuses leaves its bundle out: write nothing then.
  if (sink.HasErrors()) return result;
  bool runtime_written = false;
  for (Bundle& bundle : bundles) {
    result.bundles.push_back(bundle.ref);
    std::move(bundle.files.begin(), bundle.files.end(), std::back_inserter(result.files));
    // Every bundle's runtime is the one ferry embeds: OUT/runtime/ holds it once.
    if (!runtime_written && !bundle.runtime.empty()) {
      std::move(bundle.runtime.begin(), bundle.runtime.end(), std::back_inserter(result.files));
      runtime_written = true;
    }
  }
  RenderedImages images = RenderImages(project, catalog, result.bundles, sink);
  std::move(images.files.begin(), images.files.end(), std::back_inserter(result.files));
  result.images = std::move(images.images);
  std::vector<RenderedFile> objects = RenderKubernetes(project, catalog, result.images, sink);
  std::move(objects.begin(), objects.end(), std::back_inserter(result.files));

  std::stable_sort(result.files.begin(), result.files.end(),
                   [](const RenderedFile& a, const RenderedFile& b) { return a.path < b.path; });
  if (!CheckUniquePaths(project, result.files, sink)) result.files.clear();
  return result;
}

}  // namespace ferry::render

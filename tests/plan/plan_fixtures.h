// What the plan tests share: projects compiled and rendered as `ferry plan`
// does (a sample from samples/, or a manifest held in memory), and the state
// a complete apply of some desired resources would have recorded.
#pragma once

#include <string>

#include "compiler/diag/diagnostic.h"
#include "compiler/driver/render.h"
#include "compiler/plan/plan.h"
#include "compiler/plan/resources.h"
#include "compiler/plan/state.h"
#include "compiler/support/file_system.h"
#include "tests/onnx/test_models.h"
#include "tests/support/manifests.h"

namespace ferry::plan::testing {

/// A compiled and rendered project with the diagnostics of doing so.
struct Rendered {
  diag::Sink sink;
  driver::RenderRun run;

  auto Desire(ExecutorKind executor) const -> Desired {
    return DesiredResources(*run.project, run.result, executor);
  }
};

/// samples/<name>/ferry.yaml from the source tree.
inline auto RenderSample(const std::string& name) -> Rendered {
  Rendered rendered;
  support::DiskFileSystem disk;
  rendered.run = driver::CompileAndRender(
      disk, std::string(FERRY_SOURCE_DIR) + "/samples/" + name + "/ferry.yaml", rendered.sink);
  return rendered;
}

/// testing::FaqManifest with `versions` (a small real model as faq-ranker@3),
/// with every `from` in the text replaced by `to` (e.g. the cluster's vm_size).
inline auto RenderFaq(const std::string& versions, const std::string& from = "",
                      const std::string& to = "") -> Rendered {
  const std::string model = ferry::testing::TestModel("linear_classifier");
  std::string manifest = ferry::testing::FaqManifest(model, versions);
  if (!from.empty()) {
    for (std::size_t at = manifest.find(from); at != std::string::npos;
         at = manifest.find(from, at + to.size())) {
      manifest.replace(at, from.size(), to);
    }
  }
  support::MemoryFileSystem fs;
  fs.Add("ferry.yaml", manifest);
  fs.Add("models/faq.onnx", model);
  Rendered rendered;
  rendered.run = driver::CompileAndRender(fs, "ferry.yaml", rendered.sink);
  return rendered;
}

/// The state a complete, successful apply of `desired` records.
inline auto Applied(const Desired& desired) -> State {
  State state;
  state.ferry_version = "0.1.0";
  state.lineage = "3f6c0a1e-test";
  state.project = desired.project;
  state.executor = std::string(ToString(desired.executor));
  state.serial = 7;
  for (const Resource& resource : desired.resources) {
    state.resources.push_back(ResourceState{.address = resource.address,
                                            .type = resource.type,
                                            .hash = resource.hash,
                                            .attributes = resource.attributes,
                                            .live = {},
                                            .tainted = false});
  }
  return state;
}

/// Index of the action at `address` in `plan`, or -1.
inline auto IndexOf(const Plan& plan, std::string_view address) -> int {
  for (std::size_t i = 0; i < plan.actions.size(); ++i) {
    if (plan.actions[i].address == address) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace ferry::plan::testing

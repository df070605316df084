// Declared pre- and post-processing stages (scoring.preprocess and
// scoring.postprocess) and the data files an endpoint names. Whether a stage
// fits the model is the code generator's question (E08xx); these rules need
// only the manifest.
#include <fmt/format.h>

#include <string>
#include <tuple>
#include <vector>

#include "compiler/check/rules.h"

namespace ferry::check {
namespace {

auto ChannelCountOk(const std::vector<double>& values) -> bool {
  return values.size() == 1 || values.size() == 3;
}

void CheckImage(const Context& context, const ir::Endpoint& endpoint) {
  if (!endpoint.stages.image) return;
  const ir::ImageStage& image = *endpoint.stages.image;
  const ir::Origin& origin = endpoint.stages.origin;
  const bool has_mean = origin.fields.contains("preprocess.image.mean");
  const bool has_std = origin.fields.contains("preprocess.image.std");
  for (const auto& [field, values, written] :
       {std::tuple{"mean", &image.mean, has_mean}, std::tuple{"std", &image.std, has_std}}) {
    if (!written || ChannelCountOk(*values)) continue;
    const std::string path = fmt::format("preprocess.image.{}", field);
    context.sink.Add(diag::Code::kStageInvalid, origin.At(path), origin.PathOf(path),
                     fmt::format("endpoint '{}': the image stage's {} has {} values; give 1 (all "
                                 "channels) or 3 (red, green, blue)",
                                 endpoint.name, field, values->size()));
  }
  for (std::size_t i = 0; i < image.std.size(); ++i) {
    if (image.std[i] > 0) continue;
    context.sink.Add(diag::Code::kStageInvalid, origin.At("preprocess.image.std"),
                     origin.PathOf("preprocess.image.std"),
                     fmt::format("endpoint '{}': the image stage divides by std, and its value "
                                 "{} is {}; every std must be positive",
                                 endpoint.name, i + 1, FormatNumber(image.std[i])));
    break;
  }
}

void CheckPostprocess(const Context& context, const ir::Endpoint& endpoint) {
  const ir::Stages& stages = endpoint.stages;
  const ir::Origin& origin = stages.origin;
  const bool has_top_k = origin.fields.contains("postprocess.top_k");
  if (has_top_k && stages.top_k < 1) {
    context.sink.Add(diag::Code::kStageInvalid, origin.At("postprocess.top_k"),
                     origin.PathOf("postprocess.top_k"),
                     fmt::format("endpoint '{}': top_k is {}; it must be at least 1", endpoint.name,
                                 stages.top_k));
  }
  if (!stages.labels_path.empty() && !has_top_k) {
    context.sink.Add(diag::Code::kStageInvalid, origin.At("postprocess.labels"),
                     origin.PathOf("postprocess.labels"),
                     fmt::format("endpoint '{}': labels name the classes top_k reports, and "
                                 "postprocess has no top_k; add top_k (e.g. top_k: 1)",
                                 endpoint.name));
  }
}

void CheckFile(const Context& context, const ModelFileDigests& files, const std::string& path,
               const diag::Location& at, const std::string& manifest_path, std::string_view what) {
  if (path.empty()) return;
  const auto found = files.find(path);
  // The driver gathers every path; a missing entry means nothing was read.
  if (found == files.end() || found->second) return;
  context.sink.Add(diag::Code::kDataFileMissing, at, manifest_path,
                   fmt::format("{}: cannot read '{}' (paths are relative to the manifest's folder)",
                               what, path));
}

}  // namespace

void CheckStages(const Context& context, const ModelFileDigests& files) {
  for (const ir::Endpoint& endpoint : context.project.endpoints) {
    CheckImage(context, endpoint);
    CheckPostprocess(context, endpoint);
    const ir::Origin& stages = endpoint.stages.origin;
    CheckFile(context, files, endpoint.stages.labels_path, stages.At("postprocess.labels"),
              stages.PathOf("postprocess.labels"),
              fmt::format("endpoint '{}': the labels file", endpoint.name));
    CheckFile(context, files, endpoint.calibration_path, endpoint.origin.At("scoring.calibration"),
              endpoint.origin.PathOf("scoring.calibration"),
              fmt::format("endpoint '{}': the calibration file", endpoint.name));
  }
}

}  // namespace ferry::check

// The pre- and post-processing stages a bundle compiles in around its model,
// decided once from the graph (target-independent; every back end and
// bundle.yaml use the same decision):
//   image   the first input is float [rows, 1 or 3, H, W] with H, W known
//           (and no input takes strings):
//           rows given as strings are PNG/JPEG images, decoded, resized to
//           H x W and scaled to 0..1 by the runtime's image stage (image.h).
//   labels  the model's metadata_props has "labels", a JSON array of strings,
//           and an int64 graph output holds class indices (TopK's indices or
//           ArgMax over an axis as long as the label list): scorers report it
//           as label strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/graph/graph.h"
#include "compiler/support/value.h"

namespace ferry::codegen {

struct ImageStageFacts {
  std::size_t input = 0;  ///< index into graph.inputs
  std::int64_t channels = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
};

struct Stages {
  std::optional<ImageStageFacts> image;
  /// The class names, when some output holds class indices.
  std::vector<std::string> labels;
  /// Indexes into graph.outputs of the outputs holding class indices.
  std::vector<std::size_t> label_outputs;
};

/// The stages of `graph` (after optimization).
auto DetectStages(const graph::Graph& graph) -> Stages;

/// A model's `stages` entry in bundle.yaml, null when it has none:
///   image:  {input, formats: [png, jpeg], channels, height, width,
///            resize: bilinear-antialiased, scale: "0..1"}
///   labels: {outputs: [NAME, ...], count: N}
auto StagesFacts(const graph::Graph& graph, const Stages& stages) -> support::Value;

}  // namespace ferry::codegen

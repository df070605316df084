// The pre- and post-processing stages a bundle compiles in around its model,
// decided once from the graph (target-independent; every back end and
// bundle.yaml use the same decision):
//   image   the first input is float [rows, 1 or 3, H, W] with H, W known
//           (and no input takes strings):
//           rows given as strings are PNG/JPEG images, decoded, resized to
//           H x W and scaled to 0..1 by the runtime's image stage (image.h).
//           The manifest's preprocess.image overrides it (DeclaredStages):
//           its size fixes H x W, its mean and std normalise each channel.
//   post    the manifest's postprocess: Softmax and TopK nodes appended to
//           the graph over its first float output [N, C], which becomes the
//           outputs `classes` (TopK's indices, labelled when a labels file
//           is declared) and `scores`.
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

#include "compiler/diag/diagnostic.h"
#include "compiler/graph/graph.h"
#include "compiler/support/value.h"

namespace ferry::codegen {

struct ImageStageFacts {
  std::size_t input = 0;  ///< index into graph.inputs
  std::int64_t channels = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
  /// (x - mean) / std per channel after scaling to 0..1; empty: none declared.
  std::vector<double> mean;
  std::vector<double> std;
};

/// The image stage as the manifest declares it (scoring.preprocess.image).
struct DeclaredImage {
  std::int64_t height = 0;  ///< 0: the model's input height
  std::int64_t width = 0;   ///< 0: the model's input width
  std::vector<double> mean;  ///< 0, 1 (every channel) or one value per channel
  std::vector<double> std;
};

/// The stages an endpoint declares (its scoring section), with the labels
/// file already read. Default: nothing declared, the stages are inferred.
struct DeclaredStages {
  std::optional<DeclaredImage> image;
  bool softmax = false;
  std::int64_t top_k = 0;  ///< 0: no post stage
  std::vector<std::string> labels;
  /// Where diagnostics point: preprocess.image and postprocess in the
  /// manifest, and the manifest path of the endpoint's scoring section.
  diag::Location image_location;
  diag::Location post_location;
  std::string path;
};

/// The post stage appended to a graph by AddPostStage.
struct PostStageFacts {
  std::string source;  ///< the float output it reads
  bool softmax = false;
  std::int64_t top_k = 0;
  std::int64_t classes = 0;
};

struct Stages {
  std::optional<ImageStageFacts> image;
  /// The class names, when some output holds class indices.
  std::vector<std::string> labels;
  /// Indexes into graph.outputs of the outputs holding class indices.
  std::vector<std::size_t> label_outputs;
  std::optional<PostStageFacts> post;
};

/// Before optimization: fixes the first input's height and width to a declared
/// image size. False with E0830/E0831 when the declared image stage cannot
/// apply to the first input (not float [N, 1 or 3, H, W], another fixed size,
/// a mean or std count other than 1 or its channels).
auto ApplyDeclaredImage(graph::Graph& graph, const DeclaredStages& declared, diag::Sink& sink)
    -> bool;

/// After optimization: appends the declared post stage (Softmax when asked,
/// TopK) over the first float output [N, C] and infers its shapes. False with
/// E0832 (no such output), E0833 (top_k above C) or E0834 (labels not C).
auto AddPostStage(graph::Graph& graph, const DeclaredStages& declared, diag::Sink& sink) -> bool;

/// The stages of `graph` (after optimization and AddPostStage): inferred from
/// the graph, with what `declared` sets in their place.
auto DetectStages(const graph::Graph& graph, const DeclaredStages& declared = {}) -> Stages;

/// The generated model class's image stage members (a comment, `image_`, `decoded_`).
auto ImageStageMembers(const ImageStageFacts& image) -> std::string;

/// A model's `stages` entry in bundle.yaml, null when it has none:
///   image:  {input, formats: [png, jpeg], channels, height, width,
///            resize: bilinear-antialiased, scale: "0..1", mean?, std?}
///   labels: {outputs: [NAME, ...], count: N}
///   post:   {output, softmax, top_k, classes} (declared only)
auto StagesFacts(const graph::Graph& graph, const Stages& stages) -> support::Value;

}  // namespace ferry::codegen

// ONNX-ML kernels (ai.onnx.ml): linear models, tree ensembles, Scaler,
// Normalizer. Attribute-heavy operators take a struct mirroring the ONNX
// attributes verbatim, validated and compiled once when the model is built.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace ferry_rt::k {

/// ONNX-ML post_transform; Parse throws Error on an unknown name.
enum class PostTransform { kNone, kSoftmax, kLogistic, kSoftmaxZero, kProbit };
auto ParsePostTransform(const std::string& name) -> PostTransform;

/// ONNX-ML LinearRegressor: y (rows, targets) = post(x (rows, features) *
/// coefficients^T + intercepts); coefficients are (targets, features),
/// intercepts has `targets` values or is empty.
void LinearRegressor(const float* x, std::int64_t rows, std::int64_t features,
                     const float* coefficients, const float* intercepts, std::int64_t targets,
                     PostTransform post, float* y);

/// The attributes of an ONNX-ML LinearClassifier.
struct LinearClassifierAttributes {
  std::vector<float> coefficients;  // (classes, features)
  std::vector<float> intercepts;    // (classes)
  std::vector<std::int64_t> classlabels_ints;
  std::vector<std::string> classlabels_strings;
  std::int64_t multi_class = 0;
  std::string post_transform = "NONE";
};

/// A validated LinearClassifier. As in ONNX Runtime, one coefficient row with
/// two class labels is a binary model whose scores get a second column.
class LinearClassifier {
 public:
  /// Throws Error when the attribute sizes disagree with `features`.
  LinearClassifier(LinearClassifierAttributes attributes, std::int64_t features);
  /// The width of the scores output: classes, or 2 for the binary case.
  auto score_columns() const -> std::int64_t;
  /// Whether labels are strings (else int64).
  auto string_labels() const -> bool { return !attrs_.classlabels_strings.empty(); }
  /// Scores `rows` rows: labels (rows) into exactly one of labels_i64 /
  /// labels_str (the other nullptr), scores (rows, score_columns()).
  void Run(const float* x, std::int64_t rows, std::int64_t* labels_i64, std::string* labels_str,
           float* scores) const;

 private:
  LinearClassifierAttributes attrs_;
  std::int64_t features_ = 0;
  std::int64_t classes_ = 0;
  PostTransform post_ = PostTransform::kNone;
};

/// The attributes of an ONNX-ML TreeEnsembleRegressor or TreeEnsembleClassifier,
/// verbatim. leaf_* are target_* (regressor) or class_* (classifier).
struct TreeEnsembleAttributes {
  std::vector<std::int64_t> nodes_treeids, nodes_nodeids, nodes_featureids;
  std::vector<float> nodes_values;
  std::vector<std::string> nodes_modes;  // BRANCH_LEQ, BRANCH_LT, ..., LEAF
  std::vector<std::int64_t> nodes_truenodeids, nodes_falsenodeids;
  std::vector<std::int64_t> nodes_missing_value_tracks_true;  // may be empty
  std::vector<std::int64_t> leaf_treeids, leaf_nodeids, leaf_ids;
  std::vector<float> leaf_weights;
  std::vector<float> base_values;
  /// Regressor: n_targets. Classifier: ignored (the label count is used).
  std::int64_t n_targets = 1;
  std::string aggregate_function = "SUM";  // SUM, AVERAGE, MIN, MAX
  std::string post_transform = "NONE";
  /// Classifier only: exactly one of these is non-empty.
  std::vector<std::int64_t> classlabels_int64s;
  std::vector<std::string> classlabels_strings;
};

/// A tree ensemble compiled to flattened arrays (nodes of one tree laid out
/// contiguously, children by index), evaluated tree by tree for each row.
class TreeEnsemble {
 public:
  /// Validates and flattens; throws Error on dangling ids, cycles, unknown modes.
  TreeEnsemble(const TreeEnsembleAttributes& attributes, std::int64_t features, bool classifier);
  /// Regressor outputs: (rows, targets).
  auto targets() const -> std::int64_t { return targets_; }
  /// Classifier: the width of the probabilities output (2 in the binary case).
  auto score_columns() const -> std::int64_t;
  /// Whether the classifier's labels are strings (else int64).
  auto string_labels() const -> bool { return !labels_str_.empty(); }
  /// TreeEnsembleRegressor: y (rows, targets()).
  void Regress(const float* x, std::int64_t rows, float* y) const;
  /// TreeEnsembleClassifier: labels (rows) into one of labels_i64 / labels_str,
  /// scores (rows, score_columns()).
  void Classify(const float* x, std::int64_t rows, std::int64_t* labels_i64,
                std::string* labels_str, float* scores) const;

 private:
  struct Node {
    float value = 0;
    std::int32_t feature = 0;
    std::uint8_t mode = 0;  // NodeMode
    std::uint8_t missing_true = 0;
    std::int32_t true_child = 0;  // index into nodes_, or -1 - leaf_index for leaves
    std::int32_t false_child = 0;
  };
  struct Leaf {
    std::int32_t first_weight = 0;
    std::int32_t weight_count = 0;
  };
  struct LeafWeight {
    std::int32_t target = 0;
    float weight = 0;
  };
  auto FindLeaf(std::int32_t root, const float* row) const -> const Leaf&;
  /// One target, SUM or AVERAGE: tree-major over blocks of rows (same sums, same order).
  void RegressOneTarget(const float* x, std::int64_t rows, float* y) const;
  void Aggregate(const float* row, float* scores, std::uint8_t* has_score) const;

  std::vector<Node> nodes_;
  std::vector<Leaf> leaves_;
  std::vector<LeafWeight> weights_;
  std::vector<std::int32_t> roots_;
  std::vector<float> base_values_;
  std::int64_t features_ = 0;
  std::int64_t targets_ = 1;
  int aggregate_ = 0;
  PostTransform post_ = PostTransform::kNone;
  bool classifier_ = false;
  bool binary_ = false;
  bool weights_positive_ = true;
  bool all_leq_ = false;  // every branch is BRANCH_LEQ without a missing-value track
  std::vector<std::int64_t> labels_i64_;
  std::vector<std::string> labels_str_;
};

/// ONNX-ML Scaler: y = (x - offset) * scale per feature; offset and scale
/// have either 1 or `features` values (offset_count / scale_count say which).
void Scaler(const float* x, std::int64_t rows, std::int64_t features, const float* offset,
            std::int64_t offset_count, const float* scale, std::int64_t scale_count, float* y);

/// ONNX-ML Normalizer norms.
enum class Norm { kMax, kL1, kL2 };
/// "MAX", "L1", "L2"; throws Error otherwise.
auto ParseNorm(const std::string& name) -> Norm;
/// ONNX-ML Normalizer: each row divided by its norm (rows with norm 0 stay 0
/// as in ONNX Runtime).
void Normalizer(const float* x, std::int64_t rows, std::int64_t features, Norm norm, float* y);

/// Applies an ONNX-ML post_transform to each row of (rows, columns) scores in place.
void ApplyPostTransform(float* scores, std::int64_t rows, std::int64_t columns, PostTransform post);

}  // namespace ferry_rt::k

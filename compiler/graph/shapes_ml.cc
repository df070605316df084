// Shape rules of the ONNX-ML operators and the text operators.
#include <algorithm>

#include "compiler/graph/shape_rules.h"

namespace ferry::graph::shapes {
namespace {

/// The batch dimension of a [N, C] or [C] input (a 1-D input is one row).
auto Rows(const Context& context) -> Dim {
  return context.rank(0) == 2 ? context.shape(0)[0] : Dim{1, {}};
}

/// Requires a float [N, C] (or [C]) input with C known; returns C.
auto Features(Context& context) -> std::optional<std::int64_t> {
  if (context.input(0).dtype == DType::kString) {
    context.Invalid("input '" + context.input(0).name + "' is a string tensor; " +
                    context.node().op_type + " takes numbers");
    return std::nullopt;
  }
  if (!context.RequireRank(0, 1, 2)) return std::nullopt;
  const Dim& features = context.shape(0).back();
  if (!features.known()) {
    context.Unresolved("the feature dimension of " + Describe(context, 0) + " must be known");
    return std::nullopt;
  }
  return features.size;
}

/// The class count of a classifier: its int64 or string labels. Sets `string_labels`.
auto ClassCount(Context& context, const char* ints, const char* strings, bool& string_labels)
    -> std::optional<std::int64_t> {
  std::size_t int_labels = context.node().Ints(ints).size();
  std::size_t text_labels = context.node().Strings(strings).size();
  if ((int_labels == 0) == (text_labels == 0)) {
    context.Invalid(std::string("exactly one of ") + ints + " and " + strings + " must be given");
    return std::nullopt;
  }
  string_labels = text_labels > 0;
  return static_cast<std::int64_t>(std::max(int_labels, text_labels));
}

/// Every value of an int list attribute lies in [0, bound).
auto AllBelow(const std::vector<std::int64_t>& values, std::int64_t bound) -> bool {
  return std::all_of(values.begin(), values.end(),
                     [bound](std::int64_t v) { return v >= 0 && v < bound; });
}

}  // namespace

auto InferScalerLike(Context& context) -> bool {
  if (!Features(context)) return false;
  context.SetOutput(0, DType::kFloat32, context.shape(0));
  return true;
}

auto InferLinearRegressor(Context& context) -> bool {
  std::optional<std::int64_t> features = Features(context);
  if (!features) return false;
  std::int64_t targets = context.node().Int("targets", 1);
  auto coefficients = static_cast<std::int64_t>(context.node().Floats("coefficients").size());
  if (targets <= 0 || targets > kMaxAttribute || coefficients != targets * *features) {
    return context.Invalid(std::to_string(coefficients) + " coefficients do not fit " +
                           std::to_string(targets) + " targets x " + std::to_string(*features) +
                           " features");
  }
  context.SetOutput(0, DType::kFloat32, {Rows(context), Dim{targets, {}}});
  return true;
}

auto InferLinearClassifier(Context& context) -> bool {
  std::optional<std::int64_t> features = Features(context);
  bool string_labels = false;
  std::optional<std::int64_t> classes =
      ClassCount(context, "classlabels_ints", "classlabels_strings", string_labels);
  if (!features || !classes) return false;
  auto coefficients = static_cast<std::int64_t>(context.node().Floats("coefficients").size());
  // A binary classifier may carry one row of coefficients (the positive class).
  std::int64_t rows = *features == 0 ? 0 : coefficients / *features;
  if (coefficients % std::max<std::int64_t>(*features, 1) != 0 ||
      !(rows == *classes || (rows == 1 && *classes == 2))) {
    return context.Invalid(std::to_string(coefficients) + " coefficients do not fit " +
                           std::to_string(*classes) + " classes x " + std::to_string(*features) +
                           " features");
  }
  context.SetOutput(0, string_labels ? DType::kString : DType::kInt64, {Rows(context)});
  context.SetOutput(1, DType::kFloat32, {Rows(context), Dim{*classes, {}}});
  return true;
}

auto InferTreeRegressor(Context& context) -> bool {
  std::optional<std::int64_t> features = Features(context);
  if (!features) return false;
  std::int64_t targets = context.node().Int("n_targets", 1);
  if (targets <= 0 || targets > kMaxAttribute || !AllBelow(context.node().Ints("target_ids"), targets) ||
      !AllBelow(context.node().Ints("nodes_featureids"), std::max<std::int64_t>(*features, 1))) {
    return context.Invalid("target_ids or nodes_featureids are out of range for " +
                           std::to_string(targets) + " targets and " + std::to_string(*features) +
                           " features");
  }
  context.SetOutput(0, DType::kFloat32, {Rows(context), Dim{targets, {}}});
  return true;
}

auto InferTreeClassifier(Context& context) -> bool {
  std::optional<std::int64_t> features = Features(context);
  bool string_labels = false;
  std::optional<std::int64_t> classes =
      ClassCount(context, "classlabels_int64s", "classlabels_strings", string_labels);
  if (!features || !classes) return false;
  if (!AllBelow(context.node().Ints("class_ids"), *classes) ||
      !AllBelow(context.node().Ints("nodes_featureids"), std::max<std::int64_t>(*features, 1))) {
    return context.Invalid("class_ids or nodes_featureids are out of range for " +
                           std::to_string(*classes) + " classes and " +
                           std::to_string(*features) + " features");
  }
  context.SetOutput(0, string_labels ? DType::kString : DType::kInt64, {Rows(context)});
  context.SetOutput(1, DType::kFloat32, {Rows(context), Dim{*classes, {}}});
  return true;
}

auto InferStringNormalizer(Context& context) -> bool {
  if (context.input(0).dtype != DType::kString) {
    return context.Invalid("input '" + context.input(0).name + "' must be a string tensor");
  }
  if (!context.RequireRank(0, 1, 2)) return false;
  if (context.rank(0) == 2 && context.shape(0)[0] != Dim{1, {}}) {
    return context.Invalid("input " + Describe(context, 0) + " must have shape [C] or [1, C]");
  }
  // Stop words are removed, so the word count is known only at run time.
  Shape out = context.shape(0);
  out.back() = context.FreshSymbol("words");
  context.SetOutput(0, DType::kString, std::move(out));
  return true;
}

auto InferTfIdf(Context& context) -> bool {
  if (context.input(0).dtype == DType::kFloat32) {
    return context.Invalid("input '" + context.input(0).name + "' must be int64 or string");
  }
  if (!context.RequireRank(0, 1, 2)) return false;
  std::vector<std::int64_t> indexes = context.node().Ints("ngram_indexes");
  if (indexes.empty() || *std::min_element(indexes.begin(), indexes.end()) < 0 ||
      *std::max_element(indexes.begin(), indexes.end()) >= kMaxAttribute) {
    return context.Invalid("ngram_indexes must be non-empty and in 0..2^31");
  }
  Dim width{*std::max_element(indexes.begin(), indexes.end()) + 1, {}};
  if (context.rank(0) == 1) {
    context.SetOutput(0, DType::kFloat32, {width});
  } else {
    context.SetOutput(0, DType::kFloat32, {context.shape(0)[0], width});
  }
  return true;
}

}  // namespace ferry::graph::shapes

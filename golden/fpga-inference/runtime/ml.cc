// ONNX-ML linear models, Scaler, Normalizer and post transforms, following
// ONNX Runtime's documented behaviour where the ONNX-ML spec is vague (the
// binary LinearClassifier with one coefficient row).
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/gemm_core.h"
#include "runtime/kernels_ml.h"

namespace ferry_rt::k {
namespace {

auto Logistic(float v) -> float {
  float e = 1.0F / (1.0F + std::exp(-std::fabs(v)));
  return v < 0 ? 1.0F - e : e;
}

auto ErfInv(float x) -> float {
  float sign = x < 0 ? -1.0F : 1.0F;
  x = (1 - x) * (1 + x);
  float log = std::log(x);
  float v = 2 / (3.14159F * 0.147F) + 0.5F * log;
  float v2 = 1 / 0.147F * log;
  float v3 = -v + std::sqrt(v * v - v2);
  return sign * std::sqrt(v3);
}

auto Probit(float v) -> float { return 1.41421356F * ErfInv(2 * v - 1); }

}  // namespace

auto ParsePostTransform(const std::string& name) -> PostTransform {
  if (name == "NONE" || name.empty()) return PostTransform::kNone;
  if (name == "SOFTMAX") return PostTransform::kSoftmax;
  if (name == "LOGISTIC") return PostTransform::kLogistic;
  if (name == "SOFTMAX_ZERO") return PostTransform::kSoftmaxZero;
  if (name == "PROBIT") return PostTransform::kProbit;
  throw Error("unknown post_transform '" + name +
              "' (supported: NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT)");
}

void ApplyPostTransform(float* scores, std::int64_t rows, std::int64_t columns,
                        PostTransform post) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = scores + r * columns;
    switch (post) {
      case PostTransform::kNone:
        break;
      case PostTransform::kLogistic:
        for (std::int64_t c = 0; c < columns; ++c) row[c] = Logistic(row[c]);
        break;
      case PostTransform::kProbit:
        for (std::int64_t c = 0; c < columns; ++c) row[c] = Probit(row[c]);
        break;
      case PostTransform::kSoftmax: {
        float top = -std::numeric_limits<float>::max();
        for (std::int64_t c = 0; c < columns; ++c) top = std::max(top, row[c]);
        float sum = 0;
        for (std::int64_t c = 0; c < columns; ++c) sum += (row[c] = std::exp(row[c] - top));
        for (std::int64_t c = 0; c < columns; ++c) row[c] /= sum;
        break;
      }
      case PostTransform::kSoftmaxZero: {
        // Zero scores stay (near) zero: they mean "no vote", not exp(0).
        float top = -std::numeric_limits<float>::max();
        for (std::int64_t c = 0; c < columns; ++c) top = std::max(top, row[c]);
        float scale = std::exp(-top);
        float sum = 0;
        for (std::int64_t c = 0; c < columns; ++c) {
          if (row[c] > 1e-7F || row[c] < -1e-7F) {
            row[c] = std::exp(row[c] - top);
            sum += row[c];
          } else {
            row[c] *= scale;
          }
        }
        for (std::int64_t c = 0; c < columns; ++c) row[c] /= sum;
        break;
      }
    }
  }
}

void LinearRegressor(const float* x, std::int64_t rows, std::int64_t features,
                     const float* coefficients, const float* intercepts, std::int64_t targets,
                     PostTransform post, float* y) {
  Gemm(x, coefficients, intercepts, y, rows, targets, features, false, true, 1.0F, 1.0F,
       Activation{}, BiasShape::kRow);
  ApplyPostTransform(y, rows, targets, post);
}

LinearClassifier::LinearClassifier(LinearClassifierAttributes attributes, std::int64_t features)
    : attrs_(std::move(attributes)), features_(features) {
  classes_ = static_cast<std::int64_t>(attrs_.intercepts.size());
  post_ = ParsePostTransform(attrs_.post_transform);
  if (classes_ == 0 ||
      static_cast<std::int64_t>(attrs_.coefficients.size()) != classes_ * features_) {
    throw Error("LinearClassifier: " + std::to_string(attrs_.coefficients.size()) +
                " coefficients for " + std::to_string(classes_) + " classes of " +
                std::to_string(features_) + " features");
  }
  std::int64_t labels = string_labels() ? std::ssize(attrs_.classlabels_strings)
                                        : std::ssize(attrs_.classlabels_ints);
  if (classes_ > 1 && labels != classes_) {
    throw Error("LinearClassifier: " + std::to_string(labels) + " class labels for " +
                std::to_string(classes_) + " classes");
  }
}

auto LinearClassifier::score_columns() const -> std::int64_t {
  std::int64_t labels = string_labels() ? std::ssize(attrs_.classlabels_strings)
                                        : std::ssize(attrs_.classlabels_ints);
  return classes_ == 1 && labels == 2 ? 2 : classes_;
}

void LinearClassifier::Run(const float* x, std::int64_t rows, std::int64_t* labels_i64,
                           std::string* labels_str, float* scores) const {
  std::int64_t columns = score_columns();
  float* raw = columns == classes_ ? scores : detail::Scratch(2, static_cast<std::size_t>(rows));
  Gemm(x, attrs_.coefficients.data(), attrs_.intercepts.data(), raw, rows, classes_, features_,
       false, true, 1.0F, 1.0F, Activation{}, BiasShape::kRow);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t pick = 0;
    if (classes_ == 1) {
      pick = raw[r] > 0 ? 1 : 0;
      bool named = score_columns() == 2;
      if (labels_str != nullptr) {
        labels_str[r] = named ? attrs_.classlabels_strings[pick] : (pick ? "1" : "0");
      } else {
        labels_i64[r] = named ? attrs_.classlabels_ints[pick] : pick;
      }
      continue;
    }
    const float* row = raw + r * classes_;
    for (std::int64_t c = 1; c < classes_; ++c) {
      if (row[c] > row[pick]) pick = c;
    }
    if (labels_str != nullptr) {
      labels_str[r] = attrs_.classlabels_strings[pick];
    } else {
      labels_i64[r] = attrs_.classlabels_ints[pick];
    }
  }
  if (columns != classes_) {
    // Binary with one row: ONNX Runtime writes (1 - s, s) without the transform.
    for (std::int64_t r = rows - 1; r >= 0; --r) {
      float s = raw[r];
      if (post_ == PostTransform::kProbit) s = Probit(s);
      scores[2 * r] = 1.0F - s;
      scores[2 * r + 1] = s;
    }
    return;
  }
  ApplyPostTransform(scores, rows, columns, post_);
}

void Scaler(const float* x, std::int64_t rows, std::int64_t features, const float* offset,
            std::int64_t offset_count, const float* scale, std::int64_t scale_count, float* y) {
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t f = 0; f < features; ++f) {
      float o = offset_count == 0 ? 0.0F : offset[offset_count == 1 ? 0 : f];
      float s = scale_count == 0 ? 1.0F : scale[scale_count == 1 ? 0 : f];
      y[r * features + f] = (x[r * features + f] - o) * s;
    }
  }
}

auto ParseNorm(const std::string& name) -> Norm {
  if (name == "MAX") return Norm::kMax;
  if (name == "L1") return Norm::kL1;
  if (name == "L2") return Norm::kL2;
  throw Error("unknown Normalizer norm '" + name + "' (supported: MAX, L1, L2)");
}

void Normalizer(const float* x, std::int64_t rows, std::int64_t features, Norm norm, float* y) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * features;
    float* out = y + r * features;
    float total = 0;
    switch (norm) {
      case Norm::kMax:
        total = -std::numeric_limits<float>::max();
        for (std::int64_t f = 0; f < features; ++f) total = std::max(total, in[f]);
        break;
      case Norm::kL1:
        for (std::int64_t f = 0; f < features; ++f) total += std::fabs(in[f]);
        break;
      case Norm::kL2:
        for (std::int64_t f = 0; f < features; ++f) total += in[f] * in[f];
        total = std::sqrt(total);
        break;
    }
    for (std::int64_t f = 0; f < features; ++f) out[f] = total == 0 ? in[f] : in[f] / total;
  }
}

}  // namespace ferry_rt::k

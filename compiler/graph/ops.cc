#include "compiler/graph/ops.h"

namespace ferry::graph {
namespace {

constexpr OpSchema kOps[] = {
    {"", "Add", 2, 2, 1, 1},
    {"", "ArgMax", 1, 1, 1, 1},
    {"", "AveragePool", 1, 1, 1, 1},
    {"", "BatchNormalization", 5, 5, 1, 1},
    {"", "Clip", 1, 3, 1, 1},
    {"", "Concat", 1, 64, 1, 1},
    {"", "Conv", 2, 3, 1, 1},
    {"", "Div", 2, 2, 1, 1},
    {"", "Flatten", 1, 1, 1, 1},
    {"", "Gemm", 2, 3, 1, 1},
    {"", "GlobalAveragePool", 1, 1, 1, 1},
    {"", "Identity", 1, 1, 1, 1},
    {"", "MatMul", 2, 2, 1, 1},
    {"", "MaxPool", 1, 1, 1, 1},
    {"", "Mul", 2, 2, 1, 1},
    {"", "Relu", 1, 1, 1, 1},
    {"", "Reshape", 2, 2, 1, 1},
    {"", "Sigmoid", 1, 1, 1, 1},
    {"", "Softmax", 1, 1, 1, 1},
    {"", "StringNormalizer", 1, 1, 1, 1},
    {"", "Sub", 2, 2, 1, 1},
    {"", "Tanh", 1, 1, 1, 1},
    {"", "TfIdfVectorizer", 1, 1, 1, 1},
    {"", "TopK", 2, 2, 2, 2},
    {"", "Transpose", 1, 1, 1, 1},
    {kMlDomain, "LinearClassifier", 1, 1, 2, 2},
    {kMlDomain, "LinearRegressor", 1, 1, 1, 1},
    {kMlDomain, "Normalizer", 1, 1, 1, 1},
    {kMlDomain, "Scaler", 1, 1, 1, 1},
    {kMlDomain, "TreeEnsembleClassifier", 1, 1, 2, 2},
    {kMlDomain, "TreeEnsembleRegressor", 1, 1, 1, 1},
};

}  // namespace

auto SupportedOps() -> std::span<const OpSchema> { return kOps; }

auto FindOp(std::string_view domain, std::string_view op_type) -> const OpSchema* {
  if (domain == "ai.onnx") domain = "";
  for (const OpSchema& op : kOps) {
    if (op.domain == domain && op.op_type == op_type) return &op;
  }
  return nullptr;
}

auto SupportedOpList() -> std::string {
  std::string out;
  std::string_view domain;
  for (const OpSchema& op : kOps) {
    if (op.domain != domain) {
      domain = op.domain;
      out += "; " + std::string(domain) + ": ";
    } else if (!out.empty()) {
      out += ", ";
    }
    out += op.op_type;
  }
  return out;
}

}  // namespace ferry::graph

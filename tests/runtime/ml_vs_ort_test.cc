// ONNX-ML and text kernels against ONNX Runtime (suite "ort").
#include <doctest/doctest.h>

#include "runtime/kernels.h"
#include "tests/runtime/oracle_support.h"

namespace ferry::runtime_test {
namespace {

namespace k = ferry_rt::k;
using ferry_rt::Tensor;

auto TreeAttributes(const ferry_rt::json::Value& s) -> k::TreeEnsembleAttributes {
  k::TreeEnsembleAttributes a;
  a.nodes_treeids = Ints(s, "nodes_treeids");
  a.nodes_nodeids = Ints(s, "nodes_nodeids");
  a.nodes_featureids = Ints(s, "nodes_featureids");
  a.nodes_values = Floats(s, "nodes_values");
  a.nodes_modes = Texts(s, "nodes_modes");
  a.nodes_truenodeids = Ints(s, "nodes_truenodeids");
  a.nodes_falsenodeids = Ints(s, "nodes_falsenodeids");
  a.leaf_treeids = Ints(s, "leaf_treeids");
  a.leaf_nodeids = Ints(s, "leaf_nodeids");
  a.leaf_ids = Ints(s, "leaf_ids");
  a.leaf_weights = Floats(s, "leaf_weights");
  a.base_values = Floats(s, "base_values");
  a.n_targets = Int(s, "n_targets", 1);
  a.aggregate_function = Text(s, "aggregate_function", "SUM");
  a.post_transform = Text(s, "post_transform", "NONE");
  a.classlabels_int64s = Ints(s, "classlabels_int64s");
  return a;
}

TEST_SUITE("ort") {
  TEST_CASE("LinearRegressor matches ONNX Runtime") {
    auto s = Sidecar("linear_regressor");
    Tensor x = RandomF32({4, 6}, 40);
    auto want = RunOracle("linear_regressor", {"X"}, {x}, {"Y"});
    std::vector<float> y(8);
    k::LinearRegressor(x.f32.data(), 4, 6, Floats(s, "coefficients").data(),
                       Floats(s, "intercepts").data(), 2, k::PostTransform::kNone, y.data());
    ExpectClose({4, 2}, y, want[0]);
  }

  TEST_CASE("LinearClassifier with softmax or logistic or one binary row matches ONNX Runtime") {
    for (const char* name :
         {"linear_classifier_softmax", "linear_classifier_logistic", "linear_classifier_binary"}) {
      CAPTURE(name);
      auto s = Sidecar(name);
      k::LinearClassifierAttributes attrs{Floats(s, "coefficients"),
                                          Floats(s, "intercepts"),
                                          Ints(s, "classlabels_ints"),
                                          {},
                                          1,
                                          Text(s, "post_transform", "NONE")};
      k::LinearClassifier model(attrs, 6);
      Tensor x = RandomF32({4, 6}, 41);
      auto want = RunOracle(name, {"X"}, {x}, {"label", "scores"});
      std::vector<std::int64_t> labels(4);
      std::vector<float> scores(static_cast<std::size_t>(4 * model.score_columns()));
      model.Run(x.f32.data(), 4, labels.data(), nullptr, scores.data());
      CHECK(labels == want[0].i64);
      ExpectClose({4, model.score_columns()}, scores, want[1]);
    }
  }

  TEST_CASE("TreeEnsembleRegressor summing or averaging matches ONNX Runtime") {
    for (const char* name : {"tree_regressor_sum", "tree_regressor_average"}) {
      CAPTURE(name);
      k::TreeEnsemble model(TreeAttributes(Sidecar(name)), 8, false);
      Tensor x = RandomF32({50, 8}, 42, -2.0F, 2.0F);
      auto want = RunOracle(name, {"X"}, {x}, {"Y"});
      std::vector<float> y(50);
      model.Regress(x.f32.data(), 50, y.data());
      ExpectClose({50, 1}, y, want[0]);
    }
  }

  TEST_CASE("TreeEnsembleClassifier binary logistic and multiclass matches ONNX Runtime") {
    for (const char* name : {"tree_classifier_binary", "tree_classifier_multiclass"}) {
      CAPTURE(name);
      k::TreeEnsemble model(TreeAttributes(Sidecar(name)), 8, true);
      Tensor x = RandomF32({50, 8}, 43, -2.0F, 2.0F);
      auto want = RunOracle(name, {"X"}, {x}, {"label", "probabilities"});
      std::vector<std::int64_t> labels(50);
      std::vector<float> scores(static_cast<std::size_t>(50 * model.score_columns()));
      model.Classify(x.f32.data(), 50, labels.data(), nullptr, scores.data());
      CHECK(labels == want[0].i64);
      ExpectClose({50, model.score_columns()}, scores, want[1]);
    }
  }

  TEST_CASE("Scaler and Normalizer MAX L1 L2 match ONNX Runtime") {
    auto s = Sidecar("scaler");
    Tensor x = RandomF32({4, 5}, 44, -3.0F, 3.0F);
    auto want = RunOracle("scaler", {"X"}, {x}, {"Y"});
    std::vector<float> y(20);
    auto offset = Floats(s, "offset"), scale = Floats(s, "scale");
    k::Scaler(x.f32.data(), 4, 5, offset.data(), 5, scale.data(), 5, y.data());
    ExpectClose({4, 5}, y, want[0]);
    for (auto [name, norm] : {std::pair{"normalizer_max", k::Norm::kMax},
                              {"normalizer_l1", k::Norm::kL1},
                              {"normalizer_l2", k::Norm::kL2}}) {
      CAPTURE(name);
      auto want_norm = RunOracle(name, {"X"}, {x}, {"Y"});
      std::vector<float> n(20);
      k::Normalizer(x.f32.data(), 4, 5, norm, n.data());
      ExpectClose({4, 5}, n, want_norm[0]);
    }
  }

  TEST_CASE("StringNormalizer then the Tokenizer stage then TfIdfVectorizer match ONNX Runtime") {
    auto sn = Sidecar("string_normalizer");
    k::StringNormalizer normalizer({Text(sn, "case_change_action", "NONE"),
                                    Int(sn, "is_case_sensitive", 0), Texts(sn, "stopwords"), ""});
    Tensor words = Strings({5}, {"The", "Reset", "a", "PASSWORD", "now"});
    auto want = RunOracle("string_normalizer", {"X"}, {words}, {"Y"});
    std::vector<std::string> normalized;
    normalizer.Run(words.str.data(), 5, normalized);
    CHECK(normalized == want[0].str);

    auto tk = Sidecar("tokenizer");
    k::TokenizerAttributes tattrs;
    tattrs.mark = Int(tk, "mark", 0);
    tattrs.mincharnum = Int(tk, "mincharnum", 1);
    tattrs.pad_value = Text(tk, "pad_value", "#");
    tattrs.tokenexp = Text(tk, "tokenexp", "");
    k::Tokenizer tokenizer(tattrs);
    Tensor text = Strings({3}, {"how do I reset my password?", "account locked", "reset, reset"});
    auto want_tok = RunOracle("tokenizer", {"X"}, {text}, {"Y"});
    std::vector<std::string> tokens;
    std::int64_t width = 0;
    tokenizer.Run(text.str.data(), 3, tokens, width);
    CHECK(want_tok[0].shape == std::vector<std::int64_t>{3, width});
    CHECK(tokens == want_tok[0].str);

    auto tf = Sidecar("tfidf_vectorizer");
    k::TfIdfAttributes fattrs;
    fattrs.mode = Text(tf, "mode", "TF");
    fattrs.min_gram_length = Int(tf, "min_gram_length", 1);
    fattrs.max_gram_length = Int(tf, "max_gram_length", 1);
    fattrs.max_skip_count = Int(tf, "max_skip_count", 0);
    fattrs.ngram_counts = Ints(tf, "ngram_counts");
    fattrs.ngram_indexes = Ints(tf, "ngram_indexes");
    fattrs.pool_strings = Texts(tf, "pool_strings");
    fattrs.weights = Floats(tf, "weights");
    k::TfIdfVectorizer vectorizer(fattrs);
    Tensor grid = Strings({3, width}, tokens);
    auto want_tf = RunOracle("tfidf_vectorizer", {"X"}, {grid}, {"Y"});
    std::vector<float> y(static_cast<std::size_t>(3 * vectorizer.output_size()));
    vectorizer.Run(grid.str.data(), nullptr, 3, width, y.data());
    ExpectClose({3, vectorizer.output_size()}, y, want_tf[0]);
  }
}

}  // namespace
}  // namespace ferry::runtime_test

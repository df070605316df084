// Text kernels for TF-IDF pipelines: the Tokenizer pre-processing stage
// (com.microsoft Tokenizer semantics), ONNX StringNormalizer and TfIdfVectorizer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/model.h"

namespace ferry_rt::k {

/// The attributes of ONNX StringNormalizer.
struct StringNormalizerAttributes {
  std::string case_change_action = "NONE";  // LOWER, UPPER, NONE (ASCII case mapping)
  std::int64_t is_case_sensitive = 0;       // for matching stopwords
  std::vector<std::string> stopwords;
  std::string locale;  // accepted, ASCII rules apply whatever it says
};

/// A validated StringNormalizer.
class StringNormalizer {
 public:
  /// Throws Error on an unknown case_change_action.
  explicit StringNormalizer(StringNormalizerAttributes attributes);
  /// Normalizes `count` strings of the last axis into `out` (cleared first):
  /// stopwords removed, case changed. When every string is removed, `out`
  /// holds one empty string (as in ONNX Runtime).
  void Run(const std::string* in, std::int64_t count, std::vector<std::string>& out) const;

 private:
  StringNormalizerAttributes attrs_;
  std::vector<std::string> stopwords_;  // lower-cased when not case-sensitive, sorted
};

/// The attributes of the Tokenizer stage (com.microsoft Tokenizer).
struct TokenizerAttributes {
  std::int64_t mark = 0;        // 1: add the start mark "\x02" and end mark "\x03" to each row
  std::int64_t mincharnum = 1;  // tokens shorter than this are dropped
  std::string pad_value = "#";
  /// Split on any of these strings, or, when empty, take the matches of tokenexp.
  std::vector<std::string> separators;
  /// An ECMAScript regex (a leading "(?u)" is ignored): each match is a token.
  std::string tokenexp;
};

/// The tokenizing pre-processing stage in front of TfIdfVectorizer.
class Tokenizer {
 public:
  /// Throws Error when both or neither of separators/tokenexp are given or the regex is bad.
  explicit Tokenizer(TokenizerAttributes attributes);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  auto operator=(Tokenizer&&) noexcept -> Tokenizer&;
  /// Tokenizes `rows` strings into out (rows, max_tokens) padded with pad_value;
  /// `max_tokens` receives the width (at least 1).
  void Run(const std::string* in, std::int64_t rows, std::vector<std::string>& out,
           std::int64_t& max_tokens) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The attributes of ONNX TfIdfVectorizer.
struct TfIdfAttributes {
  std::int64_t min_gram_length = 1, max_gram_length = 1, max_skip_count = 0;
  std::string mode = "TF";  // TF, IDF, TFIDF
  std::vector<std::int64_t> ngram_counts, ngram_indexes;
  std::vector<std::int64_t> pool_int64s;
  std::vector<std::string> pool_strings;
  std::vector<float> weights;
};

/// A validated TfIdfVectorizer with its n-gram pool hashed for lookup.
class TfIdfVectorizer {
 public:
  /// Throws Error on inconsistent attributes.
  explicit TfIdfVectorizer(TfIdfAttributes attributes);
  /// The output width: max(ngram_indexes) + 1.
  auto output_size() const -> std::int64_t { return output_size_; }
  /// Counts n-grams of each of `rows` rows of `columns` tokens into y (rows,
  /// output_size()). Strings pool: pass `in_str`; int64 pool: pass `in_i64`.
  void Run(const std::string* in_str, const std::int64_t* in_i64, std::int64_t rows,
           std::int64_t columns, float* y) const;

 private:
  template <typename Token>
  void CountRow(const Token* row, std::int64_t columns, float* y) const;

  TfIdfAttributes attrs_;
  std::int64_t output_size_ = 0;
  // Per n: n-gram key (tokens joined by '\x1f', or int64s as bytes) -> its pool position.
  std::vector<std::unordered_map<std::string, std::int64_t>> pool_;
};

}  // namespace ferry_rt::k

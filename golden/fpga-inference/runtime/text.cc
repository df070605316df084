// Text kernels: StringNormalizer, the Tokenizer stage and TfIdfVectorizer.
// Case mapping is ASCII (as ONNX Runtime's "en_US" behaviour for ASCII text).
#include <algorithm>
#include <cstring>
#include <regex>

#include "runtime/kernels_text.h"

namespace ferry_rt::k {
namespace {

auto Lower(std::string text) -> std::string {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

auto Upper(std::string text) -> std::string {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

}  // namespace

StringNormalizer::StringNormalizer(StringNormalizerAttributes attributes)
    : attrs_(std::move(attributes)) {
  const std::string& action = attrs_.case_change_action;
  if (action != "NONE" && action != "LOWER" && action != "UPPER" && !action.empty()) {
    throw Error("StringNormalizer: unknown case_change_action '" + action +
                "' (supported: LOWER, UPPER, NONE)");
  }
  for (const std::string& word : attrs_.stopwords) {
    stopwords_.push_back(attrs_.is_case_sensitive ? word : Lower(word));
  }
  std::sort(stopwords_.begin(), stopwords_.end());
}

void StringNormalizer::Run(const std::string* in, std::int64_t count,
                           std::vector<std::string>& out) const {
  out.clear();
  for (std::int64_t i = 0; i < count; ++i) {
    const std::string& word = in[i];
    if (!stopwords_.empty()) {
      const std::string key = attrs_.is_case_sensitive ? word : Lower(word);
      if (std::binary_search(stopwords_.begin(), stopwords_.end(), key)) continue;
    }
    if (attrs_.case_change_action == "LOWER") {
      out.push_back(Lower(word));
    } else if (attrs_.case_change_action == "UPPER") {
      out.push_back(Upper(word));
    } else {
      out.push_back(word);
    }
  }
  if (out.empty()) out.emplace_back();
}

struct Tokenizer::Impl {
  TokenizerAttributes attrs;
  std::regex pattern;  // tokenexp, or the separators joined with '|'
  bool by_separator = false;
};

namespace {

// ECMAScript has no inline flags; "(?u)" (Unicode mode) is implied for ASCII text.
auto StripInlineFlags(std::string pattern) -> std::string {
  if (pattern.rfind("(?u)", 0) == 0) pattern.erase(0, 4);
  return pattern;
}

}  // namespace

Tokenizer::Tokenizer(TokenizerAttributes attributes) : impl_(std::make_unique<Impl>()) {
  impl_->attrs = std::move(attributes);
  const TokenizerAttributes& a = impl_->attrs;
  if (a.separators.empty() == a.tokenexp.empty()) {
    throw Error("Tokenizer: give exactly one of separators and tokenexp");
  }
  std::string pattern;
  if (!a.tokenexp.empty()) {
    pattern = StripInlineFlags(a.tokenexp);
  } else {
    impl_->by_separator = true;
    for (const std::string& sep : a.separators) {
      if (!pattern.empty()) pattern.push_back('|');
      pattern.append("(?:").append(StripInlineFlags(sep)).push_back(')');
    }
  }
  try {
    impl_->pattern = std::regex(pattern, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& error) {
    throw Error("Tokenizer: bad regular expression '" + pattern + "': " + error.what());
  }
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
auto Tokenizer::operator=(Tokenizer&&) noexcept -> Tokenizer& = default;

void Tokenizer::Run(const std::string* in, std::int64_t rows, std::vector<std::string>& out,
                    std::int64_t& max_tokens) const {
  const TokenizerAttributes& a = impl_->attrs;
  thread_local std::vector<std::vector<std::string>> tokens;
  tokens.resize(static_cast<std::size_t>(rows));
  max_tokens = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    auto& row = tokens[r];
    row.clear();
    if (a.mark) row.emplace_back("\x02");
    auto keep = [&](std::string token) {
      if (static_cast<std::int64_t>(token.size()) >= a.mincharnum) row.push_back(std::move(token));
    };
    const std::string& text = in[r];
    if (impl_->by_separator) {
      std::size_t start = 0;
      for (auto it = std::sregex_iterator(text.begin(), text.end(), impl_->pattern);
           it != std::sregex_iterator(); ++it) {
        if (it->length(0) == 0) continue;
        auto at = static_cast<std::size_t>(it->position(0));
        if (at > start) keep(text.substr(start, at - start));
        start = at + static_cast<std::size_t>(it->length(0));
      }
      if (start < text.size()) keep(text.substr(start));
    } else {
      for (auto it = std::sregex_iterator(text.begin(), text.end(), impl_->pattern);
           it != std::sregex_iterator(); ++it) {
        if (it->length(0) > 0) keep(it->str(0));
      }
    }
    if (a.mark) row.emplace_back("\x03");
    max_tokens = std::max<std::int64_t>(max_tokens, std::ssize(row));
  }
  out.assign(static_cast<std::size_t>(rows * max_tokens), a.pad_value);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::copy(tokens[r].begin(), tokens[r].end(), out.begin() + r * max_tokens);
  }
}

namespace {

void AppendKey(std::string& key, const std::string& token) {
  key += token;
  key += '\x1f';
}

void AppendKey(std::string& key, std::int64_t token) {
  char bytes[sizeof(token)];
  std::memcpy(bytes, &token, sizeof(token));
  key.append(bytes, sizeof(token));
}

}  // namespace

TfIdfVectorizer::TfIdfVectorizer(TfIdfAttributes attributes) : attrs_(std::move(attributes)) {
  const TfIdfAttributes& a = attrs_;
  if (a.mode != "TF" && a.mode != "IDF" && a.mode != "TFIDF") {
    throw Error("TfIdfVectorizer: unknown mode '" + a.mode + "' (supported: TF, IDF, TFIDF)");
  }
  if (a.min_gram_length < 1 || a.max_gram_length < a.min_gram_length || a.max_skip_count < 0) {
    throw Error("TfIdfVectorizer: bad gram lengths or skip count");
  }
  bool strings = !a.pool_strings.empty();
  std::int64_t pool_size = strings ? std::ssize(a.pool_strings) : std::ssize(a.pool_int64s);
  if (static_cast<std::int64_t>(a.ngram_counts.size()) != a.max_gram_length - 0 &&
      static_cast<std::int64_t>(a.ngram_counts.size()) < 1) {
    throw Error("TfIdfVectorizer: ngram_counts is empty");
  }
  if (!a.weights.empty() && a.weights.size() != a.ngram_indexes.size()) {
    throw Error("TfIdfVectorizer: weights and ngram_indexes differ in length");
  }
  for (std::int64_t index : a.ngram_indexes) {
    if (index < 0) throw Error("TfIdfVectorizer: negative ngram index");
    output_size_ = std::max(output_size_, index + 1);
  }
  // ngram_counts[i] is where the (i+1)-grams start in the pool.
  pool_.resize(a.ngram_counts.size() + 1);
  std::int64_t ngram = 0;
  for (std::size_t i = 0; i < a.ngram_counts.size(); ++i) {
    std::int64_t n = static_cast<std::int64_t>(i) + 1;
    std::int64_t begin = a.ngram_counts[i];
    std::int64_t end = i + 1 < a.ngram_counts.size() ? a.ngram_counts[i + 1] : pool_size;
    if (begin < 0 || end > pool_size || begin > end || (end - begin) % n != 0) {
      throw Error("TfIdfVectorizer: ngram_counts do not split the pool into whole n-grams");
    }
    for (std::int64_t at = begin; at < end; at += n, ++ngram) {
      if (ngram >= std::ssize(a.ngram_indexes)) {
        throw Error("TfIdfVectorizer: more n-grams in the pool than ngram_indexes");
      }
      std::string key;
      for (std::int64_t j = 0; j < n; ++j) {
        if (strings) {
          AppendKey(key, a.pool_strings[at + j]);
        } else {
          AppendKey(key, a.pool_int64s[at + j]);
        }
      }
      pool_[n].emplace(std::move(key), ngram);
    }
  }
}

template <typename Token>
void TfIdfVectorizer::CountRow(const Token* row, std::int64_t columns, float* y) const {
  thread_local std::string key;
  std::int64_t max_n = std::min<std::int64_t>(attrs_.max_gram_length, std::ssize(pool_) - 1);
  for (std::int64_t n = attrs_.min_gram_length; n <= max_n; ++n) {
    if (pool_[n].empty()) continue;
    // Unigrams have no gaps to skip: count them once.
    std::int64_t max_skip = n == 1 ? 0 : attrs_.max_skip_count;
    for (std::int64_t skip = 0; skip <= max_skip; ++skip) {
      std::int64_t span = (n - 1) * (skip + 1) + 1;
      for (std::int64_t start = 0; start + span <= columns; ++start) {
        key.clear();
        for (std::int64_t j = 0; j < n; ++j) AppendKey(key, row[start + j * (skip + 1)]);
        auto found = pool_[n].find(key);
        if (found != pool_[n].end()) y[attrs_.ngram_indexes[found->second]] += 1.0F;
      }
    }
  }
}

void TfIdfVectorizer::Run(const std::string* in_str, const std::int64_t* in_i64, std::int64_t rows,
                          std::int64_t columns, float* y) const {
  std::fill(y, y + rows * output_size_, 0.0F);
  for (std::int64_t r = 0; r < rows; ++r) {
    float* out = y + r * output_size_;
    if (in_str != nullptr) {
      CountRow(in_str + r * columns, columns, out);
    } else {
      CountRow(in_i64 + r * columns, columns, out);
    }
    // Weights are per pool n-gram; apply them through ngram_indexes.
    if (attrs_.mode == "TF") continue;
    for (std::size_t g = 0; g < attrs_.ngram_indexes.size(); ++g) {
      float& v = out[attrs_.ngram_indexes[g]];
      float w = attrs_.weights.empty() ? 1.0F : attrs_.weights[g];
      if (attrs_.mode == "IDF") {
        if (v > 0) v = w;
      } else {
        v *= w;
      }
    }
  }
}

}  // namespace ferry_rt::k

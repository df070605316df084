#include "compiler/support/suggest.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace ferry::support {
namespace {

auto Lower(std::string_view text) -> std::string {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

auto EditDistance(std::string_view a, std::string_view b) -> std::size_t {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  // Three rows suffice: a transposition looks back two rows.
  std::vector<std::size_t> before(m + 1), previous(m + 1), current(m + 1);
  for (std::size_t j = 0; j <= m; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[m];
}

auto Suggest(std::string_view word, std::span<const std::string> candidates)
    -> std::optional<std::string> {
  const std::string lowered = Lower(word);
  const std::size_t threshold = std::max<std::size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  std::size_t best_distance = threshold + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = EditDistance(lowered, Lower(candidate));
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

auto DidYouMean(std::string_view word, std::span<const std::string> candidates) -> std::string {
  std::optional<std::string> suggestion = Suggest(word, candidates);
  if (!suggestion) return "";
  return "; did you mean '" + *suggestion + "'?";
}

}  // namespace ferry::support

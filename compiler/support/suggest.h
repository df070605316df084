// "Did you mean" suggestions for misspelt names, fields and enum values.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ferry::support {

/// The Damerau-Levenshtein (optimal string alignment) distance between `a`
/// and `b`: insertions, deletions, substitutions and adjacent transpositions.
auto EditDistance(std::string_view a, std::string_view b) -> std::size_t;

/// The candidate closest to `word`, ignoring case, when it is within
/// max(1, len(word) / 3) edits; ties go to the earlier candidate.
auto Suggest(std::string_view word, std::span<const std::string> candidates)
    -> std::optional<std::string>;

/// "; did you mean 'x'?" for the suggestion of `word`, or "" when there is none.
auto DidYouMean(std::string_view word, std::span<const std::string> candidates) -> std::string;

}  // namespace ferry::support

#include "router/split.h"

#include <algorithm>
#include <cmath>

namespace ferry::router {

WeightedSplit::WeightedSplit(const std::vector<double>& weights) : current_(weights.size(), 0) {
  // Integers keep the sequence exact and the same on every machine.
  weights_.reserve(weights.size());
  for (double weight : weights) {
    weights_.push_back(weight > 0 ? static_cast<std::int64_t>(std::llround(weight * 10000)) : 0);
  }
}

auto WeightedSplit::Next(const std::vector<bool>& eligible) -> std::optional<std::size_t> {
  std::lock_guard lock(mutex_);
  // A version that leaves or rejoins starts the round afresh, so it neither
  // gets a burst on return nor leaves the others owing it requests.
  if (eligible != last_eligible_) {
    std::fill(current_.begin(), current_.end(), 0);
    last_eligible_ = eligible;
  }
  std::int64_t total = 0;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    if (i >= eligible.size() || !eligible[i] || weights_[i] == 0) continue;
    current_[i] += weights_[i];
    total += weights_[i];
    // Ties go to the lower index, so the sequence is fixed.
    if (!best || current_[i] > current_[*best]) best = i;
  }
  if (best) current_[*best] -= total;
  return best;
}

}  // namespace ferry::router

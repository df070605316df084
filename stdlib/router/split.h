// The traffic split: which version of an endpoint gets the next request.
// Weights are the compiler's resolved traffic and are never recomputed from
// what was served; the choice is nginx's smooth weighted round robin, so it
// is deterministic and interleaves versions evenly (20/80 gives b b a b b,
// not a burst of a then a burst of b).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace ferry::router {

/// Smooth weighted round robin over an endpoint's versions. Thread-safe.
class WeightedSplit {
 public:
  /// One weight per version (percent; any non-negative scale works).
  explicit WeightedSplit(const std::vector<double>& weights);

  /// The version for the next request among those with `eligible[i]` true
  /// (a ready replica). Ineligible versions' shares go to the others in
  /// proportion to their weights; weight-0 versions never get a request.
  /// nullopt when no eligible version has a positive weight.
  auto Next(const std::vector<bool>& eligible) -> std::optional<std::size_t>;

  /// How many versions the split has.
  auto size() const -> std::size_t { return weights_.size(); }

 private:
  std::vector<std::int64_t> weights_;  // fixed point, 1/10000 of a percent
  std::vector<std::int64_t> current_;
  std::vector<bool> last_eligible_;
  std::mutex mutex_;
};

}  // namespace ferry::router

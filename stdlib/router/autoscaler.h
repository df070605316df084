// The router's autoscaler (DOMAIN.md "Autoscaling [004]"): one per endpoint
// version. Pure: it is fed samples of the version's in-flight requests and
// reads time from a Clock, so tests drive it with a simulated clock.
//
// Utilization = busy replicas ÷ replicas, where busy = in-flight requests ÷
// max_concurrent_requests_per_replica (each replica at most fully busy) and
// replicas = the count last asked for (ReplicaSet::Desired), so replicas still
// starting do not make it scale up again. Above the target it scales up
// eagerly: once the mean load over the last scale_up_seconds is above the
// target, to ceil(load ÷ target) (the seeds' formula for that load). Below it,
// it scales down conservatively: only after scale_down_seconds without a
// scaling change, to ceil(peak load over that window ÷ target), so a burst or
// a noisy load does not make it flap. Always within [min, max] replicas.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "router/replicas.h"
#include "router/routes.h"

namespace ferry::router {

/// What one version's autoscaler aims for and how fast it reacts.
struct AutoscalerSettings {
  bool enabled = false;  ///< routes' autoscaler.enabled && the version's autoscale.enabled
  std::int64_t min_replicas = 1;
  std::int64_t max_replicas = 1;
  double target_utilization = 0.7;  ///< a fraction in (0, 1]
  std::int64_t max_concurrent_per_replica = 1;
  double scale_up_seconds = 1;     ///< how long load stays above the target before adding
  double scale_down_seconds = 60;  ///< how long load stays below it before removing
  auto operator==(const AutoscalerSettings&) const -> bool = default;
};

/// The settings routes.yaml gives a version (target utilization there is in percent).
auto SettingsFor(const AutoscalerRoute& router, const VersionAutoscale& version)
    -> AutoscalerSettings;

/// The seeds' formula: replicas needed so `target_rps` requests a second that
/// take `request_seconds` each keep utilization at `target_utilization` (a
/// fraction): ceil(rps × seconds ÷ target ÷ max_concurrent). At least 0.
auto ReplicasForLoad(double target_rps, double request_seconds, double target_utilization,
                     std::int64_t max_concurrent_per_replica) -> std::int64_t;

/// Scaling decisions for one endpoint version.
class Autoscaler {
 public:
  /// `clock` must outlive the autoscaler.
  Autoscaler(AutoscalerSettings settings, const Clock& clock);

  /// Records `in_flight` requests at the clock's now while `replicas` are
  /// asked for; returns the replica count to scale to when it should change.
  /// Call it often (every ~100 ms); disabled, it always returns nullopt.
  auto Observe(std::int64_t in_flight, std::int64_t replicas) -> std::optional<std::int64_t>;

  /// Observe() with the set's Desired() count, then Scale()s the set when the
  /// count should change. Returns the new count, if any.
  auto Step(ReplicaSet& set, std::int64_t in_flight) -> std::optional<std::int64_t>;

  /// The settings in force.
  auto settings() const -> const AutoscalerSettings& { return settings_; }

 private:
  struct Sample {
    TimePoint at;
    double load;  ///< in-flight ÷ max concurrent per replica: replicas' worth of work
  };
  auto Clamp(std::int64_t count) const -> std::int64_t;
  auto ForLoad(double load) const -> std::int64_t;
  auto ScaleUpTo(TimePoint now, std::int64_t replicas) const -> std::optional<std::int64_t>;
  auto ScaleDownTo(TimePoint now, std::int64_t replicas) const -> std::optional<std::int64_t>;

  AutoscalerSettings settings_;
  const Clock& clock_;
  /// Samples since the last change, at most scale_down_seconds old.
  std::deque<Sample> samples_;
  /// When the window began: the first sample or the last change of count.
  std::optional<TimePoint> window_start_;
  /// The count last seen, to notice changes made by someone else.
  std::int64_t last_replicas_ = -1;
};

}  // namespace ferry::router

#include "router/autoscaler.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ferry::router {
namespace {

// Loads like 7 ÷ 0.7 come out as 10.000000000000002 in binary floating point;
// they mean exactly 10 replicas, not 11.
constexpr double kCeilSlack = 1e-9;

auto CeilCount(double value) -> std::int64_t {
  if (!(value > 0)) return 0;
  return static_cast<std::int64_t>(std::ceil(value - kCeilSlack));
}

auto Seconds(double seconds) -> std::chrono::steady_clock::duration {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

}  // namespace

auto SettingsFor(const AutoscalerRoute& router, const VersionAutoscale& version)
    -> AutoscalerSettings {
  AutoscalerSettings settings;
  settings.enabled = router.enabled && version.enabled;
  settings.min_replicas = std::max<std::int64_t>(0, version.min_replicas);
  settings.max_replicas = std::max(settings.min_replicas, version.max_replicas);
  double target = version.target_utilization / 100.0;
  settings.target_utilization = target > 0 && target <= 1 ? target : 0.7;
  settings.max_concurrent_per_replica =
      std::max<std::int64_t>(1, version.max_concurrent_requests_per_replica);
  settings.scale_up_seconds = std::max(0.0, router.scale_up_seconds);
  settings.scale_down_seconds = std::max(0.0, router.scale_down_seconds);
  return settings;
}

auto ReplicasForLoad(double target_rps, double request_seconds, double target_utilization,
                     std::int64_t max_concurrent_per_replica) -> std::int64_t {
  if (!(target_utilization > 0) || max_concurrent_per_replica < 1) return 0;
  double concurrent = target_rps * request_seconds / target_utilization;
  return CeilCount(concurrent / static_cast<double>(max_concurrent_per_replica));
}

Autoscaler::Autoscaler(AutoscalerSettings settings, const Clock& clock)
    : settings_(settings), clock_(clock) {
  if (!(settings_.target_utilization > 0 && settings_.target_utilization <= 1)) {
    settings_.target_utilization = 0.7;
  }
  settings_.max_concurrent_per_replica =
      std::max<std::int64_t>(1, settings_.max_concurrent_per_replica);
  settings_.min_replicas = std::max<std::int64_t>(0, settings_.min_replicas);
  settings_.max_replicas = std::max(settings_.min_replicas, settings_.max_replicas);
}

auto Autoscaler::Clamp(std::int64_t count) const -> std::int64_t {
  return std::clamp(count, settings_.min_replicas, settings_.max_replicas);
}

auto Autoscaler::ForLoad(double load) const -> std::int64_t {
  return Clamp(CeilCount(load / settings_.target_utilization));
}

auto Autoscaler::Observe(std::int64_t in_flight, std::int64_t replicas)
    -> std::optional<std::int64_t> {
  if (!settings_.enabled) return std::nullopt;
  TimePoint now = clock_.Now();
  replicas = std::max<std::int64_t>(0, replicas);
  // A count changed by us or by hand starts a new observation window: load
  // seen with the old count says nothing about utilization with the new one.
  if (replicas != last_replicas_ || !window_start_) {
    samples_.clear();
    window_start_ = now;
    last_replicas_ = replicas;
  }
  if (Clamp(replicas) != replicas) return Clamp(replicas);

  double load = static_cast<double>(std::max<std::int64_t>(0, in_flight)) /
                static_cast<double>(settings_.max_concurrent_per_replica);
  samples_.push_back({now, load});
  TimePoint oldest =
      now - Seconds(std::max(settings_.scale_up_seconds, settings_.scale_down_seconds));
  while (!samples_.empty() && samples_.front().at < oldest) samples_.pop_front();

  if (auto up = ScaleUpTo(now, replicas)) return up;
  return ScaleDownTo(now, replicas);
}

auto Autoscaler::ScaleUpTo(TimePoint now, std::int64_t replicas) const
    -> std::optional<std::int64_t> {
  if (now - *window_start_ < Seconds(settings_.scale_up_seconds)) return std::nullopt;
  TimePoint from = now - Seconds(settings_.scale_up_seconds);
  double sum = 0;
  int count = 0;
  for (auto it = samples_.rbegin(); it != samples_.rend() && it->at >= from; ++it) {
    sum += it->load;
    ++count;
  }
  if (count == 0) return std::nullopt;
  double mean = sum / count;
  // Utilization counts each replica at most fully busy; the count to scale to
  // follows the whole load (requests waiting for a slot included).
  double busy = std::min(mean, static_cast<double>(replicas));
  if (replicas > 0 && busy / static_cast<double>(replicas) <= settings_.target_utilization) {
    return std::nullopt;
  }
  std::int64_t wanted = ForLoad(mean);
  if (wanted <= replicas) return std::nullopt;
  return wanted;
}

auto Autoscaler::ScaleDownTo(TimePoint now, std::int64_t replicas) const
    -> std::optional<std::int64_t> {
  if (now - *window_start_ < Seconds(settings_.scale_down_seconds)) return std::nullopt;
  TimePoint from = now - Seconds(settings_.scale_down_seconds);
  double peak = 0;
  for (auto it = samples_.rbegin(); it != samples_.rend() && it->at >= from; ++it) {
    peak = std::max(peak, it->load);
  }
  std::int64_t wanted = ForLoad(peak);
  if (wanted >= replicas) return std::nullopt;
  return wanted;
}

auto Autoscaler::Step(ReplicaSet& set, std::int64_t in_flight) -> std::optional<std::int64_t> {
  auto wanted = Observe(in_flight, set.Desired());
  if (wanted) set.Scale(*wanted);
  return wanted;
}

}  // namespace ferry::router

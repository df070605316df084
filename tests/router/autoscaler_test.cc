#include "router/autoscaler.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace ferry::router {
namespace {

using namespace std::chrono_literals;

class FakeClock : public Clock {
 public:
  auto Now() const -> TimePoint override { return now_; }
  void Advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  TimePoint now_{std::chrono::hours(1)};
};

/// A replica set that only remembers the count asked for.
class CountingSet : public ReplicaSet {
 public:
  explicit CountingSet(std::int64_t count) : desired_(count) {}
  auto Replicas() const -> std::vector<Replica> override { return {}; }
  auto Desired() const -> std::int64_t override { return desired_; }
  void Scale(std::int64_t count) override {
    desired_ = count;
    ++scale_calls;
  }
  void Reconcile(TimePoint /*now*/) override {}
  int scale_calls = 0;

 private:
  std::int64_t desired_;
};

auto Enabled(std::int64_t min, std::int64_t max) -> AutoscalerSettings {
  AutoscalerSettings settings;
  settings.enabled = true;
  settings.min_replicas = min;
  settings.max_replicas = max;
  return settings;
}

/// Steps every 100 ms for `duration` with in-flight from `load(step)`; returns
/// the simulated time of the first change, if any.
template <typename Load>
auto Run(Autoscaler& scaler, CountingSet& set, FakeClock& clock, std::chrono::milliseconds duration,
         Load load) -> std::optional<std::chrono::milliseconds> {
  std::optional<std::chrono::milliseconds> first_change;
  for (std::chrono::milliseconds t = 0ms; t < duration; t += 100ms) {
    clock.Advance(100ms);
    if (scaler.Step(set, load(t / 100ms)) && !first_change) first_change = t + 100ms;
  }
  return first_change;
}

TEST_CASE("autoscaler.replicas_for_load_is_the_seeds_formula") {
  // DOMAIN.md: 20 rps × 10 s ÷ 0.7, one request per replica -> 286 replicas.
  CHECK(ReplicasForLoad(20, 10, 0.7, 1) == 286);
  CHECK(ReplicasForLoad(20, 10, 0.7, 4) == 72);  // 285.7 ÷ 4 = 71.4
  // Exact multiples do not round up through floating-point error.
  CHECK(ReplicasForLoad(7, 1, 0.7, 1) == 10);
  CHECK(ReplicasForLoad(0, 10, 0.7, 1) == 0);
  CHECK(ReplicasForLoad(20, 10, 0, 1) == 0);
}

TEST_CASE("autoscaler.settings_from_routes") {
  AutoscalerRoute router{.enabled = true, .scale_up_seconds = 2, .scale_down_seconds = 30};
  VersionAutoscale version{.enabled = true,
                           .min_replicas = 2,
                           .max_replicas = 8,
                           .target_utilization = 60,
                           .max_concurrent_requests_per_replica = 3};
  AutoscalerSettings settings = SettingsFor(router, version);
  CHECK(settings.enabled);
  CHECK(settings.min_replicas == 2);
  CHECK(settings.max_replicas == 8);
  CHECK(settings.target_utilization == doctest::Approx(0.6));
  CHECK(settings.max_concurrent_per_replica == 3);
  CHECK(settings.scale_up_seconds == 2);
  CHECK(settings.scale_down_seconds == 30);
  router.enabled = false;
  CHECK_FALSE(SettingsFor(router, version).enabled);
  router.enabled = true;
  version.enabled = false;  // e.g. a DEV_TEST cluster
  CHECK_FALSE(SettingsFor(router, version).enabled);
}

TEST_CASE("autoscaler.scales_up_within_a_second_to_the_formula") {
  FakeClock clock;
  Autoscaler scaler(Enabled(1, 50), clock);
  CountingSet set(1);
  // Steady at 7 requests in flight (one per replica): 7 ÷ 0.7 = 10 replicas.
  auto changed = Run(scaler, set, clock, 3s, [](auto) { return 7; });
  REQUIRE(changed);
  CHECK(*changed <= 1100ms);
  CHECK(set.Desired() == 10);
  CHECK(set.scale_calls == 1);  // 7 busy of 10 is at the target, not above it
}

TEST_CASE("autoscaler.counts_max_concurrent_per_replica") {
  FakeClock clock;
  AutoscalerSettings settings = Enabled(1, 50);
  settings.max_concurrent_per_replica = 4;
  Autoscaler scaler(settings, clock);
  CountingSet set(1);
  // 20 in flight at 4 per replica = 5 replicas busy; 5 ÷ 0.7 -> 8.
  Run(scaler, set, clock, 2s, [](auto) { return 20; });
  CHECK(set.Desired() == 8);
}

TEST_CASE("autoscaler.scales_down_only_after_a_minute_of_low_load") {
  FakeClock clock;
  Autoscaler scaler(Enabled(1, 50), clock);
  CountingSet set(10);
  // Load drops to 1 in flight: 1 ÷ 0.7 -> 2 replicas, but only after 60 s.
  auto changed = Run(scaler, set, clock, 59s, [](auto) { return 1; });
  CHECK_FALSE(changed);
  CHECK(set.Desired() == 10);
  changed = Run(scaler, set, clock, 2s, [](auto) { return 1; });
  REQUIRE(changed);
  CHECK(set.Desired() == 2);
}

TEST_CASE("autoscaler.a_burst_restarts_the_scale_down_wait") {
  FakeClock clock;
  Autoscaler scaler(Enabled(1, 50), clock);
  CountingSet set(10);
  // Low for 50 s, one 200 ms burst to 7 (at the target), low again: the burst
  // is the window's peak until it is 60 s old, so no change before then.
  auto load = [](std::int64_t step) { return step == 500 || step == 501 ? 7 : 1; };
  auto changed = Run(scaler, set, clock, 115s, load);
  REQUIRE(changed);
  CHECK(*changed > 110s);  // the burst at 50.2 s, plus 60 s
  CHECK(*changed < 111s);
  CHECK(set.Desired() == 2);
}

TEST_CASE("autoscaler.stays_within_min_and_max") {
  FakeClock clock;
  Autoscaler scaler(Enabled(2, 5), clock);
  CountingSet set(2);
  Run(scaler, set, clock, 5s, [](auto) { return 100; });
  CHECK(set.Desired() == 5);
  Run(scaler, set, clock, 120s, [](auto) { return 0; });
  CHECK(set.Desired() == 2);
  // A count outside the limits (set by hand) is brought back at once.
  CountingSet outside(9);
  Run(scaler, outside, clock, 100ms, [](auto) { return 0; });
  CHECK(outside.Desired() == 5);
  CountingSet below(0);
  Run(scaler, below, clock, 100ms, [](auto) { return 0; });
  CHECK(below.Desired() == 2);
}

TEST_CASE("autoscaler.does_not_flap_on_a_noisy_load") {
  FakeClock clock;
  Autoscaler scaler(Enabled(1, 100), clock);
  CountingSet set(1);
  // In flight wanders between 10 and 20 (a fixed pseudo-random sequence).
  std::uint32_t state = 12345;
  auto noisy = [&state](auto) {
    state = state * 1103515245u + 12345u;
    return 10 + static_cast<std::int64_t>((state >> 16) % 11);
  };
  Run(scaler, set, clock, 10s, noisy);
  std::int64_t settled = set.Desired();
  CHECK(settled >= 15);  // mean 15 ÷ 0.7 ≈ 22, at least the mean's worth
  CHECK(settled <= 29);  // never more than the peak (20 ÷ 0.7)
  // Ten minutes more of the same noise: a second noisier than any before may
  // add a replica, but the count never goes down (the minute's peak needs
  // them) and stays below what the peak load needs.
  int calls = set.scale_calls;
  std::int64_t previous = settled;
  bool went_down = false;
  for (int second = 0; second < 600; ++second) {
    Run(scaler, set, clock, 1s, noisy);
    went_down = went_down || set.Desired() < previous;
    previous = set.Desired();
  }
  CHECK_FALSE(went_down);
  CHECK(set.scale_calls - calls <= 6);
  CHECK(set.Desired() <= 29);
}

TEST_CASE("autoscaler.disabled_does_nothing") {
  FakeClock clock;
  AutoscalerSettings settings = Enabled(1, 50);
  settings.enabled = false;
  Autoscaler scaler(settings, clock);
  CountingSet set(3);
  CHECK_FALSE(Run(scaler, set, clock, 5s, [](auto) { return 100; }));
  CHECK_FALSE(Run(scaler, set, clock, 120s, [](auto) { return 0; }));
  CHECK(set.Desired() == 3);
  CHECK(set.scale_calls == 0);
}

TEST_CASE("autoscaler.scales_from_zero_when_min_is_zero") {
  FakeClock clock;
  Autoscaler scaler(Enabled(0, 10), clock);
  CountingSet set(0);
  Run(scaler, set, clock, 2s, [](auto) { return 1; });
  CHECK(set.Desired() == 2);  // 1 ÷ 0.7
  Run(scaler, set, clock, 62s, [](auto) { return 0; });
  CHECK(set.Desired() == 0);
}

}  // namespace
}  // namespace ferry::router

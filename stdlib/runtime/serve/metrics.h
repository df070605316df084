// A small Prometheus registry for `serve` and the router: counters, gauges
// and histograms, optionally with labels, rendered in the text exposition
// format 0.0.4. Updating a metric is a few atomic operations; finding a
// labelled series that already exists takes a shared lock and no allocation.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry_rt::serve {

/// A monotonically increasing count.
class Counter {
 public:
  /// Adds `n`.
  void Inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  /// The current count.
  auto Value() const -> std::uint64_t { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (requests in flight, model load seconds).
class Gauge {
 public:
  /// Replaces the value.
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  /// Adds `delta` (negative to subtract).
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  /// The current value.
  auto Value() const -> double { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// Observations counted into fixed buckets (upper bounds, ascending), with their sum.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  /// Counts one observation.
  void Observe(double value);
  /// The bucket upper bounds (without +Inf).
  auto bounds() const -> const std::vector<double>& { return bounds_; }
  /// Cumulative counts per bound, then the total count (the +Inf bucket).
  auto CumulativeCounts() const -> std::vector<std::uint64_t>;
  /// The sum of all observations.
  auto Sum() const -> double { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // one per bound, then +Inf
  std::atomic<double> sum_{0};
};

/// Request latency buckets in seconds: 0.0005, 0.001, 0.0025, ... 5, 10.
auto LatencyBuckets() -> std::vector<double>;

/// Orders label-value lists; lookups by string_views allocate nothing.
struct LabelValuesLess {
  using is_transparent = void;
  template <class A, class B>
  auto operator()(const A& a, const B& b) const -> bool {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

/// The series of one metric name, one per combination of label values.
template <class Metric>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<Metric>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}

  /// The series for `values` (one per label name, in order), created on first use.
  /// The reference stays valid for the registry's lifetime: callers may keep it.
  auto With(std::initializer_list<std::string_view> values) -> Metric& {
    std::span<const std::string_view> key(values.begin(), values.size());
    {
      std::shared_lock lock(mutex_);
      auto it = series_.find(key);
      if (it != series_.end()) return *it->second;
    }
    std::unique_lock lock(mutex_);
    std::vector<std::string> owned(values.begin(), values.end());
    owned.resize(label_names_.size());  // a wrong count is a programming error; keep it harmless
    auto [it, inserted] = series_.try_emplace(std::move(owned));
    if (inserted) it->second = make_();
    return *it->second;
  }

  /// Calls `visit(label values, metric)` for every series in label order.
  void ForEach(
      const std::function<void(const std::vector<std::string>&, const Metric&)>& visit) const {
    std::shared_lock lock(mutex_);
    for (const auto& [values, metric] : series_) visit(values, *metric);
  }

  /// The label names, in order.
  auto label_names() const -> const std::vector<std::string>& { return label_names_; }

 private:
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::shared_mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>, LabelValuesLess> series_;
};

/// Named metric families, rendered sorted by name. Names must start with
/// `ferry_` (a programming error otherwise: std::invalid_argument).
class Registry {
 public:
  Registry();
  ~Registry();
  /// A counter family; without label names its one series exists (at 0) at once.
  auto AddCounter(const std::string& name, std::string help, std::vector<std::string> labels = {})
      -> Family<Counter>&;
  /// A gauge family; without label names its one series exists (at 0) at once.
  auto AddGauge(const std::string& name, std::string help, std::vector<std::string> labels = {})
      -> Family<Gauge>&;
  /// A histogram family with bucket upper bounds `bounds`.
  auto AddHistogram(const std::string& name, std::string help, std::vector<double> bounds,
                    std::vector<std::string> labels = {}) -> Family<Histogram>&;

  /// Every family in the Prometheus text format 0.0.4 (HELP and TYPE lines,
  /// families by name, series by label values).
  auto Render() const -> std::string;

 private:
  struct Entry;
  auto Add(const std::string& name, std::string help) -> Entry&;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Entry>> families_;
};

/// The metrics every scoring server exposes, registered in one place so
/// `serve` and its tests agree on the names.
struct ServeMetrics {
  explicit ServeMetrics(Registry& registry);
  Family<Counter>& requests;       ///< ferry_requests_total{code}
  Family<Counter>& auth_failures;  ///< ferry_auth_failures_total{reason}
  Gauge& in_flight;                ///< ferry_requests_in_flight
  Histogram& latency;              ///< ferry_request_duration_seconds
  Gauge& model_load_seconds;       ///< ferry_model_load_seconds
  Counter& collect_dropped;        ///< ferry_collect_dropped_total
};

}  // namespace ferry_rt::serve

// The Prometheus registry and its text rendering.
#include "runtime/serve/metrics.h"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <variant>

namespace ferry_rt::serve {
namespace {

// A sample value: shortest round-trip form, with Prometheus' spellings of
// the special values.
auto FormatValue(double value) -> std::string {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Plain decimals ("0.0005", not "5e-04") unless that gets long.
  char buffer[48];
  auto [end, error] =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
  if (error == std::errc() && end - buffer <= 24) return std::string(buffer, end);
  auto [short_end, short_error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (short_error != std::errc()) return "NaN";
  return std::string(buffer, short_end);
}

auto EscapeLabelValue(std::string_view value) -> std::string {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

auto EscapeHelp(std::string_view help) -> std::string {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="x",b="y"}` (empty without labels), with `extra` (e.g. le="0.5") last.
auto LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
               std::string_view extra = {}) -> std::string {
  if (names.empty() && extra.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
  }
  return out + "}";
}

auto ValidName(std::string_view name) -> bool {
  if (name.substr(0, 6) != "ferry_") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':';
    if (!ok) return false;
  }
  return true;
}

void RenderFamily(const std::string& name, const Family<Counter>& family, std::string& out) {
  family.ForEach([&](const std::vector<std::string>& values, const Counter& counter) {
    out += name + LabelText(family.label_names(), values) + " " + std::to_string(counter.Value()) +
           "\n";
  });
}

void RenderFamily(const std::string& name, const Family<Gauge>& family, std::string& out) {
  family.ForEach([&](const std::vector<std::string>& values, const Gauge& gauge) {
    out += name + LabelText(family.label_names(), values) + " " + FormatValue(gauge.Value()) + "\n";
  });
}

void RenderFamily(const std::string& name, const Family<Histogram>& family, std::string& out) {
  const std::vector<std::string>& names = family.label_names();
  family.ForEach([&](const std::vector<std::string>& values, const Histogram& histogram) {
    std::vector<std::uint64_t> counts = histogram.CumulativeCounts();
    const std::vector<double>& bounds = histogram.bounds();
    for (std::size_t i = 0; i < counts.size(); ++i) {
      std::string le = i < bounds.size() ? FormatValue(bounds[i]) : "+Inf";
      out += name + "_bucket" + LabelText(names, values, "le=\"" + le + "\"") + " " +
             std::to_string(counts[i]) + "\n";
    }
    std::string labels = LabelText(names, values);
    out += name + "_sum" + labels + " " + FormatValue(histogram.Sum()) + "\n";
    out += name + "_count" + labels + " " + std::to_string(counts.back()) + "\n";
  });
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::Observe(double value) {
  // Buckets are "less than or equal": the first bound >= value.
  auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

auto Histogram::CumulativeCounts() const -> std::vector<std::uint64_t> {
  std::vector<std::uint64_t> cumulative(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < cumulative.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    cumulative[i] = running;
  }
  return cumulative;
}

auto LatencyBuckets() -> std::vector<double> {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

struct Registry::Entry {
  std::string help;
  std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>,
               std::unique_ptr<Family<Histogram>>>
      family;
};

Registry::Registry() = default;
Registry::~Registry() = default;

auto Registry::Add(const std::string& name, std::string help) -> Entry& {
  if (!ValidName(name)) {
    throw std::invalid_argument("metric name '" + name + "' must match ferry_[a-zA-Z0-9_:]*");
  }
  std::lock_guard lock(mutex_);
  auto [it, inserted] = families_.try_emplace(name);
  if (!inserted) throw std::invalid_argument("metric '" + name + "' is registered twice");
  it->second = std::make_unique<Entry>();
  it->second->help = std::move(help);
  return *it->second;
}

auto Registry::AddCounter(const std::string& name, std::string help,
                          std::vector<std::string> labels) -> Family<Counter>& {
  Entry& entry = Add(name, std::move(help));
  bool plain = labels.empty();
  auto family = std::make_unique<Family<Counter>>(std::move(labels),
                                                  [] { return std::make_unique<Counter>(); });
  if (plain) family->With({});
  Family<Counter>& result = *family;
  entry.family = std::move(family);
  return result;
}

auto Registry::AddGauge(const std::string& name, std::string help, std::vector<std::string> labels)
    -> Family<Gauge>& {
  Entry& entry = Add(name, std::move(help));
  bool plain = labels.empty();
  auto family =
      std::make_unique<Family<Gauge>>(std::move(labels), [] { return std::make_unique<Gauge>(); });
  if (plain) family->With({});
  Family<Gauge>& result = *family;
  entry.family = std::move(family);
  return result;
}

auto Registry::AddHistogram(const std::string& name, std::string help, std::vector<double> bounds,
                            std::vector<std::string> labels) -> Family<Histogram>& {
  Entry& entry = Add(name, std::move(help));
  bool plain = labels.empty();
  auto family = std::make_unique<Family<Histogram>>(
      std::move(labels),
      [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); });
  if (plain) family->With({});
  Family<Histogram>& result = *family;
  entry.family = std::move(family);
  return result;
}

auto Registry::Render() const -> std::string {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& named : families_) {
    // Not a structured binding: clang 14 cannot capture those in the lambda below.
    const std::string& name = named.first;
    const Entry* entry = named.second.get();
    static constexpr const char* kTypes[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + name + " " + EscapeHelp(entry->help) + "\n";
    out += "# TYPE " + name + " " + kTypes[entry->family.index()] + "\n";
    std::visit([&](const auto& family) { RenderFamily(name, *family, out); }, entry->family);
  }
  return out;
}

ServeMetrics::ServeMetrics(Registry& registry)
    : requests(registry.AddCounter("ferry_requests_total", "Requests answered, by HTTP status.",
                                   {"code"})),
      auth_failures(registry.AddCounter("ferry_auth_failures_total",
                                        "Requests refused by authentication, by reason.",
                                        {"reason"})),
      in_flight(
          registry.AddGauge("ferry_requests_in_flight", "Requests being handled now.").With({})),
      latency(registry
                  .AddHistogram("ferry_request_duration_seconds",
                                "Time from request to response, in seconds.", LatencyBuckets())
                  .With({})),
      model_load_seconds(
          registry.AddGauge("ferry_model_load_seconds", "Seconds the model took to load.")
              .With({})),
      collect_dropped(registry
                          .AddCounter("ferry_collect_dropped_total",
                                      "Collected records dropped because the writer fell behind.")
                          .With({})) {}

}  // namespace ferry_rt::serve

// The Prometheus registry: exact exposition text and exact counts under
// concurrent updates.
#include "runtime/serve/metrics.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ferry::serve_test {
namespace {

using ferry_rt::serve::Registry;

TEST_SUITE("serve") {
  TEST_CASE("a small registry renders as Prometheus text 0.0.4, sorted") {
    Registry registry;
    auto& requests = registry.AddCounter("ferry_requests_total", "Requests answered.", {"code"});
    auto& in_flight = registry.AddGauge("ferry_in_flight", "In flight.\nNow.");
    auto& latency = registry.AddHistogram("ferry_latency_seconds", "Latency.", {0.5, 0.001, 1});
    auto& by_version =
        registry.AddCounter("ferry_version_total", "By version.", {"endpoint", "version"});
    requests.With({"503"}).Inc();
    requests.With({"200"}).Inc(2);
    requests.With({"200"}).Inc();
    in_flight.With({}).Add(3);
    in_flight.With({}).Add(-1.5);
    latency.With({}).Observe(0.0004);
    latency.With({}).Observe(0.001);
    latency.With({}).Observe(0.75);
    latency.With({}).Observe(30);
    by_version.With({"faq", "b\"\\\n"}).Inc();
    CHECK(registry.Render() ==
          "# HELP ferry_in_flight In flight.\\nNow.\n"
          "# TYPE ferry_in_flight gauge\n"
          "ferry_in_flight 1.5\n"
          "# HELP ferry_latency_seconds Latency.\n"
          "# TYPE ferry_latency_seconds histogram\n"
          "ferry_latency_seconds_bucket{le=\"0.001\"} 2\n"
          "ferry_latency_seconds_bucket{le=\"0.5\"} 2\n"
          "ferry_latency_seconds_bucket{le=\"1\"} 3\n"
          "ferry_latency_seconds_bucket{le=\"+Inf\"} 4\n"
          "ferry_latency_seconds_sum 30.7514\n"
          "ferry_latency_seconds_count 4\n"
          "# HELP ferry_requests_total Requests answered.\n"
          "# TYPE ferry_requests_total counter\n"
          "ferry_requests_total{code=\"200\"} 3\n"
          "ferry_requests_total{code=\"503\"} 1\n"
          "# HELP ferry_version_total By version.\n"
          "# TYPE ferry_version_total counter\n"
          "ferry_version_total{endpoint=\"faq\",version=\"b\\\"\\\\\\n\"} 1\n");
  }

  TEST_CASE("the scoring server's metrics start at zero with fixed latency buckets") {
    Registry registry;
    ferry_rt::serve::ServeMetrics metrics(registry);
    metrics.requests.With({"200"}).Inc();
    metrics.latency.Observe(0.0007);
    metrics.model_load_seconds.Set(0.125);
    std::string text = registry.Render();
    CHECK(text.find("ferry_requests_total{code=\"200\"} 1\n") != std::string::npos);
    CHECK(text.find("# TYPE ferry_auth_failures_total counter\n") != std::string::npos);
    CHECK(text.find("ferry_requests_in_flight 0\n") != std::string::npos);
    CHECK(text.find("ferry_model_load_seconds 0.125\n") != std::string::npos);
    CHECK(text.find("ferry_collect_dropped_total 0\n") != std::string::npos);
    CHECK(text.find("ferry_request_duration_seconds_bucket{le=\"0.0005\"} 0\n"
                    "ferry_request_duration_seconds_bucket{le=\"0.001\"} 1\n"
                    "ferry_request_duration_seconds_bucket{le=\"0.0025\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("ferry_request_duration_seconds_bucket{le=\"10\"} 1\n"
                    "ferry_request_duration_seconds_bucket{le=\"+Inf\"} 1\n") != std::string::npos);
  }

  TEST_CASE("gauge values: plain decimals, exponents when long, Prometheus' special values") {
    Registry registry;
    auto& gauges = registry.AddGauge("ferry_value", "x", {"case"});
    gauges.With({"big"}).Set(1e30);
    gauges.With({"inf"}).Set(-std::numeric_limits<double>::infinity());
    gauges.With({"nan"}).Set(std::nan(""));
    gauges.With({"small"}).Set(0.000125);
    CHECK(registry.Render() ==
          "# HELP ferry_value x\n# TYPE ferry_value gauge\n"
          "ferry_value{case=\"big\"} 1e+30\n"
          "ferry_value{case=\"inf\"} -Inf\n"
          "ferry_value{case=\"nan\"} NaN\n"
          "ferry_value{case=\"small\"} 0.000125\n");
  }

  TEST_CASE("metric names are prefixed ferry_ and registered once") {
    Registry registry;
    CHECK_THROWS_AS(registry.AddCounter("requests_total", "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.AddCounter("ferry_bad-name", "x"), std::invalid_argument);
    registry.AddGauge("ferry_up", "x");
    CHECK_THROWS_AS(registry.AddCounter("ferry_up", "x"), std::invalid_argument);
  }

  TEST_CASE("concurrent updates are all counted") {
    Registry registry;
    auto& requests = registry.AddCounter("ferry_requests_total", "x", {"code"});
    auto& latency = registry.AddHistogram("ferry_latency_seconds", "x", {0.5});
    auto& in_flight = registry.AddGauge("ferry_in_flight", "x").With({});
    std::vector<std::thread> threads;
    threads.reserve(8);
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 5000; ++i) {
          in_flight.Add(1);
          requests.With({t % 2 == 0 ? "200" : "400"}).Inc();
          latency.With({}).Observe(i % 2 == 0 ? 0.25 : 1.0);
          in_flight.Add(-1);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    CHECK(requests.With({"200"}).Value() == 20000);
    CHECK(requests.With({"400"}).Value() == 20000);
    CHECK(latency.With({}).CumulativeCounts() == std::vector<std::uint64_t>{20000, 40000});
    CHECK(latency.With({}).Sum() == 25000.0);
    CHECK(in_flight.Value() == 0);
  }
}

}  // namespace
}  // namespace ferry::serve_test

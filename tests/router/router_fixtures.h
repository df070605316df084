// Shared by the router's tests: a fixed in-memory replica set, a scratch
// directory, a log sink that keeps lines, and routes text for one endpoint.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "router/replicas.h"
#include "runtime/serve/log.h"
#include "tests/runtime/serve/scratch_dir.h"

namespace ferry::router_test {

/// A replica set with a fixed list of replicas whose readiness tests flip.
class FixedReplicas : public router::ReplicaSet {
 public:
  explicit FixedReplicas(std::vector<router::Replica> replicas) : replicas_(std::move(replicas)) {}
  auto Replicas() const -> std::vector<router::Replica> override {
    std::lock_guard lock(mutex_);
    return replicas_;
  }
  auto Desired() const -> std::int64_t override {
    std::lock_guard lock(mutex_);
    return static_cast<std::int64_t>(replicas_.size());
  }
  void Scale(std::int64_t /*count*/) override {}
  void Reconcile(router::TimePoint /*now*/) override {}
  /// Marks replica `index` ready or not.
  void SetReady(std::size_t index, bool ready) {
    std::lock_guard lock(mutex_);
    replicas_.at(index).ready = ready;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<router::Replica> replicas_;
};

// The scratch directory and file helpers the serve tests use.
using serve_test::ReadFile;
using serve_test::ScratchDir;
using serve_test::WriteFile;

/// Keeps every log line.
class KeptLines : public ferry_rt::serve::LogSink {
 public:
  void WriteLine(std::string_view line) override {
    std::lock_guard lock(mutex_);
    lines_ += line;
  }
  /// Everything logged so far.
  auto Text() const -> std::string {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::string lines_;
};

/// routes.yaml text for endpoint `name` with versions a and b at the given
/// weights, auth `mode` with keys in `directory`, and `extra` top-level text.
inline auto TwoVersionRoutes(double weight_a, double weight_b, std::string_view mode = "none",
                             std::string_view directory = "", std::string_view extra = "")
    -> std::string {
  std::string text = "format: 1\nlisten: {http: 8080}\n" + std::string(extra) +
                     "endpoints:\n- name: churn\n  path: /api/v1/service/churn/score\n"
                     "  auth: {mode: " +
                     std::string(mode) + (directory.empty() ? "" : ", directory: ") +
                     std::string(directory) + "}\n  versions:\n";
  for (auto [name, weight] : {std::pair{"a", weight_a}, std::pair{"b", weight_b}}) {
    text += "  - name: " + std::string(name) + "\n    weight: " + std::to_string(weight) +
            "\n    service: " + name +
            ".local:5001\n    autoscale: "
            "{max_concurrent_requests_per_replica: 1}\n";
  }
  return text;
}

}  // namespace ferry::router_test

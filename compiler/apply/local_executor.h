// The local executor: runs a project on this machine. Bundles are built with
// CMake into the content-addressed cache (bundle_cache.h); one router per
// project (stdlib/router) runs detached from `ferry apply` and starts the
// versions' replicas itself; what it serves is .ferry/run/routes.yaml, which
// this executor writes as a pure function of the recorded state (plus the
// action being executed) and then reloads with SIGHUP. docs/local-executor.md.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "compiler/apply/executor.h"

namespace ferry::apply {

struct LocalOptions {
  /// The router program; empty: found next to the running ferry
  /// (<ferry's folder>/stdlib/router/router in a build tree, else <folder>/router).
  std::string router_program;
  std::string cmake = "cmake";
  std::string build_type = "Release";
  int build_jobs = 0;  ///< 0: the number of processors
  /// How often status.json is read while waiting for the router.
  std::chrono::milliseconds poll_interval{100};
  /// How long a router may take to start, and to answer a reload.
  std::chrono::milliseconds router_timeout{30000};
  /// How long a stopped router may take to go before SIGKILL.
  std::chrono::milliseconds stop_grace{10000};
};

/// The router program next to the running ferry (see LocalOptions::router_program).
auto DefaultRouterProgram() -> std::string;

/// The local executor with `options`.
auto MakeLocalExecutor(LocalOptions options = {}) -> std::unique_ptr<Executor>;

}  // namespace ferry::apply

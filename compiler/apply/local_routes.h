// The local executor's pure half: routes.yaml as a function of the recorded
// state, and the router's status.json read back. No I/O here, so both are
// unit-tested without processes (tests/apply/local_routes_test.cc).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/apply/executor.h"
#include "compiler/plan/plan.h"
#include "compiler/plan/state.h"

namespace ferry::apply {

/// Where the routes point; absolute paths.
struct LocalLayout {
  std::string project_dir;  ///< the manifest's folder (relative serve args resolve here)
  std::string secrets_dir;  ///< "<project>/.ferry/secrets" (one folder per endpoint)
  std::string cache_dir;    ///< the bundle cache (bundles/<sha256>/)
};

/// routes.yaml for `state`: every recorded version.<e>.<v> is a `local:`
/// version running its bundle's bin/serve from the cache, with its weight
/// from the recorded traffic.<e> only (0 without one), and the endpoint's
/// path and auth from traffic.<e> and secret.<e>. Deterministic bytes.
auto RenderLocalRoutes(const plan::State& state, const LocalLayout& layout) -> std::string;

/// The revision a version's replicas run: its bundle's sha256 and, after a
/// '-', 12 hex digits of the sha256 of its serve arguments. A new bundle or
/// new arguments (a timeout, batching) make a new revision, which the router
/// rolls out beside the old one; the bundle part is what `status` shows.
auto VersionRevision(const plan::Attributes& attributes) -> std::string;

/// `state` with `action` recorded as succeeding: its desired entry (with
/// `live`) put, or, for a delete, its entry removed.
auto StateAfter(const plan::State& state, const plan::Action& action,
                const std::map<std::string, std::string, std::less<>>& live) -> plan::State;


/// The router's status.json (docs/router.md, "Status file").
struct ReplicaInfo {
  std::int64_t slot = 0;
  std::int64_t pid = 0;
  std::int64_t port = 0;
  bool ready = false;
  std::string log;
};
struct VersionInfo {
  std::string name;
  double weight = 0;
  bool is_default = false;
  std::string role;
  std::string revision;
  std::string previous_revision;
  std::int64_t desired = 0;
  std::int64_t ready = 0;
  std::vector<ReplicaInfo> replicas;
};
struct EndpointInfo {
  std::string name;
  std::string path;
  std::vector<VersionInfo> versions;
  auto Find(std::string_view version) const -> const VersionInfo*;
};
struct RouterStatus {
  std::int64_t pid = 0;
  std::int64_t port = 0;
  std::string routes_sha256;
  std::string reload_error;
  std::int64_t reloads = 0;
  std::vector<EndpointInfo> endpoints;
  auto Find(std::string_view endpoint) const -> const EndpointInfo*;
};

/// Parses status.json; nullopt with `error` set when it is not one.
auto ParseRouterStatus(std::string_view text, std::string& error) -> std::optional<RouterStatus>;

/// The canonical JSON attribute `field` of `attributes` as a string, number
/// or bool (nullopt when absent or of another type).
auto StringAttribute(const plan::Attributes& attributes, std::string_view field)
    -> std::optional<std::string>;
auto NumberAttribute(const plan::Attributes& attributes, std::string_view field)
    -> std::optional<double>;
auto BoolAttribute(const plan::Attributes& attributes, std::string_view field)
    -> std::optional<bool>;

/// "version.faq.live" -> {"faq", "live"}; "traffic.faq" -> {"faq", ""}.
auto SplitAddress(std::string_view address) -> std::pair<std::string, std::string>;

}  // namespace ferry::apply

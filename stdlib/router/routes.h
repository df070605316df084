// routes.yaml: the router's configuration, written by `ferry render` (a
// ConfigMap for Kubernetes) or by the local executor. The format is described
// in docs/router.md. Loading never throws: errors are values naming the file,
// line, column and field, all of them collected in one pass.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::router {

/// The only routes.yaml format this router reads.
inline constexpr std::int64_t kRoutesFormat = 1;

/// Per-version autoscaling limits, as the compiler resolved them.
struct VersionAutoscale {
  bool enabled = false;
  std::int64_t min_replicas = 1;
  std::int64_t max_replicas = 1;
  double target_utilization = 70;  ///< percent
  std::int64_t max_concurrent_requests_per_replica = 1;
};

/// A version run as local processes (the local executor): `command` is the
/// argv of a bundle's bin/serve; the router appends `--port <free port>`.
struct LocalCommand {
  std::vector<std::string> command;
  std::string working_directory;  ///< empty: the router's own
  /// What runs (a bundle's identity): a changed revision under the same version
  /// name is rolled out (docs/router.md). Default: sha256 of the command and
  /// working directory (DefaultRevision).
  std::string revision;
};

/// The revision a `local:` section without one gets: sha256 of the command's
/// arguments and the working directory, each followed by a NUL byte.
auto DefaultRevision(const LocalCommand& local) -> std::string;

struct VersionRoute;
/// A version's revision: its local revision, or for a Kubernetes version the
/// sha256 of its deployment and service.
auto RevisionOf(const VersionRoute& version) -> std::string;

/// One version of an endpoint and where its replicas are.
struct VersionRoute {
  std::string name;
  double weight = 0;  ///< the compiler's resolved traffic, percent; never recomputed
  bool is_default = false;
  std::string role;  ///< "control" or "treatment"
  VersionAutoscale autoscale;
  std::optional<std::int64_t> timeout_ms;  ///< upstream request timeout; unset: the router's
  std::string deployment;                  ///< Kubernetes Deployment (when not local)
  std::string service;                     ///< "host:port" of the version's Service
  std::optional<LocalCommand> local;       ///< set instead of deployment/service
};

/// How the router authenticates an endpoint's callers.
struct AuthRoute {
  std::string mode = "none";  ///< "none", "key" or "token"
  std::string secret;         ///< the Kubernetes Secret's name (informational)
  std::string directory;      ///< where the keys or the signing key are mounted
};

/// One endpoint: a scoring path and its versions.
struct EndpointRoute {
  std::string name;
  std::string path;  ///< "/api/v1/service/<name>/score"
  AuthRoute auth;
  std::vector<VersionRoute> versions;
};

/// TLS termination: tls.crt and tls.key in `directory` (a Kubernetes TLS Secret).
struct TlsRoute {
  std::string directory;
  bool redirect_http = false;  ///< plain HTTP scoring requests get 308 to https://
  std::string secret;
};

/// The router-wide autoscaler switch and its reaction times.
struct AutoscalerRoute {
  bool enabled = false;
  double scale_up_seconds = 1;
  double scale_down_seconds = 60;
};

/// A whole routes.yaml.
struct Routes {
  std::int64_t format = kRoutesFormat;
  std::string cluster;
  std::string ns;  ///< `namespace`
  int listen_http = 0;
  std::optional<int> listen_https;
  std::optional<TlsRoute> tls;
  AutoscalerRoute autoscaler;
  std::vector<EndpointRoute> endpoints;
};

/// One problem in a routes file.
struct RoutesError {
  std::string file;
  int line = 0;       ///< 1-based; 0 when the file could not be read
  int column = 0;     ///< 1-based
  std::string field;  ///< data path, e.g. "endpoints[0].versions[1].weight"
  std::string message;
  /// "FILE:LINE:COL: FIELD: MESSAGE" (the location parts only when known).
  auto ToString() const -> std::string;
};

/// The routes, or every error found (routes are unset when there is any).
struct RoutesResult {
  std::optional<Routes> routes;
  std::vector<RoutesError> errors;
};

/// Parses routes.yaml text; `file` names it in errors.
auto ParseRoutes(std::string_view text, std::string_view file) -> RoutesResult;
/// Reads and parses a routes.yaml file.
auto LoadRoutes(const std::string& path) -> RoutesResult;

}  // namespace ferry::router

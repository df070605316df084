#include "router/routes.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/weights.h"

namespace ferry::router {
namespace {

constexpr std::string_view kTwoVersions = R"(format: 1
cluster: shared
namespace: churn-rollout
listen:
  http: 8080
  https: 8443
tls:
  directory: /etc/ferry/tls
  redirect_http: true
  secret: churn-tls
autoscaler:
  enabled: true
  scale_down_seconds: 60
  scale_up_seconds: 1
endpoints:
- name: churn
  path: /api/v1/service/churn/score
  auth:
    mode: key
    secret: churn-keys
    directory: /etc/ferry/secrets/churn-keys
  versions:
  - name: a
    weight: 20.0
    default: false
    role: treatment
    deployment: churn-a
    service: churn-a.churn-rollout.svc.cluster.local:5001
    timeout_ms: 2500
    autoscale:
      enabled: true
      max_concurrent_requests_per_replica: 2
      max_replicas: 4
      min_replicas: 1
      target_utilization: 70
  - name: b
    weight: 80.0
    default: true
    role: control
    local:
      command: [bin/serve, --auth, none]
      working_directory: /srv/bundles/b
)";

// The errors, one a line (a string, so doctest prints it when a check fails).
auto Messages(const RoutesResult& result) -> std::string {
  std::string messages;
  for (const RoutesError& error : result.errors) messages += error.ToString() + "\n";
  return messages;
}

// The errors of `text` after replacing `from` by `to` in kTwoVersions.
auto ErrorsWith(std::string_view from, std::string_view to) -> std::string {
  std::string text(kTwoVersions);
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  const RoutesResult result = ParseRoutes(text, "routes.yaml");
  CHECK(!result.routes.has_value());
  return Messages(result);
}

TEST_CASE("routes: a complete file with a Kubernetes and a local version") {
  const RoutesResult result = ParseRoutes(kTwoVersions, "routes.yaml");
  REQUIRE(Messages(result) == "");
  REQUIRE(result.routes.has_value());
  const Routes& routes = *result.routes;
  CHECK(routes.cluster == "shared");
  CHECK(routes.ns == "churn-rollout");
  CHECK(routes.listen_http == 8080);
  CHECK(routes.listen_https == 8443);
  REQUIRE(routes.tls.has_value());
  CHECK(routes.tls->directory == "/etc/ferry/tls");
  CHECK(routes.tls->redirect_http);
  CHECK(routes.autoscaler.enabled);
  CHECK(routes.autoscaler.scale_down_seconds == 60);
  REQUIRE(routes.endpoints.size() == 1);
  const EndpointRoute& endpoint = routes.endpoints[0];
  CHECK(endpoint.name == "churn");
  CHECK(endpoint.auth.mode == "key");
  CHECK(endpoint.auth.directory == "/etc/ferry/secrets/churn-keys");
  REQUIRE(endpoint.versions.size() == 2);
  const VersionRoute& a = endpoint.versions[0];
  CHECK(a.weight == 20.0);
  CHECK(!a.is_default);
  CHECK(a.service == "churn-a.churn-rollout.svc.cluster.local:5001");
  CHECK(a.timeout_ms == 2500);
  CHECK(a.autoscale.max_concurrent_requests_per_replica == 2);
  CHECK(a.autoscale.max_replicas == 4);
  CHECK(!a.local.has_value());
  const VersionRoute& b = endpoint.versions[1];
  CHECK(b.is_default);
  CHECK(b.role == "control");
  REQUIRE(b.local.has_value());
  CHECK(b.local->command == std::vector<std::string>{"bin/serve", "--auth", "none"});
  CHECK(b.local->working_directory == "/srv/bundles/b");
  CHECK(!b.autoscale.enabled);
}

TEST_CASE("routes: every rendered sample's routes.yaml loads") {
  int loaded = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(FERRY_SOURCE_DIR "/golden")) {
    if (entry.path().filename() != "configmap-ferry-router.yaml") continue;
    const YAML::Node config_map = YAML::LoadFile(entry.path().string());
    const RoutesResult result =
        ParseRoutes(config_map["data"]["routes.yaml"].as<std::string>(), entry.path().string());
    CAPTURE(entry.path().string());
    CHECK(Messages(result) == "");
    ++loaded;
  }
  CHECK(loaded >= 5);
}

TEST_CASE("routes: errors name the file, line, column and field") {
  CHECK(ErrorsWith("format: 1", "format: 2") ==
        "routes.yaml:1:9: format: unsupported routes format 2 (this router reads format 1)\n");
  CHECK(ErrorsWith("format: 1\n", "") == "routes.yaml:1:1: format: missing field 'format'\n");
  CHECK(ErrorsWith("    weight: 20.0", "    weight: lots") ==
        "routes.yaml:24:13: endpoints[0].versions[0].weight: expected a number\n"
        "routes.yaml:23:3: endpoints[0].versions: the versions' weights sum to 80, not "
        "100 (or 0)\n");
  CHECK(ErrorsWith("    mode: key", "    mode: password") ==
        "routes.yaml:19:11: endpoints[0].auth.mode: expected none, key or token, got "
        "'password'\n");
  CHECK(ErrorsWith("  http: 8080", "  http: 80800") ==
        "routes.yaml:5:9: listen.http: port out of range 0..65535\n");
  CHECK(ErrorsWith("    role: control\n", "    role: control\n    colour: blue\n") ==
        "routes.yaml:40:5: endpoints[0].versions[1].colour: unknown field 'colour'\n");
  CHECK(ErrorsWith("    service: churn-a.churn-rollout.svc.cluster.local:5001",
                   "    service: churn-a") ==
        "routes.yaml:28:14: endpoints[0].versions[0].service: expected host:port, got "
        "'churn-a'\n");
  CHECK(ErrorsWith("  - name: b", "  - name: a") ==
        "routes.yaml:36:11: endpoints[0].versions[1].name: duplicate version 'a'\n");
  CHECK(ErrorsWith("      command: [bin/serve, --auth, none]", "      command: []") ==
        "routes.yaml:41:16: endpoints[0].versions[1].local.command: expected a non-empty "
        "list of arguments\n");
  CHECK(ErrorsWith("  path: /api/v1/service/churn/score", "  path: churn") ==
        "routes.yaml:17:9: endpoints[0].path: expected an absolute path ending in /score, "
        "got 'churn'\n");
}

TEST_CASE("routes: a version needs exactly one of service and local") {
  CHECK(ErrorsWith("    local:\n      command: [bin/serve, --auth, none]\n"
                   "      working_directory: /srv/bundles/b\n",
                   "") ==
        "routes.yaml:36:5: endpoints[0].versions[1]: a version needs 'service' (host:port) "
        "or 'local' (a command)\n");
  CHECK(ErrorsWith("    role: control\n", "    role: control\n    service: b:1\n") ==
        "routes.yaml:36:5: endpoints[0].versions[1]: a version has either 'service' or "
        "'local', not both\n");
}

TEST_CASE("routes: several errors are reported at once") {
  const RoutesResult result = ParseRoutes(
      "format: 1\nlisten: {http: x}\nendpoints:\n- name: e\n  versions: []\n", "r.yaml");
  CHECK(Messages(result) ==
        "r.yaml:2:16: listen.http: expected a port number\n"
        "r.yaml:4:3: endpoints[0].path: missing field 'path'\n"
        "r.yaml:5:13: endpoints[0].versions: expected a non-empty list of versions\n");
}

TEST_CASE("routes: invalid YAML and unreadable files") {
  const RoutesResult bad = ParseRoutes("format: [1\n", "r.yaml");
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].ToString().starts_with("r.yaml:2:1: invalid YAML: "));
  CHECK(Messages(ParseRoutes("- 1\n", "r.yaml")) == "r.yaml:1:1: expected a mapping\n");
  CHECK(Messages(LoadRoutes("/nonexistent/routes.yaml")) ==
        "/nonexistent/routes.yaml: cannot read the routes file\n");
}

TEST_CASE("routes: a local version's revision is given, or the command's sha256") {
  const std::string text =
      "format: 1\nlisten: {http: 0}\nendpoints:\n- name: e\n  path: /e/score\n  versions:\n"
      "  - name: a\n    weight: 50\n    local: {command: [bin/serve, -x], revision: r7}\n"
      "  - name: b\n    weight: 50\n    local: {command: [bin/serve, -x]}\n"
      "  - name: c\n    weight: 0\n    local: {command: [bin/serve, -x], working_directory: /w}\n"
      "  - name: k\n    weight: 0\n    service: k.ns.svc.cluster.local:5001\n";
  const RoutesResult result = ParseRoutes(text, "routes.yaml");
  REQUIRE_MESSAGE(result.routes.has_value(), Messages(result));
  const auto& versions = result.routes->endpoints[0].versions;
  CHECK(versions[0].local->revision == "r7");
  CHECK(RevisionOf(versions[0]) == "r7");
  // sha256 of "bin/serve\0-x\0\0" (arguments, then the working directory, NUL-terminated).
  CHECK(versions[1].local->revision == ferry_rt::Sha256Hex(std::string("bin/serve\0-x\0\0", 14)));
  CHECK(versions[1].local->revision.size() == 64);
  CHECK(versions[2].local->revision != versions[1].local->revision);
  CHECK(RevisionOf(versions[3]).size() == 64);
}

TEST_CASE("routes: weights sum to 100 or to 0; an empty endpoint list is allowed") {
  const std::string zero =
      "format: 1\nlisten: {http: 0}\nendpoints:\n- name: e\n  path: /e/score\n  versions:\n"
      "  - name: a\n    weight: 0\n    local: {command: [s]}\n"
      "  - name: b\n    weight: 0\n    local: {command: [s]}\n";
  CHECK(Messages(ParseRoutes(zero, "r.yaml")) == "");
  CHECK(Messages(ParseRoutes(zero + "  - name: c\n    weight: 0.5\n    local: {command: [s]}\n",
                             "r.yaml")) ==
        "r.yaml:7:3: endpoints[0].versions: the versions' weights sum to 0.5, not 100 (or 0)\n");
  const RoutesResult empty = ParseRoutes("format: 1\nlisten: {http: 0}\nendpoints: []\n", "r.yaml");
  REQUIRE_MESSAGE(empty.routes.has_value(), Messages(empty));
  CHECK(empty.routes->endpoints.empty());
}

}  // namespace
}  // namespace ferry::router

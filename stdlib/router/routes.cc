#include "router/routes.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "runtime/weights.h"

namespace ferry::router {
namespace {

// Reads one routes document, collecting every error with its position and
// data path instead of stopping at the first.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  auto errors() -> std::vector<RoutesError>& { return errors_; }

  void Error(const YAML::Mark& mark, const std::string& field, std::string message) {
    errors_.push_back({file_, mark.line + 1, mark.column + 1, field, std::move(message)});
  }

  // A mapping whose keys are all `known`; reports the others.
  auto Mapping(const YAML::Node& node, const std::string& field,
               std::initializer_list<std::string_view> known) -> bool {
    if (!node.IsMap()) {
      Error(node.Mark(), field, "expected a mapping");
      return false;
    }
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      bool found = false;
      for (std::string_view name : known) found = found || name == key;
      if (!found) Error(entry.first.Mark(), Join(field, key), "unknown field '" + key + "'");
    }
    return true;
  }

  // node[key] converted to T; nullopt (with an error when `required`) if
  // absent or of the wrong type.
  template <typename T>
  auto Field(const YAML::Node& parent, const std::string& parent_field, const char* key,
             const char* expected, bool required) -> std::optional<T> {
    const YAML::Node node = parent[key];
    const std::string field = Join(parent_field, key);
    if (!node.IsDefined() || node.IsNull()) {
      if (required) Error(parent.Mark(), field, std::string("missing field '") + key + "'");
      return std::nullopt;
    }
    T value{};
    if (!node.IsScalar() || !YAML::convert<T>::decode(node, value)) {
      Error(node.Mark(), field, std::string("expected ") + expected);
      return std::nullopt;
    }
    return value;
  }

  auto Text(const YAML::Node& parent, const std::string& field, const char* key, bool required)
      -> std::string {
    return Field<std::string>(parent, field, key, "a string", required).value_or("");
  }

  static auto Join(const std::string& parent, std::string_view key) -> std::string {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
  }

 private:
  std::string file_;
  std::vector<RoutesError> errors_;
};

// Type queries throw on an absent node (yaml-cpp's zombie); this does not.
auto IsScalar(const YAML::Node& node) -> bool { return node.IsDefined() && node.IsScalar(); }

auto ReadPort(Reader& reader, const YAML::Node& parent, const std::string& field, const char* key,
              bool required) -> std::optional<int> {
  auto port = reader.Field<std::int64_t>(parent, field, key, "a port number", required);
  if (port && (*port < 0 || *port > 65535)) {
    reader.Error(parent[key].Mark(), Reader::Join(field, key), "port out of range 0..65535");
    return std::nullopt;
  }
  return port ? std::optional<int>(static_cast<int>(*port)) : std::nullopt;
}

auto ReadAutoscale(Reader& reader, const YAML::Node& node, const std::string& field)
    -> VersionAutoscale {
  VersionAutoscale autoscale;
  if (!reader.Mapping(node, field,
                      {"enabled", "min_replicas", "max_replicas", "target_utilization",
                       "max_concurrent_requests_per_replica"})) {
    return autoscale;
  }
  autoscale.enabled = reader.Field<bool>(node, field, "enabled", "true or false", false)
                          .value_or(autoscale.enabled);
  auto count = [&](const char* key, std::int64_t fallback) {
    auto value = reader.Field<std::int64_t>(node, field, key, "an integer", false);
    if (value && *value < 1) {
      reader.Error(node[key].Mark(), Reader::Join(field, key), "must be at least 1");
      return fallback;
    }
    return value.value_or(fallback);
  };
  autoscale.min_replicas = count("min_replicas", autoscale.min_replicas);
  autoscale.max_replicas = count("max_replicas", autoscale.min_replicas);
  autoscale.max_concurrent_requests_per_replica = count("max_concurrent_requests_per_replica", 1);
  if (autoscale.max_replicas < autoscale.min_replicas) {
    reader.Error(node.Mark(), Reader::Join(field, "max_replicas"),
                 "max_replicas is below min_replicas");
  }
  auto target = reader.Field<double>(node, field, "target_utilization", "a number", false);
  if (target && (*target <= 0 || *target > 100)) {
    reader.Error(node["target_utilization"].Mark(), Reader::Join(field, "target_utilization"),
                 "must be a percentage in (0, 100]");
  } else if (target) {
    autoscale.target_utilization = *target;
  }
  return autoscale;
}

auto ReadLocal(Reader& reader, const YAML::Node& node, const std::string& field)
    -> std::optional<LocalCommand> {
  if (!reader.Mapping(node, field, {"command", "working_directory", "revision"})) {
    return std::nullopt;
  }
  LocalCommand local;
  const YAML::Node command = node["command"];
  const std::string command_field = Reader::Join(field, "command");
  if (!command.IsDefined()) {
    reader.Error(node.Mark(), command_field, "missing field 'command'");
  } else if (!command.IsSequence() || command.size() == 0) {
    reader.Error(command.Mark(), command_field, "expected a non-empty list of arguments");
  } else {
    for (const YAML::Node& argument : command) {
      if (!argument.IsScalar()) {
        reader.Error(argument.Mark(), command_field, "expected a string argument");
        continue;
      }
      local.command.push_back(argument.Scalar());
    }
  }
  local.working_directory = reader.Text(node, field, "working_directory", false);
  local.revision = reader.Text(node, field, "revision", false);
  if (local.revision.empty()) local.revision = DefaultRevision(local);
  return local;
}

// "host:port" with a port number.
auto IsHostPort(const std::string& service) -> bool {
  const std::size_t colon = service.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == service.size()) return false;
  for (std::size_t i = colon + 1; i < service.size(); ++i) {
    if (service[i] < '0' || service[i] > '9') return false;
  }
  return service.size() - colon - 1 <= 5 && std::stoi(service.substr(colon + 1)) <= 65535;
}

auto ReadVersion(Reader& reader, const YAML::Node& node, const std::string& field) -> VersionRoute {
  VersionRoute version;
  if (!reader.Mapping(node, field,
                      {"name", "weight", "default", "role", "autoscale", "deployment", "service",
                       "local", "timeout_ms"})) {
    return version;
  }
  version.name = reader.Text(node, field, "name", true);
  auto weight = reader.Field<double>(node, field, "weight", "a number", true);
  if (weight && !(*weight >= 0 && *weight <= 100)) {
    reader.Error(node["weight"].Mark(), Reader::Join(field, "weight"),
                 "must be a percentage in [0, 100]");
  } else if (weight) {
    version.weight = *weight;
  }
  version.is_default =
      reader.Field<bool>(node, field, "default", "true or false", false).value_or(false);
  version.role = reader.Text(node, field, "role", false);
  if (node["autoscale"].IsDefined()) {
    version.autoscale = ReadAutoscale(reader, node["autoscale"], Reader::Join(field, "autoscale"));
  }
  auto timeout = reader.Field<std::int64_t>(node, field, "timeout_ms", "an integer", false);
  if (timeout && *timeout < 1) {
    reader.Error(node["timeout_ms"].Mark(), Reader::Join(field, "timeout_ms"),
                 "must be at least 1");
  } else if (timeout) {
    version.timeout_ms = *timeout;
  }
  version.deployment = reader.Text(node, field, "deployment", false);
  version.service = reader.Text(node, field, "service", false);
  if (node["local"].IsDefined()) {
    version.local = ReadLocal(reader, node["local"], Reader::Join(field, "local"));
  }
  const bool has_service = node["service"].IsDefined();
  if (has_service == node["local"].IsDefined()) {
    reader.Error(node.Mark(), field,
                 has_service ? "a version has either 'service' or 'local', not both"
                             : "a version needs 'service' (host:port) or 'local' (a command)");
  } else if (has_service && !version.service.empty() && !IsHostPort(version.service)) {
    reader.Error(node["service"].Mark(), Reader::Join(field, "service"),
                 "expected host:port, got '" + version.service + "'");
  }
  return version;
}

auto ReadAuth(Reader& reader, const YAML::Node& node, const std::string& field) -> AuthRoute {
  AuthRoute auth;
  if (!reader.Mapping(node, field, {"mode", "secret", "directory"})) return auth;
  auth.mode = reader.Text(node, field, "mode", true);
  if (auth.mode != "none" && auth.mode != "key" && auth.mode != "token" && IsScalar(node["mode"])) {
    reader.Error(node["mode"].Mark(), Reader::Join(field, "mode"),
                 "expected none, key or token, got '" + auth.mode + "'");
  }
  auth.secret = reader.Text(node, field, "secret", false);
  auth.directory =
      reader.Text(node, field, "directory", auth.mode == "key" || auth.mode == "token");
  return auth;
}

auto ReadEndpoint(Reader& reader, const YAML::Node& node, const std::string& field)
    -> EndpointRoute {
  EndpointRoute endpoint;
  if (!reader.Mapping(node, field, {"name", "path", "auth", "versions"})) return endpoint;
  endpoint.name = reader.Text(node, field, "name", true);
  endpoint.path = reader.Text(node, field, "path", true);
  constexpr std::string_view kScore = "/score";
  if (IsScalar(node["path"]) &&
      (!endpoint.path.starts_with('/') || !endpoint.path.ends_with(kScore))) {
    reader.Error(node["path"].Mark(), Reader::Join(field, "path"),
                 "expected an absolute path ending in /score, got '" + endpoint.path + "'");
  }
  if (node["auth"].IsDefined()) {
    endpoint.auth = ReadAuth(reader, node["auth"], Reader::Join(field, "auth"));
  }
  const YAML::Node versions = node["versions"];
  const std::string versions_field = Reader::Join(field, "versions");
  if (!versions.IsDefined()) {
    reader.Error(node.Mark(), versions_field, "missing field 'versions'");
    return endpoint;
  }
  if (!versions.IsSequence() || versions.size() == 0) {
    reader.Error(versions.Mark(), versions_field, "expected a non-empty list of versions");
    return endpoint;
  }
  std::set<std::string> names;
  double total = 0;
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const std::string version_field = versions_field + "[" + std::to_string(i) + "]";
    VersionRoute version = ReadVersion(reader, versions[i], version_field);
    if (!version.name.empty() && !names.insert(version.name).second) {
      reader.Error(versions[i]["name"].Mark(), version_field + ".name",
                   "duplicate version '" + version.name + "'");
    }
    total += version.weight;
    endpoint.versions.push_back(std::move(version));
  }
  // The compiler resolves every endpoint's split to 100 %; anything else is
  // a hand edit gone wrong, and the router must not guess the remainder. 0 is
  // the local executor's "not serving yet" (versions started, readiness unchecked).
  if (std::abs(total - 100) > 0.01 && std::abs(total) > 0.01) {
    std::ostringstream sum;
    sum << total;
    reader.Error(versions.Mark(), versions_field,
                 "the versions' weights sum to " + sum.str() + ", not 100 (or 0)");
  }
  return endpoint;
}

void ReadTop(Reader& reader, const YAML::Node& root, Routes& routes) {
  if (!reader.Mapping(
          root, "",
          {"format", "cluster", "namespace", "listen", "tls", "autoscaler", "endpoints"})) {
    return;
  }
  routes.cluster = reader.Text(root, "", "cluster", false);
  routes.ns = reader.Text(root, "", "namespace", false);
  const YAML::Node listen = root["listen"];
  if (!listen.IsDefined()) {
    reader.Error(root.Mark(), "listen", "missing field 'listen'");
  } else if (reader.Mapping(listen, "listen", {"http", "https"})) {
    routes.listen_http = ReadPort(reader, listen, "listen", "http", true).value_or(0);
    routes.listen_https = ReadPort(reader, listen, "listen", "https", false);
  }
  if (const YAML::Node tls = root["tls"]; tls.IsDefined()) {
    if (reader.Mapping(tls, "tls", {"directory", "redirect_http", "secret"})) {
      TlsRoute route;
      route.directory = reader.Text(tls, "tls", "directory", true);
      route.redirect_http =
          reader.Field<bool>(tls, "tls", "redirect_http", "true or false", false).value_or(false);
      route.secret = reader.Text(tls, "tls", "secret", false);
      routes.tls = std::move(route);
    }
  }
  if (const YAML::Node autoscaler = root["autoscaler"]; autoscaler.IsDefined()) {
    if (reader.Mapping(autoscaler, "autoscaler",
                       {"enabled", "scale_up_seconds", "scale_down_seconds"})) {
      AutoscalerRoute& route = routes.autoscaler;
      route.enabled =
          reader.Field<bool>(autoscaler, "autoscaler", "enabled", "true or false", false)
              .value_or(false);
      for (auto [key, target] : {std::pair{"scale_up_seconds", &route.scale_up_seconds},
                                 std::pair{"scale_down_seconds", &route.scale_down_seconds}}) {
        auto seconds = reader.Field<double>(autoscaler, "autoscaler", key, "a number", false);
        if (seconds && *seconds <= 0) {
          reader.Error(autoscaler[key].Mark(), std::string("autoscaler.") + key,
                       "must be positive");
        } else if (seconds) {
          *target = *seconds;
        }
      }
    }
  }
  const YAML::Node endpoints = root["endpoints"];
  if (!endpoints.IsDefined()) {
    reader.Error(root.Mark(), "endpoints", "missing field 'endpoints'");
    return;
  }
  if (!endpoints.IsSequence()) {
    reader.Error(endpoints.Mark(), "endpoints", "expected a list of endpoints");
    return;
  }
  std::set<std::string> names;
  std::set<std::string> paths;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const std::string field = "endpoints[" + std::to_string(i) + "]";
    EndpointRoute endpoint = ReadEndpoint(reader, endpoints[i], field);
    if (!endpoint.name.empty() && !names.insert(endpoint.name).second) {
      reader.Error(endpoints[i]["name"].Mark(), field + ".name",
                   "duplicate endpoint '" + endpoint.name + "'");
    }
    if (!endpoint.path.empty() && !paths.insert(endpoint.path).second) {
      reader.Error(endpoints[i]["path"].Mark(), field + ".path",
                   "duplicate path '" + endpoint.path + "'");
    }
    routes.endpoints.push_back(std::move(endpoint));
  }
}

}  // namespace

auto DefaultRevision(const LocalCommand& local) -> std::string {
  std::string identity;
  for (const std::string& argument : local.command) identity += argument + '\0';
  identity += local.working_directory + '\0';
  return ferry_rt::Sha256Hex(identity);
}

auto RevisionOf(const VersionRoute& version) -> std::string {
  if (version.local) return version.local->revision;
  return ferry_rt::Sha256Hex("kubernetes\0" + version.deployment + '\0' + version.service + '\0');
}

auto RoutesError::ToString() const -> std::string {
  std::string text = file;
  if (line > 0) text += ":" + std::to_string(line) + ":" + std::to_string(column);
  text += ": ";
  if (!field.empty()) text += field + ": ";
  return text + message;
}

auto ParseRoutes(std::string_view text, std::string_view file) -> RoutesResult {
  Reader reader{std::string(file)};
  RoutesResult result;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    reader.Error(error.mark, "", "invalid YAML: " + error.msg);
    result.errors = std::move(reader.errors());
    return result;
  }
  // The format first: a file of another format is not worth reading further.
  if (root.IsMap()) {
    auto format = reader.Field<std::int64_t>(root, "", "format", "an integer", true);
    if (format && *format != kRoutesFormat) {
      reader.Error(root["format"].Mark(), "format",
                   "unsupported routes format " + std::to_string(*format) +
                       " (this router reads format " + std::to_string(kRoutesFormat) + ")");
    }
    if (!format || *format != kRoutesFormat) {
      result.errors = std::move(reader.errors());
      return result;
    }
  }
  Routes routes;
  ReadTop(reader, root, routes);
  if (reader.errors().empty()) {
    result.routes = std::move(routes);
  } else {
    result.errors = std::move(reader.errors());
  }
  return result;
}

auto LoadRoutes(const std::string& path) -> RoutesResult {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    RoutesResult result;
    result.errors.push_back({path, 0, 0, "", "cannot read the routes file"});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseRoutes(text.str(), path);
}

}  // namespace ferry::router

#include "compiler/apply/local_routes.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "compiler/apply/bundle_cache.h"
#include "compiler/support/sha256.h"
#include "compiler/support/value.h"

namespace ferry::apply {
namespace {

using nlohmann::json;
using support::List;
using support::Value;

constexpr double kWeightTolerance = 0.01;

auto JsonAttribute(const plan::Attributes& attributes, std::string_view field)
    -> std::optional<json> {
  const auto it = attributes.find(field);
  if (it == attributes.end()) return std::nullopt;
  json value = json::parse(it->second, nullptr, false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

auto IntegerAttribute(const plan::Attributes& attributes, std::string_view field)
    -> std::optional<std::int64_t> {
  const std::optional<double> number = NumberAttribute(attributes, field);
  if (!number) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(*number));
}

// The version's serve arguments; relative paths (the data collection
// folder) are the manifest folder's, while replicas run in the bundle's.
auto ServeArguments(const plan::Attributes& attributes, const LocalLayout& layout) -> List {
  List args;
  for (std::size_t i = 0;; ++i) {
    const std::optional<std::string> arg =
        StringAttribute(attributes, "args[" + std::to_string(i) + "]");
    if (!arg) break;
    const bool relative_path =
        arg->starts_with(".ferry/") ||
        (i > 0 && args.back() == Value("--collect-dir") && !arg->starts_with("/"));
    args.emplace_back(relative_path ? layout.project_dir + "/" + *arg : *arg);
  }
  return args;
}

// Where the version's bundle was built: its recorded bundle entry's path, or
// (no such record) the cache entry of the bundle sha256 the version names.
auto BundleFolder(const plan::State& state, const std::string& endpoint, const std::string& version,
                  const std::string& sha256, const LocalLayout& layout) -> std::string {
  if (const plan::ResourceState* bundle = state.Find("bundle." + endpoint + "." + version)) {
    const auto path = bundle->live.find("path");
    if (path != bundle->live.end() && StringAttribute(bundle->attributes, "sha256") == sha256) {
      return path->second;
    }
  }
  return BundleCachePath(layout.cache_dir, sha256);
}

auto Autoscale(const plan::Attributes& attributes) -> Value {
  Value autoscale = Value(support::Map{});
  if (const auto enabled = BoolAttribute(attributes, "autoscale.enabled")) {
    autoscale["enabled"] = *enabled;
  }
  for (const char* field : {"min_replicas", "max_replicas", "target_utilization",
                            "max_concurrent_requests_per_replica"}) {
    if (const auto number = IntegerAttribute(attributes, std::string("autoscale.") + field)) {
      autoscale[field] = *number;
    }
  }
  return autoscale;
}

auto VersionRoute(const plan::State& state, const plan::ResourceState& version,
                  const plan::ResourceState* traffic, const LocalLayout& layout) -> Value {
  const auto [endpoint_name, version_name] = SplitAddress(version.address);
  const std::string sha256 = StringAttribute(version.attributes, "bundle").value_or("");
  const std::string folder = BundleFolder(state, endpoint_name, version_name, sha256, layout);
  const std::string prefix = "versions." + version_name + ".";
  plan::Attributes none;
  const plan::Attributes& split = traffic != nullptr ? traffic->attributes : none;
  Value route;
  route["name"] = version_name;
  // Traffic only through the recorded split: a version not in it gets none.
  route["weight"] = NumberAttribute(split, prefix + "weight").value_or(0.0);
  route["default"] = BoolAttribute(split, prefix + "default").value_or(false);
  route["role"] = StringAttribute(split, prefix + "role")
                      .value_or(StringAttribute(version.attributes, "role").value_or("control"));
  if (const auto timeout = IntegerAttribute(version.attributes, "timeout_ms")) {
    route["timeout_ms"] = *timeout;
  }
  if (Value autoscale = Autoscale(version.attributes); !autoscale.map().empty()) {
    route["autoscale"] = std::move(autoscale);
  }
  List command{folder + "/bin/serve"};
  for (Value& arg : ServeArguments(version.attributes, layout)) command.push_back(std::move(arg));
  route["local"] = Value::Object({{"command", std::move(command)},
                                  {"working_directory", folder},
                                  {"revision", VersionRevision(version.attributes)}});
  return route;
}

// The router takes weights summing to 100 or 0. A recorded split always sums
// to 100 over its versions; should one of them be missing from the state,
// the others keep their proportions rather than the router refusing the file.
void NormalizeWeights(List& versions) {
  double total = 0;
  for (const Value& version : versions)
    total += std::get<double>(version.map().at("weight").data());
  if (std::abs(total) <= kWeightTolerance || std::abs(total - 100) <= kWeightTolerance) return;
  for (Value& version : versions) {
    const double weight = std::get<double>(version.map().at("weight").data());
    version["weight"] = weight * 100 / total;
  }
}

auto EndpointRoute(const plan::State& state, const std::string& name,
                   const std::vector<const plan::ResourceState*>& versions,
                   const LocalLayout& layout) -> Value {
  const plan::ResourceState* traffic = state.Find("traffic." + name);
  const plan::ResourceState* secret = state.Find("secret." + name);
  Value route;
  route["name"] = name;
  route["path"] = traffic != nullptr ? StringAttribute(traffic->attributes, "path")
                                           .value_or("/api/v1/service/" + name + "/score")
                                     : "/api/v1/service/" + name + "/score";
  // The router checks what the recorded key material allows: the mode of
  // secret.<e>, whose files are on disk. traffic.<e>'s auth.mode follows it
  // (an auth change replaces the secret first, and removes it last).
  std::string mode = "none";
  if (secret != nullptr) mode = StringAttribute(secret->attributes, "mode").value_or("none");
  route["auth"]["mode"] = mode;
  if (mode != "none") route["auth"]["directory"] = layout.secrets_dir + "/" + name;
  List entries;
  for (const plan::ResourceState* version : versions) {
    entries.push_back(VersionRoute(state, *version, traffic, layout));
  }
  NormalizeWeights(entries);
  route["versions"] = std::move(entries);
  return route;
}

}  // namespace

auto StringAttribute(const plan::Attributes& attributes, std::string_view field)
    -> std::optional<std::string> {
  std::optional<json> value = JsonAttribute(attributes, field);
  if (!value || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

auto NumberAttribute(const plan::Attributes& attributes, std::string_view field)
    -> std::optional<double> {
  std::optional<json> value = JsonAttribute(attributes, field);
  if (!value || !value->is_number()) return std::nullopt;
  return value->get<double>();
}

auto BoolAttribute(const plan::Attributes& attributes, std::string_view field)
    -> std::optional<bool> {
  std::optional<json> value = JsonAttribute(attributes, field);
  if (!value || !value->is_boolean()) return std::nullopt;
  return value->get<bool>();
}

auto SplitAddress(std::string_view address) -> std::pair<std::string, std::string> {
  const std::size_t first = address.find('.');
  if (first == std::string_view::npos) return {"", ""};
  const std::string_view rest = address.substr(first + 1);
  const std::size_t second = rest.find('.');
  if (second == std::string_view::npos) return {std::string(rest), ""};
  return {std::string(rest.substr(0, second)), std::string(rest.substr(second + 1))};
}

auto VersionRevision(const plan::Attributes& attributes) -> std::string {
  std::string arguments;
  for (const auto& [field, value] : attributes) {
    if (!field.starts_with("args[")) continue;
    arguments += field;
    arguments += '=';
    arguments += value;
    arguments += '\n';
  }
  const std::string bundle = StringAttribute(attributes, "bundle").value_or("");
  return bundle + "-" + support::Sha256Hex(arguments).substr(0, 12);
}

auto RenderLocalRoutes(const plan::State& state, const LocalLayout& layout) -> std::string {
  Value routes;
  routes["format"] = 1;
  // The port is --port's; the file's value never changes, so reloads never warn.
  routes["listen"]["http"] = 0;
  const plan::ResourceState* router = state.Find("router");
  const plan::Attributes none;
  const plan::Attributes& settings = router != nullptr ? router->attributes : none;
  routes["autoscaler"] = Value::Object(
      {{"enabled", BoolAttribute(settings, "autoscaler.enabled").value_or(false)},
       {"scale_up_seconds", IntegerAttribute(settings, "autoscaler.scale_up_seconds").value_or(1)},
       {"scale_down_seconds",
        IntegerAttribute(settings, "autoscaler.scale_down_seconds").value_or(60)}});
  // Endpoints by name, versions by name: the state is sorted by address.
  std::map<std::string, std::vector<const plan::ResourceState*>> versions;
  for (const plan::ResourceState& resource : state.resources) {
    if (resource.type != "version") continue;
    versions[SplitAddress(resource.address).first].push_back(&resource);
  }
  List endpoints;
  for (const auto& [name, entries] : versions) {
    endpoints.push_back(EndpointRoute(state, name, entries, layout));
  }
  routes["endpoints"] = std::move(endpoints);
  return "# Written by ferry apply from .ferry/state.json; edits are overwritten.\n" +
         support::ToYaml(routes);
}

auto StateAfter(const plan::State& state, const plan::Action& action,
                const std::map<std::string, std::string, std::less<>>& live) -> plan::State {
  plan::State after = state;
  if (action.kind == plan::ActionKind::Delete) {
    after.Remove(action.address);
  } else {
    after.Put(RecordOf(action, live));
  }
  return after;
}

auto EndpointInfo::Find(std::string_view version) const -> const VersionInfo* {
  for (const VersionInfo& info : versions) {
    if (info.name == version) return &info;
  }
  return nullptr;
}

auto RouterStatus::Find(std::string_view endpoint) const -> const EndpointInfo* {
  for (const EndpointInfo& info : endpoints) {
    if (info.name == endpoint) return &info;
  }
  return nullptr;
}

auto ParseRouterStatus(std::string_view text, std::string& error) -> std::optional<RouterStatus> {
  const json document = json::parse(text, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    error = "the router's status file is not JSON";
    return std::nullopt;
  }
  try {
    RouterStatus status;
    status.pid = document.value("pid", std::int64_t{0});
    status.port = document.value("port", std::int64_t{0});
    status.routes_sha256 = document.value("routes_sha256", "");
    status.reload_error = document.value("reload_error", "");
    status.reloads = document.value("reloads", std::int64_t{0});
    for (const json& endpoint : document.value("endpoints", json::array())) {
      EndpointInfo& info = status.endpoints.emplace_back();
      info.name = endpoint.value("name", "");
      info.path = endpoint.value("path", "");
      for (const json& version : endpoint.value("versions", json::array())) {
        VersionInfo& entry = info.versions.emplace_back();
        entry.name = version.value("name", "");
        entry.weight = version.value("weight", 0.0);
        entry.is_default = version.value("default", false);
        entry.role = version.value("role", "");
        entry.revision = version.value("revision", "");
        entry.previous_revision = version.value("previous_revision", "");
        entry.desired = version.value("desired", std::int64_t{0});
        entry.ready = version.value("ready", std::int64_t{0});
        for (const json& replica : version.value("replicas", json::array())) {
          ReplicaInfo& slot = entry.replicas.emplace_back();
          slot.slot = replica.value("slot", std::int64_t{0});
          slot.pid = replica.value("pid", std::int64_t{0});
          slot.port = replica.value("port", std::int64_t{0});
          slot.ready = replica.value("ready", false);
          slot.log = replica.value("log", "");
        }
      }
    }
    return status;
  } catch (const json::exception& exception) {
    error = std::string("the router's status file is not as expected: ") + exception.what();
    return std::nullopt;
  }
}

}  // namespace ferry::apply

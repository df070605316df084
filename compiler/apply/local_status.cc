#include "compiler/apply/local_status.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "compiler/apply/bundle_cache.h"
#include "compiler/apply/secrets.h"
#include "compiler/support/value.h"

namespace ferry::apply {
namespace {

namespace fs = std::filesystem;

constexpr double kWeightTolerance = 0.01;

struct ReplicaLog {
  std::string name;  // "faq-live-0"
  std::string path;
};

// .ferry/logs/<endpoint>-<version>-<slot>.log, by slot.
auto LogFiles(const LocalFiles& files, const std::string& endpoint, const std::string& version)
    -> std::vector<ReplicaLog> {
  const std::string prefix = endpoint + "-" + version + "-";
  std::vector<std::pair<long, ReplicaLog>> found;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(files.logs_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(".log")) continue;
    const std::string slot = name.substr(prefix.size(), name.size() - prefix.size() - 4);
    if (slot.empty() || !std::all_of(slot.begin(), slot.end(), ::isdigit)) continue;
    found.push_back({std::stol(slot), {prefix + slot, entry.path().string()}});
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ReplicaLog> logs;
  logs.reserve(found.size());
  for (auto& [slot, log] : found) logs.push_back(std::move(log));
  return logs;
}

auto Prefixed(const ReplicaLog& log, std::size_t lines) -> std::string {
  std::istringstream tail(TailOfFile(log.path, lines));
  std::string text;
  for (std::string line; std::getline(tail, line);) text += log.name + " | " + line + "\n";
  return text;
}

auto RecordedVersions(const plan::State& state, std::string_view endpoint)
    -> std::vector<std::string> {
  std::vector<std::string> names;
  for (const plan::ResourceState& resource : state.resources) {
    if (resource.type != "version") continue;
    auto [name, version] = SplitAddress(resource.address);
    if (name == endpoint) names.push_back(std::move(version));
  }
  return names;
}

auto CanonicalDouble(double value) -> std::string {
  return support::ToCanonicalJson(support::Value(value));
}

// What the router's status says about one recorded resource.
void ObserveRunning(const plan::ResourceState& resource, const RouterStatus& status,
                    Observed& observed) {
  const auto [endpoint, version] = SplitAddress(resource.address);
  const EndpointInfo* served = status.Find(endpoint);
  if (resource.type == "version") {
    const VersionInfo* entry = served != nullptr ? served->Find(version) : nullptr;
    if (entry == nullptr) {
      observed.exists = false;
      observed.note = "the router does not run version " + endpoint + "/" + version;
      return;
    }
    if (entry->revision != VersionRevision(resource.attributes)) {
      // What runs is not what was recorded: shown as the revision it runs.
      observed.attributes["running_revision"] =
          support::ToCanonicalJson(support::Value(entry->revision));
      observed.note = "the router runs another revision of " + endpoint + "/" + version;
    }
    if (entry->ready == 0) {
      observed.attributes["ready"] = "false";
      observed.note = "no replica of " + endpoint + "/" + version + " is ready";
    }
    return;
  }
  if (resource.type == "traffic") {
    if (served == nullptr) {
      observed.exists = false;
      observed.note = "the router does not serve endpoint " + endpoint;
      return;
    }
    for (const VersionInfo& entry : served->versions) {
      const std::string field = "versions." + entry.name + ".weight";
      const std::optional<double> recorded = NumberAttribute(resource.attributes, field);
      if (recorded && std::abs(*recorded - entry.weight) > kWeightTolerance) {
        observed.attributes[field] = CanonicalDouble(entry.weight);
        observed.note = "the router splits " + endpoint + "'s traffic otherwise";
      }
    }
  }
}

}  // namespace

auto ObserveLocal(const plan::State& state, const LocalRouter& router) -> std::vector<Observed> {
  const LocalFiles& files = router.files();
  const std::optional<pid_t> pid = router.Running();
  std::string ignored;
  std::optional<RouterStatus> status = pid ? router.ReadStatus(ignored) : std::nullopt;
  if (status && status->pid != *pid) status.reset();
  std::string down = "router not running";
  if (const plan::ResourceState* recorded = state.Find("router")) {
    if (const auto it = recorded->live.find("pid"); it != recorded->live.end()) {
      down = "router process " + it->second + " is not running";
    }
  }
  if (pid && !status) down = "router (pid " + std::to_string(*pid) + ") has no status file";
  std::vector<Observed> all;
  for (const plan::ResourceState& resource : state.resources) {
    Observed observed;
    observed.address = resource.address;
    observed.attributes = resource.attributes;
    const auto [endpoint, version] = SplitAddress(resource.address);
    if (resource.type == "bundle") {
      const auto path = resource.live.find("path");
      const std::string folder =
          path != resource.live.end()
              ? path->second
              : BundleCachePath(files.cache_dir,
                                StringAttribute(resource.attributes, "sha256").value_or(""));
      if (!BundleCached(folder)) {
        observed.exists = false;
        observed.note = "the bundle cache entry " + folder + " is gone";
      }
    } else if (resource.type == "secret") {
      const std::string mode = StringAttribute(resource.attributes, "mode").value_or("");
      std::string error;
      if (!ReadSecretFolder(files.secrets_dir + "/" + endpoint, mode, error)) {
        observed.exists = false;
        observed.note = error;
      }
    } else if (resource.type == "router" || resource.type == "version" ||
               resource.type == "traffic") {
      if (!status) {
        observed.exists = false;
        observed.note = down;
      } else {
        ObserveRunning(resource, *status, observed);
      }
    }
    all.push_back(std::move(observed));
  }
  return all;
}

auto LocalEndpointStatus(const plan::State& state, const LocalRouter& router, std::string& error)
    -> std::vector<EndpointStatus> {
  const std::optional<pid_t> pid = router.Running();
  std::string status_error;
  std::optional<RouterStatus> status = pid ? router.ReadStatus(status_error) : std::nullopt;
  if (!pid) error = "the project's router is not running: `ferry apply` starts it";
  std::set<std::string> names;
  for (const plan::ResourceState& resource : state.resources) {
    if (resource.type == "version" || resource.type == "traffic") {
      names.insert(SplitAddress(resource.address).first);
    }
  }
  std::vector<EndpointStatus> endpoints;
  for (const std::string& name : names) {
    const plan::ResourceState* traffic = state.Find("traffic." + name);
    const plan::Attributes none;
    const plan::Attributes& split = traffic != nullptr ? traffic->attributes : none;
    const std::string path =
        StringAttribute(split, "path").value_or("/api/v1/service/" + name + "/score");
    const std::string base = "http://127.0.0.1:" + std::to_string(status ? status->port : 0);
    EndpointStatus endpoint;
    endpoint.name = name;
    endpoint.scoring_uri = base + path;
    const std::string prefix = path.ends_with("/score") ? path.substr(0, path.size() - 6) : path;
    endpoint.swagger_uri = base + prefix + "/swagger.json";
    endpoint.auth = StringAttribute(split, "auth.mode").value_or("none");
    const EndpointInfo* served = status ? status->Find(name) : nullptr;
    for (const std::string& version_name : RecordedVersions(state, name)) {
      const std::string field = "versions." + version_name + ".";
      VersionStatus version;
      version.name = version_name;
      version.weight = NumberAttribute(split, field + "weight").value_or(0);
      version.is_default = BoolAttribute(split, field + "default").value_or(false);
      version.role = StringAttribute(split, field + "role").value_or("");
      const VersionInfo* entry = served != nullptr ? served->Find(version_name) : nullptr;
      if (entry != nullptr) {
        version.weight = entry->weight;
        version.revision = entry->revision.substr(0, 12);
        for (const ReplicaInfo& replica : entry->replicas) {
          version.replicas.push_back(
              {name + "-" + version_name + "-" + std::to_string(replica.slot), replica.ready,
               "pid " + std::to_string(replica.pid) + ", port " + std::to_string(replica.port)});
          endpoint.healthy |= replica.ready && version.weight > 0;
        }
      }
      endpoint.versions.push_back(std::move(version));
    }
    endpoints.push_back(std::move(endpoint));
  }
  return endpoints;
}

auto LocalLogs(const plan::State& state, const LocalFiles& files, std::string_view endpoint,
               std::string_view version, std::size_t lines, std::string& error) -> std::string {
  std::vector<std::string> versions;
  if (!version.empty()) {
    versions.emplace_back(version);
  } else {
    versions = RecordedVersions(state, endpoint);
  }
  std::string text;
  bool any = false;
  for (const std::string& name : versions) {
    for (const ReplicaLog& log : LogFiles(files, std::string(endpoint), name)) {
      text += Prefixed(log, lines);
      any = true;
    }
  }
  if (!any) {
    error = "no replica logs of " + std::string(endpoint) +
            (version.empty() ? "" : "/" + std::string(version)) + " in " + files.logs_dir;
  }
  return text;
}

auto ReplicaLogTails(const std::string& endpoint, const std::string& version,
                     const LocalFiles& files, const std::optional<RouterStatus>& status,
                     std::size_t lines) -> std::string {
  std::vector<ReplicaLog> logs;
  const EndpointInfo* served = status ? status->Find(endpoint) : nullptr;
  if (const VersionInfo* entry = served != nullptr ? served->Find(version) : nullptr) {
    for (const ReplicaInfo& replica : entry->replicas) {
      if (replica.log.empty()) continue;
      logs.push_back({endpoint + "-" + version + "-" + std::to_string(replica.slot), replica.log});
    }
  }
  // A new revision's replicas may not be in the status yet: their files count too.
  for (ReplicaLog& log : LogFiles(files, endpoint, version)) {
    const bool listed = std::any_of(logs.begin(), logs.end(), [&](const ReplicaLog& known) {
      return fs::path(known.path).lexically_normal() == fs::path(log.path).lexically_normal();
    });
    if (!listed) logs.push_back(std::move(log));
  }
  std::string text;
  for (const ReplicaLog& log : logs) text += Prefixed(log, lines);
  return text;
}

}  // namespace ferry::apply

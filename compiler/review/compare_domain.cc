// Declarations compared between two projects: each declaration becomes a
// list of named, printed fields; two lists are diffed field by field. The
// same lists decide renames: a removed and an added endpoint (or version of
// one endpoint) are a rename only when every field matches and neither side
// has another candidate.
#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "compiler/review/compare.h"

namespace ferry::review::detail {
namespace {

struct Field {
  std::string name;
  std::string value;
  /// Shown for an added declaration (its main settings).
  bool summary = false;
};
using Fields = std::vector<Field>;

/// A declaration as compared: its name and fields.
struct Named {
  std::string name;
  Fields fields;
};

auto Bool(bool value) -> std::string { return value ? "true" : "false"; }

auto Join(const std::vector<std::string>& items, std::string_view separator) -> std::string {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

auto MapText(const std::map<std::string, std::string>& values) -> std::string {
  std::vector<std::string> items;
  for (const auto& [key, value] : values) items.push_back(key + "=" + value);
  return Join(items, ", ");
}

auto NetworkName(ir::NetworkPlugin plugin) -> std::string {
  return plugin == ir::NetworkPlugin::AzureCni ? "azure_cni" : "kubenet";
}

auto AuthName(const ir::Auth& auth) -> std::string {
  if (auth.key && auth.token) return "key+token";
  if (auth.key) return "key";
  if (auth.token) return "token";
  return "none";
}

// "scorer@2 (sha256 0e73978622e4)": a version bump shows the model's new digest.
auto ModelRefText(const ir::ModelRef& ref, const ir::Project& project) -> std::string {
  if (ref.model == ir::kNone || ref.version == ir::kNone) return ref.text;
  const ir::ModelVersion& version = project.models[static_cast<std::size_t>(ref.model)]
                                        .versions[static_cast<std::size_t>(ref.version)];
  return ref.text + " (sha256 " + ShortHash(version.sha256) + ")";
}

auto VersionFields(const ir::Version& version, const ir::Project& project) -> Fields {
  std::vector<std::string> models;
  for (const ir::ModelRef& ref : version.models) models.push_back(ModelRefText(ref, project));
  const ir::Autoscale& autoscale = version.autoscale;
  const ir::Hpa& hpa = version.hpa;
  const ir::Probes& probes = version.probes;
  return {
      {"model", Join(models, ", "), true},
      {"environment", version.environment_name.empty() ? "(built-in)" : version.environment_name,
       true},
      {"declared_traffic", Number(version.traffic), true},
      {"role", std::string(ir::ToString(version.role)), true},
      {"default", Bool(version.is_default), true},
      {"description", version.description},
      {"resources.cpu", Number(version.resources.cpu)},
      {"resources.memory_gb", Number(version.resources.memory_gb)},
      {"resources.gpu", std::to_string(version.resources.gpu)},
      {"autoscale.enabled", Bool(autoscale.enabled)},
      {"autoscale.min_replicas", std::to_string(autoscale.min_replicas)},
      {"autoscale.max_replicas", std::to_string(autoscale.max_replicas)},
      {"autoscale.target_utilization", std::to_string(autoscale.target_utilization)},
      {"autoscale.max_concurrent_requests_per_replica",
       std::to_string(autoscale.max_concurrent_requests_per_replica)},
      {"hpa.enabled", Bool(hpa.enabled)},
      {"hpa.min_replicas", std::to_string(hpa.min_replicas)},
      {"hpa.max_replicas", std::to_string(hpa.max_replicas)},
      {"hpa.cpu_utilization", std::to_string(hpa.cpu_utilization)},
      {"replicas", std::to_string(version.replicas)},
      {"probes.period_seconds", std::to_string(probes.period_seconds)},
      {"probes.initial_delay_seconds", std::to_string(probes.initial_delay_seconds)},
      {"probes.timeout_seconds", std::to_string(probes.timeout_seconds)},
      {"probes.failure_threshold", std::to_string(probes.failure_threshold)},
      {"probes.success_threshold", std::to_string(probes.success_threshold)},
  };
}

auto EndpointFields(const ir::Endpoint& endpoint) -> Fields {
  return {
      {"cluster", endpoint.cluster_name, true},
      {"target", std::string(ir::ToString(endpoint.target)), true},
      {"auth", AuthName(endpoint.auth), true},
      {"description", endpoint.description},
      {"scoring.input_sample", endpoint.input_sample_json},
      {"scoring.output_sample", endpoint.output_sample_json},
  };
}

auto ClusterFields(const ir::Cluster& cluster) -> Fields {
  return {
      {"provider", std::string(ir::ToString(cluster.provider)), true},
      {"purpose", std::string(ir::ToString(cluster.purpose)), true},
      {"vm_size", cluster.vm_size, true},
      {"agent_count", std::to_string(cluster.agent_count), true},
      {"kubernetes_version", cluster.kubernetes_version, true},
      {"region", cluster.region},
      {"attach", cluster.attach.value_or("")},
      {"detached", Bool(cluster.detached)},
      {"network", NetworkName(cluster.network)},
      {"subnet_id", cluster.subnet_id},
      {"routing", std::string(ir::ToString(cluster.routing))},
      {"tls.secret", cluster.tls_secret.value_or("")},
      {"tls.redirect_http", Bool(cluster.tls_redirect_http)},
  };
}

auto EnvironmentFields(const ir::Environment& environment) -> Fields {
  const ir::Registry registry = environment.registry.value_or(ir::Registry{});
  return {
      {"base_image", environment.base_image, true},
      {"steps", Join(environment.steps, "; ")},
      {"build_flags", Join(environment.build_flags, " ")},
      {"variables", MapText(environment.variables)},
      {"registry.address", registry.address},
      {"registry.username", registry.username},
      {"registry.password_secret", registry.password_secret},
  };
}

auto ModelFields(const ir::Model& model) -> Fields {
  return {{"description", model.description}, {"tags", MapText(model.tags)}};
}

auto ModelVersionFields(const ir::ModelVersion& version) -> Fields {
  return {{"path", version.path, true},
          {"sha256", version.sha256, true},
          {"description", version.description},
          {"tags", MapText(version.tags)}};
}

auto SameFields(const Fields& a, const Fields& b) -> bool {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Field& x, const Field& y) {
    return x.name == y.name && x.value == y.value;
  });
}

auto Diff(const Fields& before, const Fields& after) -> std::vector<FieldChange> {
  std::map<std::string, std::string, std::less<>> old_values;
  for (const Field& field : before) old_values[field.name] = field.value;
  std::vector<FieldChange> changes;
  for (const Field& field : after) {
    auto old = old_values.find(field.name);
    std::string old_value = old == old_values.end() ? "" : old->second;
    if (old_value != field.value) changes.push_back({field.name, old_value, field.value});
  }
  return changes;
}

auto Summary(const Fields& fields) -> std::vector<FieldChange> {
  std::vector<FieldChange> changes;
  for (const Field& field : fields) {
    if (field.summary && !field.value.empty()) changes.push_back({field.name, "", field.value});
  }
  return changes;
}

auto Find(const std::vector<Named>& items, std::string_view name) -> const Named* {
  for (const Named& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

/// Pairs of (removed, added) names whose fields match and that have no other candidate.
auto FindRenames(const std::vector<Named>& base, const std::vector<Named>& head)
    -> std::map<std::string, std::string> {
  std::vector<const Named*> removed;
  std::vector<const Named*> added;
  for (const Named& item : base) {
    if (Find(head, item.name) == nullptr) removed.push_back(&item);
  }
  for (const Named& item : head) {
    if (Find(base, item.name) == nullptr) added.push_back(&item);
  }
  auto candidates = [](const Named* item, const std::vector<const Named*>& others) {
    std::vector<const Named*> found;
    for (const Named* other : others) {
      if (SameFields(item->fields, other->fields)) found.push_back(other);
    }
    return found;
  };
  std::map<std::string, std::string> renames;
  for (const Named* old_item : removed) {
    std::vector<const Named*> matches = candidates(old_item, added);
    if (matches.size() == 1 && candidates(matches[0], removed).size() == 1) {
      renames[old_item->name] = matches[0]->name;
    }
  }
  return renames;
}

/// Compares two collections of one scope; `renames` (old -> new) pairs
/// declarations whose names differ. The prefixes are prepended to the names
/// of each side (a version's "<endpoint>/").
void CompareNamed(std::string_view scope, const std::string& base_prefix,
                  const std::string& head_prefix, const std::vector<Named>& base,
                  const std::vector<Named>& head, const std::map<std::string, std::string>& renames,
                  std::vector<DomainChange>& out) {
  std::map<std::string, std::string> new_to_old;
  for (const auto& [old_name, new_name] : renames) new_to_old[new_name] = old_name;
  for (const Named& item : head) {
    auto renamed = new_to_old.find(item.name);
    const std::string old_name = renamed == new_to_old.end() ? item.name : renamed->second;
    const Named* old = Find(base, old_name);
    DomainChange change;
    change.scope = scope;
    change.name = head_prefix + item.name;
    if (old == nullptr) {
      change.kind = ChangeKind::Added;
      change.fields = Summary(item.fields);
    } else if (renamed != new_to_old.end()) {
      change.kind = ChangeKind::Renamed;
      change.old_name = base_prefix + old_name;
    } else {
      change.fields = Diff(old->fields, item.fields);
      if (change.fields.empty()) continue;
    }
    out.push_back(std::move(change));
  }
  for (const Named& item : base) {
    if (Find(head, item.name) != nullptr || renames.contains(item.name)) continue;
    DomainChange change;
    change.scope = scope;
    change.name = base_prefix + item.name;
    change.kind = ChangeKind::Removed;
    out.push_back(std::move(change));
  }
}

auto Versions(const ir::Endpoint* endpoint, const ir::Project& project) -> std::vector<Named> {
  std::vector<Named> versions;
  if (endpoint == nullptr) return versions;
  for (const ir::Version& version : endpoint->versions) {
    versions.push_back({version.name, VersionFields(version, project)});
  }
  return versions;
}

// An endpoint's fields for rename detection include its versions' fields.
auto EndpointIdentity(const ir::Endpoint& endpoint, const ir::Project& project) -> Fields {
  Fields fields = EndpointFields(endpoint);
  for (const Named& version : Versions(&endpoint, project)) {
    for (const Field& field : version.fields) {
      fields.push_back({version.name + "." + field.name, field.value});
    }
  }
  return fields;
}

void CompareProjectFields(const ir::Project& base, const ir::Project& head,
                          std::vector<DomainChange>& out) {
  const Fields base_project = {{"name", base.name},
                               {"description", base.description},
                               {"format_version", std::to_string(base.format_version)}};
  const Fields head_project = {{"name", head.name},
                               {"description", head.description},
                               {"format_version", std::to_string(head.format_version)}};
  CompareNamed("project", "", "", {{"project", base_project}}, {{"project", head_project}}, {},
               out);
  auto workspace = [](const ir::Workspace& w) -> Fields {
    return {{"name", w.name}, {"region", w.region}, {"registry", w.registry}};
  };
  CompareNamed("workspace", "", "", {{"workspace", workspace(base.workspace)}},
               {{"workspace", workspace(head.workspace)}}, {}, out);
}

void CompareModels(const ir::Project& base, const ir::Project& head,
                   std::vector<DomainChange>& out) {
  auto models = [](const ir::Project& project) {
    std::vector<Named> items;
    for (const ir::Model& model : project.models) {
      items.push_back({model.name, ModelFields(model)});
      for (const ir::ModelVersion& version : model.versions) {
        items.push_back(
            {model.name + "@" + std::to_string(version.version), ModelVersionFields(version)});
      }
    }
    return items;
  };
  CompareNamed("model", "", "", models(base), models(head), {}, out);
}

void CompareEndpoints(const ir::Project& base, const ir::Project& head, Renames& renames,
                      std::vector<DomainChange>& out) {
  std::vector<Named> base_endpoints;
  std::vector<Named> head_endpoints;
  for (const ir::Endpoint& e : base.endpoints) {
    base_endpoints.push_back({e.name, EndpointIdentity(e, base)});
  }
  for (const ir::Endpoint& e : head.endpoints) {
    head_endpoints.push_back({e.name, EndpointIdentity(e, head)});
  }
  renames.endpoints = FindRenames(base_endpoints, head_endpoints);
  for (Named& item : base_endpoints) item.fields = EndpointFields(*FindEndpoint(base, item.name));
  for (Named& item : head_endpoints) item.fields = EndpointFields(*FindEndpoint(head, item.name));
  CompareNamed("endpoint", "", "", base_endpoints, head_endpoints, renames.endpoints, out);

  std::map<std::string, std::string> head_to_base;
  for (const ir::Endpoint& e : head.endpoints) head_to_base[e.name] = e.name;
  for (const auto& [old_name, new_name] : renames.endpoints) head_to_base[new_name] = old_name;
  for (const ir::Endpoint& endpoint : head.endpoints) {
    const ir::Endpoint* old = FindEndpoint(base, head_to_base[endpoint.name]);
    const std::vector<Named> base_versions = Versions(old, base);
    const std::vector<Named> head_versions = Versions(&endpoint, head);
    auto& version_renames = renames.versions[endpoint.name];
    if (old != nullptr) version_renames = FindRenames(base_versions, head_versions);
    const std::string base_prefix = (old != nullptr ? old->name : endpoint.name) + "/";
    CompareNamed("version", base_prefix, endpoint.name + "/", base_versions, head_versions,
                 version_renames, out);
  }
  for (const ir::Endpoint& endpoint : base.endpoints) {
    if (FindEndpoint(head, endpoint.name) != nullptr || renames.endpoints.contains(endpoint.name)) {
      continue;
    }
    CompareNamed("version", endpoint.name + "/", endpoint.name + "/", Versions(&endpoint, base), {},
                 {}, out);
  }
}

auto ScopeRank(std::string_view scope) -> std::size_t {
  static constexpr std::array<std::string_view, 7> kOrder = {
      "project", "workspace", "model", "environment", "cluster", "endpoint", "version"};
  return static_cast<std::size_t>(std::find(kOrder.begin(), kOrder.end(), scope) - kOrder.begin());
}

}  // namespace

auto CompareDomain(const ir::Project& base, const ir::Project& head, Renames& renames)
    -> std::vector<DomainChange> {
  std::vector<DomainChange> out;
  CompareProjectFields(base, head, out);
  CompareModels(base, head, out);
  auto environments = [](const ir::Project& project) {
    std::vector<Named> items;
    for (const ir::Environment& e : project.environments) {
      items.push_back({e.name, EnvironmentFields(e)});
    }
    return items;
  };
  CompareNamed("environment", "", "", environments(base), environments(head), {}, out);
  auto clusters = [](const ir::Project& project) {
    std::vector<Named> items;
    for (const ir::Cluster& c : project.clusters) items.push_back({c.name, ClusterFields(c)});
    return items;
  };
  CompareNamed("cluster", "", "", clusters(base), clusters(head), {}, out);
  CompareEndpoints(base, head, renames, out);
  std::stable_sort(out.begin(), out.end(), [](const DomainChange& a, const DomainChange& b) {
    const std::size_t rank_a = ScopeRank(a.scope);
    const std::size_t rank_b = ScopeRank(b.scope);
    if (rank_a != rank_b) return rank_a < rank_b;
    return a.name < b.name;
  });
  return out;
}

}  // namespace ferry::review::detail

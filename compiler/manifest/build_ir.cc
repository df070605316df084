#include "compiler/manifest/build_ir.h"

#include <charconv>

#include "compiler/ir/traffic.h"
#include "compiler/manifest/build_ir_fields.h"
#include "compiler/manifest/to_json.h"

namespace ferry::manifest {
namespace {

// Model version keys are positive integers; the schema rejects the others.
auto ParseVersionKey(const std::string& text) -> std::optional<std::int64_t> {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

void BuildModelVersions(BuildContext& context, const Node* table, ir::Model& model) {
  std::set<std::string, std::less<>> poisoned;
  ForEachDeclared(context, table, poisoned,
                  [&](const std::string& key, const Node* at, const Node* value) {
                    std::optional<std::int64_t> number = ParseVersionKey(key);
                    if (!number) {
                      poisoned.insert(key);
                      return;
                    }
                    ir::ModelVersion version;
                    version.version = *number;
                    version.origin = OriginOf(context, at, model.origin.PathOf("versions." + key));
                    FieldReader fields(context, value, version.origin);
                    fields.String("path", version.path);
                    fields.String("sha256", version.sha256);
                    fields.String("description", version.description);
                    fields.StringMap("tags", version.tags);
                    model.versions.push_back(std::move(version));
                  });
  for (const std::string& key : poisoned) {
    context.poisoned_model_versions.insert(model.name + "@" + key);
  }
}

void BuildModels(BuildContext& context, const Node* table) {
  ForEachDeclared(context, table, context.poisoned_models,
                  [&](const std::string& name, const Node* at, const Node* value) {
                    ir::Model model;
                    model.name = name;
                    model.origin = OriginOf(context, at, "models." + name);
                    FieldReader fields(context, value, model.origin);
                    fields.String("description", model.description);
                    fields.StringMap("tags", model.tags);
                    const Node* versions = fields.Get("versions");
                    if (versions == nullptr && ValueOf(value, "versions") != nullptr) {
                      // The versions table itself was rejected: every reference is moot.
                      context.poisoned_models.insert(name);
                      return;
                    }
                    BuildModelVersions(context, versions, model);
                    context.project.models.push_back(std::move(model));
                  });
}

void BuildEnvironments(BuildContext& context, const Node* table) {
  ForEachDeclared(context, table, context.poisoned_environments,
                  [&](const std::string& name, const Node* at, const Node* value) {
                    ir::Environment environment;
                    environment.name = name;
                    environment.origin = OriginOf(context, at, "environments." + name);
                    FieldReader fields(context, value, environment.origin);
                    fields.String("base_image", environment.base_image);
                    fields.StringList("steps", environment.steps);
                    fields.StringList("build_flags", environment.build_flags);
                    fields.StringMap("variables", environment.variables);
                    if (fields.Has("registry")) {
                      const FieldReader registry = fields.Nested("registry");
                      ir::Registry out;
                      registry.String("address", out.address);
                      registry.String("username", out.username);
                      registry.String("password_secret", out.password_secret);
                      environment.registry = std::move(out);
                    }
                    context.project.environments.push_back(std::move(environment));
                  });
}

void ReadClusterEnums(const FieldReader& fields, ir::Cluster& cluster) {
  std::string text;
  fields.String("provider", text);
  if (text == "kubernetes") cluster.provider = ir::Provider::Kubernetes;
  if (text == "local") cluster.provider = ir::Provider::Local;
  text.clear();
  fields.String("purpose", text);
  if (text == "dev_test") cluster.purpose = ir::Purpose::DevTest;
  text.clear();
  fields.String("routing", text);
  if (text == "gateway") cluster.routing = ir::Routing::Gateway;
  text.clear();
  const FieldReader network = fields.Nested("network");
  network.String("plugin", text);
  if (text == "azure_cni") cluster.network = ir::NetworkPlugin::AzureCni;
  network.String("subnet_id", cluster.subnet_id);
}

void BuildClusters(BuildContext& context, const Node* table) {
  ForEachDeclared(context, table, context.poisoned_clusters,
                  [&](const std::string& name, const Node* at, const Node* value) {
                    ir::Cluster cluster;
                    cluster.name = name;
                    cluster.origin = OriginOf(context, at, "clusters." + name);
                    cluster.region = context.project.workspace.region;
                    FieldReader fields(context, value, cluster.origin);
                    ReadClusterEnums(fields, cluster);
                    fields.String("vm_size", cluster.vm_size);
                    fields.Integer("agent_count", cluster.agent_count);
                    fields.String("kubernetes_version", cluster.kubernetes_version);
                    fields.String("region", cluster.region);
                    if (fields.Has("attach")) fields.String("attach", cluster.attach.emplace());
                    fields.Boolean("detached", cluster.detached);
                    if (fields.Has("tls")) {
                      const FieldReader tls = fields.Nested("tls");
                      tls.String("secret", cluster.tls_secret.emplace());
                      tls.Boolean("redirect_http", cluster.tls_redirect_http);
                    }
                    context.project.clusters.push_back(std::move(cluster));
                  });
}

void BuildTopLevel(BuildContext& context, const Node* root) {
  ir::Project& project = context.project;
  project.origin = OriginOf(context, root, "");
  FieldReader fields(context, root, project.origin);
  fields.Integer("ferry", project.format_version);
  fields.String("project", project.name);
  fields.String("description", project.description);
  const FieldReader workspace = fields.Nested("workspace");
  workspace.String("name", project.workspace.name);
  workspace.String("region", project.workspace.region);
  workspace.String("registry", project.workspace.registry);
}

}  // namespace

auto BuildProject(const Document& document, const InvalidNodes& invalid, diag::Sink& sink)
    -> ir::Project {
  ir::Project project;
  project.manifest_file = document.file();
  const Node* root = document.root();
  if (root == nullptr || invalid.contains(root) || root->kind != NodeKind::Mapping) return project;
  BuildContext context{document, invalid, sink, project, {}, {}, {}, {}};
  BuildTopLevel(context, root);
  BuildModels(context, ValueOf(root, "models"));
  BuildEnvironments(context, ValueOf(root, "environments"));
  BuildClusters(context, ValueOf(root, "clusters"));
  BuildEndpoints(context, ValueOf(root, "endpoints"));
  for (ir::Endpoint& endpoint : project.endpoints) ir::ResolveTraffic(endpoint);
  return project;
}

}  // namespace ferry::manifest

// BuildProject's endpoints and versions, with their references resolved.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>

#include "compiler/manifest/build_ir_fields.h"
#include "compiler/manifest/to_json.h"
#include "compiler/support/suggest.h"

namespace ferry::manifest {
namespace {

using diag::Code;

constexpr double kMebibyte = 1024.0 * 1024.0;

template <typename T>
auto NamesOf(const std::vector<T>& declared) -> std::vector<std::string> {
  std::vector<std::string> names;
  names.reserve(declared.size());
  for (const T& item : declared) names.push_back(item.name);
  return names;
}

template <typename T>
auto IndexOf(const std::vector<T>& declared, std::string_view name) -> ir::Index {
  for (std::size_t i = 0; i < declared.size(); ++i) {
    if (declared[i].name == name) return static_cast<ir::Index>(i);
  }
  return ir::kNone;
}

// Resolves the version part of a well-formed reference to `model`.
void ResolveModelVersion(BuildContext& context, const ir::Model& model, std::int64_t number,
                         ir::ModelRef& ref, const std::string& path) {
  for (std::size_t i = 0; i < model.versions.size(); ++i) {
    if (model.versions[i].version == number) ref.version = static_cast<ir::Index>(i);
  }
  if (ref.version != ir::kNone || IsPoisoned(context.poisoned_model_versions, ref.text)) return;
  std::string declared;
  for (const ir::ModelVersion& version : model.versions) {
    declared += (declared.empty() ? "" : ", ") + std::to_string(version.version);
  }
  context.sink.Add(Code::kUnknownModelVersion, ref.location, path,
                   "model '" + model.name + "' has no version " + std::to_string(number) +
                       (declared.empty() ? "" : "; declared versions: " + declared));
}

auto ResolveModelRef(BuildContext& context, const Node* node, const std::string& path)
    -> ir::ModelRef {
  ir::ModelRef ref;
  ref.text = node->text;
  ref.location = context.document.LocationOf(node);
  static const std::regex kForm("^([a-z][a-z0-9-]*)@([1-9][0-9]{0,17})$");
  std::smatch match;
  // The length guard keeps std::regex (recursive) off hostile input.
  if (node->kind != NodeKind::String || ref.text.size() > 256 ||
      !std::regex_match(ref.text, match, kForm)) {
    if (!context.IsInvalid(node)) {
      context.sink.Add(Code::kBadModelReference, ref.location, path,
                       "'" + ref.text +
                           "' is not a valid model reference: write the model reference as "
                           "name@version, e.g. faq-ranker@3");
    }
    return ref;
  }
  const std::string name = match[1];
  const std::vector<ir::Model>& models = context.project.models;
  ref.model = IndexOf(models, name);
  if (ref.model == ir::kNone) {
    if (!IsPoisoned(context.poisoned_models, name)) {
      context.sink.Add(
          Code::kUnknownModel, ref.location, path,
          "model '" + name + "' is not declared" + support::DidYouMean(name, NamesOf(models)));
    }
    return ref;
  }
  ResolveModelVersion(context, models[static_cast<std::size_t>(ref.model)], std::stoll(match[2]),
                      ref, path);
  return ref;
}

// A rejected reference stays in the list unresolved (model == kNone), so
// counts still see it and checks can tell the version's models are unknown.
auto RejectedRef(const BuildContext& context, const Node* node) -> ir::ModelRef {
  return {node->text, ir::kNone, ir::kNone, context.document.LocationOf(node)};
}

void ReadModels(BuildContext& context, const FieldReader& fields, ir::Version& version) {
  if (const Node* model = fields.Written("model")) {
    version.models.push_back(context.IsInvalid(model)
                                 ? RejectedRef(context, model)
                                 : ResolveModelRef(context, model, fields.PathOf("model")));
  }
  const Node* models = fields.Get("models");
  if (models == nullptr || models->kind != NodeKind::Sequence) return;
  for (std::size_t i = 0; i < models->items.size(); ++i) {
    const Node* item = models->items[i];
    version.models.push_back(
        context.IsInvalid(item)
            ? RejectedRef(context, item)
            : ResolveModelRef(context, item, fields.PathOf("models." + std::to_string(i))));
  }
}

void ReadEnvironment(BuildContext& context, const FieldReader& fields, ir::Version& version) {
  const Node* node = fields.Get("environment");
  if (node == nullptr || node->kind != NodeKind::String) return;
  version.environment_name = node->text;
  const std::vector<ir::Environment>& environments = context.project.environments;
  version.environment = IndexOf(environments, node->text);
  if (version.environment != ir::kNone || IsPoisoned(context.poisoned_environments, node->text))
    return;
  context.sink.Add(Code::kUnknownEnvironment, context.document.LocationOf(node),
                   fields.PathOf("environment"),
                   "environment '" + node->text + "' is not declared" +
                       support::DidYouMean(node->text, NamesOf(environments)));
}

void ReadScaling(const FieldReader& fields, ir::Target target, ir::Version& version) {
  const FieldReader resources = fields.Nested("resources");
  resources.Number("cpu", version.resources.cpu);
  resources.Number("memory_gb", version.resources.memory_gb);
  if (target == ir::Target::Gpu) version.resources.gpu = 1;
  resources.Integer("gpu", version.resources.gpu);

  const FieldReader autoscale = fields.Nested("autoscale");
  ir::Autoscale& a = version.autoscale;
  autoscale.Boolean("enabled", a.enabled);
  autoscale.Integer("min_replicas", a.min_replicas);
  autoscale.Integer("max_replicas", a.max_replicas);
  autoscale.Integer("target_utilization", a.target_utilization);
  autoscale.Integer("max_concurrent_requests_per_replica", a.max_concurrent_requests_per_replica);

  const FieldReader hpa = fields.Nested("hpa");
  hpa.Boolean("enabled", version.hpa.enabled);
  hpa.Integer("min_replicas", version.hpa.min_replicas);
  hpa.Integer("max_replicas", version.hpa.max_replicas);
  hpa.Integer("cpu_utilization", version.hpa.cpu_utilization);

  version.replicas = a.min_replicas;
  fields.Integer("replicas", version.replicas);

  const FieldReader probes = fields.Nested("probes");
  ir::Probes& p = version.probes;
  probes.Integer("period_seconds", p.period_seconds);
  probes.Integer("initial_delay_seconds", p.initial_delay_seconds);
  probes.Integer("timeout_seconds", p.timeout_seconds);
  probes.Integer("failure_threshold", p.failure_threshold);
  probes.Integer("success_threshold", p.success_threshold);
}

void ReadServing(const FieldReader& fields, ir::Target target, ir::Version& version) {
  const FieldReader serving = fields.Nested("serving");
  ir::Serving& s = version.serving;
  double body_mb = static_cast<double>(s.max_body_bytes) / kMebibyte;
  serving.Number("max_body_mb", body_mb);
  // Bounded before the conversion: a huge value stays huge instead of overflowing.
  const double bytes = std::clamp(body_mb * kMebibyte, -9e18, 9e18);
  s.max_body_bytes = static_cast<std::int64_t>(std::llround(bytes));
  serving.Integer("request_timeout_ms", s.request_timeout_ms);
  serving.Boolean("collect_data", s.collect_data);

  const FieldReader batching = fields.Nested("batching");
  ir::Batching& b = version.batching;
  // Single-request inference wastes a GPU, so GPU versions batch unless told not to.
  b.enabled = target == ir::Target::Gpu;
  batching.Boolean("enabled", b.enabled);
  batching.Integer("max_batch", b.max_batch);
  batching.Number("max_wait_ms", b.max_wait_ms);
}

auto BuildVersion(BuildContext& context, const ir::Endpoint& endpoint, const std::string& name,
                  const Node* at, const Node* value) -> ir::Version {
  ir::Version version;
  version.name = name;
  version.origin = OriginOf(context, at, endpoint.origin.PathOf("versions." + name));
  FieldReader fields(context, value, version.origin);
  ReadModels(context, fields, version);
  ReadEnvironment(context, fields, version);
  fields.Number("traffic", version.traffic);
  std::string role;
  fields.String("role", role);
  if (role == "control") version.role = ir::Role::Control;
  fields.Boolean("default", version.is_default);
  fields.String("description", version.description);
  ReadScaling(fields, endpoint.target, version);
  ReadServing(fields, endpoint.target, version);
  return version;
}

void ReadAuth(const FieldReader& fields, ir::Auth& auth) {
  const Node* node = fields.Get("auth");
  if (node == nullptr) return;
  if (node->kind == NodeKind::String) {
    auth.key = node->text == "key";
    auth.token = node->text == "token";
    return;
  }
  // In the mapping form an omitted switch is off: {token: true} means token only.
  auth = ir::Auth{false, false};
  const FieldReader switches = fields.Nested("auth");
  switches.Boolean("key", auth.key);
  switches.Boolean("token", auth.token);
}

void ReadTargetAndCluster(BuildContext& context, const FieldReader& fields,
                          ir::Endpoint& endpoint) {
  std::string target;
  fields.String("target", target);
  if (target == "gpu") endpoint.target = ir::Target::Gpu;
  if (target == "fpga") endpoint.target = ir::Target::Fpga;
  const Node* node = fields.Get("cluster");
  if (node == nullptr || node->kind != NodeKind::String) return;
  endpoint.cluster_name = node->text;
  const std::vector<ir::Cluster>& clusters = context.project.clusters;
  endpoint.cluster = IndexOf(clusters, node->text);
  if (endpoint.cluster != ir::kNone || IsPoisoned(context.poisoned_clusters, node->text)) return;
  context.sink.Add(Code::kUnknownCluster, context.document.LocationOf(node),
                   fields.PathOf("cluster"),
                   "cluster '" + node->text + "' is not declared" +
                       support::DidYouMean(node->text, NamesOf(clusters)));
}

// The numbers of the sequence `name`, skipping items that are not numbers
// (the schema reported them).
void NumberList(const BuildContext& context, const FieldReader& fields, std::string_view name,
                std::vector<double>& out) {
  const Node* value = fields.Get(name);
  if (value == nullptr || value->kind != NodeKind::Sequence) return;
  for (const Node* item : value->items) {
    if (item->IsNumber() && !context.IsInvalid(item)) out.push_back(item->AsDouble());
  }
}

// scoring.preprocess and scoring.postprocess; their fields are recorded in
// the stages' origin as "preprocess.image.size", "postprocess.top_k", ...
void ReadStages(const BuildContext& context, const FieldReader& endpoint_fields,
                ir::Endpoint& endpoint) {
  ir::Stages& stages = endpoint.stages;
  const Node* scoring = endpoint_fields.Get("scoring");
  const bool mapping = scoring != nullptr && scoring->kind == NodeKind::Mapping;
  stages.origin.location =
      mapping ? context.document.LocationOf(scoring) : endpoint.origin.location;
  stages.origin.path = endpoint.origin.PathOf("scoring");
  const FieldReader fields(context, mapping ? scoring : nullptr, stages.origin);
  const FieldReader preprocess = fields.Nested("preprocess");
  const Node* image = preprocess.Get("image");
  if (image != nullptr && image->kind == NodeKind::Mapping) {
    const FieldReader declared = preprocess.Nested("image");
    ir::ImageStage stage;
    // The schema holds size to two integers in 1..16384; anything it rejected
    // leaves the model's own size.
    const Node* size = declared.Get("size");
    const auto usable = [&](const Node* item) {
      return item->kind == NodeKind::Int && !context.IsInvalid(item);
    };
    if (size != nullptr && size->kind == NodeKind::Sequence && size->items.size() == 2 &&
        usable(size->items[0]) && usable(size->items[1])) {
      stage.height = size->items[0]->AsInt();
      stage.width = size->items[1]->AsInt();
    }
    NumberList(context, declared, "mean", stage.mean);
    NumberList(context, declared, "std", stage.std);
    stages.image = std::move(stage);
  }
  const FieldReader postprocess = fields.Nested("postprocess");
  postprocess.Boolean("softmax", stages.softmax);
  postprocess.Integer("top_k", stages.top_k);
  postprocess.String("labels", stages.labels_path);
}

void ReadScoring(const BuildContext& context, const FieldReader& fields, ir::Endpoint& endpoint) {
  const FieldReader scoring = fields.Nested("scoring");
  // nlohmann's objects keep keys sorted, so dump() is canonical.
  if (const Node* input = scoring.Get("input_sample"))
    endpoint.input_sample_json = ToJson(*input).dump();
  if (const Node* output = scoring.Get("output_sample"))
    endpoint.output_sample_json = ToJson(*output).dump();
  scoring.String("calibration", endpoint.calibration_path);
  ReadStages(context, fields, endpoint);
}

}  // namespace

void BuildEndpoints(BuildContext& context, const Node* table) {
  std::set<std::string, std::less<>> rejected;
  ForEachDeclared(
      context, table, rejected, [&](const std::string& name, const Node* at, const Node* value) {
        ir::Endpoint endpoint;
        endpoint.name = name;
        endpoint.origin = OriginOf(context, at, "endpoints." + name);
        FieldReader fields(context, value, endpoint.origin);
        ReadTargetAndCluster(context, fields, endpoint);
        ReadAuth(fields, endpoint.auth);
        fields.String("description", endpoint.description);
        ReadScoring(context, fields, endpoint);
        std::set<std::string, std::less<>> rejected_versions;
        ForEachDeclared(
            context, fields.Get("versions"), rejected_versions,
            [&](const std::string& version, const Node* key, const Node* body) {
              endpoint.versions.push_back(BuildVersion(context, endpoint, version, key, body));
            });
        context.project.endpoints.push_back(std::move(endpoint));
      });
}

}  // namespace ferry::manifest

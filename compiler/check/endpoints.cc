// Endpoint rules: one control, one default, the traffic split, the number of
// versions and of models, and autoscaling on DEV_TEST clusters.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "compiler/check/rules.h"

namespace ferry::check {
namespace {

// Float shares such as 33.3 + 33.3 + 33.4 may land a hair above 100.
constexpr double kTrafficEpsilon = 1e-9;

auto QuotedNames(const std::vector<const ir::Version*>& versions) -> std::string {
  std::string names;
  for (const ir::Version* version : versions) {
    if (!names.empty()) names += ", ";
    names += fmt::format("'{}'", version->name);
  }
  return names;
}

// Reports every version after the first one that `has` selects (E0203's
// controls, E0204's defaults), each with a note at the first. `fix` is a
// format string taking the extra version's name.
template <typename Predicate>
void CheckAtMostOne(const Context& context, const ir::Endpoint& endpoint, diag::Code code,
                    std::string_view what, std::string_view field, std::string_view fix,
                    Predicate has) {
  std::vector<const ir::Version*> found;
  for (const ir::Version& version : endpoint.versions) {
    if (has(version)) found.push_back(&version);
  }
  if (found.size() < 2) return;
  const ir::Version& first = *found.front();
  for (std::size_t i = 1; i < found.size(); ++i) {
    const ir::Version& extra = *found[i];
    diag::Diagnostic& d = context.sink.Add(
        code, extra.origin.At(field), extra.origin.PathOf(field),
        fmt::format("endpoint '{}' has {} {} versions ({}); at most one is allowed; {}",
                    endpoint.name, found.size(), what, QuotedNames(found),
                    fmt::format(fmt::runtime(fix), extra.name)));
    d.notes.push_back({fmt::format("first {} version '{}' declared here", what, first.name),
                       first.origin.At(field)});
  }
}

auto TrafficInRange(double traffic) -> bool { return traffic >= 0 && traffic <= 100; }

void CheckTrafficRange(const Context& context, const ir::Endpoint& endpoint) {
  for (const ir::Version& version : endpoint.versions) {
    if (TrafficInRange(version.traffic)) continue;
    context.sink.Add(
        diag::Code::kTrafficRange, version.origin.At("traffic"), version.origin.PathOf("traffic"),
        fmt::format("{} has traffic {}%, outside 0..100", DescribeVersion(endpoint, version),
                    FormatNumber(version.traffic)));
  }
}

void CheckTrafficSum(const Context& context, const ir::Endpoint& endpoint) {
  double sum = 0;
  for (const ir::Version& version : endpoint.versions) {
    // A share outside 0..100 is E0210 already; the sum would only repeat it.
    if (!TrafficInRange(version.traffic)) return;
    sum += version.traffic;
  }
  if (sum <= 100 + kTrafficEpsilon) return;
  diag::Diagnostic& d = context.sink.Add(
      diag::Code::kTrafficOverflow, endpoint.origin.At("versions"),
      endpoint.origin.PathOf("versions"),
      fmt::format("the traffic of endpoint '{}' adds up to {}%, more than 100; lower the "
                  "versions' shares (the default version gets what is left of 100)",
                  endpoint.name, FormatNumber(sum)));
  for (const ir::Version& version : endpoint.versions) {
    if (version.traffic == 0) continue;
    d.notes.push_back(
        {fmt::format("version '{}' takes {}%", version.name, FormatNumber(version.traffic)),
         version.origin.At("traffic")});
  }
}

void CheckVersionCount(const Context& context, const ir::Endpoint& endpoint) {
  const auto limit = static_cast<std::size_t>(context.catalog.defaults().max_versions_per_endpoint);
  if (endpoint.versions.size() <= limit) return;
  const ir::Version& extra = endpoint.versions[limit];
  context.sink.Add(diag::Code::kTooManyVersions, extra.origin.location, extra.origin.path,
                   fmt::format("endpoint '{}' has {} versions, more than the {} an endpoint can "
                               "hold; remove {} or split them over several endpoints",
                               endpoint.name, endpoint.versions.size(), limit,
                               endpoint.versions.size() - limit));
}

void CheckModelList(const Context& context, const ir::Endpoint& endpoint,
                    const ir::Version& version) {
  const auto limit = context.catalog.defaults().max_models_per_deployment;
  if (static_cast<std::int64_t>(version.models.size()) > limit) {
    context.sink.Add(diag::Code::kTooManyModels, version.origin.At("models"),
                     version.origin.PathOf("models"),
                     fmt::format("{} deploys {} models, more than the {} one deployment can "
                                 "serve; split them over several versions or endpoints",
                                 DescribeVersion(endpoint, version), version.models.size(), limit));
  }
  for (std::size_t i = 0; i < version.models.size(); ++i) {
    const ir::ModelRef& ref = version.models[i];
    // Unresolved references were reported by the IR builder.
    if (ref.model == ir::kNone || ref.version == ir::kNone) continue;
    for (std::size_t j = 0; j < i; ++j) {
      const ir::ModelRef& earlier = version.models[j];
      if (earlier.model != ref.model || earlier.version != ref.version) continue;
      diag::Diagnostic& d = context.sink.Add(
          diag::Code::kDuplicateModel, ref.location, version.origin.PathOf("models"),
          fmt::format("{} lists '{}' twice; remove the repeat", DescribeVersion(endpoint, version),
                      ref.text));
      d.notes.push_back({"first listed here", earlier.location});
      break;
    }
  }
}

void CheckDevTestAutoscale(const Context& context, const ir::Endpoint& endpoint) {
  const ir::Cluster* cluster = ClusterOf(context, endpoint);
  if (cluster == nullptr || cluster->purpose != ir::Purpose::DevTest) return;
  for (const ir::Version& version : endpoint.versions) {
    // Only a declared autoscaler: the default one is simply off on DEV_TEST.
    if (!version.autoscale.enabled || !version.origin.fields.contains("autoscale")) continue;
    context.sink.Add(diag::Code::kDevTestAutoscale, version.origin.At("autoscale"),
                     version.origin.PathOf("autoscale"),
                     fmt::format("{} enables autoscaling, but cluster '{}' is DEV_TEST, where "
                                 "the autoscaler is disabled; remove autoscale or deploy to a "
                                 "FAST_PROD cluster",
                                 DescribeVersion(endpoint, version), cluster->name));
  }
}

}  // namespace

void CheckEndpoints(const Context& context) {
  for (const ir::Endpoint& endpoint : context.project.endpoints) {
    CheckAtMostOne(context, endpoint, diag::Code::kMultipleControls, "control", "role",
                   "make '{}' a treatment",
                   [](const ir::Version& v) { return v.role == ir::Role::Control; });
    CheckAtMostOne(context, endpoint, diag::Code::kMultipleDefaults, "default", "default",
                   "remove default: true from '{}'",
                   [](const ir::Version& v) { return v.is_default; });
    CheckTrafficRange(context, endpoint);
    CheckTrafficSum(context, endpoint);
    CheckVersionCount(context, endpoint);
    for (const ir::Version& version : endpoint.versions) CheckModelList(context, endpoint, version);
    CheckDevTestAutoscale(context, endpoint);
  }
}

}  // namespace ferry::check

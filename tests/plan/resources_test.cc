#include "compiler/plan/resources.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "tests/plan/plan_fixtures.h"

namespace ferry::plan {
namespace {

using testing::RenderFaq;
using testing::RenderSample;

auto Samples() -> std::vector<std::string> {
  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(FERRY_SOURCE_DIR) + "/samples")) {
    if (std::filesystem::exists(entry.path() / "ferry.yaml")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

auto Addresses(const Desired& desired) -> std::vector<std::string> {
  std::vector<std::string> addresses;
  for (const Resource& resource : desired.resources) addresses.push_back(resource.address);
  return addresses;
}

auto Attribute(const Desired& desired, std::string_view address, std::string_view field)
    -> std::string {
  const Resource* resource = FindResource(desired, address);
  REQUIRE_MESSAGE(resource != nullptr, address);
  auto it = resource->attributes.find(field);
  REQUIRE_MESSAGE(it != resource->attributes.end(), address, " has no ", field);
  return it->second;
}

TEST_CASE("desired resources: every sample, both executors, is complete and consistent") {
  const std::vector<std::string> samples = Samples();
  CHECK(samples.size() >= 6);
  for (const std::string& sample : samples) {
    CAPTURE(sample);
    const testing::Rendered rendered = RenderSample(sample);
    REQUIRE_FALSE(rendered.sink.HasErrors());
    REQUIRE(rendered.run.project.has_value());
    for (ExecutorKind executor : {ExecutorKind::Local, ExecutorKind::Kubernetes}) {
      CAPTURE(ToString(executor));
      const Desired desired = rendered.Desire(executor);
      CHECK(desired.project == rendered.run.project->name);
      CHECK(desired.inputs_sha256.size() == 64);
      const std::vector<std::string> addresses = Addresses(desired);
      CHECK(std::is_sorted(addresses.begin(), addresses.end()));
      CHECK(std::adjacent_find(addresses.begin(), addresses.end()) == addresses.end());
      const std::set<std::string> known(addresses.begin(), addresses.end());
      for (const Resource& resource : desired.resources) {
        CAPTURE(resource.address);
        CHECK(resource.address.starts_with(resource.type));
        CHECK(resource.hash == HashAttributes(resource.type, resource.attributes));
        CHECK_FALSE(resource.attributes.empty());
        CHECK_FALSE(resource.location.file.empty());
        CHECK(resource.location.line > 0);
        for (const std::string& need : resource.depends_on) CHECK(known.contains(need));
      }
      // Every endpoint version runs: a version resource locally, a Deployment on Kubernetes.
      std::size_t versions = 0;
      for (const ir::Endpoint& endpoint : rendered.run.project->endpoints) {
        versions += endpoint.versions.size();
      }
      const std::string kind = executor == ExecutorKind::Local ? "version." : "object.";
      const auto runs = std::count_if(addresses.begin(), addresses.end(), [&](const auto& a) {
        return a.starts_with(kind) &&
               (executor == ExecutorKind::Local || (a.find(".Deployment.") != std::string::npos &&
                                                    a.find("ferry-router") == std::string::npos));
      });
      CHECK(static_cast<std::size_t>(runs) == versions);
    }
    // One object resource per rendered Kubernetes file.
    const Desired kube = rendered.Desire(ExecutorKind::Kubernetes);
    const auto files = std::count_if(
        rendered.run.result.files.begin(), rendered.run.result.files.end(),
        [](const render::RenderedFile& file) { return file.path.starts_with("kubernetes/"); });
    const auto objects = std::count_if(kube.resources.begin(), kube.resources.end(),
                                       [](const Resource& r) { return r.type == "object"; });
    CHECK(objects == files);
  }
}

TEST_CASE("desired resources: the same project twice gives the same resources and hashes") {
  for (const std::string sample : {"faq-matching", "gateway-rollout"}) {
    for (ExecutorKind executor : {ExecutorKind::Local, ExecutorKind::Kubernetes}) {
      const Desired first = RenderSample(sample).Desire(executor);
      const Desired second = RenderSample(sample).Desire(executor);
      CHECK(first.inputs_sha256 == second.inputs_sha256);
      REQUIRE(first.resources.size() == second.resources.size());
      for (std::size_t i = 0; i < first.resources.size(); ++i) {
        CHECK(first.resources[i].address == second.resources[i].address);
        CHECK(first.resources[i].hash == second.resources[i].hash);
        CHECK(first.resources[i].depends_on == second.resources[i].depends_on);
      }
    }
  }
}

TEST_CASE("desired resources: faq-matching on the local executor") {
  const testing::Rendered rendered = RenderSample("faq-matching");
  REQUIRE_FALSE(rendered.sink.HasErrors());
  const Desired desired = rendered.Desire(ExecutorKind::Local);
  CHECK(desired.executor == ExecutorKind::Local);
  CHECK(Addresses(desired) == std::vector<std::string>{"bundle.faq.live", "cluster.prod", "router",
                                                       "secret.faq", "traffic.faq",
                                                       "version.faq.live"});

  CHECK(Attribute(desired, "cluster.prod", "vm_size") == "\"Standard_D3_v2\"");
  CHECK(Attribute(desired, "cluster.prod", "agent_count") == "3");
  CHECK(Attribute(desired, "cluster.prod", "purpose") == "\"fast_prod\"");

  REQUIRE(rendered.run.result.bundles.size() == 1);
  const render::BundleRef& bundle = rendered.run.result.bundles[0];
  CHECK(Attribute(desired, "bundle.faq.live", "sha256") == "\"" + bundle.sha256 + "\"");
  CHECK(Attribute(desired, "bundle.faq.live", "directory") == "\"bundles/faq-live\"");
  CHECK(Attribute(desired, "bundle.faq.live", "target") == "\"cpu\"");

  CHECK(Attribute(desired, "secret.faq", "mode") == "\"key\"");
  CHECK(Attribute(desired, "router", "host") == "\"127.0.0.1\"");
  CHECK(Attribute(desired, "router", "autoscaler.enabled") == "true");
  CHECK(Attribute(desired, "router", "autoscaler.scale_up_seconds") == "1");
  CHECK(Attribute(desired, "router", "autoscaler.scale_down_seconds") == "60");

  // The version: the router checks keys, the replica enforces the limits.
  const Resource* version = FindResource(desired, "version.faq.live");
  REQUIRE(version != nullptr);
  CHECK(Attribute(desired, "version.faq.live", "bundle") == "\"" + bundle.sha256 + "\"");
  CHECK(Attribute(desired, "version.faq.live", "role") == "\"control\"");
  CHECK(Attribute(desired, "version.faq.live", "timeout_ms") == "60000");
  std::vector<std::string> args;
  for (std::size_t i = 0; version->attributes.contains("args[" + std::to_string(i) + "]"); ++i) {
    args.push_back(version->attributes.at("args[" + std::to_string(i) + "]"));
  }
  CHECK(args == std::vector<std::string>{"\"--auth\"", "\"none\"", "\"--max-concurrent\"", "\"1\"",
                                         "\"--max-body-bytes\"", "\"16777216\"",
                                         "\"--request-timeout-ms\"", "\"60000\""});
  CHECK(Attribute(desired, "version.faq.live", "autoscale.enabled") == "true");
  CHECK(Attribute(desired, "version.faq.live", "autoscale.min_replicas") == "3");
  CHECK(Attribute(desired, "version.faq.live", "autoscale.max_replicas") == "12");
  CHECK(Attribute(desired, "version.faq.live", "autoscale.target_utilization") == "70");
  CHECK(Attribute(desired, "version.faq.live", "autoscale.max_concurrent_requests_per_replica") ==
        "1");
  CHECK(version->depends_on ==
        std::vector<std::string>{"bundle.faq.live", "router", "cluster.prod"});

  CHECK(Attribute(desired, "traffic.faq", "path") == "\"/api/v1/service/faq/score\"");
  CHECK(Attribute(desired, "traffic.faq", "auth.mode") == "\"key\"");
  CHECK(Attribute(desired, "traffic.faq", "versions.live.weight") == "100.0");
  CHECK(Attribute(desired, "traffic.faq", "versions.live.default") == "true");
  CHECK(Attribute(desired, "traffic.faq", "versions.live.role") == "\"control\"");
  CHECK(FindResource(desired, "traffic.faq")->depends_on ==
        std::vector<std::string>{"version.faq.live", "secret.faq"});

  // Locations point into the manifest: the version's declaration.
  CHECK(version->location.file.ends_with("samples/faq-matching/ferry.yaml"));
  CHECK(version->location.line ==
        rendered.run.project->endpoints[0].versions[0].origin.location.line);
}

TEST_CASE("desired resources: DEV_TEST versions run a fixed count and the router does not scale") {
  const testing::Rendered rendered = RenderSample("dev-test");
  REQUIRE_FALSE(rendered.sink.HasErrors());
  const Desired desired = rendered.Desire(ExecutorKind::Local);
  CHECK(Attribute(desired, "router", "autoscaler.enabled") == "false");
  for (const Resource& resource : desired.resources) {
    if (resource.type != "version") continue;
    CAPTURE(resource.address);
    CHECK(resource.attributes.at("autoscale.enabled") == "false");
    CHECK(resource.attributes.at("autoscale.min_replicas") ==
          resource.attributes.at("autoscale.max_replicas"));
  }
}

TEST_CASE("desired resources: faq-matching's Kubernetes objects, flattened, with dependencies") {
  const testing::Rendered rendered = RenderSample("faq-matching");
  REQUIRE_FALSE(rendered.sink.HasErrors());
  const Desired desired = rendered.Desire(ExecutorKind::Kubernetes);
  const std::string ns = "object.prod.Namespace.faq-matching";
  const std::string model = "object.prod.Deployment.faq-live";
  REQUIRE(FindResource(desired, ns) != nullptr);
  REQUIRE(FindResource(desired, model) != nullptr);
  CHECK(FindResource(desired, "router") == nullptr);
  CHECK(FindResource(desired, "version.faq.live") == nullptr);

  // Fields keep their YAML types: numbers, quoted strings, empty maps.
  CHECK(Attribute(desired, model, "kind") == "\"Deployment\"");
  CHECK(Attribute(desired, model, "spec.replicas") == "3");
  CHECK(Attribute(desired, model, "spec.template.spec.containers[0].args[0]") == "\"serve\"");
  CHECK(Attribute(desired, model, "spec.template.spec.containers[0].args[4]") == "\"5001\"");
  CHECK(Attribute(desired, model, "spec.template.spec.containers[0].resources.limits.cpu") ==
        "\"500m\"");
  CHECK(Attribute(desired, model, "spec.template.spec.automountServiceAccountToken") == "false");
  CHECK(Attribute(desired, model, "spec.template.spec.volumes[0].emptyDir") == "{}");
  CHECK(Attribute(desired, model, "metadata.labels.app.kubernetes.io/version") == "\"live\"");
  CHECK(Attribute(desired, model, "manifest.path") ==
        "\"kubernetes/prod/deployment-faq-live.yaml\"");
  const std::string routes =
      Attribute(desired, "object.prod.ConfigMap.ferry-router", "data.routes.yaml");
  CHECK(routes.find("weight: 100.0\\n") != std::string::npos);

  CHECK(Attribute(desired, "secret.faq", "mode") == "\"key\"");
  CHECK(Attribute(desired, "secret.faq", "name") == "\"faq-keys\"");
  CHECK(Attribute(desired, "secret.faq", "namespace") == "\"faq-matching\"");
  CHECK(Attribute(desired, "secret.faq", "cluster") == "\"prod\"");

  CHECK(FindResource(desired, ns)->depends_on == std::vector<std::string>{"cluster.prod"});
  CHECK(FindResource(desired, "secret.faq")->depends_on == std::vector<std::string>{ns});
  CHECK(FindResource(desired, model)->depends_on == std::vector<std::string>{ns, "secret.faq"});
  CHECK(FindResource(desired, "object.prod.ConfigMap.ferry-router")->depends_on ==
        std::vector<std::string>{ns, model, "object.prod.Service.faq-live"});
  CHECK(FindResource(desired, "object.prod.Deployment.ferry-router")->depends_on ==
        std::vector<std::string>{
            ns, "object.prod.ConfigMap.ferry-router", "object.prod.ServiceAccount.ferry-router",
            "object.prod.Role.ferry-router", "object.prod.RoleBinding.ferry-router"});
  CHECK(FindResource(desired, model)->location.line ==
        rendered.run.project->endpoints[0].versions[0].origin.location.line);
}

TEST_CASE("desired resources: gateway HTTPRoutes wait for every model workload of the cluster") {
  const testing::Rendered rendered = RenderSample("gateway-rollout");
  REQUIRE_FALSE(rendered.sink.HasErrors());
  const Desired desired = rendered.Desire(ExecutorKind::Kubernetes);
  std::size_t routes = 0;
  for (const Resource& resource : desired.resources) {
    if (resource.address.find(".HTTPRoute.") == std::string::npos) continue;
    ++routes;
    CAPTURE(resource.address);
    for (const Resource& other : desired.resources) {
      const bool workload = other.address.find(".Deployment.") != std::string::npos ||
                            other.address.find(".Service.") != std::string::npos;
      if (!workload) continue;
      CHECK(std::find(resource.depends_on.begin(), resource.depends_on.end(), other.address) !=
            resource.depends_on.end());
    }
  }
  CHECK(routes >= 1);
}

TEST_CASE("desired resources: an edit changes exactly the resources it is about") {
  const Desired before = RenderFaq(
                             "      a: {model: faq-ranker@3, traffic: 80}\n"
                             "      b: {model: faq-ranker@3, traffic: 20}\n")
                             .Desire(ExecutorKind::Local);
  const Desired after = RenderFaq(
                            "      a: {model: faq-ranker@3, traffic: 50}\n"
                            "      b: {model: faq-ranker@3, traffic: 50}\n")
                            .Desire(ExecutorKind::Local);
  REQUIRE(Addresses(before) == Addresses(after));
  std::vector<std::string> changed;
  for (std::size_t i = 0; i < before.resources.size(); ++i) {
    if (before.resources[i].hash != after.resources[i].hash) {
      changed.push_back(before.resources[i].address);
    }
  }
  CHECK(changed == std::vector<std::string>{"traffic.faq"});
  CHECK(before.inputs_sha256 != after.inputs_sha256);
}

TEST_CASE("desired resources: ToString and FindResource") {
  CHECK(ToString(ExecutorKind::Local) == "local");
  CHECK(ToString(ExecutorKind::Kubernetes) == "kubernetes");
  Desired desired;
  CHECK(FindResource(desired, "router") == nullptr);
  for (const char* address : {"a", "router"}) {
    Resource& resource = desired.resources.emplace_back();
    resource.address = address;
    resource.type = address;
  }
  CHECK(FindResource(desired, "router") == &desired.resources[1]);
  CHECK(FindResource(desired, "b") == nullptr);
  // The type is part of what is hashed.
  CHECK(HashAttributes("a", {{"x", "1"}}) != HashAttributes("b", {{"x", "1"}}));
  CHECK(HashAttributes("a", {{"x", "1"}}) != HashAttributes("a", {{"x", "2"}}));
  CHECK(HashAttributes("a", {{"x", "1"}}) == HashAttributes("a", {{"x", "1"}}));
}

}  // namespace
}  // namespace ferry::plan

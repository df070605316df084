#include "compiler/catalog/catalog.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

namespace ferry::catalog {
namespace {

constexpr const char* kKube = R"yaml(providers:
  aks:
    attach: {min: "1.12", max: "1.17", source: "seed 000 (2020-01)"}
)yaml";
constexpr const char* kDefaults = R"(fast_prod_min_vcpus: 12
dev_test_recommended_vcpus: 2
max_versions_per_endpoint: 6
max_models_per_deployment: 1000
target_utilization: 70
)";
constexpr const char* kOneSize =
    "vm_sizes:\n  - {name: Standard_D3_v2, family: Dv2, vcpus: 4, memory_gb: 14, isa: [avx2]}\n";

TEST_CASE("the built-in catalog parses and has the seeds' VM sizes") {
  const Catalog& catalog = Catalog::Builtin();
  const VmSize* d3 = catalog.FindVmSize("Standard_D3_v2");
  REQUIRE(d3 != nullptr);
  CHECK(d3->family == "Dv2");
  CHECK(d3->vcpus == 4);
  CHECK(d3->memory_gb == 14);
  CHECK(d3->gpus == 0);
  CHECK(d3->isa.front() == "avx2");

  const VmSize* nc6 = catalog.FindVmSize("Standard_NC6");
  REQUIRE(nc6 != nullptr);
  CHECK(nc6->gpus == 1);
  CHECK(nc6->gpu_model == "K80");

  const VmSize* pb6 = catalog.FindVmSize("Standard_PB6s");
  REQUIRE(pb6 != nullptr);
  CHECK(pb6->fpgas == 1);
  CHECK(pb6->fpga_model == "Arria10");
  CHECK(pb6->gpus == 0);

  CHECK(catalog.FindVmSize("Standard_F72s_v2")->isa.front() == "avx512");
  CHECK(catalog.FindVmSize("Standard_ND40rs_v2")->gpus == 8);
  CHECK(catalog.FindVmSize("Standard_NC64as_T4_v3")->gpu_model == "T4");
  CHECK(catalog.FindVmSize("standard_d3_v2") == nullptr);
}

TEST_CASE("every size the catalog promises is there") {
  const Catalog& catalog = Catalog::Builtin();
  for (const char* name :
       {"Standard_D1_v2",   "Standard_D5_v2",    "Standard_D11_v2",      "Standard_D15_v2",
        "Standard_DS1_v2",  "Standard_DS15_v2",  "Standard_D2_v3",       "Standard_D64_v3",
        "Standard_D2s_v3",  "Standard_D64s_v3",  "Standard_F1",          "Standard_F16",
        "Standard_F1s",     "Standard_F16s",     "Standard_F2s_v2",      "Standard_NC24r",
        "Standard_NC6s_v3", "Standard_NC24s_v3", "Standard_NC4as_T4_v3", "Standard_ND6s",
        "Standard_ND24s",   "Standard_PB12s",    "Standard_PB24s"}) {
    CAPTURE(name);
    const VmSize* size = catalog.FindVmSize(name);
    REQUIRE(size != nullptr);
    CHECK(size->vcpus > 0);
    CHECK(size->memory_gb > 0);
    CHECK(!size->isa.empty());
  }
}

TEST_CASE("the built-in Kubernetes ranges and defaults") {
  const Catalog& catalog = Catalog::Builtin();
  const auto attach = catalog.KubernetesRange("aks", true);
  REQUIRE(attach.has_value());
  CHECK(attach->ToString() == "1.12 .. 1.17");
  // Every patch of the last minor release is in; the next minor is not.
  CHECK(attach->Contains(KubeVersion{1, 17, 13}));
  CHECK(attach->Contains(KubeVersion{1, 12, 0}));
  CHECK(!attach->Contains(KubeVersion{1, 18, 0}));
  CHECK(!attach->Contains(KubeVersion{1, 11, 9}));
  CHECK(attach->source == "seed 000 (2020-01)");
  const auto create = catalog.KubernetesRange("aks", false);
  REQUIRE(create.has_value());
  CHECK(create->ToString() == "1.14 .. 1.32");
  CHECK(catalog.KubernetesRange("kubernetes", true).has_value());
  CHECK(catalog.KubernetesRange("local", false).has_value());
  CHECK(!catalog.KubernetesRange("gke", false).has_value());

  const Defaults& defaults = catalog.defaults();
  CHECK(defaults.fast_prod_min_vcpus == 12);
  CHECK(defaults.dev_test_recommended_vcpus == 2);
  CHECK(defaults.max_versions_per_endpoint == 6);
  CHECK(defaults.max_models_per_deployment == 1000);
  CHECK(defaults.target_utilization == 70);
}

TEST_CASE("ParseKubeVersion accepts MAJOR.MINOR[.PATCH] with an optional v") {
  CHECK(ParseKubeVersion("1.16") == KubeVersion{1, 16, 0});
  CHECK(ParseKubeVersion("1.16.13") == KubeVersion{1, 16, 13});
  CHECK(ParseKubeVersion("v1.17.2") == KubeVersion{1, 17, 2});
  CHECK(ToString(*ParseKubeVersion("v1.16")) == "1.16.0");
  CHECK(KubeVersion{1, 17, 99} > KubeVersion{1, 17, 2});
  CHECK(KubeVersion{1, 9, 0} < KubeVersion{1, 12, 0});
}

TEST_CASE("ParseKubeVersion rejects anything else") {
  for (const char* text :
       {"", "v", "1", "1.", "1.16.", ".1.16", "1.16.13.1", "1.-2", "+1.2", "1.+2", "1.16a",
        "1.16.1a", "vv1.2", "V1.2", " 1.2", "1.2 ", "1..2", "99999999999.1", "1.16-rc1"}) {
    CAPTURE(text);
    CHECK(!ParseKubeVersion(text).has_value());
  }
}

TEST_CASE("Parse reads a small catalog") {
  const Catalog catalog = Catalog::Parse(kOneSize, kKube, kDefaults);
  REQUIRE(catalog.vm_sizes().size() == 1);
  CHECK(catalog.vm_sizes()[0].isa == std::vector<std::string>{"avx2"});
  CHECK(!catalog.KubernetesRange("aks", false).has_value());
  CHECK(catalog.KubernetesRange("aks", true)->source == "seed 000 (2020-01)");
}

TEST_CASE("Parse throws on a malformed catalog") {
  auto message = [](const char* sizes, const char* kube, const char* defaults) -> std::string {
    try {
      (void)Catalog::Parse(sizes, kube, defaults);
    } catch (const std::runtime_error& error) {
      return error.what();
    }
    return "no error";
  };
  CHECK(message("vm_sizes: [", kKube, kDefaults).starts_with("malformed catalog vm_sizes.yaml: "));
  CHECK(message("vm_sizes:\n  - {name: A, family: F, memory_gb: 1, isa: [avx2]}\n", kKube,
                kDefaults) == "malformed catalog vm_sizes.yaml: 'vcpus' is missing");
  CHECK(message("vm_sizes:\n  - {name: A, family: F, vcpus: x, memory_gb: 1, isa: [avx2]}\n", kKube,
                kDefaults) == "malformed catalog vm_sizes.yaml: 'vcpus' has the wrong type");
  CHECK(message("vm_sizes:\n  - {name: A, family: F, vcpus: 1, memory_gb: 1, gpus: 1, isa: [a]}\n",
                kKube, kDefaults) ==
        "malformed catalog vm_sizes.yaml: 'A' has a device count without a model or the reverse");
  CHECK(message((std::string(kOneSize) + std::string(kOneSize).substr(10)).c_str(), kKube,
                kDefaults) == "malformed catalog vm_sizes.yaml: 'Standard_D3_v2' is listed twice");
  CHECK(message(kOneSize, "providers:\n  aks: {create: {min: '1.17', max: '1.12', source: s}}\n",
                kDefaults) ==
        "malformed catalog kubernetes.yaml: a version range is not MIN <= MAX");
  CHECK(message(kOneSize, kKube, "fast_prod_min_vcpus: 12\n") ==
        "malformed catalog defaults.yaml: 'dev_test_recommended_vcpus' is missing");
  CHECK(message(kOneSize, kKube, "- 1\n") ==
        "malformed catalog defaults.yaml: the top level is not a mapping");
}

}  // namespace
}  // namespace ferry::catalog

namespace ferry::catalog {
namespace {

TEST_CASE("ApiVersion picks the newest API version the declared release serves") {
  const Catalog& catalog = Catalog::Builtin();
  auto at = [&](std::string_view kind, std::string_view version) {
    return catalog.ApiVersion(kind, *ParseKubeVersion(version)).value_or("none");
  };
  CHECK(at("PodDisruptionBudget", "1.16.13") == "policy/v1beta1");
  CHECK(at("PodDisruptionBudget", "1.20.2") == "policy/v1beta1");
  CHECK(at("PodDisruptionBudget", "1.21.0") == "policy/v1");
  CHECK(at("PodDisruptionBudget", "1.27") == "policy/v1");
  CHECK(at("HorizontalPodAutoscaler", "1.17.9") == "none");
  CHECK(at("HorizontalPodAutoscaler", "1.18.14") == "autoscaling/v2beta2");
  CHECK(at("HorizontalPodAutoscaler", "1.22") == "autoscaling/v2beta2");
  CHECK(at("HorizontalPodAutoscaler", "1.23") == "autoscaling/v2");
  CHECK(at("HorizontalPodAutoscaler", "1.30") == "autoscaling/v2");
  CHECK(at("Deployment", "1.16") == "apps/v1");
  CHECK(at("HTTPRoute", "1.20") == "gateway.networking.k8s.io/v1beta1");
  CHECK(at("HTTPRoute", "1.26") == "gateway.networking.k8s.io/v1");
  CHECK(at("NoSuchKind", "1.20") == "none");
}

TEST_CASE("every kind render writes has an API version on every supported release") {
  const Catalog& catalog = Catalog::Builtin();
  for (const char* kind : {"ConfigMap", "Deployment", "Namespace", "Role", "RoleBinding", "Service",
                           "ServiceAccount", "NetworkPolicy", "PodDisruptionBudget", "HTTPRoute"}) {
    // Gateway API's CRDs need apiextensions.k8s.io/v1, so 1.16 and later.
    const int first = std::string_view(kind) == "HTTPRoute" ? 16 : 12;
    for (int minor = first; minor <= 32; ++minor) {
      CAPTURE(kind);
      CAPTURE(minor);
      CHECK(catalog.ApiVersion(kind, KubeVersion{1, minor, 0}).has_value());
    }
  }
}

}  // namespace
}  // namespace ferry::catalog

namespace ferry::catalog {
namespace {

TEST_CASE("the built-in catalog names each accelerator's device resource and nodes") {
  const Catalog& catalog = Catalog::Builtin();
  const Accelerator* gpu = catalog.FindAccelerator("gpu");
  REQUIRE(gpu != nullptr);
  CHECK(gpu->resource == "nvidia.com/gpu");
  CHECK(gpu->node_selector ==
        std::vector<std::pair<std::string, std::string>>{{"accelerator", "nvidia"}});
  REQUIRE(gpu->tolerations.size() == 1);
  CHECK(gpu->tolerations[0].effect == "NoSchedule");
  const Accelerator* fpga = catalog.FindAccelerator("fpga");
  REQUIRE(fpga != nullptr);
  CHECK(!fpga->resource.empty());
  CHECK(!fpga->node_selector.empty());
  CHECK(catalog.FindAccelerator("cpu") == nullptr);
}

TEST_CASE("Parse reads accelerators and rejects malformed ones") {
  const std::string kube = std::string(kKube) +
                           "accelerators:\n  gpu: {resource: x.io/gpu, source: s, node_selector: "
                           "{b: '2', a: '1'}}\n";
  const Catalog catalog = Catalog::Parse(kOneSize, kube, kDefaults);
  const Accelerator* gpu = catalog.FindAccelerator("gpu");
  REQUIRE(gpu != nullptr);
  // Sorted by label, whatever the order written.
  CHECK(gpu->node_selector ==
        std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "2"}});
  CHECK(gpu->tolerations.empty());
  CHECK_THROWS_WITH_AS(
      (void)Catalog::Parse(kOneSize, std::string(kKube) + "accelerators:\n  gpu: {source: s}\n",
                           kDefaults),
      "malformed catalog kubernetes.yaml: 'resource' is missing", std::runtime_error);
}

}  // namespace
}  // namespace ferry::catalog

// The standard library's catalogs (stdlib/catalog/*.yaml), compiled into the
// binary: VM sizes, supported Kubernetes versions, defaults. Data, not code:
// a new VM size or a new supported version is a YAML edit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::catalog {

struct VmSize {
  std::string name;    ///< "Standard_D3_v2"
  std::string family;  ///< "Dv2"
  std::int64_t vcpus = 0;
  double memory_gb = 0;
  std::int64_t gpus = 0;
  std::string gpu_model;  ///< "K80", "V100", "T4", "P40"...; empty without GPUs
  std::int64_t fpgas = 0;
  std::string fpga_model;  ///< "Arria10"; empty without FPGAs
  /// Instruction sets usable by generated code, best first: "avx512", "avx2", "sse4.2".
  std::vector<std::string> isa;
};

/// A `MAJOR.MINOR.PATCH` Kubernetes version; PATCH is 0 when not written.
struct KubeVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const KubeVersion&) const = default;
};

/// Parses "1.16", "1.16.13" or "v1.16.13"; nullopt otherwise.
auto ParseKubeVersion(std::string_view text) -> std::optional<KubeVersion>;
/// "1.16.13".
auto ToString(const KubeVersion& version) -> std::string;

/// An inclusive range of supported Kubernetes minor releases ("1.12" ..
/// "1.17": every patch of each) and the seed it comes from.
struct KubeRange {
  KubeVersion min;
  KubeVersion max;
  std::string source;

  /// Whether `version`'s MAJOR.MINOR lies in the range; the patch never matters.
  auto Contains(const KubeVersion& version) const -> bool;
  /// "1.12 .. 1.17".
  auto ToString() const -> std::string;
};

/// One API version that serves an object kind, over a range of minor releases.
struct KubeApi {
  std::string api_version;  ///< "policy/v1beta1"
  KubeVersion min;
  std::optional<KubeVersion> max;  ///< last minor release serving it; nullopt: still served
};

/// A taint that pods of an accelerator target tolerate (operator Equal).
struct Toleration {
  std::string key;
  std::string value;
  std::string effect;  ///< "NoSchedule", "PreferNoSchedule" or "NoExecute"
};

/// How a cluster offers one accelerator target ("gpu", "fpga") to pods.
struct Accelerator {
  std::string target;    ///< "gpu"
  std::string resource;  ///< the device plugin's extended resource, "nvidia.com/gpu"
  std::vector<std::pair<std::string, std::string>> node_selector;  ///< sorted by label
  std::vector<Toleration> tolerations;
  std::string source;
};

/// The images a target's bundles are built with and run on (for render's image plans).
struct TargetImages {
  std::string target;         ///< "cpu", "gpu", "fpga"
  std::string base_image;     ///< the built-in environment's image; also an environment's default
  std::string builder_image;  ///< compiles bundles: CMake, a C++ compiler, the target's SDK
};

struct Defaults {
  std::int64_t fast_prod_min_vcpus = 12;
  std::int64_t dev_test_recommended_vcpus = 2;
  std::int64_t max_versions_per_endpoint = 6;
  std::int64_t max_models_per_deployment = 1000;
  std::int64_t target_utilization = 70;
  /// Where prebuilt images are looked up after the workspace's registry, before building.
  std::string global_registry;
};

class Catalog {
 public:
  /// The catalog compiled into this binary. Parsed once; the data is tested.
  static auto Builtin() -> const Catalog&;
  /// Parses catalogs from YAML texts (for tests); throws std::runtime_error on malformed data.
  static auto Parse(std::string_view vm_sizes_yaml, std::string_view kubernetes_yaml,
                    std::string_view defaults_yaml) -> Catalog;

  /// The VM size named `name` (exact match), or nullptr.
  auto FindVmSize(std::string_view name) const -> const VmSize*;
  auto vm_sizes() const -> const std::vector<VmSize>& { return vm_sizes_; }
  /// The supported range for `provider` ("aks", "kubernetes", "local") when
  /// attaching (`attach` true) or creating a cluster.
  auto KubernetesRange(std::string_view provider, bool attach) const -> std::optional<KubeRange>;
  auto defaults() const -> const Defaults& { return defaults_; }
  /// The newest API version of `kind` that a cluster at `version` serves (by
  /// MAJOR.MINOR), or nullopt when that release serves none (or the kind is unknown).
  auto ApiVersion(std::string_view kind, const KubeVersion& version) const
      -> std::optional<std::string>;
  /// Every API version known for `kind`, oldest first (for messages).
  auto ApiVersions(std::string_view kind) const -> std::vector<KubeApi>;
  /// How clusters offer the accelerator `target` ("gpu", "fpga"), or nullptr.
  auto FindAccelerator(std::string_view target) const -> const Accelerator*;
  /// The images of the target `target` ("cpu", "gpu", "fpga"), or nullptr.
  auto FindTargetImages(std::string_view target) const -> const TargetImages*;

 private:
  std::vector<VmSize> vm_sizes_;
  struct ProviderRanges {
    std::string provider;
    std::optional<KubeRange> create;
    std::optional<KubeRange> attach;
  };
  std::vector<ProviderRanges> kube_ranges_;
  std::vector<std::pair<std::string, std::vector<KubeApi>>> kube_apis_;
  std::vector<Accelerator> accelerators_;
  std::vector<TargetImages> target_images_;
  Defaults defaults_;
};

}  // namespace ferry::catalog

#include "compiler/catalog/catalog.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string>

#include "compiler/support/embedded.h"

namespace ferry::catalog {
namespace {

// The catalogs are ferry's own data, so a malformed one is a bug in ferry,
// not a user error: it throws, and the tests prove the built-in one parses.
[[noreturn]] void Malformed(std::string_view file, const std::string& what) {
  throw std::runtime_error(fmt::format("malformed catalog {}: {}", file, what));
}

auto LoadRoot(std::string_view file, std::string_view text) -> YAML::Node {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) Malformed(file, "the top level is not a mapping");
    return root;
  } catch (const YAML::Exception& error) {
    Malformed(file, error.what());
  }
}

// A section small test catalogs may leave out: the mapping under `key`, or
// an empty one when it is missing.
auto OptionalMap(std::string_view file, const YAML::Node& root, const char* key) -> YAML::Node {
  const YAML::Node section = root[key];
  if (!section) return YAML::Node(YAML::NodeType::Map);
  if (!section.IsMap()) Malformed(file, fmt::format("'{}' is not a mapping", key));
  return section;
}

template <typename T>
auto Required(std::string_view file, const YAML::Node& node, const char* key) -> T {
  const YAML::Node value = node[key];
  if (!value || !value.IsScalar()) Malformed(file, fmt::format("'{}' is missing", key));
  try {
    return value.as<T>();
  } catch (const YAML::Exception&) {
    Malformed(file, fmt::format("'{}' has the wrong type", key));
  }
}

template <typename T>
auto Optional(std::string_view file, const YAML::Node& node, const char* key, T fallback) -> T {
  if (!node[key]) return fallback;
  return Required<T>(file, node, key);
}

auto ParseVmSize(const YAML::Node& node) -> VmSize {
  constexpr std::string_view kFile = "vm_sizes.yaml";
  if (!node.IsMap()) Malformed(kFile, "a VM size is not a mapping");
  VmSize size;
  size.name = Required<std::string>(kFile, node, "name");
  size.family = Required<std::string>(kFile, node, "family");
  size.vcpus = Required<std::int64_t>(kFile, node, "vcpus");
  size.memory_gb = Required<double>(kFile, node, "memory_gb");
  size.gpus = Optional<std::int64_t>(kFile, node, "gpus", 0);
  size.gpu_model = Optional<std::string>(kFile, node, "gpu_model", "");
  size.fpgas = Optional<std::int64_t>(kFile, node, "fpgas", 0);
  size.fpga_model = Optional<std::string>(kFile, node, "fpga_model", "");
  if (size.vcpus <= 0 || size.memory_gb <= 0 || size.gpus < 0 || size.fpgas < 0) {
    Malformed(kFile, fmt::format("'{}' has a non-positive figure", size.name));
  }
  if ((size.gpus > 0) != !size.gpu_model.empty() || (size.fpgas > 0) != !size.fpga_model.empty()) {
    Malformed(kFile,
              fmt::format("'{}' has a device count without a model or the reverse", size.name));
  }
  const YAML::Node isa = node["isa"];
  if (!isa || !isa.IsSequence() || isa.size() == 0) {
    Malformed(kFile, fmt::format("'{}' has no isa list", size.name));
  }
  for (const YAML::Node& item : isa) {
    if (!item.IsScalar()) Malformed(kFile, fmt::format("'{}' has a non-scalar isa", size.name));
    size.isa.push_back(item.Scalar());
  }
  return size;
}

auto ParseRange(const YAML::Node& node) -> std::optional<KubeRange> {
  constexpr std::string_view kFile = "kubernetes.yaml";
  if (!node) return std::nullopt;
  if (!node.IsMap()) Malformed(kFile, "a version range is not a mapping");
  const auto min = ParseKubeVersion(Required<std::string>(kFile, node, "min"));
  const auto max = ParseKubeVersion(Required<std::string>(kFile, node, "max"));
  if (!min || !max || *max < *min) Malformed(kFile, "a version range is not MIN <= MAX");
  return KubeRange{*min, *max, Required<std::string>(kFile, node, "source")};
}

auto ParseApi(const YAML::Node& node) -> KubeApi {
  constexpr std::string_view kFile = "kubernetes.yaml";
  if (!node.IsMap()) Malformed(kFile, "an api version is not a mapping");
  KubeApi api;
  api.api_version = Required<std::string>(kFile, node, "api_version");
  const auto min = ParseKubeVersion(Required<std::string>(kFile, node, "min"));
  if (!min) Malformed(kFile, fmt::format("'{}' has a malformed min", api.api_version));
  api.min = *min;
  if (node["max"]) {
    api.max = ParseKubeVersion(Required<std::string>(kFile, node, "max"));
    if (!api.max || *api.max < api.min) {
      Malformed(kFile, fmt::format("'{}' is not MIN <= MAX", api.api_version));
    }
  }
  return api;
}

auto ParseAccelerator(const std::string& target, const YAML::Node& node) -> Accelerator {
  constexpr std::string_view kFile = "kubernetes.yaml";
  if (!node.IsMap()) Malformed(kFile, fmt::format("accelerator '{}' is not a mapping", target));
  Accelerator accelerator;
  accelerator.target = target;
  accelerator.resource = Required<std::string>(kFile, node, "resource");
  accelerator.source = Required<std::string>(kFile, node, "source");
  const YAML::Node selector = node["node_selector"];
  if (selector && !selector.IsMap()) {
    Malformed(kFile,
              fmt::format("accelerator '{}' has a node_selector that is not a mapping", target));
  }
  for (const auto& label : selector ? selector : YAML::Node(YAML::NodeType::Map)) {
    if (!label.second.IsScalar()) {
      Malformed(kFile, fmt::format("accelerator '{}' has a non-scalar label", target));
    }
    accelerator.node_selector.emplace_back(label.first.Scalar(), label.second.Scalar());
  }
  std::sort(accelerator.node_selector.begin(), accelerator.node_selector.end());
  const YAML::Node tolerations = node["tolerations"];
  if (tolerations && !tolerations.IsSequence()) {
    Malformed(kFile, fmt::format("accelerator '{}' has tolerations that are not a list", target));
  }
  for (const YAML::Node& item : tolerations ? tolerations : YAML::Node(YAML::NodeType::Sequence)) {
    if (!item.IsMap()) Malformed(kFile, "a toleration is not a mapping");
    accelerator.tolerations.push_back(Toleration{
        .key = Required<std::string>(kFile, item, "key"),
        .value = Required<std::string>(kFile, item, "value"),
        .effect = Required<std::string>(kFile, item, "effect"),
    });
  }
  return accelerator;
}

// Reads digits from `text` at `pos` into `out`; false when there are none or
// they overflow an int.
auto ReadNumber(std::string_view text, std::size_t& pos, int& out) -> bool {
  const char* begin = text.data() + pos;
  const char* end = text.data() + text.size();
  // from_chars would accept a leading '-' for int; versions are digits only.
  if (begin == end || *begin < '0' || *begin > '9') return false;
  const auto [ptr, ec] = std::from_chars(begin, end, out);
  if (ec != std::errc()) return false;
  pos += static_cast<std::size_t>(ptr - begin);
  return true;
}

auto EmbeddedText(std::string_view path) -> std::string_view {
  const auto text = support::FindEmbedded(path);
  if (!text) throw std::runtime_error(fmt::format("catalog {} is not embedded", path));
  return *text;
}

}  // namespace

auto ParseKubeVersion(std::string_view text) -> std::optional<KubeVersion> {
  if (!text.empty() && text.front() == 'v') text.remove_prefix(1);
  KubeVersion version;
  std::size_t pos = 0;
  if (!ReadNumber(text, pos, version.major)) return std::nullopt;
  if (pos >= text.size() || text[pos] != '.') return std::nullopt;
  ++pos;
  if (!ReadNumber(text, pos, version.minor)) return std::nullopt;
  if (pos == text.size()) return version;
  if (text[pos] != '.') return std::nullopt;
  ++pos;
  if (!ReadNumber(text, pos, version.patch)) return std::nullopt;
  if (pos != text.size()) return std::nullopt;
  return version;
}

auto KubeRange::Contains(const KubeVersion& version) const -> bool {
  const KubeVersion minor{version.major, version.minor, 0};
  return KubeVersion{min.major, min.minor, 0} <= minor &&
         minor <= KubeVersion{max.major, max.minor, 0};
}

auto KubeRange::ToString() const -> std::string {
  return fmt::format("{}.{} .. {}.{}", min.major, min.minor, max.major, max.minor);
}

auto ToString(const KubeVersion& version) -> std::string {
  return fmt::format("{}.{}.{}", version.major, version.minor, version.patch);
}

auto Catalog::Builtin() -> const Catalog& {
  static const Catalog catalog = Parse(EmbeddedText("stdlib/catalog/vm_sizes.yaml"),
                                       EmbeddedText("stdlib/catalog/kubernetes.yaml"),
                                       EmbeddedText("stdlib/catalog/defaults.yaml"));
  return catalog;
}

auto Catalog::Parse(std::string_view vm_sizes_yaml, std::string_view kubernetes_yaml,
                    std::string_view defaults_yaml) -> Catalog {
  Catalog catalog;
  const YAML::Node sizes = LoadRoot("vm_sizes.yaml", vm_sizes_yaml)["vm_sizes"];
  if (!sizes || !sizes.IsSequence()) Malformed("vm_sizes.yaml", "'vm_sizes' is not a list");
  for (const YAML::Node& node : sizes) {
    VmSize size = ParseVmSize(node);
    if (catalog.FindVmSize(size.name) != nullptr) {
      Malformed("vm_sizes.yaml", fmt::format("'{}' is listed twice", size.name));
    }
    catalog.vm_sizes_.push_back(std::move(size));
  }

  const YAML::Node kubernetes = LoadRoot("kubernetes.yaml", kubernetes_yaml);
  const YAML::Node providers = kubernetes["providers"];
  if (!providers || !providers.IsMap())
    Malformed("kubernetes.yaml", "'providers' is not a mapping");
  for (const auto& entry : providers) {
    if (!entry.second.IsMap()) Malformed("kubernetes.yaml", "a provider is not a mapping");
    catalog.kube_ranges_.push_back(ProviderRanges{
        .provider = entry.first.Scalar(),
        .create = ParseRange(entry.second["create"]),
        .attach = ParseRange(entry.second["attach"]),
    });
  }

  for (const auto& entry : OptionalMap("kubernetes.yaml", kubernetes, "apis")) {
    if (!entry.second.IsSequence()) Malformed("kubernetes.yaml", "an api entry is not a list");
    std::vector<KubeApi> versions;
    for (const YAML::Node& item : entry.second) versions.push_back(ParseApi(item));
    catalog.kube_apis_.emplace_back(entry.first.Scalar(), std::move(versions));
  }

  for (const auto& entry : OptionalMap("kubernetes.yaml", kubernetes, "accelerators")) {
    catalog.accelerators_.push_back(ParseAccelerator(entry.first.Scalar(), entry.second));
  }

  constexpr std::string_view kDefaults = "defaults.yaml";
  const YAML::Node defaults = LoadRoot(kDefaults, defaults_yaml);
  Defaults& d = catalog.defaults_;
  d.fast_prod_min_vcpus = Required<std::int64_t>(kDefaults, defaults, "fast_prod_min_vcpus");
  d.dev_test_recommended_vcpus =
      Required<std::int64_t>(kDefaults, defaults, "dev_test_recommended_vcpus");
  d.max_versions_per_endpoint =
      Required<std::int64_t>(kDefaults, defaults, "max_versions_per_endpoint");
  d.max_models_per_deployment =
      Required<std::int64_t>(kDefaults, defaults, "max_models_per_deployment");
  d.target_utilization = Required<std::int64_t>(kDefaults, defaults, "target_utilization");
  // Optional, so that small test catalogs need not name images.
  d.global_registry = Optional<std::string>(kDefaults, defaults, "global_registry", "");
  for (const auto& entry : OptionalMap(kDefaults, defaults, "target_images")) {
    if (!entry.second.IsMap()) Malformed(kDefaults, "a target's images are not a mapping");
    catalog.target_images_.push_back(TargetImages{
        .target = entry.first.Scalar(),
        .base_image = Required<std::string>(kDefaults, entry.second, "base_image"),
        .builder_image = Required<std::string>(kDefaults, entry.second, "builder_image"),
    });
  }
  return catalog;
}

auto Catalog::FindVmSize(std::string_view name) const -> const VmSize* {
  for (const VmSize& size : vm_sizes_) {
    if (size.name == name) return &size;
  }
  return nullptr;
}

auto Catalog::KubernetesRange(std::string_view provider, bool attach) const
    -> std::optional<KubeRange> {
  for (const ProviderRanges& ranges : kube_ranges_) {
    if (ranges.provider == provider) return attach ? ranges.attach : ranges.create;
  }
  return std::nullopt;
}

auto Catalog::ApiVersion(std::string_view kind, const KubeVersion& version) const
    -> std::optional<std::string> {
  const KubeVersion minor{version.major, version.minor, 0};
  std::optional<std::string> newest;
  KubeVersion newest_min;
  for (const KubeApi& api : ApiVersions(kind)) {
    const bool served = KubeVersion{api.min.major, api.min.minor, 0} <= minor &&
                        (!api.max || minor <= KubeVersion{api.max->major, api.max->minor, 0});
    if (served && (!newest || newest_min < api.min)) {
      newest = api.api_version;
      newest_min = api.min;
    }
  }
  return newest;
}

auto Catalog::ApiVersions(std::string_view kind) const -> std::vector<KubeApi> {
  for (const auto& [name, versions] : kube_apis_) {
    if (name == kind) return versions;
  }
  return {};
}

auto Catalog::FindAccelerator(std::string_view target) const -> const Accelerator* {
  for (const Accelerator& accelerator : accelerators_) {
    if (accelerator.target == target) return &accelerator;
  }
  return nullptr;
}

auto Catalog::FindTargetImages(std::string_view target) const -> const TargetImages* {
  for (const TargetImages& images : target_images_) {
    if (images.target == target) return &images;
  }
  return nullptr;
}

}  // namespace ferry::catalog

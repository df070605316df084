// The Kubernetes executor's helpers: object references, JSON, base64, redaction.
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "compiler/apply/kubernetes_internal.h"
#include "compiler/support/value.h"

namespace ferry::apply::kube {

auto ObjectRef::Resource() const -> std::string {
  std::string kind_lower = kind;
  std::transform(kind_lower.begin(), kind_lower.end(), kind_lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::size_t slash = api_version.find('/');
  if (slash == std::string::npos) return kind_lower;
  // kind.version.group: the version the object was written in, so a read
  // returns the fields ferry recorded.
  return kind_lower + "." + api_version.substr(slash + 1) + "." + api_version.substr(0, slash);
}

auto ObjectRef::Describe() const -> std::string {
  return kind + " " + (ns.empty() ? name : ns + "/" + name);
}

auto ObjectRef::NamespaceArgs() const -> std::vector<std::string> {
  if (ns.empty()) return {};
  return {"-n", ns};
}

auto ParseJson(std::string_view text) -> std::optional<nlohmann::json> {
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

auto AttributeString(const plan::Attributes& attributes, std::string_view key) -> std::string {
  const auto found = attributes.find(key);
  if (found == attributes.end()) return "";
  std::optional<nlohmann::json> value = ParseJson(found->second);
  if (!value || !value->is_string()) return "";
  return value->get<std::string>();
}

auto ObjectFromAttributes(std::string_view address, const plan::Attributes& attributes)
    -> std::optional<ObjectRef> {
  // object.<cluster>.<Kind>.<name>; names are DNS labels, so the last part has no dot.
  constexpr std::string_view kPrefix = "object.";
  if (address.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = address.substr(kPrefix.size());
  const std::size_t first = rest.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = rest.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  ObjectRef ref;
  ref.cluster = std::string(rest.substr(0, first));
  ref.kind = std::string(rest.substr(first + 1, second - first - 1));
  ref.name = std::string(rest.substr(second + 1));
  ref.ns = AttributeString(attributes, "metadata.namespace");
  ref.api_version = AttributeString(attributes, "apiVersion");
  if (const std::string kind = AttributeString(attributes, "kind"); !kind.empty()) ref.kind = kind;
  if (const std::string name = AttributeString(attributes, "metadata.name"); !name.empty()) {
    ref.name = name;
  }
  if (ref.api_version.empty()) ref.api_version = "v1";
  return ref;
}

auto SecretFromAttributes(std::string_view address, const plan::Attributes& attributes)
    -> ObjectRef {
  ObjectRef ref;
  ref.kind = "Secret";
  ref.api_version = "v1";
  ref.cluster = AttributeString(attributes, "cluster");
  ref.ns = AttributeString(attributes, "namespace");
  ref.name = AttributeString(attributes, "name");
  if (ref.name.empty()) {
    // As render's AuthOf names them.
    const std::string endpoint(address.substr(address.find('.') + 1));
    ref.name =
        endpoint + (AttributeString(attributes, "mode") == "token" ? "-token-signing" : "-keys");
  }
  return ref;
}

auto CanonicalScalar(const nlohmann::json& value) -> std::string {
  support::Value converted;
  if (value.is_string()) {
    converted = support::Value(value.get<std::string>());
  } else if (value.is_boolean()) {
    converted = support::Value(value.get<bool>());
  } else if (value.is_number_integer()) {
    converted = support::Value(value.get<std::int64_t>());
  } else if (value.is_number_float()) {
    converted = support::Value(value.get<double>());
  }
  return support::ToCanonicalJson(converted);
}

auto IntAt(const nlohmann::json& document, const char* pointer) -> long long {
  const nlohmann::json::json_pointer path(pointer);
  if (!document.contains(path)) return 0;
  const nlohmann::json& value = document.at(path);
  return value.is_number_integer() ? value.get<long long>() : 0;
}

auto Base64Encode(std::string_view bytes) -> std::string {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(length, 0)));
  return out;
}

auto Base64Decode(std::string_view text, std::string& out) -> bool {
  out.assign(3 * (text.size() / 4) + 3, '\0');
  if (text.size() % 4 != 0) return false;
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0) return false;
  std::size_t size = static_cast<std::size_t>(length);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;
  out.resize(size);
  return true;
}

auto Redact(std::string text, const std::vector<std::string>& secrets) -> std::string {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (const std::string& form : {secret, Base64Encode(secret)}) {
      for (std::size_t at = text.find(form); at != std::string::npos; at = text.find(form, at)) {
        text.replace(at, form.size(), "<redacted>");
      }
    }
  }
  return text;
}

auto SecretManifest(const ObjectRef& secret, std::string_view project, const EndpointSecret& values)
    -> std::string {
  nlohmann::json data = nlohmann::json::object();
  if (values.mode == "token") {
    data["signing-key"] = Base64Encode(values.signing_key);
  } else {
    data["primary"] = Base64Encode(values.primary);
    data["secondary"] = Base64Encode(values.secondary);
  }
  nlohmann::json labels = {{"app.kubernetes.io/managed-by", "ferry"},
                           {"app.kubernetes.io/part-of", std::string(project)},
                           {"ferry.dev/project", std::string(project)}};
  if (!secret.cluster.empty()) labels["ferry.dev/cluster"] = secret.cluster;
  const nlohmann::json manifest = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata", {{"name", secret.name}, {"namespace", secret.ns}, {"labels", labels}}},
      {"type", "Opaque"},
      {"data", data},
  };
  return manifest.dump();
}

namespace {

// The integer attribute at `key` (canonical JSON), or `fallback`.
auto AttributeInt(const plan::Attributes& attributes, std::string_view key, long long fallback)
    -> long long {
  const auto found = attributes.find(key);
  if (found == attributes.end()) return fallback;
  const std::optional<nlohmann::json> value = ParseJson(found->second);
  return value && value->is_number_integer() ? value->get<long long>() : fallback;
}

// The router's autoscale range of `deployment` from its routes.yaml text. A
// routes text that does not parse names no autoscaled Deployment.
auto RouterRange(const std::string& routes_text, std::string_view deployment)
    -> std::optional<ReplicaRange> {
  try {
    const YAML::Node routes = YAML::Load(routes_text);
    // DEV_TEST clusters run no autoscaler.
    if (routes["autoscaler"] && !routes["autoscaler"]["enabled"].as<bool>(true)) {
      return std::nullopt;
    }
    for (const YAML::Node& endpoint : routes["endpoints"]) {
      for (const YAML::Node& version : endpoint["versions"]) {
        if (version["deployment"].as<std::string>("") != deployment) continue;
        const YAML::Node autoscale = version["autoscale"];
        if (!autoscale || !autoscale["enabled"].as<bool>(false)) return std::nullopt;
        ReplicaRange range;
        range.min = autoscale["min_replicas"].as<long long>(1);
        range.max = autoscale["max_replicas"].as<long long>(range.min);
        range.owner = "the router";
        return range;
      }
    }
  } catch (const YAML::Exception&) {
  }
  return std::nullopt;
}

}  // namespace

auto AutoscaledRange(const std::vector<ResourceView>& resources, const ObjectRef& deployment)
    -> std::optional<ReplicaRange> {
  for (const auto& [address, attributes] : resources) {
    const std::optional<ObjectRef> ref = ObjectFromAttributes(address, *attributes);
    if (!ref || ref->cluster != deployment.cluster || ref->ns != deployment.ns) continue;
    if (ref->kind == "HorizontalPodAutoscaler" &&
        AttributeString(*attributes, "spec.scaleTargetRef.name") == deployment.name &&
        AttributeString(*attributes, "spec.scaleTargetRef.kind") == "Deployment") {
      ReplicaRange range;
      range.min = AttributeInt(*attributes, "spec.minReplicas", 1);
      range.max = AttributeInt(*attributes, "spec.maxReplicas", range.min);
      range.owner = "HorizontalPodAutoscaler " + ref->name;
      return range;
    }
    if (ref->kind == "ConfigMap" && ref->name == "ferry-router") {
      if (auto range = RouterRange(AttributeString(*attributes, "data.routes.yaml"),
                                   deployment.name)) {
        return range;
      }
    }
  }
  return std::nullopt;
}

auto AutoscaledRange(const plan::State& state, const ObjectRef& deployment)
    -> std::optional<ReplicaRange> {
  std::vector<ResourceView> resources;
  for (const plan::ResourceState& resource : state.resources) {
    if (resource.type == "object") resources.emplace_back(resource.address, &resource.attributes);
  }
  return AutoscaledRange(resources, deployment);
}

auto AutoscaledRange(const plan::Desired& desired, const ObjectRef& deployment)
    -> std::optional<ReplicaRange> {
  std::vector<ResourceView> resources;
  for (const plan::Resource& resource : desired.resources) {
    if (resource.type == "object") resources.emplace_back(resource.address, &resource.attributes);
  }
  return AutoscaledRange(resources, deployment);
}

auto WithoutSpecReplicas(std::string_view manifest) -> std::string {
  std::istringstream lines{std::string(manifest)};
  std::string out;
  bool in_spec = false;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != ' ') in_spec = line == "spec:";
    if (in_spec && line.rfind("  replicas:", 0) == 0) continue;
    out += line + "\n";
  }
  return out;
}

}  // namespace ferry::apply::kube

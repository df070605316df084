#include "compiler/render/bundles.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "compiler/render/value.h"
#include "compiler/support/sha256.h"

namespace ferry::render {
namespace {

// bundle.yaml's own format version, for the programs that read it.
constexpr std::int64_t kBundleFormat = 1;

// The manifest's scoring samples are stored as canonical JSON; the bundle
// keeps them as structured YAML so people can read them.
auto FromJson(const nlohmann::json& json) -> Value {
  switch (json.type()) {
    case nlohmann::json::value_t::boolean:
      return Value(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(json.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto number = json.get<std::uint64_t>();
      if (number <= static_cast<std::uint64_t>(INT64_MAX)) {
        return Value(static_cast<std::int64_t>(number));
      }
      return Value(static_cast<double>(number));
    }
    case nlohmann::json::value_t::number_float:
      return Value(json.get<double>());
    case nlohmann::json::value_t::string:
      return Value(json.get<std::string>());
    case nlohmann::json::value_t::array: {
      List items;
      for (const nlohmann::json& item : json) items.push_back(FromJson(item));
      return Value(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Map entries;
      for (const auto& [key, item] : json.items()) entries.emplace(key, FromJson(item));
      return Value(std::move(entries));
    }
    default:
      return Value();
  }
}

auto SampleValue(const std::string& json_text) -> Value {
  // The IR holds JSON that ferry itself wrote, so it parses; stay total anyway.
  nlohmann::json parsed = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? Value(json_text) : FromJson(parsed);
}

// The instruction sets generated code may use: those of the cluster's VM size.
auto InstructionSets(const ir::Project& project, const catalog::Catalog& catalog,
                     const ir::Endpoint& endpoint) -> List {
  List isa;
  if (endpoint.cluster == ir::kNone) return isa;
  const catalog::VmSize* size = catalog.FindVmSize(project.clusters[endpoint.cluster].vm_size);
  if (size == nullptr) return isa;
  for (const std::string& name : size->isa) isa.emplace_back(name);
  return isa;
}

// Where a model's bytes go inside the bundle: "model.onnx" for the common
// one-model version, one file per model version otherwise.
auto ModelFileName(const ir::Version& version, const ir::Model& model,
                   const ir::ModelVersion& model_version) -> std::string {
  if (version.models.size() == 1) return "model.onnx";
  return fmt::format("models/{}-{}.onnx", model.name, model_version.version);
}

}  // namespace

auto BundleDirectory(const ir::Endpoint& endpoint, const ir::Version& version) -> std::string {
  return fmt::format("bundles/{}-{}", endpoint.name, version.name);
}

auto BundleHash(std::string_view directory, std::span<const RenderedFile> files) -> std::string {
  List entries;
  std::vector<const RenderedFile*> sorted;
  for (const RenderedFile& file : files) sorted.push_back(&file);
  std::sort(sorted.begin(), sorted.end(),
            [](const RenderedFile* a, const RenderedFile* b) { return a->path < b->path; });
  const std::string prefix = std::string(directory) + "/";
  for (const RenderedFile* file : sorted) {
    std::string_view path = file->path;
    if (path.starts_with(prefix)) path.remove_prefix(prefix.size());
    entries.push_back(
        Value::Object({{"path", path}, {"sha256", support::Sha256Hex(file->contents)}}));
  }
  return support::Sha256Hex(ToCanonicalJson(Value(std::move(entries))));
}

auto RenderBundle(const ir::Project& project, const catalog::Catalog& catalog,
                  const ir::Endpoint& endpoint, const ir::Version& version,
                  const RenderInputs& inputs, diag::Sink& sink) -> std::optional<Bundle> {
  Bundle bundle;
  bundle.ref.endpoint = endpoint.name;
  bundle.ref.version = version.name;
  bundle.ref.directory = BundleDirectory(endpoint, version);

  bool complete = true;
  List models;
  for (const ir::ModelRef& ref : version.models) {
    if (ref.model == ir::kNone || ref.version == ir::kNone) {
      complete = false;
      continue;
    }
    const ir::Model& model = project.models[ref.model];
    const ir::ModelVersion& model_version = model.versions[ref.version];
    const auto bytes = inputs.model_files.find(model_version.path);
    const bool matches = bytes != inputs.model_files.end() &&
                         support::Sha256Hex(bytes->second) == model_version.sha256;
    if (!matches) {
      sink.Add(diag::Code::kRenderModelBytes, model_version.origin.At("path"),
               model_version.origin.PathOf("path"),
               bytes == inputs.model_files.end()
                   ? fmt::format("model '{}@{}': the bytes of '{}' were not given to render, so "
                                 "bundle '{}' is not written",
                                 model.name, model_version.version, model_version.path,
                                 bundle.ref.directory)
                   : fmt::format("model '{}@{}': '{}' changed after the check (its sha256 is now "
                                 "{}), so bundle '{}' is not written",
                                 model.name, model_version.version, model_version.path,
                                 support::Sha256Hex(bytes->second), bundle.ref.directory));
      complete = false;
      continue;
    }
    const std::string file = ModelFileName(version, model, model_version);
    models.push_back(Value::Object({{"name", model.name},
                                    {"version", model_version.version},
                                    {"path", model_version.path},
                                    {"sha256", model_version.sha256},
                                    {"file", file}}));
    bundle.files.push_back(RenderedFile{
        .path = bundle.ref.directory + "/" + file, .contents = bytes->second, .binary = true});
  }
  if (!complete) return std::nullopt;

  Value manifest = Value::Object({
      {"bundle", kBundleFormat},
      {"endpoint", endpoint.name},
      {"version", version.name},
      {"target", ir::ToString(endpoint.target)},
      {"isa", InstructionSets(project, catalog, endpoint)},
      {"models", Value(std::move(models))},
  });
  if (!endpoint.input_sample_json.empty()) {
    manifest["samples"]["input"] = SampleValue(endpoint.input_sample_json);
  }
  if (!endpoint.output_sample_json.empty()) {
    manifest["samples"]["output"] = SampleValue(endpoint.output_sample_json);
  }
  bundle.files.push_back(
      RenderedFile{.path = bundle.ref.directory + "/bundle.yaml", .contents = ToYaml(manifest)});

  std::sort(bundle.files.begin(), bundle.files.end(),
            [](const RenderedFile& a, const RenderedFile& b) { return a.path < b.path; });
  bundle.ref.sha256 = BundleHash(bundle.ref.directory, bundle.files);
  return bundle;
}

auto RenderBundles(const ir::Project& project, const catalog::Catalog& catalog,
                   const RenderInputs& inputs, diag::Sink& sink) -> std::vector<Bundle> {
  std::vector<Bundle> bundles;
  for (const ir::Endpoint& endpoint : project.endpoints) {
    for (const ir::Version& version : endpoint.versions) {
      if (auto bundle = RenderBundle(project, catalog, endpoint, version, inputs, sink)) {
        bundles.push_back(std::move(*bundle));
      }
    }
  }
  return bundles;
}

}  // namespace ferry::render

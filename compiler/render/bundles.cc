#include "compiler/render/bundles.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "compiler/codegen/backend.h"
#include "compiler/support/sha256.h"
#include "compiler/support/value.h"

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

// The instruction set a CPU bundle is compiled for: the first of the cluster's
// VM size (the catalog lists them best first) that the code generator knows,
// else portable code.
auto CompiledIsa(const List& isa) -> codegen::Isa {
  for (const Value& name : isa) {
    if (!name.is_string()) continue;
    if (auto parsed = codegen::ParseIsa(name.string())) return *parsed;
  }
  return codegen::Isa::kPortable;
}

// The back end that generated a bundle's code, as bundle.yaml says it.
// GPU and FPGA versions carry the CPU back end's code until their own back
// ends exist (issue 9): the bundle then builds and scores on any machine, and
// the device back ends are checked against it.
auto BackendNote(ir::Target target) -> std::string_view {
  switch (target) {
    case ir::Target::Cpu:
      return "cpu";
    case ir::Target::Gpu:
      return "cpu (host reference; the gpu back end is issue 9)";
    case ir::Target::Fpga:
      return "cpu (host reference; the fpga back end is issue 9)";
  }
  return "cpu";
}

// Merges the model compiler's bundle.yaml into render's: its `isa`, and per
// model what was compiled. Render's own keys already say which model it is
// (`onnx` is left out); `select` is the name requests use when it is not the
// model's (two versions of one model in one bundle).
void MergeCompiled(const Value& compiled, Value& manifest) {
  manifest["isa"] = compiled.map().at("isa");
  List& models = manifest["models"].list();
  const List& facts = compiled.map().at("models").list();
  for (std::size_t i = 0; i < models.size() && i < facts.size(); ++i) {
    for (const auto& [key, value] : facts[i].map()) {
      if (key == "onnx") continue;
      if (key == "name") {
        if (value != models[i]["name"]) models[i]["select"] = value;
        continue;
      }
      models[i][key] = value;
    }
  }
}

// What a request selects a model by: its name, or name@version when the
// version serves two versions of that model.
auto SelectName(const ir::Project& project, const ir::Version& version, const ir::ModelRef& ref)
    -> std::string {
  const ir::Model& model = project.models[ref.model];
  const auto same_model =
      std::count_if(version.models.begin(), version.models.end(),
                    [&](const ir::ModelRef& other) { return other.model == ref.model; });
  if (same_model == 1) return model.name;
  return fmt::format("{}@{}", model.name, model.versions[ref.version].version);
}

// A model version's folder under the bundle's models/ when the bundle
// serves several (its ONNX file, code and weights).
auto ModelFolder(const ir::Model& model, const ir::ModelVersion& model_version) -> std::string {
  return fmt::format("{}-{}", model.name, model_version.version);
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
  std::vector<codegen::ModelSource> sources;
  const bool several = version.models.size() > 1;
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
    const std::string folder = ModelFolder(model, model_version);
    const std::string file = several ? "models/" + folder + "/model.onnx" : "model.onnx";
    models.push_back(Value::Object({{"name", model.name},
                                    {"version", model_version.version},
                                    {"path", model_version.path},
                                    {"sha256", model_version.sha256},
                                    {"file", file}}));
    bundle.files.push_back(RenderedFile{
        .path = bundle.ref.directory + "/" + file, .contents = bytes->second, .binary = true});
    sources.push_back(codegen::ModelSource{.name = SelectName(project, version, ref),
                                           .file = model_version.path,
                                           .bytes = bytes->second,
                                           .folder = folder});
  }
  if (!complete) return std::nullopt;

  const List cluster_isa = InstructionSets(project, catalog, endpoint);
  Value manifest = Value::Object({
      {"bundle", kBundleFormat},
      {"endpoint", endpoint.name},
      {"version", version.name},
      {"target", ir::ToString(endpoint.target)},
      {"cluster_isa", cluster_isa},
      {"models", Value(std::move(models))},
  });
  if (!sources.empty()) {
    // The model compiler's files; its runtime/ copy is written once, at OUT/runtime,
    // and its bundle.yaml is merged into this one.
    std::optional<codegen::CompiledBundle> compiled =
        codegen::CompileModels(sources, codegen::Target::kCpu, CompiledIsa(cluster_isa), sink);
    if (!compiled) return std::nullopt;
    for (codegen::File& file : compiled->files) {
      if (file.path == "bundle.yaml") continue;
      std::vector<RenderedFile>& into =
          file.path.starts_with("runtime/") ? bundle.runtime : bundle.files;
      std::string path = file.path.starts_with("runtime/") ? std::move(file.path)
                                                           : bundle.ref.directory + "/" + file.path;
      into.push_back(RenderedFile{
          .path = std::move(path), .contents = std::move(file.bytes), .binary = file.binary});
    }
    MergeCompiled(compiled->manifest, manifest);
    manifest["backend"] = BackendNote(endpoint.target);
  }
  if (!endpoint.input_sample_json.empty()) {
    manifest["samples"]["input"] = SampleValue(endpoint.input_sample_json);
  }
  if (!endpoint.output_sample_json.empty()) {
    manifest["samples"]["output"] = SampleValue(endpoint.output_sample_json);
  }
  bundle.files.push_back(
      RenderedFile{.path = bundle.ref.directory + "/bundle.yaml",
                   .contents = "# Rendered by ferry; do not edit.\n" + ToYaml(manifest)});

  std::sort(bundle.files.begin(), bundle.files.end(),
            [](const RenderedFile& a, const RenderedFile& b) { return a.path < b.path; });
  std::sort(bundle.runtime.begin(), bundle.runtime.end(),
            [](const RenderedFile& a, const RenderedFile& b) { return a.path < b.path; });
  // The hash covers the runtime the bundle builds with, as if it were inside.
  std::vector<RenderedFile> hashed = bundle.files;
  hashed.insert(hashed.end(), bundle.runtime.begin(), bundle.runtime.end());
  bundle.ref.sha256 = BundleHash(bundle.ref.directory, hashed);
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

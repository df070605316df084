#include "compiler/render/bundles.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "compiler/codegen/backend.h"
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

// Why a version's bundle holds no generated code, or "" when it does.
// GPU and FPGA versions carry the CPU back end's code until their own back
// ends exist (issue 9): the bundle then builds and scores on any machine, and
// the device back ends are checked against it.
auto NoCodeReason(const ir::Version& version) -> std::string {
  if (version.models.size() != 1) return "not generated (one model per generated bundle)";
  return "";
}

// The back end that generated a bundle's code, as bundle.yaml says it.
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

// codegen's bundle.yaml without the lines render writes itself (its header
// comment, bundle, target; model, which `models` says with the bundle's file
// name): what it adds is the compiled code's facts.
auto CodegenFacts(std::string_view yaml) -> std::string {
  std::string out;
  while (!yaml.empty()) {
    std::size_t end = yaml.find('\n');
    std::string_view line = yaml.substr(0, end == std::string_view::npos ? yaml.size() : end + 1);
    yaml.remove_prefix(line.size());
    if (line.starts_with("#") || line.starts_with("bundle:") || line.starts_with("target:") ||
        line.starts_with("model:")) {
      continue;
    }
    out += line;
  }
  return out;
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
  std::string_view compiled_model_path;
  std::string_view compiled_model_bytes;
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
    compiled_model_path = model_version.path;
    compiled_model_bytes = bytes->second;
  }
  if (!complete) return std::nullopt;

  const List cluster_isa = InstructionSets(project, catalog, endpoint);
  const std::string no_code = NoCodeReason(version);
  std::string codegen_facts;
  if (no_code.empty()) {
    // The model compiler's files; its runtime/ copy is written once, at OUT/runtime.
    std::optional<std::vector<codegen::File>> files =
        codegen::CompileBundle(compiled_model_path, compiled_model_bytes, codegen::Target::kCpu,
                               CompiledIsa(cluster_isa), sink);
    if (!files) return std::nullopt;
    for (codegen::File& file : *files) {
      if (file.path == "bundle.yaml") {
        codegen_facts = CodegenFacts(file.bytes);
      } else if (file.path.starts_with("runtime/")) {
        bundle.runtime.push_back(RenderedFile{
            .path = file.path, .contents = std::move(file.bytes), .binary = file.binary});
      } else {
        bundle.files.push_back(RenderedFile{.path = bundle.ref.directory + "/" + file.path,
                                            .contents = std::move(file.bytes),
                                            .binary = file.binary});
      }
    }
  }

  Value manifest = Value::Object({
      {"bundle", kBundleFormat},
      {"endpoint", endpoint.name},
      {"version", version.name},
      {"target", ir::ToString(endpoint.target)},
      {"cluster_isa", cluster_isa},
      {"models", Value(std::move(models))},
  });
  if (no_code.empty()) {
    manifest["backend"] = BackendNote(endpoint.target);
  } else {
    manifest["code"] = no_code;
  }
  if (!endpoint.input_sample_json.empty()) {
    manifest["samples"]["input"] = SampleValue(endpoint.input_sample_json);
  }
  if (!endpoint.output_sample_json.empty()) {
    manifest["samples"]["output"] = SampleValue(endpoint.output_sample_json);
  }
  std::string yaml = "# Rendered by ferry; do not edit.\n" + ToYaml(manifest);
  if (!codegen_facts.empty()) yaml += "# The compiled model (ferry compile):\n" + codegen_facts;
  bundle.files.push_back(
      RenderedFile{.path = bundle.ref.directory + "/bundle.yaml", .contents = std::move(yaml)});

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

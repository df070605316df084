#include "compiler/driver/compile.h"

#include <utility>

#include "compiler/check/check.h"
#include "compiler/manifest/build_ir.h"
#include "compiler/manifest/load_yaml.h"
#include "compiler/manifest/schema.h"
#include "compiler/support/sha256.h"

namespace ferry::driver {
namespace {

/// The sha256 of every file the project names (model files, labels and
/// calibration files), read next to the manifest. Each path is read once even
/// when several declarations share it.
auto GatherDigests(const support::FileSystem& fs, const std::string& manifest_path,
                   const ir::Project& project) -> check::ModelFileDigests {
  check::ModelFileDigests digests;
  std::string folder = support::DirName(manifest_path);
  const auto gather = [&](const std::string& path) {
    if (path.empty() || digests.contains(path)) return;
    std::optional<std::string> bytes = fs.Read(support::JoinPath(folder, path));
    digests[path] = bytes ? std::optional(support::Sha256Hex(*bytes)) : std::nullopt;
  };
  for (const ir::Model& model : project.models) {
    for (const ir::ModelVersion& version : model.versions) gather(version.path);
  }
  for (const ir::Endpoint& endpoint : project.endpoints) {
    gather(endpoint.stages.labels_path);
    gather(endpoint.calibration_path);
  }
  return digests;
}

}  // namespace

auto ManifestPath(std::string_view path_argument) -> std::string {
  // Decided by the name alone, so resolving stays pure: a YAML file name is
  // the manifest, anything else is the folder that holds ferry.yaml.
  std::string_view path = path_argument;
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path.empty() || path == ".") return "ferry.yaml";
  if (path.ends_with(".yaml") || path.ends_with(".yml")) return std::string(path);
  return support::JoinPath(path, "ferry.yaml");
}

auto Compile(const support::FileSystem& fs, const std::string& manifest_path,
             const catalog::Catalog& catalog, diag::Sink& sink) -> CompileResult {
  CompileResult result;
  std::optional<std::string> text = fs.Read(manifest_path);
  if (!text) {
    sink.Add(diag::Code::kFileUnreadable, diag::Location{.file = manifest_path}, "",
             "cannot read the manifest '" + manifest_path + "'");
    return result;
  }
  const std::string& source = result.sources[manifest_path] = std::move(*text);
  std::optional<manifest::Document> document = manifest::LoadYaml(manifest_path, source, sink);
  if (!document) return result;
  manifest::InvalidNodes invalid = manifest::ValidateSchema(*document, sink);
  ir::Project project = manifest::BuildProject(*document, invalid, sink);
  check::Check(project, catalog, GatherDigests(fs, manifest_path, project), sink);
  result.project = std::move(project);
  return result;
}

}  // namespace ferry::driver

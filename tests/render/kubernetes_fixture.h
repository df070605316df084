// What the Kubernetes renderer's tests share (kubernetes*_test.cc): a small
// manifest builder, rendering a manifest or a sample with an image for every
// endpoint version, and readers for the rendered objects. Header-only: the
// test glob builds only *_test.cc files.
#pragma once

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/driver/compile.h"
#include "compiler/ir/project.h"
#include "compiler/render/kubernetes.h"
#include "compiler/support/file_system.h"
#include "compiler/support/sha256.h"

namespace ferry::render::kube_testing {

inline constexpr const char* kModelBytes = "onnx bytes";
inline constexpr const char* kDir = "kubernetes/prod/";

/// A project 'churn' (registry contoso.azurecr.io) with one model (two
/// versions), the cluster `cluster` (a YAML mapping body, e.g. "{vm_size: ...}")
/// named 'prod', and the endpoints `endpoints` (lines indented two spaces).
inline auto Manifest(const std::string& cluster, const std::string& endpoints) -> std::string {
  const std::string digest = support::Sha256Hex(kModelBytes);
  return "ferry: 1\n"
         "project: churn\n"
         "workspace: {name: ws, region: westeurope, registry: contoso.azurecr.io}\n"
         "models:\n"
         "  scorer:\n"
         "    versions:\n"
         "      1: {path: models/m.onnx, sha256: " +
         digest +
         "}\n"
         "      2: {path: models/m.onnx, sha256: " +
         digest +
         "}\n"
         "clusters:\n"
         "  prod: " +
         cluster +
         "\n"
         "endpoints:\n" +
         endpoints;
}

/// A FAST_PROD cluster of 3 x 4 vCPUs at `version` with `extra` fields.
inline auto Cluster(const std::string& version, const std::string& extra = "") -> std::string {
  return "{provider: kubernetes, vm_size: Standard_D3_v2, agent_count: 3, kubernetes_version: \"" +
         version + "\"" + extra + "}";
}

/// The seeds' worked example: a 20% treatment, b 40% default and control -> 20/80.
inline const std::string kRollout =
    "  churn:\n"
    "    cluster: prod\n"
    "    versions:\n"
    "      a: {model: scorer@1, traffic: 20, role: treatment, autoscale: {min_replicas: 1, "
    "max_replicas: 4}}\n"
    "      b: {model: scorer@2, traffic: 40, role: control, default: true, resources: {cpu: 0.5, "
    "memory_gb: 1}, autoscale: {min_replicas: 2, max_replicas: 8, target_utilization: 60}}\n";

/// A DEV_TEST cluster of one Standard_D2_v2 node on Kubernetes 1.20 (no closing brace:
/// callers add fields and the "}").
inline const std::string kDevTest =
    "{provider: kubernetes, purpose: dev_test, vm_size: Standard_D2_v2, agent_count: 1, "
    "kubernetes_version: \"1.20.2\"";

/// The image reference the fixture gives `endpoint`'s `version`.
inline auto TestImage(const std::string& endpoint, const std::string& version) -> std::string {
  return "contoso.azurecr.io/ferry/test:" + endpoint + "-" + version;
}

/// An image for every endpoint version, as Render's build plans give them.
inline auto ImagesFor(const ir::Project& project) -> std::vector<ImageRef> {
  std::vector<ImageRef> images;
  for (const ir::Endpoint& endpoint : project.endpoints) {
    for (const ir::Version& version : endpoint.versions) {
      images.push_back(ImageRef{.endpoint = endpoint.name,
                                .version = version.name,
                                .environment = "test",
                                .target = endpoint.target,
                                .sha256 = support::Sha256Hex(endpoint.name + "/" + version.name),
                                .reference = TestImage(endpoint.name, version.name)});
    }
  }
  return images;
}

struct Rendered {
  std::vector<RenderedFile> files;
  diag::Sink sink;

  auto Paths() const -> std::vector<std::string> {
    std::vector<std::string> paths;
    for (const RenderedFile& file : files) paths.push_back(file.path);
    return paths;
  }
  auto Has(const std::string& path) const -> bool {
    return std::any_of(files.begin(), files.end(),
                       [&](const RenderedFile& file) { return file.path == path; });
  }
  auto Text(const std::string& path) const -> std::string {
    for (const RenderedFile& file : files) {
      if (file.path == path) return file.contents;
    }
    FAIL("no file " << path);
    return "";
  }
  auto Yaml(const std::string& path) const -> YAML::Node { return YAML::Load(Text(path)); }
};

/// Compiles `manifest` (which must pass the checks) with the model file beside it.
inline auto CompileManifest(const std::string& manifest) -> ir::Project {
  support::MemoryFileSystem fs;
  fs.Add("p/models/m.onnx", kModelBytes);
  fs.Add("p/ferry.yaml", manifest);
  diag::Sink compile_sink;
  driver::CompileResult result =
      driver::Compile(fs, "p/ferry.yaml", catalog::Catalog::Builtin(), compile_sink);
  std::string messages;
  for (const diag::Diagnostic& d : compile_sink.diagnostics()) messages += d.message + "\n";
  CAPTURE(messages);
  REQUIRE_FALSE(compile_sink.HasErrors());
  REQUIRE(result.project.has_value());
  return std::move(*result.project);
}

/// Compiles `manifest` (which must pass the checks) and renders its objects.
inline auto Render(const std::string& manifest) -> Rendered {
  const ir::Project project = CompileManifest(manifest);
  Rendered rendered;
  rendered.files =
      RenderKubernetes(project, catalog::Catalog::Builtin(), ImagesFor(project), rendered.sink);
  return rendered;
}

/// Renders the objects of the sample folder `name` from the source tree.
inline auto RenderSample(const std::string& name) -> Rendered {
  support::DiskFileSystem disk;
  diag::Sink compile_sink;
  const std::string manifest =
      driver::ManifestPath(std::string(FERRY_SOURCE_DIR) + "/samples/" + name);
  driver::CompileResult result =
      driver::Compile(disk, manifest, catalog::Catalog::Builtin(), compile_sink);
  REQUIRE_FALSE(compile_sink.HasErrors());
  REQUIRE(result.project.has_value());
  Rendered rendered;
  rendered.files = RenderKubernetes(*result.project, catalog::Catalog::Builtin(),
                                    ImagesFor(*result.project), rendered.sink);
  return rendered;
}

inline auto Strings(const YAML::Node& list) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const YAML::Node& item : list) out.push_back(item.as<std::string>());
  return out;
}

/// Whether `value` is a valid Kubernetes label value: at most 63 characters,
/// alphanumerics, '-', '_' and '.', starting and ending alphanumeric.
inline auto IsLabelValue(const std::string& value) -> bool {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (value.empty()) return true;
  if (value.size() > 63 || !alnum(value.front()) || !alnum(value.back())) return false;
  return std::all_of(value.begin(), value.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

}  // namespace ferry::render::kube_testing

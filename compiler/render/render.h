// The back half of the pipeline for outputs: a checked project in, every
// file needed to serve it out. Pure: the same project and inputs give the
// same bytes; writing them to disk is the CLI's job.
//
// Layout under OUT (paths in RenderedFile are relative to it):
//   kubernetes/<cluster>/<kind>-<name>.yaml   one object per file
//   images/<environment>-<target>/build.yaml   image build plan (hashes, lookup order, steps)
//   images/<environment>-<target>/Dockerfile   for users who build with Docker or Buildah
//   bundles/<endpoint>-<version>/...            scoring bundles (generated C++, weights)
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/support/value.h"

namespace ferry::render {

// Render writes every document as support's sorted-key Value.
using support::List;
using support::Map;
using support::ToCanonicalJson;
using support::ToYaml;
using support::Value;

struct RenderedFile {
  std::string path;  ///< relative to OUT, '/'-separated
  std::string contents;
  /// Bytes that are not text (model weights): golden files keep only their digest.
  bool binary = false;
};

/// What render reads besides the IR: the model files' bytes, keyed by the
/// model version's path as written in the manifest (relative to it).
struct RenderInputs {
  /// Model, FPGA calibration and label files, keyed by the path the manifest gives.
  std::map<std::string, std::string, std::less<>> model_files;
};

/// One scoring bundle's identity, as the image plans and Deployments see it.
struct BundleRef {
  std::string endpoint;
  std::string version;
  std::string directory;  ///< "bundles/<endpoint>-<version>"
  std::string sha256;     ///< over the bundle's files (paths and bytes)
};

/// One container image: an environment on a target with one bundle in it.
struct ImageRef {
  std::string endpoint;
  std::string version;
  std::string environment;  ///< the environment's name, or "builtin-<target>"
  ir::Target target = ir::Target::Cpu;
  std::string sha256;  ///< the content hash: base image, steps, environment, bundle
  std::string reference;  ///< "<registry>/<repository>:<tag>" as Deployments use it
};

struct RenderResult {
  std::vector<RenderedFile> files;  ///< sorted by path
  std::vector<BundleRef> bundles;   ///< one per endpoint version, in declaration order
  std::vector<ImageRef> images;     ///< one per endpoint version, in declaration order
};

/// Renders `project`. Refuses (adds an error, returns no files) when the
/// project has unresolved traffic or references; callers run the checks first.
auto Render(const ir::Project& project, const catalog::Catalog& catalog,
            const RenderInputs& inputs, diag::Sink& sink) -> RenderResult;

}  // namespace ferry::render

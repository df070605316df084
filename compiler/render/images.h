// Image build plans: per environment × target, images/<environment>-<target>/
// holds build.yaml (the environment's content hash, and per endpoint version
// built on it the image's hash, reference, lookup order and build) and a
// multi-stage Dockerfile. An image is identified by what goes into it: the
// environment (base and builder images, steps, build flags, variables,
// target) and the bundle. Names, descriptions, traffic and replicas do not
// count, so changing them never rebuilds an image.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/render/render.h"

namespace ferry::render {

/// The environment one endpoint version builds on: its own, or the target's
/// built-in one ("builtin-<target>") when the version names none.
struct ResolvedEnvironment {
  std::string name;
  bool builtin = false;
  ir::Target target = ir::Target::Cpu;
  std::string base_image;     ///< as written, else the target's from the catalog
  std::string builder_image;  ///< the target's, from the catalog
  std::vector<std::string> steps;
  std::vector<std::string> build_flags;
  std::map<std::string, std::string> variables;
  const ir::Registry* registry = nullptr;  ///< the base image's private registry, if any
};

/// Resolves `version`'s environment on `endpoint`'s target.
auto ResolveEnvironment(const ir::Project& project, const catalog::Catalog& catalog,
                        const ir::Endpoint& endpoint, const ir::Version& version)
    -> ResolvedEnvironment;

/// The environment's content hash: sha256 over the canonical JSON of its
/// base image, builder image, steps, build flags, variables, target and the
/// Dockerfile recipe's version. Not its name, registry credentials or order
/// of variables.
auto EnvironmentHash(const ResolvedEnvironment& environment) -> std::string;

/// The image's content hash: sha256 over the canonical JSON of the
/// environment's hash and the bundle's hash.
auto ImageHash(std::string_view environment_sha256, std::string_view bundle_sha256) -> std::string;

struct RenderedImages {
  std::vector<RenderedFile> files;  ///< build.yaml and Dockerfile per environment × target
  std::vector<ImageRef> images;     ///< in the order of `bundles`
};

/// The build plans of every bundle's image. `bundles` come from RenderBundles.
/// Two different environments that would share a folder (a user's
/// environment named like a built-in one) are E0704; the second one's images
/// are left out.
auto RenderImages(const ir::Project& project, const catalog::Catalog& catalog,
                  std::span<const BundleRef> bundles, diag::Sink& sink) -> RenderedImages;

}  // namespace ferry::render

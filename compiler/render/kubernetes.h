// The Kubernetes objects of a checked project: per cluster that hosts an
// endpoint, its namespace, per endpoint version a Deployment and a Service
// (and a PodDisruptionBudget when it runs more than one replica), and the
// cluster's front end: ferry's router (routing: router, the default) or
// Gateway API HTTPRoutes with HPAs (routing: gateway). One object per file,
// kubernetes/<cluster>/<kind>-<name>.yaml, API versions as the cluster's
// declared Kubernetes version serves them (catalog); a kind it does not serve
// is E0701 and that object is not written.
#pragma once

#include <span>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/render/render.h"

namespace ferry::render {

/// Renders every cluster's objects, sorted by path. `images` gives each
/// endpoint version's image (looked up by endpoint and version; Render passes
/// RenderImages's, one per version). Endpoints whose traffic or cluster did
/// not resolve are skipped (callers run the checks first), and so are
/// endpoints with a version that has no image in `images`.
auto RenderKubernetes(const ir::Project& project, const catalog::Catalog& catalog,
                      std::span<const ImageRef> images, diag::Sink& sink)
    -> std::vector<RenderedFile>;

}  // namespace ferry::render

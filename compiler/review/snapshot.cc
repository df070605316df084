#include "compiler/review/snapshot.h"

#include <utility>

#include "compiler/driver/render.h"

namespace ferry::review {

auto TakeSnapshot(const support::FileSystem& fs, const std::string& manifest_path,
                  const catalog::Catalog& catalog, std::string revision, std::string commit)
    -> Snapshot {
  Snapshot snapshot;
  snapshot.revision = std::move(revision);
  snapshot.commit = std::move(commit);
  // No manifest at all is the project being added or removed, not an unreadable file.
  snapshot.manifest_found = fs.Read(manifest_path).has_value();
  if (!snapshot.manifest_found) return snapshot;
  diag::Sink sink;
  driver::RenderRun run = driver::CompileAndRender(fs, manifest_path, sink, catalog);
  snapshot.project = std::move(run.project);
  snapshot.diagnostics = sink.Sorted();
  snapshot.sources = std::move(run.sources);
  snapshot.rendered = std::move(run.result);
  return snapshot;
}

auto TakeRevisionSnapshot(const std::shared_ptr<GitRepository>& repository,
                          std::string_view revision, const std::string& manifest_path,
                          const catalog::Catalog& catalog) -> RevisionSnapshot {
  RevisionTree tree = ReadRevision(repository, revision);
  if (!tree.error.empty()) return {.snapshot = {}, .error = std::move(tree.error)};
  return {.snapshot =
              TakeSnapshot(*tree.tree, manifest_path, catalog, std::string(revision), tree.commit),
          .error = ""};
}

}  // namespace ferry::review

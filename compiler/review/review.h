// Reviews: what a change to a project does, compared semantically between two
// compiled revisions (the domain, the diagnostics, the rendered objects) and
// the risks a reviewer should not miss. Pure: snapshots in, a report out, and
// three printers (terminal text, a pull-request comment, stable JSON
// documented in docs/diff.md). Reading revisions from git is snapshot.h's job.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/diag/print.h"
#include "compiler/ir/project.h"
#include "compiler/render/render.h"

namespace ferry::review {

/// One side of a review: what the compiler made of the project at one revision.
struct Snapshot {
  std::string revision;         ///< as the user spelled it ("HEAD~1", "main")
  std::string commit;           ///< the full commit id it resolved to ("" for a work tree)
  bool manifest_found = false;  ///< false: no ferry.yaml at that revision (project added/removed)
  std::optional<ir::Project> project;         ///< when the manifest loaded (even with check errors)
  std::vector<diag::Diagnostic> diagnostics;  ///< everything compile+check(+render) reported
  diag::SourceMap sources;                    ///< for file:line in reports
  render::RenderResult rendered;              ///< empty when errors prevented render
};

/// What happened to one thing between BASE and HEAD.
enum class ChangeKind { Added, Removed, Renamed, Modified };

/// One field before and after, as printed ("Standard_D3_v2", "3", "on").
struct FieldChange {
  std::string field;   ///< "vm_size", "autoscale.max_replicas", "spec.replicas"
  std::string before;  ///< "" when absent in BASE
  std::string after;   ///< "" when absent in HEAD
};

/// A change to one declaration of the manifest.
struct DomainChange {
  /// "project", "workspace", "model", "environment", "cluster", "endpoint" or "version".
  std::string scope;
  std::string name;      ///< in HEAD ("faq", "faq-ranker@3", "faq/b" for a version)
  std::string old_name;  ///< in BASE when kind is Renamed, else ""
  ChangeKind kind = ChangeKind::Modified;
  /// Modified: every field that differs. Added: the declaration's main
  /// settings (before ""). Removed and Renamed: none (a rename changes nothing
  /// else). In a fixed order per scope (docs/diff.md).
  std::vector<FieldChange> fields;
};

/// One version's share of its endpoint's requests, as resolved (percent).
struct TrafficShare {
  std::string version;           ///< the name in HEAD (in BASE when removed)
  std::string old_version;       ///< the name in BASE when the version was renamed, else ""
  std::optional<double> before;  ///< nullopt: the version is absent (or unresolved) in BASE
  std::optional<double> after;   ///< nullopt: the version is absent (or unresolved) in HEAD
};

/// How an endpoint's resolved split moved: only the versions whose share changed.
struct TrafficChange {
  std::string endpoint;
  std::vector<TrafficShare> shares;  ///< sorted by version name
  std::string default_before;        ///< "" when none / endpoint absent
  std::string default_after;
  std::string control_before;  ///< "" when no version is the control
  std::string control_after;
  bool base_present = false;   ///< BASE has the endpoint
  bool head_present = false;   ///< HEAD has the endpoint
  bool base_resolved = false;  ///< BASE has the endpoint and its split resolved
  bool head_resolved = false;  ///< HEAD has the endpoint and its split resolved
};

/// A diagnostic that the change introduced (present in HEAD only) or fixed
/// (present in BASE only); matched by code and manifest path, not lines.
struct DiagnosticChange {
  bool introduced = true;
  diag::Diagnostic diagnostic;  ///< as reported in HEAD (introduced) or BASE (fixed)
};

/// A rendered output that was created, deleted or updated.
struct ObjectChange {
  /// "kubernetes" (an object), "image" (an image build plan or Dockerfile),
  /// "bundle" (a scoring bundle, compared by digest) or "file".
  std::string category;
  std::string
      path;  ///< the rendered path ("kubernetes/prod/deployment-faq-a.yaml", "bundles/faq-a")
  std::string kind;  ///< the Kubernetes kind ("Deployment"), else ""
  std::string name;  ///< metadata.name, or the bundle's "<endpoint>-<version>"
  ChangeKind change = ChangeKind::Modified;  ///< Added, Removed or Modified
  std::vector<FieldChange> fields;           ///< field-level diff of YAML documents, by dotted path
  std::string sha256_before;                 ///< bundles and binary files
  std::string sha256_after;
};

/// An endpoint version's container image whose content hash changed.
struct ImageChange {
  std::string endpoint;
  std::string version;
  std::string before;         ///< image reference in BASE, "" when the version is new
  std::string after;          ///< image reference in HEAD, "" when it is gone
  std::string sha256_before;  ///< the image's content hash in BASE
  std::string sha256_after;
};

enum class RiskKind {
  NewVersionServes,  ///< traffic moved to a version that never served before
  AuthDisabled,      ///< an endpoint turned all authentication off
  VmSizeChanged,     ///< a cluster's VM size changed (only the node count may change)
  CapacityToZero,    ///< a change leaves an endpoint with nothing serving
};

/// Something a reviewer should not miss.
struct Risk {
  RiskKind kind = RiskKind::NewVersionServes;
  std::string subject;  ///< "endpoint faq", "cluster prod"
  std::string message;
  diag::Location location;  ///< in HEAD when the thing still exists, else in BASE
};

/// What changed between two snapshots; filled by Compare, printed by the Format* functions.
struct Report {
  std::string base_revision;
  std::string base_commit;
  std::string head_revision;
  std::string head_commit;
  bool base_manifest = false;  ///< a manifest was found at BASE
  bool head_manifest = false;  ///< a manifest was found at HEAD
  std::string project;         ///< the project's name (HEAD's, else BASE's)
  /// Whether both sides' manifests loaded (a missing manifest counts as an
  /// empty project); when false, domain and traffic are empty and
  /// `domain_note` says why.
  bool domain_compared = false;
  std::string domain_note;
  /// Whether both sides rendered so that objects could be compared; when
  /// false, objects and images are empty and `objects_note` says why.
  bool objects_compared = false;
  std::string objects_note;
  std::vector<DomainChange> domain;           ///< sorted by scope order, then name
  std::vector<TrafficChange> traffic;         ///< sorted by endpoint
  std::vector<DiagnosticChange> diagnostics;  ///< introduced first, each sorted by position
  std::vector<ObjectChange> objects;          ///< sorted by path
  std::vector<ImageChange> images;            ///< sorted by endpoint, version
  std::vector<Risk> risks;                    ///< sorted by kind, then subject

  /// Whether the change does anything: a project added or removed, any domain,
  /// traffic, diagnostic or object change. Risks imply one of those.
  auto HasChanges() const -> bool;
};

/// Compares BASE with HEAD. Never fails: a side without a manifest or with
/// errors is compared as far as it goes and the report says so.
auto Compare(const Snapshot& base, const Snapshot& head) -> Report;

/// For terminals: one section per kind of change, "a: 90% → 20%" lines.
auto FormatText(const Report& report) -> std::string;
/// A pull-request comment: a summary table, then details, object diffs in
/// collapsed <details> sections.
auto FormatMarkdown(const Report& report) -> std::string;
/// Stable JSON for tools (the schema is in docs/diff.md).
auto FormatJson(const Report& report) -> std::string;

/// "added", "removed", "renamed" or "modified".
auto ToString(ChangeKind kind) -> std::string_view;
/// "new-version-serves", "auth-disabled", "vm-size-changed" or "capacity-to-zero".
auto ToString(RiskKind kind) -> std::string_view;

}  // namespace ferry::review

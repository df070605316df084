// The parts of Compare, one per kind of change, and the value spelling the
// printers share. Internal to compiler/review.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/review/review.h"

namespace ferry::review::detail {

/// The declaration called `name` in `items`, or nullptr (declarations are
/// few: a scan is enough).
template <typename T>
auto FindNamed(const std::vector<T>& items, std::string_view name) -> const T* {
  for (const T& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}
inline auto FindEndpoint(const ir::Project& project, std::string_view name) -> const ir::Endpoint* {
  return FindNamed(project.endpoints, name);
}
inline auto FindVersion(const ir::Endpoint& endpoint, std::string_view name) -> const ir::Version* {
  return FindNamed(endpoint.versions, name);
}
inline auto FindCluster(const ir::Project& project, std::string_view name) -> const ir::Cluster* {
  return FindNamed(project.clusters, name);
}

/// Which BASE declaration a HEAD declaration continues, by name or by a
/// detected rename: old name -> new name for endpoints and, per endpoint
/// (keyed by its HEAD name), for versions.
struct Renames {
  std::map<std::string, std::string> endpoints;
  std::map<std::string, std::map<std::string, std::string>> versions;
};

/// Declarations added, removed, renamed or modified; fills `renames`.
auto CompareDomain(const ir::Project& base, const ir::Project& head, Renames& renames)
    -> std::vector<DomainChange>;

/// Every endpoint whose resolved split, default or control changed.
auto CompareTraffic(const ir::Project& base, const ir::Project& head, const Renames& renames)
    -> std::vector<TrafficChange>;

/// Diagnostics only one side has, matched by code and manifest path.
auto CompareDiagnostics(const std::vector<diag::Diagnostic>& base,
                        const std::vector<diag::Diagnostic>& head) -> std::vector<DiagnosticChange>;

/// Rendered files created, deleted or updated (YAML field by field, bundles by digest).
auto CompareObjects(const render::RenderResult& base, const render::RenderResult& head)
    -> std::vector<ObjectChange>;

/// Endpoint versions whose image content hash changed.
auto CompareImages(const render::RenderResult& base, const render::RenderResult& head)
    -> std::vector<ImageChange>;

/// The risk flags of a change between two loaded projects.
auto FindRisks(const ir::Project& base, const ir::Project& head, const Renames& renames)
    -> std::vector<Risk>;

/// A percentage as printed: "20%", "33.33%" (two decimals at most).
auto Percent(double value) -> std::string;
/// A number as printed: shortest form, no trailing zeros ("0.5", "3").
auto Number(double value) -> std::string;
/// Whether two resolved shares are the same figure.
auto SameShare(double a, double b) -> bool;
/// The first 12 hex digits of a sha256, for terminals and comments.
auto ShortHash(std::string_view sha256) -> std::string;
/// "file:line:col" (or "file" when the line is unknown).
auto LocationText(const diag::Location& location) -> std::string;

/// "a: 90% → 20%, b: 10% → 80% (default moved a → b)"; "—" for a share
/// that does not exist on that side.
auto TrafficLine(const TrafficChange& change) -> std::string;
/// A field value on one line: "—" when empty, newlines as "\\n", cut at `max` characters.
auto DisplayValue(std::string_view value, std::size_t max = 100) -> std::string;
/// "HEAD~1 (0123456789ab)", or the revision alone for a work tree.
auto SideName(const std::string& revision, const std::string& commit) -> std::string;

}  // namespace ferry::review::detail

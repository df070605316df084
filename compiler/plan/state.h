// The recorded state: what ferry has applied for a project, one entry per
// resource, with the executor's own records (process ids, cache paths, ...).
// The text format is JSON (schemas/state.schema.json, docs/plan.md); parsing
// never throws: every problem is a StateError naming the file and place.
// Reading and writing the file (atomically, under a lock) is compiler/apply's job.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/plan/resources.h"

namespace ferry::plan {

/// The only state format this ferry writes; newer ones are refused.
inline constexpr std::int64_t kStateFormat = 1;
/// The ferry that writes states and plans (cli::kVersion).
inline constexpr std::string_view kFerryVersion = "0.1.0";

struct ResourceState {
  std::string address;
  std::string type;
  std::string hash;  ///< the desired hash it was applied with
  Attributes attributes;
  /// The executor's records, e.g. {"pid": "1234", "port": "41817", "path": "..."}.
  std::map<std::string, std::string, std::less<>> live;
  /// Created but failed (e.g. its readiness check): replaced by the next apply.
  bool tainted = false;
};

struct State {
  std::int64_t format = kStateFormat;
  std::string ferry_version;  ///< of the ferry that wrote it
  /// Random id fixed when the state is first written: a saved plan names it,
  /// so a plan made against another state (a re-created project) is stale.
  std::string lineage;
  std::string project;
  std::string executor;     ///< "local" | "kubernetes"
  std::int64_t serial = 0;  ///< +1 per write
  std::vector<ResourceState> resources;  ///< sorted by address

  auto Find(std::string_view address) const -> const ResourceState*;
  auto Find(std::string_view address) -> ResourceState*;
  /// Replaces (or inserts, keeping the order) the entry with `resource.address`.
  void Put(ResourceState resource);
  /// Removes the entry at `address` (no-op when absent).
  void Remove(std::string_view address);
};

struct StateError {
  std::string file;
  int line = 0;  ///< 0: not about one place
  int column = 0;
  std::string message;  ///< what is wrong and how to fix it
  auto ToString() const -> std::string;  ///< "FILE:LINE:COL: MESSAGE" or "FILE: MESSAGE"
};

/// Parses a state file's text; `file` names it in errors. Refuses a newer
/// format ("written by ferry X, format N; this ferry reads format 1"), bad
/// JSON (line and column), missing or mistyped fields, duplicate addresses.
auto ParseState(std::string_view text, std::string_view file, State& state)
    -> std::optional<StateError>;

/// Pretty JSON, keys sorted, resources by address, ending in a newline.
auto SerializeState(const State& state) -> std::string;

}  // namespace ferry::plan

// Helpers of BuildProject: reading one mapping's typed fields while skipping
// nodes the schema rejected and recording where each field was written.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/manifest/schema.h"
#include "compiler/manifest/yaml_tree.h"

namespace ferry::manifest {

/// What every builder function needs. Names whose declaration was rejected
/// are "poisoned": references to them stay unresolved without a follow-on error.
struct BuildContext {
  const Document& document;
  const InvalidNodes& invalid;
  diag::Sink& sink;
  ir::Project& project;
  std::set<std::string, std::less<>> poisoned_models;
  std::set<std::string, std::less<>> poisoned_model_versions;  ///< "name@version"
  std::set<std::string, std::less<>> poisoned_environments;
  std::set<std::string, std::less<>> poisoned_clusters;

  /// Whether the schema rejected `node` (nullptr counts as usable absence).
  auto IsInvalid(const Node* node) const -> bool {
    return node != nullptr && invalid.contains(node);
  }
};

/// Reads the fields of one mapping. Absent, rejected or mistyped values
/// leave the output untouched (the default); every written field's value
/// location goes to origin.fields under `prefix` + name.
class FieldReader {
 public:
  FieldReader(const BuildContext& context, const Node* mapping, ir::Origin& origin,
              std::string prefix = "")
      : context_(context), mapping_(mapping), origin_(origin), prefix_(std::move(prefix)) {}

  /// The usable value of `name`, or nullptr.
  auto Get(std::string_view name) const -> const Node*;
  /// The value of `name` as written, even when rejected, or nullptr.
  auto Written(std::string_view name) const -> const Node*;
  /// Whether `name` has a usable value.
  auto Has(std::string_view name) const -> bool { return Get(name) != nullptr; }
  /// The manifest path of `name`'s value.
  auto PathOf(std::string_view name) const -> std::string {
    return origin_.PathOf(prefix_ + std::string(name));
  }

  void String(std::string_view name, std::string& out) const;
  void Number(std::string_view name, double& out) const;
  void Integer(std::string_view name, std::int64_t& out) const;
  void Boolean(std::string_view name, bool& out) const;
  void StringList(std::string_view name, std::vector<std::string>& out) const;
  void StringMap(std::string_view name, std::map<std::string, std::string>& out) const;
  /// The reader of the nested mapping `name` (fields recorded as "name.x").
  auto Nested(std::string_view name) const -> FieldReader;

 private:
  const BuildContext& context_;
  const Node* mapping_;
  ir::Origin& origin_;
  std::string prefix_;
};

/// In a poisoned set: the whole table was rejected, so every name is.
inline constexpr std::string_view kEverything = "*";

/// Whether `name` (or the whole table) is poisoned.
auto IsPoisoned(const std::set<std::string, std::less<>>& poisoned, std::string_view name) -> bool;

/// The Origin of a declaration whose name is `key` at manifest path `path`.
auto OriginOf(const BuildContext& context, const Node* at, std::string path) -> ir::Origin;

/// Calls `build(name, key, value)` for each entry of the mapping `table`
/// whose key and value were accepted and whose value is a mapping; the names
/// of the others go to `poisoned` (kEverything when the table was rejected).
void ForEachDeclared(
    const BuildContext& context, const Node* table, std::set<std::string, std::less<>>& poisoned,
    const std::function<void(const std::string&, const Node*, const Node*)>& build);

/// Builds every endpoint of the manifest (build_ir_endpoints.cc).
void BuildEndpoints(BuildContext& context, const Node* table);

}  // namespace ferry::manifest

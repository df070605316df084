// The manifest as a YAML tree that remembers where every node came from.
// Built by LoadYaml from yaml-cpp's event parser (not YAML::Node), so ferry
// controls duplicate keys, aliases and positions itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diagnostic.h"

namespace ferry::manifest {

/// The YAML 1.2 core-schema type of a node, resolved once by the loader.
enum class NodeKind { Null, Bool, Int, Float, String, Sequence, Mapping };

/// A position in the source text. Lines and columns count from 1.
struct Mark {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

struct Node;

/// One key/value pair of a mapping, in source order.
struct Entry {
  const Node* key = nullptr;
  const Node* value = nullptr;
};

/// A YAML node. Nodes are owned by their Document; aliases share the
/// anchored node, so a node may be reachable from several parents.
struct Node {
  NodeKind kind = NodeKind::Null;
  Mark mark;
  /// Columns the node spans from `mark` when it is a plain scalar on one line; 0 otherwise.
  std::uint32_t width = 0;
  /// The loader already reported a problem with this node (an alias cycle,
  /// a tag): later stages treat it as invalid and say nothing more about it.
  bool reported = false;
  /// The scalar's text as written (after YAML unescaping); empty for collections.
  std::string text;
  /// Sequence items, in order.
  std::vector<const Node*> items;
  /// Mapping entries, in source order. Keys are unique (the loader rejects duplicates).
  std::vector<Entry> entries;

  auto IsScalar() const -> bool { return kind != NodeKind::Sequence && kind != NodeKind::Mapping; }
  auto IsNumber() const -> bool { return kind == NodeKind::Int || kind == NodeKind::Float; }
  /// The value of `key` in a mapping, or nullptr (also when this is not a mapping).
  auto Find(std::string_view key) const -> const Node*;
  /// The key node of `key` in a mapping, or nullptr.
  auto FindKey(std::string_view key) const -> const Node*;
  /// The number for Int/Float nodes (0 otherwise).
  auto AsDouble() const -> double;
  /// The value for Int nodes (0 otherwise; saturates on overflow).
  auto AsInt() const -> std::int64_t;
  /// The value for Bool nodes (false otherwise).
  auto AsBool() const -> bool;
  /// A short name of the kind for messages: "a string", "a mapping", ...
  auto KindName() const -> std::string_view;
};

/// A parsed manifest: the file name, its text (for printing source lines)
/// and the node tree.
class Document {
 public:
  explicit Document(std::string file) : file_(std::move(file)) {}

  auto file() const -> const std::string& { return file_; }
  /// The root node; never null for a Document returned by LoadYaml.
  auto root() const -> const Node* { return root_; }
  /// A location in this document for `node` (file, line, column, end column for scalars).
  auto LocationOf(const Node* node) const -> diag::Location;

  /// Creates a node owned by this document (used by the loader and tests).
  auto NewNode(NodeKind kind, Mark mark) -> Node*;
  void set_root(const Node* root) { root_ = root; }

 private:
  std::string file_;
  std::vector<std::unique_ptr<Node>> nodes_;
  const Node* root_ = nullptr;
};

}  // namespace ferry::manifest

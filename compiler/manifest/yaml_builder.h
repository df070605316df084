// Turns yaml-cpp's parser events into a Document, enforcing ferry's rules on
// keys, tags, aliases and size as the events arrive. Internal to the
// manifest stage; LoadYaml is the public entry.
#pragma once

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/manifest/load_yaml.h"
#include "compiler/manifest/yaml_text.h"
#include "compiler/manifest/yaml_tree.h"

namespace ferry::manifest::detail {

/// "a.b" from "a" and "b"; just the segment at the top.
auto JoinManifestPath(std::string_view parent, std::string_view segment) -> std::string;

/// Thrown by the builder to stop the parser after a fatal error it reported.
struct StopParsing {};

class TreeBuilder final : public YAML::EventHandler {
 public:
  TreeBuilder(const SourceText& source, const LoadLimits& limits, Document& document,
              diag::Sink& sink);

  /// The manifest path of the innermost open collection ("" at the top).
  auto CurrentPath() const -> std::string;
  /// The manifest path of the first `count` open collections.
  auto PathOf(std::size_t count) const -> std::string;

  /// Where the innermost open flow collection starting with `bracket`
  /// ('[' or '{') opens, and its manifest path.
  auto OpenBracket(char bracket) const -> std::optional<std::pair<diag::Location, std::string>>;

  void OnDocumentStart(const YAML::Mark& mark) override;
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override;
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override;
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override;
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override;
  void OnSequenceEnd() override;
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override;
  void OnMapEnd() override;
  void OnAnchor(const YAML::Mark& mark, const std::string& name) override;

 private:
  // A collection still being filled.
  struct Frame {
    Node* node = nullptr;
    // The offset of the collection's first character, after any anchor or tag.
    std::size_t offset = 0;
    // This collection's step in the manifest path: a key, an index, or "".
    std::string segment;
    YAML::anchor_t anchor = 0;
    // Nodes this collection stands for once aliases are expanded.
    std::size_t size = 1;
    // Levels of collections from this one down, aliases expanded.
    std::size_t height = 1;
    // For mappings: the key waiting for its value, and whether to drop the pair.
    const Node* key = nullptr;
    bool drop_pair = false;
    std::map<std::string, const Node*, std::less<>> keys;
  };
  // What an anchor names, filled in once its node is complete.
  struct Anchored {
    const Node* node = nullptr;
    std::string name;
    bool open = true;
    std::size_t size = 1;
    std::size_t height = 0;
  };

  auto MarkOf(const YAML::Mark& mark) const -> Mark;
  auto LocationAt(const YAML::Mark& mark) const -> diag::Location;
  auto ValueStart(const YAML::Mark& mark) const -> std::size_t;
  auto ChildSegment() const -> std::string;
  auto ChildPath() const -> std::string;
  void CheckQuotesClosed(const YAML::Mark& mark);
  void SetWidth(Node* node, const YAML::Mark& mark) const;
  auto ScalarKind(const YAML::Mark& mark, const std::string& tag, const std::string& value)
      -> NodeKind;
  auto StartCollection(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       NodeKind kind) -> Node*;
  void EndCollection();
  void RecordAnchor(YAML::anchor_t anchor, const Node* node, bool open);
  void Attach(const Node* node, std::size_t size, std::size_t height);
  void AttachToMapping(Frame& frame, const Node* node);
  void CheckKey(Frame& frame, const Node* key);
  void CountNodes(std::size_t size, std::size_t height, const Mark& at);

  const SourceText& source_;
  const LoadLimits& limits_;
  Document& document_;
  diag::Sink& sink_;
  std::vector<Frame> frames_;
  std::vector<Anchored> anchors_;
  std::string pending_anchor_name_;
  std::size_t expanded_ = 0;
  bool saw_alias_ = false;
  bool has_root_ = false;
};

}  // namespace ferry::manifest::detail

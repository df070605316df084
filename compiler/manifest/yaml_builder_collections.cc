// The collection half of TreeBuilder: sequences, mappings and their keys,
// anchors, and the size and depth limits.
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "compiler/manifest/yaml_builder.h"
#include "compiler/manifest/yaml_scalar.h"

namespace ferry::manifest::detail {
namespace {

auto IsCollectionTagFor(std::string_view tag, NodeKind kind) -> bool {
  return tag == "?" || tag == "!" || CoreTagKind(tag) == kind;
}

}  // namespace

void TreeBuilder::OnSequenceStart(const YAML::Mark& mark, const std::string& tag,
                                  YAML::anchor_t anchor, YAML::EmitterStyle::value /*style*/) {
  StartCollection(mark, tag, anchor, NodeKind::Sequence);
}

void TreeBuilder::OnSequenceEnd() { EndCollection(); }

void TreeBuilder::OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                             YAML::EmitterStyle::value /*style*/) {
  StartCollection(mark, tag, anchor, NodeKind::Mapping);
}

void TreeBuilder::OnMapEnd() { EndCollection(); }

auto TreeBuilder::StartCollection(const YAML::Mark& mark, const std::string& tag,
                                  YAML::anchor_t anchor, NodeKind kind) -> Node* {
  if (frames_.size() + 1 > limits_.max_depth) {
    sink_.Add(diag::Code::kYamlTooLarge, LocationAt(mark), ChildPath(),
              fmt::format("nesting too deep: more than {} levels of mappings and lists; "
                          "flatten the manifest",
                          limits_.max_depth));
    throw StopParsing{};
  }
  const bool bad_tag = !IsCollectionTagFor(tag, kind);
  if (bad_tag) {
    sink_.Add(diag::Code::kYamlUnsupported, LocationAt(mark), ChildPath(),
              fmt::format("unsupported YAML tag {} on {}; remove the tag", ShortTag(tag),
                          kind == NodeKind::Sequence ? "a list" : "a mapping"));
  }
  Node* node = document_.NewNode(kind, MarkOf(mark));
  node->reported = bad_tag;
  CountNodes(1, 0, node->mark);
  RecordAnchor(anchor, node, true);
  std::string segment = ChildSegment();
  Frame& frame = frames_.emplace_back();
  frame.node = node;
  frame.offset = ValueStart(mark);
  frame.segment = std::move(segment);
  frame.anchor = anchor;
  return node;
}

void TreeBuilder::EndCollection() {
  if (frames_.empty()) return;
  Frame frame = std::move(frames_.back());
  frames_.pop_back();
  if (frame.anchor != 0 && frame.anchor < anchors_.size()) {
    Anchored& anchored = anchors_[frame.anchor];
    anchored.open = false;
    anchored.size = frame.size;
    anchored.height = frame.height;
  }
  Attach(frame.node, frame.size, frame.height);
}

void TreeBuilder::RecordAnchor(YAML::anchor_t anchor, const Node* node, bool open) {
  if (anchor == 0) return;
  if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
  Anchored& anchored = anchors_[anchor];
  anchored = Anchored();
  anchored.node = node;
  anchored.name = std::exchange(pending_anchor_name_, "");
  anchored.open = open;
}

// Adds a finished node (or an alias's target) to the open collection.
void TreeBuilder::Attach(const Node* node, std::size_t size, std::size_t height) {
  if (frames_.empty()) {
    if (!has_root_) document_.set_root(node);
    has_root_ = true;
    return;
  }
  Frame& frame = frames_.back();
  frame.size += size;
  frame.height = std::max(frame.height, height + 1);
  if (frame.node->kind == NodeKind::Sequence) {
    frame.node->items.push_back(node);
  } else {
    AttachToMapping(frame, node);
  }
}

void TreeBuilder::AttachToMapping(Frame& frame, const Node* node) {
  if (frame.key == nullptr) {
    frame.key = node;
    CheckKey(frame, node);
    return;
  }
  if (!frame.drop_pair) frame.node->entries.push_back(Entry{.key = frame.key, .value = node});
  frame.key = nullptr;
  frame.drop_pair = false;
}

// Keys must be scalars and unique; an offending pair is reported and dropped,
// so the first occurrence of a key wins.
void TreeBuilder::CheckKey(Frame& frame, const Node* key) {
  if (!key->IsScalar()) {
    sink_.Add(diag::Code::kYamlUnsupported, document_.LocationOf(key), CurrentPath(),
              fmt::format("a mapping key must be a plain value, not {}; ferry does not accept "
                          "complex keys",
                          key->KindName()));
    frame.drop_pair = true;
    return;
  }
  auto [first, inserted] = frame.keys.emplace(key->text, key);
  if (inserted) return;
  diag::Diagnostic& diagnostic = sink_.Add(
      diag::Code::kYamlDuplicateKey, document_.LocationOf(key), ChildPath(),
      fmt::format("the key \"{}\" appears twice in this mapping; remove or rename one of them",
                  key->text));
  diagnostic.notes.push_back(
      diag::Note{.message = "first defined here", .location = document_.LocationOf(first->second)});
  frame.drop_pair = true;
}

// Every node counts once per place it is reachable from, so aliases add the
// expanded size of what they point at ("billion laughs" stops here).
void TreeBuilder::CountNodes(std::size_t size, std::size_t height, const Mark& at) {
  diag::Location location = document_.LocationOf(nullptr);
  location.line = at.line;
  location.column = at.column;
  if (frames_.size() + height > limits_.max_depth) {
    sink_.Add(diag::Code::kYamlTooLarge, location, ChildPath(),
              fmt::format("nesting too deep: this alias expands to more than {} levels of "
                          "mappings and lists; flatten the manifest",
                          limits_.max_depth));
    throw StopParsing{};
  }
  expanded_ += size;
  if (expanded_ <= limits_.max_expanded_nodes) return;
  sink_.Add(diag::Code::kYamlTooLarge, location, ChildPath(),
            saw_alias_ ? fmt::format("aliases expand the manifest to more than {} nodes; use "
                                     "fewer aliases, or aliases of smaller nodes",
                                     limits_.max_expanded_nodes)
                       : fmt::format("the manifest has more than {} nodes; split it up",
                                     limits_.max_expanded_nodes));
  throw StopParsing{};
}

}  // namespace ferry::manifest::detail

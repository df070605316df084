#include "compiler/manifest/yaml_builder.h"

#include <fmt/format.h>

#include <algorithm>

#include "compiler/manifest/yaml_scalar.h"

namespace ferry::manifest::detail {
namespace {

// Paths longer than this are cut short: hostile input could otherwise make
// every diagnostic carry a huge path.
constexpr std::size_t kMaxPathLength = 200;

auto IsSpace(char c) -> bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Characters that end a plain scalar on its line when they follow it.
auto EndsPlain(std::string_view rest) -> bool {
  return rest.empty() || IsSpace(rest.front()) || rest.front() == ',' || rest.front() == ']' ||
         rest.front() == '}' || rest.front() == '#';
}

// The null literal at the start of `source`, or "" for an empty node.
auto NullLiteral(std::string_view source) -> std::string_view {
  for (std::string_view word : {"~", "null", "Null", "NULL"}) {
    if (source.starts_with(word) && EndsPlain(source.substr(word.size()))) return word;
  }
  return "";
}

}  // namespace

auto JoinManifestPath(std::string_view parent, std::string_view segment) -> std::string {
  if (parent.empty()) return std::string(segment);
  return fmt::format("{}.{}", parent, segment);
}

TreeBuilder::TreeBuilder(const SourceText& source, const LoadLimits& limits, Document& document,
                         diag::Sink& sink)
    : source_(source), limits_(limits), document_(document), sink_(sink) {}

auto TreeBuilder::CurrentPath() const -> std::string { return PathOf(frames_.size()); }

auto TreeBuilder::PathOf(std::size_t count) const -> std::string {
  std::string path;
  for (std::size_t i = 0; i < count && i < frames_.size(); ++i) {
    if (frames_[i].segment.empty()) continue;
    path = JoinManifestPath(path, std::string_view(frames_[i].segment).substr(0, kMaxPathLength));
    if (path.size() > kMaxPathLength) return path.substr(0, kMaxPathLength) + "...";
  }
  return path;
}

auto TreeBuilder::OpenBracket(char bracket) const
    -> std::optional<std::pair<diag::Location, std::string>> {
  std::string_view text = source_.text();
  for (std::size_t i = frames_.size(); i > 0; --i) {
    const Frame& frame = frames_[i - 1];
    if (frame.offset < text.size() && text[frame.offset] == bracket) {
      return std::pair(source_.At(frame.offset), PathOf(i));
    }
  }
  return std::nullopt;
}

auto TreeBuilder::MarkOf(const YAML::Mark& mark) const -> Mark {
  diag::Location at = LocationAt(mark);
  return Mark{.line = at.line, .column = at.column};
}

auto TreeBuilder::LocationAt(const YAML::Mark& mark) const -> diag::Location {
  return source_.AtMark(mark.line, mark.column);
}

// The offset where the node's own text begins, after any anchor or tag.
auto TreeBuilder::ValueStart(const YAML::Mark& mark) const -> std::size_t {
  std::string_view text = source_.text();
  std::size_t i = std::min(static_cast<std::size_t>(std::max(mark.pos, 0)), text.size());
  while (i < text.size() && (text[i] == '&' || text[i] == '!')) {
    if (text.substr(i).starts_with("!<")) {
      i = std::min(text.find('>', i), text.size());
    }
    while (i < text.size() && !IsSpace(text[i]) &&
           std::string_view(",[]{}").find(text[i]) == std::string_view::npos) {
      ++i;
    }
    while (i < text.size() && IsSpace(text[i])) ++i;
  }
  return i;
}

auto TreeBuilder::ChildSegment() const -> std::string {
  if (frames_.empty()) return "";
  const Frame& top = frames_.back();
  if (top.node->kind == NodeKind::Sequence) return std::to_string(top.node->items.size());
  return top.key == nullptr ? "" : top.key->text;
}

auto TreeBuilder::ChildPath() const -> std::string {
  std::string segment = ChildSegment();
  std::string path = CurrentPath();
  if (segment.empty() || path.ends_with("...")) return path;
  path = JoinManifestPath(path, segment);
  if (path.size() > kMaxPathLength) return path.substr(0, kMaxPathLength) + "...";
  return path;
}

namespace {

// The offset of the quote that closes the string opening at `start`
// (`"` with backslash escapes, `'` with '' escapes), or npos.
auto ClosingQuote(std::string_view text, std::size_t start) -> std::size_t {
  const char quote = text[start];
  for (std::size_t i = start + 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == quote) {
      if (quote == '"' || i + 1 >= text.size() || text[i + 1] != '\'') return i;
      ++i;
    }
  }
  return std::string_view::npos;
}

auto IsQuote(char c) -> bool { return c == '"' || c == '\''; }

}  // namespace

// yaml-cpp accepts a quoted string that runs to the end of the file; ferry
// reports it where the quote opens.
void TreeBuilder::CheckQuotesClosed(const YAML::Mark& mark) {
  std::string_view text = source_.text();
  std::size_t start = ValueStart(mark);
  if (start >= text.size() || !IsQuote(text[start])) return;
  if (ClosingQuote(text, start) != std::string_view::npos) return;
  sink_.Add(diag::Code::kYamlSyntax, source_.At(start), ChildPath(),
            fmt::format("invalid YAML: this quoted string is never closed; add the closing {} "
                        "where the string should end",
                        text[start]));
  throw StopParsing{};
}

void TreeBuilder::SetWidth(Node* node, const YAML::Mark& mark) const {
  std::string_view text = source_.text();
  std::size_t begin = std::min(static_cast<std::size_t>(std::max(mark.pos, 0)), text.size());
  std::size_t start = ValueStart(mark);
  std::string_view value = node->text;
  std::string_view rest = text.substr(start);
  if (text.substr(begin, start - begin).find('\n') != std::string_view::npos) return;
  // A quoted scalar on one line spans its quotes.
  if (!rest.empty() && IsQuote(rest.front())) {
    const std::size_t close = ClosingQuote(text, start);
    if (close == std::string_view::npos) return;
    if (text.substr(start, close - start).find('\n') != std::string_view::npos) return;
    node->width = static_cast<std::uint32_t>(close + 1 - begin);
    return;
  }
  if (value.empty() || value.find('\n') != std::string_view::npos || !rest.starts_with(value)) {
    return;
  }
  if (rest.front() == '|' || rest.front() == '>') return;
  node->width = static_cast<std::uint32_t>(start - begin + value.size());
}

auto TreeBuilder::ScalarKind(const YAML::Mark& mark, const std::string& tag,
                             const std::string& value) -> NodeKind {
  if (tag == "?") return ResolvePlain(value);
  if (tag == "!") return NodeKind::String;
  std::optional<NodeKind> kind = CoreTagKind(tag);
  if (!kind || *kind == NodeKind::Sequence || *kind == NodeKind::Mapping) {
    sink_.Add(diag::Code::kYamlUnsupported, LocationAt(mark), ChildPath(),
              fmt::format("unsupported YAML tag {}; ferry accepts only !!str, !!int, !!float, "
                          "!!bool and !!null on values, remove the tag",
                          ShortTag(tag)));
    return NodeKind::String;
  }
  if (!MatchesKind(*kind, value)) {
    sink_.Add(diag::Code::kYamlUnsupported, LocationAt(mark), ChildPath(),
              fmt::format("the value \"{}\" does not match its tag {}; fix the value or remove "
                          "the tag",
                          value, ShortTag(tag)));
    return NodeKind::String;
  }
  return *kind;
}

void TreeBuilder::OnDocumentStart(const YAML::Mark& /*mark*/) {}

void TreeBuilder::OnAnchor(const YAML::Mark& /*mark*/, const std::string& name) {
  pending_anchor_name_ = name;
}

void TreeBuilder::OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) {
  std::string_view literal = NullLiteral(source_.text().substr(ValueStart(mark)));
  Mark at = MarkOf(mark);
  // An empty value is reported at its key: yaml-cpp marks the next token.
  if (literal.empty() && !frames_.empty() && frames_.back().key != nullptr) {
    at = frames_.back().key->mark;
  }
  Node* node = document_.NewNode(NodeKind::Null, at);
  node->text = std::string(literal);
  if (!literal.empty()) SetWidth(node, mark);
  CountNodes(1, 0, at);
  RecordAnchor(anchor, node, false);
  Attach(node, 1, 0);
}

void TreeBuilder::OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                           const std::string& value) {
  if (tag != "?") CheckQuotesClosed(mark);
  // ScalarKind reports a bad tag; the node remembers that it was reported.
  const std::size_t diagnostics_before = sink_.diagnostics().size();
  Node* node = document_.NewNode(ScalarKind(mark, tag, value), MarkOf(mark));
  node->reported = sink_.diagnostics().size() != diagnostics_before;
  node->text = value;
  SetWidth(node, mark);
  CountNodes(1, 0, node->mark);
  RecordAnchor(anchor, node, false);
  Attach(node, 1, 0);
}

void TreeBuilder::OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) {
  Mark at = MarkOf(mark);
  if (anchor >= anchors_.size() || anchors_[anchor].node == nullptr) {
    sink_.Add(diag::Code::kYamlSyntax, LocationAt(mark), ChildPath(),
              "invalid YAML: this alias names an anchor that is not defined; define it with "
              "&name before using *name");
    throw StopParsing{};
  }
  const Anchored& target = anchors_[anchor];
  if (target.open) {
    sink_.Add(diag::Code::kYamlAliasCycle, LocationAt(mark), ChildPath(),
              fmt::format("the alias *{0} refers to the node that contains it, so it would never "
                          "end; point it at a node outside &{0}",
                          target.name));
    Node* node = document_.NewNode(NodeKind::Null, at);
    node->reported = true;
    CountNodes(1, 0, at);
    Attach(node, 1, 0);
    return;
  }
  saw_alias_ = true;
  CountNodes(target.size, target.height, at);
  Attach(target.node, target.size, target.height);
}

}  // namespace ferry::manifest::detail

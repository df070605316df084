// Rendered outputs compared: each Kubernetes object and YAML plan field by
// field (leaves named by their path in the document), each scoring bundle and
// the shared runtime as one digest (generated C++ is never shown), any other
// file by digest.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compiler/review/compare.h"
#include "compiler/support/sha256.h"

namespace ferry::review::detail {
namespace {

auto PlainKey(std::string_view key) -> bool {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

auto MapPath(const std::string& path, const std::string& key) -> std::string {
  if (!PlainKey(key)) return path + "[\"" + key + "\"]";
  return path.empty() ? key : path + "." + key;
}

/// Elements are named by their `name` field when every element has a unique
/// one (containers, ports, env, the router's versions), else by index.
auto ElementNames(const YAML::Node& sequence) -> std::vector<std::string> {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    const YAML::Node element = sequence[i];
    const YAML::Node name = element.IsMap() ? element["name"] : YAML::Node();
    if (!name || !name.IsScalar()) break;
    names.push_back(name.Scalar());
  }
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  const bool unique = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
  if (names.size() != sequence.size() || !unique) {
    names.clear();
    for (std::size_t i = 0; i < sequence.size(); ++i) names.push_back(std::to_string(i));
  }
  return names;
}

auto ParseYaml(const std::string& text) -> std::optional<YAML::Node> {
  try {
    YAML::Node node = YAML::Load(text);
    if (node.IsMap() || node.IsSequence()) return node;
  } catch (const YAML::Exception&) {
  }
  return std::nullopt;
}

/// A document embedded in a multi-line string (a ConfigMap's routes.yaml),
/// so that it is compared field by field too.
auto Embedded(const YAML::Node& node) -> std::optional<YAML::Node> {
  if (!node.IsScalar() || node.Scalar().find('\n') == std::string::npos) return std::nullopt;
  return ParseYaml(node.Scalar());
}

/// A whole subtree on one line: a scalar's text, else flow-style YAML.
auto Compact(const YAML::Node& node) -> std::string {
  if (node.IsScalar()) return node.Scalar();
  if (node.IsNull()) return "null";
  YAML::Node flow = YAML::Clone(node);
  flow.SetStyle(YAML::EmitterStyle::Flow);
  YAML::Emitter out;
  out << flow;
  return out.c_str();
}

auto AllScalars(const YAML::Node& sequence) -> bool {
  for (const YAML::Node& element : sequence) {
    if (!element.IsScalar()) return false;
  }
  return true;
}

/// A node's children, keyed: map entries by key, sequence elements by name or index.
using Children = std::vector<std::pair<std::string, YAML::Node>>;

auto Elements(const YAML::Node& sequence) -> Children {
  const std::vector<std::string> names = ElementNames(sequence);
  Children elements;
  for (std::size_t i = 0; i < sequence.size(); ++i) elements.emplace_back(names[i], sequence[i]);
  return elements;
}

auto Entries(const YAML::Node& map) -> Children {
  Children entries;
  for (const auto& entry : map) entries.emplace_back(entry.first.Scalar(), entry.second);
  return entries;
}

void DiffChildren(const Children& before, const Children& after,
                  const std::function<std::string(const std::string&)>& path_of,
                  std::vector<FieldChange>& out);

/// The changes between two nodes at `path`. A subtree present on one side
/// only is one change (its compact form), not one per leaf; a list of
/// scalars is compared whole.
void DiffNodes(const YAML::Node& before, const YAML::Node& after, const std::string& path,
               std::vector<FieldChange>& out) {
  if (std::optional<YAML::Node> old_doc = Embedded(before)) {
    if (std::optional<YAML::Node> new_doc = Embedded(after)) {
      return DiffNodes(*old_doc, *new_doc, path, out);
    }
  }
  if (before.IsMap() && after.IsMap()) {
    return DiffChildren(
        Entries(before), Entries(after), [&](const std::string& key) { return MapPath(path, key); },
        out);
  }
  if (before.IsSequence() && after.IsSequence() && !(AllScalars(before) && AllScalars(after))) {
    return DiffChildren(
        Elements(before), Elements(after),
        [&](const std::string& name) { return path + "[" + name + "]"; }, out);
  }
  std::string old_text = Compact(before);
  std::string new_text = Compact(after);
  if (old_text != new_text) out.push_back({path, std::move(old_text), std::move(new_text)});
}

void DiffChildren(const Children& before, const Children& after,
                  const std::function<std::string(const std::string&)>& path_of,
                  std::vector<FieldChange>& out) {
  auto find = [](const Children& items, const std::string& key) -> const YAML::Node* {
    for (const auto& [name, node] : items) {
      if (name == key) return &node;
    }
    return nullptr;
  };
  for (const auto& [key, node] : after) {
    if (const YAML::Node* old = find(before, key)) {
      DiffNodes(*old, node, path_of(key), out);
    } else {
      out.push_back({path_of(key), "", Compact(node)});
    }
  }
  for (const auto& [key, node] : before) {
    if (find(after, key) == nullptr) out.push_back({path_of(key), Compact(node), ""});
  }
}

/// One compared unit of output: a file, or a whole bundle or runtime folder.
struct Output {
  std::string category;
  std::string path;
  std::string sha256;
  const render::RenderedFile* file = nullptr;        ///< a single file; null for folders
  std::vector<const render::RenderedFile*> members;  ///< a folder's files
};

auto StartsWith(std::string_view text, std::string_view prefix) -> bool {
  return text.substr(0, prefix.size()) == prefix;
}

auto IsYaml(std::string_view path) -> bool {
  return path.ends_with(".yaml") || path.ends_with(".yml");
}

/// The unit a rendered path belongs to: "bundles/<dir>" and "runtime" are
/// folders; everything else is its own file.
auto UnitOf(const std::string& path) -> std::pair<std::string, std::string> {
  if (StartsWith(path, "bundles/")) {
    const std::size_t slash = path.find('/', 8);
    return {"bundle", path.substr(0, slash)};
  }
  if (StartsWith(path, "runtime/")) return {"runtime", "runtime"};
  if (StartsWith(path, "kubernetes/")) return {"kubernetes", path};
  if (StartsWith(path, "images/")) return {"image", path};
  return {"file", path};
}

auto Outputs(const render::RenderResult& result) -> std::map<std::string, Output> {
  std::map<std::string, Output> outputs;
  for (const render::RenderedFile& file : result.files) {
    auto [category, unit] = UnitOf(file.path);
    Output& output = outputs[unit];
    output.category = category;
    output.path = unit;
    if (unit == file.path) {
      output.file = &file;
      output.sha256 = support::Sha256Hex(file.contents);
    } else {
      output.members.push_back(&file);
    }
  }
  for (auto& [unit, output] : outputs) {
    if (output.file != nullptr) continue;
    // A folder's digest covers its files' paths and bytes (as render's bundle digest does).
    std::string listing;
    for (const render::RenderedFile* file : output.members) {
      listing += file->path + '\n' + support::Sha256Hex(file->contents) + '\n';
    }
    output.sha256 = support::Sha256Hex(listing);
    for (const render::BundleRef& bundle : result.bundles) {
      if (bundle.directory == unit) output.sha256 = bundle.sha256;
    }
  }
  return outputs;
}

/// Fills kind and name from a Kubernetes document.
void Identify(const Output& output, ObjectChange& change) {
  if (output.file == nullptr) {
    change.name = output.path.substr(output.path.rfind('/') + 1);
    return;
  }
  if (output.category != "kubernetes") return;
  if (std::optional<YAML::Node> doc = ParseYaml(output.file->contents)) {
    if ((*doc)["kind"] && (*doc)["kind"].IsScalar()) change.kind = (*doc)["kind"].Scalar();
    const YAML::Node metadata = (*doc)["metadata"];
    if (metadata && metadata.IsMap() && metadata["name"] && metadata["name"].IsScalar()) {
      change.name = metadata["name"].Scalar();
    }
  }
}

auto Unit(const Output& output, ChangeKind kind) -> ObjectChange {
  ObjectChange change;
  change.category = output.category;
  change.path = output.path;
  change.change = kind;
  Identify(output, change);
  return change;
}

auto Modified(const Output& before, const Output& after) -> ObjectChange {
  ObjectChange change = Unit(after, ChangeKind::Modified);
  const bool yaml = before.file != nullptr && after.file != nullptr && !before.file->binary &&
                    !after.file->binary && IsYaml(after.path);
  std::optional<YAML::Node> old_doc = yaml ? ParseYaml(before.file->contents) : std::nullopt;
  std::optional<YAML::Node> new_doc = yaml ? ParseYaml(after.file->contents) : std::nullopt;
  if (old_doc && new_doc) DiffNodes(*old_doc, *new_doc, "", change.fields);
  if (change.fields.empty()) {
    change.sha256_before = before.sha256;
    change.sha256_after = after.sha256;
  }
  return change;
}

}  // namespace

auto CompareObjects(const render::RenderResult& base, const render::RenderResult& head)
    -> std::vector<ObjectChange> {
  const std::map<std::string, Output> before = Outputs(base);
  const std::map<std::string, Output> after = Outputs(head);
  std::vector<ObjectChange> changes;
  for (const auto& [path, output] : after) {
    auto old = before.find(path);
    if (old == before.end()) {
      ObjectChange change = Unit(output, ChangeKind::Added);
      change.sha256_after = output.sha256;
      changes.push_back(std::move(change));
    } else if (old->second.sha256 != output.sha256) {
      changes.push_back(Modified(old->second, output));
    }
  }
  for (const auto& [path, output] : before) {
    if (after.contains(path)) continue;
    ObjectChange change = Unit(output, ChangeKind::Removed);
    change.sha256_before = output.sha256;
    changes.push_back(std::move(change));
  }
  std::sort(changes.begin(), changes.end(),
            [](const ObjectChange& a, const ObjectChange& b) { return a.path < b.path; });
  return changes;
}

auto CompareImages(const render::RenderResult& base, const render::RenderResult& head)
    -> std::vector<ImageChange> {
  std::map<std::pair<std::string, std::string>, ImageChange> images;
  for (const render::ImageRef& image : base.images) {
    ImageChange& change = images[{image.endpoint, image.version}];
    change.endpoint = image.endpoint;
    change.version = image.version;
    change.before = image.reference;
    change.sha256_before = image.sha256;
  }
  for (const render::ImageRef& image : head.images) {
    ImageChange& change = images[{image.endpoint, image.version}];
    change.endpoint = image.endpoint;
    change.version = image.version;
    change.after = image.reference;
    change.sha256_after = image.sha256;
  }
  std::vector<ImageChange> changes;
  for (auto& [key, change] : images) {
    if (change.sha256_before != change.sha256_after) changes.push_back(std::move(change));
  }
  return changes;
}

}  // namespace ferry::review::detail

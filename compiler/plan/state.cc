#include "compiler/plan/state.h"

#include <algorithm>
#include <utility>

#include "compiler/plan/json_reader.h"

namespace ferry::plan {
namespace {

using json_io::FieldReader;
using json_io::Json;

auto ByAddress(const ResourceState& a, const ResourceState& b) -> bool {
  return a.address < b.address;
}

auto Recovery(std::string_view file) -> std::string {
  return "the previous good state may be in " + std::string(file) + ".backup";
}

// The format check comes before every other one: a newer ferry may have
// changed any field, so its file is judged by its format number alone.
auto CheckFormat(const Json& root) -> std::optional<std::string> {
  auto format = root.find("format");
  if (format == root.end()) {
    if (root.contains("kind") || root.contains("actions")) {
      return "this is a saved plan, not a state file (state files are .ferry/state*.json)";
    }
    return "format: missing (expected the integer 1): this is not a ferry state file";
  }
  if (!format->is_number_integer()) {
    return "format: expected an integer, found " + std::string(json_io::Describe(*format));
  }
  // Positive numbers parse as unsigned; one past int64's range is "newer" too.
  bool huge = format->is_number_unsigned() &&
              format->get<std::uint64_t>() > static_cast<std::uint64_t>(kStateFormat);
  std::int64_t number = huge ? kStateFormat + 1 : format->get<std::int64_t>();
  if (number > kStateFormat) {
    auto version = root.find("ferry_version");
    std::string writer = version != root.end() && version->is_string()
                             ? "ferry " + version->get<std::string>()
                             : "a newer ferry";
    return "state format " + format->dump() + " was written by " + writer + "; this ferry (" +
           std::string(kFerryVersion) + ") reads format " + std::to_string(kStateFormat) +
           ": upgrade ferry";
  }
  if (number < kStateFormat) {
    return "format: " + std::to_string(number) + " is not a state format (this ferry reads " +
           std::to_string(kStateFormat) + ")";
  }
  return std::nullopt;
}

auto ReadResource(FieldReader& reader, const Json& entry, const std::string& path)
    -> ResourceState {
  ResourceState resource;
  if (!entry.is_object()) {
    reader.Fail(path, "expected an object, found " + std::string(json_io::Describe(entry)));
    return resource;
  }
  reader.OnlyKnownKeys(entry, path, {"address", "attributes", "hash", "live", "tainted", "type"});
  resource.address = reader.String(entry, path, "address");
  resource.type = reader.String(entry, path, "type");
  resource.hash = reader.String(entry, path, "hash");
  resource.attributes = reader.ReadAttributes(entry, path, "attributes");
  resource.live = reader.StringMap(entry, path, "live");
  resource.tainted = reader.Bool(entry, path, "tainted", false);
  if (reader.ok() && resource.address.empty()) {
    reader.Fail(json_io::Join(path, "address"), "empty (expected a resource address)");
  }
  return resource;
}

void ReadState(FieldReader& reader, const Json& root, State& state) {
  reader.OnlyKnownKeys(
      root, "",
      {"executor", "ferry_version", "format", "lineage", "project", "resources", "serial"});
  state.format = kStateFormat;
  state.ferry_version = reader.String(root, "", "ferry_version");
  state.lineage = reader.String(root, "", "lineage");
  state.project = reader.String(root, "", "project");
  state.executor = reader.String(root, "", "executor");
  if (reader.ok() && state.executor != "local" && state.executor != "kubernetes") {
    reader.Fail("executor", "'" + state.executor + "' is not an executor (local or kubernetes)");
  }
  state.serial = reader.Integer(root, "", "serial");
  if (reader.ok() && state.serial < 0) reader.Fail("serial", "must not be negative");
  const Json* resources = reader.Array(root, "", "resources");
  if (resources == nullptr) return;
  // Where each address was first seen, to name both entries of a duplicate.
  std::map<std::string, std::size_t, std::less<>> seen;
  for (std::size_t i = 0; i < resources->size() && reader.ok(); ++i) {
    std::string path = json_io::Index("resources", i);
    ResourceState resource = ReadResource(reader, (*resources)[i], path);
    if (!reader.ok()) break;
    auto [it, inserted] = seen.emplace(resource.address, i);
    if (!inserted) {
      reader.Fail(json_io::Join(path, "address"),
                  "'" + resource.address + "' is recorded twice (also at " +
                      json_io::Index("resources", it->second) +
                      "); remove the entry that does not match what runs");
    }
    state.resources.push_back(std::move(resource));
  }
  std::stable_sort(state.resources.begin(), state.resources.end(), ByAddress);
}

auto ResourceToJson(const ResourceState& resource) -> Json {
  Json live = Json::object();
  for (const auto& [key, value] : resource.live) live[key] = value;
  return Json{
      {"address", resource.address}, {"type", resource.type},
      {"hash", resource.hash},       {"attributes", json_io::AttributesToJson(resource.attributes)},
      {"live", std::move(live)},     {"tainted", resource.tainted}};
}

}  // namespace

auto State::Find(std::string_view address) const -> const ResourceState* {
  auto it = std::find_if(resources.begin(), resources.end(),
                         [&](const ResourceState& entry) { return entry.address == address; });
  return it == resources.end() ? nullptr : &*it;
}

auto State::Find(std::string_view address) -> ResourceState* {
  return const_cast<ResourceState*>(std::as_const(*this).Find(address));
}

void State::Put(ResourceState resource) {
  if (ResourceState* existing = Find(resource.address)) {
    *existing = std::move(resource);
    return;
  }
  auto at = std::lower_bound(resources.begin(), resources.end(), resource, ByAddress);
  resources.insert(at, std::move(resource));
}

void State::Remove(std::string_view address) {
  std::erase_if(resources, [&](const ResourceState& entry) { return entry.address == address; });
}

auto StateError::ToString() const -> std::string {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

auto ParseState(std::string_view text, std::string_view file, State& state)
    -> std::optional<StateError> {
  Json root;
  if (auto error = json_io::ParseText(text, file, Recovery(file), root)) return error;
  auto fail = [&](std::string message) {
    return StateError{std::string(file), 0, 0, std::move(message)};
  };
  if (!root.is_object()) {
    return fail("expected a JSON object, found " + std::string(json_io::Describe(root)) +
                ": this is not a ferry state file");
  }
  if (auto problem = CheckFormat(root)) return fail(*problem);
  FieldReader reader;
  State parsed;
  ReadState(reader, root, parsed);
  if (!reader.ok()) return fail(*reader.error() + " (" + Recovery(file) + ")");
  state = std::move(parsed);
  return std::nullopt;
}

auto SerializeState(const State& state) -> std::string {
  std::vector<const ResourceState*> sorted;
  for (const ResourceState& resource : state.resources) sorted.push_back(&resource);
  std::stable_sort(
      sorted.begin(), sorted.end(),
      [](const ResourceState* a, const ResourceState* b) { return ByAddress(*a, *b); });
  Json resources = Json::array();
  for (const ResourceState* resource : sorted) resources.push_back(ResourceToJson(*resource));
  Json root{{"format", state.format},
            {"ferry_version",
             state.ferry_version.empty() ? std::string(kFerryVersion) : state.ferry_version},
            {"lineage", state.lineage},
            {"project", state.project},
            {"executor", state.executor},
            {"serial", state.serial},
            {"resources", std::move(resources)}};
  return json_io::Print(root);
}

}  // namespace ferry::plan

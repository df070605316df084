// The plan's JSON form, the saved plan file and the staleness check
// (docs/plan.md, schemas/plan.schema.json).
#include <algorithm>
#include <array>

#include "compiler/plan/json_reader.h"
#include "compiler/plan/plan.h"

namespace ferry::plan {
namespace {

using json_io::FieldReader;
using json_io::Json;

/// The only plan format this ferry writes; newer ones are refused.
constexpr std::int64_t kPlanFormat = 1;
constexpr std::string_view kPlanKind = "ferry-plan";
constexpr std::array<ActionKind, 4> kActionKinds = {ActionKind::Create, ActionKind::Update,
                                                    ActionKind::Replace, ActionKind::Delete};
constexpr std::string_view kRecovery = "make the plan again with `ferry plan -out FILE`";

auto ChangeToJson(const FieldChange& change) -> Json {
  Json out{{"field", change.field}, {"forces_replacement", change.forces_replacement}};
  if (change.before) out["before"] = json_io::FromCanonical(*change.before);
  if (change.after) out["after"] = json_io::FromCanonical(*change.after);
  return out;
}

auto ActionToJson(const Action& action) -> Json {
  Json changes = Json::array();
  for (const FieldChange& change : action.changes) changes.push_back(ChangeToJson(change));
  Json out{{"action", ToString(action.kind)},
           {"address", action.address},
           {"type", action.type},
           {"changes", std::move(changes)}};
  if (!action.reason.empty()) out["reason"] = action.reason;
  if (action.desired) {
    out["desired"] = Json{{"attributes", json_io::AttributesToJson(action.desired->attributes)},
                          {"hash", action.desired->hash},
                          {"depends_on", action.desired->depends_on}};
  }
  if (action.prior) {
    Json live = Json::object();
    for (const auto& [key, value] : action.prior->live) live[key] = value;
    out["prior"] = Json{{"attributes", json_io::AttributesToJson(action.prior->attributes)},
                        {"hash", action.prior->hash},
                        {"live", std::move(live)},
                        {"tainted", action.prior->tainted}};
  }
  return out;
}

auto PlanToJson(const Plan& plan) -> Json {
  Json actions = Json::array();
  for (const Action& action : plan.actions) actions.push_back(ActionToJson(action));
  Json summary = Json::object();
  for (ActionKind kind : kActionKinds) summary[std::string(ToString(kind))] = plan.Counts(kind);
  return Json{{"format_version", kPlanFormat},
              {"project", plan.project},
              {"executor", plan.executor},
              {"state", Json{{"lineage", plan.state_lineage}, {"serial", plan.state_serial}}},
              {"inputs_sha256", plan.inputs_sha256},
              {"actions", std::move(actions)},
              {"summary", std::move(summary)}};
}

// What kind of file `root` is when it is not a saved plan, or nullopt.
auto CheckKind(const Json& root) -> std::optional<std::string> {
  auto kind = root.find("kind");
  if (kind == root.end()) {
    if (root.contains("resources") && root.contains("lineage")) {
      return "this is a state file, not a saved plan: save a plan with `ferry plan -out FILE`";
    }
    if (root.contains("format_version") && root.contains("actions")) {
      return "this is a plan printed with `--format json`, not a saved plan: save one with "
             "`ferry plan -out FILE`";
    }
    return "kind: missing (expected \"ferry-plan\"): this is not a saved ferry plan";
  }
  if (!kind->is_string() || kind->get<std::string>() != kPlanKind) {
    return "kind: " + kind->dump() + " is not a saved plan (expected \"ferry-plan\")";
  }
  return std::nullopt;
}

auto CheckFormat(const Json& root) -> std::optional<std::string> {
  auto format = root.find("format_version");
  if (format == root.end()) return "format_version: missing (expected the integer 1)";
  if (!format->is_number_integer()) {
    return "format_version: expected an integer, found " + std::string(json_io::Describe(*format));
  }
  bool huge = format->is_number_unsigned() &&
              format->get<std::uint64_t>() > static_cast<std::uint64_t>(kPlanFormat);
  std::int64_t number = huge ? kPlanFormat + 1 : format->get<std::int64_t>();
  if (number > kPlanFormat) {
    auto version = root.find("ferry_version");
    std::string writer = version != root.end() && version->is_string()
                             ? "ferry " + version->get<std::string>()
                             : "a newer ferry";
    return "plan format " + format->dump() + " was written by " + writer + "; this ferry (" +
           std::string(kFerryVersion) + ") reads format " + std::to_string(kPlanFormat) +
           ": upgrade ferry, or " + std::string(kRecovery) + " with this one";
  }
  if (number < kPlanFormat) {
    return "format_version: " + std::to_string(number) + " is not a plan format (this ferry " +
           "reads " + std::to_string(kPlanFormat) + ")";
  }
  return std::nullopt;
}

auto ReadChange(FieldReader& reader, const Json& entry, const std::string& path) -> FieldChange {
  FieldChange change;
  if (!entry.is_object()) {
    reader.Fail(path, "expected an object, found " + std::string(json_io::Describe(entry)));
    return change;
  }
  reader.OnlyKnownKeys(entry, path, {"after", "before", "field", "forces_replacement"});
  change.field = reader.String(entry, path, "field");
  if (const Json* before = reader.Find(entry, "before")) {
    change.before = json_io::ToCanonical(*before);
  }
  if (const Json* after = reader.Find(entry, "after")) change.after = json_io::ToCanonical(*after);
  change.forces_replacement = reader.Bool(entry, path, "forces_replacement", false);
  return change;
}

auto ReadDesired(FieldReader& reader, const Json& entry, const std::string& path,
                 const Action& action) -> Resource {
  Resource resource;
  resource.address = action.address;
  resource.type = action.type;
  reader.OnlyKnownKeys(entry, path, {"attributes", "depends_on", "hash"});
  resource.attributes = reader.ReadAttributes(entry, path, "attributes");
  resource.hash = reader.String(entry, path, "hash");
  if (const Json* depends_on = reader.Array(entry, path, "depends_on")) {
    for (std::size_t i = 0; i < depends_on->size(); ++i) {
      const Json& item = (*depends_on)[i];
      if (!item.is_string()) {
        reader.Fail(json_io::Index(json_io::Join(path, "depends_on"), i),
                    "expected a string, found " + std::string(json_io::Describe(item)));
        break;
      }
      resource.depends_on.push_back(item.get<std::string>());
    }
  }
  return resource;
}

auto ReadPrior(FieldReader& reader, const Json& entry, const std::string& path,
               const Action& action) -> ResourceState {
  ResourceState resource;
  resource.address = action.address;
  resource.type = action.type;
  reader.OnlyKnownKeys(entry, path, {"attributes", "hash", "live", "tainted"});
  resource.attributes = reader.ReadAttributes(entry, path, "attributes");
  resource.hash = reader.String(entry, path, "hash");
  resource.live = reader.StringMap(entry, path, "live");
  resource.tainted = reader.Bool(entry, path, "tainted", false);
  return resource;
}

auto ReadAction(FieldReader& reader, const Json& entry, const std::string& path) -> Action {
  Action action;
  if (!entry.is_object()) {
    reader.Fail(path, "expected an object, found " + std::string(json_io::Describe(entry)));
    return action;
  }
  reader.OnlyKnownKeys(entry, path,
                       {"action", "address", "changes", "desired", "prior", "reason", "type"});
  std::string kind = reader.String(entry, path, "action");
  auto known = std::find_if(kActionKinds.begin(), kActionKinds.end(),
                            [&](ActionKind candidate) { return ToString(candidate) == kind; });
  if (reader.ok() && known == kActionKinds.end()) {
    reader.Fail(json_io::Join(path, "action"),
                "'" + kind + "' is not an action (create, update, replace or delete)");
  }
  if (known != kActionKinds.end()) action.kind = *known;
  action.address = reader.String(entry, path, "address");
  action.type = reader.String(entry, path, "type");
  if (reader.Find(entry, "reason") != nullptr) action.reason = reader.String(entry, path, "reason");
  if (const Json* changes = reader.Array(entry, path, "changes")) {
    for (std::size_t i = 0; i < changes->size() && reader.ok(); ++i) {
      action.changes.push_back(
          ReadChange(reader, (*changes)[i], json_io::Index(json_io::Join(path, "changes"), i)));
    }
  }
  // A create has nothing before it, a delete nothing after it; the others both.
  bool wants_desired = action.kind != ActionKind::Delete;
  bool wants_prior = action.kind != ActionKind::Create;
  const Json* desired = reader.Object(entry, path, "desired", wants_desired);
  const Json* prior = reader.Object(entry, path, "prior", wants_prior);
  if (desired != nullptr && !wants_desired) {
    reader.Fail(json_io::Join(path, "desired"), "a delete has no desired resource");
  }
  if (prior != nullptr && !wants_prior) {
    reader.Fail(json_io::Join(path, "prior"), "a create has no prior resource");
  }
  if (desired != nullptr) {
    action.desired = ReadDesired(reader, *desired, json_io::Join(path, "desired"), action);
  }
  if (prior != nullptr) {
    action.prior = ReadPrior(reader, *prior, json_io::Join(path, "prior"), action);
  }
  return action;
}

void ReadPlan(FieldReader& reader, const Json& root, PlanFile& out) {
  reader.OnlyKnownKeys(root, "",
                       {"actions", "executor", "ferry_version", "format_version", "inputs_sha256",
                        "kind", "manifest", "project", "state", "summary"});
  Plan& plan = out.plan;
  plan.project = reader.String(root, "", "project");
  plan.executor = reader.String(root, "", "executor");
  if (reader.ok() && plan.executor != "local" && plan.executor != "kubernetes") {
    reader.Fail("executor", "'" + plan.executor + "' is not an executor (local or kubernetes)");
  }
  out.manifest_path = reader.String(root, "", "manifest");
  if (reader.Find(root, "ferry_version") != nullptr) reader.String(root, "", "ferry_version");
  if (const Json* state = reader.Object(root, "", "state", true)) {
    reader.OnlyKnownKeys(*state, "state", {"lineage", "serial"});
    plan.state_lineage = reader.String(*state, "state", "lineage");
    plan.state_serial = reader.Integer(*state, "state", "serial");
  }
  plan.inputs_sha256 = reader.String(root, "", "inputs_sha256");
  // The summary is derived from the actions (and printed from them again).
  reader.Object(root, "", "summary", true);
  const Json* actions = reader.Array(root, "", "actions");
  if (actions == nullptr) return;
  for (std::size_t i = 0; i < actions->size() && reader.ok(); ++i) {
    plan.actions.push_back(ReadAction(reader, (*actions)[i], json_io::Index("actions", i)));
  }
}

// The first resource the saved plan would change whose desired hash is now
// different (or that is no longer desired): what made the inputs differ.
auto FirstChangedInput(const Plan& saved, const Desired& desired_now) -> std::string {
  for (const Action& action : saved.actions) {
    if (!action.desired) continue;
    const Resource* now = FindResource(desired_now, action.address);
    if (now == nullptr) return action.address + " is no longer desired";
    if (now->hash != action.desired->hash) return action.address + " differs";
  }
  return {};
}

auto Short(std::string_view hash) -> std::string { return std::string(hash.substr(0, 12)); }

}  // namespace

auto FormatPlanJson(const Plan& plan) -> std::string { return json_io::Print(PlanToJson(plan)); }

auto SerializePlanFile(const Plan& plan, std::string_view manifest_path) -> std::string {
  Json root = PlanToJson(plan);
  root["kind"] = kPlanKind;
  root["manifest"] = manifest_path;
  root["ferry_version"] = kFerryVersion;
  return json_io::Print(root);
}

auto ParsePlanFile(std::string_view text, std::string_view file, PlanFile& out)
    -> std::optional<StateError> {
  Json root;
  if (auto error = json_io::ParseText(text, file, kRecovery, root)) return error;
  auto fail = [&](std::string message) {
    return StateError{std::string(file), 0, 0, std::move(message)};
  };
  if (!root.is_object()) {
    return fail("expected a JSON object, found " + std::string(json_io::Describe(root)) +
                ": this is not a saved ferry plan");
  }
  if (auto problem = CheckKind(root)) return fail(*problem);
  if (auto problem = CheckFormat(root)) return fail(*problem);
  FieldReader reader;
  PlanFile parsed;
  ReadPlan(reader, root, parsed);
  if (!reader.ok()) return fail(*reader.error() + " (" + std::string(kRecovery) + ")");
  out = std::move(parsed);
  return std::nullopt;
}

auto StalePlanReason(const Plan& saved, const Desired& desired_now, const State& state_now)
    -> std::optional<std::string> {
  const std::string again = ": run `ferry plan` again";
  if (saved.project != desired_now.project) {
    return "the plan was made for project '" + saved.project + "', but the manifest now names '" +
           desired_now.project + "'" + again;
  }
  if (saved.executor != ToString(desired_now.executor)) {
    return "the plan was made for the " + saved.executor + " executor, not " +
           std::string(ToString(desired_now.executor)) + again;
  }
  if (saved.state_lineage != state_now.lineage) {
    if (saved.state_lineage.empty()) {
      return "a state was written since the plan was made (the plan expected none; serial " +
             std::to_string(state_now.serial) + " now)" + again;
    }
    if (state_now.lineage.empty()) {
      return "the state the plan was made against (lineage " + saved.state_lineage +
             ") no longer exists" + again;
    }
    return "the state was replaced since the plan was made (lineage " + saved.state_lineage +
           ", now " + state_now.lineage + ")" + again;
  }
  if (saved.state_serial != state_now.serial) {
    return "the state changed since the plan was made (serial " +
           std::to_string(saved.state_serial) + ", now " + std::to_string(state_now.serial) + ")" +
           again;
  }
  if (saved.inputs_sha256 != desired_now.inputs_sha256) {
    std::string changed = FirstChangedInput(saved, desired_now);
    std::string detail = !changed.empty() ? changed
                                          : "inputs sha256 " + Short(saved.inputs_sha256) +
                                                ", now " + Short(desired_now.inputs_sha256);
    return "the manifest or its inputs changed since the plan was made (" + detail + ")" + again;
  }
  return std::nullopt;
}

}  // namespace ferry::plan

// The plan's JSON form, the saved plan file and staleness (compiler/plan/plan_file.cc).
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "compiler/plan/plan.h"

namespace ferry::plan {
namespace {

auto MakeDesired(std::string address, Attributes attributes, std::vector<std::string> depends_on)
    -> Resource {
  Resource resource;
  resource.type = address.substr(0, address.find('.'));
  resource.address = std::move(address);
  resource.attributes = std::move(attributes);
  resource.depends_on = std::move(depends_on);
  resource.hash = HashAttributes(resource.type, resource.attributes);
  return resource;
}

auto MakePrior(const Resource& desired, Attributes attributes) -> ResourceState {
  ResourceState prior;
  prior.address = desired.address;
  prior.type = desired.type;
  prior.attributes = std::move(attributes);
  prior.hash = HashAttributes(prior.type, prior.attributes);
  return prior;
}

auto MakeAction(ActionKind kind, std::optional<Resource> desired,
                std::optional<ResourceState> prior) -> Action {
  Action action;
  action.kind = kind;
  action.address = desired ? desired->address : prior->address;
  action.type = desired ? desired->type : prior->type;
  action.desired = std::move(desired);
  action.prior = std::move(prior);
  return action;
}

auto Change(std::string field, std::optional<std::string> before, std::optional<std::string> after,
            bool forces_replacement) -> FieldChange {
  FieldChange change;
  change.field = std::move(field);
  change.before = std::move(before);
  change.after = std::move(after);
  change.forces_replacement = forces_replacement;
  return change;
}

// One action of each kind, with every optional part used somewhere.
auto SamplePlan() -> Plan {
  Plan plan;
  plan.project = "faq-matching";
  plan.executor = "local";
  plan.state_lineage = "5c0ffee";
  plan.state_serial = 4;
  plan.inputs_sha256 = "inputs-1";

  Resource bundle = MakeDesired("bundle.faq.b", {{"model.sha256", "\"e445\""}}, {});
  plan.actions.push_back(MakeAction(ActionKind::Create, bundle, std::nullopt));

  Resource traffic = MakeDesired("traffic.faq", {{"weights.a", "60"}, {"weights.b", "40"}},
                                 {"router", "version.faq.a"});
  Action update =
      MakeAction(ActionKind::Update, traffic, MakePrior(traffic, {{"weights.a", "100"}}));
  update.prior->live = {{"routes", ".ferry/run/routes.yaml"}};
  update.changes = {Change("weights.a", "100", "60", false),
                    Change("weights.b", std::nullopt, "40", false)};
  plan.actions.push_back(update);

  Resource version = MakeDesired("version.faq.a", {{"bundle", "\"abc\""}, {"scale", "0.5"}},
                                 {"bundle.faq.a", "router"});
  Action replace = MakeAction(ActionKind::Replace, version,
                              MakePrior(version, {{"bundle", "\"old\""}, {"scale", "0.5"}}));
  replace.prior->tainted = true;
  replace.reason = "bundle sha256 changed: the new build starts beside the old one";
  replace.changes = {Change("bundle", "\"old\"", "\"abc\"", true)};
  plan.actions.push_back(replace);

  Resource gone = MakeDesired("version.faq.old", {{"replicas", "1"}, {"probe", "null"}}, {});
  plan.actions.push_back(MakeAction(ActionKind::Delete, std::nullopt,
                                    MakePrior(gone, {{"replicas", "1"}, {"probe", "null"}})));
  return plan;
}

auto ParsePlan(std::string_view text) -> std::string {
  PlanFile file;
  std::optional<StateError> error = ParsePlanFile(text, "faq.tfplan", file);
  return error ? error->ToString() : "ok";
}

TEST_CASE("FormatPlanJson writes every field, attribute values as JSON values") {
  Plan plan;
  plan.project = "p";
  plan.executor = "local";
  plan.inputs_sha256 = "i";
  Resource traffic =
      MakeDesired("traffic.faq", {{"weights.a", "60"}, {"path", "\"/x\""}}, {"router"});
  Action update =
      MakeAction(ActionKind::Update, traffic, MakePrior(traffic, {{"weights.a", "100"}}));
  update.changes = {Change("path", std::nullopt, "\"/x\"", false),
                    Change("weights.a", "100", "60", false)};
  plan.actions.push_back(update);
  nlohmann::json expected = nlohmann::json::parse(R"({
    "actions": [{
      "action": "update", "address": "traffic.faq", "type": "traffic",
      "changes": [
        {"field": "path", "after": "/x", "forces_replacement": false},
        {"field": "weights.a", "before": 100, "after": 60, "forces_replacement": false}],
      "desired": {"attributes": {"path": "/x", "weights.a": 60}, "depends_on": ["router"],
                  "hash": "HASH_DESIRED"},
      "prior": {"attributes": {"weights.a": 100}, "hash": "HASH_PRIOR", "live": {},
                "tainted": false}}],
    "executor": "local",
    "format_version": 1,
    "inputs_sha256": "i",
    "project": "p",
    "state": {"lineage": "", "serial": 0},
    "summary": {"create": 0, "delete": 0, "replace": 0, "update": 1}
  })");
  expected["actions"][0]["desired"]["hash"] = update.desired->hash;
  expected["actions"][0]["prior"]["hash"] = update.prior->hash;
  std::string text = FormatPlanJson(plan);
  CHECK(text == expected.dump(2) + "\n");
  CHECK(text.find("\"kind\"") == std::string::npos);
}

TEST_CASE("A saved plan reads back with every field apply needs, to the same bytes") {
  Plan plan = SamplePlan();
  std::string text = SerializePlanFile(plan, "samples/faq-matching/ferry.yaml");
  nlohmann::json json = nlohmann::json::parse(text);
  CHECK(json["kind"] == "ferry-plan");
  CHECK(json["manifest"] == "samples/faq-matching/ferry.yaml");
  CHECK(json["ferry_version"] == "0.1.0");
  CHECK(json["summary"] ==
        nlohmann::json::parse(R"({"create": 1, "update": 1, "replace": 1, "delete": 1})"));
  CHECK(json["actions"][2]["desired"]["attributes"]["scale"] == 0.5);
  CHECK(json["actions"][3]["prior"]["attributes"]["probe"].is_null());

  PlanFile file;
  REQUIRE_FALSE(ParsePlanFile(text, "faq.tfplan", file).has_value());
  CHECK(SerializePlanFile(file.plan, file.manifest_path) == text);
  CHECK(file.manifest_path == "samples/faq-matching/ferry.yaml");
  const Plan& read = file.plan;
  CHECK(read.project == plan.project);
  CHECK(read.executor == plan.executor);
  CHECK(read.state_lineage == plan.state_lineage);
  CHECK(read.state_serial == plan.state_serial);
  CHECK(read.inputs_sha256 == plan.inputs_sha256);
  REQUIRE(read.actions.size() == plan.actions.size());
  for (std::size_t i = 0; i < plan.actions.size(); ++i) {
    CAPTURE(i);
    const Action& want = plan.actions[i];
    const Action& got = read.actions[i];
    CHECK(got.kind == want.kind);
    CHECK(got.address == want.address);
    CHECK(got.type == want.type);
    CHECK(got.reason == want.reason);
    REQUIRE(got.changes.size() == want.changes.size());
    for (std::size_t c = 0; c < want.changes.size(); ++c) {
      CHECK(got.changes[c].field == want.changes[c].field);
      CHECK(got.changes[c].before == want.changes[c].before);
      CHECK(got.changes[c].after == want.changes[c].after);
      CHECK(got.changes[c].forces_replacement == want.changes[c].forces_replacement);
    }
    REQUIRE(got.desired.has_value() == want.desired.has_value());
    if (want.desired) {
      CHECK(got.desired->address == want.desired->address);
      CHECK(got.desired->type == want.desired->type);
      CHECK(got.desired->attributes == want.desired->attributes);
      CHECK(got.desired->depends_on == want.desired->depends_on);
      CHECK(got.desired->hash == want.desired->hash);
      // The attributes read back hash as they did when the plan was made.
      CHECK(HashAttributes(got.desired->type, got.desired->attributes) == got.desired->hash);
    }
    REQUIRE(got.prior.has_value() == want.prior.has_value());
    if (want.prior) {
      CHECK(got.prior->address == want.prior->address);
      CHECK(got.prior->attributes == want.prior->attributes);
      CHECK(got.prior->hash == want.prior->hash);
      CHECK(got.prior->live == want.prior->live);
      CHECK(got.prior->tainted == want.prior->tainted);
    }
  }
}

TEST_CASE("ParsePlanFile says what another kind of file is") {
  CHECK(ParsePlan(FormatPlanJson(SamplePlan())) ==
        "faq.tfplan: this is a plan printed with `--format json`, not a saved plan: save one "
        "with `ferry plan -out FILE`");
  State state;
  state.executor = "local";
  CHECK(ParsePlan(SerializeState(state)) ==
        "faq.tfplan: this is a state file, not a saved plan: save a plan with `ferry plan -out "
        "FILE`");
  CHECK(ParsePlan(R"({"kind": "terraform-plan"})") ==
        "faq.tfplan: kind: \"terraform-plan\" is not a saved plan (expected \"ferry-plan\")");
  CHECK(ParsePlan(R"({"apiVersion": "v1"})") ==
        "faq.tfplan: kind: missing (expected \"ferry-plan\"): this is not a saved ferry plan");
  CHECK(ParsePlan("\"plan\"") ==
        "faq.tfplan: expected a JSON object, found a string: this is not a saved ferry plan");
}

TEST_CASE("ParsePlanFile refuses a newer plan format, bad JSON and a cut-off file") {
  CHECK(ParsePlan(R"({"kind": "ferry-plan", "format_version": 3, "ferry_version": "0.5.0"})") ==
        "faq.tfplan: plan format 3 was written by ferry 0.5.0; this ferry (0.1.0) reads format 1: "
        "upgrade ferry, or make the plan again with `ferry plan -out FILE` with this one");
  CHECK(ParsePlan("") ==
        "faq.tfplan: truncated or corrupt: the file is empty; make the plan again with `ferry "
        "plan -out FILE`");
  std::string text = SerializePlanFile(SamplePlan(), "ferry.yaml");
  std::string cut = ParsePlan(text.substr(0, text.size() / 2));
  CHECK(cut.find(": truncated or corrupt: the file ends in the middle of the JSON (") !=
        std::string::npos);
  CHECK(ParsePlan("{\"kind\": \"ferry-plan\",\n \"format_version\": 1,]") ==
        "faq.tfplan:2:22: corrupt: not valid JSON (syntax error while parsing object key - "
        "unexpected ']'; expected string literal); make the plan again with `ferry plan -out "
        "FILE`");
}

TEST_CASE("ParsePlanFile names the field path of a wrong or inconsistent field") {
  nlohmann::json good = nlohmann::json::parse(SerializePlanFile(SamplePlan(), "ferry.yaml"));
  auto parse_with = [&](auto&& edit) {
    nlohmann::json copy = good;
    edit(copy);
    return ParsePlan(copy.dump());
  };
  const std::string again = " (make the plan again with `ferry plan -out FILE`)";
  CHECK(parse_with([](nlohmann::json& j) { j["state"]["serial"] = "4"; }) ==
        "faq.tfplan: state.serial: expected an integer, found a string" + again);
  CHECK(parse_with([](nlohmann::json& j) { j["actions"][1]["action"] = "patch"; }) ==
        "faq.tfplan: actions[1].action: 'patch' is not an action (create, update, replace or "
        "delete)" +
            again);
  CHECK(parse_with([](nlohmann::json& j) { j["actions"][0].erase("desired"); }) ==
        "faq.tfplan: actions[0].desired: missing (expected an object)" + again);
  CHECK(parse_with([](nlohmann::json& j) {
          j["actions"][0]["prior"] = j["actions"][1]["prior"];
        }) == "faq.tfplan: actions[0].prior: a create has no prior resource" + again);
  CHECK(parse_with([](nlohmann::json& j) {
          j["actions"][3]["desired"] = j["actions"][1]["desired"];
        }) == "faq.tfplan: actions[3].desired: a delete has no desired resource" + again);
  CHECK(parse_with([](nlohmann::json& j) { j["actions"][2]["desired"]["depends_on"][1] = 7; }) ==
        "faq.tfplan: actions[2].desired.depends_on[1]: expected a string, found an integer" +
            again);
  CHECK(parse_with([](nlohmann::json& j) { j["actions"][1]["changes"][0].erase("field"); }) ==
        "faq.tfplan: actions[1].changes[0].field: missing (expected a string)" + again);
  CHECK(parse_with([](nlohmann::json& j) { j.erase("inputs_sha256"); }) ==
        "faq.tfplan: inputs_sha256: missing (expected a string)" + again);
  CHECK(parse_with([](nlohmann::json& j) { j["extra"] = true; }) ==
        "faq.tfplan: extra: unknown field (expected one of: actions, executor, ferry_version, "
        "format_version, inputs_sha256, kind, manifest, project, state, summary)" +
            again);
}

auto DesiredFor(const Plan& plan) -> Desired {
  Desired desired;
  desired.project = plan.project;
  desired.executor = ExecutorKind::Local;
  desired.inputs_sha256 = plan.inputs_sha256;
  for (const Action& action : plan.actions) {
    if (action.desired) desired.resources.push_back(*action.desired);
  }
  std::sort(desired.resources.begin(), desired.resources.end(),
            [](const Resource& a, const Resource& b) { return a.address < b.address; });
  return desired;
}

auto StateFor(const Plan& plan) -> State {
  State state;
  state.project = plan.project;
  state.executor = plan.executor;
  state.lineage = plan.state_lineage;
  state.serial = plan.state_serial;
  return state;
}

TEST_CASE("StalePlanReason accepts a plan whose state and inputs are unchanged") {
  Plan plan = SamplePlan();
  CHECK_FALSE(StalePlanReason(plan, DesiredFor(plan), StateFor(plan)).has_value());
  Plan first = SamplePlan();
  first.state_lineage = "";
  first.state_serial = 0;
  CHECK_FALSE(StalePlanReason(first, DesiredFor(first), State{}).has_value());
}

TEST_CASE("StalePlanReason names each way a saved plan goes stale") {
  Plan plan = SamplePlan();
  Desired desired = DesiredFor(plan);
  State state = StateFor(plan);
  auto reason = [&](const Desired& d, const State& s) {
    return StalePlanReason(plan, d, s).value_or("not stale");
  };

  State moved = state;
  moved.serial = 5;
  CHECK(reason(desired, moved) ==
        "the state changed since the plan was made (serial 4, now 5): run `ferry plan` again");

  State recreated = state;
  recreated.lineage = "d00d";
  CHECK(reason(desired, recreated) ==
        "the state was replaced since the plan was made (lineage 5c0ffee, now d00d): run "
        "`ferry plan` again");
  CHECK(reason(desired, State{}) ==
        "the state the plan was made against (lineage 5c0ffee) no longer exists: run `ferry "
        "plan` again");
  Plan first = plan;
  first.state_lineage = "";
  first.state_serial = 0;
  CHECK(StalePlanReason(first, desired, state) ==
        "a state was written since the plan was made (the plan expected none; serial 4 now): "
        "run `ferry plan` again");

  Desired renamed = desired;
  renamed.project = "faq-v2";
  CHECK(reason(renamed, state) ==
        "the plan was made for project 'faq-matching', but the manifest now names 'faq-v2': run "
        "`ferry plan` again");

  Desired kubernetes = desired;
  kubernetes.executor = ExecutorKind::Kubernetes;
  CHECK(reason(kubernetes, state) ==
        "the plan was made for the local executor, not kubernetes: run `ferry plan` again");

  Desired edited = desired;
  edited.inputs_sha256 = "inputs-2";
  edited.resources[1].hash = "other";  // traffic.faq
  CHECK(reason(edited, state) ==
        "the manifest or its inputs changed since the plan was made (traffic.faq differs): run "
        "`ferry plan` again");
  Desired shrunk = desired;
  shrunk.inputs_sha256 = "inputs-3";
  shrunk.resources.erase(shrunk.resources.begin());  // bundle.faq.b
  CHECK(reason(shrunk, state) ==
        "the manifest or its inputs changed since the plan was made (bundle.faq.b is no longer "
        "desired): run `ferry plan` again");
  // A resource the plan leaves alone changed: only the inputs' digest says so.
  Desired elsewhere = desired;
  elsewhere.inputs_sha256 = "0123456789abcdef0123";
  CHECK(reason(elsewhere, state) ==
        "the manifest or its inputs changed since the plan was made (inputs sha256 inputs-1, now "
        "0123456789ab): run `ferry plan` again");
}

auto ReadSource(const std::string& path) -> std::string {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/" + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

auto PlanSchemaErrors(const std::string& instance) -> std::string {
  nlohmann::json schema_json = nlohmann::json::parse(ReadSource("schemas/plan.schema.json"));
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_json);
  parser.populateSchema(schema_adapter, schema);
  nlohmann::json document = nlohmann::json::parse(instance);
  valijson::adapters::NlohmannJsonAdapter adapter(document);
  valijson::Validator validator;
  valijson::ValidationResults results;
  if (validator.validate(schema, adapter, &results)) return "";
  std::string errors;
  for (const valijson::ValidationResults::Error& error : results) {
    for (const std::string& step : error.context) errors += step;
    errors += ": " + error.description + "\n";
  }
  return errors.empty() ? "invalid" : errors;
}

TEST_CASE("The JSON form and the saved plan validate against schemas/plan.schema.json") {
  Plan plan = SamplePlan();
  CHECK(PlanSchemaErrors(FormatPlanJson(plan)) == "");
  CHECK(PlanSchemaErrors(SerializePlanFile(plan, "ferry.yaml")) == "");
  Plan empty;
  empty.project = "p";
  empty.executor = "kubernetes";
  CHECK(PlanSchemaErrors(FormatPlanJson(empty)) == "");
  // The schema refuses what ParsePlanFile refuses.
  nlohmann::json wrong = nlohmann::json::parse(SerializePlanFile(plan, "ferry.yaml"));
  wrong["actions"][0]["prior"] = wrong["actions"][1]["prior"];
  CHECK(PlanSchemaErrors(wrong.dump()) != "");
  wrong = nlohmann::json::parse(SerializePlanFile(plan, "ferry.yaml"));
  wrong.erase("manifest");
  CHECK(PlanSchemaErrors(wrong.dump()) != "");
  wrong = nlohmann::json::parse(SerializePlanFile(plan, "ferry.yaml"));
  wrong["actions"][3].erase("prior");
  CHECK(PlanSchemaErrors(wrong.dump()) != "");
}

TEST_CASE("docs/plan.md's JSON example validates and reads back as a saved plan") {
  std::string docs = ReadSource("docs/plan.md");
  std::size_t section = docs.find("## The plan as JSON");
  REQUIRE(section != std::string::npos);
  std::size_t start = docs.find("```json\n", section);
  REQUIRE(start != std::string::npos);
  start += 8;
  std::string example = docs.substr(start, docs.find("```", start) - start);
  CHECK(PlanSchemaErrors(example) == "");
  nlohmann::json saved = nlohmann::json::parse(example);
  saved["kind"] = "ferry-plan";
  saved["manifest"] = "samples/faq-matching/ferry.yaml";
  saved["ferry_version"] = "0.1.0";
  PlanFile file;
  std::optional<StateError> error = ParsePlanFile(saved.dump(), "docs/plan.md", file);
  REQUIRE_MESSAGE(!error.has_value(), (error ? error->ToString() : ""));
  // Printed again it is the example itself (its summary agrees with its actions).
  CHECK(FormatPlanJson(file.plan) == example);
}

}  // namespace
}  // namespace ferry::plan

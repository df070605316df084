#include "compiler/plan/state.h"

#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace ferry::plan {
namespace {

auto Entry(std::string address, std::string hash, Attributes attributes) -> ResourceState {
  ResourceState resource;
  resource.type = address.substr(0, address.find('.'));
  resource.address = std::move(address);
  resource.hash = std::move(hash);
  resource.attributes = std::move(attributes);
  return resource;
}

auto SmallState() -> State {
  State state;
  state.ferry_version = "0.1.0";
  state.lineage = "5c0ffee";
  state.project = "faq-matching";
  state.executor = "local";
  state.serial = 4;
  ResourceState router = Entry("router", "h-router", {{"port", "8080"}});
  router.live = {{"pid", "4242"}};
  state.resources.push_back(router);
  ResourceState traffic = Entry("traffic.faq", "h-traffic", {{"weights.live", "100"}});
  traffic.tainted = true;
  state.resources.push_back(traffic);
  // Out of order on purpose: the file lists resources by address.
  state.resources.push_back(Entry("bundle.faq.live", "h-bundle", {{"model.sha256", "\"c4d7\""}}));
  return state;
}

auto Parse(std::string_view text) -> std::string {
  State state;
  std::optional<StateError> error = ParseState(text, ".ferry/state.json", state);
  return error ? error->ToString() : "ok";
}

TEST_CASE("SerializeState writes sorted keys, resources by address and attribute values") {
  CHECK(SerializeState(SmallState()) ==
        R"({
  "executor": "local",
  "ferry_version": "0.1.0",
  "format": 1,
  "lineage": "5c0ffee",
  "project": "faq-matching",
  "resources": [
    {
      "address": "bundle.faq.live",
      "attributes": {
        "model.sha256": "c4d7"
      },
      "hash": "h-bundle",
      "live": {},
      "tainted": false,
      "type": "bundle"
    },
    {
      "address": "router",
      "attributes": {
        "port": 8080
      },
      "hash": "h-router",
      "live": {
        "pid": "4242"
      },
      "tainted": false,
      "type": "router"
    },
    {
      "address": "traffic.faq",
      "attributes": {
        "weights.live": 100
      },
      "hash": "h-traffic",
      "live": {},
      "tainted": true,
      "type": "traffic"
    }
  ],
  "serial": 4
}
)");
}

TEST_CASE("ParseState reads back every field and re-serializes to the same bytes") {
  State state = SmallState();
  // Canonical texts of every kind a flattened attribute can hold.
  state.resources.push_back(Entry("version.faq.live", "h-version",
                                  {{"a.int", "-7"},
                                   {"b.double", "0.5"},
                                   {"c.whole_double", "2.0"},
                                   {"d.big", "9007199254740993"},
                                   {"e.tiny", "1e-300"},
                                   {"f.text", "\"line\\nbreak \\\"quoted\\\" \\u0001 \xc3\xa9\""},
                                   {"g.true", "true"},
                                   {"h.null", "null"},
                                   {"i.empty_map", "{}"},
                                   {"j.empty_list", "[]"},
                                   {"k.digits", "\"0123\""}}));
  std::string text = SerializeState(state);
  State parsed;
  REQUIRE_FALSE(ParseState(text, "state.json", parsed).has_value());
  CHECK(SerializeState(parsed) == text);
  CHECK(parsed.format == 1);
  CHECK(parsed.ferry_version == "0.1.0");
  CHECK(parsed.lineage == "5c0ffee");
  CHECK(parsed.project == "faq-matching");
  CHECK(parsed.executor == "local");
  CHECK(parsed.serial == 4);
  REQUIRE(parsed.resources.size() == 4);
  CHECK(parsed.resources[0].address == "bundle.faq.live");
  CHECK(parsed.resources[1].live.at("pid") == "4242");
  CHECK(parsed.resources[2].tainted);
  const ResourceState* version = parsed.Find("version.faq.live");
  REQUIRE(version != nullptr);
  CHECK(version->type == "version");
  for (const auto& [field, canonical] : state.resources.back().attributes) {
    CAPTURE(field);
    CHECK(version->attributes.at(field) == canonical);
  }
}

TEST_CASE("SerializeState stamps this ferry's version on a state that has none") {
  State state;
  state.executor = "kubernetes";
  std::string text = SerializeState(state);
  CHECK(text.find("\"ferry_version\": \"0.1.0\"") != std::string::npos);
  State parsed;
  REQUIRE_FALSE(ParseState(text, "state.json", parsed).has_value());
  CHECK(parsed.resources.empty());
  CHECK(SerializeState(parsed) == text);
}

TEST_CASE("State::Put keeps resources sorted and replaces by address; Remove drops one") {
  State state;
  state.Put(Entry("traffic.faq", "1", {}));
  state.Put(Entry("bundle.faq.a", "2", {}));
  state.Put(Entry("router", "3", {}));
  state.Put(Entry("router", "4", {}));
  REQUIRE(state.resources.size() == 3);
  CHECK(state.resources[0].address == "bundle.faq.a");
  CHECK(state.resources[1].address == "router");
  CHECK(state.resources[1].hash == "4");
  CHECK(state.resources[2].address == "traffic.faq");
  state.Find("traffic.faq")->tainted = true;
  CHECK(std::as_const(state).Find("traffic.faq")->tainted);
  CHECK(state.Find("version.faq.a") == nullptr);
  state.Remove("router");
  state.Remove("router");
  CHECK(state.resources.size() == 2);
  CHECK(state.Find("router") == nullptr);
}

TEST_CASE("ParseState says an empty or cut-off file is truncated and points at the backup") {
  CHECK(Parse("") ==
        ".ferry/state.json: truncated or corrupt: the file is empty; the previous good state may "
        "be in .ferry/state.json.backup");
  CHECK(Parse("  \n") == Parse(""));
  CHECK(Parse("{\n  \"executor\": \"local\",\n  \"resources\": [\n    {\"addr") ==
        ".ferry/state.json:4:11: truncated or corrupt: the file ends in the middle of the JSON "
        "(syntax error while parsing object key - invalid string: missing closing quote; last "
        "read: '\"addr'; expected string literal); the previous good state may be in "
        ".ferry/state.json.backup");
  // Any cut of a real state file is refused, never read as a smaller state.
  std::string text = SerializeState(SmallState());
  for (std::size_t size = 0; size < text.size() - 2; size += 7) {
    CAPTURE(size);
    State state;
    std::optional<StateError> error = ParseState(text.substr(0, size), "s.json", state);
    REQUIRE(error.has_value());
    CHECK(error->message.starts_with("truncated or corrupt: "));
    CHECK(error->message.ends_with("the previous good state may be in s.json.backup"));
  }
}

TEST_CASE("ParseState gives bad JSON's line and column") {
  CHECK(Parse("{\n  \"format\": 1,\n  \"serial\": tru,\n}\n") ==
        ".ferry/state.json:3:16: corrupt: not valid JSON (syntax error while parsing value - "
        "invalid literal; last read: '\"serial\": tru,'); the previous good state may be in "
        ".ferry/state.json.backup");
  CHECK(Parse("{}\n{}\n") ==
        ".ferry/state.json:2:1: corrupt: not valid JSON (syntax error while parsing value - "
        "unexpected '{'; expected end of input); the previous good state may be in "
        ".ferry/state.json.backup");
}

TEST_CASE("ParseState refuses a state written by a newer ferry before reading its fields") {
  CHECK(Parse(R"({"format": 2, "ferry_version": "0.4.0", "resources": "changed"})") ==
        ".ferry/state.json: state format 2 was written by ferry 0.4.0; this ferry (0.1.0) reads "
        "format 1: upgrade ferry");
  CHECK(Parse(R"({"format": 18446744073709551615})") ==
        ".ferry/state.json: state format 18446744073709551615 was written by a newer ferry; this "
        "ferry (0.1.0) reads format 1: upgrade ferry");
  CHECK(Parse(R"({"format": 0})") ==
        ".ferry/state.json: format: 0 is not a state format (this ferry reads 1)");
  CHECK(Parse(R"({"format": "1"})") ==
        ".ferry/state.json: format: expected an integer, found a string");
}

TEST_CASE("ParseState names the field path of a missing or mistyped field") {
  nlohmann::json good = nlohmann::json::parse(SerializeState(SmallState()));
  auto parse_with = [&](auto&& edit) {
    nlohmann::json copy = good;
    edit(copy);
    return Parse(copy.dump());
  };
  const std::string backup = " (the previous good state may be in .ferry/state.json.backup)";
  CHECK(parse_with([](nlohmann::json& j) { j["resources"][2]["hash"] = 3; }) ==
        ".ferry/state.json: resources[2].hash: expected a string, found an integer" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j.erase("lineage"); }) ==
        ".ferry/state.json: lineage: missing (expected a string)" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j["serial"] = 1.5; }) ==
        ".ferry/state.json: serial: expected an integer, found a number" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j["serial"] = -1; }) ==
        ".ferry/state.json: serial: must not be negative" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j["resources"] = nlohmann::json::object(); }) ==
        ".ferry/state.json: resources: expected an array, found an object" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j["resources"][1] = "router"; }) ==
        ".ferry/state.json: resources[1]: expected an object, found a string" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j["resources"][0].erase("attributes"); }) ==
        ".ferry/state.json: resources[0].attributes: missing (expected an object)" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j["resources"][1]["live"]["pid"] = 4242; }) ==
        ".ferry/state.json: resources[1].live.pid: expected a string, found an integer" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j["resources"][1]["tainted"] = "no"; }) ==
        ".ferry/state.json: resources[1].tainted: expected true or false, found a string" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j["resources"][0]["address"] = ""; }) ==
        ".ferry/state.json: resources[0].address: empty (expected a resource address)" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j["executor"] = "docker"; }) ==
        ".ferry/state.json: executor: 'docker' is not an executor (local or kubernetes)" + backup);
  CHECK(parse_with([](nlohmann::json& j) { j["resources"][0]["color"] = "red"; }) ==
        ".ferry/state.json: resources[0].color: unknown field (expected one of: address, "
        "attributes, hash, live, tainted, type)" +
            backup);
  nlohmann::json deep = nlohmann::json::array();
  for (int i = 0; i < 100; ++i) deep = nlohmann::json::array({deep});
  CHECK(parse_with([&](nlohmann::json& j) { j["resources"][0]["attributes"]["x"] = deep; }) ==
        ".ferry/state.json: resources[0].attributes.x: nested too deeply to be an attribute "
        "value" +
            backup);
}

TEST_CASE("ParseState refuses an address recorded twice, naming both entries") {
  nlohmann::json j = nlohmann::json::parse(SerializeState(SmallState()));
  j["resources"][2]["address"] = "bundle.faq.live";
  CHECK(Parse(j.dump()) ==
        ".ferry/state.json: resources[2].address: 'bundle.faq.live' is recorded twice (also at "
        "resources[0]); remove the entry that does not match what runs (the previous good state "
        "may be in .ferry/state.json.backup)");
}

TEST_CASE("ParseState recognizes files that are not state files and leaves the state alone") {
  CHECK(Parse(R"({"kind": "ferry-plan", "format_version": 1, "actions": []})") ==
        ".ferry/state.json: this is a saved plan, not a state file (state files are "
        ".ferry/state*.json)");
  CHECK(Parse("[1, 2]") ==
        ".ferry/state.json: expected a JSON object, found an array: this is not a ferry state "
        "file");
  CHECK(Parse(R"({"apiVersion": "v1"})") ==
        ".ferry/state.json: format: missing (expected the integer 1): this is not a ferry state "
        "file");
  CHECK(
      Parse("ferry: 1\nproject: faq\n")
          .starts_with(
              ".ferry/state.json:1:2: corrupt: not valid JSON (syntax error while parsing value - "
              "invalid literal; last read: 'fe'); the previous good state may be in "
              ".ferry/state.json.backup"));
  State state = SmallState();
  REQUIRE(ParseState("{\"format\": 1}", "s.json", state).has_value());
  CHECK(SerializeState(state) == SerializeState(SmallState()));
}

auto ReadSource(const std::string& path) -> std::string {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/" + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The errors valijson finds in `instance` against the schema at `schema_path`.
auto SchemaErrors(const std::string& schema_path, const std::string& instance) -> std::string {
  nlohmann::json schema_json = nlohmann::json::parse(ReadSource(schema_path));
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_json);
  parser.populateSchema(schema_adapter, schema);
  nlohmann::json document = nlohmann::json::parse(instance);
  valijson::adapters::NlohmannJsonAdapter adapter(document);
  valijson::Validator validator;
  valijson::ValidationResults results;
  std::string errors;
  if (!validator.validate(schema, adapter, &results)) {
    for (const valijson::ValidationResults::Error& error : results) {
      for (const std::string& step : error.context) errors += step;
      errors += ": " + error.description + "\n";
    }
    if (errors.empty()) errors = "invalid";
  }
  return errors;
}

TEST_CASE("SerializeState output validates against schemas/state.schema.json") {
  State state = SmallState();
  state.resources.push_back(Entry("object.prod.Deployment.faq-live", "h",
                                  {{"spec.replicas", "2"},
                                   {"spec.volumes[0].emptyDir", "{}"},
                                   {"metadata.annotations.x", "null"}}));
  CHECK(SchemaErrors("schemas/state.schema.json", SerializeState(state)) == "");
  CHECK(SchemaErrors("schemas/state.schema.json", SerializeState(State{})) != "");
  // The schema refuses what ParseState refuses.
  nlohmann::json wrong = nlohmann::json::parse(SerializeState(state));
  wrong["resources"][0]["hash"] = 3;
  CHECK(SchemaErrors("schemas/state.schema.json", wrong.dump()) != "");
  wrong = nlohmann::json::parse(SerializeState(state));
  wrong["format"] = 2;
  CHECK(SchemaErrors("schemas/state.schema.json", wrong.dump()) != "");
}

TEST_CASE("docs/plan.md's state file example reads and validates") {
  std::string docs = ReadSource("docs/plan.md");
  std::size_t section = docs.find("## The state file");
  REQUIRE(section != std::string::npos);
  std::size_t start = docs.find("```json\n", section);
  REQUIRE(start != std::string::npos);
  start += 8;
  std::string example = docs.substr(start, docs.find("```", start) - start);
  State state;
  std::optional<StateError> error = ParseState(example, "docs/plan.md", state);
  CHECK_MESSAGE(!error.has_value(), (error ? error->ToString() : ""));
  CHECK(SerializeState(state) == example);
  CHECK(SchemaErrors("schemas/state.schema.json", example) == "");
}

}  // namespace
}  // namespace ferry::plan

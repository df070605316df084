#include "compiler/support/value.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

namespace ferry::support {
namespace {

TEST_CASE("ToYaml prints maps with sorted keys and lists under keys without extra indent") {
  Value value;
  value["spec"]["replicas"] = 3;
  value["kind"] = "Deployment";
  value["apiVersion"] = "apps/v1";
  value["spec"]["ports"] = Value::Array({Value::Object({{"port", 5001}, {"name", "http"}}), 80});
  CHECK(ToYaml(value) ==
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "spec:\n"
        "  ports:\n"
        "  - name: http\n"
        "    port: 5001\n"
        "  - 80\n"
        "  replicas: 3\n");
}

TEST_CASE("ToYaml quotes strings a YAML reader would take for something else") {
  Value value;
  value["a"] = "1.18";
  value["b"] = "true";
  value["c"] = "no";
  value["d"] = "";
  value["e"] = "- dash";
  value["f"] = "key: value";
  value["g"] = "100m";
  value["h"] = "0x1F";
  value["i"] = "quote\"and\\slash";
  CHECK(ToYaml(value) ==
        "a: \"1.18\"\n"
        "b: \"true\"\n"
        "c: \"no\"\n"
        "d: \"\"\n"
        "e: \"- dash\"\n"
        "f: \"key: value\"\n"
        "g: 100m\n"
        "h: \"0x1F\"\n"
        "i: \"quote\\\"and\\\\slash\"\n");
}

TEST_CASE("ToYaml writes multi-line text as a literal block that reads back exactly") {
  for (const std::string text : {"a: 1\nb: 2\n", "line one\n\nline three", "x\n\n\n"}) {
    CAPTURE(text);
    Value value;
    value["data"]["routes.yaml"] = text;
    const YAML::Node parsed = YAML::Load(ToYaml(value));
    CHECK(parsed["data"]["routes.yaml"].as<std::string>() == text);
  }
}

TEST_CASE("ToYaml round-trips every scalar kind through a YAML reader") {
  Value value;
  value["int"] = std::int64_t{-42};
  value["double"] = 0.25;
  value["whole double"] = 2.0;
  value["bool"] = false;
  value["null"] = Value();
  value["empty map"] = Map{};
  value["empty list"] = List{};
  value["tab\tkey"] = "v";
  const YAML::Node parsed = YAML::Load(ToYaml(value));
  CHECK(parsed["int"].as<int>() == -42);
  CHECK(parsed["double"].as<double>() == 0.25);
  CHECK(parsed["whole double"].Scalar() == "2.0");
  CHECK(parsed["bool"].as<bool>() == false);
  CHECK(parsed["null"].IsNull());
  CHECK(parsed["empty map"].IsMap());
  CHECK(parsed["empty list"].IsSequence());
  CHECK(parsed["tab\tkey"].as<std::string>() == "v");
}

TEST_CASE("ToYaml nests lists of lists and maps inside lists") {
  const Value value = Value::Array(
      {Value::Array({1, 2}), Value::Object({{"a", Value::Array({"x"})}, {"b", Map{}}})});
  CHECK(ToYaml(value) ==
        "- - 1\n"
        "  - 2\n"
        "- a:\n"
        "  - x\n"
        "  b: {}\n");
  const YAML::Node parsed = YAML::Load(ToYaml(value));
  CHECK(parsed[0][1].as<int>() == 2);
  CHECK(parsed[1]["a"][0].as<std::string>() == "x");
}

TEST_CASE("ToCanonicalJson sorts keys and escapes strings") {
  Value value;
  value["b"] = Value::Array({1, 2.5, "x\n"});
  value["a"] = true;
  value["c"] = Value();
  CHECK(ToCanonicalJson(value) == R"({"a":true,"b":[1,2.5,"x\n"],"c":null})");
}

TEST_CASE("equal values print identically whatever the insertion order") {
  Value first;
  first["z"] = 1;
  first["a"] = 2;
  Value second;
  second["a"] = 2;
  second["z"] = 1;
  CHECK(first == second);
  CHECK(ToYaml(first) == ToYaml(second));
}

}  // namespace
}  // namespace ferry::support

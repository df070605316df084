// swagger.json: schemas inferred from the samples, the served paths and the
// security scheme that follows the endpoint's auth.
#include "compiler/render/swagger.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace ferry::render {
namespace {

using support::List;
using support::Map;
using support::ToCanonicalJson;
using support::Value;

auto Schema(const Value& sample) -> std::string { return ToCanonicalJson(InferSchema(sample)); }

TEST_CASE("InferSchema: scalars, arrays of merged items, objects with required properties") {
  CHECK(Schema(Value(true)) == R"({"type":"boolean"})");
  CHECK(Schema(Value(std::int64_t{3})) == R"({"type":"integer"})");
  CHECK(Schema(Value(0.5)) == R"({"type":"number"})");
  CHECK(Schema(Value("cat")) == R"({"type":"string"})");
  CHECK(Schema(Value()) == R"({"nullable":true})");
  // Integers mixed with other numbers are numbers.
  CHECK(Schema(Value(List{Value(std::int64_t{1}), Value(2.5)})) ==
        R"({"items":{"type":"number"},"type":"array"})");
  CHECK(Schema(Value(List{Value(std::int64_t{1}), Value(std::int64_t{2})})) ==
        R"({"items":{"type":"integer"},"type":"array"})");
  // Different kinds leave the items open; an empty list says nothing of them.
  CHECK(Schema(Value(List{Value(std::int64_t{1}), Value("a")})) ==
        R"({"items":{},"type":"array"})");
  CHECK(Schema(Value(List{})) == R"({"items":{},"type":"array"})");
  // Objects in a list: properties united, required where every row has them.
  const Value rows =
      Value(List{Value::Object({{"a", 1}, {"b", "x"}}), Value::Object({{"a", 2.5}})});
  CHECK(Schema(rows) == R"({"items":{"properties":{"a":{"type":"number"},"b":{"type":"string"}},)"
                        R"("required":["a"],"type":"object"},"type":"array"})");
  const Value disjoint = Value(List{Value::Object({{"a", 1}}), Value::Object({{"b", 1}})});
  CHECK(Schema(disjoint) ==
        R"({"items":{"properties":{"a":{"type":"integer"},"b":{"type":"integer"}},)"
        R"("type":"object"},"type":"array"})");
}

auto Endpoint(bool key, bool token) -> ir::Endpoint {
  ir::Endpoint endpoint;
  endpoint.name = "faq";
  endpoint.description = "FAQ matching";
  endpoint.auth = {key, token};
  return endpoint;
}

auto Parse(const std::string& text) -> nlohmann::json {
  REQUIRE(text.ends_with("}\n"));
  return nlohmann::json::parse(text);
}

TEST_CASE("SwaggerJson: POST /score from the samples, the other paths, errors, key auth") {
  ir::Version version;
  version.name = "b";
  const Value input = Value::Object({{"data", Value(List{Value(List{Value("reset password")})})}});
  const Value output = Value::Object({{"label", Value(List{Value(std::int64_t{12})})}});
  const std::string text = SwaggerJson(Endpoint(true, false), version, input, output);
  // Deterministic bytes: the same inputs give the same document.
  CHECK(text == SwaggerJson(Endpoint(true, false), version, input, output));
  const nlohmann::json doc = Parse(text);
  CHECK(doc["openapi"] == "3.0.3");
  CHECK(doc["info"]["title"] == "faq");
  CHECK(doc["info"]["version"] == "b");
  CHECK_FALSE(doc["info"].contains("description"));
  const nlohmann::json& score = doc["paths"]["/score"]["post"];
  const nlohmann::json& request = score["requestBody"]["content"]["application/json"];
  CHECK(request["example"] == nlohmann::json::parse(R"({"data":[["reset password"]]})"));
  CHECK(request["schema"]["properties"]["data"]["items"]["items"]["type"] == "string");
  CHECK(request["schema"]["required"] == nlohmann::json::array({"data"}));
  const nlohmann::json& ok = score["responses"]["200"]["content"]["application/json"];
  // Under "outputs", as the server answers.
  CHECK(ok["example"] == nlohmann::json::parse(R"({"outputs":{"label":[12]}})"));
  CHECK(ok["schema"]["required"] == nlohmann::json::array({"outputs"}));
  const nlohmann::json& outputs = ok["schema"]["properties"]["outputs"];
  CHECK(outputs["properties"]["label"]["items"]["type"] == "integer");
  CHECK(ok["schema"]["properties"]["class_ids"]["type"] == "object");
  for (const char* status : {"400", "401", "413", "500", "503", "504"}) {
    CAPTURE(status);
    CHECK(score["responses"][status]["content"]["application/json"]["schema"]["$ref"] ==
          "#/components/schemas/Error");
  }
  CHECK(score["security"] == nlohmann::json::parse(R"([{"bearer":[]}])"));
  CHECK(doc["components"]["securitySchemes"]["bearer"] ==
        nlohmann::json::parse(R"({"scheme":"bearer","type":"http"})"));
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/swagger.json"}) {
    CAPTURE(path);
    CHECK(doc["paths"][path]["get"]["responses"].contains("200"));
  }
  CHECK(doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"].contains("text/plain"));
}

TEST_CASE("SwaggerJson: tokens are JWTs; without auth no security; without samples an object") {
  ir::Version version;
  version.name = "a";
  const nlohmann::json token = Parse(SwaggerJson(Endpoint(false, true), version, Value(), Value()));
  CHECK(token["components"]["securitySchemes"]["bearer"]["bearerFormat"] == "JWT");
  const nlohmann::json& request =
      token["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"];
  CHECK(request["schema"] == nlohmann::json::parse(R"({"type":"object"})"));
  CHECK_FALSE(request.contains("example"));

  const nlohmann::json open = Parse(SwaggerJson(Endpoint(false, false), version, Value(), Value()));
  CHECK_FALSE(open["components"].contains("securitySchemes"));
  CHECK_FALSE(open["paths"]["/score"]["post"].contains("security"));
  CHECK_FALSE(open["paths"]["/score"]["post"]["responses"].contains("401"));
}

}  // namespace
}  // namespace ferry::render

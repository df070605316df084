#include "compiler/render/swagger.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <set>
#include <string>
#include <variant>

namespace ferry::render {
namespace {

using support::List;
using support::Map;
using support::Value;

auto TypeOf(const Value& schema) -> std::string {
  if (!schema.is_map()) return "";
  const auto found = schema.map().find("type");
  return found != schema.map().end() && found->second.is_string() ? found->second.string() : "";
}

auto Merge(const Value& a, const Value& b) -> Value;

// Two object schemas: the union of the properties (merged where both have
// one), required only where both require it.
auto MergeObjects(const Value& a, const Value& b) -> Value {
  Map properties = a.map().at("properties").map();
  for (const auto& [name, schema] : b.map().at("properties").map()) {
    auto [at, inserted] = properties.emplace(name, schema);
    if (!inserted) at->second = Merge(at->second, schema);
  }
  std::set<std::string> required_a;
  for (const Value& name : a.map().at("required").list()) required_a.insert(name.string());
  List required;
  for (const Value& name : b.map().at("required").list()) {
    if (required_a.contains(name.string())) required.push_back(name);
  }
  Value merged = Value::Object({{"type", "object"}, {"properties", Value(std::move(properties))}});
  merged["required"] = Value(std::move(required));
  return merged;
}

auto Merge(const Value& a, const Value& b) -> Value {
  if (a == b) return a;
  const std::string type_a = TypeOf(a);
  const std::string type_b = TypeOf(b);
  const auto numeric = [](const std::string& type) {
    return type == "integer" || type == "number";
  };
  if (numeric(type_a) && numeric(type_b)) return Value::Object({{"type", "number"}});
  if (type_a == "array" && type_b == "array") {
    return Value::Object(
        {{"type", "array"}, {"items", Merge(a.map().at("items"), b.map().at("items"))}});
  }
  if (type_a == "object" && type_b == "object") return MergeObjects(a, b);
  // Different kinds: any value.
  return Value(Map{});
}

// "required" is kept, possibly empty, while merging; an empty one is
// dropped at the end (OpenAPI 3.0 wants at least one entry).
auto DropEmptyRequired(Value schema) -> Value {
  if (!schema.is_map()) return schema;
  Map& map = schema.map();
  if (auto found = map.find("required");
      found != map.end() && found->second.is_list() && found->second.list().empty()) {
    map.erase(found);
  }
  if (auto found = map.find("items"); found != map.end()) {
    found->second = DropEmptyRequired(std::move(found->second));
  }
  if (auto found = map.find("properties"); found != map.end() && found->second.is_map()) {
    for (auto& [name, property] : found->second.map()) {
      property = DropEmptyRequired(std::move(property));
    }
  }
  return schema;
}

auto Infer(const Value& sample) -> Value {
  struct Visitor {
    auto operator()(std::monostate) const -> Value { return Value::Object({{"nullable", true}}); }
    auto operator()(bool) const -> Value { return Value::Object({{"type", "boolean"}}); }
    auto operator()(std::int64_t) const -> Value { return Value::Object({{"type", "integer"}}); }
    auto operator()(double) const -> Value { return Value::Object({{"type", "number"}}); }
    auto operator()(const std::string&) const -> Value {
      return Value::Object({{"type", "string"}});
    }
    auto operator()(const List& items) const -> Value {
      Value merged = Value(Map{});
      for (std::size_t i = 0; i < items.size(); ++i) {
        merged = i == 0 ? Infer(items[i]) : Merge(merged, Infer(items[i]));
      }
      return Value::Object({{"type", "array"}, {"items", std::move(merged)}});
    }
    auto operator()(const Map& entries) const -> Value {
      Map properties;
      List required;
      for (const auto& [name, value] : entries) {
        properties.emplace(name, Infer(value));
        required.emplace_back(name);
      }
      return Value::Object({{"type", "object"},
                            {"properties", Value(std::move(properties))},
                            {"required", Value(std::move(required))}});
    }
  };
  return std::visit(Visitor{}, sample.data());
}

auto JsonContent(Value schema, const Value& example) -> Value {
  Value media = Value::Object({{"schema", std::move(schema)}});
  if (!example.is_null()) media["example"] = example;
  return Value::Object({{"application/json", std::move(media)}});
}

auto ErrorResponse(std::string_view description) -> Value {
  return Value::Object(
      {{"description", description},
       {"content",
        Value::Object(
            {{"application/json",
              Value::Object(
                  {{"schema", Value::Object({{"$ref", "#/components/schemas/Error"}})}})}})}});
}

// The body of every error the server returns: {"error": {"code", "message"}}.
auto ErrorSchema() -> Value {
  const Value text = Value::Object({{"type", "string"}});
  return Value::Object(
      {{"type", "object"},
       {"required", Value::Array({"error"})},
       {"properties",
        Value::Object(
            {{"error", Value::Object({{"type", "object"},
                                      {"required", Value::Array({"code", "message"})},
                                      {"properties",
                                       Value::Object({{"code", text}, {"message", text}})}})}})}});
}

auto Plain(std::string_view description) -> Value {
  return Value::Object({{"description", description}});
}

auto ScoreOperation(const ir::Endpoint& endpoint, const Value& input, const Value& output)
    -> Value {
  const bool auth = endpoint.auth.key || endpoint.auth.token;
  // Without a sample, the shape is only known to be a JSON object.
  const Value generic = Value::Object({{"type", "object"}});
  // The server answers {"outputs": {NAME: values}} (plus "class_ids" when an
  // output holds labels): output_sample is the model's outputs, as the seeds'
  // samples are, so the document puts it under "outputs".
  Value answer = Value::Object(
      {{"type", "object"},
       {"required", Value::Array({"outputs"})},
       {"properties",
        Value::Object({{"outputs", output.is_null() ? generic : InferSchema(output)},
                       {"class_ids",
                        Value::Object({{"type", "object"},
                                       {"description",
                                        "For outputs answered as class labels: the class indices "
                                        "behind them, by output name."}})}})}});
  Value answer_example;
  if (!output.is_null()) answer_example = Value::Object({{"outputs", output}});
  Value responses = Value::Object({
      {"200", Value::Object({{"description", "The model's outputs."},
                             {"content", JsonContent(std::move(answer), answer_example)}})},
      {"400", ErrorResponse("Malformed JSON, or inputs of the wrong shape or type.")},
      {"413", ErrorResponse("The request body is larger than the version's limit.")},
      {"500", ErrorResponse("The model failed.")},
      {"503", ErrorResponse("Too many requests in flight; retry after the Retry-After header.")},
      {"504", ErrorResponse("The request ran longer than the version's timeout.")},
  });
  if (auth) responses["401"] = ErrorResponse("A missing, wrong or expired key or token.");
  Value operation = Value::Object({
      {"operationId", "score"},
      {"summary", "Score rows with the model."},
      {"requestBody",
       Value::Object(
           {{"required", true},
            {"content", JsonContent(input.is_null() ? generic : InferSchema(input), input)}})},
      {"responses", std::move(responses)},
  });
  if (auth) operation["security"] = Value::Array({Value::Object({{"bearer", Value(List{})}})});
  return operation;
}

}  // namespace

auto InferSchema(const Value& sample) -> Value { return DropEmptyRequired(Infer(sample)); }

auto SwaggerJson(const ir::Endpoint& endpoint, const ir::Version& version,
                 const Value& input_sample, const Value& output_sample) -> std::string {
  const auto get = [](Value responses) {
    return Value::Object({{"get", Value::Object({{"responses", std::move(responses)}})}});
  };
  // No description: it is not part of the bundle, so editing it rebuilds no image.
  Value info = Value::Object({{"title", endpoint.name}, {"version", version.name}});
  Value components = Value::Object({{"schemas", Value::Object({{"Error", ErrorSchema()}})}});
  if (endpoint.auth.key || endpoint.auth.token) {
    Value scheme = Value::Object({{"type", "http"}, {"scheme", "bearer"}});
    // Keys are opaque strings; tokens are JWTs.
    if (endpoint.auth.token) scheme["bearerFormat"] = "JWT";
    components["securitySchemes"] = Value::Object({{"bearer", std::move(scheme)}});
  }
  Value paths = Value::Object({
      {"/score", Value::Object({{"post", ScoreOperation(endpoint, input_sample, output_sample)}})},
      {"/healthz", get(Value::Object({{"200", Plain("The process is alive.")}}))},
      {"/readyz", get(Value::Object({{"200", Plain("The model is loaded.")},
                                     {"503", Plain("The model is not loaded yet.")}}))},
      {"/metrics",
       get(Value::Object(
           {{"200", Value::Object(
                        {{"description", "Prometheus text metrics."},
                         {"content",
                          Value::Object(
                              {{"text/plain",
                                Value::Object(
                                    {{"schema", Value::Object({{"type", "string"}})}})}})}})}}))},
      {"/swagger.json", get(Value::Object({{"200", Plain("This document.")}}))},
  });
  const Value document = Value::Object({{"openapi", "3.0.3"},
                                        {"info", std::move(info)},
                                        {"paths", std::move(paths)},
                                        {"components", std::move(components)}});
  return support::ToCanonicalJson(document) + "\n";
}

}  // namespace ferry::render

#include "compiler/manifest/schema.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "compiler/manifest/schema_report.h"
#include "compiler/manifest/to_json.h"
#include "compiler/support/embedded.h"

namespace ferry::manifest {
namespace {

/// The schema as JSON (read for messages) and as valijson's compiled form.
struct CompiledSchema {
  nlohmann::json document;
  valijson::Schema schema;
};

auto Compile(std::string_view text) -> std::unique_ptr<CompiledSchema> {
  auto compiled = std::make_unique<CompiledSchema>();
  compiled->document = nlohmann::json::parse(text);
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter adapter(compiled->document);
  parser.populateSchema(adapter, compiled->schema);
  return compiled;
}

// valijson names positions "<root>", "[endpoints]", "[0]", ...
auto Steps(const std::vector<std::string>& context) -> std::vector<std::string> {
  std::vector<std::string> steps;
  for (const std::string& part : context) {
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
      steps.push_back(part.substr(1, part.size() - 2));
    }
  }
  return steps;
}

// std::regex recurses per character and overflows the stack on long input.
// No string the schema gives a pattern may be this long, so a longer one is
// cut and marked with a byte no pattern accepts: it still fails, cheaply.
constexpr std::size_t kLongestPatterned = 1024;

void CutLongStrings(nlohmann::json& value) {
  if (value.is_string()) {
    std::string& text = value.get_ref<std::string&>();
    if (text.size() > kLongestPatterned) text = text.substr(0, kLongestPatterned) + '\x01';
    return;
  }
  if (value.is_structured()) {
    for (nlohmann::json& child : value) CutLongStrings(child);
  }
}

auto Validate(const CompiledSchema& compiled, const Document& document, diag::Sink& sink)
    -> InvalidNodes {
  if (document.root() == nullptr) return {};
  nlohmann::json instance = ToJson(*document.root());
  CutLongStrings(instance);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(instance);
  validator.validate(compiled.schema, adapter, &results);

  std::vector<RawSchemaError> errors;
  for (const valijson::ValidationResults::Error& error : results) {
    errors.push_back({Steps(error.context), error.description});
  }
  SchemaReporter reporter(document, compiled.document, sink);
  reporter.Report(errors);
  reporter.ReportNames();
  return std::move(reporter.invalid());
}

}  // namespace

auto ValidateSchema(const Document& document, diag::Sink& sink) -> InvalidNodes {
  // The embedded schema is part of the binary: compile it once.
  static const std::unique_ptr<CompiledSchema> compiled =
      Compile(support::FindEmbedded("schemas/ferry.schema.json").value_or("{}"));
  return Validate(*compiled, document, sink);
}

auto ValidateSchema(const Document& document, std::string_view schema_json, diag::Sink& sink)
    -> InvalidNodes {
  return Validate(*Compile(schema_json), document, sink);
}

}  // namespace ferry::manifest

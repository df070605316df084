#include "compiler/manifest/schema_report.h"

#include <algorithm>
#include <regex>

#include "compiler/manifest/schema_messages.h"
#include "compiler/manifest/to_json.h"
#include "compiler/support/suggest.h"

namespace ferry::manifest {
namespace {

using diag::Code;
using Steps = std::vector<std::string>;

constexpr std::size_t kLongestName = 256;

auto IsTypeError(const RawSchemaError& error) -> bool {
  return error.description.starts_with("Value type not permitted");
}

auto Contains(const std::vector<std::string>& list, std::string_view value) -> bool {
  return std::find(list.begin(), list.end(), value) != list.end();
}

auto With(Steps steps, std::string step) -> Steps {
  steps.push_back(std::move(step));
  return steps;
}

// "Missing required property 'model'." -> "model".
auto QuotedName(const std::string& description) -> std::string {
  const std::size_t open = description.find('\'');
  const std::size_t close = description.rfind('\'');
  if (open == std::string::npos || close <= open) return "";
  return description.substr(open + 1, close - open - 1);
}

// "'model'", "'models'".
auto QuotedAll(const std::vector<std::string>& fields) -> std::vector<std::string> {
  std::vector<std::string> quoted;
  quoted.reserve(fields.size());
  for (const std::string& field : fields) quoted.push_back("'" + field + "'");
  return quoted;
}

auto NumberText(const nlohmann::json* value) -> std::string {
  if (value == nullptr) return "?";
  if (value->is_number_float()) return value->dump();
  return value->is_number() ? std::to_string(value->get<std::int64_t>()) : value->dump();
}

auto StringOr(const nlohmann::json* value, const std::string& fallback) -> std::string {
  return value != nullptr && value->is_string() ? value->get<std::string>() : fallback;
}

}  // namespace

auto SchemaReporter::Facets(const Steps& steps) const -> SchemaFacets {
  return FacetsAt(schema_, document_.root(), steps);
}

void SchemaReporter::Emit(Code code, const Node* at, const Steps& steps, std::string message,
                          const Node* invalid) {
  // The loader already explained what is wrong with this node.
  if (at != nullptr && at->reported) {
    invalid_.insert(at);
    return;
  }
  if (!reported_.emplace(code, at, message).second) return;
  sink_.Add(code, document_.LocationOf(at), DottedPath(steps), std::move(message));
  if (invalid != nullptr) invalid_.insert(invalid);
}

void SchemaReporter::Report(const std::vector<RawSchemaError>& errors) {
  // Another format version means another format: its other errors are noise.
  for (const RawSchemaError& error : errors) {
    const Node* node = NodeAt(document_.root(), error.steps);
    if (error.steps == Steps{"ferry"} && node != nullptr && node->kind == NodeKind::Int &&
        error.description.starts_with("Failed to match expected value set by 'const'")) {
      ReportConst(error.steps);
      unsupported_format_ = true;
      return;
    }
  }
  // Types first: a value of the wrong type makes its other complaints noise.
  for (const RawSchemaError& error : errors) {
    if (IsTypeError(error)) ReportType(error);
  }
  // Missing fields are grouped per mapping so alternatives read as one.
  std::vector<std::pair<Steps, Steps>> missing;
  for (const RawSchemaError& error : errors) {
    const Node* node = NodeAt(document_.root(), error.steps);
    if (IsTypeError(error) || node == nullptr || mistyped_.contains(node)) continue;
    if (!error.description.starts_with("Missing required property")) {
      ReportOther(error);
      continue;
    }
    auto it = std::find_if(missing.begin(), missing.end(),
                           [&](const auto& entry) { return entry.first == error.steps; });
    if (it == missing.end()) it = missing.insert(missing.end(), {error.steps, {}});
    const std::string field = QuotedName(error.description);
    if (!Contains(it->second, field)) it->second.push_back(field);
  }
  for (auto& [steps, fields] : missing) ReportRequired(steps, std::move(fields));
}

auto SchemaReporter::ReportType(const RawSchemaError& error) -> bool {
  const Node* node = NodeAt(document_.root(), error.steps);
  if (node == nullptr) return false;
  const std::vector<std::string> types = Facets(error.steps).Types();
  const std::string actual = JsonTypeOf(*node);
  // Another branch of a oneOf accepts this type; its own errors say more.
  if (types.empty() || Contains(types, actual) ||
      (actual == "integer" && Contains(types, "number"))) {
    return false;
  }
  mistyped_.insert(node);
  std::vector<std::string> names;
  names.reserve(types.size());
  for (const std::string& type : types) names.push_back(JsonTypeName(type));
  std::string message = FieldLabel(error.steps) + " must be " + JoinAlternatives(names) + ", not " +
                        std::string(node->KindName());
  if (Contains(types, "string") && (node->IsNumber() || node->kind == NodeKind::Bool)) {
    message += " (quote it: \"" + node->text + "\")";
  }
  Emit(Code::kSchemaType, node, error.steps, std::move(message), node);
  return true;
}

void SchemaReporter::ReportOther(const RawSchemaError& error) {
  const std::string& text = error.description;
  if (text.starts_with("Object contains a property")) {
    ReportUnknown(error.steps);
  } else if (text.starts_with("Failed to match against any enum")) {
    ReportEnum(error.steps);
  } else if (text.starts_with("Failed to match expected value set by 'const'")) {
    ReportConst(error.steps);
  } else if (text.starts_with("Failed to match regex")) {
    ReportPattern(error.steps);
  } else if (text.starts_with("Failed to validate against exactly one child schema")) {
    ReportBothAlternatives(error.steps);
  } else if (text.starts_with("String should") || text.starts_with("Object should") ||
             text.starts_with("Array should") || text.starts_with("Expected number")) {
    ReportBound(error.steps, text);
  }
  // Everything else summarizes errors reported at their own nodes.
}

void SchemaReporter::ReportRequired(const Steps& steps, std::vector<std::string> missing) {
  const Node* node = NodeAt(document_.root(), steps);
  const SchemaFacets facets = Facets(steps);
  const std::string entity = EntityName(steps);
  for (const std::vector<std::string>& group : facets.Alternatives()) {
    if (!std::all_of(group.begin(), group.end(),
                     [&](const auto& f) { return Contains(missing, f); })) {
      continue;
    }
    Emit(Code::kSchemaRequired, node, steps,
         entity + " is missing required field " + JoinAlternatives(QuotedAll(group)), nullptr);
    std::erase_if(missing, [&](const std::string& f) { return Contains(group, f); });
  }
  for (const std::string& field : missing) {
    std::string message = entity + " is missing required field '";
    message += field;
    message += "'";
    message += facets.ConditionFor(field);
    Emit(Code::kSchemaRequired, node, steps, std::move(message), nullptr);
  }
}

void SchemaReporter::ReportUnknown(const Steps& steps) {
  const Node* node = NodeAt(document_.root(), steps);
  if (node == nullptr || node->kind != NodeKind::Mapping) return;
  const std::vector<std::string> allowed = Facets(steps).Properties();
  for (const Entry& entry : node->entries) {
    if (Contains(allowed, entry.key->text)) continue;
    Emit(Code::kSchemaUnknownField, entry.key, With(steps, entry.key->text),
         "unknown field '" + entry.key->text + "' in " + EntityName(steps) +
             support::DidYouMean(entry.key->text, allowed),
         entry.value);
  }
}

void SchemaReporter::ReportEnum(const Steps& steps) {
  const Node* node = NodeAt(document_.root(), steps);
  // A collection failed the scalar branch of a oneOf; its other branch reports.
  if (!node->IsScalar()) return;
  const std::vector<std::string> values = Facets(steps).EnumValues();
  Emit(Code::kSchemaEnum, node, steps,
       FieldLabel(steps) + " must be one of " + JoinAlternatives(values) + ", not " +
           Quote(node->text) + support::DidYouMean(node->text, values),
       node);
}

void SchemaReporter::ReportConst(const Steps& steps) {
  const Node* node = NodeAt(document_.root(), steps);
  const std::string expected = NumberText(Facets(steps).First("const"));
  if (steps.size() == 1 && steps[0] == "ferry") {
    Emit(Code::kFormatVersion, node, steps,
         "format version " + node->text + " is not supported; this ferry reads format " + expected,
         node);
    return;
  }
  Emit(Code::kSchemaEnum, node, steps, FieldLabel(steps) + " must be " + expected, node);
}

void SchemaReporter::ReportPattern(const Steps& steps) {
  const Node* node = NodeAt(document_.root(), steps);
  const SchemaFacets facets = Facets(steps);
  const std::string noun = TitleNoun(StringOr(facets.First("title"), "value"));
  const std::string hint =
      StringOr(facets.First("patternErrorMessage"), "it does not have the required form");
  // A definition may name the code its pattern stands for (model references: E0209).
  const std::optional<diag::CodeInfo> own_code =
      diag::FindCode(StringOr(facets.First("x-ferry-code"), ""));
  Emit(own_code ? own_code->id : Code::kSchemaFormat, node, steps,
       Quote(node->text) + " is not a valid " + noun + ": " + hint, node);
}

void SchemaReporter::ReportBound(const Steps& steps, const std::string& description) {
  const Node* node = NodeAt(document_.root(), steps);
  const SchemaFacets facets = Facets(steps);
  const std::string label = FieldLabel(steps);
  if (description.starts_with("Object should have no fewer")) {
    const std::string noun =
        TitleNoun(StringOr(facets.Child(schema_, "", false).First("title"), "entry"));
    Emit(Code::kSchemaRequired, node, steps, label + " must declare at least one " + noun, nullptr);
  } else if (description.starts_with("Array should contain no fewer")) {
    const std::string noun =
        TitleNoun(StringOr(facets.Child(schema_, "0", true).First("title"), "item"));
    Emit(Code::kSchemaRequired, node, steps, label + " must list at least one " + noun, nullptr);
  } else if (description.starts_with("String should be no fewer")) {
    Emit(Code::kSchemaFormat, node, steps, label + " must not be empty", node);
  } else if (description.starts_with("String should be no more")) {
    Emit(Code::kSchemaFormat, node, steps,
         label + " must have at most " + NumberText(facets.First("maxLength")) + " characters",
         node);
  } else if (description.starts_with("Expected number greater")) {
    Emit(Code::kSchemaFormat, node, steps,
         label + " must be at least " + NumberText(facets.First("minimum")) + ", not " + node->text,
         node);
  } else if (description.starts_with("Expected number less")) {
    Emit(Code::kSchemaFormat, node, steps,
         label + " must be at most " + NumberText(facets.First("maximum")) + ", not " + node->text,
         node);
  }
}

void SchemaReporter::ReportBothAlternatives(const Steps& steps) {
  const Node* node = NodeAt(document_.root(), steps);
  for (const std::vector<std::string>& group : Facets(steps).Alternatives()) {
    std::vector<std::string> present;
    for (const std::string& field : group) {
      if (ValueOf(node, field) != nullptr) present.push_back(field);
    }
    if (present.size() < 2) continue;
    const std::string& extra = present.back();
    Emit(Code::kSchemaFormat, KeyNodeOf(node, extra), With(steps, extra),
         EntityName(steps) + " sets both " + JoinAlternatives(QuotedAll(present), " and ") +
             "; write only one",
         ValueOf(node, extra));
  }
}

void SchemaReporter::ReportNames() {
  if (unsupported_format_) return;
  Steps steps;
  ReportNamesIn(document_.root(), steps, RootFacets(schema_));
}

void SchemaReporter::ReportNamesIn(const Node* node, Steps& steps, const SchemaFacets& facets) {
  if (node == nullptr || facets.empty()) return;
  if (node->kind == NodeKind::Sequence) {
    for (std::size_t i = 0; i < node->items.size(); ++i) {
      steps.push_back(std::to_string(i));
      ReportNamesIn(node->items[i], steps, facets.Child(schema_, steps.back(), true));
      steps.pop_back();
    }
    return;
  }
  if (node->kind != NodeKind::Mapping) return;
  const nlohmann::json* names = facets.First("propertyNames");
  for (const Entry& entry : node->entries) {
    steps.push_back(entry.key->text);
    if (names != nullptr && names->is_object() && names->contains("pattern")) {
      const std::string pattern = names->value("pattern", "");
      auto regex = regexes_.find(pattern);
      if (regex == regexes_.end()) regex = regexes_.emplace(pattern, std::regex(pattern)).first;
      // Names are short; a long one fails without running the (recursive) regex.
      if (entry.key->text.size() > kLongestName ||
          !std::regex_search(entry.key->text, regex->second)) {
        Emit(Code::kSchemaFormat, entry.key, steps,
             Quote(entry.key->text) + " is not a valid " +
                 TitleNoun(names->value("title", "name")) + ": " +
                 names->value("patternErrorMessage", "it does not have the required form"),
             entry.value);
        invalid_.insert(entry.key);
      }
    }
    ReportNamesIn(entry.value, steps, facets.Child(schema_, entry.key->text, false));
    steps.pop_back();
  }
}

}  // namespace ferry::manifest

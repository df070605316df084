// Turns the validator's raw errors into ferry's schema diagnostics: one per
// problem, at the offending node, most specific first, summaries dropped.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/manifest/schema.h"
#include "compiler/manifest/schema_lookup.h"
#include "compiler/manifest/yaml_tree.h"

namespace ferry::manifest {

/// One validator error: the position (keys and indices from the root) and
/// valijson's description.
struct RawSchemaError {
  std::vector<std::string> steps;
  std::string description;
};

/// Classifies raw errors into E0101..E0106 and adds them to the sink.
class SchemaReporter {
 public:
  SchemaReporter(const Document& document, const nlohmann::json& schema, diag::Sink& sink)
      : document_(document), schema_(schema), sink_(sink) {}

  /// Reports every problem in `errors` (valijson's order) once.
  void Report(const std::vector<RawSchemaError>& errors);
  /// Checks the keys of every mapping against its schema's propertyNames.
  void ReportNames();

  /// The nodes reported so far.
  auto invalid() -> InvalidNodes& { return invalid_; }

 private:
  auto Facets(const std::vector<std::string>& steps) const -> SchemaFacets;
  void Emit(diag::Code code, const Node* at, const std::vector<std::string>& steps,
            std::string message, const Node* invalid);
  auto ReportType(const RawSchemaError& error) -> bool;
  void ReportOther(const RawSchemaError& error);
  void ReportRequired(const std::vector<std::string>& steps, std::vector<std::string> missing);
  void ReportUnknown(const std::vector<std::string>& steps);
  void ReportEnum(const std::vector<std::string>& steps);
  void ReportConst(const std::vector<std::string>& steps);
  void ReportPattern(const std::vector<std::string>& steps);
  void ReportBound(const std::vector<std::string>& steps, const std::string& description);
  void ReportBothAlternatives(const std::vector<std::string>& steps);
  void ReportNamesIn(const Node* node, std::vector<std::string>& steps, const SchemaFacets& facets);

  const Document& document_;
  const nlohmann::json& schema_;
  diag::Sink& sink_;
  InvalidNodes invalid_;
  /// `ferry:` names another format version: only that is reported.
  bool unsupported_format_ = false;
  /// Nodes with a wrong type: other complaints about them are noise.
  std::set<const Node*> mistyped_;
  std::set<std::tuple<diag::Code, const Node*, std::string>> reported_;
  std::map<std::string, std::regex> regexes_;
};

}  // namespace ferry::manifest

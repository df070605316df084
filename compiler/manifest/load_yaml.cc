#include "compiler/manifest/load_yaml.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>

#include "compiler/manifest/yaml_builder.h"
#include "compiler/manifest/yaml_text.h"

namespace ferry::manifest {
namespace {

using detail::SourceText;

// Thrown when the stream holds a second document, which ferry rejects.
struct SecondDocument {
  YAML::Mark mark;
};

// Stops at the start of a second document; it is never built.
class SecondDocumentProbe final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { throw SecondDocument{mark}; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp's messages for common syntax errors, reworded to say how to fix them.
struct Hint {
  std::string_view yaml_cpp;
  std::string_view ferry;
};
constexpr Hint kHints[] = {
    {"end of map not found",
     "end of map not found; check the indentation of this line, the "
     "keys of one mapping must line up"},
    {"end of map flow not found", "a '{' mapping is not closed; add the missing '}'"},
    {"end of sequence not found",
     "end of list not found; check the indentation of this line, "
     "the '-' items of one list must line up"},
    {"end of sequence flow not found", "a '[' list is not closed; add the missing ']'"},
    {"illegal map value",
     "unexpected ':'; quote a value that contains \": \", or check the "
     "indentation"},
    {"illegal block entry", "unexpected '-' list item; check the indentation"},
    {"illegal map key", "unexpected key; check the indentation"},
    {"illegal flow end", "a ']' or '}' has no matching '[' or '{'; remove it"},
    {"unknown token", "unexpected character; quote a value that starts with '@' or '`'"},
    {"the referenced anchor is not defined",
     "this alias names an anchor that is not defined; "
     "define it with &name before using *name"},
    {"illegal document indicator in scalar",
     "a string runs into a '---' or '...' line; "
     "close its quotes before that line"},
    {"illegal EOF in scalar", "the file ends inside a string; add the closing quote"},
    {"illegal tab when looking for indentation",
     "a tab is used for indentation; indent with "
     "spaces only"},
};

// The E0002 message for a yaml-cpp error message.
auto SyntaxMessage(const std::string& message) -> std::string {
  for (const Hint& hint : kHints) {
    if (message == hint.yaml_cpp) return fmt::format("invalid YAML: {}", hint.ferry);
  }
  if (message.starts_with("unknown escape character: ")) {
    return fmt::format(
        "invalid YAML: unknown escape \\{} in a double-quoted string; write \\\\ "
        "for a backslash, or use single quotes",
        message.substr(26));
  }
  std::string text = message;
  if (!text.empty() && text.front() >= 'A' && text.front() <= 'Z') text.front() += 'a' - 'A';
  return fmt::format("invalid YAML: {}", text.empty() ? "the parser stopped here" : text);
}

// One E0002 for yaml-cpp's error (E0004 for the tabs the pre-check missed).
// An unclosed bracket is reported where it opens, not at the end of the file.
void ReportSyntaxError(const SourceText& source, const detail::TreeBuilder& builder,
                       const YAML::Exception& error, diag::Sink& sink) {
  if (error.msg == "illegal tab when looking for indentation") {
    sink.Add(diag::Code::kYamlTab, source.AtMark(error.mark.line, error.mark.column), "",
             std::string(detail::kTabMessage));
    return;
  }
  diag::Location location = source.AtMark(error.mark.line, error.mark.column);
  std::string path = builder.CurrentPath();
  char bracket = error.msg == "end of sequence flow not found" ? '['
                 : error.msg == "end of map flow not found"    ? '{'
                                                               : '\0';
  if (bracket != '\0') {
    if (std::optional<std::pair<diag::Location, std::string>> open = builder.OpenBracket(bracket)) {
      std::tie(location, path) = *open;
    }
  }
  sink.Add(diag::Code::kYamlSyntax, std::move(location), std::move(path), SyntaxMessage(error.msg));
}

// E0007 for a "---" that starts a second document; anything else after the
// top-level node is a syntax error (yaml-cpp starts a new document there).
auto ReportSecondDocument(const SourceText& source, const YAML::Mark& mark, diag::Sink& sink)
    -> bool {
  std::string_view text = source.text();
  std::size_t pos = std::min(static_cast<std::size_t>(std::max(mark.pos, 0)), text.size());
  if (text.substr(pos).starts_with("---")) {
    sink.Add(diag::Code::kYamlUnsupported, source.AtMark(mark.line, mark.column), "",
             "a second YAML document starts here; ferry reads one document per manifest, "
             "remove this \"---\" and merge what follows into the first document");
    return true;
  }
  sink.Add(diag::Code::kYamlSyntax, source.AtMark(mark.line, mark.column), "",
           "invalid YAML: content after the end of the manifest's top-level node; check the "
           "indentation of this line");
  return false;
}

// Runs the parser over the one document; false when no tree can be built.
auto Parse(const SourceText& source, const LoadLimits& limits, Document& document, diag::Sink& sink)
    -> bool {
  std::istringstream input{std::string(source.text())};
  YAML::Parser parser(input);
  detail::TreeBuilder builder(source, limits, document, sink);
  try {
    if (!parser.HandleNextDocument(builder) || document.root() == nullptr) {
      sink.Add(diag::Code::kYamlEmpty, source.AtMark(0, 0), "",
               "the manifest is empty; write at least \"ferry: 1\" and \"project: <name>\"");
      return false;
    }
    SecondDocumentProbe probe;
    parser.HandleNextDocument(probe);
    return true;
  } catch (const detail::StopParsing&) {
    return false;
  } catch (const SecondDocument& second) {
    return ReportSecondDocument(source, second.mark, sink);
  } catch (const YAML::DeepRecursion& e) {
    sink.Add(diag::Code::kYamlTooLarge, source.AtMark(e.mark.line, e.mark.column),
             builder.CurrentPath(), "nesting too deep for the YAML parser; flatten the manifest");
  } catch (const YAML::Exception& e) {
    ReportSyntaxError(source, builder, e, sink);
  } catch (const std::exception& e) {
    sink.Add(diag::Code::kYamlSyntax, source.At(source.text().size()), builder.CurrentPath(),
             SyntaxMessage(e.what()));
  }
  return false;
}

}  // namespace

auto LoadYaml(std::string_view file, std::string_view text, diag::Sink& sink,
              const LoadLimits& limits) -> std::optional<Document> {
  SourceText source(file, text);
  // Each check needs the one before it to pass (tabs are found by line, which
  // needs valid text; the parser needs all of them).
  if (!detail::CheckUtf8(source, sink) || !detail::CheckCharacters(source, sink) ||
      !detail::CheckNotEmpty(source, sink) || !detail::CheckTabs(source, sink)) {
    return std::nullopt;
  }
  Document document{std::string(file)};
  if (!Parse(source, limits, document, sink)) return std::nullopt;
  return document;
}

}  // namespace ferry::manifest

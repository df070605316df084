// The words of schema diagnostics: natural names of the manifest's
// entities ("endpoint version 'b'"), field labels and type names.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/manifest/yaml_tree.h"

namespace ferry::manifest {

/// "endpoints.faq.versions.b.traffic"; "" for the root.
auto DottedPath(std::span<const std::string> steps) -> std::string;

/// What a mapping at `steps` is called in messages: "the manifest",
/// "model 'faq-ranker'", "endpoint version 'b'", "the autoscale of endpoint
/// version 'b'", ...
auto EntityName(std::span<const std::string> steps) -> std::string;

/// How a value at `steps` is named: "'traffic'", "'steps.0'", "the manifest".
auto FieldLabel(std::span<const std::string> steps) -> std::string;

/// "a string", "an integer", "a mapping", "a list", "true or false", "null"
/// for a JSON schema type name.
auto JsonTypeName(std::string_view type) -> std::string;

/// The JSON schema type of a node: "string", "integer", "number", ...
auto JsonTypeOf(const Node& node) -> std::string;

/// "a, b or c".
auto JoinAlternatives(const std::vector<std::string>& words, std::string_view last = " or ")
    -> std::string;

/// `text` shortened to at most 40 characters for quoting in a message.
auto Quote(std::string_view text) -> std::string;

/// A schema title as a noun in a sentence: "Model reference" -> "model
/// reference"; acronyms ("SHA-256") stay.
auto TitleNoun(std::string_view title) -> std::string;

}  // namespace ferry::manifest

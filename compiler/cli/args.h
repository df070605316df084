// A small argument parser shared by the commands: positionals, `--flag`,
// `--option VALUE` and `--option=VALUE`, with a closed set of choices.
#pragma once

#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::cli {

/// One option a command accepts.
struct OptionSpec {
  /// Spelled with its dashes: "--format".
  std::string_view name;
  /// Allowed values; empty for a flag that takes no value.
  std::vector<std::string_view> choices;
  /// Takes a value of any text (a path) instead of one of `choices`.
  bool any_value = false;
};

struct ParsedArgs {
  std::vector<std::string> positionals;
  /// Option name -> value, for options that take one (the last one wins).
  std::map<std::string, std::string, std::less<>> values;
  /// Flags that were given.
  std::set<std::string, std::less<>> flags;
  /// A usage error ("unknown option '--x'"); empty when parsing succeeded.
  std::string error;

  /// The value of `name`, or `fallback` when it was not given.
  auto Value(std::string_view name, std::string_view fallback) const -> std::string;
  auto Has(std::string_view flag) const -> bool { return flags.contains(flag); }
};

/// Parses `args` against `specs`. "--" ends the options; "-" is a positional.
auto ParseArgs(std::span<const std::string> args, std::span<const OptionSpec> specs) -> ParsedArgs;

}  // namespace ferry::cli

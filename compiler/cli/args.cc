#include "compiler/cli/args.h"

#include <algorithm>

namespace ferry::cli {
namespace {

auto FindSpec(std::span<const OptionSpec> specs, std::string_view name) -> const OptionSpec* {
  for (const OptionSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

auto ChoiceList(const OptionSpec& spec) -> std::string {
  std::string out;
  for (std::string_view choice : spec.choices)
    out += (out.empty() ? "" : ", ") + std::string(choice);
  return out;
}

/// Reads one option at args[i] into `parsed`, advancing `i` past its value.
/// Returns false with parsed.error set on a usage error.
auto ParseOption(std::span<const std::string> args, std::size_t& i,
                 std::span<const OptionSpec> specs, ParsedArgs& parsed) -> bool {
  const std::string& arg = args[i];
  std::size_t equals = arg.find('=');
  std::string name = arg.substr(0, equals);
  const OptionSpec* spec = FindSpec(specs, name);
  if (spec == nullptr) {
    parsed.error = "unknown option '" + name + "'";
  } else if (spec->any_value) {
    if (equals == std::string::npos && i + 1 >= args.size()) {
      parsed.error = "option '" + name + "' needs a value";
    } else {
      parsed.values[name] = equals != std::string::npos ? arg.substr(equals + 1) : args[++i];
    }
  } else if (spec->choices.empty()) {
    if (equals == std::string::npos)
      parsed.flags.insert(name);
    else
      parsed.error = "option '" + name + "' takes no value";
  } else if (equals == std::string::npos && i + 1 >= args.size()) {
    parsed.error = "option '" + name + "' needs a value (" + ChoiceList(*spec) + ")";
  } else {
    std::string value = equals != std::string::npos ? arg.substr(equals + 1) : args[++i];
    if (std::find(spec->choices.begin(), spec->choices.end(), value) == spec->choices.end()) {
      parsed.error =
          "invalid value '" + value + "' for '" + name + "' (expected " + ChoiceList(*spec) + ")";
    } else {
      parsed.values[name] = value;
    }
  }
  return parsed.error.empty();
}

}  // namespace

auto ParsedArgs::Value(std::string_view name, std::string_view fallback) const -> std::string {
  auto found = values.find(name);
  return found == values.end() ? std::string(fallback) : found->second;
}

auto ParseArgs(std::span<const std::string> args, std::span<const OptionSpec> specs) -> ParsedArgs {
  ParsedArgs parsed;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg == "-" || !arg.starts_with('-')) {
      parsed.positionals.push_back(arg);
    } else if (arg == "--") {
      options_done = true;
    } else if (!ParseOption(args, i, specs, parsed)) {
      break;
    }
  }
  return parsed;
}

}  // namespace ferry::cli

#include "compiler/cli/args.h"

#include <doctest/doctest.h>

namespace ferry::cli {
namespace {

const OptionSpec kSpecs[] = {
    {"--format", {"text", "json"}},
    {"--quiet", {}},
};

auto Parse(std::vector<std::string> args) -> ParsedArgs { return ParseArgs(args, kSpecs); }

TEST_CASE("ParseArgs reads positionals, flags and both value spellings") {
  ParsedArgs parsed = Parse({"dir", "--format", "json", "--quiet"});
  CHECK(parsed.error.empty());
  CHECK(parsed.positionals == std::vector<std::string>{"dir"});
  CHECK(parsed.Value("--format", "text") == "json");
  CHECK(parsed.Has("--quiet"));
  CHECK(Parse({"--format=json"}).Value("--format", "text") == "json");
  CHECK(Parse({}).Value("--format", "text") == "text");
  CHECK(Parse({"--", "--quiet", "-"}).positionals == std::vector<std::string>{"--quiet", "-"});
}

TEST_CASE("ParseArgs reports usage errors") {
  CHECK(Parse({"--frmat", "json"}).error == "unknown option '--frmat'");
  CHECK(Parse({"-q"}).error == "unknown option '-q'");
  CHECK(Parse({"--format"}).error == "option '--format' needs a value (text, json)");
  CHECK(Parse({"--format", "yaml"}).error ==
        "invalid value 'yaml' for '--format' (expected text, json)");
  CHECK(Parse({"--quiet=yes"}).error == "option '--quiet' takes no value");
}

TEST_CASE("ParseArgs takes any text for an option that takes any value") {
  const OptionSpec specs[] = {{"-o", {}, /*any_value=*/true}};
  CHECK(ParseArgs(std::vector<std::string>{"-o", "out dir"}, specs).Value("-o", "") == "out dir");
  CHECK(ParseArgs(std::vector<std::string>{"-o=a=b"}, specs).Value("-o", "") == "a=b");
  CHECK(ParseArgs(std::vector<std::string>{"-o"}, specs).error == "option '-o' needs a value");
}

}  // namespace
}  // namespace ferry::cli

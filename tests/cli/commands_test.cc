// The CLI run in-process, with an in-memory file system.
#include "compiler/cli/commands.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "compiler/cli/cli.h"
#include "compiler/diag/diagnostic.h"

namespace ferry::cli {
namespace {

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

auto RunWith(const support::FileSystem& fs, std::vector<std::string> args, bool terminal = false)
    -> Outcome {
  std::ostringstream out;
  std::ostringstream err;
  int code = Run(args, Io{.out = out, .err = err, .err_is_terminal = terminal, .fs = fs});
  return {code, out.str(), err.str()};
}

auto RunCli(std::vector<std::string> args) -> Outcome {
  support::MemoryFileSystem fs;
  return RunWith(fs, std::move(args));
}

const char* const kTwoControls =
    "ferry: 1\n"
    "project: faq\n"
    "workspace: {name: ws, region: westeurope}\n"
    "models:\n"
    "  m:\n"
    "    versions:\n"
    "      1: {path: m.onnx, sha256: "
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855}\n"
    "clusters:\n"
    "  prod: {vm_size: Standard_D3_v2, agent_count: 3, kubernetes_version: \"1.16.13\"}\n"
    "endpoints:\n"
    "  faq:\n"
    "    cluster: prod\n"
    "    versions:\n"
    "      a: {model: m@1, role: control}\n"
    "      b: {model: m@1, role: control}\n";

TEST_CASE("ferry with no arguments prints the overview and fails as a usage error") {
  Outcome outcome = RunCli({});
  CHECK(outcome.exit_code == kExitUsage);
  CHECK(outcome.out.empty());
  CHECK(outcome.err.find("usage: ferry COMMAND [ARGS]") != std::string::npos);
}

TEST_CASE("ferry --version and help") {
  CHECK(RunCli({"--version"}).out == "ferry 0.1.0\n");
  Outcome help = RunCli({"help"});
  CHECK(help.exit_code == kExitOk);
  for (const Command& command : Commands())
    CHECK(help.out.find("  " + std::string(command.name)) != std::string::npos);
  CHECK(RunCli({"--help"}).out == help.out);
  Outcome check_help = RunCli({"help", "check"});
  CHECK(check_help.exit_code == kExitOk);
  CHECK(check_help.out.starts_with("usage: ferry check [PATH] [--format text|json|sarif]"));
  CHECK(RunCli({"check", "--help"}).out == check_help.out);
  CHECK(RunCli({"help", "nope"}).exit_code == kExitUsage);
}

TEST_CASE("unknown commands and options are usage errors") {
  Outcome command = RunCli({"deploy"});
  CHECK(command.exit_code == kExitUsage);
  CHECK(command.err.starts_with("ferry: unknown command 'deploy'\n"));
  CHECK(RunCli({"--verbose"}).err.starts_with("ferry: unknown option '--verbose'\n"));
  Outcome option = RunCli({"check", "--fromat", "json"});
  CHECK(option.exit_code == kExitUsage);
  CHECK(
      option.err ==
      "ferry check: unknown option '--fromat'\n"
      "usage: ferry check [PATH] [--format text|json|sarif] [--color auto|always|never] [--quiet]\n"
      "Run 'ferry help check' for details.\n");
  CHECK(RunCli({"check", "a", "b"})
            .err.starts_with("ferry check: expected at most one PATH, got 2\n"));
  CHECK(RunCli({"check", "--format", "xml"}).exit_code == kExitUsage);
}

TEST_CASE("ferry check of a missing manifest reports E0001") {
  Outcome outcome = RunCli({"check", "nowhere"});
  CHECK(outcome.exit_code == kExitFailure);
  CHECK(outcome.err ==
        "nowhere/ferry.yaml: error[E0001]: cannot read the manifest 'nowhere/ferry.yaml'\n"
        "\n"
        "error: 1 error\n");
  CHECK(outcome.out.empty());
}

TEST_CASE("ferry check prints text to stderr and JSON or SARIF to stdout") {
  support::MemoryFileSystem fs;
  fs.Add("ferry.yaml", kTwoControls);
  fs.Add("m.onnx", "");
  Outcome text = RunWith(fs, {"check"});
  CHECK(text.exit_code == kExitFailure);
  CHECK(text.out.empty());
  CHECK(text.err.find("error[E0203]") != std::string::npos);
  CHECK(text.err.ends_with("\nerror: 1 error\n"));

  Outcome json = RunWith(fs, {"check", "--format", "json"});
  CHECK(json.exit_code == kExitFailure);
  CHECK(json.err.empty());
  auto parsed = nlohmann::json::parse(json.out);
  REQUIRE(parsed["diagnostics"].size() == 1);
  CHECK(parsed["diagnostics"][0]["code"] == "E0203");
  CHECK(parsed["diagnostics"][0]["file"] == "ferry.yaml");

  Outcome sarif = RunWith(fs, {"check", "--format=sarif"});
  CHECK(nlohmann::json::parse(sarif.out)["runs"][0]["results"][0]["ruleId"] == "E0203");
}

TEST_CASE("ferry check colors text only when asked or on a terminal") {
  support::MemoryFileSystem fs;
  CHECK(RunWith(fs, {"check"}, true).err.find('\x1b') != std::string::npos);
  CHECK(RunWith(fs, {"check", "--color", "never"}, true).err.find('\x1b') == std::string::npos);
  CHECK(RunWith(fs, {"check", "--color=always"}).err.find('\x1b') != std::string::npos);
  CHECK(RunWith(fs, {"check"}).err.find('\x1b') == std::string::npos);
}

TEST_CASE("ferry explain prints a page, lists codes and rejects unknown ones") {
  Outcome page = RunCli({"explain", "E0203"});
  CHECK(page.exit_code == kExitOk);
  CHECK(page.out.starts_with("# E0203: an endpoint has more than one control version\n"));
  CHECK(RunCli({"explain", "e0203"}).out == page.out);

  Outcome unknown = RunCli({"explain", "E9999"});
  CHECK(unknown.exit_code == kExitUsage);
  CHECK(unknown.err ==
        "ferry explain: unknown code 'E9999'; run 'ferry explain --list' to see every code\n");
  CHECK(RunCli({"explain"}).exit_code == kExitUsage);
  CHECK(RunCli({"explain", "--list", "E0203"}).exit_code == kExitUsage);

  Outcome list = RunCli({"explain", "--list"});
  CHECK(list.exit_code == kExitOk);
  CHECK(list.out.starts_with("E0001  error    the manifest or a file it names cannot be read\n"));
  CHECK(list.out.find(
            "W0303  warning  a DEV_TEST cluster has fewer than the recommended 2 vCPUs\n") !=
        std::string::npos);
  CHECK(static_cast<std::size_t>(std::count(list.out.begin(), list.out.end(), '\n')) ==
        diag::AllCodes().size());
}

}  // namespace
}  // namespace ferry::cli

// The real `ferry` binary run as a subprocess on manifests written to disk:
// exit codes, which stream gets what, and that the outputs parse.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/process_util.h"
#include "tests/support/manifests.h"

namespace ferry::testing {
namespace {

const std::string kFerry = FERRY_BINARY;

TEST_CASE("ferry check exits 0 for a clean project and summarizes it on stdout") {
  TempDir dir;
  dir.Write("models/faq.onnx", "onnx");
  dir.Write("ferry.yaml",
            FaqManifest("onnx",
                        "      a: {model: faq-ranker@3, traffic: 20}\n"
                        "      b: {model: faq-ranker@3, traffic: 10, role: control}\n"));
  ProcessResult in_folder = RunProcess(kFerry, {"check"}, dir.path());
  CHECK(in_folder.exit_code == 0);
  CHECK(in_folder.err == "");
  // The seeds' worked example: a, the default, takes the 70% remainder.
  CHECK(in_folder.out ==
        "ferry.yaml: ok: project 'faq-matching', 1 model version, 1 cluster, 1 endpoint\n"
        "  endpoint 'faq' on cluster 'prod' (cpu, auth key): a 90% (default), b 10% (control)\n");
  CHECK(RunProcess(kFerry, {"check", dir.path()}).exit_code == 0);
  CHECK(RunProcess(kFerry, {"check", "ferry.yaml"}, dir.path()).exit_code == 0);
  CHECK(RunProcess(kFerry, {"check", "--quiet"}, dir.path()).out == "");
}

TEST_CASE("ferry check's summary writes shares as people do") {
  TempDir dir;
  dir.Write("models/faq.onnx", "onnx");
  dir.Write("ferry.yaml",
            FaqManifest("onnx",
                        "      a: {model: faq-ranker@3, traffic: 33.3, default: true}\n"
                        "      b: {model: faq-ranker@3, traffic: 33.3}\n"
                        "      c: {model: faq-ranker@3, traffic: 33.3}\n"));
  ProcessResult result = RunProcess(kFerry, {"check"}, dir.path());
  CHECK(result.exit_code == 0);
  CHECK(result.out.ends_with(": a 33.4% (default), b 33.3%, c 33.3%\n"));
}

TEST_CASE("ferry check exits 1 on errors and prints them to stderr") {
  TempDir dir;
  dir.Write("models/faq.onnx", "onnx");
  dir.Write("ferry.yaml", FaqManifest("onnx",
                                      "      a: {model: faq-ranker@3, role: control}\n"
                                      "      b: {model: faq-ranker@3, role: control}\n"));
  ProcessResult result = RunProcess(kFerry, {"check", "--color", "never"}, dir.path());
  CHECK(result.exit_code == 1);
  CHECK(result.out == "");
  CHECK(result.err.starts_with("ferry.yaml:15:"));
  CHECK(result.err.find("error[E0203]") != std::string::npos);
  CHECK(result.err.find("note: ") != std::string::npos);
  CHECK(result.err.ends_with("\nerror: 1 error\n"));
}

TEST_CASE("ferry check --format json prints parseable JSON to stdout") {
  TempDir dir;
  dir.Write("models/faq.onnx", "tampered");
  dir.Write("ferry.yaml", FaqManifest("onnx", "      a: {model: faq-ranker@3}\n"));
  ProcessResult result = RunProcess(kFerry, {"check", "--format", "json"}, dir.path());
  CHECK(result.exit_code == 1);
  CHECK(result.err == "");
  nlohmann::json parsed = nlohmann::json::parse(result.out);
  REQUIRE(parsed["diagnostics"].size() == 1);
  CHECK(parsed["diagnostics"][0]["code"] == "E0602");
  CHECK(parsed["diagnostics"][0]["file"] == "ferry.yaml");
  CHECK(parsed["diagnostics"][0]["line"] == 7);

  ProcessResult sarif = RunProcess(kFerry, {"check", "--format", "sarif"}, dir.path());
  CHECK(sarif.exit_code == 1);
  CHECK(nlohmann::json::parse(sarif.out)["runs"][0]["results"][0]["ruleId"] == "E0602");
}

TEST_CASE("ferry check exits 0 with warnings, and --quiet hides them") {
  TempDir dir;
  dir.Write("models/faq.onnx", "onnx");
  dir.Write("ferry.yaml", FaqManifest("onnx", "      a: {model: faq-ranker@3}\n") +
                              "environments:\n  unused: {}\n");
  ProcessResult result = RunProcess(kFerry, {"check"}, dir.path());
  CHECK(result.exit_code == 0);
  CHECK(result.err.find("warning[W0604]") != std::string::npos);
  CHECK(result.err.ends_with("\nwarning: 1 warning\n"));
  ProcessResult quiet = RunProcess(kFerry, {"check", "--quiet"}, dir.path());
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.err == "");
}

TEST_CASE("ferry exits 2 on usage errors") {
  ProcessResult command = RunProcess(kFerry, {"chek"});
  CHECK(command.exit_code == 2);
  CHECK(command.err.starts_with("ferry: unknown command 'chek'\n"));
  ProcessResult flag = RunProcess(kFerry, {"check", "--format", "xml"});
  CHECK(flag.exit_code == 2);
  CHECK(flag.err.starts_with(
      "ferry check: invalid value 'xml' for '--format' (expected text, json, sarif)\n"));
  CHECK(RunProcess(kFerry, {}).exit_code == 2);
}

TEST_CASE("ferry explain prints pages and exits 2 for unknown codes") {
  ProcessResult page = RunProcess(kFerry, {"explain", "E0203"});
  CHECK(page.exit_code == 0);
  CHECK(page.out.starts_with("# E0203: an endpoint has more than one control version\n"));
  ProcessResult unknown = RunProcess(kFerry, {"explain", "E0999"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("ferry explain --list") != std::string::npos);
  ProcessResult list = RunProcess(kFerry, {"explain", "--list"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("E0203  error    an endpoint has more than one control version\n") !=
        std::string::npos);
  CHECK(RunProcess(kFerry, {"--version"}).out == "ferry 0.1.0\n");
}

}  // namespace
}  // namespace ferry::testing

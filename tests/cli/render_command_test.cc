// `ferry render` and `ferry golden` run as the real binary on folders on disk.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/cli/output_folder.h"
#include "compiler/support/sha256.h"
#include "tests/cli/process_util.h"
#include "tests/onnx/test_models.h"
#include "tests/support/manifests.h"

namespace ferry::testing {
namespace {

const std::string kFerry = FERRY_BINARY;
const std::string kSource = FERRY_SOURCE_DIR;

// A real model: render compiles CPU versions' models into their bundles.
const std::string kModel = TestModel("linear_classifier");

const std::string kTwoVersions =
    "      a: {model: faq-ranker@3, traffic: 20}\n"
    "      b: {model: faq-ranker@3, traffic: 10, role: control}\n";

/// A project folder holding the FAQ manifest with `versions`.
auto Project(const TempDir& dir, const std::string& versions) -> std::string {
  dir.Write("project/models/faq.onnx", kModel);
  dir.Write("project/ferry.yaml", FaqManifest(kModel, versions));
  return dir.path() + "/project";
}

auto Files(const std::string& folder) -> std::vector<std::string> { return cli::ListFiles(folder); }

auto Contains(const std::vector<std::string>& items, const std::string& item) -> bool {
  return std::find(items.begin(), items.end(), item) != items.end();
}

TEST_CASE("ferry render writes every file and a listing of them") {
  TempDir dir;
  const std::string project = Project(dir, kTwoVersions);
  const std::string out = dir.path() + "/out";
  const ProcessResult result = RunProcess(kFerry, {"render", project, "-o", out});
  CHECK(result.exit_code == 0);
  CHECK(result.err == "");
  const std::vector<std::string> files = Files(out);
  CHECK(Contains(files, ".ferry-render.json"));
  CHECK(Contains(files, "bundles/faq-a/bundle.yaml"));
  CHECK(Contains(files, "bundles/faq-b/model.onnx"));
  CHECK(Contains(files, "images/builtin-cpu-cpu/build.yaml"));
  CHECK(Contains(files, "images/builtin-cpu-cpu/Dockerfile"));
  CHECK(Contains(files, "kubernetes/prod/deployment-faq-a.yaml"));
  CHECK(ReadWholeFile(out + "/bundles/faq-a/model.onnx") == kModel);
  // The model compiler's files, and the runtime once for both bundles.
  CHECK(Contains(files, "bundles/faq-a/model.cc"));
  CHECK(Contains(files, "bundles/faq-b/weights.bin"));
  CHECK(Contains(files, "runtime/model.h"));
  CHECK(!Contains(files, "bundles/faq-a/runtime/model.h"));
  CHECK(result.out.starts_with("Rendered " + std::to_string(files.size() - 1) + " files into " +
                               out + ": 1 cluster, "));
  CHECK(result.out.find(", 2 images, 2 bundles (" + std::to_string(files.size() - 1) +
                        " written, 0 unchanged, 0 removed)\n") != std::string::npos);

  // The listing names every other file with its digest.
  const nlohmann::json listing = nlohmann::json::parse(ReadWholeFile(out + "/.ferry-render.json"));
  REQUIRE(listing["files"].size() == files.size() - 1);
  for (const nlohmann::json& entry : listing["files"]) {
    const std::string path = entry["path"];
    CAPTURE(path);
    CHECK(entry["sha256"] == support::Sha256Hex(ReadWholeFile(out + "/" + path)));
  }
}

TEST_CASE("ferry render again changes nothing, and gives the same bytes") {
  TempDir dir;
  const std::string project = Project(dir, kTwoVersions);
  const std::string first = dir.path() + "/first";
  const std::string second = dir.path() + "/second";
  REQUIRE(RunProcess(kFerry, {"render", project, "-o", first}).exit_code == 0);
  const auto before = std::filesystem::last_write_time(first + "/bundles/faq-a/bundle.yaml");
  const ProcessResult again = RunProcess(kFerry, {"render", project, "-o", first});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find(" (0 written, ") != std::string::npos);
  CHECK(again.out.find(" unchanged, 0 removed)\n") != std::string::npos);
  CHECK(std::filesystem::last_write_time(first + "/bundles/faq-a/bundle.yaml") == before);

  // A second folder, rendered from the project's own folder: byte for byte the same.
  REQUIRE(RunProcess(kFerry, {"render", "-o", second}, project).exit_code == 0);
  const std::vector<std::string> files = Files(first);
  CHECK(files == Files(second));
  for (const std::string& file : files) {
    CAPTURE(file);
    CHECK(ReadWholeFile(first + "/" + file) == ReadWholeFile(second + "/" + file));
  }
}

TEST_CASE("ferry render removes the files it wrote before and no longer produces") {
  TempDir dir;
  const std::string project = Project(dir, kTwoVersions);
  const std::string out = dir.path() + "/out";
  REQUIRE(RunProcess(kFerry, {"render", project, "-o", out}).exit_code == 0);
  REQUIRE(Contains(Files(out), "bundles/faq-b/model.onnx"));
  // A file of the user's beside ferry's is not ferry's to remove.
  dir.Write("out/notes.txt", "mine");

  Project(dir, "      a: {model: faq-ranker@3}\n");
  const ProcessResult result = RunProcess(kFerry, {"render", project, "-o", out});
  CHECK(result.exit_code == 0);
  const std::vector<std::string> files = Files(out);
  CHECK(!Contains(files, "bundles/faq-b/model.onnx"));
  CHECK(!Contains(files, "bundles/faq-b/bundle.yaml"));
  CHECK(!Contains(files, "kubernetes/prod/deployment-faq-b.yaml"));
  CHECK(!std::filesystem::exists(out + "/bundles/faq-b"));
  CHECK(Contains(files, "bundles/faq-a/model.onnx"));
  CHECK(Contains(files, "notes.txt"));
  CHECK(result.out.find(" removed)\n") != std::string::npos);
  CHECK(result.out.find(", 0 removed)") == std::string::npos);
  CHECK(ReadWholeFile(out + "/.ferry-render.json").find("faq-b") == std::string::npos);
}

TEST_CASE("ferry render refuses a non-empty folder it did not write") {
  TempDir dir;
  const std::string project = Project(dir, kTwoVersions);
  dir.Write("out/precious.txt", "keep me");
  const ProcessResult result = RunProcess(kFerry, {"render", project, "-o", dir.path() + "/out"});
  CHECK(result.exit_code == 1);
  CHECK(result.out == "");
  CHECK(result.err.find("is not empty and holds no .ferry-render.json") != std::string::npos);
  CHECK(result.err.find("empty it or choose another folder") != std::string::npos);
  CHECK(Files(dir.path() + "/out") == std::vector<std::string>{"precious.txt"});

  // An empty folder is fine.
  std::filesystem::create_directories(dir.path() + "/empty");
  CHECK(RunProcess(kFerry, {"render", project, "-o", dir.path() + "/empty"}).exit_code == 0);
}

TEST_CASE("ferry render refuses a listing it cannot trust, and a file as OUT") {
  TempDir dir;
  const std::string project = Project(dir, kTwoVersions);
  for (const char* listing :
       {"not json", R"({"ferry_render": 1, "files": [{"path": "../outside.txt"}]})",
        R"({"ferry_render": 99, "files": []})"}) {
    CAPTURE(listing);
    dir.Write("out/.ferry-render.json", listing);
    const ProcessResult result =
        RunProcess(kFerry, {"render", project, "-o", dir.path() + "/out/"});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("is not a listing ferry render can read; delete the folder") !=
          std::string::npos);
    CHECK(Files(dir.path() + "/out") == std::vector<std::string>{".ferry-render.json"});
  }
  dir.Write("file", "x");
  const ProcessResult file = RunProcess(kFerry, {"render", project, "-o", dir.path() + "/file"});
  CHECK(file.exit_code == 1);
  CHECK(file.err.find("exists and is not a folder") != std::string::npos);
}

TEST_CASE("ferry render writes nothing when the manifest has errors") {
  TempDir dir;
  const std::string project = Project(dir,
                                      "      a: {model: faq-ranker@3, role: control}\n"
                                      "      b: {model: faq-ranker@3, role: control}\n");
  const std::string out = dir.path() + "/out";
  const ProcessResult result = RunProcess(kFerry, {"render", project, "-o", out, "--color=never"});
  CHECK(result.exit_code == 1);
  CHECK(result.out == "");
  CHECK(result.err.find("error[E0203]") != std::string::npos);
  CHECK(result.err.ends_with("ferry render: nothing was written to " + out + "\n"));
  CHECK(!std::filesystem::exists(out));

  const ProcessResult json = RunProcess(kFerry, {"render", project, "-o", out, "--format", "json"});
  CHECK(json.exit_code == 1);
  CHECK(nlohmann::json::parse(json.out)["diagnostics"][0]["code"] == "E0203");
  CHECK(!std::filesystem::exists(out));
}

TEST_CASE("ferry render reports usage errors") {
  TempDir dir;
  const std::string project = Project(dir, kTwoVersions);
  const ProcessResult no_out = RunProcess(kFerry, {"render", project});
  CHECK(no_out.exit_code == 2);
  CHECK(no_out.err.starts_with("ferry render: missing the output folder: -o OUT\n"));
  CHECK(RunProcess(kFerry, {"render", project, "-o"}).exit_code == 2);
  CHECK(RunProcess(kFerry, {"render", project, project, "-o", "x"}).exit_code == 2);
}

TEST_CASE("ferry golden --check passes on the repository's samples") {
  // CI's check: golden/ holds exactly what every sample renders to.
  const ProcessResult result = RunProcess(kFerry, {"golden", "--check"}, kSource);
  INFO(result.out);
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find(" files match golden\n") != std::string::npos);
}

TEST_CASE("ferry golden keeps the runtime as a listing of digests that --check still checks") {
  TempDir dir;
  Project(dir, kTwoVersions);
  const std::string samples = dir.path();
  const std::string golden = dir.path() + "/golden";
  REQUIRE(RunProcess(kFerry, {"golden", "--update", "--samples", samples, "--golden", golden})
              .exit_code == 0);
  // No copy of the runtime: one line per file, as sha256sum writes them.
  CHECK(!std::filesystem::exists(golden + "/project/runtime"));
  const std::string listing = ReadWholeFile(golden + "/project/runtime.sha256");
  const std::string line = "  runtime/model.h\n";
  const std::size_t at = listing.find(line);
  REQUIRE(at != std::string::npos);
  REQUIRE(at >= 64);
  const std::size_t start = at - 64;
  CHECK((start == 0 || listing[start - 1] == '\n'));
  const std::string digest = listing.substr(start, 64);
  CHECK(digest.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(listing.find("  runtime/bundle/score.cc\n") != std::string::npos);

  // A runtime file whose bytes differ from the golden digest fails the check
  // until --update, naming the file.
  std::string changed = listing;
  changed.replace(start, 64, std::string(64, '0'));
  dir.Write("golden/project/runtime.sha256", changed);
  const ProcessResult check =
      RunProcess(kFerry, {"golden", "--samples", samples, "--golden", golden});
  CHECK(check.exit_code == 1);
  CHECK(check.out.find("\n-" + std::string(64, '0') + line + "+" + digest + line) !=
        std::string::npos);
  CHECK(RunProcess(kFerry, {"golden", "--update", "--samples", samples, "--golden", golden})
            .exit_code == 0);
  CHECK(ReadWholeFile(golden + "/project/runtime.sha256") == listing);
  CHECK(RunProcess(kFerry, {"golden", "--samples", samples, "--golden", golden}).exit_code == 0);
}

TEST_CASE("ferry golden --update writes golden files that --check then accepts") {
  TempDir dir;
  Project(dir, kTwoVersions);
  const std::string samples = dir.path();  // holds project/ferry.yaml
  const std::string golden = dir.path() + "/golden";

  const ProcessResult missing =
      RunProcess(kFerry, {"golden", "--samples", samples, "--golden", golden});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.find("missing: " + golden + "/project/bundles/faq-a/bundle.yaml") !=
        std::string::npos);

  const ProcessResult update =
      RunProcess(kFerry, {"golden", "--update", "--samples", samples, "--golden", golden});
  CHECK(update.exit_code == 0);
  // Binary files are kept as their digest and size.
  CHECK(ReadWholeFile(golden + "/project/bundles/faq-a/model.onnx.sha256") ==
        "sha256: " + support::Sha256Hex(kModel) + "\nbytes: " + std::to_string(kModel.size()) +
            "\n");
  CHECK(!std::filesystem::exists(golden + "/project/bundles/faq-a/model.onnx"));
  CHECK(RunProcess(kFerry, {"golden", "--check", "--samples", samples, "--golden", golden})
            .exit_code == 0);

  // A changed line shows as a unified diff; a stale file as extra.
  const std::string plan = golden + "/project/images/builtin-cpu-cpu/build.yaml";
  std::string text = ReadWholeFile(plan);
  text.replace(text.find("source: global"), 14, "source: globe");
  dir.Write("golden/project/images/builtin-cpu-cpu/build.yaml", text);
  dir.Write("golden/project/kubernetes/prod/old.yaml", "old\n");
  const ProcessResult check =
      RunProcess(kFerry, {"golden", "--samples", samples, "--golden", golden});
  CHECK(check.exit_code == 1);
  CHECK(check.out.find("--- " + plan +
                       "\n+++ rendered project/images/builtin-cpu-cpu/build.yaml\n"
                       "@@ ") != std::string::npos);
  CHECK(check.out.find("\n-    source: globe\n+    source: global\n") != std::string::npos);
  CHECK(check.out.find("extra: " + golden + "/project/kubernetes/prod/old.yaml") !=
        std::string::npos);
  CHECK(check.out.ends_with("golden: 2 file(s) differ from " + golden +
                            "; review the diff, then run 'ferry golden --update'\n"));

  // The golden folder of a sample that is gone is extra too.
  dir.Write("golden/gone/x.yaml", "x\n");
  CHECK(RunProcess(kFerry, {"golden", "--samples", samples, "--golden", golden})
            .out.find("extra: " + golden + "/gone belongs to no sample in " + samples) !=
        std::string::npos);

  CHECK(RunProcess(kFerry, {"golden", "--update", "--samples", samples, "--golden", golden})
            .exit_code == 0);
  CHECK(!std::filesystem::exists(golden + "/project/kubernetes/prod/old.yaml"));
  CHECK(!std::filesystem::exists(golden + "/gone"));
  CHECK(RunProcess(kFerry, {"golden", "--samples", samples, "--golden", golden}).exit_code == 0);
  CHECK(RunProcess(kFerry, {"golden", "--check", "--update"}).exit_code == 2);
}

}  // namespace
}  // namespace ferry::testing

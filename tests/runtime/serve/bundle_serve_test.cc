// The samples' bundles, as `ferry render` writes them, build bin/serve and
// serve their endpoint's input_sample: faq-matching (raw text in) and
// fpga-inference (a base64 PNG of a digit in JSON, and the same PNG as a raw
// image/png body). (image-classification's bundle is a GPU bundle now: it
// builds only where CUDA does.) serve's answer is the one bin/score gives for the same
// input, byte for byte (they share runtime/scoring.h).
//
// Each bundle builds in a fixed temporary folder (ferry render rewrites only
// changed files, so a second run rebuilds nothing); the first build takes minutes.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "runtime/image.h"
#include "tests/cli/process_util.h"
#include "tests/runtime/serve/http_client.h"

namespace ferry_rt::serve {
namespace {

namespace fs = std::filesystem;
using ferry::testing::ReadWholeFile;
using ferry::testing::ShellQuote;
using testing::HttpConnection;

auto Shell(const std::string& command) -> int { return std::system(command.c_str()); }

// The sample's input as JSON. The samples tested here hold only strings.
auto ToJson(const YAML::Node& node) -> std::string {
  if (node.IsSequence()) {
    std::string out = "[";
    for (std::size_t i = 0; i < node.size(); ++i) out += (i ? "," : "") + ToJson(node[i]);
    return out + "]";
  }
  if (node.IsMap()) {
    std::string out = "{";
    for (const auto& item : node) {
      out += (out.size() > 1 ? "," : "") + ToJson(item.first) + ":" + ToJson(item.second);
    }
    return out + "}";
  }
  std::string out = "\"";
  for (char c : node.Scalar()) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Renders samples/<sample> into `out` and builds `bundle` (score and serve).
auto Build(const std::string& sample, const std::string& bundle, const fs::path& out) -> fs::path {
  const ferry::testing::ProcessResult rendered = ferry::testing::RunProcess(
      FERRY_BINARY, {"render", std::string(FERRY_SOURCE_DIR) + "/samples/" + sample, "-o",
                     out.string()});
  INFO(rendered.err);
  REQUIRE(rendered.exit_code == 0);
  const fs::path folder = out / "bundles" / bundle;
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const std::string launcher = Shell("command -v ccache >/dev/null 2>&1") == 0
                                   ? " -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
                                   : "";
  const std::string quoted = ShellQuote(folder.string());
  const std::string log = ShellQuote((out / "build.log").string());
  const int built = Shell("cmake -S " + quoted + " -B " + quoted + "/build" +
                          " -DCMAKE_BUILD_TYPE=Release" + launcher +
                          (avx2 ? "" : " -DFERRY_ISA_FLAGS=") + " >" + log +
                          " 2>&1 && cmake --build " + quoted + "/build -j2 >>" + log + " 2>&1");
  REQUIRE_MESSAGE(built == 0, ReadWholeFile((out / "build.log").string()));
  return folder;
}

// A running bin/serve on a port the OS chose; stopped with SIGTERM.
class ServeProcess {
 public:
  explicit ServeProcess(const fs::path& bundle) : log_(bundle / "serve.log") {
    // A previous run's log would name a stale port before the child truncates it.
    fs::remove(log_);
    pid_ = fork();
    if (pid_ == 0) {
      const std::string program = (bundle / "bin" / "serve").string();
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(program.c_str(), program.c_str(), "--port", "0", "--threads", "2", nullptr);
      _exit(127);
    }
    // The first log line names the port; a bounded wait for it to be written.
    for (int i = 0; i < 600 && port_ == 0; ++i) {
      const std::string text = ReadWholeFile(log_.string());
      const std::size_t at = text.find("\"port\":");
      if (at != std::string::npos) port_ = std::atoi(text.c_str() + at + 7);
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  ServeProcess(const ServeProcess&) = delete;
  auto operator=(const ServeProcess&) -> ServeProcess& = delete;

  auto port() const -> int { return port_; }
  auto log() const -> std::string { return ReadWholeFile(log_.string()); }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// What bin/score prints for `input`.
auto ScoreOutput(const fs::path& bundle, const std::string& input) -> std::string {
  const fs::path in = bundle / "sample.in.json";
  const fs::path out = bundle / "sample.out.json";
  std::ofstream(in, std::ios::binary | std::ios::trunc) << input;
  REQUIRE(Shell(ShellQuote((bundle / "bin" / "score").string()) + " <" + ShellQuote(in.string()) +
                " >" + ShellQuote(out.string())) == 0);
  return ReadWholeFile(out.string());
}

// POSTs to /score once the models are loaded; the reply.
auto Post(int port, const std::string& body, const std::string& type) -> testing::HttpReply {
  HttpConnection connection(port);
  REQUIRE(connection.connected());
  for (int i = 0; i < 600; ++i) {  // readiness: bounded, not a timing assertion
    auto ready = connection.Call("GET", "/readyz");
    REQUIRE(ready);
    if (ready->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto reply = connection.Call("POST", "/score", body, "Content-Type: " + type + "\r\n");
  REQUIRE(reply);
  return *reply;
}

auto InputSample(const std::string& sample) -> YAML::Node {
  YAML::Node manifest =
      YAML::LoadFile(std::string(FERRY_SOURCE_DIR) + "/samples/" + sample + "/ferry.yaml");
  return manifest["endpoints"].begin()->second["scoring"]["input_sample"];
}

TEST_CASE("the faq-matching bundle serves its input_sample as bin/score scores it") {
  const fs::path root = fs::temp_directory_path() / "ferry-serve-bundle-test";
  const fs::path bundle = Build("faq-matching", "faq-live", root / "faq-matching");
  const std::string input = ToJson(InputSample("faq-matching"));
  CHECK(input == R"({"data":[["how do I reset my password?"]]})");
  const std::string expected = ScoreOutput(bundle, input);
  ServeProcess serve(bundle);
  REQUIRE_MESSAGE(serve.port() > 0, serve.log());
  const testing::HttpReply reply = Post(serve.port(), input, "application/json");
  CHECK(reply.status == 200);
  CHECK(reply.body == expected);
  CHECK(reply.body.find("\"faq_ids\": [[0,9,7]]") != std::string::npos);
}

TEST_CASE("the fpga-inference bundle serves its PNG sample as JSON and as image/png") {
  const fs::path root = fs::temp_directory_path() / "ferry-serve-bundle-test";
  // fpga-inference's bundle carries the CPU code as its host reference.
  const fs::path bundle = Build("fpga-inference", "digits-v1", root / "fpga-inference");
  const YAML::Node sample = InputSample("fpga-inference");
  const std::string input = ToJson(sample);
  const std::string expected = ScoreOutput(bundle, input);
  CHECK(expected.find("\"classes\": [[\"") != std::string::npos);
  ServeProcess serve(bundle);
  REQUIRE_MESSAGE(serve.port() > 0, serve.log());
  const testing::HttpReply json = Post(serve.port(), input, "application/json");
  CHECK(json.status == 200);
  CHECK(json.body == expected);
  // The same image as the raw body: the same answer.
  std::string base64 = sample["data"][0].IsSequence() ? sample["data"][0][0].Scalar()
                                                      : sample["data"][0].Scalar();
  const std::string png = DecodeBase64(base64);
  const testing::HttpReply raw = Post(serve.port(), png, "image/png");
  CHECK(raw.status == 200);
  CHECK(raw.body == expected);
  const testing::HttpReply corrupt = Post(serve.port(), png.substr(0, 40), "image/png");
  CHECK(corrupt.status == 400);
}

}  // namespace
}  // namespace ferry_rt::serve

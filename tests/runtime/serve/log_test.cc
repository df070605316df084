// Structured log lines: exact text, redaction of credentials, and whole
// lines from concurrent writers.
#include "runtime/serve/log.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime/json.h"
#include "runtime/serve/auth.h"
#include "tests/runtime/serve/scratch_dir.h"

namespace ferry::serve_test {
namespace {

using ferry_rt::serve::Credential;
using ferry_rt::serve::LogField;
using ferry_rt::serve::Logger;
using ferry_rt::serve::LogLevel;

class Lines : public ferry_rt::serve::LogSink {
 public:
  void WriteLine(std::string_view line) override {
    std::lock_guard lock(mutex);
    text += line;
  }
  std::mutex mutex;
  std::string text;
};

// 2026-11-23T07:53:44.123Z
constexpr std::int64_t kMillis = 1'795'420'424'123;

TEST_SUITE("serve") {
  TEST_CASE("timestamps are RFC 3339 UTC with milliseconds") {
    CHECK(ferry_rt::serve::FormatTimestamp(0) == "1970-01-01T00:00:00.000Z");
    CHECK(ferry_rt::serve::FormatTimestamp(kMillis) == "2026-11-23T07:53:44.123Z");
    CHECK(ferry_rt::serve::FormatTimestamp(-1) == "1969-12-31T23:59:59.999Z");
  }

  TEST_CASE("a log line is one JSON object: ts, level, msg, then the fields in order") {
    Lines sink;
    Logger log(sink, [] { return kMillis; });
    log.Info("model loaded", {LogField::Str("model", "ri\"dge\n"), LogField::Int("rows", -3),
                              LogField::Num("seconds", 0.25), LogField::Bool("warm", true),
                              LogField::Num("nan", std::nan(""))});
    log.Log(LogLevel::kDebug, "dropped: below the minimum level");
    log.Error("boom");
    CHECK(sink.text ==
          "{\"ts\":\"2026-11-23T07:53:44.123Z\",\"level\":\"info\",\"msg\":\"model loaded\","
          "\"model\":\"ri\\\"dge\\n\",\"rows\":-3,\"seconds\":0.25,\"warm\":true,\"nan\":null}\n"
          "{\"ts\":\"2026-11-23T07:53:44.123Z\",\"level\":\"error\",\"msg\":\"boom\"}\n");
  }

  TEST_CASE("the request line has the contract's fields and leaves out the query") {
    Lines sink;
    Logger log(sink, [] { return kMillis; });
    log.Request(
        {"POST", "/score?token=abc.def.ghi", 200, 412, 57, "req-7", Credential::kSecondary});
    CHECK(sink.text ==
          "{\"ts\":\"2026-11-23T07:53:44.123Z\",\"level\":\"info\",\"msg\":\"request\","
          "\"method\":\"POST\",\"path\":\"/score\",\"status\":200,\"latency_us\":412,"
          "\"bytes\":57,\"request_id\":\"req-7\",\"auth\":\"secondary\"}\n");
    ferry_rt::json::Value parsed = ferry_rt::json::Parse(sink.text);
    CHECK(parsed.object.at("auth").string == "secondary");
  }

  TEST_CASE("credential headers never reach a line") {
    CHECK(ferry_rt::serve::ScrubHeader("Authorization", "Bearer k-123") == "[redacted]");
    CHECK(ferry_rt::serve::ScrubHeader("AUTHORIZATION", "Bearer k-123") == "[redacted]");
    CHECK(ferry_rt::serve::ScrubHeader("x-api-key", "k-123") == "[redacted]");
    CHECK(ferry_rt::serve::ScrubHeader("Content-Type", "application/json") == "application/json");
    Lines sink;
    Logger log(sink, [] { return kMillis; });
    log.Warn("odd request",
             {LogField::Str("authorization", "Bearer k-123"),
              LogField::Str("Cookie", "session=k-123"), LogField::Str("user-agent", "curl")});
    CHECK(sink.text.find("k-123") == std::string::npos);
    CHECK(sink.text ==
          "{\"ts\":\"2026-11-23T07:53:44.123Z\",\"level\":\"warn\",\"msg\":\"odd request\","
          "\"authorization\":\"[redacted]\",\"Cookie\":\"[redacted]\",\"user-agent\":\"curl\"}\n");
  }

  // Both descriptor sinks: one write per line, and batches from a thread.
  TEST_CASE_TEMPLATE("concurrent writers to one descriptor produce whole lines", Sink,
                     ferry_rt::serve::FdSink, ferry_rt::serve::BatchingFdSink) {
    ScratchDir dir;
    int fd = ::open((dir / "log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    REQUIRE(fd >= 0);
    {
      Sink sink(fd);
      Logger log(sink);
      std::vector<std::thread> threads;
      threads.reserve(4);
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&log, t] {
          std::string padding(300, static_cast<char>('a' + t));
          for (int i = 0; i < 500; ++i) {
            log.Info("tick", {LogField::Int("thread", t), LogField::Int("i", i),
                              LogField::Str("padding", padding)});
          }
        });
      }
      for (std::thread& thread : threads) thread.join();
    }
    ::close(fd);
    std::istringstream lines(ReadFile(dir / "log"));
    std::string line;
    int count = 0;
    std::vector<int> next(4, 0);
    while (std::getline(lines, line)) {
      ferry_rt::json::Value value = ferry_rt::json::Parse(line);
      int thread = static_cast<int>(value.object.at("thread").number);
      // Each thread's lines arrive whole and in its own order.
      CHECK(static_cast<int>(value.object.at("i").number) == next[thread]++);
      ++count;
    }
    CHECK(count == 2000);
  }

  TEST_CASE("a batching sink writes a line within its delay, at once on Flush, and all at exit") {
    ScratchDir dir;
    const int fd = ::open((dir / "log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    REQUIRE(fd >= 0);
    {
      // A delay no test run reaches: only Flush or the destructor can write.
      ferry_rt::serve::BatchingFdSink sink(fd, std::chrono::hours(1));
      Logger log(sink);
      log.Info("first");
      CHECK(ReadFile(dir / "log").empty());
      sink.Flush();
      CHECK(ReadFile(dir / "log").find("\"msg\":\"first\"") != std::string::npos);
      // A warning goes out at once, after what was pending.
      log.Info("second");
      log.Warn("third");
      const std::string text = ReadFile(dir / "log");
      CHECK(text.find("second") < text.find("third"));
      CHECK(text.find("third") != std::string::npos);
      log.Info("fourth");
    }
    CHECK(ReadFile(dir / "log").find("fourth") != std::string::npos);
    ::close(fd);
  }

  TEST_CASE("a batching sink past its bound drops lines and says how many") {
    ScratchDir dir;
    const int fd = ::open((dir / "log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    REQUIRE(fd >= 0);
    {
      ferry_rt::serve::BatchingFdSink sink(fd, std::chrono::hours(1), 100);
      sink.WriteLine(std::string(60, 'a') + "\n");
      sink.WriteLine(std::string(60, 'b') + "\n");  // 122 bytes: over the bound, dropped
      sink.WriteLine(std::string(30, 'c') + "\n");
      sink.Flush();
    }
    ::close(fd);
    std::istringstream lines(ReadFile(dir / "log"));
    std::string line;
    std::vector<std::string> got;
    while (std::getline(lines, line)) got.push_back(line);
    REQUIRE(got.size() == 3);
    CHECK(got[0] == std::string(60, 'a'));
    CHECK(got[1] == std::string(30, 'c'));
    ferry_rt::json::Value note = ferry_rt::json::Parse(got[2]);
    CHECK(note.object.at("msg").string == "log lines dropped");
    CHECK(note.object.at("count").number == 1);
  }
}

}  // namespace
}  // namespace ferry::serve_test

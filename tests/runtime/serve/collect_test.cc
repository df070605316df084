// Model data collection: the line format, rotation, the newest files kept,
// and drops (counted, never waited for) when the writer falls behind.
#include "runtime/serve/collect.h"

#include <doctest/doctest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>

#include "tests/runtime/serve/scratch_dir.h"

namespace ferry::serve_test {
namespace {

using ferry_rt::serve::CollectOptions;
using ferry_rt::serve::Collector;
using ferry_rt::serve::CollectRecord;

auto Record(int i) -> CollectRecord {
  return {"r" + std::to_string(i), "ridge", "{\"data\": [[" + std::to_string(i) + "]]}",
          "{\"y\": [2]}"};
}

auto Line(int i) -> std::string {
  return "{\"ts\":\"1970-01-01T00:00:01.500Z\",\"request_id\":\"r" + std::to_string(i) +
         "\",\"model\":\"ridge\",\"inputs\":{\"data\": [[" + std::to_string(i) +
         "]]},\"outputs\":{\"y\": [2]}}\n";
}

auto FileNames(const std::string& directory) -> std::set<std::string> {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

auto Options(const ScratchDir& dir) -> CollectOptions {
  CollectOptions options;
  options.directory = dir / "collect";
  options.prefix = "faq-a";
  options.clock = [] { return std::int64_t{1500}; };
  return options;
}

TEST_SUITE("serve") {
  TEST_CASE("collected records are JSON lines, one per request, flushed on close") {
    ScratchDir dir;
    std::string error;
    auto collector = Collector::Open(Options(dir), &error);
    REQUIRE_MESSAGE(collector != nullptr, error);
    CHECK(collector->Submit(Record(1)));
    CHECK(collector->Submit({"r2", "ridge", "{\n  \"data\": [[2]]\n}", ""}));
    collector->Close();
    CHECK_FALSE(collector->Submit(Record(3)));
    CHECK(collector->dropped() == 1);
    CHECK(ReadFile(dir / "collect/faq-a-1.jsonl") ==
          Line(1) +
              "{\"ts\":\"1970-01-01T00:00:01.500Z\",\"request_id\":\"r2\",\"model\":\"ridge\","
              "\"inputs\":{   \"data\": [[2]] },\"outputs\":null}\n");
  }

  TEST_CASE("files rotate at the size limit and only the newest max_files stay") {
    ScratchDir dir;
    CollectOptions options = Options(dir);
    // Two of these lines fit in a file, a third does not.
    options.max_file_bytes = 2 * Line(0).size() + 1;
    options.max_files = 3;
    std::string error;
    auto collector = Collector::Open(options, &error);
    REQUIRE_MESSAGE(collector != nullptr, error);
    for (int i = 0; i < 10; ++i) REQUIRE(collector->Submit(Record(i)));
    collector->Close();
    CHECK(FileNames(dir / "collect") ==
          std::set<std::string>{"faq-a-3.jsonl", "faq-a-4.jsonl", "faq-a-5.jsonl"});
    CHECK(ReadFile(dir / "collect/faq-a-3.jsonl") == Line(4) + Line(5));
    CHECK(ReadFile(dir / "collect/faq-a-5.jsonl") == Line(8) + Line(9));

    // A restart continues after the newest file and keeps counting towards max_files.
    collector = Collector::Open(options, &error);
    REQUIRE(collector != nullptr);
    REQUIRE(collector->Submit(Record(10)));
    collector->Close();
    CHECK(FileNames(dir / "collect") ==
          std::set<std::string>{"faq-a-4.jsonl", "faq-a-5.jsonl", "faq-a-6.jsonl"});
    CHECK(ReadFile(dir / "collect/faq-a-6.jsonl") == Line(10));
  }

  TEST_CASE("a line longer than the limit gets a file of its own") {
    ScratchDir dir;
    CollectOptions options = Options(dir);
    options.max_file_bytes = 10;
    std::string error;
    auto collector = Collector::Open(options, &error);
    REQUIRE(collector != nullptr);
    REQUIRE(collector->Submit(Record(1)));
    REQUIRE(collector->Submit(Record(2)));
    collector->Close();
    CHECK(ReadFile(dir / "collect/faq-a-1.jsonl") == Line(1));
    CHECK(ReadFile(dir / "collect/faq-a-2.jsonl") == Line(2));
  }

  TEST_CASE("a full queue drops records and counts them instead of waiting") {
    ScratchDir dir;
    ferry_rt::serve::Registry registry;
    ferry_rt::serve::ServeMetrics metrics(registry);
    CollectOptions options = Options(dir);
    options.queue_capacity = 2;
    options.dropped = &metrics.collect_dropped;
    // The writer is held before its first batch until the test lets it go.
    std::mutex mutex;
    std::condition_variable released;
    bool go = false;
    options.before_batch = [&] {
      std::unique_lock lock(mutex);
      released.wait(lock, [&] { return go; });
    };
    std::string error;
    auto collector = Collector::Open(options, &error);
    REQUIRE(collector != nullptr);
    CHECK(collector->Submit(Record(1)));
    CHECK(collector->Submit(Record(2)));
    CHECK_FALSE(collector->Submit(Record(3)));
    CHECK_FALSE(collector->Submit(Record(4)));
    {
      std::lock_guard lock(mutex);
      go = true;
    }
    released.notify_all();
    collector->Close();
    CHECK(collector->dropped() == 2);
    CHECK(metrics.collect_dropped.Value() == 2);
    CHECK(registry.Render().find("ferry_collect_dropped_total 2\n") != std::string::npos);
    CHECK(ReadFile(dir / "collect/faq-a-1.jsonl") == Line(1) + Line(2));
  }

  TEST_CASE("an unusable directory is an error at open") {
    ScratchDir dir;
    WriteFile(dir / "file", "x");
    CollectOptions options = Options(dir);
    options.directory = dir / "file/sub";
    std::string error;
    CHECK(Collector::Open(options, &error) == nullptr);
    CHECK(error.rfind("cannot write to collection directory " + (dir / "file/sub") + ": ", 0) == 0);
  }
}

}  // namespace
}  // namespace ferry::serve_test

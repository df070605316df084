// Model data collection (`--collect-dir DIR`): each scored request's inputs
// and outputs as one JSON line {ts, request_id, model, inputs, outputs} in
// DIR/<prefix>-<n>.jsonl. Files rotate at a size limit and only the newest
// few are kept. Writing happens on a background thread behind a bounded
// queue: when the disk falls behind, records are dropped and counted, and
// requests never wait.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/serve/log.h"
#include "runtime/serve/metrics.h"

namespace ferry_rt::serve {

/// Where and how much to collect.
struct CollectOptions {
  std::string directory;                       ///< created when absent
  std::string prefix = "collect";              ///< files are <prefix>-<n>.jsonl
  std::uint64_t max_file_bytes = 64ull << 20;  ///< a file is closed before it would pass this
  int max_files = 10;                          ///< older files are deleted (at least 1 kept)
  std::size_t queue_capacity = 4096;           ///< records waiting; more are dropped
  MillisClock clock;                           ///< stamps `ts`; empty: the system clock
  Counter* dropped = nullptr;                  ///< counts dropped records (may be null)
  Logger* log = nullptr;                       ///< reports write errors (may be null)
  /// Called by the writer thread before each batch it writes; tests block it
  /// here to fill the queue deterministically.
  std::function<void()> before_batch;
};

/// One scored request. `inputs` and `outputs` are JSON texts (the request's
/// and the response's), embedded as they are.
struct CollectRecord {
  std::string request_id;
  std::string model;
  std::string inputs;
  std::string outputs;
};

/// The background writer. Submit is thread-safe and never blocks on I/O.
class Collector {
 public:
  /// A running collector, or nullptr with `error` set (directory not creatable or writable).
  static auto Open(CollectOptions options, std::string* error) -> std::unique_ptr<Collector>;
  /// Flushes what is queued, then stops the writer (see Close).
  ~Collector();
  Collector(const Collector&) = delete;
  auto operator=(const Collector&) -> Collector& = delete;

  /// Queues `record` stamped with the current time; false (and counted as
  /// dropped) when the queue is full or the collector is closed.
  auto Submit(CollectRecord record) -> bool;

  /// Writes everything queued, closes the file and joins the writer; later
  /// Submits are dropped. Idempotent. Called on shutdown.
  void Close();

  /// Records dropped so far (queue full, closed, or a failed write).
  auto dropped() const -> std::uint64_t;

  /// The path of DIR/<prefix>-<n>.jsonl.
  auto PathOf(std::uint64_t n) const -> std::string;

 private:
  struct Pending {
    std::int64_t ts;  // milliseconds since the epoch, taken at Submit
    CollectRecord record;
  };
  explicit Collector(CollectOptions options, std::uint64_t first_index);
  void Run();
  void WriteLine(const std::string& line);
  void Rotate();
  void Drop(std::uint64_t count);

  CollectOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool closing_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  // Writer thread only:
  std::uint64_t index_;
  std::uint64_t file_bytes_ = 0;
  int fd_ = -1;
  bool reported_error_ = false;
  std::thread writer_;
};

}  // namespace ferry_rt::serve

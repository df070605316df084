// Dynamic batching: the rows of concurrent requests collected into one batch
// (up to max_rows rows, or for at most max_wait after the first arrives), run
// as one Model::Run on the batcher's own thread, and each request answered
// with its own rows' outputs. On a GPU a batch of 32 costs little more than
// one row; on a CPU it saves the per-call overhead under load.
//
// Requests batch together when their inputs agree in dtype and in every
// dimension but the first; others wait for a later batch. A model whose
// outputs are not one row per input row (their first dimension is not the
// batch's row count) has each request of the batch run on its own instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "runtime/model.h"

namespace ferry_rt::serve {

/// Rows of `parts` (each shaped [rows, ...], same dtype and trailing shape) stacked into `out`.
void ConcatRows(std::span<const Tensor* const> parts, Tensor& out);

/// Rows [first, first + count) of `batch` (shaped [rows, ...]) copied into `out`.
void SliceRows(const Tensor& batch, std::int64_t first, std::int64_t count, Tensor& out);

/// Whether two inputs may share a batch: same dtype and same shape but the first dimension.
auto SameRowShape(const Tensor& a, const Tensor& b) -> bool;

/// How the batcher collects rows.
struct BatchOptions {
  std::int64_t max_rows = 32;  ///< run as soon as this many rows wait (a bigger request runs alone)
  std::chrono::microseconds max_wait{2000};  ///< run at most this long after the first arrival
};

/// Collects requests' rows for one model and runs them in batches on its own thread.
class Batcher {
 public:
  /// What happened to one request.
  enum class Outcome {
    kDone,      ///< `outputs` hold the request's rows' outputs
    kTimedOut,  ///< the deadline passed before its batch ran
    kFailed,    ///< the model threw; `error` says why
  };

  /// Takes ownership of `model`; starts the batching thread.
  Batcher(std::unique_ptr<Model> model, BatchOptions options);
  /// Stops the thread; requests still queued fail ("shutting down").
  ~Batcher();
  Batcher(const Batcher&) = delete;
  auto operator=(const Batcher&) -> Batcher& = delete;

  /// Queues `input` (one tensor, shaped [rows, ...]) and waits for its outputs
  /// or the deadline. Thread-safe. A request whose batch is already running
  /// when the deadline passes still waits for it (a Run cannot be interrupted).
  auto Score(Tensor input, std::vector<Tensor>& outputs, std::string& error,
             std::chrono::steady_clock::time_point deadline) -> Outcome;

  /// The model's declared inputs and outputs (for request parsing and answers).
  auto model() const -> const Model& { return *model_; }

  /// How many batches have run (for tests and metrics).
  auto batches_run() const -> std::int64_t;

 private:
  struct Pending;
  void Loop();
  // Takes the next batch from the queue: the first request and the ones after
  // it that fit, up to max_rows rows. Called with mutex_ held.
  auto TakeBatch() -> std::vector<std::shared_ptr<Pending>>;
  void RunBatch(const std::vector<std::shared_ptr<Pending>>& batch);
  void RunAlone(Pending& pending);

  std::unique_ptr<Model> model_;
  BatchOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<std::shared_ptr<Pending>> queue_;
  std::int64_t queued_rows_ = 0;
  std::int64_t batches_run_ = 0;
  bool stopping_ = false;
  // Scratch kept across batches so a steady load allocates little.
  Tensor batch_input_;
  std::vector<Tensor> batch_inputs_;
  std::vector<Tensor> batch_outputs_;
  std::thread thread_;
};

}  // namespace ferry_rt::serve

#include "runtime/serve/batcher.h"

#include <algorithm>
#include <exception>
#include <utility>

namespace ferry_rt::serve {
namespace {

auto RowsOf(const Tensor& tensor) -> std::int64_t {
  return tensor.shape.empty() ? 0 : tensor.shape[0];
}

// Elements per row of a tensor shaped [rows, ...].
auto RowSize(const Tensor& tensor) -> std::int64_t {
  std::int64_t size = 1;
  for (std::size_t d = 1; d < tensor.shape.size(); ++d) size *= tensor.shape[d];
  return size;
}

template <typename T>
void AppendRange(std::vector<T>& out, const std::vector<T>& from, std::int64_t first,
                 std::int64_t count) {
  out.insert(out.end(), from.begin() + first, from.begin() + first + count);
}

}  // namespace

auto SameRowShape(const Tensor& a, const Tensor& b) -> bool {
  return a.dtype == b.dtype && a.shape.size() == b.shape.size() && !a.shape.empty() &&
         std::equal(a.shape.begin() + 1, a.shape.end(), b.shape.begin() + 1);
}

void ConcatRows(std::span<const Tensor* const> parts, Tensor& out) {
  out.f32.clear();
  out.i64.clear();
  out.str.clear();
  if (parts.empty()) return;
  out.dtype = parts[0]->dtype;
  out.shape = parts[0]->shape;
  std::int64_t rows = 0;
  for (const Tensor* part : parts) {
    rows += RowsOf(*part);
    AppendRange(out.f32, part->f32, 0, std::ssize(part->f32));
    AppendRange(out.i64, part->i64, 0, std::ssize(part->i64));
    AppendRange(out.str, part->str, 0, std::ssize(part->str));
  }
  out.shape[0] = rows;
}

void SliceRows(const Tensor& batch, std::int64_t first, std::int64_t count, Tensor& out) {
  out.dtype = batch.dtype;
  out.shape = batch.shape;
  out.shape[0] = count;
  out.f32.clear();
  out.i64.clear();
  out.str.clear();
  const std::int64_t size = RowSize(batch);
  switch (batch.dtype) {
    case DType::kFloat32:
      AppendRange(out.f32, batch.f32, first * size, count * size);
      break;
    case DType::kInt64:
      AppendRange(out.i64, batch.i64, first * size, count * size);
      break;
    case DType::kString:
      AppendRange(out.str, batch.str, first * size, count * size);
      break;
  }
}

struct Batcher::Pending {
  Tensor input;
  std::vector<Tensor> outputs;
  std::string error;
  std::chrono::steady_clock::time_point arrived;
  bool taken = false;  // in a batch being run: no longer cancellable
  bool done = false;
  bool failed = false;
  std::condition_variable finished;
};

Batcher::Batcher(std::unique_ptr<Model> model, BatchOptions options)
    : model_(std::move(model)), options_(options), batch_inputs_(1) {
  options_.max_rows = std::max<std::int64_t>(options_.max_rows, 1);
  thread_ = std::thread([this] { Loop(); });
}

Batcher::~Batcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  arrived_.notify_all();
  thread_.join();
}

auto Batcher::batches_run() const -> std::int64_t {
  std::lock_guard lock(mutex_);
  return batches_run_;
}

auto Batcher::Score(Tensor input, std::vector<Tensor>& outputs, std::string& error,
                    std::chrono::steady_clock::time_point deadline) -> Outcome {
  auto pending = std::make_shared<Pending>();
  pending->input = std::move(input);
  pending->arrived = std::chrono::steady_clock::now();
  const std::int64_t rows = RowsOf(pending->input);
  std::unique_lock lock(mutex_);
  if (stopping_) {
    error = "the server is shutting down";
    return Outcome::kFailed;
  }
  queue_.push_back(pending);
  queued_rows_ += rows;
  arrived_.notify_one();
  while (!pending->done) {
    if (pending->taken) {
      pending->finished.wait(lock);
      continue;
    }
    if (pending->finished.wait_until(lock, deadline) == std::cv_status::timeout &&
        !pending->taken && !pending->done) {
      queue_.erase(std::find(queue_.begin(), queue_.end(), pending));
      queued_rows_ -= rows;
      return Outcome::kTimedOut;
    }
  }
  if (pending->failed) {
    error = std::move(pending->error);
    return Outcome::kFailed;
  }
  outputs.swap(pending->outputs);
  return Outcome::kDone;
}

void Batcher::Loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    arrived_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    const auto until = queue_.front()->arrived + options_.max_wait;
    arrived_.wait_until(lock, until, [this] {
      return stopping_ || queue_.empty() || queued_rows_ >= options_.max_rows;
    });
    if (stopping_) break;
    if (queue_.empty()) continue;
    std::vector<std::shared_ptr<Pending>> batch = TakeBatch();
    lock.unlock();
    RunBatch(batch);
    lock.lock();
    ++batches_run_;
    for (const auto& pending : batch) {
      pending->done = true;
      pending->finished.notify_all();
    }
  }
  for (const auto& pending : queue_) {
    pending->failed = true;
    pending->error = "the server is shutting down";
    pending->done = true;
    pending->finished.notify_all();
  }
  queue_.clear();
}

auto Batcher::TakeBatch() -> std::vector<std::shared_ptr<Pending>> {
  std::vector<std::shared_ptr<Pending>> batch;
  std::int64_t rows = 0;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const Tensor& input = (*it)->input;
    const std::int64_t more = RowsOf(input);
    const bool fits = batch.empty() || (SameRowShape(batch.front()->input, input) &&
                                        rows + more <= options_.max_rows);
    if (!fits) {
      ++it;
      continue;
    }
    rows += more;
    (*it)->taken = true;
    batch.push_back(*it);
    queued_rows_ -= more;
    it = queue_.erase(it);
    if (rows >= options_.max_rows) break;
  }
  return batch;
}

void Batcher::RunAlone(Pending& pending) {
  try {
    std::swap(batch_inputs_[0], pending.input);
    model_->Run(batch_inputs_, pending.outputs);
    std::swap(batch_inputs_[0], pending.input);
  } catch (const std::exception& error) {
    std::swap(batch_inputs_[0], pending.input);
    pending.failed = true;
    pending.error = error.what();
  }
}

void Batcher::RunBatch(const std::vector<std::shared_ptr<Pending>>& batch) {
  if (batch.size() == 1) return RunAlone(*batch.front());
  std::vector<const Tensor*> parts;
  parts.reserve(batch.size());
  for (const auto& pending : batch) parts.push_back(&pending->input);
  ConcatRows(parts, batch_inputs_[0]);
  const std::int64_t total = RowsOf(batch_inputs_[0]);
  try {
    model_->Run(batch_inputs_, batch_outputs_);
  } catch (const std::exception& /*error*/) {
    // One request's bad rows must not fail the others: each runs on its own.
    for (const auto& pending : batch) RunAlone(*pending);
    return;
  }
  const bool per_row = std::all_of(batch_outputs_.begin(), batch_outputs_.end(),
                                   [total](const Tensor& t) { return RowsOf(t) == total; });
  if (!per_row) {
    for (const auto& pending : batch) RunAlone(*pending);
    return;
  }
  std::int64_t first = 0;
  for (const auto& pending : batch) {
    const std::int64_t rows = RowsOf(pending->input);
    pending->outputs.resize(batch_outputs_.size());
    for (std::size_t i = 0; i < batch_outputs_.size(); ++i) {
      SliceRows(batch_outputs_[i], first, rows, pending->outputs[i]);
    }
    first += rows;
  }
}

}  // namespace ferry_rt::serve

// Small hand-written ferry_rt::Model subclasses for the server's tests: a
// linear model (y = x . (1, 2, 3) + 0.5 per row, and its rows counted) and one
// a test holds inside Run until it lets go, to keep a request in flight
// deterministically. Header-only: the test glob builds only *_test.cc files.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace ferry_rt::serve::testing {

/// A model input or output described by name, dtype and shape.
inline auto MakeInfo(std::string name, DType dtype, std::vector<std::int64_t> shape)
    -> TensorInfo {
  TensorInfo info;
  info.name = std::move(name);
  info.dtype = dtype;
  info.shape = std::move(shape);
  return info;
}

/// Rows of 3 float32 values in ("x", [-1, 3]), one float32 per row out ("y", [-1, 1]).
class LinearModel : public Model {
 public:
  /// Shared by every instance a factory makes: what all of them ran.
  struct Counts {
    std::atomic<int> runs{0};
    std::atomic<int> rows{0};
    std::atomic<int> instances{0};
  };

  explicit LinearModel(std::shared_ptr<Counts> counts) : counts_(std::move(counts)) {
    ++counts_->instances;
  }
  auto inputs() const -> const std::vector<TensorInfo>& override {
    static const std::vector<TensorInfo> infos = {MakeInfo("x", DType::kFloat32, {-1, 3})};
    return infos;
  }
  auto outputs() const -> const std::vector<TensorInfo>& override {
    static const std::vector<TensorInfo> infos = {MakeInfo("y", DType::kFloat32, {-1, 1})};
    return infos;
  }
  void Run(const std::vector<Tensor>& in, std::vector<Tensor>& out) override {
    CheckInputs(inputs(), in);
    const std::int64_t rows = in[0].shape[0];
    ++counts_->runs;
    counts_->rows += static_cast<int>(rows);
    out.resize(1);
    Resize(out[0], DType::kFloat32, {rows, 1});
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* x = &in[0].f32[static_cast<std::size_t>(r * 3)];
      out[0].f32[static_cast<std::size_t>(r)] = x[0] + 2 * x[1] + 3 * x[2] + 0.5F;
    }
  }

 private:
  std::shared_ptr<Counts> counts_;
};

/// A gate a test closes to hold models inside Run.
class Gate {
 public:
  /// Blocks until Open; counts the waiters so a test knows when one is inside.
  void Pass() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    --waiting_;
  }
  /// Waits until `count` callers are blocked in Pass.
  void AwaitWaiting(int count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this, count] { return waiting_ >= count; });
  }
  void Open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

/// A LinearModel that passes a gate before each Run.
class GatedModel : public LinearModel {
 public:
  GatedModel(std::shared_ptr<Counts> counts, std::shared_ptr<Gate> gate)
      : LinearModel(std::move(counts)), gate_(std::move(gate)) {}
  void Run(const std::vector<Tensor>& in, std::vector<Tensor>& out) override {
    gate_->Pass();
    LinearModel::Run(in, out);
  }

 private:
  std::shared_ptr<Gate> gate_;
};

/// Rows of 3 floats as a tensor shaped [rows, 3].
inline auto Rows(std::vector<float> values) -> Tensor {
  Tensor tensor;
  tensor.dtype = DType::kFloat32;
  tensor.shape = {static_cast<std::int64_t>(values.size() / 3), 3};
  tensor.f32 = std::move(values);
  return tensor;
}

}  // namespace ferry_rt::serve::testing

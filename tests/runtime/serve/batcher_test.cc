// serve/batcher.h: concurrent requests' rows run as one batch, each request
// answered with its own rows. Deterministic: the batch either fills up (the
// wait is an hour) or the model is held at a gate; no sleep decides a result.
#include "runtime/serve/batcher.h"

#include <doctest/doctest.h>

#include <thread>

#include "tests/runtime/serve/test_models.h"

namespace ferry_rt::serve {
namespace {

using testing::Gate;
using testing::GatedModel;
using testing::LinearModel;
using testing::Rows;

constexpr auto kHour = std::chrono::hours(1);

auto Far() -> std::chrono::steady_clock::time_point {
  return std::chrono::steady_clock::now() + kHour;
}

TEST_CASE("rows are concatenated and sliced back") {
  const Tensor a = Rows({1, 2, 3});
  const Tensor b = Rows({4, 5, 6, 7, 8, 9});
  const Tensor* parts[] = {&a, &b};
  Tensor both;
  ConcatRows(parts, both);
  CHECK(both.shape == std::vector<std::int64_t>{3, 3});
  CHECK(both.f32 == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor second;
  SliceRows(both, 1, 2, second);
  CHECK(second.shape == b.shape);
  CHECK(second.f32 == b.f32);
  CHECK(SameRowShape(a, b));
  Tensor wide = a;
  wide.shape = {1, 1, 3};
  CHECK(!SameRowShape(a, wide));
}

TEST_CASE("a full batch runs at once and each request gets its own rows") {
  auto counts = std::make_shared<LinearModel::Counts>();
  // The wait is an hour: only a full batch (4 rows) can start the run.
  Batcher batcher(std::make_unique<LinearModel>(counts),
                  {.max_rows = 4, .max_wait = std::chrono::microseconds(kHour)});
  std::vector<std::vector<Tensor>> outputs(4);
  std::vector<Batcher::Outcome> outcomes(4);
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      std::string error;
      const auto x = static_cast<float>(i);
      outcomes[i] = batcher.Score(Rows({x, 0, 0}), outputs[i], error, Far());
    });
  }
  for (auto& client : clients) client.join();
  CHECK(counts->runs == 1);
  CHECK(counts->rows == 4);
  CHECK(batcher.batches_run() == 1);
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    REQUIRE(outcomes[i] == Batcher::Outcome::kDone);
    REQUIRE(outputs[i].size() == 1);
    CHECK(outputs[i][0].shape == std::vector<std::int64_t>{1, 1});
    CHECK(outputs[i][0].f32[0] == static_cast<float>(i) + 0.5F);
  }
}

TEST_CASE("a lone request runs when its wait is over") {
  auto counts = std::make_shared<LinearModel::Counts>();
  Batcher batcher(std::make_unique<LinearModel>(counts),
                  {.max_rows = 64, .max_wait = std::chrono::microseconds(100)});
  std::vector<Tensor> outputs;
  std::string error;
  REQUIRE(batcher.Score(Rows({1, 1, 1, 2, 0, 0}), outputs, error, Far()) ==
          Batcher::Outcome::kDone);
  CHECK(outputs[0].f32 == std::vector<float>{6.5F, 2.5F});
  CHECK(counts->runs == 1);
}

TEST_CASE("a request times out while the model is busy; the next batch still runs") {
  auto counts = std::make_shared<LinearModel::Counts>();
  auto gate = std::make_shared<Gate>();
  Batcher batcher(std::make_unique<GatedModel>(counts, gate),
                  {.max_rows = 1, .max_wait = std::chrono::microseconds(0)});
  std::vector<Tensor> held_outputs;
  Batcher::Outcome held = Batcher::Outcome::kFailed;
  std::thread first([&] {
    std::string error;
    held = batcher.Score(Rows({1, 0, 0}), held_outputs, error, Far());
  });
  gate->AwaitWaiting(1);  // the first batch is inside Run
  std::vector<Tensor> outputs;
  std::string error;
  // Its deadline has passed already: it is dropped from the queue, never run.
  CHECK(batcher.Score(Rows({2, 0, 0}), outputs, error, std::chrono::steady_clock::now()) ==
        Batcher::Outcome::kTimedOut);
  gate->Open();
  first.join();
  CHECK(held == Batcher::Outcome::kDone);
  CHECK(held_outputs[0].f32[0] == 1.5F);
  CHECK(counts->runs == 1);
  REQUIRE(batcher.Score(Rows({3, 0, 0}), outputs, error, Far()) == Batcher::Outcome::kDone);
  CHECK(outputs[0].f32[0] == 3.5F);
}

TEST_CASE("a request the model rejects fails with the model's message") {
  auto counts = std::make_shared<LinearModel::Counts>();
  Batcher batcher(std::make_unique<LinearModel>(counts),
                  {.max_rows = 8, .max_wait = std::chrono::microseconds(0)});
  Tensor bad = Rows({1, 2, 3});
  bad.shape = {1, 1, 3};
  std::vector<Tensor> outputs;
  std::string error;
  CHECK(batcher.Score(std::move(bad), outputs, error, Far()) == Batcher::Outcome::kFailed);
  CHECK(error == "input 'x': expected rank 2, got rank 3");
  REQUIRE(batcher.Score(Rows({0, 1, 0}), outputs, error, Far()) == Batcher::Outcome::kDone);
  CHECK(outputs[0].f32[0] == 2.5F);
}

}  // namespace
}  // namespace ferry_rt::serve

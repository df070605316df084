#include "router/split.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace ferry::router {
namespace {

auto Sequence(WeightedSplit& split, const std::vector<bool>& eligible, int count) -> std::string {
  std::string picks;
  for (int i = 0; i < count; ++i) {
    auto pick = split.Next(eligible);
    picks += pick ? static_cast<char>('a' + *pick) : '-';
  }
  return picks;
}

TEST_CASE("split: smooth weighted round robin interleaves versions") {
  WeightedSplit split({20, 80});
  CHECK(Sequence(split, {true, true}, 10) == "bbabbbbabb");
  WeightedSplit nginx({5, 1, 1});  // nginx's own example: a a b a c a a
  CHECK(Sequence(nginx, {true, true, true}, 7) == "aabacaa");
}

TEST_CASE("split: 10,000 picks land within 2% of the weights") {
  WeightedSplit split({20, 30, 50, 0});
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 10000; ++i) ++counts[*split.Next({true, true, true, true})];
  CHECK(counts[0] == doctest::Approx(2000).epsilon(0.02));
  CHECK(counts[1] == doctest::Approx(3000).epsilon(0.02));
  CHECK(counts[2] == doctest::Approx(5000).epsilon(0.02));
  CHECK(counts[3] == 0);
}

TEST_CASE("split: an ineligible version's share goes to the others pro rata") {
  WeightedSplit split({20, 30, 50});
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 8000; ++i) ++counts[*split.Next({true, false, true})];
  CHECK(counts[0] == 2286);  // 20/70 of 8000
  CHECK(counts[1] == 0);
  CHECK(counts[2] == 5714);
}

TEST_CASE("split: no eligible version with weight gives nothing") {
  WeightedSplit split({0, 100});
  CHECK(!split.Next({true, false}).has_value());
  CHECK(!split.Next({false, false}).has_value());
  CHECK(split.Next({true, true}) == 1u);
  WeightedSplit empty({});
  CHECK(!empty.Next({}).has_value());
}

TEST_CASE("split: a version that comes back does not get a burst") {
  WeightedSplit split({50, 50});
  CHECK(Sequence(split, {true, false}, 5) == "aaaaa");
  CHECK(Sequence(split, {true, true}, 6) == "ababab");
}

}  // namespace
}  // namespace ferry::router

#include "compiler/support/suggest.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace ferry::support {
namespace {

TEST_CASE("edit distance counts insertions, deletions, substitutions and transpositions") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("traffic", "traffic") == 0);
  CHECK(EditDistance("trafic", "traffic") == 1);
  CHECK(EditDistance("trafficc", "traffic") == 1);
  CHECK(EditDistance("traffik", "traffic") == 1);
  CHECK(EditDistance("rtaffic", "traffic") == 1);
  CHECK(EditDistance("abc", "") == 3);
  CHECK(EditDistance("kitten", "sitting") == 3);
}

TEST_CASE("suggest picks the closest candidate within len/3 edits") {
  const std::vector<std::string> fields = {"model", "models", "traffic", "role"};
  CHECK(Suggest("trafic", fields) == "traffic");
  CHECK(Suggest("modle", fields) == "model");
  CHECK(Suggest("rloe", fields) == "role");
  CHECK(Suggest("bogus", fields) == std::nullopt);
  // Three letters allow one edit, never two.
  CHECK(Suggest("rle", fields) == "role");
  CHECK(Suggest("xyz", fields) == std::nullopt);
}

TEST_CASE("suggest ignores case and prefers the earlier candidate on ties") {
  const std::vector<std::string> purposes = {"fast_prod", "dev_test"};
  CHECK(Suggest("FAST_PROD", purposes) == "fast_prod");
  const std::vector<std::string> tied = {"ab", "ba"};
  CHECK(Suggest("aa", tied) == "ab");
}

TEST_CASE("did you mean is empty without a suggestion") {
  const std::vector<std::string> names = {"prod", "staging"};
  CHECK(DidYouMean("prd", names) == "; did you mean 'prod'?");
  CHECK(DidYouMean("zzzzzz", names).empty());
  CHECK(DidYouMean("prod", std::vector<std::string>{}).empty());
}

}  // namespace
}  // namespace ferry::support

#include "compiler/ir/traffic.h"

#include <doctest/doctest.h>

#include <initializer_list>

namespace ferry::ir {
namespace {

struct Declared {
  const char* name;
  double traffic;
  bool is_default = false;
};

auto MakeEndpoint(std::initializer_list<Declared> versions) -> Endpoint {
  Endpoint endpoint;
  for (const Declared& declared : versions) {
    Version version;
    version.name = declared.name;
    version.traffic = declared.traffic;
    version.is_default = declared.is_default;
    endpoint.versions.push_back(version);
  }
  return endpoint;
}

// The worked examples of docs/manifest.md and seed 000.
TEST_CASE("a default version alone gets everything") {
  Endpoint endpoint = MakeEndpoint({{"a", 20, true}});
  ResolveTraffic(endpoint);
  CHECK(endpoint.traffic_resolved);
  CHECK(endpoint.default_version == 0);
  CHECK(endpoint.versions[0].resolved_traffic == 100);
}

TEST_CASE("the remainder goes to the default on top of its own share") {
  Endpoint endpoint = MakeEndpoint({{"a", 20, true}, {"b", 10}});
  ResolveTraffic(endpoint);
  CHECK(endpoint.traffic_resolved);
  CHECK(endpoint.versions[0].resolved_traffic == 90);
  CHECK(endpoint.versions[1].resolved_traffic == 10);
}

TEST_CASE("moving the default moves the remainder") {
  Endpoint endpoint = MakeEndpoint({{"a", 20}, {"b", 40, true}});
  ResolveTraffic(endpoint);
  CHECK(endpoint.traffic_resolved);
  CHECK(endpoint.default_version == 1);
  CHECK(endpoint.versions[0].resolved_traffic == 20);
  CHECK(endpoint.versions[1].resolved_traffic == 80);
}

TEST_CASE("without a marked default the first version is the default") {
  Endpoint endpoint = MakeEndpoint({{"a", 0}, {"b", 30}});
  ResolveTraffic(endpoint);
  CHECK(endpoint.default_version == 0);
  CHECK(endpoint.versions[0].is_default);
  CHECK_FALSE(endpoint.versions[1].is_default);
  CHECK(endpoint.versions[0].resolved_traffic == 70);
  CHECK(endpoint.versions[1].resolved_traffic == 30);
}

TEST_CASE("shares that add up to exactly 100 leave the default its own share") {
  Endpoint endpoint = MakeEndpoint({{"a", 33.3, true}, {"b", 33.3}, {"c", 33.4}});
  ResolveTraffic(endpoint);
  CHECK(endpoint.traffic_resolved);
  CHECK(endpoint.versions[0].resolved_traffic == doctest::Approx(33.3));
  CHECK(endpoint.versions[2].resolved_traffic == doctest::Approx(33.4));
}

TEST_CASE("a sum over 100 is left unresolved") {
  Endpoint endpoint = MakeEndpoint({{"a", 60}, {"b", 50}});
  ResolveTraffic(endpoint);
  CHECK_FALSE(endpoint.traffic_resolved);
  CHECK(endpoint.versions[0].resolved_traffic == 0);
  CHECK(endpoint.versions[1].resolved_traffic == 0);
}

TEST_CASE("a share outside 0..100 is left unresolved") {
  Endpoint negative = MakeEndpoint({{"a", -10}, {"b", 20}});
  ResolveTraffic(negative);
  CHECK_FALSE(negative.traffic_resolved);
  Endpoint over = MakeEndpoint({{"a", 150}});
  ResolveTraffic(over);
  CHECK_FALSE(over.traffic_resolved);
}

TEST_CASE("two defaults are left unresolved and both marks kept") {
  Endpoint endpoint = MakeEndpoint({{"a", 10, true}, {"b", 10, true}});
  ResolveTraffic(endpoint);
  CHECK_FALSE(endpoint.traffic_resolved);
  CHECK(endpoint.default_version == 0);
  CHECK(endpoint.versions[0].is_default);
  CHECK(endpoint.versions[1].is_default);
}

TEST_CASE("an endpoint without versions has no default") {
  Endpoint endpoint;
  ResolveTraffic(endpoint);
  CHECK_FALSE(endpoint.traffic_resolved);
  CHECK(endpoint.default_version == kNone);
}

}  // namespace
}  // namespace ferry::ir

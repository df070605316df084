// Fleet: replica sets kept across reloads, rolled from revision to revision;
// and the status document written from it. Fake sets whose readiness the
// test sets per revision: no processes.
#include "router/fleet.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "router/status.h"

namespace ferry::router {
namespace {

// What the fake sets share with the test.
struct World {
  std::map<std::string, std::int64_t> ready;  // by revision: how many replicas are ready
  std::vector<std::string> created;           // "version@revision", in order
  std::vector<std::string> destroyed;
  bool fail = false;  // the factory fails (a Kubernetes config that cannot be read)
};

class FakeSet : public ReplicaSet {
 public:
  FakeSet(World& world, std::string name, std::string revision)
      : world_(world), name_(std::move(name)), revision_(std::move(revision)) {
    world_.created.push_back(name_ + "@" + revision_);
  }
  ~FakeSet() override { world_.destroyed.push_back(name_ + "@" + revision_); }
  auto Replicas() const -> std::vector<Replica> override {
    std::vector<Replica> replicas;
    for (std::int64_t i = 0; i < desired_; ++i) {
      replicas.push_back({"127.0.0.1", 4000 + static_cast<int>(i), i < world_.ready[revision_]});
    }
    return replicas;
  }
  auto Desired() const -> std::int64_t override { return desired_; }
  void Scale(std::int64_t count) override { desired_ = count; }
  void Reconcile(TimePoint /*now*/) override {}

 private:
  World& world_;
  std::string name_;
  std::string revision_;
  std::int64_t desired_ = 0;
};

class FixedClock : public Clock {
 public:
  auto Now() const -> TimePoint override { return TimePoint{}; }
};

// Routes with endpoint e: versions given as {name, revision} at weight 100/n.
auto RoutesWith(const std::vector<std::pair<std::string, std::string>>& versions, int replicas = 2)
    -> Routes {
  std::string text =
      "format: 1\nlisten: {http: 0}\nendpoints:\n- name: e\n  path: /e/score\n"
      "  versions:\n";
  for (const auto& [name, revision] : versions) {
    text += "  - name: " + name + "\n    weight: " + std::to_string(100.0 / versions.size()) +
            "\n    role: control\n    default: true\n    autoscale: {min_replicas: " +
            std::to_string(replicas) + ", max_replicas: " + std::to_string(replicas) +
            "}\n    local: {command: [serve], revision: " + revision + "}\n";
  }
  RoutesResult result = ParseRoutes(text, "routes.yaml");
  REQUIRE(result.routes.has_value());
  return *result.routes;
}

struct Rig {
  Rig()
      : fleet(
            [this](const std::string&, const EndpointRoute&, const VersionRoute& version,
                   std::string& error) -> std::unique_ptr<ReplicaSet> {
              if (world.fail) {
                error = "no Kubernetes config";
                return nullptr;
              }
              return std::make_unique<FakeSet>(world, version.name, RevisionOf(version));
            },
            clock) {}
  auto Apply(const Routes& routes) -> bool {
    std::string error;
    return fleet.Apply(routes, error);
  }
  auto Serving(std::size_t v = 0) -> const RevisionReplicas& {
    return *fleet.versions()[0][v].serving;
  }
  World world;
  FixedClock clock;
  Fleet fleet;
};

TEST_CASE("fleet: an unchanged revision keeps its replica set across reloads") {
  Rig rig;
  REQUIRE(rig.Apply(RoutesWith({{"live", "r1"}})));
  const ReplicaSet* first = rig.Serving().replicas.get();
  CHECK(first->Desired() == 2);
  REQUIRE(rig.Apply(RoutesWith({{"live", "r1"}, {"canary", "r5"}})));
  CHECK(rig.Serving().replicas.get() == first);
  CHECK(rig.world.created == std::vector<std::string>{"live@r1", "canary@r5"});
  CHECK(rig.fleet.Sets()[0][0] == first);
  // A version that is gone is released (no proxy holds it here: destroyed now).
  REQUIRE(rig.Apply(RoutesWith({{"live", "r1"}})));
  CHECK(rig.world.destroyed == std::vector<std::string>{"canary@r5"});
  CHECK(rig.fleet.versions()[0].size() == 1);
}

TEST_CASE("fleet: a new revision serves once it has as many ready replicas as the old") {
  Rig rig;
  REQUIRE(rig.Apply(RoutesWith({{"live", "r1"}})));
  rig.world.ready["r1"] = 2;
  CHECK(!rig.fleet.Reconcile(TimePoint{}));
  std::shared_ptr<const void> held = rig.fleet.Hold();  // a proxy generation's

  REQUIRE(rig.Apply(RoutesWith({{"live", "r2"}})));
  const FleetVersion& rolling = rig.fleet.versions()[0][0];
  CHECK(rolling.serving->revision == "r1");
  REQUIRE(rolling.starting != nullptr);
  CHECK(rolling.starting->revision == "r2");
  CHECK(rolling.starting->replicas->Desired() == 2);
  // The proxy still routes to r1.
  CHECK(rig.fleet.Sets()[0][0] == rolling.serving->replicas.get());
  rig.world.ready["r2"] = 1;
  CHECK(!rig.fleet.Reconcile(TimePoint{}));
  CHECK(rig.Serving().revision == "r1");
  rig.world.ready["r2"] = 2;
  CHECK(rig.fleet.Reconcile(TimePoint{}));
  CHECK(rig.Serving().revision == "r2");
  CHECK(rig.fleet.versions()[0][0].starting == nullptr);
  // r1 lives while the old generation holds it, and no longer.
  CHECK(rig.world.destroyed.empty());
  held.reset();
  CHECK(rig.world.destroyed == std::vector<std::string>{"live@r1"});
}

TEST_CASE("fleet: rolling back drops the new revision and keeps the old one untouched") {
  Rig rig;
  REQUIRE(rig.Apply(RoutesWith({{"live", "r1"}})));
  rig.world.ready["r1"] = 2;
  const ReplicaSet* old = rig.Serving().replicas.get();
  REQUIRE(rig.Apply(RoutesWith({{"live", "r2"}})));  // r2 never gets ready
  for (int i = 0; i < 3; ++i) CHECK(!rig.fleet.Reconcile(TimePoint{}));
  // Applying r2 again keeps the starting set (no restart).
  REQUIRE(rig.Apply(RoutesWith({{"live", "r2"}})));
  CHECK(rig.world.created == std::vector<std::string>{"live@r1", "live@r2"});
  REQUIRE(rig.Apply(RoutesWith({{"live", "r1"}})));
  CHECK(rig.world.destroyed == std::vector<std::string>{"live@r2"});
  CHECK(rig.Serving().replicas.get() == old);
  CHECK(rig.fleet.versions()[0][0].starting == nullptr);
  CHECK(rig.world.created.size() == 2);
}

TEST_CASE("fleet: a version with no ready replica is replaced by the first ready one") {
  Rig rig;
  REQUIRE(rig.Apply(RoutesWith({{"live", "r1"}})));  // r1 never ready
  REQUIRE(rig.Apply(RoutesWith({{"live", "r2"}})));
  CHECK(!rig.fleet.Reconcile(TimePoint{}));
  rig.world.ready["r2"] = 1;
  CHECK(rig.fleet.Reconcile(TimePoint{}));
  CHECK(rig.Serving().revision == "r2");
}

TEST_CASE("fleet: when a set cannot be made nothing changes") {
  Rig rig;
  REQUIRE(rig.Apply(RoutesWith({{"live", "r1"}})));
  rig.world.fail = true;
  std::string error;
  CHECK(!rig.fleet.Apply(RoutesWith({{"live", "r1"}, {"canary", "r2"}}), error));
  CHECK(error == "no Kubernetes config");
  CHECK(rig.fleet.versions()[0].size() == 1);
  CHECK(rig.fleet.routes().endpoints[0].versions.size() == 1);
  CHECK(rig.world.destroyed.empty());
}

TEST_CASE("fleet: an empty routes file runs nothing") {
  Rig rig;
  REQUIRE(rig.Apply(RoutesWith({{"live", "r1"}})));
  Routes empty = *ParseRoutes("format: 1\nlisten: {http: 0}\nendpoints: []\n", "r").routes;
  REQUIRE(rig.Apply(empty));
  CHECK(rig.fleet.versions().empty());
  CHECK(rig.world.destroyed == std::vector<std::string>{"live@r1"});
}

TEST_CASE("status: the document's exact format, keys sorted") {
  Rig rig;
  REQUIRE(rig.Apply(RoutesWith({{"live", "r1"}}, 1)));
  rig.world.ready["r1"] = 1;
  RouterStatus status;
  status.pid = 123;
  status.port = 41817;
  status.routes_sha256 = "ab";
  status.reloads = 2;
  status.reload_error = "r.yaml:1:1: bad\nr.yaml:2:1: worse";
  CHECK(StatusDocument(status, rig.fleet) ==
        "{\"endpoints\": [{\"name\": \"e\", \"path\": \"/e/score\", \"versions\": [{\"default\": "
        "true, \"desired\": 1, \"name\": \"live\", \"previous_revision\": \"\", \"ready\": 1, "
        "\"replicas\": [{\"log\": \"\", \"pid\": 0, \"port\": 4000, \"ready\": true, \"slot\": "
        "0}], \"revision\": \"r1\", \"role\": \"control\", \"weight\": 100.0}]}], \"format\": 1, "
        "\"pid\": 123, \"port\": 41817, \"reload_error\": \"r.yaml:1:1: bad\\nr.yaml:2:1: "
        "worse\", \"reloads\": 2, \"routes_sha256\": \"ab\", \"tls_port\": 0}\n");
  // While rolling: the routes' revision, its counts, and the one still serving.
  REQUIRE(rig.Apply(RoutesWith({{"live", "r2"}}, 1)));
  const std::string rolling = StatusDocument(status, rig.fleet);
  CHECK(rolling.find("\"desired\": 1, \"name\": \"live\", \"previous_revision\": \"r1\", "
                     "\"ready\": 0, \"replicas\": [{\"log\": \"\", \"pid\": 0, \"port\": 4000, "
                     "\"ready\": false, \"slot\": 0}], \"revision\": \"r2\"") != std::string::npos);
}

}  // namespace
}  // namespace ferry::router

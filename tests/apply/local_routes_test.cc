// routes.yaml as a pure function of the recorded state, and status.json read
// back: no processes here (local_executor_test.cc runs the real router).
#include "compiler/apply/local_routes.h"

#include <doctest/doctest.h>

#include <string>

#include "compiler/support/sha256.h"

namespace ferry::apply {
namespace {

auto Entry(std::string address, plan::Attributes attributes,
           std::map<std::string, std::string, std::less<>> live = {}) -> plan::ResourceState {
  plan::ResourceState entry;
  entry.type = address.substr(0, address.find('.'));
  entry.address = std::move(address);
  entry.hash = "h";
  entry.attributes = std::move(attributes);
  entry.live = std::move(live);
  return entry;
}

auto VersionEntry(const std::string& address, const std::string& sha256) -> plan::ResourceState {
  return Entry(address, {{"bundle", "\"" + sha256 + "\""},
                         {"role", "\"control\""},
                         {"timeout_ms", "60000"},
                         {"args[0]", "\"--auth\""},
                         {"args[1]", "\"none\""},
                         {"args[2]", "\"--collect-dir\""},
                         {"args[3]", "\".ferry/collect/faq/a\""},
                         {"autoscale.enabled", "true"},
                         {"autoscale.min_replicas", "1"},
                         {"autoscale.max_replicas", "3"},
                         {"autoscale.target_utilization", "70"},
                         {"autoscale.max_concurrent_requests_per_replica", "1"}});
}

// The argument part of VersionEntry's revisions, spelled out.
auto ArgsDigest() -> std::string {
  return support::Sha256Hex(
             "args[0]=\"--auth\"\nargs[1]=\"none\"\nargs[2]=\"--collect-dir\"\n"
             "args[3]=\".ferry/collect/faq/a\"\n")
      .substr(0, 12);
}

const LocalLayout kLayout{"/p", "/p/.ferry/secrets", "/cache"};

// One endpoint, two versions, key auth, the router and a bundle record.
auto FaqState() -> plan::State {
  plan::State state;
  state.Put(Entry("router",
                  {{"host", "\"127.0.0.1\""},
                   {"autoscaler.enabled", "true"},
                   {"autoscaler.scale_up_seconds", "1"},
                   {"autoscaler.scale_down_seconds", "60"}},
                  {{"pid", "10"}, {"port", "41817"}}));
  state.Put(Entry("bundle.faq.a", {{"sha256", "\"aaa\""}, {"directory", "\"bundles/faq-a\""}},
                  {{"path", "/elsewhere/bundles/aaa"}}));
  state.Put(VersionEntry("version.faq.a", "aaa"));
  state.Put(VersionEntry("version.faq.b", "bbb"));
  state.Put(Entry("secret.faq", {{"mode", "\"key\""}}));
  state.Put(Entry("traffic.faq", {{"path", "\"/api/v1/service/faq/score\""},
                                  {"auth.mode", "\"key\""},
                                  {"versions.a.weight", "20.0"},
                                  {"versions.a.default", "false"},
                                  {"versions.a.role", "\"treatment\""},
                                  {"versions.b.weight", "80.0"},
                                  {"versions.b.default", "true"},
                                  {"versions.b.role", "\"control\""}}));
  return state;
}

constexpr std::string_view kHeader =
    "# Written by ferry apply from .ferry/state.json; edits are overwritten.\n";

TEST_CASE("local routes: every recorded version runs its cached bundle at the recorded weight") {
  const std::string routes = RenderLocalRoutes(FaqState(), kLayout);
  CHECK(routes == std::string(kHeader) +
                      "autoscaler:\n"
                      "  enabled: true\n"
                      "  scale_down_seconds: 60\n"
                      "  scale_up_seconds: 1\n"
                      "endpoints:\n"
                      "- auth:\n"
                      "    directory: /p/.ferry/secrets/faq\n"
                      "    mode: key\n"
                      "  name: faq\n"
                      "  path: /api/v1/service/faq/score\n"
                      "  versions:\n"
                      "  - autoscale:\n"
                      "      enabled: true\n"
                      "      max_concurrent_requests_per_replica: 1\n"
                      "      max_replicas: 3\n"
                      "      min_replicas: 1\n"
                      "      target_utilization: 70\n"
                      "    default: false\n"
                      "    local:\n"
                      "      command:\n"
                      "      - /elsewhere/bundles/aaa/bin/serve\n"
                      "      - \"--auth\"\n"
                      "      - none\n"
                      "      - \"--collect-dir\"\n"
                      "      - /p/.ferry/collect/faq/a\n"
                      "      revision: aaa-" + ArgsDigest() + "\n"
                      "      working_directory: /elsewhere/bundles/aaa\n"
                      "    name: a\n"
                      "    role: treatment\n"
                      "    timeout_ms: 60000\n"
                      "    weight: 20.0\n"
                      "  - autoscale:\n"
                      "      enabled: true\n"
                      "      max_concurrent_requests_per_replica: 1\n"
                      "      max_replicas: 3\n"
                      "      min_replicas: 1\n"
                      "      target_utilization: 70\n"
                      "    default: true\n"
                      "    local:\n"
                      "      command:\n"
                      "      - /cache/bundles/bbb/bin/serve\n"
                      "      - \"--auth\"\n"
                      "      - none\n"
                      "      - \"--collect-dir\"\n"
                      "      - /p/.ferry/collect/faq/a\n"
                      "      revision: bbb-" + ArgsDigest() + "\n"
                      "      working_directory: /cache/bundles/bbb\n"
                      "    name: b\n"
                      "    role: control\n"
                      "    timeout_ms: 60000\n"
                      "    weight: 80.0\n"
                      "format: 1\n"
                      "listen:\n"
                      "  http: 0\n");
  // A pure function: the same state gives the same bytes.
  CHECK(RenderLocalRoutes(FaqState(), kLayout) == routes);
}

TEST_CASE("local routes: a version the recorded traffic does not name gets weight 0") {
  plan::State state = FaqState();
  state.Put(VersionEntry("version.faq.c", "ccc"));
  const std::string routes = RenderLocalRoutes(state, kLayout);
  const std::size_t c = routes.find("    name: c\n");
  REQUIRE(c != std::string::npos);
  CHECK(routes.find("    weight: 0.0\n", c) != std::string::npos);
  CHECK(routes.find("    weight: 20.0\n") != std::string::npos);
  CHECK(routes.find("    weight: 80.0\n") != std::string::npos);
}

TEST_CASE("local routes: an endpoint without recorded traffic serves nothing yet") {
  plan::State state;
  state.Put(VersionEntry("version.new.v1", "abc"));
  const std::string routes = RenderLocalRoutes(state, kLayout);
  CHECK(routes.find("    weight: 0.0\n") != std::string::npos);
  CHECK(routes.find("    default: false\n") != std::string::npos);
  CHECK(routes.find("    mode: none\n") != std::string::npos);
  CHECK(routes.find("    directory: ") == std::string::npos);
  // No router record: the autoscaler stays off.
  CHECK(routes.find("  enabled: false\n  scale_down_seconds: 60\n") != std::string::npos);
}

TEST_CASE("local routes: an empty state routes nothing") {
  CHECK(RenderLocalRoutes(plan::State{}, kLayout) ==
        std::string(kHeader) +
            "autoscaler:\n  enabled: false\n  scale_down_seconds: 60\n  scale_up_seconds: 1\n"
            "endpoints: []\nformat: 1\nlisten:\n  http: 0\n");
}

TEST_CASE("local routes: a split missing a version keeps the others' proportions") {
  plan::State state = FaqState();
  state.Remove("version.faq.b");
  const std::string routes = RenderLocalRoutes(state, kLayout);
  // a had 20 of the recorded 100; alone it gets everything rather than a refused file.
  CHECK(routes.find("    weight: 100.0\n") != std::string::npos);
}

TEST_CASE("local routes: the state after an action has its entry put or removed") {
  plan::Action create;
  create.kind = plan::ActionKind::Create;
  create.address = "version.faq.c";
  create.type = "version";
  plan::Resource desired;
  desired.address = create.address;
  desired.type = "version";
  desired.hash = "hc";
  desired.attributes = {{"bundle", "\"ccc\""}};
  create.desired = desired;
  const plan::State after = StateAfter(FaqState(), create, {{"revision", "ccc"}});
  const plan::ResourceState* entry = after.Find("version.faq.c");
  REQUIRE(entry != nullptr);
  CHECK(entry->hash == "hc");
  CHECK(entry->live.at("revision") == "ccc");
  CHECK(RenderLocalRoutes(after, kLayout).find("revision: ccc") != std::string::npos);

  plan::Action remove;
  remove.kind = plan::ActionKind::Delete;
  remove.address = "traffic.faq";
  remove.type = "traffic";
  const plan::State without = StateAfter(FaqState(), remove, {});
  CHECK(without.Find("traffic.faq") == nullptr);
  CHECK(RenderLocalRoutes(without, kLayout).find("weight: 20.0") == std::string::npos);
}

TEST_CASE("local routes: attributes read as JSON scalars") {
  const plan::Attributes attributes{{"s", "\"x\""}, {"n", "2.5"}, {"b", "true"}, {"bad", "{"}};
  CHECK(StringAttribute(attributes, "s") == "x");
  CHECK(NumberAttribute(attributes, "n") == 2.5);
  CHECK(BoolAttribute(attributes, "b") == true);
  CHECK_FALSE(StringAttribute(attributes, "n").has_value());
  CHECK_FALSE(NumberAttribute(attributes, "bad").has_value());
  CHECK_FALSE(BoolAttribute(attributes, "missing").has_value());
  CHECK(SplitAddress("version.faq.live") == std::pair<std::string, std::string>{"faq", "live"});
  CHECK(SplitAddress("traffic.faq") == std::pair<std::string, std::string>{"faq", ""});
}

TEST_CASE("local routes: the router status: status.json reads back; other text is an error") {
  const std::string text = R"({"format": 1, "pid": 123, "port": 41817, "tls_port": 0,
    "routes_sha256": "abc", "reload_error": "", "reloads": 2,
    "endpoints": [{"name": "faq", "path": "/api/v1/service/faq/score", "versions": [
      {"name": "live", "weight": 100.0, "default": true, "role": "control", "revision": "r2",
       "previous_revision": "r1", "desired": 1, "ready": 1,
       "replicas": [{"slot": 0, "pid": 4242, "port": 40001, "ready": true,
                     "log": "/p/.ferry/logs/faq-live-0.log"}]}]}]})";
  std::string error;
  const std::optional<RouterStatus> status = ParseRouterStatus(text, error);
  REQUIRE(status.has_value());
  CHECK(status->pid == 123);
  CHECK(status->port == 41817);
  CHECK(status->routes_sha256 == "abc");
  CHECK(status->reloads == 2);
  REQUIRE(status->Find("faq") != nullptr);
  const VersionInfo* live = status->Find("faq")->Find("live");
  REQUIRE(live != nullptr);
  CHECK(live->weight == 100.0);
  CHECK(live->previous_revision == "r1");
  REQUIRE(live->replicas.size() == 1);
  CHECK(live->replicas[0].pid == 4242);
  CHECK(live->replicas[0].log == "/p/.ferry/logs/faq-live-0.log");
  CHECK(status->Find("other") == nullptr);

  CHECK_FALSE(ParseRouterStatus("{\"pid\": ", error).has_value());
  CHECK(error == "the router's status file is not JSON");
  CHECK_FALSE(ParseRouterStatus("{\"pid\": \"x\"}", error).has_value());
  CHECK(error.starts_with("the router's status file is not as expected"));
}

}  // namespace
}  // namespace ferry::apply

namespace ferry::apply {
namespace {

TEST_CASE("local routes: a version's revision changes with its bundle or its serve arguments only") {
  const plan::ResourceState base = VersionEntry("version.faq.a", "aaa");
  const std::string revision = VersionRevision(base.attributes);
  CHECK(revision == "aaa-" + ArgsDigest());

  plan::Attributes other_bundle = base.attributes;
  other_bundle["bundle"] = "\"ccc\"";
  CHECK(VersionRevision(other_bundle).starts_with("ccc-"));

  plan::Attributes longer_timeout = base.attributes;
  longer_timeout["args[3]"] = "\".ferry/collect/faq/b\"";
  CHECK(VersionRevision(longer_timeout) != revision);
  CHECK(VersionRevision(longer_timeout).starts_with("aaa-"));

  // Autoscaling and traffic are the router's business: no new replicas for them.
  plan::Attributes more_replicas = base.attributes;
  more_replicas["autoscale.max_replicas"] = "8";
  more_replicas["role"] = "\"treatment\"";
  CHECK(VersionRevision(more_replicas) == revision);
}

}  // namespace
}  // namespace ferry::apply

#include <doctest/doctest.h>

#include "tests/check/check_fixture.h"

namespace ferry::check {
namespace {

using testing::MakeVersion;
using testing::Run;
using testing::ValidProject;
using Lines = std::vector<std::string>;

// ValidProject's endpoint with versions a (default), b and c; each version's
// fields sit on lines 41.. (model, traffic, role, default), shifted by 10 per version.
auto ThreeVersions(double a, double b, double c) -> ir::Project {
  ir::Project project = ValidProject();
  ir::Endpoint& endpoint = project.endpoints[0];
  endpoint.versions[0].traffic = a;
  endpoint.versions.push_back(MakeVersion("faq", "b", b));
  endpoint.versions.push_back(MakeVersion("faq", "c", c));
  for (std::size_t i = 0; i < endpoint.versions.size(); ++i) {
    for (auto& [name, location] : endpoint.versions[i].origin.fields) {
      location.line += static_cast<std::uint32_t>(10 * i);
    }
    endpoint.versions[i].origin.location.line += static_cast<std::uint32_t>(10 * i);
  }
  return project;
}

TEST_CASE("E0203: each extra control at its role, with a note at the first") {
  ir::Project project = ThreeVersions(20, 10, 0);
  for (ir::Version& version : project.endpoints[0].versions) version.role = ir::Role::Control;
  CHECK(Run(project) ==
        Lines{"53:5: E0203 endpoints.faq.versions.b.role: endpoint 'faq' has 3 control versions "
              "('a', 'b', 'c'); at most one is allowed; make 'b' a treatment",
              "  43:5: note: first control version 'a' declared here",
              "63:5: E0203 endpoints.faq.versions.c.role: endpoint 'faq' has 3 control versions "
              "('a', 'b', 'c'); at most one is allowed; make 'c' a treatment",
              "  43:5: note: first control version 'a' declared here"});
}

TEST_CASE("E0204: two defaults") {
  ir::Project project = ThreeVersions(20, 10, 0);
  project.endpoints[0].versions[2].is_default = true;
  CHECK(Run(project) ==
        Lines{"64:5: E0204 endpoints.faq.versions.c.default: endpoint 'faq' has 2 default "
              "versions ('a', 'c'); at most one is allowed; remove default: true from 'c'",
              "  44:5: note: first default version 'a' declared here"});
}

TEST_CASE("E0205: the sum over 100, at versions, with one note per share") {
  ir::Project project = ThreeVersions(60, 50, 0);
  CHECK(Run(project) ==
        Lines{"34:5: E0205 endpoints.faq.versions: the traffic of endpoint 'faq' adds up to 110%, "
              "more than 100; lower the versions' shares (the default version gets what is left "
              "of 100)",
              "  42:5: note: version 'a' takes 60%", "  52:5: note: version 'b' takes 50%"});
  // Shares that are not whole numbers add up without rounding noise.
  CHECK(Run(ThreeVersions(33.3, 33.3, 33.4)) == Lines{});
}

TEST_CASE("E0210: a share outside 0..100, and no E0205 on top") {
  CHECK(Run(ThreeVersions(120, -5, 0)) ==
        Lines{"42:5: E0210 endpoints.faq.versions.a.traffic: version 'a' of endpoint 'faq' has "
              "traffic 120%, outside 0..100",
              "52:5: E0210 endpoints.faq.versions.b.traffic: version 'b' of endpoint 'faq' has "
              "traffic -5%, outside 0..100"});
}

TEST_CASE("E0206: more than 6 versions, at the 7th") {
  ir::Project project = ValidProject();
  for (const char* name : {"b", "c", "d", "e", "f", "g", "h"}) {
    project.endpoints[0].versions.push_back(MakeVersion("faq", name, 0));
  }
  CHECK(Run(project) ==
        Lines{"40:3: E0206 endpoints.faq.versions.g: endpoint 'faq' has 8 versions, more than the "
              "6 an endpoint can hold; remove 2 or split them over several endpoints"});
}

TEST_CASE("E0211 and E0212: too many models, and one twice") {
  ir::Project project = ValidProject();
  ir::Version& version = project.endpoints[0].versions[0];
  version.origin.fields["models"] = {"ferry.yaml", 45, 17, 0};
  version.models.push_back({"faq-ranker@3", 0, 0, {"ferry.yaml", 46, 9, 0}});
  CHECK(Run(project) ==
        Lines{"46:9: E0212 endpoints.faq.versions.a.models: version 'a' of endpoint 'faq' lists "
              "'faq-ranker@3' twice; remove the repeat",
              "  41:12: note: first listed here"});
  // Unresolved references were reported already and are not compared.
  version.models.back().version = ir::kNone;
  version.models.front().version = ir::kNone;
  version.models.resize(1001, version.models.back());
  CHECK(Run(project) ==
        Lines{"45:17: E0211 endpoints.faq.versions.a.models: version 'a' of endpoint 'faq' "
              "deploys 1001 models, more than the 1000 one deployment can serve; split them over "
              "several versions or endpoints"});
}

TEST_CASE("W0305: a declared autoscaler on a DEV_TEST cluster") {
  ir::Project project = ValidProject();
  project.clusters[0].purpose = ir::Purpose::DevTest;
  project.clusters[0].agent_count = 1;
  // The default autoscaler is simply off there.
  CHECK(Run(project) == Lines{});
  project.endpoints[0].versions[0].origin.fields["autoscale"] = {"ferry.yaml", 47, 20, 0};
  CHECK(Run(project) ==
        Lines{"47:20: W0305 endpoints.faq.versions.a.autoscale: version 'a' of endpoint 'faq' "
              "enables autoscaling, but cluster 'prod' is DEV_TEST, where the autoscaler is "
              "disabled; remove autoscale or deploy to a FAST_PROD cluster"});
  project.endpoints[0].versions[0].autoscale.enabled = false;
  CHECK(Run(project) == Lines{});
}

}  // namespace
}  // namespace ferry::check

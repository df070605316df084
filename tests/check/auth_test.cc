#include <doctest/doctest.h>

#include "tests/check/check_fixture.h"

namespace ferry::check {
namespace {

using testing::Run;
using testing::ValidProject;
using Lines = std::vector<std::string>;

TEST_CASE("E0401: key and token together") {
  ir::Project project = ValidProject();
  project.endpoints[0].auth = {.key = true, .token = true};
  CHECK(Run(project) ==
        Lines{"33:5: E0401 endpoints.faq.auth: endpoint 'faq' enables both key and token "
              "authentication; they are alternatives, so choose one (auth: key or auth: token)"});
}

TEST_CASE("E0402: token auth across regions, with a note at the cluster's region") {
  ir::Project project = ValidProject();
  project.endpoints[0].auth = {.key = false, .token = true};
  CHECK(Run(project) == Lines{});
  project.clusters[0].region = "eastus";
  CHECK(Run(project) ==
        Lines{"33:5: E0402 endpoints.faq.auth: endpoint 'faq' uses token authentication, but its "
              "cluster 'prod' is in eastus and the workspace in westeurope; tokens are issued by "
              "the workspace's region, so put both in one region or use key authentication",
              "  24:5: note: the region of cluster 'prod' is set here"});
  // Key auth does not depend on the region.
  project.endpoints[0].auth = {.key = true, .token = false};
  CHECK(Run(project) == Lines{});
}

TEST_CASE("W0403: no auth on FAST_PROD, fine on DEV_TEST") {
  ir::Project project = ValidProject();
  project.endpoints[0].auth = {.key = false, .token = false};
  CHECK(Run(project) ==
        Lines{"33:5: W0403 endpoints.faq.auth: endpoint 'faq' turns authentication off on "
              "FAST_PROD cluster 'prod', so anyone who reaches it can score; use auth: key or "
              "auth: token"});
  project.clusters[0].purpose = ir::Purpose::DevTest;
  project.clusters[0].agent_count = 1;
  CHECK(Run(project) == Lines{});
}

}  // namespace
}  // namespace ferry::check

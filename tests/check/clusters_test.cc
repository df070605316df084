#include <doctest/doctest.h>

#include "tests/check/check_fixture.h"

namespace ferry::check {
namespace {

using testing::MakeCluster;
using testing::Run;
using testing::ValidProject;
using Lines = std::vector<std::string>;

TEST_CASE("a valid project has no cluster diagnostics") { CHECK(Run(ValidProject()) == Lines{}); }

TEST_CASE("E0301: an unknown VM size, with a suggestion") {
  ir::Project project = ValidProject();
  project.clusters[0].vm_size = "Standard_D3v2";
  CHECK(Run(project) ==
        Lines{"21:5: E0301 clusters.prod.vm_size: cluster 'prod' uses VM size 'Standard_D3v2', "
              "which is not in the catalog; did you mean 'Standard_D3_v2'?"});
}

TEST_CASE("E0301: an unknown VM size far from any, and nothing follows from it") {
  ir::Project project = ValidProject();
  project.clusters[0].vm_size = "m5.xlarge";
  project.clusters[0].agent_count = 1;
  CHECK(Run(project) ==
        Lines{"21:5: E0301 clusters.prod.vm_size: cluster 'prod' uses VM size 'm5.xlarge', which "
              "is not in the catalog; see stdlib/catalog/vm_sizes.yaml for the known sizes"});
}

TEST_CASE("E0302: a FAST_PROD cluster below 12 vCPUs gives the arithmetic and the fix") {
  ir::Project project = ValidProject();
  project.clusters[0].agent_count = 2;
  CHECK(Run(project) ==
        Lines{"22:5: E0302 clusters.prod.agent_count: cluster 'prod' is FAST_PROD with 2 × "
              "Standard_D3_v2 (4 vCPUs) = 8 vCPUs, fewer than the 12 required; use agent_count ≥ "
              "3 or a larger VM size"});
  project.clusters[0].vm_size = "Standard_D2_v2";
  project.clusters[0].agent_count = 5;
  CHECK(Run(project) ==
        Lines{"22:5: E0302 clusters.prod.agent_count: cluster 'prod' is FAST_PROD with 5 × "
              "Standard_D2_v2 (2 vCPUs) = 10 vCPUs, fewer than the 12 required; use agent_count ≥ "
              "6 or a larger VM size"});
  project.clusters[0].agent_count = 6;
  CHECK(Run(project) == Lines{});
}

TEST_CASE("W0303 and E0304: DEV_TEST clusters") {
  ir::Project project = ValidProject();
  ir::Cluster& cluster = project.clusters[0];
  cluster.purpose = ir::Purpose::DevTest;
  cluster.vm_size = "Standard_D1_v2";
  CHECK(Run(project) ==
        Lines{"21:5: W0303 clusters.prod.vm_size: cluster 'prod' is DEV_TEST with 1 vCPU in total "
              "(1 × Standard_D1_v2); at least 2 are recommended; use a larger VM size",
              "22:5: E0304 clusters.prod.agent_count: cluster 'prod' is DEV_TEST and created by "
              "ferry, so it has one node, but agent_count is 3; set agent_count: 1 or attach an "
              "existing cluster"});
  // An attached DEV_TEST cluster keeps its nodes.
  cluster.attach = "/subscriptions/0/dev";
  CHECK(Run(project) == Lines{});
  cluster.attach.reset();
  cluster.agent_count = 1;
  cluster.vm_size = "Standard_D2_v2";
  CHECK(Run(project) == Lines{});
}

TEST_CASE("E0306: the Kubernetes version against the range for creating or attaching") {
  ir::Project project = ValidProject();
  ir::Cluster& cluster = project.clusters[0];
  cluster.kubernetes_version = "1.13.5";
  CHECK(Run(project) ==
        Lines{"23:5: E0306 clusters.prod.kubernetes_version: cluster 'prod' has Kubernetes "
              "1.13.5, outside 1.14 .. 1.32, the range supported for created 'aks' clusters "
              "[source: AKS supported versions, ferry 0.1]; use a version in that range"});
  cluster.kubernetes_version = "1.18";
  cluster.attach = "/subscriptions/0/prod";
  CHECK(Run(project) ==
        Lines{"23:5: E0306 clusters.prod.kubernetes_version: cluster 'prod' has Kubernetes 1.18, "
              "outside 1.12 .. 1.17, the range supported for attached 'aks' clusters "
              "[source: seed 000 (2020-01)]; use a version in that range"});
  cluster.kubernetes_version = "v1.17.9";
  CHECK(Run(project) == Lines{});
  // Not a version at all: the schema's job.
  cluster.kubernetes_version = "latest";
  CHECK(Run(project) == Lines{});
}

TEST_CASE("E0307: the same cluster attached twice, with a note at the first") {
  ir::Project project = ValidProject();
  project.clusters[0].attach = "/subscriptions/0/resourceGroups/ml/managedClusters/prod";
  project.clusters[0].origin.fields["attach"] = {"ferry.yaml", 25, 13, 0};
  ir::Cluster second = MakeCluster("again", "Standard_D3_v2", 3);
  second.attach = "/Subscriptions/0/resourceGroups/ML/managedClusters/prod";
  second.origin.fields["attach"] = {"ferry.yaml", 35, 13, 0};
  project.clusters.push_back(second);
  CHECK(Run(project) ==
        Lines{"35:13: E0307 clusters.again.attach: cluster 'again' attaches the same cluster as "
              "'prod'; each new attachment breaks the previous one, so declare it once",
              "  25:13: note: cluster 'prod' attaches it here"});
  // A detached cluster no longer holds the attachment.
  project.clusters[1].detached = true;
  CHECK(Run(project) == Lines{});
}

TEST_CASE("E0309: an endpoint on a detached cluster") {
  ir::Project project = ValidProject();
  project.clusters[0].detached = true;
  project.clusters[0].origin.fields["detached"] = {"ferry.yaml", 26, 15, 0};
  CHECK(Run(project) ==
        Lines{"31:5: E0309 endpoints.faq.cluster: endpoint 'faq' is deployed to cluster 'prod', "
              "which is detached; deploy it to an attached cluster or attach 'prod' again",
              "  26:15: note: cluster 'prod' is detached here"});
}

TEST_CASE("an unresolved cluster reference is skipped") {
  ir::Project project = ValidProject();
  project.endpoints[0].cluster = ir::kNone;
  project.clusters[0].detached = true;
  CHECK(Run(project) == Lines{});
}

}  // namespace
}  // namespace ferry::check

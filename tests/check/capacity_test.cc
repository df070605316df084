#include <doctest/doctest.h>

#include "tests/check/check_fixture.h"

namespace ferry::check {
namespace {

using testing::MakeVersion;
using testing::Run;
using testing::ValidProject;
using Lines = std::vector<std::string>;

TEST_CASE("E0501: requests that are not positive, at the nested field") {
  ir::Project project = ValidProject();
  ir::Version& version = project.endpoints[0].versions[0];
  version.origin.fields["resources"] = {"ferry.yaml", 48, 20, 0};
  version.origin.fields["resources.cpu"] = {"ferry.yaml", 48, 26, 0};
  version.resources.cpu = 0;
  version.resources.memory_gb = -1;
  CHECK(Run(project) ==
        Lines{"48:20: E0501 endpoints.faq.versions.a.resources.memory_gb: version 'a' of endpoint "
              "'faq' asks for -1 GB of memory per replica; it must be positive",
              "48:26: E0501 endpoints.faq.versions.a.resources.cpu: version 'a' of endpoint 'faq' "
              "asks for 0 CPU cores per replica; it must be positive"});
}

TEST_CASE("E0502: a replica larger than a node, naming the VM size and its figures") {
  ir::Project project = ValidProject();
  project.clusters[0].agent_count = 10;
  ir::Version& version = project.endpoints[0].versions[0];
  version.resources.cpu = 4.5;
  version.resources.memory_gb = 16;
  CHECK(Run(project) ==
        // Same place and code: sorted by message.
        Lines{"40:3: E0502 endpoints.faq.versions.a.resources.memory_gb: version 'a' of endpoint "
              "'faq' asks for 16 GB of memory per replica, more than one node of cluster 'prod' "
              "has (Standard_D3_v2: 4 vCPUs, 14 GB); ask for less or use a larger VM size",
              "40:3: E0502 endpoints.faq.versions.a.resources.cpu: version 'a' of endpoint 'faq' "
              "asks for 4.5 CPU cores per replica, more than one node of cluster 'prod' has "
              "(Standard_D3_v2: 4 vCPUs, 14 GB); ask for less or use a larger VM size"});
  version.resources.cpu = 4;
  version.resources.memory_gb = 14;
  CHECK(Run(project) == Lines{});
}

TEST_CASE("E0507: more GPUs than a node has") {
  ir::Project project = ValidProject();
  project.clusters[0].vm_size = "Standard_NC12";
  project.endpoints[0].target = ir::Target::Gpu;
  project.endpoints[0].versions[0].resources.gpu = 2;
  CHECK(Run(project) == Lines{});
  project.endpoints[0].versions[0].resources.gpu = 3;
  CHECK(Run(project) ==
        Lines{"40:3: E0507 endpoints.faq.versions.a.resources.gpu: version 'a' of endpoint 'faq' "
              "asks for 3 GPUs per replica, more than one node of cluster 'prod' has "
              "(Standard_NC12: 12 vCPUs, 112 GB, 2 K80 GPUs); ask for fewer GPUs or use a VM size "
              "with more"});
}

TEST_CASE("E0503, E0504, E0505: autoscaler settings") {
  ir::Project project = ValidProject();
  ir::Version& version = project.endpoints[0].versions[0];
  version.origin.fields["autoscale"] = {"ferry.yaml", 49, 20, 0};
  version.origin.fields["hpa"] = {"ferry.yaml", 50, 14, 0};
  version.autoscale.min_replicas = 5;
  version.autoscale.max_replicas = 2;
  version.autoscale.target_utilization = 0;
  version.hpa.enabled = true;
  project.clusters[0].agent_count = 10;
  CHECK(Run(project) ==
        Lines{"49:20: E0503 endpoints.faq.versions.a.autoscale.min_replicas: version 'a' of "
              "endpoint 'faq' has autoscale min_replicas 5, greater than max_replicas 2; raise "
              "max_replicas or lower min_replicas",
              "49:20: E0504 endpoints.faq.versions.a.autoscale.target_utilization: version 'a' of "
              "endpoint 'faq' has autoscale target_utilization 0, outside 1..100 (the default is "
              "70)",
              "50:14: E0505 endpoints.faq.versions.a.hpa: version 'a' of endpoint 'faq' enables "
              "both ferry's autoscaler and a Kubernetes HPA, which would fight over the replica "
              "count; set autoscale: {enabled: false} or remove hpa"});
}

TEST_CASE("W0506: the minimum replicas of all versions on a cluster exceed its vCPUs") {
  ir::Project project = ValidProject();
  ir::Endpoint& endpoint = project.endpoints[0];
  endpoint.versions[0].resources.cpu = 2;
  endpoint.versions[0].autoscale.min_replicas = 4;
  endpoint.versions.push_back(MakeVersion("faq", "b", 0));
  endpoint.versions[1].origin.location.line = 50;
  endpoint.versions[1].resources.cpu = 1.5;
  endpoint.versions[1].autoscale.enabled = false;
  endpoint.versions[1].replicas = 3;
  CHECK(Run(project) ==
        Lines{"22:5: W0506 clusters.prod.agent_count: cluster 'prod' has 12 vCPUs (3 × "
              "Standard_D3_v2), but its versions need 12.5 cores at their minimum replicas; add "
              "nodes, use a larger VM size or lower the requests",
              "  40:3: note: version 'a' of endpoint 'faq' needs 4 × 2 cores = 8",
              "  50:3: note: version 'b' of endpoint 'faq' needs 3 × 1.5 cores = 4.5"});
  endpoint.versions[1].replicas = 2;
  CHECK(Run(project) == Lines{});
  // A replica larger than a node is E0502 alone, not also counted here.
  endpoint.versions[1].replicas = 3;
  endpoint.versions[0].resources.cpu = 5;
  endpoint.versions[0].resources.memory_gb = 1;
  CHECK(Run(project) ==
        Lines{"40:3: E0502 endpoints.faq.versions.a.resources.cpu: version 'a' of endpoint 'faq' "
              "asks for 5 CPU cores per replica, more than one node of cluster 'prod' has "
              "(Standard_D3_v2: 4 vCPUs, 14 GB); ask for less or use a larger VM size"});
}

}  // namespace
}  // namespace ferry::check

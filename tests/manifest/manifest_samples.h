// The complete example of docs/manifest.md, shared by the manifest tests.
// The doc abbreviates the digests ("5f0c...e1"); here they are full length.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

namespace doctest {
// Shows both sides of a failed comparison, one diagnostic per line.
template <>
struct StringMaker<std::vector<std::string>> {
  static auto convert(const std::vector<std::string>& lines) -> String {
    std::string out = "\n";
    for (const std::string& line : lines) out += "  " + line + "\n";
    return out.c_str();
  }
};
}  // namespace doctest

namespace ferry::manifest::testing {

inline constexpr std::string_view kFullManifest = R"(ferry: 1
project: faq-matching
description: Rank FAQ answers for a free-text question.
workspace:
  name: contoso-ml
  region: westeurope
  registry: contoso.azurecr.io

models:
  faq-ranker:
    description: TF-IDF + logistic regression over the FAQ corpus
    tags: {framework: sklearn, task: ranking}
    versions:
      3: {path: models/faq_ranker_v3.onnx, sha256: 5f0c00000000000000000000000000000000000000000000000000000000e1e1}
      4: {path: models/faq_ranker_v4.onnx, sha256: 9a7b000000000000000000000000000000000000000000000000000000000202}

environments:
  cpu-default:
    base_image: ferry/runtime-cpu:1
    steps: ["RUN apt-get install -y libgomp1"]
    build_flags: ["-O3"]
    variables: {OMP_NUM_THREADS: "1"}
    registry:
      address: private.example.com
      username: ci-bot
      password_secret: registry-password

clusters:
  prod:
    provider: aks
    purpose: fast_prod
    vm_size: Standard_D3_v2
    agent_count: 3
    kubernetes_version: "1.16.13"
    region: westeurope
    attach: /subscriptions/0000/resourceGroups/ml/providers/Microsoft.ContainerService/managedClusters/prod-aks
    detached: false
    network: {plugin: kubenet}
    routing: router
    tls: {secret: prod-tls, redirect_http: true}

endpoints:
  faq:
    cluster: prod
    target: cpu
    auth: key
    description: FAQ matching
    scoring:
      input_sample: {data: [["how do I reset my password?"]]}
      output_sample: {outputs: {label: [12]}}
    versions:
      a:
        model: faq-ranker@3
        environment: cpu-default
        traffic: 20
        role: control
        default: true
        description: current production model
        resources: {cpu: 0.5, memory_gb: 1, gpu: 0}
        autoscale: {enabled: true, min_replicas: 1, max_replicas: 4, target_utilization: 70,
                    max_concurrent_requests_per_replica: 1}
        probes: {period_seconds: 10, initial_delay_seconds: 5, timeout_seconds: 2,
                 failure_threshold: 3, success_threshold: 1}
      b: {model: faq-ranker@4, environment: cpu-default, traffic: 10}
)";

/// A small valid manifest that tests extend by appending lines.
inline constexpr std::string_view kSmallManifest = R"(ferry: 1
project: demo
workspace: {name: ws, region: westeurope}
models:
  ranker:
    versions:
      1: {path: r.onnx, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}
clusters:
  prod: {vm_size: Standard_D3_v2, agent_count: 3, kubernetes_version: "1.16"}
endpoints:
  faq:
    cluster: prod
    versions:
      a: {model: ranker@1}
)";

}  // namespace ferry::manifest::testing

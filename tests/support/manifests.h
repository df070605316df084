// Small manifests shared by the driver and CLI tests.
#pragma once

#include <string>

#include "compiler/support/sha256.h"

namespace ferry::testing {

/// A valid project with one model file (models/faq.onnx holding
/// `model_bytes`), one FAST_PROD cluster and endpoint 'faq', whose version
/// lines are `versions` (indented six spaces). The versions start on line 15.
inline auto FaqManifest(const std::string& model_bytes, const std::string& versions)
    -> std::string {
  return "ferry: 1\n"
         "project: faq-matching\n"
         "workspace: {name: contoso-ml, region: westeurope}\n"
         "models:\n"
         "  faq-ranker:\n"
         "    versions:\n"
         "      3: {path: models/faq.onnx, sha256: " +
         support::Sha256Hex(model_bytes) +
         "}\n"
         "clusters:\n"
         "  prod: {vm_size: Standard_D3_v2, agent_count: 3, kubernetes_version: \"1.16.13\"}\n"
         "endpoints:\n"
         "  faq:\n"
         "    cluster: prod\n"
         "    versions:\n" +
         versions;
}

}  // namespace ferry::testing

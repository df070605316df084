// A valid project built in code, for the unit tests of the check rules: each
// test breaks one thing and compares the diagnostics with exact text.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "compiler/catalog/catalog.h"
#include "compiler/check/check.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"

namespace ferry::check::testing {

/// An origin at `path` on `line`; each field in `fields` is recorded on the
/// following lines, in order, at column 5.
inline auto MakeOrigin(std::string path, std::uint32_t line,
                       std::initializer_list<std::string_view> fields = {}) -> ir::Origin {
  ir::Origin origin;
  origin.location = {"ferry.yaml", line, 3, 0};
  origin.path = std::move(path);
  for (std::string_view field : fields) {
    origin.fields.emplace(std::string(field), diag::Location{"ferry.yaml", ++line, 5, 0});
  }
  return origin;
}

inline auto MakeCluster(std::string name, std::string vm_size, std::int64_t agent_count)
    -> ir::Cluster {
  ir::Cluster cluster;
  cluster.origin = MakeOrigin("clusters." + name, 20,
                              {"vm_size", "agent_count", "kubernetes_version", "region"});
  cluster.name = std::move(name);
  cluster.vm_size = std::move(vm_size);
  cluster.agent_count = agent_count;
  cluster.kubernetes_version = "1.16.13";
  cluster.region = "westeurope";
  return cluster;
}

/// Version `name` of endpoint `endpoint` deploying model 0 version 0.
inline auto MakeVersion(const std::string& endpoint, std::string name, double traffic)
    -> ir::Version {
  ir::Version version;
  version.origin = MakeOrigin("endpoints." + endpoint + ".versions." + name, 40,
                              {"model", "traffic", "role", "default"});
  version.name = std::move(name);
  version.models.push_back({"faq-ranker@3", 0, 0, {"ferry.yaml", 41, 12, 0}});
  version.traffic = traffic;
  return version;
}

inline auto MakeEndpoint(std::string name, ir::Index cluster) -> ir::Endpoint {
  ir::Endpoint endpoint;
  endpoint.origin = MakeOrigin("endpoints." + name, 30, {"cluster", "target", "auth", "versions"});
  endpoint.name = std::move(name);
  endpoint.cluster_name = "prod";
  endpoint.cluster = cluster;
  return endpoint;
}

/// A project every check accepts: model faq-ranker@3, a FAST_PROD cluster of
/// 3 × Standard_D3_v2, endpoint 'faq' with version 'a' taking all traffic.
inline auto ValidProject() -> ir::Project {
  ir::Project project;
  project.name = "faq-matching";
  project.workspace = {"contoso-ml", "westeurope", ""};
  ir::Model model;
  model.name = "faq-ranker";
  model.origin = MakeOrigin("models.faq-ranker", 5);
  ir::ModelVersion version;
  version.version = 3;
  version.path = "models/faq.onnx";
  version.sha256 = std::string(64, 'a');
  version.origin = MakeOrigin("models.faq-ranker.versions.3", 7, {"path", "sha256"});
  model.versions.push_back(version);
  project.models.push_back(model);
  project.clusters.push_back(MakeCluster("prod", "Standard_D3_v2", 3));
  ir::Endpoint endpoint = MakeEndpoint("faq", 0);
  endpoint.versions.push_back(MakeVersion("faq", "a", 100));
  endpoint.versions[0].is_default = true;
  endpoint.default_version = 0;
  project.endpoints.push_back(endpoint);
  return project;
}

/// The digests that match ValidProject's model file.
inline auto ValidDigests() -> ModelFileDigests {
  return {{"models/faq.onnx", std::string(64, 'a')}};
}

/// Each diagnostic as "line:col: code path: message", then its notes as
/// "  line:col: note: message", in the order the sink sorts them.
inline auto Run(const ir::Project& project, const ModelFileDigests& digests = ValidDigests())
    -> std::vector<std::string> {
  diag::Sink sink;
  Check(project, catalog::Catalog::Builtin(), digests, sink);
  std::vector<std::string> lines;
  for (const diag::Diagnostic& d : sink.Sorted()) {
    lines.push_back(fmt::format("{}:{}: {} {}: {}", d.location.line, d.location.column,
                                diag::Info(d.code).code, d.path, d.message));
    for (const diag::Note& note : d.notes) {
      lines.push_back(
          fmt::format("  {}:{}: note: {}", note.location.line, note.location.column, note.message));
    }
  }
  return lines;
}

}  // namespace ferry::check::testing

/// Shows the lines of a failed comparison, one per line.
template <>
struct doctest::StringMaker<std::vector<std::string>> {
  static auto convert(const std::vector<std::string>& lines) -> doctest::String {
    std::string text = "\n";
    for (const std::string& line : lines) text += "  " + line + "\n";
    return text.c_str();
  }
};

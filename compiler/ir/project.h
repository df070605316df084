// The typed project model: the manifest with defaults applied, every
// reference resolved to an index and the traffic split resolved once.
// Later stages (check, render, plan, diff) read only this.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"

namespace ferry::ir {

/// Index into one of Project's vectors; kNone when a reference did not resolve.
using Index = std::int32_t;
inline constexpr Index kNone = -1;

enum class Provider { Aks, Kubernetes, Local };
enum class Purpose { FastProd, DevTest };
enum class Target { Cpu, Gpu, Fpga };
enum class Role { Control, Treatment };
enum class NetworkPlugin { Kubenet, AzureCni };
enum class Routing { Router, Gateway };

/// Where a declaration sits: its location and manifest path, plus the
/// locations of its fields, so checks can point at the exact node.
struct Origin {
  diag::Location location;
  std::string path;
  /// Field name -> location of the field's value (only fields present in the file).
  std::map<std::string, diag::Location, std::less<>> fields;

  /// Location of `field`'s value when written, else of the declaration itself.
  auto At(std::string_view field) const -> const diag::Location&;
  /// `path` + "." + field.
  auto PathOf(std::string_view field) const -> std::string;
};

struct ModelVersion {
  std::int64_t version = 0;
  std::string path;  ///< relative to the manifest's folder
  std::string sha256;
  std::string description;
  std::map<std::string, std::string> tags;
  Origin origin;
};

struct Model {
  std::string name;
  std::string description;
  std::map<std::string, std::string> tags;
  std::vector<ModelVersion> versions;  ///< in declaration order
  Origin origin;
};

struct Registry {
  std::string address;
  std::string username;
  std::string password_secret;
};

struct Environment {
  std::string name;
  std::string base_image;  ///< empty: the built-in image of the target
  std::vector<std::string> steps;
  std::vector<std::string> build_flags;
  std::map<std::string, std::string> variables;
  std::optional<Registry> registry;
  Origin origin;
};

struct Cluster {
  std::string name;
  Provider provider = Provider::Aks;
  Purpose purpose = Purpose::FastProd;
  std::string vm_size;
  std::int64_t agent_count = 0;
  std::string kubernetes_version;
  std::string region;                 ///< defaults to the workspace region
  std::optional<std::string> attach;  ///< identifier of an existing cluster
  bool detached = false;
  NetworkPlugin network = NetworkPlugin::Kubenet;
  std::string subnet_id;
  Routing routing = Routing::Router;
  std::optional<std::string> tls_secret;
  bool tls_redirect_http = true;
  Origin origin;
};

/// A reference to one model version, as written and as resolved.
struct ModelRef {
  std::string text;  ///< "faq-ranker@3"
  Index model = kNone;
  Index version = kNone;  ///< index into Model::versions
  diag::Location location;
};

struct Resources {
  double cpu = 0.1;
  double memory_gb = 0.5;
  std::int64_t gpu = 0;
};

struct Autoscale {
  bool enabled = true;
  std::int64_t min_replicas = 1;
  std::int64_t max_replicas = 10;
  std::int64_t target_utilization = 70;
  std::int64_t max_concurrent_requests_per_replica = 1;
};

struct Hpa {
  bool enabled = false;
  std::int64_t min_replicas = 1;
  std::int64_t max_replicas = 10;
  std::int64_t cpu_utilization = 70;
};

struct Probes {
  std::int64_t period_seconds = 10;
  std::int64_t initial_delay_seconds = 5;
  std::int64_t timeout_seconds = 2;
  std::int64_t failure_threshold = 3;
  std::int64_t success_threshold = 1;
};

/// How each replica of a version serves requests (issue 8): the limits the
/// scoring server enforces and the seeds' model data collection [004].
struct Serving {
  std::int64_t max_body_bytes = 16 * 1024 * 1024;  ///< larger bodies get 413
  std::int64_t request_timeout_ms = 60000;         ///< a request running longer gets 504
  bool collect_data = false;                       ///< inputs/outputs to rotating JSONL files
};

/// Dynamic batching in the scoring server (issue 9): requests are collected up
/// to max_batch rows or max_wait_ms, then scored as one batch. On by default
/// for GPU targets, where single-request inference wastes the device.
struct Batching {
  bool enabled = false;
  std::int64_t max_batch = 32;
  double max_wait_ms = 2;
};

struct Version {
  std::string name;
  std::vector<ModelRef> models;
  Index environment = kNone;     ///< kNone: the built-in environment of the target
  std::string environment_name;  ///< as written; empty when omitted
  double traffic = 0;            ///< as declared, percent
  Role role = Role::Treatment;
  bool is_default = false;  ///< after resolution: exactly one per endpoint
  std::string description;
  Resources resources;
  Autoscale autoscale;
  Hpa hpa;
  std::int64_t replicas = 1;  ///< fixed count when no autoscaler is enabled
  Probes probes;
  Serving serving;
  Batching batching;
  /// The share of the endpoint's requests this version receives after the
  /// remainder went to the default. Valid when Endpoint::traffic_resolved.
  double resolved_traffic = 0;
  Origin origin;
};

/// The image pre-processing stage as declared (endpoint scoring.preprocess):
/// decode, resize to height x width, scale to 0..1, then (x - mean) / std per
/// channel. Zero sizes mean the model's input size; empty mean/std mean none.
struct ImageStage {
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::vector<double> mean;
  std::vector<double> std;
};

/// Pre- and post-processing stages declared on an endpoint (scoring.preprocess
/// and scoring.postprocess), compiled into the bundle. Absent declarations
/// leave the stages the code generator infers from the model.
struct Stages {
  std::optional<ImageStage> image;
  bool softmax = false;     ///< softmax over the last axis of the first float output
  std::int64_t top_k = 0;   ///< 0: none; else the k best classes with their scores
  std::string labels_path;  ///< class labels, one per line, relative to the manifest
  Origin origin;
};

struct Auth {
  bool key = true;
  bool token = false;
};

struct Endpoint {
  std::string name;
  std::string cluster_name;
  Index cluster = kNone;
  Target target = Target::Cpu;
  Auth auth;
  std::string description;
  std::string input_sample_json;   ///< canonical JSON, empty when absent
  std::string output_sample_json;  ///< canonical JSON, empty when absent
  Stages stages;
  /// Calibration rows for quantized targets (scoring.calibration: a JSON file
  /// {"data": [...]} relative to the manifest), empty when absent.
  std::string calibration_path;
  std::vector<Version> versions;   ///< in declaration order
  /// Index into versions of the default version (kNone when there are none).
  Index default_version = kNone;
  /// False when the split could not be resolved (sum over 100, bad values):
  /// outputs that need it must not be produced.
  bool traffic_resolved = false;
  Origin origin;
};

struct Workspace {
  std::string name;
  std::string region;
  std::string registry;
};

struct Project {
  std::int64_t format_version = 1;
  std::string name;
  std::string description;
  Workspace workspace;
  std::vector<Model> models;
  std::vector<Environment> environments;
  std::vector<Cluster> clusters;
  std::vector<Endpoint> endpoints;
  /// The manifest file name, as given to the loader.
  std::string manifest_file;
  Origin origin;
};

/// Names used in messages and outputs.
auto ToString(Provider value) -> std::string_view;
auto ToString(Purpose value) -> std::string_view;
auto ToString(Target value) -> std::string_view;
auto ToString(Role value) -> std::string_view;
auto ToString(Routing value) -> std::string_view;

}  // namespace ferry::ir

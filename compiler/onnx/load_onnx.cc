#include "compiler/onnx/load_onnx.h"

#include <map>
#include <queue>

#include "compiler/graph/ops.h"
#include "compiler/onnx/convert.h"

namespace ferry::onnx {
namespace {

using graph::Graph;
using graph::Node;
using graph::ValueId;

auto Range(std::int64_t low, std::int64_t high) -> std::string {
  return std::to_string(low) + " to " + std::to_string(high);
}

/// Reads the imported opsets into `graph`; false (reported) when one is out of range.
auto ReadOpsets(const ::onnx::ModelProto& model, const Reporter& reporter, Graph& graph) -> bool {
  bool ok = true;
  for (const auto& opset : model.opset_import()) {
    const std::string& domain = opset.domain();
    if (domain.empty() || domain == "ai.onnx") {
      graph.opset = opset.version();
      if (opset.version() < kMinOpset || opset.version() > kMaxOpset) {
        reporter.Error(diag::Code::kOnnxOpset, "opset_import",
                       "the model imports ONNX opset " + std::to_string(opset.version()) +
                           "; supported: " + Range(kMinOpset, kMaxOpset));
        ok = false;
      }
    } else if (domain == graph::kMlDomain) {
      graph.ml_opset = opset.version();
      if (opset.version() < kMinMlOpset || opset.version() > kMaxMlOpset) {
        reporter.Error(diag::Code::kOnnxOpset, "opset_import",
                       "the model imports ai.onnx.ml opset " + std::to_string(opset.version()) +
                           "; supported: " + Range(kMinMlOpset, kMaxMlOpset));
        ok = false;
      }
    }
    // Other domains matter only if a node uses them; that node is then unsupported.
  }
  return ok;
}

class Builder {
 public:
  Builder(const Reporter& reporter, Graph& graph) : reporter_(reporter), graph_(graph) {}

  void AddInitializers(const ::onnx::GraphProto& proto) {
    for (const auto& tensor : proto.initializer()) {
      std::string path = "initializer '" + tensor.name() + "'";
      std::optional<graph::TensorAttribute> data = ConvertTensor(tensor, reporter_, path);
      if (!data) continue;
      graph::Value value{.name = tensor.name(), .dtype = data->dtype,
                         .shape = graph::KnownShape(data->shape), .has_shape = true,
                         .constant = std::move(data->data)};
      Define(tensor.name(), std::move(value), path);
    }
    if (proto.sparse_initializer_size() > 0) {
      reporter_.Error(diag::Code::kOnnxDataType, "graph",
                      "sparse initializers are not supported");
    }
  }

  void AddInputs(const ::onnx::GraphProto& proto) {
    for (const auto& info : proto.input()) {
      // Before IR version 4, initializers were also listed as inputs.
      if (names_.contains(info.name())) continue;
      std::optional<graph::Value> value = ConvertValueInfo(info, reporter_, "graph input");
      if (!value) continue;
      if (ValueId id = Define(info.name(), std::move(*value), "graph input"); id != graph::kNoValue)
        graph_.inputs.push_back(id);
    }
  }

  /// Converts the nodes in file order; their inputs are resolved afterwards,
  /// so a file whose nodes are not sorted still loads.
  void AddNodes(const ::onnx::GraphProto& proto) {
    for (int i = 0; i < proto.node_size(); ++i) {
      const auto& node_proto = proto.node(i);
      Node node;
      node.op_type = node_proto.op_type();
      node.domain = node_proto.domain() == "ai.onnx" ? "" : node_proto.domain();
      node.name = node_proto.name().empty() ? node.op_type + "_" + std::to_string(i)
                                            : node_proto.name();
      node.fused_from = {node.name};
      if (!CheckOperator(node_proto, node)) continue;
      for (const auto& attribute : node_proto.attribute()) {
        std::optional<graph::Attribute> value =
            ConvertAttribute(attribute, reporter_, graph::NodePath(node));
        if (value) node.attributes[attribute.name()] = std::move(*value);
      }
      for (int o = 0; o < node_proto.output_size(); ++o) {
        std::string name = node_proto.output(o).empty()
                               ? node.name + ":" + std::to_string(o)
                               : node_proto.output(o);
        graph::Value output;
        output.name = name;
        node.outputs.push_back(Define(name, std::move(output), graph::NodePath(node)));
      }
      input_names_.emplace_back(node_proto.input().begin(), node_proto.input().end());
      graph_.nodes.push_back(std::move(node));
    }
  }

  void ResolveInputs() {
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      Node& node = graph_.nodes[n];
      for (const std::string& name : input_names_[n]) {
        if (name.empty()) {
          node.inputs.push_back(graph::kNoValue);
          continue;
        }
        ValueId id = Lookup(name);
        if (id == graph::kNoValue) {
          reporter_.Error(diag::Code::kOnnxCorrupt, graph::NodePath(node),
                          "reads tensor '" + name +
                              "', which no node, graph input or initializer provides");
        }
        node.inputs.push_back(id);
      }
    }
  }

  void AddOutputs(const ::onnx::GraphProto& proto) {
    for (const auto& info : proto.output()) {
      ValueId id = Lookup(info.name());
      if (id == graph::kNoValue) {
        reporter_.Error(diag::Code::kOnnxCorrupt, "graph output '" + info.name() + "'",
                        "no node, graph input or initializer provides this output");
        continue;
      }
      graph_.outputs.push_back(id);
    }
    if (proto.output_size() == 0) {
      reporter_.Error(diag::Code::kOnnxCorrupt, "graph", "the graph has no outputs");
    }
  }

  /// Orders the nodes so each comes after the producers of its inputs.
  void Sort() {
    std::vector<std::int64_t> producer(graph_.values.size(), -1);
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      for (ValueId out : graph_.nodes[n].outputs) {
        if (out != graph::kNoValue) producer[static_cast<std::size_t>(out)] = std::int64_t(n);
      }
    }
    std::vector<std::size_t> waiting(graph_.nodes.size(), 0);
    std::vector<std::vector<std::size_t>> consumers(graph_.nodes.size());
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      for (ValueId in : graph_.nodes[n].inputs) {
        if (in == graph::kNoValue || producer[static_cast<std::size_t>(in)] < 0) continue;
        ++waiting[n];
        consumers[static_cast<std::size_t>(producer[static_cast<std::size_t>(in)])].push_back(n);
      }
    }
    // Smallest file index first, so a sorted file keeps its order.
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t n = 0; n < waiting.size(); ++n) {
      if (waiting[n] == 0) ready.push(n);
    }
    std::vector<Node> sorted;
    while (!ready.empty()) {
      std::size_t n = ready.top();
      ready.pop();
      sorted.push_back(graph_.nodes[n]);
      for (std::size_t consumer : consumers[n]) {
        if (--waiting[consumer] == 0) ready.push(consumer);
      }
    }
    if (sorted.size() != graph_.nodes.size()) {
      for (std::size_t n = 0; n < waiting.size(); ++n) {
        if (waiting[n] == 0) continue;
        reporter_.Error(diag::Code::kOnnxCorrupt, graph::NodePath(graph_.nodes[n]),
                        "the node is part of a cycle");
        break;
      }
      return;
    }
    graph_.nodes = std::move(sorted);
  }

 private:
  auto CheckOperator(const ::onnx::NodeProto& proto, const Node& node) -> bool {
    const graph::OpSchema* op = graph::FindOp(node.domain, node.op_type);
    std::string path = graph::NodePath(node);
    if (op == nullptr) {
      std::string domain = node.domain.empty() ? "" : " in domain '" + node.domain + "'";
      reporter_.Error(diag::Code::kOnnxOperator, path,
                      "operator '" + node.op_type + "'" + domain +
                          " is not supported; supported: " + graph::SupportedOpList());
      return false;
    }
    if ((node.domain.empty() && graph_.opset == 0) ||
        (node.domain == graph::kMlDomain && graph_.ml_opset == 0)) {
      reporter_.Error(diag::Code::kOnnxOpset, path,
                      "the model does not import the opset of domain '" +
                          (node.domain.empty() ? std::string("ai.onnx") : node.domain) + "'");
      return false;
    }
    if (proto.input_size() < op->min_inputs || proto.input_size() > op->max_inputs ||
        proto.output_size() < op->min_outputs || proto.output_size() > op->max_outputs) {
      reporter_.Error(diag::Code::kOnnxAttribute, path,
                      "has " + std::to_string(proto.input_size()) + " inputs and " +
                          std::to_string(proto.output_size()) + " outputs; " + node.op_type +
                          " takes " + Range(op->min_inputs, op->max_inputs) + " inputs and " +
                          Range(op->min_outputs, op->max_outputs) + " outputs");
      return false;
    }
    // Only the optional inputs of Clip (min, max), Gemm (C) and Conv (B) may be omitted.
    bool may_omit = node.op_type == "Clip" || node.op_type == "Gemm" || node.op_type == "Conv";
    for (int i = 0; i < proto.input_size(); ++i) {
      if (proto.input(i).empty() && (!may_omit || i < op->min_inputs)) {
        reporter_.Error(diag::Code::kOnnxCorrupt, path,
                        "input " + std::to_string(i) + " is omitted, but it is required");
        return false;
      }
    }
    return true;
  }

  auto Define(const std::string& name, graph::Value value, const std::string& path) -> ValueId {
    if (names_.contains(name)) {
      reporter_.Error(diag::Code::kOnnxCorrupt, path,
                      "tensor '" + name + "' is defined twice (by two nodes, inputs or initializers)");
      return graph::kNoValue;
    }
    ValueId id = graph_.AddValue(std::move(value));
    names_.emplace(name, id);
    return id;
  }

  auto Lookup(const std::string& name) const -> ValueId {
    auto found = names_.find(name);
    return found == names_.end() ? graph::kNoValue : found->second;
  }

  const Reporter& reporter_;
  Graph& graph_;
  std::map<std::string, ValueId, std::less<>> names_;
  std::vector<std::vector<std::string>> input_names_;
};

}  // namespace

auto LoadOnnx(std::string_view file, std::string_view bytes, diag::Sink& sink,
              const Limits& limits) -> std::optional<graph::Graph> {
  Reporter reporter{.sink = sink, .file = std::string(file), .limits = limits};
  std::size_t errors_before = sink.Count(diag::Severity::Error);
  if (bytes.empty()) {
    reporter.Error(diag::Code::kOnnxNotAModel, "", "the file is empty");
    return std::nullopt;
  }
  if (bytes.size() > limits.max_file_bytes) {
    reporter.Error(diag::Code::kOnnxLimits, "",
                   "the file has " + std::to_string(bytes.size()) + " bytes; at most " +
                       std::to_string(limits.max_file_bytes) + " are supported");
    return std::nullopt;
  }
  ::onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    reporter.Error(diag::Code::kOnnxNotAModel, "",
                   "the file is not an ONNX protobuf message (truncated or corrupt)");
    return std::nullopt;
  }
  if (model.ir_version() <= 0 || !model.has_graph()) {
    reporter.Error(diag::Code::kOnnxNotAModel, "",
                   "the file decodes but has no ir_version or no graph; it is not an ONNX model");
    return std::nullopt;
  }
  const ::onnx::GraphProto& proto = model.graph();
  if (static_cast<std::size_t>(proto.node_size()) > limits.max_nodes) {
    reporter.Error(diag::Code::kOnnxLimits, "graph",
                   "the graph has " + std::to_string(proto.node_size()) + " nodes; at most " +
                       std::to_string(limits.max_nodes) + " are supported");
    return std::nullopt;
  }
  Graph graph;
  graph.source = std::string(file);
  graph.name = proto.name();
  for (const auto& entry : model.metadata_props()) graph.metadata[entry.key()] = entry.value();
  if (!ReadOpsets(model, reporter, graph)) return std::nullopt;

  Builder builder(reporter, graph);
  builder.AddInitializers(proto);
  builder.AddInputs(proto);
  builder.AddNodes(proto);
  if (sink.Count(diag::Severity::Error) > errors_before) return std::nullopt;
  builder.ResolveInputs();
  builder.AddOutputs(proto);
  if (sink.Count(diag::Severity::Error) > errors_before) return std::nullopt;
  builder.Sort();
  if (sink.Count(diag::Severity::Error) > errors_before) return std::nullopt;
  return graph;
}

}  // namespace ferry::onnx

// The FPGA kernel read off the optimized graph: a chain of layers from the
// first input, then a host tail. Reshapes (Flatten, Reshape, ...) move no data
// in NCHW order, so they alias their input's tensor.
#include "compiler/codegen/fpga_layers.h"

#include <map>
#include <set>

#include "compiler/codegen/generated_cpp.h"

namespace ferry::codegen::fpga {
namespace {

using graph::Node;
using graph::ValueId;

const std::set<std::string> kReshapes = {"Flatten", "Reshape", "Identity", "Squeeze", "Unsqueeze"};
const std::set<std::string> kHostTail = {"Softmax", "LogSoftmax", "TopK", "ArgMax"};

auto OnnxNote(const Node& node, const graph::Graph& graph) -> std::string {
  std::string out;
  for (const std::string& name : node.fused_from) out += (out.empty() ? "" : ", ") + name;
  if (out.empty()) out = node.name;
  out += " (" + node.op_type;
  if (node.activation != graph::Activation::kNone) {
    out += " + " + std::string(graph::ActivationName(node.activation));
  }
  (void)graph;
  return out + ")";
}

class Builder {
 public:
  Builder(const graph::Graph& graph, diag::Sink& sink) : graph_(graph), sink_(sink) {}

  auto Build() -> std::optional<LayerGraph> {
    if (graph_.inputs.size() != 1) {
      Fail(nullptr, "the FPGA kernel streams one input; the model has " +
                        std::to_string(graph_.inputs.size()));
      return std::nullopt;
    }
    current_ = graph_.inputs[0];
    if (!AddTensor(current_, current_)) return std::nullopt;
    out_.plan.input = 0;
    bool tail = false;
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      const Node& node = graph_.nodes[n];
      if (kHostTail.contains(node.op_type)) tail = true;
      if (tail) {
        if (!kHostTail.contains(node.op_type)) {
          Fail(&node,
               "runs after the host tail (Softmax, TopK, ArgMax); the FPGA kernel must "
               "end before them");
          return std::nullopt;
        }
        out_.plan.host_tail.push_back(node.name + " (" + node.op_type + ")");
        continue;
      }
      if (!Place(n, node)) return std::nullopt;
    }
    out_.plan.output = tensor_of_.at(current_);
    for (ValueId id : graph_.outputs) {
      if (tensor_of_.contains(id) && id != current_) {
        Fail(nullptr, "graph output '" + graph_.value(id).name +
                          "' is an intermediate tensor of the kernel; the kernel has one output "
                          "stream");
        return std::nullopt;
      }
    }
    out_.plan.classifier = !out_.plan.host_tail.empty() || graph_.metadata.contains("labels");
    return std::move(out_);
  }

 private:
  auto Fail(const Node* node, const std::string& message) -> bool {
    sink_.Add(diag::Code::kFpgaOperator, diag::Location{.file = graph_.source},
              node != nullptr ? graph::NodePath(*node) : "", message);
    return false;
  }

  /// Registers graph value `id` as a kernel tensor sharing the scale of `scale_from`.
  auto AddTensor(ValueId id, ValueId scale_from) -> bool {
    const graph::Value& value = graph_.value(id);
    if (value.dtype != graph::DType::kFloat32 || !value.has_shape || value.shape.empty()) {
      Fail(nullptr, "tensor '" + value.name + "' is not a float tensor of known shape");
      return false;
    }
    QTensor tensor;
    tensor.name = value.name;
    tensor.elements = 1;
    for (std::size_t d = 1; d < value.shape.size(); ++d) {
      if (!value.shape[d].known()) {
        Fail(nullptr, "tensor '" + value.name + "' has a symbolic dimension besides the batch");
        return false;
      }
      tensor.dims.push_back(value.shape[d].size);
      tensor.elements *= value.shape[d].size;
    }
    const std::size_t index = out_.plan.tensors.size();
    out_.plan.tensors.push_back(std::move(tensor));
    out_.scale_of.push_back(scale_from == id ? index : out_.scale_of[tensor_of_.at(scale_from)]);
    tensor_of_[id] = index;
    return true;
  }

  auto Place(std::size_t n, const Node& node) -> bool {
    if (node.Input(0) != current_) {
      return Fail(&node,
                  "does not read the previous layer's output; the FPGA kernel is a chain "
                  "of layers without branches");
    }
    if (kReshapes.contains(node.op_type)) {
      tensor_of_[node.outputs[0]] = tensor_of_.at(current_);
      out_.plan.tensors[tensor_of_.at(current_)].name = graph_.value(node.outputs[0]).name;
      current_ = node.outputs[0];
      return true;
    }
    if (uses_[current_]++ > 0) {
      return Fail(&node, "reads a tensor another layer reads too; branches are not supported");
    }
    QLayer layer;
    layer.node = n;
    layer.name = CppIdentifier("", node.name);
    layer.onnx = OnnxNote(node, graph_);
    FloatLayer floats;
    floats.relu = node.activation == graph::Activation::kRelu;
    floats.clip = node.activation == graph::Activation::kClip;
    floats.clip_min = node.clip_min;
    floats.clip_max = node.clip_max;
    if (node.activation == graph::Activation::kSigmoid ||
        node.activation == graph::Activation::kTanh) {
      return Fail(&node, "has a " + std::string(graph::ActivationName(node.activation)) +
                             " epilogue; the FPGA kernel supports relu and clip");
    }
    bool same_scale = false;
    if (node.op_type == "Conv") {
      if (!ConvLayer(node, layer, floats)) return false;
    } else if (node.op_type == "Gemm" || node.op_type == "MatMul") {
      if (!DenseLayer(node, layer, floats)) return false;
    } else if (node.op_type == "MaxPool") {
      if (node.outputs.size() > 1) return Fail(&node, "MaxPool's Indices output is not supported");
      if (!Window(node, layer)) return false;
      layer.kind = LayerKind::kMaxPool;
      same_scale = true;
    } else if (node.op_type == "Relu") {
      layer.kind = LayerKind::kRelu;
      floats.relu = true;
      same_scale = true;
    } else if (node.op_type == "Add" && graph_.Constant(node.Input(1)) != nullptr) {
      if (!AddConstant(node, layer, floats)) return false;
    } else {
      return Fail(&node, "operator '" + node.op_type +
                             "' is not supported by the FPGA back end; supported: Conv, Gemm, "
                             "MatMul, Relu, Clip (fused), MaxPool, Add (with a constant), Flatten, "
                             "Reshape, then Softmax, TopK, ArgMax on the host");
    }
    layer.input = tensor_of_.at(current_);
    if (!AddTensor(node.outputs[0], same_scale ? current_ : node.outputs[0])) return false;
    layer.output = tensor_of_.at(node.outputs[0]);
    current_ = node.outputs[0];
    out_.plan.layers.push_back(std::move(layer));
    out_.floats.push_back(std::move(floats));
    return true;
  }

  auto Window(const Node& node, QLayer& layer) -> bool {
    const graph::Value& in = graph_.value(node.inputs[0]);
    std::vector<std::int64_t> kernel = node.Ints("kernel_shape");
    if (in.shape.size() != 4 || kernel.size() != 2) {
      return Fail(&node, "the FPGA back end supports 2-D windows over [batch, C, H, W] only");
    }
    for (std::int64_t d : node.Ints("dilations")) {
      if (d != 1) return Fail(&node, "dilated windows are not supported on FPGA");
    }
    const std::string auto_pad = node.String("auto_pad", "NOTSET");
    if (auto_pad != "NOTSET" && auto_pad != "VALID") {
      return Fail(&node, "auto_pad " + auto_pad + " is not supported on FPGA; give explicit pads");
    }
    std::vector<std::int64_t> strides = node.Ints("strides");
    std::vector<std::int64_t> pads = node.Ints("pads");
    layer.kernel_h = kernel[0];
    layer.kernel_w = kernel[1];
    layer.stride_h = strides.size() == 2 ? strides[0] : 1;
    layer.stride_w = strides.size() == 2 ? strides[1] : 1;
    layer.pad_h = pads.size() == 4 ? pads[0] : 0;
    layer.pad_w = pads.size() == 4 ? pads[1] : 0;
    return true;
  }

  auto ConvLayer(const Node& node, QLayer& layer, FloatLayer& floats) -> bool {
    const graph::TensorData* weights = graph_.Constant(node.Input(1));
    const graph::TensorData* bias = graph_.Constant(node.Input(2));
    if (weights == nullptr || (node.Input(2) != graph::kNoValue && bias == nullptr)) {
      return Fail(&node, "has computed weights; the FPGA kernel needs constant weights");
    }
    if (node.Int("group", 1) != 1) {
      return Fail(&node, "grouped convolutions are not supported on FPGA");
    }
    if (!Window(node, layer)) return false;
    layer.kind = LayerKind::kConv;
    floats.weights = weights->f32;
    if (bias != nullptr) floats.bias = bias->f32;
    return true;
  }

  auto DenseLayer(const Node& node, QLayer& layer, FloatLayer& floats) -> bool {
    const graph::TensorData* b = graph_.Constant(node.Input(1));
    const graph::TensorData* c = graph_.Constant(node.Input(2));
    const graph::Value& a = graph_.value(node.inputs[0]);
    if (b == nullptr || (node.Input(2) != graph::kNoValue && c == nullptr)) {
      return Fail(&node, "has a computed right-hand side; the FPGA kernel needs constant weights");
    }
    const graph::Shape& b_shape = graph_.value(node.inputs[1]).shape;
    if (a.shape.size() != 2 || b_shape.size() != 2 || node.Int("transA", 0) != 0) {
      return Fail(&node, "the FPGA back end supports [batch, K] x [K, N] products only");
    }
    const bool trans_b = node.op_type == "Gemm" && node.Int("transB", 0) != 0;
    const std::int64_t k = trans_b ? b_shape[1].size : b_shape[0].size;
    const std::int64_t n = trans_b ? b_shape[0].size : b_shape[1].size;
    const float alpha = node.op_type == "Gemm" ? node.Float("alpha", 1.0F) : 1.0F;
    const float beta = node.op_type == "Gemm" ? node.Float("beta", 1.0F) : 1.0F;
    floats.weights.resize(static_cast<std::size_t>(k * n));
    for (std::int64_t o = 0; o < n; ++o) {
      for (std::int64_t i = 0; i < k; ++i) {
        const std::int64_t from = trans_b ? o * k + i : i * n + o;
        floats.weights[static_cast<std::size_t>(o * k + i)] =
            alpha * b->f32[static_cast<std::size_t>(from)];
      }
    }
    if (c != nullptr) {
      if (c->f32.size() != 1 && static_cast<std::int64_t>(c->f32.size()) != n) {
        return Fail(&node, "the FPGA back end supports a per-output or scalar bias only");
      }
      for (std::int64_t o = 0; o < n; ++o) {
        floats.bias.push_back(beta * c->f32[c->f32.size() == 1 ? 0 : static_cast<std::size_t>(o)]);
      }
    }
    layer.kind = LayerKind::kDense;
    return true;
  }

  auto AddConstant(const Node& node, QLayer& layer, FloatLayer& floats) -> bool {
    const graph::TensorData* constant = graph_.Constant(node.Input(1));
    const QTensor& in = out_.plan.tensors[tensor_of_.at(current_)];
    const auto count = static_cast<std::int64_t>(constant->f32.size());
    const std::int64_t channels = in.dims.empty() ? 1 : in.dims[0];
    const std::int64_t per_channel = channels == 0 ? 0 : in.elements / channels;
    for (std::int64_t i = 0; i < in.elements; ++i) {
      if (count == 1) {
        floats.bias.push_back(constant->f32[0]);
      } else if (count == in.elements) {
        floats.bias.push_back(constant->f32[static_cast<std::size_t>(i)]);
      } else if (count == channels && per_channel > 0) {
        floats.bias.push_back(constant->f32[static_cast<std::size_t>(i / per_channel)]);
      } else {
        return Fail(&node, "adds a constant that is neither a scalar, per channel nor per element");
      }
    }
    layer.kind = LayerKind::kAddConstant;
    return true;
  }

  const graph::Graph& graph_;
  diag::Sink& sink_;
  LayerGraph out_;
  std::map<ValueId, std::size_t> tensor_of_;
  std::map<ValueId, int> uses_;
  ValueId current_ = graph::kNoValue;
};

}  // namespace

auto BuildLayers(const graph::Graph& graph, diag::Sink& sink) -> std::optional<LayerGraph> {
  return Builder(graph, sink).Build();
}

}  // namespace ferry::codegen::fpga

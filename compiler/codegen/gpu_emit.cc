// model_gpu.cu for the GPU target: a ferry_rt::Model whose Run uploads the
// inputs (through pinned buffers) on the model's own CUDA stream, runs every
// node on the device and downloads the outputs. Where each tensor lives:
//   graph inputs    in_dev_[i]       graph outputs   out_dev_[i]
//   constants       one device allocation uploaded once at creation (w_[k])
//   intermediates   the device arena, at the memory plan's offsets
// Lowerings: Conv (cuDNN, bias + ReLU fused), Gemm (cublasLt, bias + ReLU
// epilogue), MatMul (cuBLAS), pools (cuDNN or a direct kernel), and the
// runtime's kernels (stdlib/runtime/gpu/kernels.cu) for the rest; Add, Sub,
// Mul and Div of same-shaped tensors become kernels generated here, fused with
// an activation that follows them (a residual Add + ReLU is one pass).
// An op without a lowering is E0811: mixing host and device ops would copy
// tensors across PCIe between nodes, so the model should target cpu instead.
#include "compiler/codegen/gpu_emit.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "compiler/codegen/generated_cpp.h"
#include "compiler/codegen/stages.h"

namespace ferry::codegen {
namespace {

using graph::Dim;
using graph::Node;
using graph::Shape;
using graph::ValueId;

/// A float literal that reads back as the same float (infinities as INFINITY).
auto FloatLiteral(float value) -> std::string { return CppFloatLiteral(value, "INFINITY"); }

/// The expression of one element after `activation` in a generated kernel.
auto ActivationCode(graph::Activation activation, float min, float max) -> std::string {
  switch (activation) {
    case graph::Activation::kNone:
      return "";
    case graph::Activation::kRelu:
      return "v = fmaxf(v, 0.0f);";
    case graph::Activation::kSigmoid:
      return "v = 1.0f / (1.0f + expf(-v));";
    case graph::Activation::kTanh:
      return "v = tanhf(v);";
    case graph::Activation::kClip:
      return "v = fminf(fmaxf(v, " + FloatLiteral(min) + "), " + FloatLiteral(max) + ");";
  }
  return "";
}

auto ActExpr(graph::Activation activation, float min, float max) -> std::string {
  switch (activation) {
    case graph::Activation::kNone:
      return "g::Act{}";
    case graph::Activation::kRelu:
      return "g::Act{g::ActKind::kRelu, 0.0f, 0.0f}";
    case graph::Activation::kSigmoid:
      return "g::Act{g::ActKind::kSigmoid, 0.0f, 0.0f}";
    case graph::Activation::kTanh:
      return "g::Act{g::ActKind::kTanh, 0.0f, 0.0f}";
    case graph::Activation::kClip:
      return "g::Act{g::ActKind::kClip, " + FloatLiteral(min) + ", " + FloatLiteral(max) + "}";
  }
  return "g::Act{}";
}

// Element types of device tensors. Strings have no device form (CheckGraph
// rejects string inputs, no op that makes strings is lowered), so unlike the
// CPU back end's CType and Field everything that is not int64 is float.
auto CType(graph::DType dtype) -> std::string {
  return dtype == graph::DType::kInt64 ? "std::int64_t" : "float";
}

auto Field(graph::DType dtype) -> std::string {
  return dtype == graph::DType::kInt64 ? "i64" : "f32";
}

const std::vector<std::string> kGpuOperators = {"Add",
                                                "ArgMax",
                                                "AveragePool",
                                                "BatchNormalization",
                                                "Clip",
                                                "Concat",
                                                "Conv",
                                                "Div",
                                                "Flatten",
                                                "Gemm",
                                                "GlobalAveragePool",
                                                "Identity",
                                                "MatMul",
                                                "MaxPool",
                                                "Mul",
                                                "Relu",
                                                "Reshape",
                                                "Sigmoid",
                                                "Softmax",
                                                "Sub",
                                                "Tanh",
                                                "TopK",
                                                "Transpose"};

class GpuEmitter {
 public:
  GpuEmitter(const Lowering& lowering, diag::Sink& sink)
      : lowering_(lowering), graph_(lowering.graph), sink_(sink), stages_(lowering.stages) {}

  auto Emit() -> std::optional<std::string> {
    if (!CheckGraph()) return std::nullopt;
    Place();
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      if (skip_.contains(n)) continue;
      if (!EmitNode(n, graph_.nodes[n])) return std::nullopt;
    }
    EmitPassThroughOutputs();
    if (!sizes_.unresolved().empty()) {
      sink_.Add(diag::Code::kOnnxShape, diag::Location{.file = graph_.source}, "",
                "the size '" + sizes_.unresolved() + "' is not known before the model runs");
      return std::nullopt;
    }
    return Assemble();
  }

 private:
  auto Fail(const Node& node, const std::string& why) -> bool {
    sink_.Add(diag::Code::kGpuOperator, diag::Location{.file = graph_.source},
              graph::NodePath(node),
              why +
                  "; compile this model for target cpu (`--target cpu`, or `target: cpu` on "
                  "the endpoint)");
    return false;
  }

  /// What the GPU model cannot take at all: string inputs (other than image
  /// rows) and tensors whose size is known only while running.
  auto CheckGraph() -> bool {
    for (std::size_t i = 0; i < graph_.inputs.size(); ++i) {
      const graph::Value& value = graph_.value(graph_.inputs[i]);
      if (value.dtype == graph::DType::kString) {
        sink_.Add(diag::Code::kGpuOperator, diag::Location{.file = graph_.source},
                  "input '" + value.name + "'",
                  "the gpu target takes float32 and int64 inputs, not strings; compile this "
                  "model for target cpu");
        return false;
      }
    }
    for (ValueId id : lowering_.plan.dynamic) {
      sink_.Add(diag::Code::kGpuOperator, diag::Location{.file = graph_.source},
                "value '" + graph_.value(id).name + "'",
                "its size is known only while the model runs, which the gpu target does not "
                "support; compile this model for target cpu");
      return false;
    }
    return true;
  }

  void Place() {
    for (std::size_t i = 0; i < graph_.inputs.size(); ++i) {
      const ValueId id = graph_.inputs[i];
      pointers_[id] =
          "in_dev_[" + std::to_string(i) + "].As<" + CType(graph_.value(id).dtype) + ">()";
    }
    sizes_.BindInputs(graph_);
    for (std::size_t i = 0; i < graph_.outputs.size(); ++i) {
      const ValueId id = graph_.outputs[i];
      if (pointers_.contains(id)) continue;
      pointers_[id] =
          "out_dev_[" + std::to_string(i) + "].As<" + CType(graph_.value(id).dtype) + ">()";
    }
    for (const Weight& weight : lowering_.weights) {
      if (pointers_.contains(weight.value)) continue;
      if (graph_.value(weight.value).dtype != graph::DType::kFloat32) continue;
      const std::size_t k = device_weights_.size();
      device_weights_.push_back(&weight);
      pointers_[weight.value] = "w_[" + std::to_string(k) + "]";
    }
    for (const graph::Buffer& buffer : lowering_.plan.buffers) {
      buffers_[buffer.value] = &buffer;
      if (pointers_.contains(buffer.value)) continue;
      pointers_[buffer.value] = ArenaPointer(
          "arena_.As<unsigned char>()", CType(graph_.value(buffer.value).dtype), buffer.offset);
    }
  }

  auto ShapeOf(ValueId id) const -> const Shape& { return graph_.value(id).shape; }

  auto Size(const Dim& dim) -> std::string { return sizes_.Size(dim); }
  auto DimsExpr(const Shape& shape) -> std::string { return sizes_.Dims(shape); }
  auto Product(const Shape& shape, std::size_t begin, std::size_t end) -> std::string {
    return sizes_.Product(shape, begin, end);
  }
  auto Count(ValueId id) -> std::string { return sizes_.Count(ShapeOf(id)); }

  auto Bytes(ValueId id) -> std::string {
    return "static_cast<std::size_t>(" + Count(id) + ") * sizeof(" + CType(graph_.value(id).dtype) +
           ")";
  }

  /// The device pointer of `id` ("nullptr" for an omitted input).
  auto Ptr(ValueId id) const -> std::string {
    if (id == graph::kNoValue) return "nullptr";
    auto found = pointers_.find(id);
    return found == pointers_.end() ? "nullptr" : found->second;
  }

  auto Known(const Shape& shape, std::size_t from) const -> bool {
    for (std::size_t i = from; i < shape.size(); ++i) {
      if (!shape[i].known()) return false;
    }
    return true;
  }

  void Line(const std::string& text) { run_ += "    " + text + "\n"; }

  void Check(const std::string& call, const std::string& what) {
    Line("g::Check(" + call + ", " + CppStringLiteral(what) + ");");
  }

  /// A member built in the constructor, after the weights are on the device.
  auto Member(const std::string& type, const std::string& init) -> std::string {
    const std::string name = "m" + std::to_string(member_count_++) + "_";
    members_ += "  std::unique_ptr<" + type + "> " + name + ";\n";
    construct_ += "    " + name + " = std::make_unique<" + type + ">(" + init + ");\n";
    return name;
  }

  /// Whether every data input of `node` (the first `count`) is a float32 tensor.
  auto FloatInputs(const Node& node, std::size_t count) -> bool {
    for (std::size_t i = 0; i < count && i < node.inputs.size(); ++i) {
      const ValueId id = node.inputs[i];
      if (id == graph::kNoValue) continue;
      if (graph_.value(id).dtype != graph::DType::kFloat32) {
        return Fail(node, "input '" + graph_.value(id).name + "' is " +
                              std::string(graph::DTypeName(graph_.value(id).dtype)) +
                              "; the gpu target computes on float32 tensors");
      }
    }
    return true;
  }

  auto EmitNode(std::size_t n, const Node& node) -> bool {
    run_ += NodeComment(node);
    return EmitOp(n, node);
  }

  auto EmitOp(std::size_t n, const Node& node) -> bool {
    const std::string& op = node.op_type;
    if (!node.domain.empty()) {
      return Fail(node, "the gpu back end has no lowering for '" + node.domain + "." + op + "'");
    }
    const ValueId x = node.Input(0);
    const ValueId y = node.outputs.empty() ? graph::kNoValue : node.outputs[0];
    if (op == "Identity" || op == "Flatten" || op == "Reshape") {
      Line("ctx_.CopyOnDevice(" + Ptr(y) + ", " + Ptr(x) + ", " + Bytes(y) + ");");
      return true;
    }
    if (op == "Conv") return FloatInputs(node, 3) && EmitConv(node);
    if (op == "Gemm") return FloatInputs(node, 3) && EmitGemm(node);
    if (op == "MatMul") return FloatInputs(node, 2) && EmitMatMul(node);
    if (op == "MaxPool" || op == "AveragePool") return FloatInputs(node, 1) && EmitPool(node);
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
      return FloatInputs(node, 2) && EmitBinary(n, node);
    }
    if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "Clip") {
      if (!FloatInputs(node, 1)) return false;
      std::optional<std::string> act = UnaryAct(node);
      if (!act) return false;
      Line("g::Activate(ctx_, " + Ptr(x) + ", " + Ptr(y) + ", " + Count(y) + ", " + *act + ");");
      return true;
    }
    if (!FloatInputs(node, op == "BatchNormalization" ? 5 : 1)) return false;
    const Shape& shape = ShapeOf(x);
    if (op == "GlobalAveragePool") {
      Line("g::GlobalAveragePool(ctx_, " + Ptr(x) + ", " + Ptr(y) + ", " + Product(shape, 0, 2) +
           ", " + Product(shape, 2, shape.size()) + ");");
      return true;
    }
    if (op == "BatchNormalization") {
      Line("g::BatchNorm(ctx_, " + Ptr(x) + ", " + Ptr(node.inputs[1]) + ", " +
           Ptr(node.inputs[2]) + ", " + Ptr(node.inputs[3]) + ", " + Ptr(node.inputs[4]) + ", " +
           FloatLiteral(node.Float("epsilon", 1e-5F)) + ", " + Ptr(y) + ", " +
           Product(shape, 0, 1) + ", " + Product(shape, 1, 2) + ", " +
           Product(shape, 2, shape.size()) + ", " +
           ActExpr(node.activation, node.clip_min, node.clip_max) + ");");
      return true;
    }
    if (op == "Softmax") {
      const bool new_semantics = graph_.opset >= 13;
      const std::size_t axis =
          NormalizeAxis(node.Int("axis", new_semantics ? -1 : 1), shape.size());
      const std::string inner =
          new_semantics ? Product(shape, axis + 1, shape.size()) : std::string("1");
      const std::string middle =
          new_semantics ? Product(shape, axis, axis + 1) : Product(shape, axis, shape.size());
      Line("g::Softmax(ctx_, " + Ptr(x) + ", " + Ptr(y) + ", " + Product(shape, 0, axis) + ", " +
           middle + ", " + inner + ");");
      return true;
    }
    if (op == "TopK") {
      const graph::TensorData* k = graph_.Constant(node.Input(1));
      if (k == nullptr || k->i64.size() != 1) return Fail(node, "K must be a constant");
      const std::size_t axis = NormalizeAxis(node.Int("axis", -1), shape.size());
      Line("g::TopK(ctx_, " + Ptr(x) + ", " + Product(shape, 0, axis) + ", " +
           Product(shape, axis, axis + 1) + ", " + Product(shape, axis + 1, shape.size()) + ", " +
           std::to_string(k->i64[0]) + ", " + (node.Int("largest", 1) ? "true" : "false") + ", " +
           Ptr(y) + ", " + Ptr(node.outputs[1]) + ");");
      return true;
    }
    if (op == "ArgMax") {
      const std::size_t axis = NormalizeAxis(node.Int("axis", 0), shape.size());
      Line("g::ArgMax(ctx_, " + Ptr(x) + ", " + Product(shape, 0, axis) + ", " +
           Product(shape, axis, axis + 1) + ", " + Product(shape, axis + 1, shape.size()) + ", " +
           (node.Int("select_last_index", 0) ? "true" : "false") + ", " + Ptr(y) + ");");
      return true;
    }
    if (op == "Transpose") {
      Line("g::Transpose(ctx_, " + Ptr(x) + ", " + DimsExpr(shape) + ", " +
           TransposePermExpr(node, shape.size()) + ", " + Ptr(y) + ");");
      return true;
    }
    if (op == "Concat") return EmitConcat(node);
    return Fail(node, "the gpu back end has no lowering for '" + op + "'");
  }

  /// The g::Act of a Relu, Sigmoid, Tanh or Clip node (Clip's bounds constant).
  auto UnaryAct(const Node& node) -> std::optional<std::string> {
    const std::string& op = node.op_type;
    if (op == "Relu") return ActExpr(graph::Activation::kRelu, 0, 0);
    if (op == "Sigmoid") return ActExpr(graph::Activation::kSigmoid, 0, 0);
    if (op == "Tanh") return ActExpr(graph::Activation::kTanh, 0, 0);
    std::optional<std::array<float, 2>> bounds = ConstantClipBounds(node);
    if (!bounds) return std::nullopt;
    return ActExpr(graph::Activation::kClip, (*bounds)[0], (*bounds)[1]);
  }

  /// Clip's bounds, or nullopt with E0811 when they are not constants.
  auto ConstantClipBounds(const Node& node) -> std::optional<std::array<float, 2>> {
    std::optional<std::array<float, 2>> bounds = ClipBounds(graph_, node);
    if (!bounds) Fail(node, "Clip's min and max must be constant scalars");
    return bounds;
  }

  auto ResolveWindow(const Node& node, const std::vector<std::int64_t>& kernel, const Shape& in,
                     const Shape& out, Window& window) -> bool {
    const std::size_t axes = in.size() < 2 ? 0 : in.size() - 2;
    if (axes < 1 || axes > 2 || kernel.size() != axes) {
      return Fail(node, "the gpu back end lowers 1-D and 2-D windows only, got " +
                            std::to_string(axes) + " spatial axes");
    }
    if (!Known(in, 1) || !Known(out, 1)) {
      return Fail(node,
                  "channels and spatial sizes must be known at compile time on the gpu "
                  "target (only the batch may vary)");
    }
    window = WindowGeometry(node, kernel, in, out);
    return true;
  }

  auto EmitConv(const Node& node) -> bool {
    const ValueId x = node.inputs[0];
    const ValueId w = node.inputs[1];
    const ValueId y = node.outputs[0];
    const Shape& in = ShapeOf(x);
    const Shape& out = ShapeOf(y);
    const std::vector<std::int64_t> kernel = ConvKernel(node, ShapeOf(w));
    Window window;
    if (!ResolveWindow(node, kernel, in, out, window)) return false;
    const bool one_d = in.size() == 3;
    const std::string shape =
        "g::ConvShape{" + std::to_string(in[1].size) + ", " + std::to_string(out[1].size) + ", " +
        std::to_string(node.Int("group", 1)) + ", " + (one_d ? "1" : std::to_string(in[2].size)) +
        ", " + std::to_string(in.back().size) + ", " + (one_d ? "1" : std::to_string(out[2].size)) +
        ", " + std::to_string(out.back().size) + ", " + std::to_string(window.kernel[0]) + ", " +
        std::to_string(window.kernel[1]) + ", " + std::to_string(window.stride[0]) + ", " +
        std::to_string(window.stride[1]) + ", " + std::to_string(window.pad_begin[0]) + ", " +
        std::to_string(window.pad_begin[1]) + ", " + std::to_string(window.dilation[0]) + ", " +
        std::to_string(window.dilation[1]) + ", " + std::to_string(window.pad_end[0]) + ", " +
        std::to_string(window.pad_end[1]) + "}";
    const std::string member =
        Member("g::Conv", shape + ", " + (node.Input(2) != graph::kNoValue ? "true" : "false") +
                              ", " + ActExpr(node.activation, node.clip_min, node.clip_max));
    Line(member + "->Run(ctx_, " + Ptr(x) + ", " + Ptr(w) + ", " + Ptr(node.Input(2)) + ", " +
         Ptr(y) + ", " + Size(in[0]) + ");");
    return true;
  }

  auto EmitPool(const Node& node) -> bool {
    const ValueId x = node.inputs[0];
    const ValueId y = node.outputs[0];
    if (node.outputs.size() > 1 && node.outputs[1] != graph::kNoValue) {
      return Fail(node, "MaxPool's Indices output has no gpu lowering");
    }
    const Shape& in = ShapeOf(x);
    const Shape& out = ShapeOf(y);
    Window window;
    if (!ResolveWindow(node, node.Ints("kernel_shape"), in, out, window)) return false;
    const bool one_d = in.size() == 3;
    const bool include_pad = node.op_type == "AveragePool" && node.Int("count_include_pad", 0) != 0;
    const std::string shape =
        "g::PoolShape{" + std::to_string(in[1].size) + ", " +
        (one_d ? "1" : std::to_string(in[2].size)) + ", " + std::to_string(in.back().size) + ", " +
        (one_d ? "1" : std::to_string(out[2].size)) + ", " + std::to_string(out.back().size) +
        ", " + std::to_string(window.kernel[0]) + ", " + std::to_string(window.kernel[1]) + ", " +
        std::to_string(window.stride[0]) + ", " + std::to_string(window.stride[1]) + ", " +
        std::to_string(window.pad_begin[0]) + ", " + std::to_string(window.pad_begin[1]) + ", " +
        std::to_string(window.pad_end[0]) + ", " + std::to_string(window.pad_end[1]) + ", " +
        std::to_string(window.dilation[0]) + ", " + std::to_string(window.dilation[1]) + ", " +
        (include_pad ? "true" : "false") + "}";
    const std::string member =
        Member("g::Pool", shape + ", " + (node.op_type == "MaxPool" ? "true" : "false"));
    Line(member + "->Run(ctx_, " + Ptr(x) + ", " + Ptr(y) + ", " + Size(in[0]) + ");");
    return true;
  }

  auto EmitGemm(const Node& node) -> bool {
    const ValueId a = node.inputs[0];
    const ValueId b = node.inputs[1];
    const ValueId c = node.Input(2);
    const Shape& out = ShapeOf(node.outputs[0]);
    const bool trans_a = node.Int("transA", 0) != 0;
    const Shape& as = ShapeOf(a);
    if (out.size() != 2 || as.size() != 2 || !out[1].known() || !as[trans_a ? 0 : 1].known()) {
      return Fail(node, "a Gemm's N and K must be known at compile time on the gpu target");
    }
    std::string bias = "g::BiasShape::kNone";
    if (c != graph::kNoValue) bias = "g::BiasShape::" + std::string(GemmBiasShape(ShapeOf(c)));
    const std::string member = Member(
        "g::Gemm", std::to_string(out[1].size) + ", " + std::to_string(as[trans_a ? 0 : 1].size) +
                       ", " + (trans_a ? "true" : "false") + ", " +
                       (node.Int("transB", 0) ? "true" : "false") + ", " +
                       FloatLiteral(node.Float("alpha", 1.0F)) + ", " +
                       FloatLiteral(node.Float("beta", 1.0F)) + ", " +
                       ActExpr(node.activation, node.clip_min, node.clip_max) + ", " + bias);
    Line(member + "->Run(ctx_, " + Ptr(a) + ", " + Ptr(b) + ", " + Ptr(c) + ", " +
         Ptr(node.outputs[0]) + ", " + Size(out[0]) + ");");
    return true;
  }

  auto EmitMatMul(const Node& node) -> bool {
    const Shape& as = ShapeOf(node.inputs[0]);
    const Shape& bs = ShapeOf(node.inputs[1]);
    if (as.size() < 2 || bs.size() < 2) {
      return Fail(node, "MatMul of vectors (rank 1) has no gpu lowering");
    }
    const std::string k = Size(bs[bs.size() - 2]);
    const std::string n = Size(bs.back());
    if (bs.size() == 2) {
      // A shared B: all of A's rows in one GEMM.
      Line("g::MatMul(ctx_, " + Ptr(node.inputs[0]) + ", " + Ptr(node.inputs[1]) + ", " +
           Ptr(node.outputs[0]) + ", 1, " + Product(as, 0, as.size() - 1) + ", " + n + ", " + k +
           ", 0);");
      return true;
    }
    const bool same_batch =
        as.size() == bs.size() && std::equal(as.begin(), as.end() - 2, bs.begin());
    if (!same_batch) {
      return Fail(node, "MatMul broadcasting B's batch dimensions has no gpu lowering");
    }
    Line("g::MatMul(ctx_, " + Ptr(node.inputs[0]) + ", " + Ptr(node.inputs[1]) + ", " +
         Ptr(node.outputs[0]) + ", " + Product(as, 0, as.size() - 2) + ", " +
         Size(as[as.size() - 2]) + ", " + n + ", " + k + ", " + k + " * " + n + ");");
    return true;
  }

  /// The activation node right after `n` that reads only its output, if it can
  /// be fused into it (then it is skipped): the next node, so the memory plan's
  /// buffer for its output is free already.
  auto FusableActivation(std::size_t n) -> const Node* {
    if (n + 1 >= graph_.nodes.size()) return nullptr;
    const Node& node = graph_.nodes[n];
    const Node& next = graph_.nodes[n + 1];
    const bool unary = next.op_type == "Relu" || next.op_type == "Sigmoid" ||
                       next.op_type == "Tanh" || next.op_type == "Clip";
    if (!unary || !next.domain.empty() || next.Input(0) != node.outputs[0]) return nullptr;
    const ValueId out = node.outputs[0];
    if (std::find(graph_.outputs.begin(), graph_.outputs.end(), out) != graph_.outputs.end()) {
      return nullptr;
    }
    for (std::size_t m = 0; m < graph_.nodes.size(); ++m) {
      if (m == n + 1) continue;
      const std::vector<ValueId>& inputs = graph_.nodes[m].inputs;
      if (std::find(inputs.begin(), inputs.end(), out) != inputs.end()) return nullptr;
    }
    // The activation's output is placed for node n + 1: where it overlaps an
    // input of node n, only an elementwise in-place write (same buffer, same
    // shape) is safe.
    const graph::Buffer* target = BufferOf(next.outputs[0]);
    for (ValueId input : node.inputs) {
      const graph::Buffer* source = BufferOf(input);
      if (target == nullptr || source == nullptr || Disjoint(*target, *source)) continue;
      const bool in_place = target->offset == source->offset && target->size == source->size &&
                            ShapeOf(input) == ShapeOf(next.outputs[0]);
      if (!in_place) return nullptr;
    }
    if (next.op_type == "Clip" && !ClipBounds(graph_, next)) return nullptr;
    return &next;
  }

  auto BufferOf(ValueId id) const -> const graph::Buffer* {
    auto found = buffers_.find(id);
    return found == buffers_.end() ? nullptr : found->second;
  }

  /// Whether two arena buffers never share a byte, whatever the batch (their
  /// extents are linear in it: apart at two batch sizes, in the same order).
  static auto Disjoint(const graph::Buffer& a, const graph::Buffer& b) -> bool {
    auto before = [](const graph::Buffer& x, const graph::Buffer& y, std::int64_t batch) {
      return x.offset.At(batch) + x.size.At(batch) <= y.offset.At(batch);
    };
    return (before(a, b, 1) && before(a, b, 1 << 16)) || (before(b, a, 1) && before(b, a, 1 << 16));
  }

  auto EmitBinary(std::size_t n, const Node& node) -> bool {
    const ValueId a = node.inputs[0];
    const ValueId b = node.inputs[1];
    ValueId y = node.outputs[0];
    graph::Activation activation = graph::Activation::kNone;
    std::array<float, 2> bounds = {0, 0};
    std::string fused_name;
    if (const Node* next = FusableActivation(n)) {
      if (next->op_type == "Relu") activation = graph::Activation::kRelu;
      if (next->op_type == "Sigmoid") activation = graph::Activation::kSigmoid;
      if (next->op_type == "Tanh") activation = graph::Activation::kTanh;
      if (next->op_type == "Clip") {
        activation = graph::Activation::kClip;
        std::optional<std::array<float, 2>> clip = ConstantClipBounds(*next);
        if (!clip) return false;
        bounds = *clip;
      }
      y = next->outputs[0];
      fused_name = next->name;
      skip_.insert(n + 1);
      run_ += "    // fused with node '" + next->name + "' (" + next->op_type + ")\n";
    }
    const char* symbol = node.op_type == "Add"   ? "+"
                         : node.op_type == "Sub" ? "-"
                         : node.op_type == "Mul" ? "*"
                                                 : "/";
    if (ShapeOf(a) == ShapeOf(b) && ShapeOf(a) == ShapeOf(y)) {
      // Same shapes: a kernel generated for this node and its activation.
      const std::string kernel = "Elementwise" + std::to_string(kernel_count_++);
      kernels_ += "// node '" + node.name + "' (" + node.op_type + ")" +
                  (fused_name.empty() ? "" : " + '" + fused_name + "'") + "\n";
      kernels_ += "__global__ void " + kernel +
                  "(const float* a, const float* b, float* y, std::int64_t count) {\n"
                  "  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + "
                  "threadIdx.x; i < count;\n"
                  "       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {\n"
                  "    float v = a[i] " +
                  symbol + " b[i];\n";
      const std::string act = ActivationCode(activation, bounds[0], bounds[1]);
      if (!act.empty()) kernels_ += "    " + act + "\n";
      kernels_ += "    y[i] = v;\n  }\n}\n\n";
      Line("{");
      Line("  const std::int64_t count = " + Count(y) + ";");
      Line("  if (count > 0) {");
      Line("    " + kernel + "<<<Blocks(count), kThreads, 0, ctx_.stream()>>>(" + Ptr(a) + ", " +
           Ptr(b) + ", " + Ptr(y) + ", count);");
      Line("    g::Check(cudaGetLastError(), " + CppStringLiteral(node.name) + ");");
      Line("  }");
      Line("}");
      return true;
    }
    const char* op = node.op_type == "Add"   ? "g::BinaryOp::kAdd"
                     : node.op_type == "Sub" ? "g::BinaryOp::kSub"
                     : node.op_type == "Mul" ? "g::BinaryOp::kMul"
                                             : "g::BinaryOp::kDiv";
    Line("g::Binary(ctx_, " + std::string(op) + ", " + Ptr(a) + ", " + Ptr(b) + ", " + Ptr(y) +
         ", g::MakeBroadcast(" + DimsExpr(ShapeOf(a)) + ", " + DimsExpr(ShapeOf(b)) + ", " +
         DimsExpr(ShapeOf(y)) + "), " + ActExpr(activation, bounds[0], bounds[1]) + ");");
    return true;
  }

  auto EmitConcat(const Node& node) -> bool {
    const ValueId y = node.outputs[0];
    const Shape& out = ShapeOf(y);
    const graph::DType dtype = graph_.value(y).dtype;
    if (dtype == graph::DType::kString) return Fail(node, "Concat of strings has no gpu lowering");
    const std::size_t axis = NormalizeAxis(node.Int("axis", 0), out.size());
    const std::string element = "sizeof(" + CType(dtype) + ")";
    const std::string inner = Product(out, axis + 1, out.size());
    const std::string rows = Product(out, 0, axis);
    Line("{");
    Line("  const std::size_t row = static_cast<std::size_t>(" + Size(out[axis]) + " * " + inner +
         ") * " + element + ";");
    Line("  std::size_t at = 0;");
    for (ValueId part : node.inputs) {
      Line("  {");
      Line("    const std::size_t width = static_cast<std::size_t>(" + Size(ShapeOf(part)[axis]) +
           " * " + inner + ") * " + element + ";");
      Line("    if (width > 0 && " + rows + " > 0) {");
      Line("      g::Check(cudaMemcpy2DAsync(reinterpret_cast<unsigned char*>(" + Ptr(y) +
           ") + at, row, " + Ptr(part) + ", width, width, static_cast<std::size_t>(" + rows +
           "), cudaMemcpyDeviceToDevice, ctx_.stream()), " + CppStringLiteral(node.name) + ");");
      Line("    }");
      Line("    at += width;");
      Line("  }");
    }
    Line("}");
    return true;
  }

  /// Graph outputs that no node writes (an input or a constant): copied on the device.
  void EmitPassThroughOutputs() {
    for (std::size_t i : PassThroughOutputs(graph_)) {
      const ValueId id = graph_.outputs[i];
      run_ += "    // output '" + graph_.value(id).name + "' passes through\n";
      const std::string source = Ptr(id);
      const std::string target =
          "out_dev_[" + std::to_string(i) + "].As<" + CType(graph_.value(id).dtype) + ">()";
      if (source == target) continue;
      if (graph_.Constant(id) != nullptr && graph_.value(id).dtype != graph::DType::kFloat32) {
        // An int64 constant: from the host copy of weights.bin.
        Line("ctx_.Upload(" + target + ", weights_.I64(" + CppStringLiteral(graph_.value(id).name) +
             "), " + Bytes(id) + ");");
        continue;
      }
      Line("ctx_.CopyOnDevice(" + target + ", " + source + ", " + Bytes(id) + ");");
    }
  }

  /// Run's moves of the inputs to the device and of the outputs back.
  auto Transfers(bool to_device) -> std::string {
    std::string out;
    const std::vector<ValueId>& ids = to_device ? graph_.inputs : graph_.outputs;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const ValueId id = ids[i];
      const std::string index = std::to_string(i);
      const std::string bytes = Bytes(id);
      const std::string field = Field(graph_.value(id).dtype);
      if (to_device) {
        out += "    {\n      const std::size_t bytes = " + bytes + ";\n";
        out += "      in_host_[" + index + "].Reserve(bytes);\n";
        out += "      if (bytes > 0) std::memcpy(in_host_[" + index + "].data(), in[" + index +
               "]." + field + ".data(), bytes);\n";
        out += "      in_dev_[" + index + "].Reserve(bytes);\n";
        out += "      ctx_.Upload(in_dev_[" + index + "].As<void>(), in_host_[" + index +
               "].data(), bytes);\n    }\n";
      } else {
        out += "    out_host_[" + index + "].Reserve(" + bytes + ");\n";
        out += "    ctx_.Download(out_host_[" + index + "].data(), out_dev_[" + index +
               "].As<void>(), " + bytes + ");\n";
      }
    }
    return out;
  }

  auto Assemble() -> std::string {
    // Expressions first: they may leave a size unresolved, which Emit reports.
    const std::string uploads = Transfers(true);
    const std::string downloads = Transfers(false);
    std::string reserve_outputs;
    std::string copy_outputs;
    for (std::size_t i = 0; i < graph_.outputs.size(); ++i) {
      const ValueId id = graph_.outputs[i];
      const std::string index = std::to_string(i);
      reserve_outputs += "    out_dev_[" + index + "].Reserve(" + Bytes(id) + ");\n";
      copy_outputs += "    Resize(out[" + index + "], " + RuntimeDTypeExpr(graph_.value(id).dtype) +
                      ", " + DimsExpr(ShapeOf(id)) + ");\n";
      copy_outputs += "    if (!out[" + index + "]." + Field(graph_.value(id).dtype) +
                      ".empty()) {\n      std::memcpy(out[" + index + "]." +
                      Field(graph_.value(id).dtype) + ".data(), out_host_[" + index + "].data(), " +
                      Bytes(id) + ");\n    }\n";
    }
    std::string out = "// Generated by ferry compile from " + graph_.source +
                      " for target gpu; do not edit.\n"
                      "// One block per ONNX node, named after it; the host reference (the CPU\n"
                      "// back end's code for the same model) is model.cc, built as "
                      "bin/score_host.\n"
                      "#include <cstdint>\n#include <cstring>\n#include <memory>\n"
                      "#include <string>\n#include <utility>\n#include <vector>\n\n"
                      "#include \"runtime/gpu/gpu.h\"\n"
                      "#include \"runtime/model.h\"\n#include \"runtime/weights.h\"\n";
    if (stages_.image) out += "#include \"runtime/image.h\"\n";
    out += "\nnamespace " + lowering_.cpp_namespace + " {\nnamespace {\n\n";
    out += "namespace g = ::ferry_rt::gpu;\n\n";
    out += "constexpr char kWeightsSha256[] = \"" + lowering_.weights_sha256 + "\";\n";
    out += "constexpr int kThreads = 256;\n\n";
    out +=
        "[[maybe_unused]] auto Blocks(std::int64_t count) -> unsigned {\n"
        "  const std::int64_t blocks = (count + kThreads - 1) / kThreads;\n"
        "  return static_cast<unsigned>(blocks > 524280 ? 524280 : blocks);\n}\n\n";
    out += kernels_;
    out += "class GpuModel final : public Model {\n public:\n";
    out += "  explicit GpuModel(Weights weights) : weights_(std::move(weights)) {\n";
    out += "    // The float weights go to the device once, in one allocation.\n";
    out += "    std::size_t offsets[" +
           std::to_string(std::max<std::size_t>(1, device_weights_.size())) + "] = {};\n";
    for (std::size_t k = 0; k < device_weights_.size(); ++k) {
      const std::string name = CppStringLiteral(device_weights_[k]->name);
      out += "    offsets[" + std::to_string(k) + "] = device_.Add(weights_.F32(" + name +
             "), weights_.Count(" + name + "));\n";
    }
    out += "    device_.Upload(ctx_);\n";
    out += "    for (std::size_t k = 0; k < " + std::to_string(device_weights_.size()) +
           "; ++k) w_[k] = device_.At(offsets[k]);\n";
    out += construct_ + "  }\n\n";
    out += TensorInfoAccessors();
    out += "  void Run(const std::vector<Tensor>& given, std::vector<Tensor>& out) override {\n";
    if (stages_.image) {
      out += DecodeImageLines(
          "String rows for the image input: PNG or JPEG files, decoded on the host.");
    } else {
      out += "    const std::vector<Tensor>& in = given;\n";
    }
    out += "    CheckInputs(inputs_, in);\n";
    out += BatchLines();
    out += "    arena_.Reserve(static_cast<std::size_t>(" + BatchExtentExpr(lowering_.plan.arena) +
           "));\n";
    out += "    // Inputs to the device through pinned buffers, on this model's stream.\n";
    out += uploads;
    out += reserve_outputs;
    out += run_;
    out += "    // Outputs back to the host.\n";
    out += downloads;
    out += "    ctx_.Synchronize();\n";
    out += "    out.resize(" + std::to_string(graph_.outputs.size()) + ");\n";
    out += copy_outputs;
    out += "  }\n\n private:\n";
    out += "  Weights weights_;\n";
    out += "  // This instance's stream and library handles (one Model per worker thread).\n";
    out += "  g::Context ctx_;\n";
    out += "  g::DeviceWeights device_;\n";
    out += "  const float* w_[" + std::to_string(std::max<std::size_t>(1, device_weights_.size())) +
           "] = {};\n";
    out += "  // Intermediates, laid out by the memory plan (64-byte aligned offsets).\n";
    out += "  g::DeviceBuffer arena_;\n";
    const std::string inputs = std::to_string(graph_.inputs.size());
    const std::string outputs = std::to_string(graph_.outputs.size());
    out += "  g::DeviceBuffer in_dev_[" + inputs + "];\n";
    out += "  g::PinnedBuffer in_host_[" + inputs + "];\n";
    out += "  g::DeviceBuffer out_dev_[" + outputs + "];\n";
    out += "  g::PinnedBuffer out_host_[" + outputs + "];\n";
    out += members_;
    if (stages_.image) out += ImageStageMembers(*stages_.image);
    out += TensorInfoTables(graph_, stages_);
    out += "};\n\n}  // namespace\n\n";
    out += "auto CreateModel(const std::string& weights_path) -> std::unique_ptr<Model> {\n";
    out += "  // No device: a clear error at start-up, before the weights are read.\n";
    out += "  g::RequireDevice();\n";
    out +=
        "  return std::make_unique<GpuModel>(Weights::Load(weights_path, kWeightsSha256));\n"
        "}\n\n}  // namespace " +
        lowering_.cpp_namespace + "\n";
    return out;
  }

  const Lowering& lowering_;
  const graph::Graph& graph_;
  diag::Sink& sink_;
  Stages stages_;
  SizeExprs sizes_;
  std::map<ValueId, std::string> pointers_;
  std::map<ValueId, const graph::Buffer*> buffers_;
  std::vector<const Weight*> device_weights_;
  std::set<std::size_t> skip_;
  std::string run_;
  std::string kernels_;
  std::string members_;
  std::string construct_;
  int member_count_ = 0;
  int kernel_count_ = 0;
};

}  // namespace

auto EmitGpuModel(const Lowering& lowering, diag::Sink& sink) -> std::optional<std::string> {
  return GpuEmitter(lowering, sink).Emit();
}

auto GpuOperators() -> const std::vector<std::string>& { return kGpuOperators; }

}  // namespace ferry::codegen

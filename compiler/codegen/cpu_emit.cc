// model.cc for the CPU target: a ferry_rt::Model subclass whose Run calls the
// runtime's kernels (stdlib/runtime/kernels*.h, namespace ferry_rt::k) one
// node at a time. Where each tensor lives:
//   graph inputs    in[i]            graph outputs   out[i], resized before their node
//   constants       w_* pointers into the loaded weights.bin
//   intermediates   the arena, at the memory plan's offsets (per_batch * batch + fixed)
//   the rest        (strings, tensors with a run-time width) a member Tensor t<id>_
// Shapes are C++ expressions: known sizes, or a symbol bound to the input or
// tensor dimension it comes from.
#include "compiler/codegen/cpu_emit.h"

#include <array>
#include <iterator>
#include <map>

#include "compiler/codegen/generated_cpp.h"
#include "compiler/codegen/stages.h"

namespace ferry::codegen {
namespace {

using graph::Dim;
using graph::Node;
using graph::Shape;
using graph::ValueId;

/// A float literal that reads back as the same float.
auto FloatLiteral(float value) -> std::string {
  return CppFloatLiteral(value, "std::numeric_limits<float>::infinity()");
}

auto ActivationExpr(const Node& node) -> std::string {
  switch (node.activation) {
    case graph::Activation::kNone:
      return "k::Activation{}";
    case graph::Activation::kRelu:
      return "k::Activation{k::ActivationKind::kRelu}";
    case graph::Activation::kSigmoid:
      return "k::Activation{k::ActivationKind::kSigmoid}";
    case graph::Activation::kTanh:
      return "k::Activation{k::ActivationKind::kTanh}";
    case graph::Activation::kClip:
      return "k::Activation{k::ActivationKind::kClip, " + FloatLiteral(node.clip_min) + ", " +
             FloatLiteral(node.clip_max) + "}";
  }
  return "k::Activation{}";
}

auto CType(graph::DType dtype) -> std::string {
  switch (dtype) {
    case graph::DType::kFloat32:
      return "float";
    case graph::DType::kInt64:
      return "std::int64_t";
    case graph::DType::kString:
      return "std::string";
  }
  return "float";
}

auto Field(graph::DType dtype) -> std::string {
  switch (dtype) {
    case graph::DType::kFloat32:
      return "f32";
    case graph::DType::kInt64:
      return "i64";
    case graph::DType::kString:
      return "str";
  }
  return "f32";
}

class Emitter {
 public:
  Emitter(const Lowering& lowering, diag::Sink& sink)
      : lowering_(lowering), graph_(lowering.graph), sink_(sink), stages_(lowering.stages) {}

  auto Emit() -> std::optional<std::string> {
    Place();
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      if (!EmitNode(n, graph_.nodes[n])) return std::nullopt;
    }
    if (!EmitPassThroughOutputs()) return std::nullopt;
    return Assemble();
  }

 private:
  /// Decides where every value lives and binds the input symbols.
  void Place() {
    for (std::size_t i = 0; i < graph_.inputs.size(); ++i) {
      ValueId id = graph_.inputs[i];
      tensors_[id] = "in[" + std::to_string(i) + "]";
    }
    sizes_.BindInputs(graph_);
    for (std::size_t i = 0; i < graph_.outputs.size(); ++i) {
      if (!tensors_.contains(graph_.outputs[i])) {
        tensors_[graph_.outputs[i]] = "out[" + std::to_string(i) + "]";
      }
    }
    for (const Weight& weight : lowering_.weights) {
      pointers_[weight.value] = CppIdentifier("w_", weight.name);
      if (weight.node != Weight::kNotAnAttribute) {
        attribute_weights_[{weight.node, weight.attribute}] = &weight;
      }
    }
    for (const graph::Buffer& buffer : lowering_.plan.buffers) {
      if (tensors_.contains(buffer.value)) continue;
      pointers_[buffer.value] =
          ArenaPointer("arena_.data()", CType(graph_.value(buffer.value).dtype), buffer.offset);
    }
  }

  /// The Tensor holding `id` (inputs, outputs, member tensors), "" for arena and weights.
  auto TensorOf(ValueId id) -> std::string {
    auto found = tensors_.find(id);
    if (found != tensors_.end()) return found->second;
    if (pointers_.contains(id)) return "";
    std::string member = "t" + std::to_string(id) + "_";
    tensors_[id] = member;
    members_ += "  Tensor " + member + ";  // " + graph_.value(id).name + "\n";
    return member;
  }

  auto ShapeOf(ValueId id) const -> const Shape& { return graph_.value(id).shape; }

  auto Size(const Dim& dim) -> std::string { return sizes_.Size(dim); }
  auto DimsExpr(const Shape& shape) -> std::string { return sizes_.Dims(shape); }
  auto Product(const Shape& shape, std::size_t begin, std::size_t end) -> std::string {
    return sizes_.Product(shape, begin, end);
  }
  auto Count(ValueId id) -> std::string { return sizes_.Count(ShapeOf(id)); }

  /// The typed data pointer of `id`.
  auto Ptr(ValueId id) -> std::string {
    if (id == graph::kNoValue) return "nullptr";
    auto found = pointers_.find(id);
    if (found != pointers_.end()) return found->second;
    return TensorOf(id) + "." + Field(graph_.value(id).dtype) + ".data()";
  }

  auto Fail(const Node& node, diag::Code code, const std::string& message) -> bool {
    sink_.Add(code, diag::Location{.file = graph_.source}, graph::NodePath(node), message);
    return false;
  }

  /// The constant int64 values of input `i`, or nullopt when computed.
  auto ConstantInts(const Node& node, std::size_t i) const
      -> std::optional<std::vector<std::int64_t>> {
    const graph::TensorData* data = graph_.Constant(node.Input(i));
    if (data == nullptr) return std::nullopt;
    return data->i64;
  }

  /// The attribute weight of `node` for `attribute`, or nullptr when empty.
  auto AttributeWeight(std::size_t n, const std::string& attribute) const -> const Weight* {
    auto found = attribute_weights_.find({n, attribute});
    return found == attribute_weights_.end() ? nullptr : found->second;
  }

  auto AttributePtr(std::size_t n, const std::string& attribute) const -> std::string {
    const Weight* weight = AttributeWeight(n, attribute);
    return weight == nullptr ? "nullptr" : CppIdentifier("w_", weight->name);
  }

  auto AttributeCount(std::size_t n, const std::string& attribute) const -> std::string {
    const Weight* weight = AttributeWeight(n, attribute);
    if (weight == nullptr) return "0";
    const graph::TensorData* data = graph_.Constant(weight->value);
    return std::to_string(data->f32.empty() ? data->i64.size() : data->f32.size());
  }

  /// A vector-valued attribute as a C++ expression built from weights.bin.
  auto AttributeVector(std::size_t n, const std::string& attribute, graph::DType dtype) const
      -> std::string {
    const Weight* weight = AttributeWeight(n, attribute);
    if (weight == nullptr) return "{}";
    return std::string(dtype == graph::DType::kFloat32 ? "F32Vector" : "I64Vector") +
           "(weights_, " + CppStringLiteral(weight->name) + ")";
  }

  void Line(const std::string& text) { run_ += "    " + text + "\n"; }

  void Call(const std::string& kernel, const std::vector<std::string>& args) {
    std::string line = "k::" + kernel + "(";
    for (std::size_t i = 0; i < args.size(); ++i) line += (i ? ", " : "") + args[i];
    Line(line + ");");
  }

  /// Resizes the outputs of `node` that live in Tensors (graph outputs, member tensors).
  void ResizeOutputs(const Node& node) {
    for (ValueId id : node.outputs) {
      if (id == graph::kNoValue) continue;
      std::string tensor = TensorOf(id);
      if (tensor.empty()) continue;
      Line("Resize(" + tensor + ", " + RuntimeDTypeExpr(graph_.value(id).dtype) + ", " +
           DimsExpr(ShapeOf(id)) + ");");
    }
  }

  auto EmitNode(std::size_t n, const Node& node) -> bool {
    run_ += NodeComment(node);
    sizes_.ClearUnresolved();
    for (ValueId id : node.inputs) {
      if (id != graph::kNoValue && graph_.Constant(id) != nullptr &&
          graph_.value(id).dtype == graph::DType::kString) {
        return Fail(node, diag::Code::kOnnxDataType,
                    "string constant '" + graph_.value(id).name +
                        "' as an input is not supported by the CPU back end (only float32 and "
                        "int64 constants are)");
      }
    }
    const std::string& op = node.op_type;
    if (op != "StringNormalizer") ResizeOutputs(node);
    bool ok = EmitOp(n, node, op);
    if (ok && !sizes_.unresolved().empty()) {
      return Fail(node, diag::Code::kOnnxShape,
                  "the size '" + sizes_.unresolved() + "' is not known when this node runs");
    }
    return ok;
  }

  auto EmitOp(std::size_t n, const Node& node, const std::string& op) -> bool {
    ValueId x = node.Input(0);
    ValueId y = node.outputs[0];
    graph::DType x_type = graph_.value(x).dtype;
    if (op == "Gemm") return EmitGemm(node);
    if (op == "MatMul") {
      Call("MatMul", {Ptr(x), DimsExpr(ShapeOf(x)), Ptr(node.inputs[1]),
                      DimsExpr(ShapeOf(node.inputs[1])), Ptr(y), DimsExpr(ShapeOf(y))});
      return true;
    }
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
      if (x_type == graph::DType::kString) {
        return Fail(node, diag::Code::kOnnxDataType, op + " of strings is not supported");
      }
      Call(op, {Ptr(x), DimsExpr(ShapeOf(x)), Ptr(node.inputs[1]),
                DimsExpr(ShapeOf(node.inputs[1])), Ptr(y), DimsExpr(ShapeOf(y))});
      return true;
    }
    if (op == "Relu" || op == "Sigmoid" || op == "Tanh") {
      Call(op, {Ptr(x), Ptr(y), Count(y)});
      return true;
    }
    if (op == "Clip") return EmitClip(node);
    if (op == "Identity" || op == "Flatten" || op == "Reshape") {
      Call("Copy", {Ptr(x), Ptr(y), Count(y)});
      return true;
    }
    if (op == "Conv") return EmitConv(node);
    if (op == "MaxPool" || op == "AveragePool") return EmitPool(node);
    if (op == "GlobalAveragePool") {
      const Shape& shape = ShapeOf(x);
      Call(op, {Ptr(x), Ptr(y), Product(shape, 0, 2), Product(shape, 2, shape.size())});
      return true;
    }
    if (op == "BatchNormalization") {
      const Shape& shape = ShapeOf(x);
      Call(op, {Ptr(x), Ptr(node.inputs[1]), Ptr(node.inputs[2]), Ptr(node.inputs[3]),
                Ptr(node.inputs[4]), FloatLiteral(node.Float("epsilon", 1e-5F)), Ptr(y),
                Product(shape, 0, 1), Product(shape, 1, 2), Product(shape, 2, shape.size()),
                ActivationExpr(node)});
      return true;
    }
    if (op == "Softmax") {
      const Shape& shape = ShapeOf(x);
      bool new_semantics = graph_.opset >= 13;
      std::size_t axis = NormalizeAxis(node.Int("axis", new_semantics ? -1 : 1), shape.size());
      if (new_semantics) {
        Call(op, {Ptr(x), Ptr(y), Product(shape, 0, axis), Product(shape, axis, axis + 1),
                  Product(shape, axis + 1, shape.size())});
      } else {
        Call(op,
             {Ptr(x), Ptr(y), Product(shape, 0, axis), Product(shape, axis, shape.size()), "1"});
      }
      return true;
    }
    if (op == "Transpose") {
      const Shape& shape = ShapeOf(x);
      Call(op, {Ptr(x), DimsExpr(shape), TransposePermExpr(node, shape.size()), Ptr(y)});
      return true;
    }
    if (op == "Concat") return EmitConcat(node);
    if (op == "TopK") {
      std::optional<std::vector<std::int64_t>> k = ConstantInts(node, 1);
      if (!k || k->size() != 1) {
        return Fail(node, diag::Code::kOnnxShape, "K must be a constant with one value");
      }
      const Shape& shape = ShapeOf(x);
      std::size_t axis = NormalizeAxis(node.Int("axis", -1), shape.size());
      Call(op, {Ptr(x), Product(shape, 0, axis), Product(shape, axis, axis + 1),
                Product(shape, axis + 1, shape.size()), std::to_string((*k)[0]),
                node.Int("largest", 1) ? "true" : "false", Ptr(y), Ptr(node.outputs[1])});
      return true;
    }
    if (op == "ArgMax") {
      const Shape& shape = ShapeOf(x);
      std::size_t axis = NormalizeAxis(node.Int("axis", 0), shape.size());
      Call(op, {Ptr(x), Product(shape, 0, axis), Product(shape, axis, axis + 1),
                Product(shape, axis + 1, shape.size()),
                node.Int("select_last_index", 0) ? "true" : "false", Ptr(y)});
      return true;
    }
    if (op == "Scaler") {
      const Shape& shape = ShapeOf(x);
      Call(op, {Ptr(x), Product(shape, 0, shape.size() - 1),
                Product(shape, shape.size() - 1, shape.size()), AttributePtr(n, "offset"),
                AttributeCount(n, "offset"), AttributePtr(n, "scale"), AttributeCount(n, "scale"),
                Ptr(y)});
      return true;
    }
    if (op == "Normalizer") {
      const Shape& shape = ShapeOf(x);
      std::string member =
          Member("k::Norm", "k::ParseNorm(" + CppStringLiteral(node.String("norm", "MAX")) + ")");
      Call(op, {Ptr(x), Product(shape, 0, shape.size() - 1),
                Product(shape, shape.size() - 1, shape.size()), member, Ptr(y)});
      return true;
    }
    if (op == "LinearRegressor") {
      const Shape& shape = ShapeOf(x);
      std::string post = Member(
          "k::PostTransform",
          "k::ParsePostTransform(" + CppStringLiteral(node.String("post_transform", "NONE")) + ")");
      Call(op,
           {Ptr(x), Product(shape, 0, shape.size() - 1),
            Product(shape, shape.size() - 1, shape.size()), AttributePtr(n, "coefficients"),
            AttributePtr(n, "intercepts"), std::to_string(node.Int("targets", 1)), post, Ptr(y)});
      return true;
    }
    if (op == "LinearClassifier") return EmitLinearClassifier(n, node);
    if (op == "TreeEnsembleRegressor" || op == "TreeEnsembleClassifier") {
      return EmitTreeEnsemble(n, node);
    }
    if (op == "StringNormalizer") return EmitStringNormalizer(node);
    if (op == "TfIdfVectorizer") return EmitTfIdf(n, node);
    return Fail(node, diag::Code::kOnnxOperator,
                "the CPU back end does not generate code for '" + op + "'");
  }

  auto EmitGemm(const Node& node) -> bool {
    ValueId a = node.inputs[0];
    ValueId c = node.Input(2);
    const Shape& out = ShapeOf(node.outputs[0]);
    bool trans_a = node.Int("transA", 0) != 0;
    std::string bias_shape = "k::BiasShape::kAuto";
    if (c != graph::kNoValue) {
      bias_shape = "k::BiasShape::" + std::string(GemmBiasShape(ShapeOf(c)));
    }
    Call("Gemm", {Ptr(a), Ptr(node.inputs[1]), Ptr(c), Ptr(node.outputs[0]), Size(out[0]),
                  Size(out[1]), Size(ShapeOf(a)[trans_a ? 0 : 1]), trans_a ? "true" : "false",
                  node.Int("transB", 0) ? "true" : "false", FloatLiteral(node.Float("alpha", 1.0F)),
                  FloatLiteral(node.Float("beta", 1.0F)), ActivationExpr(node), bias_shape});
    return true;
  }

  auto EmitClip(const Node& node) -> bool {
    std::optional<std::array<float, 2>> bounds = ClipBounds(graph_, node);
    if (!bounds) {
      return Fail(node, diag::Code::kOnnxShape,
                  "Clip's min and max must be constant scalars for the CPU back end");
    }
    Call("Clip", {Ptr(node.inputs[0]), Ptr(node.outputs[0]), Count(node.outputs[0]),
                  FloatLiteral((*bounds)[0]), FloatLiteral((*bounds)[1])});
    return true;
  }

  /// Kernel, strides, dilations and resolved pads of a Conv or pool with
  /// spatial sizes `in` (known: shape inference checked them) and `out`.
  auto ResolveWindow(const Node& node, const std::vector<std::int64_t>& kernel, const Shape& in,
                     const Shape& out, Window& window) -> bool {
    std::size_t axes = in.size() - 2;
    if (axes < 1 || axes > 2 || kernel.size() != axes) {
      return Fail(node, diag::Code::kOnnxShape,
                  "the CPU back end supports 1-D and 2-D windows only, got " +
                      std::to_string(axes) + " spatial axes");
    }
    window = WindowGeometry(node, kernel, in, out);
    return true;
  }

  /// The "p.field = value;" lines of a ConvParams/PoolParams named `p`.
  auto WindowFields(const Window& w, const Shape& in, const Shape& out) -> std::string {
    bool one_d = in.size() == 3;
    std::string out_h = one_d ? "1" : Size(out[2]);
    std::string out_w = Size(out[in.size() - 1]);
    std::string in_h = one_d ? "1" : Size(in[2]);
    std::string in_w = Size(in[in.size() - 1]);
    return "p.in_h = " + in_h + "; p.in_w = " + in_w + "; p.out_h = " + out_h +
           "; p.out_w = " + out_w + ";\n      p.kernel_h = " + std::to_string(w.kernel[0]) +
           "; p.kernel_w = " + std::to_string(w.kernel[1]) +
           "; p.stride_h = " + std::to_string(w.stride[0]) +
           "; p.stride_w = " + std::to_string(w.stride[1]) +
           ";\n      p.pad_top = " + std::to_string(w.pad_begin[0]) +
           "; p.pad_left = " + std::to_string(w.pad_begin[1]) +
           "; p.pad_bottom = " + std::to_string(w.pad_end[0]) +
           "; p.pad_right = " + std::to_string(w.pad_end[1]) +
           ";\n      p.dilation_h = " + std::to_string(w.dilation[0]) +
           "; p.dilation_w = " + std::to_string(w.dilation[1]) + ";";
  }

  auto EmitConv(const Node& node) -> bool {
    ValueId x = node.inputs[0];
    ValueId w = node.inputs[1];
    ValueId y = node.outputs[0];
    const Shape& in = ShapeOf(x);
    const std::vector<std::int64_t> kernel = ConvKernel(node, ShapeOf(w));
    Window window;
    if (!ResolveWindow(node, kernel, in, ShapeOf(y), window)) return false;
    Line("{");
    Line("  k::ConvParams p;");
    Line("  p.batch = " + Size(in[0]) + "; p.in_channels = " + Size(in[1]) + "; p.out_channels = " +
         Size(ShapeOf(y)[1]) + "; p.group = " + std::to_string(node.Int("group", 1)) + ";");
    Line("  " + WindowFields(window, in, ShapeOf(y)));
    Line("  k::Conv(" + Ptr(x) + ", " + Ptr(w) + ", " + Ptr(node.Input(2)) + ", " + Ptr(y) +
         ", p, " + ActivationExpr(node) + ");");
    Line("}");
    return true;
  }

  auto EmitPool(const Node& node) -> bool {
    ValueId x = node.inputs[0];
    ValueId y = node.outputs[0];
    const Shape& in = ShapeOf(x);
    Window window;
    if (!ResolveWindow(node, node.Ints("kernel_shape"), in, ShapeOf(y), window)) return false;
    Line("{");
    Line("  k::PoolParams p;");
    Line("  p.batch = " + Size(in[0]) + "; p.channels = " + Size(in[1]) + ";");
    Line("  " + WindowFields(window, in, ShapeOf(y)));
    if (node.op_type == "AveragePool" && node.Int("count_include_pad", 0) != 0) {
      Line("  p.count_include_pad = true;");
    }
    Line("  k::" + node.op_type + "(" + Ptr(x) + ", " + Ptr(y) + ", p);");
    Line("}");
    return true;
  }

  auto EmitConcat(const Node& node) -> bool {
    ValueId y = node.outputs[0];
    const Shape& out = ShapeOf(y);
    graph::DType dtype = graph_.value(y).dtype;
    if (dtype == graph::DType::kString) {
      return Fail(node, diag::Code::kOnnxDataType, "Concat of strings is not supported");
    }
    std::size_t axis = NormalizeAxis(node.Int("axis", 0), out.size());
    std::string pointers;
    std::string sizes;
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      pointers += (i ? ", " : "") + Ptr(node.inputs[i]);
      sizes += (i ? ", " : "") + Size(ShapeOf(node.inputs[i])[axis]);
    }
    Line("{");
    Line("  const " + CType(dtype) + "* const parts[] = {" + pointers + "};");
    Line("  const std::int64_t sizes[] = {" + sizes + "};");
    Line("  k::Concat(parts, sizes, " + std::to_string(node.inputs.size()) + ", " +
         Product(out, 0, axis) + ", " + Product(out, axis + 1, out.size()) + ", " + Ptr(y) + ");");
    Line("}");
    return true;
  }

  /// A member of the generated model initialised in its constructor; returns its name.
  auto Member(const std::string& type, const std::string& init) -> std::string {
    std::string name = "m" + std::to_string(member_count_++) + "_";
    members_ += "  " + type + " " + name + ";\n";
    construct_ += "    " + name + " = " + init + ";\n";
    return name;
  }

  /// Labels output (int64 or string) pointers for a classifier's Run/Classify.
  auto LabelPointers(const Node& node) -> std::pair<std::string, std::string> {
    ValueId labels = node.outputs[0];
    if (graph_.value(labels).dtype == graph::DType::kString) return {"nullptr", Ptr(labels)};
    return {Ptr(labels), "nullptr"};
  }

  auto EmitLinearClassifier(std::size_t n, const Node& node) -> bool {
    const Shape& shape = ShapeOf(node.inputs[0]);
    std::string build = "[this] {\n      k::LinearClassifierAttributes a;\n";
    build +=
        "      a.coefficients = " + AttributeVector(n, "coefficients", graph::DType::kFloat32) +
        ";\n";
    build +=
        "      a.intercepts = " + AttributeVector(n, "intercepts", graph::DType::kFloat32) + ";\n";
    build += "      a.classlabels_ints = " +
             AttributeVector(n, "classlabels_ints", graph::DType::kInt64) + ";\n";
    build += "      a.classlabels_strings = " + CppStringList(node.Strings("classlabels_strings")) +
             ";\n";
    build += "      a.multi_class = " + std::to_string(node.Int("multi_class", 0)) + ";\n";
    build += "      a.post_transform = " + CppStringLiteral(node.String("post_transform", "NONE")) +
             ";\n";
    build += "      return std::make_unique<k::LinearClassifier>(std::move(a), " +
             Size(shape.back()) + ");\n    }()";
    std::string member = Member("std::unique_ptr<k::LinearClassifier>", build);
    auto [labels_i64, labels_str] = LabelPointers(node);
    Line(member + "->Run(" + Ptr(node.inputs[0]) + ", " + Product(shape, 0, shape.size() - 1) +
         ", " + labels_i64 + ", " + labels_str + ", " + Ptr(node.outputs[1]) + ");");
    return true;
  }

  auto EmitTreeEnsemble(std::size_t n, const Node& node) -> bool {
    bool classifier = node.op_type == "TreeEnsembleClassifier";
    const Shape& shape = ShapeOf(node.inputs[0]);
    if (node.Has("nodes_values_as_tensor") || node.Has("base_values_as_tensor") ||
        node.Has("target_weights_as_tensor") || node.Has("class_weights_as_tensor")) {
      return Fail(node, diag::Code::kOnnxAttribute,
                  "the *_as_tensor attributes are not supported; use the float lists");
    }
    const std::string leaf = classifier ? "class_" : "target_";
    std::string build = "[this] {\n      k::TreeEnsembleAttributes a;\n";
    auto ints = [&](const std::string& field, const std::string& attribute) {
      build +=
          "      a." + field + " = " + AttributeVector(n, attribute, graph::DType::kInt64) + ";\n";
    };
    auto floats = [&](const std::string& field, const std::string& attribute) {
      build += "      a." + field + " = " + AttributeVector(n, attribute, graph::DType::kFloat32) +
               ";\n";
    };
    ints("nodes_treeids", "nodes_treeids");
    ints("nodes_nodeids", "nodes_nodeids");
    ints("nodes_featureids", "nodes_featureids");
    floats("nodes_values", "nodes_values");
    build += "      a.nodes_modes = NodeModes(weights_, " +
             CppStringLiteral(
                 AttributeWeight(n, "nodes_modes") ? AttributeWeight(n, "nodes_modes")->name : "") +
             ");\n";
    ints("nodes_truenodeids", "nodes_truenodeids");
    ints("nodes_falsenodeids", "nodes_falsenodeids");
    ints("nodes_missing_value_tracks_true", "nodes_missing_value_tracks_true");
    ints("leaf_treeids", leaf + "treeids");
    ints("leaf_nodeids", leaf + "nodeids");
    ints("leaf_ids", leaf + "ids");
    floats("leaf_weights", leaf + "weights");
    floats("base_values", "base_values");
    build += "      a.n_targets = " + std::to_string(node.Int("n_targets", 1)) + ";\n";
    build += "      a.aggregate_function = " +
             CppStringLiteral(node.String("aggregate_function", "SUM")) + ";\n";
    build += "      a.post_transform = " + CppStringLiteral(node.String("post_transform", "NONE")) +
             ";\n";
    if (classifier) {
      ints("classlabels_int64s", "classlabels_int64s");
      build +=
          "      a.classlabels_strings = " + CppStringList(node.Strings("classlabels_strings")) +
          ";\n";
    }
    build += "      return std::make_unique<k::TreeEnsemble>(a, " + Size(shape.back()) + ", " +
             (classifier ? "true" : "false") + ");\n    }()";
    std::string member = Member("std::unique_ptr<k::TreeEnsemble>", build);
    std::string rows = Product(shape, 0, shape.size() - 1);
    if (classifier) {
      auto [labels_i64, labels_str] = LabelPointers(node);
      Line(member + "->Classify(" + Ptr(node.inputs[0]) + ", " + rows + ", " + labels_i64 + ", " +
           labels_str + ", " + Ptr(node.outputs[1]) + ");");
    } else {
      Line(member + "->Regress(" + Ptr(node.inputs[0]) + ", " + rows + ", " + Ptr(node.outputs[0]) +
           ");");
    }
    return true;
  }

  auto EmitStringNormalizer(const Node& node) -> bool {
    ValueId x = node.inputs[0];
    ValueId y = node.outputs[0];
    std::string build = "[] {\n      k::StringNormalizerAttributes a;\n";
    build += "      a.case_change_action = " +
             CppStringLiteral(node.String("case_change_action", "NONE")) + ";\n";
    build +=
        "      a.is_case_sensitive = " + std::to_string(node.Int("is_case_sensitive", 0)) + ";\n";
    build += "      a.stopwords = " + CppStringList(node.Strings("stopwords")) + ";\n";
    build += "      a.locale = " + CppStringLiteral(node.String("locale", "")) + ";\n";
    build += "      return std::make_unique<k::StringNormalizer>(std::move(a));\n    }()";
    std::string member = Member("std::unique_ptr<k::StringNormalizer>", build);
    std::string tensor = TensorOf(y);
    Line(tensor + ".dtype = DType::kString;");
    Line(member + "->Run(" + Ptr(x) + ", " + Count(x) + ", " + tensor + ".str);");
    // [C] -> [n], [1, C] -> [1, n]: the width is known only now.
    std::string width = "static_cast<std::int64_t>(" + tensor + ".str.size())";
    const Shape& out = ShapeOf(y);
    if (out.size() == 2) {
      Line(tensor + ".shape = {1, " + width + "};");
    } else {
      Line(tensor + ".shape = {" + width + "};");
    }
    if (!out.empty() && !out.back().known()) {
      sizes_.Bind(out.back().symbol, tensor + ".shape[" + std::to_string(out.size() - 1) + "]");
    }
    return true;
  }

  auto EmitTfIdf(std::size_t n, const Node& node) -> bool {
    ValueId x = node.inputs[0];
    const Shape& shape = ShapeOf(x);
    std::string build = "[this] {\n      k::TfIdfAttributes a;\n";
    build += "      a.min_gram_length = " + std::to_string(node.Int("min_gram_length", 1)) + ";\n";
    build += "      a.max_gram_length = " + std::to_string(node.Int("max_gram_length", 1)) + ";\n";
    build += "      a.max_skip_count = " + std::to_string(node.Int("max_skip_count", 0)) + ";\n";
    build += "      a.mode = " + CppStringLiteral(node.String("mode", "TF")) + ";\n";
    build += "      a.ngram_counts = " + AttributeVector(n, "ngram_counts", graph::DType::kInt64) +
             ";\n";
    build +=
        "      a.ngram_indexes = " + AttributeVector(n, "ngram_indexes", graph::DType::kInt64) +
        ";\n";
    build +=
        "      a.pool_int64s = " + AttributeVector(n, "pool_int64s", graph::DType::kInt64) + ";\n";
    build += "      a.pool_strings = " + CppStringList(node.Strings("pool_strings")) + ";\n";
    build += "      a.weights = " + AttributeVector(n, "weights", graph::DType::kFloat32) + ";\n";
    build += "      return std::make_unique<k::TfIdfVectorizer>(std::move(a));\n    }()";
    std::string member = Member("std::unique_ptr<k::TfIdfVectorizer>", build);
    bool strings = graph_.value(x).dtype == graph::DType::kString;
    std::string rows = shape.size() == 2 ? Size(shape[0]) : "1";
    Line(member + "->Run(" + (strings ? Ptr(x) : "nullptr") + ", " +
         (strings ? "nullptr" : Ptr(x)) + ", " + rows + ", " + Size(shape.back()) + ", " +
         Ptr(node.outputs[0]) + ");");
    return true;
  }

  /// Graph outputs that no node writes (a graph input or a constant): copied at the end.
  auto EmitPassThroughOutputs() -> bool {
    for (std::size_t i : PassThroughOutputs(graph_)) {
      ValueId id = graph_.outputs[i];
      std::string target = "out[" + std::to_string(i) + "]";
      const graph::Value& value = graph_.value(id);
      if (value.dtype == graph::DType::kString) {
        sink_.Add(diag::Code::kOnnxDataType, diag::Location{.file = graph_.source},
                  "output '" + value.name + "'", "a constant string output is not supported");
        return false;
      }
      sizes_.ClearUnresolved();
      run_ += "    // output '" + value.name + "' passes through\n";
      Line("Resize(" + target + ", " + RuntimeDTypeExpr(value.dtype) + ", " +
           DimsExpr(value.shape) + ");");
      std::string source = Ptr(id);
      auto found = tensors_.find(id);
      if (found != tensors_.end() && found->second.starts_with("in[")) {
        source = found->second + "." + Field(value.dtype) + ".data()";
      }
      Call("Copy", {source, target + "." + Field(value.dtype) + ".data()", Count(id)});
    }
    return true;
  }

  auto Assemble() const -> std::string {
    std::string out = "// Generated by ferry compile from " + graph_.source +
                      "; do not edit.\n// One block per ONNX node, named after it.\n"
                      "#include <cstdint>\n#include <limits>\n#include <memory>\n"
                      "#include <string>\n#include <utility>\n#include <vector>\n\n"
                      "#include \"runtime/kernels.h\"\n"
                      "#include \"runtime/model.h\"\n#include \"runtime/weights.h\"\n";
    if (stages_.image) out += "#include \"runtime/image.h\"\n";
    out += "\nnamespace " + lowering_.cpp_namespace + " {\nnamespace {\n\n";
    out += "constexpr char kWeightsSha256[] = \"" + lowering_.weights_sha256 + "\";\n\n";
    out +=
        "[[maybe_unused]] auto F32Vector(const Weights& weights, const char* name)"
        " -> std::vector<float> {\n"
        "  const float* data = weights.F32(name);\n"
        "  return std::vector<float>(data, data + weights.Count(name));\n}\n\n";
    out +=
        "[[maybe_unused]] auto I64Vector(const Weights& weights, const char* name)"
        " -> std::vector<std::int64_t> {\n"
        "  const std::int64_t* data = weights.I64(name);\n"
        "  return std::vector<std::int64_t>(data, data + weights.Count(name));\n}\n\n";
    out +=
        "// nodes_modes is stored as indexes into this list.\n"
        "[[maybe_unused]] auto NodeModes(const Weights& weights, const char* name)"
        " -> std::vector<std::string> {\n  static const char* const kModes[] = {";
    for (std::size_t i = 0; i < std::size(kTreeNodeModes); ++i) {
      out += (i ? ", " : "") + CppStringLiteral(kTreeNodeModes[i]);
    }
    out +=
        "};\n  std::vector<std::string> modes;\n  if (name[0] == 0) return modes;\n"
        "  for (std::int64_t code : I64Vector(weights, name)) {\n"
        "    if (code < 0 || code >= " +
        std::to_string(std::size(kTreeNodeModes)) +
        ") throw Error(\"weights.bin: bad tree node mode\");\n"
        "    modes.emplace_back(kModes[code]);\n  }\n  return modes;\n}\n\n";
    out += "class GeneratedModel final : public Model {\n public:\n";
    out += "  explicit GeneratedModel(Weights weights) : weights_(std::move(weights))";
    for (const Weight& weight : lowering_.weights) {
      std::string getter = graph_.value(weight.value).dtype == graph::DType::kInt64 ? "I64" : "F32";
      out += ",\n        " + CppIdentifier("w_", weight.name) + "(weights_." + getter + "(" +
             CppStringLiteral(weight.name) + "))";
    }
    out += " {\n" + construct_ + "  }\n\n";
    out += TensorInfoAccessors();
    std::vector<std::size_t> word_inputs = WordInputs();
    if (stages_.image) {
      out += "  void Run(const std::vector<Tensor>& given, std::vector<Tensor>& out) override {\n";
      out += DecodeImageLines(
          "String rows for the image input: PNG or JPEG files for the image stage.");
      out += "    CheckInputs(inputs_, in);\n";
    } else if (word_inputs.empty()) {
      out += "  void Run(const std::vector<Tensor>& in, std::vector<Tensor>& out) override {\n";
      out += "    CheckInputs(inputs_, in);\n";
    } else {
      out += "  void Run(const std::vector<Tensor>& given, std::vector<Tensor>& out) override {\n";
      out += "    CheckInputs(inputs_, given);\n";
      out += SplitWords(word_inputs);
    }
    out += BatchLines();
    out += "    arena_.resize(static_cast<std::size_t>(" + BatchExtentExpr(lowering_.plan.arena) +
           "));\n";
    out += "    out.resize(" + std::to_string(graph_.outputs.size()) + ");\n";
    out += run_ + "  }\n\n private:\n";
    out += "  Weights weights_;\n";
    for (const Weight& weight : lowering_.weights) {
      out += "  [[maybe_unused]] const " + CType(graph_.value(weight.value).dtype) + "* " +
             CppIdentifier("w_", weight.name) + ";\n";
    }
    out += members_;
    if (!word_inputs.empty()) {
      out +=
          "  // Raw text split into words: the Tokenizer stage with scikit-learn's token\n"
          "  // pattern (runs of 2+ word characters), as TF-IDF pipelines are trained.\n";
      out +=
          "  k::Tokenizer tokenizer_{[] {\n    k::TokenizerAttributes a;\n"
          "    a.tokenexp = " +
          CppStringLiteral(kWordPattern) + ";\n    return a;\n  }()};\n";
      out += "  std::vector<Tensor> words_;\n";
    }
    if (stages_.image) out += ImageStageMembers(*stages_.image);
    out += "  // Intermediates, laid out by the memory plan (64-byte aligned offsets).\n";
    out += "  std::vector<unsigned char, AlignedAllocator<unsigned char>> arena_;\n";
    out += TensorInfoTables(graph_, stages_);
    out += "};\n\n}  // namespace\n\n";
    out += "auto CreateModel(const std::string& weights_path) -> std::unique_ptr<Model> {\n";
    out +=
        "  return std::make_unique<GeneratedModel>(Weights::Load(weights_path, "
        "kWeightsSha256));\n}\n\n}  // namespace " +
        lowering_.cpp_namespace + "\n";
    return out;
  }

  /// The inputs that take a word sequence: strings shaped [rows, words].
  auto WordInputs() const -> std::vector<std::size_t> {
    std::vector<std::size_t> found;
    for (std::size_t i = 0; i < graph_.inputs.size(); ++i) {
      const graph::Value& value = graph_.value(graph_.inputs[i]);
      if (value.dtype == graph::DType::kString && value.shape.size() == 2 &&
          !value.shape[1].known()) {
        found.push_back(i);
      }
    }
    return found;
  }

  /// Run's prologue for word inputs: where a row holds one string, that
  /// string is raw text (a question as users type it), split into words by
  /// the compiled-in Tokenizer; `in` is then the inputs with words.
  static auto SplitWords(const std::vector<std::size_t>& word_inputs) -> std::string {
    std::string raw;
    for (std::size_t i : word_inputs) {
      raw += (raw.empty() ? "" : " || ") + std::string("given[") + std::to_string(i) +
             "].shape[1] == 1";
    }
    std::string out = "    // One string per row where words are expected: raw text to split.\n";
    out += "    const bool raw_text = " + raw + ";\n";
    out += "    if (raw_text) words_ = given;\n";
    for (std::size_t i : word_inputs) {
      std::string g = "given[" + std::to_string(i) + "]";
      std::string w = "words_[" + std::to_string(i) + "]";
      out += "    if (" + g + ".shape[1] == 1) {\n";
      out += "      std::int64_t width = 0;\n";
      out +=
          "      tokenizer_.Run(" + g + ".str.data(), " + g + ".shape[0], " + w + ".str, width);\n";
      out += "      " + w + ".shape = {" + g + ".shape[0], width};\n    }\n";
    }
    out += "    const std::vector<Tensor>& in = raw_text ? words_ : given;\n";
    return out;
  }

  // scikit-learn's default token pattern (an ECMAScript regex here).
  static constexpr std::string_view kWordPattern = "\\b\\w\\w+\\b";

  const Lowering& lowering_;
  const graph::Graph& graph_;
  diag::Sink& sink_;
  Stages stages_;
  SizeExprs sizes_;
  std::map<ValueId, std::string> pointers_;
  std::map<ValueId, std::string> tensors_;
  std::map<std::pair<std::size_t, std::string>, const Weight*> attribute_weights_;
  std::string run_;
  std::string members_;
  std::string construct_;
  int member_count_ = 0;
};

}  // namespace

auto EmitModel(const Lowering& lowering, diag::Sink& sink) -> std::optional<std::string> {
  return Emitter(lowering, sink).Emit();
}

}  // namespace ferry::codegen

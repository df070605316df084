#include "compiler/codegen/generated_cpp.h"

#include <algorithm>
#include <limits>
#include <locale>
#include <set>
#include <sstream>
#include <utility>

namespace ferry::codegen {

using graph::Dim;
using graph::Shape;

auto CppIdentifier(std::string_view prefix, std::string_view name) -> std::string {
  std::string out(prefix);
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out;
}

auto CppStringLiteral(std::string_view text) -> std::string {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f || c == '?') {
      // Three octal digits always, so a digit that follows cannot extend the escape.
      out += '\\';
      out += static_cast<char>('0' + ((byte >> 6) & 7));
      out += static_cast<char>('0' + ((byte >> 3) & 7));
      out += static_cast<char>('0' + (byte & 7));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

auto CppStringList(const std::vector<std::string>& strings) -> std::string {
  std::string out = "{";
  for (std::size_t i = 0; i < strings.size(); ++i) {
    out += (i ? ", " : "") + CppStringLiteral(strings[i]);
  }
  return out + "}";
}

auto CppFloatLiteral(float value, std::string_view infinity) -> std::string {
  if (value == std::numeric_limits<float>::infinity()) return std::string(infinity);
  if (value == -std::numeric_limits<float>::infinity()) return "-" + std::string(infinity);
  // Nine significant digits round-trip every float; the classic locale keeps '.' the point.
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out.precision(9);
  out << std::scientific << value;
  return out.str() + "f";
}

auto RuntimeDTypeExpr(graph::DType dtype) -> std::string {
  switch (dtype) {
    case graph::DType::kFloat32:
      return "DType::kFloat32";
    case graph::DType::kInt64:
      return "DType::kInt64";
    case graph::DType::kString:
      return "DType::kString";
  }
  return "DType::kFloat32";
}

auto NormalizeAxis(std::int64_t axis, std::size_t rank) -> std::size_t {
  const auto r = static_cast<std::int64_t>(rank);
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

auto TransposePermExpr(const graph::Node& node, std::size_t rank) -> std::string {
  std::vector<std::int64_t> perm = node.Ints("perm");
  if (perm.empty()) {
    for (std::size_t i = rank; i-- > 0;) perm.push_back(static_cast<std::int64_t>(i));
  }
  std::string out = "Dims{";
  for (std::size_t i = 0; i < perm.size(); ++i) out += (i ? ", " : "") + std::to_string(perm[i]);
  return out + "}";
}

auto GemmBiasShape(const Shape& c) -> std::string_view {
  auto one = [](const Dim& dim) { return dim.known() && dim.size == 1; };
  if (std::all_of(c.begin(), c.end(), one)) return "kScalar";
  if (c.size() == 1 || one(c[0])) return "kRow";
  if (one(c[1])) return "kColumn";
  return "kFull";
}

auto ConvKernel(const graph::Node& node, const Shape& w) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> kernel = node.Ints("kernel_shape");
  if (kernel.empty()) {
    for (std::size_t i = 2; i < w.size(); ++i) kernel.push_back(w[i].size);
  }
  return kernel;
}

auto ClipBounds(const graph::Graph& graph, const graph::Node& node)
    -> std::optional<std::array<float, 2>> {
  std::array<float, 2> bounds = {node.Float("min", -std::numeric_limits<float>::infinity()),
                                 node.Float("max", std::numeric_limits<float>::infinity())};
  for (std::size_t i = 1; i <= 2; ++i) {
    if (node.Input(i) == graph::kNoValue) continue;
    const graph::TensorData* data = graph.Constant(node.Input(i));
    if (data == nullptr || data->f32.size() != 1) return std::nullopt;
    bounds[i - 1] = data->f32[0];
  }
  return bounds;
}

auto WindowGeometry(const graph::Node& node, const std::vector<std::int64_t>& kernel,
                    const Shape& in, const Shape& out) -> Window {
  Window window;
  const std::size_t axes = kernel.size();
  const std::vector<std::int64_t> strides = node.Ints("strides");
  const std::vector<std::int64_t> dilations = node.Ints("dilations");
  const std::vector<std::int64_t> pads = node.Ints("pads");
  const std::string auto_pad = node.String("auto_pad", "NOTSET");
  const std::size_t slot0 = 2 - axes;
  for (std::size_t i = 0; i < axes; ++i) {
    const std::size_t s = slot0 + i;
    window.kernel[s] = kernel[i];
    window.stride[s] = strides.empty() ? 1 : strides[i];
    window.dilation[s] = dilations.empty() ? 1 : dilations[i];
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const std::int64_t extent = window.dilation[s] * (kernel[i] - 1) + 1;
      const std::int64_t total = std::max<std::int64_t>(
          0, (out[i + 2].size - 1) * window.stride[s] + extent - in[i + 2].size);
      const std::int64_t small = total / 2;
      window.pad_begin[s] = auto_pad == "SAME_UPPER" ? small : total - small;
      window.pad_end[s] = total - window.pad_begin[s];
    } else if (auto_pad == "NOTSET" && !pads.empty()) {
      window.pad_begin[s] = pads[i];
      window.pad_end[s] = pads[i + axes];
    }
  }
  return window;
}

auto NodeComment(const graph::Node& node) -> std::string {
  std::string fused;
  for (std::size_t i = 1; i < node.fused_from.size(); ++i) {
    fused += (i == 1 ? ", fused with " : ", ") + node.fused_from[i];
  }
  std::string comment = "node '" + node.name + "' (" + node.op_type + ")" + fused;
  std::replace(comment.begin(), comment.end(), '\n', ' ');
  return "    // " + comment + "\n";
}

auto PassThroughOutputs(const graph::Graph& graph) -> std::vector<std::size_t> {
  std::set<graph::ValueId> written;
  for (const graph::Node& node : graph.nodes) {
    written.insert(node.outputs.begin(), node.outputs.end());
  }
  std::vector<std::size_t> found;
  for (std::size_t i = 0; i < graph.outputs.size(); ++i) {
    if (!written.contains(graph.outputs[i])) found.push_back(i);
  }
  return found;
}

auto BatchExtentExpr(const graph::Extent& extent) -> std::string {
  return std::to_string(extent.per_batch) + " * batch + " + std::to_string(extent.fixed);
}

auto ArenaPointer(std::string_view base, const std::string& type, const graph::Extent& offset)
    -> std::string {
  return "reinterpret_cast<" + type + "*>(" + std::string(base) + " + " + BatchExtentExpr(offset) +
         ")";
}

auto BatchLines() -> std::string {
  return "    const std::int64_t batch = in[0].shape.empty() ? 1 : in[0].shape[0];\n"
         "    (void)batch;\n";
}

auto DecodeImageLines(std::string_view comment) -> std::string {
  return "    // " + std::string(comment) +
         "\n"
         "    const bool images = !given.empty() && given[0].dtype == DType::kString;\n"
         "    if (images) {\n"
         "      decoded_.resize(given.size());\n"
         "      image_.Run(given[0], decoded_[0]);\n"
         "      for (std::size_t i = 1; i < given.size(); ++i) decoded_[i] = given[i];\n"
         "    }\n"
         "    const std::vector<Tensor>& in = images ? decoded_ : given;\n";
}

auto TensorInfoAccessors() -> std::string {
  return "  auto inputs() const -> const std::vector<TensorInfo>& override { return inputs_; }\n"
         "  auto outputs() const -> const std::vector<TensorInfo>& override {\n"
         "    return outputs_;\n  }\n\n";
}

namespace {

/// The TensorInfo initializers of the graph's inputs or outputs, with their stages.
auto TensorInfoRows(const graph::Graph& graph, const Stages& stages,
                    const std::vector<graph::ValueId>& ids, bool inputs) -> std::string {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const graph::Value& value = graph.value(ids[i]);
    std::string dims;
    for (const Dim& dim : value.shape) {
      dims += (dims.empty() ? "" : ", ") + (dim.known() ? std::to_string(dim.size) : "-1");
    }
    std::string stage;
    if (inputs && stages.image && stages.image->input == i) stage = ", InputStage::kImage";
    if (!inputs && std::find(stages.label_outputs.begin(), stages.label_outputs.end(), i) !=
                       stages.label_outputs.end()) {
      stage = ",\n       InputStage::kNone, " + CppStringList(stages.labels);
    }
    out += "      {" + CppStringLiteral(value.name) + ", " + RuntimeDTypeExpr(value.dtype) + ", {" +
           dims + "}" + stage + "},\n";
  }
  return out;
}

}  // namespace

auto TensorInfoTables(const graph::Graph& graph, const Stages& stages) -> std::string {
  return "  const std::vector<TensorInfo> inputs_ = {\n" +
         TensorInfoRows(graph, stages, graph.inputs, true) +
         "  };\n"
         "  const std::vector<TensorInfo> outputs_ = {\n" +
         TensorInfoRows(graph, stages, graph.outputs, false) + "  };\n";
}

void SizeExprs::BindInputs(const graph::Graph& graph) {
  for (std::size_t i = 0; i < graph.inputs.size(); ++i) {
    const Shape& shape = graph.value(graph.inputs[i]).shape;
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (!shape[d].known() && !symbols_.contains(shape[d].symbol)) {
        symbols_[shape[d].symbol] =
            "in[" + std::to_string(i) + "].shape[" + std::to_string(d) + "]";
      }
    }
  }
}

void SizeExprs::Bind(const std::string& symbol, std::string expr) {
  symbols_[symbol] = std::move(expr);
}

auto SizeExprs::Size(const Dim& dim) -> std::string {
  if (dim.known()) return std::to_string(dim.size);
  auto found = symbols_.find(dim.symbol);
  if (found == symbols_.end()) {
    unresolved_ = dim.symbol;
    return "0";
  }
  return found->second;
}

auto SizeExprs::Dims(const Shape& shape) -> std::string {
  std::string out = "Dims{";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + Size(shape[i]);
  return out + "}";
}

auto SizeExprs::Product(const Shape& shape, std::size_t begin, std::size_t end) -> std::string {
  std::string out;
  std::int64_t known = 1;
  for (std::size_t i = begin; i < end && i < shape.size(); ++i) {
    if (shape[i].known()) {
      known *= shape[i].size;
    } else {
      out += (out.empty() ? "" : " * ") + Size(shape[i]);
    }
  }
  if (out.empty()) return std::to_string(known);
  return known == 1 ? out : std::to_string(known) + " * " + out;
}

auto SizeExprs::Count(const Shape& shape) -> std::string { return Product(shape, 0, shape.size()); }

}  // namespace ferry::codegen

// Internal to the code generators: the pieces of generated C++ that the CPU
// (cpu_emit.cc) and GPU (gpu_emit.cc) emitters write alike — literals and
// identifiers, sizes as expressions over the symbols bound to input dims, the
// ONNX attribute logic both lower the same way (axes, Transpose's perm, Gemm's
// bias broadcast, Clip's bounds, Conv/pool kernels and windows) and the model
// class's TensorInfo tables and Run prologue lines.
// What only looks alike stays in each emitter: the runtime calls, activations,
// element types (a device tensor has no strings), members and diagnostics.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/codegen/stages.h"
#include "compiler/graph/graph.h"
#include "compiler/graph/passes.h"

namespace ferry::codegen {

/// `prefix` then `name` with every byte outside [A-Za-z0-9] as '_': a C++
/// identifier for an ONNX or model name (the prefix keeps it off keywords).
auto CppIdentifier(std::string_view prefix, std::string_view name) -> std::string;

/// A C++ string literal holding `text` byte for byte: octal escapes for bytes
/// outside printable ASCII and for '?' (no trigraphs), backslash before '"' and '\'.
auto CppStringLiteral(std::string_view text) -> std::string;

/// A braced list of string literals, `{"a", "b"}`.
auto CppStringList(const std::vector<std::string>& strings) -> std::string;

/// A float literal that reads back as the same float; +-infinity as
/// `infinity` and "-" + `infinity` (each target spells it its own way).
auto CppFloatLiteral(float value, std::string_view infinity) -> std::string;

/// The runtime's DType enumerator of `dtype` ("DType::kFloat32", ...).
auto RuntimeDTypeExpr(graph::DType dtype) -> std::string;

/// An ONNX axis attribute (negative: counted from the end) as an index into a
/// shape of `rank` dims.
auto NormalizeAxis(std::int64_t axis, std::size_t rank) -> std::size_t;

/// Transpose's permutation (the `perm` attribute, by default the dims of a
/// shape of `rank` reversed) as "Dims{...}".
auto TransposePermExpr(const graph::Node& node, std::size_t rank) -> std::string;

/// How a Gemm's bias C of shape `c` broadcasts over the [M, N] output:
/// "kScalar", "kRow", "kColumn" or "kFull" (BiasShape's enumerators on both targets).
auto GemmBiasShape(const graph::Shape& c) -> std::string_view;

/// Conv's kernel_shape, by default the spatial dims of its weight `w`.
auto ConvKernel(const graph::Node& node, const graph::Shape& w) -> std::vector<std::int64_t>;

/// Clip's min and max: its inputs 1 and 2 where given, else its attributes
/// (opset < 11), else -infinity and infinity. nullopt when a given input is
/// not a constant scalar (both targets compile the bounds in).
auto ClipBounds(const graph::Graph& graph, const graph::Node& node)
    -> std::optional<std::array<float, 2>>;

/// A Conv's or pool's window over two axes; a 1-D window uses the second
/// (width) slot and leaves the height slot at 1.
struct Window {
  std::int64_t kernel[2] = {1, 1};
  std::int64_t stride[2] = {1, 1};
  std::int64_t dilation[2] = {1, 1};
  std::int64_t pad_begin[2] = {0, 0};
  std::int64_t pad_end[2] = {0, 0};
};

/// The strides, dilations and pads (auto_pad resolved) of `node` with
/// `kernel` over input `in` and output `out`. The caller checks first that
/// `kernel` has one entry per spatial axis of `in` and that there are 1 or 2.
auto WindowGeometry(const graph::Node& node, const std::vector<std::int64_t>& kernel,
                    const graph::Shape& in, const graph::Shape& out) -> Window;

/// The comment line opening a node's code: "    // node 'NAME' (OP), fused with ...\n".
auto NodeComment(const graph::Node& node) -> std::string;

/// Indexes into graph.outputs of the outputs that no node writes (a graph
/// input or a constant passed through), which Run copies at the end.
auto PassThroughOutputs(const graph::Graph& graph) -> std::vector<std::size_t>;

/// "P * batch + F": an extent of the memory plan at Run's `batch`.
auto BatchExtentExpr(const graph::Extent& extent) -> std::string;

/// "reinterpret_cast<TYPE*>(BASE + P * batch + F)": a typed pointer to a
/// buffer at `offset` in an arena whose bytes start at the expression `base`.
auto ArenaPointer(std::string_view base, const std::string& type, const graph::Extent& offset)
    -> std::string;

/// Run's lines binding `batch` (the rows of the first input).
auto BatchLines() -> std::string;

/// Run's lines decoding the image input's string rows (PNG or JPEG files)
/// into `decoded_` with the image stage and binding `in` to what the model
/// reads; `comment` is the line saying so.
auto DecodeImageLines(std::string_view comment) -> std::string;

/// The model class's inputs() and outputs() overrides.
auto TensorInfoAccessors() -> std::string;

/// The model class's inputs_ and outputs_ tables: each tensor's name, dtype
/// and dims (-1 where symbolic), the image input and labelled outputs marked.
auto TensorInfoTables(const graph::Graph& graph, const Stages& stages) -> std::string;

/// Sizes as C++ expressions: known sizes as numbers, a symbolic dim as the
/// expression bound to its symbol (the input dim it comes from, or a tensor
/// known only while running). An unbound symbol gives "0" and is remembered,
/// for the emitter to report.
class SizeExprs {
 public:
  /// Binds each symbolic dim of the graph's inputs, first use first, to "in[i].shape[d]".
  void BindInputs(const graph::Graph& graph);
  /// Binds (or rebinds) `symbol` to `expr`.
  void Bind(const std::string& symbol, std::string expr);

  /// The size of `dim`.
  auto Size(const graph::Dim& dim) -> std::string;
  /// "Dims{...}" of `shape`.
  auto Dims(const graph::Shape& shape) -> std::string;
  /// The product of dims [begin, end) of `shape`, known factors folded.
  auto Product(const graph::Shape& shape, std::size_t begin, std::size_t end) -> std::string;
  /// The element count of `shape`.
  auto Count(const graph::Shape& shape) -> std::string;

  /// The last unbound symbol met since ClearUnresolved ("" when none).
  auto unresolved() const -> const std::string& { return unresolved_; }
  void ClearUnresolved() { unresolved_.clear(); }

 private:
  std::map<std::string, std::string> symbols_;
  std::string unresolved_;
};

}  // namespace ferry::codegen

#include "compiler/onnx/convert.h"

#include <cstring>
#include <limits>

namespace ferry::onnx {
namespace {

using graph::DType;
using ::onnx::AttributeProto;
using ::onnx::TensorProto;

/// Little-endian raw_data -> values; the caller checked the byte count.
template <typename T>
auto FromRaw(const std::string& raw, std::size_t count) -> std::vector<T> {
  std::vector<T> out(count);
  if (count > 0) std::memcpy(out.data(), raw.data(), count * sizeof(T));
  return out;
}

/// The element count of `dims`, or nullopt (reported) when a dim is negative,
/// too large or the product overflows.
auto CheckedCount(const google::protobuf::RepeatedField<std::int64_t>& dims,
                  const Reporter& reporter, const std::string& path) -> std::optional<std::size_t> {
  if (static_cast<std::size_t>(dims.size()) > reporter.limits.max_rank) {
    reporter.Error(diag::Code::kOnnxLimits, path,
                   "tensor has rank " + std::to_string(dims.size()) + "; at most " +
                       std::to_string(reporter.limits.max_rank) + " is supported");
    return std::nullopt;
  }
  std::size_t count = 1;
  for (std::int64_t dim : dims) {
    if (dim < 0 || dim > reporter.limits.max_dim) {
      reporter.Error(diag::Code::kOnnxLimits, path,
                     "tensor dimension " + std::to_string(dim) + " is outside 0.." +
                         std::to_string(reporter.limits.max_dim));
      return std::nullopt;
    }
    auto size = static_cast<std::size_t>(dim);
    if (size != 0 && count > std::numeric_limits<std::uint32_t>::max() / size) {
      reporter.Error(diag::Code::kOnnxLimits, path, "tensor has more than 2^32 elements");
      return std::nullopt;
    }
    count *= size;
  }
  return count;
}

/// Copies a typed repeated field or raw_data into `out`, checking the count
/// against the dims (so memory never exceeds what the file holds).
template <typename T, typename Repeated>
auto ReadData(const TensorProto& tensor, const Repeated& typed, std::size_t count,
              const Reporter& reporter, const std::string& path, std::vector<T>& out) -> bool {
  std::size_t have = 0;
  if (tensor.has_raw_data()) {
    have = tensor.raw_data().size() / sizeof(T);
    if (tensor.raw_data().size() % sizeof(T) == 0 && have == count) {
      out = FromRaw<T>(tensor.raw_data(), count);
      return true;
    }
  } else {
    have = static_cast<std::size_t>(typed.size());
    if (have == count) {
      out.assign(typed.begin(), typed.end());
      return true;
    }
  }
  reporter.Error(diag::Code::kOnnxCorrupt, path,
                 "tensor '" + tensor.name() + "' declares " + std::to_string(count) +
                     " elements but holds " + std::to_string(have));
  return false;
}

auto ConvertDims(const ::onnx::TensorShapeProto& shape, const Reporter& reporter,
                 const std::string& path) -> std::optional<graph::Shape> {
  if (static_cast<std::size_t>(shape.dim_size()) > reporter.limits.max_rank) {
    reporter.Error(diag::Code::kOnnxLimits, path,
                   "shape has rank " + std::to_string(shape.dim_size()) + "; at most " +
                       std::to_string(reporter.limits.max_rank) + " is supported");
    return std::nullopt;
  }
  graph::Shape out;
  for (int i = 0; i < shape.dim_size(); ++i) {
    const auto& dim = shape.dim(i);
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0 || dim.dim_value() > reporter.limits.max_dim) {
        reporter.Error(diag::Code::kOnnxLimits, path,
                       "dimension " + std::to_string(dim.dim_value()) + " is outside 0.." +
                           std::to_string(reporter.limits.max_dim));
        return std::nullopt;
      }
      out.push_back(graph::Dim{.size = dim.dim_value(), .symbol = {}});
    } else {
      // An unnamed dynamic dimension gets a name of its own, so it equals no other.
      std::string symbol = dim.has_dim_param() && !dim.dim_param().empty()
                               ? dim.dim_param()
                               : "?" + path + "#" + std::to_string(i);
      out.push_back(graph::Dim{.size = 0, .symbol = symbol});
    }
  }
  return out;
}

}  // namespace

auto ToDType(int elem_type) -> std::optional<DType> {
  switch (elem_type) {
    case TensorProto::FLOAT: return DType::kFloat32;
    case TensorProto::INT64: return DType::kInt64;
    case TensorProto::STRING: return DType::kString;
    default: return std::nullopt;
  }
}

auto ConvertValueInfo(const ::onnx::ValueInfoProto& info, const Reporter& reporter,
                      std::string_view what) -> std::optional<graph::Value> {
  std::string path = std::string(what) + " '" + info.name() + "'";
  if (!info.has_type() || !info.type().has_tensor_type()) {
    reporter.Error(diag::Code::kOnnxDataType, path,
                   "only tensor types are supported (not sequences, maps or optionals)");
    return std::nullopt;
  }
  const auto& tensor_type = info.type().tensor_type();
  std::optional<DType> dtype = ToDType(tensor_type.elem_type());
  if (!dtype) {
    reporter.Error(diag::Code::kOnnxDataType, path,
                   "element type " + std::to_string(tensor_type.elem_type()) +
                       " is not supported; supported: float32, int64, string");
    return std::nullopt;
  }
  graph::Value value{.name = info.name(), .dtype = *dtype, .shape = {}, .has_shape = false,
                     .constant = std::nullopt};
  if (tensor_type.has_shape()) {
    std::optional<graph::Shape> shape = ConvertDims(tensor_type.shape(), reporter, path);
    if (!shape) return std::nullopt;
    value.shape = std::move(*shape);
    value.has_shape = true;
  }
  return value;
}

auto ConvertTensor(const TensorProto& tensor, const Reporter& reporter, const std::string& path)
    -> std::optional<graph::TensorAttribute> {
  if (tensor.data_location() == TensorProto::EXTERNAL || tensor.external_data_size() > 0) {
    reporter.Error(diag::Code::kOnnxExternalData, path,
                   "tensor '" + tensor.name() + "' keeps its data in an external file");
    return std::nullopt;
  }
  if (tensor.has_segment()) {
    reporter.Error(diag::Code::kOnnxCorrupt, path, "segmented tensors are not supported");
    return std::nullopt;
  }
  std::optional<DType> dtype = ToDType(tensor.data_type());
  if (!dtype) {
    reporter.Error(diag::Code::kOnnxDataType, path,
                   "tensor '" + tensor.name() + "' has element type " +
                       std::to_string(tensor.data_type()) +
                       ", which is not supported; supported: float32, int64, string");
    return std::nullopt;
  }
  std::optional<std::size_t> count = CheckedCount(tensor.dims(), reporter, path);
  if (!count) return std::nullopt;
  graph::TensorAttribute out{.dtype = *dtype,
                             .shape = {tensor.dims().begin(), tensor.dims().end()},
                             .data = {}};
  bool ok = false;
  switch (*dtype) {
    case DType::kFloat32:
      ok = ReadData<float>(tensor, tensor.float_data(), *count, reporter, path, out.data.f32);
      break;
    case DType::kInt64:
      ok = ReadData<std::int64_t>(tensor, tensor.int64_data(), *count, reporter, path,
                                  out.data.i64);
      break;
    case DType::kString:
      if (static_cast<std::size_t>(tensor.string_data_size()) == *count) {
        out.data.str.assign(tensor.string_data().begin(), tensor.string_data().end());
        ok = true;
      } else {
        reporter.Error(diag::Code::kOnnxCorrupt, path,
                       "tensor '" + tensor.name() + "' declares " + std::to_string(*count) +
                           " strings but holds " + std::to_string(tensor.string_data_size()));
      }
      break;
  }
  if (!ok) return std::nullopt;
  return out;
}

auto ConvertAttribute(const AttributeProto& attribute, const Reporter& reporter,
                      const std::string& path) -> std::optional<graph::Attribute> {
  std::string where = path + " attribute '" + attribute.name() + "'";
  AttributeProto::AttributeType type = attribute.type();
  // IR version 1 files leave the type unset; the filled field says it.
  if (type == AttributeProto::UNDEFINED) {
    if (attribute.has_f()) type = AttributeProto::FLOAT;
    if (attribute.has_i()) type = AttributeProto::INT;
    if (attribute.has_s()) type = AttributeProto::STRING;
    if (attribute.has_t()) type = AttributeProto::TENSOR;
    if (attribute.floats_size() > 0) type = AttributeProto::FLOATS;
    if (attribute.ints_size() > 0) type = AttributeProto::INTS;
    if (attribute.strings_size() > 0) type = AttributeProto::STRINGS;
  }
  switch (type) {
    case AttributeProto::FLOAT: return attribute.f();
    case AttributeProto::INT: return attribute.i();
    case AttributeProto::STRING: return attribute.s();
    case AttributeProto::FLOATS:
      return std::vector<float>(attribute.floats().begin(), attribute.floats().end());
    case AttributeProto::INTS:
      return std::vector<std::int64_t>(attribute.ints().begin(), attribute.ints().end());
    case AttributeProto::STRINGS:
      return std::vector<std::string>(attribute.strings().begin(), attribute.strings().end());
    case AttributeProto::TENSOR: {
      std::optional<graph::TensorAttribute> tensor = ConvertTensor(attribute.t(), reporter, where);
      if (!tensor) return std::nullopt;
      return std::move(*tensor);
    }
    default:
      reporter.Error(diag::Code::kOnnxAttribute, where,
                     "attribute type " + std::to_string(static_cast<int>(type)) +
                         " (graph, sparse tensor or type) is not supported");
      return std::nullopt;
  }
}

}  // namespace ferry::onnx

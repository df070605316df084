#include "runtime/scoring.h"

#include <bit>
#include <cstring>

namespace ferry_rt {
namespace {

using Kind = json::Value::Kind;

// The input tensor's shape for `rows` rows of `per_row` values each: the
// declared shape with the batch dimension set and at most one other unknown inferred.
auto RowShape(const TensorInfo& info, std::int64_t rows, std::int64_t per_row)
    -> std::vector<std::int64_t> {
  std::vector<std::int64_t> shape = info.shape;
  if (shape.empty()) throw RequestError("input '" + info.name + "' is a scalar, not rows");
  shape[0] = rows;
  std::int64_t known = 1;
  int unknown = -1;
  for (std::size_t d = 1; d < shape.size(); ++d) {
    if (shape[d] < 0) {
      if (unknown >= 0) {
        throw RequestError("input '" + info.name + "' has two unknown dimensions");
      }
      unknown = static_cast<int>(d);
    } else {
      known *= shape[d];
    }
  }
  if (unknown >= 0) {
    if (known == 0 || per_row % known != 0) {
      throw RequestError("input '" + info.name + "': a row of " + std::to_string(per_row) +
                         " values does not fit its shape");
    }
    shape[unknown] = per_row / known;
  } else if (known != per_row) {
    throw RequestError("input '" + info.name + "': each row needs " + std::to_string(known) +
                       " values, got " + std::to_string(per_row));
  }
  return shape;
}

auto KindName(Kind kind) -> const char* {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "a boolean";
    case Kind::kNumber:
      return "a number";
    case Kind::kString:
      return "a string";
    case Kind::kArray:
      return "an array";
    case Kind::kObject:
      return "an object";
  }
  return "?";
}

// Appends the values of one row (nested arrays flattened) to `out`.
void Flatten(const TensorInfo& info, std::size_t row, const json::Value& value, Tensor& out) {
  if (value.kind == Kind::kArray) {
    for (const auto& item : value.array) Flatten(info, row, item, out);
    return;
  }
  const bool is_string = out.dtype == DType::kString;
  if (value.kind != (is_string ? Kind::kString : Kind::kNumber)) {
    throw RequestError("input '" + info.name + "' takes " + DTypeName(out.dtype) + " values (" +
                       (is_string ? "strings" : "numbers") + "); row " + std::to_string(row) +
                       " has " + KindName(value.kind));
  }
  if (is_string) {
    out.str.push_back(value.string);
  } else if (out.dtype == DType::kFloat32) {
    out.f32.push_back(static_cast<float>(value.number));
  } else {
    const auto integer = static_cast<std::int64_t>(value.number);
    if (static_cast<double>(integer) != value.number) {
      throw RequestError("input '" + info.name + "' takes int64 values; row " +
                         std::to_string(row) + " has " + json::Number(value.number));
    }
    out.i64.push_back(integer);
  }
}

// Image rows: one string each, as the row or a row of one string.
void ImageRows(const TensorInfo& info, const json::Value& rows, Tensor& out) {
  out.dtype = DType::kString;
  out.str.clear();
  for (const auto& row : rows.array) {
    const json::Value* item = &row;
    if (row.kind == Kind::kArray && row.array.size() == 1) item = &row.array[0];
    if (item->kind != Kind::kString) {
      throw RequestError("input '" + info.name + "': give every row as numbers or every row " +
                         "as one base64 image string, not both");
    }
    out.str.push_back(item->string);
  }
  out.shape.assign(1, static_cast<std::int64_t>(out.str.size()));
}

// Whether the first value in `value` (depth first) is a string.
auto FirstIsString(const json::Value& value) -> bool {
  if (value.kind == Kind::kArray) return !value.array.empty() && FirstIsString(value.array[0]);
  return value.kind == Kind::kString;
}

// Writes `values` nested by `shape` from dimension `dim`.
template <typename Write>
void Nested(std::string& out, const std::vector<std::int64_t>& shape, std::size_t dim,
            std::int64_t& index, Write write) {
  if (dim == shape.size()) {
    write(out, index++);
    return;
  }
  out += '[';
  for (std::int64_t i = 0; i < shape[dim]; ++i) {
    if (i) out += ',';
    Nested(out, shape, dim + 1, index, write);
  }
  out += ']';
}

// An output of class indices with its labels: the label strings.
void WriteLabels(std::string& out, const TensorInfo& info, const Tensor& t) {
  std::int64_t index = 0;
  Nested(out, t.shape, 0, index, [&info, &t](std::string& s, std::int64_t at) {
    const std::int64_t id = t.i64[static_cast<std::size_t>(at)];
    if (id < 0 || id >= std::ssize(info.labels)) {
      throw Error("output '" + info.name + "': class index " + std::to_string(id) +
                  " is outside the model's " + std::to_string(info.labels.size()) + " labels");
    }
    s += json::Quote(info.labels[static_cast<std::size_t>(id)]);
  });
}

auto HasLabels(const TensorInfo& info, const Tensor& t) -> bool {
  return !info.labels.empty() && t.dtype == DType::kInt64;
}

void WriteValues(std::string& out, const Tensor& t) {
  std::int64_t index = 0;
  Nested(out, t.shape, 0, index, [&t](std::string& s, std::int64_t at) {
    const auto i = static_cast<std::size_t>(at);
    switch (t.dtype) {
      case DType::kFloat32:
        s += json::Number(t.f32[i]);
        break;
      case DType::kInt64:
        s += std::to_string(t.i64[i]);
        break;
      case DType::kString:
        s += json::Quote(t.str[i]);
        break;
    }
  });
}

}  // namespace

auto ParseRequestJson(std::string_view body) -> json::Value {
  try {
    return json::Parse(body);
  } catch (const Error& error) {
    throw RequestError(std::string("malformed JSON: ") + error.what());
  }
}

auto RequestedModel(const json::Value& request) -> std::string {
  if (request.kind != Kind::kObject) return "";
  auto found = request.object.find("model");
  if (found == request.object.end()) return "";
  if (found->second.kind != Kind::kString) {
    throw RequestError("\"model\" must be a model's name");
  }
  return found->second.string;
}

void JsonRows(const TensorInfo& info, const json::Value& request, Tensor& out) {
  auto found = request.kind == Kind::kObject ? request.object.find("data") : request.object.end();
  if (found == request.object.end() || found->second.kind != Kind::kArray) {
    throw RequestError("expected {\"data\": [row, ...]}");
  }
  const json::Value& rows = found->second;
  if (rows.array.empty()) throw RequestError("\"data\" has no rows");
  if (info.stage == InputStage::kImage && FirstIsString(rows)) return ImageRows(info, rows, out);
  out.dtype = info.dtype;
  out.f32.clear();
  out.i64.clear();
  out.str.clear();
  const auto held = [&out] {
    return out.dtype == DType::kFloat32 ? std::ssize(out.f32)
           : out.dtype == DType::kInt64 ? std::ssize(out.i64)
                                        : std::ssize(out.str);
  };
  std::int64_t per_row = 0;
  for (std::size_t row = 0; row < rows.array.size(); ++row) {
    Flatten(info, row, rows.array[row], out);
    if (row == 0) per_row = held();
    if (held() != per_row * static_cast<std::int64_t>(row + 1)) {
      throw RequestError("the rows of \"data\" differ in length: row 0 has " +
                         std::to_string(per_row) + " values, row " + std::to_string(row) +
                         " has " + std::to_string(held() - per_row * static_cast<std::int64_t>(row)));
    }
  }
  out.shape = RowShape(info, static_cast<std::int64_t>(rows.array.size()), per_row);
}

void Float32Rows(const TensorInfo& info, std::string_view bytes, Tensor& out) {
  if (info.dtype != DType::kFloat32) {
    throw RequestError("input '" + info.name + "' takes " + DTypeName(info.dtype) +
                       " values; an application/octet-stream body holds float32 values");
  }
  if (bytes.empty() || bytes.size() % sizeof(float) != 0) {
    throw RequestError("an application/octet-stream body holds float32 values: " +
                       std::to_string(bytes.size()) + " bytes is not a whole number of them");
  }
  std::int64_t per_row = 1;
  for (std::size_t d = 1; d < info.shape.size(); ++d) {
    if (info.shape[d] < 0) {
      throw RequestError("input '" + info.name +
                         "' has a dimension of unknown size besides the rows; send JSON rows");
    }
    per_row *= info.shape[d];
  }
  const auto values = static_cast<std::int64_t>(bytes.size() / sizeof(float));
  if (info.shape.empty() || per_row == 0 || values % per_row != 0) {
    throw RequestError("input '" + info.name + "': " + std::to_string(values) +
                       " float32 values are not whole rows of " + std::to_string(per_row));
  }
  out.dtype = DType::kFloat32;
  out.shape = info.shape;
  out.shape[0] = values / per_row;
  out.f32.resize(static_cast<std::size_t>(values));
  std::memcpy(out.f32.data(), bytes.data(), bytes.size());
  if constexpr (std::endian::native == std::endian::big) {
    for (float& value : out.f32) {
      value = std::bit_cast<float>(__builtin_bswap32(std::bit_cast<std::uint32_t>(value)));
    }
  }
}

void ImageRow(const TensorInfo& info, std::string_view bytes, Tensor& out) {
  if (info.stage != InputStage::kImage) {
    throw RequestError("input '" + info.name + "' takes no images; send JSON rows");
  }
  out.dtype = DType::kString;
  out.shape.assign(1, 1);
  out.str.resize(1);
  out.str[0].assign(bytes);
}

auto RowCount(const Tensor& tensor) -> std::int64_t {
  return tensor.shape.empty() ? 0 : tensor.shape[0];
}

void WriteOutputs(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& outputs,
                  std::string& out) {
  out += "{\"outputs\": {";
  std::string class_ids;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    const std::string key = json::Quote(infos[i].name) + ": ";
    out += (i ? ", " : "") + key;
    if (HasLabels(infos[i], t)) {
      WriteLabels(out, infos[i], t);
      class_ids += (class_ids.empty() ? "" : ", ") + key;
      WriteValues(class_ids, t);
    } else {
      WriteValues(out, t);
    }
  }
  out += "}";
  if (!class_ids.empty()) out += ", \"class_ids\": {" + class_ids + "}";
  out += "}\n";
}

}  // namespace ferry_rt

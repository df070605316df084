// bin/score: scores JSON rows with the bundle's model, or benchmarks it.
//   score [--model NAME] [--weights PATH] < {"data": [[...], ...]}
//     -> {"outputs": {"NAME": [...]}}
//   score --bench N [--batch B] [--model NAME] [--weights PATH]
//     -> median_us=… p99_us=… n=N batch=B
// A bundle serving several models scores the one the request's "model" key
// names, else --model's, else the first. The weights default to the model's
// file in the bundle next to this program (../weights.bin for one model).
// A model with an image stage also takes one base64 PNG or JPEG string per
// row ({"data": ["iVBOR..."]}). Outputs of class indices with labels are
// written as the label strings, their indices under "class_ids":
//   {"outputs": {"classes": [["horse", ...]], ...}, "class_ids": {"classes": [[7, ...]]}}
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "runtime/json.h"
#include "runtime/model.h"

namespace {

using ferry_rt::DType;
using ferry_rt::Error;
using ferry_rt::Tensor;
using ferry_rt::TensorInfo;

auto DefaultWeights(const char* argv0, const std::string& in_bundle) -> std::string {
  std::string self = argv0;
  auto slash = self.rfind('/');
  std::string dir = slash == std::string::npos ? "." : self.substr(0, slash);
  return dir + "/../" + in_bundle;
}

// The request's "model" key, "" when it has none.
auto RequestedModel(const std::string& text) -> std::string {
  ferry_rt::json::Value doc = ferry_rt::json::Parse(text);
  if (doc.kind != ferry_rt::json::Value::Kind::kObject) return "";
  auto found = doc.object.find("model");
  if (found == doc.object.end()) return "";
  if (found->second.kind != ferry_rt::json::Value::Kind::kString) {
    throw Error("\"model\" must be a model's name");
  }
  return found->second.string;
}

// The input tensor's shape for `rows` rows of `per_row` values each: the
// declared shape with the batch dimension set and at most one other unknown inferred.
auto RowShape(const TensorInfo& info, std::int64_t rows, std::int64_t per_row)
    -> std::vector<std::int64_t> {
  std::vector<std::int64_t> shape = info.shape;
  if (shape.empty()) throw Error("input '" + info.name + "' is a scalar, not rows");
  shape[0] = rows;
  std::int64_t known = 1;
  int unknown = -1;
  for (std::size_t d = 1; d < shape.size(); ++d) {
    if (shape[d] < 0) {
      if (unknown >= 0) throw Error("input '" + info.name + "' has two unknown dimensions");
      unknown = static_cast<int>(d);
    } else {
      known *= shape[d];
    }
  }
  if (unknown >= 0) {
    if (known == 0 || per_row % known != 0) throw Error("row length does not fit the input shape");
    shape[unknown] = per_row / known;
  } else if (known != per_row) {
    throw Error("input '" + info.name + "': each row needs " + std::to_string(known) +
                " values, got " + std::to_string(per_row));
  }
  return shape;
}

void Flatten(const ferry_rt::json::Value& value, Tensor& out) {
  using Kind = ferry_rt::json::Value::Kind;
  if (value.kind == Kind::kArray) {
    for (const auto& item : value.array) Flatten(item, out);
    return;
  }
  if (out.dtype == DType::kString) {
    if (value.kind != Kind::kString) throw Error("expected a string in \"data\"");
    out.str.push_back(value.string);
  } else if (value.kind == Kind::kNumber) {
    if (out.dtype == DType::kFloat32) {
      out.f32.push_back(static_cast<float>(value.number));
    } else {
      out.i64.push_back(static_cast<std::int64_t>(value.number));
    }
  } else {
    throw Error("expected a number in \"data\"");
  }
}

// Image rows: one string each, as the row or a row of one string.
auto ImageRows(const TensorInfo& info, const ferry_rt::json::Value& rows) -> Tensor {
  using Kind = ferry_rt::json::Value::Kind;
  Tensor tensor;
  tensor.dtype = DType::kString;
  for (const auto& row : rows.array) {
    const ferry_rt::json::Value* item = &row;
    if (row.kind == Kind::kArray && row.array.size() == 1) item = &row.array[0];
    if (item->kind != Kind::kString) {
      throw Error("input '" + info.name + "': give every row as numbers or every row as one " +
                  "base64 image string, not both");
    }
    tensor.str.push_back(item->string);
  }
  if (tensor.str.empty()) throw Error("\"data\" has no rows");
  tensor.shape = {static_cast<std::int64_t>(tensor.str.size())};
  return tensor;
}

// Whether the first value in `value` (depth first) is a string.
auto FirstIsString(const ferry_rt::json::Value& value) -> bool {
  using Kind = ferry_rt::json::Value::Kind;
  if (value.kind == Kind::kArray) return !value.array.empty() && FirstIsString(value.array[0]);
  return value.kind == Kind::kString;
}

auto ReadInput(const TensorInfo& info, const std::string& text) -> Tensor {
  ferry_rt::json::Value doc = ferry_rt::json::Parse(text);
  auto found = doc.object.find("data");
  if (doc.kind != ferry_rt::json::Value::Kind::kObject || found == doc.object.end() ||
      found->second.kind != ferry_rt::json::Value::Kind::kArray) {
    throw Error("expected {\"data\": [row, ...]} on stdin");
  }
  if (info.stage == ferry_rt::InputStage::kImage && FirstIsString(found->second)) {
    return ImageRows(info, found->second);
  }
  Tensor tensor;
  tensor.dtype = info.dtype;
  auto rows = static_cast<std::int64_t>(found->second.array.size());
  for (const auto& row : found->second.array) Flatten(row, tensor);
  std::int64_t total = tensor.dtype == DType::kFloat32 ? std::ssize(tensor.f32)
                       : tensor.dtype == DType::kInt64 ? std::ssize(tensor.i64)
                                                       : std::ssize(tensor.str);
  if (rows == 0) throw Error("\"data\" has no rows");
  if (total % rows != 0) throw Error("the rows of \"data\" differ in length");
  tensor.shape = RowShape(info, rows, total / rows);
  return tensor;
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
    s += ferry_rt::json::Quote(info.labels[static_cast<std::size_t>(id)]);
  });
}

auto HasLabels(const TensorInfo& info, const Tensor& t) -> bool {
  return !info.labels.empty() && t.dtype == DType::kInt64;
}

auto WriteOutputs(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& outputs)
    -> std::string {
  std::string out = "{\"outputs\": {";
  std::string class_ids;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    const std::string key = ferry_rt::json::Quote(infos[i].name) + ": ";
    out += (i ? ", " : "") + key;
    if (HasLabels(infos[i], t)) {
      WriteLabels(out, infos[i], t);
      class_ids += (class_ids.empty() ? "" : ", ") + key;
      std::int64_t index = 0;
      Nested(class_ids, t.shape, 0, index,
             [&t](std::string& s, std::int64_t at) { s += std::to_string(t.i64[at]); });
      continue;
    }
    std::int64_t index = 0;
    Nested(out, t.shape, 0, index, [&t](std::string& s, std::int64_t at) {
      switch (t.dtype) {
        case DType::kFloat32:
          s += ferry_rt::json::Number(t.f32[at]);
          break;
        case DType::kInt64:
          s += std::to_string(t.i64[at]);
          break;
        case DType::kString:
          s += ferry_rt::json::Quote(t.str[at]);
          break;
      }
    });
  }
  out += "}";
  if (!class_ids.empty()) out += ", \"class_ids\": {" + class_ids + "}";
  return out + "}\n";
}

auto SyntheticInput(const TensorInfo& info, std::int64_t batch) -> Tensor {
  Tensor tensor;
  tensor.dtype = info.dtype;
  tensor.shape = info.shape;
  if (!tensor.shape.empty()) tensor.shape[0] = batch;
  for (std::size_t d = 1; d < tensor.shape.size(); ++d) {
    if (tensor.shape[d] < 0) tensor.shape[d] = 8;
  }
  auto count = static_cast<std::size_t>(ferry_rt::ElementCount(tensor.shape));
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> uniform(0.0F, 1.0F);
  switch (info.dtype) {
    case DType::kFloat32:
      for (std::size_t i = 0; i < count; ++i) tensor.f32.push_back(uniform(rng));
      break;
    case DType::kInt64:
      for (std::size_t i = 0; i < count; ++i)
        tensor.i64.push_back(static_cast<std::int64_t>(i % 7));
      break;
    case DType::kString:
      tensor.str.assign(count, "how do i reset my password");
      break;
  }
  return tensor;
}

auto Bench(ferry_rt::Model& model, std::int64_t n, std::int64_t batch) -> int {
  std::vector<Tensor> inputs;
  for (const TensorInfo& info : model.inputs()) inputs.push_back(SyntheticInput(info, batch));
  std::vector<Tensor> outputs;
  // Warm-up: caches, packed weights, the arena; at most 20 runs, fewer for slow models.
  for (std::int64_t i = 0; i < std::min<std::int64_t>(20, std::max<std::int64_t>(n, 1)); ++i) {
    model.Run(inputs, outputs);
  }
  std::vector<double> micros;
  micros.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    model.Run(inputs, outputs);
    auto end = std::chrono::steady_clock::now();
    micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::sort(micros.begin(), micros.end());
  double median = micros[micros.size() / 2];
  double p99 = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
  std::printf("median_us=%.2f p99_us=%.2f n=%lld batch=%lld\n", median, p99,
              static_cast<long long>(n), static_cast<long long>(batch));
  return 0;
}

auto Usage() -> int {
  std::fprintf(stderr,
               "usage: score [--model NAME] [--weights PATH] < {\"data\": [[...], ...]}\n"
               "       score --bench N [--batch B] [--model NAME] [--weights PATH]\n");
  return 2;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  std::string weights;
  std::string model_name;
  std::int64_t bench = 0;
  std::int64_t batch = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* value = nullptr;
    if (arg == "--weights" && (value = next())) {
      weights = value;
    } else if (arg == "--bench" && (value = next())) {
      bench = std::atoll(value);
    } else if (arg == "--batch" && (value = next())) {
      batch = std::atoll(value);
    } else if (arg == "--model" && (value = next())) {
      model_name = value;
    } else {
      return Usage();
    }
  }
  if (bench < 0 || batch < 1) return Usage();
  try {
    std::string text;
    if (bench == 0) text.assign(std::istreambuf_iterator<char>(std::cin), {});
    const std::string requested = bench == 0 ? RequestedModel(text) : "";
    const ferry_rt::BundledModel& chosen =
        ferry_rt::FindBundledModel(requested.empty() ? model_name : requested);
    if (weights.empty()) weights = DefaultWeights(argv[0], chosen.weights);
    std::unique_ptr<ferry_rt::Model> model = chosen.create(weights);
    if (bench > 0) return Bench(*model, bench, batch);
    if (model->inputs().size() != 1) throw Error("score reads one input; the model has more");
    std::vector<Tensor> inputs = {ReadInput(model->inputs()[0], text)};
    std::vector<Tensor> outputs;
    model->Run(inputs, outputs);
    std::fputs(WriteOutputs(model->outputs(), outputs).c_str(), stdout);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "score: %s\n", error.what());
    return 1;
  }
}

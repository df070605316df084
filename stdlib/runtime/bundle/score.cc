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
#include "runtime/scoring.h"

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
    ferry_rt::json::Value request;
    if (bench == 0) request = ferry_rt::ParseRequestJson(text);
    const std::string requested = bench == 0 ? ferry_rt::RequestedModel(request) : "";
    const ferry_rt::BundledModel& chosen =
        ferry_rt::FindBundledModel(requested.empty() ? model_name : requested);
    if (weights.empty()) weights = DefaultWeights(argv[0], chosen.weights);
    std::unique_ptr<ferry_rt::Model> model = chosen.create(weights);
    if (bench > 0) return Bench(*model, bench, batch);
    if (model->inputs().size() != 1) throw Error("score reads one input; the model has more");
    std::vector<Tensor> inputs(1);
    ferry_rt::JsonRows(model->inputs()[0], request, inputs[0]);
    std::vector<Tensor> outputs;
    model->Run(inputs, outputs);
    std::string out;
    ferry_rt::WriteOutputs(model->outputs(), outputs, out);
    std::fputs(out.c_str(), stdout);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "score: %s\n", error.what());
    return 1;
  }
}

// ONNX Runtime in-process through its C API (our own declarations,
// tests/oracle/ort_api.h), one intra-op thread: the fair anchor for ferry's
// bundles. Same methodology as a bundle's `score --bench`: a synthetic input
// (uniform [0, 1), seed 42), min(20, N) warm-up runs, then N timed runs.
//   ort_bench MODEL.onnx INPUT DIMS OUTPUTS --bench N [--batch B]
// DIMS: the input's dimensions after the batch, comma-separated (e.g. 3,224,224).
// OUTPUTS: the output names, comma-separated.
// For tests (tests/codegen/resnet_vs_ort_test.cc): `--input FILE` reads the
// input's values (whitespace-separated text) instead of drawing them, and
// `--dump FILE` writes the first output's values after one run, one a line
// (%.9g: exact for float32); --bench 0 then times nothing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/oracle/ort_session.h"

namespace {

auto Split(const std::string& text) -> std::vector<std::string> {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) parts.push_back(part);
  return parts;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  if (argc < 7) {
    std::fprintf(stderr, "usage: ort_bench MODEL.onnx INPUT DIMS OUTPUTS --bench N [--batch B]\n");
    return 2;
  }
  std::string model = argv[1];
  std::string input = argv[2];
  std::vector<std::string> dims = Split(argv[3]);
  std::vector<std::string> outputs = Split(argv[4]);
  long n = 0;
  long batch = 1;
  std::string input_file, dump_file;
  for (int i = 5; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--bench") n = std::atol(argv[i + 1]);
    if (flag == "--batch") batch = std::atol(argv[i + 1]);
    if (flag == "--input") input_file = argv[i + 1];
    if (flag == "--dump") dump_file = argv[i + 1];
  }
  try {
    ferry::oracle::OrtSession session(ferry::oracle::OrtLibraryPath(), model);
    ferry_rt::Tensor x;
    x.shape = {batch};
    for (const std::string& d : dims) x.shape.push_back(std::atol(d.c_str()));
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> uniform(0.0F, 1.0F);
    x.f32.resize(static_cast<std::size_t>(ferry_rt::ElementCount(x.shape)));
    for (float& v : x.f32) v = uniform(rng);
    if (!input_file.empty()) {
      std::ifstream in(input_file);
      for (float& v : x.f32) {
        if (!(in >> v)) throw std::runtime_error("too few values in " + input_file);
      }
    }
    std::vector<ferry_rt::Tensor> inputs = {x};
    std::vector<ferry_rt::Tensor> results;
    if (!dump_file.empty()) {
      session.Run({input}, inputs, outputs, results);
      std::FILE* out = std::fopen(dump_file.c_str(), "w");
      if (out == nullptr) throw std::runtime_error("cannot write " + dump_file);
      for (float v : results.at(0).f32) std::fprintf(out, "%.9g\n", static_cast<double>(v));
      std::fclose(out);
      if (n == 0) return 0;
    }
    for (long i = 0; i < std::min(20L, std::max(n, 1L)); ++i) {
      session.Run({input}, inputs, outputs, results);
    }
    std::vector<double> micros;
    for (long i = 0; i < n; ++i) {
      auto start = std::chrono::steady_clock::now();
      session.Run({input}, inputs, outputs, results);
      auto end = std::chrono::steady_clock::now();
      micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    if (micros.empty()) return 0;
    std::sort(micros.begin(), micros.end());
    std::printf("median_us=%.2f p99_us=%.2f n=%ld batch=%ld\n", micros[micros.size() / 2],
                micros[std::min(micros.size() - 1, micros.size() * 99 / 100)], n, batch);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "ort_bench: %s\n", error.what());
    return 1;
  }
  return 0;
}

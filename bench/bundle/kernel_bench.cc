// Micro-benchmark of the runtime's dense kernels on the shapes bench/bundle's
// models use: every distinct convolution of ResNet-18 and the small CNN, and
// the MLP's and the CNN's dense-layer GEMMs, at batch 1 (and 32 for the GEMMs), in
// thread CPU time.
// Weights live in a parsed weights file, as in a bundle, so the kernels'
// caches of packed or transformed weights apply. Prints median microseconds
// and GFLOP/s per shape (Winograd's counted as the direct convolution's).
//   g++ -O3 -march=native -std=c++20 -Istdlib bench/bundle/kernel_bench.cc \
//       stdlib/runtime/{conv,gemm,weights,sha256}.cc -o /tmp/kernel_bench
//   /tmp/kernel_bench [FILTER]        (FILTER: a substring of the shapes' names)
// On a shared machine pin it (taskset -c N) and compare builds in alternation.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "runtime/kernels.h"
#include "runtime/weights.h"

namespace {

namespace k = ferry_rt::k;

struct ConvShape {
  const char* name;
  int count;  // how many such layers the model has
  std::int64_t cin, cout, size, kernel, stride, pad;
};

// Builds a one-tensor weights file around `values` so that IsWeightsMemory holds.
auto WeightsOf(const std::vector<float>& values) -> ferry_rt::Weights {
  std::string bytes("FERRYW1\0", 8);
  auto put = [&bytes](const void* p, std::size_t n) {
    bytes.append(static_cast<const char*>(p), n);
  };
  std::uint64_t count = 1;
  put(&count, 8);
  std::uint32_t name_length = 1, dtype = 0;
  put(&name_length, 4);
  bytes += "w";
  put(&dtype, 4);
  std::uint64_t offset = 64, size = values.size() * sizeof(float);
  put(&offset, 8);
  put(&size, 8);
  bytes.resize(64, '\0');
  put(values.data(), size);
  return ferry_rt::Weights::Parse(std::move(bytes), "", "kernel_bench");
}

auto Random(std::size_t n, unsigned seed) -> std::vector<float> {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0F, 1.0F);
  std::vector<float> v(n);
  for (float& x : v) x = uniform(rng);
  return v;
}

// This thread's CPU time: on a shared machine, time slices given to other
// programs do not count (their use of the caches still does).
auto ThreadMicros() -> double {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) * 1e-3;
}

template <typename Fn>
auto MedianMicros(Fn fn, double flops) -> double {
  fn();
  int runs = std::clamp(static_cast<int>(2e9 / std::max(flops, 1.0)), 5, 2000);
  std::vector<double> micros;
  for (int i = 0; i < runs; ++i) {
    double start = ThreadMicros();
    fn();
    micros.push_back(ThreadMicros() - start);
  }
  std::sort(micros.begin(), micros.end());
  return micros[micros.size() / 2];
}

}  // namespace

auto main(int argc, char** argv) -> int {
  std::string filter = argc > 1 ? argv[1] : "";
  const ConvShape convs[] = {
      {"resnet stem 7x7 s2 3->64 @224", 1, 3, 64, 224, 7, 2, 3},
      {"resnet 3x3 64->64 @56", 4, 64, 64, 56, 3, 1, 1},
      {"resnet 3x3 s2 64->128 @56", 1, 64, 128, 56, 3, 2, 1},
      {"resnet 1x1 s2 64->128 @56", 1, 64, 128, 56, 1, 2, 0},
      {"resnet 3x3 128->128 @28", 3, 128, 128, 28, 3, 1, 1},
      {"resnet 3x3 s2 128->256 @28", 1, 128, 256, 28, 3, 2, 1},
      {"resnet 1x1 s2 128->256 @28", 1, 128, 256, 28, 1, 2, 0},
      {"resnet 3x3 256->256 @14", 3, 256, 256, 14, 3, 1, 1},
      {"resnet 3x3 s2 256->512 @14", 1, 256, 512, 14, 3, 2, 1},
      {"resnet 1x1 s2 256->512 @14", 1, 256, 512, 14, 1, 2, 0},
      {"resnet 3x3 512->512 @7", 3, 512, 512, 7, 3, 1, 1},
      {"cnn 3x3 1->32 @28", 1, 1, 32, 28, 3, 1, 1},
      {"cnn 3x3 32->64 @14", 1, 32, 64, 14, 3, 1, 1},
  };
  double resnet_total = 0;
  std::printf("%-32s %10s %9s\n", "shape (batch 1)", "median_us", "GFLOP/s");
  for (const ConvShape& s : convs) {
    if (!filter.empty() && std::string(s.name).find(filter) == std::string::npos) continue;
    k::ConvParams p;
    p.in_channels = s.cin;
    p.out_channels = s.cout;
    p.in_h = p.in_w = s.size;
    p.kernel_h = p.kernel_w = s.kernel;
    p.stride_h = p.stride_w = s.stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = s.pad;
    p.out_h = p.out_w = (s.size + 2 * s.pad - s.kernel) / s.stride + 1;
    std::vector<float> x = Random(static_cast<std::size_t>(s.cin * s.size * s.size), 1);
    ferry_rt::Weights w =
        WeightsOf(Random(static_cast<std::size_t>(s.cout * s.cin * s.kernel * s.kernel), 2));
    ferry_rt::Weights b = WeightsOf(Random(static_cast<std::size_t>(s.cout), 3));
    std::vector<float> y(static_cast<std::size_t>(s.cout * p.out_h * p.out_w));
    double flops = 2.0 * s.cout * s.cin * s.kernel * s.kernel * p.out_h * p.out_w;
    double us = MedianMicros(
        [&] {
          k::Conv(x.data(), w.F32("w"), b.F32("w"), y.data(), p,
                  k::Activation{k::ActivationKind::kRelu});
        },
        flops);
    if (std::strncmp(s.name, "resnet", 6) == 0) resnet_total += us * s.count;
    std::printf("%-32s %10.1f %9.1f\n", s.name, us, flops / us * 1e-3);
  }
  if (resnet_total > 0) std::printf("%-32s %10.1f\n", "resnet convs, all layers", resnet_total);

  struct GemmShape {
    std::int64_t m, n, k;
  };
  for (std::int64_t batch : {1, 32}) {
    for (GemmShape g :
         {GemmShape{batch, 256, 64}, GemmShape{batch, 256, 256}, GemmShape{batch, 10, 256},
          GemmShape{batch, 128, 3136}}) {
      char name[64];
      std::snprintf(name, sizeof name, "%s gemm %ldx%ldx%ld", g.k == 3136 ? "cnn" : "mlp",
                    static_cast<long>(g.m),
                    static_cast<long>(g.n), static_cast<long>(g.k));
      if (!filter.empty() && std::string(name).find(filter) == std::string::npos) continue;
      std::vector<float> a = Random(static_cast<std::size_t>(g.m * g.k), 4);
      ferry_rt::Weights w = WeightsOf(Random(static_cast<std::size_t>(g.n * g.k), 5));
      ferry_rt::Weights b = WeightsOf(Random(static_cast<std::size_t>(g.n), 6));
      std::vector<float> y(static_cast<std::size_t>(g.m * g.n));
      double flops = 2.0 * g.m * g.n * g.k;
      double us = MedianMicros(
          [&] {
            k::Gemm(a.data(), w.F32("w"), b.F32("w"), y.data(), g.m, g.n, g.k, false, true, 1.0F,
                    1.0F, k::Activation{k::ActivationKind::kRelu});
          },
          flops);
      std::printf("%-32s %10.2f %9.1f\n", name, us, flops / us * 1e-3);
    }
  }
  return 0;
}

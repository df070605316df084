// The blocked GEMM core shared by Gemm, MatMul and Conv: C (M x N) =
// epilogue(A (M x K) * B), B pre-packed into 16-column panels. Internal to
// the runtime; generated code calls kernels_nn.h.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "runtime/kernels_nn.h"
#include "runtime/model.h"
#include "runtime/weights.h"

namespace ferry_rt::k::detail {

/// Columns per packed panel of B (two AVX2 registers).
inline constexpr std::int64_t kPanel = 16;

/// B packed as ceil(N / 16) panels, each K rows of 16 floats (zero-padded).
using PackedB = std::vector<float, AlignedAllocator<float>>;

/// Packs B (K x N; stored N x K when trans) into `out`, resizing it.
void PackB(const float* b, std::int64_t k, std::int64_t n, bool trans, PackedB& out);

/// Data derived from weights (packed panels, transformed kernels) once per
/// loaded weights file and kept by `key` (an address and the dims it was
/// derived with): weights are immutable, and an unload (WeightsEpoch) drops
/// every entry. `derive(PackedB&)` fills a new entry. Each call site (each
/// `Derive` type) has a cache of its own.
template <typename Key, typename Derive>
auto CachedDerivedWeights(const Key& key, Derive derive) -> const float* {
  static std::mutex mutex;
  static std::map<Key, PackedB> cache;
  static std::uint64_t epoch = 0;
  std::lock_guard<std::mutex> lock(mutex);
  if (epoch != WeightsEpoch()) {
    cache.clear();
    epoch = WeightsEpoch();
  }
  auto [found, inserted] = cache.try_emplace(key);
  if (inserted) derive(found->second);
  return found->second.data();
}

/// The packing of B when B lies in a loaded weights file (immutable), cached
/// by address for the life of the process; nullptr when B is not a weight.
auto CachedPackedB(const float* b, std::int64_t k, std::int64_t n, bool trans) -> const float*;

/// What happens to each result after the product: y = act(alpha * ab + beta * bias).
struct Epilogue {
  float alpha = 1;
  float beta = 1;
  const float* bias = nullptr;
  BiasShape bias_shape = BiasShape::kRow;
  Activation act;
};

/// C = epilogue(A * packed B); A is row-major with row stride lda (M x K).
void GemmPacked(const float* a, std::int64_t lda, const float* packed_b, float* c, std::int64_t ldc,
                std::int64_t m, std::int64_t n, std::int64_t k, const Epilogue& epilogue);

/// A thread-local scratch buffer of at least `count` floats, 64-byte aligned;
/// slot picks one of a few independent buffers.
auto Scratch(int slot, std::size_t count) -> float*;

}  // namespace ferry_rt::k::detail

// weights.bin: a bundle's constants in one binary file, separate from the
// generated C++ (which records the file's sha256). Layout, little-endian:
//   "FERRYW1\0"                      8 bytes of magic
//   u64 count
//   count entries: u32 name length, name bytes, u32 dtype (0 float32, 1 int64),
//                  u64 offset (from the start of the file), u64 byte size
//   the data of each tensor at its offset, every offset a multiple of 64.
// The compiler's writer (compiler/codegen/weights.h) produces this layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace ferry_rt {

/// A loaded, verified weights file. Read-only after Load, so one Weights may
/// back many Model instances on many threads.
class Weights {
 public:
  /// Reads `path` and checks its sha256 against `expected_sha256` (64 lowercase
  /// hex digits; empty skips the check), the magic, and that every entry lies
  /// inside the file, is aligned and has a whole number of elements. Throws
  /// ferry_rt::Error naming the file and the problem.
  static auto Load(const std::string& path, std::string_view expected_sha256) -> Weights;
  /// Same over bytes already in memory; `origin` names them in errors.
  static auto Parse(std::string bytes, std::string_view expected_sha256, const std::string& origin)
      -> Weights;

  /// The float32 tensor `name`; throws Error when it is missing or not float32.
  auto F32(const std::string& name) const -> const float*;
  /// The int64 tensor `name`; throws Error when it is missing or not int64.
  auto I64(const std::string& name) const -> const std::int64_t*;
  /// The element count of tensor `name`; throws Error when it is missing.
  auto Count(const std::string& name) const -> std::int64_t;
  /// Whether the file holds a tensor called `name`.
  auto Has(const std::string& name) const -> bool { return entries_.contains(name); }
  /// The number of tensors.
  auto size() const -> std::size_t { return entries_.size(); }

 private:
  struct Entry {
    std::uint32_t dtype = 0;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
  };
  auto Find(const std::string& name, std::uint32_t dtype) const -> const Entry&;

  std::string origin_;
  // The whole file; 64-byte alignment of the data comes from copying it into
  // an aligned buffer (std::string's storage is only 16-byte aligned).
  std::shared_ptr<unsigned char> data_;
  std::size_t length_ = 0;
  std::map<std::string, Entry> entries_;
};

/// Whether `pointer` lies in a currently loaded weights file (immutable memory).
auto IsWeightsMemory(const void* pointer) -> bool;
/// Counts unloads of weights files: caches keyed by weight addresses drop
/// their entries when it changes.
auto WeightsEpoch() -> std::uint64_t;

/// The sha256 of `bytes` as 64 lowercase hex digits.
auto Sha256Hex(std::string_view bytes) -> std::string;

}  // namespace ferry_rt

#include "compiler/codegen/weights.h"

#include <cstring>

namespace ferry::codegen {
namespace {

constexpr std::string_view kMagic("FERRYW1\0", 8);
constexpr std::uint64_t kAlignment = 64;

template <typename T>
void Put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // the supported hosts are little-endian
  out.append(bytes, sizeof(T));
}

template <typename T>
auto Take(std::string_view& in, T& value) -> bool {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(&value, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

auto ByteSize(const NamedTensor& tensor) -> std::uint64_t {
  return tensor.dtype == graph::DType::kFloat32 ? tensor.data->f32.size() * sizeof(float)
                                                : tensor.data->i64.size() * sizeof(std::int64_t);
}

auto Align(std::uint64_t offset) -> std::uint64_t {
  return (offset + kAlignment - 1) / kAlignment * kAlignment;
}

}  // namespace

auto WriteWeights(const std::vector<NamedTensor>& tensors) -> std::string {
  std::uint64_t header = kMagic.size() + sizeof(std::uint64_t);
  for (const NamedTensor& tensor : tensors) {
    header += sizeof(std::uint32_t) * 2 + tensor.name.size() + sizeof(std::uint64_t) * 2;
  }
  std::string out(kMagic);
  Put<std::uint64_t>(out, tensors.size());
  std::uint64_t offset = Align(header);
  for (const NamedTensor& tensor : tensors) {
    Put<std::uint32_t>(out, static_cast<std::uint32_t>(tensor.name.size()));
    out += tensor.name;
    Put<std::uint32_t>(out, tensor.dtype == graph::DType::kFloat32 ? 0 : 1);
    Put<std::uint64_t>(out, offset);
    Put<std::uint64_t>(out, ByteSize(tensor));
    offset = Align(offset + ByteSize(tensor));
  }
  for (const NamedTensor& tensor : tensors) {
    out.resize(Align(out.size()), '\0');
    if (tensor.dtype == graph::DType::kFloat32) {
      out.append(reinterpret_cast<const char*>(tensor.data->f32.data()), ByteSize(tensor));
    } else {
      out.append(reinterpret_cast<const char*>(tensor.data->i64.data()), ByteSize(tensor));
    }
  }
  return out;
}

auto ReadWeightsIndex(std::string_view bytes) -> std::optional<std::vector<WeightsEntry>> {
  std::string_view in = bytes;
  if (!in.starts_with(kMagic)) return std::nullopt;
  in.remove_prefix(kMagic.size());
  std::uint64_t count = 0;
  if (!Take(in, count) || count > bytes.size()) return std::nullopt;
  std::vector<WeightsEntry> entries;
  for (std::uint64_t i = 0; i < count; ++i) {
    WeightsEntry entry;
    std::uint32_t length = 0;
    std::uint32_t dtype = 0;
    if (!Take(in, length) || in.size() < length) return std::nullopt;
    entry.name = std::string(in.substr(0, length));
    in.remove_prefix(length);
    if (!Take(in, dtype) || !Take(in, entry.offset) || !Take(in, entry.size) || dtype > 1) {
      return std::nullopt;
    }
    entry.dtype = dtype == 0 ? graph::DType::kFloat32 : graph::DType::kInt64;
    if (entry.offset % kAlignment != 0 || entry.offset > bytes.size() ||
        entry.size > bytes.size() - entry.offset) {
      return std::nullopt;
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace ferry::codegen

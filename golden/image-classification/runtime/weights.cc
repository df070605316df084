// The weights-file reader: the whole file is read into 64-byte aligned
// memory, hashed, and its index checked entry by entry before any use.
#include "runtime/weights.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include "runtime/model.h"

namespace ferry_rt {
namespace {

constexpr char kMagic[8] = {'F', 'E', 'R', 'R', 'Y', 'W', '1', '\0'};
constexpr std::uint32_t kFloat32 = 0;
constexpr std::uint32_t kInt64 = 1;

struct Registry {
  std::mutex mutex;
  std::vector<std::pair<const unsigned char*, std::size_t>> ranges;
  std::atomic<std::uint64_t> epoch{0};
};

auto TheRegistry() -> Registry& {
  static Registry* registry = new Registry();  // never destroyed: used from static destructors
  return *registry;
}

// Reads fields front to back, failing with the byte offset when the file ends early.
class Cursor {
 public:
  Cursor(const unsigned char* data, std::size_t size, const std::string& origin)
      : data_(data), size_(size), origin_(origin) {}
  template <typename T>
  auto Read(const char* what) -> T {
    T value{};
    Need(sizeof(T), what);
    std::memcpy(&value, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  auto ReadString(std::size_t length, const char* what) -> std::string {
    Need(length, what);
    std::string out(reinterpret_cast<const char*>(data_ + pos_), length);
    pos_ += length;
    return out;
  }

 private:
  void Need(std::size_t bytes, const char* what) {
    if (size_ - pos_ < bytes) {
      throw Error(origin_ + ": corrupt weights file: truncated in " + what + " at byte " +
                  std::to_string(pos_));
    }
  }
  const unsigned char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  const std::string& origin_;
};

}  // namespace

auto Weights::Load(const std::string& path, std::string_view expected_sha256) -> Weights {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the weights file");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw Error(path + ": cannot read the weights file");
  return Parse(std::move(bytes).str(), expected_sha256, path);
}

auto Weights::Parse(std::string bytes, std::string_view expected_sha256, const std::string& origin)
    -> Weights {
  if (!expected_sha256.empty()) {
    std::string actual = Sha256Hex(bytes);
    if (actual != expected_sha256) {
      throw Error(origin + ": weights file does not match the model: sha256 is " + actual +
                  ", the bundle was compiled for " + std::string(expected_sha256));
    }
  }
  Weights weights;
  weights.origin_ = origin;
  weights.length_ = bytes.size();
  auto* raw = static_cast<unsigned char*>(
      ::operator new (std::max<std::size_t>(bytes.size(), 1), std::align_val_t{64}));
  std::memcpy(raw, bytes.data(), bytes.size());
  std::size_t length = bytes.size();
  {
    Registry& registry = TheRegistry();
    std::lock_guard<std::mutex> lock(registry.mutex);
    registry.ranges.emplace_back(raw, length);
  }
  weights.data_ = std::shared_ptr<unsigned char>(raw, [](unsigned char* p) {
    Registry& registry = TheRegistry();
    {
      std::lock_guard<std::mutex> lock(registry.mutex);
      std::erase_if(registry.ranges, [p](const auto& range) { return range.first == p; });
    }
    registry.epoch.fetch_add(1);
    ::operator delete (p, std::align_val_t{64});
  });

  Cursor cursor(raw, length, origin);
  std::string magic = cursor.ReadString(8, "the magic");
  if (std::memcmp(magic.data(), kMagic, 8) != 0) {
    throw Error(origin + ": not a ferry weights file (the magic is not FERRYW1)");
  }
  auto count = cursor.Read<std::uint64_t>("the tensor count");
  if (count > length / 24) {
    throw Error(origin + ": corrupt weights file: " + std::to_string(count) +
                " tensors cannot fit in " + std::to_string(length) + " bytes");
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    auto name_length = cursor.Read<std::uint32_t>("a name length");
    std::string name = cursor.ReadString(name_length, "a tensor name");
    Entry entry;
    entry.dtype = cursor.Read<std::uint32_t>("a dtype");
    entry.offset = cursor.Read<std::uint64_t>("an offset");
    entry.size = cursor.Read<std::uint64_t>("a size");
    std::string where = origin + ": corrupt weights file: tensor '" + name + "' ";
    if (entry.dtype != kFloat32 && entry.dtype != kInt64) {
      throw Error(where + "has unknown dtype " + std::to_string(entry.dtype));
    }
    if (entry.offset % 64 != 0) throw Error(where + "is not 64-byte aligned");
    if (entry.offset > length || entry.size > length - entry.offset) {
      throw Error(where + "lies outside the file (offset " + std::to_string(entry.offset) +
                  ", size " + std::to_string(entry.size) + ", file " + std::to_string(length) +
                  " bytes)");
    }
    std::uint64_t element = entry.dtype == kFloat32 ? 4 : 8;
    if (entry.size % element != 0) throw Error(where + "has a partial element");
    if (!weights.entries_.emplace(name, entry).second) throw Error(where + "appears twice");
  }
  return weights;
}

auto Weights::Find(const std::string& name, std::uint32_t dtype) const -> const Entry& {
  auto found = entries_.find(name);
  if (found == entries_.end()) throw Error(origin_ + ": no tensor '" + name + "' in weights file");
  if (found->second.dtype != dtype) {
    throw Error(origin_ + ": tensor '" + name + "' is " +
                (found->second.dtype == kFloat32 ? "float32" : "int64") + ", expected " +
                (dtype == kFloat32 ? "float32" : "int64"));
  }
  return found->second;
}

auto Weights::F32(const std::string& name) const -> const float* {
  return reinterpret_cast<const float*>(data_.get() + Find(name, kFloat32).offset);
}

auto Weights::I64(const std::string& name) const -> const std::int64_t* {
  return reinterpret_cast<const std::int64_t*>(data_.get() + Find(name, kInt64).offset);
}

auto Weights::Count(const std::string& name) const -> std::int64_t {
  auto found = entries_.find(name);
  if (found == entries_.end()) throw Error(origin_ + ": no tensor '" + name + "' in weights file");
  return static_cast<std::int64_t>(found->second.size / (found->second.dtype == kFloat32 ? 4 : 8));
}

auto IsWeightsMemory(const void* pointer) -> bool {
  Registry& registry = TheRegistry();
  const auto* p = static_cast<const unsigned char*>(pointer);
  std::lock_guard<std::mutex> lock(registry.mutex);
  return std::any_of(registry.ranges.begin(), registry.ranges.end(), [p](const auto& range) {
    return p >= range.first && p < range.first + range.second;
  });
}

auto WeightsEpoch() -> std::uint64_t { return TheRegistry().epoch.load(); }

}  // namespace ferry_rt

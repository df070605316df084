// The ABI between a bundle's generated code and the scoring runtime.
//
// Generated code (model.cc) subclasses Model and defines CreateModel, and
// models.cc lists the bundle's models (BundledModels); the `score` program
// and the server only ever see this header. Everything here
// is standard C++20 so a bundle builds on a machine that has only the bundle
// folder (DIR/runtime/ is a copy of stdlib/runtime/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace ferry_rt {

/// A runtime failure with a message for people (bad weights file, bad input shape).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A tensor shape of rank <= kMaxRank held by value: kernels and Resize take
/// shapes as `{batch, 10}` without allocating.
struct Dims {
  static constexpr int kMaxRank = 8;
  std::int64_t size[kMaxRank] = {};
  int rank = 0;

  Dims() = default;
  Dims(std::initializer_list<std::int64_t> dims) {  // NOLINT: implicit from {a, b}
    if (dims.size() > kMaxRank) throw std::length_error("ferry_rt::Dims: rank above 8");
    for (std::int64_t dim : dims) size[rank++] = dim;
  }
  Dims(const std::vector<std::int64_t>& dims) {  // NOLINT: implicit from a Tensor's shape
    if (dims.size() > kMaxRank) throw std::length_error("ferry_rt::Dims: rank above 8");
    for (std::int64_t dim : dims) size[rank++] = dim;
  }
  /// Dimension `axis` (0-based).
  auto operator[](int axis) const -> std::int64_t { return size[axis]; }
  /// The number of elements (1 for a scalar).
  auto count() const -> std::int64_t {
    std::int64_t total = 1;
    for (int i = 0; i < rank; ++i) total *= size[i];
    return total;
  }
};

/// The element types a bundle's inputs and outputs can have.
enum class DType { kFloat32, kInt64, kString };

/// "float32", "int64", "string".
inline auto DTypeName(DType dtype) -> const char* {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kInt64:
      return "int64";
    case DType::kString:
      return "string";
  }
  return "?";
}

/// A pre-processing stage compiled in front of a model input.
enum class InputStage {
  kNone,
  /// Rows may be images (PNG or JPEG; base64 text in JSON, the bytes from a
  /// server's request body), decoded to the input's [rows, C, H, W] (image.h).
  kImage,
};

/// A model input or output as declared by the model; -1 marks the batch dimension.
struct TensorInfo {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;
  /// Inputs: the stage that also accepts other rows for this input.
  InputStage stage = InputStage::kNone;
  /// Outputs of class indices (int64): the class names, from the model's
  /// "labels" metadata; scorers report label strings. Empty otherwise.
  std::vector<std::string> labels;
};

/// A dense row-major tensor. Exactly one of f32/i64/str holds the data (the
/// one `dtype` names). Callers keep Tensors across calls so that their
/// capacity is reused: Run allocates nothing in steady state.
struct Tensor {
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;
  std::vector<float> f32;
  std::vector<std::int64_t> i64;
  std::vector<std::string> str;
};

/// The number of elements of `shape` (1 for a scalar).
inline auto ElementCount(const std::vector<std::int64_t>& shape) -> std::int64_t {
  std::int64_t count = 1;
  for (std::int64_t dim : shape) count *= dim;
  return count;
}

/// Sets `tensor`'s shape and resizes its data vector to match, keeping capacity.
inline void Resize(Tensor& tensor, const Dims& shape) {
  tensor.shape.assign(shape.size, shape.size + shape.rank);
  auto count = static_cast<std::size_t>(shape.count());
  switch (tensor.dtype) {
    case DType::kFloat32:
      tensor.f32.resize(count);
      break;
    case DType::kInt64:
      tensor.i64.resize(count);
      break;
    case DType::kString:
      tensor.str.resize(count);
      break;
  }
}

/// Same, also setting the dtype (for outputs the caller default-constructed).
inline void Resize(Tensor& tensor, DType dtype, const Dims& shape) {
  tensor.dtype = dtype;
  Resize(tensor, shape);
}

/// A std::allocator that returns 64-byte aligned memory (for arenas and packed weights).
template <typename T>
struct AlignedAllocator {
  using value_type = T;
  static constexpr std::size_t kAlignment = 64;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>& /*other*/) {}  // NOLINT: allocator rebinding
  auto allocate(std::size_t count) -> T* {
    return static_cast<T*>(::operator new (count * sizeof(T), std::align_val_t{kAlignment}));
  }
  void deallocate(T* pointer, std::size_t /*count*/) {
    ::operator delete (pointer, std::align_val_t{kAlignment});
  }
  template <typename U>
  auto operator==(const AlignedAllocator<U>& /*other*/) const -> bool {
    return true;
  }
};

/// A compiled model. Generated code subclasses it; one instance is not
/// thread-safe (it owns its scratch arena), so a server keeps one per thread.
class Model {
 public:
  virtual ~Model() = default;
  /// The model's inputs in ONNX order.
  virtual auto inputs() const -> const std::vector<TensorInfo>& = 0;
  /// The model's outputs in ONNX order.
  virtual auto outputs() const -> const std::vector<TensorInfo>& = 0;
  /// Runs one batch (the batch size is inputs[0].shape[0]). `outputs` is
  /// resized to the model's outputs and each tensor resized in place, so its
  /// capacity is reused. Throws Error when an input's dtype or shape is wrong.
  virtual void Run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) = 0;
};

/// Every generated bundle defines this: loads the weights file (checking its
/// sha256 against the one recorded at compile time) and builds the model.
/// Throws Error with a message naming the file when it is missing or corrupt.
auto CreateModel(const std::string& weights_path) -> std::unique_ptr<Model>;

/// One model a bundle serves: the name a request selects it by, its weights
/// file (relative to the bundle's folder) and its factory (a CreateModel).
struct BundledModel {
  const char* name;
  const char* weights;
  std::unique_ptr<Model> (*create)(const std::string& weights_path);
};

/// The bundle's models, the default first; generated (models.cc). A bundle
/// serving several models compiles each into a namespace of its own, so
/// their CreateModel functions do not clash.
auto BundledModels() -> const std::vector<BundledModel>&;

/// The bundle's model called `name`, or the first when `name` is empty.
/// Throws Error listing the names when there is none of that name. (Inline:
/// its callers then pull models.cc out of the bundle's library themselves.)
inline auto FindBundledModel(const std::string& name) -> const BundledModel& {
  const std::vector<BundledModel>& models = BundledModels();
  if (models.empty()) throw Error("this bundle serves no model");
  if (name.empty()) return models.front();
  std::string names;
  for (const BundledModel& model : models) {
    if (model.name == name) return model;
    names += std::string(names.empty() ? "" : ", ") + "'" + model.name + "'";
  }
  throw Error("no model '" + name + "' in this bundle; it serves " + names);
}

/// Throws Error unless `inputs` match `infos` in count, dtype, rank and every
/// fixed dimension. Generated Run methods call it first.
void CheckInputs(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& inputs);

}  // namespace ferry_rt

// The ONNX Runtime oracle over our own C API declarations (ort_api.h).
#include "tests/oracle/ort_session.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

#include "tests/oracle/ort_api.h"

#ifndef FERRY_ORT_LIBRARY_DEFAULT
#define FERRY_ORT_LIBRARY_DEFAULT ""
#endif

// ONNX Runtime keeps a few bytes of its own allocations until exit; under
// LeakSanitizer (the CI's ASan build) those are its leaks, not ours.
// NOLINTNEXTLINE(bugprone-reserved-identifier): the sanitizer runtime looks this name up.
extern "C" auto __lsan_default_suppressions() -> const char* { return "leak:libonnxruntime.so\n"; }

namespace ferry::oracle {

using ferry_rt::DType;
using ferry_rt::Error;
using ferry_rt::Tensor;

auto OrtLibraryPath() -> std::string {
  if (const char* env = std::getenv("FERRY_ORT_LIBRARY"); env != nullptr && *env != '\0') {
    return env;
  }
  return FERRY_ORT_LIBRARY_DEFAULT;
}

auto OrtInstallHint() -> std::string {
  return "ONNX Runtime (the test oracle) was not found. Install it with\n"
         "  mkdir -p .cache/node && npm install --prefix .cache/node --ignore-scripts "
         "onnxruntime-node\n"
         "then re-run cmake (it finds "
         ".cache/node/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1),\n"
         "or set FERRY_ORT_LIBRARY=/path/to/libonnxruntime.so.1";
}

struct OrtSession::Impl {
  void* library = nullptr;
  const ort::Slot* api = nullptr;
  const ort::ApiBase* base = nullptr;
  ort::Env* env = nullptr;
  ort::Session* session = nullptr;
  ort::MemoryInfo* memory = nullptr;

  template <typename Fn>
  auto Get(int slot) const -> Fn {
    return reinterpret_cast<Fn>(api[slot]);
  }
  void Check(ort::Status* status, const char* what) const {
    if (status == nullptr) return;
    std::string message = Get<ort::GetErrorMessageFn>(ort::kGetErrorMessage)(status);
    Get<ort::ReleaseFn<ort::Status>>(ort::kReleaseStatus)(status);
    throw Error(std::string("onnxruntime: ") + what + ": " + message);
  }
  auto ToValue(const Tensor& tensor, std::vector<const char*>& strings) -> ort::Value* {
    ort::Value* value = nullptr;
    const std::int64_t* shape = tensor.shape.data();
    std::size_t rank = tensor.shape.size();
    switch (tensor.dtype) {
      case DType::kFloat32:
        Check(Get<ort::CreateTensorWithDataFn>(ort::kCreateTensorWithDataAsOrtValue)(
                  memory, const_cast<float*>(tensor.f32.data()), tensor.f32.size() * 4, shape, rank,
                  ort::kFloat, &value),
              "CreateTensorWithDataAsOrtValue");
        return value;
      case DType::kInt64:
        Check(Get<ort::CreateTensorWithDataFn>(ort::kCreateTensorWithDataAsOrtValue)(
                  memory, const_cast<std::int64_t*>(tensor.i64.data()), tensor.i64.size() * 8,
                  shape, rank, ort::kInt64, &value),
              "CreateTensorWithDataAsOrtValue");
        return value;
      case DType::kString: {
        ort::Allocator* allocator = nullptr;
        Check(Get<ort::GetAllocatorWithDefaultOptionsFn>(ort::kGetAllocatorWithDefaultOptions)(
                  &allocator),
              "GetAllocatorWithDefaultOptions");
        Check(Get<ort::CreateTensorAsOrtValueFn>(ort::kCreateTensorAsOrtValue)(
                  allocator, shape, rank, ort::kString, &value),
              "CreateTensorAsOrtValue");
        strings.clear();
        for (const std::string& s : tensor.str) strings.push_back(s.c_str());
        Check(Get<ort::FillStringTensorFn>(ort::kFillStringTensor)(value, strings.data(),
                                                                   strings.size()),
              "FillStringTensor");
        return value;
      }
    }
    return value;
  }
  void FromValue(ort::Value* value, Tensor& out) {
    ort::TensorTypeAndShapeInfo* info = nullptr;
    Check(Get<ort::GetTensorTypeAndShapeFn>(ort::kGetTensorTypeAndShape)(value, &info),
          "GetTensorTypeAndShape");
    int type = 0;
    std::size_t rank = 0;
    std::size_t count = 0;
    Check(Get<ort::GetTensorElementTypeFn>(ort::kGetTensorElementType)(info, &type), "type");
    Check(Get<ort::GetDimensionsCountFn>(ort::kGetDimensionsCount)(info, &rank), "rank");
    out.shape.assign(rank, 0);
    Check(Get<ort::GetDimensionsFn>(ort::kGetDimensions)(info, out.shape.data(), rank), "dims");
    Check(Get<ort::GetTensorShapeElementCountFn>(ort::kGetTensorShapeElementCount)(info, &count),
          "count");
    Get<ort::ReleaseFn<ort::TensorTypeAndShapeInfo>>(ort::kReleaseTensorTypeAndShapeInfo)(info);
    if (type == ort::kString) {
      out.dtype = DType::kString;
      std::size_t bytes = 0;
      Check(Get<ort::GetStringTensorDataLengthFn>(ort::kGetStringTensorDataLength)(value, &bytes),
            "GetStringTensorDataLength");
      std::string data(bytes, '\0');
      std::vector<std::size_t> offsets(count);
      Check(Get<ort::GetStringTensorContentFn>(ort::kGetStringTensorContent)(
                value, data.data(), bytes, offsets.data(), count),
            "GetStringTensorContent");
      out.str.resize(count);
      for (std::size_t i = 0; i < count; ++i) {
        std::size_t end = i + 1 < count ? offsets[i + 1] : bytes;
        out.str[i] = data.substr(offsets[i], end - offsets[i]);
      }
      return;
    }
    void* data = nullptr;
    Check(Get<ort::GetTensorMutableDataFn>(ort::kGetTensorMutableData)(value, &data), "data");
    if (type == ort::kFloat) {
      out.dtype = DType::kFloat32;
      out.f32.assign(static_cast<float*>(data), static_cast<float*>(data) + count);
    } else if (type == ort::kInt64) {
      out.dtype = DType::kInt64;
      out.i64.assign(static_cast<std::int64_t*>(data), static_cast<std::int64_t*>(data) + count);
    } else {
      throw Error("onnxruntime: output of element type " + std::to_string(type) +
                  " is not supported by the oracle");
    }
  }
};

OrtSession::OrtSession(const std::string& library, const std::string& model_path)
    : impl_(std::make_unique<Impl>()) {
  if (library.empty()) throw Error(OrtInstallHint());
  impl_->library = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (impl_->library == nullptr) {
    throw Error("cannot load " + library + ": " + dlerror() + "\n" + OrtInstallHint());
  }
  using GetApiBaseFn = const ort::ApiBase* (*)();
  auto get_base = reinterpret_cast<GetApiBaseFn>(dlsym(impl_->library, "OrtGetApiBase"));
  if (get_base == nullptr) throw Error(library + " has no OrtGetApiBase");
  impl_->base = get_base();
  // API version 1 is enough for every slot we use and is served by every release.
  impl_->api = static_cast<const ort::Slot*>(impl_->base->GetApi(1));
  if (impl_->api == nullptr) throw Error(library + " does not serve OrtApi version 1");
  Impl& o = *impl_;
  o.Check(o.Get<ort::CreateEnvFn>(ort::kCreateEnv)(ort::kLogError, "ferry-oracle", &o.env),
          "CreateEnv");
  ort::SessionOptions* options = nullptr;
  o.Check(o.Get<ort::CreateSessionOptionsFn>(ort::kCreateSessionOptions)(&options),
          "CreateSessionOptions");
  o.Check(o.Get<ort::SetThreadsFn>(ort::kSetIntraOpNumThreads)(options, 1), "intra-op threads");
  o.Check(o.Get<ort::SetThreadsFn>(ort::kSetInterOpNumThreads)(options, 1), "inter-op threads");
  o.Check(o.Get<ort::SetGraphOptimizationLevelFn>(ort::kSetSessionGraphOptimizationLevel)(
              options, ort::kEnableAll),
          "optimization level");
  ort::Status* status = o.Get<ort::CreateSessionFn>(ort::kCreateSession)(o.env, model_path.c_str(),
                                                                         options, &o.session);
  o.Get<ort::ReleaseFn<ort::SessionOptions>>(ort::kReleaseSessionOptions)(options);
  o.Check(status, model_path.c_str());
  o.Check(o.Get<ort::CreateCpuMemoryInfoFn>(ort::kCreateCpuMemoryInfo)(
              ort::kArenaAllocator, ort::kMemTypeDefault, &o.memory),
          "CreateCpuMemoryInfo");
}

OrtSession::~OrtSession() {
  Impl& o = *impl_;
  if (o.api != nullptr) {
    if (o.memory) o.Get<ort::ReleaseFn<ort::MemoryInfo>>(ort::kReleaseMemoryInfo)(o.memory);
    if (o.session) o.Get<ort::ReleaseFn<ort::Session>>(ort::kReleaseSession)(o.session);
    if (o.env) o.Get<ort::ReleaseFn<ort::Env>>(ort::kReleaseEnv)(o.env);
  }
  // The library stays loaded: ONNX Runtime does not support being unloaded.
}

void OrtSession::Run(const std::vector<std::string>& input_names, const std::vector<Tensor>& inputs,
                     const std::vector<std::string>& output_names, std::vector<Tensor>& outputs) {
  Impl& o = *impl_;
  std::vector<const char*> in_names;
  std::vector<const char*> out_names;
  for (const std::string& name : input_names) in_names.push_back(name.c_str());
  for (const std::string& name : output_names) out_names.push_back(name.c_str());
  std::vector<std::vector<const char*>> strings(inputs.size());
  std::vector<ort::Value*> in_values;
  std::vector<ort::Value*> out_values(output_names.size(), nullptr);
  auto release = [&o](std::vector<ort::Value*>& values) {
    for (ort::Value*& v : values) {
      if (v) o.Get<ort::ReleaseFn<ort::Value>>(ort::kReleaseValue)(v);
      v = nullptr;
    }
  };
  try {
    for (std::size_t i = 0; i < inputs.size(); ++i)
      in_values.push_back(o.ToValue(inputs[i], strings[i]));
    o.Check(o.Get<ort::RunFn>(ort::kRun)(o.session, nullptr, in_names.data(), in_values.data(),
                                         in_values.size(), out_names.data(), out_names.size(),
                                         out_values.data()),
            "Run");
    outputs.resize(out_values.size());
    for (std::size_t i = 0; i < out_values.size(); ++i) o.FromValue(out_values[i], outputs[i]);
  } catch (...) {
    release(in_values);
    release(out_values);
    throw;
  }
  release(in_values);
  release(out_values);
}

auto OrtSession::version() const -> std::string { return impl_->base->GetVersionString(); }

}  // namespace ferry::oracle

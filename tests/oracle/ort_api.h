// Our own minimal declarations of ONNX Runtime's C API: the entry point
// OrtGetApiBase and the slots of the OrtApi function table that the oracle
// uses. The table is a C struct of function pointers whose order is frozen
// by ONNX Runtime's ABI promise (new functions are only appended), so a slot
// is its index; the indices below are those of the published API (version 1+).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry::oracle::ort {

// Opaque handles.
struct Status;
struct Env;
struct Session;
struct SessionOptions;
struct Value;
struct MemoryInfo;
struct TensorTypeAndShapeInfo;
struct Allocator;
struct RunOptions;

/// ONNXTensorElementDataType values the oracle uses.
enum ElementType : int { kFloat = 1, kInt64 = 7, kString = 8 };
/// OrtLoggingLevel: warnings and above only.
enum LoggingLevel : int { kLogWarning = 2, kLogError = 3 };
/// OrtAllocatorType / OrtMemType for CPU memory.
enum AllocatorType : int { kDeviceAllocator = 0, kArenaAllocator = 1 };
enum MemType : int { kMemTypeDefault = 0 };
/// GraphOptimizationLevel: ORT_ENABLE_ALL.
enum GraphOptimizationLevel : int { kEnableAll = 99 };

/// OrtApiBase: the first thing the library hands out.
struct ApiBase {
  const void* (*GetApi)(std::uint32_t version);
  const char* (*GetVersionString)();
};

/// The OrtApi table viewed as an array of function pointers.
using Slot = void (*)();

/// Slot indices in the OrtApi table (documented order).
enum ApiSlot : int {
  kGetErrorMessage = 2,
  kCreateEnv = 3,
  kCreateSession = 7,
  kRun = 9,
  kCreateSessionOptions = 10,
  kSetSessionGraphOptimizationLevel = 23,
  kSetIntraOpNumThreads = 24,
  kSetInterOpNumThreads = 25,
  kCreateTensorAsOrtValue = 48,
  kCreateTensorWithDataAsOrtValue = 49,
  kGetTensorMutableData = 51,
  kFillStringTensor = 52,
  kGetStringTensorDataLength = 53,
  kGetStringTensorContent = 54,
  kGetTensorElementType = 60,
  kGetDimensionsCount = 61,
  kGetDimensions = 62,
  kGetTensorShapeElementCount = 64,
  kGetTensorTypeAndShape = 65,
  kCreateCpuMemoryInfo = 69,
  kGetAllocatorWithDefaultOptions = 78,
  kReleaseEnv = 92,
  kReleaseStatus = 93,
  kReleaseMemoryInfo = 94,
  kReleaseSession = 95,
  kReleaseValue = 96,
  kReleaseTensorTypeAndShapeInfo = 99,
  kReleaseSessionOptions = 100,
};

// The signatures of those slots.
using GetErrorMessageFn = const char* (*)(const Status*);
using CreateEnvFn = Status* (*)(int level, const char* log_id, Env** out);
using CreateSessionFn = Status* (*)(const Env*, const char* path, const SessionOptions*,
                                    Session** out);
using RunFn = Status* (*)(Session*, const RunOptions*, const char* const* input_names,
                          const Value* const* inputs, std::size_t input_count,
                          const char* const* output_names, std::size_t output_count,
                          Value** outputs);
using CreateSessionOptionsFn = Status* (*)(SessionOptions** out);
using SetGraphOptimizationLevelFn = Status* (*)(SessionOptions*, int level);
using SetThreadsFn = Status* (*)(SessionOptions*, int threads);
using CreateTensorAsOrtValueFn = Status* (*)(Allocator*, const std::int64_t* shape,
                                             std::size_t rank, int type, Value** out);
using CreateTensorWithDataFn = Status* (*)(const MemoryInfo*, void* data, std::size_t bytes,
                                           const std::int64_t* shape, std::size_t rank, int type,
                                           Value** out);
using GetTensorMutableDataFn = Status* (*)(Value*, void** out);
using FillStringTensorFn = Status* (*)(Value*, const char* const* strings, std::size_t count);
using GetStringTensorDataLengthFn = Status* (*)(const Value*, std::size_t* out);
using GetStringTensorContentFn = Status* (*)(const Value*, void* bytes, std::size_t bytes_len,
                                             std::size_t* offsets, std::size_t offsets_len);
using GetTensorElementTypeFn = Status* (*)(const TensorTypeAndShapeInfo*, int* out);
using GetDimensionsCountFn = Status* (*)(const TensorTypeAndShapeInfo*, std::size_t* out);
using GetDimensionsFn = Status* (*)(const TensorTypeAndShapeInfo*, std::int64_t* dims,
                                    std::size_t count);
using GetTensorShapeElementCountFn = Status* (*)(const TensorTypeAndShapeInfo*, std::size_t* out);
using GetTensorTypeAndShapeFn = Status* (*)(const Value*, TensorTypeAndShapeInfo** out);
using CreateCpuMemoryInfoFn = Status* (*)(int allocator_type, int mem_type, MemoryInfo** out);
using GetAllocatorWithDefaultOptionsFn = Status* (*)(Allocator** out);
template <typename T>
using ReleaseFn = void (*)(T*);

}  // namespace ferry::oracle::ort

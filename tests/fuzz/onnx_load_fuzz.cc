// Feeds arbitrary bytes to LoadOnnx and, when they load, to the graph passes:
// whatever the input, they must return (with diagnostics) rather than crash,
// hang, allocate without bound or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "compiler/diag/diagnostic.h"
#include "compiler/graph/passes.h"
#include "compiler/onnx/load_onnx.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ferry::diag::Sink sink;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto graph = ferry::onnx::LoadOnnx("fuzz.onnx", bytes, sink);
  // Every diagnostic names the file; a failed load always says why.
  for (const ferry::diag::Diagnostic& diagnostic : sink.diagnostics()) {
    if (diagnostic.location.file != "fuzz.onnx") __builtin_trap();
  }
  if (!graph) {
    if (!sink.HasErrors()) __builtin_trap();
    return 0;
  }
  if (ferry::graph::Optimize(*graph, sink)) {
    ferry::graph::PlanMemory(*graph);
  } else if (!sink.HasErrors()) {
    __builtin_trap();
  }
  return 0;
}

// Feeds arbitrary bytes to LoadYaml: whatever the input, it must return
// (with diagnostics) rather than crash, hang, leak or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "compiler/diag/diagnostic.h"
#include "compiler/manifest/load_yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ferry::diag::Sink sink;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto document = ferry::manifest::LoadYaml("fuzz.yaml", text, sink);
  // Every diagnostic must have a place: a non-empty file and a 1-based line.
  for (const ferry::diag::Diagnostic& diagnostic : sink.diagnostics()) {
    if (diagnostic.location.file.empty() || diagnostic.location.line == 0) __builtin_trap();
  }
  if (document && document->root() == nullptr) __builtin_trap();
  if (!document && !sink.HasErrors()) __builtin_trap();
  return 0;
}

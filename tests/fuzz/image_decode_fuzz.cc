// Feeds arbitrary bytes to the scoring runtime's image stage (runtime/image.h):
// as a file (PNG or JPEG, through libpng's and libjpeg's longjmp error paths)
// and as a base64 row. Whatever the input, it must decode or throw
// ferry_rt::Error, never crash, leak or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/image.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<float> planes(3 * 8 * 8);
  const ferry_rt::ImageStage stage(3, 8, 8);
  try {
    stage.DecodeBytes(data, size, planes.data());
    for (float value : planes) {
      if (!(value >= 0.0F && value <= 1.0F)) __builtin_trap();
    }
  } catch (const ferry_rt::Error&) {
  }
  try {
    stage.DecodeRow(std::string_view(reinterpret_cast<const char*>(data), size), planes.data());
  } catch (const ferry_rt::Error&) {
  }
  return 0;
}

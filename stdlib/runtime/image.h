// The image pre-processing stage: PNG or JPEG bytes (or their base64 text, as
// a JSON row carries them) -> the model's float input [rows, C, H, W].
//
// Each image is decoded (libpng, libjpeg-turbo) to 8-bit gray or RGB, turned
// into the model's channel count, resized to the model's H x W with an
// antialiased bilinear filter (Pillow's BILINEAR: a triangle filter whose
// support widens with the shrink factor; identity at the same size), and
// scaled from 0..255 to 0..1, channel-major, then normalised per channel as
// (x - mean) / std when the manifest declares mean and std. Hostile input (bad base64,
// truncated or corrupt files, dimensions above kMaxImagePixels) throws Error.
//
// This header is standard C++; image.cc needs libpng and libjpeg and is built
// as the separate library ferry_image (stdlib/runtime/CMakeLists.txt), which
// only bundles with an image stage link.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/model.h"

namespace ferry_rt {

/// The largest image accepted, in pixels (width * height): 64 Mpixel.
inline constexpr std::int64_t kMaxImagePixels = std::int64_t{64} << 20;

/// An image decoded at its own size: `channels` (1 gray, 3 RGB) interleaved 8-bit samples.
struct DecodedImage {
  std::int64_t width = 0;
  std::int64_t height = 0;
  int channels = 0;
  std::vector<unsigned char> pixels;
};

/// Decodes a PNG or JPEG file's bytes (recognised by their signature) to 8-bit
/// gray or RGB: palettes expanded, 16-bit samples cut to their high byte and
/// alpha dropped (as Pillow's open + convert("RGB") do). Throws Error for
/// anything else, and for images above kMaxImagePixels before decoding them.
auto DecodeImageFile(const unsigned char* data, std::size_t size) -> DecodedImage;

/// Decodes base64 (standard or URL-safe alphabet, padding optional, ASCII
/// whitespace ignored, a leading "data:...;base64," dropped). Throws Error,
/// naming the offset, on any other character.
auto DecodeBase64(std::string_view text) -> std::string;

/// `image` as `channels` planes of height x width floats in 0..1 at `chw`:
/// gray repeated for RGB models, RGB to gray with Pillow's luma (ITU-R 601-2)
/// for gray models, then the antialiased bilinear resize.
void ImageToPlanes(const DecodedImage& image, int channels, std::int64_t height, std::int64_t width,
                   float* chw);

/// The compiled-in stage of one model input shaped [rows, channels, height, width].
class ImageStage {
 public:
  /// Throws Error unless channels is 1 or 3 and height, width are in 1..16384,
  /// and mean and std each hold 0 (no normalisation), 1 (every channel) or
  /// `channels` values, every std positive.
  ImageStage(int channels, std::int64_t height, std::int64_t width, std::vector<float> mean = {},
             std::vector<float> std = {});

  /// One image file's bytes (the server's raw request bodies) -> channels *
  /// height * width floats at `out`.
  void DecodeBytes(const unsigned char* data, std::size_t size, float* out) const;

  /// One row as a string: the file's bytes when they start with a PNG or JPEG
  /// signature, else its base64 text (a JSON row).
  void DecodeRow(std::string_view row, float* out) const;

  /// String rows shaped [rows] or [rows, 1] -> `out`, float [rows, C, H, W].
  /// Errors name the row.
  void Run(const Tensor& rows, Tensor& out) const;

  auto channels() const -> int { return channels_; }
  auto height() const -> std::int64_t { return height_; }
  auto width() const -> std::int64_t { return width_; }

 private:
  /// (x - mean) / std per channel over the channel planes at `chw`.
  void Normalize(float* chw) const;

  int channels_;
  std::int64_t height_;
  std::int64_t width_;
  /// Per channel; empty when no normalisation was declared.
  std::vector<float> mean_;
  std::vector<float> std_;
};

}  // namespace ferry_rt

// The image pre-processing stage (image.h): libpng and libjpeg-turbo decoding,
// channel conversion, Pillow's antialiased bilinear resize, scaling to 0..1.
//
// Both libraries report errors by longjmp (libpng through png_error, libjpeg
// through error_exit). Each decoder's setjmp sits in a function (ReadPng,
// ReadJpeg) that creates no object with a destructor after it, and the only
// frames a longjmp crosses are the libraries' C frames and our C-style
// callbacks: no destructor is ever skipped. Every resource is owned by the
// caller's frame and released there; the message lives in a plain char buffer.
#include "runtime/image.h"

#include <jpeglib.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>

namespace ferry_rt {
namespace {

constexpr unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
constexpr unsigned char kJpegSignature[3] = {0xFF, 0xD8, 0xFF};
constexpr std::int64_t kMaxModelSide = 16384;

auto StartsWith(const unsigned char* data, std::size_t size, const unsigned char* prefix,
                std::size_t length) -> bool {
  return size >= length && std::memcmp(data, prefix, length) == 0;
}

auto TooLarge(std::uint64_t width, std::uint64_t height) -> bool {
  return width == 0 || height == 0 || width * height > static_cast<std::uint64_t>(kMaxImagePixels);
}

auto SizeMessage(const char* format, std::uint64_t width, std::uint64_t height) -> std::string {
  if (width == 0 || height == 0) {
    return std::string(format) + " image has no pixels (" + std::to_string(width) + "x" +
           std::to_string(height) + ")";
  }
  return std::string(format) + " image is " + std::to_string(width) + "x" + std::to_string(height) +
         " pixels; at most " + std::to_string(kMaxImagePixels / (1 << 20)) + " Mpixel are accepted";
}

// --- PNG ----------------------------------------------------------------------

/// Everything the libpng callbacks touch: trivially destructible, in the caller's frame.
struct PngState {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  std::size_t at = 0;
  std::uint64_t too_large_width = 0;  // set when the header's size is refused
  std::uint64_t too_large_height = 0;
  bool too_large = false;
  char message[256] = {};
};

void PngError(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message);
  png_longjmp(png, 1);
}

void PngWarning(png_structp /*png*/, png_const_charp /*message*/) {
  // Warnings are benign (an ancillary chunk with a bad CRC is dropped).
}

void PngRead(png_structp png, png_bytep out, std::size_t count) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(png));
  if (count > state->size - state->at) png_error(png, "the file ends early (truncated)");
  std::memcpy(out, state->data + state->at, count);
  state->at += count;
}

/// Reads the PNG into `image`; false (state.message set) on any libpng error.
/// After setjmp this frame creates nothing with a destructor; `rows` and
/// `image` belong to the caller.
auto ReadPng(png_structp png, png_infop& info, PngState& state, std::vector<png_bytep>& rows,
             DecodedImage& image) -> bool {
  if (setjmp(png_jmpbuf(png))) return false;
  info = png_create_info_struct(png);
  if (info == nullptr) png_error(png, "out of memory");
  png_set_read_fn(png, &state, PngRead);
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  if (TooLarge(width, height)) {
    state.too_large = true;
    state.too_large_width = width;
    state.too_large_height = height;
    return false;
  }
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (bit_depth == 16) png_set_strip_16(png);  // the high byte, as Pillow reads 16-bit RGB
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  if ((channels != 1 && channels != 3) || png_get_bit_depth(png, info) != 8 ||
      png_get_rowbytes(png, info) != std::size_t{width} * static_cast<std::size_t>(channels)) {
    png_error(png, "unsupported PNG layout after conversion");
  }
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.resize(std::size_t{width} * height * static_cast<std::size_t>(channels));
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) {
    rows[y] = image.pixels.data() + std::size_t{y} * width * static_cast<std::size_t>(channels);
  }
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  return true;
}

auto DecodePng(const unsigned char* data, std::size_t size) -> DecodedImage {
  PngState state;
  state.data = data;
  state.size = size;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, PngError, PngWarning);
  if (png == nullptr) throw Error("PNG: out of memory");
  png_infop info = nullptr;
  struct Release {
    png_structp* png;
    png_infop* info;
    ~Release() { png_destroy_read_struct(png, *info != nullptr ? info : nullptr, nullptr); }
  } release{&png, &info};
  DecodedImage image;
  std::vector<png_bytep> rows;
  if (!ReadPng(png, info, state, rows, image)) {
    if (state.too_large)
      throw Error(SizeMessage("PNG", state.too_large_width, state.too_large_height));
    throw Error(std::string("corrupt or unsupported PNG: ") + state.message);
  }
  return image;
}

// --- JPEG ---------------------------------------------------------------------

/// libjpeg's error manager with our jump target and message; trivially destructible.
struct JpegState {
  jpeg_error_mgr manager;  // first: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  std::uint64_t too_large_width;
  std::uint64_t too_large_height;
  bool too_large;
};

[[noreturn]] void JpegErrorExit(j_common_ptr cinfo) {
  auto* state = reinterpret_cast<JpegState*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, state->message);
  std::longjmp(state->jump, 1);
}

// A warning means corrupt data (premature end of file, a bad Huffman code):
// libjpeg would go on with gray filler, we refuse the image instead.
void JpegEmitMessage(j_common_ptr cinfo, int level) {
  if (level < 0) JpegErrorExit(cinfo);
}

/// Reads the JPEG into `image`; false (state.message set) on any libjpeg error.
/// `cinfo` is zero-initialised by the caller, who destroys it whatever happens.
auto ReadJpeg(jpeg_decompress_struct& cinfo, JpegState& state, const unsigned char* data,
              std::size_t size, DecodedImage& image) -> bool {
  if (setjmp(state.jump)) return false;
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  if (TooLarge(cinfo.image_width, cinfo.image_height)) {
    state.too_large = true;
    state.too_large_width = cinfo.image_width;
    state.too_large_height = cinfo.image_height;
    return false;
  }
  // Gray stays gray, YCbCr and RGB become RGB; CMYK and YCCK make libjpeg refuse.
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const std::size_t stride =
      std::size_t{cinfo.output_width} * static_cast<std::size_t>(cinfo.output_components);
  image.width = cinfo.output_width;
  image.height = cinfo.output_height;
  image.channels = cinfo.output_components;
  image.pixels.resize(stride * cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = image.pixels.data() + std::size_t{cinfo.output_scanline} * stride;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
      std::snprintf(state.message, sizeof state.message, "no progress reading scanlines");
      return false;
    }
  }
  jpeg_finish_decompress(&cinfo);
  return true;
}

auto DecodeJpeg(const unsigned char* data, std::size_t size) -> DecodedImage {
  JpegState state;
  std::memset(&state, 0, sizeof state);
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&state.manager);
  state.manager.error_exit = JpegErrorExit;
  state.manager.emit_message = JpegEmitMessage;
  struct Release {
    jpeg_decompress_struct* cinfo;
    ~Release() { jpeg_destroy_decompress(cinfo); }  // safe when create never ran (mem is null)
  } release{&cinfo};
  DecodedImage image;
  if (!ReadJpeg(cinfo, state, data, size, image)) {
    if (state.too_large)
      throw Error(SizeMessage("JPEG", state.too_large_width, state.too_large_height));
    throw Error(std::string("corrupt or unsupported JPEG: ") + state.message);
  }
  if (image.channels != 1 && image.channels != 3) throw Error("JPEG: unsupported channel count");
  return image;
}

// --- Resize -------------------------------------------------------------------

/// One axis of Pillow's resampling: for each output index, the first input
/// index and the normalised weights of the inputs it reads.
struct AxisWeights {
  std::vector<std::int64_t> first;
  std::vector<std::int64_t> count;
  std::vector<float> weights;  // out_size * stride
  std::int64_t stride = 0;
};

// C's (int) cast, which Pillow uses for the window's bounds (not rounding).
auto TruncateTowardZero(double value) -> std::int64_t { return static_cast<std::int64_t>(value); }

// Pillow's BILINEAR (ImagingResample): a triangle filter of support 1,
// widened by the shrink factor so that shrinking averages every input pixel.
auto Weights(std::int64_t in_size, std::int64_t out_size) -> AxisWeights {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;
  AxisWeights axis;
  axis.stride = static_cast<std::int64_t>(std::ceil(support)) * 2 + 1;
  axis.first.resize(static_cast<std::size_t>(out_size));
  axis.count.resize(static_cast<std::size_t>(out_size));
  axis.weights.assign(static_cast<std::size_t>(out_size * axis.stride), 0.0F);
  for (std::int64_t o = 0; o < out_size; ++o) {
    const double center = (static_cast<double>(o) + 0.5) * scale;
    const auto lo = std::max<std::int64_t>(TruncateTowardZero(center - support + 0.5), 0);
    const auto hi = std::min<std::int64_t>(TruncateTowardZero(center + support + 0.5), in_size);
    const std::int64_t n = std::min(hi - lo, axis.stride);
    double total = 0;
    std::vector<double> w(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
    for (std::int64_t i = 0; i < n; ++i) {
      const double x = (static_cast<double>(i + lo) - center + 0.5) / filter_scale;
      w[static_cast<std::size_t>(i)] = std::max(0.0, 1.0 - std::fabs(x));
      total += w[static_cast<std::size_t>(i)];
    }
    axis.first[static_cast<std::size_t>(o)] = lo;
    axis.count[static_cast<std::size_t>(o)] = n;
    for (std::int64_t i = 0; i < n; ++i) {
      axis.weights[static_cast<std::size_t>(o * axis.stride + i)] =
          total > 0 ? static_cast<float>(w[static_cast<std::size_t>(i)] / total) : 0.0F;
    }
  }
  return axis;
}

}  // namespace

auto DecodeImageFile(const unsigned char* data, std::size_t size) -> DecodedImage {
  if (size == 0) throw Error("the image is empty");
  if (StartsWith(data, size, kPngSignature, sizeof kPngSignature)) return DecodePng(data, size);
  if (StartsWith(data, size, kJpegSignature, sizeof kJpegSignature)) return DecodeJpeg(data, size);
  throw Error("not a PNG or JPEG image (no PNG or JPEG signature in its first bytes)");
}

auto DecodeBase64(std::string_view text) -> std::string {
  std::size_t start = 0;
  if (text.starts_with("data:")) {
    std::size_t comma = text.find(',');
    if (comma == std::string_view::npos ||
        text.substr(0, comma).find(";base64") == std::string_view::npos) {
      throw Error("a data: URL without ';base64,'");
    }
    start = comma + 1;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  std::uint32_t bits = 0;
  int held = 0;
  bool padding = false;
  for (std::size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    int value = -1;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      value = 62;
    } else if (c == '/' || c == '_') {
      value = 63;
    } else if (c == '=') {
      padding = true;
      continue;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    }
    if (value < 0 || padding) {
      throw Error("not base64: " +
                  std::string(value < 0 ? "unexpected character" : "data after '=' padding") +
                  " at offset " + std::to_string(i));
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out += static_cast<char>((bits >> held) & 0xFF);
    }
  }
  if (held >= 6) throw Error("not base64: its length leaves a stray character at the end");
  return out;
}

void ImageToPlanes(const DecodedImage& image, int channels, std::int64_t height, std::int64_t width,
                   float* chw) {
  const AxisWeights across = Weights(image.width, width);
  const AxisWeights down = Weights(image.height, height);
  const auto in_w = static_cast<std::size_t>(image.width);
  const auto in_c = static_cast<std::size_t>(image.channels);
  const unsigned char* pixels = image.pixels.data();
  // The 8-bit sample of channel c at (y, x) in the model's channel layout.
  auto sample = [&](std::size_t y, std::size_t x, int c) -> float {
    const unsigned char* p = pixels + (y * in_w + x) * in_c;
    if (image.channels == channels) return p[c];
    if (image.channels == 1) return p[0];
    // Pillow's convert("L"): L = R*299/1000 + G*587/1000 + B*114/1000, rounded.
    return static_cast<float>((p[0] * 19595U + p[1] * 38470U + p[2] * 7471U + 0x8000U) >> 16);
  };
  // Horizontal pass (rows at full height, out_w wide), then vertical.
  std::vector<float> rows(static_cast<std::size_t>(image.height * width));
  for (int c = 0; c < channels; ++c) {
    for (std::int64_t y = 0; y < image.height; ++y) {
      for (std::int64_t x = 0; x < width; ++x) {
        const float* w = &across.weights[static_cast<std::size_t>(x * across.stride)];
        const std::int64_t first = across.first[static_cast<std::size_t>(x)];
        float sum = 0;
        for (std::int64_t i = 0; i < across.count[static_cast<std::size_t>(x)]; ++i) {
          sum += w[i] * sample(static_cast<std::size_t>(y), static_cast<std::size_t>(first + i), c);
        }
        rows[static_cast<std::size_t>(y * width + x)] = sum;
      }
    }
    float* plane = chw + static_cast<std::size_t>(c) * static_cast<std::size_t>(height * width);
    for (std::int64_t y = 0; y < height; ++y) {
      const float* w = &down.weights[static_cast<std::size_t>(y * down.stride)];
      const std::int64_t first = down.first[static_cast<std::size_t>(y)];
      for (std::int64_t x = 0; x < width; ++x) {
        float sum = 0;
        for (std::int64_t i = 0; i < down.count[static_cast<std::size_t>(y)]; ++i) {
          sum += w[i] * rows[static_cast<std::size_t>((first + i) * width + x)];
        }
        plane[y * width + x] = std::clamp(sum, 0.0F, 255.0F) / 255.0F;
      }
    }
  }
}

ImageStage::ImageStage(int channels, std::int64_t height, std::int64_t width,
                       std::vector<float> mean, std::vector<float> std)
    : channels_(channels), height_(height), width_(width) {
  if ((channels != 1 && channels != 3) || height < 1 || width < 1 || height > kMaxModelSide ||
      width > kMaxModelSide) {
    throw Error(
        "image stage: the model's input must be [rows, 1 or 3, H, W] with H, W in 1..16384");
  }
  const auto fits = [&](const std::vector<float>& values) {
    return values.size() <= 1 || values.size() == static_cast<std::size_t>(channels);
  };
  if (!fits(mean) || !fits(std) ||
      std::any_of(std.begin(), std.end(), [](float s) { return !(s > 0.0F); })) {
    throw Error("image stage: mean and std need 1 or " + std::to_string(channels) +
                " values each, every std positive");
  }
  if (mean.empty() && std.empty()) return;
  for (int c = 0; c < channels; ++c) {
    const auto at = [&](const std::vector<float>& values, float fallback) {
      if (values.empty()) return fallback;
      return values.size() == 1 ? values[0] : values[static_cast<std::size_t>(c)];
    };
    mean_.push_back(at(mean, 0.0F));
    std_.push_back(at(std, 1.0F));
  }
}

void ImageStage::Normalize(float* chw) const {
  if (mean_.empty()) return;
  const auto plane = static_cast<std::size_t>(height_ * width_);
  for (std::size_t c = 0; c < mean_.size(); ++c) {
    float* values = chw + c * plane;
    for (std::size_t i = 0; i < plane; ++i) values[i] = (values[i] - mean_[c]) / std_[c];
  }
}

void ImageStage::DecodeBytes(const unsigned char* data, std::size_t size, float* out) const {
  ImageToPlanes(DecodeImageFile(data, size), channels_, height_, width_, out);
  Normalize(out);
}

void ImageStage::DecodeRow(std::string_view row, float* out) const {
  const auto* bytes = reinterpret_cast<const unsigned char*>(row.data());
  if (StartsWith(bytes, row.size(), kPngSignature, sizeof kPngSignature) ||
      StartsWith(bytes, row.size(), kJpegSignature, sizeof kJpegSignature)) {
    DecodeBytes(bytes, row.size(), out);
    return;
  }
  const std::string file = DecodeBase64(row);
  DecodeBytes(reinterpret_cast<const unsigned char*>(file.data()), file.size(), out);
}

void ImageStage::Run(const Tensor& rows, Tensor& out) const {
  if (rows.dtype != DType::kString || rows.shape.empty() || rows.shape.size() > 2 ||
      (rows.shape.size() == 2 && rows.shape[1] != 1) ||
      static_cast<std::int64_t>(rows.str.size()) != rows.shape[0]) {
    throw Error("image rows must be one string each (a PNG or JPEG file, base64 in JSON)");
  }
  const std::int64_t count = rows.shape[0];
  Resize(out, DType::kFloat32, {count, channels_, height_, width_});
  const std::size_t per_row = static_cast<std::size_t>(channels_ * height_ * width_);
  for (std::int64_t r = 0; r < count; ++r) {
    try {
      DecodeRow(rows.str[static_cast<std::size_t>(r)],
                out.f32.data() + static_cast<std::size_t>(r) * per_row);
    } catch (const Error& error) {
      throw Error("image row " + std::to_string(r) + ": " + error.what());
    }
  }
}

}  // namespace ferry_rt

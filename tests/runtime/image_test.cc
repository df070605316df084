// The image stage (runtime/image.h): PNG and JPEG decoding to gray or RGB
// against the fixtures' formulas (tests/runtime/make_images.py) and Pillow's
// decoding, the resize against Pillow's BILINEAR, base64, and corrupt or
// hostile input, which must be an Error and never a crash.
#include "runtime/image.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace ferry::runtime_test {
namespace {

using ferry_rt::DecodedImage;
using ferry_rt::Error;

constexpr int kW = 37;
constexpr int kH = 23;

auto Fixture(const std::string& name) -> std::string {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/tests/runtime/images/" + name,
                   std::ios::binary);
  REQUIRE_MESSAGE(in.good(), name);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

auto Decode(const std::string& bytes) -> DecodedImage {
  return ferry_rt::DecodeImageFile(reinterpret_cast<const unsigned char*>(bytes.data()),
                                   bytes.size());
}

// The fixtures' patterns (make_images.py).
auto Rgb(int x, int y, int c) -> int {
  const int values[3] = {(x * 7 + y * 3) % 256, (x * 2 + y * 11) % 256, (x * y) % 256};
  return values[c];
}
auto Gray(int x, int y) -> int { return (x * 5 + y * 9) % 256; }

auto At(const DecodedImage& image, int x, int y, int c) -> int {
  return image.pixels[static_cast<std::size_t>((y * image.width + x) * image.channels + c)];
}

/// Checks `image` is kW x kH with `channels` and every sample equal to `want(x, y, c)`.
void ExpectPixels(const DecodedImage& image, int channels,
                  const std::function<int(int, int, int)>& want) {
  REQUIRE(image.width == kW);
  REQUIRE(image.height == kH);
  REQUIRE(image.channels == channels);
  int wrong = 0;
  for (int y = 0; y < kH; ++y) {
    for (int x = 0; x < kW; ++x) {
      for (int c = 0; c < channels; ++c) wrong += At(image, x, y, c) != want(x, y, c);
    }
  }
  CHECK(wrong == 0);
}

/// The largest difference, in 8-bit steps, between planes in 0..1 and a
/// decoded 8-bit image of the same size and channels.
auto WorstStep(const std::vector<float>& planes, const DecodedImage& image) -> double {
  double worst = 0;
  for (int c = 0; c < image.channels; ++c) {
    for (std::int64_t y = 0; y < image.height; ++y) {
      for (std::int64_t x = 0; x < image.width; ++x) {
        const float ours =
            planes[static_cast<std::size_t>((c * image.height + y) * image.width + x)];
        worst = std::max(worst, std::fabs(ours * 255.0 -
                                          At(image, static_cast<int>(x), static_cast<int>(y), c)));
      }
    }
  }
  return worst;
}

auto Base64(const std::string& bytes) -> std::string {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t bits = 0;
  int held = 0;
  for (unsigned char byte : bytes) {
    bits = (bits << 8) | byte;
    held += 8;
    while (held >= 6) {
      held -= 6;
      out += kAlphabet[(bits >> held) & 63];
    }
  }
  if (held > 0) out += kAlphabet[(bits << (6 - held)) & 63];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

/// The CRC of a PNG chunk (type and data), to forge headers that pass libpng's check.
auto Crc32(const std::string& bytes) -> std::uint32_t {
  std::uint32_t crc = 0xFFFFFFFFU;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
  }
  return crc ^ 0xFFFFFFFFU;
}

void PutBigEndian(std::string& bytes, std::size_t at, std::uint32_t value, int size) {
  for (int i = 0; i < size; ++i) {
    bytes[at + static_cast<std::size_t>(i)] =
        static_cast<char>((value >> (8 * (size - 1 - i))) & 0xFF);
  }
}

/// rgb.png with its IHDR saying width x height (CRC fixed up).
auto PngClaiming(std::uint32_t width, std::uint32_t height) -> std::string {
  std::string png = Fixture("rgb.png");
  PutBigEndian(png, 16, width, 4);  // signature 8, length 4, "IHDR" 4
  PutBigEndian(png, 20, height, 4);
  PutBigEndian(png, 29, Crc32(png.substr(12, 17)), 4);
  return png;
}

/// rgb.jpg with its frame header (SOF0 or SOF2) saying width x height.
auto JpegClaiming(const std::string& name, std::uint16_t width, std::uint16_t height)
    -> std::string {
  std::string jpeg = Fixture(name);
  for (std::size_t i = 2; i + 9 < jpeg.size(); ++i) {
    const auto marker = static_cast<unsigned char>(jpeg[i + 1]);
    if (static_cast<unsigned char>(jpeg[i]) == 0xFF && (marker == 0xC0 || marker == 0xC2)) {
      PutBigEndian(jpeg, i + 5, height, 2);
      PutBigEndian(jpeg, i + 7, width, 2);
      return jpeg;
    }
  }
  FAIL("no SOF marker in " << name);
  return jpeg;
}

/// The Error message of decoding `bytes` (as a file, then as a base64 row); "" when none.
auto DecodeError(const std::string& bytes) -> std::string {
  try {
    Decode(bytes);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST_CASE("PNG: RGB, gray, alpha, palette, bilevel, 16-bit and interlaced decode to the pixels") {
  ExpectPixels(Decode(Fixture("rgb.png")), 3, Rgb);
  ExpectPixels(Decode(Fixture("gray.png")), 1, [](int x, int y, int) { return Gray(x, y); });
  ExpectPixels(Decode(Fixture("rgba.png")), 3, Rgb);  // alpha dropped
  ExpectPixels(Decode(Fixture("gray_alpha.png")), 1, [](int x, int y, int) { return Gray(x, y); });
  ExpectPixels(Decode(Fixture("palette.png")), 3, [](int x, int y, int c) {
    const int index = (x + y) % 16;
    const int rgb[3] = {index * 16, 255 - index * 16, index * 7};
    return rgb[c];
  });
  ExpectPixels(Decode(Fixture("bilevel.png")), 1,
               [](int x, int y, int) { return (x + y) % 3 == 0 ? 255 : 0; });
  // Samples pattern * 256 + 255 * (x % 2): the high byte is the pattern.
  ExpectPixels(Decode(Fixture("rgb16.png")), 3, Rgb);
  ExpectPixels(Decode(Fixture("interlaced.png")), 3, Rgb);  // Adam7
}

TEST_CASE("JPEG: baseline, progressive and gray decode as Pillow decodes them") {
  for (const char* name : {"rgb", "progressive", "gray"}) {
    CAPTURE(name);
    const DecodedImage ours = Decode(Fixture(std::string(name) + ".jpg"));
    const DecodedImage pillow = Decode(Fixture(std::string(name) + ".expected.png"));
    REQUIRE(ours.width == pillow.width);
    REQUIRE(ours.height == pillow.height);
    REQUIRE(ours.channels == pillow.channels);
    int worst = 0;
    for (std::size_t i = 0; i < ours.pixels.size(); ++i) {
      worst = std::max(worst, std::abs(int{ours.pixels[i]} - int{pillow.pixels[i]}));
    }
    // The same libjpeg-turbo settings (islow DCT, fancy upsampling): equal, or
    // within a step where Pillow's bundled library differs.
    CHECK(worst <= 1);
  }
}

TEST_CASE("the same size is the identity; shrinking and enlarging match Pillow's BILINEAR") {
  const DecodedImage rgb = Decode(Fixture("rgb.png"));
  {
    std::vector<float> planes(3 * kH * kW);
    ferry_rt::ImageToPlanes(rgb, 3, kH, kW, planes.data());
    CHECK(WorstStep(planes, rgb) < 1e-3);
    CHECK(planes[0] == doctest::Approx(Rgb(0, 0, 0) / 255.0));
    CHECK(planes[static_cast<std::size_t>(2 * kH * kW + 5 * kW + 4)] ==
          doctest::Approx(Rgb(4, 5, 2) / 255.0));
  }
  struct Case {
    const char* expected;
    int channels;
    std::int64_t height, width;
  };
  for (const Case& c :
       {Case{"rgb_16x12.expected.png", 3, 12, 16}, Case{"rgb_50x41.expected.png", 3, 41, 50},
        Case{"rgb_gray_16x12.expected.png", 1, 12, 16}}) {
    CAPTURE(c.expected);
    const DecodedImage pillow = Decode(Fixture(c.expected));
    REQUIRE(pillow.height == c.height);
    REQUIRE(pillow.width == c.width);
    std::vector<float> planes(static_cast<std::size_t>(c.channels * c.height * c.width));
    ferry_rt::ImageToPlanes(rgb, c.channels, c.height, c.width, planes.data());
    // Pillow rounds to 8 bits after each pass; ours stays in float.
    CHECK(WorstStep(planes, pillow) <= 1.01);
  }
  {  // Gray images feed RGB models as three equal planes.
    const DecodedImage gray = Decode(Fixture("gray.png"));
    std::vector<float> planes(3 * kH * kW);
    ferry_rt::ImageToPlanes(gray, 3, kH, kW, planes.data());
    CHECK(planes[3 * kW + 2] == doctest::Approx(Gray(2, 3) / 255.0));
    CHECK(planes[kH * kW + 3 * kW + 2] == planes[3 * kW + 2]);
    CHECK(planes[2 * kH * kW + 3 * kW + 2] == planes[3 * kW + 2]);
  }
}

TEST_CASE("base64: standard and URL-safe alphabets, padding, whitespace, data URLs") {
  CHECK(ferry_rt::DecodeBase64("aGVsbG8=") == "hello");
  CHECK(ferry_rt::DecodeBase64("aGVsbG8") == "hello");
  CHECK(ferry_rt::DecodeBase64("aGVs\nbG8=\r\n") == "hello");
  CHECK(ferry_rt::DecodeBase64("data:image/png;base64,aGVsbG8=") == "hello");
  CHECK(ferry_rt::DecodeBase64("-_8=") == std::string("\xfb\xff", 2));
  CHECK(ferry_rt::DecodeBase64("+/8=") == std::string("\xfb\xff", 2));
  const std::string png = Fixture("rgb.png");
  CHECK(ferry_rt::DecodeBase64(Base64(png)) == png);
  CHECK_THROWS_WITH_AS(ferry_rt::DecodeBase64("aGV%bG8="),
                       "not base64: unexpected character at offset 3", Error);
  CHECK_THROWS_WITH_AS(ferry_rt::DecodeBase64("aGVsbG8=aGVs"),
                       "not base64: data after '=' padding at offset 8", Error);
  CHECK_THROWS_AS(ferry_rt::DecodeBase64("aGVsb"), Error);
  CHECK_THROWS_AS(ferry_rt::DecodeBase64("data:image/png,aGVsbG8="), Error);
}

TEST_CASE("the stage decodes rows of base64 or raw bytes into [rows, C, H, W]") {
  const ferry_rt::ImageStage stage(3, 12, 16);
  ferry_rt::Tensor rows;
  rows.dtype = ferry_rt::DType::kString;
  rows.shape = {3};
  rows.str = {Base64(Fixture("rgb.png")), Fixture("rgb.png"),
              "data:image/jpeg;base64," + Base64(Fixture("rgb.jpg"))};
  ferry_rt::Tensor out;
  stage.Run(rows, out);
  CHECK(out.shape == std::vector<std::int64_t>{3, 3, 12, 16});
  REQUIRE(out.f32.size() == 3U * 3 * 12 * 16);
  const std::size_t per_row = 3 * 12 * 16;
  for (std::size_t i = 0; i < per_row; ++i) REQUIRE(out.f32[i] == out.f32[per_row + i]);
  const DecodedImage pillow = Decode(Fixture("rgb_16x12.expected.png"));
  CHECK(WorstStep(std::vector<float>(out.f32.begin(), out.f32.begin() + per_row), pillow) <= 1.01);
  // The JPEG row is near the PNG one (quality 90): a few 8-bit steps on average.
  double total = 0;
  for (std::size_t i = 0; i < per_row; ++i) {
    total += std::fabs(double{out.f32[i]} - out.f32[2 * per_row + i]);
  }
  CHECK(total / per_row < 0.03);

  std::vector<float> planes(per_row);
  const std::string png = Fixture("rgb.png");
  stage.DecodeBytes(reinterpret_cast<const unsigned char*>(png.data()), png.size(), planes.data());
  CHECK(std::equal(planes.begin(), planes.end(), out.f32.begin()));

  rows.str[1] = "not an image!";
  CHECK_THROWS_WITH_AS(stage.Run(rows, out),
                       "image row 1: not base64: unexpected character at offset 12", Error);
  rows.shape = {3, 2};
  CHECK_THROWS_AS(stage.Run(rows, out), Error);
  CHECK_THROWS_AS(ferry_rt::ImageStage(2, 32, 32), Error);
  CHECK_THROWS_AS(ferry_rt::ImageStage(3, 0, 32), Error);
}

TEST_CASE("a declared mean and std normalise each channel after scaling to 0..1") {
  const std::string png = Fixture("rgb.png");
  const auto* bytes = reinterpret_cast<const unsigned char*>(png.data());
  const std::size_t plane = 12 * 16;
  std::vector<float> plain(3 * plane);
  ferry_rt::ImageStage(3, 12, 16).DecodeBytes(bytes, png.size(), plain.data());

  const std::vector<float> mean = {0.485F, 0.456F, 0.406F};
  const std::vector<float> std = {0.229F, 0.224F, 0.225F};
  std::vector<float> normalised(3 * plane);
  ferry_rt::ImageStage(3, 12, 16, mean, std).DecodeBytes(bytes, png.size(), normalised.data());
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t i = 0; i < plane; ++i) {
      const std::size_t at = c * plane + i;
      REQUIRE(normalised[at] == doctest::Approx((plain[at] - mean[c]) / std[c]).epsilon(1e-6));
    }
  }
  // One value applies to every channel; mean alone divides by 1.
  std::vector<float> shared(3 * plane);
  ferry_rt::ImageStage(3, 12, 16, {0.5F}, {0.5F}).DecodeBytes(bytes, png.size(), shared.data());
  CHECK(shared[0] == doctest::Approx(plain[0] * 2 - 1));
  CHECK(shared[2 * plane + 7] == doctest::Approx(plain[2 * plane + 7] * 2 - 1));
  std::vector<float> centred(3 * plane);
  ferry_rt::ImageStage(3, 12, 16, {0.25F}).DecodeBytes(bytes, png.size(), centred.data());
  CHECK(centred[plane + 3] == doctest::Approx(plain[plane + 3] - 0.25F));

  CHECK_THROWS_AS(ferry_rt::ImageStage(3, 12, 16, {0.1F, 0.2F}), Error);
  CHECK_THROWS_AS(ferry_rt::ImageStage(1, 12, 16, {}, {0.5F, 0.5F, 0.5F}), Error);
  CHECK_THROWS_AS(ferry_rt::ImageStage(3, 12, 16, {}, {0.5F, 0.0F, 0.5F}), Error);
}

TEST_CASE("corrupt, truncated, hostile and unsupported images are errors, never crashes") {
  const std::string png = Fixture("rgb.png");
  const std::string jpeg = Fixture("rgb.jpg");
  CHECK(DecodeError("") == "the image is empty");
  CHECK(DecodeError("GIF89a....") ==
        "not a PNG or JPEG image (no PNG or JPEG signature in its first bytes)");
  CHECK(DecodeError(png.substr(0, 8)).starts_with("corrupt or unsupported PNG: "));
  CHECK(DecodeError(jpeg.substr(0, 3)).starts_with("corrupt or unsupported JPEG: "));
  // Truncated anywhere: in the header, in the pixel data, before the end chunk.
  for (std::size_t keep :
       {std::size_t{12}, std::size_t{30}, png.size() / 2, png.size() - 12, png.size() - 1}) {
    CAPTURE(keep);
    CHECK(DecodeError(png.substr(0, keep)).starts_with("corrupt or unsupported PNG: "));
  }
  for (std::size_t keep : {std::size_t{20}, jpeg.size() / 3, jpeg.size() / 2, jpeg.size() - 2}) {
    CAPTURE(keep);
    CHECK(DecodeError(jpeg.substr(0, keep)).starts_with("corrupt or unsupported JPEG: "));
  }
  {  // A flipped bit in the compressed pixel data: zlib or the chunk's CRC catches it.
    std::string bad = png;
    const std::size_t idat = bad.find("IDAT");
    REQUIRE(idat != std::string::npos);
    bad[idat + 10] = static_cast<char>(bad[idat + 10] ^ 0x20);
    CHECK(DecodeError(bad).starts_with("corrupt or unsupported PNG: IDAT: "));
  }
  {  // Garbage in the entropy-coded data of a JPEG.
    std::string bad = jpeg;
    for (std::size_t i = jpeg.size() / 2; i < jpeg.size() / 2 + 64; ++i) bad[i] = '\xFF';
    CHECK(DecodeError(bad).starts_with("corrupt or unsupported JPEG: "));
  }
  // Headers claiming huge images are refused before any pixel memory is taken.
  CHECK(DecodeError(PngClaiming(100000, 100000)) ==
        "PNG image is 100000x100000 pixels; at most 64 Mpixel are accepted");
  CHECK(DecodeError(PngClaiming(0, 10)).starts_with("corrupt or unsupported PNG: "));
  CHECK(DecodeError(JpegClaiming("rgb.jpg", 65000, 65000)) ==
        "JPEG image is 65000x65000 pixels; at most 64 Mpixel are accepted");
  CHECK(DecodeError(JpegClaiming("progressive.jpg", 60000, 2000)) ==
        "JPEG image is 60000x2000 pixels; at most 64 Mpixel are accepted");
  // A plausible size that the data does not fill: truncated, not gray filler.
  CHECK(DecodeError(JpegClaiming("rgb.jpg", 4000, 3000))
            .starts_with("corrupt or unsupported JPEG: "));
  CHECK(DecodeError(PngClaiming(4000, 3000)).starts_with("corrupt or unsupported PNG: "));
  CHECK(DecodeError(Fixture("cmyk.jpg")).starts_with("corrupt or unsupported JPEG: "));
  // Every single-byte corruption of the headers and the first data: an image or an Error.
  for (const std::string* file : {&png, &jpeg}) {
    for (std::size_t i = 0; i < std::min<std::size_t>(file->size(), 200); ++i) {
      std::string bad = *file;
      bad[i] = static_cast<char>(bad[i] ^ 0x5A);
      try {
        Decode(bad);
      } catch (const Error&) {
      }
    }
  }
}

}  // namespace
}  // namespace ferry::runtime_test

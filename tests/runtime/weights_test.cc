// The weights-file reader: good files load, every kind of corruption is an
// Error with a message naming the problem, never a crash.
#include "runtime/weights.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace ferry::runtime_test {
namespace {

template <typename T>
void Put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

// A weights file holding "w" = {1.5, -2} (float32) and "ids" = {7} (int64).
auto GoodFile() -> std::string {
  std::string out = std::string("FERRYW1") + '\0';
  Put<std::uint64_t>(out, 2);
  Put<std::uint32_t>(out, 1);
  out += "w";
  Put<std::uint32_t>(out, 0);
  Put<std::uint64_t>(out, 128);
  Put<std::uint64_t>(out, 8);
  Put<std::uint32_t>(out, 3);
  out += "ids";
  Put<std::uint32_t>(out, 1);
  Put<std::uint64_t>(out, 192);
  Put<std::uint64_t>(out, 8);
  out.resize(128, '\0');
  Put<float>(out, 1.5F);
  Put<float>(out, -2.0F);
  out.resize(192, '\0');
  Put<std::int64_t>(out, 7);
  return out;
}

auto ErrorOf(const std::string& bytes, const std::string& sha = "") -> std::string {
  try {
    ferry_rt::Weights::Parse(bytes, sha, "weights.bin");
  } catch (const ferry_rt::Error& error) {
    return error.what();
  }
  return "";
}

TEST_SUITE("runtime") {
  TEST_CASE("a weights file loads with its sha256 checked and tensors 64-byte aligned") {
    std::string bytes = GoodFile();
    auto weights = ferry_rt::Weights::Parse(bytes, ferry_rt::Sha256Hex(bytes), "weights.bin");
    CHECK(weights.size() == 2);
    CHECK(weights.Count("w") == 2);
    CHECK(weights.F32("w")[0] == 1.5F);
    CHECK(weights.F32("w")[1] == -2.0F);
    CHECK(weights.I64("ids")[0] == 7);
    CHECK(reinterpret_cast<std::uintptr_t>(weights.F32("w")) % 64 == 0);
    CHECK(ferry_rt::IsWeightsMemory(weights.F32("w")));
    CHECK_THROWS_WITH_AS(weights.F32("ids"), "weights.bin: tensor 'ids' is int64, expected float32",
                         ferry_rt::Error);
    CHECK_THROWS_WITH_AS(weights.F32("nope"), "weights.bin: no tensor 'nope' in weights file",
                         ferry_rt::Error);
  }

  TEST_CASE("sha256 matches the FIPS 180-4 test vectors") {
    CHECK(ferry_rt::Sha256Hex("") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(ferry_rt::Sha256Hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(ferry_rt::Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  }

  TEST_CASE("corrupt weights files are errors that say what is wrong") {
    std::string good = GoodFile();
    CHECK(ErrorOf(good, std::string(64, '0')).find("does not match the model: sha256 is ") !=
          std::string::npos);
    std::string magic = good;
    magic[0] = 'X';
    CHECK(ErrorOf(magic) == "weights.bin: not a ferry weights file (the magic is not FERRYW1)");
    CHECK(ErrorOf(good.substr(0, 20)) ==
          "weights.bin: corrupt weights file: 2 tensors cannot fit in 20 bytes");
    CHECK(ErrorOf(good.substr(0, 60)) ==
          "weights.bin: corrupt weights file: tensor 'w' lies outside the file (offset 128, "
          "size 8, file 60 bytes)");
    CHECK(ErrorOf(good.substr(0, 150)) ==
          "weights.bin: corrupt weights file: tensor 'ids' lies outside the file (offset 192, "
          "size 8, file 150 bytes)");
    std::string huge = good;
    huge[8] = '\x7f';
    CHECK(ErrorOf(huge).find("tensors cannot fit in") != std::string::npos);
    std::string misaligned = good;
    misaligned[25] = 65;  // the low byte of the offset of "w"
    CHECK(ErrorOf(misaligned) ==
          "weights.bin: corrupt weights file: tensor 'w' is not 64-byte aligned");
    // Every truncation is an error, never a crash.
    for (std::size_t size = 0; size < good.size(); ++size) {
      CAPTURE(size);
      CHECK_FALSE(ErrorOf(good.substr(0, size)).empty());
    }
    CHECK_THROWS_AS(ferry_rt::Weights::Load("/nonexistent/weights.bin", ""), ferry_rt::Error);
  }
}

}  // namespace
}  // namespace ferry::runtime_test

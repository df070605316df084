#include "compiler/support/sha256.h"

#include <doctest/doctest.h>

#include <string>

namespace ferry::support {
namespace {

TEST_CASE("Sha256Hex matches the FIPS 180-2 vectors") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("Sha256Hex hashes bytes, NUL included") {
  std::string with_nul("a\0b", 3);
  CHECK(Sha256Hex(with_nul) != Sha256Hex("ab"));
  CHECK(Sha256Hex(with_nul).size() == 64);
}

}  // namespace
}  // namespace ferry::support

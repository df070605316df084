#include "compiler/render/names.h"

#include <doctest/doctest.h>

#include <string>

namespace ferry::render {
namespace {

TEST_CASE("DnsLabel joins, lower-cases and maps other characters to dashes") {
  CHECK(DnsLabel({"faq", "live"}) == "faq-live");
  CHECK(DnsLabel({"Image_Classification", "v1"}) == "image-classification-v1");
  CHECK(DnsLabel({"--a..b--"}) == "a-b");
  CHECK(DnsLabel({"a", "", "b"}) == "a-b");
}

TEST_CASE("DnsLabel shortens long names deterministically with a hash suffix") {
  const std::string long_name(80, 'a');
  const std::string label = DnsLabel({long_name, "v1"});
  CHECK(label.size() == kMaxDnsLabel);
  CHECK(IsDnsLabel(label));
  CHECK(label == DnsLabel({long_name, "v1"}));
  // Two long names that share their first 63 characters still differ.
  CHECK(label != DnsLabel({long_name, "v2"}));
  CHECK(DnsLabel({"abcdefghij"}, 9).size() <= 9);
}

TEST_CASE("DnsLabel never returns an empty or invalid label") {
  for (const char* text : {"", "---", "日本", "_", "A"}) {
    CAPTURE(text);
    CHECK(IsDnsLabel(DnsLabel({text})));
  }
  CHECK(DnsLabel({"---"}) != DnsLabel({"___"}));
}

TEST_CASE("IsDnsLabel follows RFC 1123") {
  CHECK(IsDnsLabel("a"));
  CHECK(IsDnsLabel("0abc-9"));
  CHECK_FALSE(IsDnsLabel(""));
  CHECK_FALSE(IsDnsLabel("-a"));
  CHECK_FALSE(IsDnsLabel("a-"));
  CHECK_FALSE(IsDnsLabel("A"));
  CHECK_FALSE(IsDnsLabel("a.b"));
  CHECK_FALSE(IsDnsLabel(std::string(64, 'a')));
}

}  // namespace
}  // namespace ferry::render

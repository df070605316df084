// The score program's JSON reader and writer.
#include "runtime/json.h"

#include <doctest/doctest.h>

#include <string>

#include "runtime/model.h"

namespace ferry::runtime_test {
namespace {

using ferry_rt::json::Value;

TEST_SUITE("runtime") {
  TEST_CASE("score's JSON reader reads rows of numbers and strings") {
    Value doc = ferry_rt::json::Parse(R"( {"data": [[1, -2.5e1, 3], ["a\"b\u00e9"]], "x": null} )");
    REQUIRE(doc.kind == Value::Kind::kObject);
    const Value& data = doc.object.at("data");
    REQUIRE(data.array.size() == 2);
    CHECK(data.array[0].array[1].number == -25.0);
    CHECK(data.array[1].array[0].string == "a\"b\xc3\xa9");
    CHECK(doc.object.at("x").kind == Value::Kind::kNull);
  }

  TEST_CASE("bad JSON is an error with its byte offset") {
    CHECK_THROWS_WITH_AS(ferry_rt::json::Parse("{\"data\": [1, 2"),
                         "bad JSON at byte 14: unexpected end of input", ferry_rt::Error);
    CHECK_THROWS_WITH_AS(ferry_rt::json::Parse("[1] x"),
                         "bad JSON at byte 4: unexpected text after the JSON value",
                         ferry_rt::Error);
    CHECK_THROWS_AS(ferry_rt::json::Parse(std::string(100, '[')), ferry_rt::Error);
  }

  TEST_CASE("score's JSON writer quotes strings and writes floats round-trip") {
    CHECK(ferry_rt::json::Quote("a\"b\n\x01") == "\"a\\\"b\\n\\u0001\"");
    CHECK(ferry_rt::json::Number(0.1F) == "0.1");
    CHECK(ferry_rt::json::Number(-3.0) == "-3");
    CHECK(ferry_rt::json::Number(1.0 / 0.0) == "null");
  }
}

}  // namespace
}  // namespace ferry::runtime_test

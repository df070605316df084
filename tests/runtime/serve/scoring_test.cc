// runtime/scoring.h: request bodies to tensors and outputs to JSON, the code
// bin/score and bin/serve share. Errors are RequestErrors naming the problem.
#include "runtime/scoring.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

namespace ferry_rt {
namespace {

auto Info(DType dtype, std::vector<std::int64_t> shape, std::string name = "x") -> TensorInfo {
  TensorInfo info;
  info.name = std::move(name);
  info.dtype = dtype;
  info.shape = std::move(shape);
  return info;
}

auto Rows(const TensorInfo& info, const std::string& body) -> Tensor {
  Tensor out;
  JsonRows(info, ParseRequestJson(body), out);
  return out;
}

auto RowsError(const TensorInfo& info, const std::string& body) -> std::string {
  try {
    Rows(info, body);
  } catch (const RequestError& error) {
    return error.what();
  }
  return "no error";
}

TEST_CASE("JSON rows become a tensor shaped by the input") {
  const Tensor t = Rows(Info(DType::kFloat32, {-1, 3}), R"({"data": [[1, 2, 3], [4, 5, 6.5]]})");
  CHECK(t.shape == std::vector<std::int64_t>{2, 3});
  CHECK(t.f32 == std::vector<float>{1, 2, 3, 4, 5, 6.5F});
  // An unknown inner dimension is inferred from the row length.
  const Tensor text = Rows(Info(DType::kString, {-1, -1}), R"({"data": [["a", "b"]]})");
  CHECK(text.shape == std::vector<std::int64_t>{1, 2});
  const Tensor ints = Rows(Info(DType::kInt64, {-1, 2}), R"({"data": [[1, 2.0]]})");
  CHECK(ints.i64 == std::vector<std::int64_t>{1, 2});
}

TEST_CASE("bad JSON rows are request errors naming the problem") {
  const TensorInfo floats = Info(DType::kFloat32, {-1, 3});
  CHECK(RowsError(floats, R"({"data": [[1, 2, 3]])").starts_with("malformed JSON: "));
  CHECK(RowsError(floats, R"({"rows": []})") == R"(expected {"data": [row, ...]})");
  CHECK(RowsError(floats, R"({"data": []})") == R"("data" has no rows)");
  CHECK(RowsError(floats, R"({"data": [[1, 2]]})") == "input 'x': each row needs 3 values, got 2");
  CHECK(RowsError(floats, R"({"data": [[1, 2, 3], [1]]})") ==
        R"(the rows of "data" differ in length: row 0 has 3 values, row 1 has 1)");
  CHECK(RowsError(floats, R"({"data": [[1, "2", 3]]})") ==
        "input 'x' takes float32 values (numbers); row 0 has a string");
  CHECK(RowsError(Info(DType::kInt64, {-1, 1}), R"({"data": [[1], [2.5]]})") ==
        "input 'x' takes int64 values; row 1 has 2.5");
  CHECK(RowsError(Info(DType::kString, {-1, 1}), R"({"data": [[true]]})") ==
        "input 'x' takes string values (strings); row 0 has a boolean");
  CHECK_THROWS_AS(RequestedModel(ParseRequestJson(R"({"model": 3})")), RequestError);
  CHECK(RequestedModel(ParseRequestJson(R"({"model": "m", "data": []})")) == "m");
}

TEST_CASE("float32 bodies are rows of little-endian values") {
  const TensorInfo info = Info(DType::kFloat32, {-1, 2});
  const float values[] = {1.5F, -2, 3, 4};
  std::string bytes(sizeof(values), '\0');
  std::memcpy(bytes.data(), values, sizeof(values));
  Tensor t;
  Float32Rows(info, bytes, t);
  CHECK(t.shape == std::vector<std::int64_t>{2, 2});
  CHECK(t.f32 == std::vector<float>{1.5F, -2, 3, 4});
  CHECK_THROWS_WITH_AS(Float32Rows(info, bytes.substr(0, 7), t),
                       "an application/octet-stream body holds float32 values: 7 bytes is not "
                       "a whole number of them",
                       RequestError);
  CHECK_THROWS_WITH_AS(Float32Rows(info, bytes.substr(0, 12), t),
                       "input 'x': 3 float32 values are not whole rows of 2", RequestError);
  CHECK_THROWS_AS(Float32Rows(Info(DType::kInt64, {-1, 2}), bytes, t), RequestError);
  CHECK_THROWS_WITH_AS(ImageRow(info, "\x89PNG", t),
                       "input 'x' takes no images; send JSON rows", RequestError);
}

TEST_CASE("outputs are JSON, class indices as their labels") {
  std::vector<TensorInfo> infos = {Info(DType::kFloat32, {-1}, "score"),
                                   Info(DType::kInt64, {-1, 2}, "classes")};
  infos[1].labels = {"cat", "dog", "horse"};
  std::vector<Tensor> outputs(2);
  Resize(outputs[0], DType::kFloat32, {2});
  outputs[0].f32 = {0.25F, 1};
  Resize(outputs[1], DType::kInt64, {2, 2});
  outputs[1].i64 = {2, 0, 1, 2};
  std::string out;
  WriteOutputs(infos, outputs, out);
  CHECK(out ==
        R"({"outputs": {"score": [0.25,1], "classes": [["horse","cat"],["dog","horse"]]}, )"
        R"("class_ids": {"classes": [[2,0],[1,2]]}})"
        "\n");
}

}  // namespace
}  // namespace ferry_rt

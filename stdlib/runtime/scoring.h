// A scoring request's rows in, its outputs out: the one translation between
// request bodies and tensors, shared by bin/score (stdin) and bin/serve (HTTP).
//
// Bodies:
//   JSON      {"data": [row, ...], "model": "NAME"?}: rows of numbers (or
//             strings for text inputs); for a model with an image stage, also
//             one base64 PNG or JPEG string per row.
//   float32   application/octet-stream: the rows' values as little-endian
//             float32, row after row; the row length comes from the input's shape.
//   image     image/png, image/jpeg: one image, decoded by the model's image stage.
// Outputs are {"outputs": {"NAME": nested values}}; an output of class indices
// with labels is written as the label strings, its indices under "class_ids".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/json.h"
#include "runtime/model.h"

namespace ferry_rt {

/// A problem with the request itself (malformed JSON, wrong shape or dtype):
/// a server answers 400 with its message.
class RequestError : public Error {
 public:
  using Error::Error;
};

/// Parses a JSON request body; throws RequestError("malformed JSON: ...") on bad input.
auto ParseRequestJson(std::string_view body) -> json::Value;

/// The request's "model" key, "" when it has none. Throws RequestError when it is not a string.
auto RequestedModel(const json::Value& request) -> std::string;

/// The rows of the request's "data" as a tensor for the input `info` (its
/// batch dimension the row count). Throws RequestError naming the problem.
void JsonRows(const TensorInfo& info, const json::Value& request, Tensor& out);

/// Rows from little-endian float32 values (an application/octet-stream body).
void Float32Rows(const TensorInfo& info, std::string_view bytes, Tensor& out);

/// One row holding an image file's bytes (an image/png or image/jpeg body);
/// the model's image stage decodes it. Throws RequestError when `info` has no image stage.
void ImageRow(const TensorInfo& info, std::string_view bytes, Tensor& out);

/// The number of rows of an input tensor (its first dimension; 0 for a scalar).
auto RowCount(const Tensor& tensor) -> std::int64_t;

/// Appends {"outputs": {...}} (and "class_ids" when an output has labels) and a newline.
void WriteOutputs(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& outputs,
                  std::string& out);

}  // namespace ferry_rt

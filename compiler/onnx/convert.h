// Internal to the ONNX front end: protobuf messages -> graph IR pieces, each
// check reported to the sink. Only load_onnx.cc and convert.cc include it.
#pragma once

#include <optional>
#include <string>

#include "compiler/diag/diagnostic.h"
#include "compiler/graph/graph.h"
#include "compiler/onnx/load_onnx.h"
#include "compiler/onnx/proto/onnx-ml.pb.h"

namespace ferry::onnx {

/// Where conversion errors are reported.
struct Reporter {
  diag::Sink& sink;
  std::string file;
  const Limits& limits;

  void Error(diag::Code code, std::string path, std::string message) const {
    sink.Add(code, diag::Location{.file = file}, std::move(path), std::move(message));
  }
};

/// The graph dtype of an ONNX element type (TensorProto::DataType), or nullopt.
auto ToDType(int elem_type) -> std::optional<graph::DType>;

/// A graph input or output's type: float32/int64/string tensor with a shape.
auto ConvertValueInfo(const ::onnx::ValueInfoProto& info, const Reporter& reporter,
                      std::string_view what) -> std::optional<graph::Value>;

/// An initializer or tensor attribute, its data checked against its dims.
auto ConvertTensor(const ::onnx::TensorProto& tensor, const Reporter& reporter,
                   const std::string& path) -> std::optional<graph::TensorAttribute>;

/// A node attribute; graphs and sparse tensors are rejected.
auto ConvertAttribute(const ::onnx::AttributeProto& attribute, const Reporter& reporter,
                      const std::string& path) -> std::optional<graph::Attribute>;

}  // namespace ferry::onnx

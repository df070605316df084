// Elementwise, broadcasting and data-movement kernels.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/model.h"

namespace ferry_rt::k {

/// ONNX Add/Sub/Mul/Div with numpy broadcasting: A and B broadcast to
/// `y_shape` (ranks may differ; shapes align on the right). Y may alias A or
/// B when that operand already has y_shape.
void Add(const float* a, const Dims& a_shape, const float* b, const Dims& b_shape, float* y,
         const Dims& y_shape);
void Sub(const float* a, const Dims& a_shape, const float* b, const Dims& b_shape, float* y,
         const Dims& y_shape);
void Mul(const float* a, const Dims& a_shape, const float* b, const Dims& b_shape, float* y,
         const Dims& y_shape);
void Div(const float* a, const Dims& a_shape, const float* b, const Dims& b_shape, float* y,
         const Dims& y_shape);
/// int64 versions (Div truncates toward zero, as ONNX Runtime does).
void Add(const std::int64_t* a, const Dims& a_shape, const std::int64_t* b, const Dims& b_shape,
         std::int64_t* y, const Dims& y_shape);
void Sub(const std::int64_t* a, const Dims& a_shape, const std::int64_t* b, const Dims& b_shape,
         std::int64_t* y, const Dims& y_shape);
void Mul(const std::int64_t* a, const Dims& a_shape, const std::int64_t* b, const Dims& b_shape,
         std::int64_t* y, const Dims& y_shape);
void Div(const std::int64_t* a, const Dims& a_shape, const std::int64_t* b, const Dims& b_shape,
         std::int64_t* y, const Dims& y_shape);

/// Unary ops over n values; y may equal x.
void Relu(const float* x, float* y, std::int64_t n);
void Sigmoid(const float* x, float* y, std::int64_t n);
void Tanh(const float* x, float* y, std::int64_t n);
void Exp(const float* x, float* y, std::int64_t n);
void Log(const float* x, float* y, std::int64_t n);
void Sqrt(const float* x, float* y, std::int64_t n);
void Neg(const float* x, float* y, std::int64_t n);
void Abs(const float* x, float* y, std::int64_t n);
/// ONNX Clip: min(max(x, lo), hi); pass -inf / +inf for a missing bound.
void Clip(const float* x, float* y, std::int64_t n, float lo, float hi);

/// Identity, Flatten, Reshape, Squeeze, Unsqueeze: a copy (nothing when y == x).
void Copy(const float* x, float* y, std::int64_t n);
void Copy(const std::int64_t* x, std::int64_t* y, std::int64_t n);
void Copy(const std::string* x, std::string* y, std::int64_t n);
/// ONNX Cast between float32 and int64 (float -> int64 truncates toward zero).
void Cast(const float* x, std::int64_t* y, std::int64_t n);
void Cast(const std::int64_t* x, float* y, std::int64_t n);

/// ONNX Transpose: Y[i_perm[0], ..., i_perm[r-1]] = X[i_0, ..., i_{r-1}], i.e.
/// y_shape[j] = x_shape[perm[j]].
void Transpose(const float* x, const Dims& x_shape, const Dims& perm, float* y);
void Transpose(const std::int64_t* x, const Dims& x_shape, const Dims& perm, std::int64_t* y);

/// ONNX Concat of `count` inputs viewed as (outer, axis_sizes[i] * inner):
/// outer = prod(dims before axis), inner = prod(dims after axis).
void Concat(const float* const* inputs, const std::int64_t* axis_sizes, int count,
            std::int64_t outer, std::int64_t inner, float* y);
void Concat(const std::int64_t* const* inputs, const std::int64_t* axis_sizes, int count,
            std::int64_t outer, std::int64_t inner, std::int64_t* y);

/// ONNX Gather on axis 0 of a (rows, inner) table: y[i] = data[indices[i]]
/// (negative indices count from the end); throws Error when out of range.
void Gather(const float* data, std::int64_t rows, std::int64_t inner, const std::int64_t* indices,
            std::int64_t count, float* y);

/// ONNX TopK over the middle axis of an (outer, axis, inner) view, keeping k
/// values: ties go to the lower index (as ONNX Runtime does); values and
/// indices are (outer, k, inner). `sorted` = false still returns them sorted.
void TopK(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner, std::int64_t k,
          bool largest, float* values, std::int64_t* indices);

/// ONNX ArgMax / ArgMin over the middle axis of (outer, axis, inner): y is
/// (outer, inner) (keepdims only changes the shape). Ties pick the first
/// index, or the last with select_last_index.
void ArgMax(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner,
            bool select_last_index, std::int64_t* y);
void ArgMin(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner,
            bool select_last_index, std::int64_t* y);

/// ONNX ReduceMean / ReduceSum / ReduceMax over the middle axis of (outer, axis, inner).
void ReduceMean(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner,
                float* y);
void ReduceSum(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner, float* y);
void ReduceMax(const float* x, std::int64_t outer, std::int64_t axis, std::int64_t inner, float* y);

}  // namespace ferry_rt::k

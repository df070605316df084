// The scoring runtime's kernels: free functions in ferry_rt::k that generated
// code calls one ONNX node at a time. Pointers are row-major, densely packed
// and never alias unless a kernel says so; shapes come as Dims ({n, c, h, w}).
// Kernels allocate nothing in steady state (scratch is thread-local and grows
// once). AVX2/FMA paths are compiled under `#if defined(__AVX2__) &&
// defined(__FMA__)` with a portable fallback; the bundle's -march flags pick.
#pragma once

#include "runtime/kernels_ml.h"
#include "runtime/kernels_nn.h"
#include "runtime/kernels_tensor.h"
#include "runtime/kernels_text.h"

#!/usr/bin/python3
"""The exact (float64) outputs of a bench/bundle CNN for a given input: numpy,
straight from each operator's definition, for judging float32 results whose
sums are ordered differently (tests/codegen/resnet_vs_ort_test.cc).

  reference.py MODEL.onnx INPUT.txt DIMS OUT.txt

INPUT.txt: the first input's values, whitespace-separated (batch first, then
DIMS, comma-separated, e.g. 3,224,224). OUT.txt: the first output's values,
one a line. Covers the operators make_models.py's CNNs use: Conv (group 1),
BatchNormalization, Relu, Add, MaxPool, GlobalAveragePool, Flatten, Gemm,
Identity.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def windows(x, kernel, strides, pads, fill):
    """(N, C, OH, OW, kh, kw) views of x padded with `fill` (pads: top, left, bottom, right)."""
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=fill)
    view = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))
    return view[:, :, ::strides[0], ::strides[1]]


def run(model, x):
    values = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    values[model.graph.input[0].name] = x
    for node in model.graph.node:
        a = attrs(node)
        ins = [values[name] for name in node.input if name]
        op = node.op_type
        if op == "Conv":
            assert a.get("group", 1) == 1 and set(a.get("dilations", [1, 1])) == {1}
            w = ins[1]
            pads = a.get("pads", [0, 0, 0, 0])
            patches = windows(ins[0], w.shape[2:], a.get("strides", [1, 1]), pads, 0.0)
            y = np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
            if len(ins) > 2:
                y = y + ins[2].reshape(1, -1, 1, 1)
        elif op == "BatchNormalization":
            x_, scale, bias, mean, var = ins
            shape = (1, -1, 1, 1)
            y = ((x_ - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + a.get("epsilon", 1e-5))
                 * scale.reshape(shape) + bias.reshape(shape))
        elif op == "Relu":
            y = np.maximum(ins[0], 0.0)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "MaxPool":
            y = windows(ins[0], a["kernel_shape"], a.get("strides", [1, 1]),
                        a.get("pads", [0, 0, 0, 0]), -np.inf).max(axis=(4, 5))
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif op == "Gemm":
            w = ins[1].T if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * (ins[0] @ w) + a.get("beta", 1.0) * ins[2]
        elif op == "Identity":
            y = ins[0]
        else:
            raise SystemExit("reference.py: no %s" % op)
        values[node.output[0]] = y
    return values[model.graph.output[0].name]


def main():
    model_path, input_path, dims, out_path = sys.argv[1:5]
    dims = [int(d) for d in dims.split(",")]
    x = np.loadtxt(input_path, dtype=np.float32).astype(np.float64).reshape([-1] + dims)
    y = run(onnx.load(model_path), x)
    np.savetxt(out_path, y.ravel(), fmt="%.17g")


if __name__ == "__main__":
    main()

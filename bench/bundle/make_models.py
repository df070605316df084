#!/usr/bin/python3
"""Writes the benchmark models of bench/bundle into bench/bundle/models/ (ignored
by git: regenerate with this script; deterministic). Needs Debian's python3-onnx,
python3-sklearn, python3-numpy. No torch is needed: the MLP, the CNN and
ResNet-18 are built node by node with onnx.helper, with random weights.

  ridge       sklearn Ridge on 10 features           -> LinearRegressor
  gbt         GradientBoostingRegressor, 50 x depth 3 -> TreeEnsembleRegressor
  logreg      LogisticRegression, 20 features, 3 cls -> LinearClassifier (+ Normalizer)
  mlp         64-256-256-10, Relu                    -> Gemm + Relu
  cnn         MNIST-like: 1x28x28, conv 32, conv 64, pool, fc 128, fc 10
  resnet18    3x224x224 ResNet-18 (BasicBlock x [2,2,2,2]), 1000 classes

  make_models.py [--out DIR] [NAME ...]   (default: every model, into models/)
tests/codegen/resnet_vs_ort_test.cc writes resnet18 to a temporary folder this way.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save_model

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "runtime"))
from make_op_models import tree_attrs  # noqa: E402  (shared sklearn -> ONNX-ML tree arrays)

OUT = os.path.join(HERE, "models")
WANTED = set()  # the models to write; empty: all
F, I = TensorProto.FLOAT, TensorProto.INT64
RNG = np.random.RandomState(7)


def model(name, nodes, inputs, outputs, inits, ml=False):
    if WANTED and name not in WANTED:
        return
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    opsets = [helper.make_opsetid("", 17)]
    if ml:
        opsets.append(helper.make_opsetid("ai.onnx.ml", 3))
    m = helper.make_model(graph, opset_imports=opsets, producer_name="ferry-bench")
    m.ir_version = 8
    save_model(m, os.path.join(OUT, name + ".onnx"))


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


class Builder:
    """Accumulates nodes and initializers with unique names."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return "%s_%d" % (base, self.count)

    def const(self, base, array):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(array.astype(np.float32), n))
        return n

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, cin, cout, k, stride=1, pad=0, bias=True):
        fan_in = cin * k * k
        w = self.const("w", RNG.randn(cout, cin, k, k) * np.sqrt(2.0 / fan_in))
        ins = [x, w] + ([self.const("b", RNG.randn(cout) * 0.01)] if bias else [])
        return self.op("Conv", ins, kernel_shape=[k, k], strides=[stride, stride],
                       pads=[pad] * 4)

    def bn(self, x, c):
        return self.op("BatchNormalization",
                       [x, self.const("scale", 1 + 0.1 * RNG.randn(c)),
                        self.const("bias", 0.1 * RNG.randn(c)),
                        self.const("mean", 0.1 * RNG.randn(c)),
                        self.const("var", 1 + 0.1 * RNG.rand(c))], epsilon=1e-5)

    def gemm(self, x, fin, fout):
        w = self.const("w", RNG.randn(fout, fin) * np.sqrt(2.0 / fin))
        return self.op("Gemm", [x, w, self.const("b", RNG.randn(fout) * 0.01)], transB=1)


def sklearn_models():
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    x = RNG.randn(500, 10).astype(np.float32)
    y = x @ RNG.randn(10) + 0.1 * RNG.randn(500)
    ridge = Ridge(alpha=1.0).fit(x, y)
    model("ridge", [helper.make_node("LinearRegressor", ["X"], ["Y"], domain="ai.onnx.ml",
                                     coefficients=ridge.coef_.astype(np.float32).tolist(),
                                     intercepts=[float(ridge.intercept_)], targets=1)],
          [vi("X", F, ["N", 10])], [vi("Y", F, ["N", 1])], [], ml=True)

    gbr = GradientBoostingRegressor(n_estimators=50, max_depth=3, random_state=0).fit(x, y)
    a = tree_attrs([(e[0], 0) for e in gbr.estimators_], gbr.learning_rate)
    kw = {k: v for k, v in a.items() if k.startswith("nodes_")}
    kw.update({"target_" + k[5:]: v for k, v in a.items() if k.startswith("leaf_")})
    model("gbt", [helper.make_node("TreeEnsembleRegressor", ["X"], ["Y"], domain="ai.onnx.ml",
                                   n_targets=1, base_values=[float(gbr.init_.constant_[0][0])],
                                   aggregate_function="SUM", post_transform="NONE", **kw)],
          [vi("X", F, ["N", 10])], [vi("Y", F, ["N", 1])], [], ml=True)

    x20 = RNG.randn(600, 20).astype(np.float32)
    labels = np.argmax(x20[:, :3] + 0.3 * RNG.randn(600, 3), axis=1)
    lr = LogisticRegression(max_iter=500).fit(x20, labels)
    # As skl2onnx writes it: LinearClassifier with softmax scores, then an L1 Normalizer.
    model("logreg",
          [helper.make_node("LinearClassifier", ["X"], ["label", "raw"], domain="ai.onnx.ml",
                            coefficients=lr.coef_.astype(np.float32).ravel().tolist(),
                            intercepts=lr.intercept_.astype(np.float32).tolist(),
                            classlabels_ints=[0, 1, 2], multi_class=1, post_transform="SOFTMAX"),
           helper.make_node("Normalizer", ["raw"], ["probabilities"], domain="ai.onnx.ml",
                            norm="L1")],
          [vi("X", F, ["N", 20])], [vi("label", I, ["N"]), vi("probabilities", F, ["N", 3])],
          [], ml=True)


def mlp():
    b = Builder()
    h = b.op("Relu", [b.gemm("X", 64, 256)])
    h = b.op("Relu", [b.gemm(h, 256, 256)])
    y = b.gemm(h, 256, 10)
    b.nodes.append(helper.make_node("Identity", [y], ["Y"]))
    model("mlp", b.nodes, [vi("X", F, ["N", 64])], [vi("Y", F, ["N", 10])], b.inits)


def cnn():
    b = Builder()
    h = b.op("Relu", [b.conv("X", 1, 32, 3, pad=1)])
    h = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = b.op("Relu", [b.conv(h, 32, 64, 3, pad=1)])
    h = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = b.op("Flatten", [h], axis=1)
    h = b.op("Relu", [b.gemm(h, 64 * 7 * 7, 128)])
    y = b.gemm(h, 128, 10)
    b.nodes.append(helper.make_node("Identity", [y], ["Y"]))
    model("cnn", b.nodes, [vi("X", F, ["N", 1, 28, 28])], [vi("Y", F, ["N", 10])], b.inits)


def resnet18():
    b = Builder()
    h = b.op("Relu", [b.bn(b.conv("X", 3, 64, 7, stride=2, pad=3, bias=False), 64)])
    h = b.op("MaxPool", [h], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        for block in range(2):
            s = stride if block == 0 else 1
            y = b.op("Relu", [b.bn(b.conv(h, cin, cout, 3, stride=s, pad=1, bias=False), cout)])
            y = b.bn(b.conv(y, cout, cout, 3, pad=1, bias=False), cout)
            shortcut = h
            if s != 1 or cin != cout:
                shortcut = b.bn(b.conv(h, cin, cout, 1, stride=s, bias=False), cout)
            h = b.op("Relu", [b.op("Add", [y, shortcut])])
            cin = cout
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    y = b.gemm(h, 512, 1000)
    b.nodes.append(helper.make_node("Identity", [y], ["Y"]))
    model("resnet18", b.nodes, [vi("X", F, ["N", 3, 224, 224])], [vi("Y", F, ["N", 1000])],
          b.inits)


def main():
    global OUT
    args = sys.argv[1:]
    if args[:1] == ["--out"]:
        OUT, args = args[1], args[2:]
    WANTED.update(args)
    os.makedirs(OUT, exist_ok=True)
    # Every builder runs (they draw from one random stream in this order), so
    # each model's weights are the same whichever are written.
    sklearn_models()
    mlp()
    cnn()
    resnet18()


if __name__ == "__main__":
    main()

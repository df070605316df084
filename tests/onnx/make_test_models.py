#!/usr/bin/python3
"""Writes the small ONNX models the model-compiler tests load (tests/onnx/models/).

Deterministic (fixed seeds, fixed producer fields): rerunning it rewrites the same
bytes. Needs Debian's python3-onnx and python3-numpy:

    /usr/bin/python3 tests/onnx/make_test_models.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
FLOAT, INT64, STRING = TensorProto.FLOAT, TensorProto.INT64, TensorProto.STRING
ML = "ai.onnx.ml"


def rng(seed):
    return np.random.RandomState(seed)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def f32(random, *shape):
    return random.uniform(-1, 1, shape).astype(np.float32)


def save(name, nodes, inputs, outputs, initializers=(), opset=13, ml_opset=None, check=True):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    opsets = [helper.make_opsetid("", opset)]
    if ml_opset:
        opsets.append(helper.make_opsetid(ML, ml_opset))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="ferry-tests")
    model.ir_version = 8
    if check:
        onnx.checker.check_model(model)
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())


def tensor(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def mlp():
    r = rng(1)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h1"], name="fc1"),
        helper.make_node("Add", ["h1", "b1"], ["h1b"], name="fc1_bias"),
        helper.make_node("Relu", ["h1b"], ["a1"], name="relu1"),
        helper.make_node("Gemm", ["a1", "w2", "b2"], ["h2"], name="fc2", transB=1),
        helper.make_node("Tanh", ["h2"], ["a2"], name="tanh2"),
        helper.make_node("Gemm", ["a2", "w3", "b3"], ["logits"], name="fc3"),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
    ]
    inits = [init("w1", f32(r, 4, 8)), init("b1", f32(r, 8)), init("w2", f32(r, 6, 8)),
             init("b2", f32(r, 6)), init("w3", f32(r, 6, 3)), init("b3", f32(r, 3))]
    save("mlp", nodes, [tensor("x", FLOAT, ["batch", 4])],
         [tensor("probabilities", FLOAT, ["batch", 3])], inits)


def cnn():
    r = rng(2)
    bn = [init("bn_scale", r.uniform(0.5, 1.5, 4).astype(np.float32)),
          init("bn_bias", f32(r, 4)), init("bn_mean", f32(r, 4)),
          init("bn_var", r.uniform(0.5, 1.5, 4).astype(np.float32))]
    nodes = [
        helper.make_node("Conv", ["image", "conv1_w", "conv1_b"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"],
                         ["n1"], name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2_w"], ["c2"], name="conv2", kernel_shape=[3, 3],
                         group=2, strides=[1, 1], dilations=[1, 1], pads=[1, 1, 1, 1]),
        helper.make_node("AveragePool", ["c2"], ["p2"], name="pool2", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["scores"], name="fc", transB=1),
        helper.make_node("TopK", ["scores", "k"], ["top_scores", "top_classes"], name="topk"),
        helper.make_node("ArgMax", ["scores"], ["best"], name="argmax", axis=1, keepdims=0),
    ]
    inits = [init("conv1_w", f32(r, 4, 1, 3, 3)), init("conv1_b", f32(r, 4))] + bn + [
        init("conv2_w", f32(r, 6, 2, 3, 3)), init("fc_w", f32(r, 5, 6)), init("fc_b", f32(r, 5)),
        init("k", np.array([2], dtype=np.int64))]
    save("cnn", nodes, [tensor("image", FLOAT, ["batch", 1, 8, 8])],
         [tensor("top_scores", FLOAT, ["batch", 2]), tensor("top_classes", INT64, ["batch", 2]),
          tensor("best", INT64, ["batch"])], inits)


def shapes():
    """Transpose, Concat, Reshape, Identity, Clip and broadcasting arithmetic."""
    r = rng(3)
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], name="transpose", perm=[0, 2, 1]),
        helper.make_node("Concat", ["xt", "xt"], ["cat"], name="concat", axis=2),
        helper.make_node("Reshape", ["cat", "target"], ["flat"], name="reshape"),
        helper.make_node("Identity", ["flat"], ["same"], name="identity"),
        helper.make_node("Sub", ["same", "offset"], ["centered"], name="sub"),
        helper.make_node("Mul", ["centered", "gain"], ["scaled"], name="mul"),
        helper.make_node("Div", ["scaled", "two"], ["halved"], name="div"),
        helper.make_node("Clip", ["halved", "lo", "hi"], ["clipped"], name="clip"),
        helper.make_node("Sigmoid", ["clipped"], ["y"], name="sigmoid"),
    ]
    inits = [init("target", np.array([0, -1], dtype=np.int64)), init("offset", f32(r, 12)),
             init("gain", f32(r, 1)), init("two", np.array(2.0, dtype=np.float32)),
             init("lo", np.array(-0.5, dtype=np.float32)),
             init("hi", np.array(0.5, dtype=np.float32))]
    save("shapes", nodes, [tensor("x", FLOAT, ["batch", 3, 2])],
         [tensor("y", FLOAT, ["batch", 12])], inits)


def folding():
    """A constant subgraph (Add, Mul and Transpose of initializers) feeding a Gemm."""
    r = rng(4)
    nodes = [
        helper.make_node("Add", ["wa", "wb"], ["w_sum"], name="const_add"),
        helper.make_node("Mul", ["w_sum", "half"], ["w_mean"], name="const_mul"),
        helper.make_node("Transpose", ["w_mean"], ["w"], name="const_transpose", perm=[1, 0]),
        helper.make_node("Gemm", ["x", "w"], ["y"], name="fc"),
        helper.make_node("Sigmoid", ["y"], ["p"], name="sigmoid"),
    ]
    inits = [init("wa", f32(r, 2, 3)), init("wb", f32(r, 2, 3)),
             init("half", np.array([0.5], dtype=np.float32))]
    save("folding", nodes, [tensor("x", FLOAT, ["batch", 3])], [tensor("p", FLOAT, ["batch", 2])],
         inits)


def linear():
    r = rng(5)
    scaler = helper.make_node("Scaler", ["x"], ["xs"], domain=ML, name="scaler",
                              offset=list(map(float, f32(r, 3))), scale=[2.0, 0.5, 1.0])
    clf = helper.make_node("LinearClassifier", ["xs"], ["label", "probabilities"], domain=ML,
                           name="classifier", coefficients=list(map(float, f32(r, 9))),
                           intercepts=[0.1, -0.2, 0.3], classlabels_ints=[0, 1, 2],
                           post_transform="SOFTMAX", multi_class=1)
    save("linear_classifier", [scaler, clf], [tensor("x", FLOAT, ["batch", 3])],
         [tensor("label", INT64, ["batch"]), tensor("probabilities", FLOAT, ["batch", 3])],
         ml_opset=3)
    reg = helper.make_node("LinearRegressor", ["x"], ["y"], domain=ML, name="ridge",
                           coefficients=[0.5, -1.0, 2.0], intercepts=[0.25])
    norm = helper.make_node("Normalizer", ["y"], ["z"], domain=ML, name="norm", norm="L2")
    save("linear_regressor", [reg, norm], [tensor("x", FLOAT, ["batch", 3])],
         [tensor("z", FLOAT, ["batch", 1])], ml_opset=3)


def trees():
    # Two trees of depth 1 over 2 features: node 0 splits, nodes 1 and 2 are leaves.
    common = dict(nodes_treeids=[0, 0, 0, 1, 1, 1], nodes_nodeids=[0, 1, 2, 0, 1, 2],
                  nodes_featureids=[0, 0, 0, 1, 0, 0], nodes_values=[0.5, 0, 0, -0.25, 0, 0],
                  nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"] * 2,
                  nodes_truenodeids=[1, 0, 0, 1, 0, 0], nodes_falsenodeids=[2, 0, 0, 2, 0, 0],
                  nodes_missing_value_tracks_true=[0] * 6, nodes_hitrates=[1.0] * 6)
    reg = helper.make_node("TreeEnsembleRegressor", ["x"], ["y"], domain=ML, name="gbr",
                           n_targets=1, target_treeids=[0, 0, 1, 1], target_nodeids=[1, 2, 1, 2],
                           target_ids=[0, 0, 0, 0], target_weights=[0.1, 0.7, -0.3, 0.2],
                           base_values=[0.5], aggregate_function="SUM", **common)
    save("tree_regressor", [reg], [tensor("x", FLOAT, ["batch", 2])],
         [tensor("y", FLOAT, ["batch", 1])], ml_opset=3)
    clf = helper.make_node("TreeEnsembleClassifier", ["x"], ["label", "probabilities"], domain=ML,
                           name="gbc", classlabels_int64s=[0, 1], class_treeids=[0, 0, 1, 1],
                           class_nodeids=[1, 2, 1, 2], class_ids=[1, 1, 1, 1],
                           class_weights=[0.4, -0.4, 0.3, -0.1], base_values=[0.0],
                           post_transform="LOGISTIC", **common)
    save("tree_classifier", [clf], [tensor("x", FLOAT, ["batch", 2])],
         [tensor("label", INT64, ["batch"]), tensor("probabilities", FLOAT, ["batch", 2])],
         ml_opset=3)


def text():
    nodes = [
        helper.make_node("StringNormalizer", ["words"], ["lower"], name="normalize",
                         case_change_action="LOWER", stopwords=["the", "a"]),
        helper.make_node("TfIdfVectorizer", ["lower"], ["tfidf"], name="tfidf", mode="TFIDF",
                         min_gram_length=1, max_gram_length=2, max_skip_count=0,
                         ngram_counts=[0, 3], ngram_indexes=[0, 1, 2, 3],
                         pool_strings=["reset", "password", "login", "reset", "password"],
                         weights=[1.0, 1.5, 2.0, 3.0]),
    ]
    save("text", nodes, [tensor("words", STRING, [1, "words"])],
         [tensor("tfidf", FLOAT, [1, 4])])


def broken():
    """Models that load with a specific diagnostic."""
    x, y = tensor("x", FLOAT, ["batch", 3]), tensor("y", FLOAT, ["batch", 3])
    save("bad_operator", [helper.make_node("Erf", ["x"], ["y"], name="erf")], [x], [y])
    save("bad_opset", [helper.make_node("Relu", ["x"], ["y"], name="relu")], [x], [y], opset=9,
         check=False)
    save("bad_dangling", [helper.make_node("Add", ["x", "missing"], ["y"], name="add")], [x], [y],
         check=False)
    save("bad_cycle", [helper.make_node("Add", ["x", "b"], ["a"], name="add_a"),
                       helper.make_node("Relu", ["a"], ["b"], name="relu_b"),
                       helper.make_node("Identity", ["a"], ["y"], name="out")], [x], [y],
         check=False)
    save("bad_dtype", [helper.make_node("Relu", ["h"], ["y"], name="relu")],
         [tensor("h", TensorProto.FLOAT16, ["batch", 3])], [y], check=False)
    external = init("w", np.zeros((3, 3), np.float32))
    external.ClearField("raw_data")
    external.data_location = TensorProto.EXTERNAL
    external.external_data.add(key="location", value="w.bin")
    save("bad_external", [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [x], [y],
         [external], check=False)
    short = init("w", np.zeros((3, 3), np.float32))
    short.raw_data = short.raw_data[:12]
    save("bad_tensor_size", [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [x], [y],
         [short], check=False)
    save("bad_gemm_shapes", [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")], [x], [y],
         [init("w", np.zeros((4, 3), np.float32))], check=False)
    save("bad_dynamic", [helper.make_node("Gemm", ["h", "w"], ["y"], name="fc")],
         [tensor("h", FLOAT, ["batch", "features"])], [y],
         [init("w", np.zeros((3, 3), np.float32))], check=False)
    huge = TensorProto(name="w", data_type=FLOAT, dims=[2**31, 2**31])
    save("bad_huge_tensor", [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [x], [y],
         [huge], check=False)


def main():
    os.makedirs(OUT, exist_ok=True)
    for make in (mlp, cnn, shapes, folding, linear, trees, text, broken):
        make()


if __name__ == "__main__":
    main()

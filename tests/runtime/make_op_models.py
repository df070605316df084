#!/usr/bin/python3
"""Writes the single-operator ONNX models that tests/runtime/ops_vs_ort_test.cc
runs through ferry's kernels and through ONNX Runtime. Deterministic: the same
bytes on every run. Run from anywhere: /usr/bin/python3 tests/runtime/make_op_models.py

Each model's attributes that the C++ test needs to call the kernel (tree and
linear-model arrays) go into a sidecar <name>.json next to <name>.onnx.
"""
import json
import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save_model

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
F, I, S = TensorProto.FLOAT, TensorProto.INT64, TensorProto.STRING


def save(name, nodes, inputs, outputs, inits=(), ml=False, ms=False, sidecar=None):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    opsets = [helper.make_opsetid("", 17)]
    if ml:
        opsets.append(helper.make_opsetid("ai.onnx.ml", 3))
    if ms:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="ferry-tests")
    model.ir_version = 8
    save_model(model, os.path.join(OUT, name + ".onnx"))
    if sidecar is not None:
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(sidecar, f, indent=1, sort_keys=True)
            f.write("\n")


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def tree_attrs(estimators, scale=1.0):
    """ONNX-ML node/leaf arrays for a list of sklearn trees (one target/class column each)."""
    a = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values",
                         "nodes_modes", "nodes_truenodeids", "nodes_falsenodeids",
                         "leaf_treeids", "leaf_nodeids", "leaf_ids", "leaf_weights"]}
    for tree_id, (tree, target) in enumerate(estimators):
        t = tree.tree_
        for node in range(t.node_count):
            leaf = t.children_left[node] == -1
            a["nodes_treeids"].append(tree_id)
            a["nodes_nodeids"].append(node)
            a["nodes_featureids"].append(0 if leaf else int(t.feature[node]))
            a["nodes_values"].append(0.0 if leaf else float(np.float32(t.threshold[node])))
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            a["nodes_truenodeids"].append(0 if leaf else int(t.children_left[node]))
            a["nodes_falsenodeids"].append(0 if leaf else int(t.children_right[node]))
            if leaf:
                values = t.value[node].reshape(-1)
                if target == "proba":
                    values = values / values.sum()
                    for c, v in enumerate(values):
                        a["leaf_treeids"].append(tree_id)
                        a["leaf_nodeids"].append(node)
                        a["leaf_ids"].append(c)
                        a["leaf_weights"].append(float(np.float32(v * scale)))
                else:
                    a["leaf_treeids"].append(tree_id)
                    a["leaf_nodeids"].append(node)
                    a["leaf_ids"].append(int(target))
                    a["leaf_weights"].append(float(np.float32(values[0] * scale)))
    return a


def tree_node(op, a, extra, prefix):
    kw = {k: v for k, v in a.items() if k.startswith("nodes_")}
    kw.update({prefix + k[len("leaf_"):]: v for k, v in a.items() if k.startswith("leaf_")})
    kw.update(extra)
    outputs = ["Y"] if op == "TreeEnsembleRegressor" else ["label", "probabilities"]
    return helper.make_node(op, ["X"], outputs, domain="ai.onnx.ml", **kw)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(0)
    w = lambda *shape: numpy_helper.from_array(rng.randn(*shape).astype(np.float32), "W")

    # Gemm, MatMul and the elementwise family.
    save("gemm", [helper.make_node("Gemm", ["A", "B", "C"], ["Y"], alpha=0.5, beta=2.0, transB=1)],
         [vi("A", F, [5, 7]), vi("B", F, [4, 7]), vi("C", F, [4])], [vi("Y", F, [5, 4])])
    save("gemm_transa_column_bias",
         [helper.make_node("Gemm", ["A", "B", "C"], ["Y"], transA=1)],
         [vi("A", F, [7, 5]), vi("B", F, [7, 4]), vi("C", F, [5, 1])], [vi("Y", F, [5, 4])])
    save("gemm_relu", [helper.make_node("Gemm", ["A", "B", "C"], ["T"], transB=1),
                       helper.make_node("Relu", ["T"], ["Y"])],
         [vi("A", F, [33, 300]), vi("B", F, [70, 300]), vi("C", F, [70])], [vi("Y", F, [33, 70])])
    save("matmul_broadcast", [helper.make_node("MatMul", ["A", "B"], ["Y"])],
         [vi("A", F, [2, 3, 5, 7]), vi("B", F, [3, 7, 6])], [vi("Y", F, [2, 3, 5, 6])])
    save("matmul_2d", [helper.make_node("MatMul", ["A", "B"], ["Y"])],
         [vi("A", F, [1, 520]), vi("B", F, [520, 45])], [vi("Y", F, [1, 45])])
    for op in ["Add", "Sub", "Mul", "Div"]:
        save(op.lower() + "_broadcast", [helper.make_node(op, ["A", "B"], ["Y"])],
             [vi("A", F, [2, 3, 4, 5]), vi("B", F, [3, 1, 5])], [vi("Y", F, [2, 3, 4, 5])])
    for op in ["Relu", "Sigmoid", "Tanh"]:
        save(op.lower(), [helper.make_node(op, ["X"], ["Y"])], [vi("X", F, [3, 17])],
             [vi("Y", F, [3, 17])])
    clip_min = numpy_helper.from_array(np.array(-0.5, np.float32), "lo")
    clip_max = numpy_helper.from_array(np.array(0.25, np.float32), "hi")
    save("clip", [helper.make_node("Clip", ["X", "lo", "hi"], ["Y"])], [vi("X", F, [3, 17])],
         [vi("Y", F, [3, 17])], [clip_min, clip_max])

    # Convolutions and pools.
    save("conv_grouped_padded",
         [helper.make_node("Conv", ["X", "W", "B"], ["Y"], group=2, pads=[1, 0, 2, 1],
                           strides=[2, 1], dilations=[1, 2], kernel_shape=[3, 3])],
         [vi("X", F, [2, 4, 9, 11]), vi("W", F, [6, 2, 3, 3]), vi("B", F, [6])],
         [vi("Y", F, [2, 6, 5, 8])])
    save("conv_pointwise", [helper.make_node("Conv", ["X", "W"], ["Y"])],
         [vi("X", F, [1, 8, 5, 5]), vi("W", F, [16, 8, 1, 1])], [vi("Y", F, [1, 16, 5, 5])])
    save("conv_relu", [helper.make_node("Conv", ["X", "W", "B"], ["T"], pads=[1, 1, 1, 1]),
                       helper.make_node("Relu", ["T"], ["Y"])],
         [vi("X", F, [1, 3, 16, 16]), vi("W", F, [20, 3, 3, 3]), vi("B", F, [20])],
         [vi("Y", F, [1, 20, 16, 16])])
    # The shapes the convolution kernel specialises (ops_vs_ort_test.cc's kConvCases):
    # name, X, W, pads (top, left, bottom, right), strides, dilations, group, relu, Y.
    for name, x, w_shape, pads, strides, dilations, group, relu, y in [
            ("conv_winograd_relu", [2, 16, 13, 11], [20, 16, 3, 3], [1, 1, 1, 1], [1, 1], [1, 1],
             1, True, [2, 20, 13, 11]),
            ("conv_winograd_asymmetric", [1, 16, 10, 9], [32, 16, 3, 3], [0, 2, 1, 0], [1, 1],
             [1, 1], 1, False, [1, 32, 9, 9]),
            ("conv_winograd_blocks", [1, 16, 32, 32], [16, 16, 3, 3], [0, 0, 0, 0], [1, 1],
             [1, 1], 1, False, [1, 16, 30, 30]),
            ("conv_3x3_stride2", [1, 16, 15, 15], [24, 16, 3, 3], [1, 1, 1, 1], [2, 2], [1, 1],
             1, True, [1, 24, 8, 8]),
            ("conv_7x7_stride2", [1, 3, 32, 32], [16, 3, 7, 7], [3, 3, 3, 3], [2, 2], [1, 1], 1,
             True, [1, 16, 16, 16]),
            ("conv_1x1_stride2", [1, 32, 9, 9], [48, 32, 1, 1], [0, 0, 0, 0], [2, 2], [1, 1], 1,
             False, [1, 48, 5, 5]),
            ("conv_3x3_dilated", [1, 16, 12, 12], [16, 16, 3, 3], [2, 2, 2, 2], [1, 1], [2, 2],
             1, False, [1, 16, 12, 12]),
            ("conv_3x3_grouped", [1, 32, 8, 8], [32, 16, 3, 3], [1, 1, 1, 1], [1, 1], [1, 1], 2,
             False, [1, 32, 8, 8]),
            # One input channel (a gray image's first layer): the direct 3x3 path, with
            # output channels not a multiple of 4 and rows not a multiple of 8 wide.
            ("conv_1ch_3x3_relu", [2, 1, 13, 21], [6, 1, 3, 3], [1, 1, 1, 1], [1, 1], [1, 1], 1,
             True, [2, 6, 13, 21]),
            ("conv_1ch_3x3_narrow", [1, 1, 7, 5], [4, 1, 3, 3], [0, 2, 1, 0], [1, 1], [1, 1], 1,
             False, [1, 4, 6, 5])]:
        conv_out = "T" if relu else "Y"
        nodes = [helper.make_node("Conv", ["X", "W", "B"], [conv_out], pads=pads, strides=strides,
                                  dilations=dilations, group=group,
                                  kernel_shape=w_shape[2:])]
        if relu:
            nodes.append(helper.make_node("Relu", ["T"], ["Y"]))
        save(name, nodes, [vi("X", F, x), vi("W", F, w_shape), vi("B", F, [w_shape[0]])],
             [vi("Y", F, y)])
    save("maxpool_2x2", [helper.make_node("MaxPool", ["X"], ["Y"], kernel_shape=[2, 2],
                                          strides=[2, 2])],
         [vi("X", F, [2, 3, 8, 9])], [vi("Y", F, [2, 3, 4, 4])])
    save("maxpool_dilated", [helper.make_node("MaxPool", ["X"], ["Y"], kernel_shape=[2, 3],
                                              strides=[1, 1], pads=[0, 2, 1, 0],
                                              dilations=[2, 2])],
         [vi("X", F, [1, 2, 7, 11])], [vi("Y", F, [1, 2, 6, 9])])
    save("maxpool", [helper.make_node("MaxPool", ["X"], ["Y"], kernel_shape=[3, 3],
                                      strides=[2, 2], pads=[1, 1, 1, 1])],
         [vi("X", F, [2, 3, 9, 10])], [vi("Y", F, [2, 3, 5, 5])])
    for include in [0, 1]:
        save("averagepool_pad%d" % include,
             [helper.make_node("AveragePool", ["X"], ["Y"], kernel_shape=[3, 2], strides=[2, 2],
                               pads=[1, 1, 1, 0], count_include_pad=include)],
             [vi("X", F, [2, 3, 9, 10])], [vi("Y", F, [2, 3, 5, 5])])
    save("globalaveragepool", [helper.make_node("GlobalAveragePool", ["X"], ["Y"])],
         [vi("X", F, [2, 5, 4, 3])], [vi("Y", F, [2, 5, 1, 1])])
    save("batchnormalization",
         [helper.make_node("BatchNormalization", ["X", "s", "b", "m", "v"], ["Y"], epsilon=1e-3)],
         [vi("X", F, [2, 3, 4, 5]), vi("s", F, [3]), vi("b", F, [3]), vi("m", F, [3]),
          vi("v", F, [3])], [vi("Y", F, [2, 3, 4, 5])])

    # Softmax, TopK, ArgMax and data movement.
    save("softmax", [helper.make_node("Softmax", ["X"], ["Y"], axis=1)], [vi("X", F, [2, 6, 3])],
         [vi("Y", F, [2, 6, 3])])
    k = numpy_helper.from_array(np.array([4], np.int64), "K")
    save("topk", [helper.make_node("TopK", ["X", "K"], ["V", "I"], axis=1)],
         [vi("X", F, [3, 10])], [vi("V", F, [3, 4]), vi("I", I, [3, 4])], [k])
    save("argmax", [helper.make_node("ArgMax", ["X"], ["Y"], axis=1, keepdims=1)],
         [vi("X", F, [3, 10, 2])], [vi("Y", I, [3, 1, 2])])
    save("transpose", [helper.make_node("Transpose", ["X"], ["Y"], perm=[0, 2, 3, 1])],
         [vi("X", F, [2, 3, 4, 5])], [vi("Y", F, [2, 4, 5, 3])])
    save("concat", [helper.make_node("Concat", ["A", "B"], ["Y"], axis=1)],
         [vi("A", F, [2, 3, 4]), vi("B", F, [2, 5, 4])], [vi("Y", F, [2, 8, 4])])
    save("flatten", [helper.make_node("Flatten", ["X"], ["Y"], axis=1)],
         [vi("X", F, [2, 3, 4])], [vi("Y", F, [2, 12])])
    shape = numpy_helper.from_array(np.array([4, -1], np.int64), "shape")
    save("reshape", [helper.make_node("Reshape", ["X", "shape"], ["Y"])],
         [vi("X", F, [2, 3, 4])], [vi("Y", F, [4, 6])], [shape])
    save("identity", [helper.make_node("Identity", ["X"], ["Y"])], [vi("X", F, [2, 3])],
         [vi("Y", F, [2, 3])])

    # ONNX-ML: linear models, Scaler, Normalizer.
    coef = rng.randn(2, 6).astype(np.float32)
    icpt = rng.randn(2).astype(np.float32)
    save("linear_regressor",
         [helper.make_node("LinearRegressor", ["X"], ["Y"], domain="ai.onnx.ml",
                           coefficients=coef.ravel().tolist(), intercepts=icpt.tolist(),
                           targets=2)],
         [vi("X", F, [4, 6])], [vi("Y", F, [4, 2])], ml=True,
         sidecar={"coefficients": coef.ravel().tolist(), "intercepts": icpt.tolist()})
    for name, classes, post, labels in [("linear_classifier_softmax", 3, "SOFTMAX", [10, 20, 30]),
                                        ("linear_classifier_binary", 1, "NONE", [0, 1]),
                                        ("linear_classifier_logistic", 3, "LOGISTIC", [1, 2, 3])]:
        coef = rng.randn(classes, 6).astype(np.float32)
        icpt = rng.randn(classes).astype(np.float32)
        attrs = {"coefficients": coef.ravel().tolist(), "intercepts": icpt.tolist(),
                 "classlabels_ints": labels, "post_transform": post, "multi_class": 1}
        save(name, [helper.make_node("LinearClassifier", ["X"], ["label", "scores"],
                                     domain="ai.onnx.ml", **attrs)],
             [vi("X", F, [4, 6])], [vi("label", I, [4]), vi("scores", F, [4, max(classes, 2)])],
             ml=True, sidecar=attrs)
    offset = rng.randn(5).astype(np.float32).tolist()
    scale = (rng.rand(5) + 0.5).astype(np.float32).tolist()
    save("scaler", [helper.make_node("Scaler", ["X"], ["Y"], domain="ai.onnx.ml", offset=offset,
                                     scale=scale)],
         [vi("X", F, [4, 5])], [vi("Y", F, [4, 5])], ml=True,
         sidecar={"offset": offset, "scale": scale})
    for norm in ["MAX", "L1", "L2"]:
        save("normalizer_" + norm.lower(),
             [helper.make_node("Normalizer", ["X"], ["Y"], domain="ai.onnx.ml", norm=norm)],
             [vi("X", F, [4, 5])], [vi("Y", F, [4, 5])], ml=True)

    # Tree ensembles from fitted scikit-learn models.
    from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                                  RandomForestClassifier, RandomForestRegressor)
    x = rng.randn(300, 8).astype(np.float32)
    y = x[:, 0] * 2 + np.sin(x[:, 1]) + 0.1 * rng.randn(300)
    gbr = GradientBoostingRegressor(n_estimators=20, max_depth=3, random_state=0).fit(x, y)
    a = tree_attrs([(e[0], 0) for e in gbr.estimators_], gbr.learning_rate)
    extra = {"n_targets": 1, "base_values": [float(gbr.init_.constant_[0][0])],
             "aggregate_function": "SUM", "post_transform": "NONE"}
    save("tree_regressor_sum", [tree_node("TreeEnsembleRegressor", a, extra, "target_")],
         [vi("X", F, [None, 8])], [vi("Y", F, [None, 1])], ml=True, sidecar={**a, **extra})
    rfr = RandomForestRegressor(n_estimators=7, max_depth=4, random_state=0).fit(x, y)
    a = tree_attrs([(e, 0) for e in rfr.estimators_])
    extra = {"n_targets": 1, "aggregate_function": "AVERAGE", "post_transform": "NONE"}
    save("tree_regressor_average", [tree_node("TreeEnsembleRegressor", a, extra, "target_")],
         [vi("X", F, [None, 8])], [vi("Y", F, [None, 1])], ml=True, sidecar={**a, **extra})
    labels = (y > np.median(y)).astype(np.int64)
    gbc = GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0).fit(x, labels)
    a = tree_attrs([(e[0], 0) for e in gbc.estimators_], gbc.learning_rate)
    prior = float(np.log(labels.mean() / (1 - labels.mean())))
    extra = {"classlabels_int64s": [0, 1], "base_values": [prior], "post_transform": "LOGISTIC"}
    save("tree_classifier_binary", [tree_node("TreeEnsembleClassifier", a, extra, "class_")],
         [vi("X", F, [None, 8])], [vi("label", I, [None]), vi("probabilities", F, [None, 2])],
         ml=True, sidecar={**a, **extra})
    classes3 = np.digitize(y, np.quantile(y, [0.33, 0.66])).astype(np.int64)
    rfc = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(x, classes3)
    a = tree_attrs([(e, "proba") for e in rfc.estimators_], 1.0 / len(rfc.estimators_))
    extra = {"classlabels_int64s": [0, 1, 2], "post_transform": "NONE"}
    save("tree_classifier_multiclass", [tree_node("TreeEnsembleClassifier", a, extra, "class_")],
         [vi("X", F, [None, 8])], [vi("label", I, [None]), vi("probabilities", F, [None, 3])],
         ml=True, sidecar={**a, **extra})

    # Text: StringNormalizer, the Tokenizer stage, TfIdfVectorizer.
    sn = {"case_change_action": "LOWER", "is_case_sensitive": 0, "stopwords": ["the", "a"],
          "locale": "C.UTF-8"}
    save("string_normalizer", [helper.make_node("StringNormalizer", ["X"], ["Y"], **sn)],
         [vi("X", S, [None])], [vi("Y", S, [None])], sidecar=sn)
    tok = {"mark": 0, "mincharnum": 1, "pad_value": "#", "tokenexp": "[a-zA-Z0-9_]+"}
    save("tokenizer", [helper.make_node("Tokenizer", ["X"], ["Y"], domain="com.microsoft", **tok)],
         [vi("X", S, [None])], [vi("Y", S, [None, None])], ms=True, sidecar=tok)
    tfidf = {"mode": "TFIDF", "min_gram_length": 1, "max_gram_length": 2, "max_skip_count": 1,
             "ngram_counts": [0, 4], "ngram_indexes": [0, 1, 2, 3, 4, 5],
             "pool_strings": ["password", "reset", "how", "account", "reset", "password", "how",
                              "reset"],
             "weights": [1.5, 2.0, 0.5, 1.0, 3.0, 2.5]}
    save("tfidf_vectorizer", [helper.make_node("TfIdfVectorizer", ["X"], ["Y"], **tfidf)],
         [vi("X", S, [None, None])], [vi("Y", F, [None, 6])], sidecar=tfidf)


if __name__ == "__main__":
    main()

"""Writes the serving benchmark's model twice, as the same function, plus its request.

  /usr/bin/python3 bench/serve/make_model.py --out DIR

DIR/model.pkl   scikit-learn Ridge on 10 features (joblib), for the Flask/gunicorn app
DIR/ridge.onnx  the same Ridge as an ONNX LinearRegressor (ai.onnx.ml), for ferry and ONNX Runtime
DIR/body.json   the request body every server gets: {"data": [[10 floats]]}, about 200 bytes
DIR/expected.json  sklearn's prediction for that row; the harness checks each server's answer

The ONNX graph holds the Ridge's coefficients as float32; the check below evaluates the graph's
own attributes in float32 against sklearn's float64 predict on many rows, so a wrong export
(order, sign, intercept) fails here, before any server is started.
"""
import argparse
import json
import os

import joblib
import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.linear_model import Ridge

FEATURES = 10


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)

    rng = np.random.RandomState(8)
    x = rng.randn(1000, FEATURES)
    y = x @ rng.randn(FEATURES) + 0.5 + 0.1 * rng.randn(1000)
    ridge = Ridge(alpha=1.0).fit(x, y)
    joblib.dump(ridge, os.path.join(out, "model.pkl"))

    coefficients = ridge.coef_.astype(np.float32)
    intercept = np.float32(ridge.intercept_)
    node = helper.make_node("LinearRegressor", ["X"], ["Y"], domain="ai.onnx.ml",
                            coefficients=coefficients.tolist(), intercepts=[float(intercept)],
                            targets=1)
    graph = helper.make_graph(
        [node], "ridge",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", FEATURES])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 1])])
    model = helper.make_model(graph, producer_name="ferry-bench-serve", opset_imports=[
        helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "ridge.onnx"))

    # Same function: the graph's float32 arithmetic against sklearn's predict.
    check = rng.randn(256, FEATURES)
    attrs = {a.name: helper.get_attribute_value(a) for a in onnx.load(
        os.path.join(out, "ridge.onnx")).graph.node[0].attribute}
    graph_y = (check.astype(np.float32) @ np.array(attrs["coefficients"], np.float32)
               + np.float32(attrs["intercepts"][0]))
    worst = float(np.max(np.abs(graph_y - ridge.predict(check))))
    if worst > 1e-4:
        raise SystemExit(f"ONNX export differs from sklearn's Ridge by {worst}")

    row = [round(float(v), 15) for v in rng.randn(FEATURES)]
    body = json.dumps({"data": [row]}, separators=(",", ":"))
    with open(os.path.join(out, "body.json"), "w") as f:
        f.write(body)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"y": float(ridge.predict(np.array([row]))[0])}, f)
    print(f"model: ridge on {FEATURES} features, ONNX vs sklearn max |diff| {worst:.2e}; "
          f"body {len(body)} bytes")


if __name__ == "__main__":
    main()

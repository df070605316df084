#!/usr/bin/env python3
"""Seeded random rows for a model's first input, as a `score` request on stdout.

  gpu_inputs.py MODEL.onnx BATCH     (BATCH 0: the model's own fixed first dimension)

Values are uniform in [0, 1) (image models take pixels scaled to 0..1); symbolic
dimensions other than the first become 1. Needs onnx and numpy.
"""
import json
import sys

import numpy as np
import onnx


def main():
    model = onnx.load(sys.argv[1], load_external_data=False)
    batch = int(sys.argv[2])
    constants = {init.name for init in model.graph.initializer}
    first = next(i for i in model.graph.input if i.name not in constants)
    dims = [d.dim_value if d.HasField("dim_value") else 0 for d in first.type.tensor_type.shape.dim]
    if batch > 0 or not dims or dims[0] == 0:
        dims[0] = batch if batch > 0 else 1
    dims = [d if d > 0 else 1 for d in dims]
    rows = np.random.default_rng(9).random(dims, dtype=np.float32)
    rows = np.round(rows, 6)
    json.dump({"data": rows.tolist()}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()

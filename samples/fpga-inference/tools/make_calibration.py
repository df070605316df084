#!/usr/bin/python3
"""Writes samples/fpga-inference/calibration.json, the FPGA back end's calibration set.

The rows are real handwritten digits, but not from the forms this sample
pretends to read: the first 32 images of scikit-learn's bundled copy of the
UCI ML hand-written digits data set (8x8 pixels, 0..16), upscaled bilinearly
to the model's 28x28 input, scaled to 0..1 as the bundle's image stage would
and written as [1, 28, 28] rows. Deterministic: no randomness, values rounded
to 4 decimals. Run with Debian's python3 (needs python3-sklearn, numpy):

    /usr/bin/python3 samples/fpga-inference/tools/make_calibration.py
"""
import json
import pathlib

import numpy as np
from sklearn.datasets import load_digits

ROWS = 32
SIZE = 28


def upscale(image: np.ndarray) -> np.ndarray:
    """Bilinear resize of an 8x8 image to SIZE x SIZE (pixel centres aligned)."""
    src = image.shape[0]
    coords = (np.arange(SIZE) + 0.5) * src / SIZE - 0.5
    coords = np.clip(coords, 0, src - 1)
    low = np.floor(coords).astype(int)
    high = np.minimum(low + 1, src - 1)
    frac = coords - low
    rows = image[low, :] * (1 - frac)[:, None] + image[high, :] * frac[:, None]
    return rows[:, low] * (1 - frac)[None, :] + rows[:, high] * frac[None, :]


def main() -> None:
    digits = load_digits()
    data = []
    for image in digits.images[:ROWS]:
        pixels = upscale(image / 16.0)
        data.append([[[round(float(v), 4) for v in row] for row in pixels]])
    out = pathlib.Path(__file__).resolve().parent.parent / "calibration.json"
    out.write_text(json.dumps({"data": data}, separators=(",", ":")) + "\n")
    print(f"wrote {out} ({ROWS} rows, labels {list(digits.target[:ROWS])})")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes the image stage's test fixtures (tests/runtime/images/) with Pillow.

The pixels follow formulas that tests/runtime/image_test.cc recomputes, so the
lossless files are checked against the formulas, not against Pillow; the JPEG
files and the resized images are checked against Pillow's decoding and its
BILINEAR resize (saved losslessly as *.expected.png).

    /usr/bin/python3 tests/runtime/make_images.py
"""
import io
import pathlib
import struct
import zlib

import numpy as np
from PIL import Image

OUT = pathlib.Path(__file__).resolve().parent / "images"
W, H = 37, 23


def rgb_pattern():
    y, x = np.mgrid[0:H, 0:W]
    return np.stack([(x * 7 + y * 3) % 256, (x * 2 + y * 11) % 256, (x * y) % 256], -1).astype(np.uint8)


def gray_pattern():
    y, x = np.mgrid[0:H, 0:W]
    return ((x * 5 + y * 9) % 256).astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def rgb16_png():
    """16-bit RGB (Pillow cannot write it): each sample is pattern * 256 + 255 * (x % 2),
    so the high byte is the pattern and rounding to 8 bits would differ."""
    rgb = rgb_pattern().astype(np.uint16) * 256 + 255 * (np.arange(W) % 2).astype(np.uint16)[None, :, None]
    raw = b"".join(b"\x00" + rgb[y].astype(">u2").tobytes() for y in range(H))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 16, 2, 0, 0, 0)) +
            png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def interlaced_png():
    """The RGB pattern, Adam7-interlaced (Pillow cannot write it): seven passes of sub-images."""
    rgb = rgb_pattern()
    raw = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                           (1, 0, 2, 2), (0, 1, 1, 2)):
        sub = rgb[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\x00" + row.tobytes() for row in sub)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 1)) +
            png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def save(image, name, **options):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG" if name.endswith(".png") else "JPEG", **options)
    (OUT / name).write_bytes(buffer.getvalue())


def main():
    OUT.mkdir(exist_ok=True)
    rgb = Image.fromarray(rgb_pattern(), "RGB")
    gray = Image.fromarray(gray_pattern(), "L")
    save(rgb, "rgb.png", optimize=False)
    save(gray, "gray.png")
    alpha = Image.fromarray(((np.arange(W)[None, :] * 5 + np.zeros((H, 1))) % 256).astype(np.uint8), "L")
    save(Image.merge("RGBA", (*rgb.split(), alpha)), "rgba.png")
    save(Image.merge("LA", (gray, alpha)), "gray_alpha.png")
    y, x = np.mgrid[0:H, 0:W]
    palette = Image.fromarray(((x + y) % 16).astype(np.uint8), "P")
    palette.putpalette([v for i in range(16) for v in (i * 16, 255 - i * 16, i * 7)])
    save(palette, "palette.png", transparency=0)
    bilevel = Image.fromarray(np.where((x + y) % 3 == 0, 255, 0).astype(np.uint8), "L")
    save(bilevel.convert("1", dither=Image.NONE), "bilevel.png")
    (OUT / "rgb16.png").write_bytes(rgb16_png())
    (OUT / "interlaced.png").write_bytes(interlaced_png())
    save(rgb, "rgb.jpg", quality=90)
    save(rgb, "progressive.jpg", quality=90, progressive=True)
    save(gray, "gray.jpg", quality=90)
    save(Image.fromarray(np.dstack([rgb_pattern(), gray_pattern()]), "CMYK"), "cmyk.jpg")
    # Pillow's own decoding of the JPEG files, and its BILINEAR resizes.
    for name in ("rgb.jpg", "progressive.jpg", "gray.jpg"):
        save(Image.open(OUT / name), name.replace(".jpg", ".expected.png"))
    save(rgb.resize((16, 12), Image.BILINEAR), "rgb_16x12.expected.png")
    save(rgb.resize((50, 41), Image.BILINEAR), "rgb_50x41.expected.png")
    save(rgb.convert("L").resize((16, 12), Image.BILINEAR), "rgb_gray_16x12.expected.png")


if __name__ == "__main__":
    main()

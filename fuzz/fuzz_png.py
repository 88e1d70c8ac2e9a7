"""Fuzz the fast PNG reader, maskcodecs._png.decode_png, against Pillow.

Input: a first byte choosing how the rest becomes a PNG, so that most inputs get past the
checksums: 0 builds a file (header fields from the next bytes, the rest as image data, zlib-
compressed by the harness or, every other time, used as the zlib stream itself), 1 takes the
rest as a whole file and rewrites every chunk's CRC, 2 takes it as is.
Invariants: decode_png never raises; when it returns pixels, Pillow decodes the same file to
the same mode, dtype, shape and pixels.
"""
from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
from _fuzzcommon import Input, check, main

from maskcodecs._png import SIGNATURE, decode_png

LAYOUTS = [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (8, 2), (16, 2), (1, 3), (2, 3), (4, 3),
           (8, 3), (8, 4), (16, 4), (8, 6), (3, 0), (8, 5)]


def chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + \
        struct.pack(">I", zlib.crc32(body, zlib.crc32(ctype)))


def build(inp: Input) -> bytes:
    w = inp.size() or 1
    h = inp.size() or 1
    depth, colour = LAYOUTS[inp.below(len(LAYOUTS))]
    interlace = int(inp.below(8) == 0)
    k = inp.below(5)
    extra = b"" if k == 0 else chunk(b"tRNS", inp.take(inp.below(8))) if k == 1 else \
        chunk(b"gAMA", inp.take(4)) if k == 2 else chunk(b"PLTE", bytes(48)) * 2 if k == 3 \
        else chunk(b"tEXt", b"a\0b")
    raw_stream = inp.flag()
    parts = 1 + inp.below(3)
    body = inp.rest()
    data = body if raw_stream else zlib.compress(body)
    cut = [len(data) * i // parts for i in range(parts + 1)]
    idat = b"".join(chunk(b"IDAT", data[cut[i]:cut[i + 1]]) for i in range(parts))
    plte = chunk(b"PLTE", bytes(range(48))) if colour == 3 else b""
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace)
    return SIGNATURE + chunk(b"IHDR", ihdr) + plte + extra + idat + chunk(b"IEND", b"")


def fix_crcs(data: bytes) -> bytes:
    out = bytearray(data)
    pos = 8
    while pos + 12 <= len(out):
        n = int.from_bytes(out[pos:pos + 4], "big")
        end = pos + 12 + n
        if end > len(out):
            break
        out[end - 4:end] = zlib.crc32(bytes(out[pos + 4:end - 4])).to_bytes(4, "big")
        pos = end
    return bytes(out)


def test_one(data: bytes) -> None:
    inp = Input(data)
    how = inp.below(3)
    if how == 0:
        png = build(inp)
    else:
        png = SIGNATURE + inp.rest()
        if how == 1:
            png = fix_crcs(png)
    got = decode_png(png)
    if got is None:
        return
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Image.open(io.BytesIO(png)) as im:
            im.load()
            want, mode = np.asarray(im), im.mode
    check(got[1] == mode, f"mode {got[1]} != Pillow's {mode}")
    check(got[0].dtype == want.dtype and got[0].shape == want.shape, "dtype/shape differ")
    check(bool((got[0] == want).all()), "pixels differ from Pillow's")


if __name__ == "__main__":
    main(test_one)

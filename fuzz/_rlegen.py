"""Build RLE operands for the merge and iou harnesses from fuzz bytes."""
from __future__ import annotations

import numpy as np
from _fuzzcommon import Input

from maskcodecs import mask as mc


def small_mask(inp: Input, h: int, w: int) -> np.ndarray:
    """A random-ish mask from the input: runs of random lengths."""
    flat = np.zeros(h * w, dtype=np.uint8)
    pos = 0
    v = inp.flag()
    while pos < h * w and inp.remaining():
        n = inp.uint(1) % 24
        flat[pos:pos + n] = v
        pos += n
        v = not v
    return flat.reshape((w, h)).T


def rle_operand(inp: Input, h: int, w: int) -> dict:
    """Mostly valid RLEs of size [h, w]; sometimes a mutated or raw counts string."""
    k = inp.uint(1)
    if k < 170:
        return mc.encode(np.asfortranarray(small_mask(inp, h, w)))
    if k < 220:
        r = mc.encode(np.asfortranarray(small_mask(inp, h, w)))
        b = bytearray(r["counts"])
        if b:
            i = inp.below(len(b))
            b[i] = 48 + inp.uint(1) % 64
        return {"size": [h, w], "counts": bytes(b)}
    if k < 240:
        return {"size": [h, w], "counts": inp.counts_string(16)}
    return {"size": [inp.size(), inp.size()], "counts": inp.counts_string(16)}

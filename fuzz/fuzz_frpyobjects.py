"""Fuzz mask.frPyObjects: polygons, boxes (list and ndarray) and uncompressed RLE.

Invariants: only maskcodecs errors escape; every result is a valid RLE of size [h, w]
(area and toBbox accept it, decode agrees on small sizes); on small finite inputs the
result equals pycocotools' byte for byte (when pycocotools is installed and accepts the
input).
"""
from __future__ import annotations

import math

import numpy as np
from _fuzzcommon import MAX_DECODE_PIXELS, Input, check, expect_rejection, main, reference_bbox

from maskcodecs import mask as mc

try:
    from pycocotools import mask as pc
except ImportError:  # pragma: no cover
    pc = None


def _polys(inp: Input) -> list:
    out = []
    for _ in range(inp.below(4) + 1):
        out.append([inp.double() for _ in range(inp.below(13))])
    return out


def _counts(inp: Input) -> list:
    out = []
    for _ in range(inp.below(12)):
        k = inp.uint(1)
        if k < 200:
            out.append(k % 20)
        elif k < 220:
            out.append(inp.uint(5) - (1 << 39))
        elif k < 230:
            out.append(float(k % 7) + 0.5)
        elif k < 240:
            out.append(1 << 32)
        else:
            out.append(inp.uint(4))
    return out


def _build(inp: Input, h: int, w: int):
    kind = inp.below(8)
    if kind == 0:
        return _polys(inp)
    if kind == 1:
        return _polys(inp)[0]
    if kind == 2:
        n = inp.below(4)
        return np.array([[inp.double() for _ in range(4)] for _ in range(n)]).reshape(n, 4)
    if kind == 3:
        return [[inp.double() for _ in range(4)] for _ in range(inp.below(4) + 1)]
    if kind == 4:
        return {"size": [h, w], "counts": _counts(inp)}
    if kind == 5:
        return [{"size": [h, w], "counts": _counts(inp)} for _ in range(inp.below(3) + 1)]
    if kind == 6:
        # odd shapes and types
        return [[], [1.0, 2.0], "ab", None, {"counts": []}][inp.below(5):]
    return np.array([inp.double() for _ in range(inp.below(9))])


def _finite_small(obj) -> bool:
    vals = np.asarray(obj, dtype=object).ravel().tolist() if not isinstance(obj, dict) else []
    flat = []
    stack = list(vals)
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple, np.ndarray)):
            stack.extend(list(v))
        else:
            flat.append(v)
    return all(isinstance(v, (int, float)) and math.isfinite(v) and abs(v) < 1e4 for v in flat)


def test_one(data: bytes) -> None:
    inp = Input(data)
    h = inp.size()
    # rasterising costs time and memory in proportion to the columns a polygon spans (its
    # output is that big for any non-degenerate shape): keep the width fuzzable but sane
    w = inp.size() % (1 << 16)
    obj = _build(inp, h, w)
    ok, res = expect_rejection(lambda: mc.frPyObjects(obj, h, w))
    if not ok:
        return
    rles = res if isinstance(res, list) else [res]
    for r in rles:
        check(set(r) == {"size", "counts"} and isinstance(r["counts"], bytes), f"bad RLE {r!r}")
        check(r["size"] == [h, w] or isinstance(obj, dict) or isinstance(obj, list)
              and obj and isinstance(obj[0], dict), f"size {r['size']} != {[h, w]}")
        a = mc.area(r)
        bb = mc.toBbox(r)
        rh, rw = r["size"]
        if rh * rw <= MAX_DECODE_PIXELS:
            m = mc.decode(r)
            check(int(m.sum()) == int(a), "area != decoded sum")
            check(bb.tolist() == reference_bbox(m), "toBbox != box of the decoded mask")
    if pc is None or h * w > MAX_DECODE_PIXELS or h * w == 0 or isinstance(obj, dict):
        # (pycocotools returns garbage for an empty image: not compared)
        return
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        return
    if not _finite_small(obj):
        return
    try:
        ref = pc.frPyObjects(obj, h, w)
    except Exception:  # pycocotools rejects more inputs; only compare accepted ones
        return
    ref_list = ref if isinstance(ref, list) else [ref]
    if len(ref_list) != len(rles):
        return  # documented dispatch differences (single flat polygon, list of boxes)
    for ours, theirs in zip(rles, ref_list):
        check(ours["counts"] == theirs["counts"],
              f"frPyObjects differs from pycocotools: {ours} vs {theirs} for {obj!r}")


if __name__ == "__main__":
    main(test_one)

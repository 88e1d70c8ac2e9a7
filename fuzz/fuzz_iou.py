"""Fuzz mask.iou on RLEs and boxes.

Invariants: only maskcodecs errors escape; the RLE iou equals intersection over union of
the decoded masks (crowd: over the detection's area), -1 for overlapping boxes of masks of
different sizes; the box iou equals a plain-Python bbIou.
"""
from __future__ import annotations

import numpy as np
from _fuzzcommon import Input, check, expect_rejection, main
from _rlegen import rle_operand

from maskcodecs import mask as mc


def _ref_rle_iou(d: dict, g: dict, crowd: bool) -> float:
    bd = mc.toBbox(d)
    bg = mc.toBbox(g)
    o = _ref_box_iou(bd, bg, crowd)
    if not o > 0:
        return o
    if d["size"] != g["size"]:
        return -1.0
    md = mc.decode(d).astype(bool)
    mg = mc.decode(g).astype(bool)
    inter = int((md & mg).sum())
    if inter == 0:
        return 0.0
    u = int(md.sum()) if crowd else int(md.sum()) + int(mg.sum()) - inter
    return inter / u


def _ref_box_iou(d, g, crowd: bool) -> float:
    # IEEE double arithmetic as in C (a zero union gives inf or nan, not an exception)
    d = [np.float64(v) for v in d]
    g = [np.float64(v) for v in g]
    with np.errstate(all="ignore"):
        return float(_box_iou(d, g, crowd))


def _box_iou(d, g, crowd: bool):
    # C semantics: fmin/fmax ignore a nan operand; `w <= 0` is false for nan
    w = np.fmin(d[2] + d[0], g[2] + g[0]) - np.fmax(d[0], g[0])
    if w <= 0:
        return 0.0
    h = np.fmin(d[3] + d[1], g[3] + g[1]) - np.fmax(d[1], g[1])
    if h <= 0:
        return 0.0
    i = w * h
    u = d[2] * d[3] if crowd else d[2] * d[3] + g[2] * g[3] - i
    return i / u


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def test_one(data: bytes) -> None:
    inp = Input(data)
    boxes = inp.flag()
    nd = inp.below(4)
    ng = inp.below(4)
    crowd = [inp.flag() for _ in range(ng)]
    if boxes:
        dt = [[inp.double() for _ in range(4)] for _ in range(nd)]
        gt = [[inp.double() for _ in range(4)] for _ in range(ng)]
        if inp.flag():
            dt = np.array(dt, dtype=np.float64).reshape(nd, 4)
    else:
        h = inp.size() % 20
        w = inp.size() % 20
        dt = [rle_operand(inp, h, w) for _ in range(nd)]
        gt = [rle_operand(inp, h, w) for _ in range(ng)]
    ok, res = expect_rejection(lambda: mc.iou(dt, gt, crowd))
    if not ok:
        check(not boxes, f"box iou raised {res!r}")
        return
    if nd == 0 or ng == 0:
        check(res == [], f"iou of an empty side must be [], got {res!r}")
        return
    check(res.shape == (nd, ng) and res.dtype == np.float64, "iou shape/dtype")
    check(bool(res.flags.f_contiguous), "iou result is not Fortran-ordered")
    ok2, res2 = expect_rejection(lambda: mc.iou(dt, gt, crowd, threads=3))
    check(ok2 and np.array_equal(res, res2, equal_nan=True), "threaded iou differs")
    dl = np.asarray(dt, dtype=np.float64).tolist() if boxes else dt
    for i in range(nd):
        for j in range(ng):
            ref = _ref_box_iou(dl[i], gt[j], crowd[j]) if boxes else \
                _ref_rle_iou(dt[i], gt[j], crowd[j])
            check(_same(float(res[i, j]), ref), f"iou[{i},{j}] = {res[i, j]} != {ref}")


if __name__ == "__main__":
    main(test_one)

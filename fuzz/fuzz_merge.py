"""Fuzz mask.merge (union and intersection).

Invariants: invalid operands raise InvalidRLEError, different sizes SizeMismatchError;
otherwise the result decodes to the OR / AND of the decoded operands (counts short of h*w
are background to the end).
"""
from __future__ import annotations

import numpy as np
from _fuzzcommon import MAX_DECODE_PIXELS, Input, check, expect_rejection, main
from _rlegen import rle_operand

from maskcodecs import mask as mc
from maskcodecs.errors import SizeMismatchError

try:
    from pycocotools import mask as pc
except ImportError:  # pragma: no cover
    pc = None


def test_one(data: bytes) -> None:
    inp = Input(data)
    h = inp.size() % 24
    w = inp.size() % 24
    intersect = inp.flag()
    rles = [rle_operand(inp, h, w) for _ in range(inp.below(4) + 1)]
    ok, res = expect_rejection(lambda: mc.merge(rles, intersect=intersect))
    sizes = {tuple(r["size"]) for r in rles}
    # validity without allocating: area validates the whole string against h*w
    valid = [expect_rejection(lambda r=r: mc.area(r))[0] for r in rles]
    if not ok:
        if isinstance(res, SizeMismatchError):
            check(len(sizes) > 1, "SizeMismatchError for operands of one size")
            return
        check(not all(valid), f"merge rejected valid operands: {res!r}")
        return
    check(len(sizes) == 1, "merge accepted operands of different sizes")
    check(all(valid), "merge accepted an operand area rejects")
    if h * w > MAX_DECODE_PIXELS or list(rles[0]["size"]) != [h, w]:
        return
    check(res["size"] == list(rles[0]["size"]), "merge result size")
    masks = [mc.decode(r) for r in rles]
    ref = masks[0].copy()
    for m in masks[1:]:
        ref = (ref & m) if intersect else (ref | m)
    out = mc.decode(res)
    check(np.array_equal(out, ref), "merge differs from the decoded OR/AND")
    # canonical operands (as encode writes them): byte-exact with pycocotools
    if pc is not None and h * w > 0 and all(
            mc.encode(np.asfortranarray(m))["counts"] == r["counts"] for m, r in zip(masks, rles)):
        theirs = pc.merge(rles, intersect=intersect)
        check(theirs["counts"] == res["counts"], f"merge differs from pycocotools: {rles!r}")


if __name__ == "__main__":
    main(test_one)

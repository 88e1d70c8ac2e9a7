"""Fuzz the COCO annotation reader: maskcodecs.coco.ann_to_rle.

module is missing. Input: one size byte pair then JSON text of an annotation.
Invariant: only expected rejections escape; a result is a valid RLE of the image size.
"""
from __future__ import annotations

import json

from _fuzzcommon import MAX_DECODE_PIXELS, Input, check, expect_rejection, main

from maskcodecs import coco
from maskcodecs import mask as mc


def test_one(data: bytes) -> None:
    inp = Input(data)
    h = inp.size()
    w = inp.size()
    try:
        ann = json.loads(inp.rest().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return
    ok, rle = expect_rejection(lambda: coco.ann_to_rle(ann, h, w))
    if not ok or not isinstance(rle, dict):
        return
    a = mc.area(rle)
    if h * w <= MAX_DECODE_PIXELS:
        check(int(mc.decode(rle).sum()) == int(a), "area != decoded sum")


if __name__ == "__main__":
    main(test_one)

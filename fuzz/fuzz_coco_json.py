"""Fuzz the COCO annotation reader: maskcodecs.coco.ann_to_rle (and the JSON round trip).

Input: two image sides, then a selector byte. Selector 0 reads the rest as JSON text of an
annotation (the seeds are real-looking annotations); the other selectors build the
segmentation from the bytes: a list of polygons (odd lengths, NaN/huge coordinates), a
box, an uncompressed RLE (any counts), a compressed RLE (bytes biased to the alphabet), an
empty list, or a value of a wrong type. Building it from bytes keeps the fuzzer in the
reader instead of in json.loads.
Invariants: only expected rejections escape; a result is an RLE of the image size whose
area equals its decoded sum; the annotation survives a JSON round trip of its RLE.
"""
from __future__ import annotations

import json

from _fuzzcommon import MAX_DECODE_PIXELS, Input, check, expect_rejection, main

from maskcodecs import coco
from maskcodecs import mask as mc


def _segmentation(inp: Input, h: int, w: int) -> object:
    kind = inp.below(7)
    if kind == 0:
        return [[inp.double() for _ in range(inp.below(13))] for _ in range(inp.below(4))]
    if kind == 1:
        return [inp.double() for _ in range(4)]
    if kind == 2:
        counts = [inp.uint(1 + inp.below(4)) for _ in range(inp.below(12))]
        return {"size": [h, w] if inp.flag() else [inp.size(), inp.size()], "counts": counts}
    if kind == 3:
        s = inp.counts_string()
        return {"size": [h, w], "counts": s.decode("latin-1") if inp.flag() else s}
    if kind == 4:
        return []
    if kind == 5:
        return {"size": [h, w]}
    return [None, "x", {"a": 1}][inp.below(3)]


def test_one(data: bytes) -> None:
    inp = Input(data)
    h = inp.size()
    w = inp.size()
    if inp.below(4) == 0:
        try:
            ann = json.loads(inp.rest().decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return
    else:
        ann = {"segmentation": _segmentation(inp, h, w), "iscrowd": int(inp.flag())}
    ok, rle = expect_rejection(lambda: coco.ann_to_rle(ann, h, w))
    if not ok or not isinstance(rle, dict):
        return
    a = mc.area(rle)
    text = json.dumps({"size": rle["size"], "counts": rle["counts"].decode("ascii")
                       if isinstance(rle["counts"], bytes) else rle["counts"]})
    check(int(mc.area(json.loads(text))) == int(a), "area changed through JSON")
    if h * w <= MAX_DECODE_PIXELS and list(rle["size"]) == [h, w]:
        check(int(mc.decode(rle).sum()) == int(a), "area != decoded sum")


if __name__ == "__main__":
    main(test_one)

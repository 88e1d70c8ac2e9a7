"""Fuzz the Encord bitmask codec: maskcodecs.encord.decode / from_dict / to_coco / from_coco.

Input: two mask sides (see ``Input.size``), then the rest as the rleString (or, when it
parses as a JSON object, as a bitmask dict for ``from_dict``).
Invariants: only expected rejections escape; a decoded mask is (h, w) bool and C-ordered;
encode(decode(s)) decodes to the same mask; the COCO conversion of the string round-trips
and decodes (column-major) to the same pixels.
"""
from __future__ import annotations

import json

import numpy as np
from _fuzzcommon import MAX_DECODE_PIXELS, Input, check, expect_rejection, main

from maskcodecs import encord
from maskcodecs import mask as mc


def test_one(data: bytes) -> None:
    inp = Input(data)
    h = inp.size()
    w = inp.size()
    raw = inp.rest()
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        obj = None
    if isinstance(obj, dict):
        ok, res = expect_rejection(lambda: encord.from_dict(obj))
        if ok:
            check(isinstance(res, np.ndarray) and res.ndim == 2 and res.dtype == np.bool_,
                  "from_dict did not give a 2-D bool mask")
        return
    s = raw.decode("latin-1")
    bitmask = {"top": 0, "left": 0, "height": h, "width": w, "rleString": s}
    ok, rle = expect_rejection(lambda: encord.to_coco(bitmask))
    if not ok:
        return
    check(rle["size"] == [h, w], "to_coco changed the size")
    # the reverse transposition may refuse a huge, nearly empty image (scratch bound)
    ok, back = expect_rejection(lambda: encord.from_coco(rle))
    if not ok:
        return
    check(back["height"] == h and back["width"] == w, "from_coco changed the size")
    if h * w > MAX_DECODE_PIXELS:
        return
    m = encord.decode(s, h, w)
    check(m.shape == (h, w) and m.dtype == np.bool_ and m.flags.c_contiguous, "bad mask")
    check(bool((encord.decode(encord.encode(m), h, w) == m).all()), "encode/decode round trip")
    check(bool((mc.decode(rle) == m).all()), "COCO conversion decodes to other pixels")
    check(bool((encord.decode(back["rleString"], h, w) == m).all()), "from_coco round trip")


if __name__ == "__main__":
    main(test_one)

"""Fuzz the Labelbox colour-mask splitter: maskcodecs.labelbox.split.

Stub until maskcodecs.labelbox exists: the harness does nothing (and says so when run) if
the module is missing. Input: h, w, channels (1, 3 or 4) then the pixel bytes.
Invariant: only expected rejections escape; the split masks are disjoint and of shape (h, w).
"""
from __future__ import annotations

import sys

import numpy as np
from _fuzzcommon import Input, check, expect_rejection, main

try:
    from maskcodecs import labelbox
except ImportError:
    labelbox = None


def test_one(data: bytes) -> None:
    if labelbox is None:
        return
    inp = Input(data)
    h = inp.uint(1) % 16
    w = inp.uint(1) % 16
    ch = (1, 3, 4)[inp.below(3)]
    px = inp.take(h * w * ch).ljust(h * w * ch, b"\0")
    img = np.frombuffer(px, dtype=np.uint8).reshape((h, w, ch) if ch > 1 else (h, w))
    ok, res = expect_rejection(lambda: labelbox.split(img))
    if not ok:
        return
    items = list(res.values()) if isinstance(res, dict) else list(res)
    total = np.zeros((h, w), dtype=np.int64)
    for m in items:
        m = np.asarray(m)
        if m.shape != (h, w):
            continue  # not a mask (e.g. RLE dicts): nothing more to check here
        total += m != 0
    check(int(total.max(initial=0)) <= 1, "split masks overlap")


if __name__ == "__main__":
    if labelbox is None:
        print("maskcodecs.labelbox is not available: nothing to fuzz", file=sys.stderr)
        sys.exit(0)
    main(test_one)

"""Fuzz _rle_core.transpose_string (column-major runs <-> row-major runs).

Invariants: it accepts exactly the strings area() accepts for that size; on small sizes the
result is the encoding of the transposed decoded mask; transposing twice gives the canonical
encoding of the original mask.
"""
from __future__ import annotations

import numpy as np
from _fuzzcommon import MAX_DECODE_PIXELS, Input, check, expect_rejection, main

from maskcodecs import _rle_core
from maskcodecs import mask as mc
from maskcodecs.errors import ImageTooLargeError


def test_one(data: bytes) -> None:
    inp = Input(data)
    h = inp.size()
    w = inp.size()
    s = inp.rest()
    ok_t, t = expect_rejection(lambda: _rle_core.transpose_string(s, h, w))
    ok_a, a = expect_rejection(lambda: mc.area({"size": [h, w], "counts": s}))
    if not ok_t and ok_a and isinstance(t, ImageTooLargeError):
        # refused for its scratch memory: only a huge claimed size can do that
        check(h + w > 1 << 24, f"transpose of {h} x {w} refused as too large")
        return
    check(ok_t == ok_a, f"transpose_string validity {ok_t} != area validity {ok_a}: {t!r}")
    if not ok_t:
        check(type(t) is type(a), f"transpose raised {t!r}, area raised {a!r}")
        return
    check(isinstance(t, bytes), "transpose_string must return bytes")
    check(int(mc.area({"size": [w, h], "counts": t})) == int(a), "transpose changes area")
    if h * w > MAX_DECODE_PIXELS:
        return
    m = mc.decode({"size": [h, w], "counts": s})
    mt = mc.decode({"size": [w, h], "counts": t})
    check(np.array_equal(mt, m.T), "transpose_string differs from decode(x).T")
    back = _rle_core.transpose_string(t, w, h)
    check(back == mc.encode(np.asfortranarray(m))["counts"], "double transpose not canonical")


if __name__ == "__main__":
    main(test_one)

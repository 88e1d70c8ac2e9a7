"""Fuzz the compressed counts-string decoder: counts_from_string, decode, area, toBbox.

Invariants: the four entry points accept or reject the same strings (same error class for
area/toBbox/decode); counts round-trip through string_from_counts; area equals the sum of
the decoded mask; toBbox equals the box of the decoded mask; encode(decode(x)) decodes to
the same mask. The vector counts parser and the reference reader give the same counts, area,
box and errors (the parser alone, when it reads a string, reads what the reference reads).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from _fuzzcommon import (
    MAX_DECODE_PIXELS,
    Input,
    check,
    expect_rejection,
    main,
    reference_bbox,
    reference_decode,
)

from maskcodecs import _rle_core
from maskcodecs import mask as mc
from maskcodecs.errors import CountsStringError, ImageTooLargeError, InvalidRLEError


def _outcome(fn: Callable[[], Any]) -> tuple[bool, Any]:
    """expect_rejection's answer in a form that compares: an error as (type, message)."""
    ok, v = expect_rejection(fn)
    if not ok:
        return False, (type(v), str(v))
    return True, v.tolist() if isinstance(v, np.ndarray) else v


def check_parser_paths(s: bytes, rle: dict[str, Any]) -> None:
    """The vector parser switched on and off: identical results and errors."""
    on = _rle_core.groups_simd()
    fns = (lambda: _rle_core.counts_from_string(s), lambda: mc.area(rle),
           lambda: mc.toBbox([rle, rle]))
    try:
        _rle_core.groups_simd(False)
        ref = [_outcome(f) for f in fns]
        _rle_core.groups_simd(True)
        got = [_outcome(f) for f in fns]
    finally:
        _rle_core.groups_simd(on)
    check(got == ref, f"vector parser {got!r} != reference {ref!r}")
    alone = _rle_core.counts_by_groups(s) if s else None
    if alone is not None:
        check(ref[0] == (True, alone), "the vector parser read a string differently")


def test_one(data: bytes) -> None:
    inp = Input(data)
    h = inp.size()
    w = inp.size()
    as_str = inp.flag()
    s = inp.rest()

    ok, res = expect_rejection(lambda: _rle_core.counts_from_string(s))
    if ok:
        counts = np.frombuffer(res, dtype=np.uint32)
        again = _rle_core.counts_from_string(_rle_core.string_from_counts(counts.copy()))
        check(again == res, "counts do not round-trip through string_from_counts")
    else:
        check(isinstance(res, CountsStringError), f"counts_from_string raised {res!r}")

    counts_obj = s
    if as_str:
        try:
            counts_obj = s.decode("ascii")
        except UnicodeDecodeError:
            counts_obj = s.decode("latin-1")
    rle = {"size": [h, w], "counts": counts_obj}
    check_parser_paths(s, {"size": [h, w], "counts": s})

    ok_a, area = expect_rejection(lambda: mc.area(rle))
    ok_b, bbox = expect_rejection(lambda: mc.toBbox(rle))
    ok_l, areas = expect_rejection(lambda: mc.area([rle, rle]))
    check(ok_a == ok_b == ok_l, f"area/toBbox disagree on validity: {area!r} {bbox!r}")
    if not ok_a:
        check(type(area) is type(bbox), f"area raised {area!r}, toBbox raised {bbox!r}")
        check(isinstance(area, (InvalidRLEError, ImageTooLargeError)),
              f"unexpected error class {area!r}")
    else:
        check(ok, "area accepted a string counts_from_string rejected")
        counts_list = np.frombuffer(res, dtype=np.uint32).astype(np.int64)
        check(int(counts_list.sum()) <= h * w, "accepted counts sum past h*w")
        check(int(area) == int(counts_list[1::2].sum()), "area != sum of odd counts")
        check(list(areas) == [area, area], "list area differs from single area")
        check(bbox.shape == (4,) and bbox.dtype == np.float64, "bbox shape/dtype")
    if h * w > MAX_DECODE_PIXELS:
        return
    ok_d, m = expect_rejection(lambda: mc.decode(rle))
    check(ok_d == ok_a, f"decode validity {ok_d} != area validity {ok_a}: {m!r}")
    if not ok_d:
        check(type(m) is type(area), f"decode raised {m!r}, area raised {area!r}")
        return
    check(m.shape == (h, w) and m.dtype == np.uint8, "decode shape/dtype")
    check(bool(m.flags.f_contiguous), "decode result is not Fortran-ordered")
    ref = reference_decode(np.frombuffer(res, dtype=np.uint32).tolist(), h, w)
    check(np.array_equal(m, ref), "decode differs from the reference")
    check(int(m.sum()) == int(area), "area != decoded sum")
    check(bbox.tolist() == reference_bbox(m), f"toBbox {bbox.tolist()} != {reference_bbox(m)}")
    enc = mc.encode(np.asfortranarray(m))
    check(np.array_equal(mc.decode(enc), m), "encode(decode(x)) does not decode back")
    many = mc.decode([rle, enc])
    check(many.shape == (h, w, 2) and np.array_equal(many[:, :, 0], m), "list decode")


if __name__ == "__main__":
    main(test_one)

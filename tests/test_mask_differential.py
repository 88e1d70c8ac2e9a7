"""Differential tests: maskcodecs.mask against pycocotools.mask (2.0.x) on random inputs.

Every function of the drop-in is compared byte for byte (strings), value for value (arrays,
dtypes, shapes, memory order) on inputs pycocotools handles correctly.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

P = pytest.importorskip("pycocotools.mask")

from pycocotools import _mask as P_  # noqa: E402

from maskcodecs import _mask as M_  # noqa: E402
from maskcodecs import mask as M  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def make_mask(h: int, w: int, seed: int, style: str) -> np.ndarray:
    """A random (h, w) uint8 mask: sparse/dense noise, or rectangles (long runs)."""
    rng = np.random.default_rng(seed)
    if style == "noise":
        return (rng.random((h, w)) < rng.random()).astype(np.uint8)
    if style == "sparse":
        return (rng.random((h, w)) < 0.02).astype(np.uint8)
    m = np.zeros((h, w), np.uint8)
    for _ in range(rng.integers(0, 6)):
        if h == 0 or w == 0:
            break
        y0, y1 = sorted(rng.integers(0, h + 1, 2))
        x0, x1 = sorted(rng.integers(0, w + 1, 2))
        m[y0:y1, x0:x1] ^= 1
    return m


masks = st.builds(
    make_mask,
    st.integers(0, 300), st.integers(0, 300), st.integers(0, 2**32 - 1),
    st.sampled_from(["noise", "sparse", "blocks"]),
)


@SETTINGS
@given(masks)
def test_encode_matches_pycocotools_in_every_layout(m):
    ref = P.encode(np.asfortranarray(m))
    assert M.encode(np.asfortranarray(m)) == ref
    assert M.encode(np.ascontiguousarray(m)) == ref
    assert M.encode(m.astype(bool)) == ref
    # a strided view of a bigger array, and a negative-stride view of the same pixels
    big = np.zeros((m.shape[0] * 2, m.shape[1] * 3), np.uint8)
    big[::2, ::3] = m
    assert M.encode(big[::2, ::3]) == ref
    assert M.encode(np.ascontiguousarray(m[::-1, ::-1])[::-1, ::-1]) == ref


@SETTINGS
@given(masks)
def test_encode_nonbinary_values_are_foreground(m):
    rng = np.random.default_rng(m.size)
    vals = m * rng.integers(1, 256, m.shape).astype(np.uint8)
    ref = P.encode(np.asfortranarray(m))
    assert M.encode(np.asfortranarray(vals)) == ref
    assert M.encode(vals.astype(np.int32) * -7) == ref  # any integer dtype, any sign


@SETTINGS
@given(st.lists(masks, min_size=1, max_size=1))
def test_encode_3d_and_decode_match(ms):
    m = ms[0]
    stack = np.stack([m, 1 - m, m], axis=2)
    ref = P.encode(np.asfortranarray(stack))
    ours = M.encode(stack)  # C-ordered 3-D input
    assert ours == ref
    dec = M.decode(ours)
    pdec = P.decode(ref)
    assert dec.dtype == pdec.dtype == np.uint8
    assert dec.shape == pdec.shape and dec.flags.f_contiguous
    np.testing.assert_array_equal(dec, pdec)
    one = M.decode(ours[0])
    assert one.shape == m.shape and one.flags.f_contiguous
    np.testing.assert_array_equal(one, P.decode(ref[0]))
    # str counts are accepted as in pycocotools
    s = {"size": ref[0]["size"], "counts": ref[0]["counts"].decode()}
    np.testing.assert_array_equal(M.decode(s), P.decode(s))


@SETTINGS
@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6), st.integers(1, 60),
       st.integers(1, 60))
def test_area_tobbox_merge_iou(seeds, h, w):
    ms = [make_mask(h, w, s, ["noise", "sparse", "blocks"][s % 3]) for s in seeds]
    rles = P.encode(np.asfortranarray(np.stack(ms, axis=2)))
    np.testing.assert_array_equal(M.area(rles), P.area(rles))
    assert M.area(rles).dtype == np.uint32
    assert M.area(rles[0]) == P.area(rles[0]) and isinstance(M.area(rles[0]), np.uint32)
    tb, ptb = M.toBbox(rles), P.toBbox(rles)
    assert tb.dtype == ptb.dtype and tb.shape == ptb.shape
    np.testing.assert_array_equal(tb, ptb)
    np.testing.assert_array_equal(M.toBbox(rles[0]), P.toBbox(rles[0]))
    for inter in (0, 1):
        assert M.merge(rles, intersect=inter) == P.merge(rles, intersect=inter)
    crowd = [int(s % 2) for s in seeds]
    a = M.iou(rles, rles[::-1], crowd[::-1])
    b = P.iou(rles, rles[::-1], crowd[::-1])
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.flags.f_contiguous == b.flags.f_contiguous
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(M.iou(rles, rles, crowd, threads=2), P.iou(rles, rles, crowd))


def test_iou_example_from_spec_and_empty_inputs():
    A = np.zeros((4, 4), np.uint8)
    A[0:2, 0:2] = 1
    B = np.zeros((4, 4), np.uint8)
    B[1:3, 1:4] = 1
    ra, rb = M.encode(A), M.encode(B)
    np.testing.assert_array_equal(M.iou([ra, rb], [ra, rb], [0, 0]), [[1, 1 / 9], [1 / 9, 1]])
    np.testing.assert_array_equal(M.iou([ra, rb], [ra, rb], [1, 1]), [[1, 0.25], [1 / 6, 1]])
    assert M.iou([], [ra], [0]) == [] == P.iou([], [P.encode(np.asfortranarray(A))], [0])
    assert M.iou([ra], [], []) == []


boxes = st.lists(
    st.tuples(*[st.one_of(st.integers(-10, 60).map(float), st.floats(-10, 60, width=32))
                for _ in range(4)]), min_size=1, max_size=8)


@SETTINGS
@given(boxes, boxes, st.integers(1, 50), st.integers(1, 50))
def test_box_iou_and_frbbox(dt, gt, h, w):
    d = np.array(dt, dtype=np.float64)
    g = np.array(gt, dtype=np.float64)
    crowd = [i % 2 for i in range(len(g))]
    ref = P.iou(d, g, crowd)
    np.testing.assert_array_equal(M.iou(d, g, crowd), ref)
    np.testing.assert_array_equal(M.iou(np.asfortranarray(d), g, crowd), ref)  # stride-safe
    np.testing.assert_array_equal(M.iou([list(b) for b in d], g, crowd), ref)
    dpos = np.abs(d)
    ref_r = P.frPyObjects(dpos, h, w)
    assert M.frPyObjects(dpos, h, w) == ref_r
    assert M.frPyObjects(np.asfortranarray(dpos), h, w) == ref_r  # pycocotools misreads this
    assert M.frPyObjects([list(b) for b in dpos], h, w) == ref_r  # pycocotools: TypeError
    assert M.frPyObjects(list(dpos[0]), h, w) == ref_r[0]


def _random_polygon(rng: np.random.Generator, h: int, w: int, kind: int) -> list[float]:
    k = int(rng.integers(3, 12))
    lo, hi = -6.0, max(h, w) + 6.0
    if kind == 0:
        xy = rng.integers(int(lo), int(hi), 2 * k).astype(float)
    elif kind == 1:
        xy = rng.integers(int(2 * lo), int(2 * hi), 2 * k) / 2.0
    elif kind == 2:
        xy = np.round(rng.uniform(lo, hi, 2 * k), 1)
    else:
        xy = rng.uniform(lo, hi, 2 * k)
    return xy.tolist()


def test_frpoly_10000_random_polygons_bit_exact():
    rng = np.random.default_rng(20261122)
    mismatches = []
    for i in range(10_000):
        h, w = (int(v) for v in rng.integers(1, 48, 2))
        poly = _random_polygon(rng, h, w, i % 4)
        if M.frPyObjects([poly], h, w) != P.frPyObjects([poly], h, w):
            mismatches.append((h, w, poly))
    assert mismatches == []


def test_frpoly_large_polygons_bit_exact():
    rng = np.random.default_rng(7)
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(100, 1300, 2))
        k = int(rng.integers(3, 64))
        poly = rng.uniform(-60, max(h, w) + 60, 2 * k).tolist()
        assert M.frPyObjects([poly], h, w) == P.frPyObjects([poly], h, w)


@SETTINGS
@given(st.lists(st.lists(st.one_of(st.integers(-8, 40).map(float),
                                   st.floats(-8, 40, allow_nan=False, width=16)),
                         min_size=6, max_size=20), min_size=1, max_size=4),
       st.integers(1, 40), st.integers(1, 40))
def test_frpoly_hypothesis(polys, h, w):
    ref = P.frPyObjects(polys, h, w)
    assert M.frPyObjects(polys, h, w) == ref
    # odd trailing coordinates are ignored; later short polygons give empty masks
    assert M_.frPoly([p + [1.0] for p in polys], h, w) == P_.frPoly(
        [np.array(p + [1.0]) for p in polys], h, w)
    assert M.merge(M.frPyObjects(polys, h, w)) == P.merge(ref)


def test_spec_polygon_vectors():
    cases = [
        ([0, 0, 0, 1, 1, 1, 1, 0], 3, 3, b"018"),
        ([0, 0, 0, 2, 2, 2, 2, 0], 3, 3, b"02103"),
        ([.5, .5, .5, 1.5, 1.5, 1.5, 1.5, .5], 3, 3, b"414"),
        ([.4, .4, .4, .6, .6, .6, .6, .4], 3, 3, b"018"),
        ([.1, .1, .1, .3, .3, .3, .3, .1], 3, 3, b"9"),
        ([0, 0, 3, 0, 0, 3], 4, 4, b"022O9"),
        ([0, 0, 3, 3, 3, 0, 0, 3], 3, 3, b"0240M"),
    ]
    for poly, h, w, counts in cases:
        assert M.frPyObjects([poly], h, w)[0]["counts"] == counts
        assert P.frPyObjects([poly], h, w)[0]["counts"] == counts


# --- string codec ---------------------------------------------------------------------------

def ref_to_string(cnts: list[int]) -> bytes:
    """Plain-Python transcription of the documented counts-string algorithm."""
    out = bytearray()
    for i, c in enumerate(cnts):
        x = c - cnts[i - 2] if i > 2 else c
        while True:
            g = x & 0x1F
            x >>= 5
            more = (x != -1) if (g & 0x10) else (x != 0)
            if more:
                g |= 0x20
            out.append(g + 48)
            if not more:
                break
    return bytes(out)


count_vectors = st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=40)


@SETTINGS
@given(count_vectors)
def test_string_codec_full_uint32_range(cnts):
    from maskcodecs import rle

    total = sum(cnts)
    r = rle.from_counts(cnts, size=[1, max(total, 1)])
    assert r["counts"] == ref_to_string(cnts)
    assert rle.counts(r).tolist() == cnts


@SETTINGS
@given(st.lists(st.integers(0, 2**23 - 1), min_size=1, max_size=40))
def test_uncompressed_rle_matches_pycocotools(cnts):
    h = 1
    w = max(sum(cnts), 1)
    obj = {"size": [h, w], "counts": cnts}
    assert M.frPyObjects(obj, h, w) == P.frPyObjects(obj, h, w)
    assert M.frPyObjects([obj, obj], h, w) == P.frPyObjects([obj, obj], h, w)
    r = P.frPyObjects(obj, h, w)
    assert M.area(r) == P.area(r)
    if M.area(r) > 0:
        np.testing.assert_array_equal(M.toBbox(r), P.toBbox(r))
    else:  # deliberate deviation: pycocotools gives a garbage box when no run is foreground
        np.testing.assert_array_equal(M.toBbox(r), [0, 0, 0, 0])
    assert M.merge([r]) == P.merge([r])


def test_spec_string_vectors():
    from maskcodecs import rle

    table = {
        (0,): b"0", (5,): b"5", (0, 5): b"05", (1, 2, 3, 4, 5, 6): b"123222",
        (5, 3, 2, 4, 1, 9): b"5321O5", (31, 32, 33): b"o0P1Q1",
        (100, 50, 1000, 40): b"T3b1Xo0F", (4294967295,): b"oooooo3",
        (0, 3000000000, 0, 1): b"0P`gP]i20Q`XobVM",
    }
    for cnts, s in table.items():
        r = rle.from_counts(list(cnts), size=[1, sum(cnts) or 1])
        assert r["counts"] == s
        assert tuple(rle.counts(r).tolist()) == cnts  # pycocotools mis-decodes the last one


@SETTINGS
@given(st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=12), min_size=2, max_size=4),
       st.booleans())
def test_merge_noncanonical_inputs(runs_list, inter):
    """Zero-length runs in the inputs: the literal fold path. Same bytes as pycocotools
    wherever pycocotools' own result is complete (sums to h*w)."""
    # pycocotools' merge writes its result into h*w+1 counts, which zero-length runs can
    # exceed (a heap overflow in pycocotools): keep h*w above the number of runs
    hw = max(sum(r) for r in runs_list) + 64
    objs = []
    for r in runs_list:
        r = list(r)
        r.append(hw - sum(r))  # complete to h*w (the last run may be background or foreground)
        objs.append({"size": [1, hw], "counts": r})
    ours_in = M.frPyObjects(objs, 1, hw)
    ref_in = P.frPyObjects(objs, 1, hw)
    assert ours_in == ref_in
    ours = M.merge(ours_in, intersect=int(inter))
    dense = np.stack([M.decode(o)[0] for o in ours_in])
    want = dense.all(axis=0) if inter else dense.any(axis=0)
    np.testing.assert_array_equal(M.decode(ours)[0], want)
    # pycocotools truncates when both operands hold a zero-length run at the same place, and
    # with three or more operands the truncated result can make it loop forever: compare
    # pairs only, and only where its result is complete.
    from maskcodecs import rle

    pair = M.merge(ours_in[:2], intersect=int(inter))
    ref = P.merge(ref_in[:2], intersect=int(inter))
    if int(rle.counts(ref).sum()) == hw:
        assert pair == ref


special = st.sampled_from([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1.0, 2.5])
special_boxes = st.lists(st.tuples(*[st.one_of(special, st.floats(-10, 60, width=32))
                                     for _ in range(4)]), min_size=1, max_size=6)


@SETTINGS
@given(special_boxes, special_boxes)
def test_box_iou_with_nan_inf_and_signed_zeros(dt, gt):
    """Box IoU with NaN, infinite and signed-zero coordinates equals pycocotools' bbIou
    (its fmin/fmax take the other operand when one is NaN; ours are inline selects)."""
    d = np.array(dt, dtype=np.float64)
    g = np.array(gt, dtype=np.float64)
    crowd = [i % 2 for i in range(len(g))]
    with np.errstate(all="ignore"):
        ref = P.iou(d, g, crowd)
        got = M.iou(d, g, crowd)
    np.testing.assert_array_equal(got, ref)

"""Robustness: resource bombs, leaks, thread safety and images with more than 2**32 pixels.

Memory is measured with tracemalloc (Python and numpy allocations) and with the resident set
size from /proc/self/statm and the peak from /proc/self/status (kernel allocations); the
tests that need /proc skip elsewhere.
"""
from __future__ import annotations

import gc
import math
import os
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from maskcodecs import _rle_core
from maskcodecs import mask as mc
from maskcodecs.errors import (
    ImageTooLargeError,
    InvalidRLEError,
    MaskCodecError,
    PolygonError,
    SizeMismatchError,
)

U32MAX = 2**32 - 1
HAVE_PROC = os.path.exists("/proc/self/statm") and os.path.exists("/proc/self/clear_refs")
needs_proc = pytest.mark.skipif(not HAVE_PROC, reason="needs Linux /proc/self")
# under AddressSanitizer (scripts/sanitize.sh) freed memory sits in a quarantine and every
# call is several times slower: resident-size and timing bounds do not apply there
SANITIZED = os.environ.get("MASKCODECS_SANITIZED", "") == "1"
SLOWDOWN = 20.0 if SANITIZED else 1.0
not_sanitized = pytest.mark.skipif(SANITIZED, reason="RSS is meaningless under ASan")


# ---------------------------------------------------------------------------------------------
# helpers: memory probes and a position-arithmetic RLE reference
# ---------------------------------------------------------------------------------------------

def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Peak resident memory above the starting point while the block runs (Linux)."""

    def __enter__(self) -> PeakRSS:
        gc.collect()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        self.start = rss_bytes()
        return self

    def __exit__(self, *exc: object) -> None:
        with open("/proc/self/status") as f:
            hwm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
        self.peak = 0 if SANITIZED else hwm - self.start


def counts(rle: dict) -> list[int]:
    return np.frombuffer(_rle_core.counts_from_string(rle["counts"]), dtype=np.uint32).tolist()


def split_runs(runs: list[int]) -> list[int]:
    """Runs as uint32 counts: a run longer than 2**32-1 becomes (2**32-1, 0, rest)."""
    out: list[int] = []
    for r in runs:
        while r > U32MAX:
            out += [U32MAX, 0]
            r -= U32MAX
        out.append(r)
    return out


def runs_from_intervals(intervals: list[tuple[int, int]], total: int) -> list[int]:
    """Column-major runs (bg, fg, bg, ...) of a union of [start, end) foreground intervals."""
    merged: list[list[int]] = []
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    runs: list[int] = []
    pos = 0
    for s, e in merged:
        runs += [s - pos, e - s]
        pos = e
    runs.append(total - pos)
    if len(runs) > 1 and runs[-1] == 0:
        runs.pop()  # as pycocotools: no empty background run at the end
    return runs


def box_intervals(x: int, y: int, bw: int, bh: int, h: int) -> list[tuple[int, int]]:
    return [(c * h + y, c * h + y + bh) for c in range(x, x + bw)]


def rle_of_runs(runs: list[int], h: int, w: int) -> dict:
    cnt = np.array(split_runs(runs), dtype=np.uint32)
    return {"size": [h, w], "counts": _rle_core.string_from_counts(cnt)}


# ---------------------------------------------------------------------------------------------
# resource bombs
# ---------------------------------------------------------------------------------------------

BOMB_H = BOMB_W = 100_000


def _bomb_rle() -> tuple[dict, list[int]]:
    """About 1 kB of counts describing a 100000 x 100000 mask (runs up to ~6.7e7)."""
    rng = np.random.default_rng(7)
    total = BOMB_H * BOMB_W
    runs = rng.integers(1, 2 * total // 300, size=300).tolist()
    acc = 0
    kept = []
    for r in runs:
        if acc + r > total:
            break
        kept.append(r)
        acc += r
    rle = rle_of_runs(kept, BOMB_H, BOMB_W)
    assert 400 < len(rle["counts"]) < 2048
    return rle, kept


def _reference_area_bbox(runs: list[int], h: int) -> tuple[int, list[float]]:
    pos = 0
    area = 0
    xs, ys, xe, ye = math.inf, math.inf, -1, -1
    for i, r in enumerate(runs):
        if i % 2 == 1 and r > 0:
            area += r
            s, e = pos, pos + r - 1
            x0, y0, x1, y1 = s // h, s % h, e // h, e % h
            xs, xe = min(xs, x0), max(xe, x1)
            if x1 > x0:
                ys, ye = 0, h - 1
            else:
                ys, ye = min(ys, y0), max(ye, y1)
        pos += r
    if area == 0:
        return 0, [0.0, 0.0, 0.0, 0.0]
    return area, [float(xs), float(ys), float(xe - xs + 1), float(ye - ys + 1)]


@needs_proc
def test_bomb_area_bbox_merge_iou_are_exact_and_bounded():
    rle, runs = _bomb_rle()
    area, bbox = _reference_area_bbox(runs, BOMB_H)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        assert int(mc.area(rle)) == area
        assert mc.toBbox(rle).tolist() == bbox
        union = mc.merge([rle, rle])
        inter = mc.merge([rle, rle], intersect=True)
        o = mc.iou([rle], [rle], [0])
        elapsed = time.perf_counter() - t0
    assert mem.peak < 32 << 20, f"peak resident growth {mem.peak} bytes"
    assert elapsed < 2.0 * SLOWDOWN
    # union and intersection of a mask with itself: the same mask (tail completed to h*w)
    total = BOMB_H * BOMB_W
    assert canonical(counts(union), total) == canonical(split_runs(runs), total)
    assert canonical(counts(inter), total) == canonical(split_runs(runs), total)
    assert o.tolist() == [[1.0]]


def test_bomb_decode_validates_before_allocating():
    rle, runs = _bomb_rle()
    bad = rle_of_runs(runs + [BOMB_H * BOMB_W], BOMB_H, BOMB_W)   # overruns h*w
    tracemalloc.start()
    try:
        with pytest.raises(InvalidRLEError):
            mc.decode(bad)
        with pytest.raises(InvalidRLEError):
            mc.decode([rle, bad])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak} bytes allocated before the string was rejected"


@needs_proc
def test_bomb_invalid_strings_rejected_without_allocation():
    rle, runs = _bomb_rle()
    bad = rle_of_runs(runs + [BOMB_H * BOMB_W], BOMB_H, BOMB_W)
    trunc = {"size": [BOMB_H, BOMB_W], "counts": rle["counts"][:-1] + b"o"}
    with PeakRSS() as mem:
        for r in (bad, trunc):
            for fn in (mc.area, mc.toBbox, mc.decode, lambda r: mc.merge([r, rle]),
                       lambda r: mc.iou([r], [rle], [0]),
                       lambda r: _rle_core.transpose_string(r["counts"], BOMB_H, BOMB_W)):
                with pytest.raises(InvalidRLEError):
                    fn(r)
    assert mem.peak < 16 << 20


def test_counts_past_hw_are_invalid_everywhere():
    over = rle_of_runs([3, 4, 6], 3, 4)        # 13 > 12
    for fn in (mc.area, mc.toBbox, mc.decode, lambda r: mc.merge([r, r]),
               lambda r: mc.iou([r], [r], [0]), lambda r: mc.decode([r]),
               lambda r: _rle_core.transpose_string(r["counts"], 3, 4)):
        with pytest.raises(InvalidRLEError):
            fn(over)
    with pytest.raises(InvalidRLEError):
        mc.frPyObjects({"size": [3, 4], "counts": [3, 4, 6]}, 3, 4)


@pytest.mark.parametrize("bad", [1e12, -1e12, math.nan, math.inf, -math.inf, 1e308])
def test_huge_polygon_coordinates_raise_polygon_error_quickly(bad):
    t0 = time.perf_counter()
    for poly in ([[0.0, 0.0, bad, 0.0, 10.0, 10.0]], [[bad, bad, 1.0, 1.0, 2.0, 5.0]]):
        with pytest.raises(PolygonError):
            mc.frPyObjects(poly, 100_000, 100_000)
    with pytest.raises(PolygonError):
        mc.frPyObjects(np.array([[0.0, 0.0, bad, 5.0]]), 100_000, 100_000)
    assert time.perf_counter() - t0 < 1.0 * SLOWDOWN


def test_sizes_beyond_the_pixel_cap_are_refused_before_work():
    huge = {"size": [2**24, 2**24 + 1], "counts": b"0"}
    t0 = time.perf_counter()
    for fn in (mc.area, mc.toBbox, mc.decode, lambda r: mc.merge([r, r]),
               lambda r: mc.iou([r], [r], [0])):
        with pytest.raises(ImageTooLargeError):
            fn(huge)
    with pytest.raises(ImageTooLargeError):
        mc.frPyObjects([[1.0, 1.0, 5.0, 1.0, 5.0, 5.0]], 2**24, 2**24 + 1)
    with pytest.raises(ImageTooLargeError):
        mc.frPyObjects({"size": [2**40, 2**40], "counts": [1, 2]}, 1, 1)
    assert time.perf_counter() - t0 < 1.0 * SLOWDOWN


@needs_proc
def test_transpose_of_a_tiny_string_claiming_a_huge_size_is_bounded():
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        # a wide empty mask: no row state is allocated, the answer is one (split) run
        t = _rle_core.transpose_string(b"0", 3, 2**40)
        assert canonical(counts({"counts": t})) == [3 * 2**40]
        # a full first column of a 65535 x 2883583 mask: time follows the output (one
        # transition per row), not h*w
        h, w = 65535, 2883583
        s = mc.frPyObjects({"size": [h, w], "counts": [0, h]}, h, w)["counts"]
        t = _rle_core.transpose_string(s, h, w)
        want = []
        for y in range(h):
            want.append((y * w, y * w + 1))
        assert canonical(counts({"counts": t})) == runs_from_intervals(want, h * w)
        assert time.perf_counter() - t0 < 2.0 * SLOWDOWN
        # row buckets for 2**40 rows: refused before allocating
        with pytest.raises(ImageTooLargeError):
            _rle_core.transpose_string(b"0", 2**40, 3)
    assert mem.peak < 64 << 20


# ---------------------------------------------------------------------------------------------
# leaks
# ---------------------------------------------------------------------------------------------

def _small_inputs():
    rng = np.random.default_rng(3)
    m = np.asfortranarray(rng.integers(0, 2, size=(23, 17), dtype=np.uint8))
    r = mc.encode(m)
    r2 = mc.encode(np.asfortranarray(m[::-1]))
    return m, r, r2


def _leak_cases():
    m, r, r2 = _small_inputs()
    bad = {"size": [23, 17], "counts": b"0" * 3 + b"\x7f"}
    over = {"size": [2, 2], "counts": b"5"}
    poly = [[1.0, 1.0, 15.0, 2.0, 9.0, 20.0]]
    boxes = np.array([[1.0, 2.0, 5.0, 6.0], [3.0, 3.0, 9.0, 9.0]])
    mc3 = np.asfortranarray(np.stack([m, m[::-1]], axis=2))

    def err(fn, *a, **k):
        def call():
            try:
                fn(*a, **k)
            except MaskCodecError:
                return
            raise AssertionError("expected an error")
        return call

    return {
        "encode": lambda: mc.encode(m),
        "encode_c_order": lambda: mc.encode(np.ascontiguousarray(m)),
        "encode_3d": lambda: mc.encode(mc3),
        "decode": lambda: mc.decode(r),
        "decode_list": lambda: mc.decode([r, r2]),
        "area": lambda: mc.area([r, r2]),
        "toBbox": lambda: mc.toBbox([r, r2]),
        "merge": lambda: mc.merge([r, r2]),
        "merge3": lambda: mc.merge([r, r2, r], intersect=True),
        "iou_rle": lambda: mc.iou([r, r2], [r2], [0]),
        "iou_box": lambda: mc.iou(boxes, boxes, [0, 1]),
        "frPyObjects_poly": lambda: mc.frPyObjects(poly, 23, 17),
        "frPyObjects_box": lambda: mc.frPyObjects(boxes, 23, 17),
        "frPyObjects_ucrle": lambda: mc.frPyObjects({"size": [2, 2], "counts": [1, 2, 1]}, 2, 2),
        "counts_from_string": lambda: _rle_core.counts_from_string(r["counts"]),
        "transpose_string": lambda: _rle_core.transpose_string(r["counts"], 23, 17),
        "err_decode": err(mc.decode, bad),
        "err_decode_overrun": err(mc.decode, over),
        "err_area": err(mc.area, [r, bad]),
        "err_toBbox": err(mc.toBbox, over),
        "err_merge": err(mc.merge, [r, bad]),
        "err_merge_size": err(mc.merge, [r, over]),
        "err_iou": err(mc.iou, [r], [bad], [0]),
        "err_poly": err(mc.frPyObjects, [[0.0, 0.0, math.nan, 1.0, 2.0, 2.0]], 5, 5),
        "err_ucrle": err(mc.frPyObjects, {"size": [2, 2], "counts": [3, 4]}, 2, 2),
        "err_counts": err(_rle_core.counts_from_string, b"0\x7f"),
        "err_transpose": err(_rle_core.transpose_string, b"9", 2, 2),
    }


LEAK_CASES = _leak_cases()


def _calibrated(fn, budget: float = 0.12, lo: int = 4000, hi: int = 100_000) -> int:
    t0 = time.perf_counter()
    for _ in range(200):
        fn()
    per = (time.perf_counter() - t0) / 200
    return int(min(hi, max(lo, budget / max(per, 1e-9))))


@needs_proc
@not_sanitized
@pytest.mark.parametrize("name", sorted(LEAK_CASES))
def test_no_leak_rss(name):
    fn = LEAK_CASES[name]
    n = _calibrated(fn)
    for _ in range(n // 4):          # warm up caches and allocator arenas
        fn()
    gc.collect()
    before = rss_bytes()
    for _ in range(n):
        fn()
    gc.collect()
    growth = rss_bytes() - before
    # a leak of 32 bytes per call over >= 4000 calls would show as >= 128 kB
    assert growth < max(256 << 10, 32 * n), f"{name}: RSS grew {growth} bytes over {n} calls"


@pytest.mark.parametrize("name", ["decode", "merge3", "iou_rle", "frPyObjects_poly",
                                  "err_decode", "err_merge", "err_poly", "err_ucrle"])
def test_no_leak_tracemalloc(name):
    fn = LEAK_CASES[name]
    for _ in range(200):
        fn()
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(200):
            fn()
        gc.collect()
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(2000):
            fn()
        gc.collect()
        now, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert now - base < 16 << 10, f"{name}: {now - base} traced bytes kept over 2000 calls"


# ---------------------------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------------------------

def _freeze(x):
    if isinstance(x, np.ndarray):
        return ("nd", x.dtype.str, x.shape, x.tobytes(order="A"), bool(x.flags.f_contiguous))
    if isinstance(x, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return tuple(_freeze(v) for v in x)
    if isinstance(x, np.generic):
        return ("np", x.dtype.str, x.item())
    return x


def test_concurrent_calls_equal_serial_results():
    rng = np.random.default_rng(11)
    masks = np.asfortranarray(rng.random((120, 90, 6)) < 0.3).astype(np.uint8)
    masks = np.asfortranarray(masks)
    rles = mc.encode(masks)
    polys = [[float(v) for v in rng.uniform(0, 90, size=12)] for _ in range(5)]
    boxes = rng.uniform(0, 60, size=(7, 4))
    bad = {"size": [120, 90], "counts": b"0\x7f"}
    calls = {
        "encode": lambda: mc.encode(masks),
        "encode_c": lambda: mc.encode(np.ascontiguousarray(masks[:, :, 0])),
        "decode": lambda: mc.decode(rles),
        "area": lambda: mc.area(rles),
        "toBbox": lambda: mc.toBbox(rles),
        "merge": lambda: mc.merge(rles),
        "merge_i": lambda: mc.merge(rles[:3], intersect=True),
        "iou": lambda: mc.iou(rles, rles[::-1], [0, 1, 0, 1, 0, 1]),
        "iou_threads": lambda: mc.iou(rles, rles, [1] * 6, threads=3),
        "iou_box": lambda: mc.iou(boxes, boxes, [0] * 7),
        "frPoly": lambda: mc.frPyObjects(polys, 120, 90),
        "frBbox": lambda: mc.frPyObjects(boxes, 120, 90),
        "transpose": lambda: [_rle_core.transpose_string(r["counts"], 120, 90) for r in rles],
        "error": lambda: _error_name(lambda: mc.merge([rles[0], bad])),
    }
    serial = {k: _freeze(f()) for k, f in calls.items()}
    names = sorted(calls) * 6
    barrier = threading.Barrier(8)

    def worker(i: int) -> dict:
        barrier.wait()
        out = {}
        order = names[i % len(names):] + names[:i % len(names)]
        for k in order:
            out.setdefault(k, []).append(_freeze(calls[k]()))
        return out

    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(worker, range(8)))
    for res in results:
        for k, vals in res.items():
            assert all(v == serial[k] for v in vals), f"{k} differs under threads"


def _error_name(fn):
    try:
        fn()
    except MaskCodecError as e:
        return type(e).__name__
    return None


# ---------------------------------------------------------------------------------------------
# big images: h*w > 2**32, RLE-domain only (the image is never allocated)
# ---------------------------------------------------------------------------------------------

BIG = 70_000            # 70000 x 70000 = 4.9e9 pixels > 2**32


def test_box_reference_agrees_with_pycocotools_on_small_images():
    pc = pytest.importorskip("pycocotools.mask")
    for x, y, bw, bh, h, w in [(3, 2, 4, 5, 10, 12), (0, 0, 1, 1, 3, 3), (5, 1, 7, 8, 9, 12)]:
        ref = runs_from_intervals(box_intervals(x, y, bw, bh, h), h * w)
        got = pc.frPyObjects(np.array([[x, y, bw, bh]], dtype=float), h, w)[0]
        assert counts(got) == ref


@needs_proc
def test_big_image_rle_domain_operations():
    h = w = BIG
    total = h * w
    # two boxes: A far right (its leading background run is > 2**32-1 and must be split)
    a = (65_000, 100, 3000, 500)
    b = (66_000, 300, 500, 69_000)
    ra_ref = runs_from_intervals(box_intervals(*a, h), total)
    rb_ref = runs_from_intervals(box_intervals(*b, h), total)
    assert ra_ref[0] > U32MAX
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        ra, rb = mc.frPyObjects(np.array([a, b], dtype=np.float64), h, w)
        assert counts(ra) == split_runs(ra_ref)
        assert counts(rb) == split_runs(rb_ref)
        # the same rectangle as a polygon gives the same RLE
        x, y, bw, bh = a
        poly = mc.frPyObjects([[x, y, x, y + bh, x + bw, y + bh, x + bw, y]], h, w)[0]
        assert poly["counts"] == ra["counts"]
        # uncompressed RLE with a split run
        uc = mc.frPyObjects({"size": [h, w], "counts": split_runs(ra_ref)}, h, w)
        assert uc["counts"] == ra["counts"]
        # area, toBbox
        assert [int(v) for v in mc.area([ra, rb])] == [a[2] * a[3], b[2] * b[3]]
        assert mc.toBbox([ra, rb]).tolist() == [list(map(float, a)), list(map(float, b))]
        # merge: union and intersection by interval arithmetic
        ia, ib = box_intervals(*a, h), box_intervals(*b, h)
        union = mc.merge([ra, rb])
        assert canonical(counts(union), total) == runs_from_intervals(ia + ib, total)
        inter_box = (66_000, 300, 500, 300)          # A and B overlap here
        inter = mc.merge([ra, rb], intersect=True)
        got_inter = counts(inter)
        want_inter = runs_from_intervals(box_intervals(*inter_box, h), total)
        assert canonical(got_inter, total) == want_inter
        # iou
        ni = inter_box[2] * inter_box[3]
        o = mc.iou([ra, rb], [rb, ra], [0, 1])
        assert o[0, 0] == ni / (a[2] * a[3] + b[2] * b[3] - ni)
        assert o[1, 1] == ni / (b[2] * b[3])             # crowd: over the detection's area
        assert o[0, 1] == 1.0 and o[1, 0] == 1.0
        # the string codec with counts > 2**32 in total and a split run
        c = np.frombuffer(_rle_core.counts_from_string(ra["counts"]), dtype=np.uint32)
        assert _rle_core.string_from_counts(c.copy()) == ra["counts"]
        # transpose: the transposed box on a w x h image
        t = _rle_core.transpose_string(ra["counts"], h, w)
        rt_ref = runs_from_intervals(box_intervals(a[1], a[0], a[3], a[2], w), total)
        assert counts({"counts": t}) == split_runs(rt_ref)
        elapsed = time.perf_counter() - t0
    assert mem.peak < 256 << 20, f"peak resident growth {mem.peak} bytes: image allocated?"
    assert elapsed < 60 * SLOWDOWN


def canonical(c: list[int], total: int | None = None) -> list[int]:
    """Unsplit runs of the mask the counts describe, completed with background to `total`:
    equal masks give equal lists whatever zero-length runs or splits the counts hold."""
    intervals = []
    pos = 0
    for i, v in enumerate(c):
        if i % 2 == 1:
            intervals.append((pos, pos + v))
        pos += v
    return runs_from_intervals(intervals, pos if total is None else total)


def test_merge_of_many_operands_terminates():
    # regression (fuzz): a sweep result ending in an empty run lost its background tail
    # and the next sweep never ended
    a = {"size": [6, 9], "counts": b"0<g00]O"}
    b = {"size": [6, 9], "counts": b"0g0g0A"}
    ma, mb = mc.decode(a), mc.decode(b)
    assert np.array_equal(mc.decode(mc.merge([a, b, a, b], intersect=True)), ma & mb)
    assert np.array_equal(mc.decode(mc.merge([a, b, a, b])), ma | mb)


def test_merge_sizes_must_match():
    with pytest.raises(SizeMismatchError):
        mc.merge([{"size": [2, 2], "counts": b"4"}, {"size": [2, 3], "counts": b"6"}])

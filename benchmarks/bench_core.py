"""Core codec benchmarks: maskcodecs vs pycocotools vs the installed peers, side by side.

Run (build the extension first)::

    PYTHONPATH=src python -m pytest benchmarks -q --benchmark-only \
        --benchmark-min-rounds=5 --benchmark-max-time=0.5 --benchmark-json=/tmp/bench.json
    python scripts/bench_report.py /tmp/bench.json

Every case is parametrised over the implementation. Inputs are built once per module, outside
the timed call. Before a case is timed its output is compared with pycocotools' (byte-equal
counts, equal arrays); a peer that disagrees, raises, or lacks the operation is skipped with the
reason, and a disagreement of maskcodecs itself fails the case. ``floor`` rows are the numpy
memory floors (``np.count_nonzero`` to read, ``np.empty`` + ``fill`` to write) or, for the
RLE-domain ops, the cost of touching the inputs from Python. Each case also records how many
cores' worth of CPU other processes used while it ran (``others_cores``, from /proc/stat):
on a shared machine that is what makes timings noisy.
"""
from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from types import ModuleType
from typing import Any

import numpy as np
import pytest

pc = pytest.importorskip("pycocotools.mask")
mc = pytest.importorskip("maskcodecs.mask")
from maskcodecs import _rle_core  # noqa: E402

OURS = "maskcodecs"
REF = "pycocotools"
FLOOR = "floor"
PEERS = ("hotcoco", "ultrafast_pycocotools", "faster_coco_eval", "rlemasklib")
IMPLS = (OURS, REF, *PEERS, FLOOR)
#: maskcodecs with 2 threads: through the ``threads=`` keyword, and through a Python thread
#: pool over two halves of the batch (works because the kernels release the GIL).
OURS_T2 = "maskcodecs-2threads"
OURS_POOL = "maskcodecs-pool2"

# the pycocotools-like module of each implementation
_API_MODULES = {
    OURS: "maskcodecs.mask",
    REF: "pycocotools.mask",
    "hotcoco": "hotcoco.mask",
    "ultrafast_pycocotools": "ultrafast_pycocotools.mask",
    "faster_coco_eval": "faster_coco_eval.core.mask",
    # rlemasklib's pycocotools-compatible Cython layer (its functional API has other signatures)
    "rlemasklib": "rlemasklib.rlemasklib_cython",
}

H12, W12 = 3000, 4000
N_BATCH, HB, WB = 100, 480, 640
N_POLY, N_VERT, HP, WP = 10_000, 32, 480, 640
N_IOU = 100
N_MERGE, MERGE_K = 1000, 10

Fn = Callable[[], Any]

# pycocotools.decode under numpy 2 warns on every call; the benchmarks are not the test suite
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def _api(impl: str) -> ModuleType:
    """The pycocotools-like mask module of `impl`; skip when it is not installed."""
    try:
        return importlib.import_module(_API_MODULES[impl])
    except ImportError as e:
        pytest.skip(f"{impl} is not installed ({e})")


def _rle_tier(name: str) -> Callable[..., Any] | None:
    """A function of the Pythonic tier ``maskcodecs.rle`` if it exists yet."""
    try:
        mod = importlib.import_module("maskcodecs.rle")
    except ImportError:
        return None
    return getattr(mod, name, None)


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------

def _ellipses(h: int, w: int, k: int, rng: np.random.Generator, out: np.ndarray) -> None:
    """OR `k` random rotated filled ellipses into the (h, w) uint8 view `out`."""
    for _ in range(k):
        cy, cx = rng.uniform(0.15, 0.85) * h, rng.uniform(0.15, 0.85) * w
        ry, rx = rng.uniform(0.08, 0.3) * h, rng.uniform(0.08, 0.3) * w
        t = rng.uniform(0, np.pi)
        c, s = np.cos(t), np.sin(t)
        r = max(ry, rx)
        y0, y1 = max(0, int(cy - r)), min(h, int(cy + r) + 1)
        x0, x1 = max(0, int(cx - r)), min(w, int(cx + r) + 1)
        dy = np.arange(y0, y1)[:, None] - cy
        dx = np.arange(x0, x1)[None, :] - cx
        inside = ((dx * c + dy * s) / rx) ** 2 + ((dy * c - dx * s) / ry) ** 2 <= 1.0
        out[y0:y1, x0:x1] |= inside.view(np.uint8)


def _stars(n: int, h: int, w: int, rng: np.random.Generator, *, rmin: float, rmax: float,
           centre: tuple[float, float] | None = None, spread: float = 0.0) -> list[list[float]]:
    """`n` star-shaped polygons of N_VERT vertices as flat [x0, y0, x1, y1, ...] float lists.

    Each vertex is at radius r * U(0.75, 1): a mildly star-shaped, nearly convex outline, so
    most columns cross it twice (about 2 runs per column, as for typical COCO objects).
    """
    ang = np.linspace(0, 2 * np.pi, N_VERT, endpoint=False)
    polys = []
    for _ in range(n):
        r = rng.uniform(rmin, rmax)
        if centre is None:
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        else:
            cx = centre[0] + rng.uniform(-spread, spread)
            cy = centre[1] + rng.uniform(-spread, spread)
        rad = r * rng.uniform(0.75, 1.0, N_VERT)
        a = ang + rng.uniform(-0.05, 0.05, N_VERT)
        xs = np.clip(cx + rad * np.cos(a), 0, w)
        ys = np.clip(cy + rad * np.sin(a), 0, h)
        polys.append(np.column_stack([xs, ys]).ravel().tolist())
    return polys


def make_masks() -> dict[str, Any]:
    """1024^2 and 12-MP masks of 5 ellipses, in F and C order, with pycocotools' RLEs."""
    rng = np.random.default_rng(20240601)
    d: dict[str, Any] = {}
    m1 = np.zeros((1024, 1024), np.uint8)
    _ellipses(1024, 1024, 5, rng, m1)
    m12 = np.zeros((H12, W12), np.uint8)
    _ellipses(H12, W12, 5, rng, m12)
    d["1mp_f"] = np.asfortranarray(m1)
    d["12mp_c"] = m12
    d["12mp_f"] = np.asfortranarray(m12)
    d["1mp_rle"] = pc.encode(d["1mp_f"])
    d["12mp_rle"] = pc.encode(d["12mp_f"])
    return d


def make_batch() -> dict[str, Any]:
    """100 masks of 480x640 with 1-3 ellipses each, C-ordered (N, H, W) like torch."""
    rng = np.random.default_rng(7)
    x = np.zeros((N_BATCH, HB, WB), np.uint8)
    for k in range(N_BATCH):
        _ellipses(HB, WB, int(rng.integers(1, 4)), rng, x[k])
    rles = pc.encode(np.asfortranarray(x.transpose(1, 2, 0)))
    return {"nhw": x, "rles": rles, "hwn_f": np.asfortranarray(x.transpose(1, 2, 0))}


def make_polys() -> dict[str, Any]:
    """10,000 star polygons at 480x640, their pycocotools RLEs, and merge groups."""
    rng = np.random.default_rng(11)
    p = _stars(N_POLY, HP, WP, rng, rmin=10, rmax=120)
    rles = pc.frPyObjects(p, HP, WP)
    groups = [rles[i * MERGE_K:(i + 1) * MERGE_K] for i in range(N_MERGE)]
    return {"polys": p, "rles": rles, "groups": groups,
            "merged": [pc.merge(g) for g in groups]}


def make_iou_rles() -> dict[str, Any]:
    """100 dt and 100 gt RLEs clustered around the image centre (most bboxes overlap)."""
    rng = np.random.default_rng(5)
    p = _stars(2 * N_IOU, HP, WP, rng, rmin=80, rmax=150, centre=(WP / 2, HP / 2), spread=90)
    rles = pc.frPyObjects(p, HP, WP)
    dt, gt = rles[:N_IOU], rles[N_IOU:]
    crowd = [0] * N_IOU
    return {"dt": dt, "gt": gt, "crowd": crowd, "ref": pc.iou(dt, gt, crowd)}


@pytest.fixture(scope="module")
def masks() -> dict[str, Any]:
    return make_masks()


@pytest.fixture(scope="module")
def batch() -> dict[str, Any]:
    return make_batch()


@pytest.fixture(scope="module")
def polys() -> dict[str, Any]:
    return make_polys()


@pytest.fixture(scope="module")
def iou_rles() -> dict[str, Any]:
    return make_iou_rles()


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as ex:
        yield ex


# ---------------------------------------------------------------------------------------------
# checks and the runner
# ---------------------------------------------------------------------------------------------

def _same_rles(got: Any, want: Sequence[dict[str, Any]]) -> bool:
    if isinstance(got, dict):
        got = [got]
    if len(got) != len(want):
        return False
    return all(g["counts"] == r["counts"] and list(g["size"]) == list(r["size"])
               for g, r in zip(got, want))


def _same_array(got: Any, want: np.ndarray, *, c_order: bool = False) -> bool:
    got = np.asarray(got)
    if c_order and not got.flags.c_contiguous:
        return False
    return got.shape == want.shape and bool(np.array_equal(got, want))


def _cpu_snapshot() -> tuple[float, float, float] | None:
    """(busy CPU seconds of the whole machine, this process's CPU seconds, wall seconds)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    busy = sum(fields) - fields[3] - fields[4]  # minus idle and iowait
    return busy / os.sysconf("SC_CLK_TCK"), time.process_time(), time.monotonic()


def _others_cores(t0: tuple[float, float, float] | None) -> float | None:
    """Cores' worth of CPU that other processes used since `t0` (interference)."""
    t1 = _cpu_snapshot()
    if t0 is None or t1 is None or t1[2] - t0[2] <= 0:
        return None
    return max(0.0, ((t1[0] - t0[0]) - (t1[1] - t0[1])) / (t1[2] - t0[2]))


def _run(benchmark: Any, impl: str, fn: Fn | None, check: Callable[[Any], bool],
         note: str = "") -> None:
    """Check `fn`'s output (except for the floor), then time it."""
    if fn is None:
        pytest.skip(f"{impl}: operation not available")
    if impl != FLOOR:
        try:
            ok = check(fn())
        except Exception as e:  # noqa: BLE001 - a peer failing is a skip reason, not an error
            if impl.startswith(OURS):
                raise
            pytest.skip(f"{impl} raised {type(e).__name__}: {e}")
        if not ok:
            if impl.startswith(OURS):
                pytest.fail(f"{impl} output differs from pycocotools")
            pytest.skip(f"{impl} output differs from pycocotools")
    benchmark.extra_info["impl"] = impl
    benchmark.extra_info["note"] = note
    t0 = _cpu_snapshot()
    benchmark(fn)
    benchmark.extra_info["others_cores"] = _others_cores(t0)


def _write_floor(shape: tuple[int, ...]) -> Fn:
    def fill() -> np.ndarray:
        out = np.empty(shape, np.uint8)
        out.fill(1)
        return out
    return fill


def _encoder(impl: str) -> Callable[[np.ndarray], Any]:
    if impl == "rlemasklib":
        import rlemasklib  # its public encode: 2-D/3-D, C or F order
        return rlemasklib.encode
    return _api(impl).encode


# ---------------------------------------------------------------------------------------------
# encode
# ---------------------------------------------------------------------------------------------

# the Fortran-ordered masks of make_masks, by key prefix: their benchmark group names
F_SIZES = {"1mp": "1024x1024", "12mp": f"{H12}x{W12}"}


@pytest.mark.parametrize("size", list(F_SIZES))
@pytest.mark.parametrize("impl", IMPLS)
def test_encode_f(benchmark: Any, impl: str, size: str, masks: dict[str, Any]) -> None:
    benchmark.group = f"encode {F_SIZES[size]} F"
    m = masks[f"{size}_f"]
    if impl == FLOOR:
        fn: Fn = lambda: np.count_nonzero(m)  # noqa: E731
        note = "np.count_nonzero"
    else:
        enc = _encoder(impl)
        fn, note = (lambda: enc(m)), ""
    _run(benchmark, impl, fn, lambda r: _same_rles(r, [masks[f"{size}_rle"]]), note)


@pytest.mark.benchmark(group="encode 3000x4000 C")
@pytest.mark.parametrize("impl", IMPLS)
def test_encode_12mp_c(benchmark: Any, impl: str, masks: dict[str, Any]) -> None:
    c = masks["12mp_c"]
    if impl == FLOOR:
        fn: Fn = lambda: np.count_nonzero(c)  # noqa: E731
        note = "np.count_nonzero"
    elif impl == REF:
        fn, note = (lambda: pc.encode(np.asfortranarray(c))), "np.asfortranarray + encode"
    else:
        enc = _encoder(impl)
        fn, note = (lambda: enc(c)), "encode(C-ordered array)"
    _run(benchmark, impl, fn, lambda r: _same_rles(r, [masks["12mp_rle"]]), note)


# ---------------------------------------------------------------------------------------------
# decode
# ---------------------------------------------------------------------------------------------

def _decoder(impl: str) -> Callable[[Any], np.ndarray]:
    if impl == "rlemasklib":
        import rlemasklib
        return rlemasklib.decode
    return _api(impl).decode


@pytest.mark.parametrize("size", list(F_SIZES))
@pytest.mark.parametrize("impl", IMPLS)
def test_decode_f(benchmark: Any, impl: str, size: str, masks: dict[str, Any]) -> None:
    benchmark.group = f"decode {F_SIZES[size]} F"
    rle = masks[f"{size}_rle"]
    want = masks[f"{size}_f"]
    if impl == FLOOR:
        fn, note = _write_floor(want.shape), "np.empty + fill"
    else:
        dec = _decoder(impl)
        fn, note = (lambda: dec(rle)), ""
    _run(benchmark, impl, fn, lambda a: _same_array(a, want), note)


def _ours_decode_c(rle: dict[str, Any]) -> tuple[Fn, str]:
    dec = _rle_tier("decode")
    if dec is not None:
        return (lambda: dec(rle, order="C")), "maskcodecs.rle.decode(order='C')"
    h, w = rle["size"]
    counts = rle["counts"]

    def fallback() -> np.ndarray:
        out = np.empty((h, w), np.uint8)
        _rle_core.decode_string(counts, out.reshape(-1), h, w, True)
        return out
    return fallback, "_rle_core.decode_string(c_order=True) (maskcodecs.rle absent)"


@pytest.mark.benchmark(group="decode 3000x4000 to C")
@pytest.mark.parametrize("impl", IMPLS)
def test_decode_12mp_c(benchmark: Any, impl: str, masks: dict[str, Any]) -> None:
    rle = masks["12mp_rle"]
    if impl == FLOOR:
        fn, note = _write_floor((H12, W12)), "np.empty + fill"
    elif impl == OURS:
        fn, note = _ours_decode_c(rle)
    else:
        dec = _decoder(impl)
        fn, note = (lambda: np.ascontiguousarray(dec(rle))), "decode + np.ascontiguousarray"
    _run(benchmark, impl, fn, lambda a: _same_array(a, masks["12mp_c"], c_order=True), note)


# ---------------------------------------------------------------------------------------------
# batch of 100 x 480 x 640, torch layout (N, H, W) C-ordered
# ---------------------------------------------------------------------------------------------

BATCH_IMPLS = (OURS, OURS_T2, OURS_POOL, REF, *PEERS, FLOOR)


def _halves(n: int) -> list[tuple[int, int]]:
    return [(0, n // 2), (n // 2, n)]


@pytest.mark.benchmark(group="encode batch 100x480x640 (N,H,W) C")
@pytest.mark.parametrize("impl", BATCH_IMPLS)
def test_encode_batch(benchmark: Any, impl: str, batch: dict[str, Any],
                      pool: ThreadPoolExecutor) -> None:
    x = batch["nhw"]
    hwn = x.transpose(1, 2, 0)  # a strided view, no copy
    eb = _rle_tier("encode_batch")
    fn: Fn | None
    if impl == FLOOR:
        fn, note = (lambda: np.count_nonzero(x)), "np.count_nonzero"
    elif impl == OURS:
        if eb is not None:
            fn, note = (lambda: eb(x, threads=1)), "maskcodecs.rle.encode_batch(threads=1)"
        else:
            fn, note = (lambda: mc.encode(hwn)), "mask.encode(x.transpose(1, 2, 0))"
    elif impl == OURS_T2:
        fn = None if eb is None else (lambda: eb(x, threads=2))
        note = "maskcodecs.rle.encode_batch(threads=2)"
    elif impl == OURS_POOL:
        parts = [x[a:b].transpose(1, 2, 0) for a, b in _halves(N_BATCH)]
        fn = lambda: [r for part in pool.map(mc.encode, parts) for r in part]  # noqa: E731
        note = "mask.encode on 2 halves in a 2-thread ThreadPoolExecutor"
    elif impl == REF:
        fn = lambda: pc.encode(np.asfortranarray(hwn))  # noqa: E731
        note = "np.asfortranarray(x.transpose(1, 2, 0)) + encode"
    elif impl == "rlemasklib":
        import rlemasklib
        fn, note = (lambda: rlemasklib.encode(x, batch_first=True)), "encode(x, batch_first=True)"
    else:
        enc = _api(impl).encode
        fn, note = (lambda: enc(hwn)), "encode(x.transpose(1, 2, 0)) (strided view)"
    _run(benchmark, impl, fn, lambda r: _same_rles(r, batch["rles"]), note)


def _decode_batch_c_fallback(rles: list[dict[str, Any]], start: int = 0,
                             stop: int = -1, out: np.ndarray | None = None) -> np.ndarray:
    if out is None:
        out = np.empty((len(rles), HB, WB), np.uint8)
    _rle_core.decode_into(rles, out.reshape(-1), HB, WB, True, start, stop)
    return out


@pytest.mark.benchmark(group="decode batch 100x480x640 to (N,H,W) C")
@pytest.mark.parametrize("impl", BATCH_IMPLS)
def test_decode_batch_c(benchmark: Any, impl: str, batch: dict[str, Any],
                        pool: ThreadPoolExecutor) -> None:
    rles = batch["rles"]
    db = _rle_tier("decode_batch")
    fn: Fn | None
    if impl == FLOOR:
        fn, note = _write_floor((N_BATCH, HB, WB)), "np.empty + fill"
    elif impl == OURS:
        if db is not None:
            fn, note = (lambda: db(rles, order="C", threads=1)), \
                "maskcodecs.rle.decode_batch(order='C', threads=1)"
        else:
            fn = lambda: _decode_batch_c_fallback(rles)  # noqa: E731
            note = "_rle_core.decode_into(c_order=True) (maskcodecs.rle absent)"
    elif impl == OURS_T2:
        fn = None if db is None else (lambda: db(rles, order="C", threads=2))
        note = "maskcodecs.rle.decode_batch(order='C', threads=2)"
    elif impl == OURS_POOL:
        def fn() -> np.ndarray:
            out = np.empty((N_BATCH, HB, WB), np.uint8)
            list(pool.map(lambda ab: _decode_batch_c_fallback(rles, ab[0], ab[1], out),
                          _halves(N_BATCH)))
            return out
        note = "_rle_core.decode_into on 2 halves in a 2-thread ThreadPoolExecutor"
    else:
        dec = _api(impl).decode
        fn = lambda: np.ascontiguousarray(dec(rles).transpose(2, 0, 1))  # noqa: E731
        note = "decode(list) + np.ascontiguousarray(.transpose(2, 0, 1))"
    _run(benchmark, impl, fn, lambda a: _same_array(a, batch["nhw"], c_order=True), note)


@pytest.mark.benchmark(group="decode batch 100x480x640 to (H,W,N) F")
@pytest.mark.parametrize("impl", IMPLS)
def test_decode_batch_f(benchmark: Any, impl: str, batch: dict[str, Any]) -> None:
    rles = batch["rles"]
    if impl == FLOOR:
        fn, note = _write_floor((N_BATCH, HB, WB)), "np.empty + fill"
    else:
        dec = _api(impl).decode
        fn, note = (lambda: dec(rles)), "decode(list), pycocotools layout"
    _run(benchmark, impl, fn, lambda a: _same_array(a, batch["hwn_f"]), note)


# ---------------------------------------------------------------------------------------------
# RLE-domain ops
# ---------------------------------------------------------------------------------------------

@pytest.mark.benchmark(group="frPyObjects 10k polygons x 32 vertices")
@pytest.mark.parametrize("impl", IMPLS)
def test_frpyobjects(benchmark: Any, impl: str, polys: dict[str, Any]) -> None:
    p = polys["polys"]
    if impl == FLOOR:
        fn: Fn = lambda: np.fromiter(chain.from_iterable(p), np.float64)  # noqa: E731
        note = "floats to doubles (np.fromiter)"
    else:
        fr = _api(impl).frPyObjects
        fn, note = (lambda: fr(p, HP, WP)), ""
    _run(benchmark, impl, fn, lambda r: _same_rles(r, polys["rles"]), note)


def _pc_area_chunked(rles: list[dict[str, Any]]) -> np.ndarray:
    # pycocotools 2.0.x + numpy 2: area() of a list of more than 255 RLEs raises OverflowError
    return np.concatenate([pc.area(rles[i:i + 255]) for i in range(0, len(rles), 255)])


def _dict_floor(rles: list[dict[str, Any]]) -> Fn:
    return lambda: [r["counts"] for r in rles]


@pytest.mark.benchmark(group="area 10k RLEs")
@pytest.mark.parametrize("impl", IMPLS)
def test_area(benchmark: Any, impl: str, polys: dict[str, Any]) -> None:
    rles = polys["rles"]
    want = _pc_area_chunked(rles)
    if impl == FLOOR:
        fn, note = _dict_floor(rles), "[r['counts'] for r in rles]"
    elif impl == REF:
        try:
            pc.area(rles)
            fn, note = (lambda: pc.area(rles)), ""
        except OverflowError:
            fn = lambda: _pc_area_chunked(rles)  # noqa: E731
            note = "in chunks of 255 (area() of >255 RLEs raises OverflowError with numpy 2)"
    else:
        ar = _api(impl).area
        fn, note = (lambda: ar(rles)), ""
    _run(benchmark, impl, fn, lambda a: _same_array(np.asarray(a).astype(np.int64), want), note)


@pytest.mark.benchmark(group="toBbox 10k RLEs")
@pytest.mark.parametrize("impl", IMPLS)
def test_tobbox(benchmark: Any, impl: str, polys: dict[str, Any]) -> None:
    rles = polys["rles"]
    want = pc.toBbox(rles)
    if impl == FLOOR:
        fn, note = _dict_floor(rles), "[r['counts'] for r in rles]"
    else:
        tb = _api(impl).toBbox
        fn, note = (lambda: tb(rles)), ""
    _run(benchmark, impl, fn, lambda a: _same_array(a, want), note)


IOU_IMPLS = (OURS, OURS_T2, REF, *PEERS)


@pytest.mark.benchmark(group="iou 100x100 RLEs")
@pytest.mark.parametrize("impl", IOU_IMPLS)
def test_iou(benchmark: Any, impl: str, iou_rles: dict[str, Any]) -> None:
    dt, gt, crowd = iou_rles["dt"], iou_rles["gt"], iou_rles["crowd"]
    note = ""
    if impl in (OURS, OURS_T2):
        nthr = 1 if impl == OURS else 2
        fn: Fn = lambda: mc.iou(dt, gt, crowd, threads=nthr)  # noqa: E731
        note = f"mask.iou(threads={nthr})"
    else:
        io = _api(impl).iou
        fn = lambda: io(dt, gt, crowd)  # noqa: E731
        if impl == "hotcoco":
            note = "uses all cores (rayon) for >=1024 pairs"
    _run(benchmark, impl, fn, lambda a: _same_array(a, iou_rles["ref"]), note)


@pytest.mark.benchmark(group="merge 1000 x union of 10 RLEs")
@pytest.mark.parametrize("impl", (OURS, REF, *PEERS))
def test_merge(benchmark: Any, impl: str, polys: dict[str, Any]) -> None:
    groups = polys["groups"]
    mg = _api(impl).merge
    _run(benchmark, impl, lambda: [mg(g) for g in groups],
         lambda r: _same_rles(r, polys["merged"]), "a Python loop of 1000 merge() calls")

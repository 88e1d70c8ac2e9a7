"""LVIS evaluation end to end: maskcodecs vs lvis-api vs the installed peers.

Run (a 5,000-image LVIS-shaped workload, generated once into benchmarks/.cache/lvis_workload/
by scripts/make_lvis_workload.py)::

    python -m pytest benchmarks/bench_lvis.py -q --benchmark-only \
        --benchmark-json=/tmp/bench_lvis.json
    MASKCODECS_BENCH_LVIS_IMAGES=300 python -m pytest benchmarks/bench_lvis.py -q   # quick

The timed call is a whole evaluation from the files, each engine with its own classes:

* lvis-api 0.5.3: ``LVIS(gt)``, ``LVISResults(gt, res)``, ``LVISEval(gt, dt, iou_type).run()``
  (its accumulate needs ``np.float``, removed in numpy 1.24: set to ``float`` for the call);
* maskcodecs: ``maskcodecs.lvis.LVIS``, ``LVISResults``, ``LVISEval`` and ``run()``;
* hotcoco: ``hotcoco.LVIS``, ``hotcoco.LVISResults``, ``hotcoco.LVISEval`` and ``run()``;
* ultrafast-pycocotools: ``COCO(gt)``, ``loadRes(res)``, ``COCOeval(..., lvis_style=True)``
  with ``evaluate()``, ``accumulate()``, ``summarize()`` (its official LVIS protocol: the
  per-image cap of 300 and the federated rules).

Rounds: 1 for lvis-api (about a minute a case at full size), 2 for ultrafast-pycocotools,
3 for hotcoco, 5 for maskcodecs; ``MASKCODECS_BENCH_LVIS_ROUNDS`` sets them all.

After timing (outside the timed call), ``eval['precision']``, ``eval['recall']`` and the
results are compared with lvis-api's on the same files (cached as .npz beside the workload).
maskcodecs must be bit-equal or the case fails; a peer that differs is recorded in
``extra_info`` and listed at the end of the run, not failed. An engine that is not
installed is skipped with the reason.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import eval_engines as ee  # noqa: E402
import make_lvis_workload as mlw  # noqa: E402
from bench_core import _cpu_snapshot, _others_cores  # noqa: E402

IMAGES = int(os.environ.get("MASKCODECS_BENCH_LVIS_IMAGES", "5000"))
SEED = int(os.environ.get("MASKCODECS_BENCH_LVIS_SEED", "0"))
_ROUNDS_ENV = os.environ.get("MASKCODECS_BENCH_LVIS_ROUNDS")
DEFAULT_ROUNDS = {"lvis": 1, "ultrafast_pycocotools": 2, "hotcoco": 3, "maskcodecs": 5}
ENGINES = ("lvis", "hotcoco", "ultrafast_pycocotools", "maskcodecs")
API = {"lvis": "lvis.LVIS + LVISResults + LVISEval.run()",
       "maskcodecs": "maskcodecs.lvis.LVIS + LVISResults + LVISEval.run()",
       "hotcoco": "hotcoco.LVIS + LVISResults + LVISEval.run()",
       "ultrafast_pycocotools": "COCO + loadRes + COCOeval(lvis_style=True)"}
DIST = {"lvis": "lvis", "maskcodecs": "maskcodecs", "hotcoco": "hotcoco",
        "ultrafast_pycocotools": "ultrafast-pycocotools"}
KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf", "AR@300", "ARs@300",
        "ARm@300", "ARl@300")

_DIFFS: dict[tuple[str, str], str] = {}


def _rounds(engine: str) -> int:
    if _ROUNDS_ENV:
        return max(1, int(_ROUNDS_ENV))
    return DEFAULT_ROUNDS[engine]


@pytest.fixture(scope="module")
def folder() -> Path:
    return mlw.ensure(mlw.CACHE / f"n{IMAGES}-seed{SEED}", IMAGES, SEED)


@contextlib.contextmanager
def _np_float() -> Iterator[None]:
    had, old = "float" in np.__dict__, np.__dict__.get("float")
    np.float = float  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if had:
            np.float = old  # type: ignore[attr-defined]
        else:
            del np.float  # type: ignore[attr-defined]


def _available(engine: str) -> None:
    mod = {"lvis": "lvis", "maskcodecs": "maskcodecs.lvis", "hotcoco": "hotcoco",
           "ultrafast_pycocotools": "ultrafast_pycocotools"}[engine]
    try:
        m = __import__(mod, fromlist=["_"])
    except ImportError as e:
        pytest.skip(f"{engine} is not installed: {e}")
    if engine == "hotcoco" and not hasattr(m, "LVISEval"):
        pytest.skip("this hotcoco has no LVISEval")


def run(engine: str, gt: Path, res: Path, iou_type: str) -> Any:
    """Evaluate end to end, stdout and the peers' logging silenced; return the evaluator."""
    import logging

    logging.disable(logging.WARNING)
    try:
        with ee.quiet():
            if engine == "lvis":
                import lvis
                with _np_float():
                    g = lvis.LVIS(str(gt))
                    ev = lvis.LVISEval(g, lvis.LVISResults(g, str(res)), iou_type)
                    ev.run()
            elif engine == "maskcodecs":
                from maskcodecs import lvis as ml
                g = ml.LVIS(str(gt))
                ev = ml.LVISEval(g, ml.LVISResults(g, str(res)), iou_type)
                ev.run()
            elif engine == "hotcoco":
                import hotcoco
                g = hotcoco.LVIS(str(gt))
                ev = hotcoco.LVISEval(g, hotcoco.LVISResults(g, str(res)), iou_type)
                ev.run()
            else:
                import ultrafast_pycocotools as uf
                g = uf.COCO(str(gt))
                ev = uf.COCOeval(g, g.loadRes(str(res)), iou_type, lvis_style=True)
                ev.evaluate()
                ev.accumulate()
                ev.summarize()
    finally:
        logging.disable(logging.NOTSET)
    return ev


def results(engine: str, ev: Any) -> dict[str, np.ndarray]:
    """precision [T, R, K, A], recall [T, K, A] and the 13 results as arrays."""
    p = np.asarray(ev.eval["precision"], dtype=np.float64)
    r = np.asarray(ev.eval["recall"], dtype=np.float64)
    if p.ndim == 5:  # a COCOeval layout with its maxDets axis (one entry, 300)
        p, r = p[..., 0], r[..., 0]
    if engine == "ultrafast_pycocotools":
        s = np.asarray(ev.stats, dtype=np.float64)[:len(KEYS)]
    else:
        got = ev.get_results()
        s = np.array([float(got[k]) for k in KEYS], dtype=np.float64)
    return {"precision": p, "recall": r, "results": s}


def reference(folder: Path, case: str, ev: Any = None) -> dict[str, np.ndarray]:
    """lvis-api's results on the case, cached beside the workload (computed untimed when
    absent and not given)."""
    path = folder / f"ref-lvis-0.5.3-{case}.npz"
    if path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    r = results("lvis", ev if ev is not None else run("lvis", *_files(folder, case), case))
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **r)
    os.replace(tmp, path)
    return r


def _files(folder: Path, case: str) -> tuple[Path, Path]:
    return folder / "lvis_gt.json", folder / f"dets_{case}.json"


def _describe(got: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> tuple[bool, str]:
    parts = []
    for k in ("results", "precision", "recall"):
        a, b = got[k], ref[k]
        if a.shape != b.shape:
            parts.append(f"{k}: shape {a.shape} vs {b.shape}")
        elif not np.array_equal(a, b):
            d = np.abs(a - b)
            parts.append(f"{k}: {int((a != b).sum())} values differ, max |diff| {d.max():.3g}")
    return not parts, "; ".join(parts) or "bit-equal"


@pytest.fixture(scope="module", autouse=True)
def _report_diffs(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    if tr is None or not _DIFFS:
        return
    tr.write_line("")
    tr.write_line("LVIS results that differ from lvis-api's:")
    for (case, engine), line in sorted(_DIFFS.items()):
        tr.write_line(f"  {case:<5} {engine:<22} {line}")


@pytest.mark.parametrize("case", ["bbox", "segm"])
@pytest.mark.parametrize("engine", ENGINES)
def test_lvis_eval(benchmark: Any, engine: str, case: str, folder: Path) -> None:
    benchmark.group = f"LVISEval {case} ({IMAGES} images)"
    _available(engine)
    gt, res = _files(folder, case)
    benchmark.extra_info.update({"impl": engine, "version": _version(engine),
                                 "note": API[engine], "images": IMAGES, "case": case})
    t0 = _cpu_snapshot()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        ev = benchmark.pedantic(run, args=(engine, gt, res, case), rounds=_rounds(engine),
                                iterations=1, warmup_rounds=0)
    except Exception as e:  # noqa: BLE001 - a peer failing is a skip reason, not an error
        if engine == "maskcodecs":
            raise
        pytest.skip(f"{engine} raised {type(e).__name__}: {e}")
    benchmark.extra_info["cpu_per_wall"] = round(
        (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9), 2)
    benchmark.extra_info["others_cores"] = _others_cores(t0)
    got = results(engine, ev)
    ref = reference(folder, case, ev=ev if engine == "lvis" else None)
    del ev
    same, line = _describe(got, ref)
    benchmark.extra_info["matches_lvis_api"] = same
    benchmark.extra_info["diff"] = line
    if engine == "maskcodecs":
        assert same, f"maskcodecs differs from lvis-api on {case}: {line}"
    elif not same:
        _DIFFS[(case, engine)] = line


def _version(engine: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DIST[engine])
    except PackageNotFoundError:
        return "?"

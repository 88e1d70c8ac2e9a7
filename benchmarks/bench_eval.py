"""COCOeval end to end: maskcodecs vs pycocotools vs the installed peers.

Run (a 5,000-image COCO-shaped workload, generated once into benchmarks/.cache/)::

    python -m pytest benchmarks/bench_eval.py -q --benchmark-only \
        --benchmark-json=/tmp/bench_eval.json
    MASKCODECS_BENCH_EVAL_IMAGES=300 python -m pytest benchmarks/bench_eval.py -q   # quick

The timed call is a whole evaluation from the files: ``COCO(gt_path)``,
``gt.loadRes(res_path)``, ``COCOeval(gt, dt, iouType)``, ``evaluate()``, ``accumulate()``,
``summarize()`` with stdout silenced (see eval_engines.py for each engine's classes). Cases:
bbox, segm and keypoints results, and bbox with ten times the detections (``bbox_x10``).

Rounds are few (pycocotools takes about 10 s a case at full size): 1 for pycocotools, 2 for
faster-coco-eval, 5 for the others; ``MASKCODECS_BENCH_EVAL_ROUNDS`` sets them all.
``MASKCODECS_BENCH_EVAL_IMAGES`` / ``MASKCODECS_BENCH_EVAL_SEED`` choose the workload.

After timing (outside the timed call), the last run's ``stats``, ``eval['precision']`` and
``eval['recall']`` are compared with pycocotools' on the same files (cached as .npz beside the
workload, computed once). maskcodecs must be bit-equal or the case fails; a peer that differs
is recorded in ``extra_info`` (``matches_pycocotools``, ``diff``) and listed at the end of the
run, not failed. An engine that is not installed is skipped with the reason; a peer that
raises is skipped with the exception.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.importorskip("pycocotools")

import eval_engines as ee  # noqa: E402
from bench_core import _cpu_snapshot, _others_cores  # noqa: E402

IMAGES = int(os.environ.get("MASKCODECS_BENCH_EVAL_IMAGES", "5000"))
SEED = int(os.environ.get("MASKCODECS_BENCH_EVAL_SEED", "0"))
_ROUNDS_ENV = os.environ.get("MASKCODECS_BENCH_EVAL_ROUNDS")
DEFAULT_ROUNDS = {"pycocotools": 1, "faster_coco_eval": 2}

#: (case, engine) -> one line saying how a peer's results differ from pycocotools'
_DIFFS: dict[tuple[str, str], str] = {}


def _rounds(engine: str) -> int:
    if _ROUNDS_ENV:
        return max(1, int(_ROUNDS_ENV))
    return DEFAULT_ROUNDS.get(engine, 5)


@pytest.fixture(scope="module")
def folder() -> Path:
    return ee.workload(IMAGES, SEED)


@pytest.fixture(scope="module", autouse=True)
def _report_diffs(request: pytest.FixtureRequest) -> Iterator[None]:
    """At the end of the module, list the peers whose results differ from pycocotools'."""
    yield
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    if tr is None or not _DIFFS:
        return
    with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
        tr.write_line("")
        tr.write_line("COCOeval results that differ from pycocotools':")
        for (case, engine), line in sorted(_DIFFS.items()):
            tr.write_line(f"  {case:<9} {engine:<22} {line}")


@pytest.mark.parametrize("case", list(ee.CASES))
@pytest.mark.parametrize("engine", ee.ENGINES)
def test_eval(benchmark: Any, engine: str, case: str, folder: Path) -> None:
    benchmark.group = f"COCOeval {case} ({IMAGES} images)"
    gt_name, res_name, iou_type = ee.CASES[case]
    try:
        classes = ee.load(engine)
    except ee.EngineUnavailable as e:
        pytest.skip(str(e))
    gt, res = folder / gt_name, folder / res_name
    benchmark.extra_info.update({"impl": engine, "version": ee.version(engine),
                                 "note": ee.API[engine], "images": IMAGES, "case": case})
    t0 = _cpu_snapshot()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        ev = benchmark.pedantic(ee.run, args=(engine, gt, res, iou_type, classes),
                                rounds=_rounds(engine), iterations=1, warmup_rounds=0)
    except Exception as e:  # noqa: BLE001 - a peer failing is a skip reason, not an error
        if engine == ee.OURS:
            raise
        pytest.skip(f"{engine} raised {type(e).__name__}: {e}")
    # CPU seconds per wall second over the rounds: > 1 where the engine uses threads
    benchmark.extra_info["cpu_per_wall"] = round(
        (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9), 2)
    benchmark.extra_info["others_cores"] = _others_cores(t0)

    # outside the timed part: the same results as pycocotools?
    got = ee.results(ev)
    ref = ee.reference(folder, case, gt_name, res_name, iou_type,
                       ev=ev if engine == ee.REF else None)
    del ev
    cmp = ee.compare(got, ref)
    same = ee.exact(cmp)
    benchmark.extra_info["matches_pycocotools"] = same
    benchmark.extra_info["diff"] = ee.describe(cmp)
    if engine == ee.OURS:
        assert same, f"maskcodecs differs from pycocotools on {case}: {ee.describe(cmp)}"
    elif not same:
        _DIFFS[(case, engine)] = ee.describe(cmp)
        print(f"{engine} {case}: differs from pycocotools: {ee.describe(cmp)}")

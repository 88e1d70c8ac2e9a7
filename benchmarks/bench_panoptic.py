"""Panoptic quality: maskcodecs.panoptic.pq_compute vs panopticapi on the same PNGs.

Run (the workload is written once into benchmarks/.cache/panoptic by
scripts/make_panoptic_workload.py: the 22 real panoptic images of ../shared/realdata
repeated 10 times, 220 image pairs, predictions perturbed)::

    python -m pytest benchmarks/bench_panoptic.py -q --benchmark-only \
        --benchmark-json=/tmp/bench_panoptic.json
    MASKCODECS_BENCH_PANOPTIC_REPEAT=2 python -m pytest benchmarks/bench_panoptic.py -q

Timed, from the files each time: maskcodecs with 1 and 2 threads; panopticapi's
``pq_compute_single_core`` over all images followed by ``PQStat.pq_average`` (one core); its
``pq_compute`` (a process per core, stdout silenced). After timing, every result is compared
with maskcodecs' (==; the multi-process one with ``chunks=cpu_count()``) and the case fails
on any difference. The peers need panopticapi-lite (``pip install --no-deps
panopticapi-lite==0.2.0``: it pins numpy<2 but runs on numpy 2).
"""
from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from maskcodecs import panoptic

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "scripts"))
import make_panoptic_workload as mpw  # noqa: E402

REPEAT = int(os.environ.get("MASKCODECS_BENCH_PANOPTIC_REPEAT", "10"))
REALDATA = Path(os.environ.get("MASKCODECS_REALDATA", ROOT.parent.parent / "shared" / "realdata"))
ENGINES = ["maskcodecs", "maskcodecs (threads=2)", "panopticapi single core",
           "panopticapi pq_compute"]


@pytest.fixture(scope="module")
def workload() -> Path:
    if not (REALDATA / mpw.SOURCES[0][0]).exists():
        pytest.skip(f"real data not available under {REALDATA}")
    pytest.importorskip("PIL.Image", reason="the workload script writes PNGs with Pillow")
    return mpw.make(ROOT / ".cache" / "panoptic", REALDATA, REPEAT)


def _panopticapi_single(w: Path) -> dict[str, Any]:
    pe = pytest.importorskip("panopticapi.evaluation")
    gt = json.loads((w / "gt.json").read_text())
    pred = json.loads((w / "pred.json").read_text())
    cats = {c["id"]: c for c in gt["categories"]}
    by_image = {a["image_id"]: a for a in pred["annotations"]}
    pairs = [(a, by_image[a["image_id"]]) for a in gt["annotations"]]
    with contextlib.redirect_stdout(io.StringIO()):
        stat = pe.pq_compute_single_core(0, pairs, str(w / "gt"), str(w / "pred"), cats)
    out: dict[str, Any] = {}
    for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
        out[name], per_class = stat.pq_average(cats, isthing)
        if name == "All":
            out["per_class"] = per_class
    return out


def _panopticapi_multi(w: Path) -> dict[str, Any]:
    pe = pytest.importorskip("panopticapi.evaluation")
    with contextlib.redirect_stdout(io.StringIO()):
        return pe.pq_compute(str(w / "gt.json"), str(w / "pred.json"), str(w / "gt"),
                             str(w / "pred"))


def _run(engine: str, w: Path) -> dict[str, Any]:
    if engine == "maskcodecs":
        return panoptic.pq_compute(w / "gt.json", w / "pred.json", w / "gt", w / "pred")
    if engine == "maskcodecs (threads=2)":
        return panoptic.pq_compute(w / "gt.json", w / "pred.json", w / "gt", w / "pred",
                                   threads=2)
    if engine == "panopticapi single core":
        return _panopticapi_single(w)
    return _panopticapi_multi(w)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # panopticapi never closes its pool
@pytest.mark.parametrize("engine", ENGINES)
def test_pq_compute(benchmark: Any, engine: str, workload: Path) -> None:
    images = json.loads((workload / "manifest.json").read_text())["images"]
    benchmark.group = f"panoptic pq_compute {images} images"
    benchmark.extra_info["impl"] = engine
    benchmark.extra_info["images"] = images
    rounds = 5 if engine.startswith("maskcodecs") else 3
    result = benchmark.pedantic(_run, args=(engine, workload), rounds=rounds, iterations=1)
    chunks = multiprocessing.cpu_count() if engine == "panopticapi pq_compute" else None
    ours = panoptic.pq_compute(workload / "gt.json", workload / "pred.json", workload / "gt",
                               workload / "pred", chunks=chunks)
    assert ours == result

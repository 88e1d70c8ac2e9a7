"""Streaming evaluation in a validation loop: batches of 16 images, then the metrics.

Run (the 5,000-image workload of bench_eval.py, generated once into benchmarks/.cache/)::

    python -m pytest benchmarks/bench_streaming.py -q --benchmark-only \
        --benchmark-json=/tmp/bench_streaming.json

The timed call builds the evaluator, feeds every batch (the detections of 16 consecutive
images, in the input each engine documents) and computes the metrics; the ground truth is
loaded once before it (maskcodecs: ``COCO(path)``; hotcoco takes each batch's ground-truth
dicts in ``update``). Engines:

* maskcodecs: ``StreamingCOCOeval(gt, iouType)``, ``update(image_ids, boxes, scores, labels,
  masks=RLE dicts | keypoints=...)`` with numpy arrays, ``compute()``.
* hotcoco: ``StreamingEval(categories, iou_type)``, ``update(images, gt_anns, dt_anns)`` (an
  (N, 7) array for bbox, result dicts otherwise), ``finalize()``, ``accumulate()``,
  ``summarize()``.
* torchmetrics ``MeanAveragePrecision`` with its ``pycocotools`` and ``faster_coco_eval``
  backends (bbox only: its segm input is dense (N, H, W) masks of every ground truth and
  detection, about 25 GB for this workload; it has no keypoints): ``update(preds, target)``
  with torch tensors, ``compute()``.

``extra_info`` holds the update cost per batch and the final step's seconds from the last
round. maskcodecs' and hotcoco's results are compared with pycocotools' COCOeval on the same
detections (bit-equal or the maskcodecs case fails); torchmetrics evaluates only the images
it was given, with its own box conversion, so its numbers are recorded, not compared.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.importorskip("pycocotools")

import eval_engines as ee  # noqa: E402

IMAGES = int(os.environ.get("MASKCODECS_BENCH_EVAL_IMAGES", "5000"))
SEED = int(os.environ.get("MASKCODECS_BENCH_EVAL_SEED", "0"))
BATCH = 16
ROUNDS = {"maskcodecs": 5, "hotcoco": 5}
CASES = {"bbox": ("instances_gt.json", "dets_bbox.json"),
         "segm": ("instances_gt.json", "dets_segm.json"),
         "keypoints": ("person_keypoints_gt.json", "dets_keypoints.json")}
ENGINES = ("maskcodecs", "hotcoco", "torchmetrics-pycocotools", "torchmetrics-faster_coco_eval")


@pytest.fixture(scope="module")
def folder() -> Path:
    return ee.workload(IMAGES, SEED)


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stdout(io.StringIO()):
        yield


class Workload:
    """The ground truth and the detections of one case, cut into batches of images."""

    def __init__(self, folder: Path, case: str) -> None:
        gt_name, dt_name = CASES[case]
        self.case = case
        with open(folder / gt_name, encoding="utf-8") as f:
            self.gt = json.load(f)
        with open(folder / dt_name, encoding="utf-8") as f:
            self.dets = json.load(f)
        self.images = sorted(im["id"] for im in self.gt["images"])
        gt_by: dict[int, list] = {}
        for a in self.gt["annotations"]:
            gt_by.setdefault(a["image_id"], []).append(a)
        dt_by: dict[int, list] = {}
        for d in self.dets:
            dt_by.setdefault(d["image_id"], []).append(d)
        img_by = {im["id"]: im for im in self.gt["images"]}
        self.batches = []
        for s in range(0, len(self.images), BATCH):
            ids = self.images[s:s + BATCH]
            self.batches.append(([img_by[i] for i in ids],
                                 [a for i in ids for a in gt_by.get(i, [])],
                                 [d for i in ids for d in dt_by.get(i, [])]))
        self.dets = [d for _, _, ds in self.batches for d in ds]  # the order fed


def _ours_inputs(w: Workload) -> list[dict[str, Any]]:
    out = []
    for _, _, ds in w.batches:
        b: dict[str, Any] = {
            "image_ids": np.array([d["image_id"] for d in ds], dtype=np.int64),
            "scores": np.array([d["score"] for d in ds], dtype=np.float64),
            "labels": np.array([d["category_id"] for d in ds], dtype=np.int64)}
        if w.case == "bbox":
            b["boxes"] = np.array([d["bbox"] for d in ds], dtype=np.float64).reshape(-1, 4)
        elif w.case == "segm":
            b["masks"] = [d["segmentation"] for d in ds]
        else:
            b["keypoints"] = np.array([d["keypoints"] for d in ds],
                                      dtype=np.float64).reshape(len(ds), -1)
        out.append(b)
    return out


def _timed(start: Any, feed: Any, final: Any, batches: list, info: dict) -> Any:
    """start() makes the evaluator, feed(ev, batch) adds a batch, final(ev) gives the
    metrics; info receives the update cost per batch and the final step's seconds."""
    t0 = time.perf_counter()
    ev = start()
    for b in batches:
        feed(ev, b)
    t1 = time.perf_counter()
    with _quiet():
        out = final(ev)
    t2 = time.perf_counter()
    info.update(update_ms_per_batch=round((t1 - t0) / len(batches) * 1e3, 3),
                final_s=round(t2 - t1, 4))
    return out


def _run_ours(w: Workload, gt: Any, batches: list[dict[str, Any]], info: dict) -> Any:
    from maskcodecs.cocoeval import StreamingCOCOeval
    return _timed(lambda: StreamingCOCOeval(gt, w.case), lambda ev, b: ev.update(**b),
                  lambda ev: ev.compute(), batches, info)


def _hotcoco_inputs(w: Workload) -> list[tuple]:
    out = []
    for imgs, gts, ds in w.batches:
        if w.case == "bbox":
            arr = np.array([[d["image_id"], *d["bbox"], d["score"], d["category_id"]]
                            for d in ds], dtype=np.float64).reshape(-1, 7)
            out.append((imgs, gts, arr))
        else:
            out.append((imgs, gts, ds))
    return out


def _run_hotcoco(w: Workload, batches: list[tuple], info: dict) -> Any:
    import hotcoco

    def final(se: Any) -> Any:
        ev = se.finalize()
        ev.accumulate()
        ev.summarize()
        return ev

    return _timed(lambda: hotcoco.StreamingEval(w.gt["categories"], iou_type=w.case),
                  lambda se, b: se.update(*b), final, batches, info)


def _tm_inputs(w: Workload) -> list[tuple]:
    import torch
    out = []
    for _, gts, ds in w.batches:
        by_img: dict[int, list] = {}
        tg_by: dict[int, list] = {}
        for d in ds:
            by_img.setdefault(d["image_id"], []).append(d)
        for a in gts:
            tg_by.setdefault(a["image_id"], []).append(a)
        ids = sorted(set(by_img) | set(tg_by))
        preds = [{"boxes": torch.tensor([d["bbox"] for d in by_img.get(i, [])],
                                        dtype=torch.float32).reshape(-1, 4),
                  "scores": torch.tensor([d["score"] for d in by_img.get(i, [])],
                                         dtype=torch.float32),
                  "labels": torch.tensor([d["category_id"] for d in by_img.get(i, [])],
                                         dtype=torch.int64)} for i in ids]
        target = [{"boxes": torch.tensor([a["bbox"] for a in tg_by.get(i, [])],
                                         dtype=torch.float32).reshape(-1, 4),
                   "labels": torch.tensor([a["category_id"] for a in tg_by.get(i, [])],
                                          dtype=torch.int64),
                   "iscrowd": torch.tensor([a["iscrowd"] for a in tg_by.get(i, [])],
                                           dtype=torch.int64),
                   "area": torch.tensor([a["area"] for a in tg_by.get(i, [])],
                                        dtype=torch.float32)} for i in ids]
        out.append((preds, target))
    return out


def _run_tm(backend: str, batches: list[tuple], info: dict) -> Any:
    from torchmetrics.detection.mean_ap import MeanAveragePrecision
    res = _timed(lambda: MeanAveragePrecision(backend=backend, iou_type="bbox",
                                              box_format="xywh"),
                 lambda m, b: m.update(*b), lambda m: m.compute(), batches, info)
    info["map"] = float(res["map"])
    return res


def _reference(w: Workload) -> dict[str, np.ndarray]:
    """pycocotools' COCOeval on the ground truth and the detections in the order fed."""
    import pycocotools.coco
    import pycocotools.cocoeval
    with _quiet():
        gt = pycocotools.coco.COCO()
        gt.dataset = json.loads(json.dumps(w.gt))
        gt.createIndex()
        E = pycocotools.cocoeval.COCOeval(gt, gt.loadRes(json.loads(json.dumps(w.dets))),
                                          w.case)
        E.evaluate()
        E.accumulate()
        E.summarize()
    return ee.results(E)


_REFS: dict[str, dict[str, np.ndarray]] = {}
_WORK: dict[str, Workload] = {}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("engine", ENGINES)
def test_streaming(benchmark: Any, engine: str, case: str, folder: Path) -> None:
    benchmark.group = f"streaming {case} ({IMAGES} images, batches of {BATCH})"
    if engine.startswith("torchmetrics") and case != "bbox":
        pytest.skip("torchmetrics: bbox only here (dense masks for segm; no keypoints)")
    try:
        if engine == "hotcoco":
            import hotcoco  # noqa: F401
        elif engine.startswith("torchmetrics"):
            pytest.importorskip("torchvision", reason="torchmetrics' mAP needs torchvision")
            import torchmetrics.detection.mean_ap  # noqa: F401
            if engine.endswith("faster_coco_eval"):
                import faster_coco_eval  # noqa: F401
    except ImportError as e:
        pytest.skip(f"{engine} is not installed: {e}")
    if case not in _WORK:
        _WORK[case] = Workload(folder, case)
    w = _WORK[case]
    info: dict[str, Any] = {}
    benchmark.extra_info.update({"impl": engine, "images": IMAGES, "batch": BATCH,
                                 "batches": len(w.batches), "case": case})
    rounds = ROUNDS.get(engine, 1)
    if engine == "maskcodecs":
        from maskcodecs.coco import COCO
        with _quiet():  # the ground truth file, as a training script opens it
            gt = COCO(str(folder / CASES[case][0]))
        inputs = _ours_inputs(w)
        out = benchmark.pedantic(_run_ours, args=(w, gt, inputs, info), rounds=rounds,
                                 iterations=1, warmup_rounds=0)
        got = {"stats": out.stats, "precision": out.eval["precision"],
               "recall": out.eval["recall"]}
    elif engine == "hotcoco":
        inputs = _hotcoco_inputs(w)
        try:
            out = benchmark.pedantic(_run_hotcoco, args=(w, inputs, info), rounds=rounds,
                                     iterations=1, warmup_rounds=0)
        except Exception as e:  # noqa: BLE001 - a peer failing is a skip reason
            pytest.skip(f"hotcoco raised {type(e).__name__}: {e}")
        got = ee.results(out)
    else:
        inputs = _tm_inputs(w)
        backend = engine.split("-", 1)[1]
        try:
            benchmark.pedantic(_run_tm, args=(backend, inputs, info), rounds=rounds,
                               iterations=1, warmup_rounds=0)
        except Exception as e:  # noqa: BLE001
            pytest.skip(f"{engine} raised {type(e).__name__}: {e}")
        benchmark.extra_info.update(info)
        return
    benchmark.extra_info.update(info)
    if case not in _REFS:
        _REFS[case] = _reference(w)
    cmp = ee.compare(got, _REFS[case])
    same = ee.exact(cmp)
    benchmark.extra_info["matches_pycocotools"] = same
    benchmark.extra_info["diff"] = ee.describe(cmp)
    if engine == "maskcodecs":
        assert same, f"maskcodecs streaming differs from pycocotools: {ee.describe(cmp)}"

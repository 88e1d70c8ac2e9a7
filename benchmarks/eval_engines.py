"""The COCO evaluators compared by bench_eval.py and peak_rss_eval.py, behind one call.

Every engine is run the way its documentation shows it as a pycocotools drop-in, with its
default options: ``gt = COCO(gt_path)``, ``dt = gt.loadRes(res_path)``,
``ev = COCOeval(gt, dt, iouType)``, ``evaluate()``, ``accumulate()``, ``summarize()``.

* pycocotools: ``pycocotools.coco.COCO``, ``pycocotools.cocoeval.COCOeval`` (1 thread).
* faster_coco_eval: ``faster_coco_eval.COCO``, ``faster_coco_eval.COCOeval_faster``
  (evaluateImg and accumulate in C++; segm IoU in a thread pool).
* hotcoco: ``hotcoco.COCO``, ``hotcoco.COCOeval`` (Rust, rayon: all cores).
* ultrafast_pycocotools: ``ultrafast_pycocotools.COCO``, ``ultrafast_pycocotools.COCOeval``
  (Rust, rayon: all cores; ``evalImgs`` is not built unless ``store_eval_imgs=True``).
* maskcodecs: ``maskcodecs.coco.COCO``, ``maskcodecs.cocoeval.COCOeval``.

Not collected by pytest (the name does not start with ``bench_``).
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ENGINES = ("pycocotools", "faster_coco_eval", "hotcoco", "ultrafast_pycocotools", "maskcodecs")
REF = "pycocotools"
OURS = "maskcodecs"
DISTS = {"pycocotools": "pycocotools", "faster_coco_eval": "faster-coco-eval",
         "hotcoco": "hotcoco", "ultrafast_pycocotools": "ultrafast-pycocotools",
         "maskcodecs": "maskcodecs"}
API = {
    "pycocotools": "pycocotools.coco.COCO + pycocotools.cocoeval.COCOeval",
    "faster_coco_eval": "faster_coco_eval.COCO + faster_coco_eval.COCOeval_faster",
    "hotcoco": "hotcoco.COCO + hotcoco.COCOeval",
    "ultrafast_pycocotools": "ultrafast_pycocotools.COCO + ultrafast_pycocotools.COCOeval",
    "maskcodecs": "maskcodecs.coco.COCO + maskcodecs.cocoeval.COCOeval",
}

#: case -> (ground-truth file, results file, iouType)
CASES = {
    "bbox": ("instances_gt.json", "dets_bbox.json", "bbox"),
    "segm": ("instances_gt.json", "dets_segm.json", "segm"),
    "keypoints": ("person_keypoints_gt.json", "dets_keypoints.json", "keypoints"),
    "bbox_x10": ("instances_gt.json", "dets_bbox_x10.json", "bbox"),
}
O365_CASE = ("o365_gt.json", "o365_dets_bbox.json", "bbox")

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "eval_workload"
SCRIPTS = HERE.parent / "scripts"


class EngineUnavailable(Exception):
    """The engine is not installed (or lacks the COCO/COCOeval classes yet)."""


def load(engine: str) -> tuple[Any, Any]:
    """(COCO class, COCOeval class) of `engine`; EngineUnavailable if it cannot be imported."""
    try:
        if engine == "pycocotools":
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval
        elif engine == "faster_coco_eval":
            from faster_coco_eval import COCO
            from faster_coco_eval import COCOeval_faster as COCOeval
        elif engine == "hotcoco":
            from hotcoco import COCO, COCOeval
        elif engine == "ultrafast_pycocotools":
            from ultrafast_pycocotools import COCO, COCOeval
        elif engine == "maskcodecs":
            from maskcodecs.coco import COCO  # type: ignore[attr-defined]
            from maskcodecs.cocoeval import COCOeval  # type: ignore[import-not-found]
        else:
            raise EngineUnavailable(f"unknown engine {engine!r}")
    except ImportError as e:
        raise EngineUnavailable(f"{engine} is not available ({type(e).__name__}: {e})") from e
    return COCO, COCOeval


def version(engine: str) -> str:
    try:
        return metadata.version(DISTS[engine])
    except metadata.PackageNotFoundError:
        return "not installed"


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence stdout, both Python's ``sys.stdout`` and file descriptor 1 (native prints)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        with open(os.devnull, "w", encoding="utf-8") as sink, \
                contextlib.redirect_stdout(sink), warnings.catch_warnings():
            # a peer's deprecation warning is not the benchmark's business (pytest is
            # configured to turn warnings into errors)
            warnings.simplefilter("ignore")
            yield
            sys.stdout.flush()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def run(engine: str, gt_path: str | os.PathLike[str], res_path: str | os.PathLike[str],
        iou_type: str, classes: tuple[Any, Any] | None = None) -> Any:
    """Evaluate end to end (load both files, evaluate, accumulate, summarize), stdout
    silenced; return the COCOeval object."""
    COCO, COCOeval = classes if classes is not None else load(engine)
    with quiet():
        gt = COCO(str(gt_path))
        dt = gt.loadRes(str(res_path))
        ev = COCOeval(gt, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def results(ev: Any) -> dict[str, np.ndarray]:
    """``stats``, ``precision``, ``recall`` and ``scores`` of an evaluated COCOeval, as arrays."""
    e = ev.eval
    return {"stats": np.asarray(ev.stats, dtype=np.float64),
            "precision": np.asarray(e["precision"]), "recall": np.asarray(e["recall"]),
            "scores": np.asarray(e["scores"])}


def compare(got: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per array: bit-equal or not, and the largest absolute difference."""
    out: dict[str, Any] = {}
    for k in ("stats", "precision", "recall", "scores"):
        a, b = got.get(k), ref.get(k)
        if a is None or b is None:
            continue
        if a.shape != b.shape:
            out[k] = {"equal": False, "shape": [list(a.shape), list(b.shape)]}
            continue
        d = np.abs(a.astype(np.float64) - b.astype(np.float64))
        out[k] = {"equal": bool(np.array_equal(a, b)), "max_abs": float(d.max(initial=0.0)),
                  "n_diff": int(np.count_nonzero(a != b))}
    return out


def exact(cmp: dict[str, Any], keys: tuple[str, ...] = ("stats", "precision", "recall")) -> bool:
    return all(cmp.get(k, {}).get("equal", False) for k in keys)


def describe(cmp: dict[str, Any]) -> str:
    """One line: which arrays differ from pycocotools' and by how much."""
    parts = []
    for k, v in cmp.items():
        if v.get("equal"):
            continue
        if "shape" in v:
            parts.append(f"{k} shape {v['shape'][0]} vs {v['shape'][1]}")
        else:
            parts.append(f"{k}: {v['n_diff']} values differ, max |diff| {v['max_abs']:.3g}")
    return "; ".join(parts) or "bit-equal"


def workload(images: int, seed: int = 0, *, objects365: bool = False) -> Path:
    """The cached workload folder, generated by scripts/make_eval_workload.py if needed."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    import make_eval_workload as mew

    name = f"{'objects365-' if objects365 else ''}n{images}-seed{seed}"
    return mew.ensure(CACHE / name, images, seed, objects365=objects365)


def reference(folder: Path, case: str, gt: str, res: str, iou_type: str,
              *, ev: Any = None) -> dict[str, np.ndarray]:
    """pycocotools' results on `case`, cached as an .npz in the workload folder. When absent
    they are taken from `ev` (a pycocotools COCOeval just run on these files) if given, else
    computed (untimed)."""
    path = folder / f"ref-pycocotools-{version(REF)}-{case}.npz"
    if path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    r = results(ev if ev is not None else run(REF, folder / gt, folder / res, iou_type))
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **r)
    os.replace(tmp, path)
    return r


def _peak_rss_bytes() -> int:
    """Peak resident set size of this process (VmHWM), or ru_maxrss where /proc is absent."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def _rss_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0

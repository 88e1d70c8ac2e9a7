"""Shared harness for the COCO / COCOeval differential tests (pycocotools 2.0.11 vs maskcodecs).

* :func:`ref_impl` / :func:`ours_impl` give the two implementations (``COCO``, ``COCOeval``,
  ``Params``, ``mask``). Setting ``MASKCODECS_TEST_OURS=pycocotools`` makes the "ours" side
  pycocotools too: every differential test must then pass, which checks the harness itself.
* :func:`build_case` turns a seed and a few knobs into a random small evaluation case (a ground
  truth dataset dict, detections, parameter edits); :data:`case_knobs` draws the knobs.
* :func:`run_eval` runs one implementation on a DEEP COPY of a case, phase by phase, recording
  printed output, warnings, the exception (if any) and the evaluator's state;
  :func:`compare_runs` lists every difference between two runs.

Deliberate deviations of maskcodecs from pycocotools (see :data:`DEVIATIONS`): the tests named
there assert pycocotools' behaviour on the reference side and maskcodecs' own behaviour on ours.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import pickle
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from hypothesis import strategies as st

# ---------------------------------------------------------------------------------------------
# the two implementations
# ---------------------------------------------------------------------------------------------

SELF_CHECK = os.environ.get("MASKCODECS_TEST_OURS", "") == "pycocotools"
"""True while the harness is being checked against itself (ours = pycocotools)."""

EXAMPLES = int(os.environ.get("MASKCODECS_HYPOTHESIS_EVAL_EXAMPLES", "25"))
"""Base number of Hypothesis examples per differential test (CI default kept small)."""


@dataclass(frozen=True)
class Impl:
    name: str
    COCO: type
    COCOeval: type
    Params: type
    mask: ModuleType


def ref_impl() -> Impl:
    import pycocotools.coco as pc
    import pycocotools.cocoeval as pe
    import pycocotools.mask as pm

    # another test may have routed pycocotools through maskcodecs (patch_pycocotools) and
    # forgotten to undo it: the reference must be pycocotools' own C code.
    for mod in (pc, pe):
        assert mod.maskUtils.__name__ == "pycocotools.mask", (
            f"{mod.__name__}.maskUtils is {mod.maskUtils.__name__}: the reference is patched")
    assert pc.COCO.__module__ == "pycocotools.coco", "pycocotools.coco is not pycocotools'"
    return Impl("pycocotools", pc.COCO, pe.COCOeval, pe.Params, pm)


def ours_impl() -> Impl:
    if SELF_CHECK:
        r = ref_impl()
        return Impl("ours=pycocotools", r.COCO, r.COCOeval, r.Params, r.mask)
    from maskcodecs import coco as mc
    from maskcodecs import cocoeval as me
    from maskcodecs import mask as mm

    return Impl("maskcodecs", mc.COCO, me.COCOeval, me.Params, mm)


DEVIATIONS: dict[str, str] = {
    "no-mutation": "evaluate() leaves the caller's annotation dicts alone: no ignore / _ignore "
                   "written, segm segmentation not replaced by its RLE (pycocotools writes all "
                   "three, E78); loadRes still completes result dicts in place like pycocotools "
                   "(test_e78_evaluation_writes_into_the_annotation_dicts, "
                   "test_annotation_dicts_mutated_like_pycocotools_random)",
    "bbox-too-short": "a result bbox of 3 numbers: pycocotools IndexError in loadRes, ours a "
                      "ValueError (test_malformed_bbox_results)",
    "keypoints-Kx3": "keypoints as a (K, 3) array (gt or dt) are read as the (x, y, v) rows: "
                     "the same results as the flat list; pycocotools slices rows (other "
                     "area/bbox, then IndexError or other numbers) (test_keypoints_as_arrays)",
    "rasterise-needed-cells": "segm rasterises only (image, category) cells holding both GT and "
                              "detections: a GT whose image is not in images (reached through a "
                              "duplicate id) makes pycocotools raise KeyError, ours evaluates "
                              "(test_real_file[encord .../coco_datastructure_fixture.json-segm])",
    "numpy-1d-results": "loadRes(1-D array): pycocotools IndexError, ours COCOFormatError "
                        "(an AssertionError and a ValueError) (test_load_res_numpy_array)",
    "annToRLE-odd": "annToRLE/annToMask of segmentation [] raises a MaskCodecError (pycocotools "
                    "IndexError); [[x, y, w, h]] is one polygon for ours (pycocotools takes it "
                    "for a box and raises TypeError) (test_ann_to_rle_odd_inputs)",
}
"""Deliberate deviations of maskcodecs from pycocotools 2.0.11 and the tests asserting them."""


def ours_only(reason: str = "feature of maskcodecs only") -> None:
    """Skip an ours-only test while the harness runs in self-check mode."""
    import pytest

    if SELF_CHECK:
        pytest.skip(f"{reason} (MASKCODECS_TEST_OURS=pycocotools)")


# ---------------------------------------------------------------------------------------------
# printed output and exceptions
# ---------------------------------------------------------------------------------------------

_TIMING = re.compile(r"\(t=\d+\.\d\ds\)")


def mask_timing(text: str) -> str:
    return _TIMING.sub("(t=X.XXs)", text)


@contextlib.contextmanager
def captured():
    """Capture stdout (as a list the caller reads after the block) and record warnings."""
    buf = io.StringIO()
    out: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(buf):
            try:
                yield out
            finally:
                out["text"] = buf.getvalue()
                out["warnings"] = [(x.category.__name__, str(x.message)) for x in w]


def call(fn: Callable[[], Any]) -> tuple[Any, BaseException | None, str, list]:
    """Run fn capturing stdout and warnings: (result, exception or None, text, warnings)."""
    res = exc = None
    with captured() as out:
        try:
            res = fn()
        except Exception as e:  # noqa: BLE001 - the outcome is what is compared
            exc = e
    return res, exc, out["text"], out["warnings"]


def same_exception(ref: BaseException, ours: BaseException) -> str | None:
    """None when ours is an acceptable copy of ref's exception, else a description."""
    if not isinstance(ours, type(ref)):
        return f"exception type: ref {type(ref).__name__}({ref}) ours {type(ours).__name__}({ours})"
    # pycocotools' own assertion messages are part of its interface (an empty one is not)
    if type(ref) is AssertionError and str(ref) and str(ref) != str(ours):
        return f"exception message: ref {str(ref)!r} ours {str(ours)!r}"
    return None


# ---------------------------------------------------------------------------------------------
# deep comparison (type-strict, numpy-aware)
# ---------------------------------------------------------------------------------------------

class Differ:
    def __init__(self, limit: int = 40) -> None:
        self.msgs: list[str] = []
        self.limit = limit

    def add(self, path: str, msg: str) -> None:
        if len(self.msgs) < self.limit:
            self.msgs.append(f"{path}: {msg}"[:600])

    def __bool__(self) -> bool:
        return bool(self.msgs)

    def report(self) -> str:
        return "\n".join(self.msgs)


def _r(x: Any) -> str:
    s = repr(x)
    return s if len(s) < 200 else s[:200] + "..."


def same_array(a: Any, b: Any) -> bool:
    return (isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def deep_compare(ref: Any, ours: Any, path: str, d: Differ, *, types: bool = True) -> None:
    if isinstance(ref, np.ndarray):
        if not isinstance(ours, np.ndarray):
            d.add(path, f"ref ndarray{ref.shape} {ref.dtype}, "
                        f"ours {type(ours).__name__} {_r(ours)}")
        elif ref.shape != ours.shape or ref.dtype != ours.dtype:
            d.add(path, f"shape/dtype: ref {ref.shape} {ref.dtype}, ours {ours.shape} {ours.dtype}")
        elif not np.array_equal(ref, ours, equal_nan=ref.dtype.kind in "fc"):
            bad = np.argwhere(~((ref == ours) | (np.isnan(ref) & np.isnan(ours))
                                if ref.dtype.kind in "fc" else ref == ours))
            first = tuple(int(i) for i in bad[0]) if len(bad) else ()
            d.add(path, f"values differ at {len(bad)} positions, first {first}: "
                        f"ref {ref[first]!r} ours {ours[first]!r}")
        return
    if isinstance(ref, Mapping):
        if not isinstance(ours, Mapping):
            d.add(path, f"ref {type(ref).__name__}, ours {type(ours).__name__} {_r(ours)}")
            return
        rk, ok = set(ref.keys()), set(ours.keys())
        if rk != ok:
            d.add(path, f"keys: only in ref {sorted(map(repr, rk - ok))}, "
                        f"only in ours {sorted(map(repr, ok - rk))}")
        for k in ref:
            if k in ours:
                deep_compare(ref[k], ours[k], f"{path}[{k!r}]", d, types=types)
        return
    if isinstance(ref, (list, tuple)):
        if types and type(ours) is not type(ref):
            d.add(path, f"type: ref {type(ref).__name__}, ours {type(ours).__name__} {_r(ours)}")
            if not isinstance(ours, (list, tuple)):
                return
        if not isinstance(ours, (list, tuple)) or len(ours) != len(ref):
            d.add(path, f"ref {_r(ref)} (len {len(ref)}), ours {_r(ours)}")
            return
        for i, (a, b) in enumerate(zip(ref, ours)):
            deep_compare(a, b, f"{path}[{i}]", d, types=types)
        return
    if types and type(ours) is not type(ref):
        d.add(path, f"type: ref {type(ref).__name__} {ref!r}, "
                    f"ours {type(ours).__name__} {_r(ours)}")
        return
    if isinstance(ref, (float, np.floating)) and isinstance(ours, (float, np.floating)):
        if not (ref == ours or (math.isnan(ref) and math.isnan(ours))):
            d.add(path, f"ref {ref!r}, ours {ours!r}")
        return
    try:
        eq = bool(ref == ours)
    except Exception:  # noqa: BLE001
        eq = False
    if not eq:
        d.add(path, f"ref {_r(ref)}, ours {_r(ours)}")


PARAM_ATTRS = ("imgIds", "catIds", "iouThrs", "recThrs", "maxDets", "areaRng", "areaRngLbl",
               "useCats", "iouType", "useSegm")
_MISSING = "<attribute missing>"


def params_snapshot(p: Any) -> dict:
    attrs = PARAM_ATTRS + (("kpt_oks_sigmas",) if getattr(p, "iouType", None) == "keypoints"
                           else ())
    return {a: copy.deepcopy(getattr(p, a, _MISSING)) for a in attrs}


def index_snapshot(coco: Any) -> dict:
    """The COCO index in comparable form (annotation objects by id, lists by id)."""
    return {
        "anns": sorted(coco.anns, key=repr),
        "imgs": sorted(coco.imgs, key=repr),
        "cats": sorted(coco.cats, key=repr),
        "imgToAnns": {k: [a["id"] for a in v] for k, v in coco.imgToAnns.items()},
        "catToImgs": {k: list(v) for k, v in coco.catToImgs.items()},
    }


# ---------------------------------------------------------------------------------------------
# running one implementation on a case
# ---------------------------------------------------------------------------------------------

PHASES = ("gt", "loadRes", "init", "params", "evaluate", "accumulate", "summarize",
          "evaluate2", "accumulate2", "summarize2")


@dataclass
class Run:
    impl: str
    out: dict[str, str] = field(default_factory=dict)
    warns: dict[str, list] = field(default_factory=dict)
    exc: tuple[str, BaseException] | None = None
    done: list[str] = field(default_factory=list)
    snaps: dict[str, Any] = field(default_factory=dict)
    E: Any = None
    gt: Any = None
    dt: Any = None


class _Stop(Exception):
    pass


def _step(run: Run, phase: str, fn: Callable[[], Any]) -> Any:
    res, exc, text, w = call(fn)
    run.out[phase] = text
    run.warns[phase] = w
    if exc is not None:
        run.exc = (phase, exc)
        raise _Stop
    run.done.append(phase)
    return res


def _read(run: Run, key: str, E: Any) -> None:
    """Snapshot evalImgs and ious (which may be built when read); a failure to read is recorded
    (compared with the other run) without stopping the pipeline."""
    res, exc, _, _ = call(lambda: copy.deepcopy({"evalImgs": E.evalImgs, "ious": E.ious}))
    if exc is not None:
        run.snaps[key + "_error"] = f"{type(exc).__name__}: {exc}"
    else:
        run.snaps[key] = res


def make_coco(impl: Impl, dataset: dict, mode: str = "dataset") -> Any:
    """Ground-truth COCO from a dataset dict: assigned + createIndex(), or read from a file."""
    if mode == "dataset":
        c = impl.COCO()
        c.dataset = dataset
        c.createIndex()
        return c
    tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8")
    try:
        with tmp:
            json.dump(dataset, tmp)
        return impl.COCO(tmp.name if mode == "file" else Path(tmp.name))
    finally:
        os.unlink(tmp.name)


def make_dt(impl: Impl, gt: Any, case: dict) -> Any:
    mode = case.get("dt_mode", "loadRes")
    dts = case["dts"]
    if mode == "loadRes":
        return gt.loadRes(dts)
    if mode == "numpy":
        return gt.loadRes(np.asarray(dts, dtype=np.float64) if not isinstance(dts, np.ndarray)
                          else dts)
    if mode == "file":
        tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8")
        try:
            with tmp:
                json.dump(dts, tmp)
            return gt.loadRes(tmp.name)
        finally:
            os.unlink(tmp.name)
    if mode == "dataset":  # the torchmetrics way: a results dataset assigned + createIndex()
        c = impl.COCO()
        c.dataset = {"images": list(gt.dataset.get("images", [])),
                     "categories": copy.deepcopy(gt.dataset.get("categories", [])),
                     "annotations": dts}
        c.createIndex()
        return c
    raise ValueError(mode)


def apply_edits(p: Any, edits: Mapping[str, Any]) -> None:
    for k, v in edits.items():
        setattr(p, k, copy.deepcopy(v))


def run_eval(impl: Impl, case: dict, *, gt: Any = None, dt: Any = None) -> Run:
    """Run the whole pipeline of one implementation on a deep copy of ``case``.

    case keys: gt (dataset dict), dts (list / ndarray), iouType, dt_mode, gt_mode, params (edits
    applied after construction), acc_p (edits of a copy of params passed to accumulate), again
    (edits applied before a second evaluate/accumulate/summarize on the same object), kw (build
    COCOeval with keywords). ``gt``/``dt`` may be given ready-made COCO objects instead.
    """
    run = Run(impl.name)
    c = copy.deepcopy(case)
    try:
        if gt is None:
            gt = _step(run, "gt", lambda: make_coco(impl, c["gt"], c.get("gt_mode", "dataset")))
        run.gt = gt
        # lazy: nothing reads the annotation dicts before evaluation, so that ours evaluates
        # from the columns of the files it read (maskcodecs._coco_scan)
        lazy = c.get("lazy")
        if not lazy:
            run.snaps["gt_loaded"] = copy.deepcopy(gt.dataset)
        if dt is None:
            dt = _step(run, "loadRes", lambda: make_dt(impl, gt, c))
        run.dt = dt
        if not lazy:
            run.snaps["dt_loaded"] = copy.deepcopy(dt.dataset)
            run.snaps["dt_index"] = index_snapshot(dt)
            run.snaps["gt_index"] = index_snapshot(gt)
        if c.get("kw"):
            E = _step(run, "init", lambda: impl.COCOeval(cocoGt=gt, cocoDt=dt,
                                                         iouType=c["iouType"]))
        else:
            E = _step(run, "init", lambda: impl.COCOeval(gt, dt, c["iouType"]))
        run.E = E
        run.snaps["params_init"] = params_snapshot(E.params)
        _step(run, "params", lambda: apply_edits(E.params, c.get("params", {})))
        _step(run, "evaluate", E.evaluate)
        run.snaps["params_evaluated"] = params_snapshot(E.params)
        _read(run, "evaluated", E)
        p = None
        if c.get("acc_p"):
            p = copy.deepcopy(E.params)
            apply_edits(p, c["acc_p"])
        _step(run, "accumulate", lambda: E.accumulate(p))
        run.snaps["eval"] = eval_snapshot(E)
        if p is not None:
            run.snaps["acc_p"] = params_snapshot(p)
        _step(run, "summarize", E.summarize)
        run.snaps["stats"] = copy.deepcopy(E.stats)
        if c.get("again") is not None:
            apply_edits(E.params, c["again"])
            _step(run, "evaluate2", E.evaluate)
            _read(run, "evaluated2", E)
            _step(run, "accumulate2", E.accumulate)
            run.snaps["eval2"] = eval_snapshot(E)
            _step(run, "summarize2", E.summarize)
            run.snaps["stats2"] = copy.deepcopy(E.stats)
    except _Stop:
        pass
    return run


def eval_snapshot(E: Any) -> dict:
    """E.eval after accumulate, in comparable form (date checked for format only)."""
    ev = dict(E.eval)
    date = ev.pop("date", None)
    p = ev.pop("params", _MISSING)
    ev["date_ok"] = isinstance(date, str) and bool(_DATE.match(date))
    ev["params_is_E_params"] = p is E.params
    ev["params"] = params_snapshot(p) if p is not _MISSING else _MISSING
    return copy.deepcopy(ev)


_DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def compare_runs(ref: Run, ours: Run, *, mutations: bool = False) -> Differ:
    """Every difference between two runs. ``mutations``: also check the annotation dicts as
    evaluation leaves them (:func:`mutation_differences`), checked on its own."""
    d = Differ()
    # printed output, phase by phase (summarize lines byte for byte, others with timing masked)
    for phase in PHASES:
        if phase not in ref.out and phase not in ours.out:
            continue
        a, b = ref.out.get(phase, "<not run>"), ours.out.get(phase, "<not run>")
        if not phase.startswith("summarize"):
            a, b = mask_timing(a), mask_timing(b)
        if a != b:
            al, bl = a.splitlines(), b.splitlines()
            i = next((i for i, (x, y) in enumerate(zip(al, bl)) if x != y), min(len(al), len(bl)))
            d.add(f"stdout[{phase}]", f"line {i}: ref {al[i:i + 2]!r} ours {bl[i:i + 2]!r}")
        extra = [w for w in ours.warns.get(phase, [])
                 if w[0] not in {x[0] for x in ref.warns.get(phase, [])}]
        if extra:
            d.add(f"warnings[{phase}]", f"ours warned {extra[:3]}, ref did not")
    # exceptions
    if ref.exc or ours.exc:
        if ref.exc and not ours.exc:
            d.add("exception", f"ref raised in {ref.exc[0]}: {type(ref.exc[1]).__name__}"
                               f"({ref.exc[1]}); ours did not")
        elif ours.exc and not ref.exc:
            d.add("exception", f"ours raised in {ours.exc[0]}: {type(ours.exc[1]).__name__}"
                               f"({ours.exc[1]}); ref did not")
        else:
            if ref.exc[0] != ours.exc[0]:
                d.add("exception", f"phase: ref {ref.exc[0]} ours {ours.exc[0]}")
            msg = same_exception(ref.exc[1], ours.exc[1])
            if msg:
                d.add(f"exception[{ref.exc[0]}]", msg)
    # state, for every phase both completed
    for key in ("dt_index", "gt_index", "params_init", "params_evaluated", "acc_p", "eval",
                "stats", "eval2", "stats2", "dt_loaded"):
        if key in ref.snaps and key in ours.snaps:
            deep_compare(ref.snaps[key], ours.snaps[key], key, d)
    for key in ("evaluated", "evaluated2"):
        for a, b in ((ref, ours), (ours, ref)):
            if key + "_error" in a.snaps and key + "_error" not in b.snaps:
                d.add(f"reading {key}",
                      f"{a.impl} raised {a.snaps[key + '_error']}; {b.impl} did not")
        if key in ref.snaps and key in ours.snaps:
            compare_evaluated(ref.snaps[key], ours.snaps[key], key, d)
    if mutations:
        mutation_differences(ref, ours, d)
    return d


def mutation_differences(ref: Run, ours: Run, d: Differ) -> None:
    """Deviation "no-mutation" (E78).

    Reference side: pycocotools' evaluate wrote ``ignore`` and ``_ignore`` into every GT dict it
    selected (``E._gts``) and, for segm, replaced the segmentation of every selected GT and
    detection (``E._gts``, ``E._dts``) by its RLE - the caller's own dicts.
    Ours: every annotation dict (gt and dt datasets) is still equal to its state before
    evaluation (after ``COCO()`` / ``loadRes``), whatever evaluate/accumulate/summarize did or
    raised; and that state equals pycocotools'. In self-check mode (ours = pycocotools) ours must
    instead mutate exactly like the reference.
    """
    both_done = ref.exc is None and ours.exc is None and ref.gt is not None and ours.gt is not None
    if ref.exc is None and ref.E is not None:
        E = ref.E
        gt_objs = {id(a) for a in ref.gt.dataset.get("annotations", [])}
        dt_objs = {id(a) for a in ref.dt.dataset.get("annotations", [])}
        p = E.params
        segm = p.iouType == "segm"
        # _ignore is written by evaluateImg, which visits the cells of params' imgIds x catIds
        # (also with useCats=0) for each area range; _prepare's selection may hold more
        visited = (set(p.imgIds), set(p.catIds)) if len(p.areaRng) else (set(), set())
        for name, sel, objs in (("_gts", E._gts, gt_objs), ("_dts", E._dts, dt_objs)):
            for cell, anns in sel.items():
                for a in anns:
                    where = f"ref.E.{name}[{cell!r}] ann {a.get('id')!r}"
                    if id(a) not in objs:
                        d.add(where, "pycocotools evaluated a dict not in its dataset")
                    if name == "_gts" and "ignore" not in a:
                        d.add(where, f"pycocotools did not write ignore: {_r(a)}")
                    if (name == "_gts" and cell[0] in visited[0] and cell[1] in visited[1]
                            and "_ignore" not in a):
                        d.add(where, f"pycocotools did not write _ignore: {_r(a)}")
                    if segm and not isinstance(a.get("segmentation"), dict):
                        d.add(where, "pycocotools did not replace the segmentation by its RLE")
    if SELF_CHECK:
        if both_done:
            deep_compare(ref.gt.dataset.get("annotations"), ours.gt.dataset.get("annotations"),
                         "gt.dataset['annotations'](after)", d)
            deep_compare(ref.dt.dataset.get("annotations"), ours.dt.dataset.get("annotations"),
                         "dt.dataset['annotations'](after)", d)
        return
    if "gt_loaded" in ref.snaps and "gt_loaded" in ours.snaps:
        deep_compare(ref.snaps["gt_loaded"], ours.snaps["gt_loaded"], "gt_loaded", d)
    if ours.gt is not None and "gt_loaded" in ours.snaps:
        deep_compare(ours.snaps["gt_loaded"].get("annotations"),
                     ours.gt.dataset.get("annotations"),
                     "ours gt.dataset['annotations'] (before -> after evaluation)", d)
    if ours.dt is not None and "dt_loaded" in ours.snaps:
        deep_compare(ours.snaps["dt_loaded"].get("annotations"),
                     ours.dt.dataset.get("annotations"),
                     "ours dt.dataset['annotations'] (before -> after evaluation)", d)


def compare_evaluated(ref: dict, ours: dict, path: str, d: Differ) -> None:
    re_, oe = ref["evalImgs"], ours["evalImgs"]
    if not isinstance(oe, list):
        d.add(f"{path}.evalImgs", f"ours is {type(oe).__name__}, ref list")
    oe = list(oe) if oe is not None else []
    if len(re_) != len(oe):
        d.add(f"{path}.evalImgs", f"len ref {len(re_)} ours {len(oe)}")
    else:
        for i, (a, b) in enumerate(zip(re_, oe)):
            if a is None or b is None:
                if not (a is None and b is None):
                    d.add(f"{path}.evalImgs[{i}]", f"ref {_r(a)} ours {_r(b)}")
                continue
            deep_compare(a, b, f"{path}.evalImgs[{i}]", d)
    ri, oi = ref["ious"], ours["ious"]
    if set(ri) != set(oi):
        d.add(f"{path}.ious", f"keys only in ref {sorted(map(str, set(ri) - set(oi)))[:5]}, "
                              f"only in ours {sorted(map(str, set(oi) - set(ri)))[:5]}")
    for k in ri:
        if k in oi:
            deep_compare(ri[k], oi[k], f"{path}.ious[{k}]", d)


def differential(case: dict, *, ref: Impl | None = None, ours: Impl | None = None,
                 mutations: bool = False) -> tuple[Run, Run]:
    """Run both implementations on deep copies of case and assert no difference."""
    r = run_eval(ref or ref_impl(), case)
    o = run_eval(ours or ours_impl(), case)
    d = compare_runs(r, o, mutations=mutations)
    assert not d, f"{d.report()}\n--- case ---\n{case_repr(case)}"
    return r, o


def case_repr(case: Any, limit: int = 6000) -> str:
    def default(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return {"ndarray": x.tolist(), "dtype": str(x.dtype)}
        if isinstance(x, (np.integer, np.floating)):
            return {type(x).__name__: x.item()}
        if isinstance(x, bytes):
            return {"bytes": x.decode("latin-1")}
        return repr(x)
    s = json.dumps(case, default=default, sort_keys=False)
    return s if len(s) <= limit else s[:limit] + f"... ({len(s)} chars)"


def roundtrip_pickle(x: Any) -> Any:
    return pickle.loads(pickle.dumps(x))


# ---------------------------------------------------------------------------------------------
# random cases
# ---------------------------------------------------------------------------------------------

BOUNDARY_AREAS = (1024, 9216, 1023, 1025, 9215, 9217, 1024.0, 9216.0, 0, 32 * 32 + 0.5)
TIED_SCORES = (0.1, 0.5, 0.5, 0.7, 0.9, 1.0, 0.0)

DET_MAXDETS = (None, [100, 1, 10], [1, 10, 50], [1, 2, 3], [1, 10, 1000], [2, 5, 10], [1, 10],
               [3, 3, 3])
KP_MAXDETS = (None, [5], [1, 20], [2, 5, 20], [3])
IOU_THRS = (None, "a2", "lin7", "one75", "unsorted", "list2")
REC_THRS = (None, "lin11", "three", "empty", "desc")
DET_AREAS = (None,
             ([[0, 1e10], [0, 2500], [2500, 1e10]], ["all", "small", "large"]),
             ([[0, 1e5 ** 2], [32 ** 2, 96 ** 2]], ["all", "medium"]),
             ([[0, 1e10]], ["all"]),
             ([[0, 1e10], [0, 1024], [1024, 9216], [9216, 1e10]],
              ["all", "small", "medium", "large"]),
             ([[100, 5000], [0, 1e10], [0.0, 1024.0]], ["x", "all", "small"]))
KP_AREAS = (None,
            ([[0, 1e10], [0, 2500], [2500, 1e10]], ["all", "medium", "large"]),
            ([[0, 1e10]], ["all"]))


def _iou_thrs(key: str | None) -> Any:
    return {None: None, "a2": np.array([0.5, 0.75]), "lin7": np.linspace(0.3, 0.9, 7),
            "one75": np.array([0.75]), "unsorted": np.array([0.95, 0.5, 0.75, 0.1]),
            "list2": [0.5, 0.75]}[key]


def _rec_thrs(key: str | None) -> Any:
    return {None: None, "lin11": np.linspace(0.0, 1.0, 11), "three": np.array([0.0, 0.5, 1.0]),
            "empty": np.zeros(0), "desc": np.array([1.0, 0.3, 0.0])}[key]


case_knobs = st.fixed_dictionaries({
    "n_img": st.integers(1, 6),
    "n_cat": st.integers(1, 4),
    "max_gt": st.integers(0, 8),
    "max_dt": st.integers(0, 10),
    "p_crowd": st.sampled_from([0.0, 0.15, 0.5]),
    "p_ignore": st.sampled_from([0.0, 0.0, 0.3]),
    "p_boundary": st.sampled_from([0.0, 0.3]),
    "tie_scores": st.booleans(),
    "p_dup": st.sampled_from([0.0, 0.25]),
    "nan_scores": st.sampled_from([False] * 6 + [True]),
    "gt_id_zero": st.sampled_from([False] * 8 + [True]),
    "float_coords": st.booleans(),
    "gt_seg": st.sampled_from(["poly", "multipoly", "rle_list", "rle_str", "rle_bytes", "mixed"]),
    "dt_seg": st.sampled_from(["rle_str", "rle_bytes", "rle_bbox", "poly_bbox", "bbox_only",
                               "rle_list_bbox", "mixed_bbox", "mixed_rle"]),
    "unknown_dt_cat": st.sampled_from([False, False, True]),
    "nkpt": st.sampled_from([17, 17, 1, 3, 5]),
    "custom_sigmas": st.booleans(),
    "kp_array": st.sampled_from([False] * 5 + [True]),
    "dt_mode": st.sampled_from(["loadRes", "loadRes", "loadRes", "dataset", "file", "numpy"]),
    "files": st.sampled_from([False, False, True]),
    "kw": st.booleans(),
    "maxDets": st.sampled_from([0] * 5 + list(range(1, 8))),
    "iouThrs": st.sampled_from((None,) * 3 + IOU_THRS),
    "recThrs": st.sampled_from(REC_THRS),
    "areaRng": st.sampled_from([0] * 3 + list(range(1, 6))),
    "useCats": st.sampled_from([None, None, 0, 1]),
    "imgIds": st.sampled_from([None, None, "subset", "unknown", "dups", "empty"]),
    "catIds": st.sampled_from([None, None, "subset", "unknown", "dups", "empty"]),
    "acc_p": st.sampled_from([None] * 6 + ["cats", "maxdets", "areas"]),
    "again": st.sampled_from([None] * 6 + ["percat"]),
})


def _num(rng: np.random.Generator, lo: float, hi: float, floats: bool) -> float | int:
    if hi <= lo:
        return lo if not floats else float(lo)
    if floats:
        return float(round(rng.uniform(lo, hi), int(rng.integers(0, 3))))
    return int(rng.integers(int(lo), int(hi) + 1))


def rle_list_counts(m: np.ndarray) -> list[int]:
    """Uncompressed COCO counts (column-major runs, starting with zeros) of a binary mask."""
    flat = np.asarray(m, dtype=np.uint8).ravel(order="F")
    if flat.size == 0:
        return []
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat[0] == 1:
        runs = [0] + runs
    return [int(r) for r in runs]


def _box(rng: np.random.Generator, W: int, H: int, floats: bool) -> list:
    special = rng.random() < 0.3
    if special:
        side = [32, 96, 16, 1, 48][int(rng.integers(0, 5))]
        w, h = side, side if rng.random() < 0.7 else max(1, 1024 // side)
    else:
        w, h = _num(rng, 1, max(1, W * 0.8), floats), _num(rng, 1, max(1, H * 0.8), floats)
    x = _num(rng, 0, max(0, W - w), floats)
    y = _num(rng, 0, max(0, H - h), floats)
    return [x, y, w, h]


def _jitter(rng: np.random.Generator, b: list, floats: bool) -> list:
    if rng.random() < 0.15:
        return list(b)  # exact copy
    dx, dy = (rng.normal(0, max(1.0, b[2] * 0.1)), rng.normal(0, max(1.0, b[3] * 0.1)))
    dw, dh = (rng.normal(0, max(1.0, b[2] * 0.1)), rng.normal(0, max(1.0, b[3] * 0.1)))
    out = [b[0] + dx, b[1] + dy, max(0.5, b[2] + dw), max(0.5, b[3] + dh)]
    return [float(round(v, 2)) for v in out] if floats else [int(round(v)) for v in out]


def _box_mask(b: list, H: int, W: int) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    x0, y0 = max(0, int(math.floor(b[0]))), max(0, int(math.floor(b[1])))
    x1, y1 = min(W, int(math.ceil(b[0] + b[2]))), min(H, int(math.ceil(b[1] + b[3])))
    m[y0:y1, x0:x1] = 1
    return m


def _mask_for(rng: np.random.Generator, b: list, H: int, W: int) -> np.ndarray:
    """A box mask, sometimes with a hole or a second blob (so masks differ from boxes)."""
    m = _box_mask(b, H, W)
    if rng.random() < 0.4:
        hb = [b[0] + b[2] / 4, b[1] + b[3] / 4, b[2] / 2, b[3] / 2]
        m &= 1 - _box_mask(hb, H, W)
    if rng.random() < 0.2:
        m |= _box_mask(_box(rng, W, H, False), H, W)
    return m


def _poly_from_box(rng: np.random.Generator, b: list, floats: bool) -> list:
    x, y, w, h = b
    pts = [x, y, x + w, y, x + w, y + h, x, y + h]
    if rng.random() < 0.4:  # a pentagon-ish jitter
        pts = pts[:4] + [x + w + (w * 0.1), y + h / 2] + pts[4:]
    if floats:
        pts = [float(round(v + rng.uniform(-0.5, 0.5), 2)) for v in pts]
    return [p for p in pts]


def _segmentation(rng: np.random.Generator, kind: str, b: list, H: int, W: int, mask_utils: Any,
                  floats: bool) -> Any:
    if kind == "mixed":
        kind = ["poly", "multipoly", "rle_list", "rle_str", "rle_bytes"][int(rng.integers(0, 5))]
    if kind == "poly":
        return [_poly_from_box(rng, b, floats)]
    if kind == "multipoly":
        parts = [_poly_from_box(rng, b, floats)]
        for _ in range(int(rng.integers(1, 3))):
            parts.append(_poly_from_box(rng, _box(rng, W, H, floats), floats))
        return parts
    m = _mask_for(rng, b, H, W)
    if kind == "rle_list":
        counts = rle_list_counts(m)
        if rng.random() < 0.2 and len(counts) > 2:  # zero-length runs mid-stream
            counts = counts[:2] + [0, 0] + counts[2:]
        return {"size": [H, W], "counts": counts}
    rle = mask_utils.encode(np.asfortranarray(m))
    counts = rle["counts"] if kind == "rle_bytes" else rle["counts"].decode("ascii")
    return {"size": [H, W], "counts": counts}


def _keypoints(rng: np.random.Generator, K: int, b: list, floats: bool, p_vis: float) -> list:
    out: list = []
    for _ in range(K):
        v = int(rng.choice([0, 1, 2], p=[1 - p_vis, p_vis / 2, p_vis / 2]))
        if v == 0 and rng.random() < 0.7:
            out += [0, 0, 0]
            continue
        out += [_num(rng, b[0], b[0] + b[2], floats), _num(rng, b[1], b[1] + b[3], floats), v]
    return out


def _jitter_kps(rng: np.random.Generator, kps: list, b: list, floats: bool) -> list:
    out: list = []
    for j in range(0, len(kps), 3):
        x, y = kps[j], kps[j + 1]
        if x == 0 and y == 0:
            x, y = b[0] + b[2] / 2, b[1] + b[3] / 2
        s = max(1.0, b[2] * 0.05) * (1 + 3 * rng.random())
        x, y = x + rng.normal(0, s), y + rng.normal(0, s)
        out += ([float(round(x, 2)), float(round(y, 2))] if floats
                else [int(round(x)), int(round(y))]) + [int(rng.integers(0, 3))]
    return out


def build_case(seed: int, iou_type: str, k: Mapping[str, Any], mask_utils: Any = None) -> dict:
    """A random evaluation case from a seed and knobs (see :data:`case_knobs`)."""
    if mask_utils is None:
        import pycocotools.mask as mask_utils
    rng = np.random.default_rng(seed)
    fl = k["float_coords"]
    img_ids = [int(i) for i in rng.choice(40, size=k["n_img"], replace=False)]
    images = []
    for i in img_ids:
        W, H = int(rng.integers(8, 129)), int(rng.integers(8, 129))
        images.append({"id": i, "width": W, "height": H, "file_name": f"{i:012d}.jpg"})
    cat_ids = [int(c) for c in rng.choice(np.arange(1, 20), size=k["n_cat"], replace=False)]
    cats = [{"id": c, "name": f"cat{c}", "supercategory": ["thing", "stuff"][c % 2]}
            for c in cat_ids]
    if iou_type == "keypoints":
        for c in cats:
            c["keypoints"] = [f"k{j}" for j in range(k["nkpt"])]
            c["skeleton"] = [[1, min(2, k["nkpt"])]]
    gt_cats = cat_ids if rng.random() < 0.6 else cat_ids[: max(1, len(cat_ids) - 1)]
    K = k["nkpt"]
    ann_ids = [int(a) + 1 for a in rng.permutation(5000)]
    if k["gt_id_zero"]:
        ann_ids[int(rng.integers(0, 5))] = 0
    anns = []
    by_img: dict[int, list] = {i: [] for i in img_ids}
    for img in images:
        W, H = img["width"], img["height"]
        for _ in range(int(rng.integers(0, k["max_gt"] + 1))):
            b = _box(rng, W, H, fl)
            a: dict[str, Any] = {"id": ann_ids[len(anns)], "image_id": img["id"],
                                 "category_id": int(rng.choice(gt_cats)), "bbox": b}
            area = b[2] * b[3]
            if rng.random() < k["p_boundary"]:
                area = BOUNDARY_AREAS[int(rng.integers(0, len(BOUNDARY_AREAS)))]
            a["area"] = area
            a["iscrowd"] = int(rng.random() < k["p_crowd"])
            if rng.random() < k["p_ignore"]:
                a["ignore"] = int(rng.integers(0, 2))
            if iou_type == "segm":
                a["segmentation"] = _segmentation(rng, k["gt_seg"], b, H, W, mask_utils, fl)
            elif iou_type == "bbox" and rng.random() < 0.5:
                a["segmentation"] = [_poly_from_box(rng, b, fl)]
            if iou_type == "keypoints":
                kps = _keypoints(rng, K, b, fl, float(rng.choice([0.0, 0.5, 0.9])))
                a["keypoints"] = kps
                a["num_keypoints"] = sum(1 for j in range(2, len(kps), 3) if kps[j] > 0)
                if rng.random() < 0.1:
                    a["num_keypoints"] = int(rng.integers(0, K + 1))  # inconsistent on purpose
            anns.append(a)
            by_img[img["id"]].append(a)
    gt = {"info": {"description": "random case", "seed": seed}, "images": images,
          "annotations": anns, "categories": cats, "licenses": []}

    # detections
    dts: list = []
    dt_mode = k["dt_mode"]
    if dt_mode == "numpy" and iou_type != "bbox":
        dt_mode = "loadRes"
    seg_mode = k["dt_seg"]
    for img in images:
        W, H = img["width"], img["height"]
        for _ in range(int(rng.integers(0, k["max_dt"] + 1))):
            own = by_img[img["id"]]
            if dts and dts[-1]["image_id"] == img["id"] and rng.random() < k["p_dup"]:
                dts.append(copy.deepcopy(dts[-1]))
                continue
            base = own[int(rng.integers(0, len(own)))] if own and rng.random() < 0.75 else None
            if base is not None and rng.random() < 0.8:
                cat = base["category_id"]
            else:
                cat = int(rng.choice(cat_ids))
            if k["unknown_dt_cat"] and rng.random() < 0.2:
                cat = 99
            b = _jitter(rng, base["bbox"], fl) if base is not None else _box(rng, W, H, fl)
            score = (float(TIED_SCORES[int(rng.integers(0, len(TIED_SCORES)))]) if k["tie_scores"]
                     else float(round(rng.random(), 3)))
            if k["nan_scores"] and rng.random() < 0.25:
                score = float("nan")
            d: dict[str, Any] = {"image_id": img["id"], "category_id": cat, "score": score}
            if iou_type == "bbox":
                d["bbox"] = b
                if rng.random() < 0.1:  # overwritten by loadRes
                    d.update(area=123.0, iscrowd=1, id=77)
            elif iou_type == "segm":
                sm = seg_mode
                if sm == "mixed_bbox":
                    sm = ("rle_bbox", "poly_bbox", "bbox_only",
                          "rle_list_bbox")[int(rng.integers(0, 4))]
                if sm == "mixed_rle":
                    sm = ["rle_str", "rle_bytes"][int(rng.integers(0, 2))]
                m = _mask_for(rng, b, H, W)
                if sm in ("rle_str", "rle_bytes", "rle_bbox"):
                    rle = mask_utils.encode(np.asfortranarray(m))
                    cnt = rle["counts"] if sm == "rle_bytes" else rle["counts"].decode("ascii")
                    d["segmentation"] = {"size": [H, W], "counts": cnt}
                    if sm == "rle_bbox" or (rng.random() < 0.3 and seg_mode == "mixed_rle"):
                        d["bbox"] = b
                elif sm == "poly_bbox":
                    d["segmentation"] = [_poly_from_box(rng, b, fl)]
                    d["bbox"] = b
                elif sm == "rle_list_bbox":
                    d["segmentation"] = {"size": [H, W], "counts": rle_list_counts(m)}
                    d["bbox"] = b
                else:  # bbox_only: loadRes makes the polygon
                    d["bbox"] = b
            else:
                kb = base["bbox"] if base is not None else b
                if base is not None and rng.random() < 0.8:
                    d["keypoints"] = _jitter_kps(rng, base["keypoints"], kb, fl)
                else:
                    d["keypoints"] = _keypoints(rng, K, b, fl, 0.9)
            dts.append(d)
    sizes = {img["id"]: (img["height"], img["width"]) for img in images}
    if iou_type == "segm" and dts:
        # loadRes decides the branch from the first result only: keep the file consistent
        has_bbox = "bbox" in dts[0]
        for d in dts:
            if has_bbox and "bbox" not in d:
                d["bbox"] = mask_utils.toBbox(d["segmentation"]).tolist()
            if not has_bbox and not isinstance(d.get("segmentation"), dict):
                H, W = sizes[d["image_id"]]
                d["segmentation"] = mask_utils.encode(np.asfortranarray(_box_mask(d["bbox"], H, W)))
            if not has_bbox and isinstance(d["segmentation"].get("counts"), list):
                d["segmentation"] = mask_utils.frPyObjects(d["segmentation"],
                                                           *d["segmentation"]["size"])
    if iou_type == "keypoints" and k["kp_array"]:
        for d in dts:
            d["keypoints"] = np.asarray(d["keypoints"], dtype=np.float64)
        if dt_mode == "file":
            dt_mode = "loadRes"
    has_bytes = any(isinstance(d.get("segmentation"), dict)
                    and isinstance(d["segmentation"].get("counts"), bytes) for d in dts)
    if dt_mode == "file" and has_bytes:
        dt_mode = "loadRes"
    if not dts and dt_mode != "dataset":
        dt_mode = "dataset"  # loadRes([]) fails with IndexError (tested on its own)
    if dt_mode == "dataset":
        for i, d in enumerate(dts):
            d["id"] = i + 1
            d["iscrowd"] = 0
            if iou_type == "bbox" or (iou_type == "segm" and "bbox" in d):
                d["area"] = d["bbox"][2] * d["bbox"][3]
            elif iou_type == "segm":
                d["area"] = float(mask_utils.area(d["segmentation"]))
            if iou_type == "segm" and "segmentation" not in d:
                x, y, w, h = d["bbox"]
                d["segmentation"] = [[x, y, x, y + h, x + w, y + h, x + w, y]]
            if iou_type == "keypoints":
                xs, ys = d["keypoints"][0::3], d["keypoints"][1::3]
                x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
                d["area"] = (x1 - x0) * (y1 - y0)
                d["bbox"] = [x0, y0, x1 - x0, y1 - y0]
    if dt_mode == "numpy":
        dts = np.array([[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in dts],
                       dtype=np.float64).reshape(-1, 7)

    # parameter edits, applied after construction
    params: dict[str, Any] = {}
    maxdets = (KP_MAXDETS if iou_type == "keypoints" else DET_MAXDETS)
    md = maxdets[k["maxDets"] % len(maxdets)]
    if md is not None:
        params["maxDets"] = md
    if k["iouThrs"] is not None:
        params["iouThrs"] = _iou_thrs(k["iouThrs"])
    if k["recThrs"] is not None:
        params["recThrs"] = _rec_thrs(k["recThrs"])
    areas = KP_AREAS if iou_type == "keypoints" else DET_AREAS
    ar = areas[k["areaRng"] % len(areas)]
    if ar is not None:
        params["areaRng"], params["areaRngLbl"] = ar
    if k["useCats"] is not None:
        params["useCats"] = k["useCats"]
    ids = sorted(img_ids)
    if k["imgIds"] == "subset":
        params["imgIds"] = sorted(
            rng.choice(ids, size=max(1, len(ids) // 2), replace=False).tolist())
    elif k["imgIds"] == "unknown":
        params["imgIds"] = ids[: max(1, len(ids) - 1)] + [1000]
    elif k["imgIds"] == "dups":
        params["imgIds"] = ids[::-1] + ids[:1]
    elif k["imgIds"] == "empty":
        params["imgIds"] = []
    cs = sorted(cat_ids)
    if k["catIds"] == "subset":
        params["catIds"] = cs[: max(1, len(cs) - 1)]
    elif k["catIds"] == "unknown":
        params["catIds"] = cs + [55]
    elif k["catIds"] == "dups":
        params["catIds"] = cs[::-1] + cs[:1]
    elif k["catIds"] == "empty":
        params["catIds"] = []
    if iou_type == "keypoints" and (K != 17 or k["custom_sigmas"]):
        params["kpt_oks_sigmas"] = np.round(rng.uniform(0.02, 0.12, size=K), 3)
    acc_p = None
    if k["acc_p"] == "cats":
        acc_p = {"catIds": cs[1:] + [77]}
    elif k["acc_p"] == "maxdets":
        acc_p = {"maxDets": (md or ([20] if iou_type == "keypoints" else [1, 10, 100]))[-1:]}
    elif k["acc_p"] == "areas":
        acc_p = {"areaRng": [[0, 1e10]], "areaRngLbl": ["all"]}
    again = None
    if k["again"] == "percat":
        again = {"catIds": [cs[0]]}
    case = {"gt": gt, "dts": dts, "iouType": iou_type, "dt_mode": dt_mode, "params": params,
            "acc_p": acc_p, "again": again, "kw": k["kw"]}
    gt_bytes = any(isinstance(a.get("segmentation"), dict)
                   and isinstance(a["segmentation"].get("counts"), bytes) for a in anns)
    if k.get("files") and not gt_bytes:  # read from JSON files, nothing read before evaluation
        case.update(gt_mode="file", lazy=True)
        if dt_mode == "loadRes" and not has_bytes and not (iou_type == "keypoints"
                                                           and k["kp_array"]):
            case["dt_mode"] = "file"
    return case


# ---------------------------------------------------------------------------------------------
# the calls torchmetrics' MeanAveragePrecision(backend="pycocotools") makes, replayed
# ---------------------------------------------------------------------------------------------

def detection_batch(seed: int, n_images: int = 3, size: tuple[int, int] = (48, 64)) -> dict:
    """Random predictions/targets in the shape torchmetrics keeps them (xywh boxes as Python
    floats, bool masks, int labels, float scores, int iscrowd, float area or 0)."""
    rng = np.random.default_rng(seed)
    H, W = size
    preds, targets = [], []
    for _ in range(n_images):
        t: dict[str, list] = {"boxes": [], "masks": [], "labels": [], "iscrowd": [], "area": []}
        for _ in range(int(rng.integers(0, 5))):
            x, y = float(rng.integers(0, W - 8)), float(rng.integers(0, H - 8))
            w, h = float(rng.integers(2, W - x + 1)), float(rng.integers(2, H - y + 1))
            m = np.zeros((H, W), bool)
            m[int(y):int(y + h), int(x):int(x + w)] = True
            t["boxes"].append([x, y, w, h])
            t["masks"].append(m)
            t["labels"].append(int(rng.integers(0, 4)))
            t["iscrowd"].append(int(rng.random() < 0.15))
            t["area"].append(float(rng.choice([0.0, 0.0, w * h, 1024.0])))
        p: dict[str, list] = {"boxes": [], "masks": [], "labels": [], "scores": []}
        for _ in range(int(rng.integers(0, 6))):
            if t["boxes"] and rng.random() < 0.7:
                j = int(rng.integers(0, len(t["boxes"])))
                x, y, w, h = t["boxes"][j]
                x = max(0.0, x + float(rng.integers(-3, 4)))
                y = max(0.0, y + float(rng.integers(-3, 4)))
                lab = t["labels"][j] if rng.random() < 0.85 else int(rng.integers(0, 4))
            else:
                x, y = float(rng.integers(0, W - 8)), float(rng.integers(0, H - 8))
                w, h = 6.0, 5.0
                lab = int(rng.integers(0, 4))
            m = np.zeros((H, W), bool)
            m[int(y):int(y + h), int(x):int(x + w)] = True
            p["boxes"].append([x, y, w, h])
            p["masks"].append(m)
            p["labels"].append(lab)
            p["scores"].append(float(np.float32(rng.choice([0.5, rng.random()]))))
        preds.append(p)
        targets.append(t)
    return {"preds": preds, "targets": targets}


def _tm_coco_format(mask_utils: Any, iou_types: tuple, labels: list, boxes: list | None,
                    masks: list | None, scores: list | None, crowds: list | None,
                    area: list | None, classes: list) -> dict:
    images, annotations = [], []
    next_id = 1
    for image_id, image_labels in enumerate(labels):
        if masks is not None and len(masks[image_id]) == 0 and boxes is None:
            continue
        images.append({"id": image_id})
        if "segm" in iou_types and len(masks[image_id]) > 0:
            images[-1]["height"], images[-1]["width"] = masks[image_id][0][0]
        for k, label in enumerate(image_labels):
            box = boxes[image_id][k] if boxes is not None else None
            rle = None
            if masks is not None and len(masks[image_id]) > 0:
                size, counts = masks[image_id][k]
                rle = {"size": size, "counts": counts}
            area_box = area_mask = None
            if area is not None and area[image_id][k] > 0:
                a = area[image_id][k]
            else:
                a = mask_utils.area(rle) if "segm" in iou_types else box[2] * box[3]
                if len(iou_types) > 1:
                    area_box, area_mask = box[2] * box[3], mask_utils.area(rle)
            ann: dict[str, Any] = {"id": next_id, "image_id": image_id, "area": a,
                                   "category_id": label,
                                   "iscrowd": crowds[image_id][k] if crowds is not None else 0}
            if area_box is not None:
                ann["area_bbox"], ann["area_segm"] = area_box, area_mask
            if boxes is not None:
                ann["bbox"] = box
            if masks is not None:
                ann["segmentation"] = rle
            if scores is not None:
                ann["score"] = scores[image_id][k]
            annotations.append(ann)
            next_id += 1
    return {"images": images, "annotations": annotations,
            "categories": [{"id": c, "name": str(c)} for c in classes]}


def torchmetrics_like(impl: Impl, batch: dict, iou_types: tuple = ("bbox",), *,
                      iou_thresholds: list | None = None, rec_thresholds: list | None = None,
                      max_dets: list | None = None, class_metrics: bool = False,
                      average: str = "macro") -> dict:
    """Replay MeanAveragePrecision(backend="pycocotools").compute() on ``impl``: COCO objects made
    with ``COCO()`` + ``dataset = {...}`` + ``createIndex()`` (no loadRes), masks encoded with
    ``mask.encode`` and measured with ``mask.area``, params.iouThrs / recThrs / maxDets set after
    construction, evaluate/accumulate/summarize, extended summary, per-class re-evaluation."""
    iou_thresholds = iou_thresholds or np.linspace(0.5, 0.95, 10).tolist()
    rec_thresholds = rec_thresholds or np.linspace(0.0, 1.0, 101).tolist()
    max_dets = max_dets or [1, 10, 100]
    mu = impl.mask

    def enc(ms: list) -> tuple:
        out = []
        for m in ms:
            rle = mu.encode(np.asfortranarray(m))
            out.append((tuple(rle["size"]), rle["counts"]))
        return tuple(out)

    P, T = batch["preds"], batch["targets"]
    use_box, use_mask = "bbox" in iou_types, "segm" in iou_types
    det_masks = [enc(p["masks"]) for p in P] if use_mask else None
    gt_masks = [enc(t["masks"]) for t in T] if use_mask else None
    classes = sorted({lab for x in P + T for lab in x["labels"]})

    def datasets(avg: str) -> tuple:
        gl = [[0] * len(t["labels"]) for t in T] if avg == "micro" else [t["labels"] for t in T]
        dl = [[0] * len(p["labels"]) for p in P] if avg == "micro" else [p["labels"] for p in P]
        target, preds = impl.COCO(), impl.COCO()
        gb = [t["boxes"] for t in T] if use_box else None
        db = [p["boxes"] for p in P] if use_box else None
        target.dataset = _tm_coco_format(mu, iou_types, gl, gb, gt_masks, None,
                                         [t["iscrowd"] for t in T], [t["area"] for t in T],
                                         classes)
        preds.dataset = _tm_coco_format(mu, iou_types, dl, db, det_masks,
                                        [p["scores"] for p in P], None, None, classes)
        target.createIndex()
        preds.createIndex()
        return preds, target

    result: dict[str, Any] = {}
    with captured() as out:
        preds, target = datasets(average)
        for i_type in iou_types:
            prefix = "" if len(iou_types) == 1 else f"{i_type}_"
            if len(iou_types) > 1:
                for ann in preds.dataset["annotations"]:
                    ann["area"] = ann[f"area_{i_type}"]
            E = impl.COCOeval(target, preds, iouType=i_type)
            E.params.iouThrs = np.array(iou_thresholds, dtype=np.float64)
            E.params.recThrs = np.array(rec_thresholds, dtype=np.float64)
            E.params.maxDets = max_dets
            E.evaluate()
            E.accumulate()
            E.summarize()
            result[prefix + "stats"] = np.array(E.stats)
            result[prefix + "ious"] = {k: np.asarray(v, dtype=np.float32)
                                       for k, v in E.ious.items()}
            for key in ("precision", "recall", "scores"):
                result[prefix + key] = E.eval[key]
            if class_metrics:
                if average == "micro":
                    preds, target = datasets("macro")
                    E = impl.COCOeval(target, preds, iouType=i_type)
                    E.params.iouThrs = np.array(iou_thresholds, dtype=np.float64)
                    E.params.recThrs = np.array(rec_thresholds, dtype=np.float64)
                    E.params.maxDets = max_dets
                per_class = []
                for class_id in classes:
                    E.params.catIds = [class_id]
                    E.evaluate()
                    E.accumulate()
                    E.summarize()
                    per_class.append((E.stats[0], E.stats[8]))
                result[prefix + "per_class"] = per_class
    result["stdout"] = mask_timing(out["text"])
    return result


# ---------------------------------------------------------------------------------------------
# the spec's test vectors (section 8) and the E48a case
# ---------------------------------------------------------------------------------------------

def tv1() -> dict:
    gt = {"images": [{"id": 1, "width": 200, "height": 200},
                     {"id": 2, "width": 200, "height": 200}],
          "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
          "annotations": [
              {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "area": 1600,
               "iscrowd": 0},
              {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 100, 50, 50], "area": 2500,
               "iscrowd": 1},
              {"id": 3, "image_id": 2, "category_id": 2, "bbox": [20, 20, 20, 20], "area": 400,
               "iscrowd": 0}]}
    dts = [{"image_id": 1, "category_id": 1, "bbox": [12, 12, 40, 40], "score": 0.9},
           {"image_id": 1, "category_id": 1, "bbox": [100, 100, 20, 20], "score": 0.8},
           {"image_id": 1, "category_id": 1, "bbox": [105, 105, 20, 20], "score": 0.7},
           {"image_id": 2, "category_id": 2, "bbox": [30, 30, 20, 20], "score": 0.6}]
    return {"gt": gt, "dts": dts, "iouType": "bbox", "params": {}}


def tv2() -> dict:
    gt = {"images": [{"id": 1, "width": 300, "height": 300},
                     {"id": 2, "width": 300, "height": 300}],
          "categories": [{"id": 1, "name": "a"}],
          "annotations": [
              {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 32, 32], "area": 1024,
               "iscrowd": 0},
              {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 100, 96, 96], "area": 9216,
               "iscrowd": 0},
              {"id": 3, "image_id": 2, "category_id": 1, "bbox": [0, 0, 50, 50], "area": 2500,
               "iscrowd": 0}]}
    dts = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 32, 32], "score": 0.5},
           {"image_id": 1, "category_id": 1, "bbox": [0, 0, 32, 32], "score": 0.5},
           {"image_id": 1, "category_id": 1, "bbox": [100, 100, 96, 96], "score": 0.9},
           {"image_id": 2, "category_id": 1, "bbox": [0, 0, 50, 45], "score": 0.5}]
    return {"gt": gt, "dts": dts, "iouType": "bbox", "params": {}}


TV1_STATS = [0.3499999999999999, 0.49999999999999994, 0.49999999999999994, 0.0, 0.6999999999999998,
             -1.0, 0.35, 0.35, 0.35, 0.0, 0.7, -1.0]
TV2_STATS = [0.8905940594059406, 0.9158415841584159, 0.9158415841584159, 0.9999999999999998,
             0.8905940594059406, 0.9999999999999998, 0.6333333333333333, 0.9666666666666666,
             0.9666666666666666, 1.0, 0.9666666666666666, 1.0]


def e48a_case() -> dict:
    gt = {"images": [{"id": 1, "width": 300, "height": 300}], "categories": [{"id": 1}],
          "annotations": [
              {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 60, 100], "area": 6000,
               "iscrowd": 0},
              {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 100, 100], "area": 10000,
               "iscrowd": 1}]}
    dts = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 100, 100], "score": 0.9}]
    return {"gt": gt, "dts": dts, "iouType": "bbox", "params": {}}



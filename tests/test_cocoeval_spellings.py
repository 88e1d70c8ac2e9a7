"""One dataset written many ways (the drop-in fuzz of the evaluation): every spelling that
pycocotools reads as the same data must give pycocotools' results, and ours must not depend on
the spelling. Spellings: float ids (pandas' 1.0), numpy scalars, numpy arrays for ground-truth
boxes, str and bytes counts, segm results with and without bbox, keypoints as arrays. Not
spellings, and left out: the annotation order within an image (it decides ties) and tuple boxes
(pycocotools' iou refuses them; maskcodecs reads them as boxes)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pycocotools.cocoeval")

import cocoeval_cases as cc  # noqa: E402

SETTINGS = settings(max_examples=cc.EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _results(case: dict) -> list:
    """The result dicts of a case (none when the results are an Nx7 array)."""
    return case["dts"] if isinstance(case["dts"], list) else []


def _ids_as_float(case: dict) -> dict:
    gt = case["gt"]
    for img in gt["images"]:
        img["id"] = float(img["id"])
    for cat in gt["categories"]:
        cat["id"] = float(cat["id"])
    for a in gt["annotations"]:
        for k in ("id", "image_id", "category_id"):
            a[k] = float(a[k])
    for d in _results(case):
        d["image_id"] = float(d["image_id"])
        d["category_id"] = float(d["category_id"])
    return case


def _numpy_scalars(case: dict) -> dict:
    for a in case["gt"]["annotations"]:
        a["id"] = np.int64(a["id"])
        a["area"] = np.float64(a["area"])
        a["iscrowd"] = np.int64(a["iscrowd"])
    # results written to a JSON file by the harness cannot hold numpy scalars
    for d in (_results(case) if case.get("dt_mode") == "loadRes" else []):
        d["score"] = np.float64(d["score"])
        d["image_id"] = np.int64(d["image_id"])
    return case


def _boxes(kind: str) -> object:
    def respell(case: dict) -> dict:
        # results keep lists for arrays: pycocotools' loadRes compares a result bbox with []
        # (an array there is ambiguous, in pycocotools and here alike)
        anns = case["gt"]["annotations"] + (_results(case) if kind == "tuple" else [])
        for a in anns:
            if "bbox" in a and len(a["bbox"]) == 4:
                a["bbox"] = tuple(a["bbox"]) if kind == "tuple" else \
                    np.asarray(a["bbox"], dtype=np.float64)
        return case
    return respell


def _counts(kind: str) -> object:
    def respell(case: dict) -> dict:
        for a in case["gt"]["annotations"] + _results(case):
            seg = a.get("segmentation")
            if isinstance(seg, dict) and isinstance(seg.get("counts"), (str, bytes)):
                c = seg["counts"]
                seg["counts"] = c.encode() if kind == "bytes" and isinstance(c, str) else \
                    (c.decode() if kind == "str" and isinstance(c, bytes) else c)
        return case
    return respell


def _no_result_bbox(case: dict) -> dict:
    # only for compressed-RLE results: without a bbox, polygon or uncompressed results take
    # another branch of loadRes (mask.area of them), which changes the data, not its spelling
    dts = _results(case)
    compressed = all(isinstance(d.get("segmentation"), dict)
                     and isinstance(d["segmentation"].get("counts"), (str, bytes)) for d in dts)
    if case["iouType"] == "segm" and compressed:
        for d in dts:
            d.pop("bbox", None)
    return case


def _keypoints_arrays(case: dict) -> dict:
    for a in case["gt"]["annotations"]:
        if "keypoints" in a:
            a["keypoints"] = np.asarray(a["keypoints"], dtype=np.float64)
    return case


SPELLINGS = {
    "float ids": _ids_as_float,
    "numpy scalars": _numpy_scalars,
    "array boxes": _boxes("array"),
    "bytes counts": _counts("bytes"),
    "str counts": _counts("str"),
    "segm results without bbox": _no_result_bbox,
    "flat keypoint arrays": _keypoints_arrays,
}


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), knobs=cc.case_knobs,
       iou_type=st.sampled_from(["bbox", "segm", "keypoints"]),
       names=st.lists(st.sampled_from(sorted(SPELLINGS)), min_size=1, max_size=3, unique=True))
def test_spellings_match_pycocotools_and_each_other(seed, knobs, iou_type, names):
    # spellings (numpy arrays, bytes) are in-memory objects: nothing goes through a file
    # (dt_mode "file" json.dumps the results: bytes counts cannot be written there)
    dt_mode = "loadRes" if knobs["dt_mode"] == "file" else knobs["dt_mode"]
    base = cc.build_case(seed, iou_type, {**knobs, "files": False, "dt_mode": dt_mode})
    plain_ref, plain_ours = cc.differential(copy.deepcopy(base))
    case = copy.deepcopy(base)
    for name in names:
        case = SPELLINGS[name](case)
    ref, ours = cc.differential(case)
    # ours gives the same numbers whatever the spelling (pycocotools' own behaviour on each
    # spelling is what the differential above holds us to; here: no drift between spellings)
    assert (plain_ours.exc is None) == (ours.exc is None), (names, plain_ours.exc, ours.exc)
    if ours.exc is None and "summarize" in ours.done:
        for key in ("precision", "recall", "scores"):
            assert np.array_equal(plain_ours.E.eval[key], ours.E.eval[key], equal_nan=True), \
                (names, key)  # scores hold NaN where a NaN score was the one read
        assert np.array_equal(plain_ours.E.stats, ours.E.stats, equal_nan=True), names


def _bbox_stats(COCO, COCOeval, case: dict) -> np.ndarray:
    with cc.captured():
        gt = COCO()
        gt.dataset = copy.deepcopy(case["gt"])
        gt.createIndex()
        E = COCOeval(gt, gt.loadRes(copy.deepcopy(case["dts"])), "bbox")
        E.evaluate()
        E.accumulate()
        E.summarize()
    return E.stats


def test_tuple_boxes_are_boxes_in_ours_and_refused_by_pycocotools():
    from pycocotools.coco import COCO as RefCOCO
    from pycocotools.cocoeval import COCOeval as RefEval

    from maskcodecs.coco import COCO
    from maskcodecs.cocoeval import COCOeval
    case = cc.tv1()
    tupled = copy.deepcopy(case)
    for a in tupled["gt"]["annotations"] + tupled["dts"]:
        a["bbox"] = tuple(a["bbox"])
    with pytest.raises(Exception, match="list input can be bounding box"):
        _bbox_stats(RefCOCO, RefEval, tupled)
    assert np.array_equal(_bbox_stats(COCO, COCOeval, tupled),
                          _bbox_stats(RefCOCO, RefEval, case))

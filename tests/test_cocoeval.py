"""maskcodecs.cocoeval: the spec's verified vectors (TV1, TV2), the documented quirks (E-numbers
of specs/pycocotools-cocoeval.md), errors, Params, copying/pickling, and pycocotools' own COCO
objects - each run through pycocotools 2.0.11 and maskcodecs and compared.

The literal numbers asserted here are the spec's verified values; everything else is compared
with what pycocotools does on the same input.
"""
from __future__ import annotations

import contextlib
import copy
import io
import pickle
from typing import Any

import numpy as np
import pytest

from maskcodecs.errors import MaskCodecError

pytest.importorskip("pycocotools.cocoeval")

import cocoeval_cases as cc  # noqa: E402
from cocoeval_cases import TV1_STATS, TV2_STATS, e48a_case, tv1, tv2  # noqa: E402


def _tv1_evaluator(I: cc.Impl) -> Any:
    """A bbox COCOeval of implementation I on TV1, not yet evaluated."""
    g = cc.call(lambda: cc.make_coco(I, copy.deepcopy(tv1()["gt"])))[0]
    d = cc.call(lambda: g.loadRes(copy.deepcopy(tv1()["dts"])))[0]
    return I.COCOeval(g, d, "bbox")


def _with_box_polygons(case: dict) -> dict:
    """Give every ground truth of the case its box as a polygon segmentation (in place)."""
    for a in case["gt"]["annotations"]:
        x, y, w, h = a["bbox"]
        a["segmentation"] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    return case

IMPLS = ["ref", "ours"]


def impl(which: str) -> cc.Impl:
    return cc.ref_impl() if which == "ref" else cc.ours_impl()


# ---------------------------------------------------------------------------------------------
# the spec's test vectors
# ---------------------------------------------------------------------------------------------

def assert_stats(E, expected) -> None:
    assert isinstance(E.stats, np.ndarray) and E.stats.dtype == np.float64
    assert E.stats.tolist() == expected  # exact float equality, element by element


@pytest.mark.parametrize("which", IMPLS)
def test_tv1(which):
    run = cc.run_eval(impl(which), tv1())
    assert run.exc is None
    E = run.E
    assert_stats(E, TV1_STATS)  # E91
    assert len(E.evalImgs) == 16 and sum(e is None for e in E.evalImgs) == 8
    assert E.eval["precision"].shape == (10, 101, 2, 4, 3)
    assert E.eval["recall"].shape == (10, 2, 4, 3)
    assert E.eval["scores"].shape == (10, 101, 2, 4, 3)
    # E90
    assert E.ious[1, 1].tolist() == [[0.8223234624145785, 0], [0, 1], [0, 1]]
    assert E.ious[2, 2].tolist() == [[0.14285714285714285]]
    e = E.evalImgs[0]  # category 1, area all, image 1
    assert e["gtIds"] == [1, 2] and e["gtMatches"][:, 1].tolist() == [3.0] * 10
    assert e["dtIgnore"][:, 1:].all()
    assert e["dtMatches"][:, 0].tolist() == [1.0] * 7 + [0.0] * 3


@pytest.mark.parametrize("which", IMPLS)
def test_tv2(which):
    run = cc.run_eval(impl(which), tv2())
    assert run.exc is None
    E = run.E
    assert_stats(E, TV2_STATS)  # E93
    assert len(E.evalImgs) == 8 and not any(e is None for e in E.evalImgs)
    assert E.eval["precision"].shape == (10, 101, 1, 4, 3)
    e = E.evalImgs[0]  # image 1, area all: order d3, d1, d2 (E92)
    assert e["dtIds"] == [3, 1, 2]
    assert e["dtMatches"].tolist() == [[2.0, 1.0, 0.0]] * 10
    e2 = E.evalImgs[1]
    assert e2["dtMatches"][:, 0].tolist() == [3.0] * 9 + [0.0]


def test_tv1_tv2_differential():
    cc.differential(tv1())
    cc.differential(tv2())


@pytest.mark.parametrize("which", IMPLS)
def test_e50_gt_id_zero_makes_its_match_a_false_positive(which):
    case = tv1()
    case["gt"]["annotations"][0]["id"] = 0
    run = cc.run_eval(impl(which), case)
    assert run.E.stats[0] == 0.0 and run.E.stats[1] == 0.0
    if which == "ours":
        cc.differential(case)


@pytest.mark.parametrize("which", IMPLS)
def test_e68_stats0_uses_literal_100(which):
    case = tv1()
    case["params"] = {"maxDets": [1, 10, 50]}
    E = cc.run_eval(impl(which), case).E
    assert E.stats[0] == -1.0 and E.stats[1] == 0.49999999999999994
    if which == "ours":
        cc.differential(case)


@pytest.mark.parametrize("which", IMPLS)
def test_e76_nan_score_sorts_last(which):
    case = tv2()
    case["dts"][2]["score"] = float("nan")
    E = cc.run_eval(impl(which), case).E
    assert E.stats[0] == 0.8007425742574258
    if which == "ours":
        cc.differential(case)


@pytest.mark.parametrize("which", IMPLS)
def test_e48a_stop_at_ignored_gt(which):
    E = cc.run_eval(impl(which), e48a_case()).E
    assert E.evalImgs[0]["dtIgnore"][:, 0].tolist() == [False] * 3 + [True] * 7
    assert E.stats[0] == 0.29999999999999993 and E.stats[1] == 0.9999999999999999
    if which == "ours":
        cc.differential(e48a_case())


# ---------------------------------------------------------------------------------------------
# quirks, compared with pycocotools
# ---------------------------------------------------------------------------------------------

def test_e32_params_mutation_after_construction():
    for edits in ({"maxDets": [100, 1, 10]}, {"iouThrs": np.array([0.5, 0.75])},
                  {"recThrs": np.linspace(0, 1, 11)}, {"imgIds": [2]}, {"catIds": [2, 1, 1]},
                  {"areaRng": [[0, 1e10], [0, 2000]], "areaRngLbl": ["all", "small"]}):
        case = tv2() if "maxDets" in edits else tv1()
        case["params"] = edits
        r, o = cc.differential(case)
    case = tv1()
    case["params"] = {"maxDets": [100, 1, 10]}
    r, o = cc.differential(case)
    assert o.E.params.maxDets == [1, 10, 100]
    case["params"] = {"iouThrs": np.array([0.5, 0.75])}
    r, o = cc.differential(case)
    assert o.E.eval["precision"].shape[0] == 2


@pytest.mark.parametrize("use_segm, built_as", [(1, "bbox"), (0, "segm"), (1, "segm")])
def test_e33_use_segm(use_segm, built_as):
    case = tv1()
    _with_box_polygons(case)
    case["iouType"] = built_as
    case["params"] = {"useSegm": use_segm}
    r, o = cc.differential(case)
    assert "useSegm (deprecated) is not None" in o.out["evaluate"]


@pytest.mark.parametrize("iou_type", [None, "", "foo", "BBOX", 0])
def test_e24_bad_iou_type(iou_type):
    results = {}
    for which in IMPLS:
        I = impl(which)
        results[which] = cc.call(lambda: I.COCOeval(iouType=iou_type))
    (_, re_, rt, _), (_, oe, ot, _) = results["ref"], results["ours"]
    assert re_ is not None and oe is not None
    assert cc.same_exception(re_, oe) is None, (re_, oe)
    assert str(oe) == str(re_) == "iouType not supported"
    assert rt == ot


def test_e24_params_directly():
    for which in IMPLS:
        P = impl(which).Params
        with pytest.raises(Exception, match="iouType not supported"):
            P(iouType="foo")
        with pytest.raises(Exception, match="iouType not supported"):
            P(iouType=None)


@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints", None])
def test_params_defaults(iou_type):
    args = () if iou_type is None else (iou_type,)
    r, o = cc.ref_impl().Params(*args), cc.ours_impl().Params(*args)
    d = cc.Differ()
    cc.deep_compare(cc.params_snapshot(r), cc.params_snapshot(o), "Params", d)
    assert not d, d.report()
    # E28/E29: bit patterns of linspace, not arange
    assert o.iouThrs.tobytes() == r.iouThrs.tobytes()
    assert o.recThrs.tobytes() == r.recThrs.tobytes()
    if iou_type == "keypoints":
        assert o.kpt_oks_sigmas.tobytes() == r.kpt_oks_sigmas.tobytes()


def test_constructor_forms():
    """Positional, keyword, defaults: the same params and output."""
    for build in (lambda I, g, d: I.COCOeval(g, d, "bbox"),
                  lambda I, g, d: I.COCOeval(g, d, iouType="bbox"),
                  lambda I, g, d: I.COCOeval(cocoGt=g, cocoDt=d, iouType="bbox"),
                  lambda I, g, d: I.COCOeval(g, d),
                  lambda I, g, d: I.COCOeval(g),
                  lambda I, g, d: I.COCOeval(),
                  lambda I, g, d: I.COCOeval(iouType="keypoints")):
        snaps = []
        for which in IMPLS:
            I = impl(which)
            res, exc, _, _ = cc.call(lambda: cc.make_coco(I, copy.deepcopy(tv1()["gt"])))
            g = res
            d = cc.call(lambda: g.loadRes(copy.deepcopy(tv1()["dts"])))[0]
            E, exc, text, _ = cc.call(lambda: build(I, g, d))
            assert exc is None, exc
            snaps.append((cc.params_snapshot(E.params), text, E.stats, E.eval, E.ious,
                          E.cocoGt is g, E.cocoGt is None, E.cocoDt is d, E.cocoDt is None))
        diff = cc.Differ()
        cc.deep_compare(snaps[0], snaps[1], "init", diff)
        assert not diff, diff.report()


def test_e54_accumulate_before_evaluate():
    outs = []
    for which in IMPLS:
        I = impl(which)
        E = _tv1_evaluator(I)
        outs.append(cc.call(E.accumulate))
    (_, re_, rt, _), (_, oe, ot, _) = outs
    assert isinstance(re_, AttributeError)
    assert cc.same_exception(re_, oe) is None, (re_, oe)
    assert cc.mask_timing(rt) == cc.mask_timing(ot)
    assert "Please run evaluate() first" in ot


def test_e54_evaluate_with_nothing_then_accumulate():
    for edits in ({"imgIds": []}, {"catIds": []}, {"imgIds": [], "catIds": []}):
        case = tv1()
        case["params"] = edits
        r, o = cc.differential(case)
        assert "Please run evaluate() first" in o.out["accumulate"]


def test_e65_summarize_before_accumulate():
    outs = []
    for which in IMPLS:
        I = impl(which)
        E = _tv1_evaluator(I)
        first = cc.call(E.summarize)
        cc.call(E.evaluate)
        second = cc.call(E.summarize)
        outs.append((first, second))
    for (r, o) in zip(outs[0], outs[1]):
        assert type(r[1]) is Exception and str(r[1]) == "Please run accumulate() first"
        assert cc.same_exception(r[1], o[1]) is None, (r[1], o[1])
        assert str(o[1]) == str(r[1])
        assert r[2] == o[2]


def test_e71_str_prints_summary_and_raises_type_error():
    outs = []
    for which in IMPLS:
        I = impl(which)
        run = cc.run_eval(I, tv1())
        outs.append(cc.call(lambda: str(run.E)))
    (_, re_, rt, _), (_, oe, ot, _) = outs
    assert isinstance(re_, TypeError)
    assert isinstance(oe, TypeError), oe
    assert rt == ot and rt.count("\n") == 12


def test_e37_ignore_flag_is_overwritten_by_iscrowd():
    case = tv1()
    case["gt"]["annotations"][0]["ignore"] = 1
    r, o = cc.differential(case)
    assert o.E.stats.tolist() == cc.run_eval(cc.ours_impl(), tv1()).E.stats.tolist()


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_e78_evaluation_writes_into_the_annotation_dicts(iou_type):
    """E78: pycocotools writes ignore (= iscrowd), _ignore (last area range) and, for segm, the
    RLE into the caller's gt and dt dicts. Deviation "no-mutation": maskcodecs leaves them equal
    to what they were before evaluate (loadRes completes the result dicts in place in both)."""
    case = tv1()
    case["iouType"] = iou_type
    case["gt"]["annotations"][0]["ignore"] = 1
    _with_box_polygons(case)
    r, o = cc.differential(case, mutations=True)
    # pycocotools: the caller's dicts are changed
    g = r.gt.dataset["annotations"]
    assert [a.get("ignore") for a in g] == [0, 1, 0]
    assert all(a.get("_ignore") in (0, 1) for a in g)
    if iou_type == "segm":
        assert all(isinstance(a["segmentation"], dict) for a in g)
        assert all(isinstance(a["segmentation"], dict) for a in r.dt.dataset["annotations"])
    # loadRes: the result dicts are completed in place, the same way in both
    for run in (r, o):
        for a in run.dt.dataset["annotations"]:
            assert {"id", "area", "iscrowd", "bbox", "segmentation"} <= set(a), a
    cc.ours_only("deviation no-mutation")
    # maskcodecs: every gt dict is the caller's input as it was, every dt dict as loadRes left it
    gd = cc.Differ()
    cc.deep_compare(case["gt"]["annotations"], o.gt.dataset["annotations"], "gt", gd)
    cc.deep_compare(o.snaps["dt_loaded"]["annotations"], o.dt.dataset["annotations"], "dt", gd)
    assert not gd, gd.report()
    assert [a.get("ignore") for a in o.gt.dataset["annotations"]] == [1, None, None]
    assert not any("_ignore" in a for a in o.gt.dataset["annotations"])


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_e82_gt_without_iscrowd(iou_type):
    case = tv1()
    case["iouType"] = iou_type
    _with_box_polygons(case)
    del case["gt"]["annotations"][2]["iscrowd"]
    r, o = cc.differential(case)
    assert isinstance(r.exc[1], KeyError)


def test_e78_segm_gt_without_segmentation():
    case = tv1()
    case["iouType"] = "segm"
    r, o = cc.differential(case)
    assert isinstance(r.exc[1], KeyError)


def test_e43_keypoints_use_cats_0():
    kps = [10, 10, 2, 20, 20, 2, 30, 30, 1]
    gt = {"images": [{"id": 1, "width": 64, "height": 64}], "categories": [{"id": 1}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 30, 30],
                           "area": 900, "iscrowd": 0, "keypoints": kps, "num_keypoints": 3}]}
    dts = [{"image_id": 1, "category_id": 1, "keypoints": kps, "score": 0.9}]
    case = {"gt": gt, "dts": dts, "iouType": "keypoints",
            "params": {"useCats": 0, "kpt_oks_sigmas": np.array([0.05, 0.05, 0.05])}}
    r, o = cc.differential(case)
    assert o.E.stats[0] == 0.0 and all(v == [] for v in o.E.ious.values())
    case["params"]["useCats"] = 1
    r, o = cc.differential(case)
    assert o.E.stats[0] > 0.9


def test_e45_e72_boundary_areas_count_in_both_ranges():
    r, o = cc.differential(tv2())
    assert o.E.stats[3] == 0.9999999999999998 and o.E.stats[5] == 0.9999999999999998


def test_e73_iou_equal_to_threshold_matches():
    case = tv2()
    case["params"] = {"iouThrs": np.array([0.9, 0.8999999999999999, 0.95])}
    r, o = cc.differential(case)
    assert o.E.evalImgs[1]["dtMatches"][:, 0].tolist() == [3.0, 3.0, 0.0]


def test_empty_results_list_fails_like_pycocotools():
    """E15: loadRes([]) passes the list check, then IndexError reading element 0."""
    case = tv1()
    case["dts"] = []
    r, o = cc.differential(case)
    assert r.exc[0] == "loadRes" and isinstance(r.exc[1], IndexError)


def test_results_on_unknown_image_raise_assertion_error():
    case = tv1()
    case["dts"].append({"image_id": 99, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.1})
    r, o = cc.differential(case)
    assert isinstance(o.exc[1], AssertionError)
    assert str(o.exc[1]) == "Results do not correspond to current coco set"


@pytest.mark.parametrize("bad", [{"bbox": [1, 2, 3]}, {"bbox": [1, 2, 3, 4, 5]},
                                 {"bbox": [1, 2, float("nan"), 4]}, {"bbox": [1, 2, -3, 4]},
                                 {"bbox": ["1", 2, 3, 4]}, {"bbox": None}, {"score": None},
                                 {"score": "0.5"}, {"category_id": None}, {"score": float("inf")},
                                 {"bbox": [1, 2, 0, 0]}])
def test_malformed_bbox_results(bad):
    case = tv1()
    case["dts"][1].update(bad)
    if bad == {"bbox": [1, 2, 3]}:
        # deviation bbox-too-short: pycocotools reads bb[3] (IndexError); ours a ValueError
        r = cc.run_eval(cc.ref_impl(), case)
        assert r.exc is not None and r.exc[0] == "loadRes", r.exc
        assert isinstance(r.exc[1], IndexError), r.exc
        cc.ours_only("deviation bbox-too-short")
        o = cc.run_eval(cc.ours_impl(), case)
        assert o.exc is not None and o.exc[0] in ("loadRes", "evaluate"), o.exc
        assert isinstance(o.exc[1], ValueError) and not isinstance(o.exc[1], IndexError), o.exc
        assert isinstance(o.exc[1], MaskCodecError), o.exc
        assert str(o.exc[1])
        assert cc.mask_timing(o.out["loadRes"]) == cc.mask_timing(r.out["loadRes"])
        return
    cc.differential(case)


def test_results_not_a_list():
    """E15: a dict or a tuple of results fails the list assertion (message compared)."""
    for res in ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0},
                tuple(tv1()["dts"])):
        case = tv1()
        case["dts"] = res
        r, o = cc.differential(case)
        assert isinstance(r.exc[1], AssertionError)


def test_segm_results_first_bbox_empty_routes_to_segm_branch():
    """E17/E19: a first result with bbox [] goes to the segm branch and keeps its empty bbox."""
    import pycocotools.mask as pm

    case = tv1()
    case["iouType"] = "segm"
    _with_box_polygons(case)
    dts = []
    for d in case["dts"]:
        rle = pm.frPyObjects(np.array([d["bbox"]], dtype=np.float64), 200, 200)[0]
        dts.append({"image_id": d["image_id"], "category_id": d["category_id"],
                    "segmentation": {"size": rle["size"], "counts": rle["counts"].decode()},
                    "score": d["score"]})
    dts[0]["bbox"] = []
    case["dts"] = dts
    r, o = cc.differential(case)
    assert o.dt.anns[1]["bbox"] == []
    assert isinstance(o.dt.anns[2]["bbox"], np.ndarray)


def test_evaluate_twice_like_per_class_loop():
    """torchmetrics' class_metrics: params.catIds = [c], then evaluate/accumulate/summarize
    again on the same object."""
    for again in ({"catIds": [1]}, {"catIds": [2]}, {"catIds": [3]}, {"imgIds": [1]},
                  {"useCats": 0}):
        case = tv1()
        case["again"] = again
        cc.differential(case)


@pytest.mark.parametrize("acc_p", [{"catIds": [2]}, {"catIds": [2, 1]}, {"maxDets": [10]},
                                   {"areaRng": [[0, 1e10]], "areaRngLbl": ["all"]},
                                   {"imgIds": [2]}, {"useCats": 0}, {"recThrs": np.array([0.5])}])
def test_accumulate_with_custom_params(acc_p):
    """E55/E57/E81: accumulate(p) selects from evalImgs by p; summarize still reads self.params."""
    case = tv1()
    case["acc_p"] = acc_p
    cc.differential(case)


def test_summarize_line_format():
    """E66: the exact template (two spaces after Precision, widths), incl. maxDets >= 1000."""
    case = tv1()
    case["params"] = {"maxDets": [1, 10, 1000], "iouThrs": np.array([0.5, 0.75, 0.9])}
    r, o = cc.differential(case)
    lines = o.out["summarize"].splitlines()
    assert lines[0].startswith(" Average Precision  (AP) @[ IoU=0.50:0.90 | area=   all |"
                               " maxDets=100 ]")
    assert lines[6].startswith(" Average Recall     (AR) @[ IoU=0.50:0.90 | area=   all |"
                               " maxDets=  1 ]")
    assert "maxDets=1000 ]" in lines[1]


@pytest.mark.parametrize("edit", [{"params": {"maxDets": [1, 10]}},
                                  {"params": {"maxDets": [5]}},
                                  {"acc_p": {"areaRng": [[0, 1e10]], "areaRngLbl": ["all"]}},
                                  {"acc_p": {"maxDets": [100]}}])
def test_summarize_prints_the_lines_before_it_fails(edit):
    """summarize prints line by line: whatever pycocotools printed before its IndexError
    (e.g. the first line when maxDets has fewer than 3 entries) must be printed too."""
    case = {**tv1(), **edit}
    r, o = cc.differential(case)
    assert r.exc[0] == "summarize" and isinstance(r.exc[1], IndexError)


def test_summarize_iou_thrs_as_list_fails_like_pycocotools():
    case = tv1()
    case["params"] = {"iouThrs": [0.5, 0.75]}
    r, o = cc.differential(case)
    assert r.exc[0] == "summarize"


# ---------------------------------------------------------------------------------------------
# fidelity items users reported (spec section 9)
# ---------------------------------------------------------------------------------------------

def test_float_ids():
    """Ids as floats (pandas): image 1.0, category 1.0, annotation 3.0."""
    case = tv1()
    gt = case["gt"]
    for img in gt["images"]:
        img["id"] = float(img["id"])
    for c in gt["categories"]:
        c["id"] = float(c["id"])
    for a in gt["annotations"]:
        a["id"], a["image_id"], a["category_id"] = (float(a["id"]), float(a["image_id"]),
                                                    float(a["category_id"]))
    for d in case["dts"]:
        d["image_id"], d["category_id"] = float(d["image_id"]), float(d["category_id"])
    r, o = cc.differential(case)
    assert o.E.stats.tolist() == TV1_STATS
    case["dts"] = [{**d, "image_id": int(d["image_id"]), "category_id": int(d["category_id"])}
                   for d in case["dts"]]
    cc.differential(case)


def test_images_without_width_height_in_bbox_eval():
    case = tv1()
    for img in case["gt"]["images"]:
        del img["width"], img["height"]
    r, o = cc.differential(case)
    assert o.E.stats.tolist() == TV1_STATS


def test_categories_without_name():
    case = tv1()
    case["gt"]["categories"] = [{"id": 1}, {"id": 2}]
    r, o = cc.differential(case)
    assert o.E.stats.tolist() == TV1_STATS


def test_bool_iscrowd_and_bool_masks():
    case = tv1()
    case["gt"]["annotations"][1]["iscrowd"] = True
    case["gt"]["annotations"][0]["iscrowd"] = False
    cc.differential(case)


def test_segm_bytes_and_str_counts():
    import pycocotools.mask as pm

    case = tv1()
    case["iouType"] = "segm"
    for i, a in enumerate(case["gt"]["annotations"]):
        rle = pm.frPyObjects(np.array([a["bbox"]], dtype=np.float64), 200, 200)[0]
        a["segmentation"] = (rle if i % 2
                             else {"size": rle["size"], "counts": rle["counts"].decode()})
    dts = []
    for i, d in enumerate(case["dts"]):
        m = np.zeros((200, 200), np.uint8)
        x, y, w, h = d["bbox"]
        m[y:y + h, x:x + w] = True
        rle = pm.encode(np.asfortranarray(m.astype(bool)).astype(np.uint8))
        counts = rle["counts"] if i % 2 else rle["counts"].decode()
        dts.append({"image_id": d["image_id"], "category_id": d["category_id"],
                    "segmentation": {"size": [200, 200], "counts": counts}, "score": d["score"]})
    case["dts"] = dts
    r, o = cc.differential(case)
    assert o.E.stats.tolist() == TV1_STATS  # box masks: the same numbers as bbox
    for d in case["dts"]:  # and with a bbox (loadRes' bbox branch keeps the RLE)
        d["bbox"] = pm.toBbox(d["segmentation"]).tolist()
    cc.differential(case)


_KPS = [10, 10, 2, 20, 20, 2, 30, 30, 1]


def _kp_case(dt_kps, gt_kps) -> dict:
    gt = {"images": [{"id": 1, "width": 64, "height": 64}], "categories": [{"id": 1}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 30, 30],
                           "area": 900, "iscrowd": 0, "keypoints": gt_kps, "num_keypoints": 3}]}
    return {"gt": gt, "dts": [{"image_id": 1, "category_id": 1, "keypoints": dt_kps,
                               "score": 0.8}], "iouType": "keypoints",
            "params": {"kpt_oks_sigmas": np.array([0.05, 0.06, 0.07])}}


def _is_kx3(kps) -> bool:
    return isinstance(kps, np.ndarray) and kps.ndim == 2


def _flat_list(kps):
    """The same keypoints as a flat list (the rows' x, y, v in order, same number types)."""
    return kps.reshape(-1).tolist() if _is_kx3(kps) else kps


def _differences_but_keypoints_field(a: cc.Run, b: cc.Run) -> list[str]:
    """Every difference of two runs except the type of the keypoints field itself."""
    return [m for m in cc.compare_runs(a, b).msgs if "['keypoints']" not in m]


@pytest.mark.parametrize("dt_kps, gt_kps", [
    (np.array(_KPS, float) + 1, _KPS),
    (_KPS, np.array(_KPS)),
    (np.array(_KPS).reshape(3, 3), _KPS),
    (_KPS, np.array(_KPS).reshape(3, 3)),
    (np.array(_KPS, float).reshape(3, 3), np.array(_KPS).reshape(3, 3)),
], ids=["dt-flat-array", "gt-flat-array", "dt-Kx3", "gt-Kx3", "both-Kx3"])
def test_keypoints_as_arrays(dt_kps, gt_kps):
    """Keypoints as flat numpy arrays work in pycocotools, the same outcome is expected.
    Deviation keypoints-Kx3: pycocotools slices the rows of a (K, 3) array (other boxes in
    loadRes, then IndexError in evaluate or other numbers); ours reads the rows as the (x, y, v)
    triples, i.e. gives exactly what the flat list of the same keypoints gives."""
    case = _kp_case(dt_kps, gt_kps)
    if not (_is_kx3(dt_kps) or _is_kx3(gt_kps)):
        cc.differential(case)
        return
    flat = _kp_case(_flat_list(dt_kps), _flat_list(gt_kps))
    ref_flat, ours_flat = cc.differential(flat)  # the flat lists: the same in both
    assert ref_flat.exc is None and "summarize" in ours_flat.done
    # pycocotools: (K, 3) is not read as the triples
    ref = cc.run_eval(cc.ref_impl(), case)
    assert _differences_but_keypoints_field(ref_flat, ref), "pycocotools read the rows"
    if _is_kx3(dt_kps):
        a, b = ref.snaps["dt_loaded"]["annotations"][0], ref_flat.snaps["dt_loaded"][
            "annotations"][0]
        assert a["area"] != b["area"] and list(a["bbox"]) != list(b["bbox"])
    if _is_kx3(dt_kps) and not _is_kx3(gt_kps):
        assert ref.exc is not None and ref.exc[0] == "evaluate", ref.exc
        assert isinstance(ref.exc[1], IndexError), ref.exc
    cc.ours_only("deviation keypoints-Kx3")
    ours = cc.run_eval(cc.ours_impl(), case)
    assert ours.exc is None, ours.exc
    diff = _differences_but_keypoints_field(ours_flat, ours)
    assert not diff, "\n".join(diff)
    assert ours.E.stats.tolist() == ours_flat.E.stats.tolist()


def test_keypoints_default_sigmas_17():
    rng = np.random.default_rng(5)
    kps = []
    for _ in range(17):
        kps += [int(rng.integers(10, 90)), int(rng.integers(10, 90)), 2]
    gt = {"images": [{"id": 1, "width": 100, "height": 100}], "categories": [{"id": 1}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 80, 80],
                           "area": 6400, "iscrowd": 0, "keypoints": kps, "num_keypoints": 17},
                          {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10],
                           "area": 100, "iscrowd": 0, "keypoints": [0] * 51, "num_keypoints": 0}]}
    dts = [{"image_id": 1, "category_id": 1, "score": s,
            "keypoints": [v + (int(rng.integers(-3, 4)) if j % 3 != 2 else 0)
                          for j, v in enumerate(kps)]} for s in (0.9, 0.8, 0.8)]
    cc.differential({"gt": gt, "dts": dts, "iouType": "keypoints", "params": {}})


def test_deepcopy_and_pickle_after_evaluate():
    """An evaluated COCOeval copies/pickles; the copy accumulates to the same results as the
    original and as pycocotools."""
    ref = cc.run_eval(cc.ref_impl(), tv2())
    for clone in (copy.deepcopy, cc.roundtrip_pickle):
        I = cc.ours_impl()
        g = cc.call(lambda: cc.make_coco(I, copy.deepcopy(tv2()["gt"])))[0]
        d = cc.call(lambda: g.loadRes(copy.deepcopy(tv2()["dts"])))[0]
        E = I.COCOeval(g, d, "bbox")
        cc.call(E.evaluate)
        E2 = clone(E)
        assert type(E2) is type(E)
        for X in (E2, E):
            _, exc, _, _ = cc.call(X.accumulate)
            assert exc is None
            _, exc, text, _ = cc.call(X.summarize)
            assert exc is None
            assert text == ref.out["summarize"]
            diff = cc.Differ()
            cc.deep_compare(ref.E.stats, X.stats, "stats", diff)
            for k in ("precision", "recall", "scores"):
                cc.deep_compare(ref.E.eval[k], X.eval[k], k, diff)
            cc.compare_evaluated({"evalImgs": ref.E.evalImgs, "ious": ref.E.ious},
                                 {"evalImgs": X.evalImgs, "ious": X.ious}, "copy", diff)
            assert not diff, diff.report()
        # and a fully accumulated one pickles too
        E3 = clone(E)
        assert np.array_equal(E3.eval["precision"], ref.E.eval["precision"])
        assert pickle.loads(pickle.dumps(E3.params)).maxDets == [1, 10, 100]


@pytest.mark.parametrize("case_fn", [tv1, tv2, e48a_case])
def test_ours_evaluator_on_pycocotools_coco_objects(case_fn):
    """maskcodecs' COCOeval given COCO objects built by pycocotools."""
    R = cc.ref_impl()
    ref = cc.run_eval(R, case_fn())
    with contextlib.redirect_stdout(io.StringIO()):
        g = R.COCO()
        g.dataset = copy.deepcopy(case_fn()["gt"])
        g.createIndex()
        d = g.loadRes(copy.deepcopy(case_fn()["dts"]))
    ours = cc.run_eval(cc.ours_impl(), case_fn(), gt=g, dt=d)
    for phase in ("gt", "loadRes"):  # built by pycocotools for ours: nothing to compare
        ref.out.pop(phase)
    diff = cc.compare_runs(ref, ours)
    assert not diff, diff.report()


def test_ours_evaluator_on_pycocotools_coco_objects_segm():
    import pycocotools.mask as pm

    case = tv1()
    case["iouType"] = "segm"
    _with_box_polygons(case)
    for d in case["dts"]:
        rle = pm.frPyObjects(np.array([d["bbox"]], dtype=np.float64), 200, 200)[0]
        d["segmentation"] = rle
        del d["bbox"]
    R = cc.ref_impl()
    ref = cc.run_eval(R, case)
    with contextlib.redirect_stdout(io.StringIO()):
        g = R.COCO()
        g.dataset = copy.deepcopy(case["gt"])
        g.createIndex()
        d = g.loadRes(copy.deepcopy(case["dts"]))
    ours = cc.run_eval(cc.ours_impl(), case, gt=g, dt=d)
    for phase in ("gt", "loadRes"):
        ref.out.pop(phase)
    diff = cc.compare_runs(ref, ours)
    assert not diff, diff.report()


def test_eval_imgs_dtypes():
    """E47/E52: gtIgnore int64 (float64 when no gt), dtIgnore bool, matches float64."""
    case = tv1()
    case["dts"].append({"image_id": 2, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.3})
    r, o = cc.differential(case)
    kinds = {(e["gtIgnore"].dtype, e["dtIgnore"].dtype, e["dtMatches"].dtype, e["gtMatches"].dtype)
             for e in o.E.evalImgs if e is not None}
    assert (np.dtype(np.float64), np.dtype(bool), np.dtype(np.float64),
            np.dtype(np.float64)) in kinds
    assert (np.dtype(np.int64), np.dtype(bool), np.dtype(np.float64),
            np.dtype(np.float64)) in kinds


#: the random case of the thread-count tests
_THREAD_KNOBS = {"n_img": 10, "n_cat": 3, "max_gt": 6, "max_dt": 8, "p_crowd": 0.15,
                 "p_ignore": 0.0, "p_boundary": 0.3, "tie_scores": True, "p_dup": 0.25,
                 "nan_scores": False, "gt_id_zero": False, "float_coords": True,
                 "gt_seg": "mixed", "dt_seg": "rle_str", "unknown_dt_cat": False,
                 "nkpt": 17, "custom_sigmas": False, "kp_array": False, "dt_mode": "loadRes",
                 "kw": False, "maxDets": 0, "iouThrs": None, "recThrs": None, "areaRng": 0,
                 "useCats": None, "imgIds": None, "catIds": None, "acc_p": None,
                 "again": None}


@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints"])
@pytest.mark.parametrize("threads", [1, 2, None])
def test_thread_counts_give_the_same_results(iou_type, threads):
    """evaluate() serial, on two threads and on all cores: pycocotools' arrays each time."""
    case = cc.build_case(8, iou_type, dict(_THREAD_KNOBS))
    ref = cc.run_eval(cc.ref_impl(), case)
    ours = cc.ours_impl()
    with cc.captured():
        gt = cc.make_coco(ours, copy.deepcopy(case["gt"]))
        E = ours.COCOeval(gt, gt.loadRes(copy.deepcopy(case["dts"])), iou_type)
        E.threads = threads
        E.evaluate()
        E.accumulate()
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ref.E.eval[key], E.eval[key], equal_nan=True)


@pytest.mark.parametrize("threads", [1, 2, None, 0])
def test_threads_none_means_all_cores(threads, monkeypatch):
    """COCOeval.threads None (as documented) and 0 run evaluate and accumulate on every
    core, 1 serially, 2 on two: the number of parts the matcher and accumulate ask for."""
    import os

    import maskcodecs.cocoeval as mce
    seen = []
    real = mce.run_parts
    monkeypatch.setattr(mce, "run_parts", lambda fn, n, parts: seen.append(parts) or
                        real(fn, n, parts))
    knobs = {**_THREAD_KNOBS, "n_img": 12, "n_cat": 4, "max_gt": 4, "max_dt": 5,
             "p_crowd": 0.0, "p_boundary": 0.0, "tie_scores": False, "p_dup": 0.0}
    case = cc.build_case(3, "bbox", knobs)
    ours = cc.ours_impl()
    with cc.captured():
        gt = cc.make_coco(ours, copy.deepcopy(case["gt"]))
        E = ours.COCOeval(gt, gt.loadRes(copy.deepcopy(case["dts"])), "bbox")
        E.threads = threads
        E.evaluate()
        E.accumulate()
    want = (os.cpu_count() or 1) if threads in (None, 0) else threads
    assert seen and max(seen) == want


def test_params_deepcopy_is_independent():
    """Params' deepcopy (pycocotools copies params into _paramsEval) gives equal, independent
    lists and arrays, for a subclass too."""
    from maskcodecs.cocoeval import Params

    class Mine(Params):
        pass

    for cls in (Params, Mine):
        p = cls("bbox")
        p.imgIds = list(np.unique([3, 1, 2]))
        p.areaRng[0][1] = 5.0
        p.extra = {"nested": [1, [2]]}
        q = copy.deepcopy(p)
        assert type(q) is cls
        assert q.imgIds == p.imgIds and q.imgIds is not p.imgIds
        assert q.areaRng == p.areaRng and q.areaRng[0] is not p.areaRng[0]
        assert np.array_equal(q.iouThrs, p.iouThrs) and q.iouThrs is not p.iouThrs
        q.extra["nested"][1].append(3)
        assert p.extra == {"nested": [1, [2]]}


def test_eval_group_is_a_stable_argsort_and_refuses_outside_cells():
    """The kernel's counting sort of cell positions equals numpy's stable argsort, with each
    cell's run offsets; a position outside [0, C) is a ValueError, never a write past."""
    from maskcodecs import _rle_core as core
    rng = np.random.default_rng(5)
    for n, C in ((0, 0), (0, 3), (1, 1), (50, 7), (2000, 300), (999, 1)):
        cells = rng.integers(0, max(C, 1), n).astype(np.int64)
        perm, off = core.eval_group(cells, C)
        assert np.array_equal(perm, np.argsort(cells, kind="stable"))
        assert np.array_equal(off, np.concatenate([[0], np.cumsum(np.bincount(
            cells, minlength=C)[:C])]).astype(np.int64))
    for bad in (-1, 7):
        with pytest.raises(ValueError, match="outside"):
            core.eval_group(np.array([0, 3, bad, 1], dtype=np.int64), 7)

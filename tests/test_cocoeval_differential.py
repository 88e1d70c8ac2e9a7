"""maskcodecs.cocoeval against pycocotools 2.0.11 on random datasets and on real COCO files.

Each case runs through both implementations on deep copies of the same input (pycocotools
mutates its inputs) and every observable is compared: printed lines (summarize byte for byte, the
others with their timing masked), exceptions, params, evalImgs, ious,
eval['precision'|'recall'|'scores'], stats; the annotation dicts as evaluation leaves them are
checked against each side's own documented behaviour (cocoeval_cases.DEVIATIONS).
"""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pycocotools.cocoeval")

import cocoeval_cases as cc  # noqa: E402
from conftest import REAL_COCO_FILES, realdata  # noqa: E402

SETTINGS = settings(max_examples=cc.EXAMPLES, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MORE = settings(SETTINGS, max_examples=2 * cc.EXAMPLES)
seeds = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------------------------------------
# random datasets, every knob (see cocoeval_cases.case_knobs)
# ---------------------------------------------------------------------------------------------

@MORE
@given(seed=seeds, knobs=cc.case_knobs)
def test_bbox_random(seed, knobs):
    cc.differential(cc.build_case(seed, "bbox", knobs))


@MORE
@given(seed=seeds, knobs=cc.case_knobs)
def test_segm_random(seed, knobs):
    cc.differential(cc.build_case(seed, "segm", knobs))


@MORE
@given(seed=seeds, knobs=cc.case_knobs)
def test_keypoints_random(seed, knobs):
    cc.differential(cc.build_case(seed, "keypoints", knobs))


@SETTINGS
@given(seed=seeds, knobs=cc.case_knobs, iou_type=st.sampled_from(["bbox", "segm", "keypoints"]))
def test_annotation_dicts_mutated_like_pycocotools_random(seed, knobs, iou_type):
    """E78: pycocotools' evaluation writes ignore / _ignore (and for segm the RLE) into the
    caller's dicts; deviation "no-mutation": ours leaves every gt and dt dict as COCO() / loadRes
    left it (see cocoeval_cases.mutation_differences)."""
    cc.differential(cc.build_case(seed, iou_type, knobs), mutations=True)


# The default parameters are the common case: a run with no edits at all, so that nothing stops
# early in summarize and the standard 12/10 summary lines are always compared.
_plain = dict(maxDets=st.just(0), iouThrs=st.just(None), recThrs=st.just(None),
              areaRng=st.just(0), useCats=st.just(None), imgIds=st.just(None),
              catIds=st.just(None), acc_p=st.just(None), again=st.just(None))
plain_knobs = cc.case_knobs.flatmap(lambda k: st.fixed_dictionaries(_plain).map(
    lambda p: {**k, **p}))


@SETTINGS
@given(seed=seeds, knobs=plain_knobs, iou_type=st.sampled_from(["bbox", "segm", "keypoints"]))
def test_default_params_random(seed, knobs, iou_type):
    r, o = cc.differential(cc.build_case(seed, iou_type, knobs))
    assert r.exc is None  # the case is meant to run to the end
    assert "summarize" in o.done


@SETTINGS
@given(seed=seeds, knobs=plain_knobs, iou_type=st.sampled_from(["bbox", "segm", "keypoints"]))
def test_use_cats_0_random(seed, knobs, iou_type):
    case = cc.build_case(seed, iou_type, {**knobs, "n_cat": max(2, knobs["n_cat"])})
    case["params"]["useCats"] = 0
    cc.differential(case)


@SETTINGS
@given(seed=seeds, knobs=plain_knobs, iou_type=st.sampled_from(["bbox", "segm"]))
def test_dense_ties_and_crowds_random(seed, knobs, iou_type):
    """Many overlapping detections with tied scores, duplicates and crowds: the matching order."""
    k = {**knobs, "tie_scores": True, "p_dup": 0.25, "p_crowd": 0.5, "p_boundary": 0.3,
         "max_gt": 8, "max_dt": 10}
    cc.differential(cc.build_case(seed, iou_type, k))


@SETTINGS
@given(seed=seeds, knobs=plain_knobs)
def test_bbox_numpy_results_random(seed, knobs):
    """loadRes(Nx7 array): numpy float64 bbox values and scores all the way to evalImgs."""
    case = cc.build_case(seed, "bbox",
                         {**knobs, "dt_mode": "numpy", "max_dt": max(1, knobs["max_dt"])})
    cc.differential(case)


@SETTINGS
@given(seed=seeds, knobs=plain_knobs,
       thrs=st.lists(st.floats(0.0, 1.0, allow_nan=False).map(lambda x: round(x, 3)),
                     min_size=1, max_size=6),
       recs=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=0, max_size=8),
       maxdets=st.lists(st.integers(0, 12), min_size=3, max_size=4),
       iou_type=st.sampled_from(["bbox", "segm", "keypoints"]))
def test_arbitrary_thresholds_random(seed, knobs, thrs, recs, maxdets, iou_type):
    """Arbitrary iouThrs (incl. 0 and 1), recThrs, maxDets (incl. 0 and repeats), set after
    construction; 0.5 / 0.75 may or may not be present (summarize then prints -1)."""
    case = cc.build_case(seed, iou_type, knobs)
    case["params"].update(iouThrs=np.array(thrs), recThrs=np.array(recs),
                          maxDets=maxdets if iou_type != "keypoints" else maxdets[:1])
    cc.differential(case)


@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints"])
@pytest.mark.parametrize("seed", [0, 1])
def test_larger_dataset(seed, iou_type):
    """30 images, 19 categories: summarize means over ~19k precision values (numpy's pairwise
    summation, E70), plus one image with 150 detections (truncation at maxDets[-1], E80)."""
    knobs = {"n_img": 30, "n_cat": 19, "max_gt": 8, "max_dt": 10, "p_crowd": 0.15,
             "p_ignore": 0.0, "p_boundary": 0.3, "tie_scores": bool(seed), "p_dup": 0.1,
             "nan_scores": False, "gt_id_zero": False, "float_coords": True, "gt_seg": "mixed",
             "dt_seg": "mixed_rle", "unknown_dt_cat": False, "nkpt": 17, "custom_sigmas": False,
             "kp_array": False, "dt_mode": "loadRes", "kw": False, "maxDets": 0, "iouThrs": None,
             "recThrs": None, "areaRng": 0, "useCats": None, "imgIds": None, "catIds": None,
             "acc_p": None, "again": None}
    case = cc.build_case(seed, iou_type, knobs)
    img = case["gt"]["images"][0]
    cat = case["gt"]["categories"][0]["id"]
    rng = np.random.default_rng(seed)
    template = next((d for d in case["dts"] if d["image_id"] == img["id"]), None)
    if template is None:
        template = next(d for d in case["dts"])
        template = {**copy.deepcopy(template), "image_id": img["id"]}
        if "segmentation" in template:
            template.pop("segmentation")
            import pycocotools.mask as pm

            m = np.zeros((img["height"], img["width"]), np.uint8)
            m[: img["height"] // 2, : img["width"] // 2] = 1
            template["segmentation"] = pm.encode(np.asfortranarray(m))
            template.pop("bbox", None)
    for _ in range(150):
        d = copy.deepcopy(template)
        d["category_id"] = cat
        d["score"] = float(rng.choice([0.5, 0.25, round(rng.random(), 2)]))
        case["dts"].append(d)
    r, o = cc.differential(case)
    assert r.exc is None


# ---------------------------------------------------------------------------------------------
# real COCO files
# ---------------------------------------------------------------------------------------------

def _real_case(parts: tuple[str, ...], iou_type: str) -> dict:
    data = json.loads(realdata(*parts).read_text(encoding="utf-8"))
    detections = data.pop("detections", None)
    rng = np.random.default_rng(len(json.dumps(parts)))
    images = {img["id"]: img for img in data.get("images", [])}
    if detections is not None:  # hotcoco fixtures ship their own detections
        dts = copy.deepcopy(detections)
    else:
        import pycocotools.mask as pm
        from pycocotools.coco import COCO

        dts = []
        ref_gt = COCO()
        ref_gt.dataset = copy.deepcopy(data)
        ref_gt.imgs = {i: dict(img) for i, img in images.items()}
        for ann in copy.deepcopy(data.get("annotations", [])):
            if ann["image_id"] not in images:
                continue  # loadRes would reject results on an image the GT does not list
            score = float(round(rng.random(), 4))
            if iou_type == "bbox":
                b = ann["bbox"]
                j = rng.normal(0, 0.05, 4) * np.array([b[2], b[3], b[2], b[3]])
                box = [float(b[0] + j[0]), float(b[1] + j[1]),
                       float(max(0.5, b[2] + j[2])), float(max(0.5, b[3] + j[3]))]
                dts.append({"image_id": ann["image_id"], "category_id": ann["category_id"],
                            "bbox": box, "score": score})
            else:
                try:
                    rle = ref_gt.annToRLE(ann)
                except Exception:  # noqa: BLE001 - e.g. segmentation []: use the box's mask
                    img = images[ann["image_id"]]
                    rle = pm.frPyObjects(np.array([ann["bbox"]], dtype=np.float64), img["height"],
                                         img["width"])[0]
                if isinstance(rle.get("counts"), list):
                    rle = pm.frPyObjects(rle, *rle["size"])
                counts = rle["counts"]
                if isinstance(counts, bytes) and rng.random() < 0.5:
                    counts = counts.decode("ascii")
                dts.append({"image_id": ann["image_id"], "category_id": ann["category_id"],
                            "segmentation": {"size": list(rle["size"]), "counts": counts},
                            "score": score})
        # a few false positives: GT boxes / masks moved to another image of the file
        ids = sorted(images, key=repr)
        for d in list(dts[: min(5, len(dts))]):
            other = copy.deepcopy(d)
            other["image_id"] = ids[int(rng.integers(0, len(ids)))]
            other["score"] = float(round(rng.random(), 4))
            if "segmentation" in other:
                img = images[other["image_id"]]
                if list(other["segmentation"]["size"]) != [img.get("height"), img.get("width")]:
                    continue
            dts.append(other)
    return {"gt": data, "dts": dts, "iouType": iou_type, "dt_mode": "loadRes", "params": {}}


def _without_shadowed_ids(case: dict) -> dict:
    """The case without the GT annotations pycocotools can never evaluate: those whose id is
    last given to an annotation on an image not in ``images``. COCO.anns keeps the last dict of
    an id, so _prepare's loadAnns turns every annotation of that id on a listed image into that
    last one, which lands in a cell outside imgIds (and which annToRLE cannot size: KeyError)."""
    c = copy.deepcopy(case)
    images = {img["id"] for img in c["gt"].get("images", [])}
    last = {a["id"]: a for a in c["gt"].get("annotations", [])}
    gone = {i for i, a in last.items() if a["image_id"] not in images}
    c["gt"]["annotations"] = [a for a in c["gt"]["annotations"] if a["id"] not in gone]
    return c


# deviation "rasterise-needed-cells" (cocoeval_cases.DEVIATIONS): pycocotools raises KeyError
# converting to RLE an annotation ours never rasterises; ours evaluates.
RASTERISE_NEEDED_CELLS = {(("encord_client_python", "coco_datastructure_fixture.json"), "segm")}


def _assert_same_evaluation(ref: cc.Run, ours: cc.Run, what: str) -> None:
    """The evaluation results of two runs on different ground-truth dicts: evalImgs, ious, eval,
    stats and the summary lines."""
    d = cc.Differ()
    for key in ("params_evaluated", "eval", "stats"):
        cc.deep_compare(ref.snaps[key], ours.snaps[key], key, d)
    cc.compare_evaluated(ref.snaps["evaluated"], ours.snaps["evaluated"], "evaluated", d)
    if ref.out["summarize"] != ours.out["summarize"]:
        d.add("stdout[summarize]", f"ref {ref.out['summarize']!r} ours {ours.out['summarize']!r}")
    assert not d, f"{what}:\n{d.report()}"


@pytest.mark.realdata
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("parts", REAL_COCO_FILES, ids=lambda p: "/".join(p))
def test_real_file(parts, iou_type):
    case = _real_case(parts, iou_type)
    ref = cc.run_eval(cc.ref_impl(), case)
    if (parts, iou_type) in RASTERISE_NEEDED_CELLS:
        # pycocotools: KeyError sizing the annotation of an image not in images
        assert ref.exc is not None and ref.exc[0] == "evaluate", ref.exc
        assert isinstance(ref.exc[1], KeyError), ref.exc
        fixed = _without_shadowed_ids(case)
        assert len(fixed["gt"]["annotations"]) < len(case["gt"]["annotations"])
        ref_fixed = cc.run_eval(cc.ref_impl(), fixed)
        assert ref_fixed.exc is None, ref_fixed.exc
        cc.ours_only("deviation rasterise-needed-cells")
        ours = cc.run_eval(cc.ours_impl(), case)
        assert ours.exc is None, ours.exc
        # ours evaluates what pycocotools would have, had it not rasterised that annotation
        _assert_same_evaluation(ref_fixed, ours, f"{'/'.join(parts)} {iou_type}")
        d = cc.compare_runs(ref_fixed, cc.run_eval(cc.ours_impl(), fixed))
        assert not d, f"{'/'.join(parts)} {iou_type} without the shadowed ids:\n{d.report()}"
        return
    ours = cc.run_eval(cc.ours_impl(), case)
    d = cc.compare_runs(ref, ours)
    if ref.exc is not None:
        # pycocotools cannot evaluate this file: ours must fail in the same phase with the same
        # kind of exception, or with an error of its own (MaskCodecError) saying why
        from maskcodecs.errors import MaskCodecError

        phase, exc = ref.exc
        assert ours.exc is not None, (f"pycocotools fails in {phase} with {exc!r}; "
                                      f"maskcodecs did not fail")
        ok = (cc.same_exception(exc, ours.exc[1]) is None
              or isinstance(ours.exc[1], MaskCodecError) and str(ours.exc[1]))
        assert ok, f"pycocotools: {exc!r} in {phase}; maskcodecs: {ours.exc[1]!r} in {ours.exc[0]}"
        pytest.skip(f"pycocotools cannot evaluate {'/'.join(parts)} ({iou_type}): "
                    f"{type(exc).__name__}: {exc} in {phase}; maskcodecs: "
                    f"{type(ours.exc[1]).__name__}: {ours.exc[1]}")
    assert not d, f"{'/'.join(parts)} {iou_type}:\n{d.report()}"
    assert len(ours.E.evalImgs) == len(ref.E.evalImgs)


@pytest.mark.realdata
@pytest.mark.parametrize("parts", [p for p in REAL_COCO_FILES if p[0] == "labelbox"],
                         ids=lambda p: "/".join(p))
def test_real_file_custom_params(parts):
    """A real file with the parameters torchmetrics and detectron2 users change."""
    for iou_type in ("bbox", "segm"):
        case = _real_case(parts, iou_type)
        case["params"] = {"iouThrs": np.array([0.5, 0.75]), "recThrs": np.linspace(0, 1, 11),
                          "maxDets": [1, 5, 20]}
        cc.differential(case)
        case["params"] = {"useCats": 0}
        cc.differential(case)

"""maskcodecs.lvis against lvis-api 0.5.3 (the oracle) on random LVIS-shaped datasets, on the
generated LVIS workload and on a real COCO file made LVIS-shaped; init_as_lvis in a fresh
interpreter; error cases.

lvis-api's accumulate calls ``np.float``, removed in numpy 1.24: the ``lvis_api`` fixture sets
``np.float = float`` while the oracle runs and restores numpy afterwards (ours needs no such
alias). lvis-api mutates its inputs, so every input is deep-copied for each side; its
``logger.warn`` calls (a DeprecationWarning) are silenced around the oracle only.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskcodecs
from maskcodecs import errors
from maskcodecs import lvis as M
from maskcodecs import mask as mm

L = pytest.importorskip("lvis")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import load_json  # noqa: E402
from test_init_as_pycocotools import run_py  # noqa: E402

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
seeds = st.integers(0, 2**32 - 1)


@pytest.fixture
def lvis_api():
    """The lvis package with numpy's removed ``np.float`` alias restored while it runs."""
    had = "float" in np.__dict__
    old = np.__dict__.get("float")
    np.float = float  # type: ignore[attr-defined]
    try:
        yield L
    finally:
        if had:
            np.float = old  # type: ignore[attr-defined]
        else:
            del np.float  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# random LVIS-shaped cases
# ---------------------------------------------------------------------------------------------

def _poly_in(rng, x, y, w, h):
    nv = int(rng.integers(3, 9))
    t = np.sort(rng.uniform(0, 2 * np.pi, nv))
    px = x + w / 2 + np.cos(t) * w / 2
    py = y + h / 2 + np.sin(t) * h / 2
    return np.round(np.stack([px, py], 1).reshape(-1), 1).tolist()


def _segm(rng, poly, h, w, kind):
    """A polygon segmentation as a list, a compressed RLE or an uncompressed RLE."""
    if kind == 0:
        return [poly]
    rle = mm.frPyObjects([poly], h, w)[0]
    if kind == 1:
        return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
    m = mm.decode(rle)
    flat = m.reshape(-1, order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    edges = np.concatenate([[0], change, [len(flat)]])
    counts = np.diff(edges).tolist()
    if flat[0] == 1:
        counts = [0] + counts
    return {"size": [h, w], "counts": counts}


def make_case(seed: int, iou_type: str, many: int = 0):
    """A random LVIS-shaped dataset and results: frequencies r/c/f, gt with ignore, negative
    and not-exhaustive categories per image, tied scores, more than `many` detections on some
    image (when given)."""
    rng = np.random.default_rng(seed)
    n_img, n_cat = int(rng.integers(1, 7)), int(rng.integers(1, 7))
    cats = [{"id": c + 1, "frequency": "rcf"[int(rng.integers(3))]} for c in range(n_cat)]
    images, anns, res = [], [], []
    with_box = rng.random() < 0.3  # segm results with a bbox: area = w * h (all or none)
    for i in range(n_img):
        h, w = int(rng.integers(20, 80)), int(rng.integers(20, 80))
        cs = (rng.permutation(n_cat) + 1).tolist()
        npos = int(rng.integers(0, n_cat + 1))
        pos, rest = cs[:npos], cs[npos:]
        neg = [c for c in rest if rng.random() < 0.5]
        nel = [c for c in pos if rng.random() < 0.3] + \
            [c for c in rest if rng.random() < 0.1]
        images.append({"id": 10 * (i + 1), "height": h, "width": w, "neg_category_ids": neg,
                       "not_exhaustive_category_ids": nel})
        for c in pos:
            for _ in range(int(rng.integers(1, 4))):
                bw, bh = rng.uniform(2, w * 0.7), rng.uniform(2, h * 0.7)
                x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
                box = [round(x, 1), round(y, 1), round(bw, 1), round(bh, 1)]
                poly = _poly_in(rng, *box)
                a = {"id": len(anns) + 1, "image_id": 10 * (i + 1), "category_id": c,
                     "bbox": box}
                if iou_type == "segm":
                    a["segmentation"] = _segm(rng, poly, h, w, int(rng.integers(3)))
                    a["area"] = float(mm.area(mm.frPyObjects([poly], h, w))[0])
                else:
                    a["area"] = float(rng.choice([box[2] * box[3], 1024.0, 0.0]
                                                 if rng.random() < 0.1 else [box[2] * box[3]]))
                r = rng.random()
                if r < 0.15:
                    a["ignore"] = 1
                elif r < 0.25:
                    a["ignore"] = 0
                anns.append(a)
        n_det = int(rng.integers(0, 10)) + (many + int(rng.integers(1, 4)) if many and i == 0
                                            else 0)
        my_gts = [a for a in anns if a["image_id"] == 10 * (i + 1)]
        for _ in range(n_det):
            if my_gts and rng.random() < 0.6:
                g = my_gts[int(rng.integers(len(my_gts)))]
                x, y, bw, bh = g["bbox"]
                j = rng.normal(0, 0.1, 4)
                box = [x + j[0] * bw, y + j[1] * bh, bw * (1 + j[2]), bh * (1 + j[3])]
                c = g["category_id"] if rng.random() < 0.8 else int(rng.integers(1, n_cat + 1))
            else:
                bw, bh = rng.uniform(2, w * 0.7), rng.uniform(2, h * 0.7)
                box = [rng.uniform(0, w - bw), rng.uniform(0, h - bh), bw, bh]
                c = int(rng.integers(1, n_cat + 1))
            box = [round(float(v), 1) for v in box]
            d = {"image_id": 10 * (i + 1), "category_id": c,
                 "score": float(rng.choice([0.1, 0.5, 0.5, 0.9, round(rng.random(), 2)]))}
            if iou_type == "segm":
                poly = _poly_in(rng, max(box[0], 0), max(box[1], 0), max(box[2], 1),
                                max(box[3], 1))
                rle = mm.frPyObjects([poly], h, w)[0]
                d["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode()}
                if with_box:
                    d["bbox"] = box
            else:
                d["bbox"] = box
            res.append(d)
    rng.shuffle(res)
    return {"images": images, "categories": cats, "annotations": anns}, res


def _tune(params, knob: int) -> None:
    if knob == 1:
        params.area_rng = [[0, 1e10], [0, 300], [300, 1e10]]
        params.area_rng_lbl = ["all", "small", "large"]
    elif knob == 2:
        params.iou_thrs = np.array([0.3, 0.5, 0.75])
    elif knob == 3:
        params.rec_thrs = np.linspace(0, 1, 11)
        params.img_ids = params.img_ids[::2]
    elif knob == 4:
        params.cat_ids = params.cat_ids[1:]


def _run(lib, gt, res, iou_type, max_dets, knob):
    """run() of one implementation: (results, precision, recall, printed lines)."""
    g = lib.LVIS(gt)
    dt = lib.LVISResults(g, res, max_dets=max_dets) if max_dets is not None else res
    ev = lib.LVISEval(g, dt, iou_type)
    _tune(ev.params, knob)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ev.run()
        ev.print_results()
    return dict(ev.get_results()), ev.eval["precision"], ev.eval["recall"], out.getvalue()


def compare(tmp_path, ds, res, iou_type, max_dets=None, knob=0, as_files=True):
    gt_file = tmp_path / "gt.json"
    res_file = tmp_path / "res.json"
    gt_file.write_text(json.dumps(ds))
    res_file.write_text(json.dumps(res))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # lvis-api's logger.warn
        ref = _run(L, str(gt_file), str(res_file) if res else copy.deepcopy(res), iou_type,
                   max_dets, knob) if res else None
    inputs = [(str(gt_file), str(res_file))] if as_files else []
    inputs.append((copy.deepcopy(ds), copy.deepcopy(res)))
    for gt_in, res_in in inputs:
        got = _run(M, gt_in, res_in, iou_type, max_dets, knob)
        if ref is None:
            continue
        assert got[0] == ref[0], (got[0], ref[0])
        assert np.array_equal(got[1], ref[1])
        assert np.array_equal(got[2], ref[2])
        assert got[3] == ref[3]
    return ref


@SETTINGS
@given(seed=seeds, knob=st.integers(0, 4), max_dets=st.sampled_from([None, 3, 5, -1]))
def test_bbox_random(lvis_api, tmp_path_factory, seed, knob, max_dets):
    ds, res = make_case(seed, "bbox")
    compare(tmp_path_factory.mktemp("c"), ds, res, "bbox", max_dets, knob)


@SETTINGS
@given(seed=seeds, knob=st.integers(0, 4), max_dets=st.sampled_from([None, 4, -1]))
def test_segm_random(lvis_api, tmp_path_factory, seed, knob, max_dets):
    ds, res = make_case(seed, "segm")
    compare(tmp_path_factory.mktemp("c"), ds, res, "segm", max_dets, knob)


@settings(SETTINGS, max_examples=4)
@given(seed=seeds, iou_type=st.sampled_from(["bbox", "segm"]))
def test_more_than_300_on_an_image(lvis_api, tmp_path_factory, seed, iou_type):
    """The default cap: one image with more than 300 results (tied scores at the cut)."""
    ds, res = make_case(seed, iou_type, many=300)
    compare(tmp_path_factory.mktemp("c"), ds, res, iou_type)


def test_capped_order_is_pythons_stable_sort():
    rows = M._capped_rows(np.array([5, 3, 5, 5, 3, 5]), np.array([0.1, 0.2, 0.9, 0.1, 0.2, 0.9]),
                          2)
    anns = [{"image_id": i, "score": s, "n": n} for n, (i, s) in
            enumerate(zip([5, 3, 5, 5, 3, 5], [0.1, 0.2, 0.9, 0.1, 0.2, 0.9]))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        want = L.LVISResults.limit_dets_per_image(None, anns, 2)
    assert rows.tolist() == [a["n"] for a in want] == [2, 5, 1, 4]


# ---------------------------------------------------------------------------------------------
# the generated LVIS workload, a real file
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workload():
    import make_lvis_workload as mlw

    return mlw.ensure(mlw.CACHE / "n120-seed0", images=120, seed=0)


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_generated_workload(lvis_api, workload, iou_type):
    gt, dt = str(workload / "lvis_gt.json"), str(workload / f"dets_{iou_type}.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ref = L.LVISEval(gt, dt, iou_type)
        ref.run()
    ours = M.LVISEval(gt, dt, iou_type)
    ours.run()
    assert dict(ours.results) == dict(ref.results)
    assert np.array_equal(ours.eval["precision"], ref.eval["precision"])
    assert np.array_equal(ours.eval["recall"], ref.eval["recall"])
    assert ours.results["AP"] > 0.1


def test_real_coco_file_made_lvis_shaped(lvis_api, tmp_path):
    """labelbox/coco/rle.json (real RLE annotations) with frequencies and negative lists
    added, detections derived from its ground truth."""
    ds = load_json("labelbox", "coco", "rle.json")
    rng = np.random.default_rng(7)
    cat_ids = [c["id"] for c in ds["categories"]]
    for c in ds["categories"]:
        c["frequency"] = "rcf"[int(rng.integers(3))]
    for img in ds["images"]:
        img["neg_category_ids"] = [c for c in cat_ids if rng.random() < 0.3]
        img["not_exhaustive_category_ids"] = [c for c in cat_ids if rng.random() < 0.2]
    res = []
    for a in ds["annotations"]:
        for _ in range(2):
            x, y, w, h = a["bbox"]
            j = rng.normal(0, 0.05, 4)
            res.append({"image_id": a["image_id"], "category_id": a["category_id"],
                        "bbox": [x + j[0] * w, y + j[1] * h, w * (1 + j[2]), h * (1 + j[3])],
                        "score": float(round(rng.random(), 1))})
    for iou_type in ("bbox",):
        compare(tmp_path, ds, res, iou_type)


# ---------------------------------------------------------------------------------------------
# objects and attributes
# ---------------------------------------------------------------------------------------------

def test_lvis_index_attributes(tmp_path):
    ds, res = make_case(3, "bbox")
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(ds))
    for src in (str(path), path, copy.deepcopy(ds)):
        g = M.LVIS(src)
        assert g.dataset == ds
        assert set(g.anns) == {a["id"] for a in ds["annotations"]}
        assert g.get_img_ids() == [i["id"] for i in ds["images"]]
        assert g.get_cat_ids() == [c["id"] for c in ds["categories"]]
        img = ds["images"][0]["id"]
        assert g.get_ann_ids(img_ids=[img]) == [a["id"] for a in ds["annotations"]
                                                if a["image_id"] == img]
        assert g.load_imgs([img]) == [ds["images"][0]]
        assert dict(g.img_ann_map).keys() == {a["image_id"] for a in ds["annotations"]}
        assert sum(map(len, g.cat_img_map.values())) == len(ds["annotations"])


def test_results_dicts_completed_like_lvis_api(lvis_api, tmp_path):
    ds, res = make_case(11, "bbox", many=4)
    path = tmp_path / "res.json"
    path.write_text(json.dumps(res))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        gt_ref = L.LVIS.__new__(L.LVIS)
        gt_ref.dataset = copy.deepcopy(ds)
        want = L.LVISResults(gt_ref, copy.deepcopy(res), max_dets=4).dataset["annotations"]
    g = M.LVIS(copy.deepcopy(ds))
    for src in (copy.deepcopy(res), str(path)):
        got = M.LVISResults(g, src, max_dets=4)
        assert got.dataset["annotations"] == want
        assert got.load_anns([1])[0] == want[0]


def test_init_as_lvis_in_a_fresh_interpreter():
    out = run_py("""
        import sys
        import maskcodecs
        import maskcodecs.lvis
        assert "lvis" not in sys.modules
        h = maskcodecs.init_as_lvis()
        import lvis
        import lvis.lvis, lvis.results, lvis.eval
        from lvis import LVIS, LVISResults, LVISEval
        from lvis.eval import Params
        assert LVIS is maskcodecs.lvis.LVIS and LVISResults is maskcodecs.lvis.LVISResults
        assert LVISEval is maskcodecs.lvis.LVISEval is lvis.eval.LVISEval
        assert lvis.lvis.LVIS is LVIS and lvis.results.LVISResults is LVISResults
        assert Params is maskcodecs.lvis.Params
        assert lvis.eval.mask_utils is maskcodecs.mask
        h.undo()
        assert not any(m == "lvis" or m.startswith("lvis.") for m in sys.modules)
        h.undo()
        print("ok")
    """)
    assert out.stdout.strip().endswith("ok")


def test_init_as_lvis_context_manager():
    with maskcodecs.init_as_lvis():
        from lvis import LVISEval
        assert LVISEval is M.LVISEval
    import lvis
    assert lvis.LVISEval is not M.LVISEval


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------

def _ds():
    ds, _res = make_case(5, "bbox")
    return ds


def test_errors(tmp_path):
    ds = _ds()
    top = tmp_path / "list.json"
    top.write_text("[1, 2]")
    with pytest.raises(errors.LVISFormatError) as e:
        M.LVIS(str(top))
    assert isinstance(e.value, AssertionError)
    with pytest.raises(errors.LVISTypeError):
        M.LVIS([1, 2])
    with pytest.raises(errors.LVISFieldError) as e:
        M.LVIS({"images": [], "categories": []})
    assert isinstance(e.value, KeyError)
    g = M.LVIS(ds)
    with pytest.raises(errors.EvaluationError) as e:
        M.LVISEval(g, [], "keypoints")
    assert isinstance(e.value, ValueError)
    with pytest.raises(errors.LVISTypeError):
        M.LVISEval(3, [], "bbox")
    with pytest.raises(errors.LVISTypeError):
        M.LVISEval(g, 3, "bbox")
    with pytest.raises(errors.LVISFormatError):
        M.LVISResults(g, {"not": "a list"})
    with pytest.raises(errors.LVISFormatError) as e:
        M.LVISResults(g, [{"image_id": -5, "category_id": 1, "bbox": [0, 0, 1, 1],
                           "score": 1}])
    assert isinstance(e.value, AssertionError)
    path = tmp_path / "res.json"
    path.write_text(json.dumps([{"image_id": -5, "category_id": 1, "bbox": [0, 0, 1, 1],
                                 "score": 1}]))
    with pytest.raises(errors.LVISFormatError):
        M.LVISResults(g, str(path))
    with pytest.raises(errors.LVISFieldError) as e:
        M.LVISResults(g, [{"image_id": ds["images"][0]["id"], "category_id": 1,
                           "bbox": [0, 0, 1, 1]}] * 400)  # no score: the cut reads it
    assert isinstance(e.value, KeyError)
    ev = M.LVISEval(g, [], "bbox")
    with pytest.raises(errors.LVISOrderError) as e:
        ev.summarize()
    assert isinstance(e.value, RuntimeError)
    with pytest.raises(errors.LVISOrderError) as e:
        ev.accumulate()
    assert isinstance(e.value, TypeError)
    bad = copy.deepcopy(ds)
    del bad["images"][0]["neg_category_ids"]
    with pytest.raises(errors.LVISFieldError, match="neg_category_ids"):
        M.LVISEval(M.LVIS(bad), [], "bbox").evaluate()
    bad = copy.deepcopy(ds)
    bad["categories"][0]["frequency"] = "x"
    with pytest.raises(errors.EvaluationError):
        M.LVISEval(M.LVIS(bad), [], "bbox").evaluate()
    ev = M.LVISEval(g, [], "bbox")
    ev.params.img_ids = [123456]
    with pytest.raises(errors.LVISFieldError):
        ev.evaluate()


def test_empty_results_evaluate_as_no_detections():
    """Deviation: lvis-api raises IndexError on an empty result list; ours has no detections."""
    ds = _ds()
    ev = M.LVISEval(M.LVIS(ds), [], "bbox")
    ev.run()
    gts = any(a["area"] > 0 for a in ds["annotations"])
    assert ev.results["AP"] == (0 if gts else -1)


def test_numpy_float_not_needed():
    assert "float" not in np.__dict__ or np.__dict__["float"] is float
    ds, res = make_case(9, "bbox")
    ev = M.LVISEval(M.LVIS(ds), res, "bbox")
    ev.run()
    assert list(ev.results) == ["AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc",
                                "APf", "AR@300", "ARs@300", "ARm@300", "ARl@300"]

"""maskcodecs.coco.COCO against pycocotools 2.0.11's COCO: construction and index, printed lines,
every query helper, loadRes (path, list, Nx7 array, each result branch), annToRLE/annToMask.

Inputs are deep-copied for each implementation; outputs are compared type-strictly.
"""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pycocotools.coco")

import cocoeval_cases as cc  # noqa: E402

SETTINGS = settings(max_examples=cc.EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
seeds = st.integers(0, 2**32 - 1)
iou_types = st.sampled_from(["bbox", "segm", "keypoints"])


def both(fn):
    """fn(impl) for pycocotools and maskcodecs: [(result, exc, stdout, warnings)] x 2."""
    return [cc.call(lambda I=I: fn(I)) for I in (cc.ref_impl(), cc.ours_impl())]


def assert_same_outcome(results, what: str = "", *, masked: bool = True, ids_as_set=False) -> None:
    (r, re_, rt, _), (o, oe, ot, _) = results
    d = cc.Differ()
    if re_ is not None or oe is not None:
        if re_ is None or oe is None:
            d.add(f"{what} exception", f"ref {re_!r} ours {oe!r}")
        else:
            msg = cc.same_exception(re_, oe)
            if msg:
                d.add(f"{what} exception", msg)
    else:
        if ids_as_set and isinstance(r, list):
            if type(o) is not list:
                d.add(what, f"ours returned {type(o).__name__}, ref list")
            else:
                cc.deep_compare(sorted(r, key=repr), sorted(o, key=repr), what, d)
                if len(set(o)) != len(o):
                    d.add(what, f"ours has duplicates {o!r}")
        else:
            cc.deep_compare(r, o, what, d)
    if (cc.mask_timing(rt) if masked else rt) != (cc.mask_timing(ot) if masked else ot):
        d.add(f"{what} stdout", f"ref {rt!r} ours {ot!r}")
    assert not d, d.report()


def pick(impl, ref_obj, ours_obj):
    """The object of impl's side."""
    return ref_obj if impl.name == "pycocotools" else ours_obj


def dataset_for(seed: int, iou_type: str, knobs: dict) -> dict:
    return cc.build_case(seed, iou_type, knobs)["gt"]


def pair(dataset: dict, mode: str = "dataset"):
    """(ref COCO, ours COCO) built from deep copies of dataset; asserts the same printed lines."""
    res = both(lambda I: cc.make_coco(I, copy.deepcopy(dataset), mode))
    assert_same_outcome([(None, e, t, w) for (_, e, t, w) in res], f"COCO({mode})")
    return res[0][0], res[1][0]


def assert_same_index(r, o, d: cc.Differ | None = None) -> None:
    d = d or cc.Differ()
    cc.deep_compare(cc.index_snapshot(r), cc.index_snapshot(o), "index", d)
    cc.deep_compare(r.dataset, o.dataset, "dataset", d)
    cc.deep_compare({k: v for k, v in r.anns.items()}, {k: v for k, v in o.anns.items()}, "anns", d)
    cc.deep_compare(dict(r.imgs), dict(o.imgs), "imgs", d)
    cc.deep_compare(dict(r.cats), dict(o.cats), "cats", d)
    assert not d, d.report()


def assert_index_shares_objects(c) -> None:
    """E5: index entries are the dataset's own objects."""
    for a in c.dataset.get("annotations", []):
        assert any(x is a for x in c.imgToAnns[a["image_id"]])
    last = {a["id"]: a for a in c.dataset.get("annotations", [])}
    for k, a in last.items():
        assert c.anns[k] is a
    for img in c.dataset.get("images", []):
        assert c.imgs[img["id"]] is img or c.imgs[img["id"]]["id"] == img["id"]


# ---------------------------------------------------------------------------------------------
# construction and index
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(seed=seeds, knobs=cc.case_knobs, iou_type=iou_types,
       mode=st.sampled_from(["dataset", "file", "path"]))
def test_construct_and_index_random(seed, knobs, iou_type, mode):
    ds = dataset_for(seed, iou_type, knobs)
    if mode != "dataset":  # through JSON: no bytes counts
        ds = json.loads(json.dumps(ds, default=lambda b: b.decode("ascii")))
    r, o = pair(ds, mode)
    assert_same_index(r, o)
    assert_index_shares_objects(o)


def test_no_argument():
    res = both(lambda I: I.COCO())
    assert_same_outcome([(None, e, t, w) for (_, e, t, w) in res])
    o = res[1][0]
    assert res[1][2] == ""  # E3: prints nothing
    for attr in ("dataset", "anns", "cats", "imgs"):
        assert getattr(o, attr) == {} and isinstance(getattr(o, attr), dict)
    assert o.imgToAnns[123] == [] and o.catToImgs[5] == []  # list-defaulting maps


def test_printed_lines_of_coco_path(tmp_path):
    ds = dataset_for(1, "segm", _knobs())
    p = tmp_path / "gt.json"
    p.write_text(json.dumps(ds, default=lambda b: b.decode("ascii")))
    res = both(lambda I: I.COCO(str(p)))
    assert_same_outcome([(None, e, t, w) for (_, e, t, w) in res])
    lines = cc.mask_timing(res[1][2]).splitlines()
    assert lines == ["loading annotations into memory...", "Done (t=X.XXs)", "creating index...",
                     "index created!"]
    res = both(lambda I: I.COCO(p))  # pathlib.Path: open() takes it in pycocotools too
    assert_same_outcome([(None, e, t, w) for (_, e, t, w) in res])
    assert_same_index(res[0][0], res[1][0])


@pytest.mark.parametrize("content", ["[1, 2]", "3", '"x"', "null", "{bad json"])
def test_bad_annotation_file(tmp_path, content):
    p = tmp_path / "gt.json"
    p.write_text(content)
    assert_same_outcome(both(lambda I: I.COCO(str(p))), "COCO(bad file)")


def test_missing_annotation_file(tmp_path):
    assert_same_outcome(both(lambda I: I.COCO(str(tmp_path / "nope.json"))), "COCO(missing)")


def test_coco_from_dict_is_not_copied():
    cc.ours_only("COCO(dict)")
    ds = dataset_for(7, "bbox", _knobs())
    res = cc.call(lambda: cc.ours_impl().COCO(ds))
    o, exc = res[0], res[1]
    assert exc is None, exc
    assert o.dataset is ds
    assert_index_shares_objects(o)
    r, _ = pair(ds)
    d = cc.Differ()
    cc.deep_compare(cc.index_snapshot(r), cc.index_snapshot(o), "index", d)
    assert not d, d.report()


def test_dataset_assigned_then_create_index():
    ds = dataset_for(3, "segm", _knobs())
    r, o = pair(ds)
    more = copy.deepcopy(ds)
    more["annotations"] = more["annotations"][:1]
    res = both(lambda I: _reindex(r if I.name == "pycocotools" else o, copy.deepcopy(more)))
    assert_same_outcome([(None, e, t, w) for (_, e, t, w) in res])
    assert_same_index(r, o)


def _reindex(c, ds):
    c.dataset = ds
    c.createIndex()


@pytest.mark.parametrize("drop", ["annotations", "categories", "images", "info"])
def test_partial_datasets(drop):
    ds = dataset_for(11, "bbox", _knobs())
    del ds[drop]
    r, o = pair(ds)
    assert_same_index(r, o)
    assert_same_outcome(both(lambda I: pick(I, r, o).getAnnIds()), "getAnnIds")
    assert_same_outcome(both(lambda I: pick(I, r, o).getCatIds()), "getCatIds")
    assert_same_outcome(both(lambda I: pick(I, r, o).getImgIds()), "getImgIds")
    assert_same_outcome(both(lambda I: pick(I, r, o).info()), "info")


def test_duplicate_ids_and_cat_to_imgs():
    """E4: a later duplicate id overwrites; catToImgs keeps one image id per annotation."""
    ds = {"images": [{"id": 1}, {"id": 2}, {"id": 1, "file_name": "again"}],
          "categories": [{"id": 1}, {"id": 2}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "area": 5, "iscrowd": 0},
                          {"id": 2, "image_id": 1, "category_id": 1, "area": 5, "iscrowd": 0},
                          {"id": 2, "image_id": 2, "category_id": 2, "area": 5, "iscrowd": 0}]}
    r, o = pair(ds)
    assert_same_index(r, o)
    assert dict(o.catToImgs) == {1: [1, 1], 2: [2]}
    assert o.imgs[1]["file_name"] == "again" and o.anns[2]["image_id"] == 2


def test_float_ids_index():
    ds = {"images": [{"id": 1.0}, {"id": 2}], "categories": [{"id": 1.0, "name": "a"}],
          "annotations": [{"id": 1.0, "image_id": 1.0, "category_id": 1.0, "area": 5.0,
                           "iscrowd": 0}, {"id": 2, "image_id": 2, "category_id": 1,
                                           "area": 5, "iscrowd": 0}]}
    r, o = pair(ds)
    assert_same_index(r, o)
    queries = (lambda c: c.getAnnIds(imgIds=[1]), lambda c: sorted(c.getImgIds(catIds=[1])),
               lambda c: c.loadImgs([1]), lambda c: c.loadAnns(1),
               lambda c: c.getCatIds(catIds=1))
    for query in queries:
        assert query(o) == query(r), "float ids"


def test_info():
    ds = dataset_for(5, "bbox", _knobs())
    ds["info"] = {"year": 2017, "version": "1.0", "description": "x", "nested": {"a": [1, 2]}}
    r, o = pair(ds)
    assert_same_outcome(both(lambda I: pick(I, r, o).info()), "info",
                        masked=False)


# ---------------------------------------------------------------------------------------------
# query helpers
# ---------------------------------------------------------------------------------------------

def _knobs(**over) -> dict:
    k = {"n_img": 5, "n_cat": 3, "max_gt": 6, "max_dt": 6, "p_crowd": 0.3, "p_ignore": 0.0,
         "p_boundary": 0.4, "tie_scores": True, "p_dup": 0.0, "nan_scores": False,
         "gt_id_zero": False, "float_coords": False, "gt_seg": "mixed", "dt_seg": "rle_str",
         "unknown_dt_cat": False, "nkpt": 3, "custom_sigmas": True, "kp_array": False,
         "dt_mode": "loadRes", "kw": False, "maxDets": 0, "iouThrs": None, "recThrs": None,
         "areaRng": 0, "useCats": None, "imgIds": None, "catIds": None, "acc_p": None,
         "again": None}
    k.update(over)
    return k


def _id_arg(draw, ids: list, unknown: int):
    kind = draw(st.sampled_from(["empty", "list", "scalar", "unknown", "dups", "tuple", "ndarray",
                                 "np_scalar", "mixed"]))
    if kind == "empty" or not ids:
        return []
    sub = draw(st.lists(st.sampled_from(ids), max_size=len(ids) + 1))
    return {"list": sub, "scalar": draw(st.sampled_from(ids)), "unknown": [unknown] + sub,
            "dups": sub + sub, "tuple": tuple(sub), "ndarray": np.array(sub, dtype=np.int64),
            "np_scalar": np.int64(draw(st.sampled_from(ids))),
            "mixed": sub + [unknown]}[kind]


@st.composite
def queries(draw, ds):
    img_ids = [i["id"] for i in ds["images"]]
    cat_ids = [c["id"] for c in ds["categories"]]
    names = [c["name"] for c in ds["categories"]] + ["nope"]
    sups = [c["supercategory"] for c in ds["categories"]] + ["nope"]
    out = []
    for _ in range(draw(st.integers(1, 6))):
        which = draw(st.sampled_from(["ann", "cat", "img", "loadAnns", "loadCats", "loadImgs"]))
        if which == "ann":
            area = draw(st.sampled_from([[], [0, 1e10], [1024, 9216], [0, 1024], [9216, 1e10],
                                         [1023, 1025], [500, 400], [2000.5, 1e5]]))
            crowd = draw(st.sampled_from([None, 0, 1, False, True]))
            out.append(("getAnnIds", dict(imgIds=_id_arg(draw, img_ids, 999),
                                          catIds=_id_arg(draw, cat_ids, 98), areaRng=area,
                                          iscrowd=crowd)))
        elif which == "cat":
            nm = draw(st.sampled_from(["empty", "list", "scalar", "substring"]))
            nms = {"list": draw(st.lists(st.sampled_from(names), max_size=3)),
                   "scalar": draw(st.sampled_from(names)),
                   "substring": "cat1cat2cat3cat11"}.get(nm, [])
            sp = draw(st.sampled_from(["empty", "list", "scalar"]))
            sps = {"list": draw(st.lists(st.sampled_from(sups), max_size=2)),
                   "scalar": draw(st.sampled_from(sups))}.get(sp, [])
            out.append(("getCatIds", dict(catNms=nms, supNms=sps,
                                          catIds=_id_arg(draw, cat_ids, 98))))
        elif which == "img":
            out.append(("getImgIds", dict(imgIds=_id_arg(draw, img_ids, 999),
                                          catIds=_id_arg(draw, cat_ids, 98))))
        else:
            pool = {"loadAnns": [a["id"] for a in ds["annotations"]], "loadCats": cat_ids,
                    "loadImgs": img_ids}[which]
            out.append((which, dict(ids=_id_arg(draw, pool, 10**6))))
    return out


@SETTINGS
@given(seed=seeds, knobs=cc.case_knobs, iou_type=iou_types, data=st.data())
def test_query_helpers_random(seed, knobs, iou_type, data):
    ds = dataset_for(seed, iou_type, knobs)
    r, o = pair(ds)
    for name, kwargs in data.draw(queries(ds)):
        for positional in (False, True):
            if positional:
                args, kw = tuple(kwargs.values()), {}
            else:
                args, kw = (), kwargs
            res = both(lambda I: getattr(pick(I, r, o), name)(
                *copy.deepcopy(args), **copy.deepcopy(kw)))
            set_like = name == "getImgIds" and any(len(np.atleast_1d(v)) for v in kwargs.values())
            assert_same_outcome(res, f"{name}({kwargs})", ids_as_set=set_like)
    # the default calls
    for name in ("getAnnIds", "getCatIds", "getImgIds"):
        assert_same_outcome(both(lambda I: getattr(pick(I, r, o), name)()),
                            name)


def test_get_ann_ids_strict_area_bounds():
    """E7: both bounds strict."""
    ds = {"images": [{"id": 1}], "categories": [{"id": 1}],
          "annotations": [{"id": i, "image_id": 1, "category_id": 1, "area": a, "iscrowd": 0}
                          for i, a in enumerate([1600, 2500, 2000, 1024, 9216], 1)]}
    r, o = pair(ds)
    for rng_ in ([1600, 2500], [1024, 9216], [0, 1e10], [1600.0, 2500.0]):
        assert_same_outcome(both(lambda I: pick(I, r, o).getAnnIds(
            areaRng=rng_)), f"areaRng={rng_}")
    assert o.getAnnIds(areaRng=[1600, 2500]) == [3]


def test_load_helpers_scalar_kinds():
    """E11: exact int -> one-element list, numpy int64 / float -> None, unknown -> KeyError."""
    ds = dataset_for(2, "bbox", _knobs())
    r, o = pair(ds)
    a_id, i_id, c_id = ds["annotations"][0]["id"], ds["images"][0]["id"], ds["categories"][0]["id"]
    for name, good in (("loadAnns", a_id), ("loadImgs", i_id), ("loadCats", c_id)):
        for arg in (good, np.int64(good), float(good), [good], (good,), np.array([good]), [],
                    10**7, [10**7], str(good), None, True):
            assert_same_outcome(both(lambda I: getattr(pick(I, r, o), name)(arg)),
                                f"{name}({arg!r})")
        assert getattr(o, name)(np.int64(good)) is None
        assert getattr(o, name)(good)[0] is getattr(o, name)([good])[0]


def test_get_img_ids_unknown_and_unvalidated():
    ds = dataset_for(4, "bbox", _knobs())
    r, o = pair(ds)
    assert o.getImgIds(imgIds=[5000]) == [5000]
    assert_same_outcome(both(lambda I: pick(I, r, o).getImgIds(imgIds=5000)))


# ---------------------------------------------------------------------------------------------
# loadRes
# ---------------------------------------------------------------------------------------------

def _load_res(I, gt_ds, res, via="list"):
    gt = cc.make_coco(I, copy.deepcopy(gt_ds))
    return gt, gt.loadRes(copy.deepcopy(res) if via == "list" else res)


@SETTINGS
@given(seed=seeds, knobs=cc.case_knobs, iou_type=iou_types,
       via=st.sampled_from(["loadRes", "file", "numpy"]))
def test_load_res_random(seed, knobs, iou_type, via):
    case = cc.build_case(seed, iou_type, knobs)
    if isinstance(case["dts"], np.ndarray):
        via = "numpy"
    elif via == "numpy" or via == "file" and '"bytes"' in cc.case_repr(case["dts"], 10**9):
        via = "loadRes"
    case["dt_mode"] = via  # an empty list goes to loadRes too: IndexError in both
    res = both(lambda I: cc.make_dt(I, cc.make_coco(I, copy.deepcopy(case["gt"])),
                                    copy.deepcopy(case)))
    assert_same_outcome([(None, e, t, w) for (_, e, t, w) in res], f"loadRes via {via}")
    r, o = res[0][0], res[1][0]
    if r is not None:
        assert_same_index(r, o)


def test_load_res_printed_lines_and_sharing():
    """E12/E13/E22: lines; images shared with the GT, info deep-copied, results list mutated
    in place (same list, same dicts)."""
    case = cc.build_case(9, "bbox", _knobs(max_dt=4))
    gt_ds = case["gt"]
    gt_ds["info"] = {"description": "x", "nested": [1, 2]}
    outs = []
    for I in (cc.ref_impl(), cc.ours_impl()):
        gt = cc.call(lambda: cc.make_coco(I, copy.deepcopy(gt_ds)))[0]
        dts = copy.deepcopy(case["dts"])
        res, exc, text, _ = cc.call(lambda: gt.loadRes(dts))
        assert exc is None, exc
        outs.append(cc.mask_timing(text))
        assert res.dataset["annotations"] is dts and res.dataset["annotations"][0] is dts[0]
        assert dts[0]["id"] == 1 and dts[0]["iscrowd"] == 0
        assert res.dataset["images"][0] is gt.dataset["images"][0]
        assert res.dataset["images"] is not gt.dataset["images"]
        assert res.dataset["info"] == gt.dataset["info"]
        assert res.dataset["info"] is not gt.dataset["info"]
        assert res.dataset["info"]["nested"] is not gt.dataset["info"]["nested"]
        assert res.dataset["categories"] is not gt.dataset["categories"]
    assert outs[0] == outs[1]
    assert outs[1].splitlines() == ["Loading and preparing results...", "DONE (t=X.XXs)",
                                    "creating index...", "index created!"]


def test_load_res_numpy_array():
    """E14: Nx7 rows, printed shape and progress, ids as int, bbox/score numpy float64."""
    gt_ds = cc.build_case(3, "bbox", _knobs())["gt"]
    img = gt_ds["images"][0]["id"]
    cat = gt_ds["categories"][0]["id"]
    arr = np.array([[img, 1, 2, 30, 40, 0.9, cat], [img, 5.5, 6, 7, 8, 0.25, cat]], np.float64)
    res = both(lambda I: _load_res(I, gt_ds, arr.copy(), via="numpy")[1])
    assert_same_outcome([(None, e, t, w) for (_, e, t, w) in res])
    r, o = res[0][0], res[1][0]
    assert_same_index(r, o)
    assert cc.mask_timing(res[1][2]).splitlines()[2:6] == [
        "Loading and preparing results...", "Converting ndarray to lists...", "(2, 7)", "0/2"]
    a = o.dataset["annotations"][0]
    assert type(a["image_id"]) is int and type(a["category_id"]) is int
    assert type(a["score"]) is np.float64 and type(a["bbox"][0]) is np.float64
    # loadNumpyAnnotations on its own, and bad shapes
    assert_same_outcome(both(lambda I: cc.make_coco(I, copy.deepcopy(gt_ds))
                             .loadNumpyAnnotations(arr.copy())), "loadNumpyAnnotations")
    for bad in (arr[:, :6], np.zeros((0, 7)), arr.astype(np.float32), arr.astype(np.int64)):
        assert_same_outcome(both(lambda I: _load_res(I, gt_ds, bad.copy(), via="numpy")[1].dataset),
                            f"loadRes(array {bad.shape} {bad.dtype})")
    # deviation numpy-1d-results: pycocotools reads data.shape[1] (IndexError); ours refuses the
    # shape with a COCOFormatError (an AssertionError and a ValueError), after the same lines
    (_, re_, rt, _), (_, oe, ot, _) = both(
        lambda I: _load_res(I, gt_ds, arr.reshape(-1).copy(), via="numpy"))
    assert isinstance(re_, IndexError), re_
    cc.ours_only("deviation numpy-1d-results")
    from maskcodecs.errors import COCOFormatError

    assert isinstance(oe, COCOFormatError), oe
    assert isinstance(oe, AssertionError) and isinstance(oe, ValueError) and str(oe)
    assert cc.mask_timing(ot) == cc.mask_timing(rt)


def test_load_res_from_path(tmp_path):
    case = cc.build_case(12, "segm", _knobs(dt_seg="rle_str", max_dt=5))
    p = tmp_path / "res.json"
    p.write_text(json.dumps(case["dts"]))
    res = both(lambda I: _load_res(I, case["gt"], str(p), via="path")[1])
    assert_same_outcome([(None, e, t, w) for (_, e, t, w) in res])
    assert_same_index(res[0][0], res[1][0])


def test_load_res_branches():
    """E17-E21: bbox / segm / keypoints / caption branches, decided by the first result."""
    import pycocotools.mask as pm

    gt_ds = {"images": [{"id": 1, "width": 40, "height": 30}, {"id": 2, "width": 40, "height": 30}],
             "categories": [{"id": 1, "name": "a"}], "annotations": [], "info": {"v": 1}}
    m = np.zeros((30, 40), np.uint8)
    m[3:9, 4:20] = 1
    rle = pm.encode(np.asfortranarray(m))
    kps = [1, 2, 2, 10, 4, 1, 5, 20, 0]
    variants = {
        "bbox": [{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
                 {"image_id": 2, "category_id": 1, "bbox": [1.5, 2, 3, 4.25], "score": 0.5,
                  "segmentation": [[1, 1, 5, 1, 5, 5]], "area": 3, "id": 9, "iscrowd": 1}],
        "segm": [{"image_id": 1, "category_id": 1, "segmentation": rle, "score": 0.3},
                 {"image_id": 1, "category_id": 1, "score": 0.3, "bbox": [0, 0, 1, 1],
                  "segmentation": {"size": [30, 40], "counts": rle["counts"].decode()}}],
        "segm_empty_bbox": [{"image_id": 1, "category_id": 1, "segmentation": rle, "bbox": [],
                             "score": 0.3}],
        "keypoints": [{"image_id": 1, "category_id": 1, "keypoints": kps, "score": 0.3},
                      {"image_id": 2, "category_id": 1, "keypoints": [1.5, 2, 1], "score": 0.3}],
        "caption": [{"image_id": 2, "caption": "a cat"}, {"image_id": 2, "caption": "b"}],
        "mixed_first_bbox": [{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
                             {"image_id": 1, "category_id": 1, "segmentation": rle, "score": 0.1}],
        "mixed_first_segm": [{"image_id": 1, "category_id": 1, "segmentation": rle, "score": 0.1},
                             {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}],
        "segm_polygon_no_bbox": [{"image_id": 1, "category_id": 1, "score": 0.1,
                                  "segmentation": [[1, 1, 5, 1, 5, 5]]}],
        "segm_uncompressed_no_bbox": [{"image_id": 1, "category_id": 1, "score": 0.1,
                                       "segmentation": {"size": [30, 40],
                                                        "counts": [5, 10, 1185]}}],
        "nothing": [{"image_id": 1, "category_id": 1, "score": 0.1}],
        "not_dicts": [[1, 2, 3]],
    }
    for name, results in variants.items():
        res = both(lambda I: _load_res(I, gt_ds, results)[1])
        assert_same_outcome([(None, e, t, w) for (_, e, t, w) in res], name)
        if res[0][1] is None:
            assert_same_index(res[0][0], res[1][0])


# ---------------------------------------------------------------------------------------------
# masks and showAnns
# ---------------------------------------------------------------------------------------------

@SETTINGS
@given(seed=seeds, knobs=cc.case_knobs)
def test_ann_to_rle_and_mask_random(seed, knobs):
    ds = dataset_for(seed, "segm", knobs)
    r, o = pair(ds)
    for ra, oa in zip(r.dataset["annotations"], o.dataset["annotations"]):
        for fn in ("annToRLE", "annToMask"):
            res = both(lambda I: getattr(pick(I, r, o), fn)(
                ra if I.name == "pycocotools" else oa))
            assert_same_outcome(res, f"{fn}({cc.case_repr(ra, 300)})")
        seg = ra["segmentation"]
        if isinstance(seg, dict) and not isinstance(seg["counts"], list):
            assert o.annToRLE(oa) is oa["segmentation"]  # E23: compressed RLE returned as is


def _rle_str(h: int, w: int) -> str:
    import pycocotools.mask as pm

    m = np.zeros((h, w), np.uint8)
    m[1:3, 2:7] = 1
    return pm.encode(np.asfortranarray(m))["counts"].decode()


def test_ann_to_rle_odd_inputs():
    ds = {"images": [{"id": 1, "width": 10, "height": 5}, {"id": 2}],
          "categories": [{"id": 1}],
          "annotations": [
              {"id": 1, "image_id": 1, "category_id": 1, "segmentation": []},
              {"id": 2, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 4, 1]]},
              {"id": 3, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 4, 1, 4, 4]] * 2},
              {"id": 4, "image_id": 1, "category_id": 1,
               "segmentation": {"size": [5, 10], "counts": [0, 10, 5, 5, 5, 5, 0, 10, 10, 0]}},
              {"id": 5, "image_id": 1, "category_id": 1,
               "segmentation": {"size": [5, 10], "counts": _rle_str(5, 10)}},
              {"id": 6, "image_id": 2, "category_id": 1, "segmentation": [[1, 1, 4, 1, 4, 4]]},
              {"id": 7, "image_id": 3, "category_id": 1, "segmentation": [[1, 1, 4, 1, 4, 4]]},
              {"id": 8, "image_id": 1, "category_id": 1},
              {"id": 9, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 4, 1, 4, 4, 2]]},
              {"id": 10, "image_id": 1, "category_id": 1,
               "segmentation": [[0, 0, 10, 0, 10, 5, 0, 5]]},
          ]}
    r, o = pair(ds)
    problems = []
    deviating = {1, 2}  # deviation annToRLE-odd, checked below
    for ra, oa in zip(r.dataset["annotations"], o.dataset["annotations"]):
        if ra["id"] in deviating:
            continue
        for fn in ("annToRLE", "annToMask"):
            res = both(lambda I: getattr(pick(I, r, o), fn)(
                copy.deepcopy(ra if I.name == "pycocotools" else oa)))
            try:
                assert_same_outcome(res, f"{fn}(ann {ra['id']})")
            except AssertionError as e:
                problems.append(str(e).splitlines()[0])
    assert not problems, "\n".join(problems)
    # segmentation []: pycocotools IndexError; ours a MaskCodecError.
    # [[1, 1, 4, 1]]: pycocotools takes the 4 numbers for a box (TypeError); ours one polygon.
    anns = {a["id"]: a for a in ds["annotations"]}
    for fn in ("annToRLE", "annToMask"):
        (_, e1, _, _), (_, e2, _, _) = (cc.call(lambda: getattr(r, fn)(copy.deepcopy(anns[i])))
                                        for i in (1, 2))
        assert isinstance(e1, IndexError), (fn, e1)
        assert isinstance(e2, TypeError), (fn, e2)
    cc.ours_only("deviation annToRLE-odd")
    from maskcodecs import mask as mm
    from maskcodecs.errors import MaskCodecError

    for fn in ("annToRLE", "annToMask"):
        _, e, _, _ = cc.call(lambda: getattr(o, fn)(copy.deepcopy(anns[1])))
        assert isinstance(e, MaskCodecError) and str(e), (fn, e)
    expected = mm.merge(mm.frPyObjects([[1, 1, 4, 1]], 5, 10))
    rle = o.annToRLE(copy.deepcopy(anns[2]))
    assert rle == expected, (rle, expected)
    m = o.annToMask(copy.deepcopy(anns[2]))
    d = cc.Differ()
    cc.deep_compare(mm.decode(expected), m, "annToMask(ann 2)", d)
    assert not d, d.report()


def test_show_anns():
    ds = {"images": [{"id": 1, "width": 10, "height": 5}], "categories": [{"id": 1}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "caption": "hello"},
                          {"id": 2, "image_id": 1, "category_id": 1, "caption": "world"}]}
    r, o = pair(ds)
    for anns in ([], r.dataset["annotations"], [{"id": 3}]):
        assert_same_outcome(both(lambda I: pick(I, r, o).showAnns(
            copy.deepcopy(anns))), "showAnns", masked=False)


def test_show_anns_instances_with_matplotlib():
    pytest.importorskip("matplotlib", reason="showAnns draws with matplotlib (not installed)")
    import matplotlib

    matplotlib.use("Agg")
    ds = dataset_for(21, "segm", _knobs(gt_seg="mixed"))
    r, o = pair(ds)
    for draw_bbox in (False, True):
        res = both(lambda I: pick(I, r, o).showAnns(
            copy.deepcopy(pick(I, r, o).dataset["annotations"]),
            draw_bbox=draw_bbox))
        assert (res[0][1] is None) == (res[1][1] is None)


def test_loading_restores_the_garbage_collector_state(tmp_path):
    import gc

    from maskcodecs.coco import COCO
    path = tmp_path / "gt.json"
    path.write_text('{"images": [{"id": 1}], "annotations": [], "categories": []}')
    was = gc.isenabled()
    try:
        for state in (True, False):
            (gc.enable if state else gc.disable)()
            with cc.captured():
                gt = COCO(str(path))
                gt.loadRes([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                             "score": 1.0}])
            assert gc.isenabled() is state
        gc.enable()
        with pytest.raises(Exception), cc.captured():  # noqa: B017 - any failure will do
            COCO(str(tmp_path / "missing.json"))
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


@SETTINGS
@given(st.integers(1, 12), st.integers(0, 30), seeds, st.sampled_from([1.0, 1e3, 1e8]))
def test_keypoint_boxes_kernel_is_load_res_formula(length, n, seed, scale):
    """The kernel's keypoint area/bbox per row equals loadRes' per-result numpy formula, and
    declines (None) on NaN, on coordinates beyond the exactness bound and on rows without a
    triple, so that the caller falls back to the per-result path."""
    from maskcodecs import _rle_core as core
    from maskcodecs._coco_api import _KP_EXACT

    rng = np.random.default_rng(seed)
    kp = np.round(rng.uniform(-scale, scale, (n, length)), int(rng.integers(0, 3)))
    if n and rng.random() < 0.2:
        kp[rng.integers(n), rng.integers(length)] = np.nan
    got = core.eval_keypoint_boxes(np.ascontiguousarray(kp), _KP_EXACT)
    declines = length < 3 or bool(np.isnan(kp).any()) or bool((np.abs(kp) >= _KP_EXACT).any())
    if declines and (n or length < 3):
        assert got is None
        return
    area, box = got
    for i, s in enumerate(kp.tolist()):
        x, y = s[0::3], s[1::3]
        x0, x1, y0, y1 = np.min(x), np.max(x), np.min(y), np.max(y)
        assert area[i] == (x1 - x0) * (y1 - y0)
        assert box[i].tolist() == [x0, y0, x1 - x0, y1 - y0]


def test_oks_terms_kernel_refuses_out_of_range_rows():
    """Row indices into the keypoint and box matrices are checked before the loop reads."""
    from maskcodecs import _rle_core as core

    k = 2
    gkp = np.array([[1.0, 2.0, 2.0, 5.0, 5.0, 0.0]])
    dkp = np.array([[4.0, 6.0, 1.0, 0.0, 0.0, 1.0]])
    box = np.ones((1, 4))
    sig = np.full(k, 0.5)
    off = np.array([0, 1], np.int64)
    dlen = np.array([1], np.int64)
    e = np.zeros(8)
    ok = np.array([0], np.int64)
    core.eval_oks_terms(gkp, ok, box, ok, np.ones(1), dkp, ok, sig, off,
                        np.array([0], np.int64), dlen, np.array([0, 1], np.int64), e)
    assert e[0] == (3.0 ** 2 + 4.0 ** 2) / (2 * 0.5) ** 2 / (1 + np.spacing(1)) / 2
    with pytest.raises(ValueError, match="out of range"):  # one visible term, no room for it
        core.eval_oks_terms(gkp, ok, box, ok, np.ones(1), dkp, ok, sig, off,
                            np.array([0], np.int64), dlen, np.array([0, 0], np.int64), e)
    with pytest.raises(ValueError, match="out of range"):  # the terms would run past e
        core.eval_oks_terms(gkp, ok, box, ok, np.ones(1), dkp, ok, sig, off,
                            np.array([0], np.int64), dlen, np.array([0, 1], np.int64), e[:0])
    for which in range(3):
        rows = [ok, ok, ok]
        rows[which] = np.array([1 if which != 1 else -1], np.int64)
        with pytest.raises(ValueError, match="out of range"):
            core.eval_oks_terms(gkp, rows[0], box, rows[1], np.ones(1), dkp, rows[2], sig, off,
                                np.array([0], np.int64), dlen, np.array([0, 1], np.int64), e)


def test_oks_terms_kernel_in_cell_parts_equals_one_call():
    """eval_oks_terms over cells c0..c1 in parts writes exactly the terms of one call (the
    evaluator runs the parts on threads); cells outside 0..C are refused."""
    from maskcodecs import _rle_core as core
    rng = np.random.default_rng(3)
    k, C = 3, 9
    G = rng.integers(0, 3, C)
    D = rng.integers(0, 4, C)
    goff = np.concatenate([[0], np.cumsum(G)]).astype(np.int64)
    doff = np.concatenate([[0], np.cumsum(D)[:-1]]).astype(np.int64)
    dlen = D.astype(np.int64)
    gkp = rng.uniform(0, 50, (goff[-1], 3 * k))
    gkp[:, 2::3] = rng.integers(0, 3, (goff[-1], k))
    dkp = rng.uniform(0, 50, (int(D.sum()), 3 * k))
    box = rng.uniform(1, 40, (goff[-1], 4))
    area = rng.uniform(1, 900, goff[-1])
    rows = np.arange(goff[-1], dtype=np.int64)
    drows = np.arange(int(D.sum()), dtype=np.int64)
    eoff = np.concatenate([[0], np.cumsum(G * D * k)]).astype(np.int64)
    sig = np.array([0.3, 0.5, 0.7])
    args = (gkp, rows, box, rows, area, dkp, drows, sig, goff, doff, dlen, eoff)
    one = np.full(int(eoff[-1]), -1.0)
    core.eval_oks_terms(*args, one)
    parts = np.full(int(eoff[-1]), -1.0)
    for c0, c1 in ((0, 2), (2, 3), (3, 3), (3, 9)):
        core.eval_oks_terms(*args, parts, c0, c1)
    assert np.array_equal(one, parts) and (one >= 0).sum() > 0
    for c0, c1 in ((-1, 2), (3, 2), (0, 10)):
        with pytest.raises(ValueError, match="outside"):
            core.eval_oks_terms(*args, parts, c0, c1)

"""Real third-party COCO files (read in place from ../shared/realdata) through the drop-in,
compared with pycocotools, and pycocotools itself running on maskcodecs via patch_pycocotools."""
from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pytest
from conftest import REAL_COCO_FILES, load_json, realdata

P = pytest.importorskip("pycocotools.mask")
coco_mod = pytest.importorskip("pycocotools.coco")
cocoeval_mod = pytest.importorskip("pycocotools.cocoeval")

import maskcodecs  # noqa: E402
from maskcodecs import mask as M  # noqa: E402

PATCH_FILES = [p for p in REAL_COCO_FILES if p[0] == "labelbox" or p[-1] in (
    "segm_crowd_rle.json", "segm_rle_gt.json", "segm_rle_crowd_correct.json", "segm_polygon.json")]


def _dataset(parts):
    d = load_json(*parts)
    if "DATA_TEST_DATASTRUCTURE_COCO" in d:
        d = d["DATA_TEST_DATASTRUCTURE_COCO"]
    return d


def _ann_rle(api, segm, h, w):
    """What pycocotools' COCO.annToRLE does, with `api` (pycocotools.mask or ours)."""
    if isinstance(segm, list):
        return api.merge(api.frPyObjects(segm, h, w))
    if isinstance(segm["counts"], list):
        return api.frPyObjects(segm, h, w)
    return segm


def _annotations(d):
    anns = list(d.get("annotations", []))
    for det in d.get("detections", []):
        if "segmentation" in det:
            anns.append(det)
    return anns


@pytest.mark.parametrize("parts", REAL_COCO_FILES, ids=lambda p: "/".join(p))
def test_segmentations_match_pycocotools(parts):
    d = _dataset(parts)
    sizes = {im["id"]: (im["height"], im["width"]) for im in d["images"]}
    compared = 0
    for ann in _annotations(d):
        segm = ann["segmentation"]
        h, w = sizes.get(ann["image_id"], tuple(segm["size"]) if isinstance(segm, dict) else (0, 0))
        try:
            ref = _ann_rle(P, segm, h, w)
        except (IndexError, TypeError):
            # pycocotools fails on `segmentation: []` and on a first polygon of 4 coordinates
            continue
        ours = _ann_rle(M, segm, h, w)
        if isinstance(ref["counts"], str):
            ref = {"size": ref["size"], "counts": ref["counts"].encode()}
            ours = {"size": ours["size"], "counts": ours["counts"].encode()}
        assert ours == ref
        assert M.area(ours) == P.area(ref)
        np.testing.assert_array_equal(M.toBbox(ours), P.toBbox(ref))
        np.testing.assert_array_equal(M.decode(ours), P.decode(ref))
        compared += 1
    # files whose every segmentation is one pycocotools cannot read (see above)
    if parts[-1] not in ("coco_instances_instances_train.json", "degenerate_1x1.json",
                         "gt_outside_bounds.json", "1x1_image.json"):
        assert compared > 0


def _coco(dataset):
    c = coco_mod.COCO()
    c.dataset = copy.deepcopy(dataset)
    with contextlib.redirect_stdout(io.StringIO()):
        c.createIndex()
    return c


@pytest.mark.parametrize("parts", PATCH_FILES, ids=lambda p: "/".join(p))
def test_ann_to_rle_through_patch(parts):
    d = _dataset(parts)
    c = _coco({k: v for k, v in d.items() if k != "detections"})
    expected = {}
    for aid, ann in c.anns.items():
        try:
            expected[aid] = c.annToRLE(ann)
        except IndexError:  # pycocotools fails on `segmentation: []`
            expected[aid] = None
    assert any(v is not None for v in expected.values())
    handle = maskcodecs.patch_pycocotools()
    try:
        assert coco_mod.maskUtils is M
        for aid, ann in c.anns.items():
            if expected[aid] is None:
                with pytest.raises((IndexError, TypeError)):
                    c.annToRLE(ann)  # the drop-in raises too (maskcodecs.coco.ann_to_rle does not)
                continue
            got = c.annToRLE(ann)
            assert got == expected[aid]
            np.testing.assert_array_equal(c.annToMask(ann), M.decode(expected[aid]))
    finally:
        handle.undo()
    assert coco_mod.maskUtils is not M
    import pycocotools.mask as pm

    assert pm is not M


@pytest.mark.parametrize("name", ["segm_crowd_rle.json", "segm_rle_crowd_correct.json",
                                  "segm_polygon.json",
                                  "crowd_polygon.json", "iscrowd_polygon_seg.json"])
def test_cocoeval_segm_identical_when_patched(name):
    d = load_json("hotcoco_adversarial", name)
    gt_data = {k: v for k, v in d.items() if k != "detections"}
    dets = d["detections"]
    if not dets:
        pytest.skip("no detections")

    def run():
        gt = _coco(gt_data)
        with contextlib.redirect_stdout(io.StringIO()):
            dt = gt.loadRes(copy.deepcopy(dets))
            ev = cocoeval_mod.COCOeval(gt, dt, "segm")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        return ev.stats

    ref = run()
    with maskcodecs.patch_pycocotools():
        ours = run()
    np.testing.assert_array_equal(ours, ref)


def _panoptic_ids(png_path):
    Image = pytest.importorskip("PIL.Image")
    rgb = np.asarray(Image.open(png_path).convert("RGB"), dtype=np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def test_panoptic_segments_encode_to_stored_counts():
    det = load_json("panopticapi", "panoptic_coco_detection_format.json")
    pan = load_json("panopticapi", "panoptic_examples.json")
    by_image = {a["image_id"]: a for a in pan["annotations"]}
    checked = 0
    stored = {(a["image_id"], a["segmentation"]["counts"]): a for a in det["annotations"]}
    for image_id, pa in by_image.items():
        ids = _panoptic_ids(realdata("panopticapi", "panoptic_examples", pa["file_name"]))
        for seg in pa["segments_info"]:
            m = ids == seg["id"]  # C-ordered bool mask, encoded in place
            r = M.encode(m)
            key = (image_id, r["counts"].decode())
            assert key in stored, f"segment {seg['id']} of image {image_id}"
            assert int(M.area(r)) == seg["area"]
            assert M.toBbox(r).tolist() == seg["bbox"]
            checked += 1
    assert checked == 50

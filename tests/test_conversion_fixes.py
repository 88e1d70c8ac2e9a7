"""Conversions that produced wrong datasets without a word (issue "Conversion as users meet
it"): each test reproduces the user's situation and decodes what was written.

1. Polygon output must never fill a hole: COCO unions an annotation's polygons, so a segment
   with a hole (or a part too thin to trace) is written as RLE, and the written annotation
   decoded by pycocotools equals the source mask; hole-free segments get polygons (the usual
   pixel-centre approximation, IoU reported by the assertions).
2. ``--iscrowd auto`` never infers crowd from the shape.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import realdata
from hypothesis import given, settings
from hypothesis import strategies as st

from maskcodecs import coco, polygons
from maskcodecs.cli import main

pcm = pytest.importorskip("pycocotools.mask", reason="pycocotools (the oracle) is absent")
Image = pytest.importorskip("PIL.Image", reason="Pillow writes the test PNGs")


def decoded(seg, h: int, w: int) -> np.ndarray:
    """What pycocotools' annToMask makes of a written segmentation."""
    if isinstance(seg, list):
        rle = pcm.merge(pcm.frPyObjects(seg, h, w))
    else:
        rle = pcm.frPyObjects(seg, h, w) if isinstance(seg["counts"], list) else \
            {"size": seg["size"], "counts": seg["counts"].encode()
             if isinstance(seg["counts"], str) else seg["counts"]}
    return pcm.decode(rle).astype(bool)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def has_hole(m: np.ndarray) -> bool:
    return any(c.is_hole for c in polygons.find_contours(m, mode="ccomp"))


def label_map() -> tuple[np.ndarray, dict[int, str]]:
    """A donut, a disc, a one-pixel-wide line, a single pixel, and two disconnected blobs
    with one value (the second with a one-pixel hole)."""
    lab = np.zeros((60, 80), dtype=np.uint8)
    yy, xx = np.mgrid[:60, :80]
    r = np.hypot(yy - 20, xx - 20)
    lab[(r < 15) & (r >= 6)] = 1                 # donut
    lab[np.hypot(yy - 20, xx - 55) < 12] = 2     # disc
    lab[45, 5:70] = 3                            # a line one pixel wide
    lab[55, 75] = 4                              # one pixel
    lab[50:58, 10:20] = 5                        # two parts, the second with a hole
    lab[50:58, 30:40] = 5
    lab[53, 34] = 0
    return lab, {1: "donut", 2: "disc", 3: "line", 4: "pixel", 5: "parts"}


def test_library_polygons_keep_holes_and_thin_parts_as_rle():
    lab, names = label_map()
    segs = coco.segments_from_label_map(lab)
    anns = coco.to_annotations(segs, image_id=1, polygons=True)
    h, w = lab.shape
    kinds = {}
    for a in anns:
        src = lab == a["category_id"]
        got = decoded(a["segmentation"], h, w)
        kinds[names[a["category_id"]]] = "polygon" if isinstance(a["segmentation"], list) \
            else "rle"
        assert a["iscrowd"] == 0
        if isinstance(a["segmentation"], list):
            assert not has_hole(src)
            assert iou(got, src) > 0.8, names[a["category_id"]]  # the usual approximation
        else:
            assert np.array_equal(got, src)  # exact, holes included
    assert kinds == {"donut": "rle", "disc": "polygon", "line": "rle", "pixel": "rle",
                     "parts": "rle"}


def test_coco_polygons_rule():
    m = np.zeros((12, 12), dtype=np.uint8, order="F")
    m[1:8, 1:8] = 1
    assert polygons.coco_polygons(pcm.encode(m)) == polygons.rle_to_polygons(pcm.encode(m))
    m[4, 4] = 0
    assert polygons.coco_polygons(pcm.encode(m)) is None            # a one-pixel hole
    m[4, 4] = 1
    m[10, 10] = 1                                                   # an extra lone pixel
    assert polygons.coco_polygons(pcm.encode(m)) is None
    # asking to drop small parts keeps the polygons of the big one
    assert len(polygons.coco_polygons(pcm.encode(m), min_area=2)) == 1
    with pytest.raises(ValueError, match="holes"):
        coco.to_annotations(coco.segments_from_label_map(m), image_id=1, polygons=True,
                            polygon_options={"holes": True})


def _masks_to_coco(tmp_path: Path, lab: np.ndarray, *extra: str, crowd: int = 0) -> dict:
    """masks-to-coco on one label PNG, value v to category v (v = crowd marked iscrowd)."""
    d = tmp_path / "masks"
    d.mkdir(exist_ok=True)
    Image.fromarray(lab).save(d / "a.png")
    table = tmp_path / "cats.json"
    table.write_text(json.dumps({
        "categories": [{"id": v, "name": f"c{v}"} for v in range(1, 6)],
        "values": {str(v): ({"category": v, "iscrowd": 1} if v == crowd else v)
                   for v in range(1, 6)}}))
    out = tmp_path / "out.json"
    assert main(["masks-to-coco", str(d), "-o", str(out), "--kind", "label", "--jobs", "1",
                 "--categories", str(table), "-q", *extra]) == 0
    return json.loads(out.read_text())


def test_cli_polygon_format_keeps_holes_and_never_marks_crowd(tmp_path):
    lab, names = label_map()
    doc = _masks_to_coco(tmp_path, lab, "--format", "polygon")
    h, w = lab.shape
    seen = set()
    for a in doc["annotations"]:
        v = a["category_id"]
        seen.add(names[v])
        src = lab == v
        got = decoded(a["segmentation"], h, w)
        assert a["iscrowd"] == 0, names[v]  # thin and disconnected ones too
        if isinstance(a["segmentation"], list):
            assert names[v] == "disc" and iou(got, src) > 0.8
        else:
            assert np.array_equal(got, src), names[v]
    assert seen == set(names.values())


def test_cli_iscrowd_only_when_asked_or_from_the_table(tmp_path):
    lab, _ = label_map()
    doc = _masks_to_coco(tmp_path, lab, "--format", "polygon", "--iscrowd", "1")
    assert {a["iscrowd"] for a in doc["annotations"]} == {1}
    doc = _masks_to_coco(tmp_path, lab, crowd=3)
    assert {a["category_id"]: a["iscrowd"] for a in doc["annotations"]} == \
        {1: 0, 2: 0, 3: 1, 4: 0, 5: 0}


@pytest.mark.realdata
def test_real_panoptic_segments_keep_their_holes():
    """Every segment of the 20 real panoptic PNGs: those with holes are written as RLE and
    decode to the source exactly; the others are polygons of the usual quality."""
    folder = realdata("labelbox", "coco", "masks")
    ious, holes = [], 0
    for png in sorted(folder.glob("*.png")):
        rgb = np.asarray(Image.open(png).convert("RGB"))
        h, w = rgb.shape[:2]
        segs = coco.segments_from_colour_map(rgb)
        for seg, a in zip(segs, coco.to_annotations(segs, image_id=1, polygons=True,
                                                    category_id=1)):
            src = pcm.decode(seg.rle).astype(bool)
            got = decoded(a["segmentation"], h, w)
            if isinstance(a["segmentation"], list):
                assert not has_hole(src)
                ious.append(iou(got, src))
            else:
                holes += has_hole(src)
                assert np.array_equal(got, src)
    assert holes > 10 and len(ious) > 100  # both kinds occur in real data
    assert float(np.median(ious)) > 0.85


# -- 5. an (N, H, W) stack given to the pycocotools-shaped encode ----------------------------------
def test_encode_warns_once_on_a_stack_that_looks_like_n_h_w(monkeypatch):
    from maskcodecs import errors, rle
    from maskcodecs import mask as mm
    monkeypatch.setattr(mm, "_layout_warned", False)
    stack = np.zeros((3, 40, 50), dtype=np.uint8)
    stack[1, 5:20, 5:30] = 1
    with pytest.warns(errors.MaskLayoutWarning, match="encode_batch"):
        got = mm.encode(stack)
    assert got == pcm.encode(np.asfortranarray(stack))  # the drop-in's semantics are kept
    assert len(got) == 50
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mm.encode(stack)                                     # once only
        monkeypatch.setattr(mm, "_layout_warned", False)
        mm.encode(np.asfortranarray(stack.transpose(1, 2, 0)))  # (h, w, n) as pycocotools
        mm.encode(np.zeros((2, 5, 3), dtype=np.uint8))      # small masks: no guess
    assert rle.encode_batch(stack)[1] == pcm.encode(np.asfortranarray(stack[1]))


# -- 7. one rule for colour images in segments_from_mask_image -------------------------------------
def test_mask_image_colour_rule_is_the_same_for_paths_and_arrays(tmp_path):
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    rgb[5:15, 5:25] = [250, 10, 10]   # bright red: luminance 81, red channel 250
    path = tmp_path / "c.png"
    Image.fromarray(rgb).save(path)
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    assert np.array_equal(coco._luminance(rgb), grey)           # Pillow's conversion
    rgba = np.dstack([rgb, rng.integers(0, 256, (30, 40), dtype=np.uint8)])
    assert np.array_equal(coco._luminance(rgba), np.asarray(Image.fromarray(rgba).convert("L")))

    def masks(x, **kw):
        return [(s.value, s.area, s.rle["counts"]) for s in
                coco.segments_from_mask_image(x, **kw)]

    for kw in ({}, {"values": {81: 1, 200: 2}, "tolerance": 3}):
        by_path, by_array = masks(path, **kw), masks(rgb, **kw)
        assert by_path == by_array == masks(grey, **kw)
    assert masks(path, channel=0) == masks(rgb, channel=0) == masks(rgb[:, :, 0])
    assert masks(Image.open(path), channel=2) == masks(rgb, channel=2)
    with pytest.raises(ValueError, match="channel"):
        coco.segments_from_mask_image(rgb, channel=3)


# -- 3. category ids that do not depend on the order of the export ---------------------------------
def _encord(tmp_path: Path, rows: list, *extra: str) -> tuple[int, dict]:
    src = tmp_path / "rows.json"
    src.write_text(json.dumps(rows))
    out = tmp_path / "coco.json"
    rc = main(["encord-to-coco", str(src), "-o", str(out), "-q", *extra])
    return rc, (json.loads(out.read_text()) if rc == 0 else {})


def _by_object(doc: dict) -> dict:
    cats = {c["id"]: c["name"] for c in doc["categories"]}
    return {a["encord"]["objectHash"]: (a["category_id"], cats[a["category_id"]])
            for a in doc["annotations"]}


@pytest.mark.realdata
def test_encord_ids_from_the_ontology_and_independent_of_row_order(tmp_path):
    from conftest import load_json
    fx = load_json("encord_client_python", "coco_exporter_fixture.json")
    rows = fx["LABELS_LIST"]
    onto = tmp_path / "ontology.json"
    onto.write_text(json.dumps(fx["ONTOLOGY_STRUCTURE_DICT"]))
    rc, fwd = _encord(tmp_path, rows, "--categories", str(onto))
    assert rc == 0
    rc, back = _encord(tmp_path, rows[::-1], "--categories", str(onto))
    assert _by_object(fwd) == _by_object(back)
    # the ids Encord's own COCO exporter gives these classes
    expected = {c["name"]: c["id"] for c in fx["COCO_EXPORTER_EXPECTED_RES"]["categories"]}
    for cid, name in _by_object(fwd).values():
        assert expected[name] == cid
    # without a table: by sorted name, the same for both orders
    _, fwd = _encord(tmp_path, rows)
    _, back = _encord(tmp_path, rows[::-1])
    assert _by_object(fwd) == _by_object(back)
    names = sorted({c["name"] for c in fwd["categories"]})
    assert [c["name"] for c in fwd["categories"]] == names
    # a table without one of the classes: a clear failure naming it
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({n: k + 1 for k, n in enumerate(names[1:])}))
    rc, _ = _encord(tmp_path, rows, "--categories", str(partial))
    assert rc == 1


def _labelbox(tmp_path: Path, lines: list, *extra: str) -> tuple[int, dict]:
    png = realdata("labelbox", "mask.png")
    exp = tmp_path / "a.ndjson"
    exp.write_text("\n".join(json.dumps(x) for x in lines))
    out = tmp_path / "o.json"
    rc = main(["labelbox-to-coco", str(exp), "--masks", str(png.parent), "-o", str(out),
               "--jobs", "1", "-q", *extra])
    return rc, (json.loads(out.read_text()) if rc == 0 else {})


@pytest.mark.realdata
def test_labelbox_ids_from_a_table_or_by_name_and_source_ids_kept(tmp_path, capsys):
    lines = [{"dataRow": {"id": "r1"}, "name": "white", "schemaId": "ckw1",
              "mask": {"instanceURI": "https://x/mask.png", "colorRGB": [255, 255, 255]}},
             {"dataRow": {"id": "r2"}, "name": "cyan", "schemaId": "ckc2",
              "mask": {"instanceURI": "https://x/mask.png", "colorRGB": [0, 255, 255]}}]
    rc, a = _labelbox(tmp_path, lines)
    rc2, b = _labelbox(tmp_path, lines[::-1])
    assert rc == rc2 == 0

    def ids(doc):
        names = {c["id"]: c["name"] for c in doc["categories"]}
        return sorted((names[x["category_id"]], x["category_id"]) for x in doc["annotations"])

    assert ids(a) == ids(b) == [("cyan", 1), ("white", 2)]
    assert {x["attributes"]["labelbox_feature_schema_id"] for x in a["annotations"]} == \
        {"ckw1", "ckc2"}
    table = tmp_path / "cats.json"
    table.write_text(json.dumps({"categories": [{"id": 7, "name": "white"},
                                                {"id": 3, "name": "cyan"}]}))
    rc, c = _labelbox(tmp_path, lines, "--categories", str(table))
    assert rc == 0 and ids(c) == [("cyan", 3), ("white", 7)]
    ontology = tmp_path / "ontology.json"
    ontology.write_text(json.dumps({"tools": [{"name": "other", "featureSchemaId": "x"},
                                              {"name": "cyan!", "featureSchemaId": "ckc2"},
                                              {"name": "white", "featureSchemaId": "ckw1"}]}))
    rc, d = _labelbox(tmp_path, lines, "--categories", str(ontology))
    assert rc == 0 and sorted(x["category_id"] for x in d["annotations"]) == [2, 3]
    table.write_text(json.dumps({"white": 1}))
    capsys.readouterr()
    rc, _ = _labelbox(tmp_path, lines, "--categories", str(table))
    assert rc == 1 and "'cyan'" in capsys.readouterr().err


# -- 4. COCO panoptic as a dataset kind -----------------------------------------------------------
@pytest.mark.realdata
def test_panoptic_to_instances_equals_panopticapis_detection_format():
    """The real oracle: panopticapi's own conversion of its sample data to detection format
    (50 segments: the same counts, categories and iscrowd per image)."""
    from conftest import load_json

    from maskcodecs import panoptic
    pj = realdata("panopticapi", "panoptic_examples.json")
    got = panoptic.to_instances(pj, realdata("panopticapi", "panoptic_examples"))
    ref = load_json("panopticapi", "panoptic_coco_detection_format.json")

    def rows(anns):
        return sorted((a["image_id"], a["category_id"], a["iscrowd"], a["segmentation"]["counts"])
                      for a in anns)

    assert rows(got["annotations"]) == rows(ref["annotations"])
    info = {(a["image_id"], s["id"]): s for a in load_json("panopticapi", "panoptic_examples.json")
            ["annotations"] for s in a["segments_info"]}
    for a in got["annotations"]:
        s = info[a["image_id"], a["attributes"]["panoptic_segment_id"]]
        assert a["area"] == s["area"] and a["bbox"] == [float(v) for v in s["bbox"]]
    assert all("isthing" in c for c in got["categories"])


def test_panoptic_segments_that_disagree_with_the_png_are_refused(tmp_path):
    from maskcodecs import errors, panoptic
    ids = np.zeros((4, 5), dtype=np.uint32)
    ids[:2] = 7
    ids[2:, :2] = 300
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "height": 4, "width": 5}],
           "categories": [{"id": 1, "name": "a", "isthing": 1}],
           "annotations": [{"image_id": 1, "file_name": "a.png", "segments_info": [
               {"id": 7, "category_id": 1, "iscrowd": 0},
               {"id": 300, "category_id": 1, "iscrowd": 1}]}]}
    got = panoptic.to_instances(doc, maps={"a.png": ids})
    assert [(a["attributes"]["panoptic_segment_id"], a["area"], a["iscrowd"])
            for a in got["annotations"]] == [(7, 10, 0), (300, 4, 1)]
    doc["annotations"][0]["segments_info"].append({"id": 9, "category_id": 1})
    with pytest.raises(errors.PanopticSegmentError, match="segment 9"):
        panoptic.to_instances(doc, maps={"a.png": ids})
    doc["annotations"][0]["segments_info"] = doc["annotations"][0]["segments_info"][:1]
    with pytest.raises(errors.PanopticSegmentError, match="300"):
        panoptic.to_instances(doc, maps={"a.png": ids})


@pytest.mark.realdata
def test_masks_to_coco_with_a_panoptic_images_file_keeps_its_categories(tmp_path):
    from maskcodecs import panoptic
    pan = realdata("labelbox", "coco", "panoptic.json")
    folder = pan.parent / "masks"
    out = tmp_path / "c.json"
    assert main(["masks-to-coco", str(folder), "--kind", "panoptic", "--images", str(pan),
                 "-o", str(out), "--jobs", "1", "-q"]) == 0
    doc = json.loads(out.read_text())
    ref = panoptic.to_instances(pan, folder)

    def rows(d):
        return sorted((a["image_id"], a["attributes"]["panoptic_segment_id"], a["category_id"],
                       a["iscrowd"], a["segmentation"]["counts"], a["area"])
                      for a in d["annotations"])

    assert rows(doc) == rows(ref) and len(doc["annotations"]) == 369
    assert doc["categories"] == ref["categories"]        # 133 categories, isthing kept
    assert sum(a["iscrowd"] for a in doc["annotations"]) == 9
    # and the panoptic file itself reads back through coco-to-masks
    pngs = tmp_path / "pngs"
    assert main(["coco-to-masks", str(pan), "--panoptic-folder", str(folder), "-o", str(pngs),
                 "--jobs", "1", "-q"]) == 0
    per_image = {}
    for a in ref["annotations"]:
        per_image[a["image_id"]] = per_image.get(a["image_id"], 0) + 1
    names = {im["id"]: Path(im["file_name"]).stem for im in ref["images"]}
    for img_id, n in per_image.items():
        lab = np.asarray(Image.open(pngs / f"{names[img_id]}.png"))
        assert len(np.unique(lab[lab > 0])) == n


# -- the command line from the default install (no Pillow) ----------------------------------------
def test_cli_reads_and_writes_plain_pngs_without_pillow(tmp_path, monkeypatch, capsys):
    """masks-to-coco and coco-to-masks work on plain PNGs with numpy alone (maskcodecs' own
    PNG reader and writer); a JPEG names the extra that brings Pillow."""
    lab, _ = label_map()
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(lab).save(masks / "a.png")
    Image.fromarray(np.where(lab > 0, 255, 0).astype(np.uint8)).save(masks / "b.jpg")
    with_pillow = tmp_path / "with.json"
    assert main(["masks-to-coco", str(masks), "-o", str(with_pillow), "--kind", "label",
                 "--jobs", "1", "-q", "--skip-bad"]) == 0
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    out = tmp_path / "out.json"
    assert main(["masks-to-coco", str(masks), "-o", str(out), "--kind", "label",
                 "--jobs", "1", "-q", "--skip-bad"]) == 0
    assert "b.jpg" in capsys.readouterr().err
    doc, ref = json.loads(out.read_text()), json.loads(with_pillow.read_text())
    assert [a["segmentation"] for a in doc["annotations"] if a["image_id"] == 1] == \
        [a["segmentation"] for a in ref["annotations"] if a["image_id"] == 1]
    pngs = tmp_path / "pngs"
    assert main(["coco-to-masks", str(out), "-o", str(pngs), "--jobs", "1", "-q"]) == 0
    monkeypatch.delitem(sys.modules, "PIL")
    monkeypatch.delitem(sys.modules, "PIL.Image")
    written = np.asarray(Image.open(pngs / "a.png"))  # read back by Pillow itself
    assert np.array_equal(written > 0, lab > 0)
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    jpgs = tmp_path / "jpgs"
    jpgs.mkdir()
    (jpgs / "b.jpg").write_bytes((masks / "b.jpg").read_bytes())
    assert main(["masks-to-coco", str(jpgs), "-o", str(out), "--jobs", "1"]) == 1
    assert "'maskcodecs[cli]'" in capsys.readouterr().err


@settings(max_examples=40, deadline=None)
@given(shape=st.sampled_from([(1, 1), (3, 5), (17, 2), (4, 6, 3), (2, 9, 4)]),
       dtype=st.sampled_from(["u1", "u2", "b1"]), seed=st.integers(0, 2**32 - 1))
def test_png_writer_gives_the_pixels_back_to_pillow_and_to_our_reader(shape, dtype, seed):
    import io

    from maskcodecs._png import decode_png, encode_png
    if len(shape) == 3 and dtype != "u1":
        return  # colour is 8-bit only
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2 if dtype == "b1" else 256 if dtype == "u1" else 65536,
                     shape).astype(dtype)
    data = encode_png(a)
    want = a.view(np.uint8) if dtype == "b1" else a
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), want)
    assert np.array_equal(decode_png(data)[0], want)


def test_jobs_zero_means_all_cores_and_an_unreachable_scheduler_fails_fast(tmp_path, capsys):
    import time

    from maskcodecs.cli import build_parser
    from maskcodecs.cli._util import DASK_CONNECT_SECONDS, default_jobs
    args = build_parser().parse_args(["masks-to-coco", "d", "-o", "o.json", "-j", "0"])
    assert args.jobs == default_jobs()
    pytest.importorskip("dask.distributed", reason="dask is not installed")
    lab, _ = label_map()
    masks = tmp_path / "m"
    masks.mkdir()
    Image.fromarray(lab).save(masks / "a.png")
    t0 = time.monotonic()
    rc = main(["masks-to-coco", str(masks), "-o", str(tmp_path / "o.json"), "--engine", "dask",
               "--scheduler", "tcp://127.0.0.1:9", "-q"])
    assert rc == 1 and time.monotonic() - t0 < DASK_CONNECT_SECONDS + 20
    assert "tcp://127.0.0.1:9" in capsys.readouterr().err


def test_validate_warns_on_subpixel_polygon_overshoot_and_fails_beyond(tmp_path, capsys):
    def doc(poly):
        return {"images": [{"id": 1, "file_name": "a.png", "height": 4, "width": 5}],
                "categories": [{"id": 1, "name": "a"}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                                 "segmentation": [poly], "area": 1.0,
                                 "bbox": [0, 0, 5, 4]}]}

    p = tmp_path / "c.json"
    for poly, rc, strict in (([0, 0, 5.3, 0, 5.3, 4], 0, 1), ([-0.5, 0, 5, 0, 5, 4.9], 0, 1),
                             ([0, 0, 7, 0, 7, 4], 1, 1), ([0, 0, 5, 0, 5, 4], 0, 0)):
        p.write_text(json.dumps(doc(poly)))
        assert main(["validate", str(p)]) == rc, poly
        err = capsys.readouterr()
        assert ("leaves the 5x4" in err.out + err.err) == (poly[2] != 5 or poly[0] < 0)
        assert main(["validate", str(p), "--strict"]) == strict, poly
        capsys.readouterr()


def test_images_file_entries_without_a_mask_are_kept_as_negatives(tmp_path):
    lab, _ = label_map()
    masks = tmp_path / "m"
    masks.mkdir()
    Image.fromarray(lab).save(masks / "b.png")
    h, w = lab.shape
    imgs = tmp_path / "images.json"
    imgs.write_text(json.dumps({"images": [
        {"id": 10, "file_name": "a.jpg", "height": h, "width": w},
        {"id": 11, "file_name": "b.jpg", "height": h, "width": w},
        {"id": 12, "file_name": "sub/c.jpg", "height": 7, "width": 9}]}))
    out = tmp_path / "o.json"
    assert main(["masks-to-coco", str(masks), "-o", str(out), "--images", str(imgs),
                 "--kind", "label", "--jobs", "1", "-q"]) == 0
    doc = json.loads(out.read_text())
    assert sorted(im["id"] for im in doc["images"]) == [10, 11, 12]
    assert {a["image_id"] for a in doc["annotations"]} == {11}


def test_coco_to_encord_never_invents_feature_hashes(tmp_path, capsys):
    coco = {"images": [{"id": 1, "file_name": "a.png", "height": 3, "width": 4}],
            "categories": [{"id": 2, "name": "Thing"}, {"id": 5, "name": "Other"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 2,
                             "segmentation": {"size": [3, 4], "counts": "22200OO"}},
                            {"id": 2, "image_id": 1, "category_id": 5,
                             "segmentation": {"size": [3, 4], "counts": "22200OO"}}]}
    src, rows = tmp_path / "c.json", tmp_path / "r.json"
    src.write_text(json.dumps(coco))
    assert main(["coco-to-encord", str(src), "-o", str(rows), "-q"]) == 1
    assert "--ontology" in capsys.readouterr().err and not rows.exists()
    onto = tmp_path / "o.json"
    onto.write_text(json.dumps({"objects": [
        {"id": "1", "name": "Thing", "shape": "bitmask", "featureNodeHash": "abcd1234"},
        {"id": "5", "name": "Renamed", "shape": "bitmask", "featureNodeHash": "efgh5678"}]}))
    assert main(["coco-to-encord", str(src), "-o", str(rows), "-q", "--ontology",
                 str(onto)]) == 0  # by name, else by id
    (row,) = json.loads(rows.read_text())
    (du,) = row["data_units"].values()
    assert [o["featureHash"] for o in du["labels"]["objects"]] == ["abcd1234", "efgh5678"]
    onto.write_text(json.dumps({"objects": [{"id": "1", "name": "Thing",
                                             "featureNodeHash": "abcd1234"}]}))
    assert main(["coco-to-encord", str(src), "-o", str(rows), "-q", "--ontology",
                 str(onto)]) == 1
    assert "'Other' has no Encord feature hash in the ontology" in capsys.readouterr().err


# -- inputs the auto kind gets wrong: --invert, --ignore-value, --alpha ---------------------------
def test_invert_ignore_value_and_alpha(tmp_path):
    lab, _ = label_map()
    h, w = lab.shape

    def convert(arr, *extra, name="a.png"):
        d = tmp_path / f"in{len(list(tmp_path.iterdir()))}"
        d.mkdir()
        Image.fromarray(arr).save(d / name)
        out = d / "o.json"
        rc = main(["masks-to-coco", str(d), "-o", str(out), "--jobs", "1", "-q", *extra])
        return rc, (json.loads(out.read_text()) if rc == 0 else None)

    # a silhouette drawn black on white: --invert takes the black part
    sil = np.where(lab == 2, 0, 255).astype(np.uint8)
    rc, doc = convert(sil, "--invert")
    (a,) = doc["annotations"]
    assert np.array_equal(decoded(a["segmentation"], h, w), lab == 2)
    # a VOC-style map, 255 on the borders: void with --ignore-value 255
    voc = lab.copy()
    voc[0, :] = 255
    rc, _ = convert(voc, "--kind", "label", "--categories", str(_values_table(tmp_path)))
    assert rc == 1  # without it, 255 is a value the table has no category for
    rc, doc = convert(voc, "--kind", "label", "--ignore-value", "255", "--categories",
                      str(_values_table(tmp_path)))
    assert sorted(a["category_id"] for a in doc["annotations"]) == [1, 2, 3, 4, 5]
    for a in doc["annotations"]:
        assert np.array_equal(decoded(a["segmentation"], h, w), lab == a["category_id"])
    # an RGBA picture with a transparent background: --alpha reads the alpha channel
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    rgba[..., :3] = 200  # the same colour everywhere: only alpha tells the object
    rgba[..., 3] = np.where(lab == 1, 255, 0)
    rc, doc = convert(rgba, "--alpha")
    (a,) = doc["annotations"]
    assert np.array_equal(decoded(a["segmentation"], h, w), lab == 1)
    assert convert(lab, "--alpha")[0] == 1          # no alpha channel: a clear failure
    assert convert(lab, "--invert", "--kind", "label")[0] == 1


def _values_table(tmp_path):
    p = tmp_path / "values.json"
    p.write_text(json.dumps({"categories": [{"id": v, "name": f"c{v}"} for v in range(1, 6)],
                             "values": {str(v): v for v in range(1, 6)}}))
    return p


def test_nan_in_json_is_read_as_pythons_json_reads_it_and_reported(tmp_path, capsys):
    p = tmp_path / "nan.json"
    p.write_text('{"images": [{"id": 1, "file_name": "a.png", "height": 4, "width": 5}], '
                 '"categories": [{"id": 1, "name": "a"}], "annotations": [{"id": 1, '
                 '"image_id": 1, "category_id": 1, "iscrowd": 0, "area": NaN, '
                 '"bbox": [0, 0, Infinity, 2], "segmentation": [[0, 0, 3, 0, 3, 3]]}]}')
    assert main(["info", str(p)]) == 0
    capsys.readouterr()
    assert main(["validate", str(p)]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert "area nan" in text and "bbox [0, 0, inf, 2]" in text
    assert main(["coco-to-masks", str(p), "-o", str(tmp_path / "m"), "--jobs", "1", "-q"]) == 0


def test_auto_kind_says_what_it_chose_and_validate_reports_ambiguous_files(tmp_path, capsys):
    d = tmp_path / "m"
    d.mkdir()
    one = np.zeros((6, 7), dtype=np.uint8)
    one[1:4, 2:5] = 7                       # a single grey level: label map or mask?
    Image.fromarray(one).save(d / "one.png")
    lab, _ = label_map()
    Image.fromarray(lab).save(d / "many.png")
    out = tmp_path / "o.json"
    assert main(["masks-to-coco", str(d), "-o", str(out), "--jobs", "1", "-v"]) == 0
    err = capsys.readouterr().err
    assert "one.png: label, 1 annotations (ambiguous: one grey level (7)" in err
    assert "many.png: label, 5 annotations\n" in err
    assert main(["validate", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mask file one.png: warning: kind ambiguous" in text and "many.png" not in text
    assert main(["validate", str(out), "--strict"]) == 1


@pytest.mark.realdata
def test_encord_bitmasks_only(tmp_path):
    from conftest import load_json
    rows = load_json("encord_client_python", "coco_exporter_fixture.json")["LABELS_LIST"]
    _, every = _encord(tmp_path, rows)
    _, only = _encord(tmp_path, rows, "--bitmasks-only")
    kinds = [isinstance(a["segmentation"], dict) for a in every["annotations"]]
    assert any(kinds) and not all(kinds)  # bitmasks and polygons/boxes both occur
    assert len(only["annotations"]) == sum(kinds)
    assert all(a["encord"]["shape"] == "bitmask" for a in only["annotations"])


# -- show: labels readable at any size, colours stable per category -------------------------------
def test_show_colours_stable_per_category_and_labels_scaled(tmp_path):
    from maskcodecs.cli import _show
    anns = [{"category_id": 3}, {"category_id": 3}, {"category_id": 8}, {"category_id": 3}]
    cols = _show.instance_colours(anns)
    assert len({tuple(c) for c in cols}) == 4                 # every instance its own colour
    hue = [colorsys_hue(c) for c in cols]
    assert abs(hue[0] - hue[1]) < 0.02 and abs(hue[0] - hue[3]) < 0.02  # one category: one hue
    assert abs(hue[0] - hue[2]) > 0.05
    again = _show.instance_colours([{"category_id": 8}, {"category_id": 3}])
    assert tuple(again[0]) == tuple(cols[2]) and tuple(again[1]) == tuple(cols[0])  # stable
    assert _show.label_size(2000, 3000) > 3 * _show.label_size(200, 300)
    assert _show.outline_width(4000, 4000) == 10 and _show.outline_width(300, 300) == 1
    # end to end on a large image: the label's box is drawn at the object's corner, sized to
    # the image (black behind a light colour)
    h = w = 1400
    m = np.zeros((h, w), dtype=np.uint8, order="F")
    m[700:1000, 700:1100] = 1
    rle = pc_encode(m)
    doc = {"images": [{"id": 1, "file_name": "a.png", "height": h, "width": w}],
           "categories": [{"id": 3, "name": "person"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "iscrowd": 0,
                            "segmentation": rle, "bbox": [700.0, 700.0, 400.0, 300.0],
                            "area": 120000}]}
    src = tmp_path / "c.json"
    src.write_text(json.dumps(doc))
    out = tmp_path / "s.png"
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((h, w, 3), 128, dtype=np.uint8)).save(photo)  # mid grey
    assert main(["show", str(src), "--image", "1", "-o", str(out), "--labels", "--outline",
                 "--image-file", str(photo), "-q"]) == 0
    img = np.asarray(Image.open(out))
    corner = img[690:700 + 3 * _show.label_size(h, w), 690:1000]
    plain = (corner == 0).all(axis=2) | (corner == 255).all(axis=2)
    rows = np.flatnonzero(plain.sum(axis=1) > 20)
    assert len(rows) >= _show.label_size(h, w)  # a box at least a font size tall


def colorsys_hue(c):
    import colorsys
    return colorsys.rgb_to_hsv(*(v / 255 for v in c))[0]


def pc_encode(m):
    r = pcm.encode(np.asfortranarray(m))
    return {"size": r["size"], "counts": r["counts"].decode()}


# -- colour maps saved as JPEG: snapped to the palette within a tolerance, and reported ------------
PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180)]


def colour_instances() -> tuple[np.ndarray, list[np.ndarray]]:
    """A 120x160 colour map: six instances of six colours (discs and boxes, 200 to 2400
    pixels) on black; the source masks."""
    h, w = 120, 160
    yy, xx = np.mgrid[:h, :w]
    masks = [np.hypot(yy - 30, xx - 30) < 20, (yy > 60) & (yy < 110) & (xx > 10) & (xx < 60),
             np.hypot(yy - 40, xx - 100) < 25, (yy > 70) & (yy < 100) & (xx > 80) & (xx < 150),
             (yy > 2) & (yy < 20) & (xx > 130) & (xx < 155), np.hypot(yy - 100, xx - 120) < 9]
    img = np.zeros((h, w, 3), dtype=np.uint8)
    for c, m in zip(PALETTE, masks):
        img[m] = c
    return img, masks


def as_jpeg(img: np.ndarray, path: Path, quality: int = 85) -> np.ndarray:
    """Save as a real JPEG with Pillow and return the pixels it reads back."""
    Image.fromarray(img).save(path, quality=quality)
    with Image.open(path) as im:
        assert im.format == "JPEG"
        return np.asarray(im.convert("RGB"))


def nearest_reference(pixels: np.ndarray, palette: list, tol: float):
    """Plain-numpy reference of the snap: the nearest palette index within tol (Euclidean,
    ties to the first), -1 where none; and the exact / snapped / unassigned counts."""
    pal = np.asarray(palette, dtype=np.float64)
    d = np.sqrt(((pixels[:, :, None, :].astype(np.float64) - pal) ** 2).sum(axis=-1))
    best = d.argmin(axis=-1)
    dist = d.min(axis=-1)
    best[dist > tol] = -1
    return best, (int((dist == 0).sum()), int(((dist > 0) & (dist <= tol)).sum()),
                  int((dist > tol).sum()))


@pytest.mark.parametrize("quality", [85, 90])
def test_jpeg_colour_map_snapped_to_the_table_recovers_the_instances(tmp_path, quality):
    img, masks = colour_instances()
    jpg = as_jpeg(img, tmp_path / "a.jpg", quality)
    assert not any((jpg == c).all(axis=2).sum() > 0.5 * m.sum() for c, m in zip(PALETTE, masks))
    table = {c: k for k, c in enumerate(PALETTE, 1)}
    # exact reading (the old behaviour): JPEG noise gives hundreds of colours, and the
    # table's colours keep a fraction of their pixels
    exact = coco.segments_from_colour_map(tmp_path / "a.jpg")
    assert len(exact) > 100
    worst = min(iou(coco.ann_to_mask({"segmentation": s.rle}, *img.shape[:2]).astype(bool), m)
                for s, m in zip(coco.segments_from_colour_map(jpg, colours=table), masks))
    assert worst < 0.6
    # snapped: the six instances come back, each with its category
    for source in (tmp_path / "a.jpg", jpg):
        segs = coco.segments_from_colour_map(source, colours=table, tolerance=60)
        assert [s.category_id for s in segs] == sorted(table.values(), key=lambda k: [
            c[0] + 256 * c[1] + 65536 * c[2] for c in PALETTE][k - 1])
        for s in segs:
            got = pcm.decode({"size": s.rle["size"], "counts": s.rle["counts"]}).astype(bool)
            assert iou(got, masks[s.category_id - 1]) > 0.88, s.category_id
    # the counts reported are those of a plain-numpy nearest-colour search
    snap = coco.snap_colours(jpg, tolerance=60, palette=PALETTE)
    palette = [(0, 0, 0)] + PALETTE
    assert snap.palette == palette
    best, counts = nearest_reference(jpg, palette, 60)
    assert (snap.exact, snap.snapped, snap.unassigned) == counts
    assert snap.snapped > 0.5 * sum(m.sum() for m in masks) and snap.unassigned > 0
    want = np.asarray(palette, dtype=np.uint8)[np.where(best < 0, 0, best)]
    assert np.array_equal(snap.image, want)
    # tolerance 0 keeps exact colours only: nothing is snapped
    zero = coco.snap_colours(jpg, tolerance=0, palette=PALETTE)
    assert zero.snapped == 0 and zero.exact == nearest_reference(jpg, palette, 0)[1][0]


def test_snap_kernel_on_strided_and_rgba_input_and_the_frequent_colour_palette(tmp_path):
    img, masks = colour_instances()
    jpg = as_jpeg(img, tmp_path / "a.jpg")
    rgba = np.dstack([jpg, np.full(jpg.shape[:2], 7, np.uint8)])
    flipped = np.asfortranarray(jpg)[:, ::-1]
    ref = coco.snap_colours(jpg, tolerance=50, palette=PALETTE)
    assert np.array_equal(coco.snap_colours(rgba, tolerance=50, palette=PALETTE).image,
                          ref.image)
    got = coco.snap_colours(flipped, tolerance=50, palette=PALETTE)
    assert np.array_equal(got.image, ref.image[:, ::-1])
    assert (got.exact, got.snapped, got.unassigned) == (ref.exact, ref.snapped, ref.unassigned)
    # no palette: the background, then colours covering >= min_pixels pixels exactly, most
    # frequent first, none within the tolerance of one taken before
    auto = coco.snap_colours(jpg, tolerance=60)
    keys, counts = np.unique(jpg.reshape(-1, 3), axis=0, return_counts=True)
    assert auto.palette[0] == (0, 0, 0)
    pal = np.asarray(auto.palette, dtype=np.float64)
    for c in auto.palette[1:]:
        assert counts[(keys == c).all(axis=1)][0] >= 32
    gaps = np.sqrt(((pal[:, None] - pal[None]) ** 2).sum(-1))
    assert (gaps[~np.eye(len(pal), dtype=bool)] > 60).all()
    # the large instances are found by it; the small ones' pixels are counted unassigned
    for c, m in zip(PALETTE, masks):
        if m.sum() > 1500:
            k = int(np.sqrt(((pal - c) ** 2).sum(-1)).argmin())
            assert iou((auto.image == auto.palette[k]).all(axis=2), m) > 0.9
    assert (auto.exact, auto.snapped, auto.unassigned) == nearest_reference(jpg, auto.palette,
                                                                            60)[1]
    # a colour map without noise is unchanged (its colours are farther apart than 40)
    clean = coco.snap_colours(img, tolerance=40)
    assert np.array_equal(clean.image, img) and clean.snapped == clean.unassigned == 0
    assert sorted(clean.palette) == sorted([(0, 0, 0)] + PALETTE)
    # a tolerance wider than the gap between two colours keeps the more frequent one
    wide = coco.snap_colours(img, tolerance=100)
    assert (245, 130, 48) not in wide.palette and wide.snapped == masks[4].sum()


def test_bad_tolerances_are_our_errors_and_unassigned_pixels_are_warned_or_refused(tmp_path):
    from maskcodecs.errors import ArgumentError, ColourToleranceWarning, FormatError
    img, _ = colour_instances()
    jpg = as_jpeg(img, tmp_path / "a.jpg")
    for bad in (-1, -0.5, float("nan"), float("inf"), "5", None, True, [3]):
        with pytest.raises(ArgumentError, match="tolerance"):
            coco.snap_colours(jpg, tolerance=bad, palette=PALETTE)
        if bad is not None:
            with pytest.raises(ArgumentError, match="tolerance"):
                coco.segments_from_colour_map(jpg, tolerance=bad)
    with pytest.raises(ValueError):  # an ArgumentError is a ValueError too
        coco.segments_from_colour_map(jpg, tolerance=-3)
    with pytest.raises(ArgumentError, match="background"):
        coco.segments_from_colour_map(jpg, tolerance=10, background=None)
    with pytest.raises(ArgumentError, match="min_pixels"):
        coco.snap_colours(jpg, tolerance=10, min_pixels=0)
    with pytest.raises(FormatError, match="2\\*\\*24"):
        coco.snap_colours(jpg, tolerance=10, palette=[1 << 24])
    table = {c: k for k, c in enumerate(PALETTE, 1)}
    with pytest.warns(ColourToleranceWarning, match=r"pixels \(\d+\.\d%\) are farther than 15"):
        coco.segments_from_colour_map(jpg, colours=table, tolerance=15)
    with pytest.raises(FormatError, match="farther than 60 from every colour of the table"):
        coco.segments_from_colour_map(jpg, colours=table, tolerance=60, unknown="error")
    assert coco.segments_from_colour_map(img, colours=table, tolerance=60, unknown="error")


def test_cli_colour_tolerance_reads_a_jpeg_colour_map(tmp_path, capsys):
    img, masks = colour_instances()
    d = tmp_path / "m"
    d.mkdir()
    jpg = as_jpeg(img, d / "a.jpg")
    table = tmp_path / "cats.json"
    table.write_text(json.dumps({
        "categories": [{"id": k, "name": f"c{k}"} for k in range(1, 7)],
        "values": {",".join(map(str, c)): k for k, c in enumerate(PALETTE, 1)}}))
    out = tmp_path / "o.json"

    def run(*extra):
        rc = main(["masks-to-coco", str(d), "-o", str(out), "--jobs", "1", "-v", *extra])
        return rc, (json.loads(out.read_text()) if rc == 0 else None), capsys.readouterr().err

    # without a tolerance, as before: auto reads a JPEG as a binary mask, and says why
    # that may be wrong
    rc, doc, err = run()
    assert rc == 0 and len(doc["annotations"]) == 1
    assert "a.jpg: binary, 1 annotations (ambiguous: a colour JPEG" in err
    assert "colour tolerance" not in err and "colour_tolerance" not in doc["info"]
    # with it (auto or --kind color), the table's colours are the palette
    palette = [(0, 0, 0)] + PALETTE
    _, counts = nearest_reference(jpg, palette, 60)
    for kind in ("auto", "color"):
        rc, doc, err = run("--kind", kind, "--categories", str(table), "--colour-tolerance", "60")
        assert rc == 0 and sorted(a["category_id"] for a in doc["annotations"]) == list(
            range(1, 7))
        for a in doc["annotations"]:
            assert iou(decoded(a["segmentation"], *img.shape[:2]),
                       masks[a["category_id"] - 1]) > 0.88
        assert f"a.jpg: color, 6 annotations; colour tolerance 60: {counts[1]} pixels " \
               f"snapped, {counts[2]} unassigned\n" in err
        assert doc["info"]["colour_tolerance"] == {"distance": 60.0, "exact": counts[0],
                                                   "snapped": counts[1],
                                                   "unassigned": counts[2]}
        assert "warning" not in err
    # a tolerance that leaves many pixels out is warned about, in -q runs too
    rc, doc, err = run("-q", "--categories", str(table), "--color-tolerance", "12")
    assert rc == 0 and "warning: a.jpg:" in err and "farther than 12" in err
    # without a table (or one with a "default"), the frequent colours are the palette
    rc, doc, err = run("--colour-tolerance", "60")
    assert rc == 0 and 4 <= len(doc["annotations"]) <= 6
    # bad values are usage errors
    for bad in ("-1", "nan", "inf", "x", ""):
        assert run("--colour-tolerance", bad)[0] == 2
    assert "must be a finite number >= 0" in run("--colour-tolerance", "-1")[2]


def _jpeg_composite(tmp_path: Path, quality: int = 85) -> tuple[np.ndarray, dict, Path]:
    """A Labelbox-style composite of three discs (one colour each), and the same saved as a
    JPEG by Pillow: what a composite re-saved lossily looks like."""
    yy, xx = np.mgrid[:120, :160]
    colours = {(230, 25, 75): (40, 40, 25), (60, 180, 75): (80, 110, 30),
               (0, 130, 200): (35, 120, 18)}
    img = np.zeros((120, 160, 3), np.uint8)
    for c, (cy, cx, r) in colours.items():
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = c
    path = tmp_path / "composite.jpg"
    Image.fromarray(img).save(path, format="JPEG", quality=quality)
    return img, colours, path


def test_labelbox_split_with_a_tolerance_recovers_jpeg_composites(tmp_path):
    """split(tolerance=D) snaps a JPEG composite to the requested colours first: each
    instance comes back close to its disc, where exact equality loses most of its pixels;
    the pixels left over are counted, not reported as unrequested colours."""
    from maskcodecs import labelbox
    from maskcodecs.errors import ArgumentError
    img, colours, path = _jpeg_composite(tmp_path)
    exact = labelbox.split(path, list(colours))
    snapped = labelbox.split(path, list(colours), tolerance=40)
    assert exact.unrequested and not snapped.unrequested
    assert exact.snapped == exact.unassigned == 0
    assert snapped.snapped > 0
    for k, c in enumerate(colours):
        truth = np.all(img == c, axis=2)
        assert iou(snapped.masks[k], truth) > 0.9
        assert iou(exact.masks[k], truth) < iou(snapped.masks[k], truth)
    # JPEG's ringing at the disc edges: a few pixels are far from every colour
    assert 0 < snapped.unassigned < 0.05 * img.shape[0] * img.shape[1]
    with pytest.raises(ArgumentError):
        labelbox.split(path, list(colours), tolerance=40, background=None)
    with pytest.raises(ArgumentError):
        labelbox.split(path, list(colours), tolerance=-1)


def test_labelbox_to_coco_colour_tolerance_on_a_jpeg_composite(tmp_path, capsys):
    """labelbox-to-coco --colour-tolerance D reads a JPEG composite through the snap: every
    instance found, close to its disc; without it the instances shrink to the pixels JPEG
    left exactly on their colour."""
    img, colours, path = _jpeg_composite(tmp_path)
    lines = [{"dataRow": {"id": "r1"}, "name": f"c{k}",
              "mask": {"instanceURI": "https://x/composite.jpg", "colorRGB": list(c)}}
             for k, c in enumerate(colours)]
    exp = tmp_path / "a.ndjson"
    exp.write_text("\n".join(json.dumps(x) for x in lines))
    out = tmp_path / "o.json"
    args = ["labelbox-to-coco", str(exp), "--masks", str(tmp_path), "-o", str(out),
            "--jobs", "1"]
    assert main(args + ["--colour-tolerance", "40"]) == 0
    err = capsys.readouterr().err
    assert "colour tolerance 40:" in err and "pixels snapped" in err
    doc = json.loads(out.read_text())
    assert len(doc["annotations"]) == 3
    for ann, c in zip(doc["annotations"], colours):
        assert iou(decoded(ann["segmentation"], 120, 160), np.all(img == c, axis=2)) > 0.9
    assert main(args) == 0
    plain = json.loads(out.read_text())
    assert sum(a["area"] for a in plain["annotations"]) < \
        0.9 * sum(a["area"] for a in doc["annotations"])
    assert main(args + ["--colour-tolerance", "-3"]) == 2

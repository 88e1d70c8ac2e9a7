"""maskcodecs.coco: label/colour/grey maps to RLE segments (against a numpy + pycocotools
reference and the COCO panoptic oracles), annotations, the JSON writer, and annToRLE parity
with pycocotools on real COCO files."""
from __future__ import annotations

import contextlib
import doctest
import io
import json
import sys
import types

import numpy as np
import pycocotools.mask as pcm
import pytest
from conftest import REAL_COCO_FILES, load_json, realdata
from hypothesis import given, settings
from hypothesis import strategies as st

from maskcodecs import coco
from maskcodecs import mask as mask_utils
from maskcodecs.errors import (
    FormatError,
    MaskCodecError,
    MaskDtypeError,
    MaskShapeError,
    OptionalDependencyError,
    SizeMismatchError,
)

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

# ---------------------------------------------------------------------------------------------
# the reference: the common recipe (np.unique + one comparison per value + pycocotools)
# ---------------------------------------------------------------------------------------------


def ref_segments(labels: np.ndarray, skip: set[int]) -> list[tuple[int, bytes, int, list]]:
    out = []
    for v in np.unique(labels):
        if int(v) in skip:
            continue
        rle = pcm.encode(np.asfortranarray((labels == v).astype(np.uint8)))
        out.append((int(v), rle["counts"], int(pcm.area(rle)), pcm.toBbox(rle).tolist()))
    return out


def as_tuples(segs: list[coco.Segment]) -> list[tuple[int, bytes, int, list]]:
    return [(s.value, s.rle["counts"], s.area, list(s.bbox)) for s in segs]


def check_sizes(segs: list[coco.Segment], h: int, w: int) -> None:
    for s in segs:
        assert s.rle["size"] == [h, w]
        assert type(s.rle["size"][0]) is int and type(s.area) is int


# ---------------------------------------------------------------------------------------------
# label maps
# ---------------------------------------------------------------------------------------------

DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64, np.uint64]
LAYOUTS = {
    "C": lambda a: a,
    "F": np.asfortranarray,
    "flipped": lambda a: np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
    "strided": lambda a: np.repeat(np.repeat(a, 2, 0), 3, 1)[::2, ::3],
    "transposed": lambda a: np.ascontiguousarray(a.T).T,
}


@st.composite
def label_maps(draw) -> np.ndarray:
    h = draw(st.integers(1, 40))
    w = draw(st.integers(1, 40))
    n = draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        lab = rng.integers(0, n, (h, w))
    else:
        lab = np.zeros((h, w), dtype=np.int64)
        for i in range(1, n):
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            lab[y0:y0 + rng.integers(1, h + 1), x0:x0 + rng.integers(1, w + 1)] = i
    return lab


@settings(max_examples=120, deadline=None)
@given(label_maps(), st.sampled_from(DTYPES), st.sampled_from(sorted(LAYOUTS)))
def test_label_map_against_reference(lab: np.ndarray, dtype, layout: str) -> None:
    a = LAYOUTS[layout](lab.astype(dtype))
    assert (a == lab).all()
    segs = coco.segments_from_label_map(a)
    assert as_tuples(segs) == ref_segments(lab, {0})
    check_sizes(segs, *lab.shape)


def test_background_and_ignore() -> None:
    lab = np.array([[0, 1, 255], [3, 3, 255]], dtype=np.uint8)
    assert [s.value for s in coco.segments_from_label_map(lab)] == [1, 3, 255]
    assert [s.value for s in coco.segments_from_label_map(lab, ignore=[255])] == [1, 3]
    assert as_tuples(coco.segments_from_label_map(lab, background=None)) == ref_segments(lab, set())
    assert as_tuples(coco.segments_from_label_map(lab, background=3)) == ref_segments(lab, {3})


def test_wide_and_negative_values() -> None:
    lab = np.array([[2**40, -5, -5], [0, 2**40, -(2**62)]], dtype=np.int64)
    assert as_tuples(coco.segments_from_label_map(lab)) == ref_segments(lab, {0})
    u = np.array([[2**63 - 1, 0]], dtype=np.uint64)
    assert [s.value for s in coco.segments_from_label_map(u)] == [2**63 - 1]
    with pytest.raises(MaskDtypeError):
        coco.segments_from_label_map(np.array([[2**63]], dtype=np.uint64))


def test_many_labels_grow_the_table() -> None:
    rng = np.random.default_rng(3)
    lab = rng.permutation(200 * 150).reshape(200, 150).astype(np.int32) * 7919
    segs = coco.segments_from_label_map(lab, background=None)
    assert len(segs) == lab.size
    sample = [segs[i] for i in (0, 1, 777, 29999)]
    for s in sample:
        rle = pcm.encode(np.asfortranarray((lab == s.value).astype(np.uint8)))
        assert s.rle["counts"] == rle["counts"] and s.area == 1


def test_non_native_byte_order_and_bool() -> None:
    lab = np.array([[0, 300], [300, 7]], dtype=">u2")
    assert as_tuples(coco.segments_from_label_map(lab)) == ref_segments(lab.astype(np.uint16), {0})
    b = np.array([[True, False], [True, True]])
    assert as_tuples(coco.segments_from_label_map(b)) == ref_segments(b.astype(np.uint8), {0})


def test_read_only_and_memmap_like_input() -> None:
    lab = np.frombuffer(bytes([0, 1, 2, 1, 1, 0]), dtype=np.uint8).reshape(2, 3)
    assert not lab.flags.writeable
    assert as_tuples(coco.segments_from_label_map(lab)) == ref_segments(lab, {0})


@pytest.mark.parametrize("shape", [(0, 5), (4, 0), (0, 0)])
def test_empty_maps(shape) -> None:
    assert coco.segments_from_label_map(np.zeros(shape, np.int32)) == []
    assert coco.segments_from_colour_map(np.zeros(shape + (3,), np.uint8)) == []


def test_uniform_maps() -> None:
    assert coco.segments_from_label_map(np.zeros((3, 4), np.uint8)) == []
    segs = coco.segments_from_label_map(np.full((3, 4), 9, np.uint16))
    assert as_tuples(segs) == [(9, b"0<", 12, [0.0, 0.0, 4.0, 3.0])]


@pytest.mark.parametrize(("bad", "err"), [
    (np.zeros((2, 2), np.float32), MaskDtypeError),
    (np.zeros((2, 2, 3), np.uint8), MaskShapeError),
    (np.zeros(4, np.uint8), MaskShapeError),
])
def test_label_map_errors(bad, err) -> None:
    with pytest.raises(err) as ei:
        coco.segments_from_label_map(bad)
    assert isinstance(ei.value, MaskCodecError) and isinstance(ei.value, ValueError)


def test_tall_and_wide_maps_cross_tiles() -> None:
    # heights that make tiles of 1 column and widths that leave ragged last tiles
    rng = np.random.default_rng(5)
    for h, w in [(40000, 3), (3, 5000), (700, 131)]:
        lab = (rng.random((h, w)) < 0.01).astype(np.int32) * rng.integers(1, 4, (h, w))
        lab[: h // 3, : w // 2] = 5
        assert as_tuples(coco.segments_from_label_map(lab)) == ref_segments(lab, {0})


def test_label_map_from_png_files(tmp_path) -> None:
    lab = np.zeros((6, 9), np.uint8)
    lab[1:4, 2:7] = 3
    lab[4:, :2] = 200
    p8 = tmp_path / "l.png"
    Image.fromarray(lab, mode="L").save(p8)
    assert as_tuples(coco.segments_from_label_map(p8)) == ref_segments(lab, {0})
    # palette PNGs give their indices, not colours
    pal = Image.fromarray(lab, mode="L").convert("P")
    pal.putpalette([255 - (i % 256) for i in range(768)])
    pp = tmp_path / "p.png"
    pal.save(pp)
    assert as_tuples(coco.segments_from_label_map(str(pp))) == ref_segments(np.array(pal), {0})
    # 16-bit PNGs keep their values
    l16 = lab.astype(np.uint16) * 300
    p16 = tmp_path / "l16.png"
    Image.fromarray(l16).save(p16)
    assert as_tuples(coco.segments_from_label_map(p16)) == ref_segments(l16, {0})
    # a Pillow image object works too
    with Image.open(p8) as im:
        assert as_tuples(coco.segments_from_label_map(im)) == ref_segments(lab, {0})


# ---------------------------------------------------------------------------------------------
# colour maps
# ---------------------------------------------------------------------------------------------

def colour_ids(img: np.ndarray) -> np.ndarray:
    i = img[..., :3].astype(np.int64)
    return i[..., 0] + 256 * i[..., 1] + 65536 * i[..., 2]


@settings(max_examples=40, deadline=None)
@given(label_maps(), st.booleans(), st.sampled_from(sorted(LAYOUTS)))
def test_colour_map_against_reference(lab: np.ndarray, rgba: bool, layout: str) -> None:
    palette = np.random.default_rng(int(lab.sum())).integers(0, 256, (16, 4), dtype=np.uint8)
    palette[0, :3] = 0
    img = palette[lab % 16]
    if not rgba:
        img = img[..., :3]
    img = np.stack([LAYOUTS[layout](img[..., c]) for c in range(img.shape[2])], -1)
    segs = coco.segments_from_colour_map(img)
    assert as_tuples(segs) == ref_segments(colour_ids(img), {0})


def test_colour_table_and_background() -> None:
    img = np.zeros((3, 4, 3), np.uint8)
    img[0, 1:3] = (255, 0, 0)
    img[1, 2:] = (255, 0, 0)
    img[1, 0] = (255, 0, 1)  # near-red: a different colour
    img[2, [0, 3]] = (0, 255, 0)
    red, green = 255, 255 * 256
    segs = coco.segments_from_colour_map(img, colours={(255, 0, 0): 1, green: 2})
    assert [(s.value, s.category_id, s.area) for s in segs] == [(red, 1, 4), (green, 2, 2)]
    with pytest.raises(FormatError, match=r"\(255, 0, 1\)"):
        coco.segments_from_colour_map(img, colours={(255, 0, 0): 1, green: 2}, unknown="error")
    allv = coco.segments_from_colour_map(img, background=None)
    assert [s.value for s in allv] == [0, red, green, 255 + 65536]
    nored = coco.segments_from_colour_map(img, background=(255, 0, 0))
    assert [s.value for s in nored] == [0, green, 255 + 65536]
    with pytest.raises(FormatError):
        coco.segments_from_colour_map(img, background=(256, 0, 0))
    with pytest.raises(MaskShapeError):
        coco.segments_from_colour_map(img[..., :2])
    with pytest.raises(MaskDtypeError):
        coco.segments_from_colour_map(img.astype(np.uint16))


def test_merge_by_category() -> None:
    img = np.zeros((4, 4, 3), np.uint8)
    img[0, 0] = (1, 0, 0)
    img[3, 3] = (2, 0, 0)
    img[1, 1] = (3, 0, 0)
    segs = coco.segments_from_colour_map(img, colours={(1, 0, 0): 7, (2, 0, 0): 7, (3, 0, 0): 8})
    merged = coco.merge_by_category(segs)
    ids = colour_ids(img)
    want = pcm.encode(np.asfortranarray(((ids == 1) | (ids == 2)).astype(np.uint8)))
    assert [(s.value, s.category_id) for s in merged] == [(7, 7), (8, 8)]
    assert merged[0].rle == want and merged[0].area == 2 and merged[0].bbox == (0, 0, 4, 4)


def test_panopticapi_examples_exact() -> None:
    """Each of the 50 COCO panoptic segments: counts, area and bbox as stored."""
    pan = load_json("panopticapi", "panoptic_examples.json")
    det = load_json("panopticapi", "panoptic_coco_detection_format.json")
    matched = 0
    for ann in pan["annotations"]:
        segs = {s.value: s for s in coco.segments_from_colour_map(
            realdata("panopticapi", "panoptic_examples", ann["file_name"]))}
        assert set(segs) == {si["id"] for si in ann["segments_info"]}
        stored = {d["segmentation"]["counts"]: d for d in det["annotations"]
                  if d["image_id"] == ann["image_id"]}
        assert len(stored) == len(ann["segments_info"])
        for si in ann["segments_info"]:
            s = segs[si["id"]]
            assert s.area == si["area"]
            assert list(s.bbox) == si["bbox"]
            d = stored[s.rle["counts"].decode()]
            assert (d["area"], d["bbox"], d["category_id"], d["iscrowd"]) == (
                si["area"], si["bbox"], si["category_id"], si["iscrowd"])
            assert d["segmentation"]["size"] == s.rle["size"]
            matched += 1
    assert matched == 50


def test_labelbox_panoptic_masks_area_and_bbox() -> None:
    pan = load_json("labelbox", "coco", "panoptic.json")
    n = 0
    for ann in pan["annotations"]:
        path = realdata("labelbox", "coco", "masks", ann["file_name"])
        segs = {s.value: s for s in coco.segments_from_colour_map(path)}
        for si in ann["segments_info"]:
            s = segs[si["id"]]
            assert (s.area, list(s.bbox)) == (si["area"], si["bbox"])
            n += 1
    assert n == 369


def test_datumaro_panoptic_png() -> None:
    pan = load_json("datumaro", "coco_panoptic_panoptic_val.json")
    ann = pan["annotations"][0]
    with Image.open(realdata("datumaro", "coco_panoptic_panoptic_val_b.png")) as im:
        img = np.array(im.convert("RGB"))
    segs = {s.value: s for s in coco.segments_from_colour_map(img)}
    assert as_tuples(list(segs.values())) == ref_segments(colour_ids(img), {0})
    for si in ann["segments_info"]:
        assert segs[si["id"]].area == si["area"]


# ---------------------------------------------------------------------------------------------
# grey-level mask images
# ---------------------------------------------------------------------------------------------

def test_threshold_on_horse_png() -> None:
    path = realdata("skimage", "horse.png")
    with Image.open(path) as im:
        grey = np.array(im.convert("L"))
    segs = coco.segments_from_mask_image(path)
    assert as_tuples(segs) == ref_segments((grey > 127).astype(np.uint8), {0})
    segs = coco.segments_from_mask_image(grey, threshold=30)
    assert as_tuples(segs) == ref_segments((grey > 30).astype(np.uint8), {0})


def test_jpeg_noise_with_values_and_tolerance(tmp_path) -> None:
    ideal = np.zeros((120, 160), np.uint8)
    ideal[10:60, 20:90] = 100
    ideal[70:110, 60:150] = 200
    p = tmp_path / "m.jpg"
    Image.fromarray(ideal).save(p, quality=70)
    with Image.open(p) as im:
        noisy = np.array(im)
    assert (noisy != ideal).any()  # the JPEG really is noisy
    segs = coco.segments_from_mask_image(p, values={100: 1, 200: 2}, tolerance=40)
    d = np.abs(noisy.astype(int)[None] - np.array([100, 200])[:, None, None])
    ref = np.where(d.min(0) <= 40, np.array([1, 2])[d.argmin(0)], 0)
    assert as_tuples(segs) == ref_segments(ref, {0})
    assert [s.category_id for s in segs] == [1, 2]
    for s, v in zip(segs, (100, 200)):
        m = mask_utils.decode(s.rle).astype(bool)
        truth = ideal == v
        assert (m & truth).sum() / (m | truth).sum() > 0.97


def test_grey_lut_ties_uint16_channel_and_bool() -> None:
    img = np.array([[10, 15, 20, 0]], dtype=np.uint8)
    segs = coco.segments_from_mask_image(img, values={10: 1, 20: 2}, tolerance=5)
    assert [(s.value, s.area) for s in segs] == [(1, 2), (2, 1)]  # 15 ties -> lower level
    img16 = np.array([[0, 40000], [65535, 100]], dtype=np.uint16)
    assert [(s.value, s.area) for s in coco.segments_from_mask_image(img16, threshold=30000)] == [
        (1, 2)]
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0, 1] = 255
    assert coco.segments_from_mask_image(rgb)[0].area == 1  # luminance of green: 150
    assert coco.segments_from_mask_image(rgb, channel=0) == []
    assert coco.segments_from_mask_image(rgb, channel=1)[0].area == 1
    assert coco.segments_from_mask_image(np.eye(3, dtype=bool), threshold=0)[0].area == 3
    with pytest.raises(MaskDtypeError):
        coco.segments_from_mask_image(np.zeros((2, 2), np.float64))


# ---------------------------------------------------------------------------------------------
# annotations and the JSON writer
# ---------------------------------------------------------------------------------------------

def _two_segments() -> list[coco.Segment]:
    lab = np.zeros((5, 6), np.uint8)
    lab[1:3, 1:4] = 4
    lab[3:, 4:] = 9
    return coco.segments_from_label_map(lab)


def test_to_annotations_layout_and_categories() -> None:
    segs = _two_segments()
    anns = coco.to_annotations(segs, image_id=12, start_id=100)
    assert [list(a) for a in anns] == [["id", "image_id", "category_id", "segmentation",
                                        "area", "bbox", "iscrowd"]] * 2
    assert [(a["id"], a["category_id"], a["area"], a["bbox"]) for a in anns] == [
        (100, 4, 6, [1.0, 1.0, 3.0, 2.0]), (101, 9, 4, [4.0, 3.0, 2.0, 2.0])]
    for a, s in zip(anns, segs):
        assert isinstance(a["segmentation"]["counts"], str)
        assert a["segmentation"]["counts"].encode() == s.rle["counts"]
    json.dumps(anns)
    assert [a["category_id"] for a in coco.to_annotations(
        segs, image_id=1, category_id=3)] == [3, 3]
    assert [a["category_id"] for a in coco.to_annotations(
        segs, image_id=1, category_id=lambda v: v + 1)] == [5, 10]
    assert [a["category_id"] for a in coco.to_annotations(
        segs, image_id=1, category_id={4: 40, 9: 90})] == [40, 90]
    with pytest.raises(FormatError):
        coco.to_annotations(segs, image_id=1, category_id={4: 40})
    crowd = coco.to_annotations(segs, image_id=1, iscrowd=1, polygons=True)
    assert all(a["iscrowd"] == 1 and isinstance(a["segmentation"], dict) for a in crowd)


def test_to_annotations_polygons_missing_module(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "maskcodecs.polygons", None)
    with pytest.raises(OptionalDependencyError) as ei:
        coco.to_annotations(_two_segments(), image_id=1, polygons=True)
    assert isinstance(ei.value, ImportError)


def test_to_annotations_polygons_with_a_stand_in(monkeypatch) -> None:
    """to_annotations asks maskcodecs.polygons.coco_polygons for each segment's polygons
    (with the options) and writes the RLE where it answers None."""
    seen = []

    def coco_polygons(rle, /, **kw):
        seen.append((rle, kw))
        m = mask_utils.decode(rle).astype(bool)
        if len(seen) > 1:
            return None  # as for a segment with a hole
        ys, xs = np.nonzero(m)
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        return [[float(v) for v in (x0, y0, x1, y0, x1, y1, x0, y1)]]

    fake = types.ModuleType("maskcodecs.polygons")
    fake.coco_polygons = coco_polygons  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "maskcodecs.polygons", fake)
    segs = _two_segments()
    anns = coco.to_annotations(segs, image_id=1, polygons=True,
                               polygon_options={"min_area": 2})
    assert anns[0]["segmentation"] == [[1.0, 1.0, 4.0, 1.0, 4.0, 3.0, 1.0, 3.0]]
    assert anns[1]["segmentation"]["counts"] == segs[1].rle["counts"].decode()
    assert [kw for _, kw in seen] == [{"min_area": 2}] * 2
    assert seen[0][0] is segs[0].rle
    json.dumps(anns)


def test_write_coco_json_round_trip_through_pycocotools(tmp_path) -> None:
    from pycocotools.coco import COCO

    segs = _two_segments()
    anns = coco.to_annotations(segs, image_id=np.int64(1))
    anns[0]["segmentation"] = segs[0].rle  # bytes counts must be written as str too
    images = [{"id": 1, "height": np.int32(5), "width": 6, "file_name": "a.png"}]
    cats = [{"id": 4, "name": "four"}, {"id": 9, "name": "nine"}]
    path = tmp_path / "out.json"
    coco.write_coco_json(path, images, cats, anns, info={"description": "t"}, indent=1)
    doc = json.loads(path.read_text())
    assert list(doc) == ["info", "images", "annotations", "categories"]
    assert doc["annotations"][0]["segmentation"]["counts"] == segs[0].rle["counts"].decode()
    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO(str(path))
    for a, s in zip(c.loadAnns(c.getAnnIds()), segs):
        assert _norm(c.annToRLE(a)) == _norm(s.rle)
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_write_coco_json_is_atomic(tmp_path) -> None:
    path = tmp_path / "out.json"
    coco.write_coco_json(path, [], [], [])
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o640)
    coco.write_coco_json(path, [], [], [], licenses=[{"id": 1}])
    assert path.stat().st_mode & 0o777 == 0o640
    before = path.read_bytes()
    assert json.loads(before) == {"licenses": [{"id": 1}], "images": [], "annotations": [],
                                  "categories": []}
    with pytest.raises(TypeError):
        coco.write_coco_json(path, [{"id": object()}], [], [])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


# ---------------------------------------------------------------------------------------------
# ann_to_rle / ann_to_mask against pycocotools COCO.annToRLE on real files
# ---------------------------------------------------------------------------------------------



def _pycoco(doc: dict):
    from pycocotools.coco import COCO

    c = COCO()
    c.dataset = doc
    with contextlib.redirect_stdout(io.StringIO()):
        c.createIndex()
    return c


def _norm(rle: dict) -> tuple[list[int], bytes]:
    counts = rle["counts"]
    return [int(v) for v in rle["size"]], counts.encode() if isinstance(counts, str) else counts


def _compare_file(parts: tuple[str, ...]) -> tuple[int, int]:
    """Compare every annotation (and detection) of a file; (compared, pycocotools crashed)."""
    doc = load_json(*parts)
    c = _pycoco(doc)
    sizes = {im["id"]: (im["height"], im["width"]) for im in doc["images"]}
    anns = list(doc["annotations"]) + list(doc.get("detections", []))
    compared = 0
    for ann in anns:
        try:
            theirs = c.annToRLE(dict(ann))
        except Exception:  # pycocotools crashes on some inputs; see below
            theirs = None
        h, w = sizes.get(ann["image_id"], (None, None))
        if h is None:
            # image not in the file (the Encord fixture's crowd RLE): use its own size
            assert theirs is None and isinstance(ann["segmentation"], dict)
            h, w = ann["segmentation"]["size"]
        ours = coco.ann_to_rle(ann, h, w)
        assert isinstance(ours["counts"], bytes)
        if theirs is not None:
            assert _norm(ours) == _norm(theirs), ann.get("id")
            # (pycocotools.mask.decode warns under numpy 2; decode theirs with ours)
            assert (coco.ann_to_mask(ann, h, w) == mask_utils.decode(theirs)).all()
            compared += 1
        else:
            # where pycocotools crashes, ours is a valid RLE: a box detection without
            # segmentation is its box, empty polygons give an empty mask
            if "segmentation" not in ann:
                box = pcm.frPyObjects(np.array([ann["bbox"]], dtype=np.float64), h, w)[0]
                assert _norm(ours) == _norm(box)
            elif ann["segmentation"] == [] or all(len(p) < 6 for p in ann["segmentation"]):
                assert int(mask_utils.area(ours)) == 0
            else:
                assert isinstance(ann["segmentation"], dict)  # the orphan crowd RLE
    return compared, len(anns) - compared


# pycocotools crashes: `segmentation: []` (datumaro train, hotcoco), the Encord
# fixture's crowd RLE whose image is missing, and hotcoco box detections without segmentation
CRASHES = {"coco_instances_instances_train.json": 1, "coco_datastructure_fixture.json": 1,
           "1x1_image.json": 2, "degenerate_1x1.json": 2, "crowd_polygon.json": 1,
           "gt_outside_bounds.json": 2, "iscrowd_polygon_seg.json": 1, "segm_rle_gt.json": 1}


@pytest.mark.parametrize("parts", REAL_COCO_FILES, ids=["/".join(p) for p in REAL_COCO_FILES])
def test_ann_to_rle_matches_pycocotools(parts) -> None:
    compared, crashed = _compare_file(parts)
    assert crashed == CRASHES.get(parts[-1], 0)
    assert compared > 0 or parts[-1] in CRASHES


def test_ann_to_rle_total_compared() -> None:
    total = sum(_compare_file(p)[0] for p in REAL_COCO_FILES)
    # labelbox 62 + 231, datumaro 2 + 0 + 1 + 1, Encord 471, hotcoco 17 (with detections)
    assert total == 785


def test_ann_to_rle_counts_per_file() -> None:
    doc = load_json("encord_client_python", "coco_datastructure_fixture.json")
    kinds = {"poly": 0, "rle": 0}
    for ann in doc["annotations"]:
        kinds["rle" if isinstance(ann["segmentation"], dict) else "poly"] += 1
    assert kinds == {"poly": 466, "rle": 6}


def test_ann_to_rle_edge_cases() -> None:
    empty = {"size": [3, 4], "counts": b"<"}
    assert coco.ann_to_rle({"segmentation": []}, 3, 4) == empty
    assert coco.ann_to_rle({"segmentation": [[]]}, 3, 4) == empty
    assert coco.ann_to_rle({"segmentation": [[1, 1, 2, 2]]}, 3, 4) == empty  # 2 points
    assert coco.ann_to_rle({"segmentation": [[1, 1, 2, 2, 3, 3]]}, 3, 4) == empty  # collinear
    assert coco.ann_to_rle({"segmentation": []}, 0, 4) == {"size": [0, 4], "counts": b"0"}
    # a 4-coordinate first polygon: pycocotools raises; the other polygons still count
    sq = [0, 0, 0, 2, 2, 2, 2, 0]
    got = coco.ann_to_rle({"segmentation": [[1, 1, 2, 2], sq]}, 3, 3)
    assert got == pcm.merge(pcm.frPyObjects([sq], 3, 3))
    # a flat polygon, a box, a list of RLE dicts, uncompressed RLE with its own size
    assert coco.ann_to_rle({"segmentation": sq}, 3, 3) == {"size": [3, 3], "counts": b"02103"}
    assert coco.ann_to_rle({"bbox": [0, 0, 2, 2]}, 3, 3) == {"size": [3, 3], "counts": b"02103"}
    parts = [{"size": [3, 3], "counts": [0, 1, 8]}, {"size": [3, 3], "counts": "414"}]
    assert coco.ann_to_rle({"segmentation": parts}, 3, 3) == pcm.merge(
        [pcm.frPyObjects(parts[0], 3, 3), {"size": [3, 3], "counts": b"414"}])
    # an RLE whose size is not the image's: refused (pycocotools used the RLE's own size)
    for seg in ({"size": [2, 2], "counts": [1, 2, 1]}, {"size": [2, 2], "counts": "121"},
                [{"size": [2, 2], "counts": "121"}]):
        with pytest.raises(SizeMismatchError, match="differs from the image size"):
            coco.ann_to_rle({"segmentation": seg}, 9, 9)
        with pytest.raises(SizeMismatchError):
            coco.ann_to_mask({"segmentation": seg}, 2, 3)
    own = coco.ann_to_rle({"segmentation": {"size": [2, 2], "counts": [1, 2, 1]}}, 2, 2)
    assert own == {"size": [2, 2], "counts": b"121"}
    assert coco.ann_to_mask({"segmentation": {"size": [2, 2], "counts": "121"}}, 2, 2).tolist() == [
        [0, 1], [1, 0]]


@pytest.mark.parametrize("bad", [
    {"segmentation": 5},
    {"segmentation": {"counts": "12"}},
    {"id": 1},
    [1, 2],
])
def test_ann_to_rle_errors(bad) -> None:
    with pytest.raises(FormatError):
        coco.ann_to_rle(bad, 3, 3)


def test_missing_pillow_is_a_clear_error(tmp_path, monkeypatch) -> None:
    """Plain PNGs are read by maskcodecs' own decoder without Pillow; other files (JPEG)
    need it, and say so with the extra to install."""
    p = tmp_path / "l.png"
    Image.fromarray(np.eye(3, dtype=np.uint8)).save(p)
    j = tmp_path / "l.jpg"
    Image.fromarray(np.eye(8, dtype=np.uint8) * 255).save(j)
    expected = coco.segments_from_label_map(p)
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    assert coco.segments_from_label_map(p) == expected
    assert np.array_equal(coco.read_image(p), np.eye(3, dtype=np.uint8))
    for fn in (coco.read_image, coco.segments_from_label_map, coco.segments_from_colour_map,
               coco.segments_from_mask_image):
        with pytest.raises(OptionalDependencyError, match="Pillow.*maskcodecs\\[image\\]") as ei:
            fn(j)
        assert isinstance(ei.value, ImportError)
    # arrays need no Pillow
    assert coco.segments_from_label_map(np.eye(3, dtype=np.uint8))[0].area == 3


def test_read_image_modes(tmp_path) -> None:
    p = tmp_path / "c.png"
    Image.fromarray(np.full((2, 3, 3), 7, np.uint8)).save(p)
    assert coco.read_image(p).shape == (2, 3, 3)
    assert coco.read_image(p, mode="L").shape == (2, 3)


def test_docstring_examples() -> None:
    result = doctest.testmod(coco, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_concurrent_calls_agree() -> None:
    """The kernel releases the GIL and keeps no shared state: threads get the same results."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(11)
    maps = [rng.integers(0, 6, (64, 48)).astype(np.int32) for _ in range(16)]
    want = [as_tuples(coco.segments_from_label_map(m)) for m in maps]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda m: as_tuples(coco.segments_from_label_map(m)), maps * 4))
    assert got == want * 4

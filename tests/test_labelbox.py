"""Tests of maskcodecs.labelbox: colour split, compose, NDJSON, export v2, polygons."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from conftest import load_json, realdata
from hypothesis import given, settings
from hypothesis import strategies as st

from maskcodecs import labelbox as lb
from maskcodecs import mask as mc
from maskcodecs.errors import (
    CountsStringError,
    FormatError,
    InvalidRLEError,
    MaskCodecError,
    MaskDtypeError,
    MaskShapeError,
    UnrequestedColorError,
)

pm = pytest.importorskip("pycocotools.mask")
Image = pytest.importorskip("PIL.Image")

RED, GREEN, NEAR_RED = (255, 0, 0), (0, 255, 0), (255, 0, 1)


def l2_image() -> np.ndarray:
    """The spec's verified 2-class example (L2)."""
    a = np.zeros((3, 4, 3), np.uint8)
    a[0, 1] = a[0, 2] = a[1, 2] = a[1, 3] = RED
    a[1, 0] = NEAR_RED
    a[2, 0] = a[2, 3] = GREEN
    return a


def coco(m: np.ndarray) -> dict:
    return pm.encode(np.asfortranarray(m.astype(np.uint8)))


def ref_split(img: np.ndarray, colors) -> list[np.ndarray]:
    """Labelbox's per-colour recipe."""
    return [np.all(img[:, :, :3] == np.asarray(c), axis=2) for c in colors]


def png_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# split
# ---------------------------------------------------------------------------------------------

def test_l2_two_class_example():
    res = lb.split(l2_image(), [RED, GREEN])
    assert res.masks.dtype == np.bool_ and res.masks.shape == (2, 3, 4)
    assert res.masks[0].astype(int).tolist() == [[0, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 0]]
    assert res.masks[1].astype(int).tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 1]]
    assert res.unrequested == {NEAR_RED: 1}
    assert res.areas.tolist() == [4, 2]
    assert res.colors == [RED, GREEN] and res.size == (3, 4)
    rles = lb.split(l2_image(), [RED, GREEN], output="rle").rles
    assert rles == [coco(res.masks[0]), coco(res.masks[1])]


def test_l2_against_labelbox_sdk():
    geometry = pytest.importorskip("labelbox.data.annotation_types")
    md = geometry.MaskData(arr=l2_image())
    res = lb.split(l2_image(), [RED, GREEN, NEAR_RED])
    for k, c in enumerate([RED, GREEN, NEAR_RED]):
        assert np.array_equal(geometry.Mask(mask=md, color=c).draw(color=1), res.masks[k])


def random_composite(rng, h, w, ncol, c=3):
    palette = rng.integers(0, 256, (ncol, 3), dtype=np.uint8)
    palette[0] = 0
    lab = rng.integers(0, ncol, (h, w))
    # blocky regions as in real composites, plus some noise
    if h > 2 and w > 2 and rng.random() < 0.7:
        lab = np.repeat(np.repeat(lab[: h // 2 + 1, : w // 2 + 1], 2, 0), 2, 1)[:h, :w]
    img = palette[lab]
    if c == 4:
        img = np.concatenate([img, rng.integers(0, 256, (h, w, 1), dtype=np.uint8)], axis=2)
    return img, [tuple(int(v) for v in p) for p in palette]


def check_split(img, colors):
    refs = ref_split(img, colors)
    res = lb.split(img, colors)
    res_rle = lb.split(img, colors, output="rle")
    for k in range(len(colors)):
        assert np.array_equal(res.masks[k], refs[k])
        assert res_rle.rles[k] == coco(refs[k])
        assert res.areas[k] == refs[k].sum()
    # every other colour is reported with its count
    keys = img[:, :, 0].astype(np.int64) | img[:, :, 1].astype(np.int64) << 8 \
        | img[:, :, 2].astype(np.int64) << 16
    u, n = np.unique(keys, return_counts=True)
    asked = {c[0] | c[1] << 8 | c[2] << 16 for c in colors}
    expect = {(k & 255, k >> 8 & 255, k >> 16): int(m) for k, m in zip(u.tolist(), n)
              if k not in asked and k != 0}
    assert res.unrequested == expect == res_rle.unrequested


@pytest.mark.parametrize("seed", range(40))
def test_split_random_against_numpy_and_pycocotools(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 40, 2))
    img, pal = random_composite(rng, h, w, int(rng.integers(1, 9)), c=3 + int(seed % 2))
    want = [pal[i] for i in rng.permutation(len(pal))[: int(rng.integers(0, len(pal) + 1))]]
    want.append((1, 2, 3))  # absent colour: empty mask
    check_split(img, want)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_split_property(h, w, seed):
    rng = np.random.default_rng(seed)
    img, pal = random_composite(rng, h, w, 4)
    check_split(img, pal[1:])


@pytest.mark.parametrize("layout", ["C", "F", "strided", "readonly", "gray", "rgba", "bgr-view"])
def test_split_any_layout(layout):
    rng = np.random.default_rng(7)
    img, pal = random_composite(rng, 23, 31, 5)
    if layout == "F":
        img = np.asfortranarray(img)
    elif layout == "strided":
        big = np.zeros((46, 62, 5), np.uint8)
        big[::2, ::2, 1:4] = img
        img = big[::2, ::2, 1:4]
    elif layout == "readonly":
        img.setflags(write=False)
    elif layout == "gray":
        img = img[:, :, 0].copy()
        pal = [(v, v, v) for v in np.unique(img).tolist()]
        ref = [img == p[0] for p in pal]
        res = lb.split(img, pal, output="rle")
        assert res.rles == [coco(r) for r in ref]
        return
    elif layout == "rgba":
        img = np.concatenate([img, np.full(img.shape[:2] + (1,), 77, np.uint8)], axis=2)
    elif layout == "bgr-view":
        img = np.ascontiguousarray(img[:, :, ::-1])[:, :, ::-1]
    check_split(img, pal)


def test_split_edge_cases():
    for shape in [(0, 0, 3), (0, 5, 3), (4, 0, 3)]:
        res = lb.split(np.zeros(shape, np.uint8), [RED], output="rle")
        assert res.rles == [pm.encode(np.zeros(shape[:2] + (1,), np.uint8, order="F"))[0]]
        assert res.unrequested == {} and res.areas.tolist() == [0]
        assert lb.split(np.zeros(shape, np.uint8), [RED]).masks.shape == (1,) + shape[:2]
    one = np.full((1, 1, 3), 5, np.uint8)
    assert lb.split(one, [(5, 5, 5)], output="rle").rles == [coco(np.ones((1, 1)))]
    res = lb.split(one, [])
    assert res.masks.shape == (0, 1, 1) and res.unrequested == {(5, 5, 5): 1}
    # background: not reported by default, reported with background=None, requestable
    img = l2_image()
    assert (0, 0, 0) not in lb.split(img, [RED]).unrequested
    assert lb.split(img, [RED], background=None).unrequested[(0, 0, 0)] == 5
    assert lb.split(img, [(0, 0, 0)]).masks[0].sum() == 5
    # an int colour means (v, v, v), as in Labelbox; (2, 0, 0) does not match 2
    two = np.zeros((1, 3, 3), np.uint8)
    two[0, 0] = 2
    two[0, 1] = (2, 0, 0)
    assert lb.split(two, [2]).masks[0].tolist() == [[True, False, False]]
    assert lb.split(two, [np.uint8(2)]).colors == [(2, 2, 2)]
    with pytest.raises(MaskShapeError):
        lb.split(two, [True])
    # a repeated colour gets the same mask each time
    res = lb.split(img, [RED, GREEN, RED], output="rle")
    assert res.rles[0] == res.rles[2] and res.areas.tolist() == [4, 2, 4]
    res = lb.split(img, [RED, GREEN, RED])
    assert np.array_equal(res.masks[0], res.masks[2])
    # all pixels one colour; large uniform image
    big = np.full((300, 200, 3), 9, np.uint8)
    assert lb.split(big, [(9, 9, 9)], output="rle").rles[0] == coco(np.ones((300, 200)))


def test_split_errors():
    img = l2_image()
    with pytest.raises(UnrequestedColorError, match="255, 0, 1"):
        lb.split(img, [RED, GREEN], on_unrequested="raise")
    lb.split(img, [RED, GREEN, NEAR_RED], on_unrequested="raise")
    with pytest.raises(MaskShapeError):
        lb.split(img, [(256, 0, 0)])
    with pytest.raises(MaskShapeError):
        lb.split(img, [(1, 2)])
    with pytest.raises(MaskDtypeError):
        lb.split(img.astype(np.int32), [RED])
    with pytest.raises(MaskShapeError):
        lb.split(np.zeros((2, 2, 2), np.uint8), [RED])
    with pytest.raises(MaskShapeError):
        lb.split(np.zeros(5, np.uint8), [RED])
    with pytest.raises(ValueError):
        lb.split(img, [RED], output="png")
    with pytest.raises(ValueError):
        lb.split(img, [RED], on_unrequested="ignore")
    assert issubclass(UnrequestedColorError, MaskCodecError)


def test_split_png_bytes_path_and_pil(tmp_path):
    img = l2_image()
    data = png_bytes(img)
    p = tmp_path / "c.png"
    p.write_bytes(data)
    rgba = png_bytes(np.concatenate([img, np.full((3, 4, 1), 128, np.uint8)], axis=2))
    expect = lb.split(img, [RED, GREEN], output="rle").rles
    for src in [data, bytearray(data), str(p), p, Image.open(io.BytesIO(data)), rgba]:
        assert lb.split(src, [RED, GREEN], output="rle").rles == expect
    # palette PNGs are read as RGB colours
    idx = np.zeros((3, 4), np.uint8)
    idx[ref_split(img, [RED])[0]] = 1
    idx[ref_split(img, [GREEN])[0]] = 2
    idx[ref_split(img, [NEAR_RED])[0]] = 3
    pal = Image.fromarray(idx).convert("P")
    pal.putpalette([0, 0, 0, *RED, *GREEN, *NEAR_RED])
    buf = io.BytesIO()
    pal.save(buf, format="PNG")
    assert lb.split(buf.getvalue(), [RED, GREEN], output="rle").rles == expect


def test_colors_in():
    img = l2_image()
    assert lb.colors_in(img) == {(0, 0, 0): 5, RED: 4, NEAR_RED: 1, GREEN: 2}
    assert list(lb.colors_in(img)) == [(0, 0, 0), RED, NEAR_RED, GREEN]  # first appearance
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)  # ~4096 colours: table growth
    got = lb.colors_in(noise)
    u, n = np.unique(noise.reshape(-1, 3), axis=0, return_counts=True)
    assert got == {tuple(int(v) for v in c): int(k) for c, k in zip(u, n)}
    assert lb.colors_in(np.zeros((0, 3, 3), np.uint8)) == {}


def test_noise_split_matches():
    rng = np.random.default_rng(4)
    noise = rng.integers(0, 4, (50, 70, 3), dtype=np.uint8)
    cols = [tuple(int(v) for v in c) for c in np.unique(noise.reshape(-1, 3), axis=0)]
    check_split(noise, cols)


# ---------------------------------------------------------------------------------------------
# compose
# ---------------------------------------------------------------------------------------------

def test_compose_round_trip_and_overlap():
    res = lb.split(l2_image(), [RED, GREEN, NEAR_RED])
    assert np.array_equal(lb.compose(list(res.masks), [RED, GREEN, NEAR_RED]), l2_image())
    rles = lb.split(l2_image(), [RED, GREEN, NEAR_RED], output="rle").rles
    assert np.array_equal(lb.compose(rles, [RED, GREEN, NEAR_RED]), l2_image())
    a = np.zeros((2, 2), bool)
    a[0] = True
    b = np.zeros((2, 2), bool)
    b[:, 0] = True
    out = lb.compose([a, b], [(1, 1, 1), (2, 2, 2)])
    assert out[0, 0].tolist() == [2, 2, 2] and out[0, 1].tolist() == [1, 1, 1]
    assert lb.compose([], [], height=2, width=3).shape == (2, 3, 3)
    with pytest.raises(MaskShapeError):
        lb.compose([], [])
    with pytest.raises(MaskShapeError):
        lb.compose([a, np.zeros((3, 3))], [RED, GREEN])
    with pytest.raises(MaskShapeError):
        lb.compose([a], [RED, GREEN])
    with pytest.raises(MaskShapeError):
        lb.compose([a], [RED], height=3)
    with pytest.raises(MaskShapeError):
        lb.compose([coco(a), {"size": [3, 2], "counts": b"6"}], [RED, GREEN])
    with pytest.raises(InvalidRLEError):
        lb.compose([{"size": [2, 2], "counts": b"5"}], [RED])
    with pytest.raises(CountsStringError):
        lb.compose([{"size": [2, 2], "counts": "1\x7f"}], [RED])


@pytest.mark.parametrize("seed", range(10))
def test_compose_rles_equals_masks_in_any_order(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 50, 2))
    masks = [rng.random((h, w)) < rng.uniform(0, 1) for _ in range(int(rng.integers(1, 6)))]
    cols = [tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in masks]
    ref = np.zeros((h, w, 3), np.uint8)
    for m, c in zip(masks, cols):
        ref[m] = c
    rles = [coco(m) for m in masks]
    mixed = [r if k % 2 else m for k, (r, m) in enumerate(zip(rles, masks))]
    for src in (masks, rles, mixed, [{"size": r["size"], "counts": r["counts"].decode()}
                                     for r in rles]):
        assert np.array_equal(lb.compose(src, cols), ref)


# ---------------------------------------------------------------------------------------------
# NDJSON
# ---------------------------------------------------------------------------------------------

L8_TEST_MASK = ("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAAAAABX3VL4AAAADklEQVR4nGNgYGBkZAAAAAsAA+RRQXw"
                "AAAAASUVORK5CYII=")
L8_FROM_ARR = ("iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAAAAABWESUoAAAAHklEQVR4nGNgGAKAEYn8j00BEyETBo"
               "OCUTAKhhwAAJW+AQwvpePVAAAAAElFTkSuQmCC")
L4_CAR = ("iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAAAAACRn/EaAAAAFUlEQVR4nAXBAQEAAACAEP0/HZQIGAA5AAVN9ggU"
          "AAAAAElFTkSuQmCC")
DR = "ckrazctum0z8a0ybc0b0o0g0v"


def test_labelbox_ndjson_vectors_byte_for_byte():
    # Labelbox test_mask: composite 2x2x3, colour (1, 1, 1)
    comp = np.array([[[1, 1, 0], [1, 0, 1]], [[1, 1, 1], [1, 1, 1]]], np.uint8)
    m = lb.split(comp, [(1, 1, 1)]).masks[0]
    line = lb.mask_line(m, uuid="b862c586-8614-483c-b5e6-82810f70cac0", data_row_id=DR,
                              schema_id="ckrazcueb16og0z6609jj7y3y")
    assert line == {"uuid": "b862c586-8614-483c-b5e6-82810f70cac0", "dataRow": {"id": DR},
                    "schemaId": "ckrazcueb16og0z6609jj7y3y", "classifications": [],
                    "mask": {"png": L8_TEST_MASK}}
    # Labelbox test_mask_from_arr: cv2.rectangle (5,5)-(10,10) filled on 32x32
    arr = np.zeros((32, 32), np.uint8)
    arr[5:11, 5:11] = 1
    assert lb.mask_line(arr, schema_id="1" * 25, data_row_id="0" * 25)["mask"] == {
        "png": L8_FROM_ARR}
    # the spec's L4 lines (the L2 red mask named "car", and a URI mask)
    red = lb.split(l2_image(), [RED], output="rle").rles[0]
    car = lb.mask_line(red, uuid="u1", data_row_id=DR, name="car")
    assert json.dumps(car, separators=(",", ":")) == (
        '{"uuid":"u1","dataRow":{"id":"' + DR + '"},"name":"car","classifications":[],'
        '"mask":{"png":"' + L4_CAR + '"}}')
    sky = lb.mask_line(None, uuid="u3", data_row_id=DR, name="sky",
                             url="https://example.com/m.png", color=(0, 0, 255))
    assert json.dumps(sky, separators=(",", ":")) == (
        '{"uuid":"u3","dataRow":{"id":"' + DR + '"},"name":"sky","classifications":[],'
        '"mask":{"instanceURI":"https://example.com/m.png","colorRGB":[0,0,255]}}')
    # and they read back
    assert lb.read_mask_line(car) == red
    assert lb.read_mask_line(json.dumps(car)) == red
    assert lb.read_mask_line({"mask": {"png": L8_FROM_ARR}}) == coco(arr)


def test_ndjson_against_labelbox_sdk():
    lbt = pytest.importorskip("labelbox.data.annotation_types")
    ndj = pytest.importorskip("labelbox.data.serialization.ndjson.objects")
    rng = np.random.default_rng(5)
    for _ in range(10):
        img, pal = random_composite(rng, 17, 29, 4)
        sdk = ndj.NDMask.from_common(
            uuid="u", mask=lbt.Mask(mask=lbt.MaskData(arr=img), color=pal[1]),
            classifications=[], name="n", feature_schema_id=None, extra={},
            data=lbt.GenericDataRowData(uid=DR))
        ours = lb.mask_line(lb.split(img, [pal[1]]).masks[0])
        assert ours["mask"]["png"] == sdk.mask.png


def test_png_mask_errors():
    with pytest.raises(FormatError, match="binary"):
        lb.png_to_mask(png_bytes(np.full((2, 2), 255, np.uint8)))
    with pytest.raises(FormatError):
        lb.read_mask_line({"name": "x"})
    with pytest.raises(FormatError):
        lb.read_mask_line({"mask": {"colorRGB": [1, 2, 3]}})
    with pytest.raises(FormatError):
        lb.read_mask_line({"mask": {"instanceURI": "u"}})
    with pytest.raises(FormatError, match="no composite"):
        lb.read_mask_line({"mask": {"instanceURI": "u", "colorRGB": [1, 2, 3]}})
    with pytest.raises(ValueError):
        lb.mask_line(None, url="u")
    with pytest.raises(MaskShapeError):
        lb.mask_to_png(np.zeros((2, 2, 2)))


def test_read_ndjson_composite_forms():
    img = l2_image()
    b64 = base64.b64encode(png_bytes(img)).decode()
    lines = [
        json.dumps({"uuid": "a", "name": "car", "dataRow": {"id": "d"},
                    "mask": {"imBytes": b64, "colorRGB": [255, 0, 0]}}),
        "",
        {"uuid": "b", "name": "tree", "mask": {"instanceUri": "https://x/c.png",
                                                 "colorRgb": [0, 255, 0]}},
        {"uuid": "c", "name": "box", "bbox": {"top": 0, "left": 0, "height": 1, "width": 1}},
        {"uuid": "e", "name": "near", "mask": {"instanceURI": "https://x/c.png",
                                                "colorRGB": [255, 0, 1]}},
        lb.mask_line(np.eye(3), uuid="f", name="png"),
    ]
    recs = list(lb.read_ndjson(lines, images={"https://x/c.png": png_bytes(img)}))
    red, green, near = ref_split(img, [RED, GREEN, NEAR_RED])
    assert [r["uuid"] for r in recs] == ["a", "b", "e", "f"]
    assert recs[0]["rle"] == coco(red) and recs[0]["data_row_id"] == "d"
    assert recs[1]["rle"] == coco(green) and recs[2]["rle"] == coco(near)
    assert recs[3]["rle"] == coco(np.eye(3))
    for src in (lines[0], lines[2]):
        assert lb.read_mask_line(src, images={"https://x/c.png": img}) == (
            recs[0]["rle"] if src is lines[0] else recs[1]["rle"])


def test_read_ndjson_video():
    f1 = l2_image()
    f5 = l2_image()[::-1].copy()
    line = {"uuid": "v", "dataRow": {"id": "d"}, "masks": {
        "frames": [{"index": 1, "instanceURI": "https://x/f1.png"},
                   {"index": 5, "imBytes": base64.b64encode(png_bytes(f5)).decode()}],
        "instances": [{"name": "car", "colorRGB": [255, 0, 0]},
                      {"name": "tree", "colorRgb": [0, 255, 0]}]}}
    recs = list(lb.read_ndjson([line], images={"https://x/f1.png": f1}))
    assert [(r["frame"], r["name"]) for r in recs] == [(1, "car"), (1, "tree"), (5, "car"),
                                                       (5, "tree")]
    assert recs[2]["rle"] == coco(ref_split(f5, [RED])[0])
    assert recs[1]["rle"] == coco(ref_split(f1, [GREEN])[0])


# ---------------------------------------------------------------------------------------------
# export v2
# ---------------------------------------------------------------------------------------------

def v2_row(url1, url2):
    obj = lambda fid, name, url, col: {  # noqa: E731
        "feature_id": fid, "feature_schema_id": "s" + fid, "name": name, "value": name,
        "annotation_kind": "ImageSegmentationMask", "classifications": [],
        "composite_mask": {"url": url, "color_rgb": col}}
    return {"data_row": {"id": "dr1"}, "projects": {"p1": {"labels": [{"annotations": {
        "objects": [obj("f1", "car", url1, [255, 0, 0]), obj("f2", "tree", url1, [0, 255, 0]),
                    {"feature_id": "f3", "name": "box", "bounding_box": {}}],
        "frames": {"3": {"objects": {"f4": obj("f4", "car", url2, [255, 0, 1])}}},
    }}]}}}


def test_export_v2():
    img = l2_image()
    row = v2_row("https://api/masks/1", "https://api/masks/2")
    images = {"https://api/masks/1": png_bytes(img), "https://api/masks/2": img}
    recs = list(lb.read_export_v2([row], images))
    red, green, near = ref_split(img, [RED, GREEN, NEAR_RED])
    assert [(r["feature_id"], r["name"], r["frame"], r["color"]) for r in recs] == [
        ("f1", "car", None, RED), ("f2", "tree", None, GREEN), ("f4", "car", 3, NEAR_RED)]
    assert [r["rle"] for r in recs] == [coco(red), coco(green), coco(near)]
    assert recs[0]["feature_schema_id"] == "sf1" and recs[0]["data_row_id"] == "dr1"
    masks = [r["mask"] for r in lb.read_export_v2(row, images, output="mask")]
    assert all(np.array_equal(a, b) for a, b in zip(masks, [red, green, near]))
    with pytest.raises(FormatError):
        list(lb.read_export_v2([row], {}))
    with pytest.raises(FormatError):
        list(lb.read_export_v2([{"data_row": {}}], images))
    with pytest.raises(ValueError):
        list(lb.read_export_v2([row], images, output="png"))


# ---------------------------------------------------------------------------------------------
# real data
# ---------------------------------------------------------------------------------------------

@pytest.mark.realdata
def test_panoptic_pngs_all_segments():
    pan = load_json("labelbox", "coco", "panoptic.json")
    n = 0
    for ann in pan["annotations"]:
        path = realdata("labelbox", "coco", "masks", ann["file_name"])
        img = np.asarray(Image.open(path).convert("RGB"))
        segs = ann["segments_info"]
        cols = [(s["id"] % 256, s["id"] // 256 % 256, s["id"] // 65536) for s in segs]
        res = lb.split(path, cols, output="rle", on_unrequested="raise")
        assert mc.area(res.rles).tolist() == [s["area"] for s in segs]
        assert mc.toBbox(res.rles).tolist() == [[float(v) for v in s["bbox"]] for s in segs]
        refs = ref_split(img, cols)
        assert res.rles == [coco(r) for r in refs]
        assert lb.colors_in(img).keys() - set(cols) <= {(0, 0, 0)}
        n += len(segs)
    assert n == 369


@pytest.mark.realdata
def test_panopticapi_pngs_give_the_published_rle_strings():
    """Colour PNG -> COCO RLE, byte-exact against panopticapi's detection-format file."""
    pan = load_json("panopticapi", "panoptic_examples.json")
    det = load_json("panopticapi", "panoptic_coco_detection_format.json")
    n = 0
    for ann in pan["annotations"]:
        path = realdata("panopticapi", "panoptic_examples", ann["file_name"])
        ids = [s["id"] for s in ann["segments_info"]]
        res = lb.split(path, [(i % 256, i // 256 % 256, i // 65536) for i in ids], output="rle",
                       on_unrequested="raise")
        ours = sorted(r["counts"].decode() for r in res.rles)
        theirs = sorted(d["segmentation"]["counts"] for d in det["annotations"]
                        if d["image_id"] == ann["image_id"])
        assert ours == theirs
        n += len(ids)
    assert n == 50


@pytest.mark.realdata
def test_labelbox_mask_png():
    path = realdata("labelbox", "mask.png")
    res = lb.split(path, [(255, 255, 255), (0, 255, 255)], on_unrequested="raise")
    white = np.zeros((32, 32), bool)
    white[0:11, 0:11] = True
    cyan = np.zeros((32, 32), bool)
    cyan[20:31, 20:31] = True
    assert np.array_equal(res.masks[0], white) and np.array_equal(res.masks[1], cyan)
    assert lb.colors_in(path) == {(255, 255, 255): 121, (0, 0, 0): 782, (0, 255, 255): 121}


# ---------------------------------------------------------------------------------------------
# polygons
# ---------------------------------------------------------------------------------------------

cv2 = pytest.importorskip("cv2")


def cv_fill(h, w, contours, color=1, nch=None):
    shape = (h, w) if nch is None else (h, w, nch)
    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.asarray(c, np.int32) for c in contours], color)
    return out


def random_polygon(rng, h, w):
    kind = rng.integers(0, 4)
    n = int(rng.integers(1, 12))
    if kind == 0:  # convex: sorted angles around a centre
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = rng.uniform(0, max(h, w))
        c = rng.uniform(-5, [w + 5, h + 5])
        pts = np.stack([c[0] + r * np.cos(ang), c[1] + r * np.sin(ang)], 1)
    elif kind == 1:  # star-shaped concave
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = rng.uniform(0, max(h, w), n)
        c = rng.uniform(0, [w, h])
        pts = np.stack([c[0] + r * np.cos(ang), c[1] + r * np.sin(ang)], 1)
    elif kind == 2:  # arbitrary (self-intersecting) with vertices far outside
        lim = rng.choice([1, 3, 10, 1000])
        pts = rng.uniform(-lim * w, lim * (w + 1), (n, 2))
    else:  # small integer grids with many degenerate/collinear cases
        pts = rng.integers(-3, max(h, w) + 3, (n, 2)).astype(float)
    return pts


def test_fill_polygon_matches_cv2_random():
    rng = np.random.default_rng(11)
    bad = 0
    for _ in range(10000):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        pts = random_polygon(rng, h, w)
        ref = cv_fill(h, w, [np.trunc(pts).astype(np.int32)])
        ours = lb.polygon_mask(pts, height=h, width=w)
        bad += not np.array_equal(ours, ref.astype(bool))
    assert bad == 0


def test_fill_polygon_multi_contour_colour_canvas_and_strides():
    rng = np.random.default_rng(12)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        polys = [np.trunc(random_polygon(rng, h, w)).astype(np.int32)
                 for _ in range(int(rng.integers(1, 4)))]
        color = tuple(int(v) for v in rng.integers(1, 256, 3))
        ref = cv_fill(h, w, polys, color, nch=3)
        base = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        ref_c = base.copy()
        cv2.fillPoly(ref_c, polys, color)
        ours = np.zeros((h, w, 3), np.uint8)
        assert lb.draw_polygon(ours, polys, color=color) is ours
        assert np.array_equal(ours, ref)
        ours_c = base.copy()
        lb.draw_polygon(ours_c, [p.tolist() for p in polys], color=color)
        assert np.array_equal(ours_c, ref_c)
        big = np.zeros((h, w * 2, 4), np.uint8)
        lb.draw_polygon(big[:, ::2, 1:], polys, color=color)  # non-contiguous view
        assert np.array_equal(big[:, ::2, 1:], ref) and not big[:, 1::2].any()


def test_polygon_spec_examples_and_sdk():
    assert lb.polygon_mask([(0.9, 0.9), (3.9, 0.2), (3.6, 2.99)], height=4, width=5).astype(
        int).tolist() == [[1, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0]]
    sq = lb.polygon_mask([(1, 1), (3, 1), (3, 3), (1, 3)], height=5, width=5)
    assert sq.sum() == 9 and sq[1:4, 1:4].all()
    sq = lb.polygon_mask([(-0.5, -0.5), (2.5, -0.5), (2.5, 2.5), (-0.5, 2.5)], height=4, width=4)
    assert sq.sum() == 9 and sq[0:3, 0:3].all()
    rle = lb.polygon_rle([(1, 1), (3, 1), (1, 3)], height=5, width=5)
    assert rle == coco(lb.polygon_mask([(1, 1), (3, 1), (1, 3)], height=5, width=5))
    lbt = pytest.importorskip("labelbox.data.annotation_types")
    rng = np.random.default_rng(13)
    for _ in range(100):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        pts = rng.uniform(-5, [w + 5, h + 5], (int(rng.integers(3, 8)), 2))
        sdk = lbt.Polygon(points=[lbt.Point(x=x, y=y) for x, y in pts]).draw(height=h, width=w)
        assert np.array_equal(lb.polygon_mask(pts, height=h, width=w), sdk[:, :, 0] == 255)


def test_polygon_edge_cases():
    assert not lb.polygon_mask([], height=3, width=3).any()
    assert lb.polygon_mask([(1, 1)], height=3, width=3).sum() == 1
    assert lb.polygon_mask([(0, 0), (2, 2)], height=3, width=3).sum() == 3
    assert lb.polygon_mask([(0, 0), (5, 5), (0, 5)], height=0, width=4).shape == (0, 4)
    huge = [(-2e9, -2e9), (2e9, -2e9), (2e9, 2e9), (-2e9, 2e9)]
    assert lb.polygon_mask(huge, height=4, width=6).all()
    # OpenCV walks every row from the lowest vertex: compare with it at +-2e6
    far = [(-2e6, -2e6), (2e6, -1e6), (1e6, 2e6), (-2e6, 3)]
    assert np.array_equal(lb.polygon_mask(far, height=4, width=6),
                          cv_fill(4, 6, [np.array(far, np.int32)]).astype(bool))
    with pytest.raises(MaskShapeError):
        lb.polygon_mask([(0, np.nan), (1, 1), (2, 0)], height=3, width=3)
    with pytest.raises(MaskShapeError):
        lb.polygon_mask([(0, 3e9), (1, 1), (2, 0)], height=3, width=3)
    with pytest.raises(MaskDtypeError):
        lb.draw_polygon(np.zeros((3, 3), np.float32), [(0, 0), (1, 1), (0, 1)])
    with pytest.raises(ValueError):
        lb.draw_polygon(np.zeros((3, 3, 3), np.uint8), [(0, 0), (1, 1), (0, 1)], color=300)


def test_write_mask_line_is_a_deprecated_name_of_mask_line():
    m = np.eye(3, dtype=bool)
    with pytest.warns(DeprecationWarning, match="mask_line"):
        old = lb.write_mask_line(m, uuid="u", data_row_id="d", name="a")
    assert old == lb.mask_line(m, uuid="u", data_row_id="d", name="a")

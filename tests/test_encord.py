"""maskcodecs.encord: spec vectors (E2, E5, E6, E9), Encord's fixture bitmasks, and
differential round trips against pycocotools on the transposed mask."""
from __future__ import annotations

import doctest

import numpy as np
import pycocotools.mask as pcm
import pytest
from conftest import load_json
from hypothesis import given, settings
from hypothesis import strategies as st

from maskcodecs import encord
from maskcodecs import mask as mask_utils
from maskcodecs.errors import (
    CountsStringError,
    FormatError,
    InvalidRLEError,
    MaskCodecError,
    MaskDtypeError,
    MaskShapeError,
)

M34 = np.array([[0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 0]], dtype=bool)


def ref_row_string(m: np.ndarray) -> str:
    """The reference: pycocotools on the Fortran-ordered transpose (spec E0)."""
    return pcm.encode(np.asfortranarray(m.T.astype(np.uint8)))["counts"].decode()


def row_mask(counts: list[int]) -> np.ndarray:
    """A 1 x N mask from alternating counts (zeros first), built with numpy."""
    vals = np.arange(len(counts)) % 2
    return np.repeat(vals, counts).astype(bool).reshape(1, -1)


# ---------------------------------------------------------------------------------------------
# spec E2 vectors
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("m", "s"), [
    (M34, "12310"),
    (np.array([[1, 1, 1], [0, 0, 0]], dtype=bool), "033"),
    (np.zeros((2, 3), dtype=bool), "6"),
    (np.ones((2, 3), dtype=bool), "06"),
    (np.zeros((1, 0), dtype=bool), ""),
    (np.zeros((0, 0), dtype=bool), ""),
])
def test_e2_vectors(m: np.ndarray, s: str) -> None:
    assert encord.encode(m) == s
    back = encord.decode(s, *m.shape)
    assert back.shape == m.shape and back.dtype == np.bool_
    assert (back == m).all()


def test_e2_to_dict_key_order_and_empty_sizes_kept() -> None:
    d = encord.to_dict(M34)
    assert d == {"top": 0, "left": 0, "height": 3, "width": 4, "rleString": "12310"}
    assert list(d) == ["top", "left", "height", "width", "rleString"]
    assert encord.to_dict(np.zeros((1, 0), dtype=bool)) == {
        "top": 0, "left": 0, "height": 1, "width": 0, "rleString": ""}


def test_e2_long_row() -> None:
    m = np.zeros((1, 100000), dtype=bool)
    m[0, 50000:50010] = True
    m[0, 99990:] = True
    s = "`j`1:li`10"
    assert encord.encode(m) == s
    assert (encord.decode(s, 1, 100000) == m).all()


@pytest.mark.parametrize(("counts", "s"), [
    ([0], "0"), ([1], "1"), ([31], "o0"), ([32], "P1"), ([47], "_1"), ([48], "`1"),
    ([1000], "Xo0"), ([5, 3, 2, 10], "5327"), ([0, 1, 1, 1], "0110"),
])
def test_e2_single_counts_and_deltas(counts: list[int], s: str) -> None:
    m = row_mask(counts)
    if m.size == 0:
        # [0] is the count list of an empty buffer; Encord writes "" for it, decodes "0" fine
        assert encord.encode(m) == ""
        assert encord.decode(s, 1, 0).shape == (1, 0)
        return
    assert encord.encode(m) == s
    assert (encord.decode(s, 1, m.shape[1]) == m).all()


# ---------------------------------------------------------------------------------------------
# Encord's own unit tests (E9), restated against our API
# ---------------------------------------------------------------------------------------------

def test_e9_rle_to_mask_5_2_5() -> None:
    s = mask_utils.frUncompressedRLE([{"size": [12, 1], "counts": [5, 2, 5]}])[0]["counts"]
    got = encord.decode(s, 3, 4)
    assert got.reshape(-1).astype(np.uint8).tobytes() == b"\0" * 5 + b"\1\1" + b"\0" * 5


def test_e9_zebra() -> None:
    m = np.frombuffer(b"\0\1" * 4, dtype=np.uint8).reshape(2, 4)
    s = encord.encode(m)
    assert s == "111" + "0" * 5  # counts [1]*8, deltas from index 3
    assert encord.decode(s, 2, 4).astype(np.uint8).tobytes() == b"\0\1" * 4


def test_e9_transpose_3x4() -> None:
    m = np.frombuffer(b"\0\0\0\0\0\1\1\0\0\0\0\0", dtype=np.uint8).reshape(3, 4)
    rle = encord.to_coco(encord.to_dict(m))
    assert mask_utils.decode(rle).T.tobytes() == b"\0\0\0\0\1\0\0\1\0\0\0\0"


def test_e9_two_quadrants_2000x3000() -> None:
    m = np.zeros((2000, 3000), dtype=bool)
    m[:1000, :1500] = True
    m[1000:, 1500:] = True
    d = encord.to_dict(m)
    assert (d["height"], d["width"]) == (2000, 3000)
    assert (encord.from_dict(d) == m).all()
    assert (encord.from_dict({"bitmask": d}) == m).all()


def test_e9_empty_round_trip() -> None:
    m = np.zeros((1, 0), dtype=bool)
    assert encord.from_dict(encord.to_dict(m)).shape == (1, 0)


# ---------------------------------------------------------------------------------------------
# E3: accepted inputs, from_dict variants, errors
# ---------------------------------------------------------------------------------------------

def test_any_nonzero_is_foreground_q1() -> None:
    # Pillow mode "1" buffers hold 0xFF; the numpy path gives the right phase
    m = np.array([[255, 255, 0], [0, 255, 0]], dtype=np.uint8)
    assert encord.encode(m) == "022OO"
    assert encord.encode(m.astype(np.int32) * 7) == "022OO"


@pytest.mark.parametrize("view", [
    lambda a: np.asfortranarray(a),
    lambda a: a[::-1][::-1],
    lambda a: np.ascontiguousarray(np.pad(a, 2)[2:-2, 2:-2]),
    lambda a: np.pad(a, ((1, 1), (3, 0)))[1:-1, 3:],
    lambda a: np.ascontiguousarray(a[:, ::-1])[:, ::-1],
])
def test_memory_order_does_not_matter(view) -> None:
    v = view(M34)
    assert (v == M34).all()
    assert encord.encode(v) == "12310"


def test_read_only_input() -> None:
    m = M34.copy()
    m.setflags(write=False)
    assert encord.encode(m) == "12310"
    assert encord.encode(np.frombuffer(M34.tobytes(), dtype=bool).reshape(3, 4)) == "12310"


def test_decode_output_is_fresh_c_ordered_bool() -> None:
    out = encord.decode("12310", 3, 4)
    assert out.flags.c_contiguous and out.flags.writeable
    assert out.dtype == np.bool_
    out[0, 0] = True  # does not touch anything shared
    assert not encord.decode("12310", 3, 4)[0, 0]


def test_from_dict_variants() -> None:
    base = {"top": 0, "left": 0, "height": 3, "width": 4, "rleString": "12310"}
    assert (encord.from_dict(base) == M34).all()
    assert (encord.from_dict({"name": "x", "bitmask": base}) == M34).all()
    alias = {"height": 3, "width": 4, "rle_string": "12310"}
    assert (encord.from_dict(alias) == M34).all()
    moved = dict(base, top=5, left=7)  # top/left are ignored, as Encord does
    assert (encord.from_dict(moved) == M34).all()
    coerced = {"top": "0", "left": 0, "height": "3", "width": 4.0, "rleString": b"12310"}
    assert (encord.from_dict(coerced) == M34).all()


@pytest.mark.parametrize("bad", [
    {"height": 3, "width": 4},
    {"rleString": "12310", "width": 4},
    {"rleString": "12310", "height": 3.5, "width": 4},
    {"rleString": 12310, "height": 3, "width": 4},
    {"rleString": "12310", "height": None, "width": 4},
    [1, 2, 3],
    None,
])
def test_from_dict_errors(bad) -> None:
    with pytest.raises(FormatError) as ei:
        encord.from_dict(bad)
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, MaskCodecError)


def test_negative_size() -> None:
    with pytest.raises(MaskShapeError):
        encord.decode("0", -1, 4)


@pytest.mark.parametrize("bad", [np.zeros(4, bool), np.zeros((2, 2, 2), bool)])
def test_encode_needs_2d(bad) -> None:
    with pytest.raises(MaskShapeError):
        encord.encode(bad)


def test_encode_rejects_float() -> None:
    with pytest.raises(MaskDtypeError):
        encord.encode(np.zeros((2, 2), dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# Q3 policy: short counts pad with background, long counts are an error
# ---------------------------------------------------------------------------------------------

def test_short_counts_pad_with_zeros() -> None:
    # counts [1, 2] of a 3x4 mask: row 0 is 0 1 1 0 then background
    got = encord.decode("12", 3, 4)
    want = np.zeros((3, 4), dtype=bool)
    want[0, 1:3] = True
    assert (got == want).all()
    assert encord.decode("", 3, 4).sum() == 0
    rle = encord.to_coco({"height": 3, "width": 4, "rleString": "12"})
    assert (mask_utils.decode(rle) == want).all()


@pytest.mark.parametrize("fn", [
    lambda s: encord.decode(s, 3, 4),
    lambda s: encord.to_coco({"height": 3, "width": 4, "rleString": s}),
    lambda s: encord.from_coco({"size": [3, 4], "counts": s}),
])
def test_long_counts_raise(fn) -> None:
    with pytest.raises(InvalidRLEError, match="more than") as ei:
        fn("1231<")  # counts sum to 13 > 12
    assert isinstance(ei.value, ValueError)


@pytest.mark.parametrize("s", ["12 3", "1`", "\u00e9", "1231\x00"])
def test_malformed_strings(s: str) -> None:
    with pytest.raises(InvalidRLEError):
        encord.decode(s, 3, 4)


def test_malformed_char_is_counts_string_error() -> None:
    with pytest.raises(CountsStringError):
        encord.decode("12!", 3, 4)


# ---------------------------------------------------------------------------------------------
# E5 / E6: COCO conversion
# ---------------------------------------------------------------------------------------------

E5_ENCORD = ("QUc39d?5M2M3N2N2N101l@J[>7bAOZ>n0N1N3N1O1O0O2O001O001O01O00001O0O2O001O1N2O2M2N2N2N2"
             "N3"
             "K6K5J7I6EiZh3")
E5_COCO = ("eWZ26f?7K4M3L3N2N2N101N2N2O1O1N101O00001O00001O01O00100O1O101N2NO10000O100000000000O1"
           "00000000000000O10000O101O0O101N101O1N1O2N2N3M3L4J[Xe4")


def test_e5_vector() -> None:
    bm = {"rleString": E5_ENCORD, "top": 0, "left": 0, "width": 512, "height": 512}
    rle = encord.to_coco(bm)
    assert rle == {"size": [512, 512], "counts": E5_COCO.encode()}
    assert mask_utils.toBbox(rle).tolist() == [148, 230, 65, 41]
    assert int(mask_utils.area(rle)) == 1963
    assert encord.from_coco({"size": [512, 512], "counts": E5_COCO}) == {
        "top": 0, "left": 0, "height": 512, "width": 512, "rleString": E5_ENCORD}


def test_e5_import_non_square() -> None:
    want = {"top": 0, "left": 0, "height": 3, "width": 4, "rleString": "12310"}
    assert encord.from_coco({"size": [3, 4], "counts": "22200OO"}) == want
    assert encord.from_coco({"size": [3, 4], "counts": b"22200OO"}) == want
    assert encord.from_coco({"size": [3, 4], "counts": [2, 2, 2, 2, 2, 1, 1]}) == want


def test_e6_helpers_equivalent() -> None:
    assert encord.to_coco({"height": 3, "width": 4, "rleString": "12310"})["counts"] == b"22200OO"
    assert encord.from_coco({"size": [3, 4], "counts": "22200OO"})["rleString"] == "12310"


def test_coco_empty_sizes() -> None:
    assert encord.to_coco({"height": 0, "width": 5, "rleString": ""}) == pcm.encode(
        np.zeros((0, 5), dtype=np.uint8, order="F"))
    assert encord.from_coco({"size": [0, 5], "counts": b"0"})["rleString"] == ""
    assert encord.from_coco({"size": [4, 5], "counts": b""})["rleString"] == "d0"


def test_from_coco_errors() -> None:
    with pytest.raises(FormatError):
        encord.from_coco({"counts": b"0"})
    with pytest.raises(MaskShapeError):
        encord.from_coco({"size": [3], "counts": b"0"})
    with pytest.raises(InvalidRLEError):
        encord.from_coco({"size": [2, 2], "counts": [1, 2, 3]})


# ---------------------------------------------------------------------------------------------
# real data: Encord's exporter fixture and the long test string
# ---------------------------------------------------------------------------------------------

def test_fixture_bitmasks_match_expected_coco() -> None:
    cases = load_json("encord_client_python", "encord_bitmask_cases.json")["bitmask_to_coco"]
    assert len(cases) == 9
    for case in cases:
        bm = case["encord_bitmask"]
        exp = case["expected_coco_segmentation"]
        rle = encord.to_coco(bm)
        assert rle["size"] == exp["size"]
        assert rle["counts"].decode() == exp["counts"]
        assert float(mask_utils.area(rle)) == case["expected_area"]
        assert mask_utils.toBbox(rle).tolist() == case["expected_bbox"]
        # the other way, and through a decoded mask
        assert encord.from_coco(exp)["rleString"] == bm["rleString"]
        m = encord.from_dict(bm)
        assert pcm.encode(np.asfortranarray(m.astype(np.uint8)))["counts"].decode() == exp["counts"]
        assert encord.encode(m) == bm["rleString"]


def test_iter_bitmasks_on_exporter_fixture() -> None:
    rows = load_json("encord_client_python", "coco_exporter_fixture.json")["LABELS_LIST"]
    cases = load_json("encord_client_python", "encord_bitmask_cases.json")["bitmask_to_coco"]
    found = list(encord.iter_bitmasks(rows))
    assert len(found) == len(cases) == 9
    for b, case in zip(found, cases):
        parts = case["json_path_in_coco_exporter_fixture"].split("/")
        row = rows[int(parts[1])]
        assert b.label_hash == row["label_hash"]
        assert b.data_hash == parts[3]
        assert b.bitmask == case["encord_bitmask"]
        assert b.to_coco()["counts"].decode() == case["expected_coco_segmentation"]["counts"]
        assert b.to_mask().shape == (b.bitmask["height"], b.bitmask["width"])
        assert b.name == "bitmask" and b.feature_hash and b.object_hash
    # frames: video and dicom frames come from the labels key, image groups from data_sequence
    assert [b.frame for b in found] == [0, 0, 1, 0, 1, 0, 0, 1, 0]


def test_long_string_1914x2294() -> None:
    case = load_json("encord_client_python", "encord_bitmask_cases.json")["long_rle_string"]
    s, h, w = case["rleString"], case["inferred_height"], case["inferred_width"]
    counts = np.frombuffer(mask_utils._core.counts_from_string(s.encode()), dtype=np.uint32)
    assert int(counts.sum()) == 1914 * 2294
    m = encord.decode(s, h, w)
    assert int(m.sum()) == 314386
    assert encord.encode(m) == s
    rle = encord.to_coco({"height": h, "width": w, "rleString": s})
    assert rle == pcm.encode(np.asfortranarray(m.astype(np.uint8)))
    assert encord.from_coco(rle)["rleString"] == s
    assert ref_row_string(m) == s


# ---------------------------------------------------------------------------------------------
# iter_bitmasks layouts
# ---------------------------------------------------------------------------------------------

def _obj(h: str, s: str = "033") -> dict:
    return {"objectHash": h, "featureHash": "F", "name": "Mask", "shape": "bitmask",
            "bitmask": {"top": 0, "left": 0, "height": 2, "width": 3, "rleString": s}}


def test_iter_bitmasks_layouts() -> None:
    image = {"label_hash": "L1", "data_units": {"d1": {"data_sequence": "3", "labels": {
        "objects": [_obj("a"), {"objectHash": "p", "shape": "polygon", "polygon": {}}],
        "classifications": []}}}}
    video = {"label_hash": "L2", "data_units": {"d2": {"labels": {
        "5": {"objects": [_obj("b")], "classifications": []},
        "7": {"objects": [_obj("c", "6"), _obj("d")]}}}}}
    got = [(b.label_hash, b.data_hash, b.frame, b.object_hash)
           for b in encord.iter_bitmasks([image, video])]
    assert got == [("L1", "d1", 3, "a"), ("L2", "d2", 5, "b"), ("L2", "d2", 7, "c"),
                   ("L2", "d2", 7, "d")]
    one = list(encord.iter_bitmasks(image))
    assert len(one) == 1 and (one[0].to_mask() == [[1, 1, 1], [0, 0, 0]]).all()
    with pytest.raises(AttributeError):
        one[0].frame = 2  # type: ignore[misc]


def test_iter_bitmasks_rejects_non_rows() -> None:
    with pytest.raises(FormatError):
        list(encord.iter_bitmasks({"labels": {}}))


# ---------------------------------------------------------------------------------------------
# hypothesis: non-square masks against pycocotools on the transposed mask
# ---------------------------------------------------------------------------------------------

@st.composite
def masks(draw) -> np.ndarray:
    h = draw(st.integers(1, 23))
    w = draw(st.integers(1, 29))
    kind = draw(st.sampled_from(["noise", "blocks", "sparse"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return rng.random((h, w)) < draw(st.floats(0.0, 1.0))
    if kind == "sparse":
        return rng.random((h, w)) < 0.03
    m = np.zeros((h, w), dtype=bool)
    for _ in range(draw(st.integers(0, 4))):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        m[y0:y0 + rng.integers(1, h + 1), x0:x0 + rng.integers(1, w + 1)] = True
    return m


@settings(max_examples=150, deadline=None)
@given(masks())
def test_hypothesis_against_pycocotools(m: np.ndarray) -> None:
    s = encord.encode(m)
    assert s == ref_row_string(m)
    back = encord.decode(s, *m.shape)
    assert (back == m).all()
    coco = pcm.encode(np.asfortranarray(m.astype(np.uint8)))
    assert encord.to_coco(encord.to_dict(m)) == coco
    assert encord.from_coco(coco)["rleString"] == s
    assert encord.encode(np.asfortranarray(m)) == s


def test_docstring_examples() -> None:
    result = doctest.testmod(encord, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 17), st.integers(1, 19),
       st.lists(st.integers(0, 30), min_size=0, max_size=25), st.booleans())
def test_hypothesis_non_canonical_and_short_counts(h: int, w: int, counts: list[int],
                                                   pad: bool) -> None:
    """Zero-length runs anywhere and sums below h*w (tail = background) convert exactly."""
    total = 0
    kept = []
    for c in counts:
        if total + c > h * w:
            break
        kept.append(c)
        total += c
    if pad:
        kept.append(h * w - total)
    vals = (np.arange(len(kept)) % 2).astype(np.uint8)
    flat = np.zeros(h * w, dtype=np.uint8)
    flat[: sum(kept)] = np.repeat(vals, kept)
    m = flat.reshape(w, h).T  # column-major stream -> h x w mask
    got = encord.from_coco({"size": [h, w], "counts": kept})
    assert got["rleString"] == ref_row_string(m)
    assert (encord.from_dict(got) == m).all()
    coco_rle = pcm.frPyObjects({"size": [h, w], "counts": kept}, h, w)
    back = encord.to_coco(got)
    assert back == pcm.encode(np.asfortranarray(m))
    assert int(mask_utils.area(back)) == int(mask_utils.area(coco_rle))


def test_exporter_expected_result_directly() -> None:
    """Encord's COCO_EXPORTER_EXPECTED_RES, matched through encord_track_uuid == objectHash
    (independent of the derived pairing file)."""
    fx = load_json("encord_client_python", "coco_exporter_fixture.json")
    expected = [a for a in fx["COCO_EXPORTER_EXPECTED_RES"]["annotations"]
                if isinstance(a.get("segmentation"), dict)]
    images = {im["id"]: im for im in fx["COCO_EXPORTER_EXPECTED_RES"]["images"]}
    found = list(encord.iter_bitmasks(fx["LABELS_LIST"]))
    assert len(expected) == len(found) == 9
    used = set()
    for exp in expected:
        cands = [i for i, b in enumerate(found)
                 if b.object_hash == exp["attributes"]["encord_track_uuid"]
                 and b.to_coco()["counts"].decode() == exp["segmentation"]["counts"]]
        assert len(cands) == 1
        used.add(cands[0])
        rle = found[cands[0]].to_coco()
        im = images[exp["image_id"]]
        assert rle["size"] == exp["segmentation"]["size"] == [im["height"], im["width"]]
        assert float(mask_utils.area(rle)) == exp["area"]
        assert mask_utils.toBbox(rle).tolist() == exp["bbox"]
    assert used == set(range(9))

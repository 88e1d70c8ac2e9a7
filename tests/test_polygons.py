"""Tests for maskcodecs.polygons: differential against cv2.findContours, properties, edges."""
from __future__ import annotations

import glob

import numpy as np
import pytest
from conftest import load_json, realdata
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from maskcodecs import mask as mc
from maskcodecs.errors import (
    ContourOptionError,
    CountsStringError,
    ImageTooLargeError,
    InvalidRLEError,
    MaskDtypeError,
    MaskShapeError,
    RLETypeError,
)
from maskcodecs.polygons import (
    Contour,
    find_contours,
    mask_to_polygons,
    rle_to_polygons,
)

cv2 = pytest.importorskip("cv2")
Image = pytest.importorskip("PIL.Image")

COMBOS = [(mode, approx) for mode in ("external", "ccomp") for approx in ("simple", "none")]


# ---------------------------------------------------------------------------------------------
# reference: OpenCV
# ---------------------------------------------------------------------------------------------

def _cv2(m: np.ndarray, mode: str, approx: str):
    cv_mode = cv2.RETR_EXTERNAL if mode == "external" else cv2.RETR_CCOMP
    cv_approx = cv2.CHAIN_APPROX_SIMPLE if approx == "simple" else cv2.CHAIN_APPROX_NONE
    cs, hier = cv2.findContours(np.ascontiguousarray(m != 0, dtype=np.uint8), cv_mode, cv_approx)
    return [c.reshape(-1, 2) for c in cs], (hier[0] if hier is not None else np.zeros((0, 4)))


def _key(points: np.ndarray) -> tuple:
    return tuple(map(tuple, np.asarray(points).tolist()))


def assert_same_as_cv2(m: np.ndarray, mode: str, approx: str) -> int:
    """Our contours are OpenCV's: the same multiset of point sequences (same start point and
    direction), the same hole flags, and in ccomp mode the same parent for every hole."""
    ours = find_contours(m, mode=mode, approx=approx)
    theirs, hier = _cv2(m, mode, approx)
    assert sorted(_key(c.points) for c in ours) == sorted(_key(c) for c in theirs)
    index = {_key(c): j for j, c in enumerate(theirs)}
    for c in ours:
        j = index[_key(c.points)]
        cv_parent = int(hier[j][3]) if len(hier) else -1
        assert c.is_hole == (cv_parent >= 0)
        if c.is_hole:
            assert 0 <= c.parent < len(ours)
            assert _key(ours[c.parent].points) == _key(theirs[cv_parent])
            assert not ours[c.parent].is_hole
        else:
            assert c.parent == -1
        assert c.area == pytest.approx(cv2.contourArea(theirs[j]), abs=1e-9)
    return len(ours)


# ---------------------------------------------------------------------------------------------
# real masks
# ---------------------------------------------------------------------------------------------

def _panoptic_masks():
    files = sorted(glob.glob(str(realdata("panopticapi", "panoptic_examples") / "*.png")))
    files += sorted(glob.glob(str(realdata("labelbox", "coco", "masks") / "*.png")))
    assert len(files) == 22
    for f in files:
        a = np.asarray(Image.open(f).convert("RGB")).astype(np.int64)
        ids = a[..., 0] + 256 * a[..., 1] + 65536 * a[..., 2]
        for i in np.unique(ids):
            if i:
                yield f, int(i), (ids == i)


def _horse() -> np.ndarray:
    g = np.asarray(Image.open(realdata("skimage", "horse.png")).convert("L"))
    return g < 128


@pytest.mark.realdata
def test_panoptic_segments_match_cv2():
    n_masks = n_contours = 0
    for _, _, m in _panoptic_masks():
        for mode, approx in COMBOS:
            n_contours += assert_same_as_cv2(m, mode, approx)
        n_masks += 1
    assert n_masks == 419
    assert n_contours > 2000


@pytest.mark.realdata
@pytest.mark.parametrize("mode,approx", COMBOS)
def test_horse_matches_cv2(mode, approx):
    m = _horse()
    assert 0.2 < m.mean() < 0.5
    assert_same_as_cv2(m, mode, approx)
    assert_same_as_cv2(~m, mode, approx)          # the inverse has the horse as a hole
    assert_same_as_cv2(np.asfortranarray(m), mode, approx)


@pytest.mark.realdata
@pytest.mark.parametrize("mode,approx", COMBOS)
def test_labelbox_mask_png_matches_cv2(mode, approx):
    a = np.asarray(Image.open(realdata("labelbox", "mask.png")).convert("RGB"))
    m = a.any(axis=2)
    assert assert_same_as_cv2(m, mode, approx) == 2
    white = (a == 255).all(axis=2)
    [c] = find_contours(white, mode=mode, approx=approx)
    if approx == "simple":
        assert c.points.tolist() == [[0, 0], [0, 10], [10, 10], [10, 0]]
    else:
        assert len(c.points) == 40


@pytest.mark.realdata
def test_rle_to_polygons_on_real_rles():
    doc = load_json("panopticapi", "panoptic_coco_detection_format.json")
    anns = doc["annotations"]
    assert len(anns) == 50
    for ann in anns:
        rle = ann["segmentation"]
        m = mc.decode(rle)
        for holes in (False, True):
            assert rle_to_polygons(rle, holes=holes) == mask_to_polygons(m, holes=holes)
        # str counts are accepted too
        r2 = {"size": rle["size"], "counts": rle["counts"]}
        if isinstance(r2["counts"], bytes):
            r2["counts"] = r2["counts"].decode("ascii")
        assert rle_to_polygons(r2, approx="none") == mask_to_polygons(m, approx="none")


@pytest.mark.realdata
def test_rle_to_polygons_on_real_uncompressed_crowd_rles():
    doc = load_json("labelbox", "coco", "rle.json")
    rles = [a["segmentation"] for a in doc["annotations"] if isinstance(a["segmentation"], dict)]
    assert len(rles) == 10
    for rle in rles:
        assert isinstance(rle["counts"], list)
        h, w = rle["size"]
        m = mc.decode(mc.frPyObjects(rle, h, w))
        for holes in (False, True):
            got = rle_to_polygons(rle, holes=holes, approx="none")
            assert got == mask_to_polygons(m, holes=holes, approx="none")
            assert len(got) >= 1
        assert_same_as_cv2(m, "ccomp", "simple")


@pytest.mark.realdata
def test_rasterised_polygons_agree_with_region():
    """frPyObjects(our polygons) against the region with holes filled (OpenCV's filled
    RETR_EXTERNAL contours). Pixel-centre polygons lose part of the border pixels, so this
    is a measured agreement, not an identity; the figures are those in the module docstring."""
    lost = added = total = 0
    big_ious = []
    for _, _, m in _panoptic_masks():
        m8 = m.astype(np.uint8)
        h, w = m.shape
        cs, _ = cv2.findContours(m8, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        filled = np.zeros_like(m8)
        cv2.drawContours(filled, cs, -1, 1, thickness=-1)
        polys = mask_to_polygons(m)
        r = mc.decode(mc.merge(mc.frPyObjects(polys, h, w))) if polys else np.zeros_like(m8)
        r = r.astype(bool)
        f = filled.astype(bool)
        lost += int((f & ~r).sum())
        added += int((r & ~f).sum())
        total += int(f.sum())
        if f.sum() >= 2000:
            big_ious.append((r & f).sum() / (r | f).sum())
    assert 0.015 < lost / total < 0.03
    assert added / total < 0.005
    assert np.median(big_ious) > 0.94
    assert min(big_ious) > 0.7
    hm = _horse()
    polys = mask_to_polygons(hm)
    r = mc.decode(mc.merge(mc.frPyObjects(polys, *hm.shape))).astype(bool)
    assert (r & hm).sum() / (r | hm).sum() > 0.96


# ---------------------------------------------------------------------------------------------
# random masks
# ---------------------------------------------------------------------------------------------

def test_seeded_random_masks_match_cv2():
    rng = np.random.default_rng(20261122)
    for _ in range(400):
        h, w = (int(v) for v in rng.integers(1, 24, 2))
        m = rng.random((h, w)) < rng.uniform(0.05, 0.95)
        for mode, approx in COMBOS:
            assert_same_as_cv2(m, mode, approx)


def test_seeded_blobby_masks_match_cv2():
    # smoother masks with large regions, nested rings and holes inside holes
    rng = np.random.default_rng(7)
    for _ in range(30):
        h, w = (int(v) for v in rng.integers(20, 120, 2))
        small = rng.random((h // 4 + 1, w // 4 + 1)) < 0.5
        m = np.kron(small, np.ones((4, 4), dtype=bool))[:h, :w]
        m ^= rng.random((h, w)) < 0.03
        for mode, approx in COMBOS:
            assert_same_as_cv2(m, mode, approx)


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=16)),
       st.sampled_from(COMBOS))
def test_hypothesis_masks_match_cv2(m, combo):
    assert_same_as_cv2(m, *combo)
    mode, approx = combo
    want = [(_key(c.points), c.parent) for c in find_contours(m, mode=mode, approx=approx)]
    for v in (np.asfortranarray(m), m.astype(np.uint8)[::-1][::-1], m.T.copy().T):
        got = [(_key(c.points), c.parent) for c in find_contours(v, mode=mode, approx=approx)]
        assert got == want


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=20)),
       st.booleans(), st.sampled_from(["simple", "none"]), st.sampled_from([8, 4]))
def test_rle_tracing_equals_mask_tracing(m, holes, approx, connectivity):
    rle = mc.encode(np.asfortranarray(m.astype(np.uint8)))
    opts = {"holes": holes, "approx": approx, "connectivity": connectivity}
    assert rle_to_polygons(rle, **opts) == mask_to_polygons(m, **opts)


def test_rle_with_short_counts_is_background_after():
    # counts that stop before h*w: the rest is background, as decode does
    rle = {"size": [4, 4], "counts": [1, 3, 1, 3]}
    m = mc.decode(mc.frPyObjects(rle, 4, 4))
    assert rle_to_polygons(rle, approx="none") == mask_to_polygons(m, approx="none") != []


# ---------------------------------------------------------------------------------------------
# connectivity=4
# ---------------------------------------------------------------------------------------------

def _border_pixels(m: np.ndarray, neighbours: int) -> set:
    h, w = m.shape
    p = np.pad(m, 1)
    touch = np.zeros_like(m, dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if neighbours == 4 and dx and dy:
                continue
            touch |= ~p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    return {(int(x), int(y)) for y, x in zip(*np.nonzero(m & touch))}


def test_connectivity4_properties():
    """connectivity=4: one outer border per 4-connected region, one hole border per bounded
    8-connected background region, each border inside one region (holes with the region's
    outer border as parent), and together they visit exactly the foreground pixels that have
    a background pixel among their 8 neighbours."""
    rng = np.random.default_rng(4)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 20, 2))
        m = rng.random((h, w)) < rng.uniform(0.1, 0.9)
        cs = find_contours(m, mode="ccomp", approx="none", connectivity=4)
        n4, lab = cv2.connectedComponents(m.astype(np.uint8), connectivity=4)
        nb, _ = cv2.connectedComponents(np.pad(~m, 1, constant_values=True).astype(np.uint8),
                                        connectivity=8)
        assert sum(not c.is_hole for c in cs) == n4 - 1
        assert sum(c.is_hole for c in cs) == nb - 2
        for c in cs:
            labels = set(lab[c.points[:, 1], c.points[:, 0]].tolist())
            assert len(labels) == 1 and 0 not in labels
            if c.is_hole:
                assert 0 <= c.parent < len(cs) and not cs[c.parent].is_hole
                p = cs[c.parent].points
                assert lab[p[0, 1], p[0, 0]] in labels
        got = {(int(x), int(y)) for c in cs for x, y in c.points.tolist()}
        assert got == _border_pixels(m, 8)
        # simple keeps a subset of the same points, in the same order
        simple = find_contours(m, mode="ccomp", connectivity=4)
        assert len(simple) == len(cs)
        for a, b in zip(simple, cs):
            assert set(_key(a.points)) <= set(_key(b.points))
            assert a.area == pytest.approx(b.area)


def test_connectivity8_visits_border_pixels():
    rng = np.random.default_rng(8)
    for _ in range(100):
        m = rng.random((15, 17)) < 0.6
        cs = find_contours(m, mode="ccomp", approx="none")
        assert {(int(x), int(y)) for c in cs for x, y in c.points.tolist()} == \
            _border_pixels(m, 4)


@pytest.mark.parametrize("connectivity", [8, 4])
def test_external_is_the_regions_touching_the_outside(connectivity):
    """mode="external" gives one border for each region that touches the background around
    the image, and none for regions inside holes."""
    rng = np.random.default_rng(11)
    bg_conn = 12 - connectivity
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy or dx)
              and (bg_conn == 8 or not (dy and dx))]
    for _ in range(400):
        h, w = (int(v) for v in rng.integers(3, 14, 2))
        m = rng.random((h, w)) < 0.6
        _, blab = cv2.connectedComponents(np.pad(~m, 1, constant_values=True).astype(np.uint8),
                                          connectivity=bg_conn)
        outside = blab == blab[0, 0]
        _, lab = cv2.connectedComponents(m.astype(np.uint8), connectivity=connectivity)
        lp = np.pad(lab, 1)
        touching = set()
        for dy, dx in shifts:
            near = np.roll(np.roll(outside, dy, 0), dx, 1)
            touching |= set(np.unique(lp[near & (lp > 0)]).tolist())
        ext = find_contours(m, connectivity=connectivity)
        labels = [int(lab[c.points[0, 1], c.points[0, 0]]) for c in ext]
        assert sorted(labels) == sorted(touching)


def test_diagonal_pixels_depend_on_connectivity():
    m = np.eye(3, dtype=bool)
    assert len(find_contours(m)) == 1
    assert len(find_contours(m, connectivity=4)) == 3
    ring = np.ones((3, 3), dtype=bool)
    ring[1, 1] = False
    assert [c.is_hole for c in find_contours(ring, mode="ccomp")] == [False, True]
    plus_hole = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    # 8-connected: one ring around a 4-connected hole; 4-connected: four pixels, no hole
    assert [c.is_hole for c in find_contours(plus_hole, mode="ccomp")] == [False, True]
    assert [c.is_hole for c in find_contours(plus_hole, mode="ccomp", connectivity=4)] == \
        [False] * 4


# ---------------------------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------------------------

def test_min_area_filters_and_renumbers_parents():
    m = np.zeros((40, 60), dtype=bool)
    m[2:5, 2:5] = True                  # area 4
    m[10:30, 10:30] = True              # area 361 with a hole
    m[15:25, 15:25] = False
    m[18:20, 18:20] = True              # a small island inside the hole (area 1)
    m[10:30, 40:50] = True              # area 171
    m[21:23, 44:46] = False             # a tiny hole
    allc = find_contours(m, mode="ccomp")
    assert [c.area for c in allc] == [4.0, 361.0, 171.0, 119.0, 1.0, 7.0]
    kept = find_contours(m, mode="ccomp", min_area=5)
    assert [c.area for c in kept] == [361.0, 171.0, 119.0, 7.0]
    assert [c.parent for c in kept] == [-1, -1, 0, 1]
    # holes are filtered by their own area
    kept = find_contours(m, mode="ccomp", min_area=150)
    assert [c.area for c in kept] == [361.0, 171.0]
    assert [c.parent for c in kept] == [-1, -1]
    assert len(mask_to_polygons(m, min_area=5)) == 2


def test_external_mode_skips_islands_in_holes():
    m = np.zeros((9, 9), dtype=bool)
    m[1:8, 1:8] = True
    m[2:7, 2:7] = False
    m[4, 4] = True
    assert len(find_contours(m)) == 1
    cs = find_contours(m, mode="ccomp")
    assert [(c.is_hole, c.parent) for c in cs] == [(False, -1), (True, 0), (False, -1)]
    assert [(_key(c.points), c.parent) for c in find_contours(m, mode="two-level")] == \
        [(_key(c.points), c.parent) for c in cs]


def test_contour_fields_and_types():
    m = np.zeros((5, 5), dtype=np.uint8)
    m[1:4, 1:4] = 1
    [c] = find_contours(m)
    assert isinstance(c, Contour)
    assert c.points.dtype == np.int32 and c.points.shape == (4, 2)
    assert c.points.flags.writeable
    assert c.is_hole is False and c.parent == -1 and c.area == 4.0
    [p] = mask_to_polygons(m)
    assert p == [1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0, 1.0]
    assert all(type(v) is float for v in p)


def test_coco_output_drops_degenerate_contours():
    m = np.zeros((6, 8), dtype=bool)
    m[1, 1] = True                      # 1 point
    m[3, 2:7] = True                    # a line: 2 points with approx="simple"
    assert len(find_contours(m)) == 2
    assert mask_to_polygons(m) == []
    [line] = mask_to_polygons(m, approx="none")
    assert len(line) == 2 * 8           # there and back along the line


# ---------------------------------------------------------------------------------------------
# input kinds and edge cases
# ---------------------------------------------------------------------------------------------

def test_memory_orders_and_dtypes_agree():
    rng = np.random.default_rng(3)
    base = rng.random((37, 53)) < 0.5
    want = [(_key(c.points), c.is_hole, c.parent) for c in find_contours(base, mode="ccomp")]
    variants = [
        base.astype(np.uint8),
        np.asfortranarray(base),
        base.astype(np.int8) * -3,
        base.astype(np.int64) * 7,
        base.astype(np.uint16),
        np.ascontiguousarray(base[::-1])[::-1],          # negative row stride
        np.asfortranarray(base[:, ::-1])[:, ::-1],       # negative column stride
        np.repeat(base, 2, axis=1)[:, ::2],              # column stride 2
        (base * np.uint8(200)),
    ]
    ro = base.astype(np.uint8)
    ro.flags.writeable = False
    variants.append(ro)
    for v in variants:
        got = [(_key(c.points), c.is_hole, c.parent) for c in find_contours(v, mode="ccomp")]
        assert got == want
    got = [(_key(c.points), c.is_hole, c.parent)
           for c in find_contours(base.tolist(), mode="ccomp")]
    assert got == want


def test_threads_agree():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(12)
    masks = [rng.random((300, 200)) < 0.5 for _ in range(8)]
    want = [[_key(c.points) for c in find_contours(m, mode="ccomp")] for m in masks]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda m: [_key(c.points) for c in find_contours(m, mode="ccomp")],
                          masks * 2))
    assert got == want * 2


def test_input_is_not_modified():
    m = np.zeros((10, 10), dtype=np.uint8)
    m[2:8, 2:8] = 5
    m[4:6, 4:6] = 0
    before = m.copy()
    find_contours(m, mode="ccomp")
    assert np.array_equal(m, before)


@pytest.mark.parametrize("shape", [(0, 0), (0, 5), (5, 0)])
def test_empty_shapes(shape):
    m = np.zeros(shape, dtype=np.uint8)
    assert find_contours(m) == []
    assert mask_to_polygons(m, holes=True) == []
    assert rle_to_polygons(mc.encode(np.asfortranarray(m))) == []


def test_tiny_and_full_masks():
    assert find_contours(np.zeros((1, 1), np.uint8)) == []
    [c] = find_contours(np.ones((1, 1), np.uint8))
    assert c.points.tolist() == [[0, 0]] and c.area == 0.0
    for shape in [(1, 7), (7, 1), (5, 6), (64, 3)]:
        full = np.ones(shape, dtype=bool)
        for mode, approx in COMBOS:
            assert assert_same_as_cv2(full, mode, approx) == 1
        assert find_contours(full)[0].area == (shape[0] - 1) * (shape[1] - 1)


def test_wide_and_tall_masks():
    rng = np.random.default_rng(5)
    for shape in [(3, 1000), (1000, 3), (2, 4097)]:
        m = rng.random(shape) < 0.4
        for mode, approx in COMBOS:
            assert_same_as_cv2(m, mode, approx)


def test_large_mask_matches_cv2():
    h, w = 1200, 1700
    yy, xx = np.ogrid[:h, :w]
    m = ((yy - 600) ** 2 / 500.0 ** 2 + (xx - 800) ** 2 / 700.0 ** 2) <= 1
    m &= ((yy - 600) ** 2 + (xx - 800) ** 2) > 200 ** 2
    m[1140:1170, 100:1500] = True
    for mode, approx in COMBOS:
        assert assert_same_as_cv2(m, mode, approx) >= 2
    assert_same_as_cv2(np.asfortranarray(m), "ccomp", "none")


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------

def test_bad_options():
    m = np.ones((3, 3), dtype=bool)
    with pytest.raises(ContourOptionError):
        find_contours(m, mode="tree")
    with pytest.raises(ValueError):
        find_contours(m, approx="tc89")
    with pytest.raises(ContourOptionError):
        find_contours(m, connectivity=6)
    with pytest.raises(ContourOptionError):
        mask_to_polygons(m, connectivity=True)
    with pytest.raises(ContourOptionError):
        rle_to_polygons(mc.encode(np.asfortranarray(m.astype(np.uint8))), approx="x")
    with pytest.raises(TypeError):
        find_contours(m, "ccomp")       # options are keyword-only


def test_bad_masks():
    with pytest.raises(MaskShapeError):
        find_contours(np.ones((2, 2, 2), dtype=bool))
    with pytest.raises(MaskShapeError):
        find_contours(np.ones(4, dtype=bool))
    with pytest.raises(MaskDtypeError):
        find_contours(np.ones((2, 2), dtype=np.float32))


@pytest.mark.parametrize("shape", [(2**31, 1), (1, 2**31)])
def test_too_large_is_refused_before_allocating(shape):
    huge = np.broadcast_to(np.uint8(1), shape)      # no memory behind it
    with pytest.raises(ImageTooLargeError):
        find_contours(huge)


def test_bad_rles():
    with pytest.raises(RLETypeError):
        rle_to_polygons([1, 2, 3])
    with pytest.raises(RLETypeError):
        rle_to_polygons({"size": [2, 2], "counts": 5})
    with pytest.raises(InvalidRLEError):
        rle_to_polygons({"size": [2, 2], "counts": b"9"})        # 9 > 4 pixels
    with pytest.raises(CountsStringError):
        rle_to_polygons({"size": [2, 2], "counts": "\u00e9"})
    with pytest.raises(MaskShapeError):
        rle_to_polygons({"size": [-1, 2], "counts": b""})


def test_uncompressed_rle():
    m = np.zeros((6, 5), dtype=np.uint8, order="F")
    m[1:5, 1:4] = 1
    counts = mc.decode(mc.encode(m))  # round trip sanity
    assert np.array_equal(counts, m)
    flat = m.ravel(order="F")
    runs, cur, n = [], 0, 0
    for v in flat:
        if v != cur:
            runs.append(n)
            n, cur = 0, v
        n += 1
    runs.append(n)
    assert rle_to_polygons({"size": [6, 5], "counts": runs}) == mask_to_polygons(m)


def test_orientation_and_start_points():
    m = np.zeros((6, 6), dtype=np.uint8)
    m[1:5, 1:5] = 1
    m[2:4, 2:4] = 0
    outer, hole = find_contours(m, mode="ccomp", approx="none")
    assert outer.points[0].tolist() == [1, 1]       # top-left pixel of the region
    assert hole.points[0].tolist() == [1, 2]        # left of the hole's top-left pixel (2, 2)

    def signed(p):
        x, y = p[:, 0].astype(float), p[:, 1].astype(float)
        return float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))

    # y grows downwards: negative = counter-clockwise on screen
    assert signed(outer.points) < 0 < signed(hole.points)

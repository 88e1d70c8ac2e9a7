"""The kernel's COCO JSON scanner and the columns evaluation reads from files.

The scanner must never accept a document that json.loads refuses, and where it accepts one its
columns must hold exactly the values json.loads gives (the same doubles as Python's float()).
Evaluation of files read by path must run on the columns (no annotation dict built) and equal
pycocotools; the dicts built later must equal pycocotools' own.
"""
from __future__ import annotations

import copy
import json
import math
import pickle
import struct

import cocoeval_cases as cc
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maskcodecs import _rle_core as core
from maskcodecs._coco_scan import scan_dataset, scan_results
from maskcodecs.coco import COCO
from maskcodecs.cocoeval import COCOeval

L = core.COCO_JSON_LAYOUT
SETTINGS = settings(max_examples=cc.EXAMPLES * 2, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FIELDS = ("id", "image_id", "category_id", "area", "iscrowd", "score", "num_keypoints")


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def _same_double(a: float, b: float) -> bool:
    return _bits(a) == _bits(b) or (math.isnan(a) and math.isnan(b))


def check_rows(data: bytes, rows: np.ndarray, anns: list) -> None:
    """Every modelled field of every row equals what json.loads gave."""
    assert len(rows) == len(anns)
    meta = rows[:, L["meta"]]
    for r, a in enumerate(anns):
        for name in FIELDS:
            present = bool(meta[r] >> L[name] & 1)
            assert present == (name in a), (r, name)
            if not present:
                continue
            if name in ("id", "image_id", "category_id"):
                assert type(a[name]) is int and rows[r, L[name]] == a[name]
            else:
                got = rows[r:r + 1, L[name]].view(np.float64)[0]
                assert _same_double(got, float(a[name])), (r, name, got, a[name])
        has_box = bool(meta[r] >> L["bit_bbox"] & 1)
        assert has_box == ("bbox" in a)
        if has_box:
            assert (meta[r] >> 16) & 0xFF == len(a["bbox"])
            got = rows[r, L["bbox"]:L["bbox"] + len(a["bbox"])].view(np.float64)
            for g, v in zip(got.tolist(), a["bbox"]):
                assert _same_double(g, float(v))
        for key in ("segmentation", "keypoints"):
            present = bool(meta[r] >> L["bit_" + key] & 1)
            assert present == (key in a)
            if present:
                s, e = rows[r, L[key]], rows[r, L[key] + 1]
                assert json.loads(data[s:e]) == a[key]


def as_rows(got) -> tuple[np.ndarray, object]:
    """The scanner's columns as one (n, nslots) matrix (absent slots zero), and its top."""
    cols, n, top = got
    rows = np.zeros((n, L["nslots"]), dtype=np.int64)
    for k, col in cols.items():
        assert col.dtype == np.int64
        if k == L["bbox"]:  # the box's four numbers, one row each
            assert col.shape == (n, 4)
            rows[:, k:k + 4] = col
        else:
            assert col.shape == (n,)
            rows[:, k] = col
    return rows, top


def scan_agrees(data: bytes, results: bool) -> object:
    """Scan; if the scanner accepts, json.loads must accept and agree. Returns the scan."""
    got = core.coco_json_scan(data, results)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        assert got is None, "the scanner accepted what json.loads refuses"
        return got
    if got is not None:
        rows, top = as_rows(got)
        if results:
            assert type(doc) is list and top is None
            check_rows(data, rows, doc)
        else:
            assert type(doc) is dict
            assert [k for k, _, _ in top] == list(doc)
            for key, s, e in top:
                assert json.loads(data[s:e]) == doc[key] or key == "annotations"
            check_rows(data, rows, doc.get("annotations", []))
    return got


# ---------------------------------------------------------------------------------------------
# random documents
# ---------------------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
number = st.one_of(st.integers(-2**53 + 1, 2**53 - 1), finite,
                   st.integers(-10**30, 10**30), st.sampled_from([0, -0.0, 0.0, 1e-320, 5e-324,
                                                                 1.7976931348623157e308]))
text = st.text(st.characters(codec="utf-8"), max_size=8)
leaf = st.one_of(st.none(), st.booleans(), number, text)
value = st.recursive(leaf, lambda c: st.one_of(st.lists(c, max_size=4),
                                               st.dictionaries(text, c, max_size=4)),
                     max_leaves=12)
small_int = st.integers(-2**53 + 1, 2**53 - 1)
box = st.one_of(st.lists(st.one_of(finite, st.integers(-2**25, 2**25)), min_size=4,
                         max_size=4), st.just([]))


@st.composite
def annotation(draw):
    a = {}
    for name in ("id", "image_id", "category_id"):
        if draw(st.integers(0, 9)):
            a[name] = draw(small_int)
    for name in ("area", "iscrowd", "score", "num_keypoints"):
        if draw(st.booleans()):
            a[name] = draw(st.one_of(finite, small_int))
    if draw(st.booleans()):
        a["bbox"] = draw(box)
    if draw(st.booleans()):
        a["segmentation"] = draw(value)
    if draw(st.booleans()):
        a["keypoints"] = draw(st.lists(number, max_size=6))
    for k, v in draw(st.dictionaries(text, value, max_size=2)).items():
        a.setdefault(k, v)
    keys = list(a)
    order = draw(st.permutations(keys))
    return {k: a[k] for k in order}


def dump(obj, style: int) -> bytes:
    if style == 0:
        return json.dumps(obj).encode()
    if style == 1:
        return json.dumps(obj, indent=2, ensure_ascii=False).encode()
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@SETTINGS
@given(anns=st.lists(annotation(), max_size=6), extra=st.dictionaries(text, value, max_size=3),
       style=st.integers(0, 2))
def test_scanner_equals_json_on_random_documents(anns, extra, style):
    doc = {**extra, "annotations": anns}
    data = dump(doc, style)
    got = scan_agrees(data, False)
    # plain documents (nothing the scanner leaves to json) are always scanned
    plain = all(all(isinstance(a.get(k, 0), int) for k in ("id", "image_id", "category_id"))
                and "\\" not in json.dumps(list(a)) for a in anns)
    if plain and "\\" not in json.dumps(list(extra)):
        assert got is not None
    got = scan_agrees(dump(anns, style), True)
    if plain:
        assert got is not None


@SETTINGS
@given(x=st.one_of(finite, st.integers(-10**25, 10**25)), fmt=st.sampled_from(
    ["{!r}", "{:.17g}", "{:.3e}", "{:.1f}", "{:.25f}", "{:E}", "{:.0e}"]))
def test_numbers_read_as_python_floats(x, fmt):
    token = fmt.format(x)
    if isinstance(x, int) and "e" not in token.lower() and "." not in token:
        token = str(x)
    try:
        expected = json.loads(token)
    except ValueError:
        return  # not JSON (e.g. 'inf')
    data = f'[{{"image_id": 1, "score": {token}, "bbox": [{token}, 0, 0, 0]}}]'.encode()
    got = scan_agrees(data, True)
    if len(token) < 500 and (isinstance(expected, float) or abs(expected) < 2**25):
        assert got is not None
        assert _same_double(as_rows(got)[0][0, L["score"]:L["score"] + 1].view(np.float64)[0],
                            float(expected))


@pytest.mark.parametrize("ndig", range(1, 21))
def test_numbers_of_every_digit_count(ndig):
    """Every count of integer and fraction digits (the kernel reads up to 8 at a time), with
    leading fraction zeros, signs and exponents, at every distance from the end of the
    bytes: the same double as float(), in the scanner, its validation of skipped lists and
    the keypoint list reader."""
    rng = np.random.default_rng(ndig)
    tokens = []
    for nfrac in range(0, 21):
        for _ in range(3):
            whole = str(rng.integers(1, 10)) + "".join(map(str, rng.integers(0, 10, ndig - 1)))
            frac = "".join(map(str, rng.integers(0, 10, nfrac)))
            if nfrac > 2 and rng.random() < 0.3:
                frac = "000" + frac[3:]
            tok = whole + ("." + frac if nfrac else "")
            if rng.random() < 0.3:
                tok = "-" + tok
            if rng.random() < 0.2:
                tok += f"e{int(rng.integers(-30, 30))}"
            tokens.append(tok)
        tokens.append("0." + "0" * nfrac + "1")
    for tok in tokens:
        for tail in ("", " ", "  ", "         "):
            data = f'[{{"image_id": 1, "score": {tok}{tail}, "keypoints": [{tok}, 1]}}]'.encode()
            got = scan_agrees(data, True)
            assert got is not None, tok
            rows = as_rows(got)[0]
            assert _same_double(rows[0:1, L["score"]].view(np.float64)[0], float(tok)), tok
            a, b = rows[:, L["keypoints"]], rows[:, L["keypoints"] + 1]
            values, counts = core.coco_json_number_lists(data, np.ascontiguousarray(a),
                                                         np.ascontiguousarray(b))
            assert counts.tolist() == [2] and _same_double(values[0], float(tok)), tok
        # the number among the last bytes of a file (no room for an 8-byte read)
        end = f'{{"annotations": [], "x": [{tok}]}}'.encode()
        assert core.coco_json_scan(end, False) is not None, tok
        assert core.coco_json_scan(end[:-2] + b"x]}", False) is None, tok


@SETTINGS
@given(base=st.lists(annotation(), min_size=1, max_size=3), data=st.data())
def test_scanner_never_accepts_what_json_refuses(base, data):
    doc = dump({"images": [], "annotations": base}, data.draw(st.integers(0, 2)))
    buf = bytearray(doc)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.integers(0, 2))
        pos = data.draw(st.integers(0, len(buf)))
        if op == 0 and pos < len(buf):
            buf[pos] = data.draw(st.sampled_from(
                list(b'{}[]",:0123456789.eE-+ \\ntfu\x00\x1f\x7f') + [0x80, 0xC3, 0xED, 0xFF]))
        elif op == 1:
            buf[pos:pos] = data.draw(st.binary(min_size=1, max_size=3))
        else:
            del buf[pos:pos + data.draw(st.integers(1, 3))]
    scan_agrees(bytes(buf), False)
    scan_agrees(bytes(buf), True)


@pytest.mark.parametrize("doc", [
    b'{"annotations": [{"id": 1, "image_id": 1, "id": 2}]}',              # duplicate key
    b'{"annotations": [{"i\\u0064": 1, "image_id": 1}]}',                 # escaped key
    b'{"annotations": [{"id": 1.0, "image_id": 1}]}',                     # float id
    b'{"annotations": [{"id": 9007199254740993, "image_id": 1}]}',        # id beyond 2**53
    b'{"annotations": [{"id": 1, "image_id": 1, "score": NaN}]}',         # json's NaN
    b'{"annotations": [{"id": 1, "image_id": 1, "bbox": [1, 2, 3]}]}',    # 3 numbers
    b'{"annotations": [{"id": 1, "image_id": 1, "bbox": [1, 2, 3, "4"]}]}',
    b'{"annotations": [{"id": 1, "image_id": 1, "area": null}]}',
    b'{"annotations": [1, 2]}',
    b'{"annotations": [], "annotations": []}',
    b'\xef\xbb\xbf{"annotations": []}',                                    # BOM
    b'[' * 600 + b']' * 600,
])
def test_left_to_json(doc):
    """What the scanner does not model exactly is left to json (None), never misread."""
    assert core.coco_json_scan(doc, False) is None
    assert core.coco_json_scan(doc, True) is None


def test_surrogates_and_escapes_in_values_are_scanned():
    doc = '{"annotations": [{"id": 1, "image_id": 2, "name": "\\ud800 \\u00e9 \\" \\\\ é 𝄞"}]}'
    got = scan_agrees(doc.encode(), False)
    assert got is not None and as_rows(got)[0][0, L["image_id"]] == 2
    # an encoded surrogate: json.loads decodes bytes with 'surrogatepass', so it is valid
    doc = b'{"annotations": [{"id": 1, "image_id": 3, "x": "\xed\xa0\x80"}]}'
    got = scan_agrees(doc, False)
    assert got is not None and as_rows(got)[0][0, L["image_id"]] == 3


# ---------------------------------------------------------------------------------------------
# evaluation from files runs on the columns, equal to pycocotools
# ---------------------------------------------------------------------------------------------

def _knobs(**over) -> dict:
    k = {"n_img": 12, "n_cat": 4, "max_gt": 8, "max_dt": 10, "p_crowd": 0.15, "p_ignore": 0.3,
         "p_boundary": 0.3, "tie_scores": True, "p_dup": 0.25, "nan_scores": False,
         "gt_id_zero": False, "float_coords": True, "gt_seg": "mixed", "dt_seg": "rle_str",
         "unknown_dt_cat": True, "nkpt": 17, "custom_sigmas": False, "kp_array": False,
         "dt_mode": "loadRes", "files": True, "kw": False, "maxDets": 0, "iouThrs": None,
         "recThrs": None, "areaRng": 0, "useCats": None, "imgIds": None, "catIds": None,
         "acc_p": None, "again": None}
    k.update(over)
    return k


def _jsonable(obj):
    """What a JSON file holds for obj (bytes counts as str)."""
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, bytes):
        return obj.decode("ascii")
    return obj


def _write(tmp_path, name, obj) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(_jsonable(obj)))
    return str(path)


@pytest.mark.parametrize("iou_type,dt_seg", [("bbox", "rle_str"), ("bbox", "poly_bbox"),
                                             ("segm", "rle_str"), ("segm", "rle_bbox"),
                                             ("keypoints", "rle_str")])
@pytest.mark.parametrize("seed", [1, 2])
def test_file_evaluation_uses_columns_and_equals_pycocotools(tmp_path, iou_type, dt_seg, seed):
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO as RefCOCO
    from pycocotools.cocoeval import COCOeval as RefEval
    case = cc.build_case(seed, iou_type, _knobs(dt_seg=dt_seg))
    gt_path = _write(tmp_path, "gt.json", case["gt"])
    dt_path = _write(tmp_path, "dt.json", case["dts"])
    with cc.captured():
        ref_gt = RefCOCO(gt_path)
        ref = RefEval(ref_gt, ref_gt.loadRes(dt_path), iou_type)
        ref.evaluate()
        ref.accumulate()
        ref.summarize()
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        assert gt._columns() is not None and dt._columns() is not None
        E = COCOeval(gt, dt, iou_type)
        E.evaluate()
        E.accumulate()
        E.summarize()
    # no annotation dict was built: the evaluation ran on the scanned columns
    for coco in (gt, dt):
        assert coco._columns() is not None
        assert not {"dataset", "anns", "imgToAnns", "catToImgs"} & set(vars(coco))
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[key], E.eval[key], equal_nan=True)
    assert np.array_equal(ref.stats, E.stats)
    d = cc.Differ()
    cc.compare_evaluated({"evalImgs": ref.evalImgs, "ious": ref.ious},
                         {"evalImgs": E.evalImgs, "ious": E.ious}, "evaluated", d)
    assert not d, d.report()


@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints"])
def test_dicts_built_from_files_equal_pycocotools(tmp_path, iou_type):
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO as RefCOCO
    case = cc.build_case(5, iou_type, _knobs())
    gt_path = _write(tmp_path, "gt.json", case["gt"])
    dt_path = _write(tmp_path, "dt.json", case["dts"])
    with cc.captured():
        ref_gt, gt = RefCOCO(gt_path), COCO(gt_path)
        ref_dt, dt = ref_gt.loadRes(dt_path), gt.loadRes(dt_path)
    for ref, ours in ((ref_gt, gt), (ref_dt, dt)):
        d = cc.Differ()
        cc.deep_compare(ref.dataset, ours.dataset, "dataset", d)
        cc.deep_compare(cc.index_snapshot(ref), cc.index_snapshot(ours), "index", d)
        assert not d, d.report()
        assert ours._columns() is None  # read once: the dicts are now what evaluation reads
        # the shared-object layout of pycocotools: index entries are the dataset's dicts
        anns = ours.dataset["annotations"]
        assert all(ours.anns[a["id"]] is a for a in anns)
        assert all(any(x is a for x in ours.imgToAnns[a["image_id"]]) for a in anns)


def test_attributes_assigned_before_the_first_read_are_kept(tmp_path):
    case = cc.build_case(3, "bbox", _knobs())
    with cc.captured():
        gt = COCO(_write(tmp_path, "gt.json", case["gt"]))
    mine = {"images": [], "annotations": []}
    gt.dataset = mine
    assert gt.dataset is mine
    assert len(gt.anns) == len(case["gt"]["annotations"])  # from the file, as pycocotools


def test_copies_and_pickles_of_a_held_file(tmp_path):
    case = cc.build_case(4, "segm", _knobs())
    with cc.captured():
        gt = COCO(_write(tmp_path, "gt.json", case["gt"]))
    for other in (copy.deepcopy(gt), pickle.loads(pickle.dumps(gt))):
        assert other._columns() is not None
        assert other.dataset == gt.dataset


@pytest.mark.parametrize("change", ["nan score", "float ids", "missing iscrowd",
                                    "duplicate ann ids"])
def test_files_the_columns_leave_to_dicts_evaluate_like_pycocotools(tmp_path, change):
    pytest.importorskip("pycocotools")
    case = cc.build_case(6, "bbox", _knobs(dt_seg="rle_str"))
    gt, dts = case["gt"], case["dts"]
    if change == "nan score":
        dts[0]["score"] = float("nan")
    elif change == "float ids":
        for a in gt["annotations"]:
            a["id"] = float(a["id"])
    elif change == "missing iscrowd":
        del gt["annotations"][0]["iscrowd"]
    elif change == "duplicate ann ids":
        gt["annotations"][1]["id"] = gt["annotations"][0]["id"]
    case.update(gt_mode="file", lazy=True, dt_mode="file")
    cc.differential(case)


def test_scan_helpers_decline_what_coco_cannot_hold():
    assert scan_dataset(b'{"images": []}') is None          # no annotations
    assert scan_dataset(b'{"annotations": [{"id": 1}]}') is None  # no image_id
    assert scan_results(b"[]") is None
    assert scan_results(b'[{"score": 1}]') is None
    f = scan_dataset(b'{"annotations": [{"id": 3, "image_id": 1}], "images": [{"id": 1}]}')
    assert f is not None and f.values == {"images": [{"id": 1}]}
    assert f.dataset() == {"annotations": [{"id": 3, "image_id": 1}], "images": [{"id": 1}]}


@SETTINGS
@given(table=st.lists(st.integers(-2**40, 2**40), max_size=30, unique=True),
       values=st.lists(st.integers(-2**40, 2**40), max_size=30), spread=st.booleans(),
       data=st.data())
def test_id_positions_both_ways(table, values, spread, data):
    """_positions (a lookup table over a small id range, binary search otherwise) finds each
    value's index in the sorted ids exactly as a search does."""
    from maskcodecs.cocoeval import _positions
    if not spread:  # a small range: the lookup-table branch
        table = [t % 1000 for t in table]
        values = [v % 1200 - 100 for v in values]
    table = np.array(sorted(set(table)), dtype=np.int64)
    values = np.array(values + data.draw(st.lists(st.sampled_from(table.tolist() or [0]),
                                                  max_size=5)), dtype=np.int64)
    pos, found = _positions(table, values)
    for v, p, f in zip(values.tolist(), pos.tolist(), found.tolist()):
        assert f == (v in table.tolist())
        if f:
            assert table[p] == v


@SETTINGS
@given(g=st.lists(st.integers(0, 5000), max_size=40), d=st.lists(st.integers(0, 5000),
                                                                  max_size=40),
       dense=st.sampled_from([5001, 10**8]))
def test_cell_layout_both_ways(g, d, dense):
    """_laid_out (a table over every cell number, or a sorted union) gives the union of the
    cells and each annotation's position in it."""
    from maskcodecs.cocoeval import _laid_out
    g, d = np.array(g, dtype=np.int64), np.array(d, dtype=np.int64)
    cell_id, gpos, dpos = _laid_out(g, d, dense)
    assert np.array_equal(cell_id, np.union1d(g, d))
    assert np.array_equal(cell_id[gpos], g) and np.array_equal(cell_id[dpos], d)


def test_widely_spread_image_ids_from_files(tmp_path):
    """Image ids far apart (the binary-search branch of the column selection) evaluate like
    pycocotools."""
    pytest.importorskip("pycocotools")
    case = cc.build_case(11, "bbox", _knobs())
    scale = 10**12
    for img in case["gt"]["images"]:
        img["id"] = img["id"] * scale + 7
    for a in case["gt"]["annotations"]:
        a["image_id"] = a["image_id"] * scale + 7
    for d in case["dts"]:
        d["image_id"] = d["image_id"] * scale + 7
    case.update(gt_mode="file", lazy=True, dt_mode="file")
    ref, ours = cc.differential(case)
    assert ref.exc is None and "summarize" in ours.done
    assert type(ours.E._cells.gts).__name__ == "_ScanSide"  # evaluated from the columns


def _spans(data: bytes, key: str):
    rows, _ = as_rows(core.coco_json_scan(data, True))
    have = (rows[:, L["meta"]] >> L["bit_" + key] & 1) == 1
    return (np.ascontiguousarray(rows[have, L[key]]),
            np.ascontiguousarray(rows[have, L[key] + 1]))


def _is_numbers(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                       for x in v)


@SETTINGS
@given(values=st.lists(st.one_of(value, st.lists(number, max_size=8),
                                 st.lists(st.lists(number, max_size=9), max_size=3)),
                       min_size=1, max_size=6), style=st.integers(0, 2))
def test_polygon_and_number_lists_read_from_bytes_equal_json(values, style):
    """The kernel's readers of segmentation polygons and keypoint lists give json's numbers
    (as float()) where the value is that shape, and decline (-1) everything else."""
    data = dump([{"image_id": 1, "segmentation": v, "keypoints": v} for v in values], style)
    parsed = [json.loads(json.dumps(v)) for v in values]
    xy, off, nparts = core.coco_json_polygons(data, *_spans(data, "segmentation"))
    p = 0
    for v, k in zip(parsed, nparts.tolist()):
        polys = (isinstance(v, list) and v and all(_is_numbers(q) for q in v)
                 and len(v[0]) > 4)
        assert (k >= 0) == bool(polys), (v, k)
        if k >= 0:
            assert k == len(v)
            for q in v:
                got = xy[off[p]:off[p + 1]].tolist()
                assert len(got) == len(q)
                assert all(_same_double(a, float(b)) for a, b in zip(got, q))
                p += 1
    assert p == len(off) - 1
    vals, counts = core.coco_json_number_lists(data, *_spans(data, "keypoints"))
    j = 0
    for v, k in zip(parsed, counts.tolist()):
        assert (k >= 0) == _is_numbers(v), (v, k)
        if k >= 0:
            assert k == len(v)
            assert all(_same_double(a, float(b)) for a, b in zip(vals[j:j + k].tolist(), v))
            j += k
    assert j == len(vals)


def test_span_readers_refuse_spans_outside_the_data():
    data = b'[{"image_id": 1, "keypoints": [1, 2, 3]}]'
    for fn in (core.coco_json_polygons, core.coco_json_number_lists):
        with pytest.raises(ValueError):
            fn(data, np.array([5], dtype=np.int64), np.array([500], dtype=np.int64))
        with pytest.raises(ValueError):
            fn(data, np.array([5, 6], dtype=np.int64), np.array([7], dtype=np.int64))


@SETTINGS
@given(data=st.data(), n=st.integers(1, 5), style=st.integers(0, 2),
       escape_u=st.booleans(), swap=st.booleans())
def test_rle_objects_read_from_bytes_equal_json(data, n, style, escape_u, swap):
    """The kernel's reader of compressed RLE results gives each counts string exactly as
    json decodes it (escapes included), with its size, area and box as maskcodecs.mask."""
    from maskcodecs import mask as mask_utils
    objs = []
    for _ in range(n):
        h, w = data.draw(st.integers(0, 9)), data.draw(st.integers(0, 9))
        bits = data.draw(st.lists(st.booleans(), min_size=h * w, max_size=h * w))
        m = np.asfortranarray(np.array(bits, dtype=np.uint8).reshape(h, w))
        rle = mask_utils.encode(m)
        rle["counts"] = rle["counts"].decode("ascii")
        objs.append({"counts": rle["counts"], "size": rle["size"]} if swap else rle)
    text = dump([{"image_id": 1, "segmentation": o} for o in objs], style).decode()
    if escape_u:  # the same strings with \\u escapes for backslashes
        text = text.replace("\\\\", "\\u005c")
    raw = text.encode()
    assert json.loads(raw) == [{"image_id": 1, "segmentation": o} for o in objs]
    chars, off, hs, ws, ok = core.coco_json_rles(raw, *_spans(raw, "segmentation"))
    assert ok.all()
    for j, o in enumerate(objs):
        assert chars[off[j]:off[j + 1]] == o["counts"].encode()
        assert [hs[j], ws[j]] == o["size"]
    area = np.empty(n, dtype=np.uint64)
    box = np.empty((n, 4))
    assert core.strings_area_bbox(np.frombuffer(chars, dtype=np.uint8), off, hs, ws, area,
                                  box) == -1
    assert np.array_equal(area, mask_utils.area(objs).astype(np.uint64))
    assert np.array_equal(box, mask_utils.toBbox(objs))


@pytest.mark.parametrize("seg", [
    '{"size": [2, 2], "counts": "04", "x": 1}', '{"size": [2.0, 2], "counts": "04"}',
    '{"size": [2, 2], "counts": "0\\u00e94"}', '{"size": [2, 2]}', '{"counts": "04"}',
    '{"size": [2, 2], "counts": "04", "size": [2, 2]}', '{"size": [2], "counts": "04"}',
    '{"size": [2, 2], "counts": [0, 4]}', '[1, 2, 3, 4, 5, 6]', '{"size": [-1, 2], "counts": ""}',
])
def test_rle_reader_declines_other_shapes(seg):
    raw = f'[{{"image_id": 1, "segmentation": {seg}}}]'.encode()
    json.loads(raw)
    assert core.coco_json_rles(raw, *_spans(raw, "segmentation"))[4].tolist() == [0]


def test_invalid_counts_strings_are_reported_not_raised():
    chars = b"04" + b"\x7f"
    off = np.array([0, 2, 3], dtype=np.int64)
    hs = np.array([2, 2], dtype=np.int64)
    area, box = np.empty(2, dtype=np.uint64), np.empty((2, 4))
    assert core.strings_area_bbox(np.frombuffer(chars, dtype=np.uint8), off, hs, hs,
                                  area, box) == 1


def test_cell_rle_iou_reports_an_invalid_string():
    """The per-cell mask IoU returns the error code of a string it cannot read (evaluate then
    raises the drop-in's error), and equals mask.iou elsewhere."""
    from maskcodecs import mask as mask_utils
    m = np.zeros((4, 4), dtype=np.uint8, order="F")
    m[1:3, 1:3] = 1
    good = mask_utils.encode(m)
    other = mask_utils.encode(np.asfortranarray(np.ones((4, 4), dtype=np.uint8)))
    bad = {"size": [4, 4], "counts": b"\x7f"}
    one = np.zeros(2, dtype=np.int64)
    one[1] = 1
    args = (np.array([0], dtype=np.int64), np.array([0], dtype=np.int64),
            np.zeros(1, dtype=np.uint8), np.array([0, 1], dtype=np.int64),
            np.array([0, 1], dtype=np.int64), np.array([1], dtype=np.int64), one)
    out = np.zeros(1)
    assert core.eval_rle_iou_cells(core.rle_strings([good]), core.rle_strings([other]), *args,
                                   out, 0, 1) == 0
    assert out[0] == mask_utils.iou([good], [other], [0])[0, 0]
    assert core.eval_rle_iou_cells(core.rle_strings([bad]), core.rle_strings([other]), *args,
                                   out, 0, 1) < 0
    with pytest.raises(ValueError):
        core.eval_rle_iou_cells(core.rle_strings([good]), core.rle_strings([other]), *args,
                                out, 0, 2)


def test_strings_from_characters_check_their_rows():
    """rle_strings_from_chars gives the kernel the same strings as the dicts would, and
    refuses rows or offsets outside its arrays."""
    from maskcodecs import mask as mask_utils
    m = np.zeros((4, 4), dtype=np.uint8, order="F")
    m[1:3, 1:3] = 1
    a = mask_utils.encode(m)
    b = mask_utils.encode(np.asfortranarray(np.ones((4, 4), dtype=np.uint8)))
    chars = a["counts"] + b["counts"]
    off = np.array([0, len(a["counts"]), len(chars)], dtype=np.int64)
    hw = np.array([4, 4], dtype=np.int64)
    one = np.array([0, 1], dtype=np.int64)
    args = (np.array([0], dtype=np.int64), np.array([0], dtype=np.int64),
            np.zeros(1, dtype=np.uint8), one, one, np.array([1], dtype=np.int64), one)
    out = np.zeros(1)
    sd = core.rle_strings_from_chars(chars, off, hw, hw, np.array([1], dtype=np.int64))
    assert core.eval_rle_iou_cells(sd, core.rle_strings([a]), *args, out, 0, 1) == 0
    assert out[0] == mask_utils.iou([b], [a], [0])[0, 0]
    for rows, o in (([2], off), ([-1], off), ([0], np.array([0, 99, 3], dtype=np.int64))):
        with pytest.raises(ValueError):
            core.rle_strings_from_chars(chars, o, hw, hw, np.array(rows, dtype=np.int64))


@pytest.mark.parametrize("tail", [b'\\', b'\\u00', b'\\u00zz'])
def test_rle_reader_stays_inside_an_unvalidated_span(tail):
    """coco_json_rles on a span that is not valid JSON (a caller's mistake) declines it
    without reading past the span."""
    raw = b'{"size": [1, 1], "counts": "0' + tail
    ok = core.coco_json_rles(raw, np.array([0], dtype=np.int64),
                             np.array([len(raw)], dtype=np.int64))[4]
    assert ok.tolist() == [0]


def test_threads_reading_a_held_file_at_once_get_one_index(tmp_path):
    """Several threads reading anns of a held file at once: the dicts are built once and all
    see the same objects."""
    import threading
    case = cc.build_case(7, "bbox", _knobs())
    with cc.captured():
        gt = COCO(_write(tmp_path, "gt.json", case["gt"]))
    seen, errors = [], []
    start = threading.Barrier(4)

    def read():
        try:
            start.wait()
            seen.append(gt.anns)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(seen) == 4
    assert all(s is seen[0] for s in seen)
    assert len(seen[0]) == len(case["gt"]["annotations"])


def test_box_iou_reads_boxes_in_place_and_checks_indices():
    """eval_box_iou reads box gbox[gsel[j]] where it is (equal to mask.iou of the boxes) and
    refuses an index outside the box matrix."""
    from maskcodecs import mask as mask_utils
    gbox = np.array([[0, 0, 4, 4], [1, 1, 2, 2]], dtype=np.float64)
    dbox = np.array([[9, 9, 1, 1], [0, 0, 2, 4]], dtype=np.float64)
    one = np.array([0, 1], dtype=np.int64)
    cells = (np.zeros(1, dtype=np.uint8), one, one, np.array([1], dtype=np.int64), one)
    out = np.zeros(1)
    core.eval_box_iou(gbox, np.array([1]), dbox, np.array([1]), *cells, out, 0, 1)
    assert out[0] == mask_utils.iou(dbox[1:], gbox[1:], [0])[0, 0]
    with pytest.raises(ValueError):
        core.eval_box_iou(gbox, np.array([2]), dbox, np.array([1]), *cells, out, 0, 1)
    with pytest.raises(ValueError):
        core.eval_box_iou(gbox, np.array([0]), dbox, np.array([-1]), *cells, out, 0, 1)


@SETTINGS
@given(values=st.one_of(st.lists(st.integers(-2**62, 2**62), max_size=40),
                        st.lists(st.floats(allow_nan=True), max_size=10),
                        st.lists(st.text(max_size=2), max_size=10)))
def test_sorted_unique_is_np_unique(values):
    """sorted_unique (a sort for integer ids) gives np.unique's values and dtype."""
    from maskcodecs._coco_scan import sorted_unique
    got, ref = sorted_unique(values), np.unique(np.asarray(values))
    assert got.dtype == ref.dtype
    assert np.array_equal(got, ref, equal_nan=got.dtype.kind == "f")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(
    st.lists(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=6, max_size=12),
             min_size=1, max_size=3),                         # polygons
    st.lists(st.integers(-5, 700), min_size=1, max_size=9),     # a flat list
    st.just("x"), st.just([[1, 2]]),                            # neither
    st.builds(lambda c: {"size": [3, 4], "counts": c},
              st.sampled_from(["0<", "52", "1", "\\u0031"]))),  # RLE-like objects
    min_size=1, max_size=40), per_part=st.integers(1, 7), threads=st.integers(1, 3))
def test_readers_in_parallel_parts_equal_one_pass(values, per_part, threads, monkeypatch):
    """polygon_lists, number_lists and rle_spans split the spans into parts read by threads:
    the same arrays (offsets rebased) as one serial pass, invalid spans included."""
    import maskcodecs._coco_scan as cs
    monkeypatch.setattr(cs, "_SPANS_PER_PART", per_part)  # set anew in every example
    data = b""
    starts, ends = [], []
    for v in values:
        text = json.dumps(v).encode() if v != "x" else b'"x"'
        data += b" , "
        starts.append(len(data))
        data += text
        ends.append(len(data))
    s, e = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
    one = core.coco_json_polygons(data, s, e)
    got = cs.polygon_lists(data, s, e, threads=threads)
    for a, b in zip(one, got):
        assert np.array_equal(a, b)
    one = core.coco_json_number_lists(data, s, e)
    for a, b in zip(one, cs.number_lists(data, s, e)):
        assert np.array_equal(a, b)
    one = core.coco_json_rles(data, s, e)
    got = cs.rle_spans(data, s, e)
    assert one[0] == got[0]
    for a, b in zip(one[1:], got[1:]):
        assert np.array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# the annotation array scanned in parallel parts
# ---------------------------------------------------------------------------------------------

def _in_order(fn, k):
    return [fn(a, a + 1) for a in range(k)]


def _backwards(fn, k):
    """Parts run last first: the outcome must not depend on the order they finish in."""
    return [fn(a, a + 1) for a in reversed(range(k))][::-1]


def _threaded(fn, k):
    from maskcodecs._pool import run_parts
    return run_parts(fn, k, k)


def assert_same_scan(a, b) -> None:
    assert (a is None) == (b is None)
    if a is None:
        return
    assert a[1] == b[1] and a[2] == b[2]
    assert sorted(a[0]) == sorted(b[0])
    for k in a[0]:
        assert np.array_equal(a[0][k], b[0][k]), k


# element starts a guess can land on that are not those of the annotation array: objects in
# strings, in lists inside an annotation, in a key after the array, and keys json may reject
decoys = st.sampled_from([
    {"caption": '}, {"id": 7, "image_id": 1}'}, {"x": [{"a": 1}, {"b": 2}, {"c": [3]}]},
    {"caption": '"}, {"'}, {"y": {"z": [{"q": 1}, {"r": "}, {"}]}}, {"s": '\\"}, {\\"'},
])


@SETTINGS
@given(anns=st.lists(st.one_of(annotation(), decoys), max_size=24),
       extra=st.dictionaries(text, value, max_size=3), after=st.lists(decoys, max_size=6),
       style=st.integers(0, 2), parts=st.integers(2, 9), min_bytes=st.integers(1, 64),
       runner=st.sampled_from([_in_order, _backwards, _threaded]))
def test_parallel_scan_equals_one_scan(anns, extra, after, style, parts, min_bytes, runner):
    """Whatever the parts' guessed starts hit (an element, a decoy in a string or a nested
    list, the values after the array, an invalid element), the rows, the end and the
    acceptance are those of one scan from the start."""
    for doc, results in (({**extra, "annotations": anns, "zz_after": after}, False),
                         (anns, True)):
        data = dump(doc, style)
        one = core.coco_json_scan(data, results)
        got = core.coco_json_scan(data, results, runner, parts, min_bytes)
        assert_same_scan(got, one)
        if got is not None:
            scan_agrees(data, results)


def test_parallel_scan_of_a_large_file_uses_its_parts():
    """A file of many annotations split into parts gives one scan's columns, and the
    columns that only some part's rows have (a key first seen late) are zero elsewhere."""
    rng = np.random.default_rng(5)
    anns = [{"id": i, "image_id": int(rng.integers(1, 50)), "category_id": 1,
             "bbox": [float(x) for x in rng.random(4)], "area": float(rng.random()),
             "iscrowd": 0} for i in range(1, 20001)]
    anns[-1]["score"] = 0.5  # a column only the last part has
    anns[3]["keypoints"] = [1, 2, 2]  # and one only the first has
    data = json.dumps({"images": [], "annotations": anns, "categories": []}).encode()
    one = core.coco_json_scan(data, False)
    calls = []

    def counting(fn, k):
        calls.append(k)
        return _in_order(fn, k)

    got = core.coco_json_scan(data, False, counting, 4, 1 << 16)
    assert calls == [4]
    assert_same_scan(got, one)
    rows, _ = as_rows(got)
    check_rows(data, rows, anns)


def test_parallel_scan_refuses_what_one_scan_refuses():
    """An element json would reject, or a duplicate key the scanner leaves to json, in a
    later part: None, as from one scan."""
    anns = [{"id": i, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}
            for i in range(2000)]
    good = json.dumps(anns).encode()
    dup = good[:-2] + b', "id": 5}]'  # the last element with a duplicate key
    bad = good[:-2] + b', "id": 05}]'  # a number json refuses
    for data in (dup, bad):
        assert core.coco_json_scan(data, True) is None
        assert core.coco_json_scan(data, True, _in_order, 4, 1024) is None
    assert_same_scan(core.coco_json_scan(good, True, _in_order, 4, 1024),
                     core.coco_json_scan(good, True))


def test_parallel_scan_recovers_from_guesses_inside_elements():
    """Guesses that land inside an element (objects in a nested list look like elements):
    the scan before them goes on by itself, and the outcome is still one scan's."""
    anns = [{"id": i, "image_id": 1, "x": [{"a": 1}, {"b": 2}] * 20, "bbox": [0, 0, 2, 2]}
            for i in range(300)]
    for results, doc in ((True, anns), (False, {"annotations": anns, "images": [{"id": 1}]})):
        data = json.dumps(doc).encode()
        one = core.coco_json_scan(data, results)
        assert one is not None
        for parts in (2, 3, 7, 31):
            assert_same_scan(core.coco_json_scan(data, results, _in_order, parts, 64), one)


@pytest.mark.parametrize("threads,expect", [(1, 1), (2, 2), (None, "all"), (0, "all")])
def test_span_readers_use_the_threads_asked_for(threads, expect, monkeypatch):
    """threads=N reads the spans in N parts (it was once ignored whenever the machine had
    a core count); None and 0 mean all cores, and never more parts than spans allow."""
    import os

    import maskcodecs._coco_scan as cs
    seen = []
    real = cs.run_parts
    monkeypatch.setattr(cs, "run_parts", lambda fn, n, parts: seen.append(parts) or
                        real(fn, n, parts))
    monkeypatch.setattr(cs, "_SPANS_PER_PART", 1)
    data = b"[" + b",".join(b"[[1,2,3,4,5,6]]" for _ in range(64)) + b"]"
    s = np.arange(64, dtype=np.int64) * 16 + 1
    e = s + 15
    xy, off, nparts = cs.polygon_lists(data, s, e, threads=threads)
    assert nparts.tolist() == [1] * 64
    cores = os.cpu_count() or 1
    assert seen == [min(64, cores) if expect == "all" else expect]

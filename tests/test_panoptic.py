"""maskcodecs.panoptic against panopticapi (panopticapi-lite): every number equal with ==.

The reference is panopticapi's ``pq_compute_single_core`` over all images followed by its
``PQStat.pq_average`` (what its ``pq_compute`` returns on a one-core machine); one test runs
its multiprocessing ``pq_compute`` too. Predictions are built here from the real panoptic
PNGs (merged, split, dropped, shifted, relabelled segments, new segments over VOID and
crowd) and from hypothesis-generated id maps, written as PNG files with Pillow.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import load_json, realdata
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maskcodecs import panoptic
from maskcodecs.errors import (
    MaskDtypeError,
    PanopticError,
    PanopticFolderError,
    PanopticSegmentError,
    SizeMismatchError,
)

Image = pytest.importorskip("PIL.Image", reason="the tests write PNGs with Pillow")
pe = pytest.importorskip(
    "panopticapi.evaluation",
    reason="panopticapi-lite is the oracle (pip install --no-deps panopticapi-lite==0.2.0)")

EMPTY_GROUP = {"pq": 0.0, "sq": 0.0, "rq": 0.0, "n": 0}
REAL = [
    ("labelbox", ("labelbox", "coco", "panoptic.json"), ("labelbox", "coco", "masks")),
    ("panopticapi", ("panopticapi", "panoptic_examples.json"),
     ("panopticapi", "panoptic_examples")),
]


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def reference(gt: dict, pred: dict, gt_folder: Any, pred_folder: Any,
              categories: dict | None = None) -> dict:
    """panopticapi on one core (it writes 'area' into the prediction: given copies)."""
    cats = categories if categories is not None else {c["id"]: c for c in gt["categories"]}
    by_image = {a["image_id"]: a for a in pred["annotations"]}
    pairs = copy.deepcopy([(a, by_image[a["image_id"]]) for a in gt["annotations"]])
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        stat = pe.pq_compute_single_core(0, pairs, str(gt_folder), str(pred_folder), cats)
    out: dict = {}
    for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
        try:
            out[name], per_class = stat.pq_average(cats, isthing)
        except ZeroDivisionError:  # no category of the group seen: our documented zeros
            out[name] = dict(EMPTY_GROUP)
            per_class = {cid: {"pq": 0.0, "sq": 0.0, "rq": 0.0} for cid in cats}
        if name == "All":
            out["per_class"] = per_class
    return out


def reference_raises(gt: dict, pred: dict, gt_folder: Any, pred_folder: Any) -> str:
    with pytest.raises(Exception) as info, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        reference(gt, pred, gt_folder, pred_folder)
    return str(info.value)


def assert_same(ours: dict, ref: dict) -> None:
    """Every number equal (==), the same keys in the same order."""
    assert list(ours) == list(ref)
    for name in ("All", "Things", "Stuff"):
        assert ours[name] == ref[name], name
    assert list(ours["per_class"]) == list(ref["per_class"])
    for cid, r in ref["per_class"].items():
        assert ours["per_class"][cid] == r, cid


def rgb2id(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.uint32)
    return a[..., 0] + 256 * a[..., 1] + 65536 * a[..., 2]


def id2rgb(ids: np.ndarray) -> np.ndarray:
    ids = ids.astype(np.uint32)
    return np.stack([ids & 255, (ids >> 8) & 255, (ids >> 16) & 255], axis=-1).astype(np.uint8)


def read_ids(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return rgb2id(np.asarray(im.convert("RGB")))


def write_png(path: Path, ids: np.ndarray) -> None:
    Image.fromarray(id2rgb(ids), "RGB").save(path)


def real_case(which: str) -> tuple[dict, Path, Path]:
    _, js, folder = next(r for r in REAL if r[0] == which)
    return load_json(*js), realdata(*js), realdata(*folder)


# ---------------------------------------------------------------------------------------------
# predictions built from the real ground truth
# ---------------------------------------------------------------------------------------------

def perturb(gt_ann: dict, ids: np.ndarray, cats: dict, rng: np.random.Generator
            ) -> tuple[dict, np.ndarray]:
    """A prediction for one image: the ground truth with random edits."""
    ids = ids.copy()
    segs = {s["id"]: {"id": s["id"], "category_id": s["category_id"]}
            for s in gt_ann["segments_info"]}
    next_id = int(ids.max()) + 1
    cat_ids = list(cats)
    present = [i for i in segs if (ids == i).any()]
    for _ in range(int(rng.integers(1, 6))):
        if not present:
            break
        op = rng.choice(["merge", "split", "drop", "relabel", "shift", "grow", "void_crowd"])
        a = int(rng.choice(present))
        if op == "merge":
            same = [i for i in present if i != a
                    and segs[i]["category_id"] == segs[a]["category_id"]]
            b = int(rng.choice(same)) if same else int(rng.choice(present))
            if b != a:
                ids[ids == b] = a
                present.remove(b)
                del segs[b]
        elif op == "split":
            ys, _ = np.nonzero(ids == a)
            cut = int(np.median(ys))
            part = (ids == a) & (np.arange(ids.shape[0])[:, None] > cut)
            if part.any() and not part.all():
                ids[part] = next_id
                segs[next_id] = {"id": next_id, "category_id": segs[a]["category_id"]}
                present.append(next_id)
                next_id += 1
        elif op == "drop":
            ids[ids == a] = 0
            present.remove(a)
            del segs[a]
        elif op == "relabel":
            segs[a]["category_id"] = int(rng.choice(cat_ids))
        elif op == "shift":
            m = ids == a
            d = int(rng.integers(-12, 13))
            moved = np.roll(m, d, axis=int(rng.integers(0, 2)))
            ids[m] = 0
            ids[moved] = a
        elif op == "grow":  # a segment takes a band of the pixels around it (VOID included)
            m = ids == a
            band = np.roll(m, 3, axis=0) | np.roll(m, -3, axis=1)
            ids[band] = a
        else:  # a new segment over VOID and the crowd regions, of the crowd's category
            crowd = [s for s in gt_ann["segments_info"] if s["iscrowd"] == 1]
            target = (ids == 0)
            cid = int(rng.choice(cat_ids))
            if crowd:
                c = crowd[int(rng.integers(len(crowd)))]
                target = target | (ids == c["id"])
                cid = c["category_id"]
            h, w = ids.shape
            y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
            box = np.zeros_like(target)
            dy, dx = int(rng.integers(5, h // 2 + 6)), int(rng.integers(5, w // 2 + 6))
            box[y0:y0 + dy, x0:x0 + dx] = True
            new = box & (target | (rng.random(ids.shape) < 0.3))
            if new.any():
                ids[new] = next_id
                segs[next_id] = {"id": next_id, "category_id": cid}
                next_id += 1
        present = [i for i in segs if (ids == i).any()]
    live = set(np.unique(ids).tolist())
    info = [s for i, s in segs.items() if i in live]
    return {"image_id": gt_ann["image_id"], "file_name": gt_ann["file_name"],
            "segments_info": info}, ids


def write_prediction(gt: dict, folder: Path, out: Path, seed: int) -> tuple[dict, Path]:
    rng = np.random.default_rng(seed)
    cats = {c["id"]: c for c in gt["categories"]}
    out.mkdir(parents=True, exist_ok=True)
    anns = []
    for a in gt["annotations"]:
        ann, ids = perturb(a, read_ids(folder / a["file_name"]), cats, rng)
        write_png(out / a["file_name"], ids)
        anns.append(ann)
    pred = {"annotations": anns}
    path = out.with_suffix(".json")
    path.write_text(json.dumps(pred))
    return pred, path


# ---------------------------------------------------------------------------------------------
# real data
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", [r[0] for r in REAL])
def test_real_gt_against_itself(which: str) -> None:
    gt, path, folder = real_case(which)
    ours = panoptic.pq_compute(str(path), str(path), folder, folder)
    assert_same(ours, reference(gt, gt, folder, folder))
    assert ours["All"]["pq"] == ours["All"]["sq"] == ours["All"]["rq"] == 1.0


def test_real_default_folder(tmp_path: Path) -> None:
    """Like panopticapi, the folder defaults to the JSON path without '.json'."""
    gt, path, folder = real_case("panopticapi")
    assert path.with_suffix("") == folder
    assert_same(panoptic.pq_compute(path, path), reference(gt, gt, folder, folder))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("which", [r[0] for r in REAL])
def test_real_perturbed(which: str, seed: int, tmp_path: Path) -> None:
    gt, path, folder = real_case(which)
    pred, pred_path = write_prediction(gt, folder, tmp_path / "pred", seed)
    ref = reference(gt, pred, folder, tmp_path / "pred")
    ours = panoptic.pq_compute(path, pred_path, folder, tmp_path / "pred")
    assert_same(ours, ref)
    assert ours["All"]["pq"] < 1.0
    # the same from loaded dicts (left unmodified), and in parallel
    before = copy.deepcopy((gt, pred))
    assert_same(panoptic.pq_compute(gt, pred, folder, tmp_path / "pred", threads=2), ref)
    assert (gt, pred) == before
    assert_same(panoptic.pq_compute(gt, pred, folder, tmp_path / "pred", threads=0), ref)


def test_real_in_memory_equals_folders(tmp_path: Path) -> None:
    gt, path, folder = real_case("labelbox")
    pred, pred_path = write_prediction(gt, folder, tmp_path / "pred", 11)
    ref = panoptic.pq_compute(path, pred_path, folder, tmp_path / "pred")
    anns = gt["annotations"]
    gt_ids = {a["file_name"]: read_ids(folder / a["file_name"]) for a in anns}
    pr_ids = {a["image_id"]: read_ids(tmp_path / "pred" / a["file_name"]) for a in anns}
    variants: list[tuple[dict, dict]] = [
        (gt_ids, pr_ids),  # uint32 ids, by file name and by image id
        ({k: v.astype(np.int64) for k, v in gt_ids.items()},
         {k: id2rgb(v) for k, v in pr_ids.items()}),  # int64 ids, RGB arrays
        ({k: (folder / k).read_bytes() for k in gt_ids},  # PNG bytes, PNG paths
         {a["image_id"]: tmp_path / "pred" / a["file_name"] for a in anns}),
        ({k: np.asfortranarray(v) for k, v in gt_ids.items()},  # any strides
         {k: np.dstack([id2rgb(v), np.full(v.shape, 255, np.uint8)])
          for k, v in pr_ids.items()}),  # RGBA: the alpha channel is ignored
    ]
    for gmaps, pmaps in variants:
        assert_same(panoptic.pq_compute(gt, pred, gt_maps=gmaps, pred_maps=pmaps), ref)
    # part in memory, the rest from the folder
    half = dict(list(gt_ids.items())[:7])
    assert_same(panoptic.pq_compute(gt, pred, folder, tmp_path / "pred", gt_maps=half), ref)


def test_datumaro_float_areas(tmp_path: Path) -> None:
    """Float JSON areas (20.0) and a crowd segment; the PNG is named differently on disk."""
    gt = load_json("datumaro", "coco_panoptic_panoptic_val.json")
    png = realdata("datumaro", "coco_panoptic_panoptic_val_b.png")
    (tmp_path / "gt").mkdir()
    os.symlink(png, tmp_path / "gt" / "b.png")
    ids = read_ids(png)
    cases = {"self": ids, "shifted": np.roll(ids, 1, axis=1), "void": np.where(ids == 7, 0, ids)}
    for name, p in cases.items():
        (tmp_path / name).mkdir()
        write_png(tmp_path / name / "b.png", p)
        live = set(np.unique(p).tolist())
        pred = {"annotations": [{"image_id": 40, "file_name": "b.png", "segments_info": [
            {"id": s["id"], "category_id": s["category_id"]}
            for s in gt["annotations"][0]["segments_info"] if s["id"] in live]}]}
        ref = reference(gt, pred, tmp_path / "gt", tmp_path / name)
        assert_same(panoptic.pq_compute(gt, pred, tmp_path / "gt", tmp_path / name), ref)
        assert_same(panoptic.pq_compute(gt, pred, gt_maps={40: png.read_bytes()},
                                        pred_maps={"b.png": p}), ref)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # panopticapi never closes its pool
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_multiprocess_pq_compute_chunks(tmp_path: Path) -> None:
    """panopticapi's own pq_compute (a process per core, IoU summed per chunk of images)
    equals ours with chunks = its core count."""
    gt, path, folder = real_case("labelbox")
    many = copy.deepcopy(gt)
    many["annotations"] = [dict(a, image_id=(k, a["image_id"])) for k in range(3)
                           for a in gt["annotations"]]
    pred, _ = write_prediction(gt, folder, tmp_path / "pred", 5)
    pred_many = {"annotations": [dict(a, image_id=(k, a["image_id"])) for k in range(3)
                                 for a in pred["annotations"]]}
    # JSON cannot hold tuple ids; panopticapi reads files, so number the copies instead
    for doc in (many, pred_many):
        for a in doc["annotations"]:
            k, i = a["image_id"]
            a["image_id"] = k * 10**7 + i
    gpath, ppath = tmp_path / "gt.json", tmp_path / "pm.json"
    gpath.write_text(json.dumps(many))
    ppath.write_text(json.dumps(pred_many))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            ref = pe.pq_compute(str(gpath), str(ppath), str(folder), str(tmp_path / "pred"))
    except (OSError, PermissionError) as e:  # pragma: no cover - sandboxes without semaphores
        pytest.skip(f"multiprocessing unavailable: {e}")
    ours = panoptic.pq_compute(gpath, ppath, folder, tmp_path / "pred",
                               chunks=multiprocessing.cpu_count())
    assert_same(ours, ref)


def test_threads_do_not_change_the_result(tmp_path: Path) -> None:
    gt, path, folder = real_case("labelbox")
    pred, pred_path = write_prediction(gt, folder, tmp_path / "pred", 3)
    one = panoptic.pq_compute(path, pred_path, folder, tmp_path / "pred", threads=1)
    for t in (2, 3, 7, 0, -1):
        r = panoptic.pq_compute(path, pred_path, folder, tmp_path / "pred", threads=t)
        assert_same(r, one)
    for chunks in (1, 2, 5, 40):
        assert panoptic.pq_compute(path, pred_path, folder, tmp_path / "pred",
                                   chunks=chunks)["per_class"].keys() == one["per_class"].keys()
    assert_same(panoptic.pq_compute(path, pred_path, folder, tmp_path / "pred", chunks=1), one)


# ---------------------------------------------------------------------------------------------
# generated panoptic pairs
# ---------------------------------------------------------------------------------------------

@st.composite
def panoptic_case(draw: Any) -> tuple[dict, dict, list[np.ndarray], list[np.ndarray]]:
    ncat = draw(st.integers(1, 4))
    cats = [{"id": 10 + k, "isthing": draw(st.sampled_from([0, 1]))} for k in range(ncat)]
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    nimg = draw(st.integers(1, 3))
    gt_anns, pred_anns, gmaps, pmaps = [], [], [], []
    for i in range(nimg):
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        gvals = rng.choice([0, 1, 2, 3, 4, 300, 70000], size=int(rng.integers(1, 5)),
                           replace=False)
        gmap = rng.choice(gvals, size=(h, w)).astype(np.uint32)
        if draw(st.booleans()):  # blocky maps give IoUs near and above 0.5
            gmap = np.repeat(np.repeat(gmap[: (h + 1) // 2, : (w + 1) // 2], 2, 0), 2, 1)[:h, :w]
        pmap = gmap.copy()
        noise = rng.random((h, w)) < draw(st.sampled_from([0.0, 0.1, 0.3, 0.6]))
        pmap[noise] = rng.choice([0, 1, 2, 5, 9, 300], size=int(noise.sum()))
        gsegs = []
        for sid in sorted(set(gvals.tolist()) | {int(rng.integers(5, 8))}):
            if sid == 0 and not draw(st.booleans()):
                continue  # 0 is usually VOID; sometimes a real segment
            if rng.random() < 0.1:
                continue  # a gt id in the PNG without JSON segment: ignored
            area = int((gmap == sid).sum())
            if rng.random() < 0.1:
                area += int(rng.integers(-2, 3))  # the JSON area is what counts
            gsegs.append({"id": sid, "category_id": cats[int(rng.integers(ncat))]["id"],
                          "iscrowd": int(rng.random() < 0.25), "area": area})
        psegs = []
        for sid in sorted(set(np.unique(pmap).tolist())):
            if sid == 0 and rng.random() < 0.8:
                continue
            psegs.append({"id": sid, "category_id": cats[int(rng.integers(ncat))]["id"]})
        rng.shuffle(gsegs)
        gt_anns.append({"image_id": i, "file_name": f"{i}.png", "segments_info": gsegs})
        pred_anns.append({"image_id": i, "file_name": f"p{i}.png", "segments_info": psegs})
        gmaps.append(gmap)
        pmaps.append(pmap)
    return ({"annotations": gt_anns, "categories": cats}, {"annotations": pred_anns},
            gmaps, pmaps)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panoptic_case())
def test_generated_pairs(case: tuple[dict, dict, list[np.ndarray], list[np.ndarray]]) -> None:
    gt, pred, gmaps, pmaps = case
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for a, m in zip(gt["annotations"], gmaps):
            write_png(Path(d) / a["file_name"], m)
        for a, m in zip(pred["annotations"], pmaps):
            write_png(Path(d) / a["file_name"], m)
        ref = reference(gt, pred, d, d)
        ours = panoptic.pq_compute(gt, pred, d, d)
        mem = panoptic.pq_compute(
            gt, pred, gt_maps={a["file_name"]: m for a, m in zip(gt["annotations"], gmaps)},
            pred_maps={a["image_id"]: m for a, m in zip(pred["annotations"], pmaps)},
            threads=2)
    assert_same(mem, ours)
    assert_same(ours, ref)


# ---------------------------------------------------------------------------------------------
# errors, where panopticapi raises
# ---------------------------------------------------------------------------------------------

def _tiny(tmp_path: Path, pmap: np.ndarray, psegs: list[dict], cats: list | None = None
          ) -> tuple[dict, dict, Path]:
    gmap = np.zeros((4, 5), np.uint32)
    gmap[:2] = 1
    gmap[2:, :3] = 2
    write_png(tmp_path / "g.png", gmap)
    write_png(tmp_path / "p.png", pmap)
    gt = {"annotations": [{"image_id": 3, "file_name": "g.png", "segments_info": [
        {"id": 1, "category_id": 1, "iscrowd": 0, "area": 10},
        {"id": 2, "category_id": 2, "iscrowd": 0, "area": 6}]}],
        "categories": cats or [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}]}
    pred = {"annotations": [{"image_id": 3, "file_name": "p.png", "segments_info": psegs}]}
    return gt, pred, tmp_path


@pytest.mark.parametrize("case", ["png_not_json", "json_not_png", "unknown_category",
                                  "category_before_png", "png_before_category"])
def test_segment_errors_like_panopticapi(case: str, tmp_path: Path) -> None:
    pmap = np.zeros((4, 5), np.uint32)
    pmap[:2] = 4
    pmap[2:] = 9
    segs = {"png_not_json": [{"id": 4, "category_id": 1}],
            "json_not_png": [{"id": 4, "category_id": 1}, {"id": 9, "category_id": 2},
                             {"id": 12, "category_id": 2}, {"id": 8, "category_id": 2}],
            "unknown_category": [{"id": 4, "category_id": 1}, {"id": 9, "category_id": 77}],
            "category_before_png": [{"id": 4, "category_id": 77}],
            "png_before_category": [{"id": 9, "category_id": 77}]}[case]
    gt, pred, d = _tiny(tmp_path, pmap, segs)
    message = reference_raises(gt, pred, d, d)
    with pytest.raises(PanopticSegmentError) as info:
        panoptic.pq_compute(gt, pred, d, d)
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == message.strip("'\"")


def test_no_prediction_for_an_image(tmp_path: Path) -> None:
    pmap = np.zeros((4, 5), np.uint32)
    gt, pred, d = _tiny(tmp_path, pmap, [])
    pred["annotations"][0]["image_id"] = 4
    with pytest.raises(PanopticSegmentError, match="no prediction for the image with id: 3"):
        panoptic.pq_compute(gt, pred, d, d)


def test_first_bad_image_wins_whatever_the_threads(tmp_path: Path) -> None:
    gt, path, folder = real_case("labelbox")
    pred, _ = write_prediction(gt, folder, tmp_path / "pred", 1)
    pred = copy.deepcopy(pred)
    for k in (13, 4):  # drop a live segment from the JSON of two images
        pred["annotations"][k]["segments_info"].pop()
    bad = gt["annotations"][4]["image_id"]
    for t in (1, 2, 4):
        with pytest.raises(PanopticSegmentError, match=f"image with ID {bad} segment"):
            panoptic.pq_compute(gt, pred, folder, tmp_path / "pred", threads=t)


def test_folder_and_map_errors(tmp_path: Path) -> None:
    pmap = np.zeros((4, 5), np.uint32)
    gt, pred, d = _tiny(tmp_path, pmap, [])
    with pytest.raises(PanopticFolderError, match="does not exist"):
        panoptic.pq_compute(gt, pred, d, d / "missing")
    with pytest.raises(PanopticFolderError, match="no gt_folder"):
        panoptic.pq_compute(gt, pred, pred_folder=d)
    assert issubclass(PanopticFolderError, FileNotFoundError)
    renamed = copy.deepcopy(gt)
    renamed["annotations"][0]["file_name"] = "nope.png"
    with pytest.raises(FileNotFoundError):  # a PNG missing from an existing folder
        panoptic.pq_compute(renamed, pred, d, d)
    (d / "empty").mkdir()
    with pytest.raises(FileNotFoundError):
        panoptic.pq_compute(gt, pred, d / "empty", d)
    with pytest.raises(SizeMismatchError):
        panoptic.pq_compute(gt, pred, d, pred_maps={3: np.zeros((4, 6), np.uint32)})
    with pytest.raises(MaskDtypeError):
        panoptic.pq_compute(gt, pred, d, pred_maps={3: np.zeros((4, 5))})
    with pytest.raises(PanopticError, match="0..2"):
        panoptic.pq_compute(gt, pred, d, pred_maps={3: np.full((4, 5), -1)})
    Image.fromarray(np.zeros((4, 5), np.uint8), "L").save(d / "grey.png")
    with pytest.raises(PanopticError, match="must be RGB"):
        panoptic.pq_compute(gt, pred, d, pred_maps={3: d / "grey.png"})
    with pytest.raises(PanopticError, match="path or a dict"):
        panoptic.pq_compute(gt, 5, d, d)  # type: ignore[arg-type]
    bad = copy.deepcopy(gt)
    del bad["annotations"][0]["segments_info"][0]["area"]
    with pytest.raises(PanopticError, match="'area'"):
        panoptic.pq_compute(bad, pred, d, d)
    with pytest.raises(PanopticError, match="chunks"):
        panoptic.pq_compute(gt, pred, d, d, chunks=0)


def test_categories_argument(tmp_path: Path) -> None:
    """categories= overrides the ground truth's (a dict, as pq_compute_single_core takes,
    or a list); a prediction outside it is an unknown category."""
    gt, path, folder = real_case("panopticapi")
    cats = {c["id"]: c for c in gt["categories"]}
    sub = {k: v for k, v in cats.items() if v["isthing"] == 0}
    pred = {"annotations": [dict(a, segments_info=[
        {"id": s["id"], "category_id": s["category_id"]} for s in a["segments_info"]])
        for a in gt["annotations"]]}
    with pytest.raises(PanopticSegmentError, match="unknown category_id"):
        panoptic.pq_compute(gt, pred, folder, folder, categories=sub)
    full = panoptic.pq_compute(gt, pred, folder, folder, categories=list(cats.values())[::-1])
    assert list(full["per_class"]) == list(cats)[::-1]
    assert_same(full, reference(gt, pred, folder, folder, dict(list(cats.items())[::-1])))


def test_format_results_matches_panopticapi_table(tmp_path: Path) -> None:
    gt, path, folder = real_case("labelbox")
    pred, pred_path = write_prediction(gt, folder, tmp_path / "pred", 2)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        pe.pq_compute_multi_core = lambda m, g, p, c: pe.pq_compute_single_core(0, m, g, p, c)
        try:
            pe.pq_compute(str(path), str(pred_path), str(folder), str(tmp_path / "pred"))
        finally:
            import importlib
            importlib.reload(pe)
    printed = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(printed) if line.startswith(" " * 10 + "|"))
    ours = panoptic.pq_compute(path, pred_path, folder, tmp_path / "pred")
    assert panoptic.format_results(ours).splitlines() == printed[start:start + 5]
    buf = io.StringIO()
    panoptic.print_results(ours, file=buf)
    assert buf.getvalue() == panoptic.format_results(ours) + "\n"


@pytest.mark.parametrize("nseg", [30, 700])
def test_many_segments(nseg: int, tmp_path: Path) -> None:
    """Few segments use the dense pair table, many (over 2**17 pairs) the growing hash."""
    rng = np.random.default_rng(nseg)
    cats = [{"id": k, "isthing": k % 2} for k in range(1, 6)]
    g = rng.integers(0, nseg, size=(60, 70)).astype(np.uint32) * 3
    g = np.repeat(g, 2, axis=1)
    p = g.copy()
    p[rng.random(p.shape) < 0.3] = 1
    p[:, ::7] = np.roll(p[:, ::7], 1, axis=0)
    gsegs = [{"id": int(i), "category_id": 1 + int(i) % 5, "iscrowd": int(i % 11 == 0),
              "area": int((g == i).sum())} for i in np.unique(g) if i]
    psegs = [{"id": int(i), "category_id": 1 + int(i) % 5} for i in np.unique(p) if i]
    gt = {"annotations": [{"image_id": 1, "file_name": "g.png", "segments_info": gsegs}],
          "categories": cats}
    pred = {"annotations": [{"image_id": 1, "file_name": "p.png", "segments_info": psegs}]}
    write_png(tmp_path / "g.png", g)
    write_png(tmp_path / "p.png", p)
    ref = reference(gt, pred, tmp_path, tmp_path)
    assert_same(panoptic.pq_compute(gt, pred, tmp_path, tmp_path), ref)
    # an unaligned uint32 map (read pixel by pixel)
    buf = np.zeros(p.size * 4 + 1, np.uint8)
    odd = buf[1:].view(np.uint32).reshape(p.shape)
    odd[...] = p
    assert not odd.flags.aligned
    assert_same(panoptic.pq_compute(gt, pred, tmp_path, pred_maps={1: odd}), ref)

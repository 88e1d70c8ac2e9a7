"""Panoptic quality (PQ, SQ, RQ) of COCO panoptic predictions, equal to panopticapi's.

:func:`pq_compute` takes what ``panopticapi.evaluation.pq_compute`` takes (two COCO panoptic
JSON files, or the loaded dicts, and the folders of their PNGs) and returns the same dict,
the same numbers to the last bit: ``'All'``, ``'Things'`` and ``'Stuff'`` each
``{'pq', 'sq', 'rq', 'n'}``, and ``'per_class'`` ``{category id: {'pq', 'sq', 'rq'}}``.
The PNGs are read by maskcodecs' own decoder and every image pair is reduced to segment
areas and intersections in one pass over its pixels in the extension, without the GIL, so
``threads=`` evaluates images in parallel. Id maps already in memory are accepted too
(``gt_maps=`` / ``pred_maps=``).

Semantics (panopticapi's): a pixel's segment id is ``R + 256*G + 256*256*B``; 0 is VOID. A
ground-truth and a predicted segment of one category match when IoU > 0.5, where the union
is the predicted area plus the ground-truth ``area`` of the JSON minus the intersection minus
the predicted pixels on VOID; crowd ground truth (``iscrowd == 1``) never matches. An
unmatched ground-truth segment that is not crowd is a false negative; an unmatched
prediction is a false positive unless more than half of it lies on VOID or on the crowd
region of its category. Per category PQ = sum IoU / (TP + FP/2 + FN/2), SQ = sum IoU / TP,
RQ = TP / (TP + FP/2 + FN/2); All/Things/Stuff average the categories that have any TP, FP or
FN. Nothing is printed: :func:`format_results` / :func:`print_results` give panopticapi's
table.

Examples
--------
>>> import numpy as np
>>> from maskcodecs import panoptic
>>> gt = {"annotations": [{"image_id": 1, "file_name": "a.png", "segments_info": [
...           {"id": 1, "category_id": 7, "iscrowd": 0, "area": 6}]}],
...       "categories": [{"id": 7, "isthing": 1}]}
>>> pred = {"annotations": [{"image_id": 1, "file_name": "a.png", "segments_info": [
...             {"id": 5, "category_id": 7}]}]}
>>> gmap = np.zeros((3, 4), np.uint32); gmap[:, :2] = 1        # 6 pixels of segment 1
>>> pmap = np.zeros((3, 4), np.uint32); pmap[:, 1:3] = 5      # IoU 3 / 9: no match
>>> r = panoptic.pq_compute(gt, pred, gt_maps={"a.png": gmap}, pred_maps={1: pmap})
>>> r["All"]
{'pq': 0.0, 'sq': 0.0, 'rq': 0.0, 'n': 1}
>>> pmap[:, :3] = 5                         # all of segment 1, the rest on VOID (ignored)
>>> r = panoptic.pq_compute(gt, pred, gt_maps={"a.png": gmap}, pred_maps={1: pmap})
>>> r["per_class"][7]
{'pq': 1.0, 'sq': 1.0, 'rq': 1.0}
>>> print(panoptic.format_results(r))
          |    PQ     SQ     RQ     N
--------------------------------------
All       | 100.0  100.0  100.0     1
Things    | 100.0  100.0  100.0     1
Stuff     |   0.0    0.0    0.0     0
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any, Union

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs._args import threads_arg
from maskcodecs._png import decode_png
from maskcodecs._pool import resolve_threads, run_parts
from maskcodecs.errors import (
    MaskDtypeError,
    MaskShapeError,
    PanopticError,
    PanopticFolderError,
    PanopticSegmentError,
)

__all__ = ["pq_compute", "format_results", "print_results", "is_panoptic", "to_instances"]

PathLike = Union[str, "os.PathLike[str]"]
#: what an entry of ``gt_maps`` / ``pred_maps`` may be
IdMap = Union[np.ndarray, bytes, bytearray, memoryview, PathLike]

_METRICS = (("All", None), ("Things", True), ("Stuff", False))


def pq_compute(gt_json: PathLike | Mapping[str, Any], pred_json: PathLike | Mapping[str, Any],
               gt_folder: PathLike | None = None, pred_folder: PathLike | None = None,
               categories: Mapping[Any, Mapping[str, Any]] | Sequence[Mapping[str, Any]]
               | None = None, *, gt_maps: Mapping[Any, IdMap] | None = None,
               pred_maps: Mapping[Any, IdMap] | None = None, threads: int | None = None,
               chunks: int | None = None) -> dict[str, Any]:
    """Panoptic quality of `pred_json` against `gt_json`, as ``panopticapi``'s ``pq_compute``.

    Parameters
    ----------
    gt_json, pred_json : path or dict
        COCO panoptic documents: ``annotations`` (one per image: ``image_id``,
        ``file_name``, ``segments_info`` of ``id``, ``category_id``, and for the ground
        truth ``iscrowd`` and ``area``) and, in the ground truth, ``categories`` (``id``,
        ``isthing``). Every ground-truth image needs a prediction (extra predictions are
        ignored).
    gt_folder, pred_folder : path, optional
        Folders of the PNGs, named by each annotation's ``file_name``. By default the JSON
        path with ``.json`` removed (panopticapi's rule); a side given as a dict has no
        default. Not needed for images found in `gt_maps` / `pred_maps`.
    categories : dict or list, optional
        ``{id: {'isthing': 0|1, ...}}`` or a list of category dicts; by default the ground
        truth's ``categories``. Their order is the order of ``per_class`` and of the means.
    gt_maps, pred_maps : mapping, optional
        Id maps in memory, keyed by ``file_name`` or by ``image_id`` (the file name is looked
        up first): an (h, w) integer array of segment ids (0..2**32-1), an (h, w, 3|4)
        uint8 RGB(A) array, PNG bytes, or a path of a PNG. Images not found there are read
        from the folder.
    threads : int, optional
        Images evaluated in parallel (``0`` or negative: all cores; default 1). The result
        does not depend on it.
    chunks : int, optional
        panopticapi's multiprocessing ``pq_compute`` splits the images into
        ``multiprocessing.cpu_count()`` chunks (``numpy.array_split``) and adds each
        category's IoU per chunk, then the chunk sums; pass that number of chunks to
        reproduce its sums bit for bit. By default the IoU are added in image order, as
        ``pq_compute_single_core`` over all images (panopticapi on one core) does.

    Returns
    -------
    dict
        ``{'All': {'pq', 'sq', 'rq', 'n'}, 'per_class': {id: {'pq', 'sq', 'rq'}},
        'Things': {...}, 'Stuff': {...}}`` with Python floats and ints. A group without any
        category that has TP, FP or FN gives 0.0 and ``n == 0`` (panopticapi divides by zero).

    Raises
    ------
    PanopticSegmentError (a KeyError)
        Where panopticapi raises: a ground-truth image without a prediction, a nonzero id in
        a predicted PNG without a JSON segment, a JSON segment absent from its PNG, a
        predicted segment of a category not in `categories`.
    PanopticFolderError (a FileNotFoundError)
        A PNG folder that is needed and does not exist.
    PanopticError (a ValueError)
        A malformed document or id map (not RGB, negative ids...).
    SizeMismatchError
        A ground-truth and a predicted map of different sizes.
    """
    threads_arg(threads)  # the shared check, before any work
    gt = _load_json(gt_json, "gt_json")
    pred = _load_json(pred_json, "pred_json")
    cats = _categories(gt if categories is None else categories, categories is None)
    gsrc = _Source("ground truth", gt_json, gt_folder, gt_maps)
    psrc = _Source("prediction", pred_json, pred_folder, pred_maps)
    pairs = _pair_annotations(gt, pred)
    catidx = {cid: k for k, cid in enumerate(cats)}

    def work(start: int, stop: int) -> list[Any]:
        out: list[Any] = []
        for k in range(start, stop):
            try:
                out.append(_image(pairs[k], gsrc, psrc, catidx))
            except Exception as e:  # noqa: BLE001 - raised in image order by the caller
                out.append(e)
                break
        return out

    gsrc.check_folder(pairs, "gt")
    psrc.check_folder(pairs, "pred")
    parts = run_parts(work, len(pairs), resolve_threads(threads, len(pairs)))
    images = [r for part in parts for r in part]
    for r in images:
        if isinstance(r, Exception):
            raise r
    return _results(images, cats, chunks)


def format_results(results: Mapping[str, Any]) -> str:
    """panopticapi's printed table of a :func:`pq_compute` result (percentages, one
    decimal), without its trailing "Time elapsed" line."""
    lines = [f"{'':10s}| {'PQ':>5s}  {'SQ':>5s}  {'RQ':>5s} {'N':>5s}", "-" * 38]
    for name, _ in _METRICS:
        r = results[name]
        lines.append(f"{name:10s}| {100 * r['pq']:5.1f}  {100 * r['sq']:5.1f}  "
                     f"{100 * r['rq']:5.1f} {r['n']:5d}")
    return "\n".join(lines)


def print_results(results: Mapping[str, Any], file: IO[str] | None = None) -> None:
    """Print :func:`format_results` (to stdout by default)."""
    print(format_results(results), file=sys.stdout if file is None else file)


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------

def _load_json(doc: Any, what: str) -> Mapping[str, Any]:
    if isinstance(doc, Mapping):
        return doc
    if isinstance(doc, (str, os.PathLike)):
        with open(doc, encoding="utf-8") as f:
            loaded = json.load(f)
        if not isinstance(loaded, dict):
            raise PanopticError(f"{os.fspath(doc)}: a COCO panoptic document is a JSON object")
        return loaded
    raise PanopticError(f"{what} must be a path or a dict, not {type(doc).__name__}")


def _field(d: Any, key: str, where: str) -> Any:
    try:
        return d[key]
    except (KeyError, TypeError, IndexError):
        raise PanopticError(f"{where} has no {key!r}") from None


def _categories(src: Any, from_gt: bool) -> dict[Any, Mapping[str, Any]]:
    """{category id: category dict} in the given order (a later duplicate id replaces the
    earlier one in place, as a dict built from the list does)."""
    items = _field(src, "categories", "gt_json") if from_gt else src
    if isinstance(items, Mapping):
        return dict(items)
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise PanopticError("categories must be a list of category dicts or a dict")
    return {_field(c, "id", "a category"): c for c in items}


def _pair_annotations(gt: Mapping[str, Any], pred: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """(gt annotation, pred annotation) per ground-truth annotation, in its order."""
    by_image = {_field(a, "image_id", "a predicted annotation"): a
                for a in _field(pred, "annotations", "pred_json")}
    pairs = []
    for a in _field(gt, "annotations", "gt_json"):
        image_id = _field(a, "image_id", "a ground-truth annotation")
        if image_id not in by_image:
            raise PanopticSegmentError(f"no prediction for the image with id: {image_id}")
        pairs.append((a, by_image[image_id]))
    return pairs


class _Source:
    """Where one side's id maps come from: the maps given in memory, else the folder."""

    def __init__(self, side: str, doc: Any, folder: PathLike | None,
                 maps: Mapping[Any, IdMap] | None) -> None:
        self.side = side
        self.maps = maps if maps is not None else {}
        if folder is None and isinstance(doc, (str, os.PathLike)):
            folder = os.fspath(doc).replace(".json", "")  # panopticapi's default folder
        self.folder = None if folder is None else os.fspath(folder)

    def check_folder(self, pairs: list[tuple[Any, Any]], which: str) -> None:
        """Raise early when a map must come from a folder that is missing or not given."""
        j = 0 if which == "gt" else 1
        needed = any(self._key(p[j]) is None for p in pairs)
        if not needed:
            return
        if self.folder is None:
            raise PanopticFolderError(
                f"no {which}_folder for the {self.side} PNGs (and not all in {which}_maps)")
        if not os.path.isdir(self.folder):
            raise PanopticFolderError(
                f"folder {self.folder} with {self.side} segmentations does not exist")

    def _key(self, ann: Mapping[str, Any]) -> Any:
        for key in (ann.get("file_name"), ann.get("image_id")):
            if key is not None and key in self.maps:
                return key
        return None

    def load(self, ann: Mapping[str, Any]) -> np.ndarray:
        key = self._key(ann)
        if key is not None:
            return _as_id_map(self.maps[key], f"{self.side} map {key!r}")
        name = _field(ann, "file_name", f"a {self.side} annotation")
        assert self.folder is not None  # check_folder ran
        path = os.path.join(self.folder, name)
        with open(path, "rb") as f:
            return _decode(f.read(), path)


def _decode(data: bytes, name: str) -> np.ndarray:
    """RGB(A) PNG bytes -> (h, w, >= 3) uint8 pixels (Pillow only for the rare layouts the
    project's decoder hands over)."""
    fast = decode_png(data)
    if fast is not None:
        pixels = fast[0]
    else:
        from maskcodecs._imageio import read_array
        pixels = read_array(data)
    if pixels.ndim != 3 or pixels.shape[2] < 3 or pixels.dtype != np.uint8:
        raise PanopticError(f"{name}: a panoptic PNG must be RGB (got an array of shape "
                            f"{pixels.shape}, {pixels.dtype})")
    return pixels


def _as_id_map(value: Any, name: str) -> np.ndarray:
    """An in-memory map as the kernel reads it: (h, w, >= 3) uint8 or (h, w) uint32."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _decode(bytes(value), name)
    if isinstance(value, (str, os.PathLike)):
        with open(value, "rb") as f:
            return _decode(f.read(), os.fspath(value))
    a = np.asarray(value)
    if a.ndim == 3:
        if a.dtype != np.uint8 or a.shape[2] not in (3, 4):
            raise MaskDtypeError(f"{name}: an RGB map must be (h, w, 3|4) uint8, got "
                                 f"{a.shape} {a.dtype}")
        return a
    if a.ndim != 2:
        raise MaskShapeError(f"{name}: an id map must be (h, w) or (h, w, 3), got {a.shape}")
    if a.dtype == np.uint32:
        return a
    if a.dtype.kind not in "iu":
        raise MaskDtypeError(f"{name}: segment ids must be integers, got {a.dtype}")
    if a.size and (int(a.min()) < 0 or int(a.max()) > 0xFFFFFFFF):
        raise PanopticError(f"{name}: segment ids must be within 0..2**32-1")
    return a.astype(np.uint32)


# ---------------------------------------------------------------------------------------------
# one image pair
# ---------------------------------------------------------------------------------------------

def _segments(ann: Mapping[str, Any], where: str) -> dict[Any, Mapping[str, Any]]:
    """segments_info by id; a later duplicate id replaces the earlier one."""
    info = _field(ann, "segments_info", where)
    return {_field(s, "id", f"a segment of {where}"): s for s in info}


def _sorted_ids(segs: dict[Any, Any], where: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        ids = np.array(list(segs), dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise PanopticError(f"{where}: segment ids must be integers") from None
    order = np.argsort(ids, kind="stable")
    return ids[order], order


def _image(pair: tuple[Any, Any], gsrc: _Source, psrc: _Source,
           catidx: dict[Any, int]) -> tuple[Any, ...]:
    gt_ann, pred_ann = pair
    image_id = gt_ann["image_id"]
    where = f"the image with ID {image_id}"
    gsegs = _segments(gt_ann, f"the ground truth of {where}")
    psegs = _segments(pred_ann, f"the prediction of {where}")
    gid, gorder = _sorted_ids(gsegs, where)
    pid, porder = _sorted_ids(psegs, where)
    ginfo = list(gsegs.values())
    pinfo = list(psegs.values())
    try:
        gcat_raw = [s["category_id"] for s in ginfo]
        gcrowd_l = [s["iscrowd"] == 1 for s in ginfo]
        garea = np.array([s["area"] for s in ginfo], dtype=np.float64)[gorder]
        pcat_raw = [s["category_id"] for s in pinfo]
    except KeyError as e:
        raise PanopticError(f"a segment of {where} has no {e.args[0]!r}") from None
    except (TypeError, ValueError):
        raise PanopticError(f"a segment area of {where} is not a number") from None
    gcat = np.array([catidx.get(c, -1) for c in gcat_raw], dtype=np.int32)[gorder]
    gcrowd = np.array(gcrowd_l, dtype=np.uint8)[gorder]
    pcat = np.array([catidx.get(c, -2) for c in pcat_raw], dtype=np.int32)[porder]
    # the crowd region of each category: the last crowd segment of it in the JSON's order
    rank = np.empty(len(ginfo), dtype=np.int64)
    rank[gorder] = np.arange(len(ginfo))
    crowd = {catidx.get(c, -1): int(rank[k]) for k, (c, is_crowd)
             in enumerate(zip(gcat_raw, gcrowd_l)) if is_crowd}
    pcrowd = np.array([crowd.get(int(c), -1) for c in pcat], dtype=np.int64)
    gmap = gsrc.load(gt_ann)
    pmap = psrc.load(pred_ann)
    parea = np.empty(len(pid), np.int64)
    gmatched = np.empty(len(gid), np.uint8)
    pmatched = np.empty(len(pid), np.uint8)
    pfp = np.empty(len(pid), np.uint8)
    tp_gt, tp_iou, unknown = _core.panoptic_image(
        gmap, pmap, gid, gcat, gcrowd, garea, pid, pcat, pcrowd, parea, gmatched, pmatched, pfp)
    _check_prediction(where, pid, pcat, parea, unknown, pcat_raw, porder)
    fn = gcat[(gmatched == 0) & (gcrowd == 0) & (gcat >= 0)]
    return gcat[tp_gt], tp_iou, fn, pcat[pfp != 0]


def _check_prediction(where: str, pid: np.ndarray, pcat: np.ndarray, parea: np.ndarray,
                      unknown: int, pcat_raw: list[Any], porder: np.ndarray) -> None:
    """panopticapi's checks of a prediction, the first failing one in id order."""
    bad_cat = np.flatnonzero((pcat < 0) & (parea > 0))
    if unknown >= 0 and (not len(bad_cat) or unknown < pid[bad_cat[0]]):
        raise PanopticSegmentError(f"In {where} segment with ID {unknown} is presented in PNG "
                                   "and not presented in JSON.")
    if len(bad_cat):
        k = int(bad_cat[0])
        raise PanopticSegmentError(f"In {where} segment with ID {int(pid[k])} has unknown "
                                   f"category_id {pcat_raw[int(porder[k])]}.")
    missing = pid[parea == 0]
    if len(missing):
        raise PanopticSegmentError(f"In {where} the following segment IDs "
                                   f"{missing.tolist()} are presented in JSON and not "
                                   "presented in PNG.")


# ---------------------------------------------------------------------------------------------
# reduction and means
# ---------------------------------------------------------------------------------------------

def _chunk_bounds(per_image_tp: list[int], chunks: int | None) -> np.ndarray:
    """Offsets into the concatenated matches where each chunk of images starts
    (numpy.array_split's chunk sizes: the first n % k chunks one image longer)."""
    n = len(per_image_tp)
    ends = np.concatenate([[0], np.cumsum(per_image_tp, dtype=np.int64)])
    if chunks is None:
        return np.array([0, ends[-1]], dtype=np.int64)
    k = int(chunks)
    if k < 1:
        raise PanopticError("chunks must be at least 1")
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    return ends[np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)]


def _results(images: list[Any], cats: dict[Any, Mapping[str, Any]],
             chunks: int | None) -> dict[str, Any]:
    ncat = len(cats)
    empty_i = np.empty(0, np.int32)
    tp_cat = np.concatenate([empty_i] + [r[0] for r in images]).astype(np.int32)
    tp_iou = np.concatenate([np.empty(0)] + [r[1] for r in images])
    fn_cat = np.concatenate([empty_i] + [r[2] for r in images])
    fp_cat = np.concatenate([empty_i] + [r[3] for r in images])
    iou = np.zeros(ncat, np.float64)
    bounds = _chunk_bounds([len(r[1]) for r in images], chunks)
    _core.panoptic_sum_iou(np.ascontiguousarray(tp_cat), np.ascontiguousarray(tp_iou),
                           bounds, iou)
    tp = np.bincount(tp_cat, minlength=ncat)
    fp = np.bincount(fp_cat, minlength=ncat)
    fn = np.bincount(fn_cat, minlength=ncat)
    stats = [(float(iou[k]), int(tp[k]), int(fp[k]), int(fn[k])) for k in range(ncat)]
    results: dict[str, Any] = {}
    for name, isthing in _METRICS:
        results[name], per_class = _average(stats, cats, isthing)
        if name == "All":
            results["per_class"] = per_class
    return results


def _average(stats: list[tuple[float, int, int, int]], cats: dict[Any, Mapping[str, Any]],
             isthing: bool | None) -> tuple[dict[str, Any], dict[Any, dict[str, float]]]:
    """The mean over the categories of one group, panopticapi's operations in its order."""
    pq_sum = sq_sum = rq_sum = 0.0
    n = 0
    per_class: dict[Any, dict[str, float]] = {}
    for k, (cid, info) in enumerate(cats.items()):
        if isthing is not None:
            flag = _field(info, "isthing", f"category {cid!r}")
            if (flag == 1) != isthing:
                continue
        iou, tp, fp, fn = stats[k]
        if tp + fp + fn == 0:
            per_class[cid] = {"pq": 0.0, "sq": 0.0, "rq": 0.0}
            continue
        n += 1
        denominator = tp + 0.5 * fp + 0.5 * fn
        pq = iou / denominator
        sq = iou / tp if tp != 0 else 0.0
        rq = tp / denominator
        per_class[cid] = {"pq": pq, "sq": sq, "rq": rq}
        pq_sum += pq
        sq_sum += sq
        rq_sum += rq
    if n == 0:
        return {"pq": 0.0, "sq": 0.0, "rq": 0.0, "n": 0}, per_class
    return {"pq": pq_sum / n, "sq": sq_sum / n, "rq": rq_sum / n, "n": n}, per_class


# -- a panoptic dataset as instance annotations ----------------------------------------------------
def is_panoptic(doc: Any) -> bool:
    """Whether a loaded COCO document is a panoptic one (annotations with segments_info)."""
    anns = doc.get("annotations") if isinstance(doc, Mapping) else None
    return isinstance(anns, list) and bool(anns) and all(
        isinstance(a, Mapping) and "segments_info" in a for a in anns)


def to_instances(panoptic_json: PathLike | Mapping[str, Any], png_folder: PathLike | None = None,
                 *, maps: Mapping[Any, IdMap] | None = None,
                 threads: int | None = None) -> dict[str, Any]:
    """A COCO panoptic dataset as an instance dataset: one annotation per segment.

    Parameters
    ----------
    panoptic_json : path or dict
        COCO panoptic JSON (``images``, ``annotations`` with ``file_name`` and
        ``segments_info``, ``categories`` with ``isthing``).
    png_folder : path, optional
        The folder of the PNGs; by default panopticapi's (the JSON path without ``.json``).
    maps : mapping, optional
        Id maps in memory by ``file_name`` or ``image_id``, as for :func:`pq_compute`.
    threads : int, optional
        Images read in parallel (the decoder and encoder release the GIL).

    Returns
    -------
    dict
        ``images`` and ``categories`` (``isthing`` kept) of the panoptic JSON, and
        ``annotations`` with a compressed RLE ``segmentation`` (str counts) of each segment,
        its pixel ``area`` and tight ``bbox``, the segment's ``category_id`` and ``iscrowd``,
        ids 1..n, and the segment id in ``attributes['panoptic_segment_id']``.

    Raises
    ------
    PanopticSegmentError
        A segment of segments_info absent from its PNG, or a PNG segment (other than VOID,
        id 0) absent from segments_info.
    PanopticFolderError
        The folder of the PNGs does not exist.
    """
    threads_arg(threads)  # the shared check, before any work
    from maskcodecs.coco import segments_from_colour_map, segments_from_label_map

    doc = _load_json(panoptic_json, "panoptic JSON")
    anns = _field(doc, "annotations", "the panoptic JSON")
    src = _Source("panoptic", panoptic_json, png_folder, maps)
    src.check_folder([(a, a) for a in anns], "png")

    def one(ann: Mapping[str, Any]) -> list[dict[str, Any]]:
        where = f"image {ann.get('image_id')!r} ({ann.get('file_name')})"
        info = _segments(ann, where)
        pixels = src.load(ann)
        found = segments_from_label_map(pixels) if pixels.ndim == 2 else \
            segments_from_colour_map(pixels[:, :, :3])  # an in-memory id map, or RGB
        segs = {s.value: s for s in found}
        out = []
        for sid, si in info.items():
            seg = segs.pop(int(sid), None)
            if seg is None:
                raise PanopticSegmentError(f"{where}: segment {sid} of segments_info is not "
                                           "in the PNG")
            counts = seg.rle["counts"]
            out.append({"image_id": ann.get("image_id"),
                        "category_id": si.get("category_id"),
                        "segmentation": {"size": [int(v) for v in seg.rle["size"]],
                                         "counts": counts.decode("ascii")
                                         if isinstance(counts, bytes) else counts},
                        "area": int(seg.area), "bbox": [float(v) for v in seg.bbox],
                        "iscrowd": int(si.get("iscrowd", 0)),
                        "attributes": {"panoptic_segment_id": int(sid)}})
        if segs:
            raise PanopticSegmentError(f"{where}: segments {sorted(segs)} of the PNG are not "
                                       "in segments_info")
        return out

    t = resolve_threads(0 if threads is None else threads, max(len(anns), 1))
    parts = run_parts(lambda a, b: [one(x) for x in anns[a:b]], len(anns), t)
    annotations = [x for part in parts for per_image in part for x in per_image]
    for n, a in enumerate(annotations):
        a["id"] = n + 1
    return {k: v for k, v in doc.items() if k != "annotations"} | {"annotations": annotations}

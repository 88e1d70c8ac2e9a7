"""``LVIS``, ``LVISResults`` and ``LVISEval``: lvis-api 0.5.3's federated evaluation, native.

The names, constructor arguments, attributes, results and printed lines of lvis-api's
``lvis.LVIS``, ``lvis.LVISResults`` and ``lvis.LVISEval`` for ``bbox`` and ``segm``.
Evaluation runs on the machinery of :mod:`maskcodecs.cocoeval` (IoU per (category, image)
cell and pycocotools' matching, which lvis-api shares, in the extension with the GIL
released); what LVIS adds is modelled on top of it:

* the federated selection: a detection is evaluated only when its category is among the
  image's ground truth or in its ``neg_category_ids``; ground truth and detections of area
  0 (or not below infinity) are left out, as lvis-api's ``get_ann_ids`` leaves them out;
* no crowd ground truth, and the ``ignore`` flag honoured (0 when absent);
* an unmatched detection of a category in the image's ``not_exhaustive_category_ids`` is
  ignored (a kernel pass over the matching codes);
* no detection cap inside the evaluation: ``LVISResults`` keeps each image's
  ``max_dets`` (300) highest-scoring detections, in Python's stable sort, as lvis-api does;
* lvis-api's accumulate (pycocotools' without the maxDets axis) and summarize, with the
  frequency groups r, c and f of the categories' ``frequency``.

Every floating-point step is lvis-api's, in its order: ``get_results()``,
``eval['precision']`` and ``eval['recall']`` equal lvis-api's exactly. Differences (see
docs/compatibility.md): lvis-api's accumulate fails on numpy >= 1.24 (``np.float``), this
one does not; an empty result list evaluates as no detections (lvis-api raises IndexError);
the annotation dicts are not modified by the evaluation; ``LVISResults`` shares the ground
truth's image and category dicts instead of deep-copying them; ``eval_imgs``, ``ious`` and
``eval['dt_pointers']`` are not built.

Examples
--------
>>> from maskcodecs.lvis import LVIS, LVISEval
>>> gt = LVIS({"images": [{"id": 1, "height": 64, "width": 64, "neg_category_ids": [2],
...                        "not_exhaustive_category_ids": []}],
...            "categories": [{"id": 1, "frequency": "f"}, {"id": 2, "frequency": "r"}],
...            "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
...                             "bbox": [8, 8, 32, 32], "area": 1024}]})
>>> E = LVISEval(gt, [{"image_id": 1, "category_id": 1, "bbox": [9, 9, 32, 32],
...                    "score": 0.9}], "bbox")
>>> E.run()
>>> float(E.results["AP50"]), float(E.results["APf"]), E.results["APr"]
(0.9999999999999999, 0.7999999999999999, -1)
"""
from __future__ import annotations

import datetime
import logging
import os
import sys
from collections import OrderedDict
from typing import Any

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs import mask as _mask
from maskcodecs._args import threads_arg
from maskcodecs._coco_api import (
    COCO,
    _cat_to_imgs,
    _complete_results,
    _index_annotations,
    ann_to_rle_sized,
    gc_paused,
)
from maskcodecs._coco_scan import loads, scan_dataset, scan_results, sorted_unique
from maskcodecs._pool import resolve_threads, run_parts
from maskcodecs.cocoeval import Params as _CocoParams
from maskcodecs.cocoeval import (
    _Cells,
    _DictSide,
    _Fallback,
    _numbers,
    _ScanSide,
    _selected,
)
from maskcodecs.errors import (
    EvaluationError,
    LVISFieldError,
    LVISFormatError,
    LVISOrderError,
    LVISTypeError,
)

__all__ = ["LVIS", "LVISResults", "LVISEval", "Params"]

_I64 = np.int64
_F64 = np.float64
_PathTypes = (str, os.PathLike)


def _missing(exc: KeyError, where: str) -> LVISFieldError:
    return LVISFieldError(f"{where}: missing key {exc.args[0]!r}" if exc.args else where)


def _read(path: Any) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _silent_coco() -> COCO:
    """An empty COCO index (COCO(dict) would print pycocotools' lines; lvis-api prints none)."""
    return COCO()


def _indexed(dataset: Any) -> COCO:
    """Our COCO index of an LVIS dataset dict (lvis-api's _create_index, the same lookups)."""
    if type(dataset) is not dict:
        raise LVISFormatError(f"Annotation file format {type(dataset)} not supported.")
    coco = _silent_coco()
    try:
        anns_list, images, categories = (dataset["annotations"], dataset["images"],
                                         dataset["categories"])
        with gc_paused():
            anns, img_to_anns = _index_annotations(dataset)
            coco.imgs = {img["id"]: img for img in images}
            coco.cats = {cat["id"]: cat for cat in categories}
            coco.catToImgs = _cat_to_imgs(dataset)
    except KeyError as exc:
        raise _missing(exc, "LVIS dataset") from None
    del anns_list
    coco.dataset, coco.anns, coco.imgToAnns = dataset, anns, img_to_anns
    return coco


def _gt_index(source: Any) -> COCO:
    """The COCO index of an LVIS file (held as the scanner's columns where it reads it) or
    dataset dict."""
    if isinstance(source, dict):
        return _indexed(source)
    if not isinstance(source, _PathTypes):
        raise LVISTypeError(f"Unsupported type {source} of annotation_path.")
    data = _read(source)
    scanned = scan_dataset(data)
    if scanned is not None and "images" in scanned.values and "categories" in scanned.values:
        coco = _silent_coco()
        try:
            coco._hold(scanned)
        except KeyError as exc:
            raise _missing(exc, "LVIS dataset") from None
        return coco
    return _indexed(loads(data))


class LVIS:
    """lvis-api's LVIS annotation index, for a JSON file path (or a dataset dict).

    Attributes ``dataset``, ``anns``, ``cats``, ``imgs``, ``img_ann_map`` and
    ``cat_img_map`` are lvis-api's; the annotation dicts of a file are parsed when one of
    them is first read (evaluation reads the file's columns directly).
    """

    #: attributes built from the held file when first read
    _LAZY = {"dataset": "dataset", "anns": "anns", "img_ann_map": "imgToAnns",
             "cat_img_map": "catToImgs"}

    def __init__(self, annotation_path: Any) -> None:
        self.logger = logging.getLogger(__name__)
        self.logger.info("Loading annotations.")
        self._coco = _gt_index(annotation_path)
        self.imgs: dict[Any, Any] = self._coco.imgs
        self.cats: dict[Any, Any] = self._coco.cats

    def __getattr__(self, name: str) -> Any:
        alias = LVIS._LAZY.get(name)
        if alias is not None and "_coco" in self.__dict__:
            return self._lazy(alias)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _lazy(self, alias: str) -> Any:
        return getattr(self._coco, alias)

    def _dicts(self) -> COCO:
        """The index of the annotation dicts (what the dict path of evaluation reads)."""
        return self._coco

    def _load_json(self, path: Any) -> Any:
        return loads(_read(path))

    # -- queries -------------------------------------------------------------------------------
    def get_ann_ids(self, img_ids: Any = None, cat_ids: Any = None,
                    area_rng: Any = None) -> list[Any]:
        """Ids of the annotations on ``img_ids`` (in that order, all when None), of
        ``cat_ids``, with ``area_rng[0] < area < area_rng[1]`` ([0, inf] by default once a
        filter is given)."""
        if img_ids is not None:
            index = self.img_ann_map
            anns: list[Any] = [a for i in img_ids for a in index[i]]
        else:
            anns = self.dataset["annotations"]
        if cat_ids is None and area_rng is None:
            return [a["id"] for a in anns]
        wanted = set(cat_ids)  # lvis-api: set(None) raises TypeError, as here
        lo, hi = (0, float("inf")) if area_rng is None else (area_rng[0], area_rng[1])
        try:
            return [a["id"] for a in anns
                    if a["category_id"] in wanted and a["area"] > lo and a["area"] < hi]
        except KeyError as exc:
            raise _missing(exc, "annotation") from None

    def get_cat_ids(self) -> list[Any]:
        """Every category id."""
        return list(self.cats.keys())

    def get_img_ids(self) -> list[Any]:
        """Every image id."""
        return list(self.imgs.keys())

    @staticmethod
    def _pick(table: dict[Any, Any], ids: Any, what: str) -> list[Any]:
        if ids is None:
            return list(table.values())
        try:
            return [table[i] for i in ids]
        except KeyError as exc:
            raise LVISFieldError(f"no {what} with id {exc.args[0]!r}") from None

    def load_anns(self, ids: Any = None) -> list[Any]:
        """The annotations with these ids (all when None)."""
        return self._pick(self.anns, ids, "annotation")

    def load_cats(self, ids: Any) -> list[Any]:
        """The categories with these ids (all when None)."""
        return self._pick(self.cats, ids, "category")

    def load_imgs(self, ids: Any) -> list[Any]:
        """The images with these ids (all when None)."""
        return self._pick(self.imgs, ids, "image")

    def download(self, save_dir: Any, img_ids: Any = None) -> None:
        """Fetch the images' ``coco_url`` files into save_dir (those not there yet)."""
        from urllib.request import urlretrieve

        os.makedirs(save_dir, exist_ok=True)
        for img in self.load_imgs(img_ids):
            url = img["coco_url"]
            target = os.path.join(save_dir, url.split("/")[-1])
            if not os.path.exists(target):
                urlretrieve(url, target)

    # -- masks ---------------------------------------------------------------------------------
    def ann_to_rle(self, ann: dict[str, Any]) -> Any:
        """The annotation's segmentation as one compressed RLE (polygons merged)."""
        img = self.imgs[ann["image_id"]]
        return ann_to_rle_sized(ann["segmentation"], img["height"], img["width"])

    def ann_to_mask(self, ann: dict[str, Any]) -> np.ndarray:
        """The annotation's segmentation decoded to an (h, w) uint8 mask."""
        return _mask.decode(self.ann_to_rle(ann))


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------

def _mode(has_bbox: bool, has_segm: bool) -> str | None:
    """How LVISResults completes results, read off the first one kept."""
    if has_bbox:
        return "bbox"
    if has_segm:
        return "segm"
    return None


def _score(ann: dict[str, Any]) -> Any:
    return ann["score"]


def _capped(anns: list[Any], max_dets: int) -> list[Any]:
    """The results grouped by image (in order of first appearance), each image's cut to its
    max_dets highest scores by Python's stable sort where it has more."""
    by_img: dict[Any, list[Any]] = {}
    for a in anns:
        by_img.setdefault(a["image_id"], []).append(a)
    out: list[Any] = []
    for group in by_img.values():
        if len(group) > max_dets:
            group = sorted(group, key=_score, reverse=True)[:max_dets]
        out.extend(group)
    return out


def _capped_rows(img: np.ndarray, score: np.ndarray, max_dets: int) -> np.ndarray:
    """_capped on columns: the kept rows, in the order _capped gives them."""
    uniq, first, inv = np.unique(img, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), dtype=_I64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq), dtype=_I64)
    group = rank[inv.reshape(-1)]
    order = np.argsort(group, kind="stable").astype(_I64)
    counts = np.bincount(group, minlength=len(uniq))
    big = np.flatnonzero(counts > max_dets)
    if len(big) == 0:
        return order
    off = np.zeros(len(uniq) + 1, dtype=_I64)
    np.cumsum(counts, out=off[1:])  # group g's rows are order[off[g]:off[g + 1]]
    parts, start = [], 0
    for g in big.tolist():
        a, b = int(off[g]), int(off[g + 1])
        rows = order[a:b]
        s = score[rows].tolist()
        pick = sorted(range(len(s)), key=s.__getitem__, reverse=True)[:max_dets]
        parts += [order[start:a], rows[np.array(pick, dtype=_I64)]]
        start = b
    parts.append(order[start:])
    return np.concatenate(parts)


def _complete(anns: list[Any], mode: str | None) -> None:
    """LVISResults' completion of result dicts, in place: area, a box polygon or box, id
    (loadRes's, without iscrowd)."""
    _complete_results(anns, mode, crowd=False)


def _top_level(src: LVIS) -> dict[str, Any]:
    """The ground truth's top-level values (annotations excluded), in its key order."""
    scanned = src._coco._columns()
    if scanned is not None:
        return {k: scanned.values[k] for k, _a, _b in scanned.keys or () if k != "annotations"}
    return {k: v for k, v in src.dataset.items() if k != "annotations"}


class LVISResults(LVIS):
    """lvis-api's LVISResults: detections (a JSON path or a list of dicts) on an LVIS ground
    truth, each image's cut to its ``max_dets`` highest-scoring ones (all when negative).

    A list of dicts is completed in place (``area``, ``id``, a box polygon or a box), as in
    lvis-api.
    """

    def __init__(self, lvis_gt: Any, results: Any, max_dets: int = 300) -> None:
        if isinstance(lvis_gt, LVIS):
            gt = lvis_gt
        elif isinstance(lvis_gt, (*_PathTypes, dict)):
            gt = LVIS(lvis_gt)
        else:
            raise LVISTypeError(f"Unsupported type {lvis_gt} of lvis_gt.")
        self.logger = logging.getLogger(__name__)
        self.logger.info("Loading and preparing results.")
        self._gt = gt
        self._rows: np.ndarray | None = None  # the kept rows of a scanned file, capped order
        if isinstance(results, _PathTypes):
            data = _read(results)
            with gc_paused():
                coco = self._scanned(gt, data, max_dets)
            if coco is None:
                self._from_list(gt, loads(data), max_dets)
            else:
                self._coco = coco
        else:
            self.logger.warning("Assuming user provided the results in correct format.")
            self._from_list(gt, results, max_dets)
        self.imgs, self.cats = self._coco.imgs, self._coco.cats

    def _from_list(self, gt: LVIS, anns: Any, max_dets: int) -> None:
        if not isinstance(anns, list):
            raise LVISFormatError("results is not a list.")
        with gc_paused():
            try:
                if max_dets >= 0:
                    anns = _capped(anns, max_dets)
                if anns:
                    first = anns[0]
                    _complete(anns, _mode("bbox" in first, "segmentation" in first))
                in_results = {a["image_id"] for a in anns}
            except KeyError as exc:
                raise _missing(exc, "result") from None
            if not in_results <= set(gt.imgs):
                raise LVISFormatError("Results do not correspond to current LVIS set.")
            dataset = _top_level(gt)
            dataset["annotations"] = anns
            self._coco = _indexed(dataset)

    def _scanned(self, gt: LVIS, data: bytes, max_dets: int) -> COCO | None:
        """The results as the scanner's columns, capped and completed as columns; None
        where the dict path must run (it gives lvis-api's behaviour and errors)."""
        f = scan_results(data)
        if f is None or not f.has("score").all() or \
                not all(type(k) is int for k in gt.imgs):
            return None
        img = f.ints("image_id")
        rows = _capped_rows(img, f.floats("score"), max_dets) if max_dets >= 0 else \
            np.arange(f.n, dtype=_I64)
        if len(rows) == 0:
            return None
        has_bbox, has_segm = f.has("bbox"), f.has("segmentation")
        first, head = int(rows[0]), 0
        mode = _mode(bool(has_bbox[first]), bool(has_segm[first]))
        # the completion below reads the file's first row, lvis-api its first kept one
        if mode is None or mode != _mode(bool(has_bbox[head]), bool(has_segm[head])) or \
                (mode == "bbox" and f.bbox_len()[head] == 0):
            return None
        keys = np.array(list(gt.imgs), dtype=_I64)
        if not np.isin(img[rows], keys).all():
            raise LVISFormatError("Results do not correspond to current LVIS set.")
        res = _silent_coco()
        res.dataset["info"] = {}
        res.dataset["images"] = list(gt._coco._top("images"))
        if not gt._coco._hold_results(res, f):
            return None
        ids = np.zeros(f.n, dtype=_I64)
        ids[rows] = np.arange(1, len(rows) + 1, dtype=_I64)
        f.ids = ids
        self._rows = rows
        self._mode_kept = mode
        return res

    def _lazy(self, alias: str) -> Any:
        return getattr(self._dicts(), alias)

    def _dicts(self) -> COCO:
        if self._rows is None:
            return self._coco
        if "_built" not in self.__dict__:
            self._build()
        return self.__dict__["_built"]

    def _build(self) -> None:
        """The dicts lvis-api holds, from the held file: parsed, capped, completed."""
        f = self._coco._columns()
        assert f is not None and self._rows is not None
        with gc_paused():
            every = f.annotations()
            anns = [every[j] for j in self._rows.tolist()]
            _complete(anns, self._mode_kept)
            dataset = _top_level(self._gt)
            dataset["annotations"] = anns
            self._built = _indexed(dataset)

    def limit_dets_per_image(self, anns: list[Any], max_dets: int) -> list[Any]:
        """Each image's max_dets highest-scoring results (lvis-api's cut)."""
        return _capped(anns, max_dets)

    def get_top_results(self, img_id: Any, score_thrs: float) -> list[Any]:
        """The image's results scoring above score_thrs."""
        return [a for a in self.load_anns(self.get_ann_ids(img_ids=[img_id]))
                if a["score"] > score_thrs]


# ---------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------

class Params:
    """lvis-api's evaluation parameters (``bbox`` or ``segm``)."""

    def __init__(self, iou_type: str) -> None:
        coco = _CocoParams("bbox")  # the same threshold, recall and area defaults
        self.img_ids: list[Any] = []
        self.cat_ids: list[Any] = []
        self.iou_thrs = coco.iouThrs
        self.rec_thrs = coco.recThrs
        self.max_dets = 300
        self.area_rng = coco.areaRng
        self.area_rng_lbl = coco.areaRngLbl
        self.use_cats = 1
        #: frequency groups: rare (< 10 training images), common (< 100), frequent
        self.img_count_lbl = ["r", "c", "f"]
        self.iou_type = iou_type


class _GtSide:
    """The ground-truth side of the cells: a selected side with LVIS's columns (the ignore
    flag, no crowd, area, id)."""

    def __init__(self, side: Any, columns: tuple[np.ndarray, ...]) -> None:
        self.side, self.columns = side, columns

    def __len__(self) -> int:
        return len(self.side)

    def take(self, perm: np.ndarray) -> _GtSide:
        return _GtSide(self.side.take(perm), tuple(c[perm] for c in self.columns))

    def gt_columns(self, keypoints: bool) -> tuple[np.ndarray, ...]:
        return self.columns

    def __getattr__(self, name: str) -> Any:  # box_source, strings, string_source, rles
        return getattr(self.side, name)


class _DtSide:
    """The detection side: a selected side and each detection's not-exhaustive flag."""

    def __init__(self, side: Any, flag: np.ndarray) -> None:
        self.side, self.flag = side, flag

    def __len__(self) -> int:
        return len(self.side)

    def take(self, perm: np.ndarray) -> _DtSide:
        return _DtSide(self.side.take(perm), self.flag[perm])

    def __getattr__(self, name: str) -> Any:  # scores, dt_columns, box_source, strings, ...
        return getattr(self.side, name)


def _member(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Which keys are in the (unsorted) int64 table."""
    if len(table) == 0 or len(keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    table = np.sort(table)
    pos = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    return table[pos] == keys


class _Selection:
    """One side's annotations as lvis-api's _prepare selects them: the side, and each one's
    image and category position."""

    def __init__(self, src: LVIS, cp: _CocoParams, threads: int | None, columns: bool,
                 rows: np.ndarray | None) -> None:
        n_img = len(cp.imgIds)
        got = _ScanSide.select(src._coco, cp, threads) if columns else None
        if got is not None:
            side, cells = got
            if rows is not None:  # capped results: the kept rows, in their capped order
                rank = src._coco._columns().ids[side.rows]
                keep = np.flatnonzero(rank > 0)
                keep = keep[np.argsort(rank[keep], kind="stable")]
                side, cells = side.take(keep), cells[keep]
            self.area = side._floats("area")
        else:
            coco = src._dicts()
            anns = _selected(coco, cp)
            img_pos = {v: i for i, v in reversed(list(enumerate(cp.imgIds)))}
            cat_pos = {v: k for k, v in enumerate(cp.catIds)}
            cells_list = [cat_pos[a["category_id"]] * n_img + img_pos[a["image_id"]]
                          for a in anns]
            side = _DictSide(coco, anns)
            cells = np.array(cells_list, dtype=_I64)
            try:
                self.area = _numbers([a["area"] for a in anns], "area")
            except KeyError as exc:
                raise _missing(exc, "annotation") from None
        # get_ann_ids' default area range: 0 < area < inf
        keep = np.flatnonzero((self.area > 0) & (self.area < np.inf))
        if len(keep) < len(side):
            side, cells, self.area = side.take(keep), cells[keep], self.area[keep]
        self.side = side
        self.k, self.i = np.divmod(cells, n_img) if n_img else (cells, cells)

    def gt_side(self) -> _GtSide:
        side = self.side
        if isinstance(side, _ScanSide):
            if b'"ignore"' in side.f.data:  # a key the scanner does not read
                raise _Fallback("ignore")
            ign = np.zeros(len(side), dtype=np.uint8)
            ids = side._ids()
        else:
            try:
                ign = np.array([bool(g.get("ignore", 0)) for g in side.anns],
                               dtype=np.uint8).reshape(-1)
                ids = _numbers([g["id"] for g in side.anns], "id")
            except KeyError as exc:
                raise _missing(exc, "annotation") from None
        zeros = np.zeros(len(side), dtype=np.uint8)
        return _GtSide(side, (ign, zeros, self.area, ids))


def _pair_keys(imgs: dict[Any, Any], img_ids: list[Any], cat_pos: dict[Any, int],
               field: str) -> np.ndarray:
    """image position * K + category position of every category an image lists in field."""
    K = len(cat_pos)
    out: list[int] = []
    try:
        for i, img_id in enumerate(img_ids):
            for c in imgs[img_id][field]:
                k = cat_pos.get(c)
                if k is not None:
                    out.append(i * K + k)
    except KeyError as exc:
        raise _missing(exc, f"image {img_id!r}") from None
    except TypeError as exc:
        raise LVISFieldError(f"image {img_id!r}: {field} must be a list of ids: {exc}") from None
    return np.array(out, dtype=_I64)


class LVISEval:
    """lvis-api's LVISEval: federated ``bbox`` or ``segm`` evaluation of LVISResults.

    Parameters
    ----------
    lvis_gt : LVIS, str or os.PathLike (or a dataset dict)
    lvis_dt : LVISResults, str, os.PathLike or list of result dicts
        A path or a list is read with ``LVISResults(lvis_gt, lvis_dt)`` (300 per image).
    iou_type : {"segm", "bbox"}
    threads : int, optional
        Worker threads of the kernels (default: every core).
    """

    def __init__(self, lvis_gt: Any, lvis_dt: Any, iou_type: str = "segm", *,
                 threads: int | None = None) -> None:
        threads = threads_arg(threads)
        self.logger = logging.getLogger(__name__)
        if iou_type not in ("bbox", "segm"):
            raise EvaluationError(f"iou_type: {iou_type} is not supported.")
        if isinstance(lvis_gt, LVIS):
            self.lvis_gt = lvis_gt
        elif isinstance(lvis_gt, (*_PathTypes, dict)):
            self.lvis_gt = LVIS(lvis_gt)
        else:
            raise LVISTypeError(f"Unsupported type {lvis_gt} of lvis_gt.")
        if isinstance(lvis_dt, LVISResults):
            self.lvis_dt = lvis_dt
        elif isinstance(lvis_dt, (*_PathTypes, list)):
            self.lvis_dt = LVISResults(self.lvis_gt, lvis_dt)
        else:
            raise LVISTypeError(f"Unsupported type {lvis_dt} of lvis_dt.")
        self.threads = threads
        self.eval: dict[str, Any] = {}
        self.params = Params(iou_type=iou_type)
        self.results: OrderedDict[str, Any] = OrderedDict()
        self.params.img_ids = sorted(self.lvis_gt.get_img_ids())
        self.params.cat_ids = sorted(self.lvis_gt.get_cat_ids())
        self.freq_groups: list[list[int]] = []
        self._cells: Any = None
        self._evaluated: tuple[Any, ...] | None = None

    # -- evaluate ------------------------------------------------------------------------------
    def _prepare_freq_group(self) -> list[list[int]]:
        p = self.params
        groups: list[list[int]] = [[] for _ in p.img_count_lbl]
        for n, cat in enumerate(self.lvis_gt.load_cats(p.cat_ids)):
            try:
                freq = cat["frequency"]
            except KeyError as exc:
                raise _missing(exc, f"category {cat.get('id')!r}") from None
            if freq not in p.img_count_lbl:
                raise EvaluationError(f"category {cat.get('id')!r}: frequency {freq!r} is "
                                      f"not one of {p.img_count_lbl}")
            groups[p.img_count_lbl.index(freq)].append(n)
        return groups

    def _coco_params(self, ucats: list[Any]) -> _CocoParams:
        p = self.params
        cp = _CocoParams("bbox")
        cp.iouType = p.iou_type
        cp.imgIds = list(p.img_ids)
        cp.catIds = ucats
        cp.iouThrs = p.iou_thrs
        cp.areaRng = p.area_rng
        cp.maxDets = [sys.maxsize]  # no cut: LVISResults made it
        cp.useCats = 1
        return cp

    def _lay_out(self, cp: _CocoParams, columns: bool) -> _Cells:
        gt, dt = self.lvis_gt, self.lvis_dt
        g = _Selection(gt, cp, self.threads, columns, None)
        d = _Selection(dt, cp, self.threads, columns, dt._rows)
        n_img, K = len(cp.imgIds), len(cp.catIds)
        cat_pos = {c: k for k, c in enumerate(cp.catIds)}
        # federated: a detection counts where its category is in the image's ground truth
        # or among its negative categories
        present = g.i * K + g.k
        neg = _pair_keys(gt.imgs, cp.imgIds, cat_pos, "neg_category_ids")
        nel = _pair_keys(gt.imgs, cp.imgIds, cat_pos, "not_exhaustive_category_ids")
        dkey = d.i * K + d.k
        keep = np.flatnonzero(_member(dkey, np.concatenate([present, neg])))
        flag = _member(dkey[keep], nel).astype(np.uint8)
        gside = g.gt_side()
        dside = _DtSide(d.side.take(keep), flag)
        cells = _Cells(self, cp, sides=((gside, g.k * n_img + g.i),
                                        (dside, (d.k * n_img + d.i)[keep])))
        _core.lvis_ignore_unmatched(cells.state, cells.summary,
                                    np.ascontiguousarray(cells.dts.flag), cells.T,
                                    len(cells.area_rngs))
        return cells

    def evaluate(self) -> None:
        """Match detections to ground truth for every image, category and area range."""
        self.logger.info("Running per image evaluation.")
        self.logger.info(f"Evaluate annotation type *{self.params.iou_type}*")
        p = self.params
        p.img_ids = list(sorted_unique(p.img_ids))
        self.lvis_gt.load_imgs(p.img_ids)  # lvis-api's lookup: an unknown image fails here
        ucats = [c for c in sorted_unique(p.cat_ids).tolist()] if len(p.cat_ids) else []
        cp = self._coco_params(ucats)
        cells = None
        if len(p.img_ids) and ucats:
            with gc_paused():
                try:
                    cells = self._lay_out(cp, True)
                except _Fallback:  # the columns cannot say what the dicts would
                    try:
                        cells = self._lay_out(cp, False)
                    except KeyError as exc:
                        raise _missing(exc, "annotation") from None
        self.freq_groups = self._prepare_freq_group()
        if not p.use_cats:
            cells = None  # lvis-api looks up (image, -1) for every category: always empty
        self._cells = cells
        self._evaluated = (len(p.iou_thrs), tuple(p.area_rng_lbl), len(p.area_rng),
                           len(p.img_ids), list(p.cat_ids), bool(p.use_cats), ucats)
        self.eval = {}

    # -- accumulate ----------------------------------------------------------------------------
    def accumulate(self) -> None:
        """Precision per threshold, recall level, category and area range, and recall per
        threshold, category and area range (``eval``)."""
        self.logger.info("Accumulating evaluation results.")
        p = self.params
        cat_ids = p.cat_ids if p.use_cats else [-1]
        T, R, K, A = len(p.iou_thrs), len(p.rec_thrs), len(cat_ids), len(p.area_rng)
        n_img = len(p.img_ids)
        precision = np.full((T, R, K, A), -1.0)
        recall = np.full((T, K, A), -1.0)
        if self._evaluated is None:
            self.logger.warning("Please run evaluate first.")
            if K * A * n_img:  # lvis-api indexes its empty per-image list and fails
                raise LVISOrderError("Please run evaluate() first.")
        else:
            t0, _lbl, a0, i0, cats0, use0, ucats = self._evaluated
            if (t0, a0, i0) != (T, A, n_img) or (use0 and list(p.cat_ids) != cats0):
                raise EvaluationError("accumulate: params changed since evaluate() (iou_thrs, "
                                      "area_rng, img_ids or cat_ids)")
            if self._cells is not None:
                self._accumulate(self._cells, ucats, precision, recall)
        self.eval = {
            "params": p,
            "counts": [T, R, K, A],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
        }

    def _accumulate(self, cells: _Cells, ucats: list[Any], precision: np.ndarray,
                    recall: np.ndarray) -> None:
        p = self.params
        T, R, K, A = precision.shape
        Ku, n_img = len(ucats), cells.I
        rec = np.ascontiguousarray(p.rec_thrs, dtype=_F64).reshape(-1)
        if len(rec) != R:
            raise EvaluationError("accumulate: rec_thrs must be one-dimensional")
        prec_u = np.full(T * R * Ku * A, -1.0)
        rec_u = np.full(T * Ku * A, -1.0)
        scores = np.full(T * R * Ku * A, -1.0)  # pycocotools' scores: computed, not kept
        base_k = np.arange(Ku, dtype=_I64) * (A * n_img)
        base_a = np.arange(A, dtype=_I64) * n_img
        m_arr = np.array([sys.maxsize], dtype=_I64)
        i_arr = np.arange(n_img, dtype=_I64)
        nparts = resolve_threads(self.threads, max(Ku, 1))

        def part(j0: int, j1: int) -> int:
            return min(int(_core.eval_accumulate(
                cells.cell_id, cells.doff, cells.dlen, cells.state, cells.summary, cells.npig,
                cells.dscore, cells.T, cells.A0, cells.I0, cells.n_dense, base_k, base_a, m_arr,
                i_arr, True, rec, prec_u, rec_u, scores, Ku, A, 1, j, Ku, nparts))
                for j in range(j0, j1))

        codes = run_parts(part, nparts, nparts)
        if min(codes) < 0:  # pragma: no cover - the layout is ours
            raise EvaluationError("accumulate: an entry outside the evaluated cells")
        prec_u4 = prec_u.reshape(T, R, Ku, A)
        rec_u3 = rec_u.reshape(T, Ku, A)
        if list(p.cat_ids) == ucats:
            precision[...] = prec_u4
            recall[...] = rec_u3
        else:  # repeated or unsorted cat_ids: each position reads its category's column
            pos = np.searchsorted(np.array(ucats), np.array(p.cat_ids))
            precision[...] = prec_u4[:, :, pos]
            recall[...] = rec_u3[:, pos]

    # -- summarize -----------------------------------------------------------------------------
    def _summarize(self, summary_type: str, iou_thr: float | None = None,
                   area_rng: str = "all", freq_group_idx: int | None = None) -> Any:
        p = self.params
        aidx = [n for n, lbl in enumerate(p.area_rng_lbl) if lbl == area_rng]
        key = "precision" if summary_type == "ap" else "recall"
        s = self.eval[key]
        if iou_thr is not None:
            s = s[np.where(iou_thr == p.iou_thrs)[0]]
        if key == "recall":
            s = s[:, :, aidx]
        elif freq_group_idx is None:
            s = s[:, :, :, aidx]
        else:
            s = s[:, :, self.freq_groups[freq_group_idx], aidx]
        valid = s[s > -1]
        return -1 if len(valid) == 0 else np.mean(valid)

    def summarize(self) -> None:
        """AP, AP50, AP75, APs/m/l, APr/c/f, AR@max_dets and ARs/m/l@max_dets (``results``)."""
        if not self.eval:
            raise LVISOrderError("Please run accumulate() first.")
        md = self.params.max_dets
        r = self.results
        r["AP"] = self._summarize("ap")
        r["AP50"] = self._summarize("ap", iou_thr=0.50)
        r["AP75"] = self._summarize("ap", iou_thr=0.75)
        for name, area in (("APs", "small"), ("APm", "medium"), ("APl", "large")):
            r[name] = self._summarize("ap", area_rng=area)
        for n, name in enumerate(("APr", "APc", "APf")):
            r[name] = self._summarize("ap", freq_group_idx=n)
        r[f"AR@{md}"] = self._summarize("ar")
        for area in ("small", "medium", "large"):
            r[f"AR{area[0]}@{md}"] = self._summarize("ar", area_rng=area)

    def run(self) -> None:
        """evaluate(), accumulate() and summarize()."""
        self.evaluate()
        self.accumulate()
        self.summarize()

    def print_results(self) -> None:
        """Print one line per result, in lvis-api's format."""
        p = self.params
        for key, value in self.results.items():
            title, kind = ("Average Precision", "(AP)") if "AP" in key else \
                ("Average Recall", "(AR)")
            third = key[2] if len(key) > 2 else ""
            if third.isdigit():
                iou = f"{float(key[2:]) / 100:0.2f}"
            else:
                iou = f"{p.iou_thrs[0]:0.2f}:{p.iou_thrs[-1]:0.2f}"
            group = third if third in ("r", "c", "f") else "all"
            area = third if third in ("s", "m", "l") else "all"
            print(f" {title:<18} {kind} @[ IoU={iou:<9} | area={area:>6s} | "
                  f"maxDets={p.max_dets:>3d} catIds={group:>3s}] = {value:0.3f}")

    def get_results(self) -> OrderedDict[str, Any]:
        """``results`` (empty, with a warning, before run())."""
        if not self.results:
            self.logger.warning("results is empty. Call run().")
        return self.results

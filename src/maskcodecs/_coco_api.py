"""``COCO``: pycocotools' annotation index, with the same names, results and printed lines.

Re-exported as :class:`maskcodecs.coco.COCO`. The mask work (``annToRLE``, ``loadRes`` of
segmentation results) runs on :mod:`maskcodecs.mask`. A file is read by the kernel's JSON
scanner into annotation columns (:mod:`maskcodecs._coco_scan`), which evaluation reads
directly; the annotation dicts (``dataset``, ``anns``, ``imgToAnns``, ``catToImgs``) are
parsed from the file, with orjson where it is installed, only when first read.
"""
from __future__ import annotations

import contextlib
import copy
import gc
import itertools
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs import mask as _mask
from maskcodecs._coco_scan import (
    ScannedFile,
    all_members,
    loads,
    rle_spans,
    scan_dataset,
    scan_results,
)
from maskcodecs.errors import COCOFormatError, FormatError

__all__ = ["COCO", "load_json", "gc_paused"]

_MATERIALISE_LOCK = threading.RLock()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a block builds many objects.

    Parsing a COCO file and indexing it create hundreds of thousands of dicts and lists, none
    of them in a reference cycle; the collector would walk them again and again as they
    accumulate (about 40% of orjson's time on a 21 MB file). It is switched back on after the
    block only if it was on before."""
    was_on = gc.isenabled()
    if was_on:
        gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def load_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file with orjson when available (falling back to :mod:`json` for what
    orjson refuses but the standard library reads: NaN, Infinity, integers beyond 64 bits)."""
    with open(path, "rb") as f:
        return loads(f.read())


def _is_array_like(obj: Any) -> bool:
    # pycocotools' rule: anything with both __iter__ and __len__ (a str included)
    return hasattr(obj, "__iter__") and hasattr(obj, "__len__")


def _as_list(obj: Any) -> Any:
    return obj if _is_array_like(obj) else [obj]


def _members(values: Any) -> Any:
    """A container with the membership of ``values`` (a set when every element hashes)."""
    try:
        return set(values)
    except TypeError:
        return values


class COCO:
    """The COCO annotation index of pycocotools, for a file path, a dict or nothing.

    Parameters
    ----------
    annotation_file : str, os.PathLike, dict or None
        A COCO JSON file (read and indexed, printing pycocotools' lines), a dataset dict
        (indexed in place, not copied) or None (an empty index).

    Examples
    --------
    >>> from maskcodecs.coco import COCO
    >>> gt = COCO({"images": [{"id": 1, "height": 4, "width": 4}], "categories": [{"id": 3}],
    ...            "annotations": [{"id": 9, "image_id": 1, "category_id": 3,
    ...                             "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 0}]})
    creating index...
    index created!
    >>> gt.getAnnIds(imgIds=[1]), gt.getCatIds()
    ([9], [3])
    """

    #: attributes built from the file only when first read (see maskcodecs._coco_scan)
    _LAZY = frozenset(("dataset", "anns", "imgToAnns", "catToImgs"))

    def __init__(self, annotation_file: Any = None) -> None:
        self.dataset: dict[str, Any] = {}
        self.anns: dict[Any, Any] = {}
        self.cats: dict[Any, Any] = {}
        self.imgs: dict[Any, Any] = {}
        self.imgToAnns: defaultdict[Any, list[Any]] = defaultdict(list)
        self.catToImgs: defaultdict[Any, list[Any]] = defaultdict(list)
        if annotation_file is None:
            return
        with gc_paused():
            self._read(annotation_file)

    def _read(self, annotation_file: Any) -> None:
        if isinstance(annotation_file, dict):
            dataset: Any = annotation_file
        else:
            print("loading annotations into memory...")
            tic = time.time()
            with open(annotation_file, "rb") as f:
                data = f.read()
            scanned = scan_dataset(data)
            if scanned is not None:
                print(f"Done (t={time.time() - tic:0.2f}s)")
                print("creating index...")
                self._hold(scanned)
                print("index created!")
                return
            dataset = loads(data)
            if type(dataset) is not dict:
                raise COCOFormatError(
                    f"annotation file format {type(dataset)} not supported")
            print(f"Done (t={time.time() - tic:0.2f}s)")
        self.dataset = dataset
        self.createIndex()

    # -- the file held as columns --------------------------------------------------------------
    def _hold(self, scanned: ScannedFile) -> None:
        """Keep a scanned file: images and categories indexed now, the annotations' dicts and
        indexes (the _LAZY attributes) built from it when first read."""
        for name in self._LAZY:
            self.__dict__.pop(name, None)
        values = scanned.values
        imgs: dict[Any, Any] = {}
        cats: dict[Any, Any] = {}
        for img in values.get("images", ()):
            imgs[img["id"]] = img
        for cat in values.get("categories", ()):
            cats[cat["id"]] = cat
        self.imgs, self.cats = imgs, cats
        self._scanned: ScannedFile | None = scanned

    def __getattr__(self, name: str) -> Any:
        # reached only for attributes that are not set: the _LAZY ones of a held file
        if name in COCO._LAZY and self.__dict__.get("_scanned") is not None:
            with _MATERIALISE_LOCK:  # two threads reading at once build the dicts once
                if self.__dict__.get("_scanned") is not None:
                    self._materialise()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _materialise(self) -> None:
        """Parse the held file into the dicts pycocotools would hold (attributes the user
        assigned meanwhile are kept)."""
        scanned = self.__dict__.pop("_scanned")
        with gc_paused():
            if scanned.keys is None:  # results: completed as loadRes completes them
                anns = scanned.annotations()
                _complete_results(anns, _results_mode(anns[0]))
                dataset = dict(scanned.values)
                dataset["annotations"] = anns
            else:
                dataset = scanned.dataset()
            anns_index, img_to_anns = _index_annotations(dataset)
            built = (dataset, anns_index, img_to_anns, _cat_to_imgs(dataset))
        for name, value in zip(("dataset", "anns", "imgToAnns", "catToImgs"), built):
            self.__dict__.setdefault(name, value)

    def _columns(self) -> ScannedFile | None:
        """The held file's columns, while no dict has been built from it (None otherwise)."""
        return self.__dict__.get("_scanned")

    def _top(self, key: str) -> Any:
        """dataset[key] (a KeyError where it is missing), without building the annotations."""
        scanned = self.__dict__.get("_scanned")
        return scanned.values[key] if scanned is not None else self.dataset[key]

    def _top_get(self, key: str, default: Any) -> Any:
        try:
            return self._top(key)
        except KeyError:
            return default

    # -- index ---------------------------------------------------------------------------------
    def createIndex(self) -> None:
        """Build ``anns``, ``imgs``, ``cats``, ``imgToAnns`` and ``catToImgs`` from ``dataset``."""
        print("creating index...")
        ds = self.dataset
        anns, img_to_anns = _index_annotations(ds)
        cats: dict[Any, Any] = {}
        imgs: dict[Any, Any] = {}
        if "images" in ds:
            for img in ds["images"]:
                imgs[img["id"]] = img
        if "categories" in ds:
            for cat in ds["categories"]:
                cats[cat["id"]] = cat
        cat_to_imgs = _cat_to_imgs(ds)
        print("index created!")
        self.anns, self.cats, self.imgs = anns, cats, imgs
        self.imgToAnns, self.catToImgs = img_to_anns, cat_to_imgs

    def info(self) -> None:
        """Print each ``key: value`` of the dataset's ``info``."""
        for key, value in self.dataset["info"].items():
            print(f"{key}: {value}")

    # -- queries -------------------------------------------------------------------------------
    def getAnnIds(self, imgIds: Any = [], catIds: Any = [], areaRng: Any = [],  # noqa: B006
                  iscrowd: Any = None) -> list[Any]:
        """Ids of the annotations on ``imgIds`` (in that order), of ``catIds``, with
        ``areaRng[0] < area < areaRng[1]`` and ``iscrowd`` (each filter only when given)."""
        imgIds = _as_list(imgIds)
        catIds = _as_list(catIds)
        anns: Iterable[Any]
        if len(imgIds) == 0 and len(catIds) == 0 and len(areaRng) == 0:
            anns = self.dataset["annotations"]
        else:
            if len(imgIds) != 0:
                index = self.imgToAnns
                anns = list(itertools.chain.from_iterable(
                    index[i] for i in imgIds if i in index))
            else:
                anns = self.dataset["annotations"]
            if len(catIds) != 0:
                wanted = _members(catIds)
                anns = [a for a in anns if a["category_id"] in wanted]
            if len(areaRng) != 0:
                lo, hi = areaRng[0], areaRng[1]
                anns = [a for a in anns if a["area"] > lo and a["area"] < hi]
        if iscrowd is not None:
            return [a["id"] for a in anns if a["iscrowd"] == iscrowd]
        return [a["id"] for a in anns]

    def getCatIds(self, catNms: Any = [], supNms: Any = [], catIds: Any = []) -> list[Any]:  # noqa: B006
        """Ids of the categories named ``catNms``, under ``supNms``, among ``catIds``."""
        catNms = _as_list(catNms)
        supNms = _as_list(supNms)
        catIds = _as_list(catIds)
        cats = self._top("categories")
        if len(catNms) != 0:
            cats = [c for c in cats if c["name"] in catNms]
        if len(supNms) != 0:
            cats = [c for c in cats if c["supercategory"] in supNms]
        if len(catIds) != 0:
            cats = [c for c in cats if c["id"] in catIds]
        return [c["id"] for c in cats]

    def getImgIds(self, imgIds: Any = [], catIds: Any = []) -> list[Any]:  # noqa: B006
        """Ids of ``imgIds`` holding every category of ``catIds`` (all images if both empty)."""
        imgIds = _as_list(imgIds)
        catIds = _as_list(catIds)
        if len(imgIds) == 0 and len(catIds) == 0:
            return list(self.imgs.keys())
        ids = set(imgIds)
        for i, cat_id in enumerate(catIds):
            if i == 0 and len(ids) == 0:
                ids = set(self.catToImgs[cat_id])
            else:
                ids &= set(self.catToImgs[cat_id])
        return list(ids)

    @staticmethod
    def _load(table: dict[Any, Any], ids: Any) -> list[Any] | None:
        if _is_array_like(ids):
            return [table[i] for i in ids]
        if type(ids) is int:
            return [table[ids]]
        return None

    def loadAnns(self, ids: Any = []) -> list[Any] | None:  # noqa: B006
        """The annotations with these ids (a list for a list, or for one Python int)."""
        return self._load(self.anns, ids)

    def loadCats(self, ids: Any = []) -> list[Any] | None:  # noqa: B006
        """The categories with these ids."""
        return self._load(self.cats, ids)

    def loadImgs(self, ids: Any = []) -> list[Any] | None:  # noqa: B006
        """The images with these ids."""
        return self._load(self.imgs, ids)

    # -- results -------------------------------------------------------------------------------
    def loadRes(self, resFile: Any) -> COCO:
        """A new ``COCO`` of results (a JSON path, a list of dicts or an Nx7 array) on this
        ground truth's images, completed the way pycocotools does (ids, area, bbox, iscrowd).

        A list of dicts is completed in place, as in pycocotools.
        """
        with gc_paused():
            return self._load_res(resFile)

    def _load_res(self, resFile: Any) -> COCO:
        res = COCO()
        res.dataset["info"] = copy.deepcopy(self._top_get("info", {}))
        res.dataset["images"] = list(self._top("images"))
        print("Loading and preparing results...")
        tic = time.time()
        if isinstance(resFile, (str, os.PathLike)):
            with open(resFile, "rb") as f:
                data = f.read()
            scanned = scan_results(data)
            if scanned is not None and self._hold_results(res, scanned):
                print(f"DONE (t={time.time() - tic:0.2f}s)")
                print("creating index...")
                print("index created!")
                return res
            anns = scanned.annotations() if scanned is not None else loads(data)
        elif type(resFile) is np.ndarray:
            anns = self.loadNumpyAnnotations(resFile)
        else:
            anns = resFile
        if type(anns) is not list:
            raise COCOFormatError("results in not an array of objects")
        res_img_ids = {a["image_id"] for a in anns}
        if not res_img_ids <= set(self.getImgIds()):
            raise COCOFormatError("Results do not correspond to current coco set")
        mode = _results_mode(anns[0])
        if mode == "caption":
            keep = {img["id"] for img in res.dataset["images"]} & res_img_ids
            res.dataset["images"] = [img for img in res.dataset["images"] if img["id"] in keep]
        elif mode is not None:
            res.dataset["categories"] = copy.deepcopy(self._top("categories"))
        _complete_results(anns, mode)
        print(f"DONE (t={time.time() - tic:0.2f}s)")
        res.dataset["annotations"] = anns
        res.createIndex()
        return res

    def _hold_results(self, res: COCO, f: ScannedFile) -> bool:
        """Complete scanned results as columns (loadRes's ids, area, bbox, iscrowd) and hold
        them in res; False where the ordinary path must run (it gives the same errors)."""
        img_keys = list(self.imgs)
        if not all(type(k) is int for k in img_keys):
            return False
        if f.has("caption")[0]:
            return False
        if not all_members(f.ints("image_id"), np.array(img_keys, dtype=np.int64)):
            raise COCOFormatError("Results do not correspond to current coco set")
        n = f.n
        if f.has("bbox")[0] and f.bbox_len()[0] != 0:
            if not f.boxes_ok():
                return False
            box = f.boxes()
            f.area = box[:, 2] * box[:, 3]
        elif f.has("segmentation")[0]:
            if not f.has("segmentation").all():
                return False
            with_box = f.has("bbox")
            if not (f.bbox_len()[with_box] == 4).all():
                return False
            if not (_rle_columns(f, with_box) or _segm_dicts(f, with_box)):
                return False
        elif f.has("keypoints")[0]:
            if not f.has("keypoints").all():
                return False
            kps = f.number_rows("keypoints", np.arange(n))
            got = _keypoint_boxes(kps) if kps is not None else None
            if got is None:
                return False
            f.area, f.bbox = got
            f.kps = kps
        else:
            return False
        return self._held(res, f)

    def _held(self, res: COCO, f: ScannedFile) -> bool:
        """Number the completed results 1..n and hold them in res."""
        f.ids = np.arange(1, f.n + 1, dtype=np.int64)
        values = {"info": res.dataset["info"], "images": res.dataset["images"],
                  "categories": copy.deepcopy(self._top("categories"))}
        f.values = values
        res._hold(f)
        return True

    def loadNumpyAnnotations(self, data: np.ndarray) -> list[dict[str, Any]]:
        """Rows ``(image_id, x, y, w, h, score, category_id)`` as result dicts."""
        print("Converting ndarray to lists...")
        if type(data) is not np.ndarray:
            raise COCOFormatError("loadNumpyAnnotations needs a numpy array")
        print(data.shape)
        if data.ndim != 2 or data.shape[1] != 7:
            raise COCOFormatError(f"results array must be N x 7, got shape {data.shape}")
        n = data.shape[0]
        out = []
        for i in range(n):
            if i % 1000000 == 0:
                print(f"{i}/{n}")
            row = data[i]
            out.append({"image_id": int(row[0]), "bbox": [row[1], row[2], row[3], row[4]],
                        "score": row[5], "category_id": int(row[6])})
        return out

    # -- masks ---------------------------------------------------------------------------------
    def annToRLE(self, ann: dict[str, Any]) -> Any:
        """The annotation's segmentation as one compressed RLE (pycocotools' annToRLE)."""
        img = self.imgs[ann["image_id"]]
        return ann_to_rle_sized(ann["segmentation"], img["height"], img["width"])

    def annToMask(self, ann: dict[str, Any]) -> np.ndarray:
        """The annotation's segmentation decoded to an (h, w) uint8 mask."""
        return _mask.decode(self.annToRLE(ann))

    def showAnns(self, anns: list[dict[str, Any]], draw_bbox: bool = False) -> Any:
        """Draw annotations on the current matplotlib axes (matplotlib is optional)."""
        from maskcodecs._coco_show import show_anns
        return show_anns(self, anns, draw_bbox)


def ann_to_rle_sized(segm: Any, h: Any, w: Any) -> Any:
    """pycocotools' annToRLE on a segmentation: polygons merged, uncompressed RLE compressed,
    compressed RLE returned as it is (the same object)."""
    if type(segm) is list:
        return _mask.merge(_mask.frPyObjects(segm, h, w))
    if type(segm["counts"]) is list:
        return _mask.frPyObjects(segm, h, w)
    return segm


_KP_EXACT = float(1 << 26)  # |coordinate| below this: keypoint box products are exact


def _index_annotations(ds: dict[str, Any]) -> tuple[dict[Any, Any], defaultdict[Any, list[Any]]]:
    """createIndex's anns and imgToAnns."""
    anns: dict[Any, Any] = {}
    img_to_anns: defaultdict[Any, list[Any]] = defaultdict(list)
    if "annotations" in ds:
        for ann in ds["annotations"]:
            img_to_anns[ann["image_id"]].append(ann)
            anns[ann["id"]] = ann
    return anns, img_to_anns


def _cat_to_imgs(ds: dict[str, Any]) -> defaultdict[Any, list[Any]]:
    """createIndex's catToImgs."""
    cat_to_imgs: defaultdict[Any, list[Any]] = defaultdict(list)
    if "annotations" in ds and "categories" in ds:
        for ann in ds["annotations"]:
            cat_to_imgs[ann["category_id"]].append(ann["image_id"])
    return cat_to_imgs


def _results_mode(first: dict[str, Any]) -> str | None:
    """How loadRes completes results, read off the first one (pycocotools' rule)."""
    if "caption" in first:
        return "caption"
    if "bbox" in first and not first["bbox"] == []:
        return "bbox"
    if "segmentation" in first:
        return "segm"
    if "keypoints" in first:
        return "keypoints"
    return None


def _complete_results(anns: list[Any], mode: str | None, crowd: bool = True) -> None:
    """loadRes's completion of result dicts, in place: ids, and area, bbox, iscrowd (unless
    not crowd: LVISResults' completion, which sets no iscrowd)."""
    if mode == "caption":
        for i, ann in enumerate(anns):
            ann["id"] = i + 1
    elif mode == "bbox":
        for i, ann in enumerate(anns):
            bb = ann["bbox"]
            if len(bb) < 4:
                raise FormatError(f"result {i}: bbox must be [x, y, w, h], got {bb!r}")
            x, y, w, h = bb[0], bb[1], bb[2], bb[3]
            if "segmentation" not in ann:
                x2, y2 = x + w, y + h
                ann["segmentation"] = [[x, y, x, y2, x2, y2, x2, y]]
            ann["area"] = w * h
            ann["id"] = i + 1
            if crowd:
                ann["iscrowd"] = 0
    elif mode == "segm":
        for i, ann in enumerate(anns):
            seg = ann["segmentation"]
            ann["area"] = _mask.area(seg)
            if "bbox" not in ann:
                ann["bbox"] = _mask.toBbox(seg)
            ann["id"] = i + 1
            if crowd:
                ann["iscrowd"] = 0
    elif mode == "keypoints":
        for i, ann in enumerate(anns):
            kp = ann["keypoints"]
            if isinstance(kp, np.ndarray) and kp.ndim == 2:
                kp = kp.reshape(-1)  # an (N, 3) array: its rows are the triples
            xs, ys = kp[0::3], kp[1::3]
            x0, x1, y0, y1 = np.min(xs), np.max(xs), np.min(ys), np.max(ys)
            ann["area"] = (x1 - x0) * (y1 - y0)
            ann["id"] = i + 1
            ann["bbox"] = [x0, y0, x1 - x0, y1 - y0]


def _keypoint_boxes(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """loadRes's keypoint area and bbox of an (n, L) float64 matrix of keypoint lists, as
    columns, where they are exactly what the per-result numpy code gives (at least one
    triple, coordinates of modest size: integer products stay exact); None otherwise."""
    if arr.ndim != 2:
        return None
    return _core.eval_keypoint_boxes(np.ascontiguousarray(arr, dtype=np.float64), _KP_EXACT)


def _segm_dicts(f: ScannedFile, with_box: np.ndarray) -> bool:
    """Segmentation results completed from their parsed dicts (what the kernel's RLE reader
    declines); False unless every one is a compressed RLE dict."""
    segs = f.spans("segmentation", np.arange(f.n))
    if not all(type(s) is dict and type(s.get("counts")) in (str, bytes)
               for s in segs):
        return False
    f.area = np.asarray(_mask.area(segs), dtype=np.float64).reshape(-1)
    box = f.boxes().copy()
    missing = np.flatnonzero(~with_box)
    if len(missing):
        box[missing] = np.asarray(_mask.toBbox([segs[j] for j in missing.tolist()]),
                                  dtype=np.float64).reshape(-1, 4)
    f.bbox, f.segs = box, segs
    return True


def _rle_columns(f: ScannedFile, with_box: np.ndarray) -> bool:
    """Compressed RLE results read from the file's bytes by the kernel: loadRes's area and
    missing boxes from their counts strings in one pass, the strings kept for the IoU; False
    unless every one is a plain {"size", "counts"} object with valid counts."""
    chars, off, h, w, ok = rle_spans(f.data, *f.span_columns("segmentation"))
    if not ok.all():
        return False
    area = np.empty(f.n, dtype=np.uint64)
    box = np.empty((f.n, 4), dtype=np.float64)
    if _core.strings_area_bbox(np.frombuffer(chars, dtype=np.uint8), off, h, w, area,
                               box) >= 0:
        return False  # an invalid string: the ordinary path raises the drop-in's error
    given = f.boxes()
    box[with_box] = given[with_box]
    f.area, f.bbox, f.rle = area.astype(np.float64), box, (chars, off, h, w)
    return True

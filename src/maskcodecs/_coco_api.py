"""``COCO``: pycocotools' annotation index, with the same names, results and printed lines.

Re-exported as :class:`maskcodecs.coco.COCO`. The mask work (``annToRLE``, ``loadRes`` of
segmentation results) runs on :mod:`maskcodecs.mask`; JSON is read with orjson where it is
installed (about 3x faster than the standard library on COCO files), else with :mod:`json`.
"""
from __future__ import annotations

import contextlib
import copy
import gc
import itertools
import json
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from maskcodecs import mask as _mask
from maskcodecs.errors import COCOFormatError, FormatError

__all__ = ["COCO", "load_json", "gc_paused"]

try:  # optional fast JSON parser
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised where orjson is absent
    _orjson = None


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
        data = f.read()
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass
    return json.loads(data)


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
            dataset = load_json(annotation_file)
            if type(dataset) is not dict:
                raise COCOFormatError(
                    f"annotation file format {type(dataset)} not supported")
            print(f"Done (t={time.time() - tic:0.2f}s)")
        self.dataset = dataset
        self.createIndex()

    # -- index ---------------------------------------------------------------------------------
    def createIndex(self) -> None:
        """Build ``anns``, ``imgs``, ``cats``, ``imgToAnns`` and ``catToImgs`` from ``dataset``."""
        print("creating index...")
        anns: dict[Any, Any] = {}
        cats: dict[Any, Any] = {}
        imgs: dict[Any, Any] = {}
        img_to_anns: defaultdict[Any, list[Any]] = defaultdict(list)
        cat_to_imgs: defaultdict[Any, list[Any]] = defaultdict(list)
        ds = self.dataset
        if "annotations" in ds:
            for ann in ds["annotations"]:
                img_to_anns[ann["image_id"]].append(ann)
                anns[ann["id"]] = ann
        if "images" in ds:
            for img in ds["images"]:
                imgs[img["id"]] = img
        if "categories" in ds:
            for cat in ds["categories"]:
                cats[cat["id"]] = cat
        if "annotations" in ds and "categories" in ds:
            for ann in ds["annotations"]:
                cat_to_imgs[ann["category_id"]].append(ann["image_id"])
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
        cats = self.dataset["categories"]
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
        res.dataset["info"] = copy.deepcopy(self.dataset.get("info", {}))
        res.dataset["images"] = list(self.dataset["images"])
        print("Loading and preparing results...")
        tic = time.time()
        if isinstance(resFile, (str, os.PathLike)):
            anns = load_json(resFile)
        elif type(resFile) is np.ndarray:
            anns = self.loadNumpyAnnotations(resFile)
        else:
            anns = resFile
        if type(anns) is not list:
            raise COCOFormatError("results in not an array of objects")
        res_img_ids = {a["image_id"] for a in anns}
        if not res_img_ids <= set(self.getImgIds()):
            raise COCOFormatError("Results do not correspond to current coco set")
        first = anns[0]
        if "caption" in first:
            keep = {img["id"] for img in res.dataset["images"]} & res_img_ids
            res.dataset["images"] = [img for img in res.dataset["images"] if img["id"] in keep]
            for i, ann in enumerate(anns):
                ann["id"] = i + 1
        elif "bbox" in first and not first["bbox"] == []:
            res.dataset["categories"] = copy.deepcopy(self.dataset["categories"])
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
                ann["iscrowd"] = 0
        elif "segmentation" in first:
            res.dataset["categories"] = copy.deepcopy(self.dataset["categories"])
            for i, ann in enumerate(anns):
                seg = ann["segmentation"]
                ann["area"] = _mask.area(seg)
                if "bbox" not in ann:
                    ann["bbox"] = _mask.toBbox(seg)
                ann["id"] = i + 1
                ann["iscrowd"] = 0
        elif "keypoints" in first:
            res.dataset["categories"] = copy.deepcopy(self.dataset["categories"])
            for i, ann in enumerate(anns):
                kp = ann["keypoints"]
                if isinstance(kp, np.ndarray) and kp.ndim == 2:
                    kp = kp.reshape(-1)  # an (N, 3) array: its rows are the triples
                xs, ys = kp[0::3], kp[1::3]
                x0, x1, y0, y1 = np.min(xs), np.max(xs), np.min(ys), np.max(ys)
                ann["area"] = (x1 - x0) * (y1 - y0)
                ann["id"] = i + 1
                ann["bbox"] = [x0, y0, x1 - x0, y1 - y0]
        print(f"DONE (t={time.time() - tic:0.2f}s)")
        res.dataset["annotations"] = anns
        res.createIndex()
        return res

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



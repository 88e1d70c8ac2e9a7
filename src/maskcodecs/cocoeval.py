"""``COCOeval``: pycocotools' COCO evaluation, bit-identical and native.

The same class, parameters, attributes and printed lines as ``pycocotools.cocoeval`` 2.0.11,
for ``bbox``, ``segm`` and ``keypoints``. ``evaluate()`` lays the annotations out per
(category, image) cell and runs IoU, matching and ``accumulate()`` in the extension with the
GIL released, over all cores; every floating-point step is pycocotools' own, in its order, so
``eval['precision']``, ``eval['recall']``, ``eval['scores']`` and ``stats`` equal pycocotools'
to the last bit. ``evalImgs`` and ``ious`` are built when first read.

Differences from pycocotools (see docs/compatibility.md): the annotation dicts are not
modified (pycocotools writes ``ignore``, ``_ignore`` and, for segm, replaces
``segmentation`` with its RLE); polygons are rasterised only for cells that hold both ground
truth and detections; keypoints given as an (N, 3) array are read as their rows.

Examples
--------
>>> from maskcodecs.coco import COCO
>>> from maskcodecs.cocoeval import COCOeval
>>> import contextlib, io
>>> with contextlib.redirect_stdout(io.StringIO()):
...     gt = COCO({"images": [{"id": 1, "height": 100, "width": 100}],
...                "categories": [{"id": 1}],
...                "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
...                                 "bbox": [10, 10, 40, 40], "area": 1600, "iscrowd": 0}]})
...     dt = gt.loadRes([{"image_id": 1, "category_id": 1, "bbox": [12, 12, 40, 40],
...                       "score": 0.9}])
...     E = COCOeval(gt, dt, "bbox")
...     E.evaluate(); E.accumulate(); E.summarize()
>>> float(E.stats[1])  # pycocotools' value: 1/(1+eps) averaged over 101 recall levels
0.9999999999999999
"""
from __future__ import annotations

import copy
import datetime
import os
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs import mask as _mask
from maskcodecs._coco_api import COCO, ann_to_rle_sized, gc_paused
from maskcodecs._coco_scan import polygon_lists, sorted_unique
from maskcodecs._pool import resolve_threads, run_parts
from maskcodecs.errors import (
    EvaluationError,
    EvaluationOrderError,
    EvaluationTypeError,
    MaskCodecError,
)

if TYPE_CHECKING:  # imported at run time by __getattr__, when first asked for
    from maskcodecs._streaming import StreamingCOCOeval, StreamingResult

__all__ = ["COCOeval", "Params", "StreamingCOCOeval", "StreamingResult"]

_I64 = np.int64
_F64 = np.float64


class Params:
    """Evaluation parameters of pycocotools (``segm``, ``bbox`` or ``keypoints``)."""

    def setDetParams(self) -> None:
        """Defaults of box and mask evaluation."""
        self.imgIds: list[Any] = []
        self.catIds: list[Any] = []
        self.iouThrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
        self.recThrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2],
                        [96 ** 2, 1e5 ** 2]]
        self.areaRngLbl = ["all", "small", "medium", "large"]
        self.useCats = 1

    def setKpParams(self) -> None:
        """Defaults of keypoint evaluation (the 17 COCO person keypoints)."""
        self.imgIds = []
        self.catIds = []
        self.iouThrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
        self.recThrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
        self.maxDets = [20]
        self.areaRng = [[0 ** 2, 1e5 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
        self.areaRngLbl = ["all", "medium", "large"]
        self.useCats = 1
        self.kpt_oks_sigmas = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62,
                                        1.07, 1.07, .87, .87, .89, .89]) / 10.0

    def __init__(self, iouType: str = "segm") -> None:
        if iouType == "segm" or iouType == "bbox":
            self.setDetParams()
        elif iouType == "keypoints":
            self.setKpParams()
        else:
            raise EvaluationError("iouType not supported")
        self.iouType = iouType
        self.useSegm: Any = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Params:
        """copy.deepcopy, with id lists of plain numbers copied as lists (their elements are
        immutable: a deep copy of each of 5,000 numpy integers changes nothing but time)."""
        new = Params.__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            if type(value) is list and all(type(v) in _IMMUTABLE for v in value):
                new.__dict__[key] = list(value)
            else:
                new.__dict__[key] = copy.deepcopy(value, memo)
        return new


#: element types whose deep copy is the element itself in all but identity
_IMMUTABLE = frozenset((int, float, str, bool, type(None), np.int64, np.int32, np.float64,
                        np.uint64, np.uint32, np.intc))


def _overrides(obj: Any, name: str) -> bool:
    return getattr(type(obj), name) is not getattr(COCOeval, name)


def _all_cores_if_none(threads: int | None) -> int:
    """COCOeval.threads: None means all cores (resolve_threads reads None as serial)."""
    return 0 if threads is None else threads


class _Cells:
    """The annotations of one evaluate() laid out per (category, image) cell, and the
    kernel's results: what accumulate, evalImgs and ious are built from."""

    def __init__(self, ev: Any, p: Params, columns: bool = True,
                 sides: tuple[tuple[Any, np.ndarray], tuple[Any, np.ndarray]] | None = None
                 ) -> None:
        """ev gives threads (and cocoGt/cocoDt unless sides, the selected ground truths and
        detections with their cells, are given: the streaming evaluator's batches)."""
        self.img_ids = list(p.imgIds)
        self.cat_ids = list(p.catIds) if p.useCats else [-1]
        self.area_rngs = list(p.areaRng)
        self.max_det = p.maxDets[-1]
        self.iou_type = p.iouType
        self.thr = np.ascontiguousarray(p.iouThrs, dtype=_F64).reshape(-1)
        self.threads = _all_cores_if_none(ev.threads)
        n_img, K = len(self.img_ids), len(self.cat_ids)
        self.I, self.K = n_img, K
        self.selected: list[Any] = []
        if sides is None:
            gts, gcell = self._select(ev.cocoGt, p, columns)
            dts, dcell = self._select(ev.cocoDt, p, columns)
        else:
            (gts, gcell), (dts, dcell) = sides
        # only the cells that hold an annotation exist (evalImgs is None elsewhere): memory
        # and time grow with the annotations, not with images x categories
        self.cell_id, gcell, dcell = _laid_out(gcell, dcell, n_img * K)
        self.C = len(self.cell_id)
        self._sparse: dict[int, int] | None = None
        # ground truths per cell in _prepare order; detections per cell by descending score
        gperm, self.goff = _core.eval_group(np.ascontiguousarray(gcell, dtype=_I64), self.C)
        self.gts = gts.take(gperm)
        dperm, doff = _core.eval_group(np.ascontiguousarray(dcell, dtype=_I64), self.C)
        score = dts.scores()
        _core.eval_sort_cells(doff, score, dperm)
        self.dts = dts.take(dperm)
        self.doff = doff
        self.dscore = np.ascontiguousarray(score[dperm])
        D = np.diff(doff)
        G = np.diff(self.goff)
        # len(dts[0:maxDets[-1]]) per cell, with Python's slice rules
        stop = int(self.max_det)
        self.dlen = np.ascontiguousarray(
            np.minimum(D, stop) if stop >= 0 else np.maximum(D + stop, 0), dtype=_I64)
        self.T = len(self.thr)
        self.A0, self.I0, self.n_dense = len(self.area_rngs), n_img, n_img * K
        scored = (self.dlen > 0) & (G > 0)
        if self.iou_type == "keypoints" and not p.useCats:
            scored[:] = False  # computeOks reads the (image, -1) cell, which is always empty
        self.have_ious = scored.astype(np.uint8)
        self.ioff = np.zeros(self.C + 1, dtype=_I64)
        np.cumsum(np.where(scored, self.dlen * G, 0), out=self.ioff[1:])
        self.ious_flat = np.zeros(int(self.ioff[-1]), dtype=_F64)
        self.gign, self.gcrowd, self.garea, self.gid = self.gts.gt_columns(
            self.iou_type == "keypoints")
        self.darea, self.did = self.dts.dt_columns()
        if self.ioff[-1]:
            self._compute_ious(ev, p, scored)
        self._match()

    # -- layout --------------------------------------------------------------------------------
    def _select(self, coco: Any, p: Params, columns: bool) -> tuple[Any, np.ndarray]:
        """pycocotools' _prepare selection, and each annotation's cell (category-major)."""
        if columns:
            got = _ScanSide.select(coco, p, self.threads)
            if got is not None:
                self.selected.append(got[0])
                return got
        anns = _selected(coco, p)
        self.selected.append(_DictSide(coco, anns))
        img_pos = {v: i for i, v in reversed(list(enumerate(self.img_ids)))}
        n_img = self.I
        if p.useCats:
            cat_pos = {v: k for k, v in reversed(list(enumerate(self.cat_ids)))}
            keep, cells = [], []
            for a in anns:
                i = img_pos.get(a["image_id"])
                k = cat_pos.get(a["category_id"])
                if i is not None and k is not None:
                    keep.append(a)
                    cells.append(k * n_img + i)
            return _DictSide(coco, keep), np.array(cells, dtype=_I64)
        # without categories: one cell per image, annotations in the order of p.catIds
        positions: dict[Any, list[int]] = {}
        for n, c in enumerate(p.catIds):
            positions.setdefault(c, []).append(n)
        ncat = len(p.catIds) + 1
        keep, keys = [], []
        for a in anns:
            i = img_pos.get(a["image_id"])
            if i is None:
                continue
            for n in positions.get(a["category_id"], ()):
                keep.append(a)
                keys.append(i * ncat + n)
        key = np.array(keys, dtype=_I64)
        order = np.argsort(key, kind="stable")
        return _DictSide(coco, [keep[j] for j in order.tolist()]), key[order] // ncat

    def _parts(self, fn: Any) -> list[Any]:
        return run_parts(fn, self.C, resolve_threads(self.threads, max(self.C, 1)))

    # -- IoU -----------------------------------------------------------------------------------
    def _scored_dt(self, scored: np.ndarray) -> np.ndarray:
        """Mask over self.dts of the detections that are scored (within dlen of a scored cell)."""
        need = np.zeros(len(self.dts), dtype=bool)
        cells = np.flatnonzero(scored)
        need[_ranges(self.doff[cells], self.dlen[cells])] = True
        return need

    def _compute_ious(self, ev: Any, p: Params, scored: np.ndarray) -> None:
        goff, doff, dlen, ioff, out = self.goff, self.doff, self.dlen, self.ioff, self.ious_flat
        G = np.diff(goff)
        gneed = np.repeat(scored, G)
        dneed = self._scored_dt(scored)
        if self.iou_type == "bbox":
            gbox, gsel = self.gts.box_source(gneed)
            dbox, dsel = self.dts.box_source(dneed)
            self._parts(lambda c0, c1: _core.eval_box_iou(
                gbox, gsel, dbox, dsel, self.gcrowd, goff, doff, dlen, ioff, out, c0, c1))
        elif self.iou_type == "segm":
            sd, didx = self.dts.string_source(dneed)
            sg, gidx = self.gts.string_source(gneed)
            codes = self._parts(lambda c0, c1: _core.eval_rle_iou_cells(
                sd, sg, gidx, didx, self.gcrowd, goff, doff, dlen, ioff, out, c0, c1))
            if min(codes, default=0) < 0:  # an invalid string: raise its error, in order
                _core.iou_plan(self.dts.rles(dneed), [], b"")
                grle = self.gts.rles(gneed)
                _core.iou_plan([], grle, bytes(len(grle)))
                raise EvaluationError("segm: an RLE could not be read")  # pragma: no cover
        else:
            self._compute_oks(p, scored, gneed, dneed)

    def _compute_oks(self, p: Params, scored: np.ndarray, gneed: np.ndarray,
                     dneed: np.ndarray) -> None:
        sigmas = np.ascontiguousarray(p.kpt_oks_sigmas, dtype=_F64).reshape(-1)
        k = len(sigmas)
        gkp, grow = self.gts.keypoints(gneed, k)
        dkp, drow = self.dts.keypoints(dneed, k)
        gbox, gbrow = self.gts.box_source(gneed)
        # the terms of the rows read: of the whole matrix unless it is much larger (a
        # streaming batch reads a few rows of every ground truth's keypoints)
        nterms = (_oks_nterms(gkp, k)[np.maximum(grow, 0)] if len(gkp) <= 2 * len(grow) else
                  _oks_nterms(gkp[np.maximum(grow, 0)], k)) if len(gkp) else \
            np.full(len(grow), k, dtype=_I64)  # (rows of ground truth never scored: unread)
        G = np.diff(self.goff)
        per_cell = np.add.reduceat(np.append(nterms, 0), self.goff[:-1]) if len(nterms) else \
            np.zeros(self.C, dtype=_I64)
        dlen = np.where(scored, self.dlen, 0).astype(_I64)  # only scored cells have terms
        per_cell = np.where(G > 0, per_cell, 0) * dlen
        eoff = np.zeros(self.C + 1, dtype=_I64)
        np.cumsum(per_cell, out=eoff[1:])
        e = np.empty(int(eoff[-1]), dtype=_F64)
        self._parts(lambda c0, c1: _core.eval_oks_terms(
            gkp, grow, gbox, gbrow, self.garea, dkp, drow, sigmas, self.goff, self.doff, dlen,
            eoff, e, c0, c1))
        def exp_neg(a: int, b: int) -> None:  # pycocotools' np.exp(-e), in place, in parts
            np.negative(e[a:b], out=e[a:b])
            np.exp(e[a:b], out=e[a:b])

        run_parts(exp_neg, len(e), resolve_threads(self.threads, max(len(e) >> 16, 1)))
        _core.eval_oks_sum(e, nterms, self.goff, dlen, eoff, self.ioff, self.ious_flat)

    # -- matching ------------------------------------------------------------------------------
    def _match(self) -> None:
        A, T, ND = len(self.area_rngs), len(self.thr), len(self.dts)
        self.arng = _area_ranges(self.area_rngs)
        self.state = np.zeros(A * T * ND, dtype=np.uint8)
        self.summary = np.zeros(A * ND, dtype=np.uint8)
        self.npig = np.zeros(self.C * A, dtype=_I64)
        self._parts(lambda c0, c1: _core.eval_match(
            self.goff, self.doff, self.dlen, self.ioff, self.ious_flat, self.have_ious,
            self.gign, self.garea, self.gcrowd, self.gid, self.darea, self.did, self.thr,
            self.arng, self.state, self.summary, self.npig, c0, c1))

    # -- the pycocotools views -----------------------------------------------------------------
    @property
    def sparse(self) -> dict[int, int]:
        """Position of each laid-out cell by its evalImgs cell number (built when needed)."""
        if self._sparse is None:
            self._sparse = {c: n for n, c in enumerate(self.cell_id.tolist())}
        return self._sparse

    def cell_ious(self, dense: int) -> Any:
        c = self.sparse.get(dense)
        if c is None or not self.have_ious[c]:
            return []
        G = int(self.goff[c + 1] - self.goff[c])
        D = int(self.dlen[c])
        return np.asfortranarray(self.ious_flat[self.ioff[c]:self.ioff[c + 1]].reshape(D, G))

    def ious_dict(self) -> dict[Any, Any]:
        out = {}
        for i, img in enumerate(self.img_ids):
            for k, cat in enumerate(self.cat_ids):
                out[img, cat] = self.cell_ious(k * self.I + i)
        return out

    def eval_imgs(self) -> list[Any]:
        out: list[Any] = []
        gts, dts = self.gts.dicts(), self.dts.dicts()
        for k, cat in enumerate(self.cat_ids):
            for a, rng in enumerate(self.area_rngs):
                for i, img in enumerate(self.img_ids):
                    c = self.sparse.get(k * self.I + i)
                    if c is None:
                        out.append(None)
                        continue
                    g0, g1 = int(self.goff[c]), int(self.goff[c + 1])
                    d0 = int(self.doff[c])
                    d1 = d0 + int(self.dlen[c])
                    out.append(_eval_img(img, cat, rng, self.max_det, gts[g0:g1],
                                         self.gign[g0:g1], self.garea[g0:g1],
                                         self.gcrowd[g0:g1], self.gid[g0:g1],
                                         dts[d0:d1], self.darea[d0:d1], self.did[d0:d1],
                                         self.ious_flat[self.ioff[c]:self.ioff[c + 1]],
                                         bool(self.have_ious[c]), self.thr, self.arng[a]))
        return out

    def grouped(self, which: int) -> defaultdict[Any, list[Any]]:
        """pycocotools' _gts (0) or _dts (1): the selection by (image_id, category_id)."""
        return _grouped(self.selected[which].in_prepare_order())


class _Fallback(Exception):
    """The file's columns cannot give what the annotation dicts would (a missing key, a
    value the scanner does not model): evaluate from the dicts instead."""


class _DictSide:
    """One side's selected annotations as dicts (any COCO, pycocotools' included)."""

    def __init__(self, coco: Any, anns: list[Any]) -> None:
        self.coco, self.anns = coco, anns

    def __len__(self) -> int:
        return len(self.anns)

    def take(self, perm: np.ndarray) -> _DictSide:
        return _DictSide(self.coco, [self.anns[j] for j in perm.tolist()])

    def scores(self) -> np.ndarray:
        return _numbers([d["score"] for d in self.anns], "score")

    def gt_columns(self, keypoints: bool) -> tuple[np.ndarray, ...]:
        return _gt_columns(self.anns, keypoints)

    def dt_columns(self) -> tuple[np.ndarray, np.ndarray]:
        return _dt_columns(self.anns)

    def boxes(self, need: np.ndarray) -> np.ndarray:
        return _needed_boxes(self.anns, need)

    def box_source(self, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A box matrix and the row of each annotation in it (for eval_box_iou)."""
        return self.boxes(need), np.arange(len(self.anns), dtype=_I64)

    def rles(self, need: np.ndarray) -> list[Any]:
        return _rles(self.coco, [a for a, n in zip(self.anns, need) if n])

    def strings(self, need: np.ndarray) -> Any:
        """The counts strings of rles(need), for the kernel's cell IoU."""
        return _core.rle_strings(self.rles(need))

    def string_source(self, need: np.ndarray) -> tuple[Any, np.ndarray]:
        return _string_source(self, need)

    def keypoints(self, need: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The needed annotations' keypoints as a matrix, and each one's row in it (-1 where
        not needed)."""
        return (_keypoints([a["keypoints"] for a, n in zip(self.anns, need) if n], k),
                _compact_rows(need))

    def dicts(self) -> list[Any]:
        return self.anns

    def in_prepare_order(self) -> list[Any]:
        return self.anns


class _ScanSide:
    """One side's selected annotations as rows of our COCO's scanned file (see
    maskcodecs._coco_scan): no annotation dict is built unless evalImgs or _gts is read."""

    def __init__(self, coco: Any, f: Any, rows: np.ndarray, img_pos: np.ndarray,
                 threads: int | None = None) -> None:
        self.coco, self.f, self.rows, self.img_pos = coco, f, rows, img_pos
        self.threads = threads

    @classmethod
    def select(cls, coco: Any, p: Params,
               threads: int | None) -> tuple[_ScanSide, np.ndarray] | None:
        """pycocotools' _prepare selection and cells from the columns, where they give it
        exactly: our own COCO, categories used, unique annotation ids, integer ids."""
        if not isinstance(coco, COCO) or not p.useCats or \
                type(coco).getAnnIds is not COCO.getAnnIds or \
                type(coco).loadAnns is not COCO.loadAnns:
            return None
        f = coco._columns()
        if f is None or not f.unique_ids():
            return None
        img_ids, cat_ids = _sorted_ints(p.imgIds), _sorted_ints(p.catIds)
        if img_ids is None or cat_ids is None:
            return None
        i, i_ok = _positions(img_ids, f.ints("image_id"))
        k, k_ok = _positions(cat_ids, f.ints("category_id"))
        rows = np.flatnonzero(i_ok & k_ok)
        side = cls(coco, f, rows, i[rows], threads)
        return side, k[rows] * len(img_ids) + i[rows]

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, perm: np.ndarray) -> _ScanSide:
        return _ScanSide(self.coco, self.f, self.rows[perm], self.img_pos[perm], self.threads)

    def _need(self, name: str, rows: np.ndarray) -> None:
        if not self.f.has(name)[rows].all():
            raise _Fallback(name)

    def _floats(self, name: str) -> np.ndarray:
        if not (name == "area" and self.f.area is not None):
            self._need(name, self.rows)
        return self.f.floats(name)[self.rows]

    def scores(self) -> np.ndarray:
        return self._floats("score")

    def gt_columns(self, keypoints: bool) -> tuple[np.ndarray, ...]:
        crowd = self._floats("iscrowd")
        if not np.isfinite(crowd).all():
            raise _Fallback("iscrowd")  # int() of it fails in pycocotools
        ign = crowd != 0
        if keypoints:
            ign |= self._floats("num_keypoints") == 0
        return (ign.astype(np.uint8), (np.trunc(crowd) != 0).astype(np.uint8),
                self._floats("area"), self._ids())

    def _ids(self) -> np.ndarray:
        return self.f.ints("id")[self.rows].astype(_F64)

    def dt_columns(self) -> tuple[np.ndarray, np.ndarray]:
        return self._floats("area"), self._ids()

    def box_source(self, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The file's box matrix and each annotation's row in it (no gathered copy)."""
        if not self.f.boxes_ok(self.rows[need]):
            raise _Fallback("bbox")
        return self.f.boxes(), self.rows

    def boxes(self, need: np.ndarray) -> np.ndarray:
        rows = self.rows[need]
        if not self.f.boxes_ok(rows):
            raise _Fallback("bbox")
        if len(rows) == len(self.rows):
            return self.f.boxes()[rows]
        out = np.zeros((len(self.rows), 4), dtype=_F64)
        out[need] = self.f.boxes()[rows]
        return out

    def rles(self, need: np.ndarray) -> list[Any]:
        f, rows = self.f, self.rows[need]
        if f.rle is not None:  # RLE results, their counts strings read by loadRes
            chars, off, hs, ws = f.rle
            segs = [{"size": [h, w], "counts": chars[a:b]} for a, b, h, w in zip(
                off[rows].tolist(), off[rows + 1].tolist(), hs[rows].tolist(),
                ws[rows].tolist())]
        elif f.segs is not None:
            segs = [f.segs[j] for j in rows.tolist()]
        else:
            have = f.has("segmentation")[rows]
            if not have.all() and (f.keys is not None or f.bbox is not None):
                raise _Fallback("segmentation")
            out = self._polygon_rles(rows, have)
            rest = np.flatnonzero(have & np.array([r is None for r in out], dtype=bool))
            segs = [None] * len(rows)
            for j, seg in zip(rest.tolist(), f.spans("segmentation", rows[rest])):
                segs[j] = seg
            for j in np.flatnonzero(~have).tolist():  # bbox results: loadRes's box polygon
                x, y, w, h = f.boxes()[rows[j]].tolist()
                segs[j] = [[x, y, x, y + h, x + w, y + h, x + w, y]]
            todo = [j for j, seg in enumerate(segs) if seg is not None]
            done = _rles_of(self.coco, [segs[j] for j in todo],
                            f.ints("image_id")[rows[todo]].tolist())
            for j, rle in zip(todo, done):
                out[j] = rle
            return out
        return _rles_of(self.coco, segs, f.ints("image_id")[rows].tolist())

    def _polygon_rles(self, rows: np.ndarray, have: np.ndarray) -> list[Any]:
        """annToRLE of the rows whose segmentation is a polygon list, read from the file's
        bytes by the kernel and rasterised per image size (None for the other rows)."""
        strings, hs, ws = self._polygon_strings(rows, have)
        return [None if c is None else {"size": [h, w], "counts": c}
                for c, h, w in zip(strings, hs.tolist(), ws.tolist())]

    def _polygon_strings(self, rows: np.ndarray, have: np.ndarray
                         ) -> tuple[list[Any], np.ndarray, np.ndarray]:
        """The counts strings (and image sizes) of _polygon_rles: None where a row is not a
        readable polygon list on an image of valid size."""
        f = self.f
        n_rows = len(rows)
        out: list[Any] = [None] * n_rows
        hs = np.zeros(n_rows, dtype=_I64)
        ws = np.zeros(n_rows, dtype=_I64)
        pick = np.flatnonzero(have & (f.seg_kind()[rows] == ord("[")))
        if len(pick) == 0:
            return out, hs, ws
        xy, off, nparts = polygon_lists(f.data, *f.span_columns("segmentation", rows[pick]),
                                        threads=self.threads)
        ok = nparts >= 0
        first_part = np.zeros(len(pick), dtype=_I64)
        np.cumsum(np.where(ok, nparts, 0)[:-1], out=first_part[1:])
        # image sizes read once per image, not per annotation
        image_ids = f.ints("image_id")[rows[pick]]
        uniq = sorted_unique(image_ids)
        imgs = self.coco.imgs
        uh = np.full(len(uniq), -1, dtype=_I64)
        uw = np.full(len(uniq), -1, dtype=_I64)
        for u, i in enumerate(uniq.tolist()):
            img = imgs[i]
            try:
                uh[u] = _mask._as_siz(img["height"], "h")
                uw[u] = _mask._as_siz(img["width"], "w")
            except (MaskCodecError, OverflowError):
                pass  # left to annToRLE, which raises the drop-in's error
        at = np.searchsorted(uniq, image_ids)
        ph, pw = uh[at], uw[at]
        ok &= ph >= 0
        live = np.flatnonzero(ok)
        if len(live) == 0:
            return out, hs, ws
        k = nparts[live]
        parts = _ranges(first_part[live], k)
        starts = np.ascontiguousarray(off[parts])
        ends = np.ascontiguousarray(off[parts + 1])
        part_h = np.repeat(ph[live], k)
        part_w = np.repeat(pw[live], k)
        # one call over every image size; the rasteriser releases the GIL: parts in parallel
        n_parts = len(parts)
        done = run_parts(lambda a, b: _core.polygons_to_strings_sized(
            xy, starts, ends, part_h, part_w, a, b), n_parts,
            resolve_threads(self.threads, max(n_parts >> 10, 1)))
        strings = [c for chunk in done for c in chunk]
        where = pick[live]
        hs[where] = ph[live]
        ws[where] = pw[live]
        if (k == 1).all():
            for j, c in zip(where.tolist(), strings):
                out[j] = c
            return out, hs, ws
        j0 = 0
        for j, kk, h, w in zip(where.tolist(), k.tolist(), ph[live].tolist(),
                               pw[live].tolist()):
            if kk == 1:
                out[j] = strings[j0]
            else:
                out[j] = _mask.merge([{"size": [h, w], "counts": c}
                                      for c in strings[j0:j0 + kk]])["counts"]
            j0 += kk
        return out, hs, ws

    def strings(self, need: np.ndarray) -> Any:
        """The counts strings of rles(need), for the kernel's cell IoU (RLE results straight
        from the characters loadRes read)."""
        f = self.f
        if f.rle is not None:
            chars, off, hs, ws = f.rle
            return _core.rle_strings_from_chars(chars, off, hs, ws, self.rows[need])
        rows = self.rows[need]
        have = f.has("segmentation")[rows] if f.segs is None else None
        if have is None or not have.all():
            return _core.rle_strings(self.rles(need))
        # polygons straight to strings, the rest through their RLE dicts
        strings, hs, ws = self._polygon_strings(rows, have)
        rest = np.flatnonzero(np.array([c is None for c in strings], dtype=bool))
        if len(rest):
            sub = self.take(np.flatnonzero(need)[rest])
            rles = sub.rles(np.ones(len(rest), dtype=bool))
            _core.rle_strings(rles)  # their errors, as the dict path raises them
            for j, r in zip(rest.tolist(), rles):
                c = r["counts"]
                strings[j] = c.encode("ascii") if type(c) is str else bytes(c)
                hs[j], ws[j] = int(r["size"][0]), int(r["size"][1])
        lengths = np.fromiter(map(len, strings), dtype=_I64, count=len(strings))
        off = np.zeros(len(strings) + 1, dtype=_I64)
        np.cumsum(lengths, out=off[1:])
        return _core.rle_strings_from_chars(b"".join(strings), off, hs, ws,
                                            np.arange(len(strings), dtype=_I64))

    def string_source(self, need: np.ndarray) -> tuple[Any, np.ndarray]:
        return _string_source(self, need)

    def keypoints(self, need: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """A keypoint matrix and each annotation's row in it (-1 where not needed), with no
        gathered copy of the results' matrix that loadRes read."""
        f, rows = self.f, self.rows[need]
        if f.kps is not None and f.kps.shape[1] == 3 * k:  # results, read by loadRes
            return f.kps, np.where(need, self.rows, -1)
        if f.kps is not None:
            mat = f.kps[rows]
        else:
            self._need("keypoints", rows)
            mat = f.number_rows("keypoints", rows) if len(rows) else None
        if mat is None or mat.shape[1] != 3 * k:  # the ordinary path and its error
            mat = _keypoints(list(mat) if mat is not None
                             else f.spans("keypoints", rows), k)
        return mat, _compact_rows(need)

    def dicts(self) -> list[Any]:
        anns = self.coco.dataset["annotations"]  # parses the file on first use
        return [anns[j] for j in self.rows.tolist()]

    def in_prepare_order(self) -> list[Any]:
        order = np.argsort(self.img_pos, kind="stable")
        return self.take(order).dicts()


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """starts[i], starts[i] + 1, ..., starts[i] + lengths[i] - 1 for every i, one after the
    other: the rows of a gather of ranges."""
    lengths = np.asarray(lengths, dtype=_I64)
    first = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, dtype=_I64) - first, lengths) + \
        np.arange(int(lengths.sum()), dtype=_I64)


def _string_source(side: Any, need: np.ndarray) -> tuple[Any, np.ndarray]:
    """The counts strings of a side's needed annotations, and each annotation's position
    there (for eval_rle_iou_cells)."""
    return side.strings(need), np.cumsum(need, dtype=_I64) - 1


def _sorted_ints(ids: Any) -> np.ndarray | None:
    """ids as a strictly increasing int64 array, or None."""
    arr = np.asarray(ids)
    if arr.ndim != 1 or len(arr) == 0 or arr.dtype.kind not in "iu" or \
            (arr.dtype.kind == "u" and arr.max() >= 2**63):
        return None
    arr = arr.astype(_I64)
    if len(arr) > 1 and not (np.diff(arr) > 0).all():
        return None
    return arr


def _laid_out(gcell: np.ndarray, dcell: np.ndarray,
              n_dense: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted cell numbers that hold an annotation, and each annotation's position there."""
    n = len(gcell) + len(dcell)
    if n_dense <= 4 * n + (1 << 20):  # a table over every cell number costs no more
        present = np.zeros(n_dense, dtype=bool)
        present[gcell] = True
        present[dcell] = True
        where = np.cumsum(present, dtype=_I64) - 1
        return np.flatnonzero(present).astype(_I64), where[gcell], where[dcell]
    cell_id = sorted_unique(np.concatenate([gcell, dcell]).astype(_I64))
    return (cell_id, np.searchsorted(cell_id, gcell).astype(_I64),
            np.searchsorted(cell_id, dcell).astype(_I64))


def _positions(table: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each value in the sorted table, and whether it is there."""
    lo = int(table[0]) if len(table) else 0
    span = int(table[-1]) - lo + 1 if len(table) else 0
    if len(table) and span <= 2 * len(values) + len(table):
        # a lookup table over the id range: linear time
        lookup = np.full(span, -1, dtype=_I64)
        lookup[table - lo] = np.arange(len(table), dtype=_I64)
        shifted = values - lo
        inside = (shifted >= 0) & (shifted < span)
        pos = np.full(len(values), len(table), dtype=_I64)
        pos[inside] = lookup[shifted[inside]]
        found = pos >= 0
        found[~inside] = False
        pos[~found] = 0
        return pos, found
    pos = np.searchsorted(table, values)
    inside = pos < len(table)
    found = np.zeros(len(values), dtype=bool)
    found[inside] = table[pos[inside]] == values[inside]
    return pos, found


def _selected(coco: Any, p: Params) -> list[Any]:
    """The annotations pycocotools' _prepare evaluates, in its order."""
    if p.useCats and len(p.imgIds) and len(p.catIds) and \
            getattr(type(coco), "getAnnIds", None) is COCO.getAnnIds and \
            getattr(type(coco), "loadAnns", None) is COCO.loadAnns:
        # our own COCO: getAnnIds then loadAnns in one pass (the same lookups, same order;
        # loadAnns's anns[id] kept, so a repeated id still gives its last annotation)
        index, table = coco.imgToAnns, coco.anns
        wanted = set(p.catIds)
        out = []
        for i in p.imgIds:
            lst = index.get(i)
            if lst:
                out.extend([table[a["id"]] for a in lst if a["category_id"] in wanted])
        return out
    if p.useCats:
        return coco.loadAnns(coco.getAnnIds(imgIds=p.imgIds, catIds=p.catIds))
    return coco.loadAnns(coco.getAnnIds(imgIds=p.imgIds))


def _grouped(anns: list[Any]) -> defaultdict[Any, list[Any]]:
    out: defaultdict[Any, list[Any]] = defaultdict(list)
    for a in anns:
        out[a["image_id"], a["category_id"]].append(a)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating, np.bool_))


def _numbers(values: list[Any], what: str) -> np.ndarray:
    """A float64 column of annotation numbers, one per value; anything else (None, a
    string, a list, even ``[]`` or ``[0.9]``) is refused, where pycocotools fails with a
    TypeError (or an IndexError for ``[]``)."""
    try:
        arr = np.array(values)
    except (TypeError, ValueError):  # ragged lists
        arr = None
    if arr is not None and arr.dtype.kind in "biuf" and arr.shape == (len(values),):
        return np.ascontiguousarray(arr, dtype=_F64)
    bad = [v for v in values if not _is_number(v)][:1]
    if not bad:  # numbers numpy does not pack (ints beyond 64 bits, mixed types)
        try:
            return np.array([float(v) for v in values], dtype=_F64)
        except OverflowError:
            big = next(v for v in values if abs(v) > 1e308)
            raise EvaluationTypeError(f"annotation {what} {big} is beyond the float "
                                      "range") from None
    raise EvaluationTypeError(
        f"annotation {what} must be a number, got {type(bad[0]).__name__}: {bad[0]!r}")


def _gt_columns(gts: list[Any], keypoints: bool) -> tuple[np.ndarray, ...]:
    """(ignore, crowd, area, id) columns of ground truths, as evaluateImg reads them: ignore
    is iscrowd's truth (or no keypoints, for keypoints), crowd is int(iscrowd) != 0."""
    crowd = [g["iscrowd"] for g in gts]
    if keypoints:
        ign = [(g["num_keypoints"] == 0) or bool(c) for g, c in zip(gts, crowd)]
    else:
        ign = [bool(c) for c in crowd]
    return (np.array(ign, dtype=np.uint8).reshape(-1),
            np.array([int(c) != 0 for c in crowd], dtype=np.uint8).reshape(-1),
            _numbers([g["area"] for g in gts], "area"), _numbers([g["id"] for g in gts], "id"))


def _dt_columns(dts: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(area, id) columns of detections."""
    return _numbers([d["area"] for d in dts], "area"), _numbers([d["id"] for d in dts], "id")


def _needed_boxes(anns: list[Any], need: np.ndarray) -> np.ndarray:
    """The boxes of the annotations marked in need (zeros for the others, never read)."""
    return _boxes([a["bbox"] if n else (0, 0, 0, 0) for a, n in zip(anns, need)])


def _compact_rows(need: np.ndarray) -> np.ndarray:
    """Each marked annotation's row among the marked ones (in order), -1 for the others."""
    return np.where(need, np.cumsum(need, dtype=_I64) - 1, -1)


def _oks_nterms(gkp: np.ndarray, k: int) -> np.ndarray:
    """Terms of each ground truth's OKS: its visible keypoints, or all k when none is."""
    nterms = np.count_nonzero(gkp[:, 2::3] > 0, axis=1).astype(_I64)
    nterms[nterms == 0] = k
    return nterms


def _boxes(items: list[Any]) -> np.ndarray:
    try:
        arr = np.array(items, dtype=_F64)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(f"bbox must be [x, y, w, h] numbers: {exc}") from None
    if arr.size == 0:
        return np.zeros((0, 4), dtype=_F64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise EvaluationError(f"bbox must be [x, y, w, h], got an array of shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _keypoints(items: list[Any], k: int) -> np.ndarray:
    out = np.zeros((len(items), 3 * k), dtype=_F64)
    for n, kp in enumerate(items):
        if kp is None:
            continue
        row = np.asarray(kp, dtype=_F64).reshape(-1)
        if row.shape[0] != 3 * k:
            raise EvaluationError(
                f"keypoints must hold {3 * k} numbers (x, y, v for each of the "
                f"{k} kpt_oks_sigmas), got {row.shape[0]}")
        out[n] = row
    return out


def _rles(coco: Any, anns: list[Any]) -> list[Any]:
    """annToRLE of each annotation (pycocotools' rules)."""
    return _rles_of(coco, [a["segmentation"] for a in anns], [a["image_id"] for a in anns])


def _rles_of(coco: Any, segs: list[Any], image_ids: list[Any]) -> list[Any]:
    """annToRLE of each segmentation on its image, with the polygons of all those on images
    of one size rasterised in one kernel call."""
    imgs = coco.imgs
    out: list[Any] = [None] * len(segs)
    batches: dict[tuple[int, int], tuple[list[Any], list[tuple[int, int]]]] = {}
    for n, seg in enumerate(segs):
        if type(seg) is dict and type(seg.get("counts")) is not list:
            out[n] = seg
            continue
        img = imgs[image_ids[n]]
        h, w = img["height"], img["width"]
        # frPyObjects reads a list as polygons when its first part has more than 4 numbers
        if type(seg) is list and seg and all(type(q) is list for q in seg) and len(seg[0]) > 4:
            try:
                key = (_mask._as_siz(h, "h"), _mask._as_siz(w, "w"))
            except MaskCodecError:
                out[n] = ann_to_rle_sized(seg, h, w)  # raises the drop-in's error
                continue
            parts, owners = batches.setdefault(key, ([], []))
            owners.append((n, len(seg)))
            parts.extend(seg)
            continue
        out[n] = ann_to_rle_sized(seg, h, w)
    for (h, w), (parts, owners) in batches.items():
        rles = _core.polygons_to_rles(parts, h, w)
        j = 0
        for n, k in owners:
            out[n] = _mask.merge(rles[j:j + k])
            j += k
    return out


def _area_ranges(rngs: list[Any]) -> np.ndarray:
    arr = np.zeros((len(rngs), 2), dtype=_F64)
    for n, r in enumerate(rngs):
        arr[n, 0] = r[0]
        arr[n, 1] = r[1]
    return arr


def _eval_img(img: Any, cat: Any, rng: Any, max_det: int, gts: list[Any], gign: np.ndarray,
              garea: np.ndarray, gcrowd: np.ndarray, gid: np.ndarray, dts: list[Any],
              darea: np.ndarray, did: np.ndarray, ious: np.ndarray, have_ious: bool,
              thr: np.ndarray, arng: np.ndarray) -> dict[str, Any]:
    """One evalImgs entry (pycocotools' evaluateImg dict) from the kernel's matcher."""
    G, D, T = len(gts), len(dts), len(thr)
    gorder = np.zeros(G, dtype=_I64)
    gtig = np.zeros(G, dtype=np.uint8)
    dtm = np.zeros(T * D, dtype=_F64)
    gtm = np.zeros(T * G, dtype=_F64)
    dtig = np.zeros(T * D, dtype=np.uint8)
    if not have_ious:
        ious = np.zeros(D * G, dtype=_F64)
    _core.eval_match_one(np.ascontiguousarray(ious, dtype=_F64), D, G, have_ious,
                         np.ascontiguousarray(gign), np.ascontiguousarray(garea),
                         np.ascontiguousarray(gcrowd), np.ascontiguousarray(gid),
                         np.ascontiguousarray(darea), np.ascontiguousarray(did), thr,
                         float(arng[0]), float(arng[1]), gorder, gtig, dtm, gtm, dtig)
    order = gorder.tolist()
    return {
        "image_id": img,
        "category_id": cat,
        "aRng": rng,
        "maxDet": max_det,
        "dtIds": [d["id"] for d in dts],
        "gtIds": [gts[j]["id"] for j in order],
        "dtMatches": dtm.reshape(T, D),
        "gtMatches": gtm.reshape(T, G),
        "dtScores": [d["score"] for d in dts],
        "gtIgnore": np.array(gtig.tolist()) if G else np.array([]),
        "dtIgnore": dtig.reshape(T, D).astype(bool),
    }


class COCOeval:
    """pycocotools' COCO evaluation (``segm``, ``bbox`` or ``keypoints``), bit-identical.

    Parameters
    ----------
    cocoGt, cocoDt : COCO, optional
        Ground truth and results (:class:`maskcodecs.coco.COCO` or pycocotools' own).
    iouType : {'segm', 'bbox', 'keypoints'}

    Attributes
    ----------
    threads : int or None
        Worker threads of evaluate() (extension attribute; None: all cores, 1: serial).
    """

    def __init__(self, cocoGt: Any = None, cocoDt: Any = None, iouType: str = "segm") -> None:
        if not iouType:
            print("iouType not specified. use default iouType segm")
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self._evalImgs: Any = defaultdict(list)
        self.eval: dict[str, Any] = {}
        self.__groups: list[Any] = [defaultdict(list), defaultdict(list)]
        self.params = Params(iouType=iouType)
        self._paramsEval: Any = {}
        self.stats: Any = []
        self._ious: Any = {}
        self._cells: _Cells | None = None
        self.threads: int | None = os.cpu_count()
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    # -- lazily built views of the native results ----------------------------------------------
    @property
    def evalImgs(self) -> Any:
        """Per (category, area range, image) results, as pycocotools lays them out."""
        if self._evalImgs is None:
            self._evalImgs = self._cells.eval_imgs() if self._cells is not None else []
        return self._evalImgs

    @evalImgs.setter
    def evalImgs(self, value: Any) -> None:
        self._evalImgs = value
        self._cells = None

    @property
    def ious(self) -> Any:
        """IoU (or OKS) matrix of every (image, category), ``[]`` where either side is empty."""
        if self._ious is None:
            self._ious = self._cells.ious_dict() if self._cells is not None else {}
        return self._ious

    @ious.setter
    def ious(self, value: Any) -> None:
        self._ious = value

    def _group(self, which: int) -> Any:
        """pycocotools' _gts (0) or _dts (1), grouped from the evaluation when first read."""
        if self.__groups[which] is None:
            self.__groups[which] = self._cells.grouped(which) if self._cells is not None \
                else defaultdict(list)
        return self.__groups[which]

    def _set_group(self, which: int, value: Any) -> None:
        self.__groups[which] = value

    _gts = property(lambda self: self._group(0), lambda self, v: self._set_group(0, v))
    _dts = property(lambda self: self._group(1), lambda self, v: self._set_group(1, v))

    # -- evaluate ------------------------------------------------------------------------------
    def _prepare(self) -> None:
        """Group the selected annotations (pycocotools' _gts and _dts; not modified)."""
        p = self.params
        self._cells = None
        self._gts = _grouped(_selected(self.cocoGt, p))
        self._dts = _grouped(_selected(self.cocoDt, p))
        self._evalImgs = defaultdict(list)
        self.eval = {}

    def evaluate(self) -> None:
        """Match detections to ground truth for every image, category and area range."""
        tic = time.time()
        print("Running per image evaluation...")
        p = self.params
        if p.useSegm is not None:
            p.iouType = "segm" if p.useSegm == 1 else "bbox"
            print(f"useSegm (deprecated) is not None. Running {p.iouType} evaluation")
        print(f"Evaluate annotation type *{p.iouType}*")
        p.imgIds = list(sorted_unique(p.imgIds))
        if p.useCats:
            p.catIds = list(sorted_unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self.params = p
        if p.iouType not in ("segm", "bbox", "keypoints"):
            raise EvaluationError(f"unknown iouType for iou computation: {p.iouType!r}")
        if any(_overrides(self, n) for n in ("computeIoU", "computeOks", "evaluateImg",
                                             "_prepare")):
            self._evaluate_by_methods(p)
        else:
            self.eval = {}
            with gc_paused():
                try:
                    self._cells = _Cells(self, p)
                except _Fallback:  # the columns cannot say what the dicts would
                    self._cells = _Cells(self, p, columns=False)
            self._evalImgs = None
            self._ious = None
            self.__groups = [None, None]
        self._paramsEval = copy.deepcopy(self.params)
        print(f"DONE (t={time.time() - tic:0.2f}s).")

    def _evaluate_by_methods(self, p: Params) -> None:
        """The reference loop, for subclasses that replace a step of the evaluation."""
        self._prepare()
        cat_ids = p.catIds if p.useCats else [-1]
        compute = self.computeOks if p.iouType == "keypoints" else self.computeIoU
        self._ious = {(i, c): compute(i, c) for i in p.imgIds for c in cat_ids}
        max_det = p.maxDets[-1]
        self._evalImgs = [self.evaluateImg(i, c, a, max_det)
                          for c in cat_ids for a in p.areaRng for i in p.imgIds]

    def _cell_lists(self, imgId: Any, catId: Any) -> tuple[list[Any], list[Any]]:
        p = self.params
        if p.useCats:
            return self._gts[imgId, catId], self._dts[imgId, catId]
        gt = [a for c in p.catIds for a in self._gts[imgId, c]]
        dt = [a for c in p.catIds for a in self._dts[imgId, c]]
        return gt, dt

    @staticmethod
    def _by_score(dts: list[Any]) -> list[Any]:
        order = np.frombuffer(_core.eval_argsort_desc(
            _numbers([d["score"] for d in dts], "score")), dtype=_I64)
        return [dts[j] for j in order.tolist()]

    def computeIoU(self, imgId: Any, catId: Any) -> Any:
        """IoU of the cell's detections (by score, the first maxDets[-1]) and ground truth."""
        p = self.params
        gt, dt = self._cell_lists(imgId, catId)
        if len(gt) == 0 and len(dt) == 0:
            return []
        dt = self._by_score(dt)[0:p.maxDets[-1]]
        if p.iouType == "segm":
            g = _rles(self.cocoGt, gt)
            d = _rles(self.cocoDt, dt)
        elif p.iouType == "bbox":
            g = [a["bbox"] for a in gt]
            d = [a["bbox"] for a in dt]
        else:
            raise EvaluationError("unknown iouType for iou computation")
        return _mask.iou(d, g, [int(a["iscrowd"]) for a in gt])

    def computeOks(self, imgId: Any, catId: Any) -> Any:
        """Object keypoint similarity of the cell's detections and ground truth."""
        p = self.params
        gts = self._gts[imgId, catId]
        dts = self._by_score(self._dts[imgId, catId])[0:p.maxDets[-1]]
        if len(gts) == 0 or len(dts) == 0:
            return []
        sigmas = np.ascontiguousarray(p.kpt_oks_sigmas, dtype=_F64).reshape(-1)
        k = len(sigmas)
        gkp = _keypoints([g["keypoints"] for g in gts], k)
        dkp = _keypoints([d["keypoints"] for d in dts], k)
        gbox = _boxes([g["bbox"] for g in gts])
        garea = _numbers([g["area"] for g in gts], "area")
        nterms = _oks_nterms(gkp, k)
        goff = np.array([0, len(gts)], dtype=_I64)
        dlen = np.array([len(dts)], dtype=_I64)
        zero = np.zeros(2, dtype=_I64)
        eoff = np.array([0, int(nterms.sum()) * len(dts)], dtype=_I64)
        e = np.empty(int(eoff[-1]), dtype=_F64)
        grow, drow = np.arange(len(gts), dtype=_I64), np.arange(len(dts), dtype=_I64)
        _core.eval_oks_terms(gkp, grow, gbox, grow, garea, dkp, drow, sigmas, goff, zero, dlen,
                             eoff, e)
        out = np.zeros(len(dts) * len(gts), dtype=_F64)
        _core.eval_oks_sum(np.exp(-e), nterms, goff, dlen, eoff,
                           np.array([0, out.shape[0]], dtype=_I64), out)
        return out.reshape(len(dts), len(gts))

    def evaluateImg(self, imgId: Any, catId: Any, aRng: Any, maxDet: int) -> Any:
        """pycocotools' per-image result dict for one category and area range (None when
        the cell is empty)."""
        p = self.params
        gt, dt = self._cell_lists(imgId, catId)
        if len(gt) == 0 and len(dt) == 0:
            return None
        dt = self._by_score(dt)[0:maxDet]
        ious = self.ious[imgId, catId]
        have = len(ious) > 0
        gign, gcrowd, garea, gid = _gt_columns(gt, p.iouType == "keypoints")
        darea, did = _dt_columns(dt)
        T = len(p.iouThrs)
        D = len(dt)
        mat = np.zeros(D * len(gt), dtype=_F64)
        if have:
            full = np.asarray(ious, dtype=_F64)
            if full.shape[0] < D:
                raise EvaluationError("evaluateImg: maxDet exceeds the rows of ious")
            mat = np.ascontiguousarray(full[:D]).reshape(-1)
        return _eval_img(imgId, catId, aRng, maxDet, gt, gign, garea, gcrowd, gid, dt, darea,
                         did, mat, have, np.ascontiguousarray(p.iouThrs, dtype=_F64).reshape(T),
                         np.array([aRng[0], aRng[1]], dtype=_F64))

    # -- accumulate ----------------------------------------------------------------------------
    def _emit(self, line: str) -> None:
        """Print one line of accumulate's or summarize's output (a hook for collecting it)."""
        print(line)

    def accumulate(self, p: Params | None = None) -> None:
        """Precision, recall and scores per threshold, recall level, category, area range and
        maxDets (``eval``)."""
        self._emit("Accumulating evaluation results...")
        tic = time.time()
        cells = self._cells
        if cells is not None:
            empty = cells.K * cells.I * len(cells.area_rngs) == 0
        else:
            empty = not self._evalImgs
        if empty:
            self._emit("Please run evaluate() first")
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        T, R = len(p.iouThrs), len(p.recThrs)
        K = len(p.catIds) if p.useCats else 1
        A, M = len(p.areaRng), len(p.maxDets)
        precision = np.full((T, R, K, A, M), -1.0)  # pycocotools' -np.ones, in one pass
        recall = np.full((T, K, A, M), -1.0)
        scores = np.full((T, R, K, A, M), -1.0)
        _pe = self._paramsEval
        if not isinstance(_pe, Params):
            raise EvaluationOrderError("Please run evaluate() first")
        cat_ids = _pe.catIds if _pe.useCats else [-1]
        set_k = set(cat_ids)
        set_a = set(map(tuple, _pe.areaRng))
        set_m = set(_pe.maxDets)
        set_i = set(_pe.imgIds)
        k_list = [n for n, k in enumerate(p.catIds) if k in set_k]
        m_list = [m for n, m in enumerate(p.maxDets) if m in set_m]
        a_list = [n for n, a in enumerate(map(tuple, p.areaRng)) if a in set_a]
        i_list = [n for n, i in enumerate(p.imgIds) if i in set_i]
        I0, A0 = len(_pe.imgIds), len(_pe.areaRng)
        src = cells if cells is not None else _FromEvalImgs(self._evalImgs, A0, I0)
        base_k = np.array([k0 * A0 * I0 for k0 in k_list], dtype=_I64)
        base_a = np.array([a0 * I0 for a0 in a_list], dtype=_I64)
        t_eval = src.T
        if t_eval > T and len(base_k) and len(base_a) and len(m_list) and len(i_list):
            raise EvaluationError(f"accumulate: {T} iouThrs, but evaluate() used {t_eval}")
        rec = np.ascontiguousarray(p.recThrs, dtype=_F64).reshape(-1)
        prec_flat = precision.reshape(-1)
        rec_flat = recall.reshape(-1)
        sc_flat = scores.reshape(-1)
        m_arr = np.array(m_list, dtype=_I64)
        i_arr = np.array(i_list, dtype=_I64)
        identity = len(i_list) == src.I0 and bool(np.array_equal(i_arr, np.arange(src.I0)))

        nparts = resolve_threads(_all_cores_if_none(self.threads), max(len(base_k), 1))

        def part(j0: int, j1: int) -> int:
            # part j takes categories j, j + nparts, ...: categories differ widely in size
            return min(int(_core.eval_accumulate(
                src.cell_id, src.doff, src.dlen, src.state, src.summary, src.npig, src.dscore,
                t_eval,
                src.A0, src.I0, src.n_dense, base_k, base_a, m_arr, i_arr, identity, rec,
                prec_flat, rec_flat, sc_flat, K, A, M, j, len(base_k), nparts))
                for j in range(j0, j1))

        if len(base_k):
            codes = run_parts(part, nparts, nparts)
            if min(codes) < 0:
                raise EvaluationError(
                    "accumulate: params.imgIds, catIds or areaRng index past the evaluated "
                    "evalImgs (pycocotools raises IndexError here)")
        self.eval = {
            "params": p,
            "counts": [T, R, K, A, M],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
            "scores": scores,
        }
        self._emit(f"DONE (t={time.time() - tic:0.2f}s).")

    # -- summarize -----------------------------------------------------------------------------
    def _summarize(self, ap: int = 1, iouThr: float | None = None, areaRng: str = "all",
                   maxDets: int = 100) -> Any:
        p = self.params
        title = "Average Precision" if ap == 1 else "Average Recall"
        kind = "(AP)" if ap == 1 else "(AR)"
        iou = f"{p.iouThrs[0]:0.2f}:{p.iouThrs[-1]:0.2f}" if iouThr is None else f"{iouThr:0.2f}"
        aind = [i for i, lbl in enumerate(p.areaRngLbl) if lbl == areaRng]
        mind = [i for i, m in enumerate(p.maxDets) if m == maxDets]
        if ap == 1:
            s = self.eval["precision"]
            if iouThr is not None:
                s = s[np.where(iouThr == p.iouThrs)[0]]
            s = s[:, :, :, aind, mind]
        else:
            s = self.eval["recall"]
            if iouThr is not None:
                s = s[np.where(iouThr == p.iouThrs)[0]]
            s = s[:, :, aind, mind]
        valid = s[s > -1]
        mean = -1 if len(valid) == 0 else np.mean(valid)
        self._emit(f" {title:<18} {kind} @[ IoU={iou:<9} | area={areaRng:>6s} | "
                   f"maxDets={maxDets:>3d} ] = {mean:0.3f}")
        return mean

    def summarize(self) -> None:
        """Print the 12 (10 for keypoints) standard metrics and store them in ``stats``."""
        if not self.eval:
            raise EvaluationOrderError("Please run accumulate() first")
        md = self.params.maxDets
        if self.params.iouType in ("segm", "bbox"):
            # (ap, iouThr, area, maxDets: a literal, or an index into params.maxDets)
            rows: list[tuple[int, Any, str, Any]] = [
                (1, None, "all", 100), (1, .5, "all", [2]), (1, .75, "all", [2]),
                (1, None, "small", [2]), (1, None, "medium", [2]), (1, None, "large", [2]),
                (0, None, "all", [0]), (0, None, "all", [1]), (0, None, "all", [2]),
                (0, None, "small", [2]), (0, None, "medium", [2]), (0, None, "large", [2])]
        elif self.params.iouType == "keypoints":
            rows = [(1, None, "all", 20), (1, .5, "all", 20), (1, .75, "all", 20),
                    (1, None, "medium", 20), (1, None, "large", 20), (0, None, "all", 20),
                    (0, .5, "all", 20), (0, .75, "all", 20), (0, None, "medium", 20),
                    (0, None, "large", 20)]
        else:
            raise EvaluationError(f"unknown iouType {self.params.iouType!r}")
        stats = np.zeros((len(rows),))
        for n, (ap, thr, area, m) in enumerate(rows):
            # params.maxDets is read row by row, so a short list fails where pycocotools does
            stats[n] = self._summarize(ap, iouThr=thr, areaRng=area,
                                       maxDets=md[m[0]] if type(m) is list else m)
        self.stats = stats

    def __str__(self) -> str:
        # pycocotools prints the summary and returns None, so str() raises TypeError
        self.summarize()
        return None  # type: ignore[return-value]


class _FromEvalImgs:
    """The kernel's accumulate inputs rebuilt from an evalImgs list (a subclass's own
    evaluateImg, or an evalImgs assigned by the caller): one entry per cell."""

    def __init__(self, evalImgs: Any, A0: int, I0: int) -> None:
        entries = list(evalImgs) if evalImgs else []
        n = len(entries)
        # each entry its own cell: entry number n is cell n at area 0
        self.A0, self.I0, self.n_dense = 1, max(n, 1), n
        self.cell_id = np.array([c for c, e in enumerate(entries) if e is not None],
                                dtype=_I64)
        live = [e for e in entries if e is not None]
        self.dlen = np.array([len(e["dtScores"]) for e in live], dtype=_I64)
        self.doff = np.zeros(len(live) + 1, dtype=_I64)
        np.cumsum(self.dlen, out=self.doff[1:])
        self.T = int(live[0]["dtMatches"].shape[0]) if live else 0
        nd = int(self.doff[-1])
        self.dscore = np.zeros(nd, dtype=_F64)
        self.state = np.zeros(self.T * nd, dtype=np.uint8)
        self.npig = np.zeros(len(live), dtype=_I64)
        for c, e in enumerate(live):
            d0, d1 = int(self.doff[c]), int(self.doff[c + 1])
            self.dscore[d0:d1] = np.asarray(e["dtScores"], dtype=_F64)
            dtm = np.asarray(e["dtMatches"])
            dig = np.asarray(e["dtIgnore"]).astype(bool)
            code = np.where(dig, 2, np.where(dtm != 0, 1, 0)).astype(np.uint8)
            # a detection's codes together: state[d * T + t] (one area range here)
            self.state.reshape(nd, self.T)[d0:d1] = code[:, :d1 - d0].T
            self.npig[c] = int(np.count_nonzero(np.asarray(e["gtIgnore"]) == 0))
        # the code every threshold has, or 3 (they differ): see eval_accumulate
        codes = self.state.reshape(nd, self.T)
        if self.T:
            self.summary = np.where((codes == codes[:, :1]).all(axis=1), codes[:, 0],
                                    3).astype(np.uint8)
        else:
            self.summary = np.full(nd, 3, dtype=np.uint8)


def __getattr__(name: str) -> Any:
    """StreamingCOCOeval and StreamingResult, imported when first asked for (maskcodecs'
    _streaming builds on this module, and a COCOeval user does not pay for it)."""
    if name in ("StreamingCOCOeval", "StreamingResult"):
        from maskcodecs import _streaming
        return getattr(_streaming, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

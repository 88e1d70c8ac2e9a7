"""``StreamingCOCOeval``: COCO evaluation fed batch by batch, for validation in training loops.

Each ``update`` lays its detections out per (category, image) cell with the ground truth of
the same images, and runs the IoU, OKS and matching kernels on them at once (the GIL
released); what it keeps per detection is what ``accumulate`` reads (its codes at each area
range and threshold, and its score), plus the detection's own columns, so that an image seen
again (in a later batch, or in another process's state) is matched anew with all of its
detections. ``compute`` only accumulates. The result equals ``COCOeval`` on
``gt.loadRes(results())`` bit for bit: same matching, same per-cell order (a cell's
detections in the order they arrived, sorted by score with pycocotools' stable sort), same
accumulate.
"""
from __future__ import annotations

import copy
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs import mask as _mask
from maskcodecs import rle as _rle
from maskcodecs._args import threads_arg
from maskcodecs._coco_scan import sorted_unique
from maskcodecs.cocoeval import COCOeval, Params, _Cells, _Fallback, _positions, _ranges
from maskcodecs.errors import EvaluationError, EvaluationTypeError, MaskCodecError

__all__ = ["StreamingCOCOeval", "StreamingResult"]

_I64 = np.int64
_F64 = np.float64
_STATE_FORMAT = "maskcodecs.StreamingCOCOeval/1"
_PARALLEL_WORK = 1 << 16  # detections x ground truths of a batch worth the pool


# -- the detections' own columns -----------------------------------------------------------------
class _Slots:
    """Columns named by __slots__, moved to and from a state dict (arrays and bytes)."""

    __slots__: tuple[str, ...] = ()

    def to_state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> Any:
        return cls(**{name: d[name] for name in cls.__slots__})


class _Rows(_Slots):
    """Detections as columns: image and category positions, score, loadRes's area, and the
    geometry of the iouType (boxes (n, 4) xywh; RLE counts strings as one byte buffer with
    offsets and sizes; keypoints (n, 3K))."""

    __slots__ = ("img", "cat", "score", "area", "box", "chars", "off", "h", "w", "kps")

    def __init__(self, img: np.ndarray, cat: np.ndarray, score: np.ndarray, area: np.ndarray,
                 box: np.ndarray | None = None, chars: np.ndarray | None = None,
                 off: np.ndarray | None = None, h: np.ndarray | None = None,
                 w: np.ndarray | None = None, kps: np.ndarray | None = None) -> None:
        self.img, self.cat, self.score, self.area = img, cat, score, area
        self.box, self.chars, self.off, self.h, self.w, self.kps = box, chars, off, h, w, kps

    def __len__(self) -> int:
        return len(self.img)

    def take(self, idx: np.ndarray) -> _Rows:
        idx = np.asarray(idx, dtype=_I64)
        chars = off = h = w = None
        if self.chars is not None:
            assert self.off is not None and self.h is not None and self.w is not None
            lengths = self.off[idx + 1] - self.off[idx]
            off = np.zeros(len(idx) + 1, dtype=_I64)
            np.cumsum(lengths, out=off[1:])
            chars = self.chars[_ranges(self.off[idx], lengths)]
            h, w = self.h[idx], self.w[idx]
        return _Rows(self.img[idx], self.cat[idx], self.score[idx], self.area[idx],
                     None if self.box is None else self.box[idx], chars, off, h, w,
                     None if self.kps is None else self.kps[idx])

    @staticmethod
    def concat(parts: list[_Rows]) -> _Rows:
        if len(parts) == 1:
            return parts[0]
        first = parts[0]

        def cat(name: str) -> Any:
            if getattr(first, name) is None:
                return None
            return np.concatenate([getattr(r, name) for r in parts])

        off = None
        if first.off is not None:
            lengths = np.concatenate([np.diff(r.off) for r in parts])  # type: ignore[arg-type]
            off = np.zeros(len(lengths) + 1, dtype=_I64)
            np.cumsum(lengths, out=off[1:])
        return _Rows(cat("img"), cat("cat"), cat("score"), cat("area"), cat("box"),
                     cat("chars"), off, cat("h"), cat("w"), cat("kps"))


class _RowsSide:
    """The detection side of a batch's cells (the protocol of cocoeval's _ScanSide): rows of
    a _Rows, read through row maps."""

    def __init__(self, rows: _Rows, sel: np.ndarray, chars: bytes | None) -> None:
        self.r, self.sel, self.chars = rows, sel, chars

    def __len__(self) -> int:
        return len(self.sel)

    def take(self, perm: np.ndarray) -> _RowsSide:
        return _RowsSide(self.r, self.sel[perm], self.chars)

    def scores(self) -> np.ndarray:
        return self.r.score[self.sel]

    def dt_columns(self) -> tuple[np.ndarray, np.ndarray]:
        # loadRes numbers results 1..n; matching only needs them positive
        return self.r.area[self.sel], (self.sel + 1).astype(_F64)

    def box_source(self, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert self.r.box is not None
        return self.r.box, self.sel

    def strings(self, need: np.ndarray) -> Any:
        r = self.r
        return _core.rle_strings_from_chars(self.chars, r.off, r.h, r.w, self.sel[need])

    def string_source(self, need: np.ndarray) -> tuple[Any, np.ndarray]:
        r = self.r
        every = np.arange(len(r), dtype=_I64)
        return _core.rle_strings_from_chars(self.chars, r.off, r.h, r.w, every), self.sel

    def rles(self, need: np.ndarray) -> list[Any]:
        r = self.r
        assert r.off is not None and r.h is not None and r.w is not None and self.chars is not None
        return [{"size": [int(r.h[j]), int(r.w[j])],
                 "counts": self.chars[int(r.off[j]):int(r.off[j + 1])]}
                for j in self.sel[need].tolist()]

    def keypoints(self, need: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        assert self.r.kps is not None
        return self.r.kps, np.where(need, self.sel, -1)


class _GroundTruth:
    """A batch's ground-truth side: the baseline's rows, with their flag, area and id
    columns read once for the whole ground truth (not again per batch)."""

    def __init__(self, side: Any, columns: tuple[np.ndarray, ...], rows: np.ndarray,
                 strings: Any = None, kps: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.side, self.columns, self.rows, self.all_strings = side, columns, rows, strings
        self.kps = kps

    def __len__(self) -> int:
        return len(self.side)

    def take(self, perm: np.ndarray) -> _GroundTruth:
        return _GroundTruth(self.side.take(perm), tuple(c[perm] for c in self.columns),
                            self.rows[perm], self.all_strings, self.kps)

    def gt_columns(self, keypoints: bool) -> tuple[np.ndarray, ...]:
        return self.columns

    def keypoints(self, need: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.kps is None or self.kps[0].shape[1] != 3 * k:
            return self.side.keypoints(need, k)
        mat, row_of = self.kps  # every ground truth's, read once
        return mat, np.where(need, row_of[self.rows], -1)

    def string_source(self, need: np.ndarray) -> tuple[Any, np.ndarray]:
        if self.all_strings is None:
            return self.side.string_source(need)
        return self.all_strings, self.rows  # every ground truth's, rasterised once

    def __getattr__(self, name: str) -> Any:  # box_source, strings, rles, keypoints
        return getattr(self.side, name)


class _NoResults:
    """A results set with no annotations: the baseline evaluation of the ground truth."""

    def getAnnIds(self, *args: Any, **kwargs: Any) -> list[Any]:  # noqa: N802
        return []

    def loadAnns(self, ids: Any = None) -> list[Any]:  # noqa: N802
        return []


class _Threads:
    def __init__(self, threads: int | None) -> None:
        self.threads = threads


# -- what accumulate reads -------------------------------------------------------------------------
class _Matched(_Slots):
    """The matching results of some cells: global cell numbers (k * I + i), each cell's
    detections (doff, dlen) in state/summary/dscore, and npig[c * A + a]."""

    __slots__ = ("cell", "doff", "dlen", "npig", "state", "summary", "dscore")

    def __init__(self, cell: np.ndarray, doff: np.ndarray, dlen: np.ndarray, npig: np.ndarray,
                 state: np.ndarray, summary: np.ndarray, dscore: np.ndarray) -> None:
        self.cell, self.doff, self.dlen, self.npig = cell, doff, dlen, npig
        self.state, self.summary, self.dscore = state, summary, dscore

    def select(self, keep: np.ndarray, A: int, T: int) -> _Matched:
        """The kept cells, their scored detections gathered (nothing else kept)."""
        cells = np.flatnonzero(keep)
        dlen = self.dlen[cells]
        doff = np.zeros(len(cells) + 1, dtype=_I64)
        np.cumsum(dlen, out=doff[1:])
        rows = _ranges(self.doff[cells], dlen)
        return _Matched(self.cell[cells], doff, dlen,
                        self.npig.reshape(-1, A)[cells].reshape(-1),
                        self.state.reshape(-1, A * T)[rows].reshape(-1),
                        self.summary.reshape(-1, A)[rows].reshape(-1), self.dscore[rows])

    @staticmethod
    def concat(parts: list[_Matched]) -> _Matched:
        if len(parts) == 1:
            return parts[0]
        base = np.cumsum([0] + [len(p.dscore) for p in parts[:-1]])
        dlen = np.concatenate([p.dlen for p in parts])
        doff = np.concatenate([p.doff[:len(p.dlen)] + b for p, b in zip(parts, base)] +
                              [np.array([0], dtype=_I64)])
        doff[-1] = int(base[-1]) + len(parts[-1].dscore)
        return _Matched(np.concatenate([p.cell for p in parts]), doff.astype(_I64), dlen,
                        np.concatenate([p.npig for p in parts]),
                        np.concatenate([p.state for p in parts]),
                        np.concatenate([p.summary for p in parts]),
                        np.concatenate([p.dscore for p in parts]))


class _Record:
    """One update's images: their detections (all of them, earlier ones first) and, once
    matched, the results of their cells."""

    def __init__(self, images: np.ndarray, rows: _Rows) -> None:
        self.images, self.rows = images, rows
        self.matched: _Matched | None = None


class _Source:
    """accumulate's view of the assembled cells (the attributes of cocoeval's _Cells that
    COCOeval.accumulate reads)."""

    def __init__(self, m: _Matched, p: Params, n_img: int, K: int) -> None:
        order = np.argsort(m.cell, kind="stable")
        A = len(p.areaRng)
        self.cell_id = np.ascontiguousarray(m.cell[order], dtype=_I64)
        if len(self.cell_id) > 1 and not (np.diff(self.cell_id) > 0).all():
            raise EvaluationError("StreamingCOCOeval: a cell was matched twice (internal)")
        self.doff = np.ascontiguousarray(np.append(m.doff[:-1][order], 0), dtype=_I64)
        self.dlen = np.ascontiguousarray(m.dlen[order], dtype=_I64)
        self.npig = np.ascontiguousarray(m.npig.reshape(-1, A)[order].reshape(-1), dtype=_I64)
        self.state, self.summary, self.dscore = m.state, m.summary, m.dscore
        self.T = len(p.iouThrs)
        self.A0, self.I0, self.n_dense = A, n_img, n_img * K
        self.K, self.I, self.area_rngs = K, n_img, list(p.areaRng)


class _Collecting(COCOeval):
    """A COCOeval that keeps accumulate's and summarize's lines instead of printing them."""

    def __init__(self, iouType: str) -> None:
        super().__init__(None, None, iouType)
        self.lines: list[str] = []

    def _emit(self, line: str) -> None:
        self.lines.append(line)


class StreamingResult:
    """What ``StreamingCOCOeval.compute()`` returns.

    Attributes
    ----------
    eval : dict
        ``COCOeval.eval`` of the same detections: ``params``, ``counts``, ``date``,
        ``precision`` [T, R, K, A, M], ``recall`` [T, K, A, M], ``scores``.
    stats : numpy.ndarray
        ``COCOeval.stats`` (12 values; 10 for keypoints).
    metrics : dict of str to float
        ``stats`` by name: ``AP``, ``AP50``, ``AP75``, ``APs``, ``APm``, ``APl``,
        ``AR1``, ``AR10``, ``AR100``, ``ARs``, ``ARm``, ``ARl`` (keypoints: ``AP``, ``AP50``,
        ``AP75``, ``APm``, ``APl``, ``AR``, ``AR50``, ``AR75``, ``ARm``, ``ARl``); the AR
        names follow ``params.maxDets``.
    lines : list of str
        The lines ``COCOeval.summarize()`` prints.
    """

    def __init__(self, eval: dict[str, Any], stats: np.ndarray, metrics: dict[str, float],
                 lines: list[str]) -> None:
        self.eval, self.stats, self.metrics, self.lines = eval, stats, metrics, lines

    def summarize(self) -> None:
        """Print the summary lines, as ``COCOeval.summarize()`` does."""
        for line in self.lines:
            print(line)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:.4f}" for k, v in self.metrics.items())
        return f"StreamingResult({inner})"


def _metric_names(p: Params) -> list[str]:
    if p.iouType == "keypoints":
        return ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
    md = p.maxDets
    return ["AP", "AP50", "AP75", "APs", "APm", "APl", f"AR{md[0]}", f"AR{md[1]}",
            f"AR{md[2]}", "ARs", "ARm", "ARl"]


# -- input coercion --------------------------------------------------------------------------------
def _as_array(x: Any, name: str) -> np.ndarray:
    """x as a numpy array without a copy where it allows: numpy arrays, DLPack producers
    (torch CPU tensors) and anything with ``__array__``."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "__dlpack__") and not hasattr(x, "__array_interface__"):
        try:
            return np.from_dlpack(x)
        except (TypeError, ValueError, BufferError, RuntimeError):
            pass  # e.g. a tensor that needs grad, or on a device: __array__ says why
    try:
        return np.asarray(x)
    except Exception as exc:
        raise EvaluationTypeError(f"update: {name} cannot be read as an array ({exc}); "
                                  "pass CPU arrays (tensor.detach().cpu())") from exc


def _column(x: Any, name: str, n: int | None, kind: str) -> np.ndarray:
    a = _as_array(x, name)
    if a.ndim == 0 and n is not None:
        a = np.broadcast_to(a, (n,))
    if a.ndim != 1:
        raise EvaluationError(f"update: {name} must be one value per detection, got shape "
                              f"{a.shape}")
    if n is not None and len(a) != n:
        raise EvaluationError(f"update: {name} has {len(a)} values for {n} detections")
    if kind == "i":
        if a.dtype.kind == "b" or (a.dtype.kind not in "iu" and len(a)):
            if a.dtype.kind == "f" and np.isfinite(a).all() and (a == np.trunc(a)).all():
                return a.astype(_I64)
            raise EvaluationTypeError(f"update: {name} must be integers, got {a.dtype}")
        if a.dtype.kind == "u" and len(a) and a.max() >= 2**63:
            raise EvaluationError(f"update: {name} out of range")
        return a.astype(_I64)
    if a.dtype.kind not in "iuf" and len(a):
        raise EvaluationTypeError(f"update: {name} must be numbers, got {a.dtype}")
    return a.astype(_F64)


# -- the evaluator ---------------------------------------------------------------------------------
class StreamingCOCOeval:
    """COCO evaluation fed batch by batch: ``update`` per batch, ``compute`` at the end.

    ``compute()`` gives what ``COCOeval(coco_gt, coco_gt.loadRes(dets), iouType)`` would
    after ``evaluate()``, ``accumulate()`` and ``summarize()`` on the same detections,
    bit for bit (``results()`` returns them as pycocotools result dicts). The matching of an
    update's images happens in ``update``, in the extension with the GIL released;
    ``compute()`` only accumulates.

    Parameters
    ----------
    coco_gt : COCO
        The ground truth (:class:`maskcodecs.coco.COCO` or pycocotools' own).
    iouType : {'bbox', 'segm', 'keypoints'}
    threads : int, optional
        Worker threads for the kernels (None: all cores, 1: serial).

    Attributes
    ----------
    params : Params
        As in ``COCOeval``; change it before the first ``update`` (it is fixed then).
        ``useCats = 0`` is not supported.

    Notes
    -----
    Detections are pycocotools results: in ``bbox`` evaluation a box ``[x, y, w, h]`` (area
    ``w * h``, as loadRes computes it; ``box_format="xyxy"`` converts ``x2 - x1`` and
    ``y2 - y1`` in float64); in ``segm`` a mask (area: its pixel count; boxes are not used);
    in ``keypoints`` a keypoint list (area and box from its extent, as loadRes). Detections of
    images outside ``params.imgIds`` or of labels outside ``params.catIds`` are dropped, as
    ``COCOeval`` drops them; an image id the ground truth lacks raises, as loadRes does.

    Examples
    --------
    >>> import contextlib, io
    >>> import numpy as np
    >>> from maskcodecs.coco import COCO
    >>> from maskcodecs.cocoeval import StreamingCOCOeval
    >>> with contextlib.redirect_stdout(io.StringIO()):
    ...     gt = COCO({"images": [{"id": 1, "height": 100, "width": 100}],
    ...                "categories": [{"id": 1}],
    ...                "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                                 "bbox": [10, 10, 40, 40], "area": 1600,
    ...                                 "iscrowd": 0}]})
    >>> ev = StreamingCOCOeval(gt, iouType="bbox")
    >>> ev.update(image_ids=[1], boxes=[[12, 12, 40, 40]], scores=[0.9], labels=[1])
    >>> round(ev.compute().metrics["AP50"], 6)
    1.0
    """

    def __init__(self, coco_gt: Any, iouType: str = "bbox", *,
                 threads: int | None = None) -> None:
        threads = threads_arg(threads)
        if iouType not in ("segm", "bbox", "keypoints"):
            raise EvaluationError(f"unknown iouType {iouType!r}")
        self.cocoGt = coco_gt
        self.params = Params(iouType=iouType)
        self.params.imgIds = sorted(coco_gt.getImgIds())
        self.params.catIds = sorted(coco_gt.getCatIds())
        self.threads = os.cpu_count() if threads is None else threads
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._p: Params | None = None
        self._records: list[_Record | None] = []
        self._owner = np.zeros(0, dtype=_I64)
        self.eval: dict[str, Any] = {}
        self.stats: Any = []

    # -- fixed at the first update -------------------------------------------------------------
    def _start(self) -> Params:
        """Fix params and evaluate the ground truth alone (its cells with no detection)."""
        if self._p is not None:
            return self._p
        p = copy.deepcopy(self.params)
        if p.iouType not in ("segm", "bbox", "keypoints"):
            raise EvaluationError(f"unknown iouType {p.iouType!r}")
        if not p.useCats:
            raise EvaluationError("StreamingCOCOeval: params.useCats = 0 is not supported")
        p.imgIds = list(sorted_unique(p.imgIds))
        p.catIds = list(sorted_unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self._img_ids = np.asarray(p.imgIds)
        self._cat_ids = np.asarray(p.catIds)
        self._gt_img_ids = np.asarray(sorted_unique(list(self.cocoGt.getImgIds())))
        ev = _Threads(self.threads)
        ev.cocoGt, ev.cocoDt = self.cocoGt, _NoResults()  # type: ignore[attr-defined]
        try:
            base = _Cells(ev, p)
        except _Fallback:
            base = _Cells(ev, p, columns=False)
        self._base = base
        self._gcols = (base.gign, base.gcrowd, base.garea, base.gid)  # in base.gts order
        self._gstrings = None
        self._gkps = None
        if p.iouType == "keypoints" and len(base.gts):
            # every ground truth's keypoints read once (the batches index them)
            try:
                k = len(np.asarray(p.kpt_oks_sigmas).reshape(-1))
                mat, row_of = base.gts.keypoints(np.ones(len(base.gts), dtype=bool), k)
                self._gkps = (mat, np.asarray(row_of, dtype=_I64))
            except (MaskCodecError, _Fallback, ValueError, TypeError, KeyError):
                self._gkps = None  # the batches read theirs and raise COCOeval's error
        if p.iouType == "segm" and len(base.gts):
            # every ground truth rasterised once, in parallel over image sizes (where one
            # cannot be, the batches rasterise theirs and raise COCOeval's error if needed)
            try:
                self._gstrings = base.gts.strings(np.ones(len(base.gts), dtype=bool))
            except (MaskCodecError, _Fallback, ValueError, TypeError, KeyError):
                self._gstrings = None
        n_img, K, A = len(p.imgIds), len(p.catIds), len(p.areaRng)
        self._I, self._K, self._A, self._T = n_img, K, A, len(p.iouThrs)
        img = base.cell_id % max(n_img, 1)
        order = np.argsort(img, kind="stable")
        self._img_cells = order
        self._img_off = np.zeros(n_img + 1, dtype=_I64)
        np.cumsum(np.bincount(img, minlength=n_img)[:n_img], out=self._img_off[1:])
        self._base_img = img
        self._owner = np.full(n_img, -1, dtype=_I64)
        self._fingerprint = self._fingerprint_of(p, len(base.gts))
        self._p = p
        return p

    @staticmethod
    def _fingerprint_of(p: Params, n_gt: int) -> str:
        import hashlib  # here: loading OpenSSL costs every importer of cocoeval 3.6 MB
        h = hashlib.sha256()
        for part in (p.iouType, repr(list(p.imgIds)), repr(list(p.catIds)),
                     repr([list(map(float, r)) for r in p.areaRng]), repr(list(p.maxDets)),
                     np.asarray(p.iouThrs, dtype=_F64).tobytes(),
                     np.asarray(p.recThrs, dtype=_F64).tobytes(),
                     np.asarray(getattr(p, "kpt_oks_sigmas", ()), dtype=_F64).tobytes(),
                     str(n_gt)):
            h.update(part if isinstance(part, bytes) else part.encode())
        return h.hexdigest()

    # -- update --------------------------------------------------------------------------------
    def update(self, image_ids: Any, boxes: Any = None, scores: Any = None, labels: Any = None,
               masks: Any = None, keypoints: Any = None, box_format: str = "xywh") -> None:
        """Add one batch of detections and match their images.

        Parameters
        ----------
        image_ids : array_like of int, shape (n,), or one int for every detection
        boxes : array_like, shape (n, 4)
            Required for ``bbox``; ``box_format`` ``"xywh"`` (COCO) or ``"xyxy"``.
        scores : array_like, shape (n,)
        labels : array_like of int, shape (n,)
            Category ids.
        masks : array_like (n, H, W) of bool or integers (nonzero: foreground), or a list of
            (H, W) masks or COCO RLE dicts (compressed or uncompressed); required for
            ``segm``.
        keypoints : array_like, shape (n, K, 3) or (n, 3K); required for ``keypoints``.

        Arrays may be numpy arrays, torch CPU tensors (read through DLPack without a copy)
        or anything with ``__array__``. Safe to call from several threads.
        """
        p = self._start_locked()
        rows = self._rows(p, image_ids, boxes, scores, labels, masks, keypoints, box_format)
        if len(rows):
            self._add(rows)

    def _start_locked(self) -> Params:
        with self._lock:
            return self._start()

    def _rows(self, p: Params, image_ids: Any, boxes: Any, scores: Any, labels: Any,
              masks: Any, keypoints: Any, box_format: str) -> _Rows:
        if box_format not in ("xywh", "xyxy"):
            raise EvaluationError(f"update: box_format must be 'xywh' or 'xyxy', got "
                                  f"{box_format!r}")
        if scores is None or labels is None:
            raise EvaluationError("update: scores and labels are required")
        score = _column(scores, "scores", None, "f")
        n = len(score)
        label = _column(labels, "labels", n, "i")
        ids = _column(image_ids, "image_ids", n, "i")
        if n and not _positions_in(self._gt_img_ids, ids)[1].all():
            raise EvaluationError("update: Results do not correspond to current coco set "
                                  "(an image id the ground truth lacks)")
        img, img_ok = _positions_in(self._img_ids, ids)
        cat, cat_ok = _positions_in(self._cat_ids, label)
        keep = np.flatnonzero(img_ok & cat_ok)
        t = p.iouType
        box = chars = off = h = w = kps = None
        if t == "bbox":
            if boxes is None:
                raise EvaluationError("update: bbox evaluation needs boxes")
            b = _as_array(boxes, "boxes")
            if b.ndim == 1 and b.size == 0:
                b = b.reshape(0, 4)
            if b.ndim != 2 or b.shape[1] != 4 or len(b) != n:
                raise EvaluationError(f"update: boxes must be (n, 4), got shape {b.shape}")
            if b.dtype.kind not in "iuf" and n:
                raise EvaluationTypeError(f"update: boxes must be numbers, got {b.dtype}")
            box = np.array(b if len(keep) == n else b[keep], dtype=_F64, order="C")
            if box_format == "xyxy":
                box[:, 2] -= box[:, 0]
                box[:, 3] -= box[:, 1]
            area = box[:, 2] * box[:, 3]
        elif t == "segm":
            if masks is None:
                raise EvaluationError("update: segm evaluation needs masks")
            chars, off, h, w, area = _mask_strings(masks, n, keep, self.threads)
        else:
            if keypoints is None:
                raise EvaluationError("update: keypoints evaluation needs keypoints")
            k = len(np.asarray(p.kpt_oks_sigmas).reshape(-1))
            kp = _as_array(keypoints, "keypoints")
            if kp.dtype.kind not in "iuf" and kp.size:
                raise EvaluationTypeError(f"update: keypoints must be numbers, got {kp.dtype}")
            if kp.size == 0 and n == 0:
                kp = kp.reshape(0, 3 * k)
            if kp.ndim == 3 and kp.shape[1:] == (k, 3):
                kp = kp.reshape(len(kp), 3 * k)
            if kp.ndim != 2 or kp.shape != (n, 3 * k):
                raise EvaluationError(f"update: keypoints must be (n, {k}, 3) or (n, {3 * k}), "
                                      f"got shape {kp.shape}")
            kps = np.array(kp[keep], dtype=_F64, order="C")
            xs, ys = kps[:, 0::3], kps[:, 1::3]
            area = (xs.max(axis=1) - xs.min(axis=1)) * (ys.max(axis=1) - ys.min(axis=1)) \
                if len(kps) else np.zeros(0, dtype=_F64)
        return _Rows(img[keep], cat[keep], np.ascontiguousarray(score[keep]),
                     np.ascontiguousarray(area, dtype=_F64), box, chars, off, h, w, kps)

    def _add(self, rows: _Rows) -> None:
        """Claim the batch's images (with the detections they already had), match them
        outside the lock, publish the result."""
        images = sorted_unique(rows.img).astype(_I64)
        with self._lock:
            prev = self._owner[images].copy()
            earlier = []
            for rid in sorted_unique(prev[prev >= 0]).tolist():
                rec = self._records[rid]
                assert rec is not None
                mine = images[prev == rid]
                earlier.append(rec.rows.take(np.flatnonzero(np.isin(rec.rows.img, mine))))
            rows = _Rows.concat(earlier + [rows])
            rid = len(self._records)
            record = _Record(images, rows)
            self._records.append(record)
            self._owner[images] = rid
            self._pending += 1
        try:
            matched = self._match(rows, images)
        except BaseException:
            with self._lock:
                mine = self._owner[images] == rid
                self._owner[images[mine]] = prev[mine]
                self._records[rid] = None
                self._pending -= 1
                self._idle.notify_all()
            raise
        with self._lock:
            record.matched = matched
            self._pending -= 1
            self._drop_dead(prev[prev >= 0])
            self._idle.notify_all()

    def _drop_dead(self, rids: np.ndarray) -> None:
        """Free the records among rids that no longer own an image."""
        for rid in sorted_unique(rids).tolist():
            rec = self._records[rid]
            if rec is not None and rec.matched is not None and \
                    not (self._owner[rec.images] == rid).any():
                self._records[rid] = None

    def _match(self, rows: _Rows, images: np.ndarray) -> _Matched:
        """Evaluate the cells of these images: their ground truth and these detections."""
        p, base, n_img = self._p, self._base, self._I
        assert p is not None
        nb = len(images)
        # the ground truth of these images: the baseline's cells of each, in category order
        lens = self._img_off[images + 1] - self._img_off[images]
        cells = self._img_cells[_ranges(self._img_off[images], lens)]
        b_of = np.repeat(np.arange(nb, dtype=_I64), lens)
        k_of = base.cell_id[cells] // n_img
        glen = base.goff[cells + 1] - base.goff[cells]
        grows = _ranges(base.goff[cells], glen)
        gcell = np.repeat(k_of * nb + b_of, glen)
        b = np.searchsorted(images, rows.img)
        dcell = rows.cat * nb + b
        chars = rows.chars.tobytes() if rows.chars is not None else None
        dside = _RowsSide(rows, np.arange(len(rows), dtype=_I64), chars)
        pb = copy.copy(p)
        pb.imgIds = [p.imgIds[j] for j in images.tolist()]
        # a small batch runs serially: handing parts to the pool costs more than they take
        threads = self.threads if len(rows) * max(len(grows), 1) >= _PARALLEL_WORK else 1
        gside = _GroundTruth(base.gts.take(grows), tuple(col[grows] for col in self._gcols),
                             grows, self._gstrings, self._gkps)
        c = _Cells(_Threads(threads), pb, sides=((gside, gcell), (dside, dcell)))
        k, bi = np.divmod(c.cell_id, nb)
        return _Matched(k * n_img + images[bi], c.doff, c.dlen, c.npig, c.state, c.summary,
                        c.dscore)

    # -- results -------------------------------------------------------------------------------
    def _wait(self) -> None:
        while self._pending:
            self._idle.wait()

    def _assembled(self, with_ground_truth: bool) -> tuple[_Matched, _Rows | None]:
        """Every live cell's results (and, for state(), the live detections)."""
        p = self._p
        assert p is not None
        A, T, n_img = self._A, self._T, self._I
        parts, rows = [], []
        if with_ground_truth:
            base = self._base
            keep = self._owner[self._base_img] < 0
            cells = np.flatnonzero(keep)
            parts.append(_Matched(base.cell_id[cells], np.zeros(len(cells) + 1, dtype=_I64),
                                  np.zeros(len(cells), dtype=_I64),
                                  base.npig.reshape(-1, A)[cells].reshape(-1),
                                  np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.uint8),
                                  np.zeros(0, dtype=_F64)))
        for rid, rec in enumerate(self._records):
            if rec is None or rec.matched is None:
                continue
            m = rec.matched
            alive = self._owner[m.cell % n_img] == rid
            parts.append(m.select(alive, A, T) if not alive.all() else m)
            live_rows = self._owner[rec.rows.img] == rid
            rows.append(rec.rows if live_rows.all() else rec.rows.take(np.flatnonzero(live_rows)))
        if not parts:
            parts.append(_Matched(np.zeros(0, dtype=_I64), np.zeros(1, dtype=_I64),
                                  np.zeros(0, dtype=_I64), np.zeros(0, dtype=_I64),
                                  np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.uint8),
                                  np.zeros(0, dtype=_F64)))
        return _Matched.concat(parts), (_Rows.concat(rows) if rows else None)

    def compute(self) -> StreamingResult:
        """Accumulate and summarize the detections so far (nothing is printed).

        Returns
        -------
        StreamingResult
            ``eval``, ``stats``, named ``metrics`` and the summary ``lines``, equal to
            ``COCOeval``'s on the same detections.
        """
        with self._lock:
            p = self._start()
            self._wait()
            matched, _ = self._assembled(True)
        src = _Source(matched, p, self._I, self._K)
        ev = _Collecting(p.iouType)
        ev.params = copy.deepcopy(p)
        ev._paramsEval = copy.deepcopy(p)
        ev._cells = src  # type: ignore[assignment]
        ev.threads = self.threads
        ev.accumulate()
        ev.lines.clear()
        ev.summarize()
        self.eval, self.stats = ev.eval, ev.stats
        metrics = {name: float(v) for name, v in zip(_metric_names(p), ev.stats)}
        return StreamingResult(ev.eval, ev.stats, metrics, list(ev.lines))

    def results(self) -> list[dict[str, Any]]:
        """The detections so far as pycocotools result dicts (each image's in the order they
        arrived): ``COCOeval`` on ``coco_gt.loadRes(results())`` equals ``compute()``."""
        with self._lock:
            p = self._start()
            self._wait()
            _, rows = self._assembled(False)
        if rows is None:
            return []
        img = self._img_ids[rows.img].tolist()
        cat = self._cat_ids[rows.cat].tolist()
        score = rows.score.tolist()
        out: list[dict[str, Any]] = []
        for j in range(len(rows)):
            d: dict[str, Any] = {"image_id": img[j], "category_id": cat[j], "score": score[j]}
            if p.iouType == "bbox":
                assert rows.box is not None
                d["bbox"] = rows.box[j].tolist()
            elif p.iouType == "segm":
                assert rows.off is not None and rows.chars is not None
                assert rows.h is not None and rows.w is not None
                d["segmentation"] = {"size": [int(rows.h[j]), int(rows.w[j])],
                                     "counts": rows.chars[rows.off[j]:rows.off[j + 1]]
                                     .tobytes().decode("ascii")}
            else:
                assert rows.kps is not None
                d["keypoints"] = rows.kps[j].tolist()
            out.append(d)
        return out

    # -- data-parallel validation --------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """A picklable snapshot of the detections and their matching, for ``merge``."""
        with self._lock:
            self._start()
            self._wait()
            matched, rows = self._assembled(False)
            return {"format": _STATE_FORMAT, "fingerprint": self._fingerprint,
                    "matched": matched.to_state(),
                    "rows": rows.to_state() if rows is not None else None}

    def merge(self, states: Sequence[dict[str, Any]]) -> None:
        """Add the states of other evaluators (on the same ground truth and params): the
        result is that of one evaluator given this one's updates, then each state's in
        order. An image present in several is matched anew with all of its detections."""
        self._start_locked()
        for st in states:
            if not isinstance(st, dict) or st.get("format") != _STATE_FORMAT:
                raise EvaluationTypeError("merge: not a StreamingCOCOeval state")
            if st.get("fingerprint") != self._fingerprint:
                raise EvaluationError("merge: the state comes from another ground truth or "
                                      "other params")
            if st["rows"] is None:
                continue
            try:
                rows = _Rows.from_state(st["rows"])
                matched = _Matched.from_state(st["matched"])
            except (KeyError, TypeError) as exc:
                raise EvaluationTypeError(f"merge: a damaged state ({exc})") from exc
            self._adopt(rows, matched)

    def _adopt(self, rows: _Rows, matched: _Matched) -> None:
        images = sorted_unique(rows.img).astype(_I64)
        if len(images) and (images[0] < 0 or images[-1] >= self._I):
            raise EvaluationError("merge: a damaged state (image positions out of range)")
        with self._lock:
            self._wait()
            taken = images[self._owner[images] >= 0]
            rid = len(self._records)
            rec = _Record(images, rows)
            rec.matched = matched
            self._records.append(rec)
            free = images[self._owner[images] < 0]
            self._owner[free] = rid
        if len(taken):  # seen here already: matched again with all of its detections
            self._add(rows.take(np.flatnonzero(np.isin(rows.img, taken))))

    def reset(self) -> None:
        """Forget every detection (params stay fixed once the first update ran)."""
        with self._lock:
            self._wait()
            self._records = []
            if self._p is not None:
                self._owner[:] = -1
            self.eval, self.stats = {}, []


def _positions_in(table: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each value in the sorted table, and whether it is there (cocoeval's
    lookup; a table of other than integers through a dict)."""
    if table.dtype.kind in "iu" or len(table) == 0:
        return _positions(table.astype(_I64), values)
    lookup = {v: j for j, v in enumerate(table.tolist())}
    pos = np.array([lookup.get(v, -1) for v in values.tolist()], dtype=_I64)
    return np.maximum(pos, 0), pos >= 0


def _mask_strings(masks: Any, n: int, keep: np.ndarray, threads: int | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The kept masks as compressed RLE counts strings in one buffer, their sizes and areas."""
    if isinstance(masks, (list, tuple)):
        if len(masks) != n:
            raise EvaluationError(f"update: {len(masks)} masks for {n} detections")
        rles = []
        for m in [masks[j] for j in keep.tolist()]:
            if not isinstance(m, dict):  # one (H, W) mask (images of several sizes)
                a = _as_array(m, "masks")
                if a.ndim != 2 or a.dtype.kind not in "biu":
                    raise EvaluationTypeError(f"update: a mask must be (H, W) of bool or "
                                              f"integers, got {a.dtype} {a.shape}")
                rles.append(_rle.encode(a))
                continue
            try:
                size = m["size"]
                counts = m["counts"]
            except (KeyError, TypeError) as exc:
                raise EvaluationTypeError("update: an RLE mask needs 'size' and 'counts'") \
                    from exc
            if isinstance(counts, str):
                try:
                    counts = counts.encode("ascii")
                except UnicodeEncodeError as exc:
                    raise EvaluationError("update: an RLE counts string is not ASCII") from exc
                m = {"size": size, "counts": counts}
            elif not isinstance(counts, bytes):
                m = _mask.frPyObjects(m, size[0], size[1])  # uncompressed: compressed
            rles.append(m)
    else:
        arr = _as_array(masks, "masks")
        if arr.ndim == 2 and n == 0 and arr.size == 0:
            arr = arr.reshape(0, 0, 0)
        if arr.ndim != 3 or len(arr) != n:
            raise EvaluationError(f"update: masks must be (n, H, W), got shape {arr.shape}")
        if arr.dtype.kind not in "biu":
            raise EvaluationTypeError(f"update: masks must be bool or integer (threshold "
                                      f"them first), got {arr.dtype}")
        picked_arr = arr if len(keep) == n else arr[keep]  # (a torch tensor's memory, as is)
        rles = _rle.encode_batch(picked_arr, threads=threads) if len(keep) else []
    try:
        area = np.asarray(_mask.area(rles), dtype=_F64).reshape(-1) if rles else \
            np.zeros(0, dtype=_F64)
        sizes = np.array([[int(r["size"][0]), int(r["size"][1])] for r in rles],
                         dtype=_I64).reshape(-1, 2)
    except MaskCodecError:
        raise
    except (TypeError, ValueError, IndexError) as exc:
        raise EvaluationError(f"update: an RLE mask could not be read ({exc})") from exc
    strings = [r["counts"] for r in rles]
    lengths = np.array([len(s) for s in strings], dtype=_I64)
    off = np.zeros(len(strings) + 1, dtype=_I64)
    np.cumsum(lengths, out=off[1:])
    chars = np.frombuffer(b"".join(strings), dtype=np.uint8).copy()
    return chars, off, sizes[:, 0].copy(), sizes[:, 1].copy(), area

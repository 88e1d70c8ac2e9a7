"""COCO RLE, the Pythonic tier: explicit functions, keyword-only options, any memory order.

Use :mod:`maskcodecs.mask` where pycocotools' exact signatures are wanted; use this module for
C-ordered (row-major / torch-layout) data, output buffers, batches and threads.

Examples
--------
>>> import numpy as np
>>> from maskcodecs import rle
>>> m = np.zeros((3, 4), dtype=bool)
>>> m[1, 1:3] = True
>>> r = rle.encode(m)
>>> r
{'size': [3, 4], 'counts': b'41202'}
>>> bool((rle.decode(r) == m).all())
True
>>> rle.counts(r).tolist()
[4, 1, 2, 1, 4]
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs._args import threads_arg
from maskcodecs._pool import resolve_threads, run_parts
from maskcodecs._types import RLE
from maskcodecs.errors import CountsStringError, MaskShapeError, SizeMismatchError
from maskcodecs.mask import _as_mask_bytes, _counts_to_u32, _key, _size, area, merge, toBbox

__all__ = [
    "encode", "decode", "encode_batch", "decode_batch", "counts", "from_counts",
    "area", "to_bbox", "merge", "iou",
]

Order = Literal["C", "F"]


def encode(mask: Any, /) -> RLE:
    """Encode one 2-D mask (any memory order, bool or integer; nonzero is foreground).

    Parameters
    ----------
    mask : array_like, shape (h, w)

    Returns
    -------
    dict
        ``{'size': [h, w], 'counts': bytes}``, identical to pycocotools on the same mask.
    """
    a = _as_mask_bytes(mask, ndim=2)
    h, w = a.shape
    return {"size": [h, w], "counts": _core.encode_one(a)}


def encode_batch(masks: Any, /, *, threads: int | None = None) -> list[RLE]:
    """Encode a stack of masks laid out (N, H, W), the torch layout, without transposing.

    Parameters
    ----------
    masks : array_like, shape (n, h, w)
        Any memory order; C order (the usual one) is scanned in place.
    threads : int, optional
        Worker threads (``0`` or negative: all cores). The kernel releases the GIL.

    Returns
    -------
    list of dict
    """
    threads_arg(threads)  # the shared check, before any work
    a = _as_mask_bytes(masks, ndim=3)
    n = a.shape[0]
    view = a.transpose(1, 2, 0)  # (h, w, n) view, no copy
    t = resolve_threads(threads, n)
    chunks = run_parts(lambda s, e: _core.encode_masks(view[:, :, s:e]), n, t)
    return [r for chunk in chunks for r in chunk]


def _out_array(out: np.ndarray | None, shape: tuple[int, ...], order: Order) -> np.ndarray:
    if out is None:
        return np.empty(shape, dtype=np.uint8, order=order)
    if not isinstance(out, np.ndarray):
        raise MaskShapeError("out must be a numpy array")
    if out.shape != shape:
        raise MaskShapeError(f"out has shape {out.shape}, expected {shape}")
    if out.dtype not in (np.uint8, np.bool_):
        raise MaskShapeError(f"out must be uint8 or bool, got {out.dtype}")
    contiguous = out.flags.c_contiguous if order == "C" else out.flags.f_contiguous
    if not contiguous or not out.flags.writeable:
        raise MaskShapeError(f"out must be writable and {order}-contiguous")
    return out


def decode(rle: RLE, /, *, order: Order = "C", out: np.ndarray | None = None) -> np.ndarray:
    """Decode one compressed RLE to an (h, w) mask.

    Parameters
    ----------
    rle : dict
        ``{'size': [h, w], 'counts': bytes | str}``.
    order : {'C', 'F'}
        Memory order of the result. C order is written directly (no transpose pass).
    out : numpy.ndarray, optional
        Writable uint8 or bool array of shape (h, w) in ``order`` to decode into.

    Returns
    -------
    numpy.ndarray
        uint8 (or ``out``'s dtype) with 1 for foreground. Counts that fall short of h*w
        leave zeros in the tail.

    Raises
    ------
    InvalidRLEError
        Malformed counts or counts overrunning h*w.
    """
    if order not in ("C", "F"):
        raise ValueError("order must be 'C' or 'F'")
    h, w = _size(rle)
    res = _out_array(out, (h, w), order)
    flat = res.reshape(-1, order=order).view(np.uint8)
    _core.decode_into([rle], flat, h, w, order == "C")
    return res


def decode_batch(rles: Sequence[RLE], /, *, order: Order = "C", out: np.ndarray | None = None,
                 threads: int | None = None) -> np.ndarray:
    """Decode RLEs of one size into an (n, h, w) stack (C order: the torch layout).

    With ``order='F'`` the result is (h, w, n) Fortran-ordered, as pycocotools returns.

    Raises
    ------
    SizeMismatchError
        If the RLEs do not all have the same size.
    """
    threads_arg(threads)  # the shared check, before any work
    rles = list(rles)
    n = len(rles)
    if n == 0:
        return np.zeros((0, 0, 0), dtype=np.uint8)
    h, w = _size(rles[0])
    for k, r in enumerate(rles):
        if _size(r) != (h, w):
            raise SizeMismatchError(f"RLE {k} has size {list(_size(r))}, expected {[h, w]}")
    shape = (n, h, w) if order == "C" else (h, w, n)
    res = _out_array(out, shape, order)
    flat = res.reshape(-1, order=order).view(np.uint8)
    t = resolve_threads(threads, n)
    hw = h * w
    # each part unpacks only its own RLEs and writes only its own slice of the output
    run_parts(lambda s, e: _core.decode_into(rles[s:e], flat[s * hw:e * hw], h, w,
                                              order == "C"), n, t)
    return res


def counts(rle: RLE, /) -> np.ndarray:
    """Uncompressed counts (uint32) of a compressed RLE: runs alternate 0s and 1s, from 0s."""
    c = _key(rle, "counts")
    try:
        b = c if isinstance(c, bytes) else str(c).encode("ascii")
    except UnicodeEncodeError:
        raise CountsStringError("counts string is not ASCII (its characters are "
                                "'0'..'o')") from None
    return np.frombuffer(_core.counts_from_string(b), dtype=np.uint32).copy()


def from_counts(counts: Any, /, size: Sequence[int]) -> RLE:
    """Compressed RLE of uncompressed counts for a mask of ``size = [h, w]``."""
    h, w = _size({"size": size})
    c = _counts_to_u32(counts)
    if int(c.sum(dtype=np.uint64)) > h * w:
        from maskcodecs.errors import InvalidRLEError

        raise InvalidRLEError("counts sum to more than h*w")
    return {"size": [h, w], "counts": _core.string_from_counts(c)}


def to_bbox(rles: Sequence[RLE], /) -> np.ndarray:
    """Tight boxes [x, y, w, h] (float64, shape (n, 4)) of RLEs."""
    return toBbox(list(rles))


def iou(dt: Sequence[RLE], gt: Sequence[RLE], /, *, iscrowd: Sequence[int] | None = None,
        threads: int | None = None) -> np.ndarray:
    """IoU matrix (len(dt), len(gt)) of RLEs, pycocotools semantics, optional threads.

    Always returns an array (shape (m, 0) or (0, n) for empty inputs).
    """
    threads_arg(threads)  # the shared check, before any work
    from maskcodecs.mask import iou as _iou

    dt, gt = list(dt), list(gt)
    crowd = [0] * len(gt) if iscrowd is None else list(iscrowd)
    if not dt or not gt:
        return np.zeros((len(dt), len(gt)), dtype=np.float64, order="F")
    return _iou(dt, gt, crowd, threads=resolve_threads(threads, len(gt)))


# re-exported with pycocotools semantics
area = area
merge = merge

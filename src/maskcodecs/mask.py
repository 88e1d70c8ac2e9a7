"""Drop-in replacement for ``pycocotools.mask``.

Same names, argument order, return types, dtypes, shapes, memory order and dict key order
as pycocotools 2.0.11, with the differences listed in ``docs/compatibility.md`` (crashes and
garbage results fixed, C-ordered input accepted, the GIL released).

Examples
--------
>>> import numpy as np
>>> from maskcodecs import mask as mask_utils
>>> m = np.zeros((4, 3), dtype=np.uint8, order="F")
>>> m[0, 2] = m[1, 1] = m[2, 1] = 1
>>> rle = mask_utils.encode(m)
>>> rle
{'size': [4, 3], 'counts': b'521O2'}
>>> int(mask_utils.area(rle))
3
>>> mask_utils.toBbox(rle).tolist()
[1.0, 0.0, 2.0, 3.0]
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs._args import threads_arg
from maskcodecs._pool import resolve_threads, run_parts
from maskcodecs._types import RLE
from maskcodecs.errors import (
    CountRangeError,
    CountsStringError,
    CrowdLengthError,
    ImageTooLargeError,
    InvalidRLEError,
    MaskCodecError,
    MaskDtypeError,
    MaskLayoutWarning,
    MaskShapeError,
    RLEKeyError,
    RLETypeError,
)

__all__ = ["encode", "decode", "area", "toBbox", "iou", "merge", "frPyObjects",
           "frPoly", "frBbox", "frUncompressedRLE"]


class UnsupportedInputError(MaskCodecError, TypeError):
    """An input of a kind pycocotools does not accept either."""


# ---------------------------------------------------------------------------------------------
# masks
# ---------------------------------------------------------------------------------------------

def _as_mask_bytes(bimask: Any, ndim: int | None = None) -> np.ndarray:
    """View a mask as uint8 without copying where possible (bool/uint8/int8 are viewed)."""
    a = bimask if isinstance(bimask, np.ndarray) else np.asarray(bimask)
    if ndim is not None and a.ndim != ndim:
        raise MaskShapeError(f"expected a {ndim}-D mask, got {a.ndim}-D")
    dt = a.dtype
    if dt == np.bool_ or dt == np.uint8 or dt == np.int8:
        return a.view(np.uint8) if dt != np.uint8 else a
    if dt.kind in "iu":
        # wider integers: any nonzero value is foreground
        return (a != 0).view(np.uint8)
    raise MaskDtypeError(
        f"mask dtype must be bool or an integer type, got {dt} "
        "(pycocotools accepts only uint8 and bool)")


def encode(bimask: Any) -> RLE | list[RLE]:
    """Encode binary masks to compressed RLE.

    Parameters
    ----------
    bimask : array_like, shape (h, w) or (h, w, n)
        Masks of bool or any integer dtype, in any memory order; nonzero is foreground.

    Returns
    -------
    dict or list of dict
        ``{'size': [h, w], 'counts': bytes}`` for a 2-D mask, a list for a 3-D stack.

    Raises
    ------
    MaskShapeError
        If the array is not 2-D or 3-D.
    MaskDtypeError
        If the dtype is not bool or integer.

    Warns
    -----
    MaskLayoutWarning
        Once per process, for a C-ordered 3-D stack whose first axis is much the shortest:
        it looks like (n, h, w) and would be cut across (see ``maskcodecs.rle.encode_batch``).
    """
    a = _as_mask_bytes(bimask)
    if a.ndim == 3:
        _warn_if_nhw(a)
        return _core.encode_masks(a)
    if a.ndim == 2:
        h, w = a.shape
        return {"size": [h, w], "counts": _core.encode_one(a)}
    raise MaskShapeError(f"encode expects a 2-D (h, w) or 3-D (h, w, n) mask, got {a.ndim}-D")


_layout_warned = False


def _warn_if_nhw(a: np.ndarray) -> None:
    """Warn (once) where a 3-D stack looks like (N, H, W): C-ordered, the leading axis at
    most a quarter of the other two, the last at least 16. pycocotools reads (H, W, N), so
    such a stack would be encoded as H masks of W x N pixels; the drop-in keeps that."""
    global _layout_warned
    if _layout_warned or not a.flags.c_contiguous or a.flags.f_contiguous:
        return
    n, h, w = a.shape
    if 4 * n <= h and 4 * n <= w and w >= 16:
        _layout_warned = True
        warnings.warn(
            f"encode reads a 3-D stack as (h, w, n), as pycocotools does: this C-ordered "
            f"{a.shape} array gives {w} masks of {n}x{h}. For an (n, h, w) stack (the torch "
            "layout) use maskcodecs.rle.encode_batch; for (h, w, n) pass np.asfortranarray "
            "(this warning is shown once)", MaskLayoutWarning, stacklevel=3)


def _check_rle(obj: Any) -> None:
    if not isinstance(obj, dict):
        raise RLETypeError(f"expected an RLE dict, got {type(obj).__name__}")


def decode(rleObjs: RLE | list[RLE]) -> np.ndarray:
    """Decode compressed RLEs to masks.

    Returns
    -------
    numpy.ndarray
        uint8 ``(h, w, n)`` Fortran-ordered for a list, ``(h, w)`` (a Fortran-ordered
        view) for a single dict.

    Raises
    ------
    InvalidRLEError
        If counts overrun h*w or the string is malformed (ValueError subclass).
    SizeMismatchError
        If the RLEs in a list have different sizes.
    """
    if type(rleObjs) is list:
        n = len(rleObjs)
        if n == 0:
            return np.zeros((0, 0, 0), dtype=np.uint8, order="F")
        _check_rle(rleObjs[0])
        h, w = _size(rleObjs[0])
        # validate every string before allocating n*h*w bytes for it
        _core.areas(rleObjs, np.empty(n, dtype=np.uint64))
        out = np.empty((h, w, n), dtype=np.uint8, order="F")
        _core.decode_into(rleObjs, out.reshape(-1, order="F"), h, w, False)
        return out
    return _core.decode_one(rleObjs)[:, :, 0]  # huge outputs validated before allocating


def _key(rle: Any, key: str) -> Any:
    if not isinstance(rle, Mapping):  # a string or array indexed by a key: Type/IndexError
        raise RLETypeError(f"an RLE must be a dict with 'size' and 'counts', got "
                           f"{type(rle).__name__}")
    try:
        return rle[key]
    except KeyError:
        raise RLEKeyError(f"RLE has no {key!r} key") from None


def _size(rle: Any) -> tuple[int, int]:
    size = _key(rle, "size")
    try:
        h, w = int(size[0]), int(size[1])
    except (TypeError, ValueError, IndexError, KeyError):  # KeyError: a dict size
        raise MaskShapeError(f"RLE size must be [h, w], got {size!r}") from None
    except OverflowError:
        raise ImageTooLargeError(f"RLE size {size!r} has too many pixels") from None
    if h < 0 or w < 0:
        raise MaskShapeError(f"RLE size must be non-negative, got {size!r}")
    if h * w >= 1 << 48:  # the kernel's MAX_PIXELS
        raise ImageTooLargeError(f"RLE size {size!r} has too many pixels")
    return h, w


def area(rleObjs: RLE | list[RLE]) -> Any:
    """Foreground pixel count of each RLE.

    Returns
    -------
    numpy.ndarray or numpy.uint32
        uint32 array (n,) for a list (uint64 if an area does not fit in 32 bits), a scalar
        for a single dict.
    """
    if type(rleObjs) is list:
        out = np.empty(len(rleObjs), dtype=np.uint64)
        _core.areas(rleObjs, out)
        if out.size and int(out.max()) > 0xFFFFFFFF:
            return out
        return out.astype(np.uint32)
    a = _core.area_one(rleObjs)
    return np.uint32(a) if a <= 0xFFFFFFFF else np.uint64(a)


def toBbox(rleObjs: RLE | list[RLE]) -> np.ndarray:
    """Tight bounding boxes ``[x, y, w, h]`` (float64) of RLEs: (n, 4) for a list, (4,)."""
    if type(rleObjs) is list:
        out = np.empty((len(rleObjs), 4), dtype=np.float64)
        _core.bboxes(rleObjs, out)
        return out
    _check_rle(rleObjs)
    out = np.empty((1, 4), dtype=np.float64)
    _core.bboxes([rleObjs], out)
    return out[0]


# ---------------------------------------------------------------------------------------------
# merge / iou
# ---------------------------------------------------------------------------------------------

def merge(rleObjs: list[RLE], intersect: Any = 0) -> RLE:
    """Union (default) or intersection of RLEs of one size.

    Raises
    ------
    SizeMismatchError
        If the sizes differ (pycocotools silently returns an empty 0x0 RLE).
    """
    if isinstance(rleObjs, dict):
        raise RLETypeError("merge expects a list of RLE dicts, got a single dict")
    if intersect is None:
        raise RLETypeError("an integer is required for intersect")
    flag = bool(int(intersect))
    rles = rleObjs if type(rleObjs) is list else list(rleObjs)
    h, w, counts = _core.merge_strings(rles, flag)
    return {"size": [int(h), int(w)], "counts": counts}


def _iou_kind(objs: Any) -> tuple[str, Any]:
    if isinstance(objs, np.ndarray):
        a = objs
        if a.ndim == 1 and a.size == 4:
            a = a.reshape(1, 4)
        if a.ndim != 2 or (a.shape[0] and a.shape[1] != 4):
            raise UnsupportedInputError(
                "numpy ndarray input is only for *bounding boxes* and should have Nx4 dimension")
        return "box", np.ascontiguousarray(a, dtype=np.float64).reshape(-1, 4)
    if type(objs) is list or isinstance(objs, list):
        if len(objs) == 0:
            return "empty", objs
        if all(isinstance(o, dict) for o in objs):
            return "rle", objs
        if all(isinstance(o, (list, np.ndarray)) and len(o) == 4 for o in objs):
            return "box", np.array(objs, dtype=np.float64).reshape(-1, 4)
        raise UnsupportedInputError("list input can be bounding box (Nx4) or RLEs ([RLE])")
    raise UnsupportedInputError(
        "unrecognized type.  The following type: RLEs (rle), np.ndarray (box), and list "
        "(box) are supported.")


def iou(dt: Any, gt: Any, pyiscrowd: Any, *, threads: int | None = None) -> Any:
    """Intersection over union of every (dt, gt) pair: (len(dt), len(gt)) float64, F-order.

    Boxes ``[x, y, w, h]`` (list or (N, 4) array) or compressed RLEs. ``pyiscrowd[g]``
    nonzero makes the union the detection's area. Returns ``[]`` when either side is
    empty, as pycocotools does. Mask pairs of different sizes whose boxes overlap give -1.

    Parameters
    ----------
    threads : int, optional
        Worker threads for RLE pairs (keyword-only extension; default 1, 0: all cores).
    """
    threads_arg(threads)  # the shared check, before any work
    crowd = np.array(pyiscrowd, dtype=np.uint8).reshape(-1)
    kd, d = _iou_kind(dt)
    kg, g = _iou_kind(gt)
    if len(crowd) != len(g):  # pycocotools' assertion, kept when asserts are stripped
        raise CrowdLengthError("iou(iscrowd=) must have the same length as gt")
    m, n = len(d), len(g)
    if m == 0 or n == 0:
        return []
    if kd != kg:
        raise UnsupportedInputError(
            "The dt and gt should have the same data type, either RLEs, list or np.ndarray")
    out = np.empty((m, n), dtype=np.float64, order="F")
    if kd == "box":
        _core.box_iou_matrix(d, g, np.ascontiguousarray(crowd), out)
        return out
    plan = _core.iou_plan(d, g, crowd.tobytes())
    nthreads = resolve_threads(threads, n)
    if nthreads == 1:
        plan.run(out, 0, n)
        return out
    run_parts(lambda a, b: plan.run(out, a, b), n, nthreads)
    return out


# ---------------------------------------------------------------------------------------------
# frPyObjects and the _mask-level constructors
# ---------------------------------------------------------------------------------------------

def _as_siz(v: Any, name: str) -> int:
    try:
        i = int(v)
    except (TypeError, ValueError):
        raise MaskShapeError(f"{name} must be an integer, got {v!r}") from None
    except OverflowError:  # an infinite float
        raise ImageTooLargeError(f"{name} {v!r} is not a finite size") from None
    if i < 0:
        raise MaskShapeError(f"{name} must be non-negative, got {v!r}")
    if i >= 1 << 63:  # beyond a C size (and the kernel's pixel limit)
        raise ImageTooLargeError(f"{name} {v!r} is too large")
    return i


def frPoly(poly: Sequence[Any], h: Any, w: Any) -> list[RLE]:
    """Rasterise polygons (one RLE each), bit-exact with pycocotools ``_mask.frPoly``."""
    h = _as_siz(h, "h")
    w = _as_siz(w, "w")
    return _core.polygons_to_rles(poly if type(poly) is list else list(poly), h, w)


def frBbox(bb: Any, h: Any, w: Any) -> list[RLE]:
    """Rasterise ``[x, y, w, h]`` boxes, bit-exact with pycocotools ``_mask.frBbox``.

    Any memory order and any real dtype are read correctly (pycocotools reads the raw
    buffer as packed row-major float64).
    """
    h = _as_siz(h, "h")
    w = _as_siz(w, "w")
    a = np.asarray(bb, dtype=np.float64)
    if a.ndim == 1 and a.shape[0] == 4:
        a = a.reshape(1, 4)
    if a.ndim != 2 or a.shape[1] != 4:
        if a.ndim == 2 and a.shape[0] == 0:
            return []
        raise MaskShapeError(f"boxes must have shape (N, 4), got {a.shape}")
    strings = _core.boxes_to_strings(a, h, w)
    return [{"size": [h, w], "counts": s} for s in strings]


def _counts_to_u32(counts: Any) -> np.ndarray:
    try:
        arr = np.asarray(counts)
        if arr.dtype.kind == "f":
            arr = arr.astype(np.int64)  # pycocotools truncates floats
        if arr.dtype.kind not in "iub":
            arr = np.array(counts, dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as e:
        raise RLETypeError(f"uncompressed counts must be a list of integers: {e}") from None
    arr = arr.reshape(-1)
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) > 0xFFFFFFFF):
        bad = int(arr.min()) if int(arr.min()) < 0 else int(arr.max())
        raise CountRangeError(f"Python integer {bad} out of bounds for uint32")
    return np.ascontiguousarray(arr, dtype=np.uint32)


def frUncompressedRLE(ucRles: list[dict[str, Any]], h: Any = None, w: Any = None) -> list[RLE]:
    """Compress uncompressed RLEs (``counts`` a list of ints); each dict's own size is used."""
    out: list[RLE] = []
    try:
        items = iter(ucRles)
    except TypeError:  # a number, a 0-d array
        items = None
    if items is None or isinstance(ucRles, (Mapping, str, bytes)):
        raise RLETypeError(f"frUncompressedRLE takes a list of RLE dicts, got "
                           f"{type(ucRles).__name__}")
    for r in items:
        hh, ww = _size(r)
        cnt = _counts_to_u32(_key(r, "counts"))
        if int(cnt.sum(dtype=np.uint64)) > hh * ww:
            raise InvalidRLEError(
                f"uncompressed counts sum to {int(cnt.sum(dtype=np.uint64))}, more than "
                f"h*w = {hh * ww}")
        out.append({"size": [hh, ww], "counts": _core.string_from_counts(cnt)})
    return out


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


@overload
def frPyObjects(pyobj: dict[str, Any], h: Any, w: Any) -> RLE: ...
@overload
def frPyObjects(pyobj: Any, h: Any, w: Any) -> RLE | list[RLE]: ...


def frPyObjects(pyobj: Any, h: Any, w: Any) -> RLE | list[RLE]:
    """Convert polygons, boxes or uncompressed RLE into compressed RLE.

    Dispatch as pycocotools: an (N, 4) ndarray is boxes; a list of polygons gives one RLE
    each; a list of uncompressed RLE dicts gives a list; a single uncompressed RLE dict
    gives a dict. Fixed: a list of ``[x, y, w, h]`` lists is rasterised as boxes, and a
    single flat polygon (or box) gives a single dict.
    """
    if isinstance(pyobj, np.ndarray):
        return frBbox(pyobj, h, w)
    if isinstance(pyobj, list):
        if len(pyobj) == 0:
            raise UnsupportedInputError("input type is not supported: empty list")
        first = pyobj[0]
        if isinstance(first, dict):
            if "counts" in first and "size" in first:
                return frUncompressedRLE(pyobj, h, w)
            raise UnsupportedInputError("input type is not supported.")
        if _is_number(first):
            # one flat polygon or one box
            if len(pyobj) == 4:
                return frBbox([pyobj], h, w)[0]
            return frPoly([pyobj], h, w)[0]
        try:
            lengths = [len(p) for p in pyobj]
        except TypeError:
            raise UnsupportedInputError("input type is not supported.") from None
        if lengths[0] == 4 and all(n == 4 for n in lengths):
            return frBbox(pyobj, h, w)
        if lengths[0] >= 4:
            return frPoly(pyobj, h, w)
        raise UnsupportedInputError("input type is not supported.")
    if isinstance(pyobj, dict) and "counts" in pyobj and "size" in pyobj:
        if isinstance(pyobj["counts"], (bytes, str)):
            # already compressed: pass through a normalised copy
            out: RLE = {"size": list(_size(pyobj)), "counts": _core_counts_bytes(pyobj["counts"])}
            _core.area_one(out)  # validates the counts against the size
            return out
        return frUncompressedRLE([pyobj], h, w)[0]
    raise UnsupportedInputError("input type is not supported.")


def _core_counts_bytes(c: Any) -> bytes:
    if isinstance(c, str):
        try:
            b = c.encode("ascii")
        except UnicodeEncodeError:
            raise CountsStringError(
                "counts string contains a character outside '0'..'o' (48..111)") from None
    elif isinstance(c, bytes):
        b = bytes(c)
    else:
        raise RLETypeError(f"Expected bytes, got {type(c).__name__}")
    return b

"""Encord bitmasks: the ``rleString`` codec, its JSON object and COCO conversion.

An Encord ``rleString`` is the COCO compressed-counts string of the mask's pixels taken in
**row-major** (C) order, the first run counting zeros. It is therefore the COCO counts of
the transposed mask, and converting to or from COCO is a pure relabelling of runs, done
here in the kernel without building the mask.

Policy for strings whose counts do not add up to ``height * width`` (the same as Encord's
decoder where Encord has one):

* counts summing to **less**: the missing tail is background (Encord pads with zeros);
* counts summing to **more**: :class:`~maskcodecs.errors.InvalidRLEError` (a ``ValueError``;
  Encord raises ``IndexError``);
* a malformed string: :class:`~maskcodecs.errors.CountsStringError` (a ``ValueError``).

Examples
--------
>>> import numpy as np
>>> from maskcodecs import encord
>>> m = np.array([[0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 0]], dtype=bool)
>>> encord.encode(m)
'12310'
>>> encord.to_dict(m)
{'top': 0, 'left': 0, 'height': 3, 'width': 4, 'rleString': '12310'}
>>> bool((encord.decode("12310", 3, 4) == m).all())
True
>>> encord.to_coco(encord.to_dict(m))
{'size': [3, 4], 'counts': b'22200OO'}
>>> encord.from_coco({"size": [3, 4], "counts": "22200OO"})["rleString"]
'12310'
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs._jsontypes import json_list, json_object
from maskcodecs._types import RLE
from maskcodecs.errors import (
    CountsStringError,
    FormatError,
    ImageTooLargeError,
    InvalidRLEError,
    MaskShapeError,
)
from maskcodecs.mask import _as_mask_bytes, _size, frUncompressedRLE

__all__ = [
    "BitmaskObject",
    "decode",
    "encode",
    "from_coco",
    "from_dict",
    "iter_bitmasks",
    "to_coco",
    "to_dict",
]

BitmaskDict = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def _string_bytes(s: Any, what: str = "rleString") -> bytes:
    """ASCII bytes of an rleString given as str or bytes."""
    if isinstance(s, str):
        try:
            return s.encode("ascii")
        except UnicodeEncodeError:
            raise CountsStringError(
                f"{what} contains a character outside '0'..'o' (48..111)") from None
    if isinstance(s, (bytes, bytearray, memoryview)):
        return bytes(s)
    raise FormatError(f"{what} must be str or bytes, got {type(s).__name__}")


def _dim(v: Any, name: str) -> int:
    """A non-negative integer size (accepts integral floats and digit strings, as Encord)."""
    if isinstance(v, bool):
        raise FormatError(f"{name} must be an integer, got {v!r}")
    if isinstance(v, (int, np.integer)):
        i = int(v)
    elif isinstance(v, (float, np.floating)) and float(v).is_integer():
        i = int(v)
    elif isinstance(v, str) and v.strip().lstrip("+").isdigit():
        i = int(v)
    else:
        raise FormatError(f"{name} must be an integer, got {v!r}")
    if i < 0:
        raise MaskShapeError(f"{name} must be non-negative, got {i}")
    return i


def _dims(height: Any, width: Any) -> tuple[int, int]:
    """``(h, w)`` by :func:`_dim`, with h*w below the kernels' 2**48 pixels (sizes that
    overflowed C's ssize_t reached the caller as a bare OverflowError)."""
    h, w = _dim(height, "height"), _dim(width, "width")
    if h * w >= 1 << 48:
        raise ImageTooLargeError(f"height x width {h}x{w} has too many pixels")
    return h, w


def _frame_size(height: Any, width: Any) -> tuple[int, int]:
    """``(h, w)`` of an Encord data unit or bitmask by :func:`_dims` (integers, integral
    floats and digit strings, as Encord writes them), both above 0; FormatError,
    MaskShapeError or ImageTooLargeError naming the problem otherwise."""
    h, w = _dims(height, width)
    if h == 0 or w == 0:
        raise MaskShapeError(f"height x width {h}x{w} is empty")
    return h, w


def _bounding_box(bb: Any) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` of an Encord ``boundingBox`` (coordinates normalised by the frame
    size): an object whose ``x``, ``y``, ``w``, ``h`` are finite numbers, ``w`` and ``h``
    not negative; FormatError naming the key otherwise."""
    bb = json_object(bb, "boundingBox")
    out = []
    for key in ("x", "y", "w", "h"):
        if key not in bb:
            raise FormatError(f"boundingBox has no {key!r}")
        v = bb[key]
        if (isinstance(v, bool) or not isinstance(v, (int, float))
                or not math.isfinite(v) or (key in "wh" and v < 0)):
            raise FormatError(f"boundingBox {key!r} must be a finite number"
                              f"{' >= 0' if key in 'wh' else ''}, got {v!r}")
        out.append(float(v))
    return out[0], out[1], out[2], out[3]


def _with_context(err: InvalidRLEError, h: int, w: int) -> InvalidRLEError:
    return type(err)(f"rleString of a {h}x{w} bitmask: {err}")


# ---------------------------------------------------------------------------------------------
# the string codec
# ---------------------------------------------------------------------------------------------

def encode(mask: Any, /) -> str:
    """Encode a 2-D mask as an Encord ``rleString``.

    Parameters
    ----------
    mask : array_like, shape (H, W)
        Bool or integer mask in any memory order; any nonzero value is foreground
        (Encord itself only takes bool arrays).

    Returns
    -------
    str
        The COCO-style counts string of the row-major runs, starting with a zeros run;
        ``""`` for an empty (``H * W == 0``) mask.

    Raises
    ------
    MaskShapeError
        If the mask is not 2-D.
    MaskDtypeError
        If the dtype is not bool or integer.

    Examples
    --------
    >>> import numpy as np
    >>> encode(np.array([[1, 1, 1], [0, 0, 0]], dtype=bool))
    '033'
    >>> encode(np.zeros((1, 0), dtype=bool))
    ''
    """
    a = _as_mask_bytes(mask, 2)
    if a.shape[0] == 0 or a.shape[1] == 0:
        return ""
    # the row-major runs of a are the column-major runs of a.T (no copy: any strides work)
    return _core.encode_one(a.T).decode("ascii")


def decode(rle_string: str | bytes, /, height: int, width: int) -> np.ndarray:
    """Decode an Encord ``rleString`` to a boolean mask.

    Parameters
    ----------
    rle_string : str or bytes
        The counts string (row-major runs, first run zeros).
    height, width : int
        The mask size (Encord's ``height`` and ``width``).

    Returns
    -------
    numpy.ndarray
        C-contiguous bool array of shape ``(height, width)``. Counts summing to less than
        ``height * width`` leave the tail as background.

    Raises
    ------
    InvalidRLEError
        If the counts sum to more than ``height * width`` (a ``ValueError``).
    CountsStringError
        If the string is malformed.

    Examples
    --------
    >>> decode("12310", 3, 4).astype(int).tolist()
    [[0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 0]]
    >>> decode("2", 2, 2).astype(int).tolist()
    [[0, 0], [0, 0]]
    """
    h, w = _dims(height, width)
    s = _string_bytes(rle_string)
    out = np.empty(h * w, dtype=np.uint8)
    try:
        # a linear decode of the row-major stream: column-major w x h is row-major h x w
        _core.decode_string(s, out, w, h, False)
    except InvalidRLEError as e:
        raise _with_context(e, h, w) from None
    return out.view(np.bool_).reshape(h, w)


# ---------------------------------------------------------------------------------------------
# the JSON object
# ---------------------------------------------------------------------------------------------

def to_dict(mask: Any, /) -> BitmaskDict:
    """Build the Encord bitmask object of a 2-D mask.

    Parameters
    ----------
    mask : array_like, shape (H, W)
        Bool or integer mask; nonzero is foreground.

    Returns
    -------
    dict
        ``{"top": 0, "left": 0, "height": H, "width": W, "rleString": s}`` with the keys in
        the order Encord writes them.

    Examples
    --------
    >>> import numpy as np
    >>> to_dict(np.ones((2, 3), dtype=bool))
    {'top': 0, 'left': 0, 'height': 2, 'width': 3, 'rleString': '06'}
    """
    a = _as_mask_bytes(mask, 2)
    h, w = a.shape
    return {"top": 0, "left": 0, "height": int(h), "width": int(w), "rleString": encode(a)}


def _bitmask_fields(d: Any) -> tuple[bytes, int, int]:
    """(string, height, width) of a bare bitmask dict, an object with ``"bitmask"``, or a
    :class:`BitmaskObject`."""
    if isinstance(d, BitmaskObject):
        d = d.bitmask
    if not isinstance(d, Mapping):
        raise FormatError(f"expected an Encord bitmask dict, got {type(d).__name__}")
    inner = d.get("bitmask")
    if isinstance(inner, Mapping):
        d = inner
    if "rleString" in d:
        s = d["rleString"]
    elif "rle_string" in d:
        s = d["rle_string"]
    else:
        raise FormatError("Encord bitmask has no 'rleString'")
    for key in ("height", "width"):
        if key not in d:
            raise FormatError(f"Encord bitmask has no '{key}'")
    return (_string_bytes(s), *_dims(d["height"], d["width"]))


def from_dict(d: Mapping[str, Any], /) -> np.ndarray:
    """Decode an Encord bitmask object to a boolean mask.

    Parameters
    ----------
    d : dict
        The bitmask dict (``rleString`` or ``rle_string``, ``height``, ``width``), or an
        object dict holding it under ``"bitmask"``. ``top`` and ``left`` are ignored, as
        Encord ignores them.

    Returns
    -------
    numpy.ndarray
        C-contiguous bool array of shape ``(height, width)``.

    Raises
    ------
    FormatError
        If a field is missing or has the wrong type.
    InvalidRLEError
        If the counts overrun ``height * width``.

    Examples
    --------
    >>> from_dict({"bitmask": {"top": 5, "left": 7, "height": 2, "width": 3,
    ...                        "rleString": "033"}}).astype(int).tolist()
    [[1, 1, 1], [0, 0, 0]]
    """
    s, h, w = _bitmask_fields(d)
    return decode(s, h, w)


# ---------------------------------------------------------------------------------------------
# COCO conversion (runs are transposed in the kernel; no mask is built)
# ---------------------------------------------------------------------------------------------

def to_coco(bitmask: Mapping[str, Any] | BitmaskObject, /) -> RLE:
    """Convert an Encord bitmask to a COCO compressed RLE.

    Parameters
    ----------
    bitmask : dict or BitmaskObject
        Anything :func:`from_dict` accepts, or an item of :func:`iter_bitmasks`.

    Returns
    -------
    dict
        ``{"size": [H, W], "counts": bytes}`` (column-major runs), equal to
        ``pycocotools.mask.encode(np.asfortranarray(from_dict(bitmask)))``.

    Raises
    ------
    FormatError, InvalidRLEError
        As :func:`from_dict`.

    Examples
    --------
    >>> to_coco({"height": 3, "width": 4, "rleString": "12310"})
    {'size': [3, 4], 'counts': b'22200OO'}
    """
    s, h, w = _bitmask_fields(bitmask)
    try:
        # the string holds the column-major runs of the w x h transpose
        counts = _core.transpose_string(s, w, h)
    except InvalidRLEError as e:
        raise _with_context(e, h, w) from None
    return {"size": [h, w], "counts": counts}


def from_coco(rle: Mapping[str, Any], /) -> BitmaskDict:
    """Convert a COCO RLE to an Encord bitmask object.

    Parameters
    ----------
    rle : dict
        ``{"size": [h, w], "counts": ...}`` with compressed counts (bytes or str) or
        uncompressed counts (a list of ints), column-major as in COCO.

    Returns
    -------
    dict
        ``{"top": 0, "left": 0, "height": h, "width": w, "rleString": str}``.

    Raises
    ------
    FormatError
        If ``size`` or ``counts`` is missing.
    InvalidRLEError
        If the counts overrun ``h * w`` or the string is malformed.

    Examples
    --------
    >>> from_coco({"size": [3, 4], "counts": [2, 2, 2, 2, 2, 1, 1]})
    {'top': 0, 'left': 0, 'height': 3, 'width': 4, 'rleString': '12310'}
    """
    if not isinstance(rle, Mapping) or "size" not in rle or "counts" not in rle:
        raise FormatError("expected a COCO RLE dict with 'size' and 'counts'")
    counts = rle["counts"]
    if isinstance(counts, (list, tuple, np.ndarray)):
        compressed = frUncompressedRLE([{"size": rle["size"], "counts": counts}])[0]
        size, s = compressed["size"], _string_bytes(compressed["counts"], "counts")
    else:
        size, s = rle["size"], _string_bytes(counts, "counts")
    h, w = _size({"size": size})
    if h * w == 0:
        _core.decode_string(s, np.empty(0, dtype=np.uint8), h, w, False)  # validates
        rows = ""
    else:
        rows = _core.transpose_string(s, h, w).decode("ascii")
    return {"top": 0, "left": 0, "height": h, "width": w, "rleString": rows}


# ---------------------------------------------------------------------------------------------
# label rows
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BitmaskObject:
    """One bitmask object found in an Encord label row.

    Attributes
    ----------
    data_hash : str
        The data unit holding the object.
    frame : int
        The frame index (video, DICOM, NIfTI...) or the data unit's ``data_sequence`` for
        image layouts (0 when absent).
    object_hash, feature_hash, name : str
        Encord's ``objectHash``, ``featureHash`` and ``name`` ("" when absent).
    bitmask : dict
        The bitmask dict itself (``rleString``, ``height``, ``width``...).
    label_hash : str
        The label row's ``label_hash`` ("" when absent).
    """

    data_hash: str
    frame: int
    object_hash: str
    feature_hash: str
    name: str
    bitmask: Mapping[str, Any] = field(repr=False, compare=False)
    label_hash: str = ""

    def to_mask(self) -> np.ndarray:
        """Decode the bitmask to a C-contiguous bool ``(height, width)`` array."""
        return from_dict(self.bitmask)

    def to_coco(self) -> RLE:
        """Convert the bitmask to a COCO compressed RLE (see :func:`to_coco`)."""
        return to_coco(self.bitmask)


def _frame_of(v: Any, default: int = 0) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def _objects_of(labels: Mapping[str, Any], du: Mapping[str, Any]) -> Iterator[tuple[int, Any]]:
    """(frame, object) pairs of a data unit's ``labels`` in either layout."""
    if "objects" in labels:  # image layout
        frame = _frame_of(du.get("data_sequence", 0))
        yield from ((frame, obj) for obj in json_list(labels.get("objects"), "Encord 'objects'"))
        return
    for key, frame_labels in labels.items():  # one entry per frame
        if not isinstance(frame_labels, Mapping):
            continue
        frame = _frame_of(key, -1)
        if frame < 0:
            continue
        objs = json_list(frame_labels.get("objects"), "Encord 'objects'")
        yield from ((frame, obj) for obj in objs)


def iter_bitmasks(label_rows: Mapping[str, Any] | Iterable[Mapping[str, Any]],
                  /) -> Iterator[BitmaskObject]:
    """Yield every bitmask object of Encord label-row exports.

    Parameters
    ----------
    label_rows : dict or iterable of dict
        One label row or several, as exported by Encord: images keep their objects in
        ``data_units[h]["labels"]["objects"]``, videos and DICOM/NIfTI series in
        ``data_units[h]["labels"][frame]["objects"]``.

    Yields
    ------
    BitmaskObject
        In document order: label row, data unit, frame, object.

    Raises
    ------
    FormatError
        If a label row has no ``data_units`` mapping.

    Examples
    --------
    >>> row = {"data_units": {"d1": {"labels": {"0": {"objects": [
    ...     {"objectHash": "o1", "featureHash": "f1", "name": "Mask", "shape": "bitmask",
    ...      "bitmask": {"top": 0, "left": 0, "height": 2, "width": 3, "rleString": "033"}}
    ... ]}}}}}
    >>> [(b.data_hash, b.frame, b.object_hash) for b in iter_bitmasks(row)]
    [('d1', 0, 'o1')]
    """
    if isinstance(label_rows, (str, bytes)) or not isinstance(label_rows, Iterable):
        raise FormatError("label_rows must be a label row dict or an iterable of them, got "
                          f"{type(label_rows).__name__}")
    rows: Iterable[Any] = [label_rows] if isinstance(label_rows, Mapping) else label_rows
    for row in rows:
        if not isinstance(row, Mapping) or not isinstance(row.get("data_units"), Mapping):
            raise FormatError("an Encord label row must be a dict with a 'data_units' dict")
        label_hash = str(row.get("label_hash", "") or "")
        for data_hash, du in row["data_units"].items():
            labels = du.get("labels") if isinstance(du, Mapping) else None
            if not isinstance(labels, Mapping):
                continue
            for frame, obj in _objects_of(labels, du):
                if not isinstance(obj, Mapping):
                    continue
                bm = obj.get("bitmask")
                if not isinstance(bm, Mapping):
                    continue
                yield BitmaskObject(
                    data_hash=str(data_hash),
                    frame=frame,
                    object_hash=str(obj.get("objectHash", "") or ""),
                    feature_hash=str(obj.get("featureHash", "") or ""),
                    name=str(obj.get("name", "") or ""),
                    bitmask=bm,
                    label_hash=label_hash,
                )


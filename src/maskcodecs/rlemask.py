"""RLEMask: an immutable binary mask held as its column-major COCO runs.

Every operation here works on the runs (no decoded pixel array) in the ``_rle_core`` kernel
with the GIL released, and positions are 64-bit: masks of 2**32 pixels or more work.

Examples
--------
>>> import numpy as np
>>> from maskcodecs import RLEMask
>>> a = np.zeros((4, 6), dtype=np.uint8)
>>> a[1:3, 2:5] = 1
>>> m = RLEMask.from_array(a)
>>> m
RLEMask(shape=(4, 6), area=6)
>>> m.bbox.tolist()
[2.0, 1.0, 3.0, 2.0]
>>> m.to_dict()
{'size': [4, 6], 'counts': '9220003'}
>>> (m[1:, 2:].fliplr() | RLEMask.ones((3, 4))).all()
True
"""
from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import Any, Literal, SupportsIndex

import numpy as np
import numpy.typing as npt

from maskcodecs import _rle_core as _core
from maskcodecs._types import RLE
from maskcodecs.errors import (
    ArgumentError,
    CountsStringError,
    ImageTooLargeError,
    MaskDtypeError,
    MaskShapeError,
    RLETypeError,
    SizeMismatchError,
)
from maskcodecs.mask import _counts_to_u32, _key, _size

__all__ = ["RLEMask"]

Order = Literal["C", "F"]

# truth tables of the binary operations: bit (2*a + b) is f(a, b)
_AND, _OR, _XOR, _SUB = 0b1000, 0b1110, 0b0110, 0b0100


def _shape(shape: Any) -> tuple[int, int]:
    """(h, w) of a shape argument: two non-negative integers under the pixel limit."""
    try:
        h, w = (operator.index(v) for v in shape)
    except (TypeError, ValueError):
        raise MaskShapeError(f"shape must be two integers (h, w), got {shape!r}") from None
    if h < 0 or w < 0:
        raise MaskShapeError(f"shape must be non-negative, got {(h, w)}")
    if h * w >= 1 << 48:
        raise ImageTooLargeError(f"shape {(h, w)} has too many pixels")
    return h, w


def _u32(b: bytes) -> np.ndarray:
    """A read-only uint32 view of counts bytes from the kernel."""
    return np.frombuffer(b, dtype=np.uint32)


def _as_u8(a: np.ndarray) -> np.ndarray:
    """A uint8 view (or the nonzero map) of a 2-D array of any real dtype."""
    dt = a.dtype
    if dt == np.bool_ or dt == np.int8:
        return a.view(np.uint8)
    if dt == np.uint8:
        return a
    if dt.kind in "iuf":
        return (a != 0).view(np.uint8)
    raise MaskDtypeError(f"mask dtype must be bool, integer or float, got {dt}")


def _stack(masks: Sequence[RLEMask]) -> tuple[np.ndarray, np.ndarray]:
    """The counts of masks laid end to end, with their int64 offsets."""
    off = np.zeros(len(masks) + 1, dtype=np.int64)
    np.cumsum([m._counts.shape[0] for m in masks], out=off[1:])
    return np.concatenate([m._counts for m in masks]), off


class RLEMask:
    """An immutable h x w binary mask held as its column-major (COCO) run lengths.

    Build one with a ``from_*`` class method, :meth:`zeros` or :meth:`ones`. Runs are
    canonical (merged, the first one background), so two masks are equal exactly when
    their shapes and counts are; masks hash by value and pickle compactly.

    Examples
    --------
    >>> m = RLEMask.from_counts([2, 3, 1], (3, 2))
    >>> m.to_array().tolist()
    [[0, 1], [0, 1], [1, 0]]
    >>> m.area, m.counts.tolist()
    (3, [2, 3, 1])
    """

    __slots__ = ("_h", "_w", "_counts", "_hash")
    # numpy operators defer to ours (a TypeError for array | mask) instead of decoding
    __array_ufunc__ = None

    _h: int
    _w: int
    _counts: np.ndarray
    _hash: int | None

    def __init__(self) -> None:
        raise TypeError("build an RLEMask with RLEMask.from_array, from_counts, from_dict, "
                        "from_bbox, from_polygon, zeros or ones")

    @classmethod
    def _new(cls, h: int, w: int, counts: bytes | np.ndarray) -> RLEMask:
        self = object.__new__(cls)
        self._h = h
        self._w = w
        if isinstance(counts, bytes):
            counts = _u32(counts)
        elif counts.flags.writeable:
            counts.flags.writeable = False
        self._counts = counts
        self._hash = None
        return self

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_array(cls, array: npt.ArrayLike, /, *, threshold: float | None = None) -> RLEMask:
        """Encode a 2-D array; nonzero (or ``>= threshold``) pixels are foreground.

        Parameters
        ----------
        array : array_like, shape (h, w)
            Bool, integer or float; any memory order (C and Fortran order are scanned in
            place), read-only arrays included.
        threshold : float, optional
            When given, foreground is ``array >= threshold`` instead of ``array != 0``.

        Returns
        -------
        RLEMask

        Raises
        ------
        MaskShapeError
            If the array is not 2-D.
        MaskDtypeError
            If the dtype is not bool, integer or float.

        Examples
        --------
        >>> RLEMask.from_array([[0.2, 0.9], [0.6, 0.1]], threshold=0.5).counts.tolist()
        [1, 2, 1]
        """
        a = array if isinstance(array, np.ndarray) else np.asarray(array)
        if a.ndim != 2:
            raise MaskShapeError(f"expected a 2-D array, got {a.ndim}-D")
        if threshold is not None:
            if a.dtype.kind not in "biuf":
                raise MaskDtypeError(f"mask dtype must be bool, integer or float, got {a.dtype}")
            a = a >= threshold
        u = _as_u8(a)
        h, w = u.shape
        return cls._new(h, w, _core.runs_from_mask(u))

    @classmethod
    def from_counts(cls, counts: npt.ArrayLike, /, shape: Sequence[int]) -> RLEMask:
        """Build from uncompressed column-major counts (background first) summing to h*w.

        Raises
        ------
        InvalidRLEError
            If the counts do not sum to h*w.
        CountRangeError
            If a count is negative or over 2**32 - 1.

        Examples
        --------
        >>> RLEMask.from_counts([0, 2, 0, 0, 2], (2, 2)).counts.tolist()  # runs merged
        [0, 2, 2]
        """
        h, w = _shape(shape)
        return cls._new(h, w, _core.runs_canonical(_counts_to_u32(counts), h, w))

    @classmethod
    def from_dict(cls, rle: RLE | dict[str, Any], /) -> RLEMask:
        """Build from a COCO RLE dict: ``counts`` a compressed str/bytes or a list of ints.

        Raises
        ------
        InvalidRLEError
            Malformed counts (a CountsStringError) or counts not summing to h*w.

        Examples
        --------
        >>> RLEMask.from_dict({"size": [2, 2], "counts": "121"}).to_array().tolist()
        [[0, 1], [1, 0]]
        """
        h, w = _size(rle)
        c = _key(rle, "counts")
        if isinstance(c, (list, tuple, np.ndarray)):
            return cls.from_counts(c, (h, w))
        if isinstance(c, str):
            try:
                c = c.encode("ascii")
            except UnicodeEncodeError:
                raise CountsStringError("counts string is not ASCII (its characters are "
                                        "'0'..'o')") from None
        elif not isinstance(c, (bytes, bytearray, memoryview)):
            raise RLETypeError(f"RLE counts must be str, bytes or a list of integers, got "
                               f"{type(c).__name__}")
        return cls._new(h, w, _core.runs_from_string(bytes(c), h, w))

    @classmethod
    def from_bbox(cls, bbox: Sequence[float], /, shape: Sequence[int]) -> RLEMask:
        """Rasterise one COCO box ``[x, y, w, h]`` exactly as pycocotools ``frBbox``.

        Examples
        --------
        >>> RLEMask.from_bbox([1, 0, 2, 1], (2, 4)).to_array().tolist()
        [[0, 1, 1, 0], [0, 0, 0, 0]]
        """
        h, w = _shape(shape)
        bb = np.asarray(bbox, dtype=np.float64).reshape(1, -1)
        if bb.shape[1] != 4:
            raise MaskShapeError(f"a box is [x, y, w, h], got {bb.shape[1]} numbers")
        return cls.from_dict({"size": [h, w], "counts": _core.boxes_to_strings(bb, h, w)[0]})

    @classmethod
    def from_polygon(cls, polygon: Sequence[float] | Sequence[Sequence[float]], /,
                     shape: Sequence[int]) -> RLEMask:
        """Rasterise a flat polygon ``[x0, y0, x1, y1, ...]``, or the union of a list of them
        (a COCO segmentation), bit-exact with pycocotools ``frPyObjects`` + ``merge``.

        Examples
        --------
        >>> RLEMask.from_polygon([0, 0, 3, 0, 3, 3], (3, 3)).to_array().tolist()
        [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
        """
        h, w = _shape(shape)
        polys = list(polygon)
        if not polys:
            return cls.zeros((h, w))
        if isinstance(polys[0], (int, float, np.number)):
            polys = [polys]
        parts = [cls.from_dict(r) for r in _core.polygons_to_rles(polys, h, w)]
        return parts[0] if len(parts) == 1 else cls.union(parts)

    @classmethod
    def zeros(cls, shape: Sequence[int], /) -> RLEMask:
        """An all-background mask."""
        h, w = _shape(shape)
        return cls._new(h, w, _core.runs_window(np.zeros(1, np.uint32), 0, 0, h, w, 0, 0))

    @classmethod
    def ones(cls, shape: Sequence[int], /) -> RLEMask:
        """An all-foreground mask."""
        return ~cls.zeros(shape)

    # -- output ------------------------------------------------------------------------------

    def to_array(self, *, order: Order = "C", value: int = 1) -> np.ndarray:
        """Decode to a new (h, w) uint8 array, ``value`` at foreground and 0 elsewhere.

        Examples
        --------
        >>> RLEMask.from_counts([1, 1], (1, 2)).to_array(value=255).tolist()
        [[0, 255]]
        """
        if order not in ("C", "F"):
            raise ArgumentError("order must be 'C' or 'F'")
        out = np.empty((self._h, self._w), dtype=np.uint8, order=order)
        self.decode_into(out, value=value)
        return out

    def decode_into(self, out: np.ndarray, /, *, value: int = 1) -> None:
        """Decode into a writable uint8 or bool array of shape (h, w), C- or F-contiguous.

        Examples
        --------
        >>> out = np.empty((1, 2), dtype=bool)
        >>> RLEMask.from_counts([1, 1], (1, 2)).decode_into(out)
        >>> out.tolist()
        [[False, True]]
        """
        if not isinstance(out, np.ndarray):
            raise ArgumentError("out must be a numpy array")
        if out.shape != self.shape:
            raise MaskShapeError(f"out has shape {out.shape}, expected {self.shape}")
        if out.dtype not in (np.uint8, np.bool_):
            raise MaskDtypeError(f"out must be uint8 or bool, got {out.dtype}")
        if not out.flags.writeable:
            raise ArgumentError("out is read-only")
        if not 0 <= int(value) <= 255 or (out.dtype == np.bool_ and int(value) > 1):
            raise ArgumentError(f"value {value} does not fit in {out.dtype}")
        if out.flags.c_contiguous:
            c_order = True
        elif out.flags.f_contiguous:
            c_order = False
        else:
            raise ArgumentError("out must be C- or Fortran-contiguous")
        flat = out.reshape(-1, order="C" if c_order else "F").view(np.uint8)
        _core.runs_decode_into(self._counts, flat, self._h, self._w, c_order, int(value))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        a = self.to_array()
        return a if dtype is None else a.astype(dtype)

    def to_dict(self) -> dict[str, Any]:
        """The COCO RLE dict, with ``counts`` as a str (as pycocotools writes JSON).

        Examples
        --------
        >>> RLEMask.ones((2, 2)).to_dict()
        {'size': [2, 2], 'counts': '04'}
        """
        return {"size": [self._h, self._w],
                "counts": _core.string_from_counts(self._counts).decode("ascii")}

    def __reduce__(self) -> tuple[Any, ...]:
        return (RLEMask._new, (self._h, self._w, self._counts.tobytes()))

    # -- properties --------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        """(h, w)."""
        return self._h, self._w

    @property
    def counts(self) -> np.ndarray:
        """The canonical uint32 counts (read-only)."""
        return self._counts

    @property
    def area(self) -> int:
        """Number of foreground pixels."""
        return int(self._counts[1::2].sum(dtype=np.uint64))

    @property
    def bbox(self) -> np.ndarray:
        """Tight COCO box [x, y, w, h] (float64; zeros when empty)."""
        return np.array(_core.runs_bbox(self._counts, self._h, self._w))

    @property
    def centroid(self) -> np.ndarray:
        """Mean [x, y] of the foreground pixels (column, row; NaN when empty).

        Examples
        --------
        >>> RLEMask.from_bbox([1, 0, 2, 2], (3, 4)).centroid.tolist()
        [1.5, 0.5]
        """
        a, sx, sy = _core.runs_moments(self._counts, self._h)
        if a == 0:
            return np.array([np.nan, np.nan])
        return np.array([sx / a, sy / a])

    def any(self) -> bool:
        """Whether any pixel is foreground."""
        return self.area > 0

    def all(self) -> bool:
        """Whether every pixel is foreground (True for a mask without pixels)."""
        return self.area == self._h * self._w

    def __len__(self) -> int:
        return self._h

    def __repr__(self) -> str:
        return f"RLEMask(shape={self.shape}, area={self.area})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RLEMask):
            return NotImplemented
        return self.shape == other.shape and np.array_equal(self._counts, other._counts)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self._h, self._w, self._counts.tobytes()))
        return self._hash

    # -- boolean algebra ---------------------------------------------------------------------

    def _binary(self, other: object, table: int) -> RLEMask:
        if not isinstance(other, RLEMask):
            return NotImplemented
        if self.shape != other.shape:
            raise SizeMismatchError(f"masks of shapes {self.shape} and {other.shape}")
        return RLEMask._new(self._h, self._w, _core.runs_binary(
            self._counts, other._counts, self._h * self._w, table))

    def __and__(self, other: RLEMask) -> RLEMask:
        return self._binary(other, _AND)

    def __or__(self, other: RLEMask) -> RLEMask:
        return self._binary(other, _OR)

    def __xor__(self, other: RLEMask) -> RLEMask:
        return self._binary(other, _XOR)

    def __sub__(self, other: RLEMask) -> RLEMask:
        """Foreground of self that is not foreground of other."""
        return self._binary(other, _SUB)

    def __invert__(self) -> RLEMask:
        c = self._counts
        if self._h * self._w == 0:
            return self
        if c[0] == 0:
            return RLEMask._new(self._h, self._w, c[1:])
        return RLEMask._new(self._h, self._w, np.concatenate(([0], c)).astype(np.uint32))

    @staticmethod
    def _same_shape(masks: Iterable[RLEMask]) -> list[RLEMask]:
        ms = list(masks)
        if not ms:
            raise ArgumentError("need at least one mask")
        for k, m in enumerate(ms):
            if not isinstance(m, RLEMask):
                raise ArgumentError(f"mask {k} is a {type(m).__name__}, not an RLEMask")
            if m.shape != ms[0].shape:
                raise SizeMismatchError(f"mask {k} has shape {m.shape}, mask 0 {ms[0].shape}")
        return ms

    @classmethod
    def vote(cls, masks: Iterable[RLEMask], /, k: int) -> RLEMask:
        """Pixels that are foreground in at least ``k`` of the masks (one n-way merge).

        Examples
        --------
        >>> ms = [RLEMask.from_counts(c, (1, 3)) for c in ([0, 2, 1], [1, 2], [0, 1, 1, 1])]
        >>> RLEMask.vote(ms, 2).counts.tolist()
        [0, 3]
        """
        ms = cls._same_shape(masks)
        k = operator.index(k)
        h, w = ms[0].shape
        if k <= 0:
            return cls.ones((h, w))
        if k > len(ms):
            return cls.zeros((h, w))
        data, off = _stack(ms)
        return cls._new(h, w, _core.runs_vote(data, off, h * w, k))

    @classmethod
    def union(cls, masks: Iterable[RLEMask], /) -> RLEMask:
        """Foreground in any of the masks."""
        return cls.vote(masks, 1)

    @classmethod
    def intersection(cls, masks: Iterable[RLEMask], /) -> RLEMask:
        """Foreground in every one of the masks."""
        ms = cls._same_shape(masks)
        return cls.vote(ms, len(ms))

    # -- geometry ----------------------------------------------------------------------------

    def _window(self, oh: int, ow: int, dr: int, dc: int) -> RLEMask:
        return RLEMask._new(oh, ow, _core.runs_window(self._counts, self._h, self._w,
                                                      oh, ow, dr, dc))

    def __getitem__(self, key: Any) -> Any:
        """Crop by slices with step 1 (numpy semantics for negative and out-of-range
        bounds), or read one pixel with two integers.

        Examples
        --------
        >>> m = RLEMask.from_counts([1, 1, 2], (2, 2))
        >>> m[1:, -1:].shape, m[1, 0]
        ((1, 1), 1)
        """
        if not isinstance(key, tuple):
            key = (key,)
        if len(key) > 2:
            raise ArgumentError(f"an RLEMask has 2 axes, got {len(key)} indices")
        if len(key) == 2 and all(isinstance(k, (int, np.integer)) for k in key):
            i, j = (operator.index(k) for k in key)
            if not (-self._h <= i < self._h and -self._w <= j < self._w):
                raise IndexError(f"index {(i, j)} out of range for shape {self.shape}")
            pos = (j % self._w) * self._h + (i % self._h)
            ends = np.cumsum(self._counts, dtype=np.uint64)
            return int(np.searchsorted(ends, pos, side="right")) & 1
        sl = list(key) + [slice(None)] * (2 - len(key))
        bounds = []
        for s, n in zip(sl, self.shape):
            if not isinstance(s, slice):
                raise ArgumentError("index an RLEMask with slices (or two integers for a "
                                    "pixel)")
            start, stop, step = s.indices(n)
            if step != 1:
                raise ArgumentError("only slices with step 1 crop an RLEMask")
            bounds.append((start, max(stop, start)))
        (r0, r1), (c0, c1) = bounds
        return self._window(r1 - r0, c1 - c0, r0, c0)

    def crop(self, bbox: Sequence[int], /) -> RLEMask:
        """The box ``[x, y, w, h]`` (integers), clipped to the mask."""
        x, y, bw, bh = (operator.index(v) for v in bbox)
        if bw < 0 or bh < 0:
            raise MaskShapeError(f"box size must be non-negative, got {bw} x {bh}")
        return self[max(y, 0):max(y + bh, 0), max(x, 0):max(x + bw, 0)]

    def pad(self, top: int = 0, bottom: int = 0, left: int = 0, right: int = 0, *,
            value: int = 0) -> RLEMask:
        """Add ``value`` (0 or 1) borders; negative widths crop.

        Examples
        --------
        >>> RLEMask.ones((1, 1)).pad(1, 0, 0, 1).to_array().tolist()
        [[0, 0], [1, 0]]
        """
        if value not in (0, 1):
            raise ArgumentError("value must be 0 or 1")
        t, b, l_, r = (operator.index(v) for v in (top, bottom, left, right))
        oh, ow = self._h + t + b, self._w + l_ + r
        if oh < 0 or ow < 0:
            raise MaskShapeError(f"padding gives a negative size {(oh, ow)}")
        _shape((oh, ow))
        src = ~self if value else self
        res = src._window(oh, ow, -t, -l_)
        return ~res if value else res

    def shift(self, dy: int, dx: int, *, value: int = 0) -> RLEMask:
        """Move the content down by ``dy`` and right by ``dx`` pixels (same shape); the
        uncovered border takes ``value`` (0 or 1)."""
        if value not in (0, 1):
            raise ArgumentError("value must be 0 or 1")
        src = ~self if value else self
        res = src._window(self._h, self._w, -operator.index(dy), -operator.index(dx))
        return ~res if value else res

    def tight_crop(self) -> tuple[RLEMask, np.ndarray]:
        """The crop to the bounding box, and the box [x, y, w, h] (int64)."""
        box = self.bbox.astype(np.int64)
        return self.crop(box.tolist()), box

    def fliplr(self) -> RLEMask:
        """Reverse the columns."""
        return RLEMask._new(self._h, self._w,
                            _core.runs_flip(self._counts, self._h, self._w, True, False))

    def flipud(self) -> RLEMask:
        """Reverse the rows."""
        return RLEMask._new(self._h, self._w,
                            _core.runs_flip(self._counts, self._h, self._w, False, True))

    def transpose(self) -> RLEMask:
        """Swap rows and columns."""
        return RLEMask._new(self._w, self._h,
                            _core.runs_transpose(self._counts, self._h, self._w))

    @property
    def T(self) -> RLEMask:  # noqa: N802 - numpy's name
        """The transpose."""
        return self.transpose()

    def rot90(self, k: SupportsIndex = 1) -> RLEMask:
        """Rotate by 90 degrees ``k`` times counter-clockwise (``numpy.rot90``)."""
        k = operator.index(k) % 4
        if k == 0:
            return self
        if k == 2:
            return RLEMask._new(self._h, self._w,
                                _core.runs_flip(self._counts, self._h, self._w, True, True))
        return self.fliplr().transpose() if k == 1 else self.transpose().fliplr()

    @classmethod
    def concatenate(cls, masks: Iterable[RLEMask], /, axis: int = 0) -> RLEMask:
        """Stack masks along rows (``axis=0``, same widths) or columns (``axis=1``, same
        heights), as ``numpy.concatenate``."""
        ms = list(masks)
        if not ms:
            raise ArgumentError("need at least one mask")
        if axis not in (0, 1):
            raise ArgumentError("axis must be 0 or 1")
        keep = 1 - axis
        for k, m in enumerate(ms):
            if not isinstance(m, RLEMask):
                raise ArgumentError(f"mask {k} is a {type(m).__name__}, not an RLEMask")
            if m.shape[keep] != ms[0].shape[keep]:
                raise SizeMismatchError(f"mask {k} has shape {m.shape}, mask 0 {ms[0].shape}")
        data, off = _stack(ms)
        hs = np.array([m._h for m in ms], dtype=np.int64)
        w = ms[0]._w
        oh = int(hs.sum()) if axis == 0 else ms[0]._h
        ow = w if axis == 0 else sum(m._w for m in ms)
        _shape((oh, ow))
        return cls._new(oh, ow, _core.runs_concat(data, off, hs, w, axis == 0))

    def resize(self, shape: Sequence[int], /) -> RLEMask:
        """Nearest-neighbour resize to ``shape = (h, w)``, identical to
        ``cv2.resize(a, (w, h), interpolation=cv2.INTER_NEAREST)``.

        Examples
        --------
        >>> RLEMask.from_counts([0, 1, 3], (2, 2)).resize((4, 4)).area
        4
        """
        oh, ow = _shape(shape)
        return RLEMask._new(oh, ow, _core.runs_resize_nearest(self._counts, self._h, self._w,
                                                              oh, ow))

"""Image masks to COCO, and COCO annotations to masks.

* **Label maps** (an integer id per pixel), **colour maps** (panoptic ids
  ``R + 256*G + 65536*B`` or a colour-to-category table) and **grey-level mask images**
  (threshold, or grey value to category with a tolerance, for JPEG noise) become one
  compressed RLE per value, with its area and box, in a single pass over the image.
* :func:`to_annotations` turns those segments into COCO annotation dicts and
  :func:`write_coco_json` writes a valid COCO file atomically.
* :func:`ann_to_rle` / :func:`ann_to_mask` read any COCO ``segmentation`` (polygons, boxes,
  uncompressed or compressed RLE), byte-identical to ``pycocotools.coco.COCO.annToRLE``
  where that works, and an empty mask where it crashes (``segmentation: []``, polygons with
  fewer than 3 points).

PNG and JPEG files are read with Pillow, an optional dependency; arrays need nothing.

Examples
--------
>>> import numpy as np
>>> from maskcodecs import coco
>>> labels = np.array([[0, 1, 1], [2, 2, 1]], dtype=np.uint8)
>>> [(s.value, s.area, s.bbox) for s in coco.segments_from_label_map(labels)]
[(1, 3, (1.0, 0.0, 2.0, 2.0)), (2, 2, (0.0, 1.0, 2.0, 1.0))]
>>> ann = coco.to_annotations(coco.segments_from_label_map(labels), image_id=7)[0]
>>> ann["segmentation"], ann["category_id"]
({'size': [2, 3], 'counts': '2111'}, 1)
"""
from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs import mask as _mask
from maskcodecs._args import INT64_MAX, INT64_MIN, int_arg
from maskcodecs._coco_api import COCO
from maskcodecs._fileio import atomic_open, json_default
from maskcodecs._imageio import read_array
from maskcodecs._optional import require
from maskcodecs._types import RLE
from maskcodecs.errors import (
    ArgumentError,
    ColourToleranceWarning,
    ContourOptionError,
    FormatError,
    MaskCodecError,
    MaskDtypeError,
    MaskShapeError,
    OptionalDependencyError,
    SizeMismatchError,
)

__all__ = [
    "COCO",
    "ColourSnap",
    "Segment",
    "ann_to_mask",
    "ann_to_rle",
    "merge_by_category",
    "read_image",
    "segments_from_colour_map",
    "segments_from_label_map",
    "segments_from_mask_image",
    "snap_colours",
    "to_annotations",
    "write_coco_json",
]

# an ndarray, a path (str or os.PathLike) or a Pillow image
ImageLike = Any
Colour = Union[int, Sequence[int]]

_NONE = np.iinfo(np.int64).min  # lookup-table key meaning "no category"
_LABEL_DTYPES = {np.dtype(t) for t in
                 (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64)}


@dataclass(frozen=True)
class Segment:
    """One value of a label map, colour map or mask image, as a COCO RLE.

    Attributes
    ----------
    value : int
        The label value, the panoptic colour id ``R + 256*G + 65536*B``, or the category
        id (grey-level mapping).
    rle : dict
        ``{"size": [h, w], "counts": bytes}``, column-major as in COCO.
    area : int
        Pixel count.
    bbox : tuple of float
        Tight box ``(x, y, w, h)``, as ``pycocotools.mask.toBbox``.
    category_id : int or None
        The category, when the input said (colour table, grey-level mapping).
    """

    value: int
    rle: RLE
    area: int
    bbox: tuple[float, float, float, float]
    category_id: int | None = None


# ---------------------------------------------------------------------------------------------
# reading images (Pillow is optional)
# ---------------------------------------------------------------------------------------------

def _pillow() -> Any:
    """The PIL.Image module, or a clear error when Pillow is missing."""
    return require("PIL.Image", "reading image files (numpy arrays work without it)")


def read_image(path: str | os.PathLike[str], /, *, mode: str | None = None) -> np.ndarray:
    """Read a PNG, JPEG or any image Pillow can open into a numpy array.

    Parameters
    ----------
    path : str or os.PathLike
        The image file.
    mode : str, optional
        Pillow mode to convert to first (``"L"``, ``"RGB"``...). By default the stored mode
        is kept: palette PNGs give their indices, 16-bit PNGs give uint16.

    Returns
    -------
    numpy.ndarray
        (h, w) for single-channel images, (h, w, c) otherwise.

    Raises
    ------
    OptionalDependencyError
        If Pillow is not installed (an ``ImportError``).

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> p = os.path.join(tempfile.mkdtemp(), "m.png")
    >>> Image.new("RGB", (3, 2), (9, 8, 7)).save(p)
    >>> read_image(p).shape, read_image(p, mode="L").shape
    ((2, 3, 3), (2, 3))
    """
    return _image_array(os.fspath(path), lambda _stored: mode)


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def _pil_mode(x: Any) -> str | None:
    mode = getattr(x, "mode", None)
    return mode if isinstance(mode, str) and hasattr(x, "getbands") else None


def _image_array(image: Any, convert: Callable[[str], str | None]) -> np.ndarray:
    """An ndarray from an array, a Pillow image or a path; `convert(mode)` picks the Pillow
    mode to convert to (None keeps it)."""
    if isinstance(image, np.ndarray):
        return image
    if _is_path(image) or isinstance(image, (bytes, bytearray, memoryview)):
        return read_array(image, convert)
    mode = _pil_mode(image)
    if mode is not None:
        target = convert(mode)
        return np.asarray(image.convert(target) if target and target != mode else image)
    return np.asarray(image)


# ---------------------------------------------------------------------------------------------
# segments
# ---------------------------------------------------------------------------------------------

def _segments(result: tuple[bytes, list[bytes], bytes, bytes], h: int, w: int,
              categories: Mapping[int, int] | None = None) -> list[Segment]:
    """Segments sorted by value from the kernel's (values, strings, areas, boxes)."""
    values = np.frombuffer(result[0], dtype=np.int64)
    order = np.argsort(values, kind="stable")
    areas = np.frombuffer(result[2], dtype=np.uint64)[order].tolist()
    boxes = np.frombuffer(result[3], dtype=np.uint64).reshape(-1, 4)[order]
    strings = result[1]
    out = []
    for i, v, area, (x0, y0, x1, y1) in zip(order.tolist(), values[order].tolist(), areas,
                                             boxes.astype(np.float64).tolist()):
        out.append(Segment(
            value=v,
            rle={"size": [h, w], "counts": strings[i]},
            area=area,
            bbox=(x0, y0, x1 - x0 + 1.0, y1 - y0 + 1.0),
            category_id=None if categories is None else categories.get(v),
        ))
    return out


def _label_array(labels: Any) -> np.ndarray:
    a = _image_array(labels, lambda mode: None)
    if a.ndim != 2:
        raise MaskShapeError(
            f"a label map must be 2-D (h, w), got shape {a.shape}; "
            "use segments_from_colour_map for colour images")
    dt = a.dtype
    if dt == np.bool_:
        return a.view(np.uint8)
    if dt.kind not in "iu":
        raise MaskDtypeError(f"a label map must have an integer dtype, got {dt}")
    if not dt.isnative:
        a = a.astype(dt.newbyteorder("="))
        dt = a.dtype
    if dt not in _LABEL_DTYPES:  # uint64
        if a.size and int(a.max()) > np.iinfo(np.int64).max:
            raise MaskDtypeError("label values must be below 2**63")
        a = a.view(np.int64)
    return a


def segments_from_label_map(labels: ImageLike, /, *, background: int | None = 0,
                            ignore: Iterable[int] = ()) -> list[Segment]:
    """Encode every value of a label map as a COCO RLE, in one pass over the map.

    Parameters
    ----------
    labels : array_like or path, shape (h, w)
        Integer ids (uint8, uint16, int32... or bool), any memory order; a path is read with
        Pillow (palette PNGs give their indices, 16-bit PNGs uint16).
    background : int or None, default 0
        The value that is not a segment; None keeps every value.
    ignore : iterable of int
        More values to drop (e.g. 255, the "void" of VOC-style maps).

    Returns
    -------
    list of Segment
        Sorted by value; each with its RLE, area and box.

    Raises
    ------
    MaskShapeError
        If the map is not 2-D.
    MaskDtypeError
        If the dtype is not integer or bool.

    Examples
    --------
    >>> import numpy as np
    >>> segs = segments_from_label_map(np.array([[5, 5], [0, 9]], dtype=np.int32))
    >>> [(s.value, s.rle["counts"], s.area) for s in segs]
    [(5, b'01100', 2), (9, b'31', 1)]
    """
    a = _label_array(labels)
    h, w = a.shape
    bg = 0 if background is None else int_arg(background, "background", lo=INT64_MIN,
                                               hi=INT64_MAX)
    result = _core.label_map_runs(a, None, bg, background is not None)
    segs = _segments(result, h, w)
    drop = {int_arg(v, "an ignore value") for v in ignore}
    return [s for s in segs if s.value not in drop] if drop else segs


def _colour_id(c: Colour) -> int:
    if isinstance(c, (int, np.integer)):
        return int(c)
    t = tuple(int(v) for v in c)
    if len(t) < 3 or any(not 0 <= v <= 255 for v in t[:3]):
        raise FormatError(f"a colour must be (r, g, b) with 0..255 values or an id, got {c!r}")
    return t[0] + 256 * t[1] + 65536 * t[2]


@dataclass(frozen=True)
class ColourSnap:
    """Result of :func:`snap_colours`: the snapped colour map and what was done to it.

    Attributes
    ----------
    image : numpy.ndarray
        (h, w, 3) uint8, C order: every pixel a palette colour.
    palette : list of (r, g, b)
        The colours snapped to, the background first.
    tolerance : float
        The distance used.
    exact, snapped, unassigned : int
        Pixels that were a palette colour already, that were moved to one, and that were
        farther than ``tolerance`` from every palette colour (given the background).
    """

    image: np.ndarray
    palette: list[tuple[int, int, int]]
    tolerance: float
    exact: int
    snapped: int
    unassigned: int

    @property
    def unassigned_fraction(self) -> float:
        """Unassigned pixels as a fraction of all pixels (0 for an empty image)."""
        total = self.exact + self.snapped + self.unassigned
        return self.unassigned / total if total else 0.0


#: The fraction of unassigned pixels above which :func:`segments_from_colour_map` warns
#: (``ColourToleranceWarning``): JPEG edges alone leave a few percent at usual tolerances.
UNASSIGNED_WARNING = 0.05


def _tolerance_arg(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise ArgumentError(f"tolerance must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ArgumentError(f"tolerance must be a finite number >= 0, got {value!r}")
    return v


def _rgb(c: Colour) -> tuple[int, int, int]:
    v = _colour_id(c)
    if not 0 <= v <= 0xFFFFFF:
        raise FormatError(f"a colour id must be in 0..2**24-1 (R + 256*G + 65536*B), got {c!r}")
    return v & 255, (v >> 8) & 255, v >> 16


def _colour_array(image: ImageLike) -> np.ndarray:
    a = _image_array(image, lambda mode: None if mode in ("RGB", "RGBA") else "RGB")
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise MaskShapeError(f"a colour map must be (h, w, 3) or (h, w, 4), got {a.shape}")
    if a.dtype != np.uint8:
        raise MaskDtypeError(f"a colour map must be uint8, got {a.dtype}")
    return a


def _frequent_colours(a: np.ndarray, background: tuple[int, int, int], tolerance: float,
                      min_pixels: int) -> list[tuple[int, int, int]]:
    """The palette when none is given: the background, then every colour covering at least
    ``min_pixels`` pixels exactly, most frequent first, unless it lies within ``tolerance``
    of a colour taken before it (JPEG noise around a colour repeats that colour)."""
    keys_b, counts_b = _core.colour_split(a, np.zeros(0, dtype=np.uint32),
                                          np.zeros(0, dtype=np.uint8), False)[1:]
    keys = np.frombuffer(keys_b, dtype=np.uint32)
    counts = np.frombuffer(counts_b, dtype=np.uint64)
    keep = counts >= min_pixels
    keys, counts = keys[keep], counts[keep]
    order = np.lexsort((keys, -counts.astype(np.int64)))
    rgb = np.stack([keys & 255, (keys >> 8) & 255, keys >> 16], axis=1)[order].astype(np.int64)
    taken = [np.array(background, dtype=np.int64)]
    tol2 = tolerance * tolerance
    for c in rgb:
        if min(int(((c - t) ** 2).sum()) for t in taken) > tol2:
            taken.append(c)
    return [tuple(int(v) for v in t) for t in taken]  # type: ignore[misc]


def snap_colours(image: ImageLike, /, *, tolerance: float,
                 palette: Iterable[Colour] | None = None,
                 background: Colour = (0, 0, 0), min_pixels: int = 32) -> ColourSnap:
    """Snap every pixel of a colour map to the nearest palette colour within a distance.

    Meant for colour maps saved as JPEG, whose compression moves pixels off their colour.
    The distance is Euclidean in RGB, ``sqrt(dR**2 + dG**2 + dB**2)`` (0 to 441.7); a pixel
    goes to the nearest palette colour (ties to the one listed first) if that is within
    ``tolerance``, and to ``background`` if none is (it is counted as unassigned). The
    background is always in the palette, so noise around it snaps back to it. The loop runs
    in the extension, one decision per distinct colour.

    Parameters
    ----------
    image : array_like or path, shape (h, w, 3) or (h, w, 4), uint8
        The colour map; a path is read with Pillow and converted to RGB. Alpha is ignored.
    tolerance : float
        The largest distance a pixel is moved; 0 keeps exact colours only.
    palette : iterable of (r, g, b) or int, optional
        The colours (or ids ``R + 256*G + 65536*B``) of the map, e.g. the keys of a
        colour-to-category table. Without one, the palette is every colour that covers at
        least ``min_pixels`` pixels exactly, most frequent first, leaving out a colour within
        ``tolerance`` of a more frequent one. That is a heuristic, not a clustering: a small
        instance whose pixels JPEG spread over many near colours may have none that repeats
        often enough and end up unassigned (it is counted); give the palette when you know it.
    background : (r, g, b) or int, default (0, 0, 0)
        The colour that is not a segment, and that unassigned pixels get.
    min_pixels : int, default 32
        Without ``palette``: how many pixels a colour must cover exactly to be a palette colour.

    Returns
    -------
    ColourSnap
        The snapped (h, w, 3) image, the palette, and the exact, snapped and unassigned
        pixel counts.

    Raises
    ------
    ArgumentError
        If ``tolerance`` is not a finite number >= 0 or ``min_pixels`` not an integer >= 1.
    MaskShapeError, MaskDtypeError
        If the image is not (h, w, 3|4) uint8.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((2, 3, 3), dtype=np.uint8)
    >>> img[0] = (250, 3, 1)        # red, moved by JPEG
    >>> img[1, 0] = (128, 128, 0)   # far from red and from black
    >>> s = snap_colours(img, tolerance=20, palette=[(255, 0, 0)])
    >>> s.image[0, 0].tolist(), s.image[1, 0].tolist(), (s.exact, s.snapped, s.unassigned)
    ([255, 0, 0], [0, 0, 0], (2, 3, 1))
    """
    tol = _tolerance_arg(tolerance)
    bg = _rgb(background)
    a = _colour_array(image)
    if palette is None:
        colours = _frequent_colours(a, bg, tol, int_arg(min_pixels, "min_pixels", lo=1))
    else:
        given = [_rgb(c) for c in palette]
        colours = [bg] + [c for c in dict.fromkeys(given) if c != bg]
    pal = np.array(colours, dtype=np.uint8).reshape(-1, 3)
    out = np.empty(a.shape[:2] + (3,), dtype=np.uint8)
    exact, snapped, unassigned = _core.colour_snap(a, pal, 0, tol, out)
    return ColourSnap(image=out, palette=colours, tolerance=tol, exact=int(exact),
                      snapped=int(snapped), unassigned=int(unassigned))


def segments_from_colour_map(image: ImageLike, /, *, background: Colour | None = (0, 0, 0),
                             colours: Mapping[Any, int] | None = None,
                             unknown: str = "ignore", tolerance: float | None = None,
                             min_pixels: int = 32) -> list[Segment]:
    """Encode every colour of an RGB(A) colour map as a COCO RLE, in one pass.

    The value of a colour is its panoptic id ``R + 256*G + 65536*B`` (COCO panoptic,
    Labelbox composite masks). Alpha is ignored.

    Parameters
    ----------
    image : array_like or path, shape (h, w, 3) or (h, w, 4), uint8
        The colour map; a path is read with Pillow and converted to RGB.
    background : (r, g, b), int or None, default (0, 0, 0)
        The colour (or id) that is not a segment; None keeps every colour.
    colours : mapping, optional
        Colour-to-category table; keys are (r, g, b) tuples or ids. Each segment's
        ``category_id`` is looked up in it.
    unknown : {"ignore", "error"}, default "ignore"
        With ``colours``: drop colours missing from the table, or raise.
    tolerance : float, optional
        For JPEG colour maps: snap each pixel to the nearest colour of ``colours`` (or,
        without a table, of the frequent colours) within this Euclidean RGB distance first,
        as :func:`snap_colours` does; pixels farther than that from every colour are
        background. A :class:`~maskcodecs.errors.ColourToleranceWarning` says how many when
        they are more than ``UNASSIGNED_WARNING`` (5%) of the image; :func:`snap_colours`
        gives the counts. None (the default) reads colours exactly.
    min_pixels : int, default 32
        With ``tolerance`` and no ``colours``: see :func:`snap_colours`.

    Returns
    -------
    list of Segment
        Sorted by colour id.

    Raises
    ------
    MaskShapeError
        If the image is not (h, w, 3|4).
    FormatError
        If ``unknown="error"`` and a colour is not in the table (with ``tolerance``: a
        pixel is farther than it from every colour of the table).
    ArgumentError
        If ``tolerance`` is not a finite number >= 0, or is given with ``background=None``.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((2, 2, 3), dtype=np.uint8)
    >>> img[0, 1] = (1, 2, 0)
    >>> [(s.value, s.area, s.category_id) for s in
    ...  segments_from_colour_map(img, colours={(1, 2, 0): 3})]
    [(513, 1, 3)]
    >>> img[1, 1] = (4, 6, 2)       # JPEG noise near (1, 2, 0)
    >>> [(s.value, s.area) for s in segments_from_colour_map(
    ...     img, colours={(1, 2, 0): 3}, tolerance=6)]
    [(513, 2)]
    """
    if unknown not in ("ignore", "error"):
        raise ValueError(f"unknown must be 'ignore' or 'error', got {unknown!r}")
    a = _colour_array(image)
    table = None if colours is None else {_colour_id(k): int(v) for k, v in colours.items()}
    if tolerance is not None:
        if background is None:
            raise ArgumentError("tolerance needs a background colour: the pixels it leaves "
                                "unassigned become background")
        snap = snap_colours(a, tolerance=tolerance, background=background,
                            palette=None if table is None else list(table),
                            min_pixels=min_pixels)
        if snap.unassigned and unknown == "error" and table is not None:
            raise FormatError(f"{snap.unassigned} pixel(s) are farther than {snap.tolerance:g} "
                              "from every colour of the table")
        if snap.unassigned_fraction > UNASSIGNED_WARNING:
            warnings.warn(f"{snap.unassigned} pixels ({100 * snap.unassigned_fraction:.1f}%) "
                          f"are farther than {snap.tolerance:g} from every palette colour and "
                          "were left as background", ColourToleranceWarning, stacklevel=2)
        a = snap.image
    h, w = a.shape[:2]
    bg = 0 if background is None else _colour_id(background)
    result = _core.colour_map_runs(a, bg, background is not None)
    segs = _segments(result, h, w, table)
    if table is None:
        return segs
    missing = [s.value for s in segs if s.category_id is None]
    if missing and unknown == "error":
        shown = ", ".join(str((v & 255, (v >> 8) & 255, v >> 16)) for v in missing[:5])
        raise FormatError(f"{len(missing)} colour(s) not in the table: {shown}")
    return [s for s in segs if s.category_id is not None]


def _grey_lut(dtype: np.dtype, threshold: float, values: Mapping[int, int] | None,
              tolerance: float) -> np.ndarray:
    """Lookup table grey level -> key (_NONE for background) over the dtype's range."""
    n = 1 << (8 * dtype.itemsize)
    levels = np.arange(n, dtype=np.float64)
    if values is None:
        return np.where(levels > threshold, 1, _NONE).astype(np.int64)
    lut = np.full(n, _NONE, dtype=np.int64)
    best = np.full(n, np.inf)
    for level in sorted(values):
        d = np.abs(levels - float(level))
        take = (d <= tolerance) & (d < best)
        lut[take] = int(values[level])
        best[take] = d[take]
    return lut


def _luminance(a: np.ndarray) -> np.ndarray:
    """Pillow's RGB to "L" conversion (ITU-R 601-2 weights, rounded the way Pillow rounds)
    of a uint8 (h, w, 3 or 4) array; alpha is ignored, as Pillow ignores it."""
    rgb = a[:, :, :3].astype(np.uint32)
    y = rgb[:, :, 0] * 19595 + rgb[:, :, 1] * 38470 + rgb[:, :, 2] * 7471 + 0x8000
    return (y >> 16).astype(np.uint8)


_GREY_MODES = ("L", "I;16", "1")


def segments_from_mask_image(image: ImageLike, /, *, threshold: float = 127,
                             values: Mapping[int, int] | None = None, tolerance: float = 0,
                             channel: int | None = None) -> list[Segment]:
    """Encode a grey-level mask image (PNG, or JPEG with compression noise) as COCO RLEs.

    Parameters
    ----------
    image : array_like, Pillow image or path
        uint8, uint16 or bool, (h, w) or (h, w, c); a path is read with Pillow.
    threshold : float, default 127
        Without ``values``: pixels brighter than this are foreground (one segment, value 1).
    values : mapping of int to int, optional
        Grey level to category id. A pixel belongs to the nearest level within
        ``tolerance`` (ties go to the lower level); others are background.
    tolerance : float, default 0
        How far from a level a pixel may be (e.g. 30 for JPEG masks).
    channel : int, optional
        One rule for every input: by default a colour image (an (h, w, 3 or 4) uint8 array,
        or an RGB/RGBA/palette file or Pillow image) is read as its luminance, Pillow's
        ``convert("L")`` (``(19595 R + 38470 G + 7471 B + 32768) >> 16``, alpha ignored),
        and a grey one as it is; with ``channel=k`` channel k of the colour image is read
        instead (a grey image has only channel 0).

    Returns
    -------
    list of Segment
        One per category (``value`` and ``category_id`` are the category), or a single
        segment of value 1 in threshold mode; empty when nothing is foreground.

    Raises
    ------
    MaskDtypeError
        If the image is not uint8, uint16 or bool.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.array([[0, 250], [131, 3]], dtype=np.uint8)
    >>> [(s.value, s.area) for s in segments_from_mask_image(img)]
    [(1, 2)]
    >>> [(s.value, s.area) for s in segments_from_mask_image(
    ...     img, values={128: 1, 255: 2}, tolerance=10)]
    [(1, 1), (2, 1)]
    """
    if channel is None:
        a = _image_array(image, lambda mode: None if mode in _GREY_MODES else "L")
        if a.ndim == 3 and a.shape[2] in (3, 4) and a.dtype == np.uint8:
            a = _luminance(a)
        elif a.ndim == 3 and a.shape[2] == 1:
            a = a[:, :, 0]
        elif a.ndim == 3:
            raise MaskShapeError(f"a {a.shape} {a.dtype} image has no luminance rule: pass "
                                 "channel=")
    else:
        a = _image_array(image, lambda mode: None if mode in _GREY_MODES else
                         ("RGBA" if "A" in mode else "RGB"))
        if a.ndim == 2 and channel == 0:
            pass
        elif a.ndim != 3 or not 0 <= int_arg(channel, "channel") < a.shape[2]:
            raise MaskShapeError(f"channel {channel} is not a channel of a {a.shape} image")
        else:
            a = a[:, :, int(channel)]
    if a.ndim != 2:
        raise MaskShapeError(f"a mask image must be (h, w) or (h, w, c), got {a.shape}")
    if a.dtype == np.bool_:
        a = a.view(np.uint8)
    if a.dtype not in (np.dtype(np.uint8), np.dtype(np.uint16)):
        raise MaskDtypeError(f"a mask image must be uint8, uint16 or bool, got {a.dtype}")
    lut = _grey_lut(a.dtype, threshold, values, tolerance)
    h, w = a.shape
    result = _core.label_map_runs(a, lut, _NONE, True)
    segs = _segments(result, h, w)
    if values is None:
        return segs
    return [Segment(s.value, s.rle, s.area, s.bbox, s.value) for s in segs]


def merge_by_category(segments: Iterable[Segment], /) -> list[Segment]:
    """Union the segments of each category into one (semantic masks).

    Parameters
    ----------
    segments : iterable of Segment
        Segments with a ``category_id`` (those without one are grouped by ``value``).

    Returns
    -------
    list of Segment
        One per category, sorted, with ``value == category_id``.

    Examples
    --------
    >>> import numpy as np
    >>> segs = segments_from_label_map(np.array([[1, 2], [3, 0]], dtype=np.uint8))
    >>> segs = [Segment(s.value, s.rle, s.area, s.bbox, 1 + (s.value > 1)) for s in segs]
    >>> [(s.value, s.area, s.bbox) for s in merge_by_category(segs)]
    [(1, 1, (0.0, 0.0, 1.0, 1.0)), (2, 2, (0.0, 0.0, 2.0, 2.0))]
    """
    groups: dict[int, list[Segment]] = {}
    for s in segments:
        if not isinstance(s, Segment):
            raise ArgumentError(f"merge_by_category takes Segments, got {type(s).__name__}")
        key = s.value if s.category_id is None else s.category_id
        groups.setdefault(key, []).append(s)
    out = []
    for key in sorted(groups):
        g = groups[key]
        rle = g[0].rle if len(g) == 1 else _mask.merge([s.rle for s in g])
        bbox = tuple(float(v) for v in _mask.toBbox(rle))
        out.append(Segment(key, rle, int(_mask.area(rle)), bbox, key))  # type: ignore[arg-type]
    return out


# ---------------------------------------------------------------------------------------------
# annotations and files
# ---------------------------------------------------------------------------------------------

def _category_of(seg: Segment, category_id: Any) -> int:
    if seg.category_id is not None:
        return seg.category_id
    if category_id is None:
        return seg.value
    if isinstance(category_id, Mapping):
        if seg.value not in category_id:
            raise FormatError(f"no category for value {seg.value}")
        return int(category_id[seg.value])
    if callable(category_id):
        return int(category_id(seg.value))
    return int(category_id)


def _polygons(rle: RLE, options: Mapping[str, Any]) -> list[list[float]] | None:
    """COCO polygons for the segment, or None where they cannot stand for it (a hole, a
    part too thin to trace): the caller writes its RLE then."""
    try:
        from maskcodecs.polygons import coco_polygons
    except ImportError as e:
        raise OptionalDependencyError(
            "polygon output needs maskcodecs.polygons, which this build does not have; "
            "use the default RLE segmentation") from e
    if "holes" in options:
        raise ContourOptionError(
            "polygon_options: holes cannot be written as COCO polygons (COCO unions an "
            "annotation's polygons, which would fill them); segments with holes are "
            "written as RLE")
    return coco_polygons(rle, **options)


def to_annotations(segments: Iterable[Segment], /, *, image_id: int,
                   category_id: int | Mapping[int, int] | Callable[[int], int] | None = None,
                   start_id: int = 1, iscrowd: int = 0, polygons: bool = False,
                   polygon_options: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Build COCO annotation dicts from segments.

    Parameters
    ----------
    segments : iterable of Segment
        From the ``segments_from_*`` functions.
    image_id : int
        The image the annotations belong to.
    category_id : int, mapping, callable or None
        Category of a segment that has none: a constant, a value-to-category mapping, a
        function of the value, or None to use the value itself.
    start_id : int, default 1
        Id of the first annotation; the others follow.
    iscrowd : int, default 0
        The ``iscrowd`` flag written on every annotation.
    polygons : bool, default False
        Write polygon segmentations (needs ``maskcodecs.polygons``) where polygons can
        stand for the segment: segments with a hole, or with a part too thin to trace,
        stay RLE (COCO unions an annotation's polygons, so a hole polygon would fill the
        hole; see ``maskcodecs.polygons.coco_polygons``), and so do crowd annotations, as
        in COCO. By default the segmentation is a compressed RLE whose ``counts`` is a
        str, so the dict is valid JSON.
    polygon_options : mapping, optional
        ``approx``, ``connectivity``, ``min_area`` of ``maskcodecs.polygons.coco_polygons``.

    Returns
    -------
    list of dict
        ``{"id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd"}``;
        area is the pixel count and bbox the tight ``[x, y, w, h]`` of the mask.

    Raises
    ------
    FormatError
        If a mapping has no category for a value.
    OptionalDependencyError
        If polygons are asked for and ``maskcodecs.polygons`` is missing.

    Examples
    --------
    >>> import numpy as np
    >>> segs = segments_from_label_map(np.array([[0, 3]], dtype=np.uint8))
    >>> to_annotations(segs, image_id=1, category_id={3: 18}, start_id=10)
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'id': 10, 'image_id': 1, 'category_id': 18,
      'segmentation': {'size': [1, 2], 'counts': '11'}, 'area': 1,
      'bbox': [1.0, 0.0, 1.0, 1.0], 'iscrowd': 0}]
    """
    options = dict(polygon_options or {})
    out = []
    for k, seg in enumerate(segments):
        segmentation: Any = _polygons(seg.rle, options) if polygons and not iscrowd else None
        if segmentation is None:
            counts = seg.rle["counts"]
            segmentation = {"size": [int(v) for v in seg.rle["size"]],
                            "counts": counts.decode("ascii") if isinstance(counts, bytes)
                            else str(counts)}
        out.append({
            "id": int(start_id) + k,
            "image_id": image_id,
            "category_id": _category_of(seg, category_id),
            "segmentation": segmentation,
            "area": int(seg.area),
            "bbox": [float(v) for v in seg.bbox],
            "iscrowd": int(iscrowd),
        })
    return out


def write_coco_json(path: str | os.PathLike[str], images: Sequence[Mapping[str, Any]],
                    categories: Sequence[Mapping[str, Any]],
                    annotations: Sequence[Mapping[str, Any]], /, *,
                    info: Mapping[str, Any] | None = None,
                    licenses: Sequence[Mapping[str, Any]] | None = None,
                    indent: int | None = None) -> None:
    """Write a COCO JSON file atomically.

    RLE ``counts`` given as bytes are written as str, numpy numbers as JSON numbers. The
    file is written to a temporary file in the same folder and renamed over ``path``, so
    readers never see a partial file; a replaced file keeps its permissions, a new one
    gets 0644.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    images, categories, annotations : sequence of dict
        The COCO lists.
    info : dict, optional
        The ``info`` block, written first when given.
    licenses : list of dict, optional
        The ``licenses`` block.
    indent : int, optional
        JSON indentation (compact by default).

    Raises
    ------
    TypeError
        If a value cannot be written as JSON.
    OSError
        If the file cannot be written (the previous file, if any, is left intact).

    Examples
    --------
    >>> import tempfile, os, json
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "ann.json")
    >>> write_coco_json(p, [{"id": 1, "height": 1, "width": 2}], [{"id": 3, "name": "x"}],
    ...                 [{"id": 1, "segmentation": {"size": [1, 2], "counts": b"11"}}])
    >>> with open(p) as f:
    ...     json.load(f)["annotations"][0]["segmentation"]["counts"]
    '11'
    """
    doc: dict[str, Any] = {}
    if info is not None:
        doc["info"] = info
    if licenses is not None:
        doc["licenses"] = licenses
    doc["images"] = list(images)
    doc["annotations"] = list(annotations)
    doc["categories"] = list(categories)
    with atomic_open(path, "w", encoding="utf-8", durable=True) as f:
        json.dump(doc, f, default=json_default, indent=indent,
                  separators=None if indent is not None else (",", ":"))


# ---------------------------------------------------------------------------------------------
# annotations to masks
# ---------------------------------------------------------------------------------------------

def _empty_rle(h: int, w: int) -> RLE:
    # no runs: the transpose kernel writes the single background run (split past 2**32-1)
    return {"size": [h, w], "counts": _core.transpose_string(b"", w, h)}


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _sized_rle(segm: Mapping[str, Any], h: int, w: int) -> RLE:
    """An RLE segmentation as a compressed RLE, refused where its size is not the image's
    (pycocotools would use the RLE's own size and give a mask of another shape)."""
    if "counts" not in segm or "size" not in segm:
        raise FormatError("an RLE segmentation needs 'size' and 'counts'")
    rle = _mask.frPyObjects(dict(segm), h, w)
    if [int(v) for v in rle["size"]] != [h, w]:
        raise SizeMismatchError(f"RLE size {list(rle['size'])} differs from the image size "
                                f"[{h}, {w}] given")
    return rle


def ann_to_rle(ann: Mapping[str, Any], /, height: int, width: int) -> RLE:
    """Convert a COCO annotation's segmentation to a compressed RLE.

    Parameters
    ----------
    ann : dict
        A COCO annotation. ``segmentation`` may be a list of polygons (unioned, as
        pycocotools does), a single flat polygon, a list of RLE dicts, an uncompressed RLE
        (counts a list) or a compressed RLE (counts bytes or str), whose ``size`` must be the
        image's. Without ``segmentation`` the ``bbox`` is rasterised.
    height, width : int
        The image size, used for polygons and boxes.

    Returns
    -------
    dict
        ``{"size": [h, w], "counts": bytes}``; bytes identical to pycocotools
        ``COCO.annToRLE`` wherever that works. ``segmentation: []`` and polygons of fewer
        than 3 points give empty masks (pycocotools raises).

    Raises
    ------
    FormatError
        If the segmentation has none of these forms.
    InvalidRLEError
        If an RLE is malformed or overruns its size.
    SizeMismatchError
        If an RLE's ``size`` is not ``[height, width]``.

    Examples
    --------
    >>> ann_to_rle({"segmentation": [[0, 0, 0, 2, 2, 2, 2, 0]]}, 3, 3)
    {'size': [3, 3], 'counts': b'02103'}
    >>> ann_to_rle({"segmentation": []}, 2, 2)
    {'size': [2, 2], 'counts': b'4'}
    """
    h = _mask._as_siz(height, "height")
    w = _mask._as_siz(width, "width")
    if not isinstance(ann, Mapping):
        raise FormatError(f"a COCO annotation must be a dict, got {type(ann).__name__}")
    segm = ann.get("segmentation")
    if segm is None:
        bbox = ann.get("bbox")
        if bbox is None:
            raise FormatError("annotation has neither 'segmentation' nor 'bbox'")
        return _mask.frBbox([bbox], h, w)[0]
    if isinstance(segm, Mapping):
        return _sized_rle(segm, h, w)
    if not isinstance(segm, (list, tuple)):
        raise FormatError(f"unsupported segmentation of type {type(segm).__name__}")
    if len(segm) == 0:
        return _empty_rle(h, w)
    if all(isinstance(p, Mapping) for p in segm):
        return _mask.merge([_sized_rle(p, h, w) for p in segm])
    if all(_is_number(v) for v in segm):
        segm = [segm]  # one flat polygon
    try:
        rles = _mask.frPoly(list(segm), h, w)
    except MaskCodecError:
        raise
    except (TypeError, ValueError) as e:
        raise FormatError(f"bad polygon segmentation: {e}") from e
    return _mask.merge(rles)


def ann_to_mask(ann: Mapping[str, Any], /, height: int, width: int) -> np.ndarray:
    """Convert a COCO annotation's segmentation to a binary mask.

    Parameters
    ----------
    ann : dict
        As for :func:`ann_to_rle`.
    height, width : int
        The image size.

    Returns
    -------
    numpy.ndarray
        uint8 (h, w) with 0/1, Fortran-ordered, as pycocotools ``COCO.annToMask``.

    Examples
    --------
    >>> ann_to_mask({"segmentation": {"size": [2, 2], "counts": [1, 2, 1]}}, 2, 2).tolist()
    [[0, 1], [1, 0]]
    """
    return _mask.decode(ann_to_rle(ann, height, width))

"""Every format operation the command line needs, behind one small adapter.

The format work itself lives in the feature modules (the label-map and colour kernels
of :mod:`maskcodecs.coco` and :mod:`maskcodecs.labelbox`, :mod:`maskcodecs.polygons`, and the
core string codec for Encord); this module only adapts their results to what the commands need.

All RLE dicts returned here have ``bytes`` counts (COCO, column-major).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs import mask as _mask
from maskcodecs import polygons
from maskcodecs import rle as _rle
from maskcodecs._types import RLE
from maskcodecs.errors import FormatError, InvalidRLEError, MaskCodecError

__all__ = [
    "label_map_to_rles", "label_map_segments", "colour_map_segments", "rgb_to_ids", "ids_to_rgb",
    "split_colours",
    "rle_to_polygons", "encord_string_to_coco", "coco_to_encord_string",
    "segmentation_to_rle", "decode_rle", "rle_area_bbox", "counts_text",
]

def label_map_to_rles(arr: Any, /, *, background: int = 0) -> dict[int, RLE]:
    """Return ``{value: rle}`` for every value of a 2-D label map except ``background``.

    Parameters
    ----------
    arr : array_like, shape (h, w)
        Integer label map (any memory order).
    background : int
        The value that is not an instance.

    Returns
    -------
    dict
        Values in increasing order, each to a compressed COCO RLE with ``bytes`` counts.

    Examples
    --------
    >>> label_map_to_rles(np.array([[5, 5], [0, 9]], dtype=np.uint8))
    {5: {'size': [2, 2], 'counts': b'01100'}, 9: {'size': [2, 2], 'counts': b'31'}}
    """
    return {v: seg[0] for v, seg in label_map_segments(arr, background=background).items()}


Segments = dict[int, tuple[RLE, int, list[float]]]


def label_map_segments(arr: Any, /, *, background: int = 0) -> Segments:
    """Return ``{value: (rle, area, [x, y, w, h])}`` for every value except ``background``,
    from one pass of the label-map kernel (area and box come with the runs)."""
    a = np.asarray(arr)
    if a.ndim != 2:
        raise FormatError(f"a label map must be 2-D, got shape {a.shape}")
    if a.dtype.kind not in "biu":
        raise FormatError(f"a label map must have an integer dtype, got {a.dtype}")
    from maskcodecs.coco import segments_from_label_map

    return _by_value(segments_from_label_map(a, background=background))


def _by_value(segs: Any) -> Segments:
    return {int(s.value): (s.rle, int(s.area), [float(b) for b in s.bbox]) for s in segs}


def colour_map_segments(img: np.ndarray, /) -> Segments:
    """Return ``{id: (rle, area, [x, y, w, h])}`` for every colour of an (h, w, 3+) uint8
    image except black, keyed by the panoptic id ``R + 256*G + 65536*B``, in one pass."""
    if img.ndim != 3 or img.shape[2] < 3:
        raise FormatError(f"expected an RGB image, got shape {img.shape}")
    from maskcodecs.coco import segments_from_colour_map

    return _by_value(segments_from_colour_map(img[..., :3], background=(0, 0, 0)))


def rle_area_bbox(rles: list[RLE], /) -> tuple[list[int], list[list[float]]]:
    """Return pixel areas and [x, y, w, h] boxes (pycocotools semantics) of compressed RLEs."""
    if not rles:
        return [], []
    areas = np.atleast_1d(_mask.area(rles)).tolist()
    boxes = np.atleast_2d(_mask.toBbox(rles)).tolist()
    return [int(a) for a in areas], boxes


def rgb_to_ids(img: np.ndarray, /) -> np.ndarray:
    """Panoptic ids ``R + 256*G + 65536*B`` (uint32) of an (h, w, 3+) uint8 image."""
    if img.ndim != 3 or img.shape[2] < 3:
        raise FormatError(f"expected an RGB image, got shape {img.shape}")
    rgb = img[..., :3].astype(np.uint32)
    return rgb[..., 0] | (rgb[..., 1] << 8) | (rgb[..., 2] << 16)


def ids_to_rgb(ids: np.ndarray, /) -> np.ndarray:
    """Inverse of :func:`rgb_to_ids`: (h, w) ids < 2**24 to an (h, w, 3) uint8 image."""
    ids = np.asarray(ids, dtype=np.uint32)
    out = np.empty(ids.shape + (3,), dtype=np.uint8)
    out[..., 0] = ids & 0xFF
    out[..., 1] = (ids >> 8) & 0xFF
    out[..., 2] = (ids >> 16) & 0xFF
    return out


def split_colours(img: np.ndarray, colours: list[tuple[int, int, int]], /,
                  tolerance: float | None = None) -> tuple[list[RLE | None], int, int]:
    """RLE of the pixels exactly equal (R, G and B) to each colour, None where absent, and
    the pixels snapped and left unassigned (0, 0 without ``tolerance``).

    Uses the one-pass exact colour split of :func:`maskcodecs.labelbox.split`; with
    ``tolerance``, pixels first snap to the nearest of the colours or black within it.
    """
    from maskcodecs.labelbox import split

    res = split(img, colours, output="rle", background=None if tolerance is None else
                (0, 0, 0), tolerance=tolerance)
    return ([r if int(n) else None for r, n in zip(res.rles or [], res.areas)],
            res.snapped, res.unassigned)


# ---------------------------------------------------------------------------------------------
# polygons
# ---------------------------------------------------------------------------------------------

def rle_to_polygons(mask: np.ndarray | RLE, /, *, min_area: float = 0.0) -> list[list[float]]:
    """COCO polygons ``[[x0, y0, x1, y1, ...], ...]`` (outer boundaries, at least 3 points)
    of a 2-D mask, or of a compressed RLE traced straight from its runs (no decoding)."""
    if isinstance(mask, dict):
        c, size = mask.get("counts"), mask.get("size")
        if min_area == 0 and isinstance(c, bytes) and isinstance(size, list) and len(size) == 2:
            return [p for p in polygons._outer_polygons(c, int(size[0]), int(size[1]))
                    if len(p) >= 6]
        polys = polygons.rle_to_polygons(mask, holes=False, min_area=min_area)
    else:
        polys = polygons.mask_to_polygons(mask, holes=False, min_area=min_area)
    return [p for p in polys if len(p) >= 6]  # already flat lists of float


# ---------------------------------------------------------------------------------------------
# COCO segmentations and the Encord string
# ---------------------------------------------------------------------------------------------

def counts_text(rle: RLE, /) -> str:
    """The counts of a compressed RLE as a str (JSON-ready)."""
    c = rle["counts"]
    return c.decode("ascii") if isinstance(c, bytes) else c


def _as_bytes(counts: Any) -> bytes:
    if isinstance(counts, bytes):
        return counts
    if isinstance(counts, str):
        try:
            return counts.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidRLEError("counts string is not ASCII") from None
    raise FormatError(f"counts must be a string, got {type(counts).__name__}")


def encord_string_to_coco(s: Any, h: int, w: int, /) -> RLE:
    """COCO RLE of an Encord ``rleString`` (row-major runs) for an h x w mask.

    Counts that sum to less than h*w leave the tail empty (as Encord does); more is an error.

    Examples
    --------
    >>> encord_string_to_coco("12310", 3, 4)
    {'size': [3, 4], 'counts': b'22200OO'}
    >>> coco_to_encord_string({"size": [3, 4], "counts": b"22200OO"})
    '12310'
    """
    b = _as_bytes(s)
    c = np.frombuffer(_core.counts_from_string(b), dtype=np.uint32) if b else np.zeros(0, np.uint32)
    total = int(c.sum(dtype=np.uint64))
    if total > h * w:
        raise InvalidRLEError(f"rleString runs sum to {total}, more than {h}*{w}")
    if total < h * w:  # pad the tail with zeros
        c = c.astype(np.uint64)
        pad = h * w - total
        if c.size % 2 == 1:
            c[-1] += pad
        else:
            c = np.concatenate((c, np.array([pad], dtype=np.uint64)))
        b = _core.string_from_counts(np.ascontiguousarray(c, dtype=np.uint32))
    return {"size": [h, w], "counts": _core.transpose_string(b, w, h)}


def coco_to_encord_string(rle: RLE, /) -> str:
    """Encord ``rleString`` (row-major runs) of a compressed COCO RLE."""
    h, w = (int(v) for v in rle["size"])
    return _core.transpose_string(_as_bytes(rle["counts"]), h, w).decode("ascii")


def segmentation_to_rle(seg: Any, h: int, w: int, /) -> RLE:
    """Compressed RLE of any COCO segmentation (polygons, RLE list, RLE string)."""
    if isinstance(seg, list):
        if not seg:
            return {"size": [h, w], "counts": _core.string_from_counts(
                np.array([h * w], dtype=np.uint32)) if h * w else b""}
        rles = _mask.frPyObjects(seg, h, w)
        return _mask.merge(rles) if isinstance(rles, list) else rles
    if isinstance(seg, dict) and "counts" in seg:
        if isinstance(seg["counts"], list):
            return _mask.frPyObjects(seg, *[int(v) for v in seg["size"]])
        return {"size": [int(v) for v in seg["size"]], "counts": _as_bytes(seg["counts"])}
    raise FormatError(f"unknown segmentation of type {type(seg).__name__}")


def decode_rle(rle: RLE, /) -> np.ndarray:
    """C-ordered uint8 (h, w) mask of a compressed RLE."""
    try:
        return _rle.decode(rle, order="C")
    except MaskCodecError:
        raise
    except (TypeError, KeyError) as e:
        raise FormatError(f"bad RLE: {e}") from None

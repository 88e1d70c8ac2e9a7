"""Every format operation the command line needs, behind one small adapter.

Each function first tries the feature module written for it (imported lazily and guarded, so
the CLI works before those modules exist) and otherwise falls back to an implementation built
on :mod:`maskcodecs.mask` / :mod:`maskcodecs.rle` / the core string codec. The fallbacks are
correct; the feature modules are expected to be faster. Names probed (to rewire after merge):

- ``maskcodecs.coco.segments_from_label_map(labels, /, *, background=0)`` -> list of
  segments with ``.value`` and ``.rle`` (one-pass label-map kernel)
- ``maskcodecs.labelbox.split(composite, /, colors, *, output="rle", background=None)`` ->
  result with ``.rles`` and ``.areas`` (one-pass exact colour split)
- ``maskcodecs.polygons.mask_to_polygons(mask, /, *, holes=False, min_area=0.0)`` -> COCO
  polygons (no fallback: polygon output is refused without it)
- Encord strings need no feature module: the core ``transpose_string`` relabels the runs.

All RLE dicts returned here have ``bytes`` counts (COCO, column-major).
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs import mask as _mask
from maskcodecs import rle as _rle
from maskcodecs.errors import FormatError, InvalidRLEError, MaskCodecError

__all__ = [
    "label_map_to_rles", "rgb_to_ids", "ids_to_rgb", "split_colours",
    "rle_to_polygons", "polygons_available", "encord_string_to_coco", "coco_to_encord_string",
    "segmentation_to_rle", "decode_rle", "rle_area_bbox",
]

def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """Return ``maskcodecs.<module>.<name>`` when that feature module exists, else None."""
    try:
        mod = importlib.import_module(f"maskcodecs.{module}")
    except ImportError:
        return None
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


# ---------------------------------------------------------------------------------------------
# label maps and colour maps
# ---------------------------------------------------------------------------------------------

_MAX_RUN = 2**32 - 1


def _label_runs_fallback(arr: np.ndarray, background: int) -> dict[int, dict[str, Any]]:
    """Per-value COCO RLEs of a label map from one column-major run scan (no per-value pass)."""
    h, w = arr.shape
    n = h * w
    if n == 0:
        return {}
    if n > _MAX_RUN:  # runs could need splitting: use the per-value encoder instead
        vals = np.unique(arr)
        return {int(v): _rle.encode(arr == v) for v in vals if v != background}
    flat = arr.T.ravel()  # column-major order, one copy
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts = np.empty(change.size + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = change
    ends = np.empty_like(starts)
    ends[:-1] = change
    ends[-1] = n
    vals = flat[starts]
    keep = vals != background
    vals, starts, ends = vals[keep], starts[keep], ends[keep]
    if vals.size == 0:
        return {}
    order = np.argsort(vals, kind="stable")
    vals, starts, ends = vals[order], starts[order], ends[order]
    cut = np.flatnonzero(vals[1:] != vals[:-1]) + 1
    lo = np.concatenate(([0], cut))
    hi = np.concatenate((cut, [vals.size]))
    out: dict[int, dict[str, Any]] = {}
    for a, b in zip(lo.tolist(), hi.tolist()):
        s = starts[a:b]
        e = ends[a:b]
        k = b - a
        tail = n - int(e[-1])
        c = np.empty(2 * k + (1 if tail else 0), dtype=np.uint32)
        c[0] = s[0]
        c[2:2 * k:2] = s[1:] - e[:-1]
        c[1:2 * k:2] = e - s
        if tail:
            c[-1] = tail
        out[int(vals[a])] = {"size": [h, w], "counts": _core.string_from_counts(c)}
    return out


def label_map_to_rles(arr: Any, /, *, background: int = 0) -> dict[int, dict[str, Any]]:
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
    a = np.asarray(arr)
    if a.ndim != 2:
        raise FormatError(f"a label map must be 2-D, got shape {a.shape}")
    if a.dtype.kind not in "biu":
        raise FormatError(f"a label map must have an integer dtype, got {a.dtype}")
    fast = _optional("coco", "segments_from_label_map")
    if fast is not None:
        try:
            return {int(s.value): s.rle for s in fast(a, background=background)}
        except (TypeError, AttributeError):  # an API other than the one probed: fall back
            pass
    return _label_runs_fallback(a, background)


def rle_area_bbox(rles: list[dict[str, Any]], /) -> tuple[list[int], list[list[float]]]:
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


def split_colours(img: np.ndarray, colours: list[tuple[int, int, int]], /
                  ) -> list[dict[str, Any] | None]:
    """RLE of the pixels exactly equal (R, G and B) to each colour; None where absent.

    Tries ``maskcodecs.labelbox.split`` first.
    """
    fast = _optional("labelbox", "split")
    if fast is not None:
        try:
            res = fast(img, colours, output="rle", background=None)
            return [r if int(n) else None for r, n in zip(res.rles, res.areas)]
        except (TypeError, AttributeError):  # an API other than the one probed: fall back
            pass
    per_id = _label_runs_fallback(rgb_to_ids(img), -1)
    out: list[dict[str, Any] | None] = []
    for r, g, b in colours:
        out.append(per_id.get(int(r) | (int(g) << 8) | (int(b) << 16)))
    return out


# ---------------------------------------------------------------------------------------------
# polygons
# ---------------------------------------------------------------------------------------------

def polygons_available() -> bool:
    """Whether polygon output is possible (needs ``maskcodecs.polygons``)."""
    return _optional("polygons", "mask_to_polygons") is not None


def rle_to_polygons(mask: np.ndarray, /, *, min_area: float = 0.0) -> list[list[float]]:
    """COCO polygons ``[[x0, y0, x1, y1, ...], ...]`` of a 2-D mask (outer boundaries).

    Raises
    ------
    FormatError
        When ``maskcodecs.polygons`` is not installed: polygons are never guessed.
    """
    fn = _optional("polygons", "mask_to_polygons")
    if fn is None:
        raise FormatError("polygon output needs maskcodecs.polygons, which is not available "
                          "in this installation; use --format rle")
    polys = fn(mask, holes=False, min_area=min_area)
    out = []
    for p in polys:
        flat = np.asarray(p, dtype=np.float64).reshape(-1)
        if flat.size >= 6:
            out.append([float(v) for v in flat])
    return out


# ---------------------------------------------------------------------------------------------
# COCO segmentations and the Encord string
# ---------------------------------------------------------------------------------------------

def _as_bytes(counts: Any) -> bytes:
    if isinstance(counts, bytes):
        return counts
    if isinstance(counts, str):
        try:
            return counts.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidRLEError("counts string is not ASCII") from None
    raise FormatError(f"counts must be a string, got {type(counts).__name__}")


def encord_string_to_coco(s: Any, h: int, w: int, /) -> dict[str, Any]:
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


def coco_to_encord_string(rle: dict[str, Any], /) -> str:
    """Encord ``rleString`` (row-major runs) of a compressed COCO RLE."""
    h, w = (int(v) for v in rle["size"])
    return _core.transpose_string(_as_bytes(rle["counts"]), h, w).decode("ascii")


def segmentation_to_rle(seg: Any, h: int, w: int, /) -> dict[str, Any]:
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


def decode_rle(rle: dict[str, Any], /) -> np.ndarray:
    """C-ordered uint8 (h, w) mask of a compressed RLE."""
    try:
        return _rle.decode(rle, order="C")
    except MaskCodecError:
        raise
    except (TypeError, KeyError) as e:
        raise FormatError(f"bad RLE: {e}") from None

"""Labelbox colour masks: composite images, NDJSON mask lines, export v2 and polygons.

Labelbox stores a segmentation as an RGB composite image in which every instance has its own
exact ``(r, g, b)`` colour. :func:`split` turns a composite into one binary mask or one COCO
RLE per requested colour in a single pass over the pixels (the Labelbox SDK compares the whole
image once per colour). Colours present in the image but not requested are reported, never
silently dropped. :func:`compose` goes the other way.

Polygons are rasterised exactly as Labelbox's ``Polygon.draw`` does (coordinates truncated to
int32, then OpenCV ``fillPoly`` with 8-connected edges, boundary pixels included), without
OpenCV at run time.

Examples
--------
>>> import numpy as np
>>> from maskcodecs import labelbox
>>> img = np.zeros((3, 4, 3), dtype=np.uint8)
>>> img[0, 1:3] = img[1, 2:4] = (255, 0, 0)
>>> img[1, 0] = (255, 0, 1)
>>> img[2, 0] = img[2, 3] = (0, 255, 0)
>>> res = labelbox.split(img, [(255, 0, 0), (0, 255, 0)])
>>> res.masks[0].astype(int).tolist()
[[0, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 0]]
>>> res.unrequested
{(255, 0, 1): 1}
>>> labelbox.split(img, [(0, 255, 0)], output="rle").rles[0]
{'size': [3, 4], 'counts': b'2180'}
"""
from __future__ import annotations

import base64
import io
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs import mask as _mask
from maskcodecs._imageio import read_array
from maskcodecs._jsontypes import json_list, json_object
from maskcodecs._optional import require
from maskcodecs._types import RLE
from maskcodecs.errors import (
    ArgumentError,
    FormatError,
    MaskDtypeError,
    MaskShapeError,
    UnrequestedColorError,
)

__all__ = [
    "SplitResult",
    "split",
    "colors_in",
    "compose",
    "load_composite",
    "mask_to_png",
    "png_to_mask",
    "read_mask_line",
    "mask_line",
    "write_mask_line",
    "read_ndjson",
    "read_export_v2",
    "polygon_mask",
    "polygon_rle",
    "draw_polygon",
]

Color = tuple[int, int, int]
Composite = Union[np.ndarray, bytes, bytearray, memoryview, str, "os.PathLike[str]", Any]


# ---------------------------------------------------------------------------------------------
# composites
# ---------------------------------------------------------------------------------------------

def _pil() -> Any:
    return require("PIL.Image", "reading a composite image file (an H x W x 3 uint8 array "
                   "works without it)")


def _composite_mode(mode: str) -> str | None:
    """RGB/RGBA/L pixels are kept, every other mode is converted to RGB."""
    return None if mode in ("RGB", "RGBA", "L") else "RGB"


def _image_to_array(im: Any) -> np.ndarray:
    """Pixels of a Pillow image, converted as _composite_mode says."""
    target = _composite_mode(im.mode)
    return np.asarray(im.convert(target) if target else im)


def load_composite(source: Composite, /) -> np.ndarray:
    """Return a composite as an ``(h, w, c)`` uint8 array (a view when possible).

    Parameters
    ----------
    source : array, bytes, path or PIL.Image.Image
        An ``(h, w, 3)`` or ``(h, w, 4)`` uint8 array (alpha is ignored later), an ``(h, w)``
        uint8 array (grey ``v`` means colour ``(v, v, v)``, as Labelbox reads L-mode PNGs),
        encoded image bytes (PNG...), a file path, or a Pillow image. Palette images are
        converted to RGB (Labelbox itself would read palette indices).

    Returns
    -------
    numpy.ndarray
        uint8, 3-D, at least 3 channels.

    Raises
    ------
    ImageReadError
        For bytes or a file that do not decode as an image (a ValueError and an OSError).
    MaskDtypeError
        For an array that is not uint8.
    MaskShapeError
        For an array that is not ``(h, w)`` or ``(h, w, c>=3)``.

    Examples
    --------
    >>> load_composite(np.zeros((2, 3), np.uint8)).shape
    (2, 3, 3)
    """
    if isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike)):
        a = read_array(source, _composite_mode)
    elif not isinstance(source, np.ndarray) and hasattr(source, "convert"):
        a = _image_to_array(source)
    else:
        a = np.asarray(source)
    if a.dtype != np.uint8:
        raise MaskDtypeError(f"composite must be uint8, got {a.dtype}")
    if a.ndim == 2:
        return np.broadcast_to(a[:, :, None], a.shape + (3,))
    if a.ndim != 3 or a.shape[2] < 3:
        raise MaskShapeError(f"composite must be (h, w), (h, w, 3) or (h, w, 4), got {a.shape}")
    return a


def _color_key(c: Any) -> int:
    if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
        c = (c, c, c)  # Labelbox broadcasts an int colour: R == G == B == c
    try:
        r, g, b = (int(v) for v in c)
    except (TypeError, ValueError):
        raise MaskShapeError(f"a colour must be (r, g, b), got {c!r}") from None
    if not (0 <= r < 256 and 0 <= g < 256 and 0 <= b < 256):
        raise MaskShapeError(f"colour components must be in 0..255, got {c!r}")
    return r | (g << 8) | (b << 16)


def _key_color(k: int) -> Color:
    return (k & 255, (k >> 8) & 255, (k >> 16) & 255)


@dataclass
class SplitResult:
    """Result of :func:`split`: one entry per requested colour, in request order.

    Attributes
    ----------
    colors : list of (r, g, b)
        The requested colours.
    areas : numpy.ndarray
        Pixel count of each requested colour (uint64).
    masks : numpy.ndarray or None
        ``(n, h, w)`` bool masks (``output="mask"``).
    rles : list of RLE or None
        COCO RLE dicts (``output="rle"``).
    unrequested : dict
        Every colour present but not requested (other than the background) -> pixel count.
    size : (h, w)
    snapped, unassigned : int
        With ``tolerance``: the pixels moved onto a requested colour (or the background),
        and those farther than the tolerance from all of them (given the background).
    """

    colors: list[Color]
    areas: np.ndarray
    masks: np.ndarray | None = None
    rles: list[RLE] | None = None
    unrequested: dict[Color, int] = field(default_factory=dict)
    size: tuple[int, int] = (0, 0)
    snapped: int = 0
    unassigned: int = 0


def _scan(img: np.ndarray, keys: list[int], want_masks: bool,
          want_rles: bool) -> tuple[np.ndarray | None, list[bytes] | None, np.ndarray, np.ndarray]:
    h, w = img.shape[:2]
    n = len(keys)
    buf = np.zeros(n * h * w if want_masks else 0, dtype=np.uint8)
    strings, kb, cb = _core.colour_split(img, np.asarray(keys, dtype=np.uint32), buf, want_rles)
    masks = buf.view(np.bool_).reshape(n, h, w) if want_masks else None
    return masks, strings, np.frombuffer(kb, np.uint32), np.frombuffer(cb, np.uint64)


def split(composite: Composite, /, colors: Iterable[Any], *, output: str = "mask",
          background: Any = (0, 0, 0), on_unrequested: str = "report",
          tolerance: float | None = None) -> SplitResult:
    """Split a colour composite into one mask or RLE per colour, in one pass.

    A pixel belongs to a colour when its R, G and B bytes all equal it (alpha ignored),
    exactly as Labelbox's ``Mask.draw`` tests ``np.all(arr == color, axis=2)``.

    Parameters
    ----------
    composite : array, bytes, path or PIL.Image.Image
        See :func:`load_composite`.
    colors : iterable of (r, g, b) or int
        The colours to extract. A colour may repeat (each occurrence gets the same mask).
        An int ``v`` means ``(v, v, v)``, as Labelbox's ``Mask(color=v)`` matches it.
    output : {"mask", "rle"}
        ``"mask"``: ``(n, h, w)`` bool array in ``.masks``; ``"rle"``: COCO RLE dicts
        (column-major, compressed counts) in ``.rles``, built without any full mask.
    background : (r, g, b) or None
        A colour never reported as unrequested (default black); None reports every colour.
    on_unrequested : {"report", "raise"}
        Report unrequested colours in ``.unrequested`` (default) or raise.
    tolerance : float, optional
        For composites saved lossily (JPEG): first snap every pixel to the nearest of the
        requested colours and the background within this Euclidean RGB distance
        (:func:`maskcodecs.coco.snap_colours` with them as the palette); pixels farther from
        all of them become background and are counted in ``.unassigned`` instead of being
        reported in ``.unrequested``. Needs a background colour.

    Returns
    -------
    SplitResult

    Raises
    ------
    UnrequestedColorError
        With ``on_unrequested="raise"`` when the image holds other colours.
    MaskShapeError, MaskDtypeError
        For a bad composite or colour.

    Examples
    --------
    >>> img = np.zeros((2, 2, 3), np.uint8); img[0, 0] = (1, 2, 3); img[1, 1] = (9, 9, 9)
    >>> r = split(img, [(1, 2, 3)])
    >>> r.masks[0].tolist(), r.unrequested
    ([[True, False], [False, False]], {(9, 9, 9): 1})
    """
    if output not in ("mask", "rle"):
        raise ValueError(f"output must be 'mask' or 'rle', got {output!r}")
    if on_unrequested not in ("report", "raise"):
        raise ValueError(f"on_unrequested must be 'report' or 'raise', got {on_unrequested!r}")
    img = load_composite(composite)
    req = [_color_key(c) for c in colors]
    uniq = list(dict.fromkeys(req))
    snap = None
    if tolerance is not None:
        if background is None:
            raise ArgumentError("tolerance needs a background colour: the pixels it leaves "
                                "unassigned become the background")
        from maskcodecs.coco import snap_colours
        snap = snap_colours(img, tolerance=tolerance, palette=[_key_color(k) for k in uniq],
                            background=_key_color(_color_key(background)))
        img = snap.image
    masks, strings, keys, counts = _scan(img, uniq, output == "mask", output == "rle")
    h, w = img.shape[:2]
    where = {k: i for i, k in enumerate(uniq)}
    idx = [where[k] for k in req]
    bg = None if background is None else _color_key(background)
    extra = {_key_color(int(k)): int(c) for k, c in zip(keys[len(uniq):], counts[len(uniq):])
             if int(k) != bg}
    if extra and on_unrequested == "raise":
        shown = ", ".join(f"{c}: {n} px" for c, n in list(extra.items())[:5])
        raise UnrequestedColorError(f"{len(extra)} unrequested colour(s) in the composite: {shown}")
    res = SplitResult(colors=[_key_color(k) for k in req],
                      areas=counts[:len(uniq)][idx].copy(), unrequested=extra, size=(h, w))
    if snap is not None:
        res.snapped, res.unassigned = snap.snapped, snap.unassigned
    if masks is not None:
        res.masks = masks if idx == list(range(len(uniq))) else masks[idx]
    if strings is not None:
        res.rles = [{"size": [h, w], "counts": strings[i]} for i in idx]
    return res


def colors_in(composite: Composite, /) -> dict[Color, int]:
    """List the colours of a composite with their pixel counts.

    Parameters
    ----------
    composite : array, bytes, path or PIL.Image.Image
        See :func:`load_composite`.

    Returns
    -------
    dict
        ``(r, g, b) -> pixel count``, in order of first appearance (row by row), the
        background included.

    Examples
    --------
    >>> img = np.zeros((1, 3, 3), np.uint8); img[0, 1] = (0, 255, 255)
    >>> colors_in(img)
    {(0, 0, 0): 2, (0, 255, 255): 1}
    """
    img = load_composite(composite)
    _, _, keys, counts = _scan(img, [], False, False)
    return {_key_color(int(k)): int(c) for k, c in zip(keys, counts)}


def _decode(rle: Any) -> np.ndarray:
    """One (h, w) uint8 mask of an RLE dict."""
    return np.asarray(_mask.decode(rle))


def _encode(m: np.ndarray) -> RLE:
    """COCO RLE of one 2-D bool/uint8 mask (any memory order)."""
    h, w = m.shape
    return {"size": [h, w], "counts": _core.encode_one(m.view(np.uint8))}


def _size_of(m: Any) -> tuple[int, int]:
    if isinstance(m, dict):  # RLEKeyError (a KeyError) without "size", MaskShapeError...
        return _mask._size(m)
    a = np.asarray(m)
    if a.ndim != 2:
        raise MaskShapeError(f"each mask must be 2-D, got shape {a.shape}")
    return a.shape[0], a.shape[1]


def compose(masks_or_rles: Sequence[Any], colors: Sequence[Any], /, *, height: int | None = None,
            width: int | None = None) -> np.ndarray:
    """Paint masks (or COCO RLEs) into an RGB composite, later ones over earlier ones.

    Parameters
    ----------
    masks_or_rles : sequence of 2-D arrays or RLE dicts
        Nonzero pixels of mask ``i`` get ``colors[i]``. Where masks overlap, the later one
        wins, so ``split(compose(ms, cs), cs)`` returns ``ms`` only for disjoint masks.
    colors : sequence of (r, g, b)
    height, width : int, optional
        Required when the sequence is empty; otherwise checked against every mask.

    Returns
    -------
    numpy.ndarray
        ``(h, w, 3)`` uint8, background black.

    Raises
    ------
    MaskShapeError
        For masks of different sizes or a colour count that differs from the mask count.

    Examples
    --------
    >>> compose([np.eye(2, dtype=bool)], [(7, 8, 9)])[:, :, 0].tolist()
    [[7, 0], [0, 7]]
    """
    if len(masks_or_rles) != len(colors):
        raise MaskShapeError(f"{len(masks_or_rles)} masks but {len(colors)} colours")
    for m in masks_or_rles:
        h, w = _size_of(m)
        if (height is not None and h != height) or (width is not None and w != width):
            raise MaskShapeError(f"mask of size {h} x {w} does not match {height} x {width}")
        height, width = h, w
    if height is None or width is None:
        raise MaskShapeError("height and width are required for an empty sequence")
    out = np.zeros((height, width, 3), dtype=np.uint8)
    cols = np.array([_key_color(_color_key(c)) for c in colors], dtype=np.uint8).reshape(-1, 3)
    i, n = 0, len(masks_or_rles)
    while i < n:
        j = i
        while j < n and isinstance(masks_or_rles[j], dict):
            j += 1
        if j > i:  # a batch of RLEs: painted run by run, cost ~ their area
            _core.paint_rles(out, list(masks_or_rles[i:j]), cols[i:j])
            i = j
        else:
            out[np.asarray(masks_or_rles[i]) != 0] = cols[i]
            i += 1
    return out


# ---------------------------------------------------------------------------------------------
# NDJSON mask lines
# ---------------------------------------------------------------------------------------------

def mask_to_png(mask: Any, /) -> bytes:
    """Encode a binary mask as Labelbox does: an L-mode PNG with pixel values 0 and 1.

    The bytes equal the SDK's (``Image.fromarray(binary.astype(uint8)).save(..., "PNG")``)
    for the same Pillow and zlib.

    Parameters
    ----------
    mask : array_like
        2-D; nonzero is foreground.

    Returns
    -------
    bytes

    Examples
    --------
    >>> mask_to_png(np.ones((2, 2), bool))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    a = np.asarray(mask)
    if a.ndim != 2:
        raise MaskShapeError(f"mask must be 2-D, got shape {a.shape}")
    buf = io.BytesIO()
    _pil().fromarray((a != 0).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def png_to_mask(data: bytes, /) -> np.ndarray:
    """Decode a binary-mask PNG (values 0/1, as in ``{"mask": {"png": ...}}``) to bool.

    Raises
    ------
    FormatError
        When a pixel is above 1 (Labelbox rejects such PNGs too) or the image is not 2-D.

    Examples
    --------
    >>> png_to_mask(mask_to_png(np.eye(2))).tolist()
    [[True, False], [False, True]]
    """
    a = read_array(data)
    if a.ndim == 3:
        if not (a[:, :, :1] == a[:, :, 1:3]).all():
            raise FormatError("binary mask PNG has differing colour channels")
        a = a[:, :, 0]
    if a.ndim != 2:
        raise FormatError(f"binary mask PNG has shape {a.shape}")
    if a.size and int(a.max()) > 1:
        raise FormatError(f"expected a binary mask PNG (values 0/1), found {int(a.max())}")
    return a.astype(bool)


def _pick(d: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        if n in d:
            return d[n]
    return None


def _b64(v: Any, what: str) -> bytes:
    """Base64 text (or bytes) decoded; FormatError if it is not base64."""
    try:
        return base64.b64decode(v)
    except (TypeError, ValueError) as e:  # binascii.Error is a ValueError
        raise FormatError(f"{what} is not base64 ({e})") from None


def _fetch(images: Mapping[str, Any] | None, url: Any) -> np.ndarray:
    if not isinstance(url, str):
        raise FormatError(f"a composite mask url must be a string, got {url!r}")
    if images is None or url not in images:
        raise FormatError(f"no composite image given for {url!r} (pass images={{url: image}})")
    return load_composite(images[url])


def read_mask_line(line: Mapping[str, Any] | str, /, *,
                   images: Mapping[str, Any] | None = None) -> RLE:
    """Read the mask of one NDJSON annotation line into a COCO RLE.

    Accepted forms: ``{"mask": {"png": b64}}`` (a 0/1 PNG), ``{"mask": {"instanceURI": url,
    "colorRGB": [r, g, b]}}`` (``instanceUri``/``colorRgb`` aliases too) and
    ``{"mask": {"imBytes": b64 composite, "colorRGB": ...}}``.

    Parameters
    ----------
    line : dict or str
        The decoded JSON object or its text.
    images : mapping, optional
        ``url -> composite`` (array, bytes or path) for ``instanceURI`` masks.

    Returns
    -------
    RLE

    Raises
    ------
    FormatError
        For a line without a usable mask.

    Examples
    --------
    >>> line = mask_line(np.eye(2, dtype=bool), name="car")
    >>> read_mask_line(line)
    {'size': [2, 2], 'counts': b'0120'}
    """
    obj = json_object(_loads(line), "an annotation line")
    m = obj.get("mask")
    if not isinstance(m, Mapping):
        raise FormatError("annotation line has no 'mask' object")
    if "png" in m:
        return _encode(png_to_mask(_b64(m["png"], "mask 'png'")))
    color = _pick(m, "colorRGB", "colorRgb", "color_rgb")
    if color is None:
        raise FormatError("mask has neither 'png' nor a 'colorRGB' colour")
    if "imBytes" in m or "im_bytes" in m:
        img = load_composite(_b64(_pick(m, "imBytes", "im_bytes"), "mask 'imBytes'"))
    else:
        url = _pick(m, "instanceURI", "instanceUri", "url")
        if url is None:
            raise FormatError("mask has no 'png', 'imBytes' or 'instanceURI'")
        img = _fetch(images, url)
    rles = split(img, [color], output="rle").rles
    assert rles is not None
    return rles[0]


def mask_line(mask: Any, /, *, name: str | None = None, uuid: str | None = None,
                    data_row_id: str | None = None, global_key: str | None = None,
                    schema_id: str | None = None, classifications: list[Any] | None = None,
                    url: str | None = None, color: Any = None) -> dict[str, Any]:
    """Build one NDJSON mask annotation as the Labelbox SDK serialises it.

    With ``url`` and ``color`` the mask is referenced as ``{"instanceURI", "colorRGB"}``
    (``mask`` is then ignored and may be None); otherwise ``mask`` (2-D array or COCO RLE) is
    embedded as ``{"png": base64 of a 0/1 L-mode PNG}``.

    Returns
    -------
    dict
        Keys in the SDK's order: uuid, dataRow, name / schemaId, classifications, mask (keys
        whose value is None are left out).

    Examples
    --------
    >>> d = mask_line(np.eye(2, dtype=bool), uuid="u1", data_row_id="dr", name="car")
    >>> list(d), list(d["mask"])
    (['uuid', 'dataRow', 'name', 'classifications', 'mask'], ['png'])
    """
    out: dict[str, Any] = {}
    if uuid is not None:
        out["uuid"] = uuid
    row = {k: v for k, v in (("id", data_row_id), ("globalKey", global_key)) if v is not None}
    if row:
        out["dataRow"] = row
    if name is not None:
        out["name"] = name
    if schema_id is not None:
        out["schemaId"] = schema_id
    out["classifications"] = list(classifications or [])
    if url is not None:
        if color is None:
            raise ValueError("a url mask needs its color")
        out["mask"] = {"instanceURI": url, "colorRGB": list(_key_color(_color_key(color)))}
    else:
        a = _decode(mask) if isinstance(mask, dict) else mask
        out["mask"] = {"png": base64.b64encode(mask_to_png(a)).decode("ascii")}
    return out



def write_mask_line(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Deprecated name of :func:`mask_line` (it builds the line, it writes nothing)."""
    warnings.warn("labelbox.write_mask_line is renamed mask_line (it returns the NDJSON "
                  "line as a dict and writes nothing)", DeprecationWarning, stacklevel=2)
    return mask_line(*args, **kwargs)


def _loads(line: Any) -> Any:
    if isinstance(line, (str, bytes, bytearray)):
        import json
        try:
            return json.loads(line)
        except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise FormatError(f"an NDJSON line is not JSON ({e})") from None
    return line


def read_ndjson(lines: Iterable[Any], /, *,
                images: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Read the mask annotations of an NDJSON import file.

    Lines without a ``mask`` (boxes, classifications...) are skipped; composites referenced by
    several lines (``instanceURI`` or identical ``imBytes``) are split once for all of them.
    Video lines (``{"masks": {"frames": [...], "instances": [...]}}``) yield one record per
    frame and instance, with a ``frame`` key.

    Parameters
    ----------
    lines : iterable of str or dict
        E.g. an open file.
    images : mapping, optional
        ``url -> composite`` for ``instanceURI`` masks.

    Yields
    ------
    dict
        ``{"uuid", "name", "data_row_id", "rle"}`` (plus ``"frame"`` for video).

    Examples
    --------
    >>> recs = list(read_ndjson([mask_line(np.eye(2), uuid="u", name="a")]))
    >>> recs[0]["name"], recs[0]["rle"]["counts"]
    ('a', b'0120')
    """
    if isinstance(lines, (str, bytes, bytearray)) or not isinstance(lines, Iterable):
        raise FormatError(f"lines must be an iterable of lines, got {type(lines).__name__}")
    objs = [json_object(_loads(x), f"NDJSON line {k + 1}") for k, x in enumerate(lines)
            if not (isinstance(x, str) and not x.strip())]
    # group colour lines by composite so each image is split once
    groups: dict[Any, list[int]] = {}
    for i, o in enumerate(objs):
        m = o.get("mask")
        if isinstance(m, Mapping) and "png" not in m:
            src = _pick(m, "imBytes", "im_bytes")
            key = ("b", src) if src is not None else ("u", _pick(m, "instanceURI", "instanceUri"))
            if not isinstance(key[1], (str, bytes, type(None))):
                raise FormatError(f"mask 'imBytes' or 'instanceURI' {key[1]!r} is not a string")
            groups.setdefault(key, []).append(i)
    done: dict[int, RLE] = {}
    for (kind, src), idxs in groups.items():
        if src is None:
            raise FormatError("mask has no 'png', 'imBytes' or 'instanceURI'")
        img = load_composite(_b64(src, "mask 'imBytes'")) if kind == "b" \
            else _fetch(images, src)
        cols = []
        for i in idxs:
            c = _pick(objs[i]["mask"], "colorRGB", "colorRgb", "color_rgb")
            if c is None:
                raise FormatError("composite mask line without 'colorRGB'")
            cols.append(c)
        rles = split(img, cols, output="rle").rles
        assert rles is not None
        done.update(zip(idxs, rles))
    for i, o in enumerate(objs):
        row = json_object(o.get("dataRow"), "'dataRow'", optional=True)
        base = {"uuid": o.get("uuid"), "name": o.get("name"), "data_row_id": row.get("id")}
        if "mask" in o:
            yield {**base, "rle": done[i] if i in done else read_mask_line(o)}
        elif isinstance(o.get("masks"), Mapping):
            yield from _video_records(o["masks"], base, images)


def _video_records(masks: Mapping[str, Any], base: dict[str, Any],
                   images: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
    instances = [json_object(ins, "a video mask instance") for ins in
                 json_list(masks.get("instances"), "video masks 'instances'")]
    cols = [_pick(ins, "colorRGB", "colorRgb", "color_rgb") for ins in instances]
    if any(c is None for c in cols):
        raise FormatError("video mask instance without 'colorRGB'")
    for fr in json_list(masks.get("frames"), "video masks 'frames'"):
        fr = json_object(fr, "a video mask frame")
        src = _pick(fr, "imBytes", "im_bytes")
        if src is not None:
            img = load_composite(_b64(src, "frame 'imBytes'"))
        else:
            img = _fetch(images, _pick(fr, "instanceURI", "instanceUri"))
        rles = split(img, cols, output="rle").rles
        assert rles is not None
        for ins, rle in zip(instances, rles):
            yield {**base, "name": ins.get("name"), "frame": fr.get("index"), "rle": rle}


# ---------------------------------------------------------------------------------------------
# export v2
# ---------------------------------------------------------------------------------------------

def _v2_objects(row: Mapping[str, Any]) -> Iterator[tuple[Any, Mapping[str, Any]]]:
    projects = row.get("projects")
    if not isinstance(projects, Mapping):
        raise FormatError("export v2 row has no 'projects' object")
    for proj in projects.values():
        labels = json_object(proj, "a project").get("labels")
        for label in json_list(labels, "a project's 'labels'"):
            ann = json_object(json_object(label, "a label").get("annotations"),
                              "'annotations'", optional=True)
            for obj in json_list(ann.get("objects"), "'objects'"):
                yield None, json_object(obj, "an object")
            for fi, fr in json_object(ann.get("frames"), "'frames'", optional=True).items():
                objs = json_object(fr, f"frame {fi!r}").get("objects") or {}
                if not str(fi).isdigit():
                    raise FormatError(f"frame key {fi!r} is not a frame number")
                for obj in (objs.values() if isinstance(objs, Mapping)
                            else json_list(objs, f"frame {fi!r} 'objects'")):
                    yield int(fi), json_object(obj, "an object")


def read_export_v2(rows: Iterable[Mapping[str, Any]] | Mapping[str, Any], /,
                   images: Mapping[str, Any], *, output: str = "rle") -> Iterator[dict[str, Any]]:
    """Read the composite-mask objects of Labelbox export v2 rows.

    Every object with ``composite_mask: {url, color_rgb}`` (images, and video frames under
    ``annotations.frames``) becomes one record; each composite is split once for all the
    objects that use it. Objects of other kinds are skipped.

    Parameters
    ----------
    rows : dict or iterable of dict
        Export v2 data rows (one JSON object each).
    images : mapping
        ``composite url -> composite`` (array, PNG bytes or path); maskcodecs does not fetch.
    output : {"rle", "mask"}

    Yields
    ------
    dict
        ``{"data_row_id", "feature_id", "feature_schema_id", "name", "value", "color",
        "frame", "rle" or "mask"}`` (``frame`` None for images).

    Raises
    ------
    FormatError
        For a row without ``projects`` or a composite url missing from ``images``.

    Examples
    --------
    >>> img = np.zeros((2, 2, 3), np.uint8); img[0] = (9, 8, 7)
    >>> row = {"data_row": {"id": "d"}, "projects": {"p": {"labels": [{"annotations": {
    ...     "objects": [{"feature_id": "f", "name": "sky", "composite_mask": {
    ...     "url": "u", "color_rgb": [9, 8, 7]}}]}}]}}}
    >>> next(read_export_v2(row, {"u": img}))["rle"]
    {'size': [2, 2], 'counts': b'01100'}
    """
    if output not in ("rle", "mask"):
        raise ValueError(f"output must be 'rle' or 'mask', got {output!r}")
    if isinstance(rows, Mapping):
        rows = [rows]
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
        raise FormatError(f"rows must be export v2 rows, got {type(rows).__name__}")
    for row in rows:
        row = json_object(row, "an export v2 row")
        rid = json_object(row.get("data_row"), "'data_row'", optional=True).get("id")
        items = [(f, o) for f, o in _v2_objects(row)
                 if isinstance(o.get("composite_mask"), Mapping)]
        by_url: dict[str, list[int]] = {}
        for i, (_, o) in enumerate(items):
            url = o["composite_mask"].get("url")
            if not isinstance(url, str):
                raise FormatError(f"composite_mask url {url!r} is not a string")
            by_url.setdefault(url, []).append(i)
        results: dict[int, Any] = {}
        for url, idxs in by_url.items():
            cols = [items[i][1]["composite_mask"].get("color_rgb") for i in idxs]
            if any(c is None for c in cols):
                raise FormatError("composite_mask without 'color_rgb'")
            res = split(_fetch(images, url), cols, output=output)
            got: Sequence[Any] = res.rles if res.rles is not None else list(
                res.masks if res.masks is not None else ())
            results.update(zip(idxs, got))
        for i, (frame, o) in enumerate(items):
            yield {"data_row_id": rid, "feature_id": o.get("feature_id"),
                   "feature_schema_id": o.get("feature_schema_id"), "name": o.get("name"),
                   "value": o.get("value"),
                   "color": _key_color(_color_key(o["composite_mask"]["color_rgb"])),
                   "frame": frame, output: results[i]}


# ---------------------------------------------------------------------------------------------
# polygons (Labelbox Polygon.draw / cv2.fillPoly semantics)
# ---------------------------------------------------------------------------------------------

_I32 = 2.0 ** 31


def _contours(points: Any) -> tuple[np.ndarray, np.ndarray]:
    """Truncate vertices to int32 as Labelbox does; one contour or a list of contours."""
    if isinstance(points, np.ndarray) and points.ndim == 2:
        polys = [points]
    else:
        seq = list(points)
        if seq and np.ndim(seq[0]) == 2:
            polys = [np.asarray(p) for p in seq]
        else:
            polys = [np.asarray(seq, dtype=np.float64).reshape(-1, 2)]
    xs, offsets = [], [0]
    for p in polys:
        a = np.asarray(p, dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(a).all() or (np.abs(a) >= _I32).any():
            raise MaskShapeError("polygon coordinates must be finite and fit in int32")
        xs.append(np.trunc(a).astype(np.int32).reshape(-1))
        offsets.append(offsets[-1] + len(a))
    xy = np.concatenate(xs) if xs else np.zeros(0, np.int32)
    return np.ascontiguousarray(xy, dtype=np.int32), np.asarray(offsets, dtype=np.int64)


def draw_polygon(canvas: np.ndarray, points: Any, /, *, color: Any = (255, 255, 255)) -> np.ndarray:
    """Fill a polygon into ``canvas`` in place, as ``cv2.fillPoly(canvas, [pts], color)``.

    Vertices are truncated toward zero to int32 first (Labelbox's ``Polygon.draw``), edges are
    8-connected lines and boundary pixels are filled. Several contours (a list of ``(k, 2)``
    arrays) are filled together with the even-odd rule, as one fillPoly call.

    Parameters
    ----------
    canvas : numpy.ndarray
        ``(h, w)`` or ``(h, w, c)`` uint8, written in place (any strides).
    points : array_like
        ``(k, 2)`` vertices ``(x, y)``, or a list of such contours.
    color : int or sequence of int
        One value per channel (an int is broadcast).

    Returns
    -------
    numpy.ndarray
        ``canvas``.

    Examples
    --------
    >>> c = np.zeros((5, 5), np.uint8)
    >>> draw_polygon(c, [(1, 1), (3, 1), (1, 3)], color=1).tolist()[1:4]
    [[0, 1, 1, 1, 0], [0, 1, 1, 0, 0], [0, 1, 0, 0, 0]]
    """
    if not isinstance(canvas, np.ndarray) or canvas.dtype != np.uint8:
        raise MaskDtypeError("canvas must be a uint8 numpy array")
    view = canvas[:, :, None] if canvas.ndim == 2 else canvas
    if view.ndim != 3:
        raise MaskShapeError(f"canvas must be (h, w) or (h, w, c), got {canvas.shape}")
    try:
        col = np.broadcast_to(np.asarray(color, dtype=np.int64).reshape(-1), (view.shape[2],))
    except (OverflowError, TypeError, ValueError):  # 2**70, "x", a colour per wrong channel
        raise ArgumentError(f"color must be an int or one int per channel of the "
                            f"{canvas.shape} canvas, got {color!r}") from None
    if ((col < 0) | (col > 255)).any():
        raise ArgumentError(f"colour values must be in 0..255, got {color!r}")
    xy, offsets = _contours(points)
    _core.fill_polygons(view, xy, offsets, np.ascontiguousarray(col, dtype=np.uint8))
    return canvas


def polygon_mask(points: Any, /, *, height: int, width: int) -> np.ndarray:
    """Rasterise a polygon exactly as Labelbox's ``Polygon.draw`` (see :func:`draw_polygon`).

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` bool.

    Examples
    --------
    >>> polygon_mask([(0.9, 0.9), (3.9, 0.2), (3.6, 2.99)], height=4, width=5).astype(int)[:3]
    array([[1, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 1, 0]])
    """
    if height < 0 or width < 0:
        raise MaskShapeError("height and width must be non-negative")
    m = np.zeros((height, width), dtype=np.uint8)
    draw_polygon(m, points, color=1)
    return m.view(np.bool_)


def polygon_rle(points: Any, /, *, height: int, width: int) -> RLE:
    """COCO RLE of :func:`polygon_mask` (Labelbox's rasterisation, not pycocotools').

    Examples
    --------
    >>> polygon_rle([(1, 1), (3, 1), (3, 3), (1, 3)], height=5, width=5)
    {'size': [5, 5], 'counts': b'6320004'}
    """
    return _encode(polygon_mask(points, height=height, width=width))

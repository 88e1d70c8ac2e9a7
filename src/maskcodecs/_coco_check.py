"""One check of COCO datasets, shared by ``validate``, ``info``, ``show`` and
``coco-to-masks`` (and any library caller that renders a dataset's masks).

Whatever :func:`validate` calls an error, :func:`segmentation_rle` refuses, so the
validator and the converters never disagree: an image's height and width must be integers
(not booleans, floats or strings) above 0 whose product is within :func:`pixel_limit`; an
RLE's ``size`` must be two such integers equal to the image's; uncompressed counts
non-negative integers, compressed counts a string that parses; counts must sum to exactly
h*w; polygons lists of at least 6 (an even number of) finite coordinates inside the image.
Every size is checked before anything of that size is allocated.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs import mask as _mask
from maskcodecs._types import RLE
from maskcodecs.errors import FormatError, ImageTooLargeError, MaskCodecError

#: Default pixel limit (h*w) of an image whose masks are rendered (``coco-to-masks``,
#: ``show``): 2**27 = 134,217,728 pixels, below Pillow's decompression-bomb limit, so every
#: mask written can be read back. The environment variable ``MASKCODECS_MAX_PIXELS`` sets
#: another limit.
DEFAULT_MAX_PIXELS = 1 << 27

Problem = tuple[str, str]  # (severity "error" | "warning", message)


def pixel_limit() -> int:
    """The pixel limit: ``MASKCODECS_MAX_PIXELS`` if set to a positive integer, else
    :data:`DEFAULT_MAX_PIXELS`."""
    text = os.environ.get("MASKCODECS_MAX_PIXELS", "").strip()
    if text:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value > 0:
            return value
    return DEFAULT_MAX_PIXELS


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _finite_numbers(v: Any) -> bool:
    return isinstance(v, list) and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)


def size_problem(h: Any, w: Any, what: str = "height/width") -> tuple[type, str] | None:
    """Why (h, w) is not a usable image size, as (error class, message), or None."""
    if not (_is_int(h) and _is_int(w) and h > 0 and w > 0):
        return FormatError, f"{what} {h!r}/{w!r} are not positive integers"
    limit = pixel_limit()
    if int(h) * int(w) > limit:
        return ImageTooLargeError, (f"{what} {h}x{w} is {int(h) * int(w)} pixels, over the "
                                    f"limit of {limit} (MASKCODECS_MAX_PIXELS)")
    return None


def image_size(im: Any) -> tuple[int, int]:
    """``(height, width)`` of a COCO image entry, checked (see :func:`size_problem`);
    FormatError or ImageTooLargeError otherwise."""
    if not isinstance(im, Mapping):
        raise FormatError(f"an image entry must be an object, got {type(im).__name__}")
    bad = size_problem(im.get("height"), im.get("width"))
    if bad is not None:
        cls, msg = bad
        raise cls(f"image {im.get('id')!r}: {msg}")
    return int(im["height"]), int(im["width"])


def objects(doc: Mapping[str, Any], key: str) -> tuple[list[tuple[int, dict[str, Any]]],
                                                         list[tuple[str, str]]]:
    """The entries of ``doc[key]`` that are objects, as (index, entry), and one
    ``(where, message)`` per entry that is not (or for a value that is not a list)."""
    items = doc.get(key)
    if items is None:
        return [], []
    if not isinstance(items, list):
        return [], [(key, f"is {type(items).__name__}, not a list")]
    good, bad = [], []
    for k, x in enumerate(items):
        if isinstance(x, dict):
            good.append((k, x))
        else:
            bad.append((f"{key}[{k}]", f"is {type(x).__name__}, not an object"))
    return good, bad


def _hashable_id(v: Any) -> bool:
    return not isinstance(v, (list, dict))


def image_groups(doc: Mapping[str, Any]) -> tuple[list[dict[str, Any]],
                                                   dict[Any, list[dict[str, Any]]],
                                                   list[tuple[str, str]]]:
    """``(images, {image id: annotations}, problems)`` of a COCO dict for the converters:
    the image entries that are objects with an id, the annotation objects grouped by
    ``image_id``, and one ``(where, message)`` per entry left out (not an object, no id or
    an id that is a list or an object), the same entries :func:`validate` calls errors."""
    ims, problems = objects(doc, "images")
    anns, bad_anns = objects(doc, "annotations")
    images = []
    for k, im in ims:
        if "id" not in im or not _hashable_id(im["id"]):
            problems.append((f"images[{k}]", "no id" if "id" not in im
                             else f"id {im['id']!r} is not a number or a string"))
        else:
            images.append(im)
    problems += bad_anns
    by_image: dict[Any, list[dict[str, Any]]] = {}
    for k, a in anns:
        if not _hashable_id(a.get("image_id")):
            problems.append((f"annotations[{k}]", "image_id is not a number or a string"))
        else:
            by_image.setdefault(a.get("image_id"), []).append(a)
    return images, by_image, problems


def images_by_file_name(doc: Any, source: str = "COCO file"
                        ) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str]]]:
    """Image entries of a COCO dict indexed by ``file_name`` without its suffix and by its
    stem (the first entry of a name wins; backslashes read as ``/``), and one
    ``(where, message)`` per entry left out: not an object, no usable id (as in
    :func:`image_groups`), a ``file_name`` that is not a string. FormatError if ``doc`` is
    not an object with an ``images`` list. Sizes are not checked here (:func:`image_size`
    checks an entry when it is used)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("images"), list):
        raise FormatError(f'{source}: no "images" list')
    images, _, problems = image_groups({"images": doc["images"]})
    index: dict[str, dict[str, Any]] = {}
    for im in images:
        fn = im.get("file_name", "")
        if not isinstance(fn, str):
            problems.append((f"image {im['id']!r}", f"file_name {fn!r} is not a string"))
            continue
        p = PurePosixPath(fn.replace("\\", "/"))
        if p.name:  # "" or "/" name no file (and have no suffix to drop)
            index.setdefault(str(p.with_suffix("")), im)
            index.setdefault(p.stem, im)
    return index, problems


def seg_kind(seg: Any) -> str:
    """The kind of a segmentation: rle, rle_list, polygon, empty, missing or invalid."""
    if isinstance(seg, dict):
        c = seg.get("counts")
        return "rle" if isinstance(c, (str, bytes)) else "rle_list" if isinstance(c, list) \
            else "invalid"
    if isinstance(seg, list):
        return "polygon" if seg else "empty"
    return "missing" if seg is None else "invalid"


def _counts_bytes(c: str | bytes) -> bytes:
    return c.encode("ascii") if isinstance(c, str) else c


def _rle_problems(seg: dict[str, Any], kind: str, H: int, W: int) -> list[Problem]:
    size = seg.get("size")
    if not (isinstance(size, list) and len(size) == 2 and all(
            _is_int(v) and v >= 0 for v in size)):
        return [("error", f"RLE size {size!r} is not [h, w]")]
    h, w = (int(v) for v in size)
    if [h, w] != [H, W]:
        return [("error", f"RLE size [{h}, {w}] differs from the image [{H}, {W}]")]
    if kind == "rle":
        try:  # summed while parsing, in constant memory: the string may be huge
            total = _core.counts_string_total(_counts_bytes(seg["counts"]))
        except (UnicodeEncodeError, ValueError, MaskCodecError) as e:
            return [("error", f"compressed counts do not parse: {e}")]
    else:
        if not all(_is_int(v) and v >= 0 for v in seg["counts"]):
            return [("error", "uncompressed counts must be non-negative integers")]
        if any(v > 0xFFFFFFFF for v in seg["counts"]):
            return [("error", "uncompressed counts must be below 2**32")]
        total = sum(int(v) for v in seg["counts"])
    if total != h * w:
        return [("error", f"counts sum to {total}, expected h*w = {h}*{w} = {h * w}")]
    return []


#: how far (pixels) a polygon vertex may lie outside its image with only a warning
POLYGON_OVERSHOOT = 1.0


def _polygon_problems(seg: list[Any], H: int, W: int) -> list[Problem]:
    out: list[Problem] = []
    for k, p in enumerate(seg):
        if not _finite_numbers(p):
            out.append(("error", f"polygon {k} is not a list of finite numbers"))
        elif len(p) < 6 or len(p) % 2:
            out.append(("error", f"polygon {k} has {len(p)} coordinates "
                                 "(needs an even number >= 6)"))
        else:
            xs, ys = p[0::2], p[1::2]
            over = max(-min(xs), -min(ys), max(xs) - W, max(ys) - H)
            if over > 0:
                # up to a pixel past the border is normal in exported polygons (they trace
                # pixel edges; pycocotools clips them): a warning; farther, an error
                out.append(("warning" if over <= POLYGON_OVERSHOOT else "error",
                            f"polygon {k} leaves the {W}x{H} (w x h) image: x in "
                            f"[{min(xs)}, {max(xs)}], y in [{min(ys)}, {max(ys)}]"))
    return out


def segmentation_problems(seg: Any, H: int, W: int) -> list[Problem]:
    """Problems of one segmentation on an H x W image (a checked size), without decoding."""
    kind = seg_kind(seg)
    if kind in ("rle", "rle_list"):
        return _rle_problems(seg, kind, H, W)
    if kind == "polygon":
        return _polygon_problems(seg, H, W)
    if kind == "empty":
        return [("warning", "empty segmentation")]
    return [("error", f"segmentation is {kind}")]


def _to_rle(seg: Any, h: int, w: int) -> RLE:
    """The compressed RLE of a segmentation that passed :func:`segmentation_problems`."""
    if isinstance(seg, list):
        if not seg:
            return {"size": [h, w], "counts": _core.transpose_string(b"", w, h)}
        return _mask.merge(_mask.frPoly(seg, h, w))
    if isinstance(seg["counts"], list):
        return _mask.frPyObjects(seg, h, w)
    return {"size": [h, w], "counts": _counts_bytes(seg["counts"])}


def segmentation_rle(ann: Any, image: Any) -> RLE:
    """The compressed RLE of an annotation's segmentation on its image entry, after the
    checks of :func:`validate` (image size and pixel limit first, then the segmentation);
    FormatError, ImageTooLargeError or InvalidRLEError name the first problem. Nothing of
    the image's size is allocated before the checks pass."""
    if not isinstance(ann, Mapping):
        raise FormatError(f"an annotation must be an object, got {type(ann).__name__}")
    h, w = image_size(image)
    errors = [m for s, m in segmentation_problems(ann.get("segmentation"), h, w)
              if s == "error"]
    if errors:
        raise FormatError(f"annotation {ann.get('id')!r}: {errors[0]}")
    try:
        return _to_rle(ann["segmentation"], h, w)
    except MaskCodecError as e:
        raise type(e)(f"annotation {ann.get('id')!r}: {e}") from None


def check_annotation(a: Mapping[str, Any], im: Mapping[str, Any] | None) -> list[Problem]:
    """Problems of one annotation on its image entry (None: no such image)."""
    if im is None:
        return [("error", f"image_id {a.get('image_id')!r} is not in images")]
    bad = size_problem(im.get("height"), im.get("width"))
    if bad is not None:
        return [("error", f"image {im.get('id')}: {bad[1]}")]
    H, W = int(im["height"]), int(im["width"])
    seg: Any = a.get("segmentation")
    out = segmentation_problems(seg, H, W)
    rle = None
    if not any(s == "error" for s, _ in out) and seg_kind(seg) in ("rle", "rle_list"):
        try:
            rle = _to_rle(seg, H, W)
        except (ValueError, TypeError, MaskCodecError) as e:
            out.append(("error", f"RLE does not decode: {e}"))
    bbox = a.get("bbox")
    if bbox is not None and not (_finite_numbers(bbox) and len(bbox) == 4
                                 and bbox[2] >= 0 and bbox[3] >= 0):
        out.append(("error", f"bbox {bbox!r} is not [x, y, w, h] with w, h >= 0"))
        bbox = None
    area = a.get("area")
    if area is not None and not (_finite_numbers([area]) and area >= 0):
        out.append(("error", f"area {area!r} is not a non-negative number"))
        area = None
    if rle is not None:  # one walk of the string, no counts buffer (the string may be huge)
        px, box = _core.string_area_bbox_lean(rle["counts"], H, W)
        if area is not None and abs(area - px) > 0.5:
            out.append(("warning", f"area {area} differs from the mask's {px} pixels"))
        if bbox is not None and max(abs(float(u) - v) for u, v in zip(bbox, box)) > 1e-3:
            out.append(("warning", f"bbox {bbox} differs from the mask's {box}"))
    elif seg_kind(seg) == "polygon" and not any(s == "error" for s, _ in out):
        xs = [v for p in seg for v in p[0::2]]
        ys = [v for p in seg for v in p[1::2]]
        box = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
        if bbox is not None and max(abs(float(u) - v) for u, v in zip(bbox, box)) > 1.0:
            out.append(("warning", f"bbox {bbox} differs from the polygon extent "
                                   f"{[round(v, 2) for v in box]}"))
    return out


def validate(coco: Mapping[str, Any]) -> list[dict[str, Any]]:
    """All problems of a COCO dict, each ``{"severity", "where", "message"}``."""
    probs: list[dict[str, Any]] = []

    def add(sev: str, where: str, msg: str) -> None:
        probs.append({"severity": sev, "where": where, "message": msg})

    images: dict[Any, dict[str, Any]] = {}
    ims, bad_ims = objects(coco, "images")
    anns, bad_anns = objects(coco, "annotations")
    for where, msg in bad_ims:
        add("error", where, msg)
    for k, im in ims:
        if "id" not in im or not _hashable_id(im["id"]):
            add("error", f"images[{k}]", "no id" if "id" not in im
                else f"id {im['id']!r} is not a number or a string")
            continue
        if im["id"] in images:
            add("error", f"image {im['id']}", "duplicate image id")
        bad = size_problem(im.get("height"), im.get("width"))
        if bad is not None:
            add("error", f"image {im['id']}", bad[1])
        images[im["id"]] = im
    good_cats, bad_cats = objects(coco, "categories")  # a number, a string, ["x"]
    cats = {c.get("id") for _, c in good_cats if _hashable_id(c.get("id"))}
    for where, msg in bad_cats + bad_anns:
        add("error", where, msg)
    seen: set[Any] = set()
    for k, a in anns:
        aid, iid = a.get("id"), a.get("image_id")
        where = f"annotation {aid} (image {iid})"
        if not (_hashable_id(aid) and _hashable_id(iid)):
            add("error", f"annotations[{k}]", "id or image_id is not a number or a string")
            continue
        if aid in seen:
            add("error", where, "duplicate id")
        seen.add(aid)
        cid = a.get("category_id")
        if cats and (not _hashable_id(cid) or cid not in cats):
            add("warning", where, f"category_id {cid!r} is not in categories")
        for sev, msg in check_annotation(a, images.get(iid)):
            add(sev, where, msg)
    return probs

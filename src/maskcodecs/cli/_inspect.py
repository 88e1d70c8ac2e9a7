"""info and validate: summary and per-annotation checks of a COCO or Encord file."""
from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs.cli import _backend as be
from maskcodecs.cli._encord import is_encord, label_rows_to_coco
from maskcodecs.cli._util import DataError, load_json
from maskcodecs.errors import MaskCodecError


def _load(path: str, problems: list[dict[str, Any]] | None = None
          ) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Return (kind, coco dict, extra facts) for a COCO or Encord file."""
    doc = load_json(path)
    if is_encord(doc):
        def problem(where: str, msg: str) -> None:
            if problems is not None:
                problems.append({"severity": "error", "where": where, "message": msg})

        coco, skipped = label_rows_to_coco(doc, problem=problem)
        rows = doc if isinstance(doc, list) else [doc]
        return "encord", coco, {"label_rows": len(rows), "skipped_shapes": skipped}
    if isinstance(doc, dict) and isinstance(doc.get("images"), list):
        anns = doc.get("annotations") or []
        if anns and all(isinstance(a, dict) and "segments_info" in a for a in anns):
            if problems is not None:
                raise DataError(f"{path} is a COCO panoptic file: its segments live in PNGs; "
                                "convert them with masks-to-coco --kind panoptic --images "
                                f"{path} and validate the result")
            n = sum(len(a["segments_info"]) for a in anns)
            return "coco-panoptic", {**doc, "annotations": []}, {"panoptic_segments": n}
        return "coco", doc, {}
    raise DataError(f"{path}: neither a COCO file (no \"images\" list) nor Encord label rows")


def _seg_kind(seg: Any) -> str:
    if isinstance(seg, dict):
        c = seg.get("counts")
        return "rle" if isinstance(c, (str, bytes)) else "rle_list" if isinstance(c, list) \
            else "invalid"
    if isinstance(seg, list):
        return "polygon" if seg else "empty"
    return "missing" if seg is None else "invalid"


def summarise(kind: str, coco: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    ims = coco.get("images") or []
    anns = coco.get("annotations") or []
    kinds: dict[str, int] = {}
    per_image: dict[Any, int] = {}
    crowd = 0
    for a in anns:
        k = _seg_kind(a.get("segmentation"))
        kinds[k] = kinds.get(k, 0) + 1
        per_image[a.get("image_id")] = per_image.get(a.get("image_id"), 0) + 1
        crowd += bool(a.get("iscrowd"))
    hs = [int(i.get("height", 0)) for i in ims]
    ws = [int(i.get("width", 0)) for i in ims]
    info = {"format": kind, "images": len(ims), "annotations": len(anns),
            "categories": len(coco.get("categories") or []), "segmentations": kinds,
            "iscrowd": crowd,
            "height": [min(hs), max(hs)] if hs else None,
            "width": [min(ws), max(ws)] if ws else None,
            "annotations_per_image_max": max(per_image.values(), default=0),
            "images_without_annotations": sum(1 for i in ims if i.get("id") not in per_image)}
    info.update(extra)
    return info


def run_info(args: argparse.Namespace) -> int:
    kind, coco, extra = _load(args.file)
    s = summarise(kind, coco, extra)
    if args.json:
        sys.stdout.write(json.dumps(s, indent=1) + "\n")
        return 0
    lines = [f"{args.file}: {kind}"]
    for k, v in s.items():
        if k == "format":
            continue
        if isinstance(v, dict):
            v = ", ".join(f"{n} {t}" for t, n in sorted(v.items())) or "none"
        elif isinstance(v, list) and len(v) == 2:
            v = f"{v[0]}..{v[1]}"
        lines.append(f"  {k.replace('_', ' ')}: {v}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


# ---------------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------------

def _finite_numbers(v: Any) -> bool:
    return isinstance(v, list) and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)


def check_annotation(a: dict[str, Any], im: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Problems of one annotation as (severity, message) pairs."""
    out: list[tuple[str, str]] = []
    if im is None:
        return [("error", f"image_id {a.get('image_id')!r} is not in images")]
    try:
        H, W = int(im["height"]), int(im["width"])
    except (KeyError, TypeError, ValueError):
        return [("error", f"image {im.get('id')} has no valid height/width")]
    seg: Any = a.get("segmentation")  # any JSON value; _seg_kind says which
    kind = _seg_kind(seg)
    rle = None
    if kind in ("rle", "rle_list"):
        size = seg.get("size")
        if not (isinstance(size, list) and len(size) == 2 and all(
                isinstance(v, int) and v >= 0 for v in size)):
            return [("error", f"RLE size {size!r} is not [h, w]")]
        h, w = size
        if [h, w] != [H, W]:
            out.append(("error", f"RLE size [{h}, {w}] differs from the image [{H}, {W}]"))
        if kind == "rle":
            c = seg["counts"]
            try:
                b = c.encode("ascii") if isinstance(c, str) else c
                cnt: np.ndarray = np.frombuffer(_core.counts_from_string(b), dtype=np.uint32) if b \
                    else np.zeros(0, np.uint32)
            except (UnicodeEncodeError, ValueError, MaskCodecError) as e:
                return out + [("error", f"compressed counts do not parse: {e}")]
        else:
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                       for v in seg["counts"]):
                return out + [("error", "uncompressed counts must be non-negative integers")]
            cnt = np.asarray(seg["counts"], dtype=np.uint64)
        total = int(cnt.sum(dtype=np.uint64))
        if total != h * w:
            out.append(("error", f"counts sum to {total}, expected h*w = {h}*{w} = {h * w}"))
        elif not out:
            try:
                rle = be.segmentation_to_rle(seg, h, w)
            except (ValueError, TypeError, MaskCodecError) as e:
                out.append(("error", f"RLE does not decode: {e}"))
    elif kind == "polygon":
        for k, p in enumerate(seg):
            if not _finite_numbers(p):
                out.append(("error", f"polygon {k} is not a list of finite numbers"))
            elif len(p) < 6 or len(p) % 2:
                out.append(("error", f"polygon {k} has {len(p)} coordinates "
                                     "(needs an even number >= 6)"))
            else:
                xs, ys = p[0::2], p[1::2]
                if min(xs) < 0 or min(ys) < 0 or max(xs) > W or max(ys) > H:
                    out.append(("error", f"polygon {k} leaves the {W}x{H} (w x h) image: x in "
                                         f"[{min(xs)}, {max(xs)}], y in [{min(ys)}, {max(ys)}]"))
    elif kind == "empty":
        out.append(("warning", "empty segmentation"))
    else:
        out.append(("error", f"segmentation is {kind}"))
    bbox = a.get("bbox")
    if bbox is not None and not (_finite_numbers(bbox) and len(bbox) == 4
                                 and bbox[2] >= 0 and bbox[3] >= 0):
        out.append(("error", f"bbox {bbox!r} is not [x, y, w, h] with w, h >= 0"))
        bbox = None
    area = a.get("area")
    if area is not None and not (_finite_numbers([area]) and area >= 0):
        out.append(("error", f"area {area!r} is not a non-negative number"))
        area = None
    if rle is not None:
        (px,), (box,) = be.rle_area_bbox([rle])
        if area is not None and abs(area - px) > 0.5:
            out.append(("warning", f"area {area} differs from the mask's {px} pixels"))
        if bbox is not None and max(abs(float(u) - v) for u, v in zip(bbox, box)) > 1e-3:
            out.append(("warning", f"bbox {bbox} differs from the mask's {box}"))
    elif kind == "polygon" and not any(s == "error" for s, _ in out):
        xs = [v for p in seg for v in p[0::2]]
        ys = [v for p in seg for v in p[1::2]]
        box = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
        if bbox is not None and max(abs(float(u) - v) for u, v in zip(bbox, box)) > 1.0:
            out.append(("warning", f"bbox {bbox} differs from the polygon extent "
                                   f"{[round(v, 2) for v in box]}"))
    return out


def validate(coco: dict[str, Any]) -> list[dict[str, Any]]:
    """All problems of a COCO dict, each ``{"severity", "where", "message"}``."""
    probs: list[dict[str, Any]] = []
    images: dict[Any, dict[str, Any]] = {}
    for k, im in enumerate(coco.get("images") or []):
        if not isinstance(im, dict) or "id" not in im:
            probs.append({"severity": "error", "where": f"images[{k}]", "message": "no id"})
            continue
        if im["id"] in images:
            probs.append({"severity": "error", "where": f"image {im['id']}",
                          "message": "duplicate image id"})
        h, w = im.get("height"), im.get("width")
        if not (isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0):
            probs.append({"severity": "error", "where": f"image {im['id']}",
                          "message": f"height/width {h!r}/{w!r} are not positive integers"})
        images[im["id"]] = im
    cats = {c.get("id") for c in coco.get("categories") or [] if isinstance(c, dict)}
    seen: set[Any] = set()
    for k, a in enumerate(coco.get("annotations") or []):
        if not isinstance(a, dict):
            probs.append({"severity": "error", "where": f"annotations[{k}]",
                          "message": "not an object"})
            continue
        aid = a.get("id")
        where = f"annotation {aid} (image {a.get('image_id')})"
        if aid in seen:
            probs.append({"severity": "error", "where": where, "message": "duplicate id"})
        seen.add(aid)
        if cats and a.get("category_id") not in cats:
            probs.append({"severity": "warning", "where": where,
                          "message": f"category_id {a.get('category_id')!r} is not in "
                                     "categories"})
        for sev, msg in check_annotation(a, images.get(a.get("image_id"))):
            probs.append({"severity": sev, "where": where, "message": msg})
    return probs


def run_validate(args: argparse.Namespace) -> int:
    problems: list[dict[str, Any]] = []
    kind, coco, _ = _load(args.file, problems)
    problems += validate(coco)
    errors = sum(p["severity"] == "error" for p in problems)
    warnings = len(problems) - errors
    n = len(coco.get("annotations") or [])
    failed = errors > 0 or (args.strict and warnings > 0)
    if args.json:
        sys.stdout.write(json.dumps({"file": args.file, "format": kind, "annotations": n,
                                     "errors": errors, "warnings": warnings, "ok": not failed,
                                     "problems": problems}, indent=1) + "\n")
        return 1 if failed else 0
    out = sys.stdout if not failed else sys.stderr
    for p in problems[:args.max_problems]:
        out.write(f"{p['where']}: {p['severity']}: {p['message']}\n")
    if len(problems) > args.max_problems:
        out.write(f"... and {len(problems) - args.max_problems} more problems\n")
    verdict = "FAILED" if failed else "OK"
    out.write(f"{args.file}: {verdict}: {kind}, {len(coco.get('images') or [])} images, {n} "
              f"annotations, {errors} errors, {warnings} warnings\n")
    return 1 if failed else 0

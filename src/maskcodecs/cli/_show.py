"""show: a PNG overlay of one COCO image's masks."""
from __future__ import annotations

import argparse
import colorsys
import sys
from pathlib import Path
from typing import Any

import numpy as np

from maskcodecs._coco_check import (
    _finite_numbers,
    image_groups,
    image_size,
    objects,
    segmentation_rle,
)
from maskcodecs._imageio import read_array
from maskcodecs.cli import _backend as be
from maskcodecs.cli._util import DataError, UsageError, atomic_output, load_coco, pil
from maskcodecs.errors import MaskCodecError


def instance_colours(anns: list[dict[str, Any]]) -> np.ndarray:
    """One colour per annotation, (n, 3) uint8: the hue is the category's (the same in
    every image: golden-ratio steps over the category id), the shade tells the instances
    of a category apart (saturation and value stepped by the instance's rank)."""
    out = np.empty((len(anns), 3), dtype=np.uint8)
    seen: dict[Any, int] = {}
    for k, a in enumerate(anns):
        cid = a.get("category_id")
        key = cid if isinstance(cid, (int, str)) and not isinstance(cid, bool) else repr(cid)
        rank = seen.get(key, 0)
        seen[key] = rank + 1
        try:
            hue_of = int(key)
        except (TypeError, ValueError):
            hue_of = sum(str(key).encode())
        hue = (hue_of * 0.618033988749895) % 1.0
        sat = (0.95, 0.6, 0.8, 0.45)[rank % 4]
        val = (1.0, 0.8)[(rank // 4) % 2]
        r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
        out[k] = (int(r * 255), int(g * 255), int(b * 255))
    return out


def outline_width(h: int, w: int) -> int:
    """Outline thickness in pixels: 1 up to 400 pixels a side, then growing with it."""
    return max(1, round(min(h, w) / 400))


def label_size(h: int, w: int) -> int:
    """Label font size in pixels: readable on a thumbnail and on a 4k image alike."""
    return max(11, round(min(h, w) / 35))


def _outline(m: np.ndarray, width: int = 1) -> np.ndarray:
    """Pixels of a boolean mask within ``width`` 4-neighbour steps of its outside."""
    inner = m
    for _ in range(width):
        p = np.pad(inner, 1, constant_values=False)
        inner = inner & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return m & ~inner


def render(im: dict[str, Any], anns: list[dict[str, Any]], base: np.ndarray | None, *,
           alpha: float = 0.5, outline: bool = False) -> np.ndarray:
    """(h, w, 3) uint8 overlay of the annotations' masks on ``base`` (or black)."""
    h, w = image_size(im)  # checked against the pixel limit before the canvas exists
    rles = [segmentation_rle(a, im) for a in anns]  # every annotation checked first
    canvas = np.zeros((h, w, 3), dtype=np.float32) if base is None else base.astype(np.float32)
    cols = instance_colours(anns).astype(np.float32)
    width = outline_width(h, w)
    for k, r in enumerate(rles):
        m = be.decode_rle(r).view(bool)
        canvas[m] = (1 - alpha) * canvas[m] + alpha * cols[k]
        if outline:
            canvas[_outline(m, width)] = cols[k]
    return np.clip(canvas + 0.5, 0, 255).astype(np.uint8)


def run_show(args: argparse.Namespace) -> int:
    if not 0.0 <= args.alpha <= 1.0:
        raise UsageError("--alpha must be in 0..1")
    Image = pil()
    coco = load_coco(args.coco, "COCO", args.panoptic_folder)
    if not isinstance(coco, dict) or not isinstance(coco.get("images"), list):
        raise DataError(f"{args.coco}: not a COCO file (no \"images\" list)")
    images, anns_by_image, skipped = image_groups(coco)
    im = next((i for i in images if str(i["id"]) == args.image), None)
    if im is None:
        im = next((i for i in images if i.get("file_name") == args.image
                   or Path(str(i.get("file_name"))).name == args.image), None)
    if im is None:
        raise DataError(f"no image with id or file name {args.image!r} in {args.coco}"
                        + (f" ({skipped[0][0]} {skipped[0][1]})" if skipped else ""))
    h, w = image_size(im)
    anns = anns_by_image.get(im["id"], [])
    base = None
    if args.image_file:
        if not Path(args.image_file).is_file():
            raise UsageError(f"image file not found: {args.image_file}")
        try:
            base = read_array(args.image_file, lambda _mode: "RGB")
        except (OSError, MaskCodecError) as e:  # ImageReadError, ImageTooLargeError (bombs)
            raise DataError(f"cannot read {args.image_file} ({e})") from None
        if base.shape[:2] != (h, w):
            raise DataError(f"{args.image_file} is {base.shape[0]}x{base.shape[1]} (h x w) but "
                            f"image {im['id']} is {im['height']}x{im['width']}")
    out = Image.fromarray(render(im, anns, base, alpha=args.alpha, outline=args.outline))
    if args.labels:
        from PIL import ImageDraw, ImageFont

        names = {c.get("id"): str(c.get("name")) for _, c in objects(coco, "categories")[0]
                 if not isinstance(c.get("id"), (list, dict))}
        draw = ImageDraw.Draw(out)
        try:  # a scalable font (Pillow >= 10.1), else Pillow's fixed bitmap font
            font = ImageFont.load_default(size=label_size(h, w))
        except TypeError:  # pragma: no cover - old Pillow
            font = ImageFont.load_default()
        for a, col in zip(anns, instance_colours(anns)):
            box = a.get("bbox")
            # a label inside the picture (a bbox of 1e30 or 2**70 made Pillow raise
            # SystemError), at its corner when the box is not numbers
            x, y = (min(max(float(v), 0.0), float(lim - 1)) for v, lim in zip(
                box[:2], (w, h))) if isinstance(box, list) and len(box) >= 2 and \
                _finite_numbers(box[:2]) else (0.0, 0.0)
            cid = a.get("category_id")
            text = names.get(cid, str(cid)) if not isinstance(cid, (list, dict)) else str(cid)
            # the label on a box of the contrasting grey, so it reads on any picture
            light = 0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2] > 140
            x0, y0, x1, y1 = draw.textbbox((x + 1, y + 1), text, font=font)
            pad = max(1, label_size(h, w) // 6)
            draw.rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad),
                           fill=(0, 0, 0) if light else (255, 255, 255))
            draw.text((x + 1, y + 1), text, fill=tuple(int(c) for c in col), font=font)
    with atomic_output(args.output) as f:
        out.save(f, format="PNG")
    if not args.quiet:
        sys.stderr.write(f"wrote {args.output}: image {im['id']}, {len(anns)} masks\n")
    return 0

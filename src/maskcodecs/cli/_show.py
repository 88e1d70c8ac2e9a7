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


def palette(n: int) -> np.ndarray:
    """n distinct, bright RGB colours (golden-ratio hues), uint8 (n, 3)."""
    out = np.empty((n, 3), dtype=np.uint8)
    for k in range(n):
        r, g, b = colorsys.hsv_to_rgb((k * 0.618033988749895) % 1.0, 0.75, 1.0)
        out[k] = (int(r * 255), int(g * 255), int(b * 255))
    return out


def _outline(m: np.ndarray) -> np.ndarray:
    """Pixels of a boolean mask with a 4-neighbour outside the mask (or the border)."""
    p = np.pad(m, 1, constant_values=False)
    inner = p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return m & ~inner


def render(im: dict[str, Any], anns: list[dict[str, Any]], base: np.ndarray | None, *,
           alpha: float = 0.5, outline: bool = False) -> np.ndarray:
    """(h, w, 3) uint8 overlay of the annotations' masks on ``base`` (or black)."""
    h, w = image_size(im)  # checked against the pixel limit before the canvas exists
    rles = [segmentation_rle(a, im) for a in anns]  # every annotation checked first
    canvas = np.zeros((h, w, 3), dtype=np.float32) if base is None else base.astype(np.float32)
    cols = palette(len(anns)).astype(np.float32)
    for k, r in enumerate(rles):
        m = be.decode_rle(r).view(bool)
        canvas[m] = (1 - alpha) * canvas[m] + alpha * cols[k]
        if outline:
            canvas[_outline(m)] = cols[k]
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
        from PIL import ImageDraw

        names = {c.get("id"): str(c.get("name")) for _, c in objects(coco, "categories")[0]
                 if not isinstance(c.get("id"), (list, dict))}
        draw = ImageDraw.Draw(out)
        for a, col in zip(anns, palette(len(anns))):
            box = a.get("bbox")
            # a label inside the picture (a bbox of 1e30 or 2**70 made Pillow raise
            # SystemError), at its corner when the box is not numbers
            x, y = (min(max(float(v), 0.0), float(lim - 1)) for v, lim in zip(
                box[:2], (w, h))) if isinstance(box, list) and len(box) >= 2 and \
                _finite_numbers(box[:2]) else (0.0, 0.0)
            cid = a.get("category_id")
            draw.text((x + 1, y + 1), names.get(cid, str(cid)) if not isinstance(
                cid, (list, dict)) else str(cid),
                      fill=tuple(int(c) for c in col))
    with atomic_output(args.output) as f:
        out.save(f, format="PNG")
    if not args.quiet:
        sys.stderr.write(f"wrote {args.output}: image {im['id']}, {len(anns)} masks\n")
    return 0

"""Generate the small example mask set in examples/ (deterministic, seeded).

examples/masks/ gets 12 PNGs of 64x80 pixels (h x w):
  label_00..03.png     grey label maps, instance k has value k (odd k: disc, even k: square)
  color_00..03.png     RGB colour maps, one palette colour per instance
  panoptic_00..03.png  RGB panoptic maps, id = category*1000 + k encoded as R + 256*G + 65536*B
examples/categories.json maps those values, colours and ids to three categories.

Usage: python scripts/make_example_data.py [OUTDIR]   (default: examples/ beside this script)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

H, W = 64, 80
CATEGORIES = [{"id": 1, "name": "disc", "supercategory": "shape"},
              {"id": 2, "name": "square", "supercategory": "shape"},
              {"id": 3, "name": "triangle", "supercategory": "shape"}]
# colour maps: one colour per shape kind and instance slot
COLOURS = {
    1: [(230, 25, 75), (245, 130, 48), (240, 50, 230)],     # discs
    2: [(60, 180, 75), (0, 130, 200), (70, 240, 240)],      # squares
    3: [(255, 225, 25), (145, 30, 180), (128, 128, 0)],     # triangles
}


def _shape(kind: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    cy, cx = int(rng.integers(8, H - 8)), int(rng.integers(8, W - 8))
    r = int(rng.integers(4, 10))
    if kind == 1:
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    if kind == 2:
        return (abs(yy - cy) <= r) & (abs(xx - cx) <= r + 2)
    return (yy >= cy - r) & (yy <= cy + r) & (abs(xx - cx) <= (yy - (cy - r)) // 2)


def _instances(rng: np.random.Generator, kinds: list[int]) -> list[tuple[int, np.ndarray]]:
    """Non-overlapping shapes (later ones are clipped by earlier ones); none left empty."""
    taken = np.zeros((H, W), dtype=bool)
    out = []
    for kind in kinds:
        for _ in range(50):
            m = _shape(kind, rng) & ~taken
            if m.sum() >= 12:
                break
        taken |= m
        out.append((kind, m))
    return out


def make_examples(seed: int = 20240501) -> dict[str, tuple[np.ndarray, list[tuple[int, int]]]]:
    """Return ``{file name: (pixels, [(value, category id), ...])}`` for the 12 examples.

    ``value`` is the label value (label maps) or the id R + 256*G + 65536*B (colour and
    panoptic maps) of each instance.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[np.ndarray, list[tuple[int, int]]]] = {}
    for i in range(4):
        n = 3 + i
        inst = _instances(rng, [1 if k % 2 else 2 for k in range(1, n + 1)])
        lab = np.zeros((H, W), dtype=np.uint8)
        for k, (_, m) in enumerate(inst, 1):
            lab[m] = k
        out[f"label_{i:02d}.png"] = (lab, [(k, kind) for k, (kind, _) in enumerate(inst, 1)])
    for i in range(4):
        kinds = [int(v) for v in rng.integers(1, 4, size=3 + i % 2)]
        inst = _instances(rng, kinds)
        img = np.zeros((H, W, 3), dtype=np.uint8)
        used: dict[int, int] = {}
        meta = []
        for kind, m in inst:
            slot = used.get(kind, 0)
            if slot >= len(COLOURS[kind]):
                continue
            used[kind] = slot + 1
            r, g, b = COLOURS[kind][slot]
            img[m] = (r, g, b)
            meta.append((r | (g << 8) | (b << 16), kind))
        out[f"color_{i:02d}.png"] = (img, meta)
    for i in range(4):
        kinds = [int(v) for v in rng.integers(1, 4, size=4)]
        inst = _instances(rng, kinds)
        ids = np.zeros((H, W), dtype=np.uint32)
        meta = []
        for k, (kind, m) in enumerate(inst, 1):
            pid = kind * 1000 + k
            ids[m] = pid
            meta.append((pid, kind))
        img = np.stack([ids & 0xFF, (ids >> 8) & 0xFF, (ids >> 16) & 0xFF], -1).astype(np.uint8)
        out[f"panoptic_{i:02d}.png"] = (img, meta)
    return out


def categories_table() -> dict[str, object]:
    """The examples/categories.json document."""
    values: dict[str, str] = {}
    names = {c["id"]: c["name"] for c in CATEGORIES}
    for k in range(1, 7):
        values[str(k)] = names[1 if k % 2 else 2]
    for kind, cols in COLOURS.items():
        for r, g, b in cols:
            values[f"#{r:02x}{g:02x}{b:02x}"] = names[kind]
    for kind in (1, 2, 3):
        for k in range(1, 5):
            values[str(kind * 1000 + k)] = names[kind]
    return {"categories": CATEGORIES, "values": values}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "examples"
    from PIL import Image

    (root / "masks").mkdir(parents=True, exist_ok=True)
    for name, (arr, _) in make_examples().items():
        Image.fromarray(arr).save(root / "masks" / name, optimize=True)
    with open(root / "categories.json", "w", encoding="utf-8") as f:
        json.dump(categories_table(), f, indent=1)
        f.write("\n")
    print(f"wrote 12 masks and categories.json to {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

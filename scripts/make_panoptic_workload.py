"""Write the panoptic-quality benchmark workload: the real panoptic images, repeated.

The ground truth is the 22 real COCO panoptic images of ../shared/realdata (20 of
labelbox/coco, 2 of panopticapi's examples), each repeated ``--repeat`` times under new image
ids. Its PNGs are symbolic links to the real files (nothing is copied). The predictions are
written as PNGs: every ground-truth segment is kept, shifted by a few pixels, dropped or
given another category (seeded numpy), and a new segment covers a random box. Output::

    OUT/gt.json  OUT/gt/*.png (links)  OUT/pred.json  OUT/pred/*.png  OUT/manifest.json

Usage::

    python scripts/make_panoptic_workload.py OUT [--repeat 10] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

VERSION = 1
SOURCES = (("labelbox/coco/panoptic.json", "labelbox/coco/masks"),
           ("panopticapi/panoptic_examples.json", "panopticapi/panoptic_examples"))


def _ids(path: Path) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB")).astype(np.uint32)
    return rgb[..., 0] | (rgb[..., 1] << 8) | (rgb[..., 2] << 16)


def _save(path: Path, ids: np.ndarray) -> None:
    from PIL import Image
    rgb = np.stack([(ids >> s) & 255 for s in (0, 8, 16)], axis=-1).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(path)


def _predict(ann: dict[str, Any], ids: np.ndarray, cat_ids: list[int],
             rng: np.random.Generator) -> tuple[list[dict[str, Any]], np.ndarray]:
    out = np.zeros_like(ids)
    info = []
    for seg in ann["segments_info"]:
        action = rng.choice(["keep", "shift", "drop", "recat"], p=[0.4, 0.35, 0.1, 0.15])
        if action == "drop":
            continue
        region = ids == seg["id"]
        if action == "shift":
            region = np.roll(region, tuple(rng.integers(-6, 7, size=2)), axis=(0, 1))
        cat = int(rng.choice(cat_ids)) if action == "recat" else seg["category_id"]
        out[region] = seg["id"]
        info.append({"id": seg["id"], "category_id": cat})
    h, w = ids.shape
    y, x = int(rng.integers(0, h // 2)), int(rng.integers(0, w // 2))
    new_id = int(ids.max()) + 1
    out[y:y + h // 4, x:x + w // 4] = new_id
    info.append({"id": new_id, "category_id": int(rng.choice(cat_ids))})
    live = set(np.unique(out).tolist())
    return [s for s in info if s["id"] in live], out


def make(out: Path, realdata: Path, repeat: int = 10, seed: int = 0) -> Path:
    """Write the workload into `out` (once: an existing manifest of the same arguments is
    kept) and return `out`."""
    args = {"version": VERSION, "repeat": repeat, "seed": seed}
    manifest = out / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text())["args"] == args:
        return out
    rng = np.random.default_rng(seed)
    (out / "gt").mkdir(parents=True, exist_ok=True)
    (out / "pred").mkdir(parents=True, exist_ok=True)
    cats: dict[int, dict[str, Any]] = {}
    real = []
    for js, folder in SOURCES:
        doc = json.loads((realdata / js).read_text(encoding="utf-8"))
        for c in doc["categories"]:
            cats.setdefault(c["id"], c)
        real += [(a, realdata / folder / a["file_name"]) for a in doc["annotations"]]
    gt_anns, pred_anns = [], []
    for r in range(repeat):
        for k, (ann, png) in enumerate(real):
            name = f"r{r:03d}_{k:02d}.png"
            image_id = r * 1000 + k
            link = out / "gt" / name
            if link.is_symlink() or link.exists():
                link.unlink()
            os.symlink(png.resolve(), link)
            segs, pred = _predict(ann, _ids(png), list(cats), rng)
            _save(out / "pred" / name, pred)
            gt_anns.append(dict(ann, image_id=image_id, file_name=name))
            pred_anns.append({"image_id": image_id, "file_name": name, "segments_info": segs})
    (out / "gt.json").write_text(json.dumps({"annotations": gt_anns,
                                             "categories": list(cats.values())}))
    (out / "pred.json").write_text(json.dumps({"annotations": pred_anns}))
    manifest.write_text(json.dumps({"args": args, "images": len(gt_anns)}))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--realdata", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared" / "realdata")
    a = ap.parse_args()
    print(make(a.out, a.realdata, a.repeat, a.seed))


if __name__ == "__main__":
    main()

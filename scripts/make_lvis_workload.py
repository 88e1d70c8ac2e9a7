"""Generate a synthetic, LVIS-shaped evaluation workload (deterministic, seeded numpy).

The files look like LVIS v1 val and a detector's results on it, so that ``LVIS``,
``LVISResults`` and ``LVISEval`` do the same kind of work as on the real data:

  lvis_gt.json     images (sizes around 640x480) with ``neg_category_ids`` and
                   ``not_exhaustive_category_ids``; 1,203 categories with a long-tailed
                   frequency (337 rare, 461 common, 405 frequent); a few categories per image
                   with 1-8 instances each (frequent ones more often), as polygons with the
                   area and bbox of their mask
  dets_bbox.json   up to 300 detections per image (most images 100-300): jittered copies
                   of the ground truth, some of a wrong category, and false positives over
                   the image's positive, negative and unrelated categories; scores rounded to
                   three decimals (ties); a few images with more than 300 (cut by
                   LVISResults)
  dets_segm.json   the same detections as compressed RLE (str counts) of their polygon
  manifest.json    generator version, arguments and counts (written last)

Masks, areas and boxes are computed with maskcodecs.mask (bit-exact with pycocotools).

Usage::

    python scripts/make_lvis_workload.py OUTDIR [--images 5000] [--seed 0]

From Python (with scripts/ on sys.path)::

    from make_lvis_workload import ensure
    folder = ensure("benchmarks/.cache/lvis_workload/n300-seed0", images=300, seed=0)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from maskcodecs import mask as _M

VERSION = 2
N_CATEGORIES = 1203
GROUPS = (("r", 337), ("c", 461), ("f", 405))
MAX_DETS = 300
CACHE = Path(__file__).resolve().parent.parent / "benchmarks" / ".cache" / "lvis_workload"

__all__ = ["generate", "write", "ensure", "CACHE"]


def _categories(rng: np.random.Generator) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The categories (ids 1..1203, frequency groups shuffled over them) and the weight of
    each in drawing an image's positive categories (long-tailed: by group, then Zipf)."""
    freq = np.concatenate([np.full(n, g) for g, n in GROUPS])
    rng.shuffle(freq)
    base = {"r": 0.1, "c": 0.3, "f": 4.0}
    weight = np.array([base[f] for f in freq]) / (1.0 + rng.permutation(N_CATEGORIES)) ** 0.3
    cats = [{"id": k + 1, "name": f"category_{k + 1}", "synset": f"syn_{k + 1}.n.01",
             "frequency": str(freq[k]), "image_count": 0, "instance_count": 0}
            for k in range(N_CATEGORIES)]
    return cats, weight / weight.sum()


def _polygon(rng: np.random.Generator, x: float, y: float, w: float, h: float) -> list[float]:
    """An irregular convex-ish polygon inside the box (8-16 vertices)."""
    nv = int(rng.integers(8, 17))
    t = np.sort(rng.uniform(0, 2 * np.pi, nv))
    r = rng.uniform(0.75, 1.0, nv)
    px = x + w / 2 + np.cos(t) * r * w / 2
    py = y + h / 2 + np.sin(t) * r * h / 2
    return np.round(np.stack([px, py], 1).reshape(-1), 2).tolist()


def _box(rng: np.random.Generator, h: int, w: int) -> tuple[float, float, float, float]:
    side = float(np.exp(rng.uniform(np.log(6), np.log(0.8 * min(h, w)))))
    bw = max(2.0, side * rng.uniform(0.6, 1.4))
    bh = max(2.0, side * rng.uniform(0.6, 1.4))
    bw, bh = min(bw, w - 1.0), min(bh, h - 1.0)
    return float(rng.uniform(0, w - bw)), float(rng.uniform(0, h - bh)), bw, bh


def _jittered(rng: np.random.Generator, poly: list[float], h: int, w: int,
              sigma: float) -> list[float]:
    p = np.array(poly).reshape(-1, 2)
    c = p.mean(0)
    s = rng.normal(1.0, sigma, 2)
    d = rng.normal(0, sigma, 2) * (p.max(0) - p.min(0))
    q = (p - c) * s + c + d
    q[:, 0] = np.clip(q[:, 0], 0, w)
    q[:, 1] = np.clip(q[:, 1], 0, h)
    return np.round(q.reshape(-1), 2).tolist()


def generate(images: int = 5000, seed: int = 0) -> dict[str, Any]:
    """{file name: JSON-ready object} of the workload."""
    rng = np.random.default_rng(seed)
    cats, weight = _categories(rng)
    imgs: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    dets: list[tuple[int, int, list[float], float]] = []  # image, category, polygon, score
    for i in range(images):
        h, w = int(rng.choice([480, 427, 640, 512, 375])), int(rng.choice([640, 480, 500, 612]))
        img_id = i + 1
        npos = int(rng.integers(1, 7))
        pos = rng.choice(N_CATEGORIES, size=npos, replace=False, p=weight) + 1
        others = rng.choice(N_CATEGORIES, size=npos + 24, replace=False) + 1
        others = [int(c) for c in others if c not in set(pos.tolist())]
        neg = others[:int(rng.integers(0, 16))]
        not_exh = [int(c) for c in pos if rng.random() < 0.12]
        imgs.append({"id": img_id, "height": h, "width": w, "license": 1,
                     "coco_url": f"http://images.cocodataset.org/val2017/{img_id:012d}.jpg",
                     "neg_category_ids": neg, "not_exhaustive_category_ids": not_exh})
        polys = []
        for c in pos.tolist():
            for _ in range(int(rng.integers(1, 9 if cats[c - 1]["frequency"] == "f" else 4))):
                poly = _polygon(rng, *_box(rng, h, w))
                polys.append((c, poly))
        rles = _M.frPyObjects([p for _c, p in polys], h, w)
        areas = _M.area(rles)
        boxes = _M.toBbox(rles)
        for (c, poly), area, box in zip(polys, areas.tolist(), boxes.tolist()):
            if area == 0:
                continue
            anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": c,
                         "segmentation": [poly], "area": float(area), "bbox": box})
        n_dets = MAX_DETS + int(rng.integers(1, 40)) if rng.random() < 0.03 else \
            int(rng.integers(100, MAX_DETS + 1))
        mine: list[tuple[int, int, list[float], float]] = []
        for c, poly in polys:  # true positives and near misses
            for _ in range(int(rng.integers(1, 4))):
                cc = c if rng.random() < 0.85 else int(rng.choice(neg or others))
                mine.append((img_id, cc, _jittered(rng, poly, h, w, 0.08),
                             float(rng.uniform(0.3, 1.0))))
        pool = pos.tolist() + neg + others
        while len(mine) < n_dets:  # false positives
            c = int(pool[rng.integers(len(pool))]) if rng.random() < 0.5 else \
                int(rng.integers(1, N_CATEGORIES + 1))
            mine.append((img_id, c, _polygon(rng, *_box(rng, h, w)),
                         float(rng.uniform(0.0, 0.6))))
        dets.extend(mine[:n_dets])
    for d in anns:
        cats[d["category_id"] - 1]["instance_count"] += 1
    gt = {"info": {"description": "synthetic LVIS-shaped workload", "version": str(VERSION)},
          "licenses": [{"id": 1, "name": "synthetic"}], "images": imgs,
          "categories": cats, "annotations": anns}
    bbox, segm = [], []
    sizes = {im["id"]: (im["height"], im["width"]) for im in imgs}
    by_img: dict[int, list[int]] = {}
    for n, d in enumerate(dets):
        by_img.setdefault(d[0], []).append(n)
    rle_of: list[Any] = [None] * len(dets)
    for img_id, idx in by_img.items():
        h, w = sizes[img_id]
        for n, r in zip(idx, _M.frPyObjects([dets[n][2] for n in idx], h, w)):
            rle_of[n] = r
    boxes = _M.toBbox(rle_of)
    for (img_id, c, _poly, score), r, box in zip(dets, rle_of, boxes.tolist()):
        s = round(score, 3)
        bbox.append({"image_id": img_id, "category_id": c,
                     "bbox": [round(v, 2) for v in box], "score": s})
        counts = r["counts"]
        segm.append({"image_id": img_id, "category_id": c, "score": s,
                     "segmentation": {"size": r["size"], "counts": counts.decode("ascii")
                                      if isinstance(counts, bytes) else counts}})
    return {"lvis_gt.json": gt, "dets_bbox.json": bbox, "dets_segm.json": segm}


def _dump(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        import orjson
        tmp.write_bytes(orjson.dumps(obj))
    except ImportError:  # pragma: no cover
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f)
    os.replace(tmp, path)


def write(outdir: str | os.PathLike[str], images: int = 5000, seed: int = 0) -> Path:
    """Generate the workload into outdir (manifest.json last)."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    files = generate(images, seed)
    for name, obj in files.items():
        _dump(obj, out / name)
    manifest = {"generator": "make_lvis_workload", "version": VERSION, "images": images,
                "seed": seed, "annotations": len(files["lvis_gt.json"]["annotations"]),
                "detections": len(files["dets_bbox.json"])}
    _dump(manifest, out / "manifest.json")
    return out


def ensure(outdir: str | os.PathLike[str], images: int = 5000, seed: int = 0) -> Path:
    """The workload folder, generated unless a matching manifest is already there."""
    out = Path(outdir)
    man = out / "manifest.json"
    if man.is_file():
        m = json.loads(man.read_text())
        if m.get("version") == VERSION and m.get("images") == images and m.get("seed") == seed:
            return out
    return write(out, images, seed)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    out = write(a.outdir, a.images, a.seed)
    print(json.loads((out / "manifest.json").read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""masks-to-coco throughput vs the common recipe, on generated 480x640 label-map PNGs.

The common recipe (what users write by hand): decode the PNG, ``np.unique``, then per value
``arr == v`` -> ``np.asfortranarray`` -> ``pycocotools.mask.encode`` (+ area, toBbox), and
``cv2.findContours`` for polygons. Both sides read the same PNG files and write one COCO JSON;
the PNG decode is common to both and measured on its own (``decode_only``).

Run:  PYTHONPATH=src python -m pytest benchmarks/bench_cli.py --benchmark-only
      (MASKCODECS_BENCH_N=1000 images by default; generated once into a temp dir)
or:   PYTHONPATH=src python benchmarks/bench_cli.py   (prints images per second)
"""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N = int(os.environ.get("MASKCODECS_BENCH_N", "1000"))
H, W = 480, 640


# the generated images are kept here between runs (pytest and __main__ alike)
CACHE = Path(tempfile.gettempdir()) / "maskcodecs_bench_cli"


def make_label_maps(root: Path, n: int = N, seed: int = 0) -> Path:
    """n label-map PNGs with 10-20 instances (discs and boxes, later ones on top)."""
    from PIL import Image

    d = root / f"labelmaps_{n}_{seed}"
    if d.is_dir() and len(os.listdir(d)) == n:
        return d
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W]
    for i in range(n):
        lab = np.zeros((H, W), np.uint8)
        for k in range(1, int(rng.integers(10, 21)) + 1):
            cy, cx = rng.integers(0, H), rng.integers(0, W)
            r = int(rng.integers(10, 80))
            if k % 2:
                lab[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = k
            else:
                lab[max(0, cy - r):cy + r, max(0, cx - r // 2):cx + r] = k
        Image.fromarray(lab).save(d / f"{i:05d}.png")
    return d


# ---------------------------------------------------------------------------------------------
# the common recipe
# ---------------------------------------------------------------------------------------------

def _recipe_one(path: str, polygons: bool = False) -> list[dict]:
    from PIL import Image
    from pycocotools import mask as pcm

    arr = np.asarray(Image.open(path))
    anns = []
    for v in np.unique(arr):
        if v == 0:
            continue
        m = (arr == v).astype(np.uint8)
        rle = pcm.encode(np.asfortranarray(m))
        seg: object = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
        if polygons:
            import cv2

            cs, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            seg = [c.reshape(-1).astype(float).tolist() for c in cs if len(c) >= 3]
        anns.append({"category_id": 1, "segmentation": seg, "area": int(pcm.area(rle)),
                     "bbox": pcm.toBbox(rle).tolist(), "iscrowd": 0})
    return anns


def _recipe_poly(path: str) -> list[dict]:
    return _recipe_one(path, True)


def recipe(folder: Path, out: Path, jobs: int = 1, polygons: bool = False) -> None:
    files = sorted(str(p) for p in folder.glob("*.png"))
    fn = _recipe_poly if polygons else _recipe_one
    if jobs > 1:
        with multiprocessing.Pool(jobs) as pool:
            results = pool.map(fn, files, chunksize=8)
    else:
        results = [fn(f) for f in files]
    images, anns = [], []
    for i, (f, res) in enumerate(zip(files, results), 1):
        images.append({"id": i, "file_name": Path(f).name, "height": H, "width": W})
        for a in res:
            anns.append({"id": len(anns) + 1, "image_id": i, **a})
    with open(out, "w") as fh:
        json.dump({"images": images, "annotations": anns,
                   "categories": [{"id": 1, "name": "object"}]}, fh)


def decode_only(folder: Path) -> None:
    from PIL import Image

    for p in sorted(folder.glob("*.png")):
        np.asarray(Image.open(p))


def ours(folder: Path, out: Path, jobs: int = 1, fmt: str = "rle") -> None:
    from maskcodecs.cli import main

    rc = main(["masks-to-coco", str(folder), "-o", str(out), "--jobs", str(jobs), "-q",
               "--no-progress", "--kind", "label", "--format", fmt])
    assert rc == 0


# ---------------------------------------------------------------------------------------------
# pytest-benchmark
# ---------------------------------------------------------------------------------------------

try:
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="session")
    def folder():
        return make_label_maps(CACHE)

    @pytest.mark.parametrize("jobs", [1, 2])
    @pytest.mark.parametrize("impl", ["maskcodecs", "recipe"])
    def test_masks_to_coco_rle(benchmark, folder, tmp_path, impl, jobs):
        benchmark.group = f"masks-to-coco rle, {N} images 480x640, jobs={jobs}"
        fn = ours if impl == "maskcodecs" else recipe
        benchmark.pedantic(fn, args=(folder, tmp_path / "o.json", jobs), rounds=2,
                           iterations=1)
        benchmark.extra_info["images_per_second"] = N / benchmark.stats.stats.median

    @pytest.mark.parametrize("impl", ["maskcodecs", "recipe"])
    def test_masks_to_coco_polygon(benchmark, folder, tmp_path, impl):
        pytest.importorskip("cv2")
        if impl == "maskcodecs":
            fn = lambda: ours(folder, tmp_path / "o.json", 1, "polygon")  # noqa: E731
        else:
            fn = lambda: recipe(folder, tmp_path / "o.json", 1, True)  # noqa: E731
        benchmark.group = f"masks-to-coco polygon, {N} images 480x640, jobs=1"
        benchmark.pedantic(fn, rounds=2, iterations=1)
        benchmark.extra_info["images_per_second"] = N / benchmark.stats.stats.median

    def test_png_decode_only(benchmark, folder):
        benchmark.group = f"masks-to-coco rle, {N} images 480x640, jobs=1"
        benchmark.pedantic(decode_only, args=(folder,), rounds=2, iterations=1)


def _time(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


if __name__ == "__main__":
    root = Path(tempfile.mkdtemp(prefix="maskcodecs_bench_"))
    try:
        t0 = time.perf_counter()
        d = make_label_maps(CACHE)
        print(f"{N} label maps ready in {time.perf_counter() - t0:.1f} s (cached in {CACHE})",
              file=sys.stderr)
        out = root / "o.json"
        rows = [("PNG decode only", _time(decode_only, d))]
        for jobs in (1, 2):
            rows.append((f"maskcodecs jobs={jobs}", _time(ours, d, out, jobs)))
            rows.append((f"recipe     jobs={jobs}", _time(recipe, d, out, jobs)))
        for name, t in rows:
            print(f"{name:22s} {t:7.2f} s  {N / t:8.1f} images/s")
    finally:
        shutil.rmtree(root, ignore_errors=True)

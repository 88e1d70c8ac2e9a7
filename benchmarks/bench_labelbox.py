"""Splitting a 4K Labelbox composite with 20 instance colours: maskcodecs vs the SDK recipe.

Run: ``PYTHONPATH=src python -m pytest benchmarks/bench_labelbox.py --benchmark-only``.
The Labelbox SDK (``labelbox[data]``) is used when installed; its per-colour recipe
``np.all(arr == color, axis=2).astype(uint8)`` (what ``Mask.draw(color=1)`` computes) always runs.
"""
from __future__ import annotations

import numpy as np
import pytest

from maskcodecs import labelbox as lb

H, W, N = 2160, 3840, 20


@pytest.fixture(scope="module")
def composite():
    """20 overlapping filled polygons (distinct colours) on black, like a real composite."""
    rng = np.random.default_rng(0)
    img = np.zeros((H, W, 3), np.uint8)
    colors = []
    for k in range(N):
        c = (int(rng.integers(1, 256)), int(rng.integers(0, 256)), k)
        colors.append(c)
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 12))
        r = rng.uniform(100, 600, 12)
        pts = np.stack([cx + r * np.cos(ang), cy + r * np.sin(ang)], 1)
        lb.draw_polygon(img, pts, color=c)
    return img, colors


def numpy_recipe(img, colors):
    return [np.all(img == c, axis=2).astype(np.uint8) for c in colors]


@pytest.mark.parametrize("impl", ["maskcodecs-mask", "maskcodecs-rle", "numpy-recipe",
                                  "labelbox-sdk"])
def test_split_4k_20_colours(benchmark, composite, impl):
    img, colors = composite
    if impl == "maskcodecs-mask":
        res = benchmark(lb.split, img, colors)
        assert res.masks.shape == (N, H, W)
    elif impl == "maskcodecs-rle":
        res = benchmark(lb.split, img, colors, output="rle")
        assert len(res.rles) == N
    elif impl == "numpy-recipe":
        out = benchmark.pedantic(numpy_recipe, (img, colors), rounds=3, iterations=1)
        assert len(out) == N
    else:
        lbt = pytest.importorskip("labelbox.data.annotation_types")
        md = lbt.MaskData(arr=img)
        masks = [lbt.Mask(mask=md, color=c) for c in colors]
        out = benchmark.pedantic(lambda: [m.draw(color=1) for m in masks], rounds=2,
                                 iterations=1)
        assert len(out) == N


def test_split_agrees_with_recipe(composite):
    img, colors = composite
    res = lb.split(img, colors)
    assert all(np.array_equal(a, b) for a, b in zip(res.masks, numpy_recipe(img, colors)))


@pytest.mark.parametrize("impl", ["maskcodecs", "cv2"])
def test_fill_polygons_4k(benchmark, impl):
    """Labelbox ``Polygon.draw`` on a 4K canvas: 50 polygons of 40 vertices."""
    rng = np.random.default_rng(1)
    polys = []
    for _ in range(50):
        ang = np.sort(rng.uniform(0, 2 * np.pi, 40))
        r = rng.uniform(50, 400, 40)
        c = rng.uniform(0, (W, H))
        polys.append(np.stack([c[0] + r * np.cos(ang), c[1] + r * np.sin(ang)], 1))
    canvas = np.zeros((H, W, 3), np.uint8)
    if impl == "maskcodecs":
        def run():
            for p in polys:
                lb.draw_polygon(canvas, p, color=(255, 255, 255))
    else:
        cv2 = pytest.importorskip("cv2")
        pts = [np.trunc(p).astype(np.int32) for p in polys]

        def run():
            for p in pts:
                cv2.fillPoly(canvas, [p], (255, 255, 255))
    benchmark(run)

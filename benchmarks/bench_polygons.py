"""Mask -> contours: maskcodecs.polygons.find_contours vs cv2.findContours, side by side.

Inputs (built once, outside the timed calls):
  * 12 MP (3000 x 4000) uint8 mask with 5 large ellipses, one with a hole;
  * 1024 x 1024 uint8 mask with 12 ellipses of mixed sizes;
  * 1024 x 1024 uint8 mask with one small object (a typical instance mask);
  * the same 12 MP mask in Fortran order (cv2 needs C order: it pays the conversion).

Run:  PYTHONPATH=src python -m pytest benchmarks/bench_polygons.py --benchmark-only
"""
from __future__ import annotations

import numpy as np
import pytest

from maskcodecs.polygons import find_contours

cv2 = pytest.importorskip("cv2")
pytest.importorskip("pytest_benchmark")


def _blobs(h: int, w: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.ogrid[:h, :w]
    m = np.zeros((h, w), dtype=np.uint8)
    for i in range(k):
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        ry, rx = rng.uniform(0.03, 0.25) * h, rng.uniform(0.03, 0.25) * w
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        m[inside] = 1
        if i == 0:
            m[((yy - cy) / (ry / 3)) ** 2 + ((xx - cx) / (rx / 3)) ** 2 <= 1] = 0
    return m


MASKS = {
    "12MP": _blobs(3000, 4000, 5, 0),
    "1024": _blobs(1024, 1024, 12, 1),
}
MASKS["1024-sparse"] = np.zeros((1024, 1024), dtype=np.uint8)
MASKS["1024-sparse"][400:560, 300:520] = _blobs(160, 220, 3, 2)
MASKS["12MP-F"] = np.asfortranarray(MASKS["12MP"])

STYLES = {
    # (our mode, our approx, cv2 mode, cv2 method)
    "external-simple": ("external", "simple", cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE),
    "ccomp-none": ("ccomp", "none", cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE),
}


def _ours(m, mode, approx):
    return find_contours(m, mode=mode, approx=approx)


def _cv2(m, mode, method):
    return cv2.findContours(np.ascontiguousarray(m), mode, method)


@pytest.mark.parametrize("impl", ["maskcodecs", "cv2"])
@pytest.mark.parametrize("style", list(STYLES))
@pytest.mark.parametrize("size", list(MASKS))
def test_find_contours(benchmark, size, style, impl):
    m = MASKS[size]
    mode, approx, cv_mode, cv_method = STYLES[style]
    benchmark.group = f"contours {size} {style}"
    if impl == "maskcodecs":
        res = benchmark(_ours, m, mode, approx)
        n = len(res)
    else:
        res = benchmark(_cv2, m, cv_mode, cv_method)
        n = len(res[0])
    assert n == len(find_contours(m, mode=mode, approx=approx))


# COCO RLE -> polygons: ours traces from the runs; the usual route decodes (Fortran order; here
# with maskcodecs.mask.decode, faster than pycocotools' and warning-free under numpy 2), makes
# the mask C-contiguous and calls cv2.findContours.
RLES = {}


def _rle(size):
    if size not in RLES:
        from maskcodecs import mask as mc

        RLES[size] = mc.encode(np.asfortranarray(MASKS[size]))
    return RLES[size]


@pytest.mark.parametrize("impl", ["maskcodecs", "decode+cv2"])
@pytest.mark.parametrize("size", ["12MP", "1024"])
def test_rle_to_polygons(benchmark, size, impl):
    from maskcodecs import mask as mc
    from maskcodecs.polygons import rle_to_polygons

    rle = _rle(size)
    benchmark.group = f"rle->contours {size} external-simple"
    if impl == "maskcodecs":
        benchmark(rle_to_polygons, rle)
    else:
        benchmark(lambda: cv2.findContours(np.ascontiguousarray(mc.decode(rle)),
                                           cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE))

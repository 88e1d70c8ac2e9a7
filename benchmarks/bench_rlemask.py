"""RLEMask operations on runs: maskcodecs vs rlemasklib vs decode + numpy/cv2 + encode.

A 1080 x 1920 mask of 400 discs (and a second one for the union), built outside the timed
calls. Run: pytest benchmarks/bench_rlemask.py --benchmark-only
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from maskcodecs import RLEMask, rle

H, W = 1080, 1920
IMPLS = ["maskcodecs", "rlemasklib", "numpy"]


def discs(seed: int, n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.ogrid[:H, :W]
    a = np.zeros((H, W), bool)
    for _ in range(n):
        cy, cx, r = rng.integers(0, H), rng.integers(0, W), rng.integers(5, 40)
        y0, y1, x0, x1 = max(cy - r, 0), min(cy + r + 1, H), max(cx - r, 0), min(cx + r + 1, W)
        a[y0:y1, x0:x1] |= (yy[y0:y1] - cy) ** 2 + (xx[:, x0:x1] - cx) ** 2 <= r * r
    return a


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    a, b = discs(0), discs(1)
    d: dict[str, Any] = {"a": a, "b": b, "ours": (RLEMask.from_array(a), RLEMask.from_array(b)),
                         "dict": (rle.encode(a), rle.encode(b))}
    try:
        import rlemasklib
        d["rl"] = (rlemasklib.RLEMask.from_array(a), rlemasklib.RLEMask.from_array(b))
    except ImportError:
        d["rl"] = None
    return d


def _ops(impl: str, d: dict[str, Any]) -> dict[str, Any]:
    """name -> zero-argument callable doing one operation in this implementation."""
    if impl == "rlemasklib":
        if d["rl"] is None:
            pytest.skip("rlemasklib not installed")
        m, n = d["rl"]
        return {"crop": lambda: m[100:900, 300:1500], "fliplr": m.fliplr,
                "union": lambda: m | n, "area": m.area, "bbox": m.bbox,
                "to_array": m.to_array, "from_array": lambda: type(m).from_array(d["a"]),
                "resize_half": lambda: m.resize((H // 2, W // 2))}
    if impl == "maskcodecs":
        m, n = d["ours"]
        return {"crop": lambda: m[100:900, 300:1500], "fliplr": m.fliplr,
                "union": lambda: m | n, "area": lambda: m.area, "bbox": lambda: m.bbox,
                "to_array": m.to_array, "from_array": lambda: RLEMask.from_array(d["a"]),
                "resize_half": lambda: m.resize((H // 2, W // 2))}
    import cv2
    r, s = d["dict"]

    def via(f: Any) -> Any:
        return lambda: rle.encode(np.ascontiguousarray(f(rle.decode(r))))

    return {"crop": via(lambda x: x[100:900, 300:1500]), "fliplr": via(lambda x: x[:, ::-1]),
            "union": lambda: rle.encode(rle.decode(r) | rle.decode(s)),
            "area": lambda: int(rle.decode(r).sum()),
            "bbox": lambda: np.nonzero(rle.decode(r).any(0))[0][[0, -1]],
            "to_array": lambda: rle.decode(r), "from_array": lambda: rle.encode(d["a"]),
            "resize_half": via(lambda x: cv2.resize(x, (W // 2, H // 2),
                                                    interpolation=cv2.INTER_NEAREST))}


@pytest.mark.parametrize("op", ["crop", "fliplr", "union", "area", "bbox", "to_array",
                                "from_array", "resize_half"])
@pytest.mark.parametrize("impl", IMPLS)
def test_rlemask(benchmark: Any, impl: str, op: str, data: dict[str, Any]) -> None:
    benchmark.group = f"rlemask {op}"
    benchmark(_ops(impl, data)[op])

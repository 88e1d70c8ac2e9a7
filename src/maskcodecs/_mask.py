"""Drop-in for ``pycocotools._mask``: the same public functions, for code that imports them.

Unlike pycocotools, ``frPoly``/``frBbox``/``frUncompressedRLE`` return lists of plain RLE dicts
(pycocotools returns them too, through its Python-level wrappers).
"""
from __future__ import annotations

import numpy as np

from maskcodecs import rle as _rle
from maskcodecs._types import RLE
from maskcodecs.mask import (
    area,
    decode,
    encode,
    frBbox,
    frPoly,
    frPyObjects,
    frUncompressedRLE,
    iou,
    merge,
    toBbox,
)


class RLEs:
    """Parsed RLEs (uncompressed uint32 counts with their sizes), as pycocotools' ``RLEs``."""

    def __init__(self, items: list[tuple[int, int, np.ndarray]]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)


def _frString(rleObjs: list[RLE]) -> RLEs:
    """Parse compressed RLE dicts into an :class:`RLEs` (pycocotools ``_mask._frString``)."""
    items = []
    for r in rleObjs:
        h, w = (int(v) for v in r["size"])
        items.append((h, w, _rle.counts(r)))
    return RLEs(items)


def _toString(Rs: RLEs) -> list[RLE]:
    """Compressed RLE dicts of an :class:`RLEs` (pycocotools ``_mask._toString``)."""
    return [_rle.from_counts(c, size=[h, w]) for h, w, c in Rs._items]


__all__ = ["RLEs", "_frString", "_toString", "area", "decode", "encode", "frBbox", "frPoly",
           "frPyObjects", "frUncompressedRLE",
           "iou", "merge", "toBbox"]

"""Drop-in for ``pycocotools._mask``: the same public functions, for code that imports them.

Unlike pycocotools, ``frPoly``/``frBbox``/``frUncompressedRLE`` return lists of plain RLE dicts
(pycocotools returns them too, through its Python-level wrappers).
"""
from __future__ import annotations

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

__all__ = ["area", "decode", "encode", "frBbox", "frPoly", "frPyObjects", "frUncompressedRLE",
           "iou", "merge", "toBbox"]

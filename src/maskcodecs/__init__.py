"""maskcodecs: fast, exact segmentation-mask codecs.

``maskcodecs.mask`` is a drop-in for ``pycocotools.mask``; ``patch_pycocotools()`` makes
pycocotools itself use it. ``maskcodecs.rle`` is the Pythonic COCO RLE tier; ``encord``,
``labelbox``, ``coco`` and ``polygons`` handle the other formats (imported on first use).
``RLEMask`` is an immutable mask held as runs, with set operations and geometry on the runs.
"""
from __future__ import annotations

import importlib
from typing import Any

from maskcodecs import mask, rle
from maskcodecs._patch import PatchHandle, init_as_lvis, init_as_pycocotools, patch_pycocotools
from maskcodecs._types import RLE
from maskcodecs.errors import MaskCodecError
from maskcodecs.rlemask import RLEMask

__version__ = "0.1.0"

_LAZY = ("encord", "labelbox", "coco", "cocoeval", "polygons", "panoptic", "lvis")

__all__ = ["mask", "rle", "encord", "labelbox", "coco", "cocoeval", "polygons", "panoptic",
           "lvis", "patch_pycocotools", "init_as_pycocotools", "init_as_lvis",
           "PatchHandle", "RLE", "RLEMask", "MaskCodecError", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f"maskcodecs.{name}")
    raise AttributeError(f"module 'maskcodecs' has no attribute {name!r}")

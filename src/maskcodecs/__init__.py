"""maskcodecs: fast, exact segmentation-mask codecs.

``maskcodecs.mask`` is a drop-in for ``pycocotools.mask``; ``patch_pycocotools()`` makes
pycocotools itself use it.
"""
from __future__ import annotations

from maskcodecs import mask, rle
from maskcodecs._patch import PatchHandle, patch_pycocotools
from maskcodecs._types import RLE
from maskcodecs.errors import MaskCodecError

__version__ = "0.1.0"

__all__ = ["mask", "rle", "patch_pycocotools", "PatchHandle", "RLE", "MaskCodecError", "__version__"]

"""Shared type definitions."""
from __future__ import annotations

import sys
from typing import List, Union

if sys.version_info >= (3, 8):
    from typing import TypedDict
else:  # pragma: no cover
    from typing_extensions import TypedDict


class RLE(TypedDict):
    """A compressed COCO RLE: ``{'size': [h, w], 'counts': bytes}`` (counts may be str on input)."""

    size: List[int]
    counts: Union[bytes, str]


__all__ = ["RLE"]

"""Shared type definitions."""
from __future__ import annotations

from typing import TypedDict, Union


class RLE(TypedDict):
    """A compressed COCO RLE: ``{'size': [h, w], 'counts': bytes}`` (counts may be str on input)."""

    size: list[int]
    counts: Union[bytes, str]  # noqa: UP007 - evaluated on Python 3.9


__all__ = ["RLE"]

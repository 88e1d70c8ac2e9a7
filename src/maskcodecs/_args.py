"""Checks of keyword arguments shared by the library's entry points: a value of the wrong
type or out of range is an :class:`~maskcodecs.errors.ArgumentError` naming the argument,
instead of the ``OverflowError`` of a C conversion or the ``ValueError`` of ``int()``."""
from __future__ import annotations

from typing import Any

import numpy as np

from maskcodecs.errors import ArgumentError

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def int_arg(value: Any, name: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int if it is an integer (not a bool, not a float) within
    ``lo..hi``; ArgumentError naming ``name`` otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ArgumentError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        bounds = f"{'' if lo is None else lo}..{'' if hi is None else hi}"
        raise ArgumentError(f"{name} must be in {bounds}, got {v}")
    return v


def threads_arg(threads: Any) -> int | None:
    """The ``threads=`` argument of every threaded entry point: None or an integer
    (0 or negative: every core); ArgumentError otherwise. Large values are kept (they are
    capped by the work there is)."""
    if threads is None:
        return None
    return int_arg(threads, "threads")

"""Fuzz the Encord bitmask reader: maskcodecs.encord.decode and from_dict.

Stub until maskcodecs.encord exists: the harness does nothing (and says so when run) if the
module is missing. Input: JSON text; non-JSON inputs are passed as raw strings.
Invariant: only expected rejections escape; a decoded mask is a 2-D bool/uint8 array.
"""
from __future__ import annotations

import json
import sys

import numpy as np
from _fuzzcommon import check, expect_rejection, main

try:
    from maskcodecs import encord
except ImportError:
    encord = None


def _parse(data: bytes):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return data.decode("latin-1")


def test_one(data: bytes) -> None:
    if encord is None:
        return
    obj = _parse(data)
    for fn in (getattr(encord, "decode", None), getattr(encord, "from_dict", None)):
        if fn is None:
            continue
        ok, res = expect_rejection(lambda fn=fn: fn(obj))
        if ok and isinstance(res, np.ndarray):
            check(res.ndim == 2 and res.dtype in (np.bool_, np.uint8), f"bad mask {res.dtype}")


if __name__ == "__main__":
    if encord is None:
        print("maskcodecs.encord is not available: nothing to fuzz", file=sys.stderr)
        sys.exit(0)
    main(test_one)

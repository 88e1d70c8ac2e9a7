"""Shared fixtures: where the third-party real data lives, and skip helpers."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
REALDATA = Path(os.environ.get("MASKCODECS_REALDATA", _HERE.parent.parent / "shared" / "realdata"))


def realdata(*parts: str) -> Path:
    """Path of a file in ../shared/realdata; skips the test with a reason when absent."""
    p = REALDATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data not available: {p} "
                    "(expected ../shared/realdata beside the checkout)")
    return p


def load_json(*parts: str):
    with open(realdata(*parts), encoding="utf-8") as f:
        return json.load(f)

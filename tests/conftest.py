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


# Every third-party COCO annotation file in ../shared/realdata (paths under realdata/).
REAL_COCO_FILES = [
    ("labelbox", "coco", "instances.json"),
    ("labelbox", "coco", "rle.json"),
    ("datumaro", "coco_instances_instances_val.json"),
    ("datumaro", "coco_instances_instances_train.json"),
    ("datumaro", "coco_stuff_stuff_val.json"),
    ("datumaro", "coco_stuff_stuff_train.json"),
    ("encord_client_python", "coco_datastructure_fixture.json"),
    *[("hotcoco_adversarial", f) for f in (
        "1x1_image.json", "crowd_polygon.json", "degenerate_1x1.json", "gt_outside_bounds.json",
        "iscrowd_polygon_seg.json", "segm_crowd_rle.json", "segm_polygon.json",
        "segm_polygon_dts.json", "segm_rle_crowd_correct.json", "segm_rle_gt.json")],
]

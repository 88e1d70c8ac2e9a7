"""Fuzz the kernel's COCO JSON scanner and its span readers (maskcodecs._coco_scan).

Input: a selector byte, then a document. The scanner reads the document as a dataset and as
a results file; the span readers (polygons, number lists, RLE objects) read the spans it
found, and also spans cut at arbitrary positions of the input (bytes that are not JSON).
Invariants: the scanner accepts nothing json.loads refuses; where it accepts, every id,
number and span equals json.loads's; the span readers agree with json on the scanned spans
and never read past a span (no crash, only a decline) on arbitrary ones.
"""
from __future__ import annotations

import json
import math
import struct

import numpy as np
from _fuzzcommon import Input, check, main

from maskcodecs import _rle_core as core

L = core.COCO_JSON_LAYOUT
FIELDS = ("id", "image_id", "category_id", "area", "iscrowd", "score", "num_keypoints")


def _same(a: float, b: float) -> bool:
    return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))


def _check_rows(data: bytes, rows: np.ndarray, anns: list) -> None:
    check(len(rows) == len(anns), "row count")
    for r, a in enumerate(anns):
        meta = int(rows[r, L["meta"]])
        for name in FIELDS:
            present = bool(meta >> L[name] & 1)
            check(present == (name in a), f"presence of {name}")
            if present and name in ("id", "image_id", "category_id"):
                check(rows[r, L[name]] == a[name], f"{name} value")
            elif present:
                got = rows[r:r + 1, L[name]].view(np.float64)[0]
                check(_same(float(got), float(a[name])), f"{name} value")
        for key in ("segmentation", "keypoints"):
            if meta >> L["bit_" + key] & 1:
                s, e = int(rows[r, L[key]]), int(rows[r, L[key] + 1])
                check(json.loads(data[s:e]) == a[key], f"{key} span")


def _readers(data: bytes, starts: np.ndarray, ends: np.ndarray) -> None:
    for fn in (core.coco_json_polygons, core.coco_json_number_lists, core.coco_json_rles):
        fn(data, starts, ends)


def _in_order(fn, k):
    return [fn(a, a + 1) for a in range(k)]


def test_one(buf: bytes) -> None:
    inp = Input(buf)
    cut = inp.below(256)
    data = inp.rest()
    for results in (False, True):
        got = core.coco_json_scan(data, results)
        # in parts (guessed starts anywhere, run in order): the same outcome
        parts = core.coco_json_scan(data, results, _in_order, 2 + cut % 7, 1 + cut % 32)
        check((got is None) == (parts is None), "a scan in parts accepts as one scan does")
        if got is None:
            continue
        check(parts[1] == got[1] and parts[2] == got[2] and sorted(parts[0]) == sorted(got[0])
              and all(np.array_equal(parts[0][k], got[0][k]) for k in got[0]),
              "a scan in parts gives one scan's rows")
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            check(False, "the scanner accepted what json.loads refuses")
        cols, n, top = got
        rows = np.zeros((n, L["nslots"]), dtype=np.int64)
        for k, col in cols.items():
            if col.ndim == 2:  # the box: four numbers in one (n, 4) column
                rows[:, k:k + col.shape[1]] = col
            else:
                rows[:, k] = col
        anns = doc if results else doc.get("annotations", [])
        check(isinstance(anns, list), "annotations are a list")
        _check_rows(data, rows, anns)
        for key in ("segmentation", "keypoints"):
            have = (rows[:, L["meta"]] >> L["bit_" + key] & 1) == 1
            _readers(data, np.ascontiguousarray(rows[have, L[key]]),
                     np.ascontiguousarray(rows[have, L[key] + 1]))
    if len(data) > 1:  # spans that are not JSON at all: declined, never read past
        a = cut % len(data)
        b = a + 1 + (cut * 7) % (len(data) - a)
        _readers(data, np.array([a], dtype=np.int64), np.array([b], dtype=np.int64))


if __name__ == "__main__":
    main(test_one)

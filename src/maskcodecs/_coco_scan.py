"""A COCO file held as the kernel's annotation columns, its dicts built only when read.

:func:`scan_dataset` and :func:`scan_results` read a file's bytes with the kernel's JSON
scanner (``_rle_core.coco_json_scan``): a column per key (ids, area, iscrowd, score, bbox,
and the byte spans of segmentations and keypoints), without a Python object per annotation.
Evaluation reads these columns directly; the first read of ``COCO.dataset``, ``anns``,
``imgToAnns`` or ``catToImgs`` parses the file the ordinary way,
so what users see is exactly what ``json.loads`` gives. Anything the scanner does not model
exactly (see the kernel part) makes these functions return None, and the caller parses the
file the ordinary way from the start.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from maskcodecs import _rle_core as _core
from maskcodecs._pool import resolve_threads, run_parts

__all__ = ["ScannedFile", "scan_dataset", "scan_results", "loads", "sorted_unique",
           "number_lists", "polygon_lists", "rle_spans"]

try:  # optional fast JSON parser
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised where orjson is absent
    _orjson = None

_L = _core.COCO_JSON_LAYOUT
_F64 = np.float64
_I64 = np.int64


# spans per part worth a thread: the readers take about 1 us a span
_SPANS_PER_PART = 4096


def _span_parts(fn: Any, starts: np.ndarray, ends: np.ndarray,
                threads: int | None = None) -> list[Any]:
    """fn(starts[a:b], ends[a:b]) over parts of the spans, in parallel (the kernel's
    readers release the GIL; threads None: all cores), results in order."""
    n = len(starts)
    parts = resolve_threads(0 if threads is None else threads, max(1, n // _SPANS_PER_PART))
    return run_parts(lambda a, b: fn(np.ascontiguousarray(starts[a:b]),
                                     np.ascontiguousarray(ends[a:b])), n, parts)


def number_lists(data: bytes, starts: np.ndarray, ends: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """_core.coco_json_number_lists, read in parallel parts."""
    got = _span_parts(lambda a, b: _core.coco_json_number_lists(data, a, b), starts, ends)
    if len(got) == 1:
        return got[0]
    return np.concatenate([g[0] for g in got]), np.concatenate([g[1] for g in got])


def _rebased(got: list[Any]) -> np.ndarray:
    """The offsets (item 1) of parts read one after the other, into their values (item 0)
    joined: one offset array from 0."""
    base = np.cumsum([0] + [len(g[0]) for g in got[:-1]])
    return np.concatenate([np.zeros(1, dtype=_I64)] +
                          [g[1][1:] + b for g, b in zip(got, base.tolist())])


def polygon_lists(data: bytes, starts: np.ndarray, ends: np.ndarray,
                  threads: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_core.coco_json_polygons, read in parallel parts (part offsets rebased)."""
    got = _span_parts(lambda a, b: _core.coco_json_polygons(data, a, b), starts, ends,
                      threads)
    if len(got) == 1:
        return got[0]
    return np.concatenate([g[0] for g in got]), _rebased(got), np.concatenate([g[2] for g in got])


def rle_spans(data: bytes, starts: np.ndarray, ends: np.ndarray
              ) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """_core.coco_json_rles, read in parallel parts (string offsets rebased)."""
    got = _span_parts(lambda a, b: _core.coco_json_rles(data, a, b), starts, ends)
    if len(got) == 1:
        return got[0]
    return (b"".join(g[0] for g in got), _rebased(got), np.concatenate([g[2] for g in got]),
            np.concatenate([g[3] for g in got]), np.concatenate([g[4] for g in got]))


def loads(data: bytes) -> Any:
    """json.loads of bytes, with orjson when it is installed and reads them."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass
    import json
    return json.loads(data)


def sorted_unique(values: Any) -> np.ndarray:
    """np.unique(values): for a 1-D integer array by sorting (numpy 2.4's np.unique hashes
    integers, 100x slower than a sort on a million ids here); anything else by np.unique."""
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        return np.unique(arr)
    out = np.sort(arr)
    if len(out) > 1:
        out = out[np.concatenate(([True], out[1:] != out[:-1]))]
    return out


def all_members(values: np.ndarray, keys: np.ndarray) -> bool:
    """Whether every integer of values is one of keys (np.isin(values, keys).all() by a sort
    and a binary search: np.isin imports numpy.ma, 15 ms, on its first call in a process)."""
    if len(values) == 0:
        return True
    table = np.sort(keys)
    if len(table) == 0:
        return False
    pos = np.minimum(np.searchsorted(table, values), len(table) - 1)
    return bool((table[pos] == values).all())


def _bit(name: str) -> int:
    return 1 << (_L[name] if name in ("id", "image_id", "category_id", "area", "iscrowd",
                                      "score", "num_keypoints") else _L["bit_" + name])


class ScannedFile:
    """The bytes of one COCO file and the scanner's columns of its annotations.

    ``values`` holds the parsed top-level values other than the annotations (a dataset's
    images, categories, info...), ``keys`` the top-level keys with the byte spans of their
    values in file order (None for a results file). ``segs``, ``kps``, ``rle``, ``area``,
    ``bbox`` and ``ids`` hold what loadRes completed of results, else None."""

    def __init__(self, data: bytes, columns: dict[int, np.ndarray], n: int,
                 keys: list[tuple[str, int, int]] | None, values: dict[str, Any]) -> None:
        self.data = data
        self.n = n
        self.keys = keys
        self.values = values
        self.segs: list[Any] | None = None
        self.kps: Any = None                 # keypoint matrix of results
        self.rle: tuple[Any, ...] | None = None  # (chars, off, h, w) of RLE results
        self.area: np.ndarray | None = None    # completed by loadRes (results)
        self.bbox: np.ndarray | None = None
        self.ids: np.ndarray | None = None
        self._unique: bool | None = None
        self._box_ok: Any = None
        # the kernel's columns: only those of keys some annotation has (a results file has
        # no id, area, iscrowd...); the others read as zeros
        self._cols: dict[int, np.ndarray] = dict(columns)
        b = _L["bbox"]
        if b in self._cols:
            self._cols[-b] = self._cols.pop(b).view(_F64)

    # -- columns -------------------------------------------------------------------------------
    def _column(self, slot: int) -> np.ndarray:
        col = self._cols.get(slot)
        if col is None:  # no annotation has the key: zeros, never read as a value
            col = self._cols[slot] = np.zeros(self.n, dtype=_I64)
        return col

    def ints(self, name: str) -> np.ndarray:
        if name == "id" and self.ids is not None:
            return self.ids
        return self._column(_L[name])

    def floats(self, name: str) -> np.ndarray:
        if name == "area" and self.area is not None:
            return self.area
        return self._column(_L[name]).view(_F64)

    def boxes(self) -> np.ndarray:
        if self.bbox is not None:
            return self.bbox
        b = _L["bbox"]
        col = self._cols.get(-b)
        if col is None:
            col = self._cols[-b] = np.zeros((self.n, 4), dtype=_F64)
        return col

    def span_columns(self, name: str, rows: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Start and end offsets of the key's values (segmentation, keypoints) in the bytes,
        for these rows (all by default)."""
        s = _L[name]
        a, b = self._column(s), self._column(s + 1)
        if rows is None:
            return a, b
        return np.ascontiguousarray(a[rows]), np.ascontiguousarray(b[rows])

    def meta(self) -> np.ndarray:
        return self._column(_L["meta"])

    def has(self, name: str) -> np.ndarray:
        """Which rows hold the key."""
        return (self.meta() & _bit(name)) != 0

    def boxes_ok(self, rows: np.ndarray | None = None) -> bool:
        """Whether these rows (all by default) hold a bbox of four numbers (loadRes's
        completed boxes count as held); computed once per file."""
        if self.bbox is not None:
            return True
        if self._box_ok is None:
            ok = self.has("bbox") & (self.bbox_len() == 4)
            self._box_ok = True if ok.all() else ok
        if self._box_ok is True:
            return True
        return rows is not None and bool(self._box_ok[rows].all())

    def bbox_len(self) -> np.ndarray:
        return (self.meta() >> 16) & 0xFF

    def seg_kind(self) -> np.ndarray:
        """First byte of each row's segmentation value ('[' or '{', 0 when absent)."""
        return (self.meta() >> 24) & 0xFF

    def unique_ids(self) -> bool:
        if self.ids is not None:  # results: numbered 1..n by loadRes
            return True
        if self._unique is None:
            ids = self.ints("id")
            self._unique = len(sorted_unique(ids)) == len(ids)
        return self._unique

    def spans(self, name: str, rows: np.ndarray) -> list[Any]:
        """The parsed values of the key (segmentation, keypoints) for these rows."""
        if len(rows) == 0:
            return []
        starts, ends = self.span_columns(name, rows)
        a, b = starts.tolist(), ends.tolist()
        data = self.data
        return loads(b"[" + b",".join([data[i:j] for i, j in zip(a, b)]) + b"]")

    def number_rows(self, name: str, rows: np.ndarray) -> np.ndarray | None:
        """The flat number lists of the key (keypoints) for these rows as one (n, L) float64
        matrix, read from the bytes by the kernel; None unless every row holds such a list
        and all have one length."""
        values, counts = number_lists(self.data, *self.span_columns(name, rows))
        if len(counts) == 0 or (counts < 0).any() or (counts != counts[0]).any():
            return None
        return values.reshape(len(counts), int(counts[0]))

    def annotations(self) -> list[Any]:
        """The annotation list as json.loads gives it."""
        if self.keys is None:
            return loads(self.data)
        for key, a, b in self.keys:
            if key == "annotations":
                return loads(self.data[a:b])
        return []  # pragma: no cover - a dataset is scanned only with annotations

    def dataset(self) -> dict[str, Any]:
        """The dataset dict in file key order (a dataset file), annotations parsed now."""
        out: dict[str, Any] = {}
        for key, _a, _b in self.keys or ():
            out[key] = self.annotations() if key == "annotations" else self.values[key]
        return out


#: bytes of annotations per part of a parallel scan, at least
_SCAN_PART_BYTES = 1 << 20


def _run_all(fn: Any, k: int) -> list[Any]:
    return run_parts(fn, k, k)


def _scan(data: bytes, results: bool, need: int) -> ScannedFile | None:
    cores = resolve_threads(0, 1 << 16)
    got = _core.coco_json_scan(data, results, _run_all if cores > 1 else None, cores,
                               _SCAN_PART_BYTES)
    if got is None or got[1] == 0 and results:
        return None
    columns, n, keys = got
    values: dict[str, Any] = {}
    if not results:
        names = [k for k, _, _ in keys]
        if "annotations" not in names or len(set(names)) != len(names):
            return None
        values = {k: loads(data[a:b]) for k, a, b in keys if k != "annotations"}
        if "categories" in values:
            need |= _bit("category_id")
    f = ScannedFile(data, columns, n, keys, values)
    # what createIndex / loadRes read of every annotation: a KeyError is the ordinary
    # parse's to give
    if f.n and not np.all((f.meta() & need) == need):
        return None
    return f


def scan_dataset(data: bytes) -> ScannedFile | None:
    """Scan a COCO dataset file; None where the ordinary parse must be used."""
    return _scan(data, False, _bit("id") | _bit("image_id"))


def scan_results(data: bytes) -> ScannedFile | None:
    """Scan a results file (an array of objects); None where the ordinary parse must be used."""
    return _scan(data, True, _bit("image_id"))

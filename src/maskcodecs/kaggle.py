"""Kaggle's start/length run-length strings, to and from masks and COCO RLE.

Kaggle segmentation competitions submit a mask as ``"start length start length ..."``:
1-based pixel positions where a run of foreground starts, and how many pixels it covers.
The pixel order is not the same everywhere: some competitions number pixels row by row
(``order="C"``, position ``r * w + c + 1``), others column by column (``order="F"``,
``c * h + r + 1``, the order of COCO RLE). Every function here takes ``order`` as a
required keyword: a wrong guess decodes to a plausible-looking but transposed mask.

Conversion to and from COCO RLE stays in the run domain (no pixel array): in column order
the runs are COCO's counts; in row order they are the counts of the transposed mask,
transposed on the runs.

Examples
--------
>>> import numpy as np
>>> from maskcodecs import kaggle
>>> m = np.zeros((2, 3), dtype=bool); m[0, 1:] = True; m[1, 0] = True
>>> kaggle.encode(m, order="C"), kaggle.encode(m, order="F")
('2 3', '2 2 5 1')
>>> bool((kaggle.decode("2 3", (2, 3), order="C") == m).all())
True
>>> kaggle.to_rle("2 2 5 1", (2, 3), order="F")
{'size': [2, 3], 'counts': '121O0'}
"""
from __future__ import annotations

from typing import Any, Literal

import numpy as np

from maskcodecs.errors import ArgumentError, FormatError
from maskcodecs.rlemask import RLEMask, _shape

__all__ = ["KaggleFormatError", "decode", "encode", "from_rle", "to_rle"]

Order = Literal["C", "F"]

_U32_MAX = (1 << 32) - 1


class KaggleFormatError(FormatError):
    """A start/length string that is not pairs of positive integers in increasing,
    non-overlapping order inside the image (also a ValueError)."""


def _order(order: Any) -> str:
    if order not in ("C", "F"):
        raise ArgumentError(f"order must be 'C' (row by row) or 'F' (column by column), "
                            f"got {order!r}")
    return str(order)


def _pairs(text: Any, n_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """(starts, lengths), 0-based int64, of a start/length string, validated."""
    if text is None or (isinstance(text, float) and text != text):  # pandas' empty cell
        text = ""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        raise KaggleFormatError(f"a start/length string must be a str, got "
                                f"{type(text).__name__}")
    words = text.split()
    if len(words) % 2:
        raise KaggleFormatError(f"a start/length string holds pairs; it has {len(words)} "
                                "numbers")
    if not all(w.isdigit() and w.isascii() for w in words):
        bad = next(w for w in words if not (w.isdigit() and w.isascii()))
        raise KaggleFormatError(f"not a non-negative integer in the start/length string: "
                                f"{bad[:20]!r}")
    if any(len(w) > 18 for w in words):  # far past any image; keeps int64 exact
        raise KaggleFormatError("a start or length beyond every image size")
    v = np.array(words, dtype=np.int64).reshape(-1, 2)
    starts, lengths = v[:, 0] - 1, v[:, 1]
    if len(v) and starts.min() < 0:
        raise KaggleFormatError("starts are 1-based: a start of 0")
    if len(v) and lengths.min() < 1:
        raise KaggleFormatError("a run of length 0")
    ends = starts + lengths
    if len(v) > 1 and (starts[1:] < ends[:-1]).any():
        k = int(np.flatnonzero(starts[1:] < ends[:-1])[0]) + 1
        raise KaggleFormatError(f"run {k + 1} (start {int(starts[k]) + 1}) begins before run "
                                f"{k} ends: runs must be in increasing order, apart")
    if len(v) and int(ends[-1]) > n_pixels:
        raise KaggleFormatError(f"a run ends at pixel {int(ends[-1])}, past the "
                                f"{n_pixels} pixels of the image")
    return starts, lengths


def _counts(starts: np.ndarray, lengths: np.ndarray, n_pixels: int) -> np.ndarray:
    """Alternating background/foreground counts (uint32, from background) of the runs; a
    count of 2**32 or more becomes (2**32 - 1, 0, rest), as the kernel writes it."""
    c = np.empty(2 * len(starts) + 1, dtype=np.int64)
    ends = starts + lengths
    c[0:-1:2] = starts - np.concatenate([[0], ends[:-1]])
    c[1::2] = lengths
    c[-1] = n_pixels - (int(ends[-1]) if len(ends) else 0)
    if len(c) > 1 and c[-1] == 0:  # a mask that ends in foreground: no empty last run
        c = c[:-1]
    if len(c) and int(c.max()) > _U32_MAX:
        out: list[int] = []
        for x in c.tolist():
            while x > _U32_MAX:
                out += [_U32_MAX, 0]
                x -= _U32_MAX
            out.append(x)
        c = np.array(out, dtype=np.int64)
    return c.astype(np.uint32)


def _text(counts: np.ndarray) -> str:
    """The start/length string of alternating counts (from background)."""
    c = counts.astype(np.int64)
    pos = np.concatenate([[0], np.cumsum(c)])
    starts, lengths = pos[1::2][: len(c) // 2], c[1::2]
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    if len(starts) > 1:  # a run split by an empty gap ((2**32 - 1, 0, ...) counts) is one
        first = np.concatenate([[True], starts[1:] != (starts + lengths)[:-1]])
        lengths = np.add.reduceat(lengths, np.flatnonzero(first))
        starts = starts[first]
    return " ".join(map(str, np.column_stack([starts + 1, lengths]).reshape(-1).tolist()))


def to_rle(text: Any, /, shape: Any, *, order: Order) -> dict[str, Any]:
    """COCO RLE of a start/length string for a mask of ``shape``: ``{"size": [h, w],
    "counts": str}`` (the counts string as text, ready for JSON).

    Raises
    ------
    KaggleFormatError
        If the string is not increasing, non-overlapping pairs inside the image.
    ArgumentError
        If ``order`` is not "C" or "F".
    """
    o = _order(order)
    h, w = _shape(shape)
    counts = _counts(*_pairs(text, h * w), h * w)
    m = RLEMask.from_counts(counts, (h, w) if o == "F" else (w, h))
    return (m if o == "F" else m.transpose()).to_dict()


def from_rle(rle: Any, /, *, order: Order) -> str:
    """The start/length string of a COCO RLE (compressed or uncompressed counts)."""
    o = _order(order)
    m = RLEMask.from_dict(rle)
    return _text((m if o == "F" else m.transpose()).counts)


def decode(text: Any, /, shape: Any, *, order: Order) -> np.ndarray:
    """The (h, w) bool mask (C-ordered) of a start/length string."""
    o = _order(order)
    h, w = _shape(shape)
    starts, lengths = _pairs(text, h * w)
    flat = np.zeros(h * w, dtype=np.int8)
    np.add.at(flat, starts, 1)  # +1 where a run starts, -1 where it ends: a prefix sum
    ends = starts + lengths
    np.add.at(flat, ends[ends < h * w], -1)
    on = np.cumsum(flat, dtype=np.int8).astype(bool)
    return on.reshape(h, w) if o == "C" else np.ascontiguousarray(on.reshape(w, h).T)


def encode(mask: Any, /, *, order: Order) -> str:
    """The start/length string of a 2-D mask (nonzero is foreground)."""
    o = _order(order)
    m = RLEMask.from_array(mask)
    return _text((m if o == "F" else m.transpose()).counts)

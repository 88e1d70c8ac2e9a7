"""Benchmarks for maskcodecs.coco (label map -> RLEs), the PNG reader and maskcodecs.encord.

Run: ``PYTHONPATH=src python -m pytest benchmarks/bench_formats.py --benchmark-only``
(``--benchmark-group-by=group`` shows each task's implementations side by side).

Peers:
* label map -> RLEs: the common recipe, ``np.unique`` then, per value, a full-image
  comparison and ``pycocotools.mask.encode(np.asfortranarray(...))``;
* Encord rleString at 4K: a pure-numpy ``np.repeat`` codec (the approach proposed in
  encord-client-python issue #1005, with a Python string codec), and pycocotools on the
  transposed mask.
"""
from __future__ import annotations

import numpy as np
import pycocotools.mask as pcm
import pytest

from maskcodecs import coco, encord

# ---------------------------------------------------------------------------------------------
# inputs (built once, outside the timed calls)
# ---------------------------------------------------------------------------------------------


def _discs(h: int, w: int, n: int, seed: int) -> np.ndarray:
    """int32 label map with n overlapping discs labelled 1..n on background 0."""
    rng = np.random.default_rng(seed)
    lab = np.zeros((h, w), dtype=np.int32)
    yy, xx = np.ogrid[:h, :w]
    for i in range(1, n + 1):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        r = rng.integers(max(2, min(h, w) // 20), max(3, min(h, w) // 6))
        lab[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = i
    return lab


LABELS_VGA = _discs(480, 640, 20, 0)
_PALETTE = np.random.default_rng(2).integers(1, 256, (21, 3), dtype=np.uint8)
_PALETTE[0] = 0
COLOURS_VGA = _PALETTE[LABELS_VGA]  # (480, 640, 3) uint8 panoptic-style colour map
MASK_4K = _discs(2160, 3840, 5, 1) > 0
STRING_4K = encord.encode(MASK_4K)


# ---------------------------------------------------------------------------------------------
# label map -> one RLE per value
# ---------------------------------------------------------------------------------------------

def labels_recipe(lab: np.ndarray) -> list[dict]:
    out = []
    for v in np.unique(lab):
        if v == 0:
            continue
        out.append(pcm.encode(np.asfortranarray((lab == v).astype(np.uint8))))
    return out


def labels_ours(lab: np.ndarray) -> list[dict]:
    return [s.rle for s in coco.segments_from_label_map(lab)]


@pytest.mark.benchmark(group="labelmap 480x640, 20 instances")
@pytest.mark.parametrize("impl", ["maskcodecs", "unique+pycocotools"])
def test_label_map_vga(benchmark, impl: str) -> None:
    fn = labels_ours if impl == "maskcodecs" else labels_recipe
    out = benchmark(fn, LABELS_VGA)
    assert [r["counts"] for r in out] == [r["counts"] for r in labels_recipe(LABELS_VGA)]


def colours_recipe(img: np.ndarray) -> list[dict]:
    """panopticapi's rgb2id, then the label-map recipe."""
    i = img.astype(np.uint32)
    return labels_recipe(i[..., 0] + 256 * i[..., 1] + 256 * 256 * i[..., 2])


def colours_ours(img: np.ndarray) -> list[dict]:
    return [s.rle for s in coco.segments_from_colour_map(img)]


@pytest.mark.benchmark(group="colourmap 480x640, 20 instances")
@pytest.mark.parametrize("impl", ["maskcodecs", "rgb2id+unique+pycocotools"])
def test_colour_map_vga(benchmark, impl: str) -> None:
    fn = colours_ours if impl == "maskcodecs" else colours_recipe
    out = benchmark(fn, COLOURS_VGA)
    assert [r["counts"] for r in out] == [r["counts"] for r in colours_recipe(COLOURS_VGA)]


# ---------------------------------------------------------------------------------------------
# PNG mask files -> pixels (maskcodecs' reader vs Pillow, same bytes)
# ---------------------------------------------------------------------------------------------

def _png_bytes(a: np.ndarray, **save: object) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG", **save)
    return buf.getvalue()


PNGS = {"label map L 480x640": _png_bytes(LABELS_VGA.astype(np.uint8)),
        "colour map RGB 480x640": _png_bytes(COLOURS_VGA),
        "binary 1-bit 480x640": _png_bytes(LABELS_VGA > 0)}


def png_pillow(data: bytes) -> np.ndarray:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im)


def png_ours(data: bytes) -> np.ndarray:
    from maskcodecs._png import decode_png

    got = decode_png(data)
    assert got is not None
    return got[0]


@pytest.mark.parametrize("case", sorted(PNGS))
@pytest.mark.parametrize("impl", ["maskcodecs", "Pillow"])
def test_png_read(benchmark, case: str, impl: str) -> None:
    pytest.importorskip("PIL")
    benchmark.group = f"PNG read, {case}"
    data = PNGS[case]
    out = benchmark(png_ours if impl == "maskcodecs" else png_pillow, data)
    np.testing.assert_array_equal(out, png_pillow(data))


# ---------------------------------------------------------------------------------------------
# Encord rleString at 4K (2160 x 3840)
# ---------------------------------------------------------------------------------------------

def _py_string_to_counts(s: str) -> list[int]:
    counts: list[int] = []
    p = 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def _py_counts_to_string(counts: list[int]) -> str:
    out = []
    for i, c in enumerate(counts):
        x = c - counts[i - 2] if i > 2 else c
        more = True
        while more:
            g = x & 0x1F
            x >>= 5
            more = (x != -1) if g & 0x10 else (x != 0)
            out.append(chr((g | 0x20 if more else g) + 48))
    return "".join(out)


def numpy_decode(s: str, h: int, w: int) -> np.ndarray:
    counts = np.array(_py_string_to_counts(s), dtype=np.int64)
    values = (np.arange(len(counts)) % 2).astype(bool)
    flat = np.repeat(values, counts)
    return np.pad(flat, (0, h * w - flat.size)).reshape(h, w)


def numpy_encode(m: np.ndarray) -> str:
    flat = np.ascontiguousarray(m).reshape(-1).view(np.uint8)
    edges = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], edges, [flat.size]))
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts.insert(0, 0)
    return _py_counts_to_string(counts)


def pycoco_decode(s: str, h: int, w: int) -> np.ndarray:
    return pcm.decode({"size": [w, h], "counts": s}).T


def pycoco_encode(m: np.ndarray) -> str:
    return pcm.encode(np.asfortranarray(m.T.view(np.uint8)))["counts"].decode()


DECODERS = {"maskcodecs": encord.decode, "numpy-repeat": numpy_decode,
            "pycocotools-transposed": pycoco_decode}
ENCODERS = {"maskcodecs": encord.encode, "numpy-repeat": numpy_encode,
            "pycocotools-transposed": pycoco_encode}


@pytest.mark.benchmark(group="encord decode 2160x3840")
@pytest.mark.parametrize("impl", sorted(DECODERS))
# pycocotools' decode trips a numpy 2 DeprecationWarning (its Cython __array__)
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_encord_decode_4k(benchmark, impl: str) -> None:
    out = benchmark(DECODERS[impl], STRING_4K, 2160, 3840)
    assert (np.asarray(out) == MASK_4K).all()


@pytest.mark.benchmark(group="encord encode 2160x3840")
@pytest.mark.parametrize("impl", sorted(ENCODERS))
def test_encord_encode_4k(benchmark, impl: str) -> None:
    assert benchmark(ENCODERS[impl], MASK_4K) == STRING_4K

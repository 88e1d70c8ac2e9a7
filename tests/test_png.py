"""maskcodecs._png: the fast PNG reader gives Pillow's pixels or steps aside (None).

Files are made three ways: by a PNG writer in this file that picks each row's filter type at
random (so all five filters and every layout are exercised, which Pillow's and libpng's
writers do not guarantee), by Pillow, and by OpenCV (libpng). Every decoded array is compared
with Pillow's; damaged files must either go to Pillow (None) or decode exactly as Pillow does.
"""
from __future__ import annotations

import io
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import realdata
from hypothesis import given, settings
from hypothesis import strategies as st

from maskcodecs import _rle_core as core
from maskcodecs._png import SIGNATURE, decode_png

Image = pytest.importorskip("PIL.Image")

# (depth, colour type) -> samples per pixel, for the writer below
SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
SUPPORTED = [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (8, 2), (1, 3), (2, 3), (4, 3), (8, 3),
             (8, 4), (8, 6)]


def chunk(ctype: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    c = zlib.crc32(body, zlib.crc32(ctype)) if crc is None else crc
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", c)


def _paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    a, b, c = (x.astype(np.int32) for x in (a, b, c))
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def filter_rows(rows: np.ndarray, bpp: int, filters: list[int]) -> bytes:
    """PNG-filter each row of `rows` (h, rb) with the given filter types (the encoder side)."""
    out = bytearray()
    up = np.zeros(rows.shape[1], np.int32)
    for y, f in enumerate(filters):
        x = rows[y].astype(np.int32)
        left = np.concatenate([np.zeros(bpp, np.int32), x[:-bpp]])[:len(x)]
        upleft = np.concatenate([np.zeros(bpp, np.int32), up[:-bpp]])[:len(x)]
        pred = [0, left, up, (left + up) // 2, _paeth(left, up, upleft)][f]
        out.append(f)
        out += ((x - pred) % 256).astype(np.uint8).tobytes()
        up = x
    return bytes(out)


def make_png(rows: np.ndarray, w: int, depth: int, colour: int, filters: list[int], *,
             before: bytes = b"", after: bytes = b"", interlace: int = 0,
             idat_parts: int = 1, stream: bytes | None = None) -> bytes:
    h = rows.shape[0]
    bpp = max(1, depth * SAMPLES[colour] // 8)
    data = zlib.compress(filter_rows(rows, bpp, filters)) if stream is None else stream
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace)
    plte = chunk(b"PLTE", bytes(range(48))) if colour == 3 else b""
    cut = np.linspace(0, len(data), idat_parts + 1).astype(int)
    idats = b"".join(chunk(b"IDAT", data[cut[i]:cut[i + 1]]) for i in range(idat_parts))
    return SIGNATURE + chunk(b"IHDR", ihdr) + before + plte + idats + after + \
        chunk(b"IEND", b"")


def pillow(data: bytes) -> tuple[np.ndarray, str]:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return np.asarray(im), im.mode


def assert_same_as_pillow(data: bytes) -> None:
    got = decode_png(data)
    assert got is not None
    want, mode = pillow(data)
    assert got[1] == mode
    assert got[0].dtype == want.dtype and got[0].shape == want.shape
    np.testing.assert_array_equal(got[0], want)


@st.composite
def layouts(draw):  # type: ignore[no-untyped-def]
    depth, colour = draw(st.sampled_from(SUPPORTED))
    h = draw(st.integers(1, 12))
    w = draw(st.integers(1, 40))
    rb = (w * depth * SAMPLES[colour] + 7) // 8
    kind = draw(st.sampled_from(["random", "flat", "blocks"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "random":
        rows = rng.integers(0, 256, (h, rb), dtype=np.uint8)
    elif kind == "flat":
        rows = np.full((h, rb), rng.integers(0, 256), np.uint8)
    else:  # label-map-like: long equal stretches, so the 8-byte fast paths run
        rows = np.repeat(rng.integers(0, 256, (h, (rb + 9) // 10), dtype=np.uint8), 10,
                         axis=1)[:, :rb]
        rows[1::2] = rows[::2][:len(rows[1::2])]
    filters = draw(st.lists(st.integers(0, 4), min_size=h, max_size=h))
    return rows, w, depth, colour, filters


@settings(max_examples=400, deadline=None)
@given(layouts())
def test_random_filters_match_pillow(case) -> None:  # type: ignore[no-untyped-def]
    rows, w, depth, colour, filters = case
    assert_same_as_pillow(make_png(rows, w, depth, colour, filters))


@pytest.mark.parametrize("depth,colour", SUPPORTED)
@pytest.mark.parametrize("f", range(5))
def test_each_filter_each_layout(depth: int, colour: int, f: int) -> None:
    rng = np.random.default_rng(depth * 10 + colour + 100 * f)
    w, h = 67, 9
    rb = (w * depth * SAMPLES[colour] + 7) // 8
    rows = rng.integers(0, 256, (h, rb), dtype=np.uint8)
    rows[3:6] = rows[2]  # repeated rows and flat stretches for the fast paths
    rows[:, 20:50] = rows[:, 20:21]
    assert_same_as_pillow(make_png(rows, w, depth, colour, [f] * h))
    assert_same_as_pillow(make_png(rows, w, depth, colour, [f] * h, idat_parts=3))


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "I;16"])
@pytest.mark.parametrize("optimize", [False, True])
def test_pillow_written(mode: str, optimize: bool) -> None:
    rng = np.random.default_rng(7)
    lab = np.repeat(np.repeat(rng.integers(0, 6, (12, 16)), 7, 0), 9, 1)
    if mode == "I;16":
        im = Image.fromarray((lab * 9000).astype(np.uint16))
    else:
        im = Image.fromarray((lab * 40).astype(np.uint8)).convert(mode)
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=optimize)
    assert_same_as_pillow(buf.getvalue())


def test_pillow_palette_low_bit_depths() -> None:
    for colours in (2, 4, 16, 200):
        a = (np.arange(31 * 13).reshape(13, 31) % colours).astype(np.uint8)
        im = Image.fromarray(a, "P")
        im.putpalette(list(range(256)) * 3)
        buf = io.BytesIO()
        im.save(buf, "PNG", bits=max(1, int(np.ceil(np.log2(colours)))))
        assert_same_as_pillow(buf.getvalue())


def test_opencv_written() -> None:
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(3)
    for arr in (rng.integers(0, 4, (50, 61)).astype(np.uint8) * 60,
                rng.integers(0, 255, (20, 33, 3)).astype(np.uint8),
                rng.integers(0, 65535, (17, 9)).astype(np.uint16)):
        for level in (0, 1, 9):
            ok, enc = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, level])
            assert ok
            assert_same_as_pillow(enc.tobytes())


def test_harmless_chunks_are_skipped() -> None:
    rows = np.arange(40, dtype=np.uint8).reshape(4, 10)
    before = chunk(b"gAMA", struct.pack(">I", 45455)) + chunk(b"tEXt", b"k\0v") + \
        chunk(b"pHYs", bytes(9)) + chunk(b"tRNS", b"\0\1")
    assert_same_as_pillow(make_png(rows, 10, 8, 0, [4] * 4, before=before,
                                   after=chunk(b"tIME", bytes(7))))


@pytest.mark.parametrize("case", [
    "interlaced", "rgb16", "la16", "short-trns", "unknown-chunk", "critical-unknown",
    "apng", "plte-missing", "bad-crc", "idat-split-by-chunk", "trailing-image-data",
    "short-image-data", "not-png", "bad-filter"])
def test_steps_aside(case: str) -> None:
    """Layouts it does not do and damaged files go to Pillow (None), never wrong pixels."""
    rows = np.arange(40, dtype=np.uint8).reshape(4, 10)
    raw = filter_rows(rows, 1, [0] * 4)
    kw: dict = {}
    depth, colour, w = 8, 0, 10
    if case == "interlaced":
        kw["interlace"] = 1
    elif case == "rgb16":
        depth, colour, w = 16, 2, 1
        rows = rows[:, :6]
    elif case == "la16":
        depth, colour, w = 16, 4, 2
        rows = rows[:, :8]
    elif case == "short-trns":
        kw["before"] = chunk(b"tRNS", b"\0")
    elif case == "unknown-chunk":
        kw["before"] = chunk(b"zTXt", b"k\0\0" + zlib.compress(b"v"))
    elif case == "critical-unknown":
        kw["before"] = chunk(b"ABCD", b"")
    elif case == "apng":
        kw["before"] = chunk(b"acTL", bytes(8))
    elif case == "plte-missing":
        data = make_png(rows, 10, 8, 3, [0] * 4)
        data = data.replace(chunk(b"PLTE", bytes(range(48))), b"")
        assert decode_png(data) is None
        return
    elif case == "bad-crc":
        data = make_png(rows, 10, 8, 0, [0] * 4)
        i = data.index(b"IDAT") + 6
        data = data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]
        assert decode_png(data) is None
        return
    elif case == "idat-split-by-chunk":
        data = make_png(rows, 10, 8, 0, [0] * 4, idat_parts=2)
        i = data.rindex(b"IDAT") - 4
        data = data[:i] + chunk(b"tEXt", b"k\0v") + data[i:]
        assert decode_png(data) is None
        return
    elif case == "trailing-image-data":
        kw["stream"] = zlib.compress(raw + b"\0" * 11)
    elif case == "short-image-data":
        kw["stream"] = zlib.compress(raw[:-1])
    elif case == "not-png":
        assert decode_png(b"\xff\xd8\xff" + bytes(100)) is None
        assert decode_png(b"") is None
        return
    elif case == "bad-filter":
        kw["stream"] = zlib.compress(raw[:11] + b"\x05" + raw[12:])
    assert decode_png(make_png(rows, w, depth, colour, [0] * rows.shape[0], **kw)) is None


def test_truncated_files_step_aside() -> None:
    data = make_png(np.arange(400, dtype=np.uint8).reshape(20, 20), 20, 8, 0, [1, 2, 3, 4] * 5)
    for n in range(len(data) - 12):  # anything cut before IEND
        assert decode_png(data[:n]) is None


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_files_never_disagree_with_pillow(data: st.DataObject) -> None:
    """Flip, drop or insert bytes anywhere: None, or exactly Pillow's pixels."""
    rows = np.repeat(np.arange(12, dtype=np.uint8).reshape(3, 4), 5, axis=1)
    png = bytearray(make_png(rows, 20, 8, 0, [0, 1, 4]))
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(png) - 1))
        op = data.draw(st.sampled_from(["flip", "drop", "insert"]))
        if op == "flip":
            png[i] ^= data.draw(st.integers(1, 255))
        elif op == "drop":
            del png[i]
        else:
            png.insert(i, data.draw(st.integers(0, 255)))
    got = decode_png(bytes(png))
    if got is not None:
        want, mode = pillow(bytes(png))
        assert got[1] == mode
        np.testing.assert_array_equal(got[0], want)


def decode_with_peak(data: bytes) -> tuple[object, int]:
    """decode_png(data) and the peak of Python's allocations during it (tracemalloc)."""
    tracemalloc.start()
    try:
        result = decode_png(data)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_inflation_bomb_is_bounded() -> None:
    """A stream far longer than the image (here 64 MB of zeros for a 4-byte image) is refused
    after inflating at most what the header allows."""
    bomb = zlib.compress(bytes(64 << 20), 9)
    data = make_png(np.zeros((1, 4), np.uint8), 4, 8, 0, [0], stream=bomb)
    result, peak = decode_with_peak(data)
    assert result is None
    assert peak < 4 << 20


def test_huge_header_with_little_data_allocates_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """With Pillow's limit switched off, a 2**30 x 2**30 header over a few bytes of data is
    refused before anything of the header's size is allocated."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    data = make_png(np.zeros((1, 4), np.uint8), 4, 8, 0, [0])
    i = data.index(b"IHDR")
    ihdr = struct.pack(">IIBBBBB", 2**30, 2**30, 8, 6, 0, 0, 0)
    data = data[:i - 4] + chunk(b"IHDR", ihdr) + data[i + 4 + 13 + 4:]
    result, peak = decode_with_peak(data)
    assert result is None
    assert peak < 1 << 20


def test_pillow_pixel_limit_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_png(np.zeros((10, 10), np.uint8), 10, 8, 0, [0] * 10)
    assert decode_png(data) is not None
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40)  # Pillow would now warn or refuse
    assert decode_png(data) is None


def test_unfilter_checks_its_buffers() -> None:
    with pytest.raises(ValueError):
        core.png_unfilter(bytes(11), bytearray(10), 1, 10, 0)
    with pytest.raises(ValueError):
        core.png_unfilter(bytes(10), bytearray(10), 1, 10, 1)
    with pytest.raises(ValueError):
        core.png_unfilter(bytes(11), bytearray(9), 1, 10, 1)
    assert core.png_unfilter(b"\x07" + bytes(10), bytearray(10), 1, 10, 1) == 0
    assert core.png_unfilter(b"", bytearray(0), 0, 10, 1) == -1


def test_real_pngs_match_pillow() -> None:
    """Every PNG in the real third-party data decodes as Pillow decodes it (those the fast
    path takes); at least the panoptic label PNGs must take it."""
    root = realdata()
    taken = 0
    for p in sorted(Path(root).rglob("*.png")):
        data = p.read_bytes()
        got = decode_png(data)
        if got is None:
            continue
        taken += 1
        want, mode = pillow(data)
        assert got[1] == mode, p
        np.testing.assert_array_equal(got[0], want, err_msg=str(p))
    assert taken > 0

"""A fast reader for the PNG layouts masks are stored in, giving exactly Pillow's pixels.

Mask PNGs are small once compressed (a 480x640 label map is a few kB) and most of the time
Pillow spends on them is its own machinery around zlib. This module reads the chunks itself,
inflates the image data with the standard :mod:`zlib` module and undoes the row filters in
the extension (``_rle_core.png_unfilter``). It returns the same array as
``np.asarray(PIL.Image.open(...))`` and the same mode name, or ``None`` whenever the file is
anything but a plain, intact, non-interlaced PNG of a supported layout (bad checksum,
truncation, trailing image data, an unusual chunk, APNG, 16-bit colour, a size above Pillow's
decompression-bomb limit...). The caller then hands the file to Pillow, so every file gives
the result, warning or error that Pillow gives; this module never raises for bad data.
"""
from __future__ import annotations

import struct
import zlib
from typing import Union

import numpy as np

from maskcodecs import _rle_core as _core

SIGNATURE = b"\x89PNG\r\n\x1a\n"
Buffer = Union[bytes, bytearray, memoryview]

# (bit depth, colour type) -> (Pillow mode, samples per pixel)
_LAYOUTS = {
    (1, 0): ("1", 1), (2, 0): ("L", 1), (4, 0): ("L", 1), (8, 0): ("L", 1),
    (16, 0): ("I;16", 1),
    (8, 2): ("RGB", 3),
    (1, 3): ("P", 1), (2, 3): ("P", 1), (4, 3): ("P", 1), (8, 3): ("P", 1),
    (8, 4): ("LA", 2),
    (8, 6): ("RGBA", 4),
}

# Ancillary chunks that Pillow reads without changing the pixels or failing, when their length
# is in the given set (None: any length). Any other chunk sends the file to Pillow.
_HARMLESS: dict[bytes, frozenset[int] | None] = {
    b"gAMA": frozenset({4}), b"sRGB": frozenset({1}), b"pHYs": frozenset({9}),
    b"tIME": None, b"tEXt": None, b"bKGD": None, b"sBIT": None,
}
_HEADER = struct.Struct(">IIBBBBB")
_CHUNK = struct.Struct(">I4s")
_CRC = struct.Struct(">I")
_MAX_CHUNK = 2**31 - 1
_MAX_RATIO = 1032  # deflate's densest coding: a 258-byte match in about 2 bits


def _harmless(ctype: bytes, length: int, colour: int, after_image: bool) -> bool:
    """Whether a chunk other than IHDR/IDAT/IEND leaves Pillow's pixels and success alone."""
    if ctype == b"PLTE":
        return colour == 3 and not after_image
    if ctype == b"tRNS":  # Pillow raises on a short one; it is ignored with an alpha channel
        need = {0: 2, 2: 6, 3: 0}.get(colour)
        return need is not None and length >= need and not after_image
    if ctype not in _HARMLESS:
        return False
    lengths = _HARMLESS[ctype]
    return lengths is None or length in lengths


def _pixel_limit() -> int | None:
    """Pillow's decompression-bomb limit (it may have been changed by the application)."""
    try:
        from PIL import Image
    except ImportError:
        return 89_478_485
    return Image.MAX_IMAGE_PIXELS


def decode_png(data: Buffer, /) -> tuple[np.ndarray, str] | None:
    """Decode PNG bytes to ``(array, Pillow mode)``, or None when Pillow should do it.

    Parameters
    ----------
    data : bytes-like
        The whole file.

    Returns
    -------
    tuple of (numpy.ndarray, str) or None
        What ``np.asarray(PIL.Image.open(BytesIO(data)))`` and ``.mode`` give: a 2-D array
        for the grey, palette ("P", the indices) and bilevel ("1", bool) layouts, 16-bit grey
        as native-order uint16 ("I;16"), (h, w, 2|3|4) uint8 for "LA", "RGB", "RGBA".
    """
    mv = memoryview(data).cast("B")
    n = mv.nbytes
    if n < 8 + 25 or mv[:8] != SIGNATURE:
        return None
    pos = 8
    header: tuple[int, ...] | None = None
    idat: list[memoryview] = []
    idat_closed = False
    has_palette = False
    while True:
        if pos + 12 > n:
            return None
        length, ctype = _CHUNK.unpack_from(mv, pos)
        end = pos + 12 + length
        if length > _MAX_CHUNK or end > n:
            return None
        body = mv[pos + 8:pos + 8 + length]
        if zlib.crc32(body, zlib.crc32(ctype)) != _CRC.unpack_from(mv, end - 4)[0]:
            return None
        if header is None:
            if ctype != b"IHDR" or length != 13:
                return None
            header = _HEADER.unpack(body)
        elif ctype == b"IDAT":
            if idat_closed:
                return None
            idat.append(body)
        elif ctype == b"IEND":
            break
        else:
            idat_closed = bool(idat)
            if not _harmless(ctype, length, header[3], idat_closed):
                return None
            has_palette = has_palette or ctype == b"PLTE"
        pos = end
    if header is None or not idat:
        return None
    w, h, depth, colour, method, filt, interlace = header
    layout = _LAYOUTS.get((depth, colour))
    if layout is None or method or filt or interlace or not (0 < w < 2**31 and 0 < h < 2**31):
        return None
    if colour == 3 and not has_palette:
        return None
    limit = _pixel_limit()
    if limit is not None and w * h > limit:
        return None
    mode, samples = layout
    bits = depth * samples
    rb = (w * bits + 7) // 8
    expected = h * (rb + 1)
    raw = _inflate(b"".join(idat), expected)
    if raw is None:
        return None
    out = np.empty(h * rb, dtype=np.uint8)
    if _core.png_unfilter(raw, out, h, rb, max(1, bits // 8)) >= 0:
        return None
    return _unpack(out.reshape(h, rb), w, depth, samples, mode), mode


def _inflate(stream: bytes, expected: int) -> bytes | None:
    """The inflated image data if the zlib stream holds exactly `expected` bytes, else None
    (bytes after the end of the stream are ignored, as Pillow does). Memory stays within a
    few times `expected` whatever the data: one-shot inflation (fastest: the buffer is sized
    once) only when even the densest deflate stream of this length (about 1032:1) could not
    go far past it, else bounded incremental inflation."""
    if expected > _MAX_RATIO * (len(stream) + 1):
        return None  # more than any deflate stream of this length can hold: truncated
    try:
        if len(stream) * _MAX_RATIO <= 4 * expected + (16 << 20):
            raw = zlib.decompress(stream, bufsize=expected)
            return raw if len(raw) == expected else None
        z = zlib.decompressobj()
        raw = z.decompress(stream, expected)
        if len(raw) != expected or not z.eof or z.unconsumed_tail:
            return None
        return raw
    except zlib.error:
        return None


def _unpack(rows: np.ndarray, w: int, depth: int, samples: int, mode: str) -> np.ndarray:
    """Reconstructed rows -> the array Pillow gives for this layout."""
    if depth == 8:
        return rows if samples == 1 else rows.reshape(rows.shape[0], w, samples)
    if depth == 16:
        return rows.view(">u2").astype(np.uint16)
    if depth == 1:
        bits = np.unpackbits(rows, axis=1, count=w)
        return bits.view(np.bool_) if mode == "1" else bits
    per = 8 // depth
    shifts = np.arange(8 - depth, -1, -depth, dtype=np.uint8)
    vals = (rows[:, :, None] >> shifts) & np.uint8((1 << depth) - 1)
    vals = vals.reshape(rows.shape[0], rows.shape[1] * per)[:, :w]
    if mode == "L":  # Pillow stretches 2- and 4-bit grey to 0..255
        vals = vals * np.uint8(255 // ((1 << depth) - 1))
    return np.ascontiguousarray(vals)


# -- writing -----------------------------------------------------------------------------------
# (dtype, channels) -> (bit depth, colour type)
_WRITE_LAYOUTS = {("u1", 1): (8, 0), ("u1", 3): (8, 2), ("u1", 4): (8, 6), ("u2", 1): (16, 0)}


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return _CHUNK.pack(len(body), ctype) + body + _CRC.pack(zlib.crc32(body, zlib.crc32(ctype)))


def encode_png(arr: np.ndarray, /, *, level: int = 6) -> bytes:
    """PNG bytes of a mask image, without Pillow: (h, w) uint8 (grey, "L"), (h, w) uint16
    (16-bit grey, "I;16"), (h, w, 3) or (h, w, 4) uint8 ("RGB", "RGBA"), bool as 0/1 grey.

    Every row uses the "sub" filter (flat regions become runs of zeros, which is what label
    and colour maps are made of) and zlib at ``level``; the pixels read back, by this
    module or by Pillow, are exactly ``arr``'s.
    """
    a = np.asarray(arr)
    if a.dtype == np.bool_:
        a = a.view(np.uint8)
    channels = 1 if a.ndim == 2 else a.shape[-1] if a.ndim == 3 else 0
    layout = _WRITE_LAYOUTS.get((f"{a.dtype.kind}{a.dtype.itemsize}", channels))
    if layout is None:
        from maskcodecs.errors import MaskDtypeError
        raise MaskDtypeError(f"encode_png writes (h, w) uint8/uint16 or (h, w, 3|4) uint8, "
                             f"got {a.shape} {a.dtype}")
    h, w = a.shape[:2]
    depth, colour = layout
    rows = np.ascontiguousarray(a.astype(">u2") if depth == 16 else a).view(np.uint8)
    rows = rows.reshape(h, -1)
    step = rows.shape[1] // max(w, 1)  # bytes per pixel
    filtered = np.empty((h, rows.shape[1] + 1), dtype=np.uint8)
    filtered[:, 0] = 1  # sub: each byte minus the byte one pixel to its left
    filtered[:, 1:1 + step] = rows[:, :step]
    np.subtract(rows[:, step:], rows[:, :-step], out=filtered[:, 1 + step:])
    header = _HEADER.pack(w, h, depth, colour, 0, 0, 0)
    return (SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(filtered.tobytes(), level)) + _chunk(b"IEND", b""))

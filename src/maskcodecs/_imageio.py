"""Reading images through Pillow (an optional dependency) with maskcodecs' errors."""
from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, Union

import numpy as np

from maskcodecs._optional import require
from maskcodecs._png import SIGNATURE, decode_png
from maskcodecs.errors import (
    ImageReadError,
    ImageTooLargeError,
    MaskCodecError,
)

_STREAM_REPR = re.compile(r"<_io\.\w+ object at 0x[0-9a-fA-F]+>")

Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]


def pillow() -> Any:
    """The PIL.Image module, or OptionalDependencyError (an ImportError) when it is missing."""
    return require("PIL.Image", "reading this image (numpy arrays and plain PNGs work "
                   "without it)")


@contextmanager
def open_image(source: Source, *, name: str | None = None) -> Iterator[Any]:
    """Open image bytes or a file with Pillow; a file that is missing or unreadable raises
    as usual (FileNotFoundError...), data that does not decode raises ImageReadError, also
    when the pixels are decoded inside the ``with`` block. `name` names the image in errors."""
    image = pillow()
    data = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) \
        else source
    if name is None:
        name = "image bytes" if isinstance(data, io.BytesIO) else os.fspath(source)  # type: ignore[arg-type]
    try:
        with image.open(data) as im:
            yield im
    except (FileNotFoundError, PermissionError, IsADirectoryError, MaskCodecError):
        raise
    except image.DecompressionBombError as e:
        raise ImageTooLargeError(f"{name}: {e}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        reason = _STREAM_REPR.sub("it", str(e)) or type(e).__name__
        if reason.startswith("cannot identify image file"):
            reason = (f"not an image format Pillow knows, or damaged (it starts with "
                      f"{_head(source)!r})")
        raise ImageReadError(f"{name}: cannot decode the image ({reason})") from e


def _head(source: Source) -> bytes:
    """The first 16 bytes of image bytes or a file (b"" if unreadable)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[:16])
    try:
        with open(source, "rb") as f:
            return f.read(16)
    except OSError:
        return b""


def _check_png_depth(data: bytes, name: str) -> None:
    """16-bit colour PNGs (RGB, RGBA, grey + alpha): Pillow keeps only the high byte of each
    sample, so values below 256 would read as 0 and their masks vanish; refused instead."""
    if len(data) >= 26 and data[:8] == SIGNATURE and data[12:16] == b"IHDR" \
            and data[24] == 16 and data[25] in (2, 4, 6):
        raise ImageReadError(
            f"{name}: a 16-bit colour PNG (colour type {data[25]}); its samples would be cut "
            "to 8 bits (values below 256 read as 0); save it as 8-bit colour or 16-bit grey")


def read_pixels(source: Source, convert: Callable[[str], str | None] = lambda _mode: None
                ) -> tuple[np.ndarray, str, str]:
    """``(pixels, stored mode, format)`` of image bytes or an image file: ``np.array`` of the
    Pillow image, converted to the mode ``convert(stored mode)`` names (None keeps it). Plain
    PNGs that need no conversion are decoded by maskcodecs._png (same pixels, without
    Pillow's overhead, and without Pillow installed); every other file needs Pillow
    (OptionalDependencyError naming it otherwise)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "image bytes"
    else:
        name = os.fspath(source)
        with open(name, "rb") as f:
            data = f.read()
    _check_png_depth(data, name)
    fast = decode_png(data)
    if fast is not None and convert(fast[1]) in (None, fast[1]):
        return fast[0], fast[1], "PNG"
    with open_image(data, name=name) as im:
        target = convert(im.mode)
        pixels = np.array(im.convert(target) if target and target != im.mode else im)
        return pixels, im.mode, im.format


def read_array(source: Source, convert: Callable[[str], str | None] = lambda _mode: None
               ) -> np.ndarray:
    """The pixels of :func:`read_pixels`."""
    return read_pixels(source, convert)[0]

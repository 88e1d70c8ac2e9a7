"""Reading images through Pillow (an optional dependency) with maskcodecs' errors."""
from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, Union

import numpy as np

from maskcodecs._png import decode_png
from maskcodecs.errors import ImageReadError, MaskCodecError, OptionalDependencyError

Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]


def pillow() -> Any:
    """The PIL.Image module, or OptionalDependencyError (an ImportError) when it is missing."""
    try:
        from PIL import Image
    except ImportError as e:
        raise OptionalDependencyError(
            "reading or writing images needs Pillow (pip install 'maskcodecs[image]'); "
            "numpy arrays work without it") from e
    return Image


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
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageReadError(f"{name}: cannot decode the image ({e})") from e


def read_pixels(source: Source, convert: Callable[[str], str | None] = lambda _mode: None
                ) -> tuple[np.ndarray, str, str]:
    """``(pixels, stored mode, format)`` of image bytes or an image file: ``np.array`` of the
    Pillow image, converted to the mode ``convert(stored mode)`` names (None keeps it). Plain
    PNGs that need no conversion are decoded by maskcodecs._png (same pixels, without
    Pillow's overhead); Pillow is required either way, so which files can be read never
    depends on the path."""
    pillow()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "image bytes"
    else:
        name = os.fspath(source)
        with open(name, "rb") as f:
            data = f.read()
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

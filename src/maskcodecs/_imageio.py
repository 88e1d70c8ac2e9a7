"""Reading images through Pillow (an optional dependency) with maskcodecs' errors."""
from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Union

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
def open_image(source: Source) -> Iterator[Any]:
    """Open image bytes or a file with Pillow; a file that is missing or unreadable raises
    as usual (FileNotFoundError...), data that does not decode raises ImageReadError, also
    when the pixels are decoded inside the ``with`` block."""
    image = pillow()
    data = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) \
        else source
    name = "image bytes" if isinstance(data, io.BytesIO) else os.fspath(source)  # type: ignore[arg-type]
    try:
        with image.open(data) as im:
            yield im
    except (FileNotFoundError, PermissionError, IsADirectoryError, MaskCodecError):
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageReadError(f"{name}: cannot decode the image ({e})") from e

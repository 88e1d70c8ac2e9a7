"""Images that do not decode raise maskcodecs' ImageReadError (a ValueError and an OSError),
never a Pillow-specific exception; a missing file is still FileNotFoundError."""
from __future__ import annotations

import io

import numpy as np
import pytest

from maskcodecs import coco, labelbox
from maskcodecs.errors import ImageReadError, MaskCodecError

Image = pytest.importorskip("PIL.Image")


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


GOOD = _png(np.array([[0, 1], [1, 0]], dtype=np.uint8))
BAD = [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, GOOD[: len(GOOD) // 2]]


@pytest.mark.parametrize("data", BAD)
def test_corrupt_bytes(data):
    for fn in (lambda: labelbox.split(data, [(1, 1, 1)]),
               lambda: labelbox.png_to_mask(data),
               lambda: coco.segments_from_mask_image(data)):
        with pytest.raises(ImageReadError) as ei:
            fn()
        assert isinstance(ei.value, (ValueError, OSError, MaskCodecError))


def test_corrupt_file_and_missing_file(tmp_path):
    p = tmp_path / "m.png"
    p.write_bytes(GOOD[:30])
    with pytest.raises(ImageReadError, match="m.png"):
        labelbox.split(p, [(1, 1, 1)])
    with pytest.raises(ImageReadError):
        coco.segments_from_mask_image(p)
    with pytest.raises(FileNotFoundError):
        labelbox.split(tmp_path / "missing.png", [(1, 1, 1)])


def test_good_bytes_still_work():
    assert labelbox.png_to_mask(GOOD).tolist() == [[False, True], [True, False]]
    segs = coco.segments_from_mask_image(GOOD, threshold=0)
    assert [int(s.area) for s in segs] == [2]

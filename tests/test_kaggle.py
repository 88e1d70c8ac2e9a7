"""maskcodecs.kaggle: start/length strings against the reference encoder Kaggle notebooks
use (written here from its description: flatten in the competition's order, pad with a
background pixel at each end, positions where the value changes, every second one turned
into a length), both pixel orders, COCO RLE without decoding, and bad strings refused."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from maskcodecs import kaggle, mask, rle
from maskcodecs.errors import ArgumentError, FormatError


def reference_encode(m: np.ndarray, order: str) -> str:
    pixels = np.concatenate([[0], m.flatten(order=order).astype(np.int8), [0]])
    runs = np.flatnonzero(pixels[1:] != pixels[:-1]) + 1
    runs[1::2] -= runs[::2]
    return " ".join(str(x) for x in runs)


def reference_decode(text: str, shape: tuple[int, int], order: str) -> np.ndarray:
    v = [int(x) for x in text.split()]
    flat = np.zeros(shape[0] * shape[1], dtype=bool)
    for s, n in zip(v[0::2], v[1::2]):
        flat[s - 1:s - 1 + n] = True
    return flat.reshape(shape, order=order)


masks = hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=24))


@settings(max_examples=300, deadline=None)
@given(masks, st.sampled_from(["C", "F"]))
def test_round_trips_equal_the_reference(m, order):
    text = kaggle.encode(m, order=order)
    assert text == reference_encode(m, order)
    assert np.array_equal(kaggle.decode(text, m.shape, order=order), m)
    assert np.array_equal(reference_decode(text, m.shape, order), m)
    r = kaggle.to_rle(text, m.shape, order=order)
    ref = mask.encode(np.asfortranarray(m.astype(np.uint8)))  # the COCO RLE, exactly
    assert r == {"size": ref["size"], "counts": ref["counts"].decode()}
    assert kaggle.from_rle(r, order=order) == text
    assert kaggle.from_rle({"size": list(m.shape), "counts": rle.counts(r).tolist()},
                           order=order) == text  # uncompressed counts too


def test_the_two_orders_differ_and_the_order_is_never_guessed():
    m = np.zeros((3, 4), dtype=bool)
    m[0, 1:3] = True
    m[2, 0] = True
    assert kaggle.encode(m, order="C") == "2 2 9 1"
    assert kaggle.encode(m, order="F") == "3 2 7 1"  # (2, 0) and (0, 1) touch in F order
    with pytest.raises(TypeError):
        kaggle.encode(m)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        kaggle.decode("1 1", (2, 2))  # type: ignore[call-arg]
    for bad in ("c", "row", None):
        with pytest.raises(ArgumentError):
            kaggle.encode(m, order=bad)  # type: ignore[arg-type]


def test_long_runs_past_uint32_stay_in_the_run_domain():
    """A 70000 x 70000 mask (4.9e9 pixels, runs past 2**32) to COCO RLE and back without a
    pixel array: the long background run is the kernel's (2**32 - 1, 0, rest) form."""
    h = w = 70000
    text = f"1 5 {h * w - 9} 10"
    for order in ("C", "F"):
        r = kaggle.to_rle(text, (h, w), order=order)
        assert r["size"] == [h, w]
        assert kaggle.from_rle(r, order=order) == text
        assert int(mask.area(r)) == 15


@pytest.mark.parametrize("text, match", [
    ("1", "pairs"), ("1 2 3", "pairs"), ("0 3", "1-based"), ("1 0", "length 0"),
    ("1 3 2 2", "before run"), ("5 2 1 1", "before run"), ("1 x", "integer"),
    ("1 -2", "integer"), ("1.5 2", "integer"), ("10 8", "past the 16 pixels"),
    ("1 " + "9" * 30, "beyond"), ("\u0661 1", "integer")])
def test_bad_strings_are_a_clear_value_error(text, match):
    for fn in (lambda: kaggle.decode(text, (4, 4), order="C"),
               lambda: kaggle.to_rle(text, (4, 4), order="F")):
        with pytest.raises(kaggle.KaggleFormatError, match=match) as e:
            fn()
        assert isinstance(e.value, FormatError) and isinstance(e.value, ValueError)


def test_empty_strings_and_pandas_empty_cells_are_empty_masks():
    for empty in ("", "   ", None, float("nan")):
        assert not kaggle.decode(empty, (3, 2), order="C").any()
        assert kaggle.to_rle(empty, (3, 2), order="C") == {"size": [3, 2], "counts": "6"}
    with pytest.raises(kaggle.KaggleFormatError):
        kaggle.decode(12, (3, 2), order="C")  # type: ignore[arg-type]
    assert kaggle.decode(b"1 2", (1, 3), order="C").tolist() == [[True, True, False]]

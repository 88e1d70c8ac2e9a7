"""Every kernel path gives identical results: the scan paths of encode (contiguous stream,
contiguous columns, contiguous rows, general strides), both decode layouts, batches and
threads, against a plain-numpy reference written here."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskcodecs import _rle_core, rle
from maskcodecs import mask as M


def ref_counts(m: np.ndarray) -> list[int]:
    """Column-major runs of a 2-D mask (nonzero = foreground), starting with background."""
    flat = (np.asarray(m) != 0).reshape(-1, order="F").astype(np.int8)
    if flat.size == 0:
        return [0]
    change = np.flatnonzero(np.diff(np.concatenate([[0], flat, [2]])) != 0)
    # positions where the value changes; the sentinel 2 always closes the last run
    bounds = change.tolist()
    runs = np.diff([0] + bounds).tolist()
    if runs and runs[-1] == 0 and len(runs) > 1:
        runs = runs[:-1]
    return [int(r) for r in runs] if runs else [0]


def mask_from_seed(h, w, seed, density):
    rng = np.random.default_rng(seed)
    m = (rng.random((h, w)) < density).astype(np.uint8)
    if h and w and seed % 3 == 0:  # long runs crossing column boundaries
        m[:, : w // 2] = 1
    return m


masks = st.builds(mask_from_seed, st.integers(1, 90), st.integers(1, 90), st.integers(0, 10**6),
                  st.sampled_from([0.0, 0.02, 0.5, 0.98, 1.0]))


def layouts(m: np.ndarray):
    h, w = m.shape
    yield "fortran (one stream)", np.asfortranarray(m)
    big_f = np.zeros((h + 3, 2 * w), np.uint8, order="F")
    big_f[:h, ::2] = m
    yield "fortran columns (s0 == 1)", big_f[:h, ::2]
    yield "c order (rows)", np.ascontiguousarray(m)
    big_c = np.zeros((h, w + 5), np.uint8)
    big_c[:, :w] = m
    yield "c rows with padding (s0 > w)", big_c[:, :w]
    yield "negative strides", np.ascontiguousarray(m[::-1, ::-1])[::-1, ::-1]
    big = np.zeros((2 * h, 3 * w), np.uint8)
    big[::2, ::3] = m
    yield "general strides", big[::2, ::3]
    yield "bool", m.astype(bool)
    yield "int16 values", (m.astype(np.int16) * 300)


@settings(max_examples=120, deadline=None)
@given(masks)
def test_encode_paths_agree_with_reference(m):
    want = ref_counts(m)
    for name, arr in layouts(m):
        got = rle.counts(M.encode(arr)).tolist()
        assert got == want, name


@pytest.mark.parametrize("shape", [(1, 1), (1, 37), (37, 1), (1, 0), (0, 5), (3, 0)])
def test_encode_degenerate_shapes(shape):
    m = np.ones(shape, np.uint8)
    want = ref_counts(m) if m.size else [0]
    assert rle.counts(M.encode(m)).tolist() == want
    assert rle.counts(M.encode(np.asfortranarray(m))).tolist() == want


def test_encode_broadcast_rows_zero_stride():
    row = (np.arange(50) % 7 < 3).astype(np.uint8)
    m = np.broadcast_to(row, (40, 50))
    assert rle.counts(M.encode(m)).tolist() == ref_counts(np.array(m))


@settings(max_examples=80, deadline=None)
@given(masks)
def test_decode_layouts_and_out(m):
    r = M.encode(m)
    np.testing.assert_array_equal(M.decode(r), m)
    c = rle.decode(r, order="C")
    assert c.flags.c_contiguous
    np.testing.assert_array_equal(c, m)
    f = rle.decode(r, order="F")
    assert f.flags.f_contiguous
    np.testing.assert_array_equal(f, m)
    out = np.full(m.shape, 7, np.uint8)
    assert rle.decode(r, out=out) is out
    np.testing.assert_array_equal(out, m)
    outb = np.ones(m.shape, bool)
    rle.decode(r, out=outb)
    np.testing.assert_array_equal(outb, m.astype(bool))


def test_decode_c_order_short_counts_and_errors():
    r = {"size": [4, 3], "counts": b"12"}
    np.testing.assert_array_equal(rle.decode(r, order="C"), M.decode(r))
    with pytest.raises(ValueError):
        rle.decode({"size": [2, 2], "counts": b"5"}, order="C")
    with pytest.raises(ValueError):
        rle.decode(r, out=np.empty((3, 4), np.uint8))
    with pytest.raises(ValueError):
        rle.decode(r, out=np.empty((4, 3), np.uint8, order="F"))


@pytest.mark.parametrize("threads", [None, 1, 2, 3, 0])
def test_batches_and_threads(threads):
    rng = np.random.default_rng(5)
    stack = (rng.random((13, 31, 17)) < 0.3).astype(np.uint8)
    want = [M.encode(np.asfortranarray(x)) for x in stack]
    got = rle.encode_batch(stack, threads=threads)
    assert got == want
    dec = rle.decode_batch(got, threads=threads)
    assert dec.shape == stack.shape and dec.flags.c_contiguous
    np.testing.assert_array_equal(dec, stack)
    decf = rle.decode_batch(got, order="F", threads=threads)
    np.testing.assert_array_equal(decf, np.moveaxis(stack, 0, 2))
    np.testing.assert_array_equal(M.iou(got, got, [0] * 13, threads=threads),
                                  M.iou(got, got, [0] * 13))


def test_decode_batch_size_mismatch():
    a = M.encode(np.ones((2, 2), np.uint8))
    b = M.encode(np.ones((2, 3), np.uint8))
    with pytest.raises(ValueError):
        rle.decode_batch([a, b])


@settings(max_examples=80, deadline=None)
@given(masks)
def test_transpose_string_is_row_major_runs(m):
    r = M.encode(m)
    h, w = m.shape
    t = _rle_core.transpose_string(r["counts"], h, w)
    assert t == M.encode(np.ascontiguousarray(m.T))["counts"]
    assert _rle_core.transpose_string(t, w, h) == r["counts"]


def test_counts_helpers_round_trip():
    r = rle.from_counts([0, 3, 2, 7], size=[3, 4])
    assert rle.counts(r).tolist() == [0, 3, 2, 7]
    with pytest.raises(ValueError):
        rle.from_counts([5, 9], size=[3, 4])
    with pytest.raises(OverflowError):
        rle.from_counts([-1], size=[3, 4])


def _child_decode(rles):
    return rle.decode_batch(rles, threads=2).sum()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_thread_pool_survives_fork():
    import multiprocessing

    rng = np.random.default_rng(9)
    stack = (rng.random((6, 20, 30)) < 0.4).astype(np.uint8)
    rles = rle.encode_batch(stack, threads=2)  # the parent's pool exists now
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        got = pool.map(_child_decode, [rles, rles], chunksize=1)
    assert got == [int(stack.sum())] * 2


def test_simd_path_is_known_and_as_expected():
    import os

    path = _rle_core.simd_path()
    assert path in ("sse2", "sse2+avx2", "neon", "swar")
    expected = os.environ.get("MASKCODECS_EXPECT_SIMD")
    if expected:  # set by the CI job that builds with MASKCODECS_NO_SIMD=1
        assert path == expected

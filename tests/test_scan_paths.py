"""The block scanners of encode and the run writer of decode, at every offset that matters.

Encode locates a transition inside a 64-byte block with a byte mask, after testing one
unaligned block and then aligned pairs of blocks; the last partial block is tested as an
overlapping block. Decode writes short runs with overlapping vector stores. These tests put
transitions and runs at every offset of a block, at every alignment of the buffer and at both
ends, and compare with answers computed here in closed form or with plain numpy.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_paths import ref_counts

from maskcodecs import _rle_core
from maskcodecs import mask as M

# foreground byte values: the scanners must treat every nonzero byte alike (signed and
# unsigned comparisons differ on 0x80..0xFF)
FG = (1, 0x80, 0xFF, 0x7F, 2)


def aligned(n: int, a: int) -> np.ndarray:
    """A zeroed 1-D uint8 view of n bytes whose address is a (mod 64)."""
    buf = np.zeros(n + 128, np.uint8)
    off = (a - buf.ctypes.data) % 64
    return buf[off:off + n]


def counts(s: bytes) -> list[int]:
    return np.frombuffer(_rle_core.counts_from_string(s), np.uint32).tolist()


def expected(n: int, s: int, t: int) -> list[int]:
    """Runs of n bytes whose foreground is [s, t)."""
    if s == t:
        return [n]
    runs = [s, t - s]
    if t < n:
        runs.append(n - t)
    return runs


def runs_reference(counts: list[int], total: int, one: int = 1) -> np.ndarray:
    """The decoded bytes of `counts` (background first), zero-filled up to `total`."""
    vals = np.resize(np.array([0, one], np.uint8), len(counts))
    flat = np.repeat(vals, counts)
    return np.concatenate([flat, np.zeros(total - flat.size, np.uint8)])


def decode_guarded(counts: list[int], total: int, a: int, one: int = 1) -> np.ndarray:
    """Decode into a buffer at alignment a (mod 64) with 100 guard bytes on either side,
    and check that no guard byte was written."""
    s = _rle_core.string_from_counts(np.array(counts, np.uint32))
    big = aligned(total + 200, a)
    big[:] = 0xA5
    _rle_core.decode_string(s, big[100:], total, 1, False, one)
    # decode_string writes out[0:total] of the (larger) buffer it is given
    assert (big[:100] == 0xA5).all() and (big[100 + total:] == 0xA5).all()
    return big[100:100 + total].copy()


def test_simd_path_reports_a_known_path():
    assert _rle_core.simd_path() in ("sse2", "sse2+avx2", "neon", "swar")


@pytest.mark.parametrize("n", [1, 7, 63, 64, 65, 127, 128, 129, 130, 191, 192, 200, 257])
@pytest.mark.parametrize("a", [0, 1, 17, 63])
def test_encode_one_foreground_interval_everywhere(n, a):
    """Foreground [s, t) for every s and every t up to 140 bytes later (and t = n): each run
    start and end at every offset of a block, from every start offset of the search."""
    buf = aligned(n, a)
    col = buf.reshape(n, 1)
    for s in range(n + 1):
        ends = set(range(s, min(n, s + 140) + 1)) | {n}
        for t in sorted(ends):
            buf[:] = 0
            buf[s:t] = FG[(s + t) % len(FG)]
            got = counts(_rle_core.encode_one(col))
            assert got == expected(n, s, t), (n, a, s, t)


@pytest.mark.parametrize("a", range(64))
def test_encode_transitions_at_every_alignment(a):
    """Alternating runs of every length 1..70 over a 3000-byte stream at alignment a."""
    n = 3000
    buf = aligned(n, a)
    pos, v, k = 0, 0, 0
    while pos < n:
        length = 1 + (k * 37) % 70
        buf[pos:pos + length] = v
        pos += length
        v = 0 if v else FG[k % len(FG)]
        k += 1
    got = counts(_rle_core.encode_one(buf.reshape(n, 1)))
    assert got == ref_counts(buf.reshape(n, 1))


@pytest.mark.parametrize("fill", [0, 1])
@pytest.mark.parametrize("n", [64, 100, 128, 1000, 4096 + 5])
def test_encode_constant_streams(fill, n):
    for a in (0, 5, 32):
        buf = aligned(n, a)
        buf[:] = fill
        got = counts(_rle_core.encode_one(buf.reshape(n, 1)))
        assert got == ([n] if fill == 0 else [0, n])


@pytest.mark.parametrize("h", [1, 63, 64, 65, 129, 200])
def test_encode_columns_with_stride_every_transition(h):
    """Contiguous columns with a column stride other than h (the per-column scan): one
    interval per column, its start and end swept over the column, ending at the column end."""
    w = h + 1
    big = np.zeros((h + 3, w), np.uint8, order="F")
    m = big[:h, :]
    for x in range(w):
        s = x % (h + 1)
        t = min(h, s + (x * 7) % 90)
        m[s:t, x] = FG[x % len(FG)]
    got = counts(_rle_core.encode_one(m))
    assert got == ref_counts(np.array(m))
    assert got == counts(_rle_core.encode_one(np.asfortranarray(m)))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 700), st.integers(0, 63), st.integers(0, 2**32 - 1),
       st.sampled_from([0.002, 0.02, 0.3, 0.98]))
def test_encode_random_streams(n, a, seed, p):
    rng = np.random.default_rng(seed)
    buf = aligned(n, a)
    # runs of random lengths: flip the state with probability p per byte
    flips = np.cumsum(rng.random(n) < p) % 2
    buf[:] = flips * rng.integers(1, 256, n)
    col = buf.reshape(n, 1)
    assert counts(_rle_core.encode_one(col)) == ref_counts(col)
    assert M.decode(M.encode(np.asfortranarray(col))).ravel().tolist() == (buf != 0).tolist()


@pytest.mark.parametrize("a", [(100 + k) % 64 for k in (0, 1, 7, 16, 31, 32, 33, 63)])
@pytest.mark.parametrize("one", [1, 255])
def test_decode_runs_of_every_length_at_every_offset(a, one):
    """Runs of length 1..100 in a rotating order (so each starts at many offsets modulo 32),
    then every tail length 0..70 behind them: the last runs are the ones too close to the
    end for a full vector store."""
    counts = [1 + (k * 13) % 100 for k in range(300)]
    body = sum(counts)
    for tail in range(71):
        total = body + tail
        got = decode_guarded(counts, total, a, one)
        assert np.array_equal(got, runs_reference(counts, total, one)), tail
    # the counts end exactly at total, with short runs last
    counts2 = counts + [3, 1, 2, 1]
    total = sum(counts2)
    assert np.array_equal(decode_guarded(counts2, total, a, one),
                          runs_reference(counts2, total, one))


@pytest.mark.parametrize("n", [1, 2, 5, 31, 32, 33, 63, 64, 65, 200])
def test_decode_short_outputs(n):
    """Outputs shorter than one or two vectors: every run split of the first few bytes."""
    for a in (0, 1, 31):
        for s_ in range(n + 1):
            for t in range(s_, min(n, s_ + 40) + 1):
                counts = [s_, t - s_] if t < n else [s_, n - s_]
                got = decode_guarded(counts, n, a)
                want = np.zeros(n, np.uint8)
                want[s_:t] = 1
                assert np.array_equal(got, want), (n, a, s_, t)


def test_decode_zero_length_runs_inside():
    counts = [0, 5, 0, 40, 0, 0, 3, 70, 0, 1, 33, 0, 64]
    total = sum(counts) + 9
    for a in range(0, 64, 3):
        assert np.array_equal(decode_guarded(counts, total, a), runs_reference(counts, total))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 300), min_size=0, max_size=60), st.integers(0, 80),
       st.integers(0, 63))
def test_decode_random_runs(counts, tail, a):
    total = sum(counts) + tail
    if total == 0:
        return
    assert np.array_equal(decode_guarded(counts, total, a), runs_reference(counts, total))
    # the pycocotools-style entry point (one dict, Fortran order, h x 1)
    rle = {"size": [total, 1], "counts": _rle_core.string_from_counts(np.array(counts, np.uint32))}
    assert np.array_equal(M.decode(rle).ravel(order="F"), runs_reference(counts, total))


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=0, max_size=40).map(lambda b: bytes(48 + (c % 72) for c in b)),
       st.integers(1, 40), st.integers(1, 40))
def test_decode_one_pass_errors_match_the_validated_path(s, h, w):
    """decode of one dict parses and writes in one pass; decode_string validates the whole
    string first. Both must accept the same strings, with the same mask, and refuse the
    others with the same error class (characters past 'o' are included on purpose)."""
    buf = np.full(h * w + 64, 0xA5, np.uint8)
    try:
        _rle_core.decode_string(s, buf, h, w, False)
        want = buf[:h * w].reshape((h, w), order="F")
        assert (buf[h * w:] == 0xA5).all()
    except ValueError as e:
        with pytest.raises(type(e)):
            M.decode({"size": [h, w], "counts": s})
        return
    assert np.array_equal(M.decode({"size": [h, w], "counts": s}), want)

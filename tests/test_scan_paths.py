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


def test_simd_path_reports_a_known_path():
    assert _rle_core.simd_path() in ("sse2", "neon", "swar")


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

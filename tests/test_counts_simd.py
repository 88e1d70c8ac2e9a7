"""The vector counts-string parser against the reference reader.

The vector parser (AVX2, chosen at run time) reads groups of one or two characters eight
characters at a time and leaves everything else (errors, counts of 2**31 or more, short strings)
to the reference reader. These tests check that it never changes a result or an error: every
public function is run with it switched on and off, on strings built from counts (canonical) and
on random strings over the alphabet (non-canonical groups, long groups, negative counts, bad
characters), and the parser alone is checked to read what it claims to read.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pycocotools.mask as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskcodecs import _rle_core
from maskcodecs import mask as M

HAVE_GROUPS = _rle_core.groups_simd()
MIN_CHARS = 24  # GROUPS_MIN_CHARS: shorter strings always go to the reference reader


@pytest.fixture(autouse=True)
def _restore_switch() -> Iterator[None]:
    on = _rle_core.groups_simd()
    yield
    _rle_core.groups_simd(on)


def string_of(counts: list[int]) -> bytes:
    return _rle_core.string_from_counts(np.array(counts, np.uint32))


@contextmanager
def parser(on: bool) -> Iterator[None]:
    """The vector parser switched on or off, then back as it was."""
    was = _rle_core.groups_simd()
    _rle_core.groups_simd(on)
    try:
        yield
    finally:
        _rle_core.groups_simd(was)


def ref_counts(s: bytes) -> list[int]:
    """Counts by the reference reader (the vector parser switched off)."""
    with parser(False):
        return np.frombuffer(_rle_core.counts_from_string(s), np.uint32).tolist()


def by_groups(s: bytes) -> list[int] | None:
    got = _rle_core.counts_by_groups(s)
    return None if got is None else np.frombuffer(got, np.uint32).tolist()


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("err", (exception type, message))."""
    try:
        v = fn()
    except Exception as e:  # noqa: BLE001 - the exception itself is what is compared
        return "err", (type(e), str(e))
    if isinstance(v, np.ndarray):
        return "ok", (v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, dict):
        return "ok", (v["size"], v["counts"])
    return "ok", v


def both_paths(fn: Callable[[], Any]) -> tuple[tuple[str, Any], tuple[str, Any]]:
    with parser(True):
        on = outcome(fn)
    with parser(False):
        off = outcome(fn)
    return on, off


# counts that make small deltas (one or two characters) with now and then a large one, so
# that groups of three to seven characters land at every offset of the 8-character blocks
small = st.integers(0, 40)
medium = st.integers(0, 700)
large = st.integers(0, 2**31 - 1)
huge = st.integers(2**31, 2**32 - 1)
count_lists = st.lists(
    st.one_of(small, small, small, small, small, small, medium, large),
    min_size=1, max_size=400)

# random strings over the alphabet: mostly one-character groups, some "more" characters,
# rarely a byte outside '0'..'o'
alphabet = st.one_of(
    st.integers(48, 79), st.integers(48, 79), st.integers(48, 79), st.integers(48, 79),
    st.integers(80, 111), st.integers(80, 111),
    st.sampled_from([0, 47, 112, 127, 128, 200, 255]))
strings = st.lists(alphabet, min_size=0, max_size=300).map(bytes)



@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    """A canonical string with a few bytes replaced (a bad byte, or any character)."""
    s = bytearray(string_of(draw(count_lists)))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(s) - 1))
        s[at] = draw(st.one_of(st.sampled_from([0, 47, 112, 127, 128, 200, 255]),
                               st.integers(48, 111)))
    return bytes(s)


clean_strings = st.lists(st.one_of(st.integers(48, 79), st.integers(48, 79), st.integers(80, 111)),
                         min_size=0, max_size=300).map(bytes)


@pytest.mark.skipif(not HAVE_GROUPS, reason="no vector counts parser on this CPU or build")
def test_switch_reports_its_state() -> None:
    assert _rle_core.groups_simd(False) is False
    assert _rle_core.groups_simd() is False
    assert _rle_core.groups_simd(True) is True


@settings(max_examples=400, deadline=None)
@given(count_lists)
def test_parser_reads_canonical_strings(counts: list[int]) -> None:
    s = string_of(counts)
    assert ref_counts(s) == counts
    got = by_groups(s)
    if got is not None:
        assert got == counts
    # it declines only what it is documented to decline
    if HAVE_GROUPS and len(s) >= MIN_CHARS and max(counts) < 2**31:
        assert got is not None


@settings(max_examples=100, deadline=None)
@given(count_lists, st.lists(huge, min_size=1, max_size=3), st.randoms(use_true_random=False))
def test_counts_of_2_to_31_and_more_go_to_the_reference(counts: list[int], big: list[int],
                                                        rnd: Any) -> None:
    for b in big:
        counts.insert(rnd.randrange(len(counts) + 1), b)
    s = string_of(counts)
    assert by_groups(s) is None
    _rle_core.groups_simd(True)
    assert np.frombuffer(_rle_core.counts_from_string(s), np.uint32).tolist() == counts


@settings(max_examples=600, deadline=None)
@given(st.one_of(strings, clean_strings, corrupted()))
def test_parser_agrees_with_the_reference_on_any_string(s: bytes) -> None:
    got = by_groups(s)
    on, off = both_paths(lambda: _rle_core.counts_from_string(s))
    assert on == off
    if got is not None:
        # what the parser accepts, the reference reads the same way
        assert off[0] == "ok"
        assert got == ref_counts(s)


@pytest.mark.parametrize("at", range(0, 40))
@pytest.mark.parametrize("big", [1000, 40_000, 2**20 + 3, 2**31 - 1])
def test_a_long_group_at_every_block_offset(at: int, big: int) -> None:
    # small counts with one large count (a group of 3 to 7 characters) and the count after it
    # (a large negative delta), at every position relative to the blocks and the tail
    counts = [(7 * i) % 23 for i in range(60)]
    counts[at] = big
    s = string_of(counts)
    assert by_groups(s) in (None, counts)
    if HAVE_GROUPS:
        assert by_groups(s) == counts


@pytest.mark.parametrize("n", range(MIN_CHARS - 2, MIN_CHARS + 40))
def test_every_tail_length(n: int) -> None:
    # n one-character counts with a two-character count at each end of the tail
    counts = [3] * n
    counts[-1] = 20
    counts[-2] = 40
    s = string_of(counts)
    assert ref_counts(s) == counts
    assert by_groups(s) in (None, counts)


@pytest.mark.parametrize("bad", [0, 47, 112, 127, 128, 200, 255])
def test_a_bad_byte_anywhere_is_refused(bad: int) -> None:
    # a string of valid groups with one byte outside '0'..'o', at every position (in the first
    # three counts, the block pairs, the single blocks and the tail): the reference reader
    # rejects it, so the parser must leave it to the reference reader
    base = string_of([(5 * i) % 13 for i in range(70)])
    for at in range(len(base)):
        s = bytearray(base)
        s[at] = bad
        with pytest.raises(ValueError):
            ref_counts(bytes(s))
        assert by_groups(bytes(s)) is None, at


def test_counts_near_2_to_31() -> None:
    # the lanes are 32-bit: a count that reaches 2**31 through its delta must be refused
    base = [5, 2**31 - 40, 3, 2**31 - 40] + [1] * 40
    for k in range(4, 44, 2):
        counts = list(base)
        counts[k - 2] = 2**31 - 1 - 30
        counts[k] = 2**31 - 1
        assert by_groups(string_of(counts)) in (None, counts)
        counts[k] = 2**31
        assert by_groups(string_of(counts)) is None
        assert ref_counts(string_of(counts)) == counts


def sizes_for(s: bytes, data: st.DataObject) -> tuple[int, int]:
    """A size that the string's counts fill exactly, under-fill or overrun."""
    try:
        total = sum(ref_counts(s))
    except ValueError:
        total = data.draw(st.integers(0, 400))
    if total > 200_000:  # decoding it would only cost time: an overrun instead
        total = data.draw(st.integers(0, 400))
    total = max(0, total + data.draw(st.sampled_from([0, 0, 0, 5, -1])))
    h = data.draw(st.sampled_from([d for d in range(1, 40) if total % d == 0] or [1]))
    return h, max(total // h, 0)


@settings(max_examples=300, deadline=None)
@given(st.one_of(count_lists.map(string_of), strings, clean_strings, corrupted()), st.data())
def test_public_functions_agree_on_both_paths(s: bytes, data: st.DataObject) -> None:
    h, w = sizes_for(s, data)
    r = {"size": [h, w], "counts": s}
    other = {"size": [h, w], "counts": string_of([h * w // 3, h * w // 3])}
    for fn in (
        lambda: M.area([r, r]),
        lambda: M.area(r),
        lambda: M.toBbox([r, r]),
        lambda: M.toBbox(r),
        lambda: M.decode(r),
        lambda: M.merge([r, other]),
        lambda: M.merge([r, other], intersect=True),
        lambda: M.iou([r], [other, r], [0, 1]),
    ):
        on, off = both_paths(fn)
        assert on == off


@settings(max_examples=200, deadline=None)
@given(count_lists, st.integers(0, 30))
def test_area_and_bbox_match_pycocotools(counts: list[int], extra: int) -> None:
    counts = [c % 5000 for c in counts]
    total = sum(counts) + extra
    h = next(d for d in (7, 5, 3, 2, 1) if total % d == 0) if total else 1
    r = {"size": [h, total // h], "counts": string_of(counts)}
    _rle_core.groups_simd(True)
    assert int(M.area(r)) == int(pc.area(r))
    if int(pc.area(r)):  # pycocotools' box of an empty mask is garbage (a listed deviation)
        assert np.array_equal(M.toBbox([r]), pc.toBbox([r]))


def box_reference(counts: list[int], h: int) -> list[float]:
    """[x, y, w, h] of the foreground runs, with Python's exact integer divmod."""
    xs, ys, xe, ye, pos, seen = None, h, 0, 0, 0, False
    for i, c in enumerate(counts):
        if i % 2 and c:
            x0, y0 = divmod(pos, h)
            x1, y1 = divmod(pos + c - 1, h)
            if not seen:
                xs, seen = x0, True
            xe = x1
            if x0 < x1:
                ys, ye = 0, h - 1
            else:
                ys, ye = min(ys, y0), max(ye, y1)
        pos += c
    if not seen:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(xs), float(ys), float(xe - xs + 1), float(ye - ys + 1)]


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 2**24), st.integers(1, 2**24 - 1),  # h * w < 2**48, the largest size taken
       st.lists(st.integers(0, 2**32 - 1), max_size=60), st.booleans())
def test_bbox_of_large_masks_is_exact(h: int, w: int, raw: list[int], groups: bool) -> None:
    # the box takes a run's column from a double-precision product, corrected from the
    # remainder: it must be exact for positions up to 2**48, on both parser paths
    total = h * w
    counts, pos = [], 0
    for c in raw:
        c = c % min(total - pos + 1, 2**32)
        counts.append(c)
        pos += c
    if len(counts) < 2:
        counts = [min(total // 3, 2**32 - 1)] * 2
    r = {"size": [h, w], "counts": string_of(counts)}
    _rle_core.groups_simd(groups)
    assert M.toBbox(r).tolist() == box_reference(counts, h)


@pytest.mark.parametrize("h", [1, 2, 3, 7, 2**24 - 1, 2**24, 2**24 + 1])
def test_bbox_runs_on_column_boundaries(h: int) -> None:
    w = 3 * 2**24 // h + 40
    for start in (h - 1, h, h + 1, 2 * h - 1, 2 * h, (w - 2) * h - 1, (w - 2) * h):
        for length in (1, h - 1 or 1, h, h + 1):
            counts = [start, length] + [1, 1] * 12
            if sum(counts) > h * w:
                continue
            r = {"size": [h, w], "counts": string_of(counts)}
            for groups in (True, False):
                _rle_core.groups_simd(groups)
                assert M.toBbox(r).tolist() == box_reference(counts, h), (start, length, groups)


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "gcc")) is None, reason="no C compiler")
def test_c_checker_native_and_arm64() -> None:
    # the parser's C source against the C reference reader of scripts/check_groups_native.py,
    # compiled natively and, when aarch64-linux-gnu-gcc and qemu-aarch64 are installed, for
    # arm64 (the NEON back end) under qemu
    script = Path(__file__).resolve().parent.parent / "scripts" / "check_groups_native.py"
    if not script.exists():
        pytest.skip("scripts/ is not beside the tests (not a checkout)")
    res = subprocess.run([sys.executable, str(script), "30000"], capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "all equal to the reference" in res.stdout or "nothing to check" in res.stdout

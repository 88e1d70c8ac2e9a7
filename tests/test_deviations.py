"""One test per row of docs/compatibility.md: where pycocotools crashes or returns garbage,
maskcodecs raises a clear error (a ValueError/TypeError subclass) or gives the right answer."""
from __future__ import annotations

import numpy as np
import pytest

from maskcodecs import errors as E
from maskcodecs import mask as M
from maskcodecs import rle


def box_mask(h, w, y0, y1, x0, x1, order="F"):
    m = np.zeros((h, w), np.uint8, order=order)
    m[y0:y1, x0:x1] = 1
    return m


# --- encode ---------------------------------------------------------------------------------

def test_encode_accepts_c_order_without_copy_and_matches_fortran():
    m = box_mask(50, 70, 3, 40, 10, 60, order="C")
    assert M.encode(m) == M.encode(np.asfortranarray(m))


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int8, np.uint16, np.int32, np.int64,
                                   np.uint64])
def test_encode_any_integer_dtype_nonzero_is_foreground(dtype):
    m = box_mask(9, 7, 2, 5, 1, 6)
    ref = M.encode(m)
    assert M.encode(m.astype(dtype)) == ref
    if dtype not in (np.bool_,):
        assert M.encode((m * 3).astype(dtype)) == ref


def test_encode_nonbinary_values_binarised():
    col = np.array([[1], [2], [2], [1]], dtype=np.uint8)
    # pycocotools toggles on every change of value: counts [0,1,2,1] -> decodes to 1,0,0,1
    assert rle.counts(M.encode(col)).tolist() == [0, 4]


def test_encode_rejects_float_and_bad_ndim():
    with pytest.raises(E.MaskDtypeError) as ei:
        M.encode(np.zeros((2, 2), np.float32))
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, TypeError)
    with pytest.raises(E.MaskShapeError):
        M.encode(np.zeros(5, np.uint8))  # pycocotools silently returns None


def test_encode_readonly_and_negative_strides():
    m = box_mask(20, 30, 5, 9, 0, 30)
    m.setflags(write=False)
    assert M.encode(m) == M.encode(m.copy())
    flipped = np.ascontiguousarray(m[::-1])[::-1]
    assert M.encode(flipped) == M.encode(m.copy())


# --- decode ---------------------------------------------------------------------------------

def test_decode_short_counts_give_zero_tail():
    out = M.decode({"size": [4, 3], "counts": b"12"})  # pycocotools: uninitialised garbage
    expected = np.zeros((4, 3), np.uint8, order="F")
    expected.reshape(-1, order="F")[1:3] = 1
    np.testing.assert_array_equal(out, expected)


def test_decode_counts_overrun_raise_invalid_rle():
    with pytest.raises(E.InvalidRLEError, match="more than h\\*w") as ei:
        M.decode({"size": [2, 2], "counts": b"5"})
    assert isinstance(ei.value, ValueError)


def test_decode_mixed_sizes_raise():
    a = M.encode(box_mask(4, 3, 0, 1, 0, 1))
    b = M.encode(box_mask(2, 2, 0, 1, 0, 1))
    with pytest.raises(E.SizeMismatchError):
        M.decode([a, b])  # pycocotools silently misaligns


def test_decode_empty_list():
    out = M.decode([])  # pycocotools: undefined behaviour
    assert out.shape == (0, 0, 0) and out.dtype == np.uint8


# --- the counts string ----------------------------------------------------------------------

@pytest.mark.parametrize("counts", [b"5!", b"52\x0011", b"5 2", "5\u00e92", b"p0"])
def test_character_outside_alphabet(counts):
    with pytest.raises(E.CountsStringError, match="outside"):
        M.decode({"size": [10, 10], "counts": counts})


@pytest.mark.parametrize("counts", [b"1`", b"0P", b"oooo"])
def test_truncated_group(counts):
    with pytest.raises(E.CountsStringError, match="truncated"):
        M.area({"size": [3, 3], "counts": counts})


def test_overlong_group_and_out_of_range_counts():
    with pytest.raises(E.CountsStringError, match="longer than 7"):
        M.area({"size": [3, 3], "counts": b"oooooooo0"})
    with pytest.raises(E.CountsStringError, match="outside 0..2"):
        M.area({"size": [3, 3], "counts": b"2O"})  # 2, then -1: negative count
    with pytest.raises(E.CountsStringError, match="outside 0..2"):
        M.area({"size": [3, 3], "counts": b"ooooo`4"})  # 2**32


def test_large_deltas_decode_correctly():
    # pycocotools decodes this as [0, 3000000000, 0, 2999999993] on x86-64
    r = {"size": [1, 3000000001], "counts": b"0P`gP]i20Q`XobVM"}
    assert rle.counts(r).tolist() == [0, 3000000000, 0, 1]
    assert int(M.area(r)) == 3000000001


def test_encoder_buffer_is_sized_for_seven_chars_per_count():
    # pycocotools writes 694 chars into a 600-byte buffer here and aborts
    cnts = [4000000000, 4000000000, 0, 0] * 25
    out = rle.from_counts(cnts, size=[1, sum(cnts)])
    assert rle.counts(out).tolist() == cnts


@pytest.mark.parametrize("bad", [bytearray(b"4"), memoryview(b"4"), [4], None, 4])
def test_counts_wrong_type(bad):
    with pytest.raises(TypeError, match="Expected bytes"):
        M.area({"size": [2, 2], "counts": bad})


def test_missing_key_is_keyerror():
    with pytest.raises(KeyError):
        M.area({"size": [2, 2]})


# --- area / toBbox --------------------------------------------------------------------------

def test_area_more_than_255_rles():
    rles = [M.encode(box_mask(8, 8, 0, i % 8 + 1, 0, 2)) for i in range(1000)]
    a = M.area(rles)  # pycocotools raises OverflowError under numpy 2
    assert a.dtype == np.uint32 and a.shape == (1000,)
    assert a.tolist() == [2 * (i % 8 + 1) for i in range(1000)]


def test_tobbox_zero_length_runs():
    # leading zero runs and zero-length runs in the middle and at the end
    r = M.frPyObjects({"size": [5, 10], "counts": [0, 10, 5, 5, 5, 5, 0, 10, 10, 0]}, 5, 10)
    np.testing.assert_array_equal(M.toBbox(r), M.toBbox(M.encode(M.decode(r))))
    empty = M.frPyObjects({"size": [2, 2], "counts": [2, 0, 2]}, 2, 2)
    np.testing.assert_array_equal(M.toBbox(empty), [0, 0, 0, 0])  # pycocotools: 4294967295


# --- polygons and boxes ---------------------------------------------------------------------

@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), 1e12, -5e8])
def test_polygon_nonfinite_or_huge_coordinates(bad):
    with pytest.raises(E.PolygonError) as ei:
        M.frPyObjects([[0, 0, bad, 2, 2, 2]], 10, 10)
    assert isinstance(ei.value, ValueError)
    with pytest.raises(E.PolygonError):
        M.frPyObjects(np.array([[0, 0, bad, 3]]), 10, 10)


def test_polygon_far_outside_is_fast_and_correct():
    # coordinates near the int32 limit of the 5x grid: bounded work (pycocotools walks 2e9 points)
    r = M.frPyObjects([[-4e8, -4e8, 4e8, -4e8, 4e8, 4e8, -4e8, 4e8]], 30, 40)[0]
    assert int(M.area(r)) == 30 * 40


def test_negative_sizes():
    with pytest.raises(E.MaskShapeError) as ei:
        M.frPyObjects([[0, 0, 1, 0, 1, 1]], -1, 5)
    assert isinstance(ei.value, ValueError)
    with pytest.raises(E.MaskShapeError):
        M.decode({"size": [-2, 2], "counts": b"4"})


def test_four_coordinate_boxes_and_flat_inputs():
    boxes = [[1, 1, 2, 3], [0, 0, 4, 4]]
    got = M.frPyObjects(boxes, 6, 6)  # pycocotools: TypeError
    want = M.frPyObjects(np.array(boxes, float), 6, 6)
    assert got == want
    assert M.frPyObjects([1, 1, 2, 3], 6, 6) == want[0]  # flat box -> dict
    poly = [0, 0, 0, 2, 2, 2, 2, 0]
    assert M.frPyObjects(poly, 3, 3) == M.frPyObjects([poly], 3, 3)[0]


def test_box_arrays_any_memory_order():
    b = np.array([[0, 0, 2, 2], [1, 1, 1, 1]], dtype=np.float64)
    want = [r["counts"] for r in M.frPyObjects(np.ascontiguousarray(b), 3, 3)]
    assert want == [b"02103", b"414"]
    assert [r["counts"] for r in M.frPyObjects(np.asfortranarray(b), 3, 3)] == want
    wide = np.zeros((2, 8))
    wide[:, ::2] = b
    assert [r["counts"] for r in M.frPyObjects(wide[:, ::2], 3, 3)] == want
    assert [r["counts"] for r in M.frPyObjects(b.astype(np.float32), 3, 3)] == want


def test_width_zero_polygon():
    assert M.frPyObjects([[0, 0, 1, 0, 1, 1]], 3, 0)[0]["counts"] == b"0"  # pycocotools: b'212'


# --- merge / iou ----------------------------------------------------------------------------

def test_merge_size_mismatch_raises():
    a = M.encode(box_mask(4, 4, 0, 2, 0, 2))
    b = M.encode(box_mask(4, 5, 0, 2, 0, 2))
    with pytest.raises(E.SizeMismatchError):
        M.merge([a, b])  # pycocotools silently returns an empty 0x0 RLE


def test_merge_empty_counts_operand_does_not_crash():
    a = M.encode(box_mask(4, 4, 0, 2, 0, 2))
    e = {"size": [4, 4], "counts": b""}  # pycocotools dereferences NULL (segfault)
    assert M.merge([a, e]) == a
    assert M.merge([e, a]) == a
    assert M.merge([a, e], intersect=1) == M.encode(np.zeros((4, 4), np.uint8))


def test_merge_short_counts_terminate():
    a = {"size": [4, 4], "counts": b"22"}  # sums to 4 of 16: background tail
    b = M.encode(box_mask(4, 4, 0, 4, 3, 4))
    want = M.encode(M.decode(a) | M.decode(b))
    assert M.merge([a, b]) == want  # pycocotools loops forever here


def test_merge_simultaneous_zero_length_runs_not_truncated():
    r = M.frPyObjects({"size": [2, 2], "counts": [2, 0, 2]}, 2, 2)
    # pycocotools returns counts [2] (sum 2 != 4) here
    for inter in (0, 1):
        out = M.merge([r, r], intersect=inter)
        assert int(rle.counts(out).sum()) == 4
        assert not M.decode(out).any()


def test_merge_overrun_raises():
    a = M.encode(box_mask(2, 2, 0, 1, 0, 1))
    with pytest.raises(E.InvalidRLEError):
        M.merge([a, {"size": [2, 2], "counts": b"9"}])


def test_iou_size_mismatch_only_when_boxes_overlap():
    a = M.encode(box_mask(4, 4, 0, 2, 0, 2))
    b = M.encode(box_mask(5, 5, 0, 2, 0, 2))
    c = M.encode(box_mask(5, 5, 3, 5, 3, 5))
    np.testing.assert_array_equal(M.iou([a], [b, c], [0, 0]), [[-1.0, 0.0]])


def test_iou_iscrowd_length_assertion_and_kind_mixing():
    a = M.encode(box_mask(4, 4, 0, 2, 0, 2))
    with pytest.raises(AssertionError):
        M.iou([a], [a], [0, 0])
    with pytest.raises(TypeError):
        M.iou([a], np.array([[0, 0, 1, 1]], float), [0])
    one_d = M.iou(np.array([0, 0, 2, 2.0]), np.array([[0, 0, 2, 2.0]]), [0])
    np.testing.assert_array_equal(one_d, [[1.0]])  # pycocotools: reshape bug


# --- big images (h*w >= 2**32) --------------------------------------------------------------

def test_big_image_box_positions_are_64_bit():
    h = w = 70000
    r = M.frPyObjects(np.array([[69990.0, 69990.0, 10.0, 10.0]]), h, w)[0]
    np.testing.assert_array_equal(M.toBbox(r), [69990, 69990, 10, 10])  # pycocotools: wrapped
    assert int(M.area(r)) == 100
    cnts = rle.counts(r)
    assert int(cnts.sum(dtype=np.uint64)) == h * w
    assert cnts.max() <= 2**32 - 1
    # the leading background run is longer than 2**32-1: split by a zero-length run
    assert cnts[1] == 0 and int(cnts[0]) == 2**32 - 1


def test_big_image_merge_iou():
    h = w = 70000
    a, b = M.frPyObjects(np.array([[69000.0, 69000, 500, 500], [69200.0, 69200, 500, 500]]), h, w)
    u = M.merge([a, b])
    i = M.merge([a, b], intersect=1)
    assert int(M.area(i)) == 300 * 300
    assert int(M.area(u)) == 2 * 250000 - 90000
    np.testing.assert_allclose(M.iou([a], [b], [0]), [[90000 / (500000 - 90000)]])


def test_encode_run_longer_than_uint32_is_split():
    # a broadcast (zero-stride) 65537 x 65536 view: no 4 GiB allocation
    row = np.zeros(65536, np.uint8)
    m = np.broadcast_to(row, (65537, 65536))
    r = M.encode(m)
    assert rle.counts(r).tolist() == [2**32 - 1, 0, 65537 * 65536 - (2**32 - 1)]


@pytest.mark.parametrize("size", [[0, 5], [5, 0], [0, 0]])
def test_empty_image_with_foreground_counts_is_an_error_not_a_crash(size):
    # a division by h in the box code must never be reached for h == 0 (found by fuzzing)
    r = {"size": size, "counts": b"01"}
    for fn in (M.area, M.toBbox, M.decode):
        with pytest.raises(E.InvalidRLEError):
            fn(r)
    with pytest.raises(E.InvalidRLEError):
        M.iou([r], [r], [0])


def test_compressed_dict_in_frpyobjects_with_non_ascii_counts():
    # found by fuzz_coco_json: a str with a non-ASCII character raised UnicodeEncodeError
    with pytest.raises(E.CountsStringError):
        M.frPyObjects({"size": [3, 3], "counts": "5\u00a6"}, 3, 3)
    assert M.frPyObjects({"size": [3, 3], "counts": "9"}, 3, 3) == {"size": [3, 3],
                                                                     "counts": b"9"}


def test_polygon_crossing_too_many_columns_is_refused_not_allocated():
    # found by fuzzing: 4 numbers on a 35 x 4294945023 image made a 2-point polygon whose
    # edges cross 4e8 columns: 6 GB of toggles for a tiny (empty) mask
    import time

    t0 = time.perf_counter()
    with pytest.raises(E.ImageTooLargeError, match="2\\*\\*24"):
        M.frPyObjects([[4e8, -20.0, -20.0, -20.0, 0, 0]], 35, 4294945023)
    assert time.perf_counter() - t0 < 5
    # a wide but ordinary polygon is still fine
    r = M.frPyObjects([[0, 0, 100000, 0, 100000, 2, 0, 2]], 4, 200000)[0]
    assert int(M.area(r)) == 100000 * 2

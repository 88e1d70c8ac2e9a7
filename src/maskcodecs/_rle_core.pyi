"""Type stub of the private extension maskcodecs._rle_core (the RLE kernel).

Covers the def functions of _rle_core.pyx and of every included part (_rle_scan, _rle_poly,
_colour, _labelmap, _contours). Buffers are
typed memoryviews in the extension: any object exporting a buffer of the stated item type
(numpy arrays, bytes, bytearray, memoryview) is accepted. Lists of RLEs are typed
``list[Any]``: any mapping with 'size' [h, w] and 'counts' (bytes or str) is read.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from maskcodecs._types import RLE

# uint8 buffers: bytes-like or uint8 arrays
_U8 = bytes | bytearray | memoryview | npt.NDArray[np.uint8]

def string_from_counts(counts: npt.NDArray[np.uint32] | memoryview, /) -> bytes:
    """Compressed counts string of a C-contiguous uint32 count vector."""

def counts_from_string(s: _U8, /) -> bytes:
    """Counts of a compressed string as native-endian uint32 bytes.

    Raises CountsStringError for a malformed string."""

def counts_string_total(s: _U8, /) -> int:
    """Sum of the counts of a compressed counts string, in constant memory."""

def string_area_bbox_lean(s: _U8, h: int, w: int, /) -> tuple[int, list[float]]:
    """(area, [x, y, w, h]) of a counts string without a counts buffer."""

def encode_masks(m: npt.NDArray[np.uint8], /) -> list[RLE]:
    """Encode every mask m[:, :, k] (any strides; nonzero is foreground)."""

def encode_one(m: npt.NDArray[np.uint8], /) -> bytes:
    """Compressed counts string of one 2-D mask (any strides, column-major runs)."""

def decode_into(
    rles: list[Any],
    out: npt.NDArray[np.uint8],
    h: int,
    w: int,
    c_order: bool,
    start: int = 0,
    stop: int = -1,
    one: int = 1,
    /,
) -> None:
    """Decode rles[start:stop] into the flat buffer `out` (mask k at k*h*w)."""

def decode_string(
    s: _U8, out: npt.NDArray[np.uint8], h: int, w: int, c_order: bool, one: int = 1, /
) -> None:
    """Decode one counts string of an h x w mask into `out` (h*w bytes)."""

def transpose_string(s: _U8, h: int, w: int, /) -> bytes:
    """Counts string of the transpose (column-major runs <-> row-major runs).

    Raises InvalidRLEError for an invalid string and ImageTooLargeError when a tiny
    string claims a size whose scratch memory would be unreasonable."""

def areas(rles: list[Any], out: npt.NDArray[np.uint64], /) -> None:
    """Foreground pixel count of each RLE into `out`."""

def bboxes(rles: list[Any], out: npt.NDArray[np.float64], /) -> None:
    """Tight [x, y, w, h] box of each RLE into out[k] (shape (n, 4), C-contiguous)."""

def polygons_to_strings(
    xy: npt.NDArray[np.float64], offsets: npt.NDArray[np.int64], h: int, w: int, /
) -> list[bytes]:
    """Counts strings of polygons; polygon i is xy[offsets[i]:offsets[i+1]]."""

def boxes_to_strings(bb: npt.NDArray[np.float64], h: int, w: int, /) -> list[bytes]:
    """Counts strings of [x, y, w, h] boxes (shape (n, 4), any strides)."""

def merge_strings(rles: list[Any], intersect: bool, /) -> tuple[int, int, bytes]:
    """Union or intersection of RLEs of one size: (h, w, counts)."""

def box_iou_matrix(
    dt: npt.NDArray[np.float64],
    gt: npt.NDArray[np.float64],
    crowd: npt.NDArray[np.uint8],
    out: npt.NDArray[np.float64],
    /,
) -> None:
    """out[d, g] = box IoU of dt[d] and gt[g]; `out` is Fortran-ordered (m, n)."""

class _IouPlan:
    """Both sides of an RLE iou, parsed once."""

    def run(self, out: npt.NDArray[np.float64], g0: int, g1: int, /) -> None:
        """Fill the columns g0:g1 of the Fortran-ordered (m, n) `out`."""

def iou_plan(dt: list[Any], gt: list[Any], crowd: bytes, /) -> _IouPlan:
    """Parse dt and gt for iou; len(crowd) == len(gt)."""


def polygons_to_rles(polys: list[Any], h: int, w: int, /) -> list[RLE]:
    """RLE dicts of flat polygons (pycocotools frPoly), bit-exact."""

# _labelmap.pxi: label and colour maps -> one RLE per value, in one pass
_MapRuns = tuple[bytes, list[bytes], bytes, bytes]

def _check_map_size(h: int, w: int, /) -> None:
    """Raise ImageTooLargeError when h*w reaches the kernel's pixel limit."""

def label_map_runs(
    labels: npt.NDArray[Any],
    lut: npt.NDArray[np.int64] | None = ...,
    background: int = ...,
    skip_background: bool = ...,
) -> _MapRuns:
    """(values int64, counts strings, areas uint64, boxes uint64 [x0, y0, x1, y1]) as bytes."""

def colour_map_runs(
    image: npt.NDArray[np.uint8], background: int = ..., skip_background: bool = ...
) -> _MapRuns:
    """As label_map_runs for the ids R + 256*G + 65536*B of an (h, w, >=3) image."""

# _colour.pxi: Labelbox colour composites and OpenCV-compatible polygon fill
def colour_split(
    img: npt.NDArray[np.uint8], keys: npt.NDArray[np.uint32], masks: npt.NDArray[np.uint8],
    want_rles: bool, /,
) -> tuple[list[bytes] | None, bytes, bytes]:
    """One pass: masks of the requested colour keys into `masks`, their counts strings (None
    unless want_rles), and every colour seen (keys uint32, counts uint64) as bytes."""

def colour_snap(
    img: npt.NDArray[np.uint8], palette: npt.NDArray[np.uint8], fill: int, tolerance: float,
    out: npt.NDArray[np.uint8], /,
) -> tuple[int, int, int]:
    """Snap each pixel to the nearest palette colour within `tolerance` (Euclidean RGB) into
    `out` (h, w, 3), palette[fill] where none is; (exact, snapped, unassigned) counts."""

def fill_polygons(
    canvas: npt.NDArray[np.uint8], xy: npt.NDArray[np.int32], offsets: npt.NDArray[np.int64],
    color: npt.NDArray[np.uint8], /,
) -> None:
    """Fill int32 contours into `canvas` (h, w, c) like cv2.fillPoly (LINE_8, shift 0)."""

def paint_rles(
    canvas: npt.NDArray[np.uint8], rles: list[Any], colors: npt.NDArray[np.uint8], /
) -> None:
    """Paint the foreground runs of each RLE with its colour (later ones on top)."""

# _contours.pxi: border following (Suzuki-Abe, OpenCV-compatible)
_Contours = tuple[bytearray, bytearray, bytearray, bytearray, bytearray]

def trace_contours(
    m: npt.NDArray[np.uint8], external: bool, every: bool, connectivity: int, /
) -> _Contours:
    """(points int32 x,y; starts int64; parents; holes; areas) of a 2-D mask, any strides."""

def trace_rle_contours(
    s: _U8, h: int, w: int, external: bool, every: bool, connectivity: int, /
) -> _Contours:
    """As trace_contours, straight from a COCO counts string (no decoded mask)."""

def area_one(rle: Any, /) -> int:
    """Foreground pixel count of one RLE dict."""

def simd_path() -> str:
    """'sse2', 'neon' or 'swar': the block-scan implementation compiled in, with '+avx2' when
    the decoder's run writer uses AVX2 (selected at run time)."""

def groups_simd(enabled: bool | None = None) -> bool:
    """Whether the vector counts-string parser is used (AVX2 on x86, selected at run time;
    NEON on arm64);
    `enabled` switches it, for tests."""

def counts_by_groups(s: _U8, /) -> bytes | None:
    """The counts of `s` by the vector parser alone (uint32 bytes), or None when it leaves
    the string to the reference reader. For tests."""

def decode_one(rle: Any, /) -> npt.NDArray[np.uint8]:
    """One RLE dict to a new (h, w, 1) Fortran-ordered array (up to 2**24 pixels parsed and
    written in one pass; larger ones validated before allocating)."""

def png_unfilter(src: _U8, out: _U8, h: int, rb: int, bpp: int, /) -> int:
    """Undo PNG row filters (h rows of 1 + rb bytes) into out; -1, or the first bad row."""

# -- COCO evaluation (maskcodecs.cocoeval); arrays are C-contiguous, int64 offsets ----------
_A = npt.NDArray[Any]

def eval_group(cells: _A, C: int, /) -> tuple[_A, _A]:
    """Stable argsort of cell positions in [0, C) by counting, and each cell's offsets."""

def eval_sort_cells(off: _A, score: _A, perm: _A, /) -> None:
    """Sort each range perm[off[c]:off[c+1]] by descending score (stable, NaN last)."""

def eval_argsort_desc(score: _A, /) -> bytearray:
    """numpy's argsort(-score, kind='mergesort') as int64 bytes."""

def eval_box_iou(gbox: _A, gsel: _A, dbox: _A, dsel: _A, gcrowd: _A, goff: _A, doff: _A,
                 dlen: _A, ioff: _A, out: _A, c0: int, c1: int, /) -> None:
    """Box IoU (pycocotools bbIou) of cells c0..c1-1 into out (boxes gbox[gsel[j]])."""

class _Strings: ...

def rle_strings(rles: list[Any], /) -> _Strings: ...
def rle_strings_from_chars(chars: bytes, off: _A, h: _A, w: _A, rows: _A, /) -> _Strings: ...
def polygons_to_strings_sized(xy: _A, starts: _A, ends: _A, hs: _A, ws: _A, p0: int, p1: int,
                              /) -> list[bytes]: ...
def eval_rle_iou_cells(sd: _Strings, sg: _Strings, gidx: _A, didx: _A, gcrowd: _A, goff: _A,
                       doff: _A, dlen: _A, ioff: _A, out: _A, c0: int, c1: int, /) -> int:
    """Mask IoU (pycocotools rleIou) of cells c0..c1-1 into out, each cell parsed when
    reached; 0, or the error code of an invalid string."""

def eval_oks_terms(gkp: _A, grow: _A, gbox: _A, gbrow: _A, garea: _A, dkp: _A, drow: _A,
                   sigmas: _A, goff: _A, doff: _A, dlen: _A, eoff: _A, e: _A, c0: int = 0,
                   c1: int = -1, /) -> None:
    """The exponents of computeOks for every scored pair of cells c0..c1-1 (exp is taken
    by numpy)."""

def eval_keypoint_boxes(kp: _A, limit: float, /) -> tuple[_A, _A] | None:
    """loadRes's keypoint area and bbox per row; None for NaN, |x| >= limit or no triple."""

def eval_oks_sum(ex: _A, nterms: _A, goff: _A, dlen: _A, eoff: _A, ioff: _A, out: _A,
                 /) -> None:
    """OKS = numpy-pairwise sum(exp(-e)) / len(e) for every scored pair."""

def eval_match_one(ious: _A, D: int, G: int, have_ious: bool, gign: _A, garea: _A,
                   gcrowd: _A, gid: _A, darea: _A, did: _A, thr: _A, lo: float, hi: float,
                   gorder: _A, gtig: _A, dtm: _A, gtm: _A, dtig: _A, /) -> None:
    """pycocotools' evaluateImg matching for one cell and area range."""

def eval_match(goff: _A, doff: _A, dlen: _A, ioff: _A, ious: _A, have_ious: _A, gign: _A,
               garea: _A, gcrowd: _A, gid: _A, darea: _A, did: _A, thr: _A, arng: _A,
               state: _A, summary: _A, npig: _A, c0: int, c1: int, /) -> None:
    """evaluateImg for cells c0..c1-1 and every area range, reduced for accumulate."""

def eval_accumulate(cell_id: _A, doff: _A, dlen: _A, state: _A, summary: _A, npig: _A,
                    dscore: _A, T: int, A0: int, I0: int, n_dense: int, base_k: _A,
                    base_a: _A, m_list: _A, i_list: _A, identity: bool, rec_thrs: _A,
                    precision: _A, recall: _A,
                    scores: _A, K: int, A: int, M: int, k0: int, k1: int, kstep: int = 1,
                    /) -> int:
    """pycocotools' accumulate for output categories k0, k0+kstep, ... below k1; -1 when an
    evalImgs index falls outside the evaluated list."""

COCO_JSON_LAYOUT: dict[str, int]

def coco_json_scan(
    data: bytes, results: bool, /
) -> tuple[npt.NDArray[np.int64], list[tuple[str, int, int]] | None] | None: ...
def coco_json_polygons(
    data: bytes, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64], /
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def coco_json_number_lists(
    data: bytes, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64], /
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def coco_json_rles(
    data: bytes, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64], /
) -> tuple[bytes, npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64],
           npt.NDArray[np.uint8]]: ...
def strings_area_bbox(
    chars: npt.NDArray[np.uint8], off: npt.NDArray[np.int64], h: npt.NDArray[np.int64],
    w: npt.NDArray[np.int64], area: npt.NDArray[np.uint64], bbox: npt.NDArray[np.float64], /
) -> int: ...

# -- LVIS evaluation (maskcodecs.lvis) --------------------------------------------------------
def lvis_ignore_unmatched(state: _A, summary: _A, flag: _A, T: int, A: int, /) -> int:
    """Mark the unmatched codes of flagged detections ignored (lvis-api's not-exhaustive
    rule); returns how many codes changed."""

# -- panoptic quality (maskcodecs.panoptic) --------------------------------------------------
def panoptic_image(gt: _A, pred: _A, gid: _A, gcat: _A, gcrowd: _A, garea: _A, pid: _A,
                   pcat: _A, pcrowd: _A, parea: _A, gmatched: _A, pmatched: _A, pfp: _A,
                   /) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], int]:
    """One image pair: (h, w, >= 3) uint8 RGB or (h, w) uint32 id maps; sorted segment ids
    with category index, crowd flag, JSON area (gt) and crowd-region index (pred). Fills
    parea, gmatched, pmatched, pfp; returns the matches' gt indices and IoU (in (gt id,
    pred id) order) and the smallest nonzero pred id without a segment (-1: none)."""

def panoptic_sum_iou(cat: _A, iou: _A, bounds: _A, out: _A, /) -> None:
    """Per-category IoU sums: sequential within each chunk bounds[i]:bounds[i+1], then the
    chunk sums in order."""

# -- _rle_ops.pxi: canonical uint32 counts (maskcodecs.RLEMask); results are uint32 bytes ----
_C = npt.NDArray[np.uint32]

def runs_canonical(counts: _C, h: int, w: int, /) -> bytes:
    """Canonical counts of counts that must sum to h*w (InvalidRLEError otherwise)."""

def runs_from_string(s: _U8, h: int, w: int, /) -> bytes:
    """Canonical counts of a COCO counts string that must sum to h*w."""

def runs_from_mask(m: npt.NDArray[np.uint8], /) -> bytes:
    """Canonical counts of a 2-D mask, any strides (nonzero is foreground)."""

def runs_decode_into(counts: _C, out: npt.NDArray[np.uint8], h: int, w: int, c_order: bool,
                     one: int = 1, /) -> None:
    """Decode into the flat h*w buffer `out`, C or Fortran layout."""

def runs_bbox(counts: _C, h: int, w: int, /) -> list[float]:
    """[x, y, w, h] (zeros when empty)."""

def runs_moments(counts: _C, h: int, /) -> tuple[float, float, float]:
    """(area, sum of x, sum of y) over the foreground."""

def runs_binary(a: _C, b: _C, hw: int, table: int, /) -> bytes:
    """f(a, b), f's truth table in bits (2*a + b) of `table`."""

def runs_vote(data: _C, off: npt.NDArray[np.int64], hw: int, k: int, /) -> bytes:
    """Pixels in at least k of the masks data[off[i]:off[i+1]]."""

def runs_window(counts: _C, h: int, w: int, oh: int, ow: int, dr: int, dc: int, /) -> bytes:
    """The oh x ow mask out[i, j] = src[i + dr, j + dc], background outside."""

def runs_flip(counts: _C, h: int, w: int, cols: bool, rows: bool, /) -> bytes:
    """Columns and/or rows reversed."""

def runs_transpose(counts: _C, h: int, w: int, /) -> bytes:
    """The transpose (a w x h mask)."""

def runs_concat(data: _C, off: npt.NDArray[np.int64], hs: npt.NDArray[np.int64], w: int,
                vertical: bool, /) -> bytes:
    """Masks stacked along rows (vertical) or columns."""

def runs_resize_nearest(counts: _C, h: int, w: int, oh: int, ow: int, /) -> bytes:
    """Nearest-neighbour resize with OpenCV INTER_NEAREST sampling."""

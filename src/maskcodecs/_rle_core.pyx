# The rle_core kernel: every hot loop of maskcodecs.
#
# Conventions (see specs/house-style.md):
#   * kernels are `noexcept nogil`, return >= 0 on success or a negative error code (ERR_*);
#   * positions and sizes are 64-bit; counts are uint32 and a run longer than 2**32-1 is
#     written as (2**32-1, 0, rest...);
#   * the `def` wrappers validate, allocate, release the GIL around the kernel and turn an
#     error code into an exception through maskcodecs.errors.error_for_code.
# Compiler directives live in setup.py, not here.

from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t, int32_t
from libc.stdlib cimport malloc, realloc, free, calloc
from libc.string cimport memset, memcpy, memcmp, memchr
from libc.math cimport ceil, isnan, isinf
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_AsASCIIString
from cython.view cimport array as cvarray
from functools import partial

from maskcodecs.errors import error_for_code, InvalidRLEError, MaskShapeError, ImageTooLargeError
from maskcodecs.errors import CountsStringError, SizeMismatchError, RLETypeError, RLEKeyError

cdef enum:
    ERR_NOMEM = -1
    ERR_CHAR = -2
    ERR_TRUNC = -3
    ERR_LONG = -4
    ERR_RANGE = -5
    ERR_OVERRUN = -6
    ERR_COORD = -7
    ERR_TOOBIG = -8
    ERR_SIZE = -9
    ERR_POLYBIG = -11

cdef uint64_t U32MAX = 0xFFFFFFFFu
# largest pixel count we accept (16.7M x 16.7M): positions fit comfortably in int64, and
# the uint32 counts of even an empty mask need at most 2**16 split runs (a run longer than
# 2**32-1 is split), so a few bytes of input can never claim gigabytes of output counts
cdef uint64_t MAX_PIXELS = (<uint64_t>1) << 48
cdef object _MISSING = object()


cdef inline bint too_many_pixels(uint64_t h, uint64_t w) noexcept nogil:
    """h*w >= MAX_PIXELS, exactly: each side is bounded first, so that the product cannot
    wrap (h = w = 2**32 multiplies to 0 in 64 bits), and w > 0 compares h with
    ceil(MAX_PIXELS / w) instead of multiplying."""
    if h >= MAX_PIXELS or w >= MAX_PIXELS:
        return h != 0 and w != 0
    return w != 0 and h >= (MAX_PIXELS + w - 1) // w


# ---------------------------------------------------------------------------------------------
# growable buffers
# ---------------------------------------------------------------------------------------------

cdef struct U32Buf:
    uint32_t* data
    Py_ssize_t n
    Py_ssize_t cap


cdef int u32_reserve(U32Buf* b, Py_ssize_t extra) noexcept nogil:
    cdef Py_ssize_t need = b.n + extra
    cdef Py_ssize_t cap
    cdef uint32_t* p
    if need <= b.cap:
        return 0
    cap = b.cap * 2
    if cap < need:
        cap = need
    if cap < 64:
        cap = 64
    p = <uint32_t*>realloc(b.data, cap * sizeof(uint32_t))
    if p == NULL:
        return ERR_NOMEM
    b.data = p
    b.cap = cap
    return 0


cdef inline int push_run(U32Buf* b, uint64_t length) noexcept nogil:
    """Append one run; a run longer than 2**32-1 becomes (2**32-1, 0, ...)."""
    if b.n + 1 > b.cap:
        if u32_reserve(b, 1) < 0:
            return ERR_NOMEM
    while length > U32MAX:
        if u32_reserve(b, 3) < 0:
            return ERR_NOMEM
        b.data[b.n] = <uint32_t>U32MAX
        b.data[b.n + 1] = 0
        b.n += 2
        length -= U32MAX
    b.data[b.n] = <uint32_t>length
    b.n += 1
    return 0


# ---------------------------------------------------------------------------------------------
# the compressed counts string (COCO / Encord rleString)
# ---------------------------------------------------------------------------------------------

cdef Py_ssize_t counts_to_chars(const uint32_t* cnts, Py_ssize_t m, char* out) noexcept nogil:
    """Write the string of `m` counts into `out` (room for 7*m bytes); return its length."""
    cdef Py_ssize_t i, p = 0
    cdef int64_t x
    cdef int c
    cdef bint more
    for i in range(m):
        x = <int64_t>cnts[i]
        if i > 2:
            x -= <int64_t>cnts[i - 2]
        more = True
        while more:
            c = <int>(x & 0x1f)
            x >>= 5
            if c & 0x10:
                more = x != -1
            else:
                more = x != 0
            if more:
                c |= 0x20
            out[p] = <char>(c + 48)
            p += 1
    return p


cdef struct Reader:
    const uint8_t* s
    Py_ssize_t n
    Py_ssize_t pos
    Py_ssize_t idx
    int64_t prev[2]     # the last count of each parity (a count adds to the one two back)
    int err             # a problem found by the up-front check, reported by read_count


cdef int check_alphabet(const uint8_t* s, Py_ssize_t n) noexcept nogil:
    """One vectorisable pass: every byte in '0'..'o', and the last one ends a group. After
    it the group loop needs no per-byte checks and cannot run past the end."""
    cdef uint8_t bad = 0
    cdef Py_ssize_t i
    for i in range(n):
        bad |= <uint8_t>(s[i] - 48) & 0xC0
    if bad:
        return ERR_CHAR
    if n and ((s[n - 1] - 48) & 0x20):
        return ERR_TRUNC
    return 0


cdef inline void reader_init(Reader* r, const uint8_t* s, Py_ssize_t n) noexcept nogil:
    r.s = s
    r.n = n
    r.pos = 0
    r.idx = 0
    r.prev[0] = 0
    r.prev[1] = 0
    r.err = check_alphabet(s, n)


cdef inline int read_long_group(const uint8_t* s, Py_ssize_t* p, int64_t* x) noexcept nogil:
    """The value of a group of two or more characters starting at s[p[0]] (the string passed
    check_alphabet, so the group ends inside it); advances p[0]. 0 or ERR_LONG."""
    cdef Py_ssize_t q = p[0]
    cdef int64_t v = 0
    cdef int k = 0, c
    while True:
        c = s[q] - 48
        q += 1
        if k < 7:
            v |= (<int64_t>(c & 0x1f)) << (5 * k)
        k += 1
        if not (c & 0x20):
            break
    p[0] = q
    if k > 7:
        return ERR_LONG
    if c & 0x10:
        v = <int64_t>((<uint64_t>v) | ((~(<uint64_t>0)) << (5 * k)))
    x[0] = v
    return 0


cdef inline int next_count(const uint8_t* s, Py_ssize_t* p, int64_t prev, bint delta,
                           int64_t* x) noexcept nogil:
    """The count at s[p[0]] (after check_alphabet), added to `prev` when `delta`."""
    cdef int64_t c = s[p[0]] - 48
    if not (c & 0x20):
        x[0] = c - ((c & 0x10) << 1)
        p[0] += 1
    elif read_long_group(s, p, x) < 0:
        return ERR_LONG
    if delta:
        x[0] += prev
    if <uint64_t>x[0] > U32MAX:
        return ERR_RANGE
    return 0


cdef inline int read_count(Reader* r, uint64_t* out) noexcept nogil:
    """Read the next count: 1 if read, 0 at the end of the string, or a negative error."""
    cdef int64_t x
    cdef int rc
    if r.err:
        return r.err
    if r.pos >= r.n:
        return 0
    rc = next_count(r.s, &r.pos, r.prev[r.idx & 1], r.idx > 2, &x)
    if rc < 0:
        return rc
    r.prev[r.idx & 1] = x
    r.idx += 1
    out[0] = <uint64_t>x
    return 1


cdef inline int next_fg_run(Reader* r, uint64_t hw, uint64_t* pos, uint64_t* start,
                            uint64_t* length) noexcept nogil:
    """Advance to the next non-empty foreground run: 1 and its [start, start + length), 0 at
    the end, or an error. `pos` (start it at 0) is the position reached so far; every count
    is checked against the `hw` pixels before it is used."""
    cdef uint64_t c
    cdef int rc
    while True:
        rc = read_count(r, &c)
        if rc <= 0:
            return rc
        if pos[0] + c > hw:
            return ERR_OVERRUN
        pos[0] += c
        if (r.idx & 1) == 0 and c > 0:  # the count just read had an odd index: foreground
            start[0] = pos[0] - c
            length[0] = c
            return 1


include "_rle_groups.pxi"


cdef Py_ssize_t parse_counts(const uint8_t* s, Py_ssize_t n, U32Buf* out) noexcept nogil:
    """Append every count of the string to `out`; return how many or an error.

    (A word-at-a-time variant, one 8-byte load and a count-trailing-zeros per group, was
    measured slower than this byte loop: about 10 cycles per count either way.)"""
    cdef Reader r
    cdef uint64_t c
    cdef int rc
    cdef Py_ssize_t m = 0
    cdef uint32_t* o
    # a count takes at least one character
    if u32_reserve(out, n + GROUPS_SLACK) < 0:
        return ERR_NOMEM
    o = out.data + out.n
    m = parse_groups(s, n, o)
    if m >= 0:
        out.n += m
        return m
    m = 0
    reader_init(&r, s, n)
    while True:
        rc = read_count(&r, &c)
        if rc < 0:
            return rc
        if rc == 0:
            break
        o[m] = <uint32_t>c
        m += 1
    out.n += m
    return m


cdef bytes counts_to_bytes(const uint32_t* cnts, Py_ssize_t m):
    """Build the bytes of the counts string (GIL held for the allocation only)."""
    cdef bytes res
    cdef Py_ssize_t length
    cdef char* buf = <char*>malloc(7 * m + 1)
    if buf == NULL:
        raise MemoryError()
    with nogil:
        length = counts_to_chars(cnts, m, buf)
    try:
        res = PyBytes_FromStringAndSize(buf, length)
    finally:
        free(buf)
    return res


include "_rle_scan.pxi"


# ---------------------------------------------------------------------------------------------
# streaming area and bounding box straight from the string
# ---------------------------------------------------------------------------------------------

cdef struct BoxAcc:
    # running tight box of foreground runs (pycocotools rleToBbox, 64-bit positions)
    uint64_t h
    double inv_h       # 1 / h, for the column of a run's start
    uint64_t xs
    uint64_t ys
    uint64_t xe
    uint64_t ye
    bint any_fg


cdef inline void box_init(BoxAcc* b, uint64_t h, uint64_t w) noexcept nogil:
    b.h = h
    b.inv_h = 1.0 / <double>h if h else 0.0
    b.xs = w
    b.ys = h
    b.xe = 0
    b.ye = 0
    b.any_fg = False


cdef inline void box_add(BoxAcc* b, uint64_t start, uint64_t c) noexcept nogil:
    """Add the foreground run [start, start + c), c > 0, start < 2**53 (callers check the
    counts against h*w < 2**48 first); runs come in stream order. The column of the start is
    start * (1/h) in double precision, off by at most one and corrected from the remainder: no division and, unlike following the
    column from run to run, no chain from one run to the next. A division is needed only for
    a run that spans columns."""
    cdef uint64_t h = b.h
    cdef int64_t q = <int64_t>(<double>start * b.inv_h)
    cdef int64_t r = <int64_t>start - q * <int64_t>h
    cdef uint64_t x0, y0, x1, y1, e
    if r < 0:
        q -= 1
        r += <int64_t>h
    elif r >= <int64_t>h:
        q += 1
        r -= <int64_t>h
    x0 = <uint64_t>q
    y0 = <uint64_t>r
    e = y0 + c - 1  # the run's end, from the same column start
    if e < h:
        x1 = x0
        y1 = e
    else:
        x1 = x0 + e // h
        y1 = e % h
    # runs come in order: the first one gives the left column, the last the right one
    if not b.any_fg:
        b.xs = x0
        b.any_fg = True
    b.xe = x1
    if x0 < x1:
        b.ys = 0
        b.ye = h - 1
    else:
        b.ys = min(b.ys, y0)
        b.ye = max(b.ye, y1)


cdef inline void box_out(const BoxAcc* b, double* bb) noexcept nogil:
    """[x, y, w, h]; zeros when there is no foreground (pycocotools: garbage)."""
    if not b.any_fg:
        bb[0] = 0
        bb[1] = 0
        bb[2] = 0
        bb[3] = 0
    else:
        bb[0] = <double>b.xs
        bb[1] = <double>b.ys
        bb[2] = <double>(b.xe - b.xs + 1)
        bb[3] = <double>(b.ye - b.ys + 1)


cdef int counts_bbox(const uint32_t* cn, Py_ssize_t m, uint64_t h, uint64_t w,
                     double* bb) noexcept nogil:
    """Tight box [x, y, w, h] of the foreground of a counts array, or ERR_OVERRUN (the counts
    pass h*w; the box is then not written). Counts are walked in (background, foreground)
    pairs; positions only grow, so a check after each pair finds an overrun (box_add sees
    at most h*w + 2**33), and h == 0 (no pixels: any foreground overruns) is settled before
    the walk reaches box_add."""
    cdef uint64_t pos = 0, c, hw = h * w
    cdef Py_ssize_t i
    cdef BoxAcc acc
    box_init(&acc, h, w)
    if h == 0 or w == 0:
        for i in range(m):
            if cn[i]:
                return ERR_OVERRUN
        box_out(&acc, bb)
        return 0
    for i in range(0, m - 1, 2):
        pos += cn[i]
        c = cn[i + 1]
        if c:
            box_add(&acc, pos, c)
        pos += c
        if pos > hw:
            return ERR_OVERRUN
    if m & 1 and pos + cn[m - 1] > hw:
        return ERR_OVERRUN
    box_out(&acc, bb)
    return 0


cdef inline int string_fg(const uint8_t* s, Py_ssize_t n, uint64_t hw, uint64_t* area,
                          BoxAcc* box) noexcept nogil:
    """Walk the foreground of a string (no counts array): its pixel count into `area`, and
    each non-empty foreground run into `box` unless it is NULL. Counts are read in
    (background, foreground) pairs, so the parity is known without tracking it; errors and
    their order are read_count's, each count checked against `hw` before it is used."""
    cdef Py_ssize_t p = 0, pairs = 0
    cdef int64_t bg = 0, fg = 0
    cdef uint64_t pos = 0, a = 0
    cdef int rc = check_alphabet(s, n)
    if rc < 0:
        return rc
    while p < n:
        rc = next_count(s, &p, bg, pairs >= 2, &bg)  # a count adds to the one two back
        if rc < 0:
            return rc
        pos += <uint64_t>bg
        if pos > hw:
            return ERR_OVERRUN
        if p >= n:
            break
        rc = next_count(s, &p, fg, pairs >= 1, &fg)
        if rc < 0:
            return rc
        if pos + <uint64_t>fg > hw:
            return ERR_OVERRUN
        if box != NULL and fg:
            box_add(box, pos, <uint64_t>fg)
        pos += <uint64_t>fg
        a += <uint64_t>fg
        pairs += 1
    area[0] = a
    return 0


cdef inline Py_ssize_t scratch_groups(const uint8_t* s, Py_ssize_t n, U32Buf* scratch) noexcept nogil:
    """The counts of `s` in scratch.data by the vector parser: their number, or -1 when the
    reference reader must walk the string (see parse_groups; also without scratch memory)."""
    if scratch == NULL or n < GROUPS_MIN_CHARS or not mc_groups_on:
        return -1
    scratch.n = 0
    if u32_reserve(scratch, n + GROUPS_SLACK) < 0:
        return -1
    return parse_groups(s, n, scratch.data)


cdef int string_area(const uint8_t* s, Py_ssize_t n, uint64_t hw, uint64_t* area,
                     U32Buf* scratch) noexcept nogil:
    """Foreground count of the string: from the vector parser's counts when it can read
    them (the string is then valid unless the counts pass hw, which the reference walk
    reports), else straight from the string."""
    cdef Py_ssize_t m = scratch_groups(s, n, scratch)
    cdef uint64_t bg, fg
    if m >= 0:
        mc_sum_parities(scratch.data, m, &bg, &fg)
        if bg + fg <= hw:
            area[0] = fg
            return 0
    return string_fg(s, n, hw, area, NULL)


cdef int string_bbox(const uint8_t* s, Py_ssize_t n, uint64_t h, uint64_t w, double* bb,
                     U32Buf* scratch) noexcept nogil:
    """Tight box of the string: from the vector parser's counts when it can read them (see
    string_area), else straight from the string. Counts are checked against h*w before
    box_add, so h == 0 never reaches its division."""
    cdef uint64_t a
    cdef BoxAcc acc
    cdef int rc
    cdef Py_ssize_t m = scratch_groups(s, n, scratch)
    if m >= 0:
        return counts_bbox(scratch.data, m, h, w, bb)
    box_init(&acc, h, w)
    rc = string_fg(s, n, h * w, &a, &acc)
    if rc == 0:
        box_out(&acc, bb)
    return rc


# ---------------------------------------------------------------------------------------------
# decode
# ---------------------------------------------------------------------------------------------

cdef int parse_checked(const uint8_t* s, Py_ssize_t n, uint64_t total, U32Buf* buf) noexcept nogil:
    """Counts of `s` into `buf` (reset), validated in string order against `total` pixels."""
    cdef Reader r
    cdef uint64_t c, pos = 0
    cdef int rc
    cdef uint32_t* data
    cdef Py_ssize_t m = 0
    cdef uint64_t bg, fg
    buf.n = 0
    if u32_reserve(buf, n + GROUPS_SLACK) < 0:
        return ERR_NOMEM
    # the count and the output pointer live in locals: stores through `data` may alias *buf,
    # so updating buf.n in the loop would go through memory on every count
    data = buf.data
    m = parse_groups(s, n, data)
    if m >= 0:
        mc_sum_parities(data, m, &bg, &fg)
        if bg + fg <= total:
            buf.n = m
            return 0
    m = 0  # not read, or an overrun: the reference reader finds what and where
    reader_init(&r, s, n)
    while True:
        rc = read_count(&r, &c)
        if rc <= 0:
            buf.n = m
            return rc
        pos += c
        if pos > total:
            return ERR_OVERRUN
        data[m] = <uint32_t>c
        m += 1


cdef extern from *:
    """
    /* Writing one run out[pos:end] of value v, in a buffer of `total` bytes written in
       stream order. With GCC or Clang on x86 and a CPU with AVX2 (checked at run time, no
       compile flags), a run with 32 bytes of room after it is written with one unaligned
       and then aligned 32-byte stores, its end rounded up: the spill lands on bytes that a
       later run or the zero tail overwrites, and never reaches `total`. Otherwise memset. */
    #include <string.h>
    #include <stdint.h>
    #if !defined(MC_FORCE_SWAR) && (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    #include <immintrin.h>
    static int mc_cpu_avx2 = 0;
    static void mc_cpu_init(void) {
        __builtin_cpu_init();
        mc_cpu_avx2 = __builtin_cpu_supports("avx2") != 0;
    }
    __attribute__((target("avx2")))
    static void mc_write_run_avx2(unsigned char* out, uint64_t pos, uint64_t end, unsigned char v) {
        __m256i x = _mm256_set1_epi8((char)v);
        unsigned char *q, *e = out + end;
        _mm256_storeu_si256((__m256i*)(out + pos), x);
        q = (unsigned char*)(((uintptr_t)(out + pos) + 32) & ~(uintptr_t)31);
        for (; q < e; q += 32) _mm256_store_si256((__m256i*)q, x);
    }
    static inline void mc_write_run(unsigned char* out, uint64_t pos, uint64_t end, unsigned char v,
                                    uint64_t total) {
        if (mc_cpu_avx2 && end + 32 <= total) mc_write_run_avx2(out, pos, end, v);
        else if (end > pos) memset(out + pos, v, end - pos);
    }
    #else
    static int mc_cpu_avx2 = 0;
    static void mc_cpu_init(void) {}
    static inline void mc_write_run(unsigned char* out, uint64_t pos, uint64_t end, unsigned char v,
                                    uint64_t total) {
        (void)total;
        if (end > pos) memset(out + pos, v, end - pos);
    }
    #endif
    """
    int mc_cpu_avx2
    void mc_cpu_init() nogil
    void mc_write_run(uint8_t* out, uint64_t pos, uint64_t end, uint8_t v, uint64_t total) nogil


mc_cpu_init()


cdef void fill_runs(const uint32_t* cn, Py_ssize_t m, uint8_t* out, uint64_t total,
                    uint8_t one) noexcept nogil:
    """Write validated runs into out[0:total] in stream order; zeros after the last run."""
    cdef uint64_t pos = 0
    cdef uint8_t v = 0
    cdef Py_ssize_t i
    for i in range(m):
        mc_write_run(out, pos, pos + cn[i], v, total)
        pos += cn[i]
        v ^= one
    if pos < total:
        memset(out + pos, 0, total - pos)


# decode_one writes outputs up to this size while it parses (one pass, the parse overlapping
# the stores); larger ones are validated first, so a bad string never allocates them
cdef uint64_t FUSED_MAX_PIXELS = (<uint64_t>1) << 24


cdef int parse_fill(const uint8_t* s, Py_ssize_t n, uint8_t* out, uint64_t total,
                    uint8_t one) noexcept nogil:
    """Parse `s` and write each run into out[0:total] as soon as it is read, then zero the
    tail. Nothing outside out[0:total] is written, but on an error (the code parse_checked
    returns) a prefix has been: only for a fresh buffer that is then discarded."""
    cdef Reader r
    cdef uint64_t c, pos = 0
    cdef uint8_t v = 0
    cdef int rc
    reader_init(&r, s, n)
    rc = read_count(&r, &c)
    while rc > 0:
        if c > total - pos:
            return ERR_OVERRUN
        mc_write_run(out, pos, pos + c, v, total)
        pos += c
        v ^= one
        rc = read_count(&r, &c)
    if rc < 0:
        return rc
    if pos < total:
        memset(out + pos, 0, total - pos)
    return 0


cdef int decode_linear(const uint8_t* s, Py_ssize_t n, uint8_t* out, uint64_t total,
                       uint8_t one) noexcept nogil:
    """Write the runs of `s` into `out[0:total]` in stream order; the tail beyond the
    counts is zero-filled. The whole string is validated before anything is written."""
    cdef U32Buf buf
    cdef int rc
    memset(&buf, 0, sizeof(U32Buf))
    rc = parse_checked(s, n, total, &buf)
    if rc == 0:
        fill_runs(buf.data, buf.n, out, total, one)
    free(buf.data)
    return rc


cdef struct Scratch:
    # events for row sweeps: (row, col) pairs as uint64 keyed by row through a counting sort
    uint64_t* ev_col
    uint64_t* ev_row
    Py_ssize_t ev_n
    Py_ssize_t ev_cap
    uint64_t* bucket        # counting-sort buckets
    Py_ssize_t bucket_cap
    uint64_t* order         # sorted event columns
    Py_ssize_t order_cap
    uint8_t* row            # one row of state
    Py_ssize_t row_cap


cdef void scratch_free(Scratch* sc) noexcept nogil:
    free(sc.ev_col)
    free(sc.ev_row)
    free(sc.bucket)
    free(sc.order)
    free(sc.row)
    memset(sc, 0, sizeof(Scratch))


cdef int ev_push(Scratch* sc, uint64_t row, uint64_t col) noexcept nogil:
    cdef Py_ssize_t cap
    cdef uint64_t* a
    cdef uint64_t* b
    if sc.ev_n >= sc.ev_cap:
        cap = sc.ev_cap * 2 if sc.ev_cap else 256
        a = <uint64_t*>realloc(sc.ev_col, cap * sizeof(uint64_t))
        if a == NULL:
            return ERR_NOMEM
        sc.ev_col = a
        b = <uint64_t*>realloc(sc.ev_row, cap * sizeof(uint64_t))
        if b == NULL:
            return ERR_NOMEM
        sc.ev_row = b
        sc.ev_cap = cap
    sc.ev_col[sc.ev_n] = col
    sc.ev_row[sc.ev_n] = row
    sc.ev_n += 1
    return 0


cdef int grow_u64(uint64_t** p, Py_ssize_t* cap, Py_ssize_t need) noexcept nogil:
    cdef uint64_t* q
    if need <= cap[0]:
        return 0
    q = <uint64_t*>realloc(p[0], need * sizeof(uint64_t))
    if q == NULL:
        return ERR_NOMEM
    p[0] = q
    cap[0] = need
    return 0


cdef int column_events(const uint8_t* s, Py_ssize_t n, uint64_t h, uint64_t w,
                       Scratch* sc) noexcept nogil:
    """Turn the column-major runs of `s` into toggle events (row, col): the foreground of
    column x starts or stops at row y. Validates the string; the tail is background."""
    cdef Reader r
    cdef uint64_t pos = 0, start, length, end, x0, y0, x1, y1, x
    cdef int rc
    sc.ev_n = 0
    reader_init(&r, s, n)
    while True:
        rc = next_fg_run(&r, h * w, &pos, &start, &length)
        if rc <= 0:
            return rc
        end = start + length  # exclusive
        x0 = start // h
        y0 = start % h
        x1 = (end - 1) // h
        y1 = (end - 1) % h + 1  # exclusive row in the last column
        if ev_push(sc, y0, x0) < 0:
            return ERR_NOMEM
        if x1 == x0:
            if y1 < h and ev_push(sc, y1, x0) < 0:
                return ERR_NOMEM
        else:
            x = x0 + 1
            while x <= x1:
                if ev_push(sc, 0, x) < 0:
                    return ERR_NOMEM
                x += 1
            if y1 < h and ev_push(sc, y1, x1) < 0:
                return ERR_NOMEM


cdef int sort_events_by_row(Scratch* sc, uint64_t h) noexcept nogil:
    """Counting sort of the events by row: afterwards bucket[y]..bucket[y+1] indexes
    sc.order, which holds the columns of row y's events."""
    cdef Py_ssize_t i
    cdef uint64_t y, acc = 0, t
    if grow_u64(&sc.bucket, &sc.bucket_cap, <Py_ssize_t>h + 1) < 0:
        return ERR_NOMEM
    if grow_u64(&sc.order, &sc.order_cap, sc.ev_n + 1) < 0:
        return ERR_NOMEM
    memset(sc.bucket, 0, (h + 1) * sizeof(uint64_t))
    for i in range(sc.ev_n):
        sc.bucket[sc.ev_row[i]] += 1
    for y in range(h + 1):
        t = sc.bucket[y]
        sc.bucket[y] = acc
        acc += t
    for i in range(sc.ev_n):
        y = sc.ev_row[i]
        sc.order[sc.bucket[y]] = sc.ev_col[i]
        sc.bucket[y] += 1
    # shift back so that bucket[y] is the start of row y
    y = h
    while y > 0:
        sc.bucket[y] = sc.bucket[y - 1]
        y -= 1
    sc.bucket[0] = 0
    return 0


cdef int ensure_row(Scratch* sc, uint64_t w) noexcept nogil:
    cdef uint8_t* p
    if <Py_ssize_t>w + 8 > sc.row_cap:
        p = <uint8_t*>realloc(sc.row, w + 8)
        if p == NULL:
            return ERR_NOMEM
        sc.row = p
        sc.row_cap = w + 8
    memset(sc.row, 0, w + 8)
    return 0


cdef int row_sweep_setup(const uint8_t* s, Py_ssize_t n, uint64_t h, uint64_t w,
                         Scratch* sc) noexcept nogil:
    """Events of the string sorted by row, and a zeroed row of state: ready to sweep."""
    cdef int rc = column_events(s, n, h, w, sc)
    if rc < 0:
        return rc
    rc = sort_events_by_row(sc, h)
    if rc < 0:
        return rc
    return ensure_row(sc, w)


cdef inline void row_apply(Scratch* sc, uint64_t y, uint8_t one) noexcept nogil:
    """Toggle the row state by the events of row y."""
    cdef Py_ssize_t k = sc.bucket[y], k1 = sc.bucket[y + 1]
    while k < k1:
        sc.row[sc.order[k]] ^= one
        k += 1


cdef int decode_rows(const uint8_t* s, Py_ssize_t n, uint64_t h, uint64_t w,
                     uint8_t* out, Py_ssize_t row_stride, uint8_t one,
                     Scratch* sc) noexcept nogil:
    """Decode column-major runs straight into a row-major (C-ordered) image, writing every
    output byte once: a row of state is toggled by the events of each row and copied out."""
    cdef int rc
    cdef uint64_t y
    rc = row_sweep_setup(s, n, h, w, sc)
    if rc < 0:
        return rc
    for y in range(h):
        row_apply(sc, y, one)
        memcpy(out + <Py_ssize_t>y * row_stride, sc.row, w)
    return 0


cdef int transpose_runs(const uint8_t* s, Py_ssize_t n, uint64_t h, uint64_t w,
                        U32Buf* out, Scratch* sc) noexcept nogil:
    """Column-major runs of an h x w mask -> row-major runs of the same mask (that is, the
    column-major runs of its transpose). The image is never materialised, nor is a row:
    the state of the current row is the sorted list of its run boundaries (columns where
    the value changes, w included when the row ends in foreground), updated by each row's
    toggles (sorted by column) through a symmetric difference. Time and memory are
    O(h + events + output), whatever w is."""
    cdef int rc
    cdef uint64_t y, start = 0, base, q, total = h * w, t, x
    cdef Py_ssize_t k, k1, i, j, nb = 0, nu, nn, cap = 0, need
    cdef uint64_t* B = NULL      # boundaries of the current row
    cdef uint64_t* N = NULL      # next boundaries
    cdef uint64_t* U = NULL      # this row's toggles as boundaries
    cdef uint64_t* tmp
    cdef bint v = False
    rc = column_events(s, n, h, w, sc)
    if rc < 0:
        return rc
    rc = sort_events_by_row(sc, h)
    if rc < 0:
        return rc
    out.n = 0
    rc = 0
    for y in range(h):
        k = sc.bucket[y]
        k1 = sc.bucket[y + 1]
        if k1 > k:
            need = nb + 2 * (k1 - k) + 1
            if need > cap:
                cap = need if need > 2 * cap else 2 * cap
                tmp = <uint64_t*>realloc(B, cap * sizeof(uint64_t))
                if tmp == NULL:
                    rc = ERR_NOMEM
                    break
                B = tmp
                tmp = <uint64_t*>realloc(N, cap * sizeof(uint64_t))
                if tmp == NULL:
                    rc = ERR_NOMEM
                    break
                N = tmp
                tmp = <uint64_t*>realloc(U, cap * sizeof(uint64_t))
                if tmp == NULL:
                    rc = ERR_NOMEM
                    break
                U = tmp
            # toggling column x flips the boundaries x and x+1 (equal ones cancel); the
            # toggles come sorted by column, and two toggles of one column cancel
            nu = 0
            while k < k1:
                x = sc.order[k]
                k += 1
                if k < k1 and sc.order[k] == x:
                    k += 1
                    continue
                if nu > 0 and U[nu - 1] == x:
                    nu -= 1
                else:
                    U[nu] = x
                    nu += 1
                U[nu] = x + 1
                nu += 1
            # N = B xor U (both sorted)
            i = 0
            j = 0
            nn = 0
            while i < nb or j < nu:
                if j >= nu or (i < nb and B[i] < U[j]):
                    N[nn] = B[i]
                    i += 1
                    nn += 1
                elif i >= nb or U[j] < B[i]:
                    N[nn] = U[j]
                    j += 1
                    nn += 1
                else:
                    i += 1
                    j += 1
            tmp = B
            B = N
            N = tmp
            nb = nn
        # emit the row: its value starts as background at column 0 of this row
        base = y * w
        if nb == 0 or B[0] != 0:
            # row starts in background
            if v:
                if push_run(out, base - start) < 0:
                    rc = ERR_NOMEM
                    break
                start = base
                v = False
        for i in range(nb):
            q = B[i]
            if q >= w:
                break
            if q == 0:
                # row starts in foreground
                if not v:
                    if push_run(out, base - start) < 0:
                        rc = ERR_NOMEM
                        break
                    start = base
                    v = True
                continue
            if push_run(out, base + q - start) < 0:
                rc = ERR_NOMEM
                break
            start = base + q
            v = not v
        if rc < 0:
            break
    if rc == 0 and push_run(out, total - start) < 0:
        rc = ERR_NOMEM
    free(B)
    free(N)
    free(U)
    return rc


include "_rle_poly.pxi"
include "_eval.pxi"
include "_lvis.pxi"
include "_coco_json.pxi"


# ---------------------------------------------------------------------------------------------
# Python-facing helpers: unpack RLE dicts once, with the GIL, into C arrays
# ---------------------------------------------------------------------------------------------

cdef class _Strings:
    """Pointers to the counts strings and sizes of a list of RLE dicts (kept alive here)."""
    cdef list keep
    cdef const uint8_t** ptr
    cdef Py_ssize_t* length
    cdef uint64_t* h
    cdef uint64_t* w
    cdef Py_ssize_t n

    def __cinit__(self):
        self.keep = []
        self.ptr = NULL
        self.length = NULL
        self.h = NULL
        self.w = NULL
        self.n = 0

    def __dealloc__(self):
        free(self.ptr)
        free(self.length)
        free(self.h)
        free(self.w)


cdef inline bytes _as_counts_bytes(object counts):
    if type(counts) is bytes:
        return counts
    if isinstance(counts, str):
        try:
            return PyUnicode_AsASCIIString(counts)
        except UnicodeEncodeError:
            raise CountsStringError(
                "counts string contains a character outside '0'..'o' (48..111)") from None
    if isinstance(counts, bytes):
        return bytes(counts)
    raise RLETypeError(f"Expected bytes, got {type(counts).__name__}")


cdef int _fast_dim(object v, uint64_t* out) except -1:
    """A non-negative int from a Python int (fast path) or anything int() accepts."""
    cdef long long x
    try:
        x = v if type(v) is int else int(v)
    except (TypeError, ValueError):
        raise MaskShapeError(f"RLE size must be two integers, got {v!r}") from None
    except OverflowError:  # infinite, or beyond 64 bits
        raise ImageTooLargeError(f"RLE size {v!r} has too many pixels") from None
    if x < 0:
        raise MaskShapeError(f"RLE size must be non-negative, got {v!r}")
    out[0] = <uint64_t>x
    return 0


cdef object _rle_key(object rle, str key):
    """rle[key]; RLEKeyError (a KeyError) when the key is missing."""
    try:
        return rle[key]
    except KeyError:
        raise RLEKeyError(f"RLE has no {key!r} key") from None


cdef int _read_size(object rle, uint64_t* h, uint64_t* w) except -1:
    size = _rle_key(rle, "size")
    cdef list sl
    cdef tuple st
    if type(size) is list and len(<list>size) == 2:
        sl = <list>size
        _fast_dim(sl[0], h)
        _fast_dim(sl[1], w)
    elif type(size) is tuple and len(<tuple>size) == 2:
        st = <tuple>size
        _fast_dim(st[0], h)
        _fast_dim(st[1], w)
    else:
        try:
            if len(size) != 2:
                raise TypeError
            _fast_dim(size[0], h)
            _fast_dim(size[1], w)
        except (TypeError, IndexError, KeyError):
            raise MaskShapeError(f"RLE size must be [h, w], got {size!r}") from None
    if h[0] > U32MAX or w[0] > U32MAX or h[0] * w[0] >= MAX_PIXELS:
        raise ImageTooLargeError(f"RLE size {size!r} has too many pixels")
    return 0


cdef _Strings _unpack(object rles, bint need_size=True):
    """Collect the counts and sizes of a sequence of RLE dicts."""
    cdef _Strings st = _Strings()
    cdef Py_ssize_t i, n = len(rles)
    cdef bytes b
    cdef list keep = st.keep
    cdef list lst = <list>rles if type(rles) is list else None
    cdef dict d
    st.n = n
    st.ptr = <const uint8_t**>malloc((n + 1) * sizeof(uint8_t*))
    st.length = <Py_ssize_t*>malloc((n + 1) * sizeof(Py_ssize_t))
    st.h = <uint64_t*>malloc((n + 1) * sizeof(uint64_t))
    st.w = <uint64_t*>malloc((n + 1) * sizeof(uint64_t))
    if st.ptr == NULL or st.length == NULL or st.h == NULL or st.w == NULL:
        raise MemoryError()
    for i in range(n):
        rle = lst[i] if lst is not None else rles[i]
        if type(rle) is dict:
            d = <dict>rle
            counts = d.get("counts", _MISSING)
            if counts is _MISSING:
                _rle_key(d, "counts")
        elif isinstance(rle, dict):
            counts = _rle_key(rle, "counts")
        else:
            raise RLETypeError(f"expected an RLE dict, got {type(rle).__name__}")
        b = _as_counts_bytes(counts)
        keep.append(b)
        st.ptr[i] = <const uint8_t*>PyBytes_AS_STRING(b)
        st.length[i] = PyBytes_GET_SIZE(b)
        if need_size:
            _read_size(rle, &st.h[i], &st.w[i])
        else:
            st.h[i] = 0
            st.w[i] = 0
    return st


cdef object _raise(int code, str context=""):
    raise error_for_code(code, context)


# ---------------------------------------------------------------------------------------------
# public kernel entry points (private module; see maskcodecs.mask / maskcodecs.rle)
# ---------------------------------------------------------------------------------------------

def string_from_counts(const uint32_t[::1] counts):
    """Compressed counts string of a uint32 count vector."""
    if counts.shape[0] == 0:
        return b""
    return counts_to_bytes(&counts[0], counts.shape[0])


def counts_from_string(const uint8_t[::1] s):
    """uint32 counts of a compressed counts string, as a bytes buffer of native uint32."""
    cdef U32Buf buf
    cdef Py_ssize_t rc
    buf.data = NULL
    buf.n = 0
    buf.cap = 0
    if s.shape[0] == 0:
        return b""
    with nogil:
        rc = parse_counts(&s[0], s.shape[0], &buf)
    try:
        if rc < 0:
            _raise(<int>rc)
        return PyBytes_FromStringAndSize(<char*>buf.data, buf.n * 4)
    finally:
        free(buf.data)


def counts_string_total(const uint8_t[::1] s):
    """Sum of the counts of a compressed counts string, read in one pass without storing
    them (constant memory, for validating huge strings); the errors of counts_from_string.
    A sum past 2**64 - 1 saturates there."""
    cdef Reader r
    cdef uint64_t c = 0, total = 0
    cdef int rc = 0
    if s.shape[0] == 0:
        return 0
    with nogil:
        reader_init(&r, &s[0], s.shape[0])
        while True:
            rc = read_count(&r, &c)
            if rc <= 0:
                break
            total = total + c if total <= 0xFFFFFFFFFFFFFFFFu - c else 0xFFFFFFFFFFFFFFFFu
    if rc < 0:
        _raise(rc)
    return total


def string_area_bbox_lean(const uint8_t[::1] s, uint64_t h, uint64_t w):
    """(area, [x, y, w, h]) of an h x w mask's counts string in one walk of the string,
    without the vector parser's counts buffer (4 bytes a count): for validating huge
    strings in memory proportional to nothing but the string. Errors as area_one."""
    cdef uint64_t a = 0
    cdef BoxAcc acc
    cdef double bb[4]
    cdef int rc
    if too_many_pixels(h, w):
        raise ImageTooLargeError("mask has too many pixels")
    box_init(&acc, h, w)
    with nogil:
        rc = string_fg(&s[0] if s.shape[0] else NULL, s.shape[0], h * w, &a, &acc)
    if rc < 0:
        _raise(rc, "RLE 0")
    box_out(&acc, bb)
    return a, [bb[0], bb[1], bb[2], bb[3]]


def encode_masks(const uint8_t[:, :, :] m):
    """Encode every mask m[:, :, k] (any strides) into a compressed RLE dict."""
    cdef Py_ssize_t h = m.shape[0], w = m.shape[1], n = m.shape[2], k
    cdef Py_ssize_t s0 = m.strides[0], s1 = m.strides[1], s2 = m.strides[2]
    cdef const uint8_t* base
    cdef U32Buf buf
    cdef Scan scan
    cdef int rc = 0
    cdef list out = []
    if too_many_pixels(<uint64_t>h, <uint64_t>w):
        raise ImageTooLargeError("mask has too many pixels")
    buf.data = NULL
    buf.n = 0
    buf.cap = 0
    memset(&scan, 0, sizeof(Scan))
    try:
        for k in range(n):
            buf.n = 0
            if h == 0 or w == 0:
                rc = push_run(&buf, 0)
            else:
                base = &m[0, 0, k]
                with nogil:
                    rc = encode_2d(base, h, w, s0, s1, &buf, &scan)
            if rc < 0:
                _raise(rc)
            out.append({"size": [h, w], "counts": counts_to_bytes(buf.data, buf.n)})
    finally:
        free(buf.data)
        scan_free(&scan)
    return out


cdef object encode_counts(const uint8_t[:, :] m, bint as_string):
    """One 2-D mask, any strides: its counts string, or its uint32 counts as bytes."""
    cdef Py_ssize_t h = m.shape[0], w = m.shape[1]
    cdef U32Buf buf
    cdef Scan scan
    cdef int rc = 0
    if too_many_pixels(<uint64_t>h, <uint64_t>w):
        raise ImageTooLargeError("mask has too many pixels")
    buf.data = NULL
    buf.n = 0
    buf.cap = 0
    memset(&scan, 0, sizeof(Scan))
    try:
        if h == 0 or w == 0:
            rc = push_run(&buf, 0)
        else:
            with nogil:
                rc = encode_2d(&m[0, 0], h, w, m.strides[0], m.strides[1], &buf, &scan)
        if rc < 0:
            _raise(rc)
        if as_string:
            return counts_to_bytes(buf.data, buf.n)
        return PyBytes_FromStringAndSize(<char*>buf.data, buf.n * 4)
    finally:
        free(buf.data)
        scan_free(&scan)


def encode_one(const uint8_t[:, :] m):
    """Compressed counts string of one 2-D mask, any strides (column-major runs)."""
    return encode_counts(m, True)


def decode_into(list rles, uint8_t[::1] out, Py_ssize_t h, Py_ssize_t w, bint c_order,
                Py_ssize_t start=0, Py_ssize_t stop=-1, uint8_t one=1):
    """Decode rles[start:stop] into the flat buffer `out` of n*h*w bytes, mask k at k*h*w.
    Fortran layout (column-major, the pycocotools layout) or C layout (row-major, per mask).
    Every RLE must have size [h, w]."""
    cdef _Strings st = _unpack(rles)
    cdef Py_ssize_t k, n = st.n
    cdef uint64_t hw = <uint64_t>h * <uint64_t>w
    cdef int rc = 0
    cdef Scratch sc
    if stop < 0:
        stop = n
    for k in range(n):
        if st.h[k] != <uint64_t>h or st.w[k] != <uint64_t>w:
            raise SizeMismatchError(
                f"RLE {k} has size [{st.h[k]}, {st.w[k]}], expected [{h}, {w}]")
    if <uint64_t>out.shape[0] < hw * <uint64_t>n:
        raise ValueError("output buffer too small")
    memset(&sc, 0, sizeof(Scratch))
    try:
        with nogil:
            for k in range(start, stop):
                if hw == 0:
                    rc = decode_linear(st.ptr[k], st.length[k], NULL, 0, one) if st.length[k] else 0
                elif c_order:
                    rc = decode_rows(st.ptr[k], st.length[k], h, w, &out[0] + k * hw, w, one, &sc)
                else:
                    rc = decode_linear(st.ptr[k], st.length[k], &out[0] + k * hw, hw, one)
                if rc < 0:
                    break
        if rc < 0:
            _raise(rc, f"RLE {k}")
    finally:
        scratch_free(&sc)


def decode_string(const uint8_t[::1] s, uint8_t[::1] out, Py_ssize_t h, Py_ssize_t w,
                  bint c_order, uint8_t one=1):
    """Decode one counts string of an h x w mask into `out` (h*w bytes)."""
    cdef int rc = 0
    cdef uint64_t hw = <uint64_t>h * <uint64_t>w
    cdef Scratch sc
    cdef const uint8_t* sp = &s[0] if s.shape[0] else NULL
    cdef uint8_t* op = &out[0] if out.shape[0] else NULL
    if <uint64_t>out.shape[0] < hw:
        raise ValueError("output buffer too small")
    memset(&sc, 0, sizeof(Scratch))
    try:
        with nogil:
            if hw == 0:
                rc = decode_linear(sp, s.shape[0], op, 0, one)
            elif c_order:
                rc = decode_rows(sp, s.shape[0], h, w, op, w, one, &sc)
            else:
                rc = decode_linear(sp, s.shape[0], op, hw, one)
        if rc < 0:
            _raise(rc)
    finally:
        scratch_free(&sc)


# scratch memory transpose_string may use whatever the input length (row state, row buckets,
# events): beyond this a tiny string claiming a huge size is refused, not allocated for
cdef uint64_t TRANSPOSE_SCRATCH_MAX = (<uint64_t>1) << 28


cdef int transpose_scratch(const uint8_t* s, Py_ssize_t n, uint64_t h, uint64_t w,
                           uint64_t* need) noexcept nogil:
    """Validate the string for an h x w mask (h, w >= 1) and count the bytes of scratch
    transpose_runs will allocate, before anything is allocated."""
    cdef Reader r
    cdef uint64_t pos = 0, start, length, events = 0
    cdef int rc
    reader_init(&r, s, n)
    while True:
        rc = next_fg_run(&r, h * w, &pos, &start, &length)
        if rc < 0:
            return rc
        if rc == 0:
            break
        events += (start + length - 1) // h - start // h + 2
    # events (16 bytes each, x2 for the sort), row buckets, boundaries of a row
    need[0] = 48 * events + 8 * (h + 1)
    return 0


def transpose_string(const uint8_t[::1] s, Py_ssize_t h, Py_ssize_t w):
    """Counts string of the transpose: column-major runs of an h x w mask in, row-major
    runs out (Encord rleString <-> COCO counts)."""
    cdef U32Buf buf
    cdef Scratch sc
    cdef int rc = 0
    cdef const uint8_t* sp = &s[0] if s.shape[0] else NULL
    cdef uint64_t need = 0
    if h < 0 or w < 0:
        raise MaskShapeError("negative size")
    if too_many_pixels(<uint64_t>h, <uint64_t>w):
        raise ImageTooLargeError("mask has too many pixels")
    buf.data = NULL
    buf.n = 0
    buf.cap = 0
    memset(&sc, 0, sizeof(Scratch))
    try:
        with nogil:
            if h == 0 or w == 0:
                rc = decode_linear(sp, s.shape[0], NULL, 0, 1)
                if rc == 0:
                    rc = push_run(&buf, 0)
            else:
                rc = transpose_scratch(sp, s.shape[0], h, w, &need)
                if rc == 0 and need > TRANSPOSE_SCRATCH_MAX and need > 64 * <uint64_t>s.shape[0]:
                    rc = ERR_TOOBIG
                if rc == 0:
                    rc = transpose_runs(sp, s.shape[0], h, w, &buf, &sc)
        if rc < 0:
            _raise(rc, f"transpose of {h} x {w}" if rc == ERR_TOOBIG else "")
        return counts_to_bytes(buf.data, buf.n)
    finally:
        free(buf.data)
        scratch_free(&sc)


def areas(list rles, uint64_t[::1] out):
    """Foreground pixel count of each RLE dict into `out`."""
    cdef _Strings st = _unpack(rles)
    cdef Py_ssize_t k, n = st.n
    cdef int rc = 0
    cdef U32Buf scratch
    if out.shape[0] < n:
        raise ValueError("output buffer too small")
    memset(&scratch, 0, sizeof(U32Buf))
    with nogil:
        for k in range(n):
            rc = string_area(st.ptr[k], st.length[k], st.h[k] * st.w[k], &out[k], &scratch)
            if rc < 0:
                break
        free(scratch.data)
    if rc < 0:
        _raise(rc, f"RLE {k}")


def bboxes(list rles, double[:, ::1] out):
    """Tight [x, y, w, h] box of each RLE dict into out[k]."""
    cdef _Strings st = _unpack(rles)
    cdef Py_ssize_t k, n = st.n
    cdef int rc = 0
    cdef U32Buf scratch
    if out.shape[0] < n or out.shape[1] != 4:
        raise ValueError("output buffer has the wrong shape")
    memset(&scratch, 0, sizeof(U32Buf))
    with nogil:
        for k in range(n):
            rc = string_bbox(st.ptr[k], st.length[k], st.h[k], st.w[k], &out[k, 0], &scratch)
            if rc < 0:
                break
        free(scratch.data)
    if rc < 0:
        _raise(rc, f"RLE {k}")


def strings_area_bbox(const uint8_t[::1] chars, const int64_t[::1] off, const int64_t[::1] h,
                      const int64_t[::1] w, uint64_t[::1] area, double[:, ::1] bbox):
    """Area and box of counts strings chars[off[k]:off[k+1]] of size (h[k], w[k]); returns
    the index of the first invalid one (nothing is raised: the caller reads those the
    ordinary way), or -1."""
    cdef Py_ssize_t k, n = h.shape[0]
    cdef int rc = 0
    cdef U32Buf scratch
    cdef const uint8_t* base = &chars[0] if chars.shape[0] else NULL
    if off.shape[0] != n + 1 or w.shape[0] != n or area.shape[0] < n or \
            bbox.shape[0] < n or bbox.shape[1] != 4 or off[n] > chars.shape[0]:
        raise ValueError("strings_area_bbox: arrays of the wrong shape")
    for k in range(n):
        if off[k] < 0 or off[k] > off[k + 1] or h[k] < 0 or w[k] < 0 or \
                too_many_pixels(<uint64_t>h[k], <uint64_t>w[k]):
            return k
    memset(&scratch, 0, sizeof(U32Buf))
    with nogil:
        for k in range(n):
            rc = string_area(base + off[k], off[k + 1] - off[k], h[k] * w[k], &area[k],
                             &scratch)
            if rc >= 0:
                rc = string_bbox(base + off[k], off[k + 1] - off[k], h[k], w[k], &bbox[k, 0],
                                 &scratch)
            if rc < 0:
                break
        free(scratch.data)
    return k if rc < 0 else -1


# ---------------------------------------------------------------------------------------------
# feature kernels (each included part owns its def entry points)
# ---------------------------------------------------------------------------------------------
include "_contours.pxi"
include "_colour.pxi"
include "_labelmap.pxi"
include "_png.pxi"
include "_panoptic.pxi"
include "_rle_ops.pxi"


def area_one(rle):
    """Foreground pixel count of one RLE dict (the single-object fast path)."""
    cdef bytes b
    cdef uint64_t h, w, a = 0
    cdef int rc
    if not isinstance(rle, dict):
        raise RLETypeError(f"expected an RLE dict, got {type(rle).__name__}")
    cdef U32Buf scratch
    b = _as_counts_bytes(_rle_key(rle, "counts"))
    _read_size(rle, &h, &w)
    memset(&scratch, 0, sizeof(U32Buf))
    # the vector parser needs counts memory: worth its allocation only for longer strings
    rc = string_area(<const uint8_t*>PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b), h * w, &a,
                     &scratch if PyBytes_GET_SIZE(b) >= 256 else NULL)
    free(scratch.data)
    if rc < 0:
        _raise(rc, "RLE 0")
    return a


def decode_one(rle):
    """Decode one RLE dict into a new (h, w, 1) Fortran-ordered uint8 array. Up to
    FUSED_MAX_PIXELS the string is parsed and written in one pass into the fresh array
    (discarded on an error); above, it is validated before the h*w output is allocated."""
    cdef bytes b
    cdef uint64_t h, w
    cdef int rc
    cdef uint8_t[::1] flat
    cdef U32Buf buf
    if not isinstance(rle, dict):
        raise RLETypeError(f"expected an RLE dict, got {type(rle).__name__}")
    b = _as_counts_bytes(_rle_key(rle, "counts"))
    _read_size(rle, &h, &w)
    cdef const uint8_t* sp = <const uint8_t*>PyBytes_AS_STRING(b)
    cdef Py_ssize_t sn = PyBytes_GET_SIZE(b)
    import numpy as np
    if 0 < h * w <= FUSED_MAX_PIXELS:
        out = np.empty((h, w, 1), dtype=np.uint8, order="F")
        flat = out.reshape(-1, order="F")
        with nogil:
            rc = parse_fill(sp, sn, &flat[0], h * w, 1)
        if rc < 0:
            _raise(rc, "RLE 0")
        return out
    memset(&buf, 0, sizeof(U32Buf))
    try:
        with nogil:
            rc = parse_checked(sp, sn, h * w, &buf)
        if rc < 0:
            _raise(rc, "RLE 0")
        out = np.empty((h, w, 1), dtype=np.uint8, order="F")
        if h * w:
            flat = out.reshape(-1, order="F")
            with nogil:
                fill_runs(buf.data, buf.n, &flat[0], h * w, 1)
        return out
    finally:
        free(buf.data)

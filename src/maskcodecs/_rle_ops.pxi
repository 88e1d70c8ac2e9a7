# Part of _rle_core.pyx: operations on uncompressed column-major runs (maskcodecs.RLEMask).
#
# A mask is held as its canonical uint32 counts: runs alternate background and foreground,
# starting with background (a leading 0 when the mask starts with foreground); every run
# but the first is non-empty, except that a run longer than 2**32-1 is written as
# (2**32-1, 0, rest...), as push_run does; the counts sum to h*w; a mask without pixels is
# [0]. That is exactly what the encoder gives, so equal masks have equal counts.
#
# Every kernel walks runs with 64-bit positions and writes its result through RunOut, which
# merges touching runs and splits long ones, so every result is canonical again.

cdef uint64_t POS_END = 0xFFFFFFFFFFFFFFFFu


cdef struct RunOut:
    U32Buf buf
    uint64_t cur        # pixels added so far (the pending run included)
    uint64_t pending    # length of the run being accumulated
    int val             # its value
    int err


cdef inline void ro_init(RunOut* o) noexcept nogil:
    memset(o, 0, sizeof(RunOut))


cdef inline void ro_add(RunOut* o, int v, uint64_t n) noexcept nogil:
    """Append n pixels of value v (0 or 1)."""
    if n == 0:
        return
    if v != o.val:
        if push_run(&o.buf, o.pending) < 0:
            o.err = ERR_NOMEM
        o.val = v
        o.pending = 0
    o.pending += n
    o.cur += n


cdef inline void ro_fg(RunOut* o, uint64_t start, uint64_t end) noexcept nogil:
    """Append background up to `start`, then foreground up to `end` (start >= o.cur)."""
    ro_add(o, 0, start - o.cur)
    ro_add(o, 1, end - start)


cdef inline int ro_finish(RunOut* o, uint64_t total) noexcept nogil:
    """Background up to `total`, then the last run; 0 or ERR_NOMEM."""
    ro_add(o, 0, total - o.cur)
    if push_run(&o.buf, o.pending) < 0:
        o.err = ERR_NOMEM
    return o.err


cdef object ro_bytes(RunOut* o):
    """The counts written (native uint32 bytes); frees the buffer."""
    try:
        if o.err < 0:
            _raise(o.err)
        return PyBytes_FromStringAndSize(<char*>o.buf.data, o.buf.n * 4)
    finally:
        free(o.buf.data)
        o.buf.data = NULL


# -- walking runs -------------------------------------------------------------------------------

cdef struct RunIt:
    # the non-empty runs of a counts array in order: run i is foreground iff i is odd
    const uint32_t* c
    Py_ssize_t m
    Py_ssize_t i
    uint64_t end        # end of run i (POS_END after the last)


cdef inline void it_next(RunIt* r) noexcept nogil:
    while r.i + 1 < r.m:
        r.i += 1
        if r.c[r.i]:
            r.end += r.c[r.i]
            return
    r.i += 1
    r.end = POS_END


cdef inline void it_init(RunIt* r, const uint32_t* c, Py_ssize_t m) noexcept nogil:
    r.c = c
    r.m = m
    r.i = -1
    r.end = 0
    it_next(r)


cdef struct ColCur:
    # a cursor on the run containing a position, movable both ways
    const uint32_t* c
    Py_ssize_t m
    Py_ssize_t i        # run index
    uint64_t p          # start of run i


cdef inline void cc_init(ColCur* k, const uint32_t* c, Py_ssize_t m) noexcept nogil:
    k.c = c
    k.m = m
    k.i = 0
    k.p = 0


cdef inline void cc_seek(ColCur* k, uint64_t x) noexcept nogil:
    """Move to the run containing x (k.i == k.m when x is past the last run)."""
    while k.i < k.m and k.p + k.c[k.i] <= x:
        k.p += k.c[k.i]
        k.i += 1
    while k.i > 0 and k.p > x:
        k.i -= 1
        k.p -= k.c[k.i]


cdef inline bint clip(uint64_t q, uint64_t n, uint64_t x0, uint64_t x1, uint64_t* a,
                      uint64_t* b) noexcept nogil:
    """[a, b) = [q, q + n) clipped to [x0, x1); whether it is non-empty."""
    a[0] = q if q > x0 else x0
    b[0] = q + n if q + n < x1 else x1
    return a[0] < b[0]


cdef inline void emit_pieces(ColCur* k, uint64_t x0, uint64_t x1, uint64_t base,
                             RunOut* o, bint reverse) noexcept nogil:
    """Foreground of positions [x0, x1) of the source, written at base + (x - x0), or with
    `reverse` at base + (x1 - 1 - x) (the runs are then walked backwards)."""
    cdef Py_ssize_t j
    cdef uint64_t q, a, b
    if x0 >= x1:
        return
    cc_seek(k, x1 - 1 if reverse else x0)
    j = k.i
    q = k.p
    if not reverse:
        while j < k.m and q < x1:
            if j & 1 and clip(q, k.c[j], x0, x1, &a, &b):
                ro_fg(o, base + (a - x0), base + (b - x0))
            q += k.c[j]
            j += 1
        return
    while True:
        if j < k.m and j & 1 and clip(q, k.c[j], x0, x1, &a, &b):
            ro_fg(o, base + (x1 - b), base + (x1 - a))
        if q <= x0 or j == 0:
            return
        j -= 1
        q -= k.c[j]


# -- validation and canonical form ----------------------------------------------------------

cdef void canonical_runs(const uint32_t* c, Py_ssize_t m, RunOut* o) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(m):
        ro_add(o, <int>(i & 1), c[i])


def runs_canonical(const uint32_t[::1] counts, uint64_t h, uint64_t w):
    """Canonical counts (uint32 bytes) of counts that must sum to h*w exactly."""
    cdef Py_ssize_t m = counts.shape[0], i
    cdef uint64_t total = 0, hw
    cdef RunOut o
    if too_many_pixels(h, w):
        raise ImageTooLargeError("mask has too many pixels")
    hw = h * w
    for i in range(m):
        total += counts[i]
    if total != hw:
        raise InvalidRLEError(f"counts sum to {total}, not h*w = {hw}")
    ro_init(&o)
    with nogil:
        if m:
            canonical_runs(&counts[0], m, &o)
        ro_finish(&o, hw)
    return ro_bytes(&o)


def runs_from_string(const uint8_t[::1] s, uint64_t h, uint64_t w):
    """Canonical counts of a COCO counts string that must sum to h*w exactly."""
    cdef U32Buf buf
    cdef Py_ssize_t rc = 0, i
    cdef uint64_t total = 0, hw
    cdef RunOut o
    if too_many_pixels(h, w):
        raise ImageTooLargeError("mask has too many pixels")
    hw = h * w
    memset(&buf, 0, sizeof(U32Buf))
    ro_init(&o)
    try:
        with nogil:
            if s.shape[0]:
                rc = parse_counts(&s[0], s.shape[0], &buf)
            if rc >= 0:
                for i in range(buf.n):
                    total += buf.data[i]
                if total == hw:
                    canonical_runs(buf.data, buf.n, &o)
                    ro_finish(&o, hw)
        if rc < 0:
            _raise(<int>rc)
        if total != hw:
            raise InvalidRLEError(f"counts sum to {total}, not h*w = {hw}")
    finally:
        free(buf.data)
    return ro_bytes(&o)


def runs_from_mask(const uint8_t[:, :] m):
    """Canonical counts of a 2-D mask, any strides (nonzero is foreground): the encoder's
    counts, which are canonical."""
    return encode_counts(m, False)


def runs_decode_into(const uint32_t[::1] counts, uint8_t[::1] out, uint64_t h, uint64_t w,
                     bint c_order, uint8_t one=1):
    """Decode canonical counts into `out` (h*w bytes, C or Fortran layout)."""
    cdef Py_ssize_t m = counts.shape[0]
    cdef uint64_t hw = h * w
    cdef char* s = NULL
    cdef Py_ssize_t n = 0
    cdef int rc = 0
    cdef Scratch sc
    if <uint64_t>out.shape[0] < hw:
        raise ValueError("output buffer too small")
    if hw == 0:
        return
    if not c_order:
        with nogil:
            fill_runs(&counts[0], m, &out[0], hw, one)
        return
    # row-major output: the decoder's row sweep, fed the counts as a string
    s = <char*>malloc(7 * m + 1)
    if s == NULL:
        raise MemoryError()
    memset(&sc, 0, sizeof(Scratch))
    try:
        with nogil:
            n = counts_to_chars(&counts[0], m, s)
            rc = decode_rows(<const uint8_t*>s, n, h, w, &out[0], w, one, &sc)
        if rc < 0:
            _raise(rc)
    finally:
        free(s)
        scratch_free(&sc)


# -- properties ------------------------------------------------------------------------------

def runs_bbox(const uint32_t[::1] counts, uint64_t h, uint64_t w):
    """[x, y, w, h] of canonical counts (zeros when empty)."""
    cdef double bb[4]
    cdef int rc
    with nogil:
        rc = counts_bbox(&counts[0], counts.shape[0], h, w, bb)
    if rc < 0:
        _raise(rc)
    return [bb[0], bb[1], bb[2], bb[3]]


cdef void runs_sums(const uint32_t* c, Py_ssize_t m, uint64_t h, double* out) noexcept nogil:
    """out = [area, sum of x, sum of y] over the foreground pixels."""
    cdef Py_ssize_t i
    cdef uint64_t pos = 0, s, e, x0, y0, x1, y1, k
    cdef double area = 0, sx = 0, sy = 0, n
    for i in range(m):
        if i & 1 and c[i]:
            s = pos
            e = pos + c[i] - 1       # last pixel
            x0 = s // h
            y0 = s - x0 * h
            x1 = e // h
            y1 = e - x1 * h
            area += <double>c[i]
            if x0 == x1:
                n = <double>(y1 - y0 + 1)
                sx += <double>x0 * n
                sy += (<double>y0 + <double>y1) * n * 0.5
            else:
                n = <double>(h - y0)
                sx += <double>x0 * n
                sy += (<double>y0 + <double>(h - 1)) * n * 0.5
                n = <double>(y1 + 1)
                sx += <double>x1 * n
                sy += <double>y1 * n * 0.5
                k = x1 - x0 - 1      # full columns between
                if k:
                    sx += (<double>(x0 + 1) + <double>(x1 - 1)) * <double>k * 0.5 * <double>h
                    sy += <double>k * <double>h * <double>(h - 1) * 0.5
        pos += c[i]
    out[0] = area
    out[1] = sx
    out[2] = sy


def runs_moments(const uint32_t[::1] counts, uint64_t h):
    """(area, sum of x, sum of y) over the foreground, as floats."""
    cdef double out[3]
    out[0] = out[1] = out[2] = 0
    if h:
        with nogil:
            runs_sums(&counts[0], counts.shape[0], h, out)
    return out[0], out[1], out[2]


# -- boolean algebra ---------------------------------------------------------------------------

cdef void binary_runs(const uint32_t* a, Py_ssize_t ma, const uint32_t* b, Py_ssize_t mb,
                      uint64_t hw, int table, RunOut* o) noexcept nogil:
    """f(a, b) pixel by pixel, f given by its truth table: bit (2*a + b) of `table`."""
    cdef RunIt ia, ib
    cdef uint64_t cur = 0, e
    it_init(&ia, a, ma)
    it_init(&ib, b, mb)
    while cur < hw:
        e = ia.end if ia.end < ib.end else ib.end
        ro_add(o, (table >> (2 * <int>(ia.i & 1) + <int>(ib.i & 1))) & 1, e - cur)
        cur = e
        if ia.end == e:
            it_next(&ia)
        if ib.end == e:
            it_next(&ib)


def runs_binary(const uint32_t[::1] a, const uint32_t[::1] b, uint64_t hw, int table):
    """Canonical counts of f(a, b) for two canonical counts of hw pixels."""
    cdef RunOut o
    ro_init(&o)
    with nogil:
        binary_runs(&a[0], a.shape[0], &b[0], b.shape[0], hw, table, &o)
        ro_finish(&o, hw)
    return ro_bytes(&o)


cdef struct HeapItem:
    uint64_t pos
    Py_ssize_t src


cdef inline void heap_down(HeapItem* hp, Py_ssize_t n, Py_ssize_t j) noexcept nogil:
    cdef Py_ssize_t child
    cdef HeapItem t
    while True:
        child = 2 * j + 1
        if child >= n:
            return
        if child + 1 < n and hp[child + 1].pos < hp[child].pos:
            child += 1
        if hp[child].pos >= hp[j].pos:
            return
        t = hp[j]
        hp[j] = hp[child]
        hp[child] = t
        j = child


cdef int vote_runs(const uint32_t* data, const int64_t* off, Py_ssize_t n, uint64_t hw,
                   Py_ssize_t k, RunOut* o) noexcept nogil:
    """Pixels in at least k of the n masks (k >= 1): the run boundaries of all masks merged
    through a binary heap on their positions, a count of the masks in foreground kept
    between them. O(runs * log n)."""
    cdef RunIt* its = <RunIt*>malloc((n if n else 1) * sizeof(RunIt))
    cdef HeapItem* hp = <HeapItem*>malloc((n if n else 1) * sizeof(HeapItem))
    cdef Py_ssize_t i, hn = 0, inside = 0, s
    cdef uint64_t cur = 0, e
    if its == NULL or hp == NULL:
        free(its)
        free(hp)
        return ERR_NOMEM
    for i in range(n):
        it_init(&its[i], data + off[i], off[i + 1] - off[i])
        if its[i].i & 1:
            inside += 1
        hp[hn].pos = its[i].end
        hp[hn].src = i
        hn += 1
    i = hn // 2
    while i > 0:
        i -= 1
        heap_down(hp, hn, i)
    while cur < hw:
        e = hp[0].pos if hn else hw
        if e > hw:
            e = hw
        ro_add(o, 1 if inside >= k else 0, e - cur)
        cur = e
        # every run ending here: its mask moves to its next run
        while hn and hp[0].pos == cur:
            s = hp[0].src
            if its[s].i & 1:
                inside -= 1
            it_next(&its[s])
            if its[s].i & 1:
                inside += 1
            hp[0].pos = its[s].end
            heap_down(hp, hn, 0)
    free(its)
    free(hp)
    return 0


def runs_vote(const uint32_t[::1] data, const int64_t[::1] off, uint64_t hw, Py_ssize_t k):
    """Canonical counts of the pixels in at least k of the masks data[off[i]:off[i+1]]."""
    cdef Py_ssize_t n = off.shape[0] - 1
    cdef RunOut o
    cdef int rc
    ro_init(&o)
    with nogil:
        rc = vote_runs(&data[0], &off[0], n, hw, k, &o)
        if rc == 0:
            ro_finish(&o, hw)
    if rc < 0:
        free(o.buf.data)
        _raise(rc)
    return ro_bytes(&o)


# -- geometry ---------------------------------------------------------------------------------

def runs_window(const uint32_t[::1] counts, uint64_t h, uint64_t w, uint64_t oh,
                uint64_t ow, int64_t dr, int64_t dc):
    """Canonical counts of the oh x ow mask out[i, j] = src[i + dr, j + dc], background
    outside the source (crop, pad and shift in one)."""
    cdef RunOut o
    cdef ColCur k
    cdef int64_t j, c, r0, r1
    if too_many_pixels(oh, ow):
        raise ImageTooLargeError("result has too many pixels")
    ro_init(&o)
    cc_init(&k, &counts[0], counts.shape[0])
    # source rows [r0, r1) land in the window
    r0 = dr if dr > 0 else 0
    r1 = dr + <int64_t>oh
    if r1 > <int64_t>h:
        r1 = <int64_t>h
    with nogil:
        if r0 < r1:
            for j in range(<int64_t>ow):
                c = j + dc
                if c < 0:
                    continue
                if c >= <int64_t>w:
                    break
                emit_pieces(&k, <uint64_t>c * h + <uint64_t>r0, <uint64_t>c * h + <uint64_t>r1,
                            <uint64_t>j * oh + <uint64_t>(r0 - dr), &o, False)
        ro_finish(&o, oh * ow)
    return ro_bytes(&o)


def runs_flip(const uint32_t[::1] counts, uint64_t h, uint64_t w, bint cols, bint rows):
    """Canonical counts of the mask with its columns (left-right) and/or rows (up-down)
    reversed."""
    cdef RunOut o
    cdef ColCur k
    cdef uint64_t j, c
    cdef Py_ssize_t i, m = counts.shape[0]
    ro_init(&o)
    cc_init(&k, &counts[0], m)
    with nogil:
        if cols and rows:
            # the whole stream reversed
            i = m
            while i > 0:
                i -= 1
                ro_add(&o, <int>(i & 1), counts[i])
        elif cols or rows:
            for j in range(w):
                c = w - 1 - j if cols else j
                emit_pieces(&k, c * h, c * h + h, j * h, &o, rows)
        else:
            canonical_runs(&counts[0], m, &o)
        ro_finish(&o, h * w)
    return ro_bytes(&o)


def runs_transpose(const uint32_t[::1] counts, uint64_t h, uint64_t w):
    """Canonical counts of the transpose (through the string transpose of the codec)."""
    if h == 0 or w == 0:
        return b"\0\0\0\0"
    s = string_from_counts(counts)
    return runs_from_string(transpose_string(s, h, w), w, h)


def runs_concat(const uint32_t[::1] data, const int64_t[::1] off, const int64_t[::1] hs,
                uint64_t w, bint vertical):
    """Canonical counts of masks stacked along rows (vertical: heights hs, width w each) or
    along columns (horizontal: the counts one after the other)."""
    cdef Py_ssize_t n = off.shape[0] - 1, i
    cdef uint64_t total = 0, oh = 0, j, base, hi
    cdef ColCur* ks
    cdef RunOut o
    for i in range(n):
        oh += <uint64_t>hs[i]
    ro_init(&o)
    if not vertical:
        with nogil:
            for i in range(n):
                canonical_runs(&data[off[i]], off[i + 1] - off[i], &o)
            total = o.cur
            ro_finish(&o, total)
        return ro_bytes(&o)
    ks = <ColCur*>malloc((n if n else 1) * sizeof(ColCur))
    if ks == NULL:
        raise MemoryError()
    with nogil:
        for i in range(n):
            cc_init(&ks[i], &data[off[i]], off[i + 1] - off[i])
        for j in range(w):
            base = j * oh
            for i in range(n):
                hi = <uint64_t>hs[i]
                emit_pieces(&ks[i], j * hi, j * hi + hi, base, &o, False)
                base += hi
        ro_finish(&o, oh * w)
    free(ks)
    return ro_bytes(&o)


def runs_resize_nearest(const uint32_t[::1] counts, uint64_t h, uint64_t w, uint64_t oh,
                        uint64_t ow):
    """Canonical counts of the oh x ow nearest-neighbour resize, with OpenCV's INTER_NEAREST
    sampling: source column min(floor(j * (1 / (ow / w))), w - 1), rows likewise."""
    cdef RunOut o
    cdef ColCur k
    cdef uint64_t i, j, r, c, a, b
    cdef int64_t sy
    cdef double fy, fx, ify, ifx
    cdef uint64_t* first = NULL    # first[r]: first output row sampling source row >= r
    cdef Py_ssize_t m = counts.shape[0], q
    if too_many_pixels(oh, ow):
        raise ImageTooLargeError("result has too many pixels")
    if h == 0 or w == 0:
        if oh * ow:
            raise MaskShapeError("cannot resize a mask without pixels to a non-empty size")
        return b"\0\0\0\0"
    first = <uint64_t*>malloc((h + 1) * sizeof(uint64_t))
    if first == NULL:
        raise MemoryError()
    ro_init(&o)
    cc_init(&k, &counts[0], m)
    with nogil:
        fy = <double>oh / <double>h
        fx = <double>ow / <double>w
        ify = 1.0 / fy
        ifx = 1.0 / fx
        r = 0
        for i in range(oh):
            sy = <int64_t>(<double>i * ify)  # >= 0: truncation is floor
            if sy > <int64_t>h - 1:
                sy = <int64_t>h - 1
            while r <= <uint64_t>sy:
                first[r] = i
                r += 1
        while r <= h:
            first[r] = oh
            r += 1
        for j in range(ow):
            c = <uint64_t>(<double>j * ifx)
            if c > w - 1:
                c = w - 1
            cc_seek(&k, c * h)
            q = k.i
            a = k.p
            while q < m and a < c * h + h:
                if (q & 1 and clip(a, k.c[q], c * h, c * h + h, &r, &b)
                        and first[r - c * h] < first[b - c * h]):
                    ro_fg(&o, j * oh + first[r - c * h], j * oh + first[b - c * h])
                a += k.c[q]
                q += 1
        ro_finish(&o, oh * ow)
    free(first)
    return ro_bytes(&o)

# Part of _rle_core.pyx: label maps and colour maps -> one RLE per value, in one pass.
#
# The map is read once, a block of columns at a time: the block is copied into a small
# column-major tile of int64 keys (so C-ordered maps are read row by row, cache-friendly;
# scratch memory is bw * h keys, never h*w), then every column of the tile is cut into runs
# of equal keys. Each run is handed to its key's slot (an open-addressing hash table with a
# one-entry cache), which extends its pending foreground run or flushes it as a
# (zeros, ones) pair of counts. Area and the tight box are accumulated per run.
#
# Keys: the label value (optionally through a lookup table for uint8/uint16 maps), or the
# panoptic id R + 256*G + 65536*B of a colour map.

from libc.stdint cimport int8_t, int16_t, uint16_t

ctypedef fused label_t:
    uint8_t
    int8_t
    uint16_t
    int16_t
    uint32_t
    int32_t
    int64_t


cdef struct LSlot:
    int64_t value
    uint64_t last       # end of the last flushed foreground run
    uint64_t start      # pending foreground run [start, end)
    uint64_t end
    uint64_t area
    uint64_t x0
    uint64_t y0
    uint64_t x1
    uint64_t y1
    bint pending
    U32Buf runs


cdef struct LTable:
    LSlot* slots
    Py_ssize_t n
    Py_ssize_t cap
    Py_ssize_t* index   # slot + 1 per hash bucket, 0 = empty
    Py_ssize_t nbuckets # a power of two
    Py_ssize_t cached   # slot of the last lookup
    int64_t* tile       # column-major tile of keys, bw columns of h
    Py_ssize_t tile_cap


cdef void ltable_free(LTable* t) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(t.n):
        free(t.slots[i].runs.data)
    free(t.slots)
    free(t.index)
    free(t.tile)
    memset(t, 0, sizeof(LTable))


cdef inline Py_ssize_t lhash(int64_t v, Py_ssize_t nbuckets) noexcept nogil:
    cdef uint64_t x = (<uint64_t>v) * <uint64_t>0x9E3779B97F4A7C15u
    return <Py_ssize_t>((x ^ (x >> 29)) & <uint64_t>(nbuckets - 1))


cdef int ltable_rehash(LTable* t, Py_ssize_t nbuckets) noexcept nogil:
    cdef Py_ssize_t* idx = <Py_ssize_t*>calloc(nbuckets, sizeof(Py_ssize_t))
    cdef Py_ssize_t i, b
    if idx == NULL:
        return ERR_NOMEM
    for i in range(t.n):
        b = lhash(t.slots[i].value, nbuckets)
        while idx[b] != 0:
            b = (b + 1) & (nbuckets - 1)
        idx[b] = i + 1
    free(t.index)
    t.index = idx
    t.nbuckets = nbuckets
    return 0


cdef Py_ssize_t ltable_slot(LTable* t, int64_t v) noexcept nogil:
    """Slot of key v, created on first sight; or ERR_NOMEM."""
    cdef Py_ssize_t b, i, cap
    cdef LSlot* s
    if t.n and t.slots[t.cached].value == v:
        return t.cached
    b = lhash(v, t.nbuckets)
    while t.index[b] != 0:
        i = t.index[b] - 1
        if t.slots[i].value == v:
            t.cached = i
            return i
        b = (b + 1) & (t.nbuckets - 1)
    if t.n >= t.cap:
        cap = t.cap * 2 if t.cap else 16
        s = <LSlot*>realloc(t.slots, cap * sizeof(LSlot))
        if s == NULL:
            return ERR_NOMEM
        t.slots = s
        t.cap = cap
    i = t.n
    memset(&t.slots[i], 0, sizeof(LSlot))
    t.slots[i].value = v
    t.slots[i].x0 = <uint64_t>-1
    t.slots[i].y0 = <uint64_t>-1
    t.n += 1
    t.index[b] = i + 1
    t.cached = i
    if 2 * t.n >= t.nbuckets:
        if ltable_rehash(t, t.nbuckets * 2) < 0:
            return ERR_NOMEM
    return i


cdef inline int slot_flush(LSlot* s) noexcept nogil:
    if s.pending:
        if push_run(&s.runs, s.start - s.last) < 0:
            return ERR_NOMEM
        if push_run(&s.runs, s.end - s.start) < 0:
            return ERR_NOMEM
        s.last = s.end
        s.pending = False
    return 0


cdef inline int slot_add(LSlot* s, uint64_t x, uint64_t y0, uint64_t y1,
                         uint64_t h) noexcept nogil:
    """Add the foreground run of rows [y0, y1) in column x."""
    cdef uint64_t p = x * h + y0
    if s.pending and p == s.end:
        s.end = x * h + y1
    else:
        if slot_flush(s) < 0:
            return ERR_NOMEM
        s.start = p
        s.end = x * h + y1
        s.pending = True
    s.area += y1 - y0
    if x < s.x0:
        s.x0 = x
    if x > s.x1:
        s.x1 = x
    if y0 < s.y0:
        s.y0 = y0
    if y1 - 1 > s.y1:
        s.y1 = y1 - 1
    return 0


cdef int ltable_init(LTable* t, uint64_t h, Py_ssize_t bw) noexcept nogil:
    memset(t, 0, sizeof(LTable))
    t.index = <Py_ssize_t*>calloc(64, sizeof(Py_ssize_t))
    if t.index == NULL:
        return ERR_NOMEM
    t.nbuckets = 64
    t.tile = <int64_t*>malloc(<size_t>(h * <uint64_t>bw) * sizeof(int64_t) + 8)
    if t.tile == NULL:
        return ERR_NOMEM
    t.tile_cap = <Py_ssize_t>(h * <uint64_t>bw)
    return 0


cdef inline Py_ssize_t tile_width(uint64_t h, uint64_t w) noexcept nogil:
    """Columns per tile: about 256 KiB of keys, between 1 and 64 columns."""
    cdef uint64_t bw = (<uint64_t>1 << 15) // (h if h else 1)
    if bw > 64:
        bw = 64
    if bw < 1:
        bw = 1
    if bw > w:
        bw = w
    return <Py_ssize_t>bw


cdef int scan_tile(LTable* t, uint64_t xb, Py_ssize_t bw, uint64_t h, int64_t background,
                   bint skip_background) noexcept nogil:
    """Cut every column of the tile into runs of equal keys and hand them to their slots."""
    cdef Py_ssize_t j, i
    cdef uint64_t y, y0
    cdef const int64_t* col
    cdef int64_t v
    for j in range(bw):
        col = t.tile + <Py_ssize_t>(<uint64_t>j * h)
        y = 0
        while y < h:
            y0 = y
            v = col[y]
            y += 1
            while y < h and col[y] == v:
                y += 1
            if skip_background and v == background:
                continue
            i = ltable_slot(t, v)
            if i < 0:
                return ERR_NOMEM
            if slot_add(&t.slots[i], xb + <uint64_t>j, y0, y, h) < 0:
                return ERR_NOMEM
    return 0


cdef int scan_labels(const label_t* base, uint64_t h, uint64_t w, Py_ssize_t s0, Py_ssize_t s1,
                     const int64_t* lut, Py_ssize_t nlut, int64_t background,
                     bint skip_background, LTable* t) noexcept nogil:
    """One pass over a label map with byte strides (s0, s1)."""
    cdef Py_ssize_t bw = tile_width(h, w), j, nb
    cdef uint64_t xb = 0, y
    cdef const char* row
    cdef int64_t v
    cdef int64_t* key
    cdef int rc
    cdef bint by_columns = (s0 if s0 >= 0 else -s0) < (s1 if s1 >= 0 else -s1)
    rc = ltable_init(t, h, bw)
    if rc < 0:
        return rc
    while xb < w:
        nb = bw if xb + <uint64_t>bw <= w else <Py_ssize_t>(w - xb)
        if by_columns:
            # columns closer in memory than rows: read each column down
            for j in range(nb):
                row = (<const char*>base) + <Py_ssize_t>(xb + <uint64_t>j) * s1
                key = t.tile + <Py_ssize_t>(<uint64_t>j * h)
                for y in range(h):
                    v = <int64_t>(<const label_t*>(row + <Py_ssize_t>y * s0))[0]
                    if lut != NULL:
                        v = lut[v] if 0 <= v < nlut else background
                    key[y] = v
        else:
            # rows closer in memory: read each row of the block across
            for y in range(h):
                row = (<const char*>base) + <Py_ssize_t>y * s0 + <Py_ssize_t>xb * s1
                for j in range(nb):
                    v = <int64_t>(<const label_t*>(row + j * s1))[0]
                    if lut != NULL:
                        v = lut[v] if 0 <= v < nlut else background
                    t.tile[<Py_ssize_t>(<uint64_t>j * h + y)] = v
        rc = scan_tile(t, xb, nb, h, background, skip_background)
        if rc < 0:
            return rc
        xb += <uint64_t>nb
    return 0


cdef int scan_label_rows(const label_t* base, uint64_t h, uint64_t w, Py_ssize_t s0,
                         int64_t background, bint skip_background, LTable* t) noexcept nogil:
    """Fast path for maps whose rows are contiguous (C order), without a lookup table: the
    rows are compared with the row above in 64-byte blocks to find where a column changes
    value, the changes are sorted by column, and each column is cut at them. Work per pixel
    is one SIMD compare; hash lookups happen per run, not per pixel."""
    cdef Scan sc
    cdef uint64_t x, y, y0, k, off, nbytes = w * sizeof(label_t)
    cdef const label_t* ra
    cdef const label_t* rb
    cdef const uint8_t* bytes_base = <const uint8_t*>base
    cdef Py_ssize_t i
    cdef int64_t v
    cdef int rc = ltable_init(t, h, 1)
    if rc < 0:
        return rc
    memset(&sc, 0, sizeof(Scan))
    for y in range(1, h):
        ra = <const label_t*>(bytes_base + <Py_ssize_t>y * s0)
        rb = <const label_t*>(bytes_base + <Py_ssize_t>(y - 1) * s0)
        off = 0
        while off + 64 <= nbytes:
            if mc_block_differs(<const uint8_t*>ra + off, <const uint8_t*>rb + off):
                for x in range(off // sizeof(label_t), (off + 64) // sizeof(label_t)):
                    if ra[x] != rb[x] and scan_push(&sc, <uint32_t>x, <uint32_t>y) < 0:
                        scan_free(&sc)
                        return ERR_NOMEM
            off += 64
        for x in range(off // sizeof(label_t), w):
            if ra[x] != rb[x] and scan_push(&sc, <uint32_t>x, <uint32_t>y) < 0:
                scan_free(&sc)
                return ERR_NOMEM
    if scan_sort_by_column(&sc, w) < 0:
        scan_free(&sc)
        return ERR_NOMEM
    k = 0
    for x in range(w):
        y0 = 0
        while True:
            y = sc.sy[k] if k < sc.colstart[x] else h
            v = <int64_t>(<const label_t*>(bytes_base + <Py_ssize_t>y0 * s0))[x]
            if not (skip_background and v == background):
                i = ltable_slot(t, v)
                if i < 0 or slot_add(&t.slots[i], x, y0, y, h) < 0:
                    scan_free(&sc)
                    return ERR_NOMEM
            if y >= h:
                break
            y0 = y
            k += 1
    scan_free(&sc)
    return 0


cdef int scan_colours(const uint8_t* base, uint64_t h, uint64_t w, Py_ssize_t s0,
                      Py_ssize_t s1, Py_ssize_t s2, int64_t background, bint skip_background,
                      LTable* t) noexcept nogil:
    """One pass over an RGB(A) image; keys are R + 256*G + 65536*B."""
    cdef Py_ssize_t bw = tile_width(h, w), j, nb
    cdef uint64_t xb = 0, y
    cdef const uint8_t* px
    cdef int rc
    rc = ltable_init(t, h, bw)
    if rc < 0:
        return rc
    while xb < w:
        nb = bw if xb + <uint64_t>bw <= w else <Py_ssize_t>(w - xb)
        for y in range(h):
            px = base + <Py_ssize_t>y * s0 + <Py_ssize_t>xb * s1
            for j in range(nb):
                t.tile[<Py_ssize_t>(<uint64_t>j * h + y)] = (
                    <int64_t>px[0] | (<int64_t>px[s2] << 8) | (<int64_t>px[2 * s2] << 16))
                px += s1
        rc = scan_tile(t, xb, nb, h, background, skip_background)
        if rc < 0:
            return rc
        xb += <uint64_t>nb
    return 0


cdef int ltable_finish(LTable* t, uint64_t total) noexcept nogil:
    cdef Py_ssize_t i
    cdef LSlot* s
    for i in range(t.n):
        s = &t.slots[i]
        if slot_flush(s) < 0:
            return ERR_NOMEM
        if s.last < total and push_run(&s.runs, total - s.last) < 0:
            return ERR_NOMEM
    return 0


cdef tuple ltable_result(LTable* t):
    """(values int64, list of counts strings, areas uint64, boxes uint64 [x0, y0, x1, y1])
    as bytes buffers, in order of first appearance (column-major)."""
    cdef Py_ssize_t i, n = t.n
    cdef list strings = []
    cdef bytes values = PyBytes_FromStringAndSize(NULL, n * 8)
    cdef bytes areas_b = PyBytes_FromStringAndSize(NULL, n * 8)
    cdef bytes boxes = PyBytes_FromStringAndSize(NULL, n * 32)
    cdef int64_t* pv = <int64_t*>PyBytes_AS_STRING(values)
    cdef uint64_t* pa = <uint64_t*>PyBytes_AS_STRING(areas_b)
    cdef uint64_t* pb = <uint64_t*>PyBytes_AS_STRING(boxes)
    cdef LSlot* s
    for i in range(n):
        s = &t.slots[i]
        strings.append(counts_to_bytes(s.runs.data, s.runs.n))
        pv[i] = s.value
        pa[i] = s.area
        pb[4 * i] = s.x0
        pb[4 * i + 1] = s.y0
        pb[4 * i + 2] = s.x1
        pb[4 * i + 3] = s.y1
    return values, strings, areas_b, boxes


def _check_map_size(Py_ssize_t h, Py_ssize_t w):
    if too_many_pixels(<uint64_t>h, <uint64_t>w):
        raise ImageTooLargeError("map has too many pixels")


def label_map_runs(const label_t[:, :] labels, const int64_t[::1] lut=None,
                   int64_t background=0, bint skip_background=True):
    """Column-major RLE of every value of a 2-D label map (any strides), in one pass.

    With `lut`, a value v becomes lut[v] (values outside the table become `background`).
    Returns (values, strings, areas, boxes) as in ltable_result; background is skipped when
    `skip_background`."""
    cdef Py_ssize_t h = labels.shape[0], w = labels.shape[1]
    cdef LTable t
    cdef int rc = 0
    cdef const int64_t* lp = NULL
    cdef Py_ssize_t nlut = 0
    _check_map_size(h, w)
    if lut is not None and lut.shape[0] > 0:
        lp = &lut[0]
        nlut = lut.shape[0]
    memset(&t, 0, sizeof(LTable))
    if h == 0 or w == 0:
        return b"", [], b"", b""
    try:
        with nogil:
            if (lp == NULL and labels.strides[1] == sizeof(labels[0, 0])
                    and <uint64_t>h <= U32MAX and <uint64_t>w <= U32MAX):
                rc = scan_label_rows(&labels[0, 0], h, w, labels.strides[0], background,
                                     skip_background, &t)
            else:
                rc = scan_labels(&labels[0, 0], h, w, labels.strides[0], labels.strides[1],
                                 lp, nlut, background, skip_background, &t)
            if rc == 0:
                rc = ltable_finish(&t, <uint64_t>h * <uint64_t>w)
        if rc < 0:
            _raise(rc)
        return ltable_result(&t)
    finally:
        ltable_free(&t)


def colour_map_runs(const uint8_t[:, :, :] image, int64_t background=0,
                    bint skip_background=True):
    """Column-major RLE of every colour id (R + 256*G + 65536*B) of an (h, w, >=3) uint8
    image (any strides), in one pass. Same result layout as label_map_runs."""
    cdef Py_ssize_t h = image.shape[0], w = image.shape[1]
    cdef LTable t
    cdef int rc = 0
    _check_map_size(h, w)
    if image.shape[2] < 3:
        raise MaskShapeError("a colour map needs at least 3 channels")
    memset(&t, 0, sizeof(LTable))
    if h == 0 or w == 0:
        return b"", [], b"", b""
    try:
        with nogil:
            rc = scan_colours(&image[0, 0, 0], h, w, image.strides[0], image.strides[1],
                              image.strides[2], background, skip_background, &t)
            if rc == 0:
                rc = ltable_finish(&t, <uint64_t>h * <uint64_t>w)
        if rc < 0:
            _raise(rc)
        return ltable_result(&t)
    finally:
        ltable_free(&t)

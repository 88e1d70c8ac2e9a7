# Part of _rle_core.pyx (included at its end): colour composites (Labelbox), snapping
# JPEG-noisy colour maps to a palette, and the OpenCV-compatible polygon fill. Owned by
# maskcodecs.labelbox (colour_snap by maskcodecs.coco).
#
# Split: one pass over an h x w x c uint8 image (any strides). Each pixel's R, G, B bytes are
# packed into the 24-bit key R + 256*G + 65536*B, looked up in an open-addressing hash table
# (with a one-entry cache, since neighbouring pixels usually share a colour) that maps every
# colour seen to an ordinal and a pixel count; ordinals below `nreq` are the requested colours.
# A row of labels (requested ordinal or -1) is compared with the row above, exactly as
# encode_rows does for one mask: a label change at (x, y) is a boundary of the column-major
# run stream of both the old and the new colour. Boundaries are bucketed per colour, then a
# counting sort by column turns them into COCO runs. Masks, when asked for, are written once.
#
# Snap: one pass over the image; each distinct colour is looked up (the same table, with a
# one-entry cache) and its nearest palette colour within the tolerance decided once, so the
# work is one hash lookup per run of equal pixels plus a palette scan per distinct colour.
#
# Fill: the rules of OpenCV's fillPoly with LINE_8 and shift 0 (integer vertices): every edge
# is first drawn as an 8-connected Bresenham line (clipped to the image the way OpenCV clips),
# then each row between the edges' y ranges is filled between consecutive crossings, the
# crossing x kept in 16.16 fixed point, left end rounded up and right end rounded down.

cdef uint32_t LB_EMPTY = 0xFFFFFFFFu
cdef int LB_XY_SHIFT = 16


# ---------------------------------------------------------------------------------------------
# colour table: 24-bit key -> ordinal, with per-ordinal pixel counts
# ---------------------------------------------------------------------------------------------

cdef struct LbTable:
    uint32_t* slot_key
    uint32_t* slot_ord
    uint64_t mask            # capacity - 1 (capacity a power of two)
    uint32_t* keys           # per ordinal
    uint64_t* count          # per ordinal
    Py_ssize_t n
    Py_ssize_t ncap


cdef void lb_table_free(LbTable* t) noexcept nogil:
    free(t.slot_key)
    free(t.slot_ord)
    free(t.keys)
    free(t.count)
    memset(t, 0, sizeof(LbTable))


cdef inline uint64_t lb_hash(uint32_t key, uint64_t mask) noexcept nogil:
    return ((<uint64_t>key * 0x9E3779B97F4A7C15u) >> 40) & mask


cdef int lb_table_init(LbTable* t, Py_ssize_t expect) noexcept nogil:
    cdef uint64_t cap = 64
    memset(t, 0, sizeof(LbTable))
    while cap < <uint64_t>(2 * expect + 2):
        cap <<= 1
    t.slot_key = <uint32_t*>malloc(cap * sizeof(uint32_t))
    t.slot_ord = <uint32_t*>malloc(cap * sizeof(uint32_t))
    t.ncap = 32 if expect < 32 else expect
    t.keys = <uint32_t*>malloc(t.ncap * sizeof(uint32_t))
    t.count = <uint64_t*>malloc(t.ncap * sizeof(uint64_t))
    if t.slot_key == NULL or t.slot_ord == NULL or t.keys == NULL or t.count == NULL:
        return ERR_NOMEM
    memset(t.slot_key, 0xFF, cap * sizeof(uint32_t))
    t.mask = cap - 1
    return 0


cdef int lb_table_grow(LbTable* t) noexcept nogil:
    """Double the slot array (rehash every ordinal)."""
    cdef uint64_t cap = (t.mask + 1) * 2, m = cap - 1, j
    cdef Py_ssize_t i
    cdef uint32_t* sk = <uint32_t*>malloc(cap * sizeof(uint32_t))
    cdef uint32_t* so = <uint32_t*>malloc(cap * sizeof(uint32_t))
    if sk == NULL or so == NULL:
        free(sk)
        free(so)
        return ERR_NOMEM
    memset(sk, 0xFF, cap * sizeof(uint32_t))
    for i in range(t.n):
        j = lb_hash(t.keys[i], m)
        while sk[j] != LB_EMPTY:
            j = (j + 1) & m
        sk[j] = t.keys[i]
        so[j] = <uint32_t>i
    free(t.slot_key)
    free(t.slot_ord)
    t.slot_key = sk
    t.slot_ord = so
    t.mask = m
    return 0


cdef Py_ssize_t lb_table_get(LbTable* t, uint32_t key) noexcept nogil:
    """Ordinal of `key`, inserting it (count 0) when new; negative on error."""
    cdef uint64_t j = lb_hash(key, t.mask)
    cdef uint32_t* p
    cdef uint64_t* q
    cdef Py_ssize_t cap
    while True:
        if t.slot_key[j] == key:
            return t.slot_ord[j]
        if t.slot_key[j] == LB_EMPTY:
            break
        j = (j + 1) & t.mask
    if t.n >= t.ncap:
        cap = t.ncap * 2
        p = <uint32_t*>realloc(t.keys, cap * sizeof(uint32_t))
        if p == NULL:
            return ERR_NOMEM
        t.keys = p
        q = <uint64_t*>realloc(t.count, cap * sizeof(uint64_t))
        if q == NULL:
            return ERR_NOMEM
        t.count = q
        t.ncap = cap
    t.slot_key[j] = key
    t.slot_ord[j] = <uint32_t>t.n
    t.keys[t.n] = key
    t.count[t.n] = 0
    t.n += 1
    if <uint64_t>(2 * t.n) > t.mask:
        if lb_table_grow(t) < 0:
            return ERR_NOMEM
    return t.n - 1


# ---------------------------------------------------------------------------------------------
# per-colour boundary lists
# ---------------------------------------------------------------------------------------------

cdef struct LbEvents:
    uint64_t* data           # (y << 32) | x, in row order
    Py_ssize_t n
    Py_ssize_t cap


cdef inline int lb_ev_push(LbEvents* e, uint64_t x, uint64_t y) noexcept nogil:
    cdef Py_ssize_t cap
    cdef uint64_t* p
    if e.n >= e.cap:
        cap = e.cap * 2 if e.cap else 64
        p = <uint64_t*>realloc(e.data, cap * sizeof(uint64_t))
        if p == NULL:
            return ERR_NOMEM
        e.data = p
        e.cap = cap
    e.data[e.n] = (y << 32) | x
    e.n += 1
    return 0


cdef inline int lb_boundary(LbEvents* ev, int32_t a, int32_t b, uint64_t x,
                            uint64_t y) noexcept nogil:
    """Label a ends and label b starts at (x, y) in the column-major stream."""
    if a >= 0 and lb_ev_push(&ev[a], x, y) < 0:
        return ERR_NOMEM
    if b >= 0 and lb_ev_push(&ev[b], x, y) < 0:
        return ERR_NOMEM
    return 0


cdef inline uint32_t lb_key(const uint8_t* p, Py_ssize_t s2) noexcept nogil:
    return (<uint32_t>p[0]) | ((<uint32_t>p[s2]) << 8) | ((<uint32_t>p[2 * s2]) << 16)


cdef int lb_label_row(const uint8_t* row, uint64_t w, Py_ssize_t s1, Py_ssize_t s2,
                      LbTable* t, Py_ssize_t nreq, int32_t* lab, bint count) noexcept nogil:
    """Labels of one image row (requested ordinal or -1); adds pixel counts when `count`."""
    cdef uint64_t x, run = 0
    cdef uint32_t key, last = LB_EMPTY
    cdef Py_ssize_t o = 0
    cdef int32_t v = -1
    cdef const uint8_t* p = row
    for x in range(w):
        key = lb_key(p, s2)
        p += s1
        if key != last:
            if count and run:
                t.count[o] += run
            o = lb_table_get(t, key)
            if o < 0:
                return <int>o
            last = key
            v = <int32_t>o if o < nreq else -1
            run = 0
        run += 1
        lab[x] = v
    if count and run:
        t.count[o] += run
    return 0


cdef int lb_scan(const uint8_t* base, uint64_t h, uint64_t w, Py_ssize_t s0, Py_ssize_t s1,
                 Py_ssize_t s2, LbTable* t, Py_ssize_t nreq, uint8_t* masks,
                 LbEvents* ev, int32_t* labs) noexcept nogil:
    """One pass over the image: counts for every colour, masks (n x h x w, C order) of the
    requested ones when `masks` is not NULL, their run boundaries when `ev` is not NULL.
    `labs` holds 3*w labels of scratch."""
    cdef int32_t* lastrow = labs
    cdef int32_t* prev = labs + w
    cdef int32_t* cur = labs + 2 * w
    cdef int32_t* tmp
    cdef int32_t a, b
    cdef uint64_t x, y, hw = h * w
    cdef int rc
    if ev != NULL:
        rc = lb_label_row(base + <Py_ssize_t>(h - 1) * s0, w, s1, s2, t, nreq, lastrow, False)
        if rc < 0:
            return rc
    for y in range(h):
        rc = lb_label_row(base + <Py_ssize_t>y * s0, w, s1, s2, t, nreq, cur, True)
        if rc < 0:
            return rc
        if masks != NULL:
            for x in range(w):
                if cur[x] >= 0:
                    masks[<uint64_t>cur[x] * hw + y * w + x] = 1
        if ev != NULL:
            if y == 0:
                for x in range(w):
                    a = lastrow[x - 1] if x > 0 else -1
                    b = cur[x]
                    if a != b and lb_boundary(ev, a, b, x, 0) < 0:
                        return ERR_NOMEM
            else:
                for x in range(w):
                    if cur[x] != prev[x] and lb_boundary(ev, prev[x], cur[x], x, y) < 0:
                        return ERR_NOMEM
        tmp = prev
        prev = cur
        cur = tmp
    return 0


cdef int lb_runs(LbEvents* e, uint64_t h, uint64_t w, uint64_t* colstart, uint32_t* sy,
                 U32Buf* out) noexcept nogil:
    """COCO runs of one colour from its boundaries (row order): counting sort by column.
    colstart has w + 1 entries, sy e.n entries."""
    cdef Py_ssize_t k
    cdef uint64_t x, acc = 0, t, p, prevpos = 0
    out.n = 0
    memset(colstart, 0, (w + 1) * sizeof(uint64_t))
    for k in range(e.n):
        colstart[e.data[k] & 0xFFFFFFFFu] += 1
    for x in range(w + 1):
        t = colstart[x]
        colstart[x] = acc
        acc += t
    for k in range(e.n):
        x = e.data[k] & 0xFFFFFFFFu
        sy[colstart[x]] = <uint32_t>(e.data[k] >> 32)
        colstart[x] += 1
    k = 0
    for x in range(w):
        while <uint64_t>k < colstart[x]:
            p = x * h + sy[k]
            if push_run(out, p - prevpos) < 0:
                return ERR_NOMEM
            prevpos = p
            k += 1
    if push_run(out, h * w - prevpos) < 0:
        return ERR_NOMEM
    return 0


def colour_split(const uint8_t[:, :, :] img, const uint32_t[::1] keys, uint8_t[::1] masks,
                 bint want_rles):
    """Split an h x w x c (c >= 3) image by exact colour. Returns (strings, all_keys, counts):
    the COCO counts string of each requested key (or None), and every colour seen (requested
    keys first, in order) with its pixel count, as bytes of native uint32 / uint64.
    `masks` (n*h*w bytes, zeroed) receives the n masks when non-empty."""
    cdef uint64_t h = img.shape[0], w = img.shape[1]
    cdef Py_ssize_t nreq = keys.shape[0], k
    cdef Py_ssize_t s0 = img.strides[0], s1 = img.strides[1], s2 = img.strides[2]
    cdef LbTable t
    cdef LbEvents* ev = NULL
    cdef int32_t* labs = NULL
    cdef uint64_t* colstart = NULL
    cdef uint32_t* sy = NULL
    cdef uint8_t* mp = NULL
    cdef U32Buf buf
    cdef Py_ssize_t maxev = 0
    cdef int rc = 0
    cdef list strings = None
    if img.shape[2] < 3:
        raise MaskShapeError("composite must have at least 3 channels")
    if h * w >= MAX_PIXELS or h > U32MAX or w > U32MAX:
        raise ImageTooLargeError("composite has too many pixels")
    if masks.shape[0]:
        if <uint64_t>masks.shape[0] < <uint64_t>nreq * h * w:
            raise ValueError("mask buffer too small")
        mp = &masks[0]
    buf.data = NULL
    buf.n = 0
    buf.cap = 0
    rc = lb_table_init(&t, nreq)
    try:
        if rc < 0:
            _raise(rc)
        for k in range(nreq):
            if keys[k] > 0xFFFFFF or lb_table_get(&t, keys[k]) != k:
                raise ValueError("requested colours must be distinct 24-bit keys")
        if h == 0 or w == 0:
            if want_rles:
                strings = [b"0"] * nreq
            return (strings, PyBytes_FromStringAndSize(<char*>t.keys, nreq * 4),
                    PyBytes_FromStringAndSize(<char*>t.count, nreq * 8))
        labs = <int32_t*>malloc(3 * w * sizeof(int32_t))
        if want_rles:
            ev = <LbEvents*>calloc(nreq + 1, sizeof(LbEvents))
        if labs == NULL or (want_rles and ev == NULL):
            raise MemoryError()
        with nogil:
            for k in range(nreq):
                t.count[k] = 0
            rc = lb_scan(&img[0, 0, 0], h, w, s0, s1, s2, &t, nreq, mp, ev, labs)
        if rc < 0:
            _raise(rc)
        if want_rles:
            strings = []
            for k in range(nreq):
                if ev[k].n > maxev:
                    maxev = ev[k].n
            colstart = <uint64_t*>malloc((w + 1) * sizeof(uint64_t))
            sy = <uint32_t*>malloc((maxev + 1) * sizeof(uint32_t))
            if colstart == NULL or sy == NULL:
                raise MemoryError()
            for k in range(nreq):
                with nogil:
                    rc = lb_runs(&ev[k], h, w, colstart, sy, &buf)
                if rc < 0:
                    _raise(rc)
                strings.append(counts_to_bytes(buf.data, buf.n))
        return (strings, PyBytes_FromStringAndSize(<char*>t.keys, t.n * 4),
                PyBytes_FromStringAndSize(<char*>t.count, t.n * 8))
    finally:
        if ev != NULL:
            for k in range(nreq):
                free(ev[k].data)
            free(ev)
        free(labs)
        free(colstart)
        free(sy)
        free(buf.data)
        lb_table_free(&t)


# ---------------------------------------------------------------------------------------------
# snap: every pixel to the nearest palette colour within a tolerance (JPEG colour maps)
# ---------------------------------------------------------------------------------------------

cdef uint64_t lb_nearest(uint32_t key, const uint8_t* pal, Py_ssize_t npal,
                         double tol2) noexcept nogil:
    """The snap decision for one colour: 1 | exact << 1 | (palette index + 1) << 2, with
    index -1 when no palette colour is within the tolerance (never 0: 0 means undecided).
    Distance is Euclidean in RGB; ties go to the lower palette index."""
    cdef int64_t r = key & 255, g = (key >> 8) & 255, b = key >> 16, dr, dg, db, d2
    cdef int64_t best = -1
    cdef Py_ssize_t k, at = -1
    for k in range(npal):
        dr = r - pal[3 * k]
        dg = g - pal[3 * k + 1]
        db = b - pal[3 * k + 2]
        d2 = dr * dr + dg * dg + db * db
        if best < 0 or d2 < best:
            best = d2
            at = k
    if at < 0 or <double>best > tol2:
        return 1
    return 1 | ((<uint64_t>(best == 0)) << 1) | ((<uint64_t>(at + 1)) << 2)


cdef int lb_snap(const uint8_t* base, uint64_t h, uint64_t w, Py_ssize_t s0, Py_ssize_t s1,
                 Py_ssize_t s2, const uint8_t* pal, Py_ssize_t npal, Py_ssize_t fill,
                 double tol2, uint8_t* out, LbTable* t, uint64_t* tally) noexcept nogil:
    """Write into `out` (h x w x 3, C order) the palette colour each pixel snaps to, or
    palette[fill] for a pixel with none within the tolerance; tally[0], [1], [2] count the
    pixels that were exact, snapped and left unassigned. The decision is made once per
    distinct colour (t.count holds it, see lb_nearest), with a one-entry cache."""
    cdef uint64_t x, y, code = 0
    cdef uint32_t key, last = LB_EMPTY
    cdef Py_ssize_t o, at
    cdef const uint8_t* p
    cdef const uint8_t* c
    cdef uint8_t* q = out
    for y in range(h):
        p = base + <Py_ssize_t>y * s0
        for x in range(w):
            key = lb_key(p, s2)
            p += s1
            if key != last:
                o = lb_table_get(t, key)
                if o < 0:
                    return <int>o
                if t.count[o] == 0:
                    t.count[o] = lb_nearest(key, pal, npal, tol2)
                code = t.count[o]
                last = key
            at = <Py_ssize_t>(code >> 2) - 1
            if at < 0:
                tally[2] += 1
                at = fill
            elif code & 2:
                tally[0] += 1
            else:
                tally[1] += 1
            c = pal + 3 * at
            q[0] = c[0]
            q[1] = c[1]
            q[2] = c[2]
            q += 3
    return 0


def colour_snap(const uint8_t[:, :, :] img, const uint8_t[:, ::1] palette, Py_ssize_t fill,
                double tolerance, uint8_t[:, :, ::1] out):
    """Snap every pixel of an h x w x c (c >= 3, any strides) image to the nearest palette
    colour within `tolerance` (Euclidean RGB distance), writing the result into `out`
    (h x w x 3, C order); pixels farther than that from every colour get palette[fill].
    Returns (exact, snapped, unassigned) pixel counts."""
    cdef uint64_t h = img.shape[0], w = img.shape[1]
    cdef Py_ssize_t npal = palette.shape[0]
    cdef uint64_t tally[3]
    cdef LbTable t
    cdef int rc = 0
    if img.shape[2] < 3:
        raise MaskShapeError("a colour map must have at least 3 channels")
    if palette.shape[1] != 3 or npal < 1 or not 0 <= fill < npal:
        raise ValueError("the palette must be n x 3 bytes with the fill colour among them")
    if (out.shape[0] != img.shape[0] or out.shape[1] != img.shape[1]
            or out.shape[2] != 3):
        raise ValueError("out must be h x w x 3")
    if not tolerance >= 0:
        raise ValueError("tolerance must be a number >= 0")
    if too_many_pixels(h, w):
        raise ImageTooLargeError("colour map has too many pixels")
    tally[0] = tally[1] = tally[2] = 0
    if h == 0 or w == 0:
        return 0, 0, 0
    rc = lb_table_init(&t, 64)
    try:
        if rc < 0:
            _raise(rc)
        with nogil:
            rc = lb_snap(&img[0, 0, 0], h, w, img.strides[0], img.strides[1], img.strides[2],
                         &palette[0, 0], npal, fill, tolerance * tolerance, &out[0, 0, 0],
                         &t, tally)
        if rc < 0:
            _raise(rc)
        return tally[0], tally[1], tally[2]
    finally:
        lb_table_free(&t)


# ---------------------------------------------------------------------------------------------
# OpenCV-compatible polygon fill (fillPoly, LINE_8, shift 0)
# ---------------------------------------------------------------------------------------------

cdef struct LbCanvas:
    uint8_t* base
    int64_t h
    int64_t w
    Py_ssize_t s0
    Py_ssize_t s1
    Py_ssize_t s2
    Py_ssize_t nch
    const uint8_t* color


cdef inline void lb_put(LbCanvas* c, int64_t x, int64_t y) noexcept nogil:
    cdef uint8_t* p = c.base + <Py_ssize_t>y * c.s0 + <Py_ssize_t>x * c.s1
    cdef Py_ssize_t k
    for k in range(c.nch):
        p[k * c.s2] = c.color[k]


cdef inline void lb_hline(LbCanvas* c, int64_t x1, int64_t x2, int64_t y) noexcept nogil:
    cdef uint8_t* p
    cdef int64_t x
    cdef Py_ssize_t k, total, done, chunk
    if x2 < x1:
        return
    p = c.base + <Py_ssize_t>y * c.s0 + <Py_ssize_t>x1 * c.s1
    if c.s2 == 1 and c.s1 == c.nch:
        # contiguous pixels: write one, then double the copied prefix
        if c.nch == 1:
            memset(p, c.color[0], x2 - x1 + 1)
            return
        for k in range(c.nch):
            p[k] = c.color[k]
        total = <Py_ssize_t>(x2 - x1 + 1) * c.nch
        done = c.nch
        while done < total:
            chunk = done if done < total - done else total - done
            memcpy(p + done, p, chunk)
            done += chunk
        return
    x = x1
    while x <= x2:
        for k in range(c.nch):
            p[k * c.s2] = c.color[k]
        p += c.s1
        x += 1


cdef bint lb_clip(int64_t width, int64_t height, int64_t* x1, int64_t* y1, int64_t* x2,
                  int64_t* y2) noexcept nogil:
    """Clip a segment to [0, width) x [0, height) as OpenCV's clipLine does (same order of
    operations, the same double-precision slopes); True when the result is inside."""
    cdef int64_t right = width - 1, bottom = height - 1, a
    cdef int c1, c2
    if width <= 0 or height <= 0:
        return False
    c1 = (x1[0] < 0) + (x1[0] > right) * 2 + (y1[0] < 0) * 4 + (y1[0] > bottom) * 8
    c2 = (x2[0] < 0) + (x2[0] > right) * 2 + (y2[0] < 0) * 4 + (y2[0] > bottom) * 8
    if (c1 & c2) == 0 and (c1 | c2) != 0:
        if c1 & 12:
            a = 0 if c1 < 8 else bottom
            x1[0] += <int64_t>(<double>(a - y1[0]) * <double>(x2[0] - x1[0])
                               / <double>(y2[0] - y1[0]))
            y1[0] = a
            c1 = (x1[0] < 0) + (x1[0] > right) * 2
        if c2 & 12:
            a = 0 if c2 < 8 else bottom
            x2[0] += <int64_t>(<double>(a - y2[0]) * <double>(x2[0] - x1[0])
                               / <double>(y2[0] - y1[0]))
            y2[0] = a
            c2 = (x2[0] < 0) + (x2[0] > right) * 2
        if (c1 & c2) == 0 and (c1 | c2) != 0:
            if c1:
                a = 0 if c1 == 1 else right
                y1[0] += <int64_t>(<double>(a - x1[0]) * <double>(y2[0] - y1[0])
                                   / <double>(x2[0] - x1[0]))
                x1[0] = a
                c1 = 0
            if c2:
                a = 0 if c2 == 1 else right
                y2[0] += <int64_t>(<double>(a - x2[0]) * <double>(y2[0] - y1[0])
                                   / <double>(x2[0] - x1[0]))
                x2[0] = a
                c2 = 0
    return (c1 | c2) == 0


cdef void lb_line8(LbCanvas* c, int64_t x1, int64_t y1, int64_t x2, int64_t y2) noexcept nogil:
    """8-connected line, drawn left to right after clipping (OpenCV's LineIterator)."""
    cdef int64_t dx, dy, sy, err, plus, minus, i, count, t
    cdef bint vert
    if (x1 < 0 or x1 >= c.w or x2 < 0 or x2 >= c.w or y1 < 0 or y1 >= c.h
            or y2 < 0 or y2 >= c.h):
        if not lb_clip(c.w, c.h, &x1, &y1, &x2, &y2):
            return
    dx = x2 - x1
    dy = y2 - y1
    if dx < 0:
        dx = -dx
        dy = -dy
        x1 = x2
        y1 = y2
    sy = 1
    if dy < 0:
        dy = -dy
        sy = -1
    vert = dy > dx
    if vert:
        t = dx
        dx = dy
        dy = t
    err = dx - (dy + dy)
    plus = dx + dx
    minus = -(dy + dy)
    count = dx + 1
    for i in range(count):
        lb_put(c, x1, y1)
        if err < 0:
            err += minus + plus
            if vert:
                y1 += sy
                x1 += 1
            else:
                x1 += 1
                y1 += sy
        else:
            err += minus
            if vert:
                y1 += sy
            else:
                x1 += 1


cdef struct LbEdge:
    int64_t y0
    int64_t y1
    int64_t x
    int64_t dx


cdef int lb_collect(LbCanvas* c, const int32_t* v, Py_ssize_t n, LbEdge* edges,
                    Py_ssize_t* ne) noexcept nogil:
    """Draw the closed contour's edges and append its non-horizontal edges (OpenCV's
    CollectPolyEdges for integer vertices)."""
    cdef Py_ssize_t i
    cdef int64_t p0x, p0y, p1x, p1y, t0x, t0y, t1x, t1y, c0y, c1y, c0x, c1x
    cdef LbEdge* e
    if n <= 0:
        return 0
    p0x = v[2 * (n - 1)]
    p0y = v[2 * (n - 1) + 1]
    for i in range(n):
        p1x = v[2 * i]
        p1y = v[2 * i + 1]
        t0x = p0x
        t0y = p0y
        t1x = p1x
        t1y = p1y
        lb_line8(c, t0x, t0y, t1x, t1y)
        c0y = p0y
        c1y = p1y
        if (t0x < 0 or t0x >= c.w or t1x < 0 or t1x >= c.w or t0y < 0 or t0y >= c.h
                or t1y < 0 or t1y >= c.h):
            lb_clip(c.w, c.h, &t0x, &t0y, &t1x, &t1y)
            if t0y != t1y:
                c0y = t0y
                c1y = t1y
        c0x = t0x << LB_XY_SHIFT
        c1x = t1x << LB_XY_SHIFT
        if p0y != p1y:
            e = &edges[ne[0]]
            e.dx = (c1x - c0x) // (c1y - c0y)
            if p0y < p1y:
                e.y0 = p0y
                e.y1 = p1y
                e.x = c0x + (p0y - c0y) * e.dx
            else:
                e.y0 = p1y
                e.y1 = p0y
                e.x = c1x + (p1y - c1y) * e.dx
            ne[0] += 1
        p0x = p1x
        p0y = p1y
    return 0


cdef int lb_fill_edges(LbCanvas* c, LbEdge* edges, Py_ssize_t ne) noexcept nogil:
    """Fill between consecutive crossings of every row (OpenCV's FillEdgeCollection: the
    pairing only depends on the sorted crossing positions)."""
    cdef int64_t ymin, ymax, y, x1, x2, xa, xb, t
    cdef Py_ssize_t i, j, k, na
    cdef int64_t* xs
    cdef Py_ssize_t* order
    cdef LbEdge tmpe
    if ne < 2:
        return 0
    # shell sort of the edges by y0 (their order within one y0 does not matter)
    j = 1
    while j < ne:
        j = 3 * j + 1
    while j > 1:
        j //= 3
        for i in range(j, ne):
            tmpe = edges[i]
            na = i
            while na >= j and edges[na - j].y0 > tmpe.y0:
                edges[na] = edges[na - j]
                na -= j
            edges[na] = tmpe
    ymin = edges[0].y0
    ymax = edges[0].y1
    for i in range(ne):
        if edges[i].y1 > ymax:
            ymax = edges[i].y1
    if ymin < 0:
        ymin = 0
    if ymax > c.h:
        ymax = c.h
    if ymin >= ymax:
        return 0
    xs = <int64_t*>malloc(ne * sizeof(int64_t))
    order = <Py_ssize_t*>malloc(ne * sizeof(Py_ssize_t))
    if xs == NULL or order == NULL:
        free(xs)
        free(order)
        return ERR_NOMEM
    na = 0          # active edges: order[0:na]
    i = 0           # next edge to activate
    for y in range(ymin, ymax):
        # drop finished edges, activate new ones
        j = 0
        for t in range(na):
            if edges[order[t]].y1 > y:
                order[j] = order[t]
                j += 1
        na = j
        while i < ne and edges[i].y0 <= y:
            if edges[i].y1 > y:
                order[na] = i
                na += 1
            i += 1
        # crossings of this row, sorted; `order` keeps the previous row's order, so the
        # insertion sort only moves edges that crossed (or were just added)
        for t in range(na):
            xs[t] = edges[order[t]].x + (y - edges[order[t]].y0) * edges[order[t]].dx
        for t in range(1, na):
            xa = xs[t]
            k = order[t]
            j = t
            while j > 0 and xs[j - 1] > xa:
                xs[j] = xs[j - 1]
                order[j] = order[j - 1]
                j -= 1
            xs[j] = xa
            order[j] = k
        t = 0
        while t + 1 < na:
            xa = xs[t]
            xb = xs[t + 1]
            x1 = (xa + ((1 << LB_XY_SHIFT) - 1)) >> LB_XY_SHIFT
            x2 = xb >> LB_XY_SHIFT
            if x1 < c.w and x2 >= 0:
                if x1 < 0:
                    x1 = 0
                if x2 >= c.w:
                    x2 = c.w - 1
                lb_hline(c, x1, x2, y)
            t += 2
    free(xs)
    free(order)
    return 0


def fill_polygons(uint8_t[:, :, :] canvas, const int32_t[::1] xy, const int64_t[::1] offsets,
                  const uint8_t[::1] color):
    """Fill one set of closed integer contours (vertex i of the whole set at xy[2i], xy[2i+1];
    contour k = vertices offsets[k]..offsets[k+1]) into `canvas` (h x w x c, any strides) with
    `color` (c bytes), as cv2.fillPoly(canvas, contours, color) with LINE_8 and shift 0."""
    cdef LbCanvas c
    cdef Py_ssize_t k, ncont = offsets.shape[0] - 1, total
    cdef LbEdge* edges = NULL
    cdef Py_ssize_t ne = 0
    cdef int rc = 0
    if color.shape[0] != canvas.shape[2]:
        raise ValueError("colour must have one byte per canvas channel")
    if ncont < 0 or offsets[0] != 0 or offsets[ncont] * 2 != xy.shape[0]:
        raise ValueError("bad contour offsets")
    for k in range(ncont):
        if offsets[k + 1] < offsets[k]:
            raise ValueError("bad contour offsets")
    total = offsets[ncont]
    if canvas.shape[0] == 0 or canvas.shape[1] == 0 or total == 0:
        return
    c.base = &canvas[0, 0, 0]
    c.h = canvas.shape[0]
    c.w = canvas.shape[1]
    c.s0 = canvas.strides[0]
    c.s1 = canvas.strides[1]
    c.s2 = canvas.strides[2]
    c.nch = canvas.shape[2]
    c.color = &color[0]
    edges = <LbEdge*>malloc((total + 1) * sizeof(LbEdge))
    if edges == NULL:
        raise MemoryError()
    try:
        with nogil:
            for k in range(ncont):
                lb_collect(&c, &xy[2 * offsets[k]] if offsets[k + 1] > offsets[k] else NULL,
                           offsets[k + 1] - offsets[k], edges, &ne)
            rc = lb_fill_edges(&c, edges, ne)
        if rc < 0:
            _raise(rc)
    finally:
        free(edges)


# ---------------------------------------------------------------------------------------------
# compose: paint the foreground runs of an RLE into a colour canvas
# ---------------------------------------------------------------------------------------------

cdef int lb_paint(const uint8_t* s, Py_ssize_t n, LbCanvas* c) noexcept nogil:
    """Write c.color at every foreground pixel of the column-major runs of `s` (validated
    first); the cost is proportional to the foreground area, not to h*w."""
    cdef Reader r
    cdef uint64_t cnt, pos = 0, hw = <uint64_t>(c.h * c.w), x, y, k
    cdef uint8_t* p
    cdef Py_ssize_t j
    cdef int rc
    cdef bint ones = False
    reader_init(&r, s, n)
    while True:
        rc = read_count(&r, &cnt)
        if rc < 0:
            return rc
        if rc == 0:
            break
        if pos + cnt > hw:
            return ERR_OVERRUN
        pos += cnt
    reader_init(&r, s, n)
    pos = 0
    while read_count(&r, &cnt) == 1:
        if ones and cnt:
            x = pos // <uint64_t>c.h
            y = pos % <uint64_t>c.h
            p = c.base + <Py_ssize_t>y * c.s0 + <Py_ssize_t>x * c.s1
            for k in range(cnt):
                for j in range(c.nch):
                    p[j * c.s2] = c.color[j]
                y += 1
                if y == <uint64_t>c.h:
                    y = 0
                    x += 1
                    p = c.base + <Py_ssize_t>x * c.s1
                else:
                    p += c.s0
        pos += cnt
        ones = not ones
    return 0


def paint_rles(uint8_t[:, :, :] canvas, list rles, const uint8_t[:, ::1] colors):
    """Paint rles[i] (each of size [h, w] = the canvas size) with colors[i], in order."""
    cdef _Strings st = _unpack(rles)
    cdef LbCanvas c
    cdef Py_ssize_t k
    cdef int rc = 0
    if colors.shape[0] != st.n or colors.shape[1] != canvas.shape[2]:
        raise ValueError("need one colour of c bytes per RLE")
    for k in range(st.n):
        if st.h[k] != <uint64_t>canvas.shape[0] or st.w[k] != <uint64_t>canvas.shape[1]:
            raise SizeMismatchError(f"RLE {k} has size [{st.h[k]}, {st.w[k]}], expected "
                                    f"[{canvas.shape[0]}, {canvas.shape[1]}]")
    if canvas.shape[0] == 0 or canvas.shape[1] == 0 or canvas.shape[2] == 0:
        return
    c.base = &canvas[0, 0, 0]
    c.h = canvas.shape[0]
    c.w = canvas.shape[1]
    c.s0 = canvas.strides[0]
    c.s1 = canvas.strides[1]
    c.s2 = canvas.strides[2]
    c.nch = canvas.shape[2]
    with nogil:
        for k in range(st.n):
            c.color = &colors[k, 0]
            rc = lb_paint(st.ptr[k], st.length[k], &c)
            if rc < 0:
                break
    if rc < 0:
        _raise(rc, f"RLE {k}")

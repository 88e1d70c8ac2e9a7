# Part of _rle_core.pyx: RLE-domain operations that must match pycocotools bit for bit:
# the polygon rasteriser (rleFrPoly), boxes (rleFrBbox), merge (rleMerge) and iou (rleIou).
#
# Polygon rasteriser. pycocotools upsamples the polygon 5x, walks every edge pixel by pixel,
# and records a toggle where the walk crosses the vertical line through a pixel-column centre
# (upsampled x = 5c + 2). We compute exactly the same toggles without the walk: along an
# x-major edge the crossings are every 5th step, along a y-major edge the (monotone) x of
# step t is evaluated with the same double expression and the crossing step is found from a
# closed-form estimate corrected by exact evaluation. Work per edge is O(columns crossed),
# not O(edge length), so huge coordinates cannot blow up time or memory. Toggles are sorted
# by a counting sort on the column, then the pycocotools diff/compaction is applied
# literally. Positions are 64-bit. Compile with -ffp-contract=off.

cdef double SCALE = 5.0
# Work and scratch of a polygon grow with the pixel columns its edges cross, not with its
# coordinates; a few bytes can still describe an edge crossing 4e8 columns of a very wide
# image (6 GB of toggles). Past this many crossings per polygon we refuse (ERR_POLYBIG).
cdef Py_ssize_t MAX_CROSSINGS = 1 << 24


cdef struct Poly:
    uint64_t* tc        # toggle columns
    uint64_t* tr        # toggle rows
    Py_ssize_t tn
    Py_ssize_t tcap
    uint64_t* bucket
    Py_ssize_t bcap
    uint64_t* pos       # sorted positions + sentinel, then their differences
    Py_ssize_t pcap
    uint64_t* cb        # compacted counts
    Py_ssize_t cbcap
    int64_t* X
    int64_t* Y
    Py_ssize_t vcap


cdef void poly_free(Poly* ps) noexcept nogil:
    free(ps.tc)
    free(ps.tr)
    free(ps.bucket)
    free(ps.pos)
    free(ps.cb)
    free(ps.X)
    free(ps.Y)
    memset(ps, 0, sizeof(Poly))


cdef inline int poly_toggle(Poly* ps, uint64_t c, int64_t vmin, uint64_t h) noexcept nogil:
    cdef double yd
    cdef Py_ssize_t cap
    cdef uint64_t* a
    yd = (<double>vmin + 0.5) / SCALE - 0.5
    if yd < 0:
        yd = 0
    elif yd > <double>h:
        yd = <double>h
    yd = ceil(yd)
    if ps.tn >= ps.tcap:
        cap = ps.tcap * 2 if ps.tcap else 256
        a = <uint64_t*>realloc(ps.tc, cap * sizeof(uint64_t))
        if a == NULL:
            return ERR_NOMEM
        ps.tc = a
        a = <uint64_t*>realloc(ps.tr, cap * sizeof(uint64_t))
        if a == NULL:
            return ERR_NOMEM
        ps.tr = a
        ps.tcap = cap
    ps.tc[ps.tn] = c
    ps.tr[ps.tn] = <uint64_t>yd
    ps.tn += 1
    return 0


cdef inline int64_t floordiv5(int64_t a) noexcept nogil:
    if a >= 0:
        return a // 5
    return -((-a + 4) // 5)


cdef inline int64_t minor_at(int64_t start, double s, int64_t t) noexcept nogil:
    # (int)(start + s*t + .5) with C evaluation order and truncation toward zero
    return <int64_t>(<double>start + s * <double>t + 0.5)


cdef int poly_edge(Poly* ps, int64_t xs, int64_t ys, int64_t xe, int64_t ye,
                   uint64_t h, uint64_t w) noexcept nogil:
    cdef int64_t dx, dy, t, tmp, c, c_lo, c_hi, xc, v0, v1, u0, u1, lo, hi, T
    cdef bint flip
    cdef double s, est
    dx = xe - xs if xe >= xs else xs - xe
    dy = ye - ys if ye >= ys else ys - ye
    flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
    if flip:
        tmp = xs
        xs = xe
        xe = tmp
        tmp = ys
        ys = ye
        ye = tmp
    if w == 0:
        return 0
    if dx >= dy:
        if dx == 0:
            return 0
        s = <double>(ye - ys) / <double>dx
        # pairs (t, t+1), t in [0, dx-1], cross column c when xs + t == 5c + 2
        c_lo = floordiv5(xs - 2 + 4)          # ceil((xs - 2) / 5)
        c_hi = floordiv5(xs + dx - 1 - 2)     # floor((xs + dx - 3) / 5)
        if c_lo < 0:
            c_lo = 0
        if c_hi > <int64_t>w - 1:
            c_hi = <int64_t>w - 1
        if c_hi >= c_lo and ps.tn + (c_hi - c_lo + 1) > MAX_CROSSINGS:
            return ERR_POLYBIG
        c = c_lo
        while c <= c_hi:
            t = 5 * c + 2 - xs
            v0 = minor_at(ys, s, t)
            v1 = minor_at(ys, s, t + 1)
            if poly_toggle(ps, <uint64_t>c, v0 if v0 < v1 else v1, h) < 0:
                return ERR_NOMEM
            c += 1
        return 0
    # y-major edge: v = ys + t, u(t) monotone with steps of at most 1
    if xe == xs:
        return 0
    s = <double>(xe - xs) / <double>dy
    u0 = minor_at(xs, s, 0)
    u1 = minor_at(xs, s, dy)
    if s > 0:
        lo = u0
        hi = u1
    else:
        lo = u1
        hi = u0
    # crossing targets xc in [lo, hi-1], xc = 5c + 2, 0 <= c <= w-1
    c_lo = floordiv5(lo - 2 + 4)
    c_hi = floordiv5(hi - 1 - 2)
    if c_lo < 0:
        c_lo = 0
    if c_hi > <int64_t>w - 1:
        c_hi = <int64_t>w - 1
    if c_hi >= c_lo and ps.tn + (c_hi - c_lo + 1) > MAX_CROSSINGS:
        return ERR_POLYBIG
    c = c_lo
    while c <= c_hi:
        xc = 5 * c + 2
        est = (<double>xc + 0.5 - <double>xs) / s
        if est < 1:
            T = 1
        elif est > <double>dy:
            T = dy
        else:
            T = <int64_t>ceil(est)
        if s > 0:
            # smallest T with u(T) >= xc + 1
            while T > 1 and minor_at(xs, s, T - 1) >= xc + 1:
                T -= 1
            while T < dy and minor_at(xs, s, T) < xc + 1:
                T += 1
        else:
            # smallest T with u(T) <= xc
            while T > 1 and minor_at(xs, s, T - 1) <= xc:
                T -= 1
            while T < dy and minor_at(xs, s, T) > xc:
                T += 1
        if poly_toggle(ps, <uint64_t>c, ys + T - 1, h) < 0:
            return ERR_NOMEM
        c += 1
    return 0


cdef inline bint coord_ok(double v) noexcept nogil:
    # (int)(5*v + 0.5) must be defined in C (fit in int32): the range pycocotools handles
    cdef double q
    if isnan(v) or isinf(v):
        return False
    q = SCALE * v + 0.5
    return q > -2147483649.0 and q < 2147483648.0


cdef int poly_rasterise(Poly* ps, const double* xy, Py_ssize_t k, uint64_t h, uint64_t w,
                        U32Buf* out) noexcept nogil:
    """Counts of the polygon with k vertices xy[0:2k] (pycocotools rleFrPoly)."""
    cdef Py_ssize_t j, i, n
    cdef int rc
    cdef int64_t* q
    cdef uint64_t cmin, cmax, c, acc, t, prev, r, key
    cdef uint64_t hw = h * w
    if k > ps.vcap:
        q = <int64_t*>realloc(ps.X, (k + 1) * sizeof(int64_t))
        if q == NULL:
            return ERR_NOMEM
        ps.X = q
        q = <int64_t*>realloc(ps.Y, (k + 1) * sizeof(int64_t))
        if q == NULL:
            return ERR_NOMEM
        ps.Y = q
        ps.vcap = k
    for j in range(k):
        if not coord_ok(xy[2 * j]) or not coord_ok(xy[2 * j + 1]):
            return ERR_COORD
        ps.X[j] = <int64_t>(<int32_t>(SCALE * xy[2 * j] + 0.5))
        ps.Y[j] = <int64_t>(<int32_t>(SCALE * xy[2 * j + 1] + 0.5))
    ps.tn = 0
    if k > 0:
        ps.X[k] = ps.X[0]
        ps.Y[k] = ps.Y[0]
        for j in range(k):
            rc = poly_edge(ps, ps.X[j], ps.Y[j], ps.X[j + 1], ps.Y[j + 1], h, w)
            if rc < 0:
                return rc
    n = ps.tn
    # counting sort by column, then insertion sort of the rows within each column
    if grow_u64(&ps.pos, &ps.pcap, n + 1) < 0:
        return ERR_NOMEM
    if n > 0:
        cmin = ps.tc[0]
        cmax = ps.tc[0]
        for i in range(n):
            if ps.tc[i] < cmin:
                cmin = ps.tc[i]
            if ps.tc[i] > cmax:
                cmax = ps.tc[i]
        if grow_u64(&ps.bucket, &ps.bcap, <Py_ssize_t>(cmax - cmin + 2)) < 0:
            return ERR_NOMEM
        memset(ps.bucket, 0, (cmax - cmin + 2) * sizeof(uint64_t))
        for i in range(n):
            ps.bucket[ps.tc[i] - cmin] += 1
        acc = 0
        for c in range(cmax - cmin + 2):
            t = ps.bucket[c]
            ps.bucket[c] = acc
            acc += t
        for i in range(n):
            c = ps.tc[i] - cmin
            ps.pos[ps.bucket[c]] = ps.tc[i] * h + ps.tr[i]
            ps.bucket[c] += 1
        # rows within one column: few entries, insertion sort on the full key
        for i in range(1, n):
            key = ps.pos[i]
            j = i - 1
            while j >= 0 and ps.pos[j] > key:
                ps.pos[j + 1] = ps.pos[j]
                j -= 1
            ps.pos[j + 1] = key
    ps.pos[n] = hw
    n += 1
    # differences
    prev = 0
    for i in range(n):
        t = ps.pos[i]
        ps.pos[i] = t - prev
        prev = t
    # pycocotools compaction: a zero difference is dropped together with the next entry,
    # which is added to the previous count (two toggles at one place cancel)
    if grow_u64(&ps.cb, &ps.cbcap, n) < 0:
        return ERR_NOMEM
    r = 0
    ps.cb[0] = ps.pos[0]
    r = 1
    i = 1
    while i < n:
        if ps.pos[i] > 0:
            ps.cb[r] = ps.pos[i]
            r += 1
            i += 1
        else:
            i += 1
            if i < n:
                ps.cb[r - 1] += ps.pos[i]
                i += 1
    out.n = 0
    for i in range(<Py_ssize_t>r):
        if push_run(out, ps.cb[i]) < 0:
            return ERR_NOMEM
    return 0


cdef struct CharBuf:
    # concatenated strings built without the GIL, cut into bytes objects afterwards
    char* data
    Py_ssize_t n
    Py_ssize_t cap
    Py_ssize_t* ends
    Py_ssize_t nends
    Py_ssize_t ecap


cdef list charbuf_to_list(CharBuf* cb):
    cdef list res = []
    cdef Py_ssize_t i, start = 0
    for i in range(cb.nends):
        res.append(PyBytes_FromStringAndSize(cb.data + start, cb.ends[i] - start))
        start = cb.ends[i]
    return res


cdef int charbuf_add(CharBuf* cb, const uint32_t* cnts, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t need = cb.n + 7 * m + 1
    cdef Py_ssize_t cap
    cdef char* p
    cdef Py_ssize_t* e
    if need > cb.cap:
        cap = cb.cap * 2
        if cap < need:
            cap = need
        p = <char*>realloc(cb.data, cap)
        if p == NULL:
            return ERR_NOMEM
        cb.data = p
        cb.cap = cap
    if cb.nends >= cb.ecap:
        cap = cb.ecap * 2 if cb.ecap else 64
        e = <Py_ssize_t*>realloc(cb.ends, cap * sizeof(Py_ssize_t))
        if e == NULL:
            return ERR_NOMEM
        cb.ends = e
        cb.ecap = cap
    cb.n += counts_to_chars(cnts, m, cb.data + cb.n)
    cb.ends[cb.nends] = cb.n
    cb.nends += 1
    return 0


def polygons_to_strings(const double[::1] xy, const int64_t[::1] offsets, Py_ssize_t h,
                        Py_ssize_t w):
    """Counts strings of polygons; polygon i has coordinates xy[offsets[i]:offsets[i+1]]
    (x0, y0, x1, y1, ...; an odd trailing coordinate is ignored)."""
    cdef Py_ssize_t npoly = offsets.shape[0] - 1
    if npoly <= 0:
        return []
    if offsets[npoly] > xy.shape[0] or offsets[0] < 0:
        raise ValueError("offsets out of range")
    return _rasterise_all(&xy[0] if xy.shape[0] else NULL, &offsets[0], npoly, h, w)


def boxes_to_strings(const double[:, :] bb, Py_ssize_t h, Py_ssize_t w):
    """Counts strings of [x, y, w, h] boxes (pycocotools rleFrBbox), any strides."""
    cdef Py_ssize_t i, n = bb.shape[0]
    cdef double xy[8]
    cdef double xs, xe, ys, ye
    cdef Poly ps
    cdef U32Buf buf
    cdef CharBuf cb
    cdef int rc = 0
    if bb.shape[1] != 4:
        raise MaskShapeError(f"boxes must have shape (N, 4), got ({bb.shape[0]}, {bb.shape[1]})")
    if h < 0 or w < 0:
        raise MaskShapeError(f"size must be non-negative, got h={h}, w={w}")
    if too_many_pixels(<uint64_t>h, <uint64_t>w):
        raise ImageTooLargeError("image has too many pixels")
    memset(&ps, 0, sizeof(Poly))
    memset(&cb, 0, sizeof(CharBuf))
    buf.data = NULL
    buf.n = 0
    buf.cap = 0
    try:
        with nogil:
            for i in range(n):
                xs = bb[i, 0]
                xe = xs + bb[i, 2]
                ys = bb[i, 1]
                ye = ys + bb[i, 3]
                xy[0] = xs
                xy[1] = ys
                xy[2] = xs
                xy[3] = ye
                xy[4] = xe
                xy[5] = ye
                xy[6] = xe
                xy[7] = ys
                rc = poly_rasterise(&ps, xy, 4, h, w, &buf)
                if rc < 0:
                    break
                rc = charbuf_add(&cb, buf.data, buf.n)
                if rc < 0:
                    break
        if rc < 0:
            _raise(rc, f"box {i}")
        return charbuf_to_list(&cb)
    finally:
        poly_free(&ps)
        free(buf.data)
        free(cb.data)
        free(cb.ends)


# ---------------------------------------------------------------------------------------------
# merge (rleMerge): fold left with the pycocotools two-pointer sweep, literally, so that even
# inputs with zero-length runs give the same bytes. Operands whose counts fall short of h*w
# are completed with background first (pycocotools would loop forever on them).
# ---------------------------------------------------------------------------------------------

cdef int complete_counts(U32Buf* b, Py_ssize_t start, uint64_t hw) noexcept nogil:
    cdef Py_ssize_t i
    cdef uint64_t total = 0
    for i in range(start, b.n):
        total += b.data[i]
    if total > hw:
        return ERR_OVERRUN
    if b.n == start:
        return push_run(b, hw)
    if total < hw:
        if (b.n - start) % 2 == 1:
            # ends with background: one empty foreground run, then the rest
            if push_run(b, 0) < 0:
                return ERR_NOMEM
        return push_run(b, hw - total)
    return 0


cdef int merge_two(const uint32_t* A, Py_ssize_t am, const uint32_t* B, Py_ssize_t bm,
                   bint intersect, U32Buf* out) noexcept nogil:
    # pycocotools stops when both current runs are empty (ct == 0), which truncates the
    # result when both operands hold a zero-length run at the same place; we stop only when
    # both are exhausted, which is the same for every input pycocotools merges correctly.
    cdef uint64_t c, ca, cb, cc = 0
    cdef Py_ssize_t a = 1, b = 1
    cdef bint v = False, va = False, vb = False, vp, done = False
    out.n = 0
    if u32_reserve(out, am + bm + 2) < 0:
        return ERR_NOMEM
    ca = A[0]
    cb = B[0]
    while not done:
        c = ca if ca < cb else cb
        cc += c
        ca -= c
        if ca == 0 and a < am:
            ca = A[a]
            a += 1
            va = not va
        cb -= c
        if cb == 0 and b < bm:
            cb = B[b]
            b += 1
            vb = not vb
        done = ca == 0 and cb == 0 and a >= am and b >= bm
        vp = v
        if intersect:
            v = va and vb
        else:
            v = va or vb
        if v != vp or done:
            if push_run(out, cc) < 0:
                return ERR_NOMEM
            cc = 0
    return 0


cdef bint is_canonical(const uint32_t* c, Py_ssize_t m, uint64_t hw) noexcept nogil:
    """Encoder-shaped counts: no zero-length run after the first, summing to h*w."""
    cdef Py_ssize_t i
    cdef uint64_t total = 0
    if m == 0:
        return False
    total = c[0]
    for i in range(1, m):
        if c[i] == 0:
            return False
        total += c[i]
    return total == hw


cdef struct Cursor:
    const uint32_t* c
    Py_ssize_t m
    Py_ssize_t i        # index of the next foreground run (odd)
    uint64_t pos        # start position of run i
    uint64_t start      # current foreground interval [start, end)
    uint64_t end


cdef inline bint cursor_next(Cursor* k) noexcept nogil:
    if k.i >= k.m:
        return False
    k.pos += k.c[k.i - 1]
    k.start = k.pos
    k.end = k.pos + k.c[k.i]
    k.pos = k.end
    k.i += 2
    return True


cdef int union_canonical(const uint32_t* data, const Py_ssize_t* off, Py_ssize_t n,
                         uint64_t hw, U32Buf* out) noexcept nogil:
    """Union of n canonical RLEs by an n-way merge of their foreground intervals (a binary
    heap on interval starts). Gives the encoder's output for the union, which is what the
    pycocotools fold gives for canonical inputs; O(intervals * log n)."""
    cdef Cursor* cur = <Cursor*>malloc(n * sizeof(Cursor))
    cdef Py_ssize_t* heap = <Py_ssize_t*>malloc(n * sizeof(Py_ssize_t))
    cdef Py_ssize_t i, hn = 0, j, child, top, tmp
    cdef uint64_t cs = 0, ce = 0, last = 0
    cdef bint open_ = False
    cdef int rc = 0
    if cur == NULL or heap == NULL:
        free(cur)
        free(heap)
        return ERR_NOMEM
    out.n = 0
    for i in range(n):
        cur[i].c = data + off[i]
        cur[i].m = off[i + 1] - off[i]
        cur[i].i = 1
        cur[i].pos = 0
        if cursor_next(&cur[i]):
            # sift up
            j = hn
            heap[hn] = i
            hn += 1
            while j > 0 and cur[heap[(j - 1) >> 1]].start > cur[heap[j]].start:
                tmp = heap[j]
                heap[j] = heap[(j - 1) >> 1]
                heap[(j - 1) >> 1] = tmp
                j = (j - 1) >> 1
    while hn > 0:
        top = heap[0]
        if open_ and cur[top].start <= ce:
            if cur[top].end > ce:
                ce = cur[top].end
        else:
            if open_:
                if push_run(out, cs - last) < 0 or push_run(out, ce - cs) < 0:
                    rc = ERR_NOMEM
                    break
                last = ce
            cs = cur[top].start
            ce = cur[top].end
            open_ = True
        if not cursor_next(&cur[top]):
            hn -= 1
            heap[0] = heap[hn]
        # sift down
        j = 0
        while True:
            child = 2 * j + 1
            if child >= hn:
                break
            if child + 1 < hn and cur[heap[child + 1]].start < cur[heap[child]].start:
                child += 1
            if cur[heap[child]].start >= cur[heap[j]].start:
                break
            tmp = heap[j]
            heap[j] = heap[child]
            heap[child] = tmp
            j = child
    if rc == 0:
        if open_:
            if push_run(out, cs - last) < 0 or push_run(out, ce - cs) < 0:
                rc = ERR_NOMEM
            last = ce
            if rc == 0 and last < hw and push_run(out, hw - last) < 0:
                rc = ERR_NOMEM
        elif push_run(out, hw) < 0:
            rc = ERR_NOMEM
    free(cur)
    free(heap)
    return rc


def merge_strings(list rles, bint intersect):
    """Union or intersection of RLE dicts of one size: (h, w, counts bytes)."""
    cdef _Strings st = _unpack(rles)
    cdef Py_ssize_t i, n = st.n, start
    cdef U32Buf acc, nxt, tmp, res
    cdef int rc = 0
    cdef uint64_t h, w
    cdef Py_ssize_t* offs
    cdef bint canon, fold = False
    if n == 0:
        return 0, 0, b""
    h = st.h[0]
    w = st.w[0]
    for i in range(1, n):
        if st.h[i] != h or st.w[i] != w:
            raise SizeMismatchError(
                f"merge: RLE {i} has size [{st.h[i]}, {st.w[i]}], RLE 0 has [{h}, {w}]")
    memset(&acc, 0, sizeof(U32Buf))
    memset(&nxt, 0, sizeof(U32Buf))
    memset(&res, 0, sizeof(U32Buf))
    try:
        with nogil:
            rc = <int>parse_counts(st.ptr[0], st.length[0], &acc)
            if rc >= 0 and n == 1:
                # a copy, re-encoded; still validated against h*w
                rc = 0
                start = 0
                i = 0
                h = 0
                while i < acc.n:
                    h += acc.data[i]
                    i += 1
                if h > st.h[0] * st.w[0]:
                    rc = ERR_OVERRUN
                h = st.h[0]
            elif rc >= 0 and not intersect and h * w > 0 and h * w <= U32MAX:
                # fast path when every operand is canonical; else the literal fold below
                offs = <Py_ssize_t*>malloc((n + 1) * sizeof(Py_ssize_t))
                if offs == NULL:
                    rc = ERR_NOMEM
                else:
                    offs[0] = 0
                    offs[1] = acc.n
                    canon = is_canonical(acc.data, acc.n, h * w)
                    i = 1
                    while rc >= 0 and i < n:
                        rc = <int>parse_counts(st.ptr[i], st.length[i], &acc)
                        offs[i + 1] = acc.n
                        if rc >= 0 and canon:
                            canon = is_canonical(acc.data + offs[i], acc.n - offs[i], h * w)
                        i += 1
                    if rc >= 0 and canon:
                        rc = union_canonical(acc.data, offs, n, h * w, &res)
                        tmp = acc
                        acc = res
                        res = tmp
                    elif rc >= 0:
                        # not canonical: back to the first operand, then fold
                        acc.n = offs[1]
                        fold = True
                    free(offs)
            if rc >= 0 and n > 1 and (intersect or fold or h * w == 0 or h * w > U32MAX):
                rc = complete_counts(&acc, 0, h * w)
                i = 1
                while rc >= 0 and i < n:
                    nxt.n = 0
                    rc = <int>parse_counts(st.ptr[i], st.length[i], &nxt)
                    if rc < 0:
                        break
                    rc = complete_counts(&nxt, 0, h * w)
                    if rc < 0:
                        break
                    rc = merge_two(acc.data, acc.n, nxt.data, nxt.n, intersect, &res)
                    if rc < 0:
                        break
                    tmp = acc
                    acc = res
                    res = tmp
                    i += 1
                    if i < n:
                        # the sweep drops a background tail after a trailing empty run;
                        # complete it, else the next sweep would never end
                        rc = complete_counts(&acc, 0, h * w)
        if rc < 0:
            _raise(rc, f"merge: RLE {i if n > 1 else 0}")
        return h, w, counts_to_bytes(acc.data, acc.n)
    finally:
        free(acc.data)
        free(nxt.data)
        free(res.data)


# ---------------------------------------------------------------------------------------------
# iou (bbIou / rleIou)
# ---------------------------------------------------------------------------------------------

cdef inline double c_fmin(double a, double b) noexcept nogil:
    """C's fmin (the other operand when one is NaN) as a select: without -ffast-math the
    compiler calls libm's fmin, four calls per box pair."""
    return a if a < b or b != b else b


cdef inline double c_fmax(double a, double b) noexcept nogil:
    """C's fmax, as c_fmin. (A zero's sign can differ from libm's; only w <= 0 reads it.)"""
    return a if a > b or b != b else b


cdef inline double box_iou(const double* D, const double* G, bint crowd) noexcept nogil:
    cdef double ga, da, w, h, i, u
    ga = G[2] * G[3]
    da = D[2] * D[3]
    w = c_fmin(D[2] + D[0], G[2] + G[0]) - c_fmax(D[0], G[0])
    if w <= 0:
        return 0
    h = c_fmin(D[3] + D[1], G[3] + G[1]) - c_fmax(D[1], G[1])
    if h <= 0:
        return 0
    i = w * h
    if crowd:
        u = da
    else:
        u = da + ga - i
    return i / u


def box_iou_matrix(const double[:, :] dt, const double[:, :] gt, const uint8_t[::1] crowd,
                   double[::1, :] out):
    """o[d, g] = box IoU of dt[d] and gt[g] (pycocotools bbIou, crowd on gt)."""
    cdef Py_ssize_t m = dt.shape[0], n = gt.shape[0], d, g
    cdef double D[4]
    cdef double G[4]
    cdef Py_ssize_t j
    with nogil:
        for g in range(n):
            for j in range(4):
                G[j] = gt[g, j]
            for d in range(m):
                for j in range(4):
                    D[j] = dt[d, j]
                out[d, g] = box_iou(D, G, crowd[g] != 0)


cdef struct Parsed:
    # cumulative run ends of every RLE, concatenated
    uint64_t* ends
    Py_ssize_t* off      # RLE i owns ends[off[i]:off[i+1]]
    double* bb           # 4 per RLE
    uint64_t* area
    uint64_t* h
    uint64_t* w


cdef void parsed_free(Parsed* p) noexcept nogil:
    free(p.ends)
    free(p.off)
    free(p.bb)
    free(p.area)
    memset(p, 0, sizeof(Parsed))


cdef inline Py_ssize_t parse_one(const uint8_t* s, Py_ssize_t n, uint64_t h, uint64_t w,
                                 U32Buf* buf, uint64_t* ends, double* bb,
                                 uint64_t* area) noexcept nogil:
    """Parse one counts string: its cumulative run ends into ends (room for n), its box and
    area; the number of runs, or an error code."""
    cdef Py_ssize_t m, k
    cdef uint64_t acc = 0, a = 0
    cdef int rc
    buf.n = 0
    m = parse_counts(s, n, buf)
    if m < 0:
        return m
    rc = counts_bbox(buf.data, m, h, w, bb)
    if rc < 0:
        return rc
    for k in range(m):
        acc += buf.data[k]
        if k & 1:
            a += buf.data[k]
        ends[k] = acc
    area[0] = a
    return m


cdef int parse_all(const uint8_t** ptr, const Py_ssize_t* length, uint64_t* hs, uint64_t* ws,
                   Py_ssize_t nrle, Parsed* p) noexcept nogil:
    """Parse each RLE once: cumulative ends, box and area."""
    cdef Py_ssize_t i, total = 0, m
    cdef U32Buf buf
    memset(&buf, 0, sizeof(U32Buf))
    for i in range(nrle):
        total += length[i]
    p.ends = <uint64_t*>malloc((total + 1) * sizeof(uint64_t))
    p.off = <Py_ssize_t*>malloc((nrle + 1) * sizeof(Py_ssize_t))
    p.bb = <double*>malloc((4 * nrle + 1) * sizeof(double))
    p.area = <uint64_t*>malloc((nrle + 1) * sizeof(uint64_t))
    p.h = hs
    p.w = ws
    if p.ends == NULL or p.off == NULL or p.bb == NULL or p.area == NULL:
        return ERR_NOMEM
    p.off[0] = 0
    for i in range(nrle):
        m = parse_one(ptr[i], length[i], hs[i], ws[i], &buf, p.ends + p.off[i], p.bb + 4 * i,
                      p.area + i)
        if m < 0:
            free(buf.data)
            return <int>m
        p.off[i + 1] = p.off[i] + m
    free(buf.data)
    return 0


cdef inline Py_ssize_t first_fg_after(const uint64_t* E, Py_ssize_t m, uint64_t lo) noexcept nogil:
    """Index of the first foreground run (odd index) ending after position lo, or m."""
    cdef Py_ssize_t a = 0, b = m, mid
    while a < b:
        mid = (a + b) >> 1
        if E[mid] > lo:
            b = mid
        else:
            a = mid + 1
    if a < m and (a & 1) == 0:
        a += 1
    return a


cdef uint64_t intersect_runs(const uint64_t* EA, Py_ssize_t ma, const uint64_t* EB,
                             Py_ssize_t mb, uint64_t lo, uint64_t hi) noexcept nogil:
    """Foreground pixels common to A and B within [lo, hi)."""
    cdef Py_ssize_t ia = first_fg_after(EA, ma, lo), ib = first_fg_after(EB, mb, lo)
    cdef uint64_t sa, ea, sb, eb, s, e, inter = 0
    while ia < ma and ib < mb:
        sa = EA[ia - 1]
        ea = EA[ia]
        sb = EB[ib - 1]
        eb = EB[ib]
        if sa >= hi or sb >= hi:
            break
        s = sa if sa > sb else sb
        e = ea if ea < eb else eb
        if e > s:
            inter += e - s
        if ea < eb:
            ia += 2
        else:
            ib += 2
    return inter


cdef double rle_pair_iou(const Parsed* pd, Py_ssize_t d, const Parsed* pg, Py_ssize_t g,
                         bint crowd) noexcept nogil:
    """IoU of parsed RLE d of pd and g of pg (pycocotools rleIou; crowd: union = area of d)."""
    cdef const double* D = pd.bb + 4 * d
    cdef const double* G = pg.bb + 4 * g
    cdef double o = box_iou(D, G, crowd)
    cdef uint64_t h, xlo, xhi, inter, u
    cdef int64_t a, b
    if o > 0:
        if pd.h[d] != pg.h[g] or pd.w[d] != pg.w[g]:
            return -1
        h = pd.h[d]
        # the boxes overlap, so both RLEs have foreground; clip to shared columns
        a = <int64_t>D[0]
        b = <int64_t>G[0]
        xlo = <uint64_t>(a if a > b else b)
        a = <int64_t>(D[0] + D[2])
        b = <int64_t>(G[0] + G[2])
        xhi = <uint64_t>(a if a < b else b)
        inter = intersect_runs(pd.ends + pd.off[d], pd.off[d + 1] - pd.off[d],
                               pg.ends + pg.off[g], pg.off[g + 1] - pg.off[g],
                               xlo * h, xhi * h)
        if inter == 0:
            u = 1
        elif crowd:
            u = pd.area[d]
        else:
            u = pd.area[d] + pg.area[g] - inter
        o = <double>inter / <double>u
    return o


cdef void iou_columns(Parsed* pd, Py_ssize_t m, Parsed* pg, const uint8_t* crowd,
                      double* out, Py_ssize_t g0, Py_ssize_t g1) noexcept nogil:
    cdef Py_ssize_t d, g
    for g in range(g0, g1):
        for d in range(m):
            out[g * m + d] = rle_pair_iou(pd, d, pg, g, crowd[g] != 0)


cdef class _IouPlan:
    """Both sides of an RLE iou parsed once; columns computed by `run` (GIL released)."""
    cdef _Strings sd
    cdef _Strings sg
    cdef Parsed pd
    cdef Parsed pg
    cdef bytes crowd

    def __dealloc__(self):
        parsed_free(&self.pd)
        parsed_free(&self.pg)

    def run(self, double[::1, :] out, Py_ssize_t g0, Py_ssize_t g1):
        cdef Py_ssize_t m = out.shape[0]
        cdef const uint8_t* cr = <const uint8_t*>PyBytes_AS_STRING(self.crowd)
        if m == 0 or g1 <= g0:
            return
        with nogil:
            iou_columns(&self.pd, m, &self.pg, cr, &out[0, 0], g0, g1)


def iou_plan(list dt, list gt, bytes crowd):
    """Parse dt and gt RLE dicts for iou; len(crowd) == len(gt)."""
    cdef _IouPlan plan = _IouPlan()
    cdef int rc
    plan.sd = _unpack(dt)
    plan.sg = _unpack(gt)
    plan.crowd = crowd
    memset(&plan.pd, 0, sizeof(Parsed))
    memset(&plan.pg, 0, sizeof(Parsed))
    cdef _Strings sd = plan.sd, sg = plan.sg
    with nogil:
        rc = parse_all(sd.ptr, sd.length, sd.h, sd.w, sd.n, &plan.pd)
    if rc < 0:
        _raise(rc, "iou: dt")
    with nogil:
        rc = parse_all(sg.ptr, sg.length, sg.h, sg.w, sg.n, &plan.pg)
    if rc < 0:
        _raise(rc, "iou: gt")
    return plan


def polygons_to_rles(list polys, Py_ssize_t h, Py_ssize_t w):
    """RLE dicts of flat polygons (pycocotools frPoly): one pass from the Python lists into
    one coordinate buffer, the rasteriser without the GIL, then the dicts. Lists and tuples
    of numbers are read directly; anything else through numpy.asarray(float64), 1-D."""
    cdef Py_ssize_t n = len(polys), i, j, k, total = 0, length
    cdef object p
    cdef list arrays = [None] * n
    cdef double[::1] arr
    cdef double* xy = NULL
    cdef int64_t* off = NULL
    cdef list res
    import numpy as np
    off = <int64_t*>malloc((n + 1) * sizeof(int64_t))
    if off == NULL:
        raise MemoryError()
    try:
        off[0] = 0
        for i in range(n):
            p = polys[i]
            if type(p) is list or type(p) is tuple:
                length = len(p)
            else:
                a = np.asarray(p, dtype=np.float64)
                if a.ndim != 1:
                    raise MaskShapeError(f"polygon {i} must be a flat list [x0, y0, x1, y1, ...]")
                arrays[i] = a
                length = a.shape[0]
            total += (length // 2) * 2
            off[i + 1] = total
        xy = <double*>malloc((total + 1) * sizeof(double))
        if xy == NULL:
            raise MemoryError()
        for i in range(n):
            k = off[i + 1] - off[i]
            if arrays[i] is None:
                p = polys[i]
                try:
                    for j in range(k):
                        xy[off[i] + j] = <double>p[j]
                except (TypeError, ValueError):
                    a = np.asarray(p, dtype=np.float64)
                    if a.ndim != 1:
                        raise MaskShapeError(
                            f"polygon {i} must be a flat list [x0, y0, x1, y1, ...]") from None
                    arrays[i] = a
            if arrays[i] is not None:
                arr = np.ascontiguousarray(arrays[i], dtype=np.float64)
                for j in range(k):
                    xy[off[i] + j] = arr[j]
        res = _rasterise_all(xy, off, n, h, w)
    finally:
        free(xy)
        free(off)
    size = [h, w]
    return [{"size": list(size), "counts": s} for s in res]


cdef list _rasterise_all(const double* xy, const int64_t* off, Py_ssize_t npoly, Py_ssize_t h,
                         Py_ssize_t w):
    if h < 0 or w < 0:
        raise MaskShapeError(f"size must be non-negative, got h={h}, w={w}")
    if too_many_pixels(<uint64_t>h, <uint64_t>w):
        raise ImageTooLargeError("image has too many pixels")
    cdef int64_t hw[2]
    hw[0] = h
    hw[1] = w
    return rasterise_spans(xy, off, off + 1, hw, hw + 1, 0, 0, npoly)


cdef list rasterise_spans(const double* xy, const int64_t* starts, const int64_t* ends,
                          const int64_t* hs, const int64_t* ws, Py_ssize_t size_step,
                          Py_ssize_t p0, Py_ssize_t p1):
    """Counts strings of polygons p0..p1-1, polygon i being xy[starts[i]:ends[i]] at size
    (hs[i * size_step], ws[i * size_step]); the caller has checked every span and size."""
    cdef Py_ssize_t i, k
    cdef Poly ps
    cdef U32Buf buf
    cdef CharBuf cb
    cdef int rc = 0
    memset(&ps, 0, sizeof(Poly))
    memset(&cb, 0, sizeof(CharBuf))
    memset(&buf, 0, sizeof(U32Buf))
    try:
        with nogil:
            for i in range(p0, p1):
                k = (ends[i] - starts[i]) // 2
                rc = poly_rasterise(&ps, xy + starts[i] if k else xy, k, hs[i * size_step],
                                    ws[i * size_step], &buf)
                if rc < 0:
                    break
                rc = charbuf_add(&cb, buf.data, buf.n)
                if rc < 0:
                    break
        if rc < 0:
            _raise(rc, f"polygon {i}")
        return charbuf_to_list(&cb)
    finally:
        poly_free(&ps)
        free(buf.data)
        free(cb.data)
        free(cb.ends)

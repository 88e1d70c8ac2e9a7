# Part of _rle_core.pyx: contour tracing (mask -> boundary polygons), used by maskcodecs.polygons.
#
# Border following after Suzuki & Abe (1985), "Topological structural analysis of digitized
# binary images by border following", with the marking conventions of OpenCV's findContours so
# that the traced point sequences are the same as cv2.findContours' (same start pixel, same
# direction, same points for CHAIN_APPROX_NONE / CHAIN_APPROX_SIMPLE).
#
# Working buffer. The tracer writes marks next to the pixels, so it needs a private int8 image
# of (h+2) x (w+2) bytes (a one-pixel zero frame, 0/1 inside), the same working copy OpenCV
# makes. It is built lazily, row by row, as the scan and the traces reach it. With contiguous
# rows (C order) a row is first searched for its foreground span [lo, hi]: a row without
# foreground is never written (unless a trace reads it as a neighbour row, then it is zeroed)
# and never scanned, and the scan of the others is limited to their span. Rows are processed
# just before the scan reads them, so they are still in cache. Fortran order is built in bands
# of 256 rows with 8x8 byte blocks transposed in registers; any other layout with strides.
#
# Marks (int8): 0 background, 1 foreground not yet on a traced border, 2 on a traced border,
# -126 (0x82) on a traced border whose east neighbour was examined and found to be background.
#
# Chain codes: 0 E, 1 NE, 2 N, 3 NW, 4 W, 5 SW, 6 S, 7 SE (y grows downwards).
#
# connectivity=8: foreground 8-connected, holes 4-connected (OpenCV's convention).
# connectivity=4: foreground 4-connected, holes 8-connected: the same scan, with the neighbour
# search restricted to the four edge neighbours (codes 0, 2, 4, 6).

from libc.stdint cimport int8_t
from cpython.bytearray cimport PyByteArray_FromStringAndSize, PyByteArray_AS_STRING

cdef int CT_DX[8]
cdef int CT_DY[8]
CT_DX[:] = [1, 1, 0, -1, -1, -1, 0, 1]
CT_DY[:] = [0, -1, -1, -1, 0, 1, 1, 1]

cdef int8_t MARK_NEW = 2
cdef int8_t MARK_RIGHT = -126   # 0x82: right-bound border pixel


cdef struct CtOut:
    int32_t* pts          # x, y pairs (pixel-centre coordinates of the input)
    Py_ssize_t npts
    Py_ssize_t ptcap
    int64_t* start        # per contour: index of its first point; start[n] = npts
    int64_t* parent       # per contour: index of its outer contour (holes), -1 otherwise
    uint8_t* hole
    double* area          # per contour: shoelace area of the closed point sequence
    Py_ssize_t n
    Py_ssize_t ccap


cdef struct PixMap:
    # open-addressing map: traced pixel index (first pixels of runs only) -> index of the
    # outer contour of its region
    int64_t* keys
    int64_t* vals
    Py_ssize_t cap        # power of two
    Py_ssize_t n
    int bits


cdef void ctout_free(CtOut* o) noexcept nogil:
    free(o.pts)
    free(o.start)
    free(o.parent)
    free(o.hole)
    free(o.area)
    memset(o, 0, sizeof(CtOut))


cdef void pixmap_free(PixMap* m) noexcept nogil:
    free(m.keys)
    free(m.vals)
    memset(m, 0, sizeof(PixMap))


cdef int grow_bytes(void** p, Py_ssize_t need, size_t elsize) noexcept nogil:
    cdef void* q = realloc(p[0], <size_t>need * elsize)
    if q == NULL:
        return ERR_NOMEM
    p[0] = q
    return 0


cdef int ctout_new_contour(CtOut* o) noexcept nogil:
    """Open a contour record (its fields are filled by the caller)."""
    cdef Py_ssize_t cap
    if o.n + 2 > o.ccap:
        cap = o.ccap * 2 if o.ccap else 64
        if (grow_bytes(<void**>&o.start, cap, sizeof(int64_t)) < 0
                or grow_bytes(<void**>&o.parent, cap, sizeof(int64_t)) < 0
                or grow_bytes(<void**>&o.hole, cap, sizeof(uint8_t)) < 0
                or grow_bytes(<void**>&o.area, cap, sizeof(double)) < 0):
            return ERR_NOMEM
        o.ccap = cap
    o.start[o.n] = o.npts
    o.parent[o.n] = -1
    o.hole[o.n] = 0
    o.area[o.n] = 0.0
    o.n += 1
    return 0


cdef inline int ctout_push(CtOut* o, int64_t x, int64_t y) noexcept nogil:
    cdef Py_ssize_t cap
    if 2 * (o.npts + 1) > o.ptcap:
        cap = o.ptcap * 2 if o.ptcap else 4096
        if grow_bytes(<void**>&o.pts, cap, sizeof(int32_t)) < 0:
            return ERR_NOMEM
        o.ptcap = cap
    o.pts[2 * o.npts] = <int32_t>x
    o.pts[2 * o.npts + 1] = <int32_t>y
    o.npts += 1
    return 0


cdef inline Py_ssize_t pixmap_slot(const PixMap* m, int64_t key) noexcept nogil:
    cdef uint64_t hsh = (<uint64_t>key) * <uint64_t>0x9E3779B97F4A7C15u
    cdef Py_ssize_t i = <Py_ssize_t>(hsh >> (64 - m.bits))
    while m.keys[i] != -1 and m.keys[i] != key:
        i = (i + 1) & (m.cap - 1)
    return i


cdef int pixmap_put(PixMap* m, int64_t key, int64_t val) noexcept nogil:
    cdef Py_ssize_t i, j, oldcap
    cdef int64_t* ok
    cdef int64_t* ov
    if 2 * (m.n + 1) > m.cap:
        oldcap = m.cap
        ok = m.keys
        ov = m.vals
        m.cap = oldcap * 2 if oldcap else 4096
        m.bits = 0
        while (<Py_ssize_t>1 << m.bits) < m.cap:
            m.bits += 1
        m.keys = <int64_t*>malloc(m.cap * sizeof(int64_t))
        m.vals = <int64_t*>malloc(m.cap * sizeof(int64_t))
        if m.keys == NULL or m.vals == NULL:
            free(ok)
            free(ov)
            return ERR_NOMEM
        memset(m.keys, 0xFF, m.cap * sizeof(int64_t))
        for j in range(oldcap):
            if ok[j] != -1:
                i = pixmap_slot(m, ok[j])
                m.keys[i] = ok[j]
                m.vals[i] = ov[j]
        free(ok)
        free(ov)
    i = pixmap_slot(m, key)
    if m.keys[i] == -1:
        m.keys[i] = key
        m.n += 1
    m.vals[i] = val
    return 0


cdef int64_t pixmap_get(const PixMap* m, int64_t key) noexcept nogil:
    cdef Py_ssize_t i
    if m.cap == 0:
        return -1
    i = pixmap_slot(m, key)
    if m.keys[i] == -1:
        return -1
    return m.vals[i]


cdef struct Filler:
    # builds the framed working image lazily, row by row, as the scan and the traces need it
    const uint8_t* base
    Py_ssize_t h
    Py_ssize_t w
    Py_ssize_t s0
    Py_ssize_t s1
    int8_t* img
    Py_ssize_t filled     # working rows 0..filled-1 are processed
    Py_ssize_t* lo        # per working row: first and last foreground column (working
    Py_ssize_t* hi        # coordinates); lo > hi for a row without foreground
    uint8_t* written      # per working row: its bytes are in img (an empty row may be left
                          # unwritten until a trace reads it)
    Scratch* sc           # RLE input: the row events of the runs (base is then unused)


cdef inline uint64_t bytes01(uint64_t v) noexcept nogil:
    """Each byte of v becomes 1 if it was nonzero, else 0."""
    v |= v >> 4
    v |= v >> 2
    v |= v >> 1
    return v & ONES8


cdef inline void transpose8(uint64_t* a) noexcept nogil:
    """Transpose the 8x8 byte matrix a[k] byte j -> a[j] byte k in place."""
    cdef uint64_t t
    cdef int k, j
    for k in range(0, 8, 2):
        t = ((a[k] >> 8) ^ a[k + 1]) & <uint64_t>0x00FF00FF00FF00FFu
        a[k + 1] ^= t
        a[k] ^= t << 8
    for k in range(4):
        j = k + (k & 2)                   # 0, 1, 4, 5
        t = ((a[j] >> 16) ^ a[j + 2]) & <uint64_t>0x0000FFFF0000FFFFu
        a[j + 2] ^= t
        a[j] ^= t << 16
    for k in range(4):
        t = ((a[k] >> 32) ^ a[k + 4]) & <uint64_t>0x00000000FFFFFFFFu
        a[k + 4] ^= t
        a[k] ^= t << 32


cdef void fill_input_rows(Filler* f, Py_ssize_t y0, Py_ssize_t y1) noexcept nogil:
    """Copy input rows y0..y1-1 (0 <= y0 <= y1 <= h) into working rows y0+1..y1 as 0/1, for
    input whose rows are not contiguous (Fortran order: transposed by blocks; else strided)."""
    cdef Py_ssize_t step = f.w + 2, w = f.w, x, y, k, yb, s0 = f.s0, s1 = f.s1
    cdef const uint8_t* src
    cdef int8_t* dst
    cdef uint64_t a[8]
    for y in range(y0, y1):
        dst = f.img + (y + 1) * step
        dst[0] = 0
        dst[w + 1] = 0
    if s0 == 1:
        # columns contiguous: 8x8 byte blocks transposed in registers, column blocks outside
        # so that each column is read as one sequential stream over the band
        yb = y0 + ((y1 - y0) & ~(<Py_ssize_t>7))
        x = 0
        while x + 8 <= w:
            y = y0
            while y < yb:
                for k in range(8):
                    a[k] = bytes01(load64(f.base + (x + k) * s1 + y))
                transpose8(a)
                for k in range(8):
                    memcpy(f.img + (y + k + 1) * step + x + 1, &a[k], 8)
                y += 8
            x += 8
        while x < w:
            for y in range(y0, yb):
                f.img[(y + 1) * step + x + 1] = f.base[x * s1 + y] != 0
            x += 1
        y = yb
        while y < y1:
            dst = f.img + (y + 1) * step + 1
            for x in range(w):
                dst[x] = f.base[x * s1 + y] != 0
            y += 1
    else:
        for y in range(y0, y1):
            src = f.base + y * s0
            dst = f.img + (y + 1) * step + 1
            for x in range(w):
                dst[x] = src[x * s1] != 0


cdef inline Py_ssize_t row_first_nonzero(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """Index of the first nonzero byte of p[0..n), or n."""
    cdef Py_ssize_t i = 0
    cdef uint8_t acc
    cdef int k
    # 64-byte blocks: a fixed-length OR reduction the compiler turns into vector code
    while i + 64 <= n:
        acc = 0
        for k in range(64):
            acc |= p[i + k]
        if acc != 0:
            break
        i += 64
    while i + 8 <= n and load64(p + i) == 0:
        i += 8
    while i < n and p[i] == 0:
        i += 1
    return i


cdef inline Py_ssize_t row_last_nonzero(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """Index of the last nonzero byte of p[0..n), or -1."""
    cdef Py_ssize_t i = n
    cdef uint8_t acc
    cdef int k
    while i >= 64:
        acc = 0
        for k in range(64):
            acc |= p[i - 64 + k]
        if acc != 0:
            break
        i -= 64
    while i >= 8 and load64(p + i - 8) == 0:
        i -= 8
    while i > 0 and p[i - 1] == 0:
        i -= 1
    return i - 1


cdef void process_row(Filler* f, Py_ssize_t r) noexcept nogil:
    """Row-contiguous or RLE input: find the foreground span of working row r; write the row
    only if it has foreground (zeros outside the span, 0/1 inside). Rows are processed in
    order, each once (the RLE state row is advanced by the events of each row)."""
    cdef Py_ssize_t w = f.w, a, b, x, k, k1
    cdef const uint8_t* src
    cdef int8_t* dst
    cdef Scratch* sc = f.sc
    f.lo[r] = 1
    f.hi[r] = 0
    f.written[r] = 0
    if r == 0 or r == f.h + 1:
        return
    if sc != NULL:
        k = sc.bucket[r - 1]
        k1 = sc.bucket[r]
        while k < k1:
            sc.row[sc.order[k]] ^= 1
            k += 1
        src = sc.row
    else:
        src = f.base + (r - 1) * f.s0
    a = row_first_nonzero(src, w)
    if a >= w:
        return
    b = row_last_nonzero(src, w)
    dst = f.img + r * (w + 2)
    memset(dst, 0, a + 1)
    for x in range(a, b + 1):
        dst[x + 1] = src[x] != 0
    memset(dst + b + 2, 0, w - b)
    f.lo[r] = a + 1
    f.hi[r] = b + 1
    f.written[r] = 1


cdef void fill_rows(Filler* f, Py_ssize_t upto) noexcept nogil:
    """Process working rows f.filled..upto-1: rows 0 and h+1 are the zero frame, row r in
    1..h is input row r-1 (any nonzero is 1) between two zero frame pixels."""
    cdef Py_ssize_t step = f.w + 2, r0 = f.filled, y0, y1, r
    if f.s1 == 1 or f.sc != NULL:
        if upto > f.h + 2:
            upto = f.h + 2
        r = r0
        while r < upto:
            process_row(f, r)
            r += 1
        if upto > r0:
            f.filled = upto
        return
    # transposed or strided input: whole bands of 256 rows, all written
    if upto < r0 + 256:
        upto = r0 + 256
    if upto > f.h + 2:
        upto = f.h + 2
    if upto <= r0:
        return
    if r0 == 0:
        memset(f.img, 0, step)
    y0 = r0 - 1 if r0 > 0 else 0
    y1 = upto - 1 if upto - 1 < f.h else f.h
    if y1 > y0:
        fill_input_rows(f, y0, y1)
    if upto == f.h + 2:
        memset(f.img + (f.h + 1) * step, 0, step)
    for r in range(r0, upto):
        f.written[r] = 1
        if r == 0 or r == f.h + 1:
            f.lo[r] = 1
            f.hi[r] = 0
        else:
            f.lo[r] = 1
            f.hi[r] = f.w
    f.filled = upto


cdef inline void need_rows(Filler* f, Py_ssize_t r) noexcept nogil:
    """Make working rows r-1..r+1 readable (1 <= r <= h)."""
    cdef Py_ssize_t k
    if r + 2 > f.filled:
        fill_rows(f, r + 2)
    for k in range(r - 1, r + 2):
        if not f.written[k]:
            memset(f.img + k * (f.w + 2), 0, f.w + 2)
            f.written[k] = 1


cdef inline Py_ssize_t skip_equal(const int8_t* row, Py_ssize_t x, Py_ssize_t end,
                                  int8_t v) noexcept nogil:
    """First index >= x where row differs from v, or end."""
    cdef uint64_t pat = (<uint64_t>(<uint8_t>v)) * ONES8
    cdef const uint8_t* r = <const uint8_t*>row
    cdef uint8_t acc, u = <uint8_t>v
    cdef int k
    if x < end and row[x] != v:
        return x
    # 64-byte blocks: a fixed-length OR reduction the compiler turns into vector code
    while x + 64 <= end:
        acc = 0
        for k in range(64):
            acc |= r[x + k] ^ u
        if acc != 0:
            break
        x += 64
    while x + 8 <= end:
        if load64(r + x) != pat:
            break
        x += 8
    while x < end and row[x] == v:
        x += 1
    return x


cdef int trace_border(int8_t* img, const Py_ssize_t* dl, Py_ssize_t i0, int64_t px, int64_t py,
                      bint hole, bint every, int stride, CtOut* o, PixMap* pm,
                      int64_t owner, Filler* f) noexcept nogil:
    """Follow one border from pixel i0 (working-image index, position (px, py) in input
    coordinates), mark it, append its points to the open contour of `o`; record the visited
    pixels that have background on their west (the first pixels of runs) in `pm` (when pm is
    not NULL) with value `owner`. stride is 1 (8-neighbours) or 2 (4-neighbours)."""
    cdef int s, s_end, prev_s, last
    cdef Py_ssize_t i1, i3, i4 = 0, row = py + 1
    need_rows(f, row)
    s_end = 0 if hole else 4
    s = s_end
    while True:
        s = (s - stride) & 7
        i1 = i0 + dl[s]
        if img[i1] != 0 or s == s_end:
            break
    if s == s_end:
        # no neighbour in the searched directions: an isolated pixel
        img[i0] = MARK_RIGHT
        if pm != NULL and img[i0 - 1] == 0 and pixmap_put(pm, i0, owner) < 0:
            return ERR_NOMEM
        return ctout_push(o, px, py)
    i3 = i0
    prev_s = s ^ 4
    last = 16 - stride
    while True:
        # the neighbours of (px, py) are on working rows py..py+2
        if py + 1 != row:
            row = py + 1
            need_rows(f, row)
        s_end = s
        while s < last:
            s += stride
            i4 = i3 + dl[s]
            if img[i4] != 0:
                break
        s &= 7
        if s >= 1 and s - 1 < s_end:
            img[i3] = MARK_RIGHT
        elif img[i3] == 1:
            img[i3] = MARK_NEW
        if pm != NULL and img[i3 - 1] == 0 and pixmap_put(pm, i3, owner) < 0:
            return ERR_NOMEM
        if every or s != prev_s:
            if ctout_push(o, px, py) < 0:
                return ERR_NOMEM
        prev_s = s
        px += CT_DX[s]
        py += CT_DY[s]
        if i4 == i0 and i3 == i1:
            break
        i3 = i4
        s = (s + 4) & 7
    return 0


cdef double contour_area(const int32_t* p, Py_ssize_t n) noexcept nogil:
    """Absolute shoelace area of the closed point sequence p[0..n)."""
    cdef Py_ssize_t i, j
    cdef int64_t x0, y0, xa, ya, xb, yb
    cdef double acc = 0.0
    if n < 3:
        return 0.0
    x0 = p[0]
    y0 = p[1]
    for i in range(1, n - 1):
        j = i + 1
        xa = p[2 * i] - x0
        ya = p[2 * i + 1] - y0
        xb = p[2 * j] - x0
        yb = p[2 * j + 1] - y0
        acc += <double>(xa * yb - xb * ya)
    if acc < 0:
        acc = -acc
    return 0.5 * acc


cdef int trace_all(Filler* f, bint external, bint every, int stride, CtOut* o,
                   PixMap* pm) noexcept nogil:
    """Raster scan of the framed working image, tracing every border found (Suzuki's scan).
    external: outer borders that no traced outer border encloses, no holes. Otherwise every
    outer border and every hole border, holes with the index of the enclosing outer border."""
    cdef Py_ssize_t h = f.h, w = f.w
    cdef Py_ssize_t step = w + 2, x, y, lx, width = w + 1, i0, k, end, run_start = 0
    cdef int64_t run_owner = -2
    cdef int8_t* img = f.img
    cdef Py_ssize_t dl[16]
    cdef int8_t prev, p
    cdef int8_t* row
    cdef bint is_hole
    cdef int64_t owner
    cdef int rc
    for k in range(16):
        dl[k] = CT_DX[k & 7] + CT_DY[k & 7] * step
    for y in range(1, h + 1):
        if y + 1 > f.filled:
            fill_rows(f, y + 1)
        if f.lo[y] > f.hi[y]:
            continue                      # no foreground: no border starts here
        row = img + y * step
        prev = 0
        lx = 0
        # outside [lo, hi] the row is background and stays so (marks are on foreground
        # only): start at lo, stop after the first background pixel past hi
        x = f.lo[y]
        end = f.hi[y] + 2
        if end > width:
            end = width
        while x < end:
            x = skip_equal(row, x, end, prev)
            if x >= end:
                break
            p = row[x]
            is_hole = False
            if prev == 0:
                run_start = x                 # a run of foreground starts here
                run_owner = -2                # its region's outer border: not known yet
            if not (prev == 0 and p == 1):
                if p != 0 or prev < 1:
                    prev = p
                    if p & -2:
                        lx = x
                    x += 1
                    continue
                if prev & -2:
                    lx = x - 1
                is_hole = True
            if external and (is_hole or row[lx] > 0):
                prev = p
                if p & -2:
                    lx = x
                x += 1
                continue
            # a new border: outer from (x, y), hole from (x - 1, y)
            if ctout_new_contour(o) < 0:
                return ERR_NOMEM
            owner = o.n - 1
            if is_hole:
                # pixel x-1 is in the run that starts at run_start, whose first pixel has been
                # traced (it has background on its west): the region's outer border is the
                # owner recorded for it
                if run_owner == -2:
                    run_owner = pixmap_get(pm, y * step + run_start)
                o.hole[owner] = 1
                o.parent[owner] = run_owner
                owner = run_owner
            else:
                run_owner = owner
            i0 = y * step + x - is_hole
            rc = trace_border(img, dl, i0, x - is_hole - 1, y - 1, is_hole, every, stride, o,
                              NULL if external else pm, owner, f)
            if rc < 0:
                return rc
            k = o.n - 1
            o.area[k] = contour_area(o.pts + 2 * o.start[k], o.npts - o.start[k])
            lx = x - is_hole
            prev = row[x]
            x += 1
    o.start[o.n] = o.npts
    return 0


cdef tuple trace_filler(Filler* f, bint external, bint every, int connectivity):
    """Allocate the working image for f.h x f.w, trace, return the result bytearrays."""
    cdef Py_ssize_t h = f.h, w = f.w, n
    cdef CtOut o
    cdef PixMap pm
    cdef int rc = 0
    cdef int stride = 1 if connectivity == 8 else 2
    memset(&o, 0, sizeof(CtOut))
    memset(&pm, 0, sizeof(PixMap))
    f.img = NULL
    f.lo = NULL
    f.hi = NULL
    f.written = NULL
    f.filled = 0
    try:
        if ctout_new_contour(&o) < 0:   # reserve the arrays; the dummy record is dropped
            raise MemoryError()
        o.n = 0
        if h > 0 and w > 0:
            f.img = <int8_t*>malloc(<size_t>(h + 2) * <size_t>(w + 2))
            f.lo = <Py_ssize_t*>malloc((h + 2) * sizeof(Py_ssize_t))
            f.hi = <Py_ssize_t*>malloc((h + 2) * sizeof(Py_ssize_t))
            f.written = <uint8_t*>malloc(h + 2)
            if f.img == NULL or f.lo == NULL or f.hi == NULL or f.written == NULL:
                raise MemoryError()
            with nogil:
                rc = trace_all(f, external, every, stride, &o, &pm)
            if rc < 0:
                _raise(rc)
        else:
            o.start[0] = 0
        n = o.n
        return (PyByteArray_FromStringAndSize(<char*>o.pts, o.npts * 2 * sizeof(int32_t)),
                PyByteArray_FromStringAndSize(<char*>o.start, (n + 1) * sizeof(int64_t)),
                PyByteArray_FromStringAndSize(<char*>o.parent, n * sizeof(int64_t)),
                PyByteArray_FromStringAndSize(<char*>o.hole, n * sizeof(uint8_t)),
                PyByteArray_FromStringAndSize(<char*>o.area, n * sizeof(double)))
    finally:
        free(f.img)
        free(f.lo)
        free(f.hi)
        free(f.written)
        ctout_free(&o)
        pixmap_free(&pm)


cdef check_trace_args(Py_ssize_t h, Py_ssize_t w, int connectivity):
    if connectivity != 8 and connectivity != 4:
        raise ValueError("connectivity must be 4 or 8")
    if h < 0 or w < 0:
        raise MaskShapeError("negative size")
    if h >= 0x7FFFFFF0 or w >= 0x7FFFFFF0 or <uint64_t>(h + 2) * <uint64_t>(w + 2) >= MAX_PIXELS:
        raise ImageTooLargeError("mask is too large for contour tracing (h, w < 2**31 - 16)")


def trace_contours(const uint8_t[:, :] m, bint external, bint every, int connectivity):
    """Trace the borders of a 2-D mask (any strides, nonzero = foreground).

    Returns (points, starts, parents, holes, areas) as bytearrays: int32 x, y pairs; int64
    start index of each contour's points (one more entry than contours); int64 parent index
    (-1 for outer borders); uint8 hole flags; float64 shoelace areas.
    """
    cdef Filler f
    check_trace_args(m.shape[0], m.shape[1], connectivity)
    memset(&f, 0, sizeof(Filler))
    f.h = m.shape[0]
    f.w = m.shape[1]
    if f.h > 0 and f.w > 0:
        f.base = &m[0, 0]
        f.s0 = m.strides[0]
        f.s1 = m.strides[1]
    return trace_filler(&f, external, every, connectivity)


cdef void crop_events(Scratch* sc, uint64_t h, uint64_t* ox, uint64_t* oy, uint64_t* ch,
                      uint64_t* cw) noexcept nogil:
    """Shrink the frame of the toggle events to the foreground's bounding box: (ox, oy) is
    its corner, ch x cw its size; events move by (-oy, -ox), and the toggles just below the
    box (foreground ending on its last row) are dropped. Events come column by column, in
    order; a column with an odd number of them keeps its foreground to row h - 1."""
    cdef Py_ssize_t i, j, k = 0
    cdef uint64_t top = h, bottom = 0, left, right, col
    if sc.ev_n == 0:  # no foreground: an empty 1 x 1 frame
        ch[0] = 1
        cw[0] = 1
        return
    left = sc.ev_col[0]
    right = sc.ev_col[sc.ev_n - 1]
    i = 0
    while i < sc.ev_n:
        col = sc.ev_col[i]
        j = i
        while j < sc.ev_n and sc.ev_col[j] == col:
            j += 1
        top = min(top, sc.ev_row[i])                      # a column's first event: a start
        if (j - i) & 1:
            bottom = h                                    # foreground down to the last row
        else:
            bottom = max(bottom, sc.ev_row[j - 1])        # its last event: an end (exclusive)
        i = j
    ox[0] = left
    oy[0] = top
    cw[0] = right - left + 1
    ch[0] = bottom - top
    for i in range(sc.ev_n):
        if sc.ev_row[i] - top < ch[0]:
            sc.ev_row[k] = sc.ev_row[i] - top
            sc.ev_col[k] = sc.ev_col[i] - left
            k += 1
    sc.ev_n = k


def trace_rle_contours(const uint8_t[::1] s, Py_ssize_t h, Py_ssize_t w, bint external,
                       bint every, int connectivity):
    """Trace the borders of the h x w mask of a COCO counts string (column-major runs),
    without decoding it: the rows of the working image are built from the runs' row events,
    in a frame cropped to the foreground's bounding box (points are moved back after).
    Returns what trace_contours returns."""
    cdef Filler f
    cdef Scratch sc
    cdef int rc = 0
    cdef uint64_t ox = 0, oy = 0, ch = h, cw = w
    cdef Py_ssize_t i, npts
    cdef int32_t* pts
    cdef const uint8_t* sp = &s[0] if s.shape[0] else NULL
    check_trace_args(h, w, connectivity)
    memset(&f, 0, sizeof(Filler))
    memset(&sc, 0, sizeof(Scratch))
    try:
        with nogil:
            if h == 0 or w == 0:
                rc = decode_linear(sp, s.shape[0], NULL, 0, 1)     # validation only
            else:
                rc = column_events(sp, s.shape[0], h, w, &sc)
                if rc == 0:
                    crop_events(&sc, h, &ox, &oy, &ch, &cw)
                    rc = sort_events_by_row(&sc, ch)
                if rc == 0:
                    rc = ensure_row(&sc, cw)
        if rc < 0:
            _raise(rc)
        f.h = ch
        f.w = cw
        f.sc = &sc
        res = trace_filler(&f, external, every, connectivity)
        if ox or oy:
            pts = <int32_t*>PyByteArray_AS_STRING(res[0])
            npts = len(res[0]) // 8  # x, y int32 pairs
            for i in range(npts):
                pts[2 * i] += <int32_t>ox
                pts[2 * i + 1] += <int32_t>oy
        return res
    finally:
        scratch_free(&sc)

# Part of _rle_core.pyx: scanning masks into runs (encode), in either memory order.
#
# Any nonzero byte is foreground. Runs are always in column-major (COCO) order.
#  * columns contiguous (Fortran order): skip 32 bytes at a time while the state holds;
#  * rows contiguous (C order): never transpose. A run boundary of the column-major stream
#    sits at (x, y) where pixel (y, x) differs from (y-1, x) (or, in row 0, from the last
#    pixel of the previous column). Comparing each row with the one above finds them in
#    row order; a counting sort by column puts them in stream order. Scratch memory is
#    proportional to the number of runs plus the width, never to h*w;
#  * anything else: a strided loop.

cdef uint64_t ONES8 = 0x0101010101010101u
cdef uint64_t HIGH8 = 0x8080808080808080u


cdef inline uint64_t load64(const uint8_t* p) noexcept nogil:
    cdef uint64_t v
    memcpy(&v, p, 8)
    return v


cdef inline uint64_t zero_bytes(uint64_t v) noexcept nogil:
    """Nonzero iff some byte of v is zero."""
    return (v - ONES8) & ~v & HIGH8


cdef uint64_t find_nonzero(const uint8_t* p, uint64_t i, uint64_t n) noexcept nogil:
    """First index >= i with p[index] != 0, or n."""
    while i + 32 <= n:
        if (load64(p + i) | load64(p + i + 8) | load64(p + i + 16) | load64(p + i + 24)) != 0:
            break
        i += 32
    while i + 8 <= n:
        if load64(p + i) != 0:
            break
        i += 8
    while i < n and p[i] == 0:
        i += 1
    return i


cdef uint64_t find_zero(const uint8_t* p, uint64_t i, uint64_t n) noexcept nogil:
    """First index >= i with p[index] == 0, or n."""
    while i + 32 <= n:
        if (zero_bytes(load64(p + i)) | zero_bytes(load64(p + i + 8))
                | zero_bytes(load64(p + i + 16)) | zero_bytes(load64(p + i + 24))) != 0:
            break
        i += 32
    while i + 8 <= n:
        if zero_bytes(load64(p + i)) != 0:
            break
        i += 8
    while i < n and p[i] != 0:
        i += 1
    return i


cdef struct Scan:
    uint32_t* tx
    uint32_t* ty
    Py_ssize_t tn
    Py_ssize_t tcap
    uint64_t* colstart
    Py_ssize_t colcap
    uint32_t* sy
    Py_ssize_t scap


cdef void scan_free(Scan* sc) noexcept nogil:
    free(sc.tx)
    free(sc.ty)
    free(sc.colstart)
    free(sc.sy)
    memset(sc, 0, sizeof(Scan))


cdef inline int scan_push(Scan* sc, uint32_t x, uint32_t y) noexcept nogil:
    cdef Py_ssize_t cap
    cdef uint32_t* a
    if sc.tn >= sc.tcap:
        cap = sc.tcap * 2 if sc.tcap else 1024
        a = <uint32_t*>realloc(sc.tx, cap * sizeof(uint32_t))
        if a == NULL:
            return ERR_NOMEM
        sc.tx = a
        a = <uint32_t*>realloc(sc.ty, cap * sizeof(uint32_t))
        if a == NULL:
            return ERR_NOMEM
        sc.ty = a
        sc.tcap = cap
    sc.tx[sc.tn] = x
    sc.ty[sc.tn] = y
    sc.tn += 1
    return 0


cdef int encode_linear(const uint8_t* p, uint64_t n, U32Buf* out) noexcept nogil:
    """Runs of a contiguous byte stream."""
    cdef uint64_t q = 0, start = 0
    cdef bint v = False
    while True:
        if v:
            q = find_zero(p, q, n)
        else:
            q = find_nonzero(p, q, n)
        if push_run(out, q - start) < 0:
            return ERR_NOMEM
        if q >= n:
            return 0
        start = q
        v = not v


cdef int encode_cols(const uint8_t* base, uint64_t h, uint64_t w, Py_ssize_t s1,
                     U32Buf* out) noexcept nogil:
    """Runs of a mask whose columns are contiguous (column stride s1)."""
    cdef uint64_t x, q, start = 0, colbase
    cdef const uint8_t* col
    cdef bint v = False
    for x in range(w):
        col = base + <Py_ssize_t>x * s1
        colbase = x * h
        q = 0
        while True:
            if v:
                q = find_zero(col, q, h)
            else:
                q = find_nonzero(col, q, h)
            if q >= h:
                break
            if push_run(out, colbase + q - start) < 0:
                return ERR_NOMEM
            start = colbase + q
            v = not v
    if push_run(out, h * w - start) < 0:
        return ERR_NOMEM
    return 0


cdef int encode_rows(const uint8_t* base, uint64_t h, uint64_t w, Py_ssize_t s0,
                     U32Buf* out, Scan* sc) noexcept nogil:
    """Runs of a mask whose rows are contiguous (row stride s0), without transposing."""
    cdef uint64_t x, y, xx, k, acc, t, p, prevpos
    cdef const uint8_t* a
    cdef const uint8_t* b
    cdef const uint8_t* last
    cdef bint cur, prev
    sc.tn = 0
    # row 0: compare with the last pixel of the previous column
    last = base + <Py_ssize_t>(h - 1) * s0
    prev = False
    for x in range(w):
        cur = base[x] != 0
        if x > 0:
            prev = last[x - 1] != 0
        if cur != prev:
            if scan_push(sc, <uint32_t>x, 0) < 0:
                return ERR_NOMEM
    # rows 1..h-1: compare with the row above, 32 bytes at a time
    for y in range(1, h):
        a = base + <Py_ssize_t>y * s0
        b = a - s0
        x = 0
        while x + 32 <= w:
            if ((load64(a + x) ^ load64(b + x)) | (load64(a + x + 8) ^ load64(b + x + 8))
                    | (load64(a + x + 16) ^ load64(b + x + 16))
                    | (load64(a + x + 24) ^ load64(b + x + 24))) != 0:
                for xx in range(x, x + 32):
                    if (a[xx] != 0) != (b[xx] != 0):
                        if scan_push(sc, <uint32_t>xx, <uint32_t>y) < 0:
                            return ERR_NOMEM
            x += 32
        while x < w:
            if (a[x] != 0) != (b[x] != 0):
                if scan_push(sc, <uint32_t>x, <uint32_t>y) < 0:
                    return ERR_NOMEM
            x += 1
    # counting sort of the transitions by column (stable: rows stay ascending)
    if grow_u64(&sc.colstart, &sc.colcap, <Py_ssize_t>w + 1) < 0:
        return ERR_NOMEM
    if sc.scap < sc.tn + 1:
        free(sc.sy)
        sc.sy = <uint32_t*>malloc((sc.tn + 1) * sizeof(uint32_t))
        if sc.sy == NULL:
            sc.scap = 0
            return ERR_NOMEM
        sc.scap = sc.tn + 1
    memset(sc.colstart, 0, (w + 1) * sizeof(uint64_t))
    for k in range(<uint64_t>sc.tn):
        sc.colstart[sc.tx[k]] += 1
    acc = 0
    for x in range(w + 1):
        t = sc.colstart[x]
        sc.colstart[x] = acc
        acc += t
    for k in range(<uint64_t>sc.tn):
        x = sc.tx[k]
        sc.sy[sc.colstart[x]] = sc.ty[k]
        sc.colstart[x] += 1
    # colstart[x] is now the end of column x; emit the runs in stream order
    prevpos = 0
    k = 0
    for x in range(w):
        while k < sc.colstart[x]:
            p = x * h + sc.sy[k]
            if push_run(out, p - prevpos) < 0:
                return ERR_NOMEM
            prevpos = p
            k += 1
    if push_run(out, h * w - prevpos) < 0:
        return ERR_NOMEM
    return 0


cdef int encode_strided(const uint8_t* base, uint64_t h, uint64_t w, Py_ssize_t s0,
                        Py_ssize_t s1, U32Buf* out) noexcept nogil:
    cdef uint64_t x, y, run = 0
    cdef const uint8_t* col
    cdef bint v = False, b
    for x in range(w):
        col = base + <Py_ssize_t>x * s1
        for y in range(h):
            b = col[<Py_ssize_t>y * s0] != 0
            if b != v:
                if push_run(out, run) < 0:
                    return ERR_NOMEM
                run = 0
                v = b
            run += 1
    if push_run(out, run) < 0:
        return ERR_NOMEM
    return 0


cdef int encode_2d(const uint8_t* base, uint64_t h, uint64_t w, Py_ssize_t s0, Py_ssize_t s1,
                   U32Buf* out, Scan* sc) noexcept nogil:
    """Column-major runs of an h x w mask (h, w >= 1) with byte strides (s0, s1)."""
    if s0 == 1 and (w == 1 or s1 == <Py_ssize_t>h):
        return encode_linear(base, h * w, out)
    if h == 1 and s1 == 1:
        return encode_linear(base, w, out)
    if s0 == 1:
        return encode_cols(base, h, w, s1, out)
    if s1 == 1 and h <= U32MAX and w <= U32MAX:
        return encode_rows(base, h, w, s0, out, sc)
    return encode_strided(base, h, w, s0, s1, out)

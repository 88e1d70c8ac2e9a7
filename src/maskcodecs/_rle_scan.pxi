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


cdef extern from *:
    """
    /* 64-byte block tests for the run scanners. SSE2 is part of the x86-64 baseline and NEON
       of the arm64 baseline, so no CPU-specific flags are needed; other targets use SWAR.
       Each returns nonzero iff the block holds a byte of the kind looked for. */
    #include <string.h>
    #include <stdint.h>
    #if !defined(MC_FORCE_SWAR) && (defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2))
    #include <emmintrin.h>
    #define MC_SIMD 1
    #define MC_SIMD_NAME "sse2"
    static inline int mc_block_any_nonzero(const unsigned char* p) {
        __m128i a = _mm_loadu_si128((const __m128i*)p), b = _mm_loadu_si128((const __m128i*)(p + 16));
        __m128i c = _mm_loadu_si128((const __m128i*)(p + 32)), d = _mm_loadu_si128((const __m128i*)(p + 48));
        __m128i o = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(o, _mm_setzero_si128())) != 0xFFFF;
    }
    static inline int mc_block_any_zero(const unsigned char* p) {
        __m128i a = _mm_loadu_si128((const __m128i*)p), b = _mm_loadu_si128((const __m128i*)(p + 16));
        __m128i c = _mm_loadu_si128((const __m128i*)(p + 32)), d = _mm_loadu_si128((const __m128i*)(p + 48));
        __m128i m = _mm_min_epu8(_mm_min_epu8(a, b), _mm_min_epu8(c, d));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(m, _mm_setzero_si128())) != 0;
    }
    static inline int mc_block_differs(const unsigned char* p, const unsigned char* q) {
        __m128i e0 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i*)p), _mm_loadu_si128((const __m128i*)q));
        __m128i e1 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i*)(p + 16)), _mm_loadu_si128((const __m128i*)(q + 16)));
        __m128i e2 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i*)(p + 32)), _mm_loadu_si128((const __m128i*)(q + 32)));
        __m128i e3 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i*)(p + 48)), _mm_loadu_si128((const __m128i*)(q + 48)));
        return _mm_movemask_epi8(_mm_and_si128(_mm_and_si128(e0, e1), _mm_and_si128(e2, e3))) != 0xFFFF;
    }
    #elif !defined(MC_FORCE_SWAR) && (defined(__ARM_NEON) || defined(_M_ARM64))
    #include <arm_neon.h>
    #define MC_SIMD 1
    #define MC_SIMD_NAME "neon"
    static inline int mc_block_any_nonzero(const unsigned char* p) {
        uint8x16_t o = vorrq_u8(vorrq_u8(vld1q_u8(p), vld1q_u8(p + 16)),
                                vorrq_u8(vld1q_u8(p + 32), vld1q_u8(p + 48)));
        return vmaxvq_u8(o) != 0;
    }
    static inline int mc_block_any_zero(const unsigned char* p) {
        uint8x16_t m = vminq_u8(vminq_u8(vld1q_u8(p), vld1q_u8(p + 16)),
                                vminq_u8(vld1q_u8(p + 32), vld1q_u8(p + 48)));
        return vminvq_u8(m) == 0;
    }
    static inline int mc_block_differs(const unsigned char* p, const unsigned char* q) {
        uint8x16_t x = vorrq_u8(vorrq_u8(veorq_u8(vld1q_u8(p), vld1q_u8(q)),
                                         veorq_u8(vld1q_u8(p + 16), vld1q_u8(q + 16))),
                                vorrq_u8(veorq_u8(vld1q_u8(p + 32), vld1q_u8(q + 32)),
                                         veorq_u8(vld1q_u8(p + 48), vld1q_u8(q + 48))));
        return vmaxvq_u8(x) != 0;
    }
    #else
    #define MC_SIMD 0
    #define MC_SIMD_NAME "swar"
    static inline uint64_t mc_ld(const unsigned char* p) { uint64_t v; memcpy(&v, p, 8); return v; }
    static inline uint64_t mc_z(uint64_t v) {
        return (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL; }
    static inline int mc_block_any_nonzero(const unsigned char* p) {
        uint64_t o = 0; int k; for (k = 0; k < 64; k += 8) o |= mc_ld(p + k); return o != 0; }
    static inline int mc_block_any_zero(const unsigned char* p) {
        uint64_t o = 0; int k; for (k = 0; k < 64; k += 8) o |= mc_z(mc_ld(p + k)); return o != 0; }
    static inline int mc_block_differs(const unsigned char* p, const unsigned char* q) {
        uint64_t o = 0; int k; for (k = 0; k < 64; k += 8) o |= mc_ld(p + k) ^ mc_ld(q + k); return o != 0; }
    #endif
    """
    int mc_block_any_nonzero(const uint8_t* p) nogil
    int mc_block_any_zero(const uint8_t* p) nogil
    int mc_block_differs(const uint8_t* p, const uint8_t* q) nogil
    int MC_SIMD
    const char* MC_SIMD_NAME


def simd_path():
    """Which block-scan implementation was compiled: 'sse2', 'neon' or 'swar' (portable)."""
    return MC_SIMD_NAME.decode("ascii")


cdef uint64_t find_nonzero(const uint8_t* p, uint64_t i, uint64_t n) noexcept nogil:
    """First index >= i with p[index] != 0, or n."""
    # a run often ends within a few bytes: look at one word before the block loop
    if i + 8 <= n and load64(p + i) != 0:
        while p[i] == 0:
            i += 1
        return i
    while i + 128 <= n:
        if mc_block_any_nonzero(p + i) | mc_block_any_nonzero(p + i + 64):
            break
        i += 128
    while i + 64 <= n:
        if mc_block_any_nonzero(p + i):
            break
        i += 64
    while i + 8 <= n:
        if load64(p + i) != 0:
            break
        i += 8
    while i < n and p[i] == 0:
        i += 1
    return i


cdef uint64_t find_zero(const uint8_t* p, uint64_t i, uint64_t n) noexcept nogil:
    """First index >= i with p[index] == 0, or n."""
    if i + 8 <= n and zero_bytes(load64(p + i)) != 0:
        while p[i] != 0:
            i += 1
        return i
    while i + 128 <= n:
        if mc_block_any_zero(p + i) | mc_block_any_zero(p + i + 64):
            break
        i += 128
    while i + 64 <= n:
        if mc_block_any_zero(p + i):
            break
        i += 64
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


cdef int scan_sort_by_column(Scan* sc, uint64_t w) noexcept nogil:
    """Counting sort of the transitions by column (stable, so rows stay ascending):
    afterwards sc.sy holds their rows and sc.colstart[x] is the end of column x."""
    cdef uint64_t k, x, acc = 0, t
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
    for x in range(w + 1):
        t = sc.colstart[x]
        sc.colstart[x] = acc
        acc += t
    for k in range(<uint64_t>sc.tn):
        x = sc.tx[k]
        sc.sy[sc.colstart[x]] = sc.ty[k]
        sc.colstart[x] += 1
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
    # rows 1..h-1: compare with the row above, 64 bytes at a time
    for y in range(1, h):
        a = base + <Py_ssize_t>y * s0
        b = a - s0
        x = 0
        while x + 64 <= w:
            if mc_block_differs(a + x, b + x):
                for xx in range(x, x + 64):
                    if (a[xx] != 0) != (b[xx] != 0):
                        if scan_push(sc, <uint32_t>xx, <uint32_t>y) < 0:
                            return ERR_NOMEM
            x += 64
        while x < w:
            if (a[x] != 0) != (b[x] != 0):
                if scan_push(sc, <uint32_t>x, <uint32_t>y) < 0:
                    return ERR_NOMEM
            x += 1
    if scan_sort_by_column(sc, w) < 0:
        return ERR_NOMEM
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

# Part of _rle_core.pyx: scanning masks into runs (encode), in either memory order.
#
# Any nonzero byte is foreground. Runs are always in column-major (COCO) order.
#  * columns contiguous (Fortran order): skip 128 bytes at a time while the state holds; a
#    64-byte block with a change gives a bit mask of its foreground bytes, and the runs end
#    at the set bits of mask ^ (mask << 1 | state);
#  * rows contiguous (C order): never transpose. A run boundary of the column-major stream
#    sits at (x, y) where pixel (y, x) differs from (y-1, x) (or, in row 0, from the last
#    pixel of the previous column). Comparing each row with the one above finds them in
#    row order; a counting sort by column puts them in stream order. Scratch memory is
#    proportional to the number of runs plus the width, never to h*w;
#  * anything else: a strided loop.

cdef uint64_t ONES8 = 0x0101010101010101u


cdef inline uint64_t load64(const uint8_t* p) noexcept nogil:
    cdef uint64_t v
    memcpy(&v, p, 8)
    return v


cdef extern from *:
    """
    /* Block tests for the run scanners. SSE2 is part of the x86-64 baseline and NEON of the
       arm64 baseline, so no CPU-specific flags are needed; other targets use SWAR.
       mc_block2_* return nonzero iff the 128-byte block holds a byte of the kind looked for,
       mc_block_differs iff two 64-byte blocks differ; mc_zero_mask64 has one bit per byte
       of a 64-byte block, set where the byte is zero. */
    #include <string.h>
    #include <stdint.h>
    #if defined(_MSC_VER) && !defined(__clang__)
    #include <intrin.h>
    static inline int mc_ctz64(uint64_t m) {  /* m != 0 */
        unsigned long k;
    #if defined(_M_X64) || defined(_M_ARM64)
        _BitScanForward64(&k, m);
        return (int)k;
    #else
        if ((uint32_t)m) { _BitScanForward(&k, (uint32_t)m); return (int)k; }
        _BitScanForward(&k, (uint32_t)(m >> 32));
        return (int)k + 32;
    #endif
    }
    #elif defined(__GNUC__) || defined(__clang__)
    static inline int mc_ctz64(uint64_t m) { return __builtin_ctzll(m); }
    #else
    static inline int mc_ctz64(uint64_t m) { int k = 0; while (!(m & 1)) { m >>= 1; k++; } return k; }
    #endif
    #if !defined(MC_FORCE_SWAR) && (defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2))
    #include <emmintrin.h>
    #define MC_SIMD 1
    #define MC_SIMD_NAME "sse2"
    #define MC_LD(p, k) _mm_loadu_si128((const __m128i*)((p) + (k)))
    /* nonzero iff the 128-byte block at p holds a byte of the kind looked for */
    static inline int mc_block2_any_nonzero(const unsigned char* p) {
        __m128i o = _mm_or_si128(
            _mm_or_si128(_mm_or_si128(MC_LD(p, 0), MC_LD(p, 16)), _mm_or_si128(MC_LD(p, 32), MC_LD(p, 48))),
            _mm_or_si128(_mm_or_si128(MC_LD(p, 64), MC_LD(p, 80)), _mm_or_si128(MC_LD(p, 96), MC_LD(p, 112))));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(o, _mm_setzero_si128())) != 0xFFFF;
    }
    static inline int mc_block2_any_zero(const unsigned char* p) {
        __m128i m = _mm_min_epu8(
            _mm_min_epu8(_mm_min_epu8(MC_LD(p, 0), MC_LD(p, 16)), _mm_min_epu8(MC_LD(p, 32), MC_LD(p, 48))),
            _mm_min_epu8(_mm_min_epu8(MC_LD(p, 64), MC_LD(p, 80)), _mm_min_epu8(MC_LD(p, 96), MC_LD(p, 112))));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(m, _mm_setzero_si128())) != 0;
    }
    static inline int mc_block_differs(const unsigned char* p, const unsigned char* q) {
        __m128i e0 = _mm_cmpeq_epi8(MC_LD(p, 0), MC_LD(q, 0)), e1 = _mm_cmpeq_epi8(MC_LD(p, 16), MC_LD(q, 16));
        __m128i e2 = _mm_cmpeq_epi8(MC_LD(p, 32), MC_LD(q, 32)), e3 = _mm_cmpeq_epi8(MC_LD(p, 48), MC_LD(q, 48));
        return _mm_movemask_epi8(_mm_and_si128(_mm_and_si128(e0, e1), _mm_and_si128(e2, e3))) != 0xFFFF;
    }
    /* one bit per byte of p[0:64], set where the byte is zero */
    static inline uint64_t mc_zero_mask64(const unsigned char* p) {
        __m128i z = _mm_setzero_si128();
        uint64_t m0 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(MC_LD(p, 0), z));
        uint64_t m1 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(MC_LD(p, 16), z));
        uint64_t m2 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(MC_LD(p, 32), z));
        uint64_t m3 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(MC_LD(p, 48), z));
        return m0 | (m1 << 16) | (m2 << 32) | (m3 << 48);
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
    static inline int mc_block2_any_nonzero(const unsigned char* p) {
        return mc_block_any_nonzero(p) | mc_block_any_nonzero(p + 64); }
    static inline int mc_block2_any_zero(const unsigned char* p) {
        return mc_block_any_zero(p) | mc_block_any_zero(p + 64); }
    static inline int mc_block_differs(const unsigned char* p, const unsigned char* q) {
        uint8x16_t x = vorrq_u8(vorrq_u8(veorq_u8(vld1q_u8(p), vld1q_u8(q)),
                                         veorq_u8(vld1q_u8(p + 16), vld1q_u8(q + 16))),
                                vorrq_u8(veorq_u8(vld1q_u8(p + 32), vld1q_u8(q + 32)),
                                         veorq_u8(vld1q_u8(p + 48), vld1q_u8(q + 48))));
        return vmaxvq_u8(x) != 0;
    }
    /* one bit per byte of p[0:64], set where the byte is zero: each compare result is
       masked with its bit weight within 8 bytes, then three pairwise additions sum each
       group of 8 bytes into one byte of the result */
    static inline uint64_t mc_zero_mask64(const unsigned char* p) {
        static const uint8_t w[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
        uint8x16_t wt = vld1q_u8(w), z = vdupq_n_u8(0);
        uint8x16_t m0 = vandq_u8(vceqq_u8(vld1q_u8(p), z), wt);
        uint8x16_t m1 = vandq_u8(vceqq_u8(vld1q_u8(p + 16), z), wt);
        uint8x16_t m2 = vandq_u8(vceqq_u8(vld1q_u8(p + 32), z), wt);
        uint8x16_t m3 = vandq_u8(vceqq_u8(vld1q_u8(p + 48), z), wt);
        uint8x16_t t = vpaddq_u8(vpaddq_u8(m0, m1), vpaddq_u8(m2, m3));
        t = vpaddq_u8(t, t);
        return vgetq_lane_u64(vreinterpretq_u64_u8(t), 0);
    }
    #else
    #define MC_SIMD 0
    #define MC_SIMD_NAME "swar"
    static inline uint64_t mc_ld(const unsigned char* p) { uint64_t v; memcpy(&v, p, 8); return v; }
    /* nonzero iff some byte of v is zero; its lowest set bit is in the lowest zero byte */
    static inline uint64_t mc_z(uint64_t v) {
        return (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL; }
    static inline int mc_block_any_nonzero(const unsigned char* p) {
        uint64_t o = 0; int k; for (k = 0; k < 64; k += 8) o |= mc_ld(p + k); return o != 0; }
    static inline int mc_block_any_zero(const unsigned char* p) {
        uint64_t o = 0; int k; for (k = 0; k < 64; k += 8) o |= mc_z(mc_ld(p + k)); return o != 0; }
    static inline int mc_block2_any_nonzero(const unsigned char* p) {
        return mc_block_any_nonzero(p) | mc_block_any_nonzero(p + 64); }
    static inline int mc_block2_any_zero(const unsigned char* p) {
        return mc_block_any_zero(p) | mc_block_any_zero(p + 64); }
    static inline int mc_block_differs(const unsigned char* p, const unsigned char* q) {
        uint64_t o = 0; int k; for (k = 0; k < 64; k += 8) o |= mc_ld(p + k) ^ mc_ld(q + k); return o != 0; }
    /* one bit per byte of p[0:64], set where the byte is zero (any byte order) */
    static inline uint64_t mc_zero_mask64(const unsigned char* p) {
        uint64_t m = 0;
        int k;
        for (k = 0; k < 64; k++) m |= (uint64_t)(p[k] == 0) << k;
        return m;
    }
    #endif
    """
    int mc_block_differs(const uint8_t* p, const uint8_t* q) nogil
    int mc_block2_any_nonzero(const uint8_t* p) nogil
    int mc_block2_any_zero(const uint8_t* p) nogil
    uint64_t mc_zero_mask64(const uint8_t* p) nogil
    int mc_ctz64(uint64_t m) nogil
    int MC_SIMD
    const char* MC_SIMD_NAME


def simd_path():
    """Which block-scan implementation was compiled: 'sse2', 'neon' or 'swar' (portable),
    with '+avx2' appended when the decoder writes runs with AVX2 (checked at run time)."""
    name = MC_SIMD_NAME.decode("ascii")
    return name + "+avx2" if mc_cpu_avx2 else name


cdef inline int push_changes(uint64_t t, uint64_t at, uint64_t* st, U32Buf* out) noexcept nogil:
    """Append the runs ended by the set bits of t (bit k: a change at stream position at + k),
    lowest first; *st is where the current run began."""
    cdef uint64_t q
    while t:
        q = at + <uint64_t>mc_ctz64(t)
        t &= t - 1
        if push_run(out, q - st[0]) < 0:
            return ERR_NOMEM
        st[0] = q
    return 0


cdef int scan_runs(const uint8_t* p, uint64_t n, uint64_t base, uint64_t* start, uint64_t* state,
                   U32Buf* out) noexcept nogil:
    """Append the runs that end inside the contiguous bytes p[0:n], stream positions base..
    base + n - 1. `start` is where the current run began and `state` (0 or 1) its value; both
    are updated for the next segment. Blocks equal to the state are skipped 128 bytes at a
    time; a block with a change gives a 64-bit mask of its foreground bytes, whose changes
    are the set bits of mask ^ (mask << 1 | state)."""
    cdef uint64_t i = 0, nz, v = state[0]
    cdef int k
    while i + 64 <= n:
        if v:
            while i + 128 <= n and not mc_block2_any_zero(p + i):
                i += 128
        else:
            while i + 128 <= n and not mc_block2_any_nonzero(p + i):
                i += 128
        k = 0
        while k < 2 and i + 64 <= n:
            nz = ~mc_zero_mask64(p + i)
            if push_changes(nz ^ ((nz << 1) | v), base + i, start, out) < 0:
                return ERR_NOMEM
            v = nz >> 63
            i += 64
            k += 1
    if i < n and n >= 64:
        # the last partial block as the overlapping block p[n-64:n]: its bytes before i were
        # scanned already, and the bit below i is the current state, so only higher bits count
        nz = ~mc_zero_mask64(p + n - 64)
        if push_changes((nz ^ (nz << 1)) & ((~(<uint64_t>0)) << (i - (n - 64))),
                        base + n - 64, start, out) < 0:
            return ERR_NOMEM
        v = nz >> 63
        i = n
    while i < n:
        if <uint64_t>(p[i] != 0) != v:
            if push_run(out, base + i - start[0]) < 0:
                return ERR_NOMEM
            start[0] = base + i
            v ^= 1
        i += 1
    state[0] = v
    return 0


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
    cdef uint64_t start = 0, state = 0
    if scan_runs(p, n, 0, &start, &state, out) < 0 or push_run(out, n - start) < 0:
        return ERR_NOMEM
    return 0


cdef int encode_cols(const uint8_t* base, uint64_t h, uint64_t w, Py_ssize_t s1,
                     U32Buf* out) noexcept nogil:
    """Runs of a mask whose columns are contiguous (column stride s1)."""
    cdef uint64_t x, start = 0, state = 0
    for x in range(w):
        if scan_runs(base + <Py_ssize_t>x * s1, h, x * h, &start, &state, out) < 0:
            return ERR_NOMEM
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

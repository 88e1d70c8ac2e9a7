# Part of _rle_core.pyx (included): a vector parser for the counts string.
#
# A count is a group of 1..7 characters (5 payload bits each, bit 0x20 = "more follows", the
# last character's bit 0x10 = sign); from the fourth count on it is the difference to the count
# two back. In COCO strings about 9 counts in 10 are one character and almost all the rest are
# two, so groups of one or two characters are decoded a block of 8 characters at a time:
#   * the "more" bits of the 8 characters plus the one before them index a table that gives a
#     byte shuffle putting each whole group into a 16-bit lane (first character in the low byte,
#     second or zero in the high byte), the sign bit of each lane, and the number of groups;
#   * the 5-bit payloads are joined (multiply-add on x86), an xor/subtract pair sign-extends
#     from bit 4 (one character) or bit 9 (two), two shifted adds in 16-bit lanes undo the delta
#     coding within the block, and the counts two and one back, carried from the last block,
#     are added after widening to 32 bits;
#   * the start of a group cut by the block's end is left for the next block, which reads the
#     character before it, so every block starts 8 characters on: the loads do not wait on the
#     decode of the last block.
# A block holding a group of three or more characters is read one group at a time. The last
# characters are copied into a padded buffer and go through the same loop.
#
# The vector parser never reports an error: on anything that is not plainly valid (a group of
# more than 7 characters, a count outside 0..2**31-1, a bad character) it returns -1 and the
# caller runs the reference reader (read_count), which finds the error and reports it in string
# order. So the two paths agree on every input by construction; tests/test_counts_simd.py checks
# it through Python, and scripts/check_groups_native.py in C, natively and for arm64 under qemu.
# Back ends (GCC or Clang; no compile flags): x86 with AVX2 (checked at run time), two blocks
# per 256-bit step; arm64 with NEON (always present), one block per step. Elsewhere (MSVC, other
# CPUs, MASKCODECS_NO_SIMD builds) the reference reader does all the work.

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* below this many characters the reference reader is used: the parser's setup and padded
       tail would cost more than they save, and its loads need that many bytes */
    #define MC_GROUPS_MIN_CHARS 24
    /* the parser writes up to this many values past the last count */
    #define MC_GROUPS_SLACK 32
    /* the value of the group at s[*p] (the string's last character ends a group, so the group
       ends inside it); 0, or -1 for a group of more than 7 characters */
    static inline int mc_group_value(const uint8_t* s, Py_ssize_t* p, int64_t* x) {
        Py_ssize_t q = *p;
        int64_t v = 0;
        int k = 0, c;
        do {
            c = s[q++] - 48;
            if (k < 7) v |= (int64_t)(c & 0x1f) << (5 * k);
            k++;
        } while (c & 0x20);
        *p = q;
        if (k > 7) return -1;
        if (c & 0x10) v = (int64_t)((uint64_t)v | (~(uint64_t)0 << (5 * k)));
        *x = v;
        return 0;
    }
    #if !defined(MC_FORCE_SWAR) && (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    #include <immintrin.h>
    #define MC_GROUPS_X86 1
    #define MC_GT __attribute__((target("avx2")))
    #elif !defined(MC_FORCE_SWAR) && (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
    #include <arm_neon.h>
    #define MC_GROUPS_NEON 1
    #define MC_GT
    #endif

    #if defined(MC_GROUPS_X86) || defined(MC_GROUPS_NEON)
    /* indexed by the "more" bits of the character before the block (bit 0) and of the block's
       8 characters (bits 1..8); [0:16] the byte shuffle, [16:32] per 16-bit lane the sign bit
       of its group (0x10 for one character, 0x200 for two; 0x10 in empty lanes, which decode
       to 0) */
    static unsigned char mc_grp_shuf[512][32] __attribute__((aligned(32)));
    static unsigned char mc_grp_cnt[512];          /* groups in the block; 255: a long group */
    static int mc_groups_cpu = 0;                  /* the CPU can run the vector parser */
    static int mc_groups_on = 0;                   /* ... and it is switched on */

    static void mc_groups_init(void) {
        int idx, j, lane;
        for (idx = 0; idx < 512; idx++) {
            /* window bytes: 1 = the character before the block, 2..9 = the block */
            unsigned char* sh = mc_grp_shuf[idx];
            uint16_t sg[8];
            int more[10] = {0};
            for (j = 1; j <= 9; j++) more[j] = (idx >> (j - 1)) & 1;
            memset(sh, 0x80, 16);
            lane = 0;
            j = 2;
            if (more[1]) {              /* a group cut by the last block's end */
                if (more[2]) { mc_grp_cnt[idx] = 255; continue; }
                sh[0] = 1; sh[1] = 2; lane = 1; j = 3;
            }
            while (j <= 9) {
                if (!more[j]) { sh[2 * lane] = (unsigned char)j; j += 1; }
                else if (j == 9) break;                       /* cut: the next block's */
                else if (!more[j + 1]) { sh[2 * lane] = (unsigned char)j; sh[2 * lane + 1] = (unsigned char)(j + 1); j += 2; }
                else { lane = -1; break; }                    /* three or more characters */
                lane++;
            }
            mc_grp_cnt[idx] = (unsigned char)(lane < 0 ? 255 : lane);
            for (j = 0; j < 8; j++) sg[j] = (uint16_t)(sh[2 * j + 1] == 0x80 ? 0x10 : 0x200);
            memcpy(sh + 16, sg, 16);
        }
    #if defined(MC_GROUPS_X86)
        __builtin_cpu_init();
        mc_groups_cpu = __builtin_cpu_supports("avx2");
    #else
        mc_groups_cpu = 1;     /* NEON is part of AArch64 */
    #endif
        mc_groups_on = mc_groups_cpu;
    }

    /* One group at a time from q up to the first group boundary at or after `stop`: the
       blocks' way through a long group. a, b: the counts two back and one back. */
    static inline Py_ssize_t mc_groups_slow(const uint8_t* s, Py_ssize_t q, Py_ssize_t stop,
                                            uint32_t* out, Py_ssize_t* mp, int32_t* a, int32_t* b) {
        Py_ssize_t m = *mp;
        int64_t x;
        while (q < stop) {
            if (mc_group_value(s, &q, &x) < 0) return -1;
            x += *a;
            if (x < 0 || x > INT32_MAX) return -1;
            out[m++] = (uint32_t)x;
            *a = *b;
            *b = (int32_t)x;
        }
        *mp = m;
        return q;
    }
    #endif

    #if defined(MC_GROUPS_X86)
    /* the next block's carry (count two back, count one back) from lanes 6 and 7: kept after
       an even number of groups, swapped after an odd one (a table, not a branch: the parity is
       unpredictable) */
    static const int32_t mc_grp_next[2][8] __attribute__((aligned(32))) = {
        {6, 7, 6, 7, 6, 7, 6, 7}, {7, 6, 7, 6, 7, 6, 7, 6}};

    typedef struct { __m256i C, neg, bad; } McGroups;

    MC_GT static inline void mc_groups_start(McGroups* g, const uint8_t* s, Py_ssize_t p, int32_t a, int32_t b) {
        /* the characters before p (p <= 21 < n; the blocks check from p - 2 on) */
        const __m128i k48 = _mm_set1_epi8(48);
        g->bad = _mm256_inserti128_si256(_mm256_castsi128_si256(
            _mm_sub_epi8(_mm_loadu_si128((const __m128i*)s), k48)),
            _mm_sub_epi8(_mm_loadu_si128((const __m128i*)(s + (p > 16 ? p - 16 : 0))), k48), 1);
        g->C = _mm256_setr_epi32(a, b, a, b, a, b, a, b);
        g->neg = _mm256_setzero_si256();
    }

    /* the "more" bits of q[0:16] */
    MC_GT static inline unsigned mc_more16(const uint8_t* q) {
        return (unsigned)_mm_movemask_epi8(_mm_slli_epi16(
            _mm_sub_epi8(_mm_loadu_si128((const __m128i*)q), _mm_set1_epi8(48)), 2));
    }

    /* no negative count and no character outside '0'..'o' (bit 6 or 7 set after - '0') */
    MC_GT static inline int mc_groups_clean(const McGroups* g) {
        return !_mm256_movemask_ps(_mm256_castsi256_ps(g->neg))
            && _mm256_testz_si256(g->bad, _mm256_set1_epi8((char)0xC0));
    }

    /* Blocks of 8 characters from s[p] on: two at a time while p < wide_end (then 24 bytes from
       s + p - 2 are readable; 0: never), one at a time while p < end (16 bytes). g->C holds
       (count two back, count one back) four times; counts go to out[*m...], 8 lanes at a time
       (lanes past the block's groups are scratch for the next block). The characters minus '0'
       of every window read are or-ed into g->bad (the windows leave no gap), and every lane
       into g->neg. Returns the position reached (a group boundary, or one past the start of a
       cut group), or -1. */
    MC_GT static inline Py_ssize_t mc_group_blocks(McGroups* g, const uint8_t* s, Py_ssize_t p,
                                                   Py_ssize_t wide_end, Py_ssize_t end,
                                                   uint32_t* out, Py_ssize_t* mp) {
        const __m256i k48 = _mm256_set1_epi8(48), k1f = _mm256_set1_epi8(0x1f);
        const __m256i kmul = _mm256_set1_epi16(0x2001);
        __m256i C = g->C, neg = g->neg, bad = g->bad;
        __m128i bad1 = _mm_setzero_si128();
        Py_ssize_t m = *mp;
        for (;;) {
            if (wide_end > 0 && p < wide_end) {
                /* the windows s[p-2:p+14] and s[p+6:p+22] of the blocks at p and p + 8 */
                __m256i v = _mm256_sub_epi8(_mm256_inserti128_si256(_mm256_castsi128_si256(
                    _mm_loadu_si128((const __m128i*)(s + p - 2))),
                    _mm_loadu_si128((const __m128i*)(s + p + 6)), 1), k48);
                unsigned mask = (unsigned)_mm256_movemask_epi8(_mm256_slli_epi16(v, 2));
                unsigned i0 = (mask >> 1) & 511u, i1 = (mask >> 17) & 511u;
                unsigned c0 = mc_grp_cnt[i0], c1 = mc_grp_cnt[i1];
                if (c0 != 255 && c1 != 255) {
                    __m256i sh = _mm256_inserti128_si256(_mm256_castsi128_si256(
                        _mm_load_si128((const __m128i*)mc_grp_shuf[i0])),
                        _mm_load_si128((const __m128i*)mc_grp_shuf[i1]), 1);
                    __m256i sg = _mm256_inserti128_si256(_mm256_castsi128_si256(
                        _mm_load_si128((const __m128i*)(mc_grp_shuf[i0] + 16))),
                        _mm_load_si128((const __m128i*)(mc_grp_shuf[i1] + 16)), 1);
                    __m256i d = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_shuffle_epi8(v, sh), k1f), kmul);
                    __m256i x0, x1;
                    d = _mm256_sub_epi16(_mm256_xor_si256(d, sg), sg);
                    /* each lane plus the lanes 2, 4 and 6 before it in its block (|sum| <= 2048) */
                    d = _mm256_add_epi16(d, _mm256_slli_si256(d, 4));
                    d = _mm256_add_epi16(d, _mm256_slli_si256(d, 8));
                    x0 = _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(d)), C);
                    C = _mm256_permutevar8x32_epi32(x0, _mm256_load_si256((const __m256i*)mc_grp_next[c0 & 1u]));
                    x1 = _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(d, 1)), C);
                    C = _mm256_permutevar8x32_epi32(x1, _mm256_load_si256((const __m256i*)mc_grp_next[c1 & 1u]));
                    bad = _mm256_or_si256(bad, v);
                    neg = _mm256_or_si256(neg, _mm256_or_si256(x0, x1));
                    _mm256_storeu_si256((__m256i*)(out + m), x0);
                    m += c0;
                    _mm256_storeu_si256((__m256i*)(out + m), x1);
                    m += c1;
                    p += 16;
                    continue;
                }
            } else if (p >= end) {
                break;
            }
            /* one block: the last ones, or a block pair holding a long group */
            __m128i v = _mm_sub_epi8(_mm_loadu_si128((const __m128i*)(s + p - 2)), _mm256_castsi256_si128(k48));
            unsigned idx = ((unsigned)_mm_movemask_epi8(_mm_slli_epi16(v, 2)) >> 1) & 511u;
            unsigned cnt = mc_grp_cnt[idx];
            bad1 = _mm_or_si128(bad1, v);
            if (cnt == 255) {
                /* one group at a time from the start of the cut group (if any) to the block's end */
                __m128i c = _mm256_castsi256_si128(C);
                int32_t a = _mm_cvtsi128_si32(c), b = _mm_extract_epi32(c, 1);
                p = mc_groups_slow(s, p - (Py_ssize_t)(idx & 1u), p + 8, out, &m, &a, &b);
                if (p < 0) return -1;
                C = _mm256_setr_epi32(a, b, a, b, a, b, a, b);
                continue;
            }
            __m128i d = _mm_maddubs_epi16(_mm_and_si128(_mm_shuffle_epi8(v, _mm_load_si128(
                (const __m128i*)mc_grp_shuf[idx])), _mm256_castsi256_si128(k1f)), _mm256_castsi256_si128(kmul));
            __m128i sg = _mm_load_si128((const __m128i*)(mc_grp_shuf[idx] + 16));
            __m256i x;
            d = _mm_sub_epi16(_mm_xor_si128(d, sg), sg);
            d = _mm_add_epi16(d, _mm_slli_si128(d, 4));
            d = _mm_add_epi16(d, _mm_slli_si128(d, 8));
            x = _mm256_add_epi32(_mm256_cvtepi16_epi32(d), C);
            /* lanes past the groups hold copies, so lanes 6 and 7 are the last counts of their
               parity; the next block's first lane has the parity of lane cnt */
            C = _mm256_permutevar8x32_epi32(x, _mm256_load_si256((const __m256i*)mc_grp_next[cnt & 1u]));
            neg = _mm256_or_si256(neg, x);
            _mm256_storeu_si256((__m256i*)(out + m), x);
            m += cnt;
            p += 8;
        }
        *mp = m;
        g->C = C;
        g->neg = neg;
        g->bad = _mm256_or_si256(bad, _mm256_inserti128_si256(_mm256_setzero_si256(), bad1, 0));
        return p;
    }

    #elif defined(MC_GROUPS_NEON)
    typedef struct { int32x4_t C, neg; uint8x16_t bad; } McGroups;
    static const uint8_t mc_grp_bitw[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    /* the next block's carry from lanes 6 and 7 (bytes 8..15 of the high half): kept after an
       even number of groups, swapped after an odd one */
    static const uint8_t mc_grp_next16[2][16] = {
        {8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15},
        {12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11}};

    static inline unsigned mc_more_bits(uint8x16_t v) {
        uint8x16_t t = vandq_u8(vtstq_u8(v, vdupq_n_u8(0x20)), vld1q_u8(mc_grp_bitw));
        return (unsigned)vaddv_u8(vget_low_u8(t)) | ((unsigned)vaddv_u8(vget_high_u8(t)) << 8);
    }

    static inline unsigned mc_more16(const uint8_t* q) {
        return mc_more_bits(vsubq_u8(vld1q_u8(q), vdupq_n_u8(48)));
    }

    static inline void mc_groups_start(McGroups* g, const uint8_t* s, Py_ssize_t p, int32_t a, int32_t b) {
        const int32_t ab[4] = {a, b, a, b};
        g->bad = vorrq_u8(vsubq_u8(vld1q_u8(s), vdupq_n_u8(48)),
                          vsubq_u8(vld1q_u8(s + (p > 16 ? p - 16 : 0)), vdupq_n_u8(48)));
        g->C = vld1q_s32(ab);
        g->neg = vdupq_n_s32(0);
    }

    static inline int mc_groups_clean(const McGroups* g) {
        return vminvq_s32(g->neg) >= 0 && vmaxvq_u8(vandq_u8(g->bad, vdupq_n_u8(0xC0))) == 0;
    }

    /* As the x86 blocks, one block at a time (wide_end is not used). */
    static inline Py_ssize_t mc_group_blocks(McGroups* g, const uint8_t* s, Py_ssize_t p,
                                             Py_ssize_t wide_end, Py_ssize_t end,
                                             uint32_t* out, Py_ssize_t* mp) {
        const uint8x16_t k48 = vdupq_n_u8(48), k1f = vdupq_n_u8(0x1f);
        const int16x8_t zero = vdupq_n_s16(0);
        int32x4_t C = g->C, neg = g->neg;
        uint8x16_t bad = g->bad;
        Py_ssize_t m = *mp;
        (void)wide_end;
        while (p < end) {
            uint8x16_t v = vsubq_u8(vld1q_u8(s + p - 2), k48);
            unsigned idx = (mc_more_bits(v) >> 1) & 511u;
            unsigned cnt = mc_grp_cnt[idx];
            bad = vorrq_u8(bad, v);
            if (cnt == 255) {
                int32_t a = vgetq_lane_s32(C, 0), b = vgetq_lane_s32(C, 1);
                int32_t ab[4];
                p = mc_groups_slow(s, p - (Py_ssize_t)(idx & 1u), p + 8, out, &m, &a, &b);
                if (p < 0) return -1;
                ab[0] = a; ab[1] = b; ab[2] = a; ab[3] = b;
                C = vld1q_s32(ab);
                continue;
            }
            {
                uint16x8_t pl = vreinterpretq_u16_u8(vandq_u8(vqtbl1q_u8(v, vld1q_u8(mc_grp_shuf[idx])), k1f));
                int16x8_t t = vreinterpretq_s16_u16(vorrq_u16(vandq_u16(pl, vdupq_n_u16(0xff)),
                                                              vshlq_n_u16(vshrq_n_u16(pl, 8), 5)));
                int16x8_t sg = vreinterpretq_s16_u8(vld1q_u8(mc_grp_shuf[idx] + 16));
                int16x8_t d = vsubq_s16(veorq_s16(t, sg), sg);
                int32x4_t lo, hi;
                d = vaddq_s16(d, vextq_s16(zero, d, 6));
                d = vaddq_s16(d, vextq_s16(zero, d, 4));
                lo = vaddq_s32(vmovl_s16(vget_low_s16(d)), C);
                hi = vaddq_s32(vmovl_s16(vget_high_s16(d)), C);
                C = vreinterpretq_s32_u8(vqtbl1q_u8(vreinterpretq_u8_s32(hi), vld1q_u8(mc_grp_next16[cnt & 1u])));
                neg = vorrq_s32(neg, vorrq_s32(lo, hi));
                vst1q_s32((int32_t*)(out + m), lo);
                vst1q_s32((int32_t*)(out + m + 4), hi);
                m += cnt;
                p += 8;
            }
        }
        *mp = m;
        g->C = C;
        g->neg = neg;
        g->bad = bad;
        return p;
    }

    #endif

    #if defined(MC_GROUPS_X86) || defined(MC_GROUPS_NEON)
    /* the sums of the counts at even and at odd indices (background and foreground); the
       compiler vectorises it (an AVX2 version measured no faster) */
    static void mc_sum_parities(const uint32_t* c, Py_ssize_t m, uint64_t* even, uint64_t* odd) {
        uint64_t e = 0, o = 0;
        Py_ssize_t i;
        for (i = 0; i + 1 < m; i += 2) {
            e += c[i];
            o += c[i + 1];
        }
        if (m & 1) e += c[m - 1];
        *even = e;
        *odd = o;
    }

    /* All counts of s (n characters, the last one ending a group) into out, which has room
       for n + MC_GROUPS_SLACK values; their number, or -1 (use the reference reader). The characters are
       checked on the way: the groups read one at a time end at the latest at the last
       character, whatever the others are. */
    MC_GT static Py_ssize_t mc_parse_groups(const uint8_t* s, Py_ssize_t n, uint32_t* out) {
        Py_ssize_t p = 0, m = 0, m0, rest;
        int64_t x, prev[2] = {0, 0};
        unsigned more;
        uint8_t tail[48] __attribute__((aligned(16)));
        McGroups g;
        /* the first three counts are not delta-coded */
        while (m < 3 && p < n) {
            if (mc_group_value(s, &p, &x) < 0 || x < 0 || x > INT32_MAX) return -1;
            out[m] = (uint32_t)x;
            prev[m & 1] = x;
            m++;
        }
        if (p >= n || n < MC_GROUPS_MIN_CHARS) return -1;  /* short strings: the reference's */
        mc_groups_start(&g, s, p, (int32_t)prev[m & 1], (int32_t)prev[(m - 1) & 1]);
        p = mc_group_blocks(&g, s, p, n - 21, n - 14, out, &m);
        if (p < 0) return -1;
        /* the last 1..14 characters, the two before them, then zero deltas ('0'), from
           tail + 16 on: s[n-16:n] is copied so that it ends where the string's copy ends */
        rest = n - p;
        memset(tail, 48, sizeof(tail));
        memcpy(tail + rest + 2, s + n - 16, 16);
        more = mc_more16(tail + 16) >> 2;
        m0 = m;
        if (mc_group_blocks(&g, tail, 18, 0, 18 + rest, out, &m) < 0) return -1;
        /* the counts of the last characters: the groups ending among them */
        m = m0 + rest - __builtin_popcount(more & ((1u << rest) - 1u));
        return mc_groups_clean(&g) ? m : -1;
    }
    #else
    static int mc_groups_cpu = 0;
    static int mc_groups_on = 0;
    static void mc_groups_init(void) {}
    static Py_ssize_t mc_parse_groups(const uint8_t* s, Py_ssize_t n, uint32_t* out) {
        (void)s; (void)n; (void)out;
        return -1;
    }
    static void mc_sum_parities(const uint32_t* c, Py_ssize_t m, uint64_t* even, uint64_t* odd) {
        (void)c; (void)m; *even = 0; *odd = 0;
    }
    #endif
    """
    int mc_groups_cpu
    int mc_groups_on
    void mc_groups_init() nogil
    Py_ssize_t mc_parse_groups(const uint8_t* s, Py_ssize_t n, uint32_t* out) nogil
    void mc_sum_parities(const uint32_t* c, Py_ssize_t m, uint64_t* even, uint64_t* odd) nogil
    enum:
        GROUPS_MIN_CHARS "MC_GROUPS_MIN_CHARS"
        GROUPS_SLACK "MC_GROUPS_SLACK"


mc_groups_init()


cdef inline Py_ssize_t parse_groups(const uint8_t* s, Py_ssize_t n, uint32_t* out) noexcept nogil:
    """Every count of `s` into `out` (room for n + GROUPS_SLACK values) with the vector parser:
    their number, or -1 when the reference reader must be used (an error, a count of 2**31 or
    more, a short string, or no vector parser on this CPU)."""
    if not mc_groups_on or n < GROUPS_MIN_CHARS or ((s[n - 1] - 48) & 0x20):
        return -1
    return mc_parse_groups(s, n, out)


def groups_simd(enabled=None):
    """Whether the vector counts parser is used; `enabled` switches it (for tests) and is
    ignored on a CPU or build without it."""
    global mc_groups_on
    if enabled is not None:
        mc_groups_on = mc_groups_cpu if enabled else 0
    return bool(mc_groups_on)


def counts_by_groups(const uint8_t[::1] s):
    """The counts of `s` read by the vector parser alone (uint32 array as bytes), or None
    when it leaves the string to the reference reader. For tests."""
    cdef U32Buf buf
    cdef Py_ssize_t m
    cdef Py_ssize_t n = s.shape[0]
    if n == 0:
        return None
    memset(&buf, 0, sizeof(U32Buf))
    try:
        if u32_reserve(&buf, n + GROUPS_SLACK) < 0:
            raise MemoryError()
        with nogil:
            m = parse_groups(&s[0], n, buf.data)
        if m < 0:
            return None
        return PyBytes_FromStringAndSize(<char*>buf.data, m * sizeof(uint32_t))
    finally:
        free(buf.data)

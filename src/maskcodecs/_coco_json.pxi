# ---------------------------------------------------------------------------------------------
# COCO JSON scanner (maskcodecs._coco_scan): the annotations of a COCO file as columns
# ---------------------------------------------------------------------------------------------
# One pass over the bytes of a COCO dataset (an object with "annotations") or a results file
# (an array of objects), validating the whole document against the JSON grammar that
# Python's json module accepts, and writing, for each annotation object, the fields COCO
# evaluation reads into JS_NSLOTS columns of 8-byte slots (a column exists only once some
# annotation fills it). No Python object is built per annotation. The scanner is deliberately narrow: whatever it does not model exactly (an
# escaped key, a duplicate key, a float or huge id, NaN/Infinity literals, a non-number
# bbox, a UTF-16 file, nesting deeper than JS_MAX_DEPTH...) makes it give up, and the caller
# parses the file the ordinary way, so the outcome is always the one json.loads would give.
# Numbers are read to the same double as Python's float(): exactly in one IEEE operation
# when the decimal has at most 19 significant digits, a mantissa below 2**53 and a power of
# ten within 1e22, otherwise by Python's own correctly rounded PyOS_string_to_double (which
# is why the scanner holds the GIL; it touches no Python object otherwise).

cdef extern from "Python.h":
    double jscan_strtod "PyOS_string_to_double"(const char* s, char** endptr, void* overflow)
    void* jscan_err_occurred "PyErr_Occurred"()
    void jscan_err_clear "PyErr_Clear"()

cdef extern from *:
    """
    /* The leading ASCII digits of the 8 bytes at p: their count (0..8) and, in *value, the
       number they spell. The bytes are read as one little-endian word (byte-swapped on
       big-endian targets); digits are found without branches (a byte is a digit iff
       b - '0' < 10, tested on every byte at once; borrows and carries only move upward,
       past the first non-digit, so they never disturb the digits before it) and converted
       with the eight-digit multiply-and-shift method, after shifting in leading zeros. */
    #include <string.h>
    #include <stdint.h>
    static inline int mc_json_digits8(const unsigned char* p, uint64_t* value) {
        uint64_t c, t, bad;
        int L;
        memcpy(&c, p, 8);
    #if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        c = __builtin_bswap64(c);
    #endif
        t = c - 0x3030303030303030ULL;
        bad = (t | (t + 0x7676767676767676ULL)) & 0x8080808080808080ULL;
        L = bad ? (mc_ctz64(bad) >> 3) : 8;
        if (L == 0) { *value = 0; return 0; }
        t <<= 8 * (8 - L);
        t = t * 10 + (t >> 8);
        t = (((t & 0x000000FF000000FFULL) * 0x000F424000000064ULL)
             + (((t >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >> 32;
        *value = t;
        return L;
    }
    """
    int mc_json_digits8(const unsigned char* p, uint64_t* value) noexcept nogil

cdef uint64_t JS_POW10_U[8]
JS_POW10_U[:] = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000]


cdef enum:
    # slots: one column each (int64 unless marked double)
    JS_ID = 0
    JS_IMAGE_ID = 1
    JS_CATEGORY_ID = 2
    JS_AREA = 3             # double
    JS_ISCROWD = 4          # double
    JS_SCORE = 5            # double
    JS_NUM_KEYPOINTS = 6    # double
    JS_BBOX = 7             # 7..10, double; the first four numbers of "bbox", held as one
                            # column of four values a row (slots 8..10 have none of their own)
    JS_SEG = 11             # 11, 12: byte span of the "segmentation" value
    JS_KP = 13              # 13, 14: byte span of the "keypoints" value
    JS_META = 15            # present bits | bbox length << 16 | first byte of segmentation << 24
    JS_NSLOTS = 16
    # field numbers (the bit 1 << field of JS_META says the key is present)
    JF_BBOX = 7
    JF_SEGMENTATION = 8
    JF_KEYPOINTS = 9
    JF_CAPTION = 10
    JS_MAX_DEPTH = 500
    JS_MAX_TOKEN = 512            # longest number token read here (bytes)
    JS_MAX_BBOX_INT = 1 << 26    # |w|, |h| below this: w * h is exact in a double

ctypedef union JSlot:
    int64_t i
    double d

cdef struct JScan:
    const unsigned char* s
    Py_ssize_t n
    JSlot* cols[JS_NSLOTS]  # one column per slot, allocated when some row first has it
    Py_ssize_t nrows
    Py_ssize_t cap


cdef int64_t js_slots_of(int64_t present) noexcept nogil:
    """The slots a row with these present bits fills (JS_META always)."""
    cdef int64_t slots = (present & 0x7F) | ((<int64_t>1) << JS_META)
    if present & ((<int64_t>1) << JF_BBOX):
        slots |= (<int64_t>0xF) << JS_BBOX
    if present & ((<int64_t>1) << JF_SEGMENTATION):
        slots |= (<int64_t>3) << JS_SEG
    if present & ((<int64_t>1) << JF_KEYPOINTS):
        slots |= (<int64_t>3) << JS_KP
    return slots


cdef inline Py_ssize_t js_width(Py_ssize_t k) noexcept nogil:
    """Values a row holds in column k: four in the bbox column, none in slots 8..10."""
    if k == JS_BBOX:
        return 4
    return 0 if JS_BBOX < k < JS_BBOX + 4 else 1


cdef int js_store(JScan* js, const JSlot* row, int64_t slots) noexcept nogil:
    """Append a row to the columns, allocating (zeroed) those it is the first to need."""
    cdef Py_ssize_t k, cap, w, c
    cdef JSlot* grown
    if js.nrows == js.cap:
        cap = js.cap * 2 if js.cap else 1024
        for k in range(JS_NSLOTS):
            if js.cols[k] != NULL:
                grown = <JSlot*>realloc(js.cols[k], cap * js_width(k) * sizeof(JSlot))
                if grown == NULL:
                    return -1
                js.cols[k] = grown
        js.cap = cap
    for k in range(JS_NSLOTS):
        w = js_width(k)
        if w == 0:
            continue
        if js.cols[k] == NULL and slots & ((<int64_t>1) << k):
            js.cols[k] = <JSlot*>calloc(js.cap * w, sizeof(JSlot))
            if js.cols[k] == NULL:
                return -1
        if js.cols[k] != NULL:
            for c in range(w):
                js.cols[k][js.nrows * w + c] = row[k + c]
    js.nrows += 1
    return 0

cdef double JS_POW10[23]
JS_POW10[:] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
               1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]


cdef inline Py_ssize_t js_ws(const unsigned char* s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    while i < n and (s[i] == 32 or s[i] == 10 or s[i] == 13 or s[i] == 9):
        i += 1
    return i


cdef inline Py_ssize_t js_ws_back(const unsigned char* s, Py_ssize_t i) noexcept nogil:
    """The last position <= i that is not JSON whitespace; -1 if all of s[0..i] is."""
    while i >= 0 and (s[i] == 32 or s[i] == 10 or s[i] == 13 or s[i] == 9):
        i -= 1
    return i


cdef inline bint js_digit(unsigned char c) noexcept nogil:
    return 48 <= c <= 57


cdef inline bint js_hex(unsigned char c) noexcept nogil:
    return js_digit(c) or 97 <= c <= 102 or 65 <= c <= 70


cdef Py_ssize_t js_utf8(const unsigned char* s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Position after the UTF-8 sequence at s[i] (a byte >= 0x80), -1 if it is malformed.
    Encoded surrogates pass: json.loads decodes bytes with 'surrogatepass'."""
    cdef unsigned char c = s[i], lo = 0x80, hi = 0xBF
    cdef Py_ssize_t need, k
    if 0xC2 <= c <= 0xDF:
        need = 1
    elif c == 0xE0:
        need, lo = 2, 0xA0
    elif 0xE1 <= c <= 0xEF:
        need = 2
    elif c == 0xF0:
        need, lo = 3, 0x90
    elif 0xF1 <= c <= 0xF3:
        need = 3
    elif c == 0xF4:
        need, hi = 3, 0x8F
    else:
        return -1
    if i + need >= n or not (lo <= s[i + 1] <= hi):
        return -1
    for k in range(2, need + 1):
        if not (0x80 <= s[i + k] <= 0xBF):
            return -1
    return i + need + 1


cdef Py_ssize_t js_string(const unsigned char* s, Py_ssize_t i, Py_ssize_t n,
                          bint* escaped) noexcept nogil:
    """s[i] is a quote: the position after the string's closing quote, -1 if invalid."""
    cdef unsigned char c
    i += 1
    while i < n:
        c = s[i]
        if c == 34:
            return i + 1
        if c == 92:
            escaped[0] = True
            if i + 1 >= n:
                return -1
            c = s[i + 1]
            if c == 117:  # \uXXXX (lone surrogates included, as json.loads takes them)
                if i + 5 >= n or not (js_hex(s[i + 2]) and js_hex(s[i + 3])
                                      and js_hex(s[i + 4]) and js_hex(s[i + 5])):
                    return -1
                i += 6
            elif c == 34 or c == 92 or c == 47 or c == 98 or c == 102 or c == 110 \
                    or c == 114 or c == 116:
                i += 2
            else:
                return -1
        elif c < 0x20:
            return -1
        elif c < 0x80:
            i += 1
        else:
            i = js_utf8(s, i, n)
            if i < 0:
                return -1
    return -1


cdef Py_ssize_t js_number(const unsigned char* s, Py_ssize_t i, Py_ssize_t n,
                          bint* is_int) noexcept nogil:
    """The end of the JSON number at s[i] (json's -?(0|[1-9]\\d*)(\\.\\d+)?([eE][-+]?\\d+)?),
    -1 if there is none."""
    cdef uint64_t skipped
    if i < n and s[i] == 45:
        i += 1
    if i >= n:
        return -1
    if s[i] == 48:
        i += 1
    elif js_digit(s[i]):
        if i + 8 <= n:  # up to 8 digits at once, as in js_value
            i += mc_json_digits8(s + i, &skipped)
        while i < n and js_digit(s[i]):
            i += 1
    else:
        return -1
    is_int[0] = True
    if i < n and s[i] == 46:
        is_int[0] = False
        i += 1
        if i >= n or not js_digit(s[i]):
            return -1
        if i + 8 <= n:
            i += mc_json_digits8(s + i, &skipped)
        while i < n and js_digit(s[i]):
            i += 1
    if i < n and (s[i] == 101 or s[i] == 69):
        is_int[0] = False
        i += 1
        if i < n and (s[i] == 43 or s[i] == 45):
            i += 1
        if i >= n or not js_digit(s[i]):
            return -1
        while i < n and js_digit(s[i]):
            i += 1
    return i


cdef int js_int(const unsigned char* s, Py_ssize_t a, Py_ssize_t b, int64_t* out) noexcept nogil:
    """The integer token s[a:b] if its magnitude is below 2**53 (exact as a double), else -1."""
    cdef bint neg = s[a] == 45
    cdef int64_t v = 0
    if neg:
        a += 1
    if b - a > 16:
        return -1
    while a < b:
        v = v * 10 + (s[a] - 48)
        a += 1
    if v >= (<int64_t>1) << 53:
        return -1
    out[0] = -v if neg else v
    return 0


cdef Py_ssize_t js_value(const unsigned char* s, Py_ssize_t i, Py_ssize_t n, bint* is_int,
                         double* out) noexcept nogil:
    """Read the JSON number at s[i] (json's grammar, as js_number) and its float() (an int
    token as float(int(token))) in one pass: the position after it, or -1. (js_number
    repeats the grammar without the conversion: one function with a flag measured 25%
    slower on the polygons a COCO file is mostly made of.)

    The double is exact in one IEEE operation when the decimal has at most 19 significant
    digits, a mantissa up to 2**53 and a power of ten within 1e22; otherwise Python's own
    correctly rounded PyOS_string_to_double converts the token."""
    cdef Py_ssize_t a = i, nd = 0, L
    cdef bint neg = False, eneg = False, general = False
    cdef uint64_t m = 0, f = 0
    cdef int64_t e10 = 0, ex = 0
    cdef unsigned char c
    cdef double v
    cdef char buf[JS_MAX_TOKEN]
    cdef char* end
    if i < n and s[i] == 45:
        neg = True
        i += 1
    if i >= n:
        return -1
    if s[i] == 48:
        i += 1
    elif js_digit(s[i]):
        # up to 7 digits at once (most numbers); 8 or more, or near the end: one by one
        L = mc_json_digits8(s + i, &m) if i + 8 <= n else 8
        if L < 8:
            nd = L
            i += L
        else:
            m = 0
            while i < n and js_digit(s[i]):
                if nd < 19:
                    m = m * 10 + (s[i] - 48)
                    nd += 1
                else:
                    general = True
                i += 1
    else:
        return -1
    is_int[0] = True
    if i < n and s[i] == 46:
        is_int[0] = False
        i += 1
        if i >= n or not js_digit(s[i]):
            return -1
        # the same for the fraction while the significant digits stay within 19 (then
        # counting its leading zeros, which the loop below skips, changes nothing)
        L = mc_json_digits8(s + i, &f) if i + 8 <= n and nd + 8 <= 19 else 8
        if L < 8:
            m = m * JS_POW10_U[L] + f
            nd += L
            e10 -= L
            i += L
        while i < n and js_digit(s[i]):
            c = s[i]
            if m != 0 or c != 48:  # leading zeros of the fraction are not significant
                if nd < 19:
                    m = m * 10 + (c - 48)
                    nd += 1
                else:
                    general = True
            e10 -= 1
            i += 1
    if i < n and (s[i] == 101 or s[i] == 69):
        is_int[0] = False
        i += 1
        if i < n and (s[i] == 43 or s[i] == 45):
            eneg = s[i] == 45
            i += 1
        if i >= n or not js_digit(s[i]):
            return -1
        while i < n and js_digit(s[i]):
            if ex < 100000:
                ex = ex * 10 + (s[i] - 48)
            i += 1
        e10 += -ex if eneg else ex
    if not general:
        if m == 0:
            out[0] = -0.0 if (neg and not is_int[0]) else 0.0
            return i
        if m <= (<uint64_t>1) << 53 and -22 <= e10 <= 22:
            v = <double>m
            if e10 >= 0:
                v = v * JS_POW10[e10]
            else:
                v = v / JS_POW10[-e10]
            out[0] = -v if neg else v
            return i
    # the general case: Python's own correctly rounded conversion of the token
    if i - a >= JS_MAX_TOKEN:
        return -1  # longer than any double needs: json's to read
    memcpy(buf, s + a, i - a)
    buf[i - a] = 0
    with gil:  # (the readers run without the GIL, in parallel parts)
        v = jscan_strtod(buf, &end, NULL)
        if jscan_err_occurred() != NULL:
            jscan_err_clear()
            return -1
    if end != buf + (i - a):
        return -1
    out[0] = v
    return i


cdef Py_ssize_t js_literal(const unsigned char* s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    if i + 4 <= n and memcmp(s + i, b"true", 4) == 0:
        return i + 4
    if i + 5 <= n and memcmp(s + i, b"false", 5) == 0:
        return i + 5
    if i + 4 <= n and memcmp(s + i, b"null", 4) == 0:
        return i + 4
    return -1


cdef Py_ssize_t js_skip(const unsigned char* s, Py_ssize_t i, Py_ssize_t n,
                        int depth) noexcept nogil:
    """Validate the JSON value at s[i] (after whitespace) and return the position after it."""
    cdef unsigned char c
    cdef bint flag = False
    i = js_ws(s, i, n)
    if i >= n:
        return -1
    c = s[i]
    if c == 34:
        return js_string(s, i, n, &flag)
    if c == 45 or js_digit(c):
        return js_number(s, i, n, &flag)
    if c == 123 or c == 91:
        if depth >= JS_MAX_DEPTH:
            return -1
        i = js_ws(s, i + 1, n)
        if i < n and s[i] == c + 2:  # '}' or ']'
            return i + 1
        if c == 91:
            # a list of numbers (polygon coordinates, most of a COCO file): a tight loop
            while i < n and (s[i] == 45 or js_digit(s[i])):
                i = js_number(s, i, n, &flag)
                if i < 0:
                    return -1
                if i < n and s[i] == 44:
                    i += 1
                else:
                    i = js_ws(s, i, n)
                    if i >= n:
                        return -1
                    if s[i] == 93:
                        return i + 1
                    if s[i] != 44:
                        return -1
                    i += 1
                if i < n and (s[i] == 32 or s[i] == 10 or s[i] == 13 or s[i] == 9):
                    i = js_ws(s, i, n)
            # anything else in the list: the general walk from here (a value is due)
        while True:
            if c == 123:
                if i >= n or s[i] != 34:
                    return -1
                i = js_string(s, i, n, &flag)
                if i < 0:
                    return -1
                i = js_ws(s, i, n)
                if i >= n or s[i] != 58:
                    return -1
                i += 1
            i = js_skip(s, i, n, depth + 1)
            if i < 0:
                return -1
            i = js_ws(s, i, n)
            if i >= n:
                return -1
            if s[i] == c + 2:
                return i + 1
            if s[i] != 44:
                return -1
            i = js_ws(s, i + 1, n)
    return js_literal(s, i, n)


cdef Py_ssize_t js_key(const unsigned char* s, Py_ssize_t i, Py_ssize_t n, Py_ssize_t* ks,
                       Py_ssize_t* ke) noexcept nogil:
    """The key at s[i] (its bytes s[ks:ke]) and its colon: the position of its value, or -1
    (also for a key with an escape, which may spell any key: left to json)."""
    cdef bint escaped = False
    if i >= n or s[i] != 34:
        return -1
    ks[0] = i + 1
    i = js_string(s, i, n, &escaped)
    if i < 0 or escaped:
        return -1
    ke[0] = i - 1
    i = js_ws(s, i, n)
    if i >= n or s[i] != 58:
        return -1
    i = js_ws(s, i + 1, n)
    return i if i < n else -1


cdef int js_field(const unsigned char* k, Py_ssize_t n) noexcept nogil:
    """The field number of an annotation key (JS_* slot or JF_* bit), -1 if untracked."""
    if n == 2 and memcmp(k, b"id", 2) == 0:
        return JS_ID
    if n == 8 and memcmp(k, b"image_id", 8) == 0:
        return JS_IMAGE_ID
    if n == 11 and memcmp(k, b"category_id", 11) == 0:
        return JS_CATEGORY_ID
    if n == 4:
        if memcmp(k, b"area", 4) == 0:
            return JS_AREA
        if memcmp(k, b"bbox", 4) == 0:
            return JF_BBOX
    if n == 7:
        if memcmp(k, b"iscrowd", 7) == 0:
            return JS_ISCROWD
        if memcmp(k, b"caption", 7) == 0:
            return JF_CAPTION
    if n == 5 and memcmp(k, b"score", 5) == 0:
        return JS_SCORE
    if n == 13 and memcmp(k, b"num_keypoints", 13) == 0:
        return JS_NUM_KEYPOINTS
    if n == 12 and memcmp(k, b"segmentation", 12) == 0:
        return JF_SEGMENTATION
    if n == 9 and memcmp(k, b"keypoints", 9) == 0:
        return JF_KEYPOINTS
    return -1


cdef Py_ssize_t js_bbox(const unsigned char* s, Py_ssize_t i, Py_ssize_t n, JSlot* row,
                        int64_t* count) noexcept nogil:
    """Read the "bbox" array at s[i]: numbers only, its first four into the row."""
    cdef bint is_int = False
    cdef int64_t k = 0
    cdef double v
    if s[i] != 91:
        return -1
    i = js_ws(s, i + 1, n)
    if i < n and s[i] == 93:
        count[0] = 0
        return i + 1
    while True:
        i = js_value(s, i, n, &is_int, &v)
        if i < 0 or (is_int and not -JS_MAX_BBOX_INT < v < JS_MAX_BBOX_INT):
            return -1
        if k < 4:
            row[JS_BBOX + k].d = v
        k += 1
        i = js_ws(s, i, n)
        if i >= n:
            return -1
        if s[i] == 93:
            count[0] = k
            return i + 1
        if s[i] != 44:
            return -1
        i = js_ws(s, i + 1, n)


cdef Py_ssize_t js_annotation(JScan* js, Py_ssize_t i) noexcept nogil:
    """Scan the annotation object at s[i] into a new row; the position after it, or -1."""
    cdef const unsigned char* s = js.s
    cdef Py_ssize_t n = js.n, ks, ke, a
    cdef JSlot row[JS_NSLOTS]
    cdef int64_t present = 0, bbox_len = 0, seg_kind = 0, iv
    cdef int field
    cdef bint is_int
    cdef double v
    memset(row, 0, JS_NSLOTS * sizeof(JSlot))
    i = js_ws(s, i + 1, n)
    if i < n and s[i] == 125:
        i += 1
    else:
        while True:
            i = js_key(s, i, n, &ks, &ke)
            if i < 0:
                return -1
            field = js_field(s + ks, ke - ks)
            if field >= 0:
                if present & ((<int64_t>1) << field):
                    return -1  # a duplicate key (json keeps the last): leave it to json
                present |= (<int64_t>1) << field
            a = i
            if field == JS_ID or field == JS_IMAGE_ID or field == JS_CATEGORY_ID:
                i = js_number(s, i, n, &is_int)
                if i < 0 or not is_int or js_int(s, a, i, &iv) < 0:
                    return -1
                row[field].i = iv
            elif field == JS_AREA or field == JS_ISCROWD or field == JS_SCORE or \
                    field == JS_NUM_KEYPOINTS:
                i = js_value(s, i, n, &is_int, &v)
                if i < 0:
                    return -1
                row[field].d = v
            elif field == JF_BBOX:
                i = js_bbox(s, i, n, row, &bbox_len)
                if bbox_len != 0 and bbox_len != 4:
                    return -1
            else:
                i = js_skip(s, i, n, 2)
                if field == JF_SEGMENTATION:
                    row[JS_SEG].i = a
                    row[JS_SEG + 1].i = i
                    seg_kind = s[a]
                elif field == JF_KEYPOINTS:
                    row[JS_KP].i = a
                    row[JS_KP + 1].i = i
            if i < 0:
                return -1
            i = js_ws(s, i, n)
            if i >= n:
                return -1
            if s[i] == 125:
                i += 1
                break
            if s[i] != 44:
                return -1
            i = js_ws(s, i + 1, n)
    row[JS_META].i = present | (bbox_len << 16) | (seg_kind << 24)
    if js_store(js, row, js_slots_of(present)) < 0:
        return -1
    return i


cdef enum:
    # how js_annotations ended
    JA_CLOSED = 0   # at the array's closing bracket: the position after it
    JA_STOPPED = 1  # at the first element that starts at or after stop: its start


cdef Py_ssize_t js_annotations(JScan* js, Py_ssize_t i, bint opened, Py_ssize_t stop,
                               int* how) noexcept nogil:
    """Scan the array of annotation objects at s[i] (its '[', or with opened the start of
    one of its elements), up to its end or, with stop >= 0, to the first element that starts
    at or after stop (*how says which); -1 if invalid."""
    cdef const unsigned char* s = js.s
    cdef Py_ssize_t n = js.n
    how[0] = JA_CLOSED
    if not opened:
        if i >= n or s[i] != 91:
            return -1
        i = js_ws(s, i + 1, n)
        if i < n and s[i] == 93:
            return i + 1
    while True:
        if i >= n or s[i] != 123:
            return -1
        if 0 <= stop <= i:
            how[0] = JA_STOPPED
            return i
        i = js_annotation(js, i)
        if i < 0:
            return -1
        i = js_ws(s, i, n)
        if i >= n:
            return -1
        if s[i] == 93:
            return i + 1
        if s[i] != 44:
            return -1
        i = js_ws(s, i + 1, n)


cdef Py_ssize_t js_element_after(const unsigned char* s, Py_ssize_t i, Py_ssize_t n,
                                 Py_ssize_t limit) noexcept nogil:
    """The first position p >= i, below i + limit, where '}' ',' '{' '"' (with whitespace
    between) puts p at what looks like the start of an element of an array of objects: a
    guess, which only a scan from the array's start can confirm; -1 if none."""
    cdef const unsigned char* hit
    cdef Py_ssize_t p, q, end = i + limit if i + limit < n else n
    while i < end:
        hit = <const unsigned char*>memchr(s + i, 123, end - i)
        if hit == NULL:
            return -1
        p = hit - s
        i = p + 1
        q = js_ws_back(s, p - 1)
        if q < 1 or s[q] != 44:
            continue
        q = js_ws_back(s, q - 1)
        if q < 0 or s[q] != 125:
            continue
        q = js_ws(s, p + 1, n)
        if q < n and s[q] == 34:
            return p
    return -1


cdef int js_append(JScan* dst, JScan* src) noexcept nogil:
    """Append src's rows to dst's, as if dst had scanned them (columns dst lacks appear,
    zero for its rows; columns src lacks are zero for its rows)."""
    cdef Py_ssize_t k, w, total = dst.nrows + src.nrows
    cdef Py_ssize_t cap = dst.cap if dst.cap > total else total
    cdef JSlot* grown
    if src.nrows == 0:
        return 0
    for k in range(JS_NSLOTS):  # every column keeps room for cap rows, as js_store expects
        w = js_width(k)
        if w == 0 or (dst.cols[k] == NULL and src.cols[k] == NULL):
            continue
        if dst.cols[k] == NULL:
            dst.cols[k] = <JSlot*>calloc(cap * w, sizeof(JSlot))
            if dst.cols[k] == NULL:
                return -1
        elif dst.cap < cap:
            grown = <JSlot*>realloc(dst.cols[k], cap * w * sizeof(JSlot))
            if grown == NULL:
                return -1
            dst.cols[k] = grown
        if src.cols[k] != NULL:
            memcpy(dst.cols[k] + dst.nrows * w, src.cols[k], src.nrows * w * sizeof(JSlot))
        else:
            memset(dst.cols[k] + dst.nrows * w, 0, src.nrows * w * sizeof(JSlot))
    dst.cap = cap
    dst.nrows = total
    return 0


cdef void js_release(JScan* js) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(JS_NSLOTS):
        free(js.cols[k])
        js.cols[k] = NULL
    js.nrows = js.cap = 0


cdef class _JPart:
    """One part of an annotation array scanned on its own (in a thread of the caller's):
    from start (the array's '[' when opened is False, else taken to be an element's start)
    to the first element that starts at or after stop (-1: to the array's end)."""
    cdef JScan js
    cdef Py_ssize_t start, stop, end
    cdef int how
    cdef bint opened
    cdef bytes data

    def __cinit__(self, bytes data, Py_ssize_t start, Py_ssize_t stop, bint opened):
        memset(&self.js, 0, sizeof(JScan))
        self.data = data
        self.js.s = <const unsigned char*>PyBytes_AS_STRING(data)
        self.js.n = PyBytes_GET_SIZE(data)
        self.start, self.stop, self.end, self.how = start, stop, -1, JA_CLOSED
        self.opened = opened

    def run(self):
        with nogil:
            self.end = js_annotations(&self.js, self.start, self.opened, self.stop, &self.how)

    def __dealloc__(self):
        js_release(&self.js)


def _jparts_run(list jobs, Py_ssize_t a, Py_ssize_t b):
    cdef Py_ssize_t q
    for q in range(a, b):
        (<_JPart>jobs[q]).run()


cdef Py_ssize_t js_annotations_parts(JScan* js, bytes data, Py_ssize_t i, object runner,
                                     Py_ssize_t parts, Py_ssize_t min_bytes) except -2:
    """js_annotations of the array whose '[' is at s[i], into the empty js, in parts that
    runner(fn, k) scans in parallel (it calls fn(a, b) for slices of range(k)): the rows and
    the end are those of one scan from the start, whatever the guessed part starts turn out
    to be. Each part is scanned up to the start of the next; a part is used only where the
    scan before it ends exactly at its start (which makes that start an element's, found by
    the scan from the array's start); where one does not, the scan goes on by itself."""
    cdef Py_ssize_t n = js.n, k, start, j
    cdef int how = JA_CLOSED
    cdef _JPart part
    starts = [i]
    if runner is not None and parts > 1 and n - i >= 2 * min_bytes:
        for k in range(1, parts):
            start = js_element_after(js.s, i + (n - i) * k // parts, n, min_bytes)
            if start > starts[len(starts) - 1]:
                starts.append(start)
    if len(starts) == 1:
        with nogil:
            i = js_annotations(js, i, False, -1, &how)
        return i
    jobs = [_JPart(data, starts[j], starts[j + 1] if j + 1 < len(starts) else -1, j > 0)
            for j in range(len(starts))]
    runner(partial(_jparts_run, jobs), len(jobs))
    part = <_JPart>jobs[0]
    memcpy(js, &part.js, sizeof(JScan))  # the first part's rows become the scan's
    memset(&part.js, 0, sizeof(JScan))
    i, how = part.end, part.how
    for j in range(1, len(jobs)):
        if i < 0 or how == JA_CLOSED:
            return i
        part = <_JPart>jobs[j]
        if i != part.start or part.end < 0:
            break  # a wrong guess, or a failed part (the scan from a true start decides)
        if js_append(js, &part.js) < 0:
            return -1
        js_release(&part.js)
        i, how = part.end, part.how
    if i >= 0 and how == JA_STOPPED:
        with nogil:
            i = js_annotations(js, i, True, -1, &how)
    return i


def coco_json_scan(bytes data, bint results, object runner=None, Py_ssize_t parts=1,
                   Py_ssize_t min_bytes=1 << 20):
    """Scan a COCO dataset (results False) or results file (True) into annotation rows.

    With runner (``runner(fn, k)`` calls ``fn(a, b)`` over slices of ``range(k)``, in
    parallel) the annotation array is scanned in up to `parts` parts of at least
    `min_bytes` bytes each; the outcome is the same as without.

    Returns None when the document is outside what the scanner models exactly (the caller
    then parses it with json), else ``(columns, n, top)``: columns a dict from slot number to
    an int64 array of n values (double slots to be viewed as float64), holding only the
    slots some annotation fills (the others are all zero), and, for a dataset, top the list
    of its keys as ``(key, start, end)`` byte spans of their values (None for results)."""
    cdef JScan js
    cdef Py_ssize_t i, ks, ke, vs, k, w
    cdef object top = None
    cdef JSlot* grown
    cdef cvarray owner
    import numpy as np
    memset(&js, 0, sizeof(JScan))
    js.s = <const unsigned char*>PyBytes_AS_STRING(data)
    js.n = PyBytes_GET_SIZE(data)
    try:
        i = js_ws(js.s, 0, js.n)
        if results:
            i = js_annotations_parts(&js, data, i, runner, parts, min_bytes)
        else:
            top = []
            if i >= js.n or js.s[i] != 123:
                return None
            i = js_ws(js.s, i + 1, js.n)
            if i < js.n and js.s[i] == 125:
                i += 1
            else:
                while i >= 0:
                    vs = js_key(js.s, i, js.n, &ks, &ke)
                    if vs < 0:
                        return None
                    if ke - ks == 11 and memcmp(js.s + ks, b"annotations", 11) == 0:
                        if js.nrows or any(k == "annotations" for k, _, _ in top):
                            return None
                        i = js_annotations_parts(&js, data, vs, runner, parts, min_bytes)
                    else:
                        i = js_skip(js.s, vs, js.n, 1)
                    if i < 0:
                        return None
                    top.append((data[ks:ke].decode("utf-8"), vs, i))
                    i = js_ws(js.s, i, js.n)
                    if i < js.n and js.s[i] == 125:
                        i += 1
                        break
                    if i >= js.n or js.s[i] != 44:
                        return None
                    i = js_ws(js.s, i + 1, js.n)
        if i < 0 or js_ws(js.s, i, js.n) != js.n:
            return None
        columns = {}
        for k in range(JS_NSLOTS):
            if js.cols[k] == NULL or js.nrows == 0:
                continue
            # hand each column to numpy without a copy (copies of 100+ MB cost page faults)
            w = js_width(k)
            grown = <JSlot*>realloc(js.cols[k], js.nrows * w * sizeof(JSlot))
            if grown != NULL:
                js.cols[k] = grown
            if w == 1:
                owner = <int64_t[:js.nrows]> <int64_t*>js.cols[k]
            else:
                owner = <int64_t[:js.nrows, :4]> <int64_t*>js.cols[k]
            owner.callback_free_data = free
            js.cols[k] = NULL
            columns[k] = np.asarray(owner)
        return columns, js.nrows, top
    finally:
        for k in range(JS_NSLOTS):
            free(js.cols[k])


cdef Py_ssize_t js_number_list(const unsigned char* s, Py_ssize_t i, Py_ssize_t n,
                               double** out, Py_ssize_t* nout, Py_ssize_t* cap,
                               Py_ssize_t* count) noexcept nogil:
    """Append the numbers of the flat list at s[i] to out (count of them); the position
    after the list, -1 if the value is not a flat list of numbers, -2 when out of memory."""
    cdef bint is_int = False
    cdef double v
    cdef void* grown
    count[0] = 0
    if i >= n or s[i] != 91:
        return -1
    i = js_ws(s, i + 1, n)
    while i < n and s[i] != 93:
        i = js_value(s, i, n, &is_int, &v)
        if i < 0:
            return -1
        if nout[0] == cap[0]:
            cap[0] = cap[0] * 2 if cap[0] else 4096
            grown = realloc(out[0], cap[0] * sizeof(double))
            if grown == NULL:
                return -2
            out[0] = <double*>grown
        out[0][nout[0]] = v
        nout[0] += 1
        count[0] += 1
        i = js_ws(s, i, n)
        if i < n and s[i] == 44:
            i = js_ws(s, i + 1, n)
    return i + 1 if i < n else -1


cdef struct JLists:
    double* values      # the numbers of every list read
    Py_ssize_t nvalues, cap
    int64_t* ends       # polygons: where each part ends in values
    Py_ssize_t nends, endcap


cdef Py_ssize_t js_polygon_parts(const unsigned char* s, Py_ssize_t i, Py_ssize_t n,
                                 JLists* L) noexcept nogil:
    """Append the parts of the polygon list at s[i] ([[x, y, ...], ...], numbers only, the
    first part longer than 4) to L; the number of parts, -1 if it is not one, -2 when out of
    memory."""
    cdef Py_ssize_t parts = 0, count
    cdef void* grown
    if s[i] != 91:
        return -1
    i = js_ws(s, i + 1, n)
    while i < n and s[i] == 91:
        i = js_number_list(s, i, n, &L.values, &L.nvalues, &L.cap, &count)
        if i < 0:
            return i
        if parts == 0 and count <= 4:
            return -1  # frPyObjects would not read it as polygons
        if L.nends == L.endcap:
            L.endcap = L.endcap * 2 if L.endcap else 1024
            grown = realloc(L.ends, L.endcap * sizeof(int64_t))
            if grown == NULL:
                return -2
            L.ends = <int64_t*>grown
        L.ends[L.nends] = L.nvalues
        L.nends += 1
        parts += 1
        i = js_ws(s, i, n)
        if i < n and s[i] == 44:
            i = js_ws(s, i + 1, n)
            if i >= n or s[i] != 91:
                return -1
    if parts == 0 or i >= n or s[i] != 93:
        return -1
    return parts


cdef object js_read_lists(bytes data, const int64_t[::1] starts, const int64_t[::1] ends,
                          bint polygons):
    """Read every span as polygons or as a flat number list (see the two entry points)."""
    cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data), j, m = starts.shape[0], k
    cdef Py_ssize_t mark_v, mark_e, rc, span = 0
    cdef JLists L
    cdef int64_t[::1] counts_v
    cdef cvarray owner
    cdef void* grown
    cdef int64_t[::1] offsets_v
    import numpy as np
    if ends.shape[0] != m:
        raise ValueError("starts and ends differ in length")
    memset(&L, 0, sizeof(JLists))
    counts = np.empty(m, dtype=np.int64)
    counts_v = counts
    try:
        for j in range(m):
            if not (0 <= starts[j] < ends[j] <= n):
                raise ValueError("span out of range")
            span += ends[j] - starts[j]
        # a number and its separator take two bytes or more: room for every number at once
        # (pages never written are never resident), handed to numpy without a copy
        L.cap = span // 2 + 1
        L.values = <double*>malloc(L.cap * sizeof(double))
        if L.values == NULL:
            raise MemoryError()
        with nogil:  # (callers read parts of the spans in parallel)
            for j in range(m):
                mark_v, mark_e = L.nvalues, L.nends
                if polygons:
                    k = js_polygon_parts(s, starts[j], ends[j], &L)
                else:
                    rc = js_number_list(s, starts[j], ends[j], &L.values, &L.nvalues, &L.cap,
                                        &k)
                    if rc < 0:
                        k = rc
                if k == -2:
                    break
                if k < 0:
                    L.nvalues, L.nends = mark_v, mark_e
                counts_v[j] = k
        if m and k == -2:
            raise MemoryError()
        if L.nvalues:
            grown = realloc(L.values, L.nvalues * sizeof(double))
            if grown != NULL:
                L.values = <double*>grown
            owner = <double[:L.nvalues]> L.values
            owner.callback_free_data = free
            L.values = NULL
            values = np.asarray(owner)
        else:
            values = np.empty(0, dtype=np.float64)
        if not polygons:
            return values, counts
        offsets = np.zeros(L.nends + 1, dtype=np.int64)
        if L.nends:
            offsets_v = offsets
            memcpy(&offsets_v[1], L.ends, L.nends * sizeof(int64_t))
        return values, offsets, counts
    finally:
        free(L.values)
        free(L.ends)


def coco_json_polygons(bytes data, const int64_t[::1] starts, const int64_t[::1] ends):
    """Polygon segmentations of scanned spans data[starts[j]:ends[j]] as flat coordinates.

    Returns ``(xy, off, nparts)``: float64 coordinates, the int64 offsets of the parts (part
    p is xy[off[p]:off[p+1]], off[0] = 0), and per span its number of parts, or -1 where the
    span is not a list of number lists whose first has more than 4 numbers (read those the
    ordinary way). Spans come from coco_json_scan on the same data."""
    return js_read_lists(data, starts, ends, True)


def coco_json_number_lists(bytes data, const int64_t[::1] starts, const int64_t[::1] ends):
    """Flat number lists (keypoints) at scanned spans data[starts[j]:ends[j]].

    Returns ``(values, counts)``: the float64 numbers of every list in order, and per span
    its length, or -1 where the span is not a flat list of numbers (read those the ordinary
    way; they add nothing to values)."""
    return js_read_lists(data, starts, ends, False)


cdef struct JChars:
    char* data
    Py_ssize_t n, cap


cdef int js_put(JChars* b, char c) noexcept nogil:
    cdef void* grown
    if b.n == b.cap:
        b.cap = b.cap * 2 if b.cap else 1 << 16
        grown = realloc(b.data, b.cap)
        if grown == NULL:
            return -2
        b.data = <char*>grown
    b.data[b.n] = c
    b.n += 1
    return 0


cdef inline int js_hexval(unsigned char c) noexcept nogil:
    if js_digit(c):
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    return c - 55


cdef int js_rle(const unsigned char* s, Py_ssize_t i, Py_ssize_t n, JChars* out,
                int64_t* h, int64_t* w) noexcept nogil:
    """Read the compressed RLE object at s[i] ({"size": [h, w], "counts": "..."} in either
    order, nothing else): its counts string unescaped into out, its size into h, w. 0, -1 if
    the value is not exactly that (an escape that is not ASCII, a float size...), -2 when
    out of memory."""
    cdef Py_ssize_t ks, ke, a
    cdef int seen = 0, rc
    cdef bint is_int = False
    cdef int64_t dims[2]
    cdef int k, v
    cdef unsigned char c
    if s[i] != 123:
        return -1
    i = js_ws(s, i + 1, n)
    while i < n and s[i] == 34:
        i = js_key(s, i, n, &ks, &ke)
        if i < 0:
            return -1
        if ke - ks == 4 and memcmp(s + ks, b"size", 4) == 0 and not seen & 1:
            seen |= 1
            if s[i] != 91:
                return -1
            i = js_ws(s, i + 1, n)
            for k in range(2):
                a = i
                i = js_number(s, i, n, &is_int)
                if i < 0 or not is_int or js_int(s, a, i, &dims[k]) < 0 or dims[k] < 0:
                    return -1
                i = js_ws(s, i, n)
                if i >= n or s[i] != (44 if k == 0 else 93):
                    return -1
                i = js_ws(s, i + 1, n)
            h[0], w[0] = dims[0], dims[1]
        elif ke - ks == 6 and memcmp(s + ks, b"counts", 6) == 0 and not seen & 2:
            seen |= 2
            if s[i] != 34:
                return -1
            i += 1
            while i < n and s[i] != 34:
                c = s[i]
                if c >= 0x80:
                    return -1
                if c == 92:
                    if i + 1 >= n:
                        return -1
                    c = s[i + 1]
                    if c == 117:  # \uXXXX of an ASCII character
                        if i + 5 >= n:
                            return -1
                        v = 0
                        for k in range(2, 6):
                            if not js_hex(s[i + k]):
                                return -1
                            v = v * 16 + js_hexval(s[i + k])
                        if v >= 0x80:
                            return -1
                        c = <unsigned char>v
                        i += 6
                    elif c == 34 or c == 92 or c == 47:
                        i += 2
                    else:
                        return -1
                else:
                    i += 1
                rc = js_put(out, <char>c)
                if rc < 0:
                    return rc
            i = js_ws(s, i + 1, n)
        else:
            return -1
        if i < n and s[i] == 44:
            i = js_ws(s, i + 1, n)
    return 0 if seen == 3 and i < n and s[i] == 125 else -1


def coco_json_rles(bytes data, const int64_t[::1] starts, const int64_t[::1] ends):
    """Compressed RLE objects at scanned spans data[starts[j]:ends[j]] (string counts).

    Returns ``(chars, off, h, w, ok)``: the unescaped counts strings of the spans one after
    the other in ``chars`` (span j's at chars[off[j]:off[j+1]]), their sizes, and ok[j] == 0
    where the span is not exactly such an object (read those the ordinary way)."""
    cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data), j, m = starts.shape[0], mark
    cdef JChars out
    cdef int rc
    cdef int64_t hh = 0, ww = 0
    cdef int64_t[::1] off_v, h_v, w_v
    cdef uint8_t[::1] ok_v
    import numpy as np
    if ends.shape[0] != m:
        raise ValueError("starts and ends differ in length")
    memset(&out, 0, sizeof(JChars))
    off = np.zeros(m + 1, dtype=np.int64)
    hs = np.zeros(m, dtype=np.int64)
    ws = np.zeros(m, dtype=np.int64)
    ok = np.zeros(m, dtype=np.uint8)
    off_v, h_v, w_v, ok_v = off, hs, ws, ok
    rc = 0
    try:
        for j in range(m):
            if not (0 <= starts[j] < ends[j] <= n):
                raise ValueError("span out of range")
        with nogil:  # (callers read parts of the spans in parallel)
            for j in range(m):
                mark = out.n
                rc = js_rle(s, starts[j], ends[j], &out, &hh, &ww)
                if rc == -2:
                    break
                if rc < 0:
                    out.n = mark
                else:
                    ok_v[j] = 1
                    h_v[j], w_v[j] = hh, ww
                off_v[j + 1] = out.n
        if rc == -2:
            raise MemoryError()
        return PyBytes_FromStringAndSize(out.data, out.n), off, hs, ws, ok
    finally:
        free(out.data)

#: the row layout of coco_json_scan, for the Python side (maskcodecs._coco_scan)
COCO_JSON_LAYOUT = {
    "id": JS_ID, "image_id": JS_IMAGE_ID, "category_id": JS_CATEGORY_ID, "area": JS_AREA,
    "iscrowd": JS_ISCROWD, "score": JS_SCORE, "num_keypoints": JS_NUM_KEYPOINTS,
    "bbox": JS_BBOX, "segmentation": JS_SEG, "keypoints": JS_KP, "meta": JS_META,
    "nslots": JS_NSLOTS, "bit_bbox": JF_BBOX, "bit_segmentation": JF_SEGMENTATION,
    "bit_keypoints": JF_KEYPOINTS, "bit_caption": JF_CAPTION,
}

# Part of _rle_core.pyx: PNG scanline reconstruction (the "unfilter" step of decoding).
#
# The Python side (maskcodecs._png) parses and checks the chunks and inflates the image data
# with the standard zlib module; this part undoes the per-row filters of PNG (None, Sub, Up,
# Average, Paeth) into a caller's buffer. Input and output sizes are checked by the wrapper,
# so the loop never reads or writes past either buffer.


cdef inline uint8_t paeth(int a, int b, int c) noexcept nogil:
    """The Paeth predictor: whichever of left, up, up-left is closest to left + up - up-left
    (ties prefer left, then up)."""
    cdef int pa = b - c, pb = a - c, pc
    pc = pa + pb
    if pa < 0:
        pa = -pa
    if pb < 0:
        pb = -pb
    if pc < 0:
        pc = -pc
    if pa <= pb and pa <= pc:
        return <uint8_t>a
    if pb <= pc:
        return <uint8_t>b
    return <uint8_t>c


cdef inline void store64(uint8_t* p, uint64_t v) noexcept nogil:
    memcpy(p, &v, 8)


cdef void sub_row1(const uint8_t* s, uint8_t* d, Py_ssize_t rb) noexcept nogil:
    """Sub filter, one byte per pixel: a running sum carried in a register; eight zero
    residuals in a row repeat the last byte."""
    cdef Py_ssize_t i = 1
    cdef uint8_t a = s[0]
    d[0] = a
    while i < rb:
        if i + 8 <= rb and load64(s + i) == 0:
            store64(d + i, ONES8 * a)
            i += 8
            continue
        a = <uint8_t>(a + s[i])
        d[i] = a
        i += 1


cdef void avg_row1(const uint8_t* s, const uint8_t* up, uint8_t* d,
                   Py_ssize_t rb) noexcept nogil:
    """Average filter, one byte per pixel, the left byte carried in a register."""
    cdef Py_ssize_t i
    cdef uint8_t a = <uint8_t>(s[0] + (up[0] >> 1))
    d[0] = a
    for i in range(1, rb):
        a = <uint8_t>(s[i] + ((<int>a + <int>up[i]) >> 1))
        d[i] = a


cdef void paeth_row1(const uint8_t* s, const uint8_t* up, uint8_t* d,
                     Py_ssize_t rb) noexcept nogil:
    """Paeth filter, one byte per pixel. Where the row above is flat (up-left == up) the
    predictor is the left byte, so eight zero residuals over a flat stretch repeat it."""
    cdef Py_ssize_t i = 1
    cdef uint8_t a = <uint8_t>(s[0] + up[0])
    d[0] = a
    while i < rb:
        if i + 8 <= rb and load64(s + i) == 0 and load64(up + i) == load64(up + i - 1):
            store64(d + i, ONES8 * a)
            i += 8
            continue
        a = <uint8_t>(s[i] + paeth(a, up[i], up[i - 1]))
        d[i] = a
        i += 1


cdef inline void repeat8(uint8_t* d, Py_ssize_t bpp) noexcept nogil:
    """d[0:8] continue the period-`bpp` pattern of the bytes before d."""
    cdef int k
    for k in range(8):
        d[k] = d[k - bpp]


cdef void sub_row(const uint8_t* s, uint8_t* d, Py_ssize_t rb, Py_ssize_t bpp) noexcept nogil:
    """Sub filter, several bytes per pixel; eight zero residuals repeat the pixel pattern."""
    cdef Py_ssize_t i
    for i in range(min(bpp, rb)):
        d[i] = s[i]
    i = bpp
    while i < rb:
        if i + 8 <= rb and load64(s + i) == 0:
            repeat8(d + i, bpp)
            i += 8
            continue
        d[i] = <uint8_t>(s[i] + d[i - bpp])
        i += 1


cdef void paeth_row(const uint8_t* s, const uint8_t* up, uint8_t* d, Py_ssize_t rb,
                    Py_ssize_t bpp) noexcept nogil:
    """Paeth filter, several bytes per pixel. Where the row above repeats its previous pixel
    (up-left == up) the predictor is the left byte, so eight zero residuals there repeat the
    pixel pattern."""
    cdef Py_ssize_t i
    for i in range(min(bpp, rb)):
        d[i] = <uint8_t>(s[i] + up[i])
    i = bpp
    while i < rb:
        if i + 8 <= rb and load64(s + i) == 0 and load64(up + i) == load64(up + i - bpp):
            repeat8(d + i, bpp)
            i += 8
            continue
        d[i] = <uint8_t>(s[i] + paeth(d[i - bpp], up[i], up[i - bpp]))
        i += 1


cdef Py_ssize_t unfilter_rows(const uint8_t* src, uint8_t* out, Py_ssize_t h,
                              Py_ssize_t rb, Py_ssize_t bpp, const uint8_t* zeros) noexcept nogil:
    """Rows of `rb` bytes, each preceded by its filter byte in `src`, into `out` (h * rb).
    `zeros` is rb zero bytes (the row above the first). Returns -1, or the first row whose
    filter byte is not 0..4."""
    cdef Py_ssize_t y, i
    cdef const uint8_t* s
    cdef const uint8_t* up
    cdef uint8_t* d
    cdef uint8_t f
    for y in range(h):
        f = src[y * (rb + 1)]
        s = src + y * (rb + 1) + 1
        d = out + y * rb
        up = zeros if y == 0 else d - rb
        if f == 0:
            memcpy(d, s, rb)
        elif f == 2:
            for i in range(rb):
                d[i] = <uint8_t>(s[i] + up[i])
        elif f == 1 and bpp == 1:
            sub_row1(s, d, rb)
        elif f == 4 and bpp == 1:
            paeth_row1(s, up, d, rb)
        elif f == 3 and bpp == 1:
            avg_row1(s, up, d, rb)
        elif f == 1:
            sub_row(s, d, rb, bpp)
        elif f == 3:
            for i in range(min(bpp, rb)):
                d[i] = <uint8_t>(s[i] + (up[i] >> 1))
            for i in range(bpp, rb):
                d[i] = <uint8_t>(s[i] + ((<int>d[i - bpp] + <int>up[i]) >> 1))
        elif f == 4:
            paeth_row(s, up, d, rb, bpp)
        else:
            return y
    return -1


def png_unfilter(const uint8_t[::1] src, uint8_t[::1] out, Py_ssize_t h, Py_ssize_t rb,
                 Py_ssize_t bpp):
    """Undo the PNG row filters of `src` (h rows of 1 + rb bytes) into `out` (h * rb bytes),
    `bpp` bytes per complete pixel (at least 1). Returns -1, or the index of the first row with
    an unknown filter type (`out` is then partly written)."""
    cdef Py_ssize_t r = -1
    cdef uint8_t* zeros
    if h < 0 or rb < 1 or bpp < 1 or bpp > 8:
        raise ValueError("png_unfilter: bad geometry")
    if src.shape[0] != h * (rb + 1) or out.shape[0] != h * rb:
        raise ValueError("png_unfilter: buffer sizes do not match the geometry")
    if h == 0:
        return -1
    zeros = <uint8_t*>calloc(rb, 1)
    if zeros == NULL:
        raise MemoryError()
    with nogil:
        r = unfilter_rows(&src[0], &out[0], h, rb, bpp, zeros)
    free(zeros)
    return r

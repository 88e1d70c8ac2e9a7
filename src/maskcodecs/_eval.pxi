# ---------------------------------------------------------------------------------------------
# COCO evaluation (maskcodecs.cocoeval): per-cell IoU, matching and accumulation
# ---------------------------------------------------------------------------------------------
# A "cell" is one (category, image) pair of pycocotools' evaluate(), numbered category-major
# (cell = k * I + i), the order of its evalImgs; only cells that hold an annotation are laid
# out (in that order), so the arrays below are indexed by a cell's position among them. The Python layer lays the annotations out so
# that the ground truths of cell c are gts[goff[c]:goff[c+1]] in pycocotools' _prepare order
# and its detections dts[doff[c]:doff[c+1]] in descending score order (stable, NaN last, as
# numpy's argsort of -score with kind='mergesort'); only the first dlen[c] detections (the
# maxDets[-1] cut) are scored. IoU matrices are row-major (detection, ground truth), cell c's
# at ious[ioff[c]:ioff[c+1]]. Every arithmetic step repeats pycocotools' in the same order, so
# the results are equal to the last bit (the build never contracts a*b+c into an FMA).

cdef double EPS = 2.220446049250313e-16      # np.spacing(1)
cdef double MAX_IOU_THR = 1 - 1e-10          # min(t, 1 - 1e-10) in evaluateImg

cdef enum:
    ST_FP = 0        # a detection that matched nothing (or a ground truth with id 0)
    ST_TP = 1
    ST_IGNORED = 2   # matched an ignored ground truth, or unmatched and outside the area range
    ST_MIXED = 3     # (summary only) codes that differ between thresholds


cdef inline bint score_before(double a, double b) noexcept nogil:
    """True when score a sorts strictly before score b: -a < -b, NaN last."""
    cdef double ka = -a, kb = -b
    return ka < kb or (kb != kb and ka == ka)


cdef void stable_sort_desc(int64_t* idx, Py_ssize_t n, const double* score,
                           int64_t* tmp) noexcept nogil:
    """Stable sort of idx[0:n] by descending score[idx[i]] (NaN last); tmp holds n items."""
    cdef Py_ssize_t i, j, width, lo, mid, hi, a, b, k
    cdef int64_t v
    if n <= 24:
        for i in range(1, n):
            v = idx[i]
            j = i
            while j > 0 and score_before(score[v], score[idx[j - 1]]):
                idx[j] = idx[j - 1]
                j -= 1
            idx[j] = v
        return
    # bottom-up merge sort over runs of 16 sorted by insertion
    lo = 0
    while lo < n:
        hi = lo + 16 if lo + 16 < n else n
        for i in range(lo + 1, hi):
            v = idx[i]
            j = i
            while j > lo and score_before(score[v], score[idx[j - 1]]):
                idx[j] = idx[j - 1]
                j -= 1
            idx[j] = v
        lo = hi
    width = 16
    while width < n:
        lo = 0
        while lo < n:
            mid = lo + width if lo + width < n else n
            hi = lo + 2 * width if lo + 2 * width < n else n
            a = lo
            b = mid
            k = lo
            while a < mid and b < hi:
                if score_before(score[idx[b]], score[idx[a]]):
                    tmp[k] = idx[b]
                    b += 1
                else:
                    tmp[k] = idx[a]
                    a += 1
                k += 1
            while a < mid:
                tmp[k] = idx[a]
                a += 1
                k += 1
            while b < hi:
                tmp[k] = idx[b]
                b += 1
                k += 1
            lo = hi
        memcpy(idx, tmp, n * sizeof(int64_t))
        width *= 2


cdef inline uint64_t desc_key(double score) noexcept nogil:
    """An integer that orders as score_before: ascending keys are descending scores, equal
    scores (0.0 and -0.0 too) equal keys, NaN last."""
    cdef double x = -score
    cdef uint64_t u
    if x != x:
        return 0xFFFFFFFFFFFFFFFF
    if x == 0:
        x = 0.0
    memcpy(&u, &x, 8)
    return ~u if u >> 63 else u | (<uint64_t>1) << 63


cdef void merge_runs_desc(int64_t* idx, const uint64_t* key, int64_t* tmp, int64_t* runs,
                          Py_ssize_t nruns) noexcept nogil:
    """Stable sort of idx[0:runs[nruns]] by ascending key[idx[i]] (desc_key), where each
    idx[runs[j]:runs[j + 1]] is already in that order: adjacent runs merged pairwise, left
    first on ties, n log(nruns) steps. runs (nruns + 1 starts, the last the end) is spent.
    The merge step selects without a branch: which side goes next is unpredictable."""
    cdef Py_ssize_t j, w, lo, mid, hi, a, b, k
    cdef int64_t ia, ib
    cdef bint take_b
    while nruns > 1:
        w = 0
        j = 0
        while j < nruns:
            lo = runs[j]
            if j + 1 == nruns:  # an odd run out waits for the next round
                runs[w] = lo
                w += 1
                break
            mid = runs[j + 1]
            hi = runs[j + 2]
            if key[idx[mid]] < key[idx[mid - 1]]:  # else the two are in order already
                a = lo
                b = mid
                k = lo
                while a < mid and b < hi:
                    ia = idx[a]
                    ib = idx[b]
                    take_b = key[ib] < key[ia]
                    tmp[k] = ib if take_b else ia
                    b += take_b
                    a += 1 - take_b
                    k += 1
                if a < mid:
                    memcpy(&tmp[k], &idx[a], (mid - a) * sizeof(int64_t))
                # (a tail of the right run is in place already)
                memcpy(&idx[lo], &tmp[lo], (k + mid - a - lo) * sizeof(int64_t))
            runs[w] = lo
            w += 1
            j += 2
        runs[w] = runs[nruns]
        nruns = w


def eval_group(const int64_t[::1] cells, Py_ssize_t C):
    """numpy's argsort(cells, kind='stable') for cell positions in [0, C), by counting in
    linear time, and the offsets of each cell's run in it: ``(perm, off)``, int64, off of
    length C + 1. ValueError for a position outside [0, C)."""
    cdef Py_ssize_t n = cells.shape[0], i, c
    import numpy as np
    if C < 0:
        raise ValueError("eval_group: negative cell count")
    perm = np.empty(n, dtype=np.int64)
    off = np.zeros(C + 1, dtype=np.int64)
    cdef int64_t[::1] p = perm
    cdef int64_t[::1] o = off
    cdef int64_t* at = <int64_t*>malloc((C + 1) * sizeof(int64_t))
    if at == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(n):
                c = cells[i]
                if c < 0 or c >= C:
                    break
                o[c + 1] += 1
            else:
                for c in range(C):
                    o[c + 1] += o[c]
                memcpy(at, &o[0], C * sizeof(int64_t))
                for i in range(n):
                    c = cells[i]
                    p[at[c]] = i
                    at[c] += 1
                i = -1
        if i >= 0:
            raise ValueError(f"eval_group: cell position {cells[i]} outside [0, {C})")
    finally:
        free(at)
    return perm, off


def eval_sort_cells(const int64_t[::1] off, const double[::1] score, int64_t[::1] perm):
    """Sort each range perm[off[c]:off[c+1]] by descending score of its entries (stable)."""
    cdef Py_ssize_t C = off.shape[0] - 1, c, big = 0
    cdef int64_t* tmp
    for c in range(C):
        if off[c + 1] - off[c] > big:
            big = off[c + 1] - off[c]
    tmp = <int64_t*>malloc((big + 1) * sizeof(int64_t))
    if tmp == NULL:
        raise MemoryError()
    with nogil:
        for c in range(C):
            if off[c + 1] - off[c] > 1:
                stable_sort_desc(&perm[off[c]], off[c + 1] - off[c], &score[0], tmp)
    free(tmp)


def eval_argsort_desc(const double[::1] score):
    """numpy's argsort(-score, kind='mergesort') as an int64 array (used by tests and the
    slow per-cell paths)."""
    cdef Py_ssize_t n = score.shape[0], i
    out = bytearray(8 * n)
    cdef int64_t[::1] idx = memoryview(out).cast("q")
    cdef int64_t* tmp = <int64_t*>malloc((n + 1) * sizeof(int64_t))
    if tmp == NULL:
        raise MemoryError()
    for i in range(n):
        idx[i] = i
    if n:
        with nogil:
            stable_sort_desc(&idx[0], n, &score[0], tmp)
    free(tmp)
    return out


# -- IoU of every cell -------------------------------------------------------------------------

def eval_box_iou(const double[:, ::1] gbox, const int64_t[::1] gsel,
                 const double[:, ::1] dbox, const int64_t[::1] dsel,
                 const uint8_t[::1] gcrowd, const int64_t[::1] goff, const int64_t[::1] doff,
                 const int64_t[::1] dlen, const int64_t[::1] ioff, double[::1] out,
                 Py_ssize_t c0, Py_ssize_t c1):
    """Box IoU (pycocotools bbIou) of cells c0..c1-1 into out. The box of the j-th ground
    truth of the layout is gbox[gsel[j]] (of detection j, dbox[dsel[j]]): the boxes are read
    where they are, not gathered first."""
    cdef Py_ssize_t c, d, g, G, D, C = goff.shape[0] - 1
    cdef double* o
    if gbox.shape[1] != 4 or dbox.shape[1] != 4 or c0 < 0 or c1 > C or \
            doff.shape[0] < C + 1 or dlen.shape[0] < C or ioff.shape[0] < C + 1 or \
            gcrowd.shape[0] < goff[C] or gsel.shape[0] < goff[C]:
        raise ValueError("eval_box_iou: arrays of the wrong shape")
    for c in range(c0, c1):  # every index the loop below follows stays inside its array
        G = goff[c + 1] - goff[c]
        D = dlen[c]
        if G == 0 or D == 0:
            continue
        if G < 0 or D < 0 or goff[c] < 0 or doff[c] < 0 or doff[c] + D > dsel.shape[0] or \
                ioff[c] < 0 or ioff[c] + D * G > out.shape[0]:
            raise ValueError("eval_box_iou: a cell outside its arrays")
        for d in range(D):
            if not 0 <= dsel[doff[c] + d] < dbox.shape[0]:
                raise ValueError("eval_box_iou: a detection index out of range")
        for g in range(G):
            if not 0 <= gsel[goff[c] + g] < gbox.shape[0]:
                raise ValueError("eval_box_iou: a ground-truth index out of range")
    with nogil:
        for c in range(c0, c1):
            G = goff[c + 1] - goff[c]
            if G == 0 or dlen[c] == 0:
                continue
            o = &out[ioff[c]]
            for d in range(dlen[c]):
                for g in range(G):
                    o[d * G + g] = box_iou(&dbox[dsel[doff[c] + d], 0],
                                           &gbox[gsel[goff[c] + g], 0],
                                           gcrowd[goff[c] + g] != 0)


cdef struct CellRles:
    # the parsed RLEs of one side of one cell; buffers kept and grown from cell to cell, so
    # that they stay in cache and no page is mapped afresh per cell
    Parsed p
    uint64_t* hs
    uint64_t* ws
    Py_ssize_t cap_ends
    Py_ssize_t cap_n


cdef void cell_rles_free(CellRles* c) noexcept nogil:
    free(c.p.ends)
    free(c.p.off)
    free(c.p.bb)
    free(c.p.area)
    free(c.hs)
    free(c.ws)
    memset(c, 0, sizeof(CellRles))


cdef int cell_rles_parse(CellRles* c, const uint8_t** ptr, const Py_ssize_t* length,
                         const uint64_t* H, const uint64_t* W, const int64_t* idx,
                         Py_ssize_t n, U32Buf* buf) noexcept nogil:
    """Parse RLEs idx[0:n] of the strings into c (parse_all's results, for these only)."""
    cdef Py_ssize_t i, j, total = 0, m
    cdef void* q
    for i in range(n):
        total += length[idx[i]]
    if total + 1 > c.cap_ends:
        q = realloc(c.p.ends, (total + 1) * sizeof(uint64_t))
        if q == NULL:
            return ERR_NOMEM
        c.p.ends = <uint64_t*>q
        c.cap_ends = total + 1
    if n + 1 > c.cap_n:
        c.cap_n = 2 * (n + 1)
        c.p.off = <Py_ssize_t*>realloc(c.p.off, c.cap_n * sizeof(Py_ssize_t))
        c.p.bb = <double*>realloc(c.p.bb, 4 * c.cap_n * sizeof(double))
        c.p.area = <uint64_t*>realloc(c.p.area, c.cap_n * sizeof(uint64_t))
        c.hs = <uint64_t*>realloc(c.hs, c.cap_n * sizeof(uint64_t))
        c.ws = <uint64_t*>realloc(c.ws, c.cap_n * sizeof(uint64_t))
        if c.p.off == NULL or c.p.bb == NULL or c.p.area == NULL or c.hs == NULL or \
                c.ws == NULL:
            return ERR_NOMEM  # (a failed realloc leaks its old block: out of memory anyway)
    c.p.h = c.hs
    c.p.w = c.ws
    c.p.off[0] = 0
    for i in range(n):
        j = idx[i]
        c.hs[i] = H[j]
        c.ws[i] = W[j]
        m = parse_one(ptr[j], length[j], H[j], W[j], buf, c.p.ends + c.p.off[i],
                      c.p.bb + 4 * i, c.p.area + i)
        if m < 0:
            return <int>m
        c.p.off[i + 1] = c.p.off[i] + m
    return 0


def eval_rle_iou_cells(_Strings sd, _Strings sg, const int64_t[::1] gidx,
                       const int64_t[::1] didx, const uint8_t[::1] gcrowd,
                       const int64_t[::1] goff, const int64_t[::1] doff,
                       const int64_t[::1] dlen, const int64_t[::1] ioff, double[::1] out,
                       Py_ssize_t c0, Py_ssize_t c1):
    """Mask IoU (pycocotools rleIou) of cells c0..c1-1, each cell's RLEs parsed when it is
    reached (every RLE belongs to one cell, so each is parsed once, into buffers reused from
    cell to cell): the strings of the scored detections in sd and ground truth in sg,
    gidx/didx giving each annotation's position there. Returns 0, or the error code of an
    invalid string (the caller then parses them all to raise the error in order)."""
    cdef Py_ssize_t c, d, g, G, D
    cdef int rc = 0
    cdef double* o
    cdef CellRles dp
    cdef CellRles gp
    cdef U32Buf buf
    cdef Py_ssize_t C = goff.shape[0] - 1
    if c0 < 0 or c1 > C or doff.shape[0] < C + 1 or dlen.shape[0] < C or \
            ioff.shape[0] < C + 1 or gcrowd.shape[0] < goff[C] or gidx.shape[0] < goff[C]:
        raise ValueError("eval_rle_iou_cells: arrays too small")
    for c in range(c0, c1):  # every index the loop below follows stays inside its array
        G = goff[c + 1] - goff[c]
        D = dlen[c]
        if G == 0 or D == 0:
            continue
        if G < 0 or D < 0 or goff[c] < 0 or doff[c] < 0 or doff[c] + D > didx.shape[0] or \
                ioff[c] < 0 or ioff[c] + D * G > out.shape[0]:
            raise ValueError("eval_rle_iou_cells: a cell outside its arrays")
        for d in range(D):
            if not 0 <= didx[doff[c] + d] < sd.n:
                raise ValueError("eval_rle_iou_cells: a detection index out of range")
        for g in range(G):
            if not 0 <= gidx[goff[c] + g] < sg.n:
                raise ValueError("eval_rle_iou_cells: a ground-truth index out of range")
    memset(&dp, 0, sizeof(CellRles))
    memset(&gp, 0, sizeof(CellRles))
    memset(&buf, 0, sizeof(U32Buf))
    with nogil:
        for c in range(c0, c1):
            G = goff[c + 1] - goff[c]
            D = dlen[c]
            if G == 0 or D == 0:
                continue
            rc = cell_rles_parse(&dp, sd.ptr, sd.length, sd.h, sd.w, &didx[doff[c]], D, &buf)
            if rc < 0:
                break
            rc = cell_rles_parse(&gp, sg.ptr, sg.length, sg.h, sg.w, &gidx[goff[c]], G, &buf)
            if rc < 0:
                break
            o = &out[ioff[c]]
            for d in range(D):
                for g in range(G):
                    o[d * G + g] = rle_pair_iou(&dp.p, d, &gp.p, g, gcrowd[goff[c] + g] != 0)
        cell_rles_free(&dp)
        cell_rles_free(&gp)
        free(buf.data)
    return rc


def rle_strings(list rles):
    """The counts strings and sizes of RLE dicts, for eval_rle_iou_cells."""
    return _unpack(rles)


def rle_strings_from_chars(bytes chars, const int64_t[::1] off, const int64_t[::1] h,
                           const int64_t[::1] w, const int64_t[::1] rows):
    """The counts strings chars[off[j]:off[j+1]] (size h[j], w[j]) of rows j, for
    eval_rle_iou_cells, without a Python object per string (coco_json_rles's output)."""
    cdef _Strings st = _Strings()
    cdef Py_ssize_t i, j, n = rows.shape[0], m = h.shape[0]
    cdef const uint8_t* base = <const uint8_t*>PyBytes_AS_STRING(chars)
    if off.shape[0] != m + 1 or w.shape[0] != m or off[m] > PyBytes_GET_SIZE(chars):
        raise ValueError("rle_strings_from_chars: arrays of the wrong shape")
    st.keep.append(chars)
    st.ptr = <const uint8_t**>malloc((n + 1) * sizeof(uint8_t*))
    st.length = <Py_ssize_t*>malloc((n + 1) * sizeof(Py_ssize_t))
    st.h = <uint64_t*>malloc((n + 1) * sizeof(uint64_t))
    st.w = <uint64_t*>malloc((n + 1) * sizeof(uint64_t))
    if st.ptr == NULL or st.length == NULL or st.h == NULL or st.w == NULL:
        raise MemoryError()
    for i in range(n):
        j = rows[i]
        if not (0 <= j < m) or off[j] < 0 or off[j] > off[j + 1] or \
                off[j + 1] > PyBytes_GET_SIZE(chars) or h[j] < 0 or w[j] < 0:
            raise ValueError(f"rle_strings_from_chars: row {j} out of range")
        st.ptr[i] = base + off[j]
        st.length[i] = off[j + 1] - off[j]
        st.h[i] = <uint64_t>h[j]
        st.w[i] = <uint64_t>w[j]
    st.n = n
    return st


def polygons_to_strings_sized(const double[::1] xy, const int64_t[::1] starts,
                              const int64_t[::1] ends, const int64_t[::1] hs,
                              const int64_t[::1] ws, Py_ssize_t p0, Py_ssize_t p1):
    """Counts strings of polygons p0..p1-1, polygon i being xy[starts[i]:ends[i]] (x0, y0,
    x1, y1, ...) rasterised at its own size (hs[i], ws[i]): pycocotools' frPoly, for the
    ground truth of many image sizes in one call (parts of the range in parallel)."""
    cdef Py_ssize_t n = starts.shape[0], i
    if ends.shape[0] != n or hs.shape[0] != n or ws.shape[0] != n or p0 < 0 or p1 > n or \
            p0 > p1:
        raise ValueError("polygons_to_strings_sized: arrays of the wrong shape")
    for i in range(p0, p1):  # every polygon inside xy, every size bounded before h * w
        if starts[i] < 0 or ends[i] < starts[i] or ends[i] > xy.shape[0]:
            raise ValueError(f"polygons_to_strings_sized: polygon {i} outside the coordinates")
        if hs[i] < 0 or ws[i] < 0:
            raise MaskShapeError(f"size must be non-negative, got h={hs[i]}, w={ws[i]}")
        if too_many_pixels(<uint64_t>hs[i], <uint64_t>ws[i]):
            raise ImageTooLargeError("image has too many pixels")
    if p0 == p1:
        return []
    return rasterise_spans(&xy[0] if xy.shape[0] else NULL, &starts[0], &ends[0], &hs[0],
                           &ws[0], 1, p0, p1)


def eval_oks_terms(const double[:, ::1] gkp, const int64_t[::1] grow, const double[:, ::1] gbox,
                   const int64_t[::1] gbrow, const double[::1] garea,
                   const double[:, ::1] dkp, const int64_t[::1] drow, const double[::1] sigmas,
                   const int64_t[::1] goff, const int64_t[::1] doff, const int64_t[::1] dlen,
                   const int64_t[::1] eoff, double[::1] e, Py_ssize_t c0=0, Py_ssize_t c1=-1):
    """The exponents of computeOks for every scored (detection, ground truth) pair of cells
    c0 to c1 - 1 (c1 < 0: to the last; cells write disjoint terms, so parts of them can run
    in parallel).

    Ground truth g's keypoints are row grow[g] of gkp and its box row gbrow[g] of gbox,
    detection d's keypoints row drow[d] of dkp (the matrices as read, never gathered). Cell c's terms start at e[eoff[c]]: ground truth by
    ground truth, detection by detection, the visible keypoints of the ground truth (all of
    them when none is visible). The caller takes exp(-e) with numpy (its exp differs from the
    C library's in the last bit) and then calls eval_oks_sum."""
    cdef Py_ssize_t C = goff.shape[0] - 1, K = sigmas.shape[0], c, g, d, j, p
    cdef double x0, x1, y0, y1, dx, dy, z, var, denom
    cdef const double* G
    cdef const double* D
    cdef const double* B
    cdef Py_ssize_t k1
    cdef bint bad = False
    cdef Py_ssize_t need
    if gkp.shape[1] != 3 * K or dkp.shape[1] != 3 * K or gbox.shape[1] != 4:
        raise ValueError("keypoint rows must hold three numbers per sigma, boxes four")
    if C < 0 or doff.shape[0] < C or dlen.shape[0] < C or eoff.shape[0] != C + 1:
        raise ValueError("cell offsets disagree in length")
    if c1 < 0:
        c1 = C
    if not 0 <= c0 <= c1 <= C:
        raise ValueError("eval_oks_terms: cells outside 0..C")
    with nogil:  # every index read and every term written is checked first
        for c in range(c0, c1):
            if goff[c + 1] == goff[c] or dlen[c] == 0:
                continue
            if not (0 <= goff[c] <= goff[c + 1] <= grow.shape[0] and
                    goff[c + 1] <= gbrow.shape[0] and goff[c + 1] <= garea.shape[0] and
                    0 <= doff[c] and 0 < dlen[c] <= drow.shape[0] - doff[c]):
                bad = True
                break
            need = 0
            for g in range(goff[c], goff[c + 1]):
                if not (0 <= grow[g] < gkp.shape[0] and 0 <= gbrow[g] < gbox.shape[0]):
                    bad = True
                    break
                k1 = 0
                for j in range(K):
                    if gkp[grow[g], 3 * j + 2] > 0:
                        k1 += 1
                need += k1 if k1 > 0 else K
            for d in range(doff[c], doff[c] + dlen[c]):
                bad = bad or not 0 <= drow[d] < dkp.shape[0]
            if bad or not (0 <= eoff[c] <= eoff[c + 1] <= e.shape[0] and
                           need <= (eoff[c + 1] - eoff[c]) // dlen[c]):
                bad = True
                break
    if bad:
        raise ValueError("a keypoint row index or term offset is out of range")
    with nogil:
        for c in range(c0, c1):
            if goff[c + 1] == goff[c] or dlen[c] == 0:
                continue
            p = eoff[c]
            for g in range(goff[c], goff[c + 1]):
                G = &gkp[grow[g], 0]
                k1 = 0
                for j in range(K):
                    if G[3 * j + 2] > 0:
                        k1 += 1
                B = &gbox[gbrow[g], 0]
                x0 = B[0] - B[2]
                x1 = B[0] + B[2] * 2
                y0 = B[1] - B[3]
                y1 = B[1] + B[3] * 2
                denom = garea[g] + EPS
                for d in range(doff[c], doff[c] + dlen[c]):
                    D = &dkp[drow[d], 0]
                    for j in range(K):
                        if k1 > 0:
                            if not G[3 * j + 2] > 0:
                                continue
                            dx = D[3 * j] - G[3 * j]
                            dy = D[3 * j + 1] - G[3 * j + 1]
                        else:
                            # np.max((0, v)) keeps a NaN
                            z = x0 - D[3 * j]
                            dx = z if (z > 0 or z != z) else 0
                            z = D[3 * j] - x1
                            dx = dx + (z if (z > 0 or z != z) else 0)
                            z = y0 - D[3 * j + 1]
                            dy = z if (z > 0 or z != z) else 0
                            z = D[3 * j + 1] - y1
                            dy = dy + (z if (z > 0 or z != z) else 0)
                        var = (sigmas[j] * 2) * (sigmas[j] * 2)
                        e[p] = (dx * dx + dy * dy) / var / denom / 2
                        p += 1


def eval_keypoint_boxes(const double[:, ::1] kp, double limit):
    """loadRes's area and bbox of keypoint results, one row of kp each: the extent of the x
    (columns 0, 3, ...) and y (1, 4, ...) of the row, area = width * height. Returns
    ``(area, bbox)``, or None when a number is NaN or not below limit in magnitude (so that
    the caller keeps its exactness bound) or a row has no triple."""
    cdef Py_ssize_t n = kp.shape[0], L = kp.shape[1], i, j
    cdef double x0, x1, y0, y1, v
    cdef bint bad = L < 3
    import numpy as np
    area = np.empty(n, dtype=np.float64)
    box = np.empty((n, 4), dtype=np.float64)
    cdef double[::1] area_v = area
    cdef double[:, ::1] box_v = box
    with nogil:
        for i in range(n):
            if bad:
                break
            for j in range(L):
                if not (kp[i, j] < limit and kp[i, j] > -limit):  # NaN fails both
                    bad = True
            x0 = x1 = kp[i, 0]
            y0 = y1 = kp[i, 1]
            for j in range(3, L, 3):
                v = kp[i, j]
                if v < x0:
                    x0 = v
                if v > x1:
                    x1 = v
            for j in range(4, L, 3):
                v = kp[i, j]
                if v < y0:
                    y0 = v
                if v > y1:
                    y1 = v
            area_v[i] = (x1 - x0) * (y1 - y0)
            box_v[i, 0] = x0
            box_v[i, 1] = y0
            box_v[i, 2] = x1 - x0
            box_v[i, 3] = y1 - y0
    return None if bad else (area, box)


cdef inline double pairwise_sum(const double* a, Py_ssize_t n) noexcept nogil:
    """numpy's pairwise summation of a[0:n] (exact for the n <= 128 this is used for)."""
    cdef double r[8]
    cdef double res = 0
    cdef Py_ssize_t i, j
    if n < 8:
        for i in range(n):
            res += a[i]
        return res
    if n > 128:
        return pairwise_sum(a, n // 2 - (n // 2) % 8) + \
            pairwise_sum(a + (n // 2 - (n // 2) % 8), n - (n // 2 - (n // 2) % 8))
    for j in range(8):
        r[j] = a[j]
    i = 8
    while i < n - (n % 8):
        for j in range(8):
            r[j] += a[i + j]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += a[i]
        i += 1
    return res


def eval_oks_sum(const double[::1] ex, const int64_t[::1] nterms, const int64_t[::1] goff,
                 const int64_t[::1] dlen, const int64_t[::1] eoff, const int64_t[::1] ioff,
                 double[::1] out):
    """OKS = sum(exp(-e)) / len(e) for every scored pair, into the IoU layout."""
    cdef Py_ssize_t C = goff.shape[0] - 1, c, g, d, G, p, n
    with nogil:
        for c in range(C):
            G = goff[c + 1] - goff[c]
            if G == 0 or dlen[c] == 0:
                continue
            p = eoff[c]
            for g in range(G):
                n = nterms[goff[c] + g]
                for d in range(dlen[c]):
                    out[ioff[c] + d * G + g] = pairwise_sum(&ex[p], n) / <double>n
                    p += n


# -- matching (evaluateImg) --------------------------------------------------------------------

cdef double MATCH_INF = float("inf")


cdef void match_cell(const double* ious, Py_ssize_t D, Py_ssize_t G, bint have_ious,
                     const uint8_t* gign, const double* garea, const uint8_t* gcrowd,
                     const double* gid, const double* darea, const double* did,
                     const double* thr, Py_ssize_t T, double lo, double hi,
                     int64_t* gorder, uint8_t* gtig, double* dtm, double* gtm,
                     uint8_t* dtig, int64_t* cand, int64_t* ncand) noexcept nogil:
    """evaluateImg for one cell and area range.

    gorder[0:G] receives the ground truths in their sorted order (non-ignored first), gtig
    their _ignore flags in that order; dtm, dtig (T x D) and gtm (T x G) the matches; cand
    (D x G) and ncand (D) are scratch.

    pycocotools walks every ground truth for every threshold and detection. Only those
    whose IoU reaches the lowest threshold (candidates, kept in the walk's order) can be
    taken; skipping the others changes nothing: they never become the match, and where one
    of them would have ended the walk (the first ignored ground truth after a non-ignored
    match), every later one is ignored too, so the walk ends at the next candidate before it
    can take it, with the same match."""
    cdef Py_ssize_t t, d, g, n = 0, m, go, j, k
    cdef double best, v, lowest
    cdef bint ig
    for g in range(G):
        if not (gign[g] or garea[g] < lo or garea[g] > hi):
            gorder[n] = g
            gtig[n] = 0
            n += 1
    for g in range(G):
        if gign[g] or garea[g] < lo or garea[g] > hi:
            gorder[n] = g
            gtig[n] = 1
            n += 1
    memset(dtm, 0, T * D * sizeof(double))
    memset(gtm, 0, T * G * sizeof(double))
    memset(dtig, 0, T * D)
    if have_ious:
        lowest = MATCH_INF
        for t in range(T):
            best = MAX_IOU_THR if MAX_IOU_THR < thr[t] else thr[t]
            if best != best:
                lowest = -MATCH_INF  # a NaN threshold takes any IoU
            elif best < lowest:
                lowest = best
        for d in range(D):
            k = 0
            for g in range(G):
                v = ious[d * G + gorder[g]]
                if not v < lowest:  # NaN IoUs stay candidates, as in the walk
                    cand[d * G + k] = g
                    k += 1
            ncand[d] = k
        for t in range(T):
            for d in range(D):
                best = MAX_IOU_THR if MAX_IOU_THR < thr[t] else thr[t]
                m = -1
                for j in range(ncand[d]):
                    g = cand[d * G + j]
                    go = gorder[g]
                    if gtm[t * G + g] > 0 and not gcrowd[go]:
                        continue
                    if m > -1 and gtig[m] == 0 and gtig[g] == 1:
                        break
                    v = ious[d * G + go]
                    if v < best:
                        continue
                    best = v
                    m = g
                if m == -1:
                    continue
                dtig[t * D + d] = gtig[m]
                dtm[t * D + d] = gid[gorder[m]]
                gtm[t * G + m] = did[d]
    for d in range(D):
        if darea[d] < lo or darea[d] > hi:
            for t in range(T):
                if dtm[t * D + d] == 0:
                    dtig[t * D + d] = 1


def eval_match_one(const double[::1] ious, Py_ssize_t D, Py_ssize_t G, bint have_ious,
                   const uint8_t[::1] gign, const double[::1] garea, const uint8_t[::1] gcrowd,
                   const double[::1] gid, const double[::1] darea, const double[::1] did,
                   const double[::1] thr, double lo, double hi, int64_t[::1] gorder,
                   uint8_t[::1] gtig, double[::1] dtm, double[::1] gtm, uint8_t[::1] dtig):
    """match_cell on one cell (for evalImgs and evaluateImg); arrays sized by the caller."""
    cdef Py_ssize_t T = thr.shape[0]
    cdef uint8_t z8 = 0
    cdef double z = 0
    cdef int64_t z64 = 0
    if (ious.shape[0] < D * G or gign.shape[0] < G or garea.shape[0] < G or gcrowd.shape[0] < G
            or gid.shape[0] < G or darea.shape[0] < D or did.shape[0] < D
            or gorder.shape[0] < G or gtig.shape[0] < G or dtm.shape[0] < T * D
            or gtm.shape[0] < T * G or dtig.shape[0] < T * D):
        raise ValueError("eval_match_one: arrays too small")
    cdef int64_t* cand = <int64_t*>malloc((D * G + 1) * sizeof(int64_t))
    cdef int64_t* ncand = <int64_t*>malloc((D + 1) * sizeof(int64_t))
    if cand == NULL or ncand == NULL:
        free(cand); free(ncand)
        raise MemoryError()
    match_cell(&ious[0] if ious.shape[0] else &z, D, G, have_ious,
               &gign[0] if G else &z8, &garea[0] if G else &z, &gcrowd[0] if G else &z8,
               &gid[0] if G else &z, &darea[0] if D else &z, &did[0] if D else &z,
               &thr[0] if T else &z, T, lo, hi, &gorder[0] if G else &z64,
               &gtig[0] if G else &z8, &dtm[0] if T * D else &z, &gtm[0] if T * G else &z,
               &dtig[0] if T * D else &z8, cand, ncand)
    free(cand)
    free(ncand)


def eval_match(const int64_t[::1] goff, const int64_t[::1] doff, const int64_t[::1] dlen,
               const int64_t[::1] ioff, const double[::1] ious, const uint8_t[::1] have_ious,
               const uint8_t[::1] gign, const double[::1] garea, const uint8_t[::1] gcrowd,
               const double[::1] gid, const double[::1] darea, const double[::1] did,
               const double[::1] thr, const double[:, ::1] arng,
               uint8_t[::1] state, uint8_t[::1] summary, int64_t[::1] npig, Py_ssize_t c0,
               Py_ssize_t c1):
    """evaluateImg for cells c0..c1-1 and every area range, reduced to what accumulate reads:
    state[(j * A + a) * T + t] for scored detection j (ST_*: a detection's codes together,
    so that accumulate reads them with one access), summary[j * A + a] (the code every
    threshold has, or ST_MIXED), npig[c * A + a]."""
    cdef Py_ssize_t T = thr.shape[0], A = arng.shape[0], ND = darea.shape[0]
    cdef Py_ssize_t c, a, t, d, g, D, G, gmax = 1, dmax = 1, j, n
    cdef int64_t* gorder
    cdef uint8_t* gtig
    cdef double* dtm
    cdef double* gtm
    cdef uint8_t* dtig
    cdef int64_t* cand
    cdef int64_t* ncand
    cdef double z = 0
    cdef uint8_t code, first
    cdef Py_ssize_t C = goff.shape[0] - 1
    if c0 < 0 or c1 > C or doff.shape[0] < C + 1 or dlen.shape[0] < C or \
            ioff.shape[0] < C + 1 or have_ious.shape[0] < C or npig.shape[0] < C * A or \
            arng.shape[1] != 2 or gign.shape[0] < goff[C] or garea.shape[0] < goff[C] or \
            gcrowd.shape[0] < goff[C] or gid.shape[0] < goff[C] or \
            did.shape[0] < ND or state.shape[0] < A * T * ND or summary.shape[0] < A * ND:
        raise ValueError("eval_match: arrays of the wrong shape")
    for c in range(c0, c1):  # every cell stays inside the arrays the loop below reads
        if goff[c] < 0 or goff[c + 1] < goff[c] or doff[c] < 0 or dlen[c] < 0 or \
                doff[c] + dlen[c] > ND or (have_ious[c] and goff[c + 1] > goff[c] and
                                           dlen[c] > 0 and (ioff[c] < 0 or ioff[c] +
                                           dlen[c] * (goff[c + 1] - goff[c]) >
                                           ious.shape[0])):
            raise ValueError("eval_match: a cell outside its arrays")
    for c in range(c0, c1):
        if goff[c + 1] - goff[c] > gmax:
            gmax = goff[c + 1] - goff[c]
        if dlen[c] > dmax:
            dmax = dlen[c]
    gorder = <int64_t*>malloc(gmax * sizeof(int64_t))
    gtig = <uint8_t*>malloc(gmax)
    dtm = <double*>malloc(T * dmax * sizeof(double) + 8)
    gtm = <double*>malloc(T * gmax * sizeof(double) + 8)
    dtig = <uint8_t*>malloc(T * dmax + 1)
    cand = <int64_t*>malloc((dmax * gmax + 1) * sizeof(int64_t))
    ncand = <int64_t*>malloc((dmax + 1) * sizeof(int64_t))
    if gorder == NULL or gtig == NULL or dtm == NULL or gtm == NULL or dtig == NULL or \
            cand == NULL or ncand == NULL:
        free(gorder); free(gtig); free(dtm); free(gtm); free(dtig); free(cand); free(ncand)
        raise MemoryError()
    with nogil:
        for c in range(c0, c1):
            G = goff[c + 1] - goff[c]
            D = dlen[c]
            if G == 0 and D == 0:
                continue
            if G == 0:  # detections only: each is a false positive, or ignored off its area
                for a in range(A):
                    npig[c * A + a] = 0
                    for d in range(D):
                        j = doff[c] + d
                        code = ST_IGNORED if (darea[j] < arng[a, 0] or darea[j] > arng[a, 1]) \
                            else ST_FP
                        for t in range(T):
                            state[(j * A + a) * T + t] = code
                        summary[j * A + a] = code
                continue
            for a in range(A):
                match_cell(&ious[ioff[c]] if ioff[c] < ious.shape[0] else &z, D, G,
                           have_ious[c] != 0 and D > 0 and G > 0,
                           &gign[goff[c]] if G else NULL, &garea[goff[c]] if G else NULL,
                           &gcrowd[goff[c]] if G else NULL, &gid[goff[c]] if G else NULL,
                           &darea[doff[c]] if D else NULL, &did[doff[c]] if D else NULL,
                           &thr[0], T, arng[a, 0], arng[a, 1], gorder, gtig, dtm, gtm, dtig,
                           cand, ncand)
                n = 0
                for g in range(G):
                    if gtig[g] == 0:
                        n += 1
                npig[c * A + a] = n
                for d in range(D):
                    j = doff[c] + d
                    first = ST_MIXED
                    for t in range(T):
                        if dtig[t * D + d]:
                            code = ST_IGNORED
                        elif dtm[t * D + d] != 0:
                            code = ST_TP
                        else:
                            code = ST_FP
                        state[(j * A + a) * T + t] = code
                        if t == 0:
                            first = code
                        elif code != first:
                            first = ST_MIXED
                    summary[j * A + a] = first
    free(gorder); free(gtig); free(dtm); free(gtm); free(dtig); free(cand); free(ncand)


# -- accumulate --------------------------------------------------------------------------------

cdef inline Py_ssize_t first_ratio_at_least(Py_ssize_t n, double d, double x) noexcept nogil:
    """The first q in [0, n) with not ((q + 1) / d < x), else n: numpy's searchsorted (side
    left) over recall values tp / npig, each division done only where the search reads it
    (the same doubles and the same comparisons as on the full array)."""
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if <double>(mid + 1) / d < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline Py_ssize_t sliced(Py_ssize_t D, int64_t maxdet) noexcept nogil:
    """len(x[0:maxdet]) for a sequence of length D (Python slice rules)."""
    if maxdet >= 0:
        return maxdet if maxdet < D else D
    return D + maxdet if D + maxdet > 0 else 0


cdef inline Py_ssize_t first_at_least(const int64_t* a, Py_ssize_t n, int64_t x) noexcept nogil:
    """First index i with a[i] >= x in the sorted a[0:n]."""
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def eval_accumulate(const int64_t[::1] cell_id, const int64_t[::1] doff, const int64_t[::1] dlen,
                    const uint8_t[::1] state, const uint8_t[::1] summary,
                    const int64_t[::1] npig, const double[::1] dscore,
                    Py_ssize_t T, Py_ssize_t A0, Py_ssize_t I0, Py_ssize_t n_dense,
                    const int64_t[::1] base_k, const int64_t[::1] base_a,
                    const int64_t[::1] m_list, const int64_t[::1] i_list, bint identity,
                    const double[::1] rec_thrs, double[::1] precision, double[::1] recall,
                    double[::1] scores, Py_ssize_t K, Py_ssize_t A, Py_ssize_t M,
                    Py_ssize_t k0, Py_ssize_t k1, Py_ssize_t kstep=1):
    """pycocotools' accumulate for output categories k0, k0+kstep, ... below k1.

    The evalImgs entry of output (k, a) and image position i is number
    base_k[k] + base_a[a] + i; it is cell (n // (A0*I0)) * I0 + n % I0 at area (n // I0) % A0
    of the evaluation (n_dense cells in all), and absent (None) unless that cell number is in
    the sorted cell_id, whose position s indexes doff, dlen and npig[s * A0 + area]. With
    identity (i_list is every image in order) a whole category is read from its run of
    cell_id instead of image by image. state holds T thresholds per detection and area
    (state[(j * A0 + a) * T + t]) and summary[j * A0 + a] the code of every threshold (or
    ST_MIXED), precision and scores are [T, R, K, A, M], recall [T, K, A, M] (C order), filled where
    pycocotools fills them. Returns -1 when an entry number falls outside the evaluated list
    (where pycocotools raises IndexError), else 0."""
    cdef Py_ssize_t R = rec_thrs.shape[0], ND = dscore.shape[0], C = dlen.shape[0]
    cdef Py_ssize_t lo, hi, sc_i, ncell, total, nf = 0
    cdef bint shared, rec_sorted
    cdef int64_t* fej = NULL
    cdef int64_t* frank = NULL
    cdef int64_t* fdl = NULL
    cdef int64_t* forder = NULL
    cdef double* fsc = NULL
    cdef Py_ssize_t k, a, m, ii, t, r, n, i, nd, cell, ca, flat, bound, idx, pos, s, o
    cdef Py_ssize_t nI = i_list.shape[0], dmax = 0, fast_k, fast_a
    cdef bint any_cell
    cdef int64_t maxdet, np_ig
    cdef int64_t* order = NULL
    cdef int64_t* tmp = NULL
    cdef int64_t* ej = NULL
    cdef int64_t* ea = NULL
    cdef double* sc = NULL
    cdef int64_t* tpos = NULL
    cdef int64_t* tfp = NULL
    cdef double* pr = NULL
    cdef Py_ssize_t q, nig
    cdef int64_t itp
    cdef double best
    cdef int64_t* apos = NULL
    cdef int64_t* aig = NULL
    cdef int64_t* asrc = NULL
    cdef Py_ssize_t nact, nown, kept, const_a
    cdef uint8_t code
    cdef int err = 0
    cdef double* lpr = NULL  # one category's precision and scores, [a, m, t, r]
    cdef double* lsc = NULL
    cdef uint8_t* wrote = NULL  # which (a, m) of the category were evaluated
    cdef int64_t* fruns = NULL  # where each cell's run starts among the category's entries
    cdef Py_ssize_t nruns
    cdef uint64_t* fkey = NULL  # desc_key of each entry's score
    if precision.shape[0] < T * R * K * A * M or scores.shape[0] < T * R * K * A * M or \
            recall.shape[0] < T * K * A * M or state.shape[0] < A0 * T * ND or \
            summary.shape[0] < A0 * ND or \
            npig.shape[0] < C * A0 or k1 > base_k.shape[0] or K < base_k.shape[0] or \
            A < base_a.shape[0] or M < m_list.shape[0] or cell_id.shape[0] < C or \
            doff.shape[0] < C + 1:
        raise ValueError("eval_accumulate: arrays too small")
    if kstep < 1:
        raise ValueError("eval_accumulate: kstep must be positive")
    # ascending recall levels (no NaN) are searched in one walk per list, else one by one
    rec_sorted = True
    for r in range(R - 1):
        rec_sorted = rec_sorted and rec_thrs[r] <= rec_thrs[r + 1]
    total = 0
    for cell in range(C):
        total += dlen[cell]
        if dlen[cell] > dmax:
            dmax = dlen[cell]
    # distinct cells give at most total entries; a repeated image position repeats its cell
    bound = total + 1 if identity or total > nI * dmax else nI * dmax + 1
    order = <int64_t*>malloc(bound * sizeof(int64_t))
    tmp = <int64_t*>malloc(bound * sizeof(int64_t))
    ej = <int64_t*>malloc(bound * sizeof(int64_t))
    ea = <int64_t*>malloc(bound * sizeof(int64_t))
    sc = <double*>malloc(bound * sizeof(double))
    tpos = <int64_t*>malloc(bound * sizeof(int64_t))
    tfp = <int64_t*>malloc(bound * sizeof(int64_t))
    pr = <double*>malloc(bound * sizeof(double))
    fej = <int64_t*>malloc((total + 1) * sizeof(int64_t))
    frank = <int64_t*>malloc((total + 1) * sizeof(int64_t))
    fdl = <int64_t*>malloc((total + 1) * sizeof(int64_t))
    forder = <int64_t*>malloc((total + 1) * sizeof(int64_t))
    fsc = <double*>malloc((total + 1) * sizeof(double))
    apos = <int64_t*>malloc(bound * sizeof(int64_t))
    aig = <int64_t*>malloc(bound * sizeof(int64_t))
    asrc = <int64_t*>malloc(bound * sizeof(int64_t))
    lpr = <double*>malloc((A * M * T * R + 1) * sizeof(double))
    lsc = <double*>malloc((A * M * T * R + 1) * sizeof(double))
    wrote = <uint8_t*>malloc(A * M + 1)
    fruns = <int64_t*>malloc((total + 1) * sizeof(int64_t))
    fkey = <uint64_t*>malloc((total + 1) * sizeof(uint64_t))
    if fkey == NULL or fruns == NULL or lpr == NULL or lsc == NULL or wrote == NULL or apos == NULL or aig == NULL or asrc == NULL or order == NULL or tmp == NULL or ej == NULL or ea == NULL or sc == NULL \
            or tpos == NULL or tfp == NULL or pr == NULL or fej == NULL or frank == NULL \
            or fdl == NULL or forder == NULL or fsc == NULL:
        free(order); free(tmp); free(ej); free(ea); free(sc); free(tpos); free(tfp); free(pr)
        free(fej); free(frank); free(fdl); free(forder); free(fsc); free(apos); free(aig); free(asrc)
        free(lpr); free(lsc); free(wrote); free(fruns); free(fkey)
        raise MemoryError()
    with nogil:
        k = k0 - kstep
        while k + kstep < k1:
            k += kstep
            # entry numbers of a whole category and area: cell and area without division
            fast_k = -1
            if A0 * I0 > 0 and 0 <= base_k[k] < n_dense * A0 and base_k[k] % (A0 * I0) == 0:
                fast_k = base_k[k] // (A0 * I0)
            shared = False  # the category's entries gathered and sorted once, for every a and m
            memset(wrote, 0, A * M)
            for m in range(m_list.shape[0]):
                maxdet = m_list[m]
                kept = -1  # n of the category's detections kept by maxdet, once gathered
                for a in range(base_a.shape[0]):
                    fast_a = -1
                    if I0 > 0 and 0 <= base_a[a] < A0 * I0 and base_a[a] % I0 == 0:
                        fast_a = base_a[a] // I0
                    const_a = -1
                    n = 0
                    np_ig = 0
                    any_cell = False
                    if identity and fast_k >= 0 and fast_a >= 0:
                        # the category's cells, in image order
                        lo = first_at_least(&cell_id[0], C, fast_k * I0) if C else 0
                        hi = first_at_least(&cell_id[0], C, (fast_k + 1) * I0) if C else 0
                        if not shared:
                            # every detection of the category, sorted once: the stable order
                            # of any per-image prefix is this order filtered to it
                            nf = 0
                            nruns = 0
                            for sc_i in range(lo, hi):
                                if dlen[sc_i] > 0:
                                    fruns[nruns] = nf
                                    nruns += 1
                                for i in range(dlen[sc_i]):
                                    fej[nf] = doff[sc_i] + i
                                    frank[nf] = i
                                    fdl[nf] = dlen[sc_i]
                                    fsc[nf] = dscore[doff[sc_i] + i]
                                    fkey[nf] = desc_key(fsc[nf])
                                    forder[nf] = nf
                                    nf += 1
                            # each cell's detections are in score order already
                            fruns[nruns] = nf
                            merge_runs_desc(forder, fkey, tmp, fruns, nruns)
                            shared = True
                        any_cell = hi > lo
                        for sc_i in range(lo, hi):
                            np_ig += npig[sc_i * A0 + fast_a]
                        if kept < 0:  # the same for every area range
                            kept = 0
                            for i in range(nf):
                                o = forder[i]
                                if frank[o] < sliced(fdl[o], maxdet):
                                    ej[kept] = fej[o]
                                    sc[kept] = fsc[o]
                                    order[kept] = kept
                                    kept += 1
                        n = kept
                        const_a = fast_a
                        ncell = 0
                    else:
                        lo = 0
                        ncell = nI
                    for ii in range(ncell):
                        if identity and fast_k >= 0 and fast_a >= 0:
                            sc_i = lo + ii
                            ca = fast_a
                        else:
                            flat = base_k[k] + base_a[a] + i_list[ii]
                            if flat < 0 or flat >= n_dense * A0:
                                err = -1
                                break
                            cell = (flat // (A0 * I0)) * I0 + flat % I0
                            ca = (flat // I0) % A0
                            sc_i = first_at_least(&cell_id[0], C, cell) if C else 0
                            if sc_i >= C or cell_id[sc_i] != cell:
                                continue  # evalImgs holds None here
                        any_cell = True
                        np_ig += npig[sc_i * A0 + ca]
                        s = sliced(dlen[sc_i], maxdet)
                        kept = -1  # ej, sc and order no longer hold the category's list
                        for i in range(s):
                            ej[n] = doff[sc_i] + i
                            ea[n] = ca
                            sc[n] = dscore[doff[sc_i] + i]
                            order[n] = n
                            n += 1
                    if err < 0:
                        break
                    if not any_cell or np_ig == 0:
                        continue
                    if not (identity and fast_k >= 0 and fast_a >= 0):
                        stable_sort_desc(order, n, sc, tmp)
                    # the detections in score order that are a true positive at some
                    # threshold (most are a false positive or ignored at every one: their
                    # summary says so, and they only count): their position, the ignored
                    # ones before them, and where their codes are
                    nact = 0
                    nig = 0
                    for i in range(n):
                        o = order[i]
                        flat = ej[o] * A0 + (const_a if const_a >= 0 else ea[o])
                        code = summary[flat]
                        if code == ST_FP:
                            continue
                        if code == ST_IGNORED:
                            nig += 1
                            continue
                        apos[nact] = i
                        aig[nact] = nig
                        asrc[nact] = flat * T
                        nact += 1
                    for t in range(T):
                        # pycocotools' cumulative tp and fp, then precision tp / (fp + tp +
                        # eps) and its running maximum from the end, are needed only where a
                        # true positive is: between two of them tp stays and fp grows or
                        # stays, so precision cannot rise (rounding is monotonic), and recall
                        # (tp / npig) changes only there, so every recall search lands on one
                        # (or on position 0). Record the position of true positive q and the
                        # false positives up to it (positions minus true positives minus
                        # ignored detections before it).
                        itp = 0
                        nown = 0
                        for i in range(nact):
                            code = state[asrc[i] + t]
                            if code == ST_TP:
                                tpos[itp] = apos[i]
                                tfp[itp] = apos[i] - itp - aig[i] - nown
                                itp += 1
                            elif code == ST_IGNORED:
                                nown += 1
                        for q in range(itp):
                            pr[q] = <double>(q + 1) / (<double>tfp[q] + <double>(q + 1) + EPS)
                        pos = ((t * K + k) * A + a) * M + m
                        recall[pos] = <double>itp / <double>np_ig if n else 0
                        wrote[a * M + m] = 1
                        # pycocotools' "if pr[i] > pr[i-1]: pr[i-1] = pr[i]", from the end:
                        # a running maximum (a select, not a branch or a call)
                        q = itp - 1
                        best = pr[q] if itp else 0
                        while q > 0:
                            q -= 1
                            best = best if best > pr[q] else pr[q]
                            pr[q] = best
                        q = 0
                        for r in range(R):
                            # searchsorted(rc, thr): position 0 when rc[0] >= thr, else the
                            # position of the first true positive q with q / npig >= thr;
                            # past the last one, this and every later level stay 0
                            pos = ((a * M + m) * T + t) * R + r
                            if n == 0:
                                q = itp
                            elif not (0.0 / <double>np_ig < rec_thrs[r]):
                                lpr[pos] = best  # the maximum over all of them
                                lsc[pos] = sc[order[0]]
                                continue
                            elif rec_sorted:  # thresholds ascending: q only moves on
                                while q < itp and <double>(q + 1) / <double>np_ig < rec_thrs[r]:
                                    q += 1
                            else:
                                q = first_ratio_at_least(itp, <double>np_ig, rec_thrs[r])
                            if q >= itp:
                                while r < R:
                                    lpr[pos] = 0
                                    lsc[pos] = 0
                                    pos += 1
                                    r += 1
                                break
                            lpr[pos] = pr[q]
                            lsc[pos] = sc[order[tpos[q]]]
                if err < 0:
                    break
            if err < 0:
                break
            # the category's [a, m, t, r] blocks into the [t, r, k, a, m] outputs in memory
            # order: its A * M values of one (t, r) are neighbours there (written as they
            # were computed, every value was a page apart from the last)
            for t in range(T):
                for r in range(R):
                    o = (((t * R + r) * K + k) * A) * M
                    for a in range(A * M):
                        if wrote[a]:
                            precision[o + a] = lpr[a * T * R + t * R + r]
                            scores[o + a] = lsc[a * T * R + t * R + r]
    free(order); free(tmp); free(ej); free(ea); free(sc); free(tpos); free(tfp); free(pr)
    free(fej); free(frank); free(fdl); free(forder); free(fsc); free(apos); free(aig); free(asrc)
    free(lpr); free(lsc); free(wrote); free(fruns); free(fkey)
    return err

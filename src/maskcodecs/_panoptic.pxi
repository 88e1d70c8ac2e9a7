# Part of _rle_core.pyx: panoptic quality (maskcodecs.panoptic).
#
# One image pair at a time: a single pass over the pixels of the ground-truth and predicted
# id maps (RGB bytes, id = R + 256*G + 65536*B, or uint32 ids) counts every (gt segment,
# predicted segment) intersection into a small hash table keyed by the pair of segment
# indices, and the area of every predicted segment. Segment ids are looked up (binary search
# over the sorted ids of the JSON segments) only where the pair of ids changes along a row,
# so the per-pixel work is one compare. The matching (IoU > 0.5 against the JSON area of the
# ground truth, VOID pixels taken out of the union) and the false-positive test (more than
# half VOID or crowd of the same category: ignored) run on the table, without the GIL.
# Every index read from the caller's arrays is checked by the def wrappers before a loop.
# Pair indices stay below (n_gt + 1) * n_pred, the size of the dense table when one is used.

from libc.stdlib cimport qsort


cdef struct PqSlot:
    int64_t key      # gt index * n_pred + pred index; -1 for an empty slot
    int64_t count


cdef struct PqTable:
    PqSlot* slots
    uint64_t mask
    Py_ssize_t n


cdef struct PqSrc:
    const uint8_t* base
    Py_ssize_t s0, s1, s2    # byte strides of rows, pixels and (RGB) channels
    bint rgb                 # 1: R, G, B bytes; 0: one uint32 id per pixel


cdef struct PqTp:
    int64_t key
    double iou


cdef inline uint64_t pq_hash(int64_t key, uint64_t mask) noexcept nogil:
    cdef uint64_t x = (<uint64_t>key) * <uint64_t>0x9E3779B97F4A7C15
    return (x ^ (x >> 29)) & mask


cdef int pq_table_init(PqTable* t, Py_ssize_t expect) noexcept nogil:
    cdef uint64_t cap = 64, i
    while cap < <uint64_t>(2 * expect + 2):
        cap *= 2
    t.slots = <PqSlot*>malloc(cap * sizeof(PqSlot))
    if t.slots == NULL:
        return ERR_NOMEM
    for i in range(cap):
        t.slots[i].key = -1
    t.mask = cap - 1
    t.n = 0
    return 0


cdef int pq_table_grow(PqTable* t) noexcept nogil:
    """Double the capacity, re-inserting every entry."""
    cdef uint64_t cap = (t.mask + 1) * 2, m = cap - 1, i, j
    cdef PqSlot* s = <PqSlot*>malloc(cap * sizeof(PqSlot))
    if s == NULL:
        return ERR_NOMEM
    for i in range(cap):
        s[i].key = -1
    for i in range(t.mask + 1):
        if t.slots[i].key >= 0:
            j = pq_hash(t.slots[i].key, m)
            while s[j].key >= 0:
                j = (j + 1) & m
            s[j] = t.slots[i]
    free(t.slots)
    t.slots = s
    t.mask = m
    return 0


cdef inline int pq_table_add(PqTable* t, int64_t key, int64_t count) noexcept nogil:
    cdef uint64_t j
    if 2 * (t.n + 1) > <Py_ssize_t>(t.mask + 1):
        if pq_table_grow(t) < 0:
            return ERR_NOMEM
    j = pq_hash(key, t.mask)
    while t.slots[j].key >= 0:
        if t.slots[j].key == key:
            t.slots[j].count += count
            return 0
        j = (j + 1) & t.mask
    t.slots[j].key = key
    t.slots[j].count = count
    t.n += 1
    return 0


cdef inline int64_t pq_table_get(const PqTable* t, int64_t key) noexcept nogil:
    cdef uint64_t j = pq_hash(key, t.mask)
    while t.slots[j].key >= 0:
        if t.slots[j].key == key:
            return t.slots[j].count
        j = (j + 1) & t.mask
    return 0


cdef inline Py_ssize_t pq_find(const int64_t* ids, Py_ssize_t n, int64_t v) noexcept nogil:
    """Index of v in the strictly increasing ids[0:n], or -1."""
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if ids[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < n and ids[lo] == v else -1


cdef uint32_t _pq_one = 1
cdef bint PQ_LITTLE = (<uint8_t*>&_pq_one)[0] == 1


cdef inline bint pq_same8(const uint32_t* a, uint32_t v) noexcept nogil:
    """a[0:8] all equal v."""
    return ((a[0] ^ v) | (a[1] ^ v) | (a[2] ^ v) | (a[3] ^ v) | (a[4] ^ v) | (a[5] ^ v)
            | (a[6] ^ v) | (a[7] ^ v)) == 0


cdef const uint32_t* pq_row(const PqSrc* s, Py_ssize_t y, Py_ssize_t w,
                            uint32_t* out) noexcept nogil:
    """Row y of a map as uint32 ids: the map's own row when it is contiguous aligned uint32,
    else converted into `out` (w entries)."""
    cdef const uint8_t* p = s.base + y * s.s0
    cdef Py_ssize_t x, s1 = s.s1, s2 = s.s2
    cdef uint32_t v
    if not s.rgb:
        if s1 == 4 and (<size_t>p) % 4 == 0:
            return <const uint32_t*>p
        for x in range(w):
            memcpy(&v, p + x * s1, 4)
            out[x] = v
    elif s2 == 1 and s1 == 3:  # packed RGB, the decoder's layout
        x = 0
        if PQ_LITTLE:  # one 4-byte load per pixel but the last (its 4th byte is the next's)
            while x + 1 < w:
                memcpy(&v, p + 3 * x, 4)
                out[x] = v & 0xFFFFFF
                x += 1
        while x < w:
            out[x] = (<uint32_t>p[3 * x]) | (<uint32_t>p[3 * x + 1] << 8) \
                | (<uint32_t>p[3 * x + 2] << 16)
            x += 1
    else:
        for x in range(w):
            out[x] = (<uint32_t>p[0]) | (<uint32_t>p[s2] << 8) | (<uint32_t>p[2 * s2] << 16)
            p += s1
    return out


# pair tables up to this many cells are dense arrays (one add per run); larger, the hash
cdef Py_ssize_t PQ_DENSE_MAX = 1 << 17


cdef struct PqIds:
    const int64_t* ids       # strictly increasing JSON segment ids
    Py_ssize_t n
    uint64_t key[64]         # a small direct-mapped cache of lookups: id + 1, 0 when empty
    Py_ssize_t idx[64]


cdef inline Py_ssize_t pq_index(PqIds* c, uint32_t v) noexcept nogil:
    """Index of id v among the JSON segments (-1: none), through the cache."""
    cdef uint32_t slot = (v * <uint32_t>2654435761u) >> 26
    if c.key[slot] == <uint64_t>v + 1:
        return c.idx[slot]
    c.key[slot] = <uint64_t>v + 1
    c.idx[slot] = pq_find(c.ids, c.n, v)
    return c.idx[slot]


cdef inline int pq_flush(PqTable* t, int64_t* dense, Py_ssize_t gi, Py_ssize_t pj,
                         Py_ssize_t npred, int64_t run, int64_t* parea) noexcept nogil:
    """Credit `run` pixels to the pair (gi, pj): the predicted area when pj is a JSON segment,
    the pair table (dense, else the hash) when gi is one too or the ground-truth VOID class
    (gi == n_gt)."""
    if pj < 0 or run == 0:
        return 0
    parea[pj] += run
    if gi < 0:
        return 0
    if dense != NULL:
        dense[gi * npred + pj] += run
        return 0
    return pq_table_add(t, gi * npred + pj, run)


cdef int pq_count(const PqSrc* g, const PqSrc* p, Py_ssize_t h, Py_ssize_t w,
                  const int64_t* gid, Py_ssize_t ngt, const int64_t* pid, Py_ssize_t npred,
                  PqTable* t, int64_t* parea, int64_t* unknown) noexcept nogil:
    """Fill `t` and `parea`; `unknown` gets the smallest nonzero predicted id with no JSON
    segment (left alone when there is none). Ground-truth ids: a JSON segment's index, n_gt
    for an id 0 that is not a segment (VOID), -1 (ignored) for any other id. Runs of one
    (gt id, pred id) pair along a row cost one compare per pixel and one add per run."""
    cdef uint32_t* rows = <uint32_t*>malloc(2 * (w + 1) * sizeof(uint32_t))
    cdef Py_ssize_t cells = (ngt + 1) * npred
    cdef int64_t* dense = NULL
    cdef const uint32_t* gr
    cdef const uint32_t* pr
    cdef uint64_t key, last = 0xFFFFFFFFFFFFFFFF
    cdef Py_ssize_t y, x, gi = -1, pj = -1, k
    cdef uint32_t gv, pv, lastg = 0, lastp = 0
    cdef bint first = True
    cdef int64_t run = 0
    cdef int rc = 0
    cdef PqIds gc, pc
    if rows == NULL:
        return ERR_NOMEM
    if cells <= PQ_DENSE_MAX:
        dense = <int64_t*>calloc(cells, sizeof(int64_t))
        if dense == NULL:
            free(rows)
            return ERR_NOMEM
    memset(&gc, 0, sizeof(PqIds))
    memset(&pc, 0, sizeof(PqIds))
    gc.ids, gc.n, pc.ids, pc.n = gid, ngt, pid, npred
    for y in range(h):
        gr = pq_row(g, y, w, rows)
        pr = pq_row(p, y, w, rows + w + 1)
        if y == 0:
            last = ~((<uint64_t>gr[0] << 32) | pr[0])   # differs from the first pixel
        x = 0
        while x < w:
            gv = gr[x]
            pv = pr[x]
            key = (<uint64_t>gv << 32) | pv
            if key == last:  # the run goes on: skip 8 pixels at a time while both repeat
                run += 1
                x += 1
                while x + 8 <= w and pq_same8(gr + x, gv) and pq_same8(pr + x, pv):
                    run += 8
                    x += 8
                continue
            rc = pq_flush(t, dense, gi, pj, npred, run, parea)
            if rc < 0:
                break
            if first or gv != lastg:
                gi = pq_index(&gc, gv)
                if gi < 0 and gv == 0:
                    gi = ngt
                lastg = gv
            if first or pv != lastp:
                pj = pq_index(&pc, pv)
                if pj < 0 and pv != 0 and (unknown[0] < 0 or pv < unknown[0]):
                    unknown[0] = pv
                lastp = pv
            first = False
            last = key
            run = 1
            x += 1
        if rc < 0:
            break
    if rc >= 0:
        rc = pq_flush(t, dense, gi, pj, npred, run, parea)
    if dense != NULL:
        k = 0
        while rc >= 0 and k < cells:
            if dense[k]:
                rc = pq_table_add(t, k, dense[k])
            k += 1
        free(dense)
    free(rows)
    return rc


cdef int pq_tp_cmp(const void* a, const void* b) noexcept nogil:
    cdef int64_t x = (<const PqTp*>a).key, y = (<const PqTp*>b).key
    return (x > y) - (x < y)


cdef Py_ssize_t pq_match(const PqTable* t, Py_ssize_t ngt, Py_ssize_t npred, Py_ssize_t vgi,
                         const int32_t* gcat, const uint8_t* gcrowd, const double* garea,
                         const int32_t* pcat, const int64_t* pcrowd, const int64_t* parea,
                         PqTp* tps, uint8_t* gmatched, uint8_t* pmatched,
                         uint8_t* pfp) noexcept nogil:
    """panopticapi's matching on the table: pairs of a non-crowd ground truth and a
    prediction of the same category with IoU > 0.5, IoU = intersection / (pred area + gt
    JSON area - intersection - pred pixels on VOID), in that order of operations (`vgi`: the
    table row of the ground-truth id 0). The matches go to `tps` (room for t.n) sorted by
    (gt id, pred id), the order panopticapi adds up their IoU; returns their number. Then
    every unmatched prediction whose VOID plus same-category crowd pixels are at most half
    of it is a false positive (pfp)."""
    cdef Py_ssize_t k = 0, gi, pj
    cdef uint64_t i
    cdef int64_t key, inter
    cdef double union, iou
    for i in range(t.mask + 1):
        key = t.slots[i].key
        if key < 0:
            continue
        gi = key // npred
        pj = key - gi * npred
        if gi >= ngt or gcrowd[gi] or gcat[gi] != pcat[pj]:
            continue
        inter = t.slots[i].count
        union = (<double>parea[pj] + garea[gi] - <double>inter
                 - <double>pq_table_get(t, vgi * npred + pj))
        iou = <double>inter / union
        if iou > 0.5:
            tps[k].key = key
            tps[k].iou = iou
            k += 1
            gmatched[gi] = 1
            pmatched[pj] = 1
    if k > 1:
        qsort(tps, k, sizeof(PqTp), pq_tp_cmp)
    for pj in range(npred):
        if pmatched[pj] or parea[pj] == 0:
            continue
        inter = pq_table_get(t, vgi * npred + pj)
        if pcrowd[pj] >= 0:
            inter += pq_table_get(t, pcrowd[pj] * npred + pj)
        pfp[pj] = not (<double>inter / <double>parea[pj] > 0.5)
    return k


cdef int pq_source(object a, PqSrc* s, Py_ssize_t* h, Py_ssize_t* w) except -1:
    """Bind a (h, w, >= 3) uint8 RGB array or an (h, w) uint32 id array to `s`."""
    cdef const uint8_t[:, :, :] rgb
    cdef const uint32_t[:, :] ids
    if getattr(a, "ndim", 0) == 3:
        rgb = a
        if rgb.shape[2] < 3:
            raise MaskShapeError("panoptic_image: an RGB map needs 3 channels")
        h[0] = rgb.shape[0]
        w[0] = rgb.shape[1]
        s.rgb = True
        s.s0, s.s1, s.s2 = rgb.strides[0], rgb.strides[1], rgb.strides[2]
        s.base = &rgb[0, 0, 0] if h[0] > 0 and w[0] > 0 else NULL
    else:
        ids = a
        h[0] = ids.shape[0]
        w[0] = ids.shape[1]
        s.rgb = False
        s.s0, s.s1, s.s2 = ids.strides[0], ids.strides[1], 0
        s.base = <const uint8_t*>&ids[0, 0] if h[0] > 0 and w[0] > 0 else NULL
    return 0


def panoptic_image(gt, pred, const int64_t[::1] gid, const int32_t[::1] gcat,
                   const uint8_t[::1] gcrowd, const double[::1] garea, const int64_t[::1] pid,
                   const int32_t[::1] pcat, const int64_t[::1] pcrowd, int64_t[::1] parea,
                   uint8_t[::1] gmatched, uint8_t[::1] pmatched, uint8_t[::1] pfp):
    """One image pair of panoptic quality (see pq_match). `gt`/`pred`: (h, w, >= 3) uint8 RGB
    or (h, w) uint32 id maps of one size. gid/pid: strictly increasing JSON segment ids, with
    per-segment category index (gt and pred of one category compare equal), crowd flag, JSON
    area; pcrowd: the gt index of the crowd region of each prediction's category, or -1.
    Fills parea (pixels of each prediction, zeroed first), gmatched, pmatched, pfp. Returns
    (gt indices of the matches, their IoU, smallest unknown nonzero pred id or -1)."""
    import numpy as np
    cdef PqSrc g, p
    cdef Py_ssize_t h, w, h2, w2, ngt = gid.shape[0], npred = pid.shape[0], i, k = 0, vgi
    cdef int64_t unknown = -1
    cdef PqTable t
    cdef PqTp* tps = NULL
    cdef int rc = 0
    pq_source(gt, &g, &h, &w)
    pq_source(pred, &p, &h2, &w2)
    if h != h2 or w != w2:
        raise SizeMismatchError(f"ground truth is {h}x{w} pixels, prediction {h2}x{w2}")
    if (gcat.shape[0] != ngt or gcrowd.shape[0] != ngt or garea.shape[0] != ngt
            or gmatched.shape[0] != ngt or pcat.shape[0] != npred or pcrowd.shape[0] != npred
            or parea.shape[0] != npred or pmatched.shape[0] != npred
            or pfp.shape[0] != npred):
        raise ValueError("panoptic_image: segment arrays of inconsistent lengths")
    for i in range(1, ngt):
        if gid[i] <= gid[i - 1]:
            raise ValueError("panoptic_image: gt ids must be strictly increasing")
    for i in range(1, npred):
        if pid[i] <= pid[i - 1]:
            raise ValueError("panoptic_image: pred ids must be strictly increasing")
    for i in range(npred):
        if pcrowd[i] < -1 or pcrowd[i] >= ngt:
            raise ValueError("panoptic_image: crowd index out of range")
    for i in range(ngt):
        gmatched[i] = 0
    for i in range(npred):
        parea[i] = 0
        pmatched[i] = 0
        pfp[i] = 0
    vgi = pq_find(&gid[0], ngt, 0) if ngt else -1
    if vgi < 0:
        vgi = ngt
    if npred == 0 or h == 0 or w == 0:
        # no predicted segment: nothing to count, match or test (unknown ids aside)
        if npred == 0 and h > 0 and w > 0:
            return _pq_unknown_only(&p, h, w)
        return np.empty(0, np.int64), np.empty(0, np.float64), -1
    memset(&t, 0, sizeof(PqTable))
    with nogil:
        rc = pq_table_init(&t, ngt + npred)
        if rc >= 0:
            rc = pq_count(&g, &p, h, w, &gid[0] if ngt else NULL, ngt, &pid[0], npred, &t,
                          &parea[0], &unknown)
        if rc >= 0:
            tps = <PqTp*>malloc((t.n + 1) * sizeof(PqTp))
            if tps == NULL:
                rc = ERR_NOMEM
        if rc >= 0:
            k = pq_match(&t, ngt, npred, vgi, &gcat[0] if ngt else NULL,
                         &gcrowd[0] if ngt else NULL, &garea[0] if ngt else NULL, &pcat[0],
                         &pcrowd[0], &parea[0], tps, &gmatched[0] if ngt else NULL,
                         &pmatched[0], &pfp[0])
    free(t.slots)
    if rc < 0:
        free(tps)
        _raise(rc, "panoptic image")
    tgi = np.empty(k, np.int64)
    tiou = np.empty(k, np.float64)
    cdef int64_t[::1] tg = tgi
    cdef double[::1] ti = tiou
    for i in range(k):
        tg[i] = tps[i].key // npred
        ti[i] = tps[i].iou
    free(tps)
    return tgi, tiou, unknown


cdef object _pq_unknown_only(const PqSrc* p, Py_ssize_t h, Py_ssize_t w):
    """The result of an image without predicted segments: only the smallest nonzero id."""
    import numpy as np
    cdef uint32_t* buf = <uint32_t*>malloc((w + 1) * sizeof(uint32_t))
    cdef const uint32_t* row
    cdef int64_t unknown = -1
    cdef Py_ssize_t y, x
    if buf == NULL:
        raise MemoryError()
    with nogil:
        for y in range(h):
            row = pq_row(p, y, w, buf)
            for x in range(w):
                if row[x] != 0 and (unknown < 0 or row[x] < unknown):
                    unknown = row[x]
    free(buf)
    return np.empty(0, np.int64), np.empty(0, np.float64), unknown


def panoptic_sum_iou(const int32_t[::1] cat, const double[::1] iou,
                     const int64_t[::1] bounds, double[::1] out):
    """out[c] = sum over chunks (in order) of the sequential sum of iou[j] with cat[j] == c
    for j in bounds[i]:bounds[i+1], as panopticapi adds per process and then per chunk."""
    cdef Py_ssize_t n = cat.shape[0], ncat = out.shape[0], i, j, c
    cdef double* part
    if iou.shape[0] != n or bounds.shape[0] < 1 or bounds[0] != 0 \
            or bounds[bounds.shape[0] - 1] != n:
        raise ValueError("panoptic_sum_iou: inconsistent lengths")
    for i in range(1, bounds.shape[0]):
        if bounds[i] < bounds[i - 1]:
            raise ValueError("panoptic_sum_iou: bounds must not decrease")
    for j in range(n):
        if cat[j] < 0 or cat[j] >= ncat:
            raise ValueError("panoptic_sum_iou: category index out of range")
    part = <double*>malloc((ncat + 1) * sizeof(double))
    if part == NULL:
        raise MemoryError()
    with nogil:
        for c in range(ncat):
            out[c] = 0.0
        for i in range(bounds.shape[0] - 1):
            for c in range(ncat):
                part[c] = 0.0
            for j in range(bounds[i], bounds[i + 1]):
                part[cat[j]] += iou[j]
            for c in range(ncat):
                out[c] += part[c]
    free(part)

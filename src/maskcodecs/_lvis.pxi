# ---------------------------------------------------------------------------------------------
# LVIS evaluation (maskcodecs.lvis): what lvis-api adds to pycocotools' matching
# ---------------------------------------------------------------------------------------------
# lvis-api's evaluate_img matches as pycocotools' evaluateImg does (eval_match, with no crowd
# ground truth), then also ignores every detection left unmatched whose category the image
# lists as not exhaustively annotated. The codes are eval_match's: state[(j * A + a) * T + t]
# and summary[j * A + a] per scored detection j, area range a, threshold t.

def lvis_ignore_unmatched(uint8_t[::1] state, uint8_t[::1] summary, const uint8_t[::1] flag,
                          Py_ssize_t T, Py_ssize_t A):
    """Turn the unmatched codes (ST_FP: no match, or a ground truth of id 0) of the flagged
    detections into ST_IGNORED, and their summaries with them: lvis-api's
    ``dt_ig |= (dt_m == 0) & not_exhaustive``. Returns the number of codes changed."""
    cdef Py_ssize_t ND = flag.shape[0], j, a, t, base
    cdef int64_t changed = 0
    cdef uint8_t code, first
    if T < 0 or A < 0 or state.shape[0] < ND * A * T or summary.shape[0] < ND * A:
        raise ValueError("lvis_ignore_unmatched: arrays of the wrong shape")
    if T == 0:
        return 0
    with nogil:
        for j in range(ND):
            if not flag[j]:
                continue
            for a in range(A):
                base = (j * A + a) * T
                first = ST_MIXED
                for t in range(T):
                    code = state[base + t]
                    if code == ST_FP:
                        code = ST_IGNORED
                        state[base + t] = code
                        changed += 1
                    if t == 0:
                        first = code
                    elif code != first:
                        first = ST_MIXED
                summary[j * A + a] = first
    return changed

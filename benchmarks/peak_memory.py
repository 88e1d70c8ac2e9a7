"""Peak extra memory of encode/decode on a 12 MP mask, maskcodecs vs pycocotools.

Each measurement runs in a fresh process: build the input, read the peak resident set size
(ru_maxrss), run the operation once, read it again. The difference is what the operation
added at its peak (scratch plus its output). Run: ``python benchmarks/peak_memory.py``.
"""
from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys
import numpy as np
impl, op = sys.argv[1], sys.argv[2]
h, w = 3000, 4000
m = np.zeros((h, w), np.uint8)
xx = np.arange(w)[None, :]
for y0 in range(0, h, 100):  # in bands, so that building the input has a small peak
    yy = np.arange(y0, y0 + 100)[:, None]
    for cy, cx, ay, ax in [(900, 1200, 500, 700), (2000, 2800, 600, 900), (1500, 600, 300, 400),
                           (600, 3300, 350, 500), (2500, 1800, 300, 800)]:
        m[y0:y0 + 100][((yy - cy) / ay) ** 2 + ((xx - cx) / ax) ** 2 < 1] = 1
from maskcodecs import mask as _prep
mf = np.asfortranarray(m)
r = _prep.encode(mf)  # the input RLE, built with a small scratch whichever library is measured
if impl == "maskcodecs":
    from maskcodecs import mask as M, rle as R
else:
    from pycocotools import mask as M
    R = None
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before = peak()
if op == "encode_f":
    M.encode(mf)
elif op == "encode_c":
    M.encode(m) if R is not None else M.encode(np.asfortranarray(m))
elif op == "decode_f":
    M.decode(r)
elif op == "decode_c":
    R.decode(r, order="C") if R is not None else np.ascontiguousarray(M.decode(r))
print(json.dumps({"impl": impl, "op": op, "extra_bytes": peak() - before}))
"""


def main() -> None:
    rows = []
    for op in ("encode_f", "encode_c", "decode_f", "decode_c"):
        for impl in ("maskcodecs", "pycocotools"):
            out = subprocess.run([sys.executable, "-c", CHILD, impl, op], capture_output=True,
                                 text=True, check=True)
            rows.append(json.loads(out.stdout))
    print("| operation (12 MP, 3000x4000) | maskcodecs extra peak | pycocotools extra peak |")
    print("|---|---:|---:|")
    for op in ("encode_f", "encode_c", "decode_f", "decode_c"):
        vals = {r["impl"]: r["extra_bytes"] for r in rows if r["op"] == op}
        print(f"| {op} | {vals['maskcodecs'] / 1e6:.1f} MB | {vals['pycocotools'] / 1e6:.1f} MB |")


if __name__ == "__main__":
    main()

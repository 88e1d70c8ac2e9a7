"""Fuzz the Labelbox colour split: maskcodecs.labelbox.split (masks and RLEs) and compose.

Input: h, w, channel count, up to 4 requested colours, then pixel bytes.
Invariants: only expected rejections escape; each mask is exactly the pixels equal to its
colour on R, G and B; masks of distinct colours do not overlap; requested areas plus the
unrequested counts plus the background cover the image; RLE output equals the masks.
"""
from __future__ import annotations

import numpy as np
from _fuzzcommon import Input, check, expect_rejection, main

from maskcodecs import labelbox
from maskcodecs import mask as mc


def test_one(data: bytes) -> None:
    inp = Input(data)
    h = inp.uint(1) % 24
    w = inp.uint(1) % 24
    ch = (3, 4)[inp.below(2)]
    ncol = inp.below(5)
    palette = [tuple(inp.take(3).ljust(3, b"\0")) for _ in range(4)]
    colors = [tuple(int(v) for v in c) for c in palette[:ncol]]
    px = inp.take(h * w * ch).ljust(h * w * ch, b"\0")
    # draw pixels mostly from the palette so that colours repeat
    img = np.frombuffer(px, dtype=np.uint8).reshape(h, w, ch).copy()
    pick = img[..., 0] % 5
    for k in range(4):
        img[pick == k, :3] = palette[k]
    ok, res = expect_rejection(lambda: labelbox.split(img, colors))
    if not ok:
        return
    rgb = img[..., :3]
    seen = np.zeros((h, w), dtype=np.int64)
    for c, m in zip(res.colors, res.masks):
        want = (rgb == np.array(c, np.uint8)).all(axis=2)
        check(bool((np.asarray(m) == want).all()), f"mask of {c} is not its exact pixels")
        seen += want
    distinct = {tuple(c) for c in res.colors}
    if len(distinct) == len(res.colors):
        check(int(seen.max(initial=0)) <= 1, "masks of distinct colours overlap")
        covered = int(sum(int(a) for a in res.areas)) + sum(res.unrequested.values())
        bg = int((rgb == 0).all(axis=2).sum()) if (0, 0, 0) not in distinct else 0
        check(covered + bg == h * w, "areas + unrequested + background != h*w")
    ok, rres = expect_rejection(lambda: labelbox.split(img, colors, output="rle"))
    check(ok, "rle output rejected an input that mask output accepted")
    for r, m in zip(rres.rles, res.masks):
        check(bool((mc.decode(r) == np.asarray(m)).all()), "RLE output differs from masks")


if __name__ == "__main__":
    main(test_one)

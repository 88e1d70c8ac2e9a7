"""Write the seed corpus fuzz/corpus/<harness>/ (deterministic; run again to refresh)."""
from __future__ import annotations

import hashlib
import random
import struct
from pathlib import Path

import numpy as np

from maskcodecs import mask as mc

HERE = Path(__file__).resolve().parent


def _enc(h: int, w: int, rng: random.Random) -> bytes:
    m = np.zeros((h, w), dtype=np.uint8, order="F")
    for _ in range(rng.randint(0, 4)):
        y, x = rng.randrange(max(h, 1)), rng.randrange(max(w, 1))
        m[y:y + rng.randint(1, 6), x:x + rng.randint(1, 6)] = 1
    return mc.encode(m)["counts"] if h and w else b"0"


def _runs(rng: random.Random, n: int) -> bytes:
    return bytes([rng.randint(0, 1)] + [rng.randint(0, 23) for _ in range(n)])


def seeds() -> dict[str, list[bytes]]:
    rng = random.Random(20261122)
    out: dict[str, list[bytes]] = {k: [] for k in
                                   ("counts_string", "transpose", "merge", "iou", "frpyobjects",
                                    "encord", "labelbox", "coco_json", "png",
                                    "coco_scan")}
    sizes = [(4, 3), (1, 1), (0, 5), (7, 0), (13, 17), (39, 2), (2, 39), (25, 25)]
    for h, w in sizes:
        s = _enc(h, w, rng)
        out["counts_string"] += [bytes([h, w, 0]) + s, bytes([h, w, 1]) + s]
        out["transpose"].append(bytes([h, w]) + s)
    out["counts_string"] += [bytes([4, 3, 0]) + b"521O2", bytes([4, 3, 0]) + b"52",
                             bytes([4, 3, 0]) + b"5o", bytes([250, 0x10, 0x27, 4, 0]) + b"0",
                             bytes([255, 0, 0, 1, 0, 255, 0, 0, 1, 0, 0]) + b"OOOOO1"]
    for h, w in [(5, 4), (13, 11), (23, 1), (1, 23)]:
        for inter in (0, 1):
            body = b"".join(bytes([rng.randrange(170)]) + _runs(rng, 40) for _ in range(3))
            out["merge"].append(bytes([h, w, inter, 2]) + body)
            iou_body = b"".join(bytes([rng.randrange(170)]) + _runs(rng, 30) for _ in range(4))
            out["iou"].append(bytes([0, 2, 2, inter, 1 - inter, h, w]) + iou_body)
    for _ in range(4):
        coords = b"".join(bytes([rng.randrange(180)]) + struct.pack("<H", rng.randrange(1 << 13))
                          for _ in range(16))
        out["iou"].append(bytes([1, 2, 3, 0, 1, 0]) + coords)
    for kind in range(8):
        coords = b"".join(bytes([rng.randrange(180)]) + struct.pack("<H", rng.randrange(1 << 13))
                          for _ in range(14))
        out["frpyobjects"].append(bytes([20, 30, kind, 2, 8]) + coords)
    out["frpyobjects"].append(bytes([20, 30, 0, 0, 6, 241, 0, 0, 0, 0, 0]))  # nan vertex
    out["frpyobjects"].append(bytes([20, 30, 4, 5, 3, 4, 5, 6, 7]))
    out["encord"] += [b'{"rleString": "521O2", "top": 0, "left": 0, "width": 3, "height": 4}',
                      b'{"bitmask": {"rleString": "52", "width": 2, "height": 2}}']
    out["labelbox"] += [bytes([4, 3, 2]) + bytes(range(36))]
    out["coco_json"] += [b'{"segmentation": [[1, 1, 5, 1, 5, 5]], "iscrowd": 0}',
                         b'{"segmentation": {"size": [4, 3], "counts": "521O2"}, "iscrowd": 1}',
                         b'{"segmentation": {"size": [4, 3], "counts": [5, 2, 1, 2]}}']
    # coco_scan: a selector byte, then a dataset or a results file
    out["coco_scan"] += [
        b'\x05{"images": [{"id": 1, "width": 4, "height": 3}], "annotations": [{"id": 1, '
        b'"image_id": 1, "category_id": 2, "bbox": [0.5, 1, 2e0, -0.0], "area": 4, '
        b'"iscrowd": 0, "segmentation": [[1, 1, 3, 1, 3, 2.5]]}], "categories": [{"id": 2}]}',
        b'\x11[{"image_id": 1, "category_id": 2, "score": 0.98765432109876543, '
        b'"segmentation": {"size": [4, 3], "counts": "5\\\\2\u00301O2"}}]',
        b'\x21[{"image_id": 7, "category_id": 1, "keypoints": [1, 2, 2, 1e-7, 5, 0], '
        b'"score": 1}, {"image_id": 7, "bbox": [], "x": "\ud800 \u00e9"}]',
    ]
    # png: byte 0 = 0 builds a file from (w, h, layout, interlace, extra chunk, raw-stream
    # flag, IDAT parts) and the image data, filter bytes included
    samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
    for layout, (depth, colour) in enumerate([(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (8, 2),
                                              (1, 3), (2, 3), (4, 3), (8, 3), (8, 4), (8, 6)]):
        rb = (6 * depth * samples[colour] + 7) // 8
        rows = b"".join(bytes([f % 5]) + bytes(rng.randrange(4) * 60 for _ in range(rb))
                        for f in range(6))
        layout_index = [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (8, 2), (16, 2), (1, 3),
                        (2, 3), (4, 3), (8, 3), (8, 4)].index((depth, colour)) \
            if (depth, colour) != (8, 6) else 13
        out["png"].append(bytes([0, 6, 6, layout_index, 1, 0, 0, layout % 3]) + rows)
    # strings long enough for the vector counts parser (24 characters and more): discs
    for h, w in [(64, 48), (120, 90), (200, 17)]:
        yy, xx = np.mgrid[:h, :w]
        disc = ((yy - h / 2) / (h / 3)) ** 2 + ((xx - w / 2) / (w / 3)) ** 2 <= 1
        s = mc.encode(np.asfortranarray(disc.astype(np.uint8)))["counts"]
        out["counts_string"] += [bytes([h, w, 0]) + s, bytes([h, w, 1]) + s[:-3] + b"ooo0"]
    return out


def main() -> None:
    for name, items in seeds().items():
        d = HERE / "corpus" / name
        d.mkdir(parents=True, exist_ok=True)
        for data in items:
            (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)
        print(f"{name}: {len(items)} seeds")


if __name__ == "__main__":
    main()

"""Generate a synthetic, COCO-shaped evaluation workload (deterministic, seeded numpy).

The files look like COCO val2017 and a detector's results on it, so that ``COCO``,
``loadRes`` and ``COCOeval`` do the same amount and kind of work as on the real data:

  instances_gt.json          images (sizes around 640x480), the 80 COCO categories, about
                             8 annotations per image: polygons (some of 2-3 parts), objects
                             with holes as compressed RLE (iscrowd=0), ~1% crowd regions as
                             uncompressed RLE (iscrowd=1); COCO's small/medium/large mix
  dets_bbox.json             about as many bbox results: jittered GT boxes, duplicates,
                             misclassified boxes, false positives, tied scores
  dets_segm.json             the same detections as compressed RLE (str counts, no bbox key)
  dets_bbox_x10.json         ten times the bbox results (a low score threshold)
  person_keypoints_gt.json   about 2 people per image with 17 keypoints (v = 0/1/2)
  dets_keypoints.json        keypoint results with jittered keypoints
  manifest.json              generator version, arguments and counts (written last)

``bbox`` and ``area`` of every ground-truth annotation are computed from its segmentation with
pycocotools (``frPyObjects`` + ``merge``, ``area``, ``toBbox``), or with maskcodecs.mask when
pycocotools is absent (the two are bit-exact).

``--objects365`` writes instead an Objects365-sized bbox-only workload (365 categories,
``--images`` default 50,000, about 600k GT boxes and 1M detections): ``o365_gt.json`` and
``o365_dets_bbox.json``.

Usage::

    python scripts/make_eval_workload.py OUTDIR [--images 5000] [--seed 0] [--objects365]

From Python (with scripts/ on sys.path)::

    from make_eval_workload import generate, ensure
    files = generate(images=300, seed=0)        # {file name: JSON-ready object}
    folder = ensure("benchmarks/.cache/eval_workload/n300-seed0", images=300, seed=0)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:  # the reference implementation; maskcodecs.mask is bit-exact with it
    from pycocotools import mask as _M
except ImportError:  # pragma: no cover - pycocotools is a bench/test dependency
    from maskcodecs import mask as _M

#: bump when the output of generate() changes, so that cached folders are rebuilt
VERSION = 1

FILES = ("instances_gt.json", "dets_bbox.json", "dets_segm.json", "dets_bbox_x10.json",
         "person_keypoints_gt.json", "dets_keypoints.json")
O365_FILES = ("o365_gt.json", "o365_dets_bbox.json")

# (id, name, supercategory) of the 80 COCO categories, with COCO's gaps in the ids
COCO_CATEGORIES = [
    (1, "person", "person"), (2, "bicycle", "vehicle"), (3, "car", "vehicle"),
    (4, "motorcycle", "vehicle"), (5, "airplane", "vehicle"), (6, "bus", "vehicle"),
    (7, "train", "vehicle"), (8, "truck", "vehicle"), (9, "boat", "vehicle"),
    (10, "traffic light", "outdoor"), (11, "fire hydrant", "outdoor"),
    (13, "stop sign", "outdoor"), (14, "parking meter", "outdoor"), (15, "bench", "outdoor"),
    (16, "bird", "animal"), (17, "cat", "animal"), (18, "dog", "animal"),
    (19, "horse", "animal"), (20, "sheep", "animal"), (21, "cow", "animal"),
    (22, "elephant", "animal"), (23, "bear", "animal"), (24, "zebra", "animal"),
    (25, "giraffe", "animal"), (27, "backpack", "accessory"), (28, "umbrella", "accessory"),
    (31, "handbag", "accessory"), (32, "tie", "accessory"), (33, "suitcase", "accessory"),
    (34, "frisbee", "sports"), (35, "skis", "sports"), (36, "snowboard", "sports"),
    (37, "sports ball", "sports"), (38, "kite", "sports"), (39, "baseball bat", "sports"),
    (40, "baseball glove", "sports"), (41, "skateboard", "sports"),
    (42, "surfboard", "sports"), (43, "tennis racket", "sports"), (44, "bottle", "kitchen"),
    (46, "wine glass", "kitchen"), (47, "cup", "kitchen"), (48, "fork", "kitchen"),
    (49, "knife", "kitchen"), (50, "spoon", "kitchen"), (51, "bowl", "kitchen"),
    (52, "banana", "food"), (53, "apple", "food"), (54, "sandwich", "food"),
    (55, "orange", "food"), (56, "broccoli", "food"), (57, "carrot", "food"),
    (58, "hot dog", "food"), (59, "pizza", "food"), (60, "donut", "food"),
    (61, "cake", "food"), (62, "chair", "furniture"), (63, "couch", "furniture"),
    (64, "potted plant", "furniture"), (65, "bed", "furniture"),
    (67, "dining table", "furniture"), (70, "toilet", "furniture"), (72, "tv", "electronic"),
    (73, "laptop", "electronic"), (74, "mouse", "electronic"), (75, "remote", "electronic"),
    (76, "keyboard", "electronic"), (77, "cell phone", "electronic"),
    (78, "microwave", "appliance"), (79, "oven", "appliance"), (80, "toaster", "appliance"),
    (81, "sink", "appliance"), (82, "refrigerator", "appliance"), (84, "book", "indoor"),
    (85, "clock", "indoor"), (86, "vase", "indoor"), (87, "scissors", "indoor"),
    (88, "teddy bear", "indoor"), (89, "hair drier", "indoor"), (90, "toothbrush", "indoor"),
]
KEYPOINT_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
]
SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7],
            [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6],
            [5, 7]]
# a standing person in box-normalised (x, y); the left side is on the image's right
_KP_TEMPLATE = np.array([
    (0.50, 0.07), (0.54, 0.05), (0.46, 0.05), (0.58, 0.07), (0.42, 0.07), (0.68, 0.20),
    (0.32, 0.20), (0.76, 0.35), (0.24, 0.35), (0.80, 0.48), (0.20, 0.48), (0.62, 0.52),
    (0.38, 0.52), (0.63, 0.72), (0.37, 0.72), (0.64, 0.93), (0.36, 0.93)])
# keypoints of a mirrored person: left and right swapped
_KP_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]

#: COCO val2017's share of small / medium / large objects (by area, 32^2 and 96^2)
SIZE_MIX = (0.41, 0.34, 0.25)
#: integer boxes whose polygon area is exactly 1024 or 9216: both area ranges' bounds
_TIE_BOXES = [(32, 32), (64, 16), (16, 64), (96, 96), (128, 72), (72, 128)]


# ---------------------------------------------------------------------------------------------
# geometry helpers
# ---------------------------------------------------------------------------------------------

def _image_sizes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(heights, widths): mostly a long side of 640 and a short side of 360-480, as in COCO."""
    long_side = np.where(rng.random(n) < 0.85, 640, rng.integers(400, 641, n))
    common = np.array([480, 427, 426, 428, 424, 425, 480, 480, 512, 360, 640])
    short = np.where(rng.random(n) < 0.8, rng.choice(common, n), rng.integers(300, 481, n))
    short = np.minimum(short, long_side)
    landscape = rng.random(n) < 0.72
    return np.where(landscape, short, long_side), np.where(landscape, long_side, short)


def _star(cx: float, cy: float, rx: float, ry: float, nv: int,
          rng: np.random.Generator) -> np.ndarray:
    """A smooth, star-shaped, rotated blob of `nv` vertices as an (nv, 2) float array."""
    t = np.sort(rng.uniform(0, 2 * np.pi, nv))
    t = 0.5 * t + 0.5 * np.linspace(0, 2 * np.pi, nv, endpoint=False)  # roughly even spacing
    r = np.ones(nv)
    for k in range(1, 5):
        r += rng.uniform(0, 0.22 / k) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    r = np.maximum(r, 0.35)
    rot = rng.uniform(0, np.pi)
    x, y = rx * r * np.cos(t), ry * r * np.sin(t)
    c, s = np.cos(rot), np.sin(rot)
    return np.column_stack([cx + c * x - s * y, cy + s * x + c * y])


def _clip_flat(p: np.ndarray, h: int, w: int) -> list[float]:
    """Clip an (n, 2) polygon to the image and flatten to COCO's [x0, y0, x1, y1, ...]."""
    q = np.empty_like(p)
    q[:, 0] = np.clip(p[:, 0], 0, w)
    q[:, 1] = np.clip(p[:, 1], 0, h)
    return np.round(q, 2).ravel().tolist()


def _n_vertices(side: float) -> int:
    return int(np.clip(round(6 + 0.3 * side), 6, 64))


def _rle_of_polys(polys: Sequence[list[float]], h: int, w: int) -> dict[str, Any]:
    return _M.merge(_M.frPyObjects(list(polys), h, w))


def _uncompressed_counts(m: np.ndarray) -> list[int]:
    """COCO uncompressed RLE counts (column-major runs, starting with zeros) of a bool mask."""
    flat = m.ravel(order="F").view(np.uint8)
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate([[0], change, [flat.size]]))
    if flat.size and flat[0]:
        runs = np.concatenate([[0], runs])
    return runs.tolist()


def _area_bbox(rle: dict[str, Any]) -> tuple[int, list[float]]:
    return int(_M.area(rle)), [float(v) for v in _M.toBbox(rle)]


def _str_counts(rle: dict[str, Any]) -> dict[str, Any]:
    c = rle["counts"]
    return {"size": [int(v) for v in rle["size"]],
            "counts": c.decode("ascii") if isinstance(c, bytes) else c}


def _scores(n: int, rng: np.random.Generator, a: float, b: float) -> np.ndarray:
    """Scores in (0, 1): Beta(a, b), rounded to 5 decimals (so some tie), kept off 0 and 1."""
    return np.clip(np.round(rng.beta(a, b, n), 5), 0.00101, 0.99899)


def _tie_scores(dets: list[dict[str, Any]], rng: np.random.Generator) -> None:
    """Give ~5% of the detections the score of another detection of the same image, and
    round ~8% to 2 decimals: exact ties both within an image and across images."""
    by_img: dict[int, list[int]] = {}
    for i, d in enumerate(dets):
        by_img.setdefault(d["image_id"], []).append(i)
    u = rng.random(len(dets))
    for i, d in enumerate(dets):
        if u[i] < 0.05:
            same = by_img[d["image_id"]]
            d["score"] = dets[same[int(rng.integers(len(same)))]]["score"]
        elif u[i] < 0.13:
            d["score"] = float(np.clip(round(d["score"], 2), 0.01, 0.99))


# ---------------------------------------------------------------------------------------------
# instances (ground truth)
# ---------------------------------------------------------------------------------------------

def _images(n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    hs, ws = _image_sizes(n, rng)
    ids = np.sort(rng.choice(np.arange(1, 600_000), n, replace=False))
    order = rng.permutation(n)  # COCO's image list is not sorted by id
    return [{"id": int(ids[k]), "file_name": f"{int(ids[k]):012d}.jpg",
             "height": int(hs[k]), "width": int(ws[k])} for k in order]


def _category_weights(ncat: int) -> np.ndarray:
    w = 1.0 / np.arange(1, ncat + 1) ** 0.8
    w[0] = w.sum() * 0.37  # person: about 27% of all objects, as in COCO
    return w / w.sum()


def _object_side(rng: np.random.Generator, h: int, w: int) -> float:
    """sqrt(area) of an object: COCO's small/medium/large mix, log-uniform within each."""
    u = rng.random()
    big = 0.9 * np.sqrt(h * w)
    if u < SIZE_MIX[0]:
        lo, hi = 3.0, 32.0
    elif u < SIZE_MIX[0] + SIZE_MIX[1]:
        lo, hi = 32.0, 96.0
    else:
        lo, hi = 96.0, big
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _object(rng: np.random.Generator, h: int, w: int) -> dict[str, Any]:
    """Geometry of one non-crowd object: its parts as (n, 2) arrays, plus a hole if any."""
    if rng.random() < 0.006:  # an axis-aligned box of area exactly 32^2 or 96^2 (a range tie)
        bw, bh = _TIE_BOXES[int(rng.integers(len(_TIE_BOXES)))]
        if bw < w and bh < h:
            x0, y0 = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            box = np.array([(x0, y0), (x0 + bw, y0), (x0 + bw, y0 + bh), (x0, y0 + bh)], float)
            return {"parts": [box], "hole": None}
    side = _object_side(rng, h, w)
    ar = float(np.exp(rng.normal(0, 0.5)))
    # a star blob fills about 70% of its ellipse's box, and an ellipse ~0.785 of its box
    rx = min(side * np.sqrt(ar) / 1.6, 0.55 * w)
    ry = min(side / np.sqrt(ar) / 1.6, 0.55 * h)
    cx = rng.uniform(0.6 * rx, w - 0.6 * rx) if w > 1.2 * rx else w / 2
    cy = rng.uniform(0.6 * ry, h - 0.6 * ry) if h > 1.2 * ry else h / 2
    u = rng.random()
    parts: list[np.ndarray]
    hole = None
    if side > 20 and u < 0.08:  # occluded: 2-3 separate parts
        k = int(rng.integers(2, 4))
        parts = []
        for _ in range(k):
            ox, oy = rng.normal(0, 0.6 * rx), rng.normal(0, 0.6 * ry)
            f = rng.uniform(0.35, 0.65)
            parts.append(_star(cx + ox, cy + oy, f * rx, f * ry, _n_vertices(f * side), rng))
    else:
        parts = [_star(cx, cy, rx, ry, _n_vertices(side), rng)]
        if side > 40 and u > 0.97:  # an object with a hole
            f = rng.uniform(0.2, 0.4)
            hole = _star(cx + rng.normal(0, 0.1 * rx), cy + rng.normal(0, 0.1 * ry),
                         f * rx, f * ry, 12, rng)
    return {"parts": parts, "hole": hole}


def _crowd_region(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, list[float]]:
    """A crowd: the union of 3-8 blobs in a large box. Returns (mask, box xywh)."""
    bw, bh = rng.uniform(0.3, 0.9) * w, rng.uniform(0.2, 0.7) * h
    x0, y0 = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
    polys = []
    for _ in range(int(rng.integers(3, 9))):
        cx, cy = rng.uniform(x0, x0 + bw), rng.uniform(y0, y0 + bh)
        rx, ry = rng.uniform(0.1, 0.3) * bw, rng.uniform(0.15, 0.4) * bh
        polys.append(_clip_flat(_star(cx, cy, rx, ry, 16, rng), h, w))
    m = _M.decode(_rle_of_polys(polys, h, w)).astype(bool)
    return m, [x0, y0, bw, bh]


def _instances(images: list[dict[str, Any]], rng: np.random.Generator
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """GT annotations, and per annotation the geometry the detections are derived from."""
    ncat = len(COCO_CATEGORIES)
    cat_ids = np.array([c[0] for c in COCO_CATEGORIES])
    cw = _category_weights(ncat)
    counts = np.minimum(rng.negative_binomial(2.5, 2.5 / 10.5, len(images)), 60)
    anns: list[dict[str, Any]] = []
    geoms: list[dict[str, Any]] = []
    for img, n in zip(images, counts):
        h, w = img["height"], img["width"]
        dominant = rng.choice(ncat, int(rng.integers(1, 5)), p=cw)
        for _ in range(int(n)):
            c = int(rng.choice(dominant) if rng.random() < 0.6 else rng.choice(ncat, p=cw))
            if rng.random() < 0.01:
                if rng.random() < 0.6:
                    c = 0  # crowds are mostly people
                m, box = _crowd_region(rng, h, w)
                seg: Any = {"counts": _uncompressed_counts(m), "size": [h, w]}
                rle = _M.frPyObjects(seg, h, w)
                geom = {"crowd": True, "box": box}
                crowd = 1
            else:
                ob = _object(rng, h, w)
                polys = [_clip_flat(p, h, w) for p in ob["parts"]]
                rle = _rle_of_polys(polys, h, w)
                if ob["hole"] is not None:
                    m = _M.decode(rle).astype(bool)
                    m &= ~_M.decode(_rle_of_polys([_clip_flat(ob["hole"], h, w)], h, w)
                                    ).astype(bool)
                    rle = _M.encode(np.asfortranarray(m.view(np.uint8)))
                    seg = _str_counts(rle)
                else:
                    seg = polys
                geom = {"crowd": False, "parts": ob["parts"]}
                crowd = 0
            area, bbox = _area_bbox(rle)
            if area == 0:  # a sliver clipped away entirely; COCO has none
                continue
            geom["bbox"] = bbox
            anns.append({"image_id": img["id"], "category_id": int(cat_ids[c]),
                         "segmentation": seg, "area": area, "bbox": bbox, "iscrowd": crowd})
            geoms.append(geom)
    # annotation ids: unique, not in file order (as in COCO)
    ids = rng.choice(np.arange(1, 20 * len(anns) + 2), len(anns), replace=False)
    for a, i in zip(anns, ids):
        a["id"] = int(i)
    return anns, geoms


# ---------------------------------------------------------------------------------------------
# detections
# ---------------------------------------------------------------------------------------------

def _jitter(rng: np.random.Generator, sigma: float) -> tuple[float, float, float, float]:
    """(scale x, scale y, shift x, shift y as fractions of the box size)."""
    return (float(np.exp(rng.normal(0, sigma))), float(np.exp(rng.normal(0, sigma))),
            float(rng.normal(0, sigma)), float(rng.normal(0, sigma)))


def _apply_box(bbox: Sequence[float], t: tuple[float, float, float, float], h: int, w: int
               ) -> list[float] | None:
    x, y, bw, bh = bbox
    cx, cy = x + bw / 2 + t[2] * bw, y + bh / 2 + t[3] * bh
    nw, nh = bw * t[0], bh * t[1]
    x0, y0 = max(0.0, cx - nw / 2), max(0.0, cy - nh / 2)
    x1, y1 = min(float(w), cx + nw / 2), min(float(h), cy + nh / 2)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return [round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)]


def _apply_poly(p: np.ndarray, bbox: Sequence[float], t: tuple[float, float, float, float],
                noise: float, rng: np.random.Generator) -> np.ndarray:
    x, y, bw, bh = bbox
    cx, cy = x + bw / 2, y + bh / 2
    q = np.empty_like(p)
    q[:, 0] = cx + t[2] * bw + (p[:, 0] - cx) * t[0]
    q[:, 1] = cy + t[3] * bh + (p[:, 1] - cy) * t[1]
    return q + rng.normal(0, noise * max(1.0, np.sqrt(bw * bh)), q.shape)


def _detections(images: list[dict[str, Any]], anns: list[dict[str, Any]],
                geoms: list[dict[str, Any]], rng: np.random.Generator
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """bbox results and segm results (the same detections, the same scores)."""
    cat_ids = np.array([c[0] for c in COCO_CATEGORIES])
    cw = _category_weights(len(cat_ids))
    size = {img["id"]: (img["height"], img["width"]) for img in images}
    by_img: dict[int, list[int]] = {}
    for i, a in enumerate(anns):
        by_img.setdefault(a["image_id"], []).append(i)
    bbox_dets: list[dict[str, Any]] = []
    segm_dets: list[dict[str, Any]] = []

    def add(img_id: int, cat: int, box: list[float] | None, polys: list[np.ndarray],
            score: float) -> None:
        if box is None:
            return
        h, w = size[img_id]
        flat = [_clip_flat(p, h, w) for p in polys]
        rle = _rle_of_polys(flat, h, w)
        if int(_M.area(rle)) == 0:
            return
        bbox_dets.append({"image_id": img_id, "category_id": cat, "bbox": box,
                          "score": score})
        segm_dets.append({"image_id": img_id, "category_id": cat,
                          "segmentation": _str_counts(rle), "score": score})

    for img in images:
        img_id, h, w = img["id"], img["height"], img["width"]
        idx = by_img.get(img_id, [])
        for i in idx:
            a, g = anns[i], geoms[i]
            if g["crowd"]:  # a few detections inside a crowd region (absorbed by the crowd)
                x0, y0, bw, bh = g["box"]
                for _ in range(int(rng.integers(1, 4))):
                    s = rng.uniform(0.1, 0.3)
                    cx, cy = rng.uniform(x0, x0 + bw), rng.uniform(y0, y0 + bh)
                    p = _star(cx, cy, s * bw, 1.5 * s * bh, 12, rng)
                    box = _apply_box([cx - s * bw, cy - 1.5 * s * bh, 2 * s * bw,
                                      3 * s * bh], (1, 1, 0, 0), h, w)
                    add(img_id, a["category_id"], box, [p], float(_scores(1, rng, 2, 3)[0]))
                continue
            side = np.sqrt(a["area"])
            p_det = 0.6 if side < 32 else (0.85 if side < 96 else 0.95)
            if rng.random() >= p_det:
                continue
            sigma = 0.02 + 0.25 * rng.beta(1.5, 4)
            cat = a["category_id"]
            if rng.random() < 0.06:  # misclassified
                cat = int(rng.choice(cat_ids, p=cw))
            base = float(rng.beta(5, 2) * (1 - 1.5 * sigma) + rng.normal(0, 0.05))
            score = float(np.clip(round(base, 5), 0.00101, 0.99899))
            t = _jitter(rng, sigma)
            add(img_id, cat, _apply_box(a["bbox"], t, h, w),
                [_apply_poly(p, a["bbox"], t, 0.01, rng) for p in g["parts"]], score)
            if rng.random() < 0.12:  # a duplicate, worse and lower
                t2 = _jitter(rng, 1.5 * sigma + 0.03)
                s2 = float(np.clip(round(score * rng.uniform(0.3, 0.9), 5), 0.00101, 0.99899))
                add(img_id, cat, _apply_box(a["bbox"], t2, h, w),
                    [_apply_poly(p, a["bbox"], t2, 0.02, rng) for p in g["parts"]], s2)
        # false positives
        present = [anns[i]["category_id"] for i in idx] or [int(rng.choice(cat_ids, p=cw))]
        for _ in range(int(rng.poisson(1.2))):
            cat = int(rng.choice(present)) if rng.random() < 0.5 else int(
                rng.choice(cat_ids, p=cw))
            side = _object_side(rng, h, w)
            ar = float(np.exp(rng.normal(0, 0.5)))
            rx, ry = min(side * np.sqrt(ar) / 1.6, 0.5 * w), min(side / np.sqrt(ar) / 1.6, 0.5 * h)
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            p = _star(cx, cy, rx, ry, _n_vertices(side), rng)
            box = _apply_box([cx - rx, cy - ry, 2 * rx, 2 * ry], (1, 1, 0, 0), h, w)
            add(img_id, cat, box, [p], float(_scores(1, rng, 1.2, 5)[0]))
    tie = np.random.default_rng(rng.integers(2**63))
    _tie_scores(bbox_dets, tie)
    for b, s in zip(bbox_dets, segm_dets):
        s["score"] = b["score"]
    return bbox_dets, segm_dets


def _detections_x10(images: list[dict[str, Any]], base: list[dict[str, Any]],
                    rng: np.random.Generator, cap: int = 100) -> list[dict[str, Any]]:
    """Each base detection plus 9 looser, lower-scored variants; at most `cap` per
    (image, category), keeping the highest scores (ties in file order)."""
    size = {img["id"]: (img["height"], img["width"]) for img in images}
    n = len(base)
    reps = 9
    box = np.array([d["bbox"] for d in base], dtype=np.float64)
    img = np.array([d["image_id"] for d in base], dtype=np.int64)
    cat = np.array([d["category_id"] for d in base], dtype=np.int64)
    score = np.array([d["score"] for d in base], dtype=np.float64)
    hw = np.array([size[i] for i in img.tolist()], dtype=np.float64).reshape(n, 2)
    sigma = rng.uniform(0.05, 0.4, (reps, n))
    sx, sy = np.exp(rng.normal(0, sigma)), np.exp(rng.normal(0, sigma))
    dx, dy = rng.normal(0, sigma), rng.normal(0, sigma)
    cx = box[:, 0] + box[:, 2] / 2 + dx * box[:, 2]
    cy = box[:, 1] + box[:, 3] / 2 + dy * box[:, 3]
    nw, nh = box[:, 2] * sx, box[:, 3] * sy
    x0 = np.maximum(0, cx - nw / 2)
    y0 = np.maximum(0, cy - nh / 2)
    x1 = np.minimum(hw[:, 1], cx + nw / 2)
    y1 = np.minimum(hw[:, 0], cy + nh / 2)
    cat_ids = np.array([c[0] for c in COCO_CATEGORIES])
    vcat = np.where(rng.random((reps, n)) < 0.3, rng.choice(cat_ids, (reps, n)), cat)
    vscore = np.clip(np.round(score * rng.uniform(0.02, 0.6, (reps, n)), 5), 0.00101, 0.99899)
    ok = (x1 - x0 >= 1) & (y1 - y0 >= 1)
    out_box = np.round(np.stack([x0, y0, x1 - x0, y1 - y0], axis=-1), 2)
    a_img = np.concatenate([img, np.broadcast_to(img, (reps, n))[ok]])
    a_cat = np.concatenate([cat, vcat[ok]])
    a_score = np.concatenate([score, vscore[ok]])
    a_box = np.concatenate([box, out_box[ok]])
    # the cap: rank within (image, category) by descending score, stable
    order = np.lexsort((np.arange(a_img.size), -a_score, a_cat, a_img))
    key_img, key_cat = a_img[order], a_cat[order]
    start = np.r_[True, (key_img[1:] != key_img[:-1]) | (key_cat[1:] != key_cat[:-1])]
    grp = np.cumsum(start) - 1
    rank = np.arange(order.size) - np.flatnonzero(start)[grp]
    keep = np.sort(order[rank < cap])
    # file order: grouped by image as a detector writes it, base detection first
    keep = keep[np.argsort(a_img[keep], kind="stable")]
    return [{"image_id": int(i), "category_id": int(c), "bbox": b, "score": float(s)}
            for i, c, b, s in zip(a_img[keep].tolist(), a_cat[keep].tolist(),
                                  a_box[keep].tolist(), a_score[keep].tolist())]


# ---------------------------------------------------------------------------------------------
# person keypoints
# ---------------------------------------------------------------------------------------------

def _skeleton(rng: np.random.Generator, box: Sequence[float], noise: float) -> np.ndarray:
    """17 (x, y) keypoints of a person in `box`, mirrored at random, with pose noise."""
    x, y, bw, bh = box
    t = _KP_TEMPLATE.copy()
    if rng.random() < 0.5:
        t = t[_KP_FLIP].copy()
        t[:, 0] = 1 - t[:, 0]
    t += rng.normal(0, noise, t.shape)
    return np.column_stack([x + t[:, 0] * bw, y + t[:, 1] * bh])


def _keypoints(images: list[dict[str, Any]], rng: np.random.Generator
               ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    anns: list[dict[str, Any]] = []
    kp_true: list[np.ndarray] = []
    for img in images:
        h, w = img["height"], img["width"]
        if rng.random() >= 0.55:
            continue
        for _ in range(1 + int(rng.negative_binomial(1.5, 1.5 / 4.1))):
            if rng.random() < 0.01:  # a crowd of people: no keypoints
                m, _box = _crowd_region(rng, h, w)
                seg: Any = {"counts": _uncompressed_counts(m), "size": [h, w]}
                rle = _M.frPyObjects(seg, h, w)
                area, bbox = _area_bbox(rle)
                anns.append({"image_id": img["id"], "category_id": 1, "segmentation": seg,
                             "area": area, "bbox": bbox, "iscrowd": 1,
                             "num_keypoints": 0, "keypoints": [0] * 51})
                kp_true.append(np.zeros((17, 2)))
                continue
            side = _object_side(rng, h, w)
            ar = float(np.exp(rng.normal(np.log(0.4), 0.3)))  # width / height
            bw, bh = min(side * np.sqrt(ar) * 1.15, w), min(side / np.sqrt(ar) * 1.15, h)
            x0, y0 = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
            poly = _clip_flat(_star(x0 + bw / 2, y0 + bh / 2, bw / 2, bh / 2,
                                    _n_vertices(side), rng), h, w)
            rle = _rle_of_polys([poly], h, w)
            area, bbox = _area_bbox(rle)
            if area == 0:
                continue
            pts = _skeleton(rng, [x0, y0, bw, bh], 0.03)
            p_label = 0.0 if (side < 32 and rng.random() < 0.7) else rng.uniform(0.3, 1.0)
            labelled = rng.random(17) < p_label
            inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
            labelled &= inside
            v = np.where(labelled, np.where(rng.random(17) < 0.8, 2, 1), 0)
            kp = np.zeros((17, 3), dtype=np.int64)
            kp[:, 0] = np.where(labelled, np.floor(pts[:, 0]), 0)
            kp[:, 1] = np.where(labelled, np.floor(pts[:, 1]), 0)
            kp[:, 2] = v
            anns.append({"image_id": img["id"], "category_id": 1, "segmentation": [poly],
                         "area": area, "bbox": bbox, "iscrowd": 0,
                         "num_keypoints": int(labelled.sum()), "keypoints": kp.ravel().tolist()})
            kp_true.append(pts)
    ids = rng.choice(np.arange(1, 20 * len(anns) + 2), len(anns), replace=False)
    for a, i in zip(anns, ids):
        a["id"] = int(i)
    cat = {"id": 1, "name": "person", "supercategory": "person", "keypoints": KEYPOINT_NAMES,
           "skeleton": SKELETON}
    gt = {"info": {"description": "maskcodecs synthetic person keypoints", "version": "1"},
          "images": images, "annotations": anns, "categories": [cat]}
    size = {img["id"]: (img["height"], img["width"]) for img in images}
    dets: list[dict[str, Any]] = []

    def det(img_id: int, pts: np.ndarray, score: float) -> None:
        h, w = size[img_id]
        xy = np.column_stack([np.clip(pts[:, 0], 0, w - 1), np.clip(pts[:, 1], 0, h - 1)])
        conf = np.round(rng.uniform(0.05, 1.0, 17), 3)
        kp = np.column_stack([np.round(xy, 2), conf]).ravel().tolist()
        dets.append({"image_id": img_id, "category_id": 1, "keypoints": kp, "score": score})

    for a, pts in zip(anns, kp_true):
        if a["iscrowd"]:
            continue
        if rng.random() >= (0.9 if a["num_keypoints"] > 0 else 0.3):
            continue
        sigma = 0.01 + 0.12 * rng.beta(1.5, 4)
        scale = np.sqrt(a["area"])
        p = pts + rng.normal(0, sigma * scale, pts.shape)
        score = float(np.clip(round(rng.beta(5, 2) * (1 - 2 * sigma), 5), 0.00101, 0.99899))
        det(a["image_id"], p, score)
        if rng.random() < 0.1:
            det(a["image_id"], p + rng.normal(0, 2 * sigma * scale, pts.shape),
                float(np.clip(round(score * rng.uniform(0.3, 0.9), 5), 0.00101, 0.99899)))
    for img in images:  # false positives
        h, w = img["height"], img["width"]
        for _ in range(int(rng.poisson(0.4))):
            side = _object_side(rng, h, w)
            bw, bh = min(0.6 * side, w), min(1.6 * side, h)
            box = [rng.uniform(0, w - bw), rng.uniform(0, h - bh), bw, bh]
            det(img["id"], _skeleton(rng, box, 0.06), float(_scores(1, rng, 1.2, 5)[0]))
    _tie_scores(dets, np.random.default_rng(rng.integers(2**63)))
    return gt, dets


# ---------------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------------

def generate(images: int = 5000, seed: int = 0) -> dict[str, Any]:
    """Build the whole workload in memory: ``{file name: JSON-ready object}`` (see FILES)."""
    rng = np.random.default_rng(seed)
    imgs = _images(images, rng)
    anns, geoms = _instances(imgs, rng)
    cats = [{"id": i, "name": n, "supercategory": s} for i, n, s in COCO_CATEGORIES]
    gt = {"info": {"description": "maskcodecs synthetic COCO-shaped instances",
                   "version": "1"},
          "licenses": [], "images": imgs, "annotations": anns, "categories": cats}
    bbox, segm = _detections(imgs, anns, geoms, np.random.default_rng(rng.integers(2**63)))
    x10 = _detections_x10(imgs, bbox, np.random.default_rng(rng.integers(2**63)))
    kp_gt, kp_dets = _keypoints(imgs, np.random.default_rng(rng.integers(2**63)))
    return {"instances_gt.json": gt, "dets_bbox.json": bbox, "dets_segm.json": segm,
            "dets_bbox_x10.json": x10, "person_keypoints_gt.json": kp_gt,
            "dets_keypoints.json": kp_dets}


def generate_objects365(images: int = 50_000, seed: int = 0) -> dict[str, Any]:
    """An Objects365-sized bbox workload: 365 long-tailed categories, ~12 GT boxes and
    ~20 detections per image (``o365_gt.json``, ``o365_dets_bbox.json``); vectorised."""
    rng = np.random.default_rng(seed + 365)
    ncat = 365
    hs = rng.integers(480, 1025, images)
    ws = np.clip(np.round(hs * np.exp(rng.normal(0.25, 0.2, images))), 400, 1400).astype(int)
    img_ids = np.arange(1, images + 1)
    imgs = [{"id": int(i), "file_name": f"objects365_{int(i):08d}.jpg", "height": int(h),
             "width": int(w)} for i, h, w in zip(img_ids, hs, ws)]
    cw = 1.0 / np.arange(1, ncat + 1) ** 1.1
    cw /= cw.sum()
    cats = [{"id": k + 1, "name": f"object365_{k + 1:03d}", "supercategory": f"group_{k % 12}"}
            for k in range(ncat)]
    n_per = rng.negative_binomial(3, 3 / 15, images)
    g_img = np.repeat(np.arange(images), n_per)
    ng = g_img.size
    gh, gw = hs[g_img].astype(float), ws[g_img].astype(float)
    u = rng.random(ng)
    lo = np.where(u < SIZE_MIX[0], 3.0, np.where(u < SIZE_MIX[0] + SIZE_MIX[1], 32.0, 96.0))
    hi = np.where(u < SIZE_MIX[0], 32.0, np.where(u < SIZE_MIX[0] + SIZE_MIX[1], 96.0,
                                                  0.9 * np.sqrt(gh * gw)))
    side = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    ar = np.exp(rng.normal(0, 0.6, ng))
    bw, bh = np.minimum(side * np.sqrt(ar), gw), np.minimum(side / np.sqrt(ar), gh)
    bx, by = rng.uniform(0, 1, ng) * (gw - bw), rng.uniform(0, 1, ng) * (gh - bh)
    gbox = np.round(np.stack([bx, by, bw, bh], axis=1), 2)
    gbox[:, 2:] = np.maximum(gbox[:, 2:], 1.0)
    gcat = rng.choice(ncat, ng, p=cw) + 1
    crowd = (rng.random(ng) < 0.01).astype(int)
    garea = np.round(gbox[:, 2] * gbox[:, 3], 4)
    gt_anns = [{"id": k + 1, "image_id": int(img_ids[i]), "category_id": int(c), "bbox": b,
                "area": a, "iscrowd": int(z), "segmentation": []}
               for k, (i, c, b, a, z) in enumerate(zip(g_img.tolist(), gcat.tolist(),
                                                       gbox.tolist(), garea.tolist(),
                                                       crowd.tolist()))]
    # detections: 80% of the boxes found, 15% of those twice, ~9 false positives per image
    found = rng.random(ng) < 0.8
    dup = found & (rng.random(ng) < 0.15)
    src = np.concatenate([np.flatnonzero(found), np.flatnonzero(dup)])
    sigma = np.concatenate([0.02 + 0.25 * rng.beta(1.5, 4, found.sum()),
                            0.1 + 0.3 * rng.random(dup.sum())])
    b = gbox[src]
    sx, sy = np.exp(rng.normal(0, sigma)), np.exp(rng.normal(0, sigma))
    cx = b[:, 0] + b[:, 2] * (0.5 + rng.normal(0, sigma))
    cy = b[:, 1] + b[:, 3] * (0.5 + rng.normal(0, sigma))
    nw, nh = b[:, 2] * sx, b[:, 3] * sy
    dh, dw = gh[src], gw[src]
    x0, y0 = np.maximum(0, cx - nw / 2), np.maximum(0, cy - nh / 2)
    x1, y1 = np.minimum(dw, cx + nw / 2), np.minimum(dh, cy + nh / 2)
    tp_box = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    tp_cat = np.where(rng.random(src.size) < 0.08, rng.choice(ncat, src.size, p=cw) + 1,
                      gcat[src])
    tp_score = np.clip(rng.beta(5, 2, src.size) * (1 - 1.5 * sigma)
                       + rng.normal(0, 0.05, src.size), 0.00101, 0.99899)
    tp_img = g_img[src]
    n_fp = rng.poisson(9, images)
    f_img = np.repeat(np.arange(images), n_fp)
    nf = f_img.size
    fh, fw = hs[f_img].astype(float), ws[f_img].astype(float)
    fs = np.exp(rng.uniform(np.log(4), np.log(0.7 * np.sqrt(fh * fw)), nf))
    far = np.exp(rng.normal(0, 0.6, nf))
    fbw, fbh = np.minimum(fs * np.sqrt(far), fw), np.minimum(fs / np.sqrt(far), fh)
    fp_box = np.stack([rng.random(nf) * (fw - fbw), rng.random(nf) * (fh - fbh), fbw, fbh], 1)
    fp_cat = rng.choice(ncat, nf, p=cw) + 1
    fp_score = np.clip(rng.beta(1.2, 5, nf), 0.00101, 0.99899)
    d_img = np.concatenate([tp_img, f_img])
    d_box = np.round(np.concatenate([tp_box, fp_box]), 2)
    d_cat = np.concatenate([tp_cat, fp_cat])
    d_score = np.round(np.concatenate([tp_score, fp_score]), 5)
    ok = (d_box[:, 2] >= 1) & (d_box[:, 3] >= 1)
    order = np.flatnonzero(ok)[np.argsort(d_img[ok], kind="stable")]
    dets = [{"image_id": int(img_ids[i]), "category_id": int(c), "bbox": bb, "score": s}
            for i, c, bb, s in zip(d_img[order].tolist(), d_cat[order].tolist(),
                                   d_box[order].tolist(), d_score[order].tolist())]
    gt = {"info": {"description": "maskcodecs synthetic Objects365-sized boxes"},
          "images": imgs, "annotations": gt_anns, "categories": cats}
    return {"o365_gt.json": gt, "o365_dets_bbox.json": dets}


def _counts(files: dict[str, Any]) -> dict[str, int]:
    out = {}
    for name, obj in files.items():
        out[name] = len(obj["annotations"]) if isinstance(obj, dict) else len(obj)
    return out


def write(outdir: str | os.PathLike[str], images: int = 5000, seed: int = 0, *,
          objects365: bool = False) -> dict[str, Any]:
    """Generate and write the workload into `outdir`; ``manifest.json`` is written last."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    files = generate_objects365(images, seed) if objects365 else generate(images, seed)
    t1 = time.perf_counter()
    for name, obj in files.items():
        tmp = out / (name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, separators=(",", ":"))
        os.replace(tmp, out / name)
    manifest = {"version": VERSION, "images": images, "seed": seed,
                "objects365": objects365, "counts": _counts(files),
                "generate_seconds": round(t1 - t0, 2),
                "write_seconds": round(time.perf_counter() - t1, 2),
                "mask_library": _M.__name__}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def ensure(outdir: str | os.PathLike[str], images: int = 5000, seed: int = 0, *,
           objects365: bool = False) -> Path:
    """Return `outdir`, generating the workload first unless a matching one is there."""
    out = Path(outdir)
    names = O365_FILES if objects365 else FILES
    try:
        m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        if (m.get("version") == VERSION and m.get("images") == images and m.get("seed") == seed
                and bool(m.get("objects365")) == objects365
                and all((out / n).is_file() for n in names)):
            return out
    except (OSError, ValueError):
        pass
    write(out, images, seed, objects365=objects365)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--images", type=int, default=None,
                    help="number of images (default 5000, or 50000 with --objects365)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--objects365", action="store_true",
                    help="write the Objects365-sized bbox workload instead")
    a = ap.parse_args(argv)
    images = a.images if a.images is not None else (50_000 if a.objects365 else 5000)
    m = write(a.outdir, images, a.seed, objects365=a.objects365)
    json.dump(m, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""labelbox-to-coco: Labelbox NDJSON / export-v2 records + composite colour PNGs -> COCO.

Spec Part 2 (L4, L5): every instance owns one RGB colour of a composite PNG shared by the
data row; its mask is the set of pixels whose R, G and B all equal that colour.
"""
from __future__ import annotations

import argparse
import base64
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import numpy as np

from maskcodecs._categories import CategoryIds, CategoryTableError, class_key
from maskcodecs._imageio import read_array
from maskcodecs._jsontypes import json_list, json_object
from maskcodecs._types import RLE
from maskcodecs.cli import _backend as be
from maskcodecs.cli._util import (
    BadItems,
    CocoWriter,
    DataError,
    UsageError,
    converted,
    load_json,
    load_json_or_ndjson,
)
from maskcodecs.coco import UNASSIGNED_WARNING

_COMPOSITE = re.compile(r"/masks/([^/]+)/index/(\d+)")


def _colour(v: Any) -> tuple[int, int, int] | None:
    if v is None:
        return None
    if isinstance(v, (list, tuple)) and len(v) == 3 and all(
            isinstance(c, int) and 0 <= c <= 255 for c in v):
        return int(v[0]), int(v[1]), int(v[2])
    raise DataError(f"colour {v!r} is not [r, g, b] with 0..255 integers")


def _url(v: Any, key: str) -> str:
    """A mask URL of the export: a non-empty string."""
    if not isinstance(v, str) or not v:
        raise DataError(f"data row {key}: a mask URL must be a non-empty string, got {v!r}")
    return v


def _size(media: dict[str, Any], name: str, key: str) -> int | None:
    """media_attributes height/width: absent, or a positive whole number."""
    v = media.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or v <= 0:
        raise DataError(f"data row {key}: media_attributes {name} {v!r} is not a positive "
                        "integer")
    return int(v)


def _gather(records: list[Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Group records by data row: [{key, file_name, height, width, instances}], skipped."""
    rows: dict[str, dict[str, Any]] = {}
    skipped: dict[str, int] = {}

    def row(key: str, name: str | None = None, h: Any = None, w: Any = None) -> dict[str, Any]:
        r = rows.setdefault(key, {"key": key, "file_name": name or key, "height": h,
                                  "width": w, "instances": []})
        if name and r["file_name"] == key:
            r["file_name"] = name
        return r

    for rec in records:
        if not isinstance(rec, dict):
            raise DataError("every record must be a JSON object")
        if "projects" in rec or "data_row" in rec:  # export v2
            dr = json_object(rec.get("data_row"), "'data_row'", optional=True)
            media = json_object(rec.get("media_attributes"), "'media_attributes'",
                                optional=True)
            key = str(dr.get("id") or dr.get("global_key"))
            r = row(key, dr.get("external_id") or dr.get("global_key"),
                    _size(media, "height", key), _size(media, "width", key))
            for proj in json_object(rec.get("projects"), "'projects'", optional=True).values():
                labels = json_object(proj, "a project").get("labels")
                for label in json_list(labels, "a project's 'labels'"):
                    ann = json_object(json_object(label, "a label").get("annotations"),
                                      "'annotations'", optional=True)
                    if ann.get("frames"):
                        skipped["video frames"] = skipped.get("video frames", 0) + 1
                    for obj in json_list(ann.get("objects"), "'objects'"):
                        obj = json_object(obj, "an object")
                        cm = obj.get("composite_mask")
                        m = obj.get("mask")
                        schema = obj.get("feature_schema_id")
                        if cm:
                            cm = json_object(cm, "'composite_mask'")
                            r["instances"].append({"name": obj.get("name") or obj.get("value"),
                                                   "url": _url(cm.get("url"), key),
                                                   "schema": schema,
                                                   "colour": _colour(cm.get("color_rgb"))})
                        elif isinstance(m, dict) and m.get("url"):
                            r["instances"].append({"name": obj.get("name"),
                                                   "url": _url(m["url"], key),
                                                   "colour": None, "schema": schema})
                        else:
                            kind = str(obj.get("annotation_kind", "other"))
                            skipped[kind] = skipped.get(kind, 0) + 1
            continue
        dr = json_object(rec.get("dataRow"), "'dataRow'", optional=True)
        key = str(dr.get("id") or dr.get("globalKey") or dr.get("global_key"))
        mask = rec.get("mask")
        if "masks" in rec:
            skipped["video masks"] = skipped.get("video masks", 0) + 1
            continue
        if not isinstance(mask, dict):
            skipped["non-mask"] = skipped.get("non-mask", 0) + 1
            continue
        r = row(key)
        colour = mask.get("colorRGB", mask.get("colorRgb"))
        inst: dict[str, Any] = {"name": rec.get("name") or rec.get("schemaId"),
                                "colour": _colour(colour), "schema": rec.get("schemaId")}
        if mask.get("instanceURI") or mask.get("instanceUri"):
            inst["url"] = _url(mask.get("instanceURI") or mask.get("instanceUri"), key)
        elif mask.get("imBytes"):
            inst["bytes"] = mask["imBytes"]
        elif mask.get("png"):  # binary 0/1 mask of this instance alone
            inst["bytes"] = mask["png"]
            inst["colour"] = None
        else:
            raise DataError(f"data row {key}: mask has no instanceURI, imBytes or png")
        r["instances"].append(inst)
    return [r for r in rows.values() if r["instances"]], skipped


def resolve(url: str, masks: Path, url_map: dict[str, str]) -> Path:
    """Local file of a mask URL (see labelbox-to-coco --help)."""
    if url in url_map:
        p = Path(url_map[url])
        return p if p.is_absolute() else masks / p
    path = PurePosixPath(urlparse(url).path)
    cands = [path.name, path.name + ".png"]
    m = _COMPOSITE.search(str(path))
    if m:
        cands += [f"{m.group(1)}.png", f"{m.group(1)}_{m.group(2)}.png"]
    for c in cands:
        if c and (masks / c).is_file():
            return masks / c
    raise DataError(f"no local file for mask URL {url} in {masks} (tried {', '.join(cands)}; "
                    "use --url-map)")


def _read_rgb(src: Path | bytes) -> np.ndarray:
    """(h, w, 3) colours of a composite, or (h, w) grey levels of an embedded binary PNG
    (grey, bilevel or palette imBytes); plain PNGs through maskcodecs' reader."""
    embedded = isinstance(src, bytes)

    def target(mode: str) -> str | None:
        if mode in ("RGB", "RGBA"):
            return None
        return "L" if embedded and mode in ("L", "1", "P") else "RGB"

    try:  # plain PNGs without Pillow; other files need it (a clear error without)
        a = read_array(src, target)
    except (OSError, SyntaxError, ValueError) as e:
        name = "embedded PNG" if isinstance(src, bytes) else src.name
        raise DataError(f"cannot read {name} ({e})") from None
    return a[..., :3] if a.ndim == 3 else a


@dataclass
class LabelboxConfig:
    masks: Path
    url_map: dict[str, str]
    colour_tolerance: float | None = None


def convert_row(cfg: LabelboxConfig, task: dict[str, Any]) -> dict[str, Any]:
    """Masks of one data row: {"height", "width", "anns": [(name, rle or None)], "snap":
    (pixels snapped, unassigned, in colour composites)}."""
    cache: dict[Any, np.ndarray] = {}
    snapped = unassigned = 0
    shape = None
    results: list[RLE | None] = [None] * len(task["instances"])
    groups: dict[Any, list[int]] = {}
    for k, inst in enumerate(task["instances"]):
        src = ("url", inst["url"]) if "url" in inst else ("bytes", inst["bytes"])
        groups.setdefault(src, []).append(k)
    for src, ks in groups.items():
        if src[0] == "url":
            img = _read_rgb(resolve(src[1], cfg.masks, cfg.url_map))
        else:
            try:
                raw = base64.b64decode(src[1], validate=True)
            except ValueError:
                raise DataError("embedded mask is not valid base64") from None
            img = _read_rgb(raw)
        cache[src] = img
        if shape is None:
            shape = img.shape[:2]
        elif img.shape[:2] != shape:
            raise DataError(f"composite masks of one data row differ in size: {img.shape[:2]} "
                            f"vs {shape}")
        with_colour = [k for k in ks if task["instances"][k]["colour"] is not None]
        for k in ks:
            if task["instances"][k]["colour"] is None:  # single-instance mask: nonzero
                fg = img if img.ndim == 2 else img.max(axis=2)
                results[k] = be.label_map_to_rles((fg != 0).view(np.uint8)).get(
                    1, None)
        if with_colour:
            rgb = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
            split, sn, un = be.split_colours(
                rgb, [task["instances"][k]["colour"] for k in with_colour],
                cfg.colour_tolerance)
            snapped, unassigned = snapped + sn, unassigned + un
            for k, r in zip(with_colour, split):
                results[k] = r
    h, w = shape if shape is not None else (0, 0)
    if task.get("height") and task.get("width") and (int(task["height"]), int(task["width"])) \
            != (h, w):
        raise DataError(f"mask is {h}x{w} (h x w) but the data row says "
                        f"{task['height']}x{task['width']}")
    present = [r for r in results if r is not None]
    areas, boxes = be.rle_area_bbox(present)
    it = iter(zip(present, areas, boxes))
    anns: list[tuple[Any, Any, dict[str, Any] | None]] = []
    for inst, r in zip(task["instances"], results):
        if r is None:
            anns.append((inst["name"], inst["colour"], None, inst.get("schema")))
            continue
        rr, area, box = next(it)
        anns.append((inst["name"], inst["colour"],
                     {"segmentation": {"size": [h, w], "counts": be.counts_text(rr)},
                      "area": area, "bbox": box, "iscrowd": 0}, inst.get("schema")))
    return {"height": h, "width": w, "anns": anns, "snap": (snapped, unassigned, h * w)}


def run_labelbox_to_coco(args: argparse.Namespace) -> int:
    records = load_json_or_ndjson(args.export, "Labelbox export")
    masks = Path(args.masks)
    if not masks.is_dir():
        raise UsageError(f"mask folder not found: {masks}")
    url_map = {}
    if args.url_map:
        url_map = load_json(args.url_map, "URL map")
        if not isinstance(url_map, dict):
            raise DataError(f"{args.url_map}: expected an object URL -> file")
    tasks, skipped = _gather(records)
    if not tasks:
        raise DataError(f"{args.export}: no mask annotations found")
    cfg = LabelboxConfig(masks=masks.resolve(), url_map={k: str(v) for k, v in url_map.items()},
                         colour_tolerance=args.colour_tolerance)
    bad = BadItems(args.skip_bad, args.report)
    # ids from the table (or ontology), else by sorted name: never by order of appearance
    classes = {class_key(str(i["name"]), (i.get("schema"),)): (str(i["name"]), (i.get("schema"),))
               for t in tasks for i in t["instances"]}
    try:
        table = CategoryIds.load(args.categories) if args.categories else CategoryIds()
        ids = table.assign(classes.values())
    except CategoryTableError as e:
        raise DataError(str(e)) from None
    images = []
    missing = 0
    snapped = unassigned = 0
    with CocoWriter(args.output) as out:
        for pos, task, res in converted(functools.partial(convert_row, cfg), tasks, args,
                                        "labelbox-to-coco", bad,
                                        lambda task: f"data row {task['key']}"):
            image_id = pos + 1
            snapped, unassigned = snapped + res["snap"][0], unassigned + res["snap"][1]
            if args.colour_tolerance is not None and res["snap"][1] > \
                    UNASSIGNED_WARNING * res["snap"][2]:
                sys.stderr.write(f"warning: data row {task['key']}: {res['snap'][1]} pixels "
                                 f"farther than {args.colour_tolerance:g} from every colour "
                                 "of its instances (read as background)\n")
            images.append({"id": image_id, "file_name": task["file_name"],
                           "height": res["height"], "width": res["width"],
                           "labelbox_data_row": task["key"]})
            batch = []
            for name, colour, ann, schema in res["anns"]:
                name = str(name)
                if ann is None:
                    missing += 1
                    sys.stderr.write(f"warning: data row {task['key']}: colour {colour} of "
                                     f"{name!r} is absent from its mask; skipped\n")
                    continue
                source = {"labelbox_name": name}
                if schema:
                    source["labelbox_feature_schema_id"] = schema
                batch.append({"image_id": image_id,
                              "category_id": ids[class_key(name, (schema,))], **ann,
                              "attributes": source})
            out.add(batch)
        if not images:
            raise DataError("no data row could be converted")
        names = {class_key(*c): c[0] for c in classes.values()}
        out.finish(images, table.categories(ids, names),
                   info={"description": f"labelbox-to-coco {args.export}"})
    bad.finish()
    if not args.quiet:
        extra = ", ".join(f"{n} {s}" for s, n in sorted(skipped.items()))
        sys.stderr.write(f"wrote {args.output}: {len(images)} images, {out.count} annotations"
                         + (f" (skipped: {extra})" if extra else "") + "\n")
        if args.colour_tolerance is not None:
            sys.stderr.write(f"colour tolerance {args.colour_tolerance:g}: {snapped} pixels "
                             f"snapped, {unassigned} unassigned\n")
    return 0

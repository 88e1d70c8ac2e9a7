"""encord-to-coco and coco-to-encord: Encord label rows <-> COCO JSON.

Encord layout (spec Part 1, E4): ``row["data_units"][data_hash]["labels"]`` is either
``{"objects": [...], ...}`` (images, image groups) or ``{"<frame>": {"objects": [...]}, ...}``
(video, DICOM, NIfTI). A bitmask object holds ``{"bitmask": {"top":0, "left":0, "height":H,
"width":W, "rleString":s}}`` with ``s`` the COCO string codec over ROW-major pixels; polygons
and boxes are in coordinates normalised by the frame width and height.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from maskcodecs._categories import CategoryIds, CategoryTableError, class_key
from maskcodecs._coco_check import (
    _finite_numbers,
    _hashable_id,
    _is_int,
    image_groups,
    objects,
)
from maskcodecs._jsontypes import json_list, json_object
from maskcodecs.cli import _backend as be
from maskcodecs.cli._util import DataError, atomic_output, dumps, load_json
from maskcodecs.encord import _bounding_box, _frame_size
from maskcodecs.errors import FormatError, MaskCodecError

Problem = Callable[[str, str], None]  # (where, message)


def _num(v: float) -> float:
    """Round away binary noise of a scaled coordinate (12 significant digits)."""
    return float(f"{v:.12g}")


def _rows(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict):
        for key in ("label_rows", "labels", "LABELS_LIST"):
            if isinstance(doc.get(key), list):
                return doc[key]
        if "data_units" in doc:
            return [doc]
    if isinstance(doc, list) and all(isinstance(r, dict) for r in doc):
        return doc
    raise DataError("not an Encord label-row export (expected a list of rows with "
                    "\"data_units\")")


def is_encord(doc: Any) -> bool:
    """Whether a loaded JSON document looks like Encord label rows."""
    try:
        rows = _rows(doc)
    except DataError:
        return False
    return bool(rows) and all("data_units" in r for r in rows)


def _points(obj: Any) -> list[tuple[float, float]]:
    if isinstance(obj, dict):
        obj = [obj[k] for k in sorted(obj, key=lambda k: int(k))]
    return [(float(p["x"]), float(p["y"])) for p in obj]


def _shoelace(flat: list[float]) -> float:
    x = np.asarray(flat[0::2])
    y = np.asarray(flat[1::2])
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _poly_ann(flat_parts: list[list[float]]) -> tuple[float, list[float]]:
    xs = [v for p in flat_parts for v in p[0::2]]
    ys = [v for p in flat_parts for v in p[1::2]]
    area = sum(_shoelace(p) for p in flat_parts)
    x0, y0 = min(xs), min(ys)
    return area, [x0, y0, _num(max(xs) - x0), _num(max(ys) - y0)]


def label_rows_to_coco(doc: Any, *, problem: Problem | None = None,
                       categories: CategoryIds | None = None, bitmasks_only: bool = False
                       ) -> tuple[dict[str, Any], dict[str, int]]:
    """Convert Encord label rows to a COCO dict; return (coco, skipped shapes -> count).

    ``problem(where, message)`` receives per-object errors (bad rleString, size mismatch);
    without it the first one raises :class:`DataError`. Category ids come from
    ``categories`` (a table or the project's ontology), else from the sorted class names:
    never from the order of the rows.
    """
    def report(where: str, msg: str) -> None:
        if problem is None:
            raise DataError(f"{where}: {msg}")
        problem(where, msg)

    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    classes: dict[str, tuple[str, tuple[Any, ...]]] = {}
    supercat: dict[str, dict[str, Any]] = {}
    skipped: dict[str, int] = {}
    for ri, row in enumerate(_rows(doc)):
        dus = {k: json_object(du, f"row {ri} data unit {k}") for k, du in json_object(
            row.get("data_units"), f"row {ri} 'data_units'", optional=True).items()}
        order = sorted(dus.items(), key=lambda kv: (kv[1].get("data_sequence", 0), kv[0]))
        for dh, du in order:
            labels = json_object(du.get("labels") or None, f"data unit {dh} 'labels'",
                                 optional=True)
            try:
                H, W = _frame_size(du.get("height"), du.get("width"))
            except MaskCodecError as e:  # missing, 4.5, "x", 0, 2**70 (was truncated or kept)
                report(f"row {ri} data unit {dh}", f"no usable width/height: {e}")
                continue
            frames: Sequence[tuple[int | None, dict[str, Any]]]
            if "objects" in labels or not labels:
                frames = [(None, labels)]
            else:
                numbered = sorted(((int(k), v) for k, v in labels.items()
                                   if str(k).lstrip("-").isdigit()), key=lambda kv: kv[0])
                frames = numbered
            title = str(du.get("data_title") or row.get("data_title") or dh)
            for frame, flab in frames:
                flab = json_object(flab, f"data unit {dh} frame {frame} labels")
                image_id = len(images) + 1
                enc = {"label_hash": row.get("label_hash"), "data_hash": dh,
                       "data_type": row.get("data_type"), "du_data_type": du.get("data_type"),
                       "data_title": title, "frame": frame}
                images.append({"id": image_id,
                               "file_name": title if frame is None else f"{title}/{frame}",
                               "height": H, "width": W, "encord": enc})
                for obj in json_list(flab.get("objects") or None, f"data unit {dh} 'objects'"):
                    obj = json_object(obj, f"an object of data unit {dh}")
                    shape = str(obj.get("shape", "bitmask" if "bitmask" in obj else ""))
                    where = (f"row {ri} data unit {dh}" + ("" if frame is None else
                             f" frame {frame}") + f" object {obj.get('objectHash')}")
                    key = str(obj.get("featureHash") or obj.get("name"))
                    meta = {k: obj[k] for k in ("objectHash", "featureHash", "name", "value",
                                                "color", "shape") if k in obj}
                    base = {"image_id": image_id, "category_id": 0}
                    if shape == "bitmask" or "bitmask" in obj:
                        b = obj.get("bitmask") or {}
                        try:
                            b = json_object(b, "bitmask")
                            h, w = _frame_size(b.get("height"), b.get("width"))
                            s = b.get("rleString", b.get("rle_string"))
                            if (h, w) != (H, W):
                                raise DataError(f"bitmask is {h}x{w} (h x w) but the frame is "
                                                f"{H}x{W}")
                            r = be.encord_string_to_coco(s, h, w)
                        except (KeyError, TypeError, ValueError, MaskCodecError) as e:
                            report(where, f"bad bitmask: {e}")
                            continue
                        (area,), (box,) = be.rle_area_bbox([r])
                        ann = {**base, "segmentation": {"size": [h, w],
                               "counts": be.counts_text(r)},
                               "area": area, "bbox": box, "iscrowd": 0}
                    elif bitmasks_only:  # polygons and boxes counted, not converted
                        skipped[shape or "unknown"] = skipped.get(shape or "unknown", 0) + 1
                        continue
                    elif shape == "polygon" and "polygon" in obj:
                        try:
                            pts = _points(obj["polygon"])
                        except (KeyError, TypeError, ValueError) as e:
                            report(where, f"bad polygon: {e}")
                            continue
                        flat = [_num(v) for x, y in pts for v in (x * W, y * H)]
                        if len(flat) < 6:
                            report(where, f"polygon with {len(pts)} points")
                            continue
                        poly_area, box = _poly_ann([flat])
                        ann = {**base, "segmentation": [flat], "area": poly_area, "bbox": box,
                               "iscrowd": 0}
                    elif shape == "bounding_box" and "boundingBox" in obj:
                        try:  # a missing key, a string: KeyError, "Unknown format code"
                            nx, ny, nw, nh = _bounding_box(obj["boundingBox"])
                        except MaskCodecError as e:
                            report(where, f"bad bounding box: {e}")
                            continue
                        x, y = _num(nx * W), _num(ny * H)
                        bw, bh = _num(nw * W), _num(nh * H)
                        poly = [x, y, _num(x + bw), y, _num(x + bw), _num(y + bh), x, _num(y + bh)]
                        ann = {**base, "segmentation": [poly], "area": _num(bw * bh),
                               "bbox": [x, y, bw, bh], "iscrowd": 0}
                    else:
                        skipped[shape or "unknown"] = skipped.get(shape or "unknown", 0) + 1
                        continue
                    classes.setdefault(key, (str(obj.get("name", key)),
                                             (obj.get("featureHash"),)))
                    supercat.setdefault(key, {"supercategory": shape})
                    ann["category_id"] = key  # the id once every class is known
                    ann["encord"] = meta
                    ann = {"id": len(anns) + 1, **ann}
                    anns.append(ann)
    table = categories or CategoryIds()
    try:
        ids = table.assign(classes.values())
    except CategoryTableError as e:
        raise DataError(str(e)) from None
    by_key = {key: ids[class_key(*cls)] for key, cls in classes.items()}
    for ann in anns:
        ann["category_id"] = by_key[ann["category_id"]]
    names = {class_key(*cls): cls[0] for cls in classes.values()}
    extra = {class_key(*cls): supercat[key] for key, cls in classes.items()}
    coco = {"info": {"description": "encord-to-coco"}, "images": images, "annotations": anns,
            "categories": table.categories(ids, names, extra)}
    return coco, skipped


def _table(args: argparse.Namespace) -> CategoryIds | None:
    if not getattr(args, "categories", None):
        return None
    try:
        return CategoryIds.load(args.categories)
    except CategoryTableError as e:
        raise DataError(str(e)) from None


def run_encord_to_coco(args: argparse.Namespace) -> int:
    doc = load_json(args.labels, "Encord label rows")
    coco, skipped = label_rows_to_coco(doc, categories=_table(args),
                                       bitmasks_only=args.bitmasks_only)
    with atomic_output(args.output) as f:
        f.write(dumps(coco))
    if not args.quiet:
        extra = ", ".join(f"{n} {s}" for s, n in sorted(skipped.items()))
        sys.stderr.write(f"wrote {args.output}: {len(coco['images'])} images, "
                         f"{len(coco['annotations'])} annotations"
                         + (f" (skipped: {extra})" if extra else "") + "\n")
    return 0


# ---------------------------------------------------------------------------------------------
# COCO -> Encord
# ---------------------------------------------------------------------------------------------

def _is_int_text(s: str) -> bool:
    try:
        int(s)
    except ValueError:
        return False
    return True


def _color(cid: int) -> str:
    r, g, b = ((cid * 97) % 200 + 40, (cid * 57) % 200 + 40, (cid * 151) % 200 + 40)
    return f"#{r:02X}{g:02X}{b:02X}"


def _ontology_hashes(ontology: Any) -> dict[str, str]:
    """Encord ontology objects' feature hashes by object name (and by its id)."""
    objs = ontology.get("objects") if isinstance(ontology, dict) else None
    if not isinstance(objs, list):
        raise DataError("the ontology has no \"objects\" list (an Encord ontology structure)")
    out: dict[str, str] = {}
    for o in objs:
        if isinstance(o, dict) and o.get("featureNodeHash"):
            for key in (o.get("name"), o.get("id")):
                if key is not None:
                    out.setdefault(str(key), str(o["featureNodeHash"]))
    return out


def coco_to_label_rows(coco: dict[str, Any], *, polygons: str = "polygon",
                       ontology: Any = None) -> list[dict[str, Any]]:
    """Convert a COCO dict to Encord label rows (images made by encord-to-coco go home).

    Every object needs its class's Encord feature hash: from the annotation's ``encord``
    record (files made by encord-to-coco), else from ``ontology`` (the project's ontology
    structure: the object whose name, or id, is the category's); none is ever made up."""
    hashes = _ontology_hashes(ontology) if ontology is not None else {}
    if not isinstance(coco, dict) or not isinstance(coco.get("images"), list):
        raise DataError("not a COCO file (no \"images\" list)")
    images, by_image, problems = image_groups(coco)
    if problems:
        raise DataError(f"{problems[0][0]}: {problems[0][1]}")
    cats = {c.get("id"): c for _, c in objects(coco, "categories")[0]
            if _hashable_id(c.get("id"))}  # a list id was "unhashable type" (validate warns)
    rows: dict[str, dict[str, Any]] = {}
    for im in images:
        H, W = im.get("height"), im.get("width")
        if not (_is_int(H) and _is_int(W) and H > 0 and W > 0):
            raise DataError(f"image {im['id']!r}: height/width {H!r}/{W!r} are not positive "
                            "integers")
        enc = json_object(im.get("encord"), f"image {im['id']!r} 'encord'", optional=True)
        lh = str(enc.get("label_hash") or f"coco-image-{im['id']}")
        dh = str(enc.get("data_hash") or f"coco-image-{im['id']}")
        title = str(enc.get("data_title") or im.get("file_name") or dh)
        row = rows.setdefault(lh, {"label_hash": lh, "data_hash": dh, "data_title": title,
                                   "data_type": enc.get("data_type") or "image",
                                   "data_units": {}})
        du = row["data_units"].setdefault(dh, {
            "data_hash": dh, "data_title": title,
            "data_type": enc.get("du_data_type") or "image/png",
            "data_sequence": len(row["data_units"]), "width": W, "height": H, "labels": {}})
        frame = enc.get("frame")
        if frame is None:
            labels = du["labels"].setdefault("objects", [])
            du["labels"].setdefault("classifications", [])
        else:
            labels = du["labels"].setdefault(str(frame), {"objects": [], "classifications": []}
                                             )["objects"]
        for a in by_image.get(im["id"], []):
            labels.append(_ann_to_object(a, cats, H, W, polygons, hashes,
                                         ontology is not None))
    return list(rows.values())


def _ann_to_object(a: dict[str, Any], cats: dict[Any, Any], H: int, W: int,
                   polygons: str, hashes: dict[str, str], have_ontology: bool
                   ) -> dict[str, Any]:
    where = f"annotation {a.get('id')}"
    cid = a.get("category_id")
    if not (cid is None or _is_int(cid) or (isinstance(cid, str) and _is_int_text(cid))):
        raise FormatError(f"{where}: category_id {cid!r} is not an integer")
    cat = cats.get(cid) or {}
    meta = json_object(a.get("encord"), f"annotation {a.get('id')!r} 'encord'", optional=True)
    name = str(meta.get("name") or cat.get("name") or cid)
    feature = meta.get("featureHash") or hashes.get(name) or hashes.get(str(cid))
    if not feature:
        raise DataError(
            f"annotation {a.get('id')!r}: category {name!r} has no Encord feature hash "
            + ("in the ontology" if have_ontology else
               "(pass the project's ontology structure with --ontology FILE)"))
    obj: dict[str, Any] = {
        "name": name, "color": meta.get("color") or _color(int(cid or 0)),
        "shape": "bitmask", "value": meta.get("value") or name.lower().replace(" ", "_"),
        "objectHash": meta.get("objectHash") or f"coco-{a.get('id')}",
        "featureHash": str(feature),
    }
    seg = a.get("segmentation")
    if meta.get("shape") == "bounding_box" and isinstance(a.get("bbox"), list):
        if not (len(a["bbox"]) == 4 and _finite_numbers(a["bbox"])):
            raise FormatError(f"{where}: bbox {a['bbox']!r} is not [x, y, w, h] numbers")
        x, y, w, h = (float(v) for v in a["bbox"])
        obj["shape"] = "bounding_box"
        obj["boundingBox"] = {"x": x / W, "y": y / H, "w": w / W, "h": h / H}
        return obj
    if (isinstance(seg, list) and len(seg) == 1 and polygons == "polygon"
            and isinstance(seg[0], list)):
        if not (len(seg[0]) >= 6 and len(seg[0]) % 2 == 0 and _finite_numbers(seg[0])):
            raise FormatError(f"{where}: a polygon must be an even number (at least 6) of "
                              "finite coordinates")
        flat = [float(v) for v in seg[0]]
        obj["shape"] = "polygon"
        obj["polygon"] = {str(i): {"x": flat[2 * i] / W, "y": flat[2 * i + 1] / H}
                          for i in range(len(flat) // 2)}
        return obj
    try:
        r = be.segmentation_to_rle(seg, H, W)
    except (TypeError, ValueError, KeyError) as e:
        raise DataError(f"{where}: {e}") from None
    if [int(v) for v in r["size"]] != [H, W]:
        raise DataError(f"{where}: segmentation size {r['size']} differs from the image "
                        f"{[H, W]}")
    try:
        s = be.coco_to_encord_string(r)
    except (ValueError, MaskCodecError) as e:
        raise DataError(f"{where}: {e}") from None
    obj["bitmask"] = {"top": 0, "left": 0, "height": H, "width": W, "rleString": s}
    return obj


def run_coco_to_encord(args: argparse.Namespace) -> int:
    coco = load_json(args.coco, "COCO")
    ontology = load_json(args.ontology, "Encord ontology") if args.ontology else None
    rows = coco_to_label_rows(coco, polygons=args.polygons, ontology=ontology)
    with atomic_output(args.output) as f:
        f.write(dumps(rows))
    if not args.quiet:
        n = sum(len(a) for a in [coco.get("annotations") or []])
        sys.stderr.write(f"wrote {args.output}: {len(rows)} label rows, {n} objects\n")
    return 0

"""info and validate: summary and per-annotation checks of a COCO or Encord file."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from maskcodecs._coco_check import image_groups, objects, seg_kind, size_problem, validate
from maskcodecs.cli._encord import is_encord, label_rows_to_coco
from maskcodecs.cli._util import DataError, load_coco, load_json

__all__ = ["run_info", "run_validate", "summarise", "validate"]


def _load(path: str, problems: list[dict[str, Any]] | None = None,
          panoptic_folder: str | None = None) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Return (kind, coco dict, extra facts) for a COCO, COCO panoptic or Encord file."""
    doc = load_json(path)
    if is_encord(doc):
        def problem(where: str, msg: str) -> None:
            if problems is not None:
                problems.append({"severity": "error", "where": where, "message": msg})

        coco, skipped = label_rows_to_coco(doc, problem=problem)
        rows = doc if isinstance(doc, list) else [doc]
        return "encord", coco, {"label_rows": len(rows), "skipped_shapes": skipped}
    if isinstance(doc, dict) and isinstance(doc.get("images"), list):
        from maskcodecs import panoptic
        if panoptic.is_panoptic(doc):  # its segments, read from the PNGs
            n = sum(len(a["segments_info"]) for a in doc["annotations"])
            return "coco-panoptic", load_coco(path, panoptic_folder=panoptic_folder), \
                {"panoptic_segments": n}
        return "coco", doc, {}
    raise DataError(f"{path}: neither a COCO file (no \"images\" list) nor Encord label rows")


def summarise(kind: str, coco: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    ims, anns_by_image, skipped = image_groups(coco)
    anns = [a for group in anns_by_image.values() for a in group]
    kinds: dict[str, int] = {}
    crowd = 0
    for a in anns:
        k = seg_kind(a.get("segmentation"))
        kinds[k] = kinds.get(k, 0) + 1
        crowd += bool(a.get("iscrowd"))
    per_image = {i: len(g) for i, g in anns_by_image.items()}
    sizes = [(i.get("height"), i.get("width")) for i in ims]
    sizes = [(int(h), int(w)) for h, w in sizes if size_problem(h, w) is None]
    hs, ws = [h for h, _ in sizes], [w for _, w in sizes]
    cats, bad_cats = objects(coco, "categories")  # only the category objects are counted
    info = {"format": kind, "images": len(ims), "annotations": len(anns),
            "categories": len(cats), "segmentations": kinds,
            "iscrowd": crowd,
            "height": [min(hs), max(hs)] if hs else None,
            "width": [min(ws), max(ws)] if ws else None,
            "annotations_per_image_max": max(per_image.values(), default=0),
            "images_without_annotations": sum(1 for i in ims if i.get("id") not in per_image)}
    if skipped or len(sizes) < len(ims):  # what the numbers above leave out, and why
        info["invalid_entries"] = len(skipped)
        info["images_without_valid_size"] = len(ims) - len(sizes)
    if bad_cats:  # "categories": 5 -> 1, ["x", {...}] -> 1 (validate names them)
        info["invalid_categories"] = len(bad_cats)
    info.update(extra)
    return info


def run_info(args: argparse.Namespace) -> int:
    kind, coco, extra = _load(args.file, panoptic_folder=args.panoptic_folder)
    s = summarise(kind, coco, extra)
    if args.json:
        sys.stdout.write(json.dumps(s, indent=1) + "\n")
        return 0
    lines = [f"{args.file}: {kind}"]
    for k, v in s.items():
        if k == "format":
            continue
        if isinstance(v, dict):
            v = ", ".join(f"{n} {t}" for t, n in sorted(v.items())) or "none"
        elif isinstance(v, list) and len(v) == 2:
            v = f"{v[0]}..{v[1]}"
        lines.append(f"  {k.replace('_', ' ')}: {v}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


# ---------------------------------------------------------------------------------------------
# validate: the library's dataset check (maskcodecs._coco_check), which the converters share
# ---------------------------------------------------------------------------------------------

def run_validate(args: argparse.Namespace) -> int:
    problems: list[dict[str, Any]] = []
    kind, coco, _ = _load(args.file, problems, panoptic_folder=args.panoptic_folder)
    problems += validate(coco)
    info = coco.get("info") if isinstance(coco, dict) else None
    amb = info.get("ambiguous_kinds") if isinstance(info, dict) else None
    if isinstance(amb, dict):  # recorded by masks-to-coco --kind auto
        problems += [{"severity": "warning", "where": f"mask file {f}",
                      "message": f"kind ambiguous: {m}"} for f, m in amb.items()]
    errors = sum(p["severity"] == "error" for p in problems)
    warnings = len(problems) - errors
    n = len(objects(coco, "annotations")[0])
    failed = errors > 0 or (args.strict and warnings > 0)
    if args.json:
        sys.stdout.write(json.dumps({"file": args.file, "format": kind, "annotations": n,
                                     "errors": errors, "warnings": warnings, "ok": not failed,
                                     "problems": problems}, indent=1) + "\n")
        return 1 if failed else 0
    out = sys.stdout if not failed else sys.stderr
    for p in problems[:args.max_problems]:
        out.write(f"{p['where']}: {p['severity']}: {p['message']}\n")
    if len(problems) > args.max_problems:
        out.write(f"... and {len(problems) - args.max_problems} more problems\n")
    verdict = "FAILED" if failed else "OK"
    out.write(f"{args.file}: {verdict}: {kind}, {len(objects(coco, 'images')[0])} images, {n} "
              f"annotations, {errors} errors, {warnings} warnings\n")
    return 1 if failed else 0

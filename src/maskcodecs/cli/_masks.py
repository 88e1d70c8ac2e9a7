"""masks-to-coco and coco-to-masks: image masks <-> COCO JSON."""
from __future__ import annotations

import argparse
import contextlib
import functools
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from maskcodecs import coco, polygons
from maskcodecs._coco_check import (
    _is_int,
    image_groups,
    image_size,
    images_by_file_name,
    segmentation_rle,
)
from maskcodecs._fileio import (
    STAGING_SUFFIX,
    is_staged,
    move_staged,
    output_name,
    plan_outputs,
    remove_stale_temporaries,
    staging_folder,
)
from maskcodecs._imageio import read_pixels
from maskcodecs._jsontypes import json_list, json_object
from maskcodecs.cli import _backend as be
from maskcodecs.cli._util import (
    BadItems,
    CocoWriter,
    DataError,
    UsageError,
    converted,
    load_coco,
    load_json,
    write_png,
)
from maskcodecs.errors import MaskCodecError, OutputPathError, OutputWriteError

MASK_SUFFIXES = {".png", ".jpg", ".jpeg"}
KINDS = ("auto", "binary", "label", "color", "panoptic")


# ---------------------------------------------------------------------------------------------
# categories table
# ---------------------------------------------------------------------------------------------

def parse_key(key: Any) -> int:
    """A table key to an integer value: ``"7"``, ``"#ff8000"``, ``"255,128,0"`` or [r, g, b].

    Colours become panoptic ids ``R + 256*G + 65536*B``.
    """
    if isinstance(key, bool):
        raise ValueError(f"bad key {key!r}")
    if isinstance(key, int):
        return key
    if isinstance(key, (list, tuple)):  # a list of another length was read as its repr,
        if len(key) != 3:               # "[1, 2]", split at its commas forever (MemoryError)
            raise ValueError(f"bad key {key!r}")
        r, g, b = (int(v) for v in key)
        if not all(0 <= c <= 255 for c in (r, g, b)):
            raise ValueError(f"bad key {key!r}")
        return r | (g << 8) | (b << 16)
    if not isinstance(key, str):
        raise ValueError(f"bad key {key!r}")
    s = key.strip()
    if s.startswith("#") and len(s) == 7:
        v = int(s[1:], 16)
        return (v >> 16) | (v & 0xFF00) | ((v & 0xFF) << 16)
    if "," in s:
        return parse_key(s.split(","))
    return int(s)


@dataclass
class CategoryTable:
    """Values (label values or colours) to COCO categories; see ``--categories``."""

    categories: list[dict[str, Any]] = field(default_factory=lambda: [{"id": 1, "name": "object"}])
    values: dict[int, tuple[int, int | None] | None] = field(default_factory=dict)
    default: tuple[int, int | None] | None = (1, None)
    has_default: bool = True
    divisor: int | None = None
    source: str = ""

    def lookup(self, value: int) -> tuple[int, int | None] | None:
        """Return ``(category_id, iscrowd or None)`` for a value, or None to drop it."""
        key = value // self.divisor if self.divisor else value
        if key in self.values:
            return self.values[key]
        if self.has_default:
            return self.default
        raise DataError(f"value {value} has no category in {self.source} "
                        "(add it to \"values\" or set \"default\")")

    @classmethod
    def load(cls, path: str) -> CategoryTable:
        doc = load_json(path, "categories")
        if isinstance(doc, list):
            doc = {"categories": doc}
        if not isinstance(doc, dict):
            raise DataError(f"{path}: expected a JSON object")
        cats = doc.get("categories")
        values = doc.get("values")
        if cats is None and values is None:  # a plain {key: name} mapping
            values, cats = doc, []
        cats = [dict(json_object(c, f"{path}: categories[{k}]"))
                for k, c in enumerate(json_list(cats, f"{path}: \"categories\""))]
        by_name: dict[str, int] = {}
        for c in cats:
            if "id" not in c or "name" not in c:
                raise DataError(f"{path}: every category needs an id and a name: {c}")
            if not _is_int(c["id"]):
                raise DataError(f"{path}: category id {c['id']!r} is not an integer")
            by_name[str(c["name"])] = int(c["id"])
        table = cls(categories=cats, values={}, default=None, has_default=False, source=path)

        def cat_of(spec: Any, where: str) -> tuple[int, int | None] | None:
            if spec is None:
                return None
            crowd = None
            if isinstance(spec, dict):
                crowd = spec.get("iscrowd")
                spec = spec.get("category", spec.get("category_id", spec.get("name")))
            if isinstance(spec, int) and not isinstance(spec, bool):
                cid = spec
                if cid not in by_name.values():
                    by_name[str(cid)] = cid
                    table.categories.append({"id": cid, "name": str(cid)})
            elif isinstance(spec, str):
                if spec not in by_name:
                    by_name[spec] = max(by_name.values(), default=0) + 1
                    table.categories.append({"id": by_name[spec], "name": spec})
                cid = by_name[spec]
            else:
                raise DataError(f"{path}: bad category {spec!r} for {where}")
            if crowd not in (None, 0, 1):  # True/False are 1/0
                raise DataError(f"{path}: iscrowd {crowd!r} of {where} is not 0 or 1")
            return cid, (None if crowd is None else int(crowd))

        # categories may carry their own keys: {"id":1,"name":"a","values":[1,"#ff0000"]}
        for c in cats:
            if c.get("iscrowd") not in (None, 0, 1):
                raise DataError(f"{path}: iscrowd {c['iscrowd']!r} of category {c['id']} is "
                                "not 0 or 1")
            if not isinstance(c.get("values", []), list):
                raise DataError(f"{path}: \"values\" of category {c['id']} must be a list")
            for k in list(c.pop("values", [])) + ([c.pop("value")] if "value" in c else []) + (
                    [c.pop("color")] if "color" in c else []):
                try:
                    table.values[parse_key(k)] = (int(c["id"]), c.get("iscrowd"))
                except (TypeError, ValueError):
                    raise DataError(f"{path}: bad value key {k!r}") from None
        if not isinstance(values or {}, dict):
            raise DataError(f"{path}: \"values\" must be an object")
        for k, spec in (values or {}).items():
            try:
                key = parse_key(k)
            except (TypeError, ValueError):
                raise DataError(f"{path}: bad value key {k!r} (use 7, \"#rrggbb\" or "
                                "\"r,g,b\")") from None
            table.values[key] = cat_of(spec, f"value {k}")
        if "default" in doc:
            table.has_default = True
            table.default = cat_of(doc["default"], "default")
        if doc.get("label_divisor"):
            div = doc["label_divisor"]
            if not (_is_int(div) and div > 0):
                raise DataError(f"{path}: label_divisor {div!r} is not a positive integer")
            table.divisor = int(div)
        if not table.categories:
            raise DataError(f"{path}: no categories")
        return table


# ---------------------------------------------------------------------------------------------
# reading mask images
# ---------------------------------------------------------------------------------------------

def read_mask_image(path: Path, *, colours: bool = False, alpha: bool = False
                    ) -> tuple[np.ndarray, bool, str]:
    """Return (array, is_jpeg, mode): 2-D for grey/label/palette images (palette indices,
    unless `colours`: then the palette's colours), (h, w, 3) for RGB; with `alpha`, the
    alpha channel (DataError for an image without one)."""

    def target(mode: str) -> str | None:
        keep = (mode in _ARRAY_MODES or mode.startswith("I")) and not (colours and mode == "P")
        return None if keep else "RGB"

    try:  # plain PNGs without Pillow; other files need it (a clear error without)
        a, mode, fmt = read_pixels(path, target)
    except (OSError, SyntaxError, ValueError) as e:
        raise DataError(f"cannot read image ({e})") from None
    if alpha:
        if mode not in ("LA", "RGBA", "PA") or a.ndim != 3:
            raise DataError(f"--alpha: the image ({mode}) has no alpha channel")
        return np.ascontiguousarray(a[..., -1]), fmt == "JPEG", mode
    if mode == "1":
        a = a.view(np.uint8)
    elif mode == "LA":
        a = a[..., 0]
    elif mode == "RGBA":
        a = a[..., :3]
    if a.ndim == 3 and a.shape[0] * a.shape[1] and (a[..., 0] == a[..., 1]).all() and (
            a[..., 0] == a[..., 2]).all():
        a = a[..., 0]
    return a, fmt == "JPEG", mode


_ARRAY_MODES = ("1", "L", "P", "LA", "RGB", "RGBA")


def instances_of(a: np.ndarray, *, kind: str, is_jpeg: bool, threshold: int,
                 invert: bool = False) -> tuple[str, np.ndarray, be.Segments]:
    """Resolve the kind and return (kind, label or colour array, {value: (rle, area, box)});
    ``invert`` (binary masks only) takes the foreground to be what the mask leaves out."""
    if invert:
        if kind not in ("auto", "binary"):
            raise DataError("--invert applies to binary masks (--kind binary or auto)")
        kind = "binary"
    if kind == "auto":
        if is_jpeg:
            kind = "binary"
        elif a.ndim == 2:
            # one pass of the label-map kernel decides: a single value 1 or 255 is a binary
            # mask (its RLE is the same either way), anything else a label map
            segs = be.label_map_segments(a, background=0)
            if not segs or (len(segs) == 1 and next(iter(segs)) in (1, 255)):
                if segs and 1 not in segs:
                    return "binary", (a != 0).view(np.uint8), {1: segs[255]}
                return "binary", a, segs
            return "label", a, segs
        else:
            kind = "color"
    if kind == "binary":
        g = a.max(axis=2) if a.ndim == 3 else a
        if is_jpeg or int(g.max(initial=0)) > 1:
            fg = (g > threshold).view(np.uint8)
        else:
            fg = (g != 0).view(np.uint8)
        labels = (1 - fg).astype(np.uint8) if invert else fg
    elif kind == "label":
        if a.ndim != 2:
            raise DataError("is a colour image; use --kind color or --kind panoptic")
        labels = a
    elif a.ndim == 3:  # color / panoptic: ids R + 256 G + 65536 B, in the colour kernel
        return kind, a, be.colour_map_segments(a)
    else:  # a grey image read as colours (v, v, v)
        labels = a.astype(np.uint32) * 0x010101
    return kind, labels, be.label_map_segments(labels, background=0)


# ---------------------------------------------------------------------------------------------
# masks-to-coco worker
# ---------------------------------------------------------------------------------------------

@dataclass
class MasksConfig:
    root: Path
    kind: str
    threshold: int
    fmt: str
    iscrowd: str
    table: CategoryTable | None
    segment_ids: bool = False  # keep each segment's value (the panoptic id) in attributes
    invert: bool = False        # binary masks: the foreground is what is not
    ignore_value: int | None = None  # a grey level that is void (VOC's 255): background
    alpha: bool = False         # the alpha channel is the mask
    colour_tolerance: float | None = None  # JPEG colour maps: snap to the palette within this
    palette: list[int] | None = None       # the colours snapped to (None: the frequent ones)


def _prepared(cfg: MasksConfig, rel: str) -> tuple[np.ndarray, bool]:
    """The pixels of one mask file with --alpha and --ignore-value applied."""
    a, is_jpeg, mode = read_mask_image(cfg.root / rel, colours=cfg.kind in ("color", "panoptic"),
                                       alpha=cfg.alpha)
    if cfg.ignore_value is not None:
        if a.ndim != 2:
            raise DataError("--ignore-value applies to grey images (label maps, binary masks)")
        a = np.where(a == cfg.ignore_value, 0, a).astype(a.dtype)
    return a, is_jpeg


def _colourful(a: np.ndarray) -> bool:
    """Whether an (h, w, 3) image has real colour, not only the chroma noise a JPEG encoder
    may give a grey picture: channels more than 32 apart in over 0.1% of the pixels."""
    if a.ndim != 3:
        return False
    spread = a.max(axis=2).astype(np.int16) - a.min(axis=2)
    return int(np.count_nonzero(spread > 32)) > a.shape[0] * a.shape[1] // 1000


def _snapped(cfg: MasksConfig, a: np.ndarray, is_jpeg: bool
             ) -> tuple[np.ndarray, str, coco.ColourSnap | None]:
    """With --colour-tolerance, a colour map (--kind color/panoptic, or an RGB image --kind
    auto reads as one: any RGB PNG, a colour JPEG) snapped to the palette, and the kind to
    read it as; the pixels and kind unchanged otherwise."""
    if cfg.colour_tolerance is None or cfg.invert:
        return a, cfg.kind, None
    if cfg.kind == "auto" and not (a.ndim == 3 and (_colourful(a) or not is_jpeg)):
        return a, cfg.kind, None
    if cfg.kind not in ("auto", "color", "panoptic"):
        return a, cfg.kind, None
    rgb = a if a.ndim == 3 else np.repeat(a[..., None], 3, axis=2)
    snap = coco.snap_colours(rgb, tolerance=cfg.colour_tolerance, palette=cfg.palette)
    return snap.image, "color" if cfg.kind == "auto" else cfg.kind, snap


def process_mask(cfg: MasksConfig, rel: str) -> dict[str, Any]:
    """Read one mask image and return its size and annotations (without ids)."""
    a, is_jpeg = _prepared(cfg, rel)
    h, w = a.shape[:2]
    a, asked, snap = _snapped(cfg, a, is_jpeg)
    kind, labels, segs = instances_of(a, kind=asked, is_jpeg=is_jpeg, threshold=cfg.threshold,
                                      invert=cfg.invert)
    table = cfg.table or CategoryTable()
    anns = []
    for v, (r, area, box) in segs.items():
        c = table.lookup(v)
        if c is None:
            continue
        cid, crowd = c
        seg: Any = None
        if cfg.fmt == "polygon":
            # from the runs; None for a segment with a hole or a part too thin to trace,
            # which stays RLE (COCO unions polygons: a hole polygon would fill the hole)
            seg = polygons.coco_polygons(r)
        if seg is None:
            seg = {"size": [h, w], "counts": be.counts_text(r)}
        # crowd only when asked for, or when the category table says so: never inferred
        # from the shape (crowd ground truth changes evaluation)
        iscrowd = (crowd or 0) if cfg.iscrowd == "auto" else int(cfg.iscrowd)
        ann = {"category_id": cid, "segmentation": seg, "area": area, "bbox": box,
               "iscrowd": iscrowd}
        if cfg.segment_ids:
            ann["attributes"] = {"panoptic_segment_id": int(v)}
        anns.append(ann)
    return {"height": h, "width": w, "kind": kind, "anns": anns,
            "ambiguous": _ambiguity(cfg.kind, kind, a, segs, is_jpeg),
            "snap": None if snap is None else (snap.exact, snap.snapped, snap.unassigned)}


def _ambiguity(asked: str, kind: str, a: np.ndarray, segs: be.Segments,
               is_jpeg: bool = False) -> str | None:
    """Why the auto kind's choice for this file could be wrong, or None."""
    if asked == "auto" and kind == "binary" and is_jpeg and _colourful(a):
        return ("a colour JPEG read as a binary mask (every pixel above the threshold); "
                "--colour-tolerance D reads it as a colour map")
    if asked != "auto" or len(segs) != 1:
        return None
    (v,) = segs
    if kind == "label":
        return (f"one grey level ({v}) besides 0: read as a label map with one label; a "
                "binary mask drawn with that level reads the same (--kind binary)")
    if kind == "color":
        return ("one colour besides black: read as a colour map with one instance "
                "(--kind binary reads any non-black pixel as the mask)")
    return None


def _list_masks(root: Path) -> list[str]:
    if not root.exists():
        raise UsageError(f"mask folder not found: {root}")
    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    rels = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.suffix.lower() in MASK_SUFFIXES and p.is_file()
                  and not p.name.startswith(".") and not is_staged(p.relative_to(root)))
    if not rels:
        raise DataError(f"no PNG or JPEG files in {root}")
    return rels


def _image_index(path: str, bad: BadItems
                 ) -> tuple[dict[str, dict[str, Any]], Any, list[dict[str, Any]]]:
    """The --images file's entries by file name (library rules:
    maskcodecs._coco_check.images_by_file_name; entries left out go to ``bad``), the
    document where it is a COCO panoptic one (else None), and its valid entries in order."""
    doc = load_json(path, "images")
    index, problems = images_by_file_name(doc, path)
    for where, msg in problems:
        bad.fail(f"{path}: {where}", msg)
    from maskcodecs import panoptic
    entries = list({id(im): im for im in index.values()}.values())
    order = {id(im): n for n, im in enumerate(doc["images"])}
    entries.sort(key=lambda im: order[id(im)])
    return index, (doc if panoptic.is_panoptic(doc) else None), entries


def _panoptic_segments(doc: Any) -> dict[Any, dict[int, tuple[Any, int]]]:
    """image id -> {segment id: (category id, iscrowd)} of a COCO panoptic document."""
    out: dict[Any, dict[int, tuple[Any, int]]] = {}
    for a in doc["annotations"]:
        info = a.get("segments_info")
        if not isinstance(info, list):
            raise DataError(f"panoptic annotation of image {a.get('image_id')!r}: "
                            "segments_info is not a list")
        segs: dict[int, tuple[Any, int]] = {}
        for si in info:
            if not isinstance(si, dict) or not _is_int(si.get("id")) or \
                    "category_id" not in si:
                raise DataError(f"panoptic annotation of image {a.get('image_id')!r}: a "
                                f"segment without an integer id and a category: {si!r}")
            segs[int(si["id"])] = (si["category_id"], int(si.get("iscrowd", 0) or 0))
        out[a.get("image_id")] = segs
    return out


def _with_panoptic_categories(rel: str, anns: list[dict[str, Any]],
                              segs: dict[int, tuple[Any, int]] | None,
                              bad: BadItems) -> list[dict[str, Any]] | None:
    """The annotations of one panoptic PNG with each segment's category and iscrowd from
    segments_info; None (reported) where the two disagree."""
    if segs is None:
        bad.fail(rel, "its image has no annotation in the panoptic --images file")
        return None
    out, seen = [], set()
    for a in anns:
        sid = a["attributes"]["panoptic_segment_id"]
        if sid not in segs:
            bad.fail(rel, f"segment {sid} of the PNG is not in segments_info")
            return None
        seen.add(sid)
        cat, crowd = segs[sid]
        out.append({**a, "category_id": cat, "iscrowd": crowd})
    missing = sorted(set(segs) - seen)
    if missing:
        bad.fail(rel, f"segments {missing} of segments_info are not in the PNG")
        return None
    return out


def run_masks_to_coco(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    rels = _list_masks(root)
    table = CategoryTable.load(args.categories) if args.categories else None
    bad = BadItems(args.skip_bad, args.report)
    index, pan, listed = _image_index(args.images, bad) if args.images else (None, None, [])
    if pan is not None and args.kind not in ("panoptic", "color"):
        pan = None  # the panoptic file gives image entries only
    segments = _panoptic_segments(pan) if pan is not None else None
    tol = getattr(args, "colour_tolerance", None)
    palette = None  # a table that names every colour is the palette; else the frequent ones
    if tol is not None and table is not None and not table.has_default and not table.divisor:
        palette = [k for k in table.values if 0 <= k <= 0xFFFFFF]
    cfg = MasksConfig(root=root.resolve(), kind=args.kind, threshold=args.threshold,
                      fmt=args.format, iscrowd=args.iscrowd, table=table,
                      segment_ids=pan is not None, invert=args.invert,
                      ignore_value=args.ignore_value, alpha=args.alpha,
                      colour_tolerance=tol, palette=palette)
    tally = [0, 0, 0]  # exact, snapped, unassigned pixels of the snapped colour maps
    images: list[dict[str, Any]] = []
    matched: list[dict[str, Any]] = []
    kinds: dict[str, int] = {}
    ambiguous: dict[str, str] = {}
    with CocoWriter(args.output) as out:
        for pos, rel, res in converted(functools.partial(process_mask, cfg), rels, args,
                                       "masks-to-coco", bad, str):
            entry = {"id": pos + 1, "file_name": rel, "height": res["height"],
                     "width": res["width"]}
            if index is not None:
                p = PurePosixPath(rel)
                im = index.get(str(p.with_suffix(""))) or index.get(p.stem)
                if im is None:
                    bad.fail(rel, f"no image entry with this file name in {args.images}")
                    continue
                try:
                    size = image_size(im)
                except MaskCodecError as e:
                    bad.fail(rel, f"{args.images}: {e}")
                    continue
                if size != (res["height"], res["width"]):
                    bad.fail(rel, f"mask is {res['height']}x{res['width']} (h x w) but the "
                                  f"image entry {im.get('id')!r} is {size[0]}x{size[1]}")
                    continue
                entry = dict(im)
                matched.append(im)
            anns = res["anns"]
            if segments is not None:
                anns = _with_panoptic_categories(rel, anns, segments.get(entry["id"]), bad)
                if anns is None:
                    continue
            images.append(entry)
            kinds[res["kind"]] = kinds.get(res["kind"], 0) + 1
            if res.get("ambiguous"):
                ambiguous[rel] = res["ambiguous"]
            snapped = ""
            if res.get("snap") is not None:
                exact, moved, lost = res["snap"]
                tally = [t + v for t, v in zip(tally, res["snap"])]
                snapped = (f"; colour tolerance {tol:g}: {moved} pixels snapped, {lost} "
                           "unassigned")
                share = lost / max(exact + moved + lost, 1)
                if share > coco.UNASSIGNED_WARNING:
                    sys.stderr.write(f"warning: {rel}: {lost} pixels ({100 * share:.1f}%) are "
                                     f"farther than {tol:g} from every palette colour, read "
                                     "as background\n")
            if getattr(args, "verbose", False):
                note = f" (ambiguous: {res['ambiguous']})" if res.get("ambiguous") else ""
                sys.stderr.write(f"{rel}: {res['kind']}, {len(anns)} annotations{note}"
                                 f"{snapped}\n")
            out.add({"image_id": entry["id"], **a} for a in anns)
        if not images:
            raise DataError("no image could be converted")
        # the --images entries without a mask file stay, with no annotations: COCO needs the
        # negatives (evaluation counts their false positives)
        done = {id(im) for im in matched}
        negatives = [dict(im) for im in listed if id(im) not in done]
        images.extend(negatives)
        cats = table.categories if table else [{"id": 1, "name": "object"}]
        if pan is not None:  # the panoptic categories, isthing and all
            cats = [c for c in pan.get("categories") or [] if isinstance(c, dict)]
        info: dict[str, Any] = {"description": f"masks-to-coco {root}", "kinds": kinds}
        if ambiguous:  # validate reports them
            info["ambiguous_kinds"] = ambiguous
        if tol is not None:
            info["colour_tolerance"] = {"distance": tol, "exact": tally[0],
                                        "snapped": tally[1], "unassigned": tally[2]}
        out.finish(images, cats, info=info)
    bad.finish()
    if not args.quiet:
        extra = f" ({len(negatives)} without a mask file, from --images)" if negatives else ""
        sys.stderr.write(f"wrote {args.output}: {len(images)} images{extra}, "
                         f"{out.count} annotations\n")
    return 0


# ---------------------------------------------------------------------------------------------
# coco-to-masks
# ---------------------------------------------------------------------------------------------

@dataclass
class ToMasksConfig:
    outdir: Path  # where the workers write: the run's staging folder
    mode: str


#: The marker of unfinished runs of earlier versions (which wrote into the folder itself);
#: a finished run removes one it finds.
INCOMPLETE = ".coco-to-masks.incomplete"


def _planned_names(im: dict[str, Any], anns: list[dict[str, Any]], mode: str
                   ) -> list[tuple[str, PurePosixPath]]:
    """``(source, relative output name)`` of every file one image writes (library rules:
    maskcodecs._fileio.output_name)."""
    src = f"image {im.get('id')!r} ({im.get('file_name')!r})"
    name = output_name(im.get("file_name") or None, im.get("id"))
    if mode != "instance":
        return [(src, name)]
    parent = "" if str(name.parent) == "." else f"{name.parent}/"
    return [(f"annotation {a.get('id')!r} of {src}",
             PurePosixPath(f"{parent}{name.stem}_{a.get('id')}.png")) for a in anns]


def render_image(cfg: ToMasksConfig,
                 task: tuple[dict[str, Any], list[dict[str, Any]], list[Path]]) -> list[str]:
    """Write the mask PNG(s) of one image to its planned paths; return them relative to the
    output folder. Every annotation passes the dataset check (maskcodecs._coco_check: sizes
    against the image and the pixel limit, the segmentation as `validate` wants it) before
    anything of the image's size is allocated; masks are then decoded one at a time."""
    im, anns, paths = task
    if not cfg.outdir.is_dir():  # the run failed and removed it: do not make it again
        raise OutputWriteError(f"the staging folder {cfg.outdir} is gone")
    h, w = image_size(im)
    rles = [segmentation_rle(a, im) for a in anns]
    if cfg.mode == "instance":
        for path, r in zip(paths, rles):
            write_png(path, be.decode_rle(r) * np.uint8(255))
    elif cfg.mode == "label":
        if len(anns) > 65535:
            raise DataError(f"{len(anns)} instances do not fit a 16-bit label map")
        canvas = np.zeros((h, w), dtype=np.uint8 if len(anns) <= 255 else np.uint16)
        for k, r in enumerate(rles, 1):
            canvas[be.decode_rle(r).view(bool)] = k
        write_png(paths[0], canvas)
    else:
        ids = np.zeros((h, w), dtype=np.uint32)
        aids = [v for v in (a.get("id") for a in anns) if isinstance(v, int) and 0 < v < 2**24]
        if len(aids) < len(anns) or len(set(aids)) < len(
                aids):  # ids unusable as colours: number the instances 1..n instead
            aids = list(range(1, len(anns) + 1))
        for aid, r in zip(aids, rles):
            ids[be.decode_rle(r).view(bool)] = aid
        write_png(paths[0], be.ids_to_rgb(ids))
    return [p.relative_to(cfg.outdir).as_posix() for p in paths]


def run_coco_to_masks(args: argparse.Namespace) -> int:
    doc = load_coco(args.coco, "COCO", args.panoptic_folder)
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise DataError(f"{args.coco}: not a COCO file (no \"images\" list)")
    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"output exists and is not a folder: {outdir}")
    if not outdir.parent.is_dir():
        raise UsageError(f"parent folder does not exist: {outdir.parent}")
    outdir.mkdir(exist_ok=True)
    bad = BadItems(args.skip_bad, args.report)
    images, anns_ok, not_objects = image_groups(doc)
    for where, msg in not_objects:
        bad.fail(where, msg)
    root = outdir.resolve()
    # every output path is planned, confined to the folder and checked for collisions
    # before the first file is written
    planned: list[tuple[dict[str, Any], list[dict[str, Any]], list[tuple[str, Any]]]] = []
    for im in images:
        anns = anns_ok.get(im["id"], [])
        try:
            planned.append((im, anns, _planned_names(im, anns, args.mode)))
        except OutputPathError as e:
            bad.fail(f"image {im.get('id')!r}", str(e))
    failed: set[str] = set()
    paths = iter(plan_outputs(root, [n for _, _, names in planned for n in names],
                              lambda src, e: (failed.add(src), bad.fail(src, str(e)))))
    # of killed runs, once for the folder: their temporaries, their staging folders
    remove_stale_temporaries(outdir, recursive=True)
    remove_stale_temporaries(outdir, suffixes=(STAGING_SUFFIX,))
    # the files are written into a hidden staging folder inside the output folder and moved
    # into place only when every image is done: a run stopped by an error, a full disk,
    # Ctrl-C or a failed worker removes the staging folder and leaves no PNG behind (one
    # killed by SIGKILL leaves it hidden, for the next run to delete)
    staging = staging_folder(root, "coco-to-masks")
    try:
        tasks = []
        for im, anns, names in planned:
            mine = [next(paths) for _ in names]
            if not any(src in failed for src, _ in names):
                tasks.append((im, anns, [staging / p.relative_to(root) for p in mine
                                          if p is not None]))
        cfg = ToMasksConfig(outdir=staging, mode=args.mode)
        written: list[str] = []
        with contextlib.closing(converted(
                functools.partial(render_image, cfg), tasks, args, "coco-to-masks", bad,
                lambda task: f"image {task[0].get('id')} ({task[0].get('file_name')})"
        )) as results:
            for _pos, _task, res in results:
                written += res
        bad.finish()  # --report is written before the PNGs appear
        move_staged(staging, root, written)
    finally:  # the pool has stopped here (converted closes it): nothing writes any more
        shutil.rmtree(staging, ignore_errors=True)
    (outdir / INCOMPLETE).unlink(missing_ok=True)
    n = len(written)
    if not args.quiet:
        sys.stderr.write(f"wrote {n} PNG files to {outdir}\n")
    return 0

"""Fuzz the COCO annotation reader: maskcodecs.coco.ann_to_rle (and the JSON round trip),
and the command line entry points that read COCO files (info, validate, coco-to-masks, show).

Input: two image sides, then a selector byte. Selector 0 reads the rest as JSON text of an
annotation (the seeds are real-looking annotations); the other selectors build the
segmentation from the bytes: a list of polygons (odd lengths, NaN/huge coordinates), a
box, an uncompressed RLE (any counts), a compressed RLE (bytes biased to the alphabet), an
empty list, or a value of a wrong type. Building it from bytes keeps the fuzzer in the
reader instead of in json.loads.
An input that is a whole COCO file (a JSON object with "images") goes to the command line
as it is; any other input's annotation is also put in a one-image COCO file for it.
Invariants: only expected rejections escape; a result is an RLE of the image size whose
area equals its decoded sum; the annotation survives a JSON round trip of its RLE. The
command line never raises and exits 0 or 1; what ``validate`` passes ``coco-to-masks`` and
``show`` render; the dataset check's RLE has the image's size. The pixel limit is set to
MAX_DECODE_PIXELS, so no entry point allocates more than that per mask.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from _fuzzcommon import MAX_DECODE_PIXELS, Input, check, expect_rejection, main

from maskcodecs import _coco_check, coco
from maskcodecs import mask as mc
from maskcodecs.cli import main as cli_main

_WORK = Path(tempfile.mkdtemp(prefix="fuzz_coco_json."))


@contextlib.contextmanager
def _pixel_limit() -> Iterator[None]:
    """MASKCODECS_MAX_PIXELS = MAX_DECODE_PIXELS for one input (restored after: the
    regression replay runs inside the test process)."""
    old = os.environ.get("MASKCODECS_MAX_PIXELS")
    os.environ["MASKCODECS_MAX_PIXELS"] = str(MAX_DECODE_PIXELS)
    try:
        yield
    finally:
        if old is None:
            del os.environ["MASKCODECS_MAX_PIXELS"]
        else:
            os.environ["MASKCODECS_MAX_PIXELS"] = old


def _cli(*argv: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = cli_main(list(argv))
    check(rc in (0, 1), f"{argv[0]} exited {rc}")
    return rc


def check_cli(doc: object) -> None:
    """Run the COCO entry points of the command line on `doc` (written to a file)."""
    path = _WORK / "in.json"
    try:
        path.write_text(json.dumps(doc))
    except (TypeError, ValueError):  # NaN is written; only a non-JSON value ends up here
        return
    out = _WORK / "out"
    shutil.rmtree(out, ignore_errors=True)
    valid = _cli("validate", str(path)) == 0
    _cli("info", str(path))
    to_masks = _cli("coco-to-masks", str(path), "-o", str(out), "--jobs", "1", "-q")
    show = _cli("show", str(path), "--image", "1", "-o", str(_WORK / "show.png"), "-q")
    if valid:
        check(to_masks == 0, "validate passes a file that coco-to-masks refuses")
        ims = doc.get("images") if isinstance(doc, dict) else None
        if isinstance(ims, list) and any(isinstance(i, dict) and i.get("id") == 1 for i in ims):
            check(show == 0, "validate passes a file that show refuses")


def check_file_annotations(doc: dict) -> None:
    """ann_to_rle of each annotation on its image's own height and width (any integers):
    the kernels bound h and w before multiplying them."""
    ims = doc.get("images")
    sizes = {i.get("id"): (i.get("height"), i.get("width")) for i in ims
             if isinstance(i, dict) and not isinstance(i.get("id"), (list, dict))} \
        if isinstance(ims, list) else {}
    anns = doc.get("annotations")
    for a in anns if isinstance(anns, list) else []:
        if not isinstance(a, dict) or isinstance(a.get("image_id"), (list, dict)):
            continue
        h, w = sizes.get(a.get("image_id"), (None, None))
        if isinstance(h, int) and isinstance(w, int) and h >= 0 and w >= 0:
            ok, rle = expect_rejection(lambda: coco.ann_to_rle(a, h, w))  # noqa: B023
            if ok:
                check(list(rle["size"]) == [h, w] or "counts" in (a.get("segmentation") or {}),
                      "ann_to_rle of another size")


def check_dataset_rle(ann: object, h: int, w: int) -> None:
    """The library's dataset check on one annotation of an h x w image."""
    ok, rle = expect_rejection(lambda: _coco_check.segmentation_rle(ann, {"id": 1, "height": h,
                                                                           "width": w}))
    if ok:
        check(list(rle["size"]) == [h, w], "dataset check RLE of another size")


def _segmentation(inp: Input, h: int, w: int) -> object:
    kind = inp.below(7)
    if kind == 0:
        return [[inp.double() for _ in range(inp.below(13))] for _ in range(inp.below(4))]
    if kind == 1:
        return [inp.double() for _ in range(4)]
    if kind == 2:
        counts = [inp.uint(1 + inp.below(4)) for _ in range(inp.below(12))]
        return {"size": [h, w] if inp.flag() else [inp.size(), inp.size()], "counts": counts}
    if kind == 3:
        s = inp.counts_string()
        return {"size": [h, w], "counts": s.decode("latin-1") if inp.flag() else s}
    if kind == 4:
        return []
    if kind == 5:
        return {"size": [h, w]}
    return [None, "x", {"a": 1}][inp.below(3)]


def test_one(data: bytes) -> None:
    with _pixel_limit():
        _test_one(data)


def _test_one(data: bytes) -> None:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        doc = None
    if isinstance(doc, dict) and "images" in doc:
        check_file_annotations(doc)
        check_cli(doc)
        return
    inp = Input(data)
    h = inp.size()
    w = inp.size()
    if inp.below(4) == 0:
        try:
            ann = json.loads(inp.rest().decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return
    else:
        ann = {"segmentation": _segmentation(inp, h, w), "iscrowd": int(inp.flag())}
    check_dataset_rle(ann, h, w)
    if h * w <= MAX_DECODE_PIXELS:
        check_cli({"images": [{"id": 1, "file_name": "a.png", "height": h, "width": w}],
                   "annotations": [dict(ann, id=1, image_id=1, category_id=1)
                                   if isinstance(ann, dict) else ann]})
    ok, rle = expect_rejection(lambda: coco.ann_to_rle(ann, h, w))
    if not ok or not isinstance(rle, dict):
        return
    a = mc.area(rle)
    text = json.dumps({"size": rle["size"], "counts": rle["counts"].decode("ascii")
                       if isinstance(rle["counts"], bytes) else rle["counts"]})
    check(int(mc.area(json.loads(text))) == int(a), "area changed through JSON")
    if h * w <= MAX_DECODE_PIXELS and list(rle["size"]) == [h, w]:
        check(int(mc.decode(rle).sum()) == int(a), "area != decoded sum")


if __name__ == "__main__":
    main(test_one)

"""The ``maskcodecs`` command line: converters between mask images, COCO, Encord and Labelbox.

Run ``maskcodecs --help`` or ``maskcodecs COMMAND --help``. Exit codes: 0 success, 1 bad data
(the message names the file or annotation), 2 bad usage. ``--debug`` shows tracebacks.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from maskcodecs.cli._util import CliError, default_jobs
from maskcodecs.errors import MaskCodecError, OptionalDependencyError

__all__ = ["main", "build_parser"]

_CATEGORIES_HELP = """\
JSON table from mask values to COCO categories, e.g.
{"categories": [{"id": 1, "name": "disc"}, {"id": 2, "name": "square"}],
 "values": {"1": "disc", "2": 2, "#00ff00": "disc", "0,0,255": {"category": 2, "iscrowd": 1},
            "254": null},
 "default": "disc"}.
Keys are label values, panoptic ids or colours ("#rrggbb" / "r,g,b"; colour = R+256G+65536B,
so "#ff0000" is the same key as 255; a binary mask's instance has value 1);
a null value drops that value; values missing from the table are an error unless "default" is
given; "label_divisor": 1000 looks up value // 1000 (panoptic class*1000+instance ids).
A plain {"1": "disc", ...} object also works. Without a table every instance is category 1
"object"."""


def _jobs(text: str) -> int:
    """--jobs: a positive count, or 0 for all cores."""
    return _positive(text, 0) or default_jobs()


def _positive(text: str, least: int = 1) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < least:
        raise argparse.ArgumentTypeError(f"must be >= {least}")
    return v


def _byte(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError("must be in 0..65535")
    return v


def _distance(text: str) -> float:
    """--colour-tolerance: a finite number >= 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (v >= 0 and v != float("inf")):  # NaN fails the first test
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return v


def _common(p: argparse.ArgumentParser, *, parallel: bool = False, bad: bool = False) -> None:
    g = p.add_argument_group("general")
    g.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    g.add_argument("-q", "--quiet", action="store_true", help="no summary line on stderr")
    if parallel:
        g.add_argument("--progress", dest="progress", action="store_true", default=None,
                       help="show progress (default: only when stderr is a terminal)")
        g.add_argument("--no-progress", dest="progress", action="store_false")
        g.add_argument("-j", "--jobs", type=_jobs, default=default_jobs(),
                       help="worker processes (0 or default: all cores, %(default)s here)")
        g.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="local process pool, or an existing Dask distributed cluster")
        g.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler address for --engine dask (tcp://host:8786); "
                            "workers must see the same files")
    if bad:
        g.add_argument("--skip-bad", action="store_true",
                       help="skip items that fail (listed on stderr) instead of stopping")
        g.add_argument("--report", metavar="FILE",
                       help="write the list of skipped items as JSON")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``maskcodecs`` command."""
    from maskcodecs import __version__

    parser = argparse.ArgumentParser(
        prog="maskcodecs",
        description="Convert and check segmentation masks: image masks, COCO, Encord, Labelbox.",
        epilog="Exit codes: 0 ok, 1 bad data, 2 bad usage.")
    parser.add_argument("--version", action="version", version=f"maskcodecs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "masks-to-coco", help="a folder of mask images to one COCO JSON",
        description="Convert a folder of mask images (PNG/JPEG; binary, grey label maps, "
                    "colour or panoptic maps) to one COCO instances JSON. Each distinct "
                    "non-zero value (label map) or non-black colour is one instance.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_CATEGORIES_HELP)
    p.add_argument("dir", help="folder of mask images (searched recursively)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.json")
    p.add_argument("--kind", choices=("auto", "binary", "label", "color", "panoptic"),
                   default="auto",
                   help="how to read pixels (auto: JPEG and 0/1 or 0/255 images are binary, "
                        "other grey images label maps, RGB images colour maps)")
    p.add_argument("--categories", metavar="FILE", help="value/colour -> category table (JSON)")
    p.add_argument("--format", choices=("rle", "polygon"), default="rle",
                   help="segmentation format (default rle, exact); polygon: outer borders, "
                        "except segments with holes or too thin to trace, written as RLE")
    p.add_argument("--iscrowd", choices=("0", "1", "auto"), default="auto",
                   help="auto: 0 unless the --categories table says iscrowd for the value")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="say per file which kind was read, and why it may be ambiguous")
    p.add_argument("--invert", action="store_true",
                   help="binary masks: the foreground is what the mask leaves out "
                        "(silhouettes drawn as black on white)")
    p.add_argument("--ignore-value", type=int, metavar="V", default=None,
                   help="a grey level that is void, read as background (VOC: 255)")
    p.add_argument("--alpha", action="store_true",
                   help="the alpha channel is the mask (RGBA/LA images, transparent "
                        "background); read as a binary mask")
    p.add_argument("--colour-tolerance", "--color-tolerance", dest="colour_tolerance",
                   type=_distance, metavar="D", default=None,
                   help="colour maps saved as JPEG: snap each pixel to the nearest palette "
                        "colour within Euclidean RGB distance D (e.g. 40); farther pixels "
                        "are background, counted in -v output and warned about above 5%%. "
                        "The palette is the --categories table's colours (when it lists "
                        "every colour: no \"default\", no \"label_divisor\"), else every "
                        "colour covering at least 32 pixels exactly, leaving out those "
                        "within D of a more frequent one. With --kind auto, colour JPEGs "
                        "are then read as colour maps (binary masks otherwise)")
    p.add_argument("--threshold", type=_byte, default=127,
                   help="foreground is > threshold for binary grey/JPEG masks (default 127)")
    p.add_argument("--images", metavar="COCO.json",
                   help="take image entries (ids, sizes, names) from this COCO file, matched "
                        "by file name without extension; a COCO panoptic file also gives "
                        "each segment id its category and iscrowd, and the categories")
    _common(p, parallel=True, bad=True)

    p = sub.add_parser(
        "coco-to-masks", help="COCO JSON to mask PNGs",
        description="Write one PNG per image: a label map (instance k of the image has value k; "
                    "uint8, or 16-bit beyond 255 instances), a colour map (annotation id as "
                    "R+256G+65536B, the COCO panoptic convention; instance number 1..n when an "
                    "image's ids are not unique values in 1..2**24-1) or one 0/255 PNG per "
                    "instance (FILE_<annotation id>.png). Later annotations paint over "
                    "earlier ones. The PNGs are written into a hidden staging folder in DIR "
                    "and moved into place when every image is done: a run that fails leaves "
                    "none.")
    p.add_argument("coco", metavar="COCO.json")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--mode", choices=("label", "color", "instance"), default="label")
    p.add_argument("--panoptic-folder", metavar="DIR",
                   help="PNGs of a COCO panoptic file (default: its path without .json)")
    _common(p, parallel=True, bad=True)

    p = sub.add_parser(
        "encord-to-coco", help="Encord label rows to COCO JSON",
        description="Convert Encord label rows (a list, or one row) to COCO: bitmasks become "
                    "RLE (exact), polygons and boxes pixel polygons; one COCO image per data "
                    "unit (image layout) or per labelled frame (video/DICOM layout). Polylines, "
                    "points, skeletons and rotatable boxes are counted and skipped.")
    p.add_argument("--bitmasks-only", action="store_true",
                   help="convert bitmask objects only (polygons and boxes are counted and "
                        "skipped)")
    p.add_argument("labels", metavar="LABELROWS.json")
    p.add_argument("-o", "--output", required=True, metavar="OUT.json")
    p.add_argument("--categories", metavar="FILE",
                   help="category ids: COCO categories, {name: id}, or the platform's "
                        "ontology (default: ids by sorted class name)")
    _common(p)

    p = sub.add_parser(
        "coco-to-encord", help="COCO JSON to Encord label rows",
        description="Convert COCO annotations to Encord label rows with bitmask objects "
                    "(RLE and, with --polygons bitmask, polygons) or polygon objects. Images "
                    "made by encord-to-coco go back to their label rows and frames.")
    p.add_argument("coco", metavar="COCO.json")
    p.add_argument("-o", "--output", required=True, metavar="OUT.json")
    p.add_argument("--polygons", choices=("polygon", "bitmask"), default="polygon",
                   help="write COCO polygons as Encord polygons (default) or rasterise them")
    p.add_argument("--ontology", metavar="FILE",
                   help="the project's Encord ontology structure: each category's feature "
                        "hash (by object name or id); needed unless the file came from "
                        "encord-to-coco")
    _common(p)

    p = sub.add_parser(
        "labelbox-to-coco", help="Labelbox export + composite mask PNGs to COCO JSON",
        description="Convert a Labelbox NDJSON import file or export-v2 JSON/NDJSON with "
                    "composite colour masks to COCO (exact RGB equality per instance). Mask "
                    "URLs are matched to local files by --url-map, else by the URL's last "
                    "path part (with or without .png), else by the composite mask id.")
    p.add_argument("export", metavar="EXPORT.json|.ndjson")
    p.add_argument("--masks", required=True, metavar="DIR", help="folder of composite PNGs")
    p.add_argument("--url-map", metavar="FILE", help="JSON object: mask URL -> local file")
    p.add_argument("-o", "--output", required=True, metavar="OUT.json")
    p.add_argument("--categories", metavar="FILE",
                   help="category ids: COCO categories, {name: id}, or the platform's "
                        "ontology (default: ids by sorted class name)")
    p.add_argument("--colour-tolerance", "--color-tolerance", dest="colour_tolerance",
                   type=_distance, metavar="D", default=None,
                   help="composites saved lossily (JPEG): snap each pixel to the nearest "
                        "colour of the data row's instances (or black) within Euclidean "
                        "RGB distance D, e.g. 40; farther pixels are background, counted "
                        "and warned about above 5%% of a mask")
    _common(p, parallel=True, bad=True)

    for name, text in (("info", "summarise a COCO or Encord file"),
                       ("validate", "check every segmentation of a COCO or Encord file")):
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("file", metavar="FILE")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument("--panoptic-folder", metavar="DIR",
                       help="PNGs of a COCO panoptic file (default: its path without .json)")
        if name == "validate":
            p.add_argument("--strict", action="store_true",
                           help="also fail on warnings (bbox/area inconsistent with the mask)")
            p.add_argument("--max-problems", type=_positive, default=200,
                           help="list at most this many problems (default 200)")
        _common(p)

    p = sub.add_parser("show", help="render one image's masks as a PNG overlay",
                       description="Render the masks of one COCO image, each instance in its "
                                   "own colour, on the image (--image-file) or on black.")
    p.add_argument("coco", metavar="COCO.json")
    p.add_argument("--image", required=True, metavar="ID", help="image id (or file name)")
    p.add_argument("-o", "--output", required=True, metavar="overlay.png")
    p.add_argument("--image-file", metavar="PATH", help="picture to draw on")
    p.add_argument("--outline", action="store_true", help="draw instance outlines")
    p.add_argument("--labels", action="store_true", help="write category names")
    p.add_argument("--alpha", type=float, default=0.5, help="fill opacity (default 0.5)")
    p.add_argument("--panoptic-folder", metavar="DIR",
                   help="PNGs of a COCO panoptic file (default: its path without .json)")
    _common(p)
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "masks-to-coco":
        from maskcodecs.cli._masks import run_masks_to_coco
        return run_masks_to_coco(args)
    if cmd == "coco-to-masks":
        from maskcodecs.cli._masks import run_coco_to_masks
        return run_coco_to_masks(args)
    if cmd == "encord-to-coco":
        from maskcodecs.cli._encord import run_encord_to_coco
        return run_encord_to_coco(args)
    if cmd == "coco-to-encord":
        from maskcodecs.cli._encord import run_coco_to_encord
        return run_coco_to_encord(args)
    if cmd == "labelbox-to-coco":
        from maskcodecs.cli._labelbox import run_labelbox_to_coco
        return run_labelbox_to_coco(args)
    if cmd in ("info", "validate"):
        from maskcodecs.cli._inspect import run_info, run_validate
        return run_info(args) if cmd == "info" else run_validate(args)
    if cmd == "show":
        from maskcodecs.cli._show import run_show
        return run_show(args)
    raise AssertionError(cmd)  # pragma: no cover


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 bad data, 2 bad usage).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int

    Examples
    --------
    >>> main(["--version"])
    maskcodecs ...
    0
    >>> main(["info", "no-such-file.json"])  # usage error: message on stderr
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help/--version (0) or a usage error (2)
        return int(e.code or 0)
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        sys.stderr.write("maskcodecs: interrupted\n")
        return 130
    except CliError as e:
        if args.debug:
            raise
        sys.stderr.write(f"maskcodecs {args.command}: error: {e}\n")
        return e.code
    except OptionalDependencyError as e:  # the command line's extra installs them all
        if args.debug:
            raise
        package = getattr(e, "package", "a package")
        sys.stderr.write(f"maskcodecs {args.command}: error: {getattr(e, 'purpose', e)} "
                         f"needs {package}: pip install 'maskcodecs[cli]'\n")
        return 1
    except MaskCodecError as e:  # the library's own errors: their message says it all
        if args.debug:
            raise
        sys.stderr.write(f"maskcodecs {args.command}: error: {e}\n")
        return 1
    except (ValueError, TypeError, KeyError, OSError) as e:
        if args.debug:
            raise
        what = type(e).__name__
        sys.stderr.write(f"maskcodecs {args.command}: error: {what}: {e}\n")
        return 1

"""Hostile inputs to the command line (issue #18): each test builds the input in tmp_path
(a few hundred bytes), runs the command and asserts what it does with it; the fixes live in
the library (maskcodecs._fileio, maskcodecs._coco_check...), so the library is tested too."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

from maskcodecs import _fileio  # noqa: E402
from maskcodecs.cli import main  # noqa: E402
from maskcodecs.errors import (  # noqa: E402
    MaskCodecError,
    OutputCollisionError,
    OutputPathError,
)


def run(*argv: object) -> int:
    return main([str(a) for a in argv])


def write_json(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def coco_doc(images: list, annotations: list | None = None) -> dict:
    return {"images": images, "annotations": annotations or [],
            "categories": [{"id": 1, "name": "x"}]}


RLE_4x4 = {"size": [4, 4], "counts": [5, 3, 8]}  # a 4x4 mask with 3 pixels


def ann(aid: object, image_id: object = 1, seg: object = None) -> dict:
    return {"id": aid, "image_id": image_id, "category_id": 1,
            "segmentation": RLE_4x4 if seg is None else seg}


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def everything_under(root: Path) -> list[str]:
    """Files and folders, hidden ones too (a staging folder, even empty, is listed)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


# ---------------------------------------------------------------------------------------------
# 1. writes through a symbolic link out of the output folder
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["label", "instance", "color"])
def test_coco_to_masks_refuses_a_symlink_out_of_the_output_folder(tmp_path, capsys, mode):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": "link/x.png", "height": 4, "width": 4}], [ann(7)]))
    assert run("coco-to-masks", coco, "-o", out, "--mode", mode, "--jobs", "1", "-q") == 1
    assert "outside the output folder" in capsys.readouterr().err
    assert list(outside.iterdir()) == []
    # --skip-bad skips it (and writes nothing outside either)
    assert run("coco-to-masks", coco, "-o", out, "--mode", mode, "--skip-bad", "-q") == 0
    assert list(outside.iterdir()) == []


def test_symlinked_output_file_is_refused(tmp_path):
    outside = tmp_path / "victim.png"
    outside.write_bytes(b"keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").symlink_to(outside)
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": "a.jpg", "height": 4, "width": 4}], [ann(7)]))
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", "-q") == 1
    assert outside.read_bytes() == b"keep"


def test_confined_path_library_rules(tmp_path):
    (tmp_path / "sub").mkdir()
    assert _fileio.confined_path(tmp_path, "sub/a.png") == tmp_path.resolve() / "sub" / "a.png"
    for rel in ("../a.png", "/etc/a.png", "", "sub/../../a.png"):
        with pytest.raises(OutputPathError):
            _fileio.confined_path(tmp_path, rel)
    (tmp_path / "up").symlink_to(tmp_path.parent, target_is_directory=True)
    with pytest.raises(OutputPathError) as e:
        _fileio.confined_path(tmp_path, "up/a.png")
    assert isinstance(e.value, ValueError) and isinstance(e.value, MaskCodecError)


@pytest.mark.parametrize(("name", "fallback", "expect"), [
    ("a.jpg", 1, "a.png"), ("../a.png", 1, "a.png"), ("/abs/b.png", 1, "b.png"),
    ("dir\\c.jpg", 1, "dir/c.png"), (".", 5, "5.png"), ("..", 5, "5.png"), ("", 6, "6.png"),
    (None, 7, "7.png"), ("x/..", 8, "8.png"), ("noext", 1, "noext.png"),
])
def test_output_name_rules(name, fallback, expect):
    assert str(_fileio.output_name(name, fallback)) == expect


def test_output_name_without_any_usable_name():
    with pytest.raises(OutputPathError):
        _fileio.output_name("..", None)


# ---------------------------------------------------------------------------------------------
# 2. silent overwrites
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("names", [["a.jpg", "a.png", "../a.png"],
                                   ["same.png", "same.png", "same.png"]])
def test_coco_to_masks_refuses_names_that_collide(tmp_path, capsys, names):
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": k, "file_name": n, "height": 4, "width": 4} for k, n in enumerate(names, 1)],
        [ann(10 + k, k) for k in range(1, 4)]))
    out = tmp_path / "out"
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1") == 1
    err = capsys.readouterr().err
    assert "wrote" not in err
    assert "a.png" in err or "same.png" in err
    for k in (1, 2, 3):
        assert f"image {k}" in err
    assert files_under(out) == []


@pytest.mark.parametrize("ids", [[None, None], [3, 3], [None, "None"]])
def test_instance_mode_refuses_annotation_ids_that_collide(tmp_path, capsys, ids):
    anns = [ann(i) for i in ids]
    for a in anns:
        if a["id"] is None:
            del a["id"]
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": "img.png", "height": 4, "width": 4}], anns))
    out = tmp_path / "out"
    assert run("coco-to-masks", coco, "-o", out, "--mode", "instance", "--jobs", "1") == 1
    assert "more than once" in capsys.readouterr().err
    assert files_under(out) == []


def test_report_counts_only_files_that_exist(tmp_path, capsys):
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": "a.png", "height": 4, "width": 4},
         {"id": 2, "file_name": "b.jpg", "height": 4, "width": 4}], [ann(1, 1), ann(2, 2)]))
    out = tmp_path / "out"
    assert run("coco-to-masks", coco, "-o", out, "--mode", "instance", "--jobs", "1") == 0
    assert files_under(out) == ["a_1.png", "b_2.png"]
    assert "wrote 2 PNG files" in capsys.readouterr().err


def test_plan_outputs_names_every_source(tmp_path):
    with pytest.raises(OutputCollisionError) as e:
        _fileio.plan_outputs(tmp_path, [("one", _fileio.output_name("x.jpg", 1)),
                                        ("two", _fileio.output_name("x.png", 2)),
                                        ("three", _fileio.output_name("y.png", 3))])
    assert "x.png <- one, two" in str(e.value) and "three" not in str(e.value)
    sub = tmp_path / "d"
    sub.mkdir()
    (tmp_path / "alias").symlink_to(sub, target_is_directory=True)
    with pytest.raises(OutputCollisionError):  # two names, one file through a link inside
        _fileio.plan_outputs(tmp_path, [("a", "d/m.png"), ("b", "alias/m.png")])


# ---------------------------------------------------------------------------------------------
# 3. sizes checked before anything of that size is allocated; --skip-bad skips them
# ---------------------------------------------------------------------------------------------

HUGE_RLE_DOC = coco_doc([{"id": 1, "file_name": "a.png", "height": 4, "width": 4}],
                        [ann(1, seg={"size": [100000, 100000], "counts": "0"})])


def _no_big_decode(monkeypatch):
    from maskcodecs.cli import _backend as be
    real = be.decode_rle

    def guarded(rle):
        assert rle["size"][0] * rle["size"][1] <= 64, f"decoded {rle['size']}"
        return real(rle)

    monkeypatch.setattr(be, "decode_rle", guarded)


def test_rle_size_over_the_image_is_refused_before_decoding(tmp_path, capsys, monkeypatch):
    _no_big_decode(monkeypatch)
    coco = write_json(tmp_path / "c.json", HUGE_RLE_DOC)
    assert len(coco.read_bytes()) < 300
    out = tmp_path / "out"
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1") == 1
    assert "RLE size [100000, 100000] differs from the image [4, 4]" in capsys.readouterr().err
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", "--skip-bad") == 0
    err = capsys.readouterr().err
    assert "skipped 1 bad item" in err and "wrote 0 PNG files" in err
    assert files_under(out) == []
    assert run("show", coco, "--image", "1", "-o", tmp_path / "s.png") == 1
    assert "RLE size [100000, 100000] differs" in capsys.readouterr().err


def test_image_over_the_pixel_limit_is_refused(tmp_path, capsys, monkeypatch):
    big = coco_doc([{"id": 1, "file_name": "a.png", "height": 100000, "width": 100000}],
                   [ann(1, seg={"size": [100000, 100000], "counts": "0"})])
    coco = write_json(tmp_path / "c.json", big)
    assert run("show", coco, "--image", "1", "-o", tmp_path / "s.png") == 1
    assert "over the limit of 134217728" in capsys.readouterr().err
    assert not (tmp_path / "s.png").exists()
    assert run("coco-to-masks", coco, "-o", tmp_path / "o", "--jobs", "1", "--skip-bad") == 0
    assert "over the limit" in capsys.readouterr().err
    assert run("validate", coco) == 1
    assert "over the limit" in capsys.readouterr().err


def test_pixel_limit_from_the_environment(tmp_path, capsys, monkeypatch):
    from maskcodecs import _coco_check
    from maskcodecs.errors import ImageTooLargeError
    im = {"id": 1, "file_name": "a.png", "height": 4, "width": 4}
    coco = write_json(tmp_path / "c.json", coco_doc([im], [ann(1)]))
    monkeypatch.setenv("MASKCODECS_MAX_PIXELS", "15")
    assert _coco_check.pixel_limit() == 15
    with pytest.raises(ImageTooLargeError):
        _coco_check.segmentation_rle(ann(1), im)
    assert run("coco-to-masks", coco, "-o", tmp_path / "o", "--jobs", "1") == 1
    monkeypatch.setenv("MASKCODECS_MAX_PIXELS", "16")
    assert run("coco-to-masks", coco, "-o", tmp_path / "o", "--jobs", "1") == 0
    assert files_under(tmp_path / "o") == ["a.png"]
    monkeypatch.setenv("MASKCODECS_MAX_PIXELS", "junk")
    assert _coco_check.pixel_limit() == _coco_check.DEFAULT_MAX_PIXELS


# ---------------------------------------------------------------------------------------------
# 5. entries of the wrong type, odd file names and sizes
# ---------------------------------------------------------------------------------------------

def test_entries_that_are_not_objects(tmp_path, capsys):
    coco = write_json(tmp_path / "c.json", {
        "images": [1, "x", None, {"id": 1, "file_name": "a.png", "height": 4, "width": 4}],
        "annotations": [1, "x", None, ann(5)], "categories": [None]})
    assert run("info", coco, "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["images"] == 1 and info["annotations"] == 1 and info["invalid_entries"] == 6
    assert run("validate", coco) == 1
    err = capsys.readouterr().err
    assert "images[0]: error: is int, not an object" in err
    assert "annotations[2]: error: is NoneType, not an object" in err
    out = tmp_path / "out"
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1") == 1
    assert "images[0]: is int, not an object" in capsys.readouterr().err
    assert files_under(out) == []
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", "--skip-bad") == 0
    assert files_under(out) == ["a.png"]
    assert run("show", coco, "--image", "1", "-o", tmp_path / "s.png") == 0
    assert run("show", coco, "--image", "x", "-o", tmp_path / "s.png") == 1
    assert "no image with id or file name 'x'" in capsys.readouterr().err


def test_images_or_annotations_not_a_list(tmp_path, capsys):
    coco = write_json(tmp_path / "c.json", {"images": [], "annotations": 5})
    assert run("info", coco) == 0
    assert run("validate", coco) == 1
    assert "annotations: error: is int, not a list" in capsys.readouterr().err


@pytest.mark.parametrize(("file_name", "expect"), [(".", "1.png"), ("..", "1.png"),
                                                   ("../..", "1.png"), ("", "1.png")])
def test_dot_file_names_fall_back_to_the_image_id(tmp_path, file_name, expect):
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": file_name, "height": 4, "width": 4}], [ann(5)]))
    out = tmp_path / "out"
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", "-q") == 0
    assert files_under(out) == [expect]
    assert files_under(tmp_path) == ["c.json", f"out/{expect}"]


@pytest.mark.parametrize("size", [(1e30, 4), (-5, 4), ("x", 4), (4.7, 4), (4, 0), (True, 4),
                                  (10**30, 10**30), (None, 4)])
def test_bad_heights_and_widths(tmp_path, capsys, size):
    h, w = size
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": "a.png", "height": h, "width": w}],
        [ann(5, seg=[[0, 0, 2, 0, 2, 2]])]))
    assert run("info", coco) == 0
    assert run("validate", coco) == 1
    err = capsys.readouterr().err
    assert "are not positive integers" in err or "over the limit" in err
    out = tmp_path / "out"
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1") == 1
    err = capsys.readouterr().err
    assert "are not positive integers" in err or "over the limit" in err
    assert everything_under(out) == []  # no PNG, no staging folder
    assert run("show", coco, "--image", "1", "-o", tmp_path / "s.png") == 1
    err = capsys.readouterr().err
    assert "are not positive integers" in err or "over the limit" in err


# ---------------------------------------------------------------------------------------------
# 6. validate and the converters agree
# ---------------------------------------------------------------------------------------------

BAD_SEGMENTATIONS = {
    "float counts": {"size": [4, 4], "counts": [5.0, 3, 8]},
    "bool counts": {"size": [4, 4], "counts": [True, False, 15]},
    "short counts": {"size": [4, 4], "counts": [5, 3]},
    "short string": {"size": [4, 4], "counts": "53"},
    "polygon of 4": [[0, 0, 2, 0]],
    "polygon of 5": [[0, 0, 2, 0, 2]],
    "polygon of strings": [["0", "0", "2", "0", "2", "2"]],
    "float size": {"size": [4.5, 4], "counts": [5, 3, 8]},
    "string size": {"size": ["4", "4"], "counts": [5, 3, 8]},
    "bool size": {"size": [True, 4], "counts": [5, 3, 8]},
    "missing": None,
}


def _verdicts(tmp_path, image: dict, seg: object) -> tuple[int, int, int]:
    a = ann(5)
    a["segmentation"] = seg
    coco = write_json(tmp_path / "c.json", coco_doc([image], [a]))
    return (run("validate", coco), run("coco-to-masks", coco, "-o", tmp_path / "o", "--jobs",
                                       "1", "-q"),
            run("show", coco, "--image", "1", "-o", tmp_path / "s.png", "-q"))


@pytest.mark.parametrize("case", sorted(BAD_SEGMENTATIONS))
def test_validate_and_converters_refuse_the_same_segmentations(tmp_path, case):
    im = {"id": 1, "file_name": "a.png", "height": 4, "width": 4}
    assert _verdicts(tmp_path, im, BAD_SEGMENTATIONS[case]) == (1, 1, 1)
    assert not (tmp_path / "o" / "a.png").exists() and not (tmp_path / "s.png").exists()


def test_validate_and_converters_accept_the_same_segmentation(tmp_path):
    im = {"id": 1, "file_name": "a.png", "height": 4, "width": 4}
    assert _verdicts(tmp_path, im, {"size": [4, 4], "counts": [5, 3, 8]}) == (0, 0, 0)
    assert _verdicts(tmp_path, im, [[0, 0, 2, 0, 2, 2]]) == (0, 0, 0)


def test_bool_image_size_is_refused_by_all(tmp_path):
    im = {"id": 1, "file_name": "a.png", "height": True, "width": True}
    assert _verdicts(tmp_path, im, {"size": [1, 1], "counts": [0, 1]}) == (1, 1, 1)


# ---------------------------------------------------------------------------------------------
# 4. h*w wrapping in the polygon and box size checks
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seg", [[[0, 0, 1, 0, 1, 1]], [0, 0, 1, 0, 1, 1], None])
@pytest.mark.parametrize("hw", [(2**32, 2**32), (2**33, 2**31), (2**32 + 1, 2**32 - 1)])
def test_sides_that_wrap_64_bits_are_too_large(seg, hw):
    from maskcodecs import coco
    from maskcodecs import mask as mc
    from maskcodecs.errors import ImageTooLargeError
    a = {"segmentation": seg, "bbox": [0, 0, 1, 1]}
    with pytest.raises(ImageTooLargeError):
        coco.ann_to_rle(a, *hw)
    with pytest.raises(ImageTooLargeError):
        mc.frBbox([[0, 0, 1, 1]], *hw)
    with pytest.raises(ImageTooLargeError):
        mc.frPyObjects([[0, 0, 1, 0, 1, 1]], *hw)


def test_validate_refuses_a_200_byte_file_with_sides_of_2_to_the_32(tmp_path, capsys):
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": "a.png", "height": 2**32, "width": 2**32}],
        [ann(1, seg=[[0, 0, 1, 0, 1, 1]])]))
    assert len(coco.read_bytes()) < 250
    assert run("validate", coco) == 1
    assert "over the limit" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# 7. errors that are not ours
# ---------------------------------------------------------------------------------------------

def _png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_decompression_bomb_is_our_error(tmp_path, capsys, monkeypatch):
    from maskcodecs import coco
    from maskcodecs.errors import ImageTooLargeError
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # an 8x8 image is over twice that
    data = _png_bytes(np.zeros((8, 8), np.uint8))
    with pytest.raises(ImageTooLargeError):
        coco.read_image(io.BytesIO(data).getvalue())
    masks = tmp_path / "m"
    masks.mkdir()
    (masks / "a.png").write_bytes(data)
    assert run("masks-to-coco", masks, "-o", tmp_path / "c.json", "--jobs", "1") == 1
    err = capsys.readouterr().err
    assert "cannot read image" in err and "decompression bomb" in err
    assert "DecompressionBombError" not in err
    coco_json = write_json(tmp_path / "s.json", coco_doc(
        [{"id": 1, "file_name": "a.png", "height": 8, "width": 8}]))
    assert run("show", coco_json, "--image", "1", "-o", tmp_path / "o.png", "--image-file",
               masks / "a.png") == 1
    err = capsys.readouterr().err
    assert "cannot read" in err and "decompression bomb" in err
    assert "DecompressionBombError" not in err


def test_damaged_png_message_gives_a_reason(tmp_path):
    from maskcodecs import coco
    from maskcodecs.errors import ImageReadError
    data = _png_bytes(np.zeros((8, 8), np.uint8))
    for bad in (data[:40], data[:12] + b"XHDR" + data[16:]):
        with pytest.raises(ImageReadError) as e:
            coco.read_image(bad)
        assert "object at 0x" not in str(e.value)
        assert "not an image format Pillow knows, or damaged" in str(e.value) or \
            "Truncated" in str(e.value)
    path = tmp_path / "d.png"
    path.write_bytes(data[:12] + b"XHDR" + data[16:])
    with pytest.raises(ImageReadError) as e:
        coco.read_image(path)
    assert "object at 0x" not in str(e.value) and str(path) in str(e.value)


def _png_16bit_rgb(values: np.ndarray) -> bytes:
    import struct
    import zlib
    h, w, _ = values.shape

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    raw = b"".join(b"\0" + values[y].astype(">u2").tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_16_bit_rgb_png_with_small_values_is_refused_not_black(tmp_path, capsys):
    from maskcodecs import coco
    from maskcodecs.errors import ImageReadError
    vals = np.zeros((4, 4, 3), np.uint16)
    vals[1:3, 1:3] = (7, 0, 0)  # one instance whose colour is below 256
    data = _png_16bit_rgb(vals)
    assert np.asarray(Image.open(io.BytesIO(data))).max() == 0  # what Pillow makes of it
    with pytest.raises(ImageReadError, match="16-bit colour PNG"):
        coco.read_image(data)
    masks = tmp_path / "m"
    masks.mkdir()
    (masks / "a.png").write_bytes(data)
    assert run("masks-to-coco", masks, "-o", tmp_path / "c.json", "--kind", "color",
               "--jobs", "1") == 1
    assert "16-bit colour PNG" in capsys.readouterr().err


@pytest.mark.parametrize("call", [
    lambda mc, coco: mc.frPyObjects([[0, 0, 1, 0, 1, 1]], float("inf"), 3),
    lambda mc, coco: coco.ann_to_rle({"segmentation": [[0, 0, 1, 0, 1, 1]]}, float("inf"), 3),
    lambda mc, coco: mc.frPyObjects({"size": [float("inf"), 3], "counts": [1]}, 3, 3),
    lambda mc, coco: coco.ann_to_rle({"segmentation": {"size": [1e400, 3], "counts": "0"}},
                                     3, 3),
    lambda mc, coco: mc.frBbox([[0, 0, 1, 1]], 10**30, 3),
    lambda mc, coco: mc.area({"size": [2**64, 1], "counts": "0"}),
    lambda mc, coco: mc.decode({"size": [3, 3]}),
    lambda mc, coco: mc.area([{"size": [3, 3]}]),
    lambda mc, coco: mc.frPyObjects({"size": [3, 3], "counts": [1]} | {"size": None}, 3, 3),
    lambda mc, coco: mc.frUncompressedRLE([{"size": [3, 3]}], 3, 3),
])
def test_bare_overflow_and_key_errors_are_ours(call):
    from maskcodecs import coco
    from maskcodecs import mask as mc
    with pytest.raises(MaskCodecError) as e:
        call(mc, coco)
    assert isinstance(e.value, (ValueError, TypeError, KeyError))


def test_missing_counts_is_still_a_key_error():
    from maskcodecs import mask as mc
    from maskcodecs.errors import RLEKeyError
    with pytest.raises(KeyError) as e:
        mc.decode({"size": [3, 3]})
    assert isinstance(e.value, RLEKeyError) and str(e.value) == "RLE has no 'counts' key"


# ---------------------------------------------------------------------------------------------
# 9. memory on big strings
# ---------------------------------------------------------------------------------------------

_MEASURE = """
import os, resource, sys
from maskcodecs.cli import main
import maskcodecs._coco_check, maskcodecs.cli._inspect, orjson  # imported before the baseline
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rc = main(["validate", sys.argv[1]])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(rc, (peak - base) * 1024 / os.path.getsize(sys.argv[1]))
"""


@pytest.mark.parametrize("valid", [True, False])
def test_validate_memory_on_a_long_counts_string_is_a_small_multiple(tmp_path, valid):
    import subprocess
    import sys

    from maskcodecs import mask as mc
    pytest.importorskip("orjson")
    n = 12_000_000  # one-pixel runs: a 12 MB counts string, one count a character
    m = np.zeros((n, 1), np.uint8, order="F")
    m[::2] = 1
    s = mc.encode(m)["counts"].decode()
    del m
    doc = coco_doc([{"id": 1, "height": n if valid else n + 5, "width": 1}],
                   [ann(1, seg={"size": [n, 1] if valid else [n + 5, 1], "counts": s})])
    path = write_json(tmp_path / "big.json", doc)
    del s, doc
    res = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True,
                         text=True, check=False)
    rc, ratio = res.stdout.split()[-2:]
    assert int(rc) == (0 if valid else 1), res.stderr[-500:]
    # the file's bytes, the parsed str and its ASCII bytes: about 3x (it was 10x, with the
    # counts stored as uint32 twice over); no buffer of 4 bytes a count
    assert float(ratio) < 4.5


def test_counts_string_total_and_lean_area_bbox_agree_with_the_codec():
    from maskcodecs import _rle_core
    from maskcodecs import mask as mc
    rng = np.random.default_rng(18)
    for h, w in [(7, 5), (1, 300), (40, 33)]:
        m = np.asfortranarray(rng.random((h, w)) < 0.3).astype(np.uint8)
        r = mc.encode(m)
        assert _rle_core.counts_string_total(r["counts"]) == h * w
        area, box = _rle_core.string_area_bbox_lean(r["counts"], h, w)
        assert area == int(mc.area(r)) and box == [float(v) for v in mc.toBbox(r)]
    with pytest.raises(MaskCodecError):
        _rle_core.counts_string_total(b"0\x7f")
    assert _rle_core.counts_string_total(b"") == 0


# ---------------------------------------------------------------------------------------------
# 8. faults: a killed parent, stale spools, a stopped coco-to-masks
# ---------------------------------------------------------------------------------------------

_POOL_CHILD = """
import time
from maskcodecs._pool import process_pool
ex = process_pool(2)
futs = [ex.submit(time.sleep, 0.2) for _ in range(4)]
[f.result() for f in futs]
print(" ".join(str(p) for p in ex._processes), flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for init counts as gone
        return f.read().split(")")[-1].split()[0] == "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_pool_workers_exit_when_the_parent_is_killed():
    import signal
    import subprocess
    import sys
    import time
    with subprocess.Popen([sys.executable, "-c", _POOL_CHILD], stdout=subprocess.PIPE,
                          text=True) as child:
        try:
            workers = [int(p) for p in child.stdout.readline().split()]
            assert len(workers) == 2 and not any(_gone(p) for p in workers)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    for _ in range(200):  # the condition is polled, nothing is timed
        if all(_gone(p) for p in workers):
            break
        time.sleep(0.05)
    alive = [p for p in workers if not _gone(p)]
    for p in alive:  # clean up before failing
        os.kill(p, signal.SIGKILL)
    assert alive == []


def test_stale_spool_of_a_dead_run_is_removed_on_the_next_run(tmp_path):
    import subprocess
    import sys
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".c.json.{pid}.abcd1234.spool"
    stale.write_bytes(b"{}")
    mine = tmp_path / f".c.json.{os.getpid()}.live.spool"  # a running process: kept
    mine.write_bytes(b"{}")
    other = tmp_path / f".d.json.{pid}.abcd1234.spool"  # another output's: kept
    other.write_bytes(b"{}")
    masks = tmp_path / "m"
    masks.mkdir()
    Image.fromarray(np.eye(4, dtype=np.uint8)).save(masks / "a.png")
    assert run("masks-to-coco", masks, "-o", tmp_path / "c.json", "--jobs", "1", "-q") == 0
    assert not stale.exists() and mine.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.glob(".c.json.*")) == [mine.name]


def test_stopped_coco_to_masks_leaves_no_png_and_no_staging_folder(tmp_path, monkeypatch):
    from maskcodecs.cli import _masks
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": k, "file_name": f"{k}.png", "height": 4, "width": 4} for k in (1, 2, 3)],
        [ann(k, k) for k in (1, 2, 3)]))
    real = _masks.write_png
    calls = []

    def interrupted(path, arr):  # Ctrl-C while the second file is written
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(path, arr)

    monkeypatch.setattr(_masks, "write_png", interrupted)
    out = tmp_path / "out"
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", "-q") == 130
    staging = calls[0].parent  # the first PNG was written, into the hidden staging folder
    assert staging.parent == out.resolve() and staging.name.startswith(".coco-to-masks.")
    assert staging.name.endswith(".tmpdir") and not staging.exists()
    assert everything_under(out) == []
    # a folder a run of an earlier version left marked incomplete: the finished run unmarks it
    (out / ".coco-to-masks.incomplete").write_text("{}")
    (out / "2.png").write_bytes(b"old")
    (out / "2.png").chmod(0o600)
    monkeypatch.setattr(_masks, "write_png", real)
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", "-q") == 0
    assert everything_under(out) == ["1.png", "2.png", "3.png"]
    assert (out / "2.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "2.png").stat().st_mode & 0o777 == 0o600  # a replaced file keeps its mode


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_coco_to_masks_failing_mid_run_leaves_the_folder_as_it_was(tmp_path, capsys, jobs):
    """A bad annotation among good ones: the run fails, no PNG of it is in the folder (not
    even the images before the bad one), the files there before are untouched."""
    n = 12
    anns = [ann(k, k) for k in range(1, n + 1)]
    anns[6]["segmentation"] = {"size": [4, 4], "counts": [5, 3, 99]}  # overruns 4*4
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": k, "file_name": f"{k}.png", "height": 4, "width": 4} for k in range(1, n + 1)],
        anns))
    out = tmp_path / "out"
    out.mkdir()
    (out / "3.png").write_bytes(b"before")
    assert run("coco-to-masks", coco, "-o", out, "--jobs", jobs) == 1
    err = capsys.readouterr().err
    assert "image 7" in err and "wrote" not in err
    assert everything_under(out) == ["3.png"] and (out / "3.png").read_bytes() == b"before"
    assert run("coco-to-masks", coco, "-o", out, "--jobs", jobs, "--skip-bad", "-q") == 0
    assert everything_under(out) == sorted(f"{k}.png" for k in range(1, n + 1) if k != 7)


def test_coco_to_masks_sweeps_the_staging_folders_of_killed_runs(tmp_path):
    dead, me = _dead_pid(), os.getpid()
    out = tmp_path / "out"
    stale = out / f".coco-to-masks.{dead}.k2j4.tmpdir"
    live = out / f".coco-to-masks.{me}.live.tmpdir"  # a running process's: kept
    for d in (stale / "sub", live):
        d.mkdir(parents=True)
    (stale / "sub" / "1.png").write_bytes(b"\x89PNG")
    (live / "1.png").write_bytes(b"\x89PNG")
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": "1.png", "height": 4, "width": 4}], [ann(1)]))
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", "-q") == 0
    assert not stale.exists() and (live / "1.png").exists()
    assert everything_under(out) == sorted(["1.png", live.name, f"{live.name}/1.png"])
    # and masks-to-coco does not read the PNGs of a staging folder as masks
    doc = tmp_path / "m.json"
    assert run("masks-to-coco", out, "-o", doc, "--jobs", "1", "-q") == 0
    assert [im["file_name"] for im in json.loads(doc.read_text())["images"]] == ["1.png"]


# ---------------------------------------------------------------------------------------------
# also: a full disk
# ---------------------------------------------------------------------------------------------

def test_full_disk_is_our_error_and_no_success_is_reported(tmp_path, capsys, monkeypatch):
    import errno

    from maskcodecs.errors import OutputWriteError
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": k, "file_name": f"{k}.png", "height": 4, "width": 4} for k in (1, 2)],
        [ann(k, k) for k in (1, 2)]))
    real_fdopen = os.fdopen

    class Full:
        """A disk that fills up with the first PNG: opening works, writing one fails."""

        def __init__(self, f):
            self.f = f

        def write(self, data):
            if bytes(data[:8]) == b"\x89PNG\r\n\x1a\n":
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: Full(real_fdopen(fd, *a, **k)))
    out = tmp_path / "out"
    for extra in ([], ["--skip-bad"]):  # a full disk is not a bad item: never skipped
        assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", *extra) == 1
        err = capsys.readouterr().err
        assert "cannot write" in err and "No space left on device" in err
        assert "wrote" not in err and "skipped" not in err
        assert everything_under(out) == []  # no partial PNG, no staging folder either
    assert run("show", coco, "--image", "1", "-o", tmp_path / "s.png") == 1
    assert "No space left on device" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "out"]
    from maskcodecs import _fileio
    with pytest.raises(OutputWriteError) as e, _fileio.atomic_open(tmp_path / "x.bin") as f:
        f.write(b"x")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert e.value.__cause__.errno == errno.ENOSPC and isinstance(e.value, OSError)
    assert not (tmp_path / "x.bin").exists()


# ---------------------------------------------------------------------------------------------
# also: Encord titles that become file names (through the COCO file_name)
# ---------------------------------------------------------------------------------------------

def test_encord_titles_are_confined_and_collision_checked(tmp_path, capsys):
    from conftest import load_json
    rows = load_json("encord_client_python", "coco_exporter_fixture.json")["LABELS_LIST"]
    def retitle(title):
        for k, r in enumerate(rows):
            for du in [r] + list((r.get("data_units") or {}).values()):
                du["data_title"] = title(k)

    retitle(lambda k: "../../escaped.jpg")  # every row: one name, outside the folder
    src = write_json(tmp_path / "rows.json", rows)
    coco = tmp_path / "c.json"
    assert run("encord-to-coco", src, "-o", coco, "-q") == 0
    names = {im["file_name"] for im in json.loads(coco.read_text())["images"]}
    assert any(n.startswith("../../escaped.jpg") for n in names)
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1") == 1
    assert "more than once" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("escaped*")) == []
    # distinct hostile titles keep only their last part, so video frames of two rows
    # ('../../esc0.jpg/0', '../../esc2.jpg/0') and repeated data units meet: refused, named
    retitle(lambda k: f"../../esc{k}.jpg")
    write_json(src, rows)
    assert run("encord-to-coco", src, "-o", coco, "-q") == 0
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", "-q") == 1
    err = capsys.readouterr().err
    assert "0.png <- image 1 ('../../esc0.jpg/0'), image 5 ('../../esc2.jpg/0')" in err
    assert list(tmp_path.rglob("*.png")) == []


# ---------------------------------------------------------------------------------------------
# also: masks-to-coco --images entries of the wrong type
# ---------------------------------------------------------------------------------------------

def _one_mask(tmp_path: Path) -> Path:
    masks = tmp_path / "m"
    masks.mkdir()
    Image.fromarray(np.eye(4, dtype=np.uint8)).save(masks / "a.png")
    return masks


@pytest.mark.parametrize(("images", "expect"), [
    ([1, "x", None], "images[0]: is int, not an object"),
    ({"a": 1}, 'no "images" list'),
    ("images", 'no "images" list'),
    ([{"file_name": "a.png", "height": 4, "width": 4}], "images[0]: no id"),
    ([{"id": 1, "file_name": ["a.png"], "height": 4, "width": 4}], "is not a string"),
    ([{"id": 1, "file_name": "a.png", "height": "x", "width": 4}], "not positive integers"),
    ([{"id": 1, "file_name": "a.png", "height": [4], "width": 4}], "not positive integers"),
    ([{"id": 1, "file_name": "", "height": 4, "width": 4}], "no image entry"),
])
def test_masks_to_coco_images_file_entries_of_the_wrong_type(tmp_path, capsys, images, expect):
    masks = _one_mask(tmp_path)
    ref = write_json(tmp_path / "ref.json", {"images": images})
    out = tmp_path / "c.json"
    assert run("masks-to-coco", masks, "-o", out, "--images", ref, "--jobs", "1") == 1
    err = capsys.readouterr().err
    assert expect in err and "Error:" not in err and "Traceback" not in err
    assert not out.exists()


def test_masks_to_coco_images_file_skips_bad_entries_and_uses_the_good_one(tmp_path, capsys):
    masks = _one_mask(tmp_path)
    ref = write_json(tmp_path / "ref.json", {"images": [
        1, None, {"id": 9, "file_name": "dir\\a.jpg", "height": 4, "width": 4}]})
    out = tmp_path / "c.json"
    assert run("masks-to-coco", masks, "-o", out, "--images", ref, "--jobs", "1",
               "--skip-bad") == 0
    assert "skipped 2 bad item" in capsys.readouterr().err
    assert [im["id"] for im in json.loads(out.read_text())["images"]] == [9]


def test_images_by_file_name_library_rules():
    from maskcodecs._coco_check import images_by_file_name
    from maskcodecs.errors import FormatError
    good = {"id": 1, "file_name": "d/a.jpg"}
    index, problems = images_by_file_name({"images": [good, 5, {"id": [1]}, {"id": 2},
                                                      {"id": 3, "file_name": 7}]})
    assert index == {"d/a": good, "a": good}
    assert [w for w, _ in problems] == ["images[1]", "images[2]", "image 3"]
    for doc in (None, [], {"images": None}, {"images": {"id": 1}}):
        with pytest.raises(FormatError):
            images_by_file_name(doc)


# ---------------------------------------------------------------------------------------------
# 7 (audit): more errors that were not ours, each on the input that raised it
# ---------------------------------------------------------------------------------------------

def _b64_png(arr: np.ndarray) -> str:
    import base64
    return base64.b64encode(_png_bytes(arr)).decode()


@pytest.mark.parametrize(("lines", "bare"), [
    ([1], "AttributeError"), (['"x"'], "AttributeError"), (["{bad json"], "JSONDecodeError"),
    ([b"\xff\xfe"], "UnicodeDecodeError"), ([{"mask": {"png": "x"}}], "binascii.Error"),
    ([{"mask": {"imBytes": "é", "colorRGB": [1, 2, 3]}}], "ValueError"),
    ([{"mask": {"instanceURI": [1], "colorRGB": [1, 2, 3]}}], "TypeError"),
    ([{"dataRow": "d", "mask": {"png": "AAAA"}}], "AttributeError"),
    ([{"masks": {"frames": [1], "instances": []}}], "AttributeError"),
    ([{"masks": {"frames": 5, "instances": []}}], "TypeError"),
    (5, "TypeError"),
])
def test_labelbox_ndjson_lines_of_the_wrong_type_are_format_errors(lines, bare):
    from maskcodecs import labelbox as lb
    from maskcodecs.errors import FormatError
    with pytest.raises(FormatError):  # each raised the bare error named before
        list(lb.read_ndjson(lines, images={}))
    if isinstance(lines, list) and not isinstance(lines[0], int):
        with pytest.raises(FormatError):
            lb.read_mask_line(lines[0], images={})


def _v2(objects=None, frames=None, projects=None) -> dict:
    ann = {"objects": objects if objects is not None else [], "frames": frames or {}}
    return {"data_row": {"id": "d"},
            "projects": projects if projects is not None else {"p": {"labels": [
                {"annotations": ann}]}}}


@pytest.mark.parametrize("row", [
    "row", 5, {"data_row": "d", "projects": {}}, _v2(projects={"p": "x"}),
    _v2(projects={"p": {"labels": 5}}), _v2(projects={"p": {"labels": ["x"]}}),
    _v2(objects="x"), _v2(objects=[1]), _v2(frames={"3": "x"}), _v2(frames={"x": {"objects": []}}),
    _v2(frames={"3": {"objects": 5}}),
    _v2(objects=[{"composite_mask": {"url": [1], "color_rgb": [1, 2, 3]}}]),
])
def test_labelbox_export_v2_rows_of_the_wrong_type_are_format_errors(row):
    from maskcodecs import labelbox as lb
    from maskcodecs.errors import FormatError
    with pytest.raises(FormatError):
        list(lb.read_export_v2([row], {"u": np.zeros((2, 2, 3), np.uint8)}))
    with pytest.raises(FormatError):
        list(lb.read_export_v2(5, {}))


def test_labelbox_readers_still_read_good_lines_after_the_checks():
    from maskcodecs import labelbox as lb
    img = np.zeros((2, 2, 3), np.uint8)
    img[0] = (9, 8, 7)
    line = {"uuid": "a", "dataRow": {"id": "d"},
            "mask": {"imBytes": _b64_png(img), "colorRGB": [9, 8, 7]}}
    assert [r["rle"]["counts"] for r in lb.read_ndjson([line, ""])] == [b"01100"]
    assert list(lb.read_export_v2(_v2(frames={"3": {"objects": {"f": {
        "composite_mask": {"url": "u", "color_rgb": [9, 8, 7]}}}}}), {"u": img}))[0]["frame"] == 3


@pytest.mark.parametrize("call", [
    lambda enc: enc.to_coco({"rleString": "0", "height": 2**70, "width": 1}),   # OverflowError
    lambda enc: enc.from_dict({"rleString": "0", "height": 2**70, "width": 1}),  # numpy ValueError
    lambda enc: enc.decode("0", 2**30, 2**30),                       # asked numpy for 2**60 B
    lambda enc: list(enc.iter_bitmasks(5)),                                      # TypeError
    lambda enc: list(enc.iter_bitmasks({"data_units": {"d": {"labels": {"objects": 5}}}})),
    lambda enc: list(enc.iter_bitmasks({"data_units": {"d": {"labels": {"0": {"objects": 1.5}}}}})),
    lambda enc: enc.from_coco({"size": {}, "counts": "0"}),                      # KeyError: 0
])
def test_encord_sizes_and_objects_of_the_wrong_type_are_ours(call):
    from maskcodecs import encord
    with pytest.raises(MaskCodecError) as e:
        call(encord)
    assert isinstance(e.value, (ValueError, TypeError))


def test_rle_counts_without_key_or_ascii_and_iou_crowd_length_are_ours():
    from maskcodecs import mask as mc
    from maskcodecs import rle
    from maskcodecs.errors import CountsStringError, CrowdLengthError, RLEKeyError
    with pytest.raises(RLEKeyError):  # was a bare KeyError
        rle.counts({"size": [1, 1]})
    with pytest.raises(CountsStringError):  # was UnicodeEncodeError
        rle.counts({"size": [1, 1], "counts": "é"})
    one = [{"size": [1, 1], "counts": b"01"}]
    for call in (lambda: rle.iou(one, one, iscrowd=[0, 0]), lambda: mc.iou(one, one, [0, 1])):
        with pytest.raises(AssertionError) as e:  # pycocotools' type, ours, and not an assert
            call()
        assert isinstance(e.value, CrowdLengthError) and isinstance(e.value, ValueError)


def test_iou_crowd_length_is_checked_under_python_O():
    import subprocess
    import sys
    code = ("from maskcodecs import mask as m; r=[{'size':[1,1],'counts':b'01'}]\n"
            "try:\n    m.iou(r, r, [0, 0])\n"
            "except AssertionError as e:\n    print(type(e).__name__)")
    res = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True,
                         check=True)
    assert res.stdout.strip() == "CrowdLengthError"


def _encord_row(labels: object = None, data_units: object = None) -> list:
    du = {"data_hash": "d", "data_title": "a.png", "width": 4, "height": 4,
          "labels": {"objects": []} if labels is None else labels}
    return [{"label_hash": "l", "data_units": {"d": du} if data_units is None else data_units}]


@pytest.mark.parametrize("rows", [
    _encord_row(data_units="x"), _encord_row(data_units={"d": "x"}), _encord_row(labels="x"),
    _encord_row(labels={"0": "x"}), _encord_row(labels={"objects": "x"}),
    _encord_row(labels={"objects": ["x"]}), _encord_row(labels={"0": {"objects": "x"}}),
])
@pytest.mark.parametrize("cmd", ["encord-to-coco", "info", "validate"])
def test_encord_rows_of_the_wrong_type_are_our_errors_on_the_command_line(tmp_path, capsys,
                                                                          rows, cmd):
    src = write_json(tmp_path / "rows.json", rows)  # each raised AttributeError (a traceback)
    argv = [cmd, src] + (["-o", tmp_path / "c.json"] if cmd == "encord-to-coco" else [])
    assert run(*argv) == 1
    err = capsys.readouterr().err
    assert "must be" in err and "Error:" not in err


@pytest.mark.parametrize(("doc", "expect"), [
    (coco_doc([{"id": 1, "height": 4, "width": 4}], ["x"]), "annotations[0]: is str"),
    ({**coco_doc([{"id": 1, "height": 4, "width": 4}]), "categories": ["x"]}, None),
    (coco_doc([{"id": 1, "height": "4", "width": 4}]), "not positive integers"),
    (coco_doc([{"id": 1, "height": 4, "width": 4, "encord": "x"}]), "must be an object"),
])
def test_coco_to_encord_entries_of_the_wrong_type(tmp_path, capsys, doc, expect):
    coco = write_json(tmp_path / "c.json", doc)
    rc = run("coco-to-encord", coco, "-o", tmp_path / "e.json", "-q")
    err = capsys.readouterr().err
    assert "Error:" not in err
    assert (rc, expect is None or expect in err) == (0 if expect is None else 1, True)


def test_show_labels_with_hostile_boxes_and_categories(tmp_path, capsys):
    anns = [dict(ann(1), bbox=[2**70, 1e30, 1, 1]), dict(ann(2), bbox="x", category_id=[1])]
    coco = write_json(tmp_path / "c.json", {**coco_doc(
        [{"id": 1, "file_name": "a.png", "height": 4, "width": 4}], anns),
        "categories": ["x", {"id": [1], "name": "y"}, {"id": 1, "name": "ok"}]})
    # Pillow raised SystemError on the 2**70 position, .get on "x" AttributeError
    assert run("show", coco, "--image", "1", "-o", tmp_path / "s.png", "--labels", "-q") == 0
    with Image.open(tmp_path / "s.png") as im:
        assert im.size == (4, 4)


@pytest.mark.parametrize("rec", [
    {"data_row": "x", "projects": {}}, {"data_row": {"id": "d"}, "media_attributes": "x"},
    {"data_row": {"id": "d"}, "projects": "x"}, {"data_row": {"id": "d"}, "projects": {"p": "x"}},
    {"data_row": {"id": "d"}, "projects": {"p": {"labels": "x"}}},
    {"data_row": {"id": "d"}, "projects": {"p": {"labels": [{"annotations": "x"}]}}},
    {"data_row": {"id": "d"}, "projects": {"p": {"labels": [{"annotations": {"objects": ["x"]}}]}}},
    {"data_row": {"id": "d"}, "projects": {"p": {"labels": [{"annotations": {"objects": [
        {"composite_mask": "x"}]}}]}}},
    {"dataRow": "x", "mask": {"png": "AAAA"}},
])
def test_labelbox_to_coco_records_of_the_wrong_type(tmp_path, capsys, rec):
    masks = _one_mask(tmp_path)
    src = write_json(tmp_path / "export.json", [rec])  # each raised AttributeError
    assert run("labelbox-to-coco", src, "--masks", masks, "-o", tmp_path / "c.json",
               "--jobs", "1") == 1
    err = capsys.readouterr().err
    assert "must be" in err and "Error:" not in err


# ---------------------------------------------------------------------------------------------
# 8 (also): temporaries of killed runs (.partial, .tmp) are removed like spools
# ---------------------------------------------------------------------------------------------

def _dead_pid() -> int:
    import subprocess
    import sys
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)


def test_stale_partials_of_a_dead_run_are_removed_and_a_live_runs_kept(tmp_path):
    dead, me = _dead_pid(), os.getpid()
    stale = [tmp_path / f".c.json.{dead}.k3j_x9.partial", tmp_path / f".c.json.{dead}.ab.spool"]
    kept = [tmp_path / f".c.json.{me}.live.partial",      # this (live) process
            tmp_path / f".d.json.{dead}.ab.partial",      # another output's
            tmp_path / ".c.json.nopid.partial"]           # no pid: never touched
    for p in stale + kept:
        p.write_bytes(b"{")
    masks = _one_mask(tmp_path)
    assert run("masks-to-coco", masks, "-o", tmp_path / "c.json", "--jobs", "1", "-q") == 0
    assert [p.exists() for p in stale + kept] == [False] * len(stale) + [True] * len(kept)
    assert json.loads((tmp_path / "c.json").read_text())["images"][0]["file_name"] == "a.png"


def test_coco_to_masks_sweeps_stale_pngs_of_a_killed_run_from_its_folder(tmp_path):
    dead, me = _dead_pid(), os.getpid()
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    stale = [out / f".1.png.{dead}.q1w2e3.partial", out / "sub" / f".x.png.{dead}.zz.partial"]
    kept = [out / f".2.png.{me}.live.partial", out / "sub" / f".y.png.{me}.live.partial"]
    for p in stale + kept:
        p.write_bytes(b"\x89PNG")
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": "1.png", "height": 4, "width": 4}], [ann(1)]))
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", "-q") == 0
    assert [p.exists() for p in stale + kept] == [False, False, True, True]
    assert (out / "1.png").is_file()


def test_atomic_open_names_its_temporary_with_the_pid_and_cleans_its_name(tmp_path):
    dead = _dead_pid()
    old = tmp_path / f".x.json.{dead}.abc.tmp"
    old.write_bytes(b"{")
    with _fileio.atomic_open(tmp_path / "x.json", "w") as f:
        (tmp,) = [p.name for p in tmp_path.glob(".x.json.*.tmp")]
        assert tmp.startswith(f".x.json.{os.getpid()}.")
        f.write("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]
    assert _fileio.remove_stale_temporaries(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# 8 (also): real faults: Ctrl-C of a running pool, a real full disk
# ---------------------------------------------------------------------------------------------

_SLOW_CLI = """
import sys, time
from maskcodecs.cli import _masks, main
real = _masks.render_image
def slow(cfg, task):  # about 0.1 s an image, so the run is still going when stopped
    time.sleep(0.1)
    return real(cfg, task)
_masks.render_image = slow
sys.exit(main(sys.argv[1:]))
"""


def _children(pid: int) -> set[int]:
    kids = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.add(int(d.name))
    return kids


def _many_images(tmp_path: Path, n: int) -> Path:
    """A COCO file of n 8x8 images with one triangle each."""
    return write_json(tmp_path / "c.json", coco_doc(
        [{"id": k, "file_name": f"{k}.png", "height": 8, "width": 8} for k in range(1, n + 1)],
        [ann(k, k, seg=[[0, 0, 6, 0, 6, 6]]) for k in range(1, n + 1)]))


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs /proc for child pids")
def test_sigint_mid_run_of_a_worker_pool(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    n = 48
    coco = _many_images(tmp_path, n)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_CLI, "coco-to-masks", str(coco), "-o",
                             str(out), "--jobs", "2", "-q"], stderr=subprocess.PIPE, text=True)
    workers: set[int] = set()
    try:
        # polled, nothing timed: the run is stopped once it has written a PNG (into its
        # staging folder; the output folder gets them only at the end)
        while proc.poll() is None and not list(out.glob(".coco-to-masks.*.tmpdir/*.png")):
            workers |= _children(proc.pid)
            time.sleep(0.02)
        workers |= _children(proc.pid)
        assert proc.poll() is None, "the run ended before it could be stopped"
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "wrote" not in err
    assert workers  # the pool's processes were seen, and none outlives the command
    for _ in range(200):
        if all(_gone(p) for p in workers):
            break
        time.sleep(0.05)
    alive = [p for p in workers if not _gone(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    assert alive == []
    assert everything_under(out) == []  # no PNG, no staging folder, no temporaries
    assert [p.name for p in tmp_path.glob(".*")] == []


_DYING_WORKER_CLI = """
import os, sys
from maskcodecs.cli import _masks, main
real = _masks.render_image
def dying(cfg, task):  # the pool process converting image 20 dies (OOM killer, a crash)
    if task[0]["id"] == 20:
        os._exit(3)
    return real(cfg, task)
_masks.render_image = dying
sys.exit(main(sys.argv[1:]))
"""


def test_a_worker_process_that_dies_fails_the_run_cleanly(tmp_path):
    import subprocess
    import sys
    coco = _many_images(tmp_path, 40)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", _DYING_WORKER_CLI, "coco-to-masks", str(coco),
                           "-o", str(out), "--jobs", "2", "-q"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "a worker process stopped abruptly" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert everything_under(out) == []  # the PNGs of the other images are not left either


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this platform")
def test_a_real_full_disk_dev_full(tmp_path, capsys):
    import stat

    from maskcodecs import coco as mc_coco
    from maskcodecs.errors import OutputWriteError
    masks = _one_mask(tmp_path)
    assert run("masks-to-coco", masks, "-o", "/dev/full", "--jobs", "1") == 1
    err = capsys.readouterr().err
    assert "cannot write /dev/full: No space left on device" in err and "wrote" not in err
    with pytest.raises(OutputWriteError) as e:  # the library writer
        mc_coco.write_coco_json("/dev/full", [{"id": 1, "height": 4, "width": 4}], [], [])
    assert isinstance(e.value, OSError)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # written in place, never replaced
    assert sorted(p.name for p in Path("/dev").glob(".full.*")) == []


# ---------------------------------------------------------------------------------------------
# also: Labelbox external ids, global keys and data row ids that become file names
# ---------------------------------------------------------------------------------------------

def _labelbox_export(tmp_path: Path, names: list) -> tuple[Path, Path]:
    masks = tmp_path / "lbmasks"
    masks.mkdir(parents=True)
    comp = np.zeros((4, 4, 3), np.uint8)
    comp[1:3, 1:3] = (255, 0, 0)
    Image.fromarray(comp).save(masks / "c.png")
    recs = []
    for k, (kind, name) in enumerate(names):
        if kind == "v2":  # export v2: the external id (or global key) is the file name
            recs.append({"data_row": {"id": f"dr{k}", "external_id": name},
                         "media_attributes": {"height": 4, "width": 4},
                         "projects": {"p": {"labels": [{"annotations": {"objects": [
                             {"name": "car", "composite_mask": {
                                 "url": "https://x/c.png", "color_rgb": [255, 0, 0]}}]}}]}}})
        else:  # NDJSON: the data row id is
            recs.append({"uuid": f"u{k}", "name": "car", "dataRow": {"id": name},
                         "mask": {"instanceURI": "https://x/c.png", "colorRGB": [255, 0, 0]}})
    return write_json(tmp_path / "export.json", recs), masks


def test_labelbox_names_are_confined_and_collision_checked(tmp_path, capsys):
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()
    coco = tmp_path / "c.json"
    # two rows whose external ids keep one last part, and a data row id that is one too
    src, masks = _labelbox_export(tmp_path, [("v2", "../../escaped.jpg"),
                                             ("v2", "/abs/escaped.png"),
                                             ("ndjson", "..\\..\\escaped")])
    assert run("labelbox-to-coco", src, "--masks", masks, "-o", coco, "--jobs", "1", "-q") == 0
    names = [im["file_name"] for im in json.loads(coco.read_text())["images"]]
    assert names == ["../../escaped.jpg", "/abs/escaped.png", "..\\..\\escaped"]
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1") == 1
    err = capsys.readouterr().err
    assert "escaped.png <- image 1 ('../../escaped.jpg'), image 2 ('/abs/escaped.png'), " \
           "image 3" in err and "wrote" not in err
    assert list(tmp_path.rglob("escaped*")) == [] and list(out.glob("*.png")) == []
    # distinct hostile names are written inside the folder, under their last part
    src, masks = _labelbox_export(tmp_path / "b", [("v2", "../../one.jpg"),
                                                   ("ndjson", "/etc/two")])
    assert run("labelbox-to-coco", src, "--masks", masks, "-o", coco, "--jobs", "1", "-q") == 0
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1", "-q") == 0
    assert files_under(out) == ["one.png", "two.png"]
    assert sorted(p.name for p in tmp_path.rglob("*.png")) == ["c.png", "c.png", "one.png",
                                                              "two.png"]
    # a symbolic link in the output folder does not let a name out either
    outside = tmp_path / "outside"
    outside.mkdir()
    (out / "lnk").symlink_to(outside, target_is_directory=True)
    src, masks = _labelbox_export(tmp_path / "c", [("v2", "lnk/three.png")])
    assert run("labelbox-to-coco", src, "--masks", masks, "-o", coco, "--jobs", "1", "-q") == 0
    assert run("coco-to-masks", coco, "-o", out, "--jobs", "1") == 1
    assert "outside the output folder" in capsys.readouterr().err
    assert list(outside.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# #18 item 7, the rest: argument misuse of the library gives our errors
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: __import__("maskcodecs.coco").coco.segments_from_label_map(
        np.zeros((2, 2), np.uint8), background=2**70),                # OverflowError
    lambda: __import__("maskcodecs.coco").coco.segments_from_label_map(
        np.zeros((2, 2), np.uint8), background="x"),                  # ValueError of int()
    lambda: __import__("maskcodecs.coco").coco.segments_from_label_map(
        np.zeros((2, 2), np.uint8), ignore=["x"]),
    lambda: __import__("maskcodecs.rle").rle.encode_batch(
        np.zeros((2, 2, 2), np.uint8), threads=float("inf")),          # OverflowError
    lambda: __import__("maskcodecs.rle").rle.encode_batch(
        np.zeros((2, 2, 2), np.uint8), threads=float("nan")),          # ValueError
    lambda: __import__("maskcodecs.rle").rle.decode_batch(
        [{"size": [1, 1], "counts": b"1"}], threads="2"),
    lambda: __import__("maskcodecs.mask").mask.iou(
        [[0, 0, 1, 1]], [[0, 0, 1, 1]], [0], threads=1.5),
    lambda: __import__("maskcodecs.labelbox").labelbox.draw_polygon(
        np.zeros((4, 4), np.uint8), [(0, 0), (2, 0), (0, 2)], color=2**70),  # OverflowError
    lambda: __import__("maskcodecs.labelbox").labelbox.draw_polygon(
        np.zeros((4, 4), np.uint8), [(0, 0), (2, 0), (0, 2)], color=300),     # bare ValueError
    lambda: __import__("maskcodecs.coco").coco.merge_by_category(["x"]),   # AttributeError
])
def test_library_argument_misuse_is_an_argument_error(call):
    from maskcodecs.errors import ArgumentError
    with pytest.raises(ArgumentError) as e:
        call()
    assert isinstance(e.value, ValueError) and isinstance(e.value, TypeError)


def test_every_threads_entry_point_shares_one_check():
    from maskcodecs import _pool, panoptic, rle
    from maskcodecs import mask as mc
    from maskcodecs.errors import ArgumentError
    from maskcodecs.lvis import LVISEval
    box = [[0, 0, 1, 1]]
    calls = [lambda t: _pool.resolve_threads(t, 4), lambda t: LVISEval(None, None, threads=t),
             lambda t: mc.iou(box, box, [0], threads=t),  # boxes: no threads used, checked
             lambda t: rle.iou([], [], threads=t), lambda t: rle.decode_batch([], threads=t),
             lambda t: rle.encode_batch(np.zeros((0, 1, 1), np.uint8), threads=t),
             lambda t: panoptic.pq_compute({}, {}, threads=t),
             lambda t: panoptic.to_instances({}, threads=t)]
    for bad in (float("inf"), 2.0, "4", True, [2]):
        for call in calls:  # the check comes first, whatever the other arguments
            with pytest.raises(ArgumentError, match="threads must be an integer"):
                call(bad)
    assert [_pool.resolve_threads(t, 4) for t in (None, 1, 2**70, np.int64(3))] == [1, 1, 4, 3]


def test_streaming_cocoeval_checks_threads():
    from maskcodecs.cocoeval import StreamingCOCOeval
    from maskcodecs.errors import ArgumentError
    with pytest.raises(ArgumentError):
        StreamingCOCOeval(None, threads=float("inf"))


def test_segments_from_mask_image_channel_out_of_range_is_a_shape_error():
    from maskcodecs import coco
    from maskcodecs.errors import ArgumentError, MaskShapeError
    rgb = np.zeros((4, 4, 3), np.uint8)
    for ch in (5, -1, 2**70):
        with pytest.raises(MaskShapeError, match="is not a channel"):
            coco.segments_from_mask_image(rgb, channel=ch)
    with pytest.raises(ArgumentError, match="channel must be an integer"):
        coco.segments_from_mask_image(rgb, channel="x")


@pytest.mark.parametrize("rle", [{}, {"counts": b"4"}])
def test_labelbox_compose_of_an_rle_without_a_key(rle):
    from maskcodecs import labelbox
    from maskcodecs.errors import RLEKeyError
    with pytest.raises(KeyError) as e:  # was a bare KeyError: 'size'
        labelbox.compose([rle], [(1, 2, 3)])
    assert isinstance(e.value, RLEKeyError) and "no 'size' key" in str(e.value)


@pytest.mark.parametrize("bad", [np.array(5), np.array(["a", "b"]), np.array("ab"), "x", 5])
def test_rle_that_is_not_a_dict(bad):
    from maskcodecs import mask as mc
    from maskcodecs import rle
    from maskcodecs.errors import RLETypeError
    calls = [lambda: rle.decode(bad), lambda: mc.frUncompressedRLE([bad]),
             lambda: mc.frUncompressedRLE(bad), lambda: mc.decode(bad)]
    for call in calls:  # IndexError (arrays) or "string indices must be integers"
        with pytest.raises(TypeError) as e:
            call()
        assert isinstance(e.value, RLETypeError)


@pytest.mark.parametrize("score", [[], [0.9], [0.9, 0.8], [[1]], None, "x", 10**400])
def test_load_res_score_that_is_not_a_number(score):
    from maskcodecs.coco import COCO
    from maskcodecs.cocoeval import COCOeval
    from maskcodecs.errors import EvaluationTypeError
    gt = COCO()
    gt.dataset = {"images": [{"id": 1, "height": 4, "width": 4}], "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4,
         "iscrowd": 0}], "categories": [{"id": 1, "name": "a"}]}
    gt.createIndex()
    dt = gt.loadRes([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": score}])
    ev = COCOeval(gt, dt, "bbox")
    with pytest.raises(TypeError, match="score") as e:  # [] was an IndexError
        ev.evaluate()
    assert isinstance(e.value, EvaluationTypeError)
    ev._prepare()
    with pytest.raises(EvaluationTypeError, match="score"):  # [0.9, 0.8] was read as 2 scores
        ev.computeIoU(1, 1)


# ---------------------------------------------------------------------------------------------
# #18 item 7, the rest: command-line inputs that reached main's catch-all (TypeError: ...)
# ---------------------------------------------------------------------------------------------

def _encord_objects(objs: list, h: object = 4, w: object = 4) -> list:
    return [{"label_hash": "l", "data_units": {"d": {
        "data_hash": "d", "data_title": "a.png", "width": w, "height": h,
        "labels": {"objects": objs}}}}]


def _box(bb: object) -> dict:
    return {"shape": "bounding_box", "boundingBox": bb, "name": "c"}


@pytest.mark.parametrize(("rows", "expect"), [
    (_encord_objects([_box({"x": 0.1})]), "boundingBox has no 'y'"),          # KeyError: 'y'
    (_encord_objects([_box({"x": "0.1", "y": 0, "w": 1, "h": 1})]),           # format code 'g'
     "'x' must be a finite number"),
    (_encord_objects([_box("x")]), "boundingBox must be an object"),
    (_encord_objects([_box({"x": 0, "y": 0, "w": 1, "h": 1})], h=4.5), "height must be an integer"),
    (_encord_objects([_box({"x": 0, "y": 0, "w": 1, "h": 1})], h=2**70), "too many pixels"),
    (_encord_objects([{"shape": "bitmask", "name": "c", "bitmask": {
        "height": "x", "width": 4, "rleString": "0"}}]), "height must be an integer"),
    (_encord_objects([{"shape": "bitmask", "name": "c", "bitmask": "x"}]), "must be an object"),
])
def test_encord_to_coco_boxes_and_sizes_of_the_wrong_type(tmp_path, capsys, rows, expect):
    src = write_json(tmp_path / "rows.json", rows)
    assert run("encord-to-coco", src, "-o", tmp_path / "c.json", "-q") == 1
    err = capsys.readouterr().err
    assert expect in err and "Error:" not in err


def test_encord_sizes_as_digit_strings_are_read_as_encord_writes_them(tmp_path):
    from maskcodecs import encord
    from maskcodecs.errors import FormatError, MaskShapeError
    src = write_json(tmp_path / "rows.json", _encord_objects(
        [{"shape": "bitmask", "name": "c", "bitmask": {"height": "4", "width": "4",
                                                      "rleString": "0"}}], h="4", w=4))
    assert run("encord-to-coco", src, "-o", tmp_path / "c.json", "-q") == 0
    assert json.loads((tmp_path / "c.json").read_text())["images"][0]["height"] == 4
    with pytest.raises(MaskShapeError):
        encord._frame_size(0, 4)
    with pytest.raises(FormatError, match="'h' must be a finite number >= 0"):
        encord._bounding_box({"x": 0, "y": 0, "w": 1, "h": -1})


def _ontology_of_id_1(tmp_path):
    """An Encord ontology with one object, id 1 (coco-to-encord needs the feature hash)."""
    return write_json(tmp_path / "ontology.json", {"objects": [
        {"id": "1", "name": "thing", "shape": "bitmask", "featureNodeHash": "hash0001"}]})


def test_coco_to_encord_category_with_a_list_id_is_left_out(tmp_path, capsys):
    coco = write_json(tmp_path / "c.json", {**coco_doc(
        [{"id": 1, "file_name": "a.png", "height": 4, "width": 4}], [ann(1)]),
        "categories": [{"id": [1], "name": "y"}]})  # was TypeError: unhashable type: 'list'
    assert run("coco-to-encord", coco, "-o", tmp_path / "e.json", "-q", "--ontology",
               _ontology_of_id_1(tmp_path)) == 0
    assert "Error" not in capsys.readouterr().err


@pytest.mark.parametrize(("ann_extra", "expect"), [
    ({"category_id": [1]}, "category_id [1] is not an integer"),      # unhashable type: 'list'
    ({"category_id": "x"}, "category_id 'x' is not an integer"),      # int() ValueError
    ({"category_id": {}}, "category_id {} is not an integer"),
    ({"bbox": ["a", 1, 1, 1], "encord": {"shape": "bounding_box"}}, "is not [x, y, w, h]"),
    ({"bbox": [1, 1, 1], "encord": {"shape": "bounding_box"}}, "is not [x, y, w, h]"),
    ({"segmentation": [["a", 1, 2, 3, 4, 5]]}, "finite coordinates"),
])
def test_coco_to_encord_category_ids_boxes_and_polygons(tmp_path, capsys, ann_extra, expect):
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": "a.png", "height": 4, "width": 4}], [{**ann(1), **ann_extra}]))
    assert run("coco-to-encord", coco, "-o", tmp_path / "e.json", "-q", "--ontology",
               _ontology_of_id_1(tmp_path)) == 1
    err = capsys.readouterr().err
    assert expect in err and "Error:" not in err


@pytest.mark.parametrize(("cats", "n_bad"), [(5, 1), ("x", 1), ([1, "x"], 2), (True, 1)])
def test_info_and_validate_with_categories_that_are_not_objects(tmp_path, capsys, cats, n_bad):
    coco = write_json(tmp_path / "c.json", {**coco_doc(
        [{"id": 1, "file_name": "a.png", "height": 4, "width": 4}], [ann(1)]),
        "categories": cats})
    assert run("info", coco, "--json") == 0  # was TypeError: object of type 'int' has no len()
    out = json.loads(capsys.readouterr().out)
    assert (out["categories"], out["invalid_categories"]) == (0, n_bad)
    assert run("validate", coco) == 1  # was OK
    err = capsys.readouterr().err
    assert "categories" in err and ("not a list" in err or "not an object" in err)


@pytest.mark.parametrize(("table", "expect"), [
    (["x"], "categories[0] must be an object"),              # dict() ValueError
    ([1], "categories[0] must be an object"),                # 'int' object is not iterable
    ({"categories": 5}, "\"categories\" must be a list"),
    ([{"id": "x", "name": "a"}], "category id 'x' is not an integer"),
    ([{"id": 1, "name": "a", "values": 5}], "must be a list"),
    ([{"id": 1, "name": "a", "values": [[1, 2]]}], "bad value key"),   # grew until MemoryError
    ({"values": {"1,2": 1}}, "bad value key"),                          # the same
    ({"values": {"999,0,0": 1}}, "bad value key"),
    ({"values": {"1": {"category": 1, "iscrowd": "x"}}}, "is not 0 or 1"),
    ({"values": {"1": 1}, "label_divisor": "x"}, "not a positive integer"),
    ({"values": {"1": 1}, "label_divisor": -1}, "not a positive integer"),
])
def test_masks_to_coco_categories_tables_of_the_wrong_type(tmp_path, capsys, table, expect):
    masks = _one_mask(tmp_path)
    t = write_json(tmp_path / "t.json", table)
    assert run("masks-to-coco", masks, "-o", tmp_path / "c.json", "--categories", t, "-q") == 1
    err = capsys.readouterr().err
    assert expect in err and "Error:" not in err


@pytest.mark.parametrize("bbox", ["x", ["a", "b", "c", "d"], [1, 2, 3], [1, 2, 3, 4, 5], 5,
                                  {}, [None, 1, 1, 1]])
def test_show_with_boxes_of_the_wrong_type(tmp_path, capsys, bbox):
    coco = write_json(tmp_path / "c.json", coco_doc(
        [{"id": 1, "file_name": "a.png", "height": 4, "width": 4}], [dict(ann(1), bbox=bbox)]))
    assert run("show", coco, "--image", "1", "-o", tmp_path / "s.png", "--labels",
               "--outline", "-q") == 0  # the label goes to the corner; the box is not drawn
    assert "Error" not in capsys.readouterr().err


@pytest.mark.parametrize("cmd", ["labelbox-to-coco", "info", "coco-to-encord"])
def test_lone_surrogates_are_refused_as_invalid_json_naming_the_file(tmp_path, capsys, cmd):
    src = tmp_path / "in.json"  # orjson refuses them; labelbox-to-coco read them with json
    src.write_text('[{"dataRow": {"id": "\\ud800"}, "mask": {"png": "AAAA"}}]')
    argv = {"labelbox-to-coco": [src, "--masks", tmp_path, "-o", tmp_path / "c.json"],
            "info": [src], "coco-to-encord": [src, "-o", tmp_path / "e.json"]}[cmd]
    assert run(cmd, *argv) == 1
    err = capsys.readouterr().err
    assert "in.json" in err and "not valid JSON" in err and "surrogate" in err
    assert not (tmp_path / "c.json").exists()


def test_json_reader_refuses_lone_surrogates_without_orjson(tmp_path, monkeypatch):
    from maskcodecs.cli import _util
    monkeypatch.setattr(_util, "_orjson", None)
    with pytest.raises(ValueError, match="lone surrogate"):
        _util._loads('{"a": "\\ud800"}')
    assert _util._loads('{"a": "\\ud83d\\ude00"}') == {"a": "\U0001F600"}  # a pair is fine


@pytest.mark.parametrize("bad", [{"media_attributes": {"height": "x", "width": 4}},
                                 {"media_attributes": {"height": [1], "width": 4}},
                                 {"url": None}, {"url": 5}, {"url": True}, {"url": ["a"]},
                                 {"url": {"a": 1}}])
def test_labelbox_export_sizes_and_urls_of_the_wrong_type(tmp_path, capsys, bad):
    obj = {"name": "car", "composite_mask": {"url": bad.get("url", "https://x/m.png"),
                                             "color_rgb": [255, 0, 0]}}
    rec = {"data_row": {"id": "dr1", "external_id": "a.png"},
           "media_attributes": bad.get("media_attributes", {"height": 4, "width": 4}),
           "projects": {"p": {"labels": [{"annotations": {"objects": [obj]}}]}}}
    exp = tmp_path / "e.ndjson"
    exp.write_text(json.dumps(rec))
    (tmp_path / "m").mkdir()
    rc = run("labelbox-to-coco", exp, "--masks", tmp_path / "m", "-o", tmp_path / "o.json")
    err = capsys.readouterr().err
    assert rc == 1 and "Error" not in err and "data row dr1" in err

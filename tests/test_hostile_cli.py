"""Hostile inputs to the command line (issue #18): each test builds the input in tmp_path
(a few hundred bytes), runs the command and asserts what it does with it; the fixes live in
the library (maskcodecs._fileio, maskcodecs._coco_check...), so the library is tested too."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("PIL")

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

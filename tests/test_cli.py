"""The maskcodecs command line: every subcommand on generated and real data, exit codes,
round trips, --skip-bad, atomic output, --jobs and the Dask engine."""
from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import load_json, realdata
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

pytest.importorskip("PIL")
from PIL import Image  # noqa: E402
from pycocotools import mask as pcm  # noqa: E402

import maskcodecs  # noqa: E402
from maskcodecs.cli import _backend as be  # noqa: E402
from maskcodecs.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SRC = Path(maskcodecs.__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("make_example_data",
                                                  ROOT / "scripts" / "make_example_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(*argv: str) -> int:
    return main([str(a) for a in argv])


def coco_rle(m: np.ndarray) -> str:
    return pcm.encode(np.asfortranarray(m.astype(np.uint8)))["counts"].decode()


def segs(doc: dict) -> list:
    """(file stem, counts) of every RLE annotation, sorted."""
    names = {im["id"]: Path(im["file_name"]).stem for im in doc["images"]}
    return sorted((names[a["image_id"]], a["segmentation"]["counts"], a["area"], a["bbox"])
                  for a in doc["annotations"])


def encord_ontology(tmp_path: Path, coco: dict) -> Path:
    """An Encord ontology structure for a COCO file's categories (hashes made up by the
    test, as a project's ontology would hold them)."""
    p = tmp_path / "ontology.json"
    p.write_text(json.dumps({"objects": [
        {"id": str(c["id"]), "name": c["name"], "shape": "bitmask",
         "featureNodeHash": f"test{c['id']:04d}"} for c in coco.get("categories", [])]}))
    return p


def save_png(path: Path, arr: np.ndarray) -> Path:
    Image.fromarray(arr).save(path)
    return path


# ---------------------------------------------------------------------------------------------
# usage, help, exit codes
# ---------------------------------------------------------------------------------------------

COMMANDS = ["masks-to-coco", "coco-to-masks", "encord-to-coco", "coco-to-encord",
            "labelbox-to-coco", "info", "validate", "show"]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help(cmd, capsys):
    assert run(cmd, "--help") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: maskcodecs {cmd}")


def test_usage_errors(tmp_path, capsys):
    assert run() == 2
    assert run("no-such-command") == 2
    assert run("masks-to-coco", str(tmp_path)) == 2  # -o missing
    capsys.readouterr()
    assert run("masks-to-coco", tmp_path / "missing", "-o", tmp_path / "o.json") == 2
    assert "mask folder not found" in capsys.readouterr().err
    assert run("validate", tmp_path / "missing.json") == 2
    assert run("masks-to-coco", EXAMPLES / "masks", "-o", tmp_path / "no" / "o.json") == 2
    assert run("masks-to-coco", EXAMPLES / "masks", "-o", tmp_path / "o.json",
               "--threshold", "-3") == 2
    assert run("masks-to-coco", EXAMPLES / "masks", "-o", tmp_path / "o.json", "--jobs", "-1") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_data_error_message_and_debug(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run("info", bad) == 1
    err = capsys.readouterr().err
    assert "bad.json" in err and "not valid JSON" in err and "Traceback" not in err
    from maskcodecs.cli._util import DataError

    with pytest.raises(DataError):
        run("info", bad, "--debug")


# ---------------------------------------------------------------------------------------------
# masks-to-coco on the examples (the README quickstart)
# ---------------------------------------------------------------------------------------------

def test_examples_are_generated_by_the_script(tmp_path):
    mod = _script()
    assert mod.main([str(tmp_path)]) == 0
    for name in sorted(os.listdir(EXAMPLES / "masks")):
        a = np.asarray(Image.open(EXAMPLES / "masks" / name))
        b = np.asarray(Image.open(tmp_path / "masks" / name))
        assert np.array_equal(a, b), name
    assert json.loads((tmp_path / "categories.json").read_text()) == json.loads(
        (EXAMPLES / "categories.json").read_text())
    assert len(os.listdir(EXAMPLES / "masks")) == 12


def test_quickstart_examples(tmp_path, capsys):
    out = tmp_path / "example-coco.json"
    assert run("masks-to-coco", EXAMPLES / "masks", "-o", out,
               "--categories", EXAMPLES / "categories.json", "--jobs", "1") == 0
    assert run("validate", out) == 0
    assert "OK" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert [c["name"] for c in doc["categories"]] == ["disc", "square", "triangle"]
    known = _script().make_examples()
    by_file = {im["file_name"]: im["id"] for im in doc["images"]}
    assert sorted(by_file) == sorted(known)
    for name, (arr, inst) in known.items():
        labels = arr if arr.ndim == 2 else be.rgb_to_ids(arr)
        anns = [a for a in doc["annotations"] if a["image_id"] == by_file[name]]
        expect = sorted((coco_rle(labels == v), cat) for v, cat in inst)
        got = sorted((a["segmentation"]["counts"], a["category_id"]) for a in anns)
        assert got == expect, name
        for a in anns:
            r = dict(a["segmentation"])
            assert a["area"] == int(pcm.area(r))
            assert a["bbox"] == pcm.toBbox(r).tolist()
    ids = [a["id"] for a in doc["annotations"]]
    assert ids == list(range(1, len(ids) + 1))


def test_jobs_two_equals_jobs_one(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    common = [EXAMPLES / "masks", "--categories", EXAMPLES / "categories.json", "-q"]
    assert run("masks-to-coco", *common, "-o", a, "--jobs", "1") == 0
    assert run("masks-to-coco", *common, "-o", b, "--jobs", "2") == 0
    assert a.read_bytes() == b.read_bytes()


def test_subprocess_module_and_errors(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = tmp_path / "o.json"
    p = subprocess.run([sys.executable, "-m", "maskcodecs", "masks-to-coco",
                        str(EXAMPLES / "masks"), "-o", str(out),
                        "--categories", str(EXAMPLES / "categories.json"), "--jobs", "2"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "12 images, 48 annotations" in p.stderr
    p = subprocess.run([sys.executable, "-m", "maskcodecs", "validate", str(out)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "OK" in p.stdout
    p = subprocess.run([sys.executable, "-m", "maskcodecs", "info", str(tmp_path / "nope.json")],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "not found" in p.stderr and "Traceback" not in p.stderr


# ---------------------------------------------------------------------------------------------
# label maps, kinds, categories
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_label_map_kernel_vs_pycocotools(seed):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    dtype = [np.uint8, np.uint16, np.int32][seed % 3]
    arr = rng.integers(0, 1 + seed, size=(h, w)).astype(dtype)
    if seed == 5:
        arr = np.asfortranarray(arr)[:, ::-1]  # not contiguous
    got = be.label_map_to_rles(arr)
    vals = [int(v) for v in np.unique(arr) if v != 0]
    assert list(got) == vals
    for v in vals:
        assert got[v]["counts"].decode() == coco_rle(arr == v)
        assert got[v]["size"] == [h, w]


@settings(max_examples=60, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 24), st.integers(1, 24))))
def test_encord_string_property(m):
    # Encord rleString = COCO string codec over the row-major mask (= COCO RLE of m.T)
    s = be.coco_to_encord_string({"size": list(m.shape), "counts": coco_rle(m)})
    assert s == coco_rle(m.T)
    back = be.encord_string_to_coco(s, *m.shape)
    assert back["counts"].decode() == coco_rle(m)


@settings(max_examples=80, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 30), st.integers(1, 30))))
def test_cli_polygons_match_the_polygons_module_and_opencv(m):
    """The CLI's short path to polygons (bytes counts, default options) gives what
    maskcodecs.polygons gives (same order), and cv2.findContours' outer polygons of at least 3
    points (the same multiset: ours come in raster order, OpenCV's in its own)."""
    from maskcodecs import polygons

    rle = pcm.encode(np.asfortranarray(m.astype(np.uint8)))
    got = be.rle_to_polygons(rle)
    assert got == [p for p in polygons.rle_to_polygons(rle) if len(p) >= 6]
    assert got == be.rle_to_polygons(m.astype(np.uint8))
    cv2 = pytest.importorskip("cv2")
    cs, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    assert sorted(got) == sorted(c.reshape(-1).astype(float).tolist() for c in cs if len(c) >= 3)


def test_label_map_edges():
    assert be.label_map_to_rles(np.zeros((3, 4), np.uint8)) == {}
    assert be.label_map_to_rles(np.zeros((0, 4), np.uint8)) == {}
    one = be.label_map_to_rles(np.full((1, 1), 7, np.uint8))
    assert one == {7: {"size": [1, 1], "counts": b"01"}}
    full = be.label_map_to_rles(np.full((5, 3), 2, np.uint16))
    assert full[2]["counts"].decode() == coco_rle(np.ones((5, 3)))


def test_kinds_binary_label_jpeg(tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    m = np.zeros((20, 30), np.uint8)
    m[3:9, 4:20] = 255
    save_png(d / "a_binary255.png", m)
    save_png(d / "b_binary01.png", (m > 0).astype(np.uint8))
    Image.fromarray(m).save(d / "c_jpeg.jpg", quality=95)
    lab = np.zeros((20, 30), np.uint16)
    lab[1:5, 1:5], lab[10:15, 2:28] = 300, 1000
    save_png(d / "d_label16.png", lab)
    out = tmp_path / "o.json"
    assert run("masks-to-coco", d, "-o", out, "--jobs", "1", "-q") == 0
    doc = json.loads(out.read_text())
    assert doc["info"]["kinds"] == {"binary": 3, "label": 1}
    by = {im["file_name"]: [a for a in doc["annotations"] if a["image_id"] == im["id"]]
          for im in doc["images"]}
    expect = coco_rle(m > 0)
    assert [a["segmentation"]["counts"] for a in by["a_binary255.png"]] == [expect]
    assert [a["segmentation"]["counts"] for a in by["b_binary01.png"]] == [expect]
    (jp,) = by["c_jpeg.jpg"]
    assert abs(jp["area"] - int((m > 0).sum())) <= 4
    assert sorted(a["area"] for a in by["d_label16.png"]) == [16, 130]
    # --kind label on an RGB colour image is a data error naming the file
    save_png(d / "e_rgb.png", np.dstack([m, m // 2, m // 3]))
    assert run("masks-to-coco", d, "-o", out, "--kind", "label", "--jobs", "1") == 1


def test_colour_maps_rgb_rgba_palette(tmp_path):
    """--kind color: an RGB, an RGBA and a palette PNG of the same colour map give the same
    annotations, one per colour (black is background, here palette index 2, not 0), each
    pycocotools' RLE of that colour."""
    rng = np.random.default_rng(4)
    cols = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 0], [9, 8, 7], [1, 0, 0]], np.uint8)
    idx = np.repeat(np.repeat(rng.integers(0, len(cols), (6, 8)), 5, 0), 4, 1)
    rgb = cols[idx]
    d = tmp_path / "m"
    d.mkdir()
    save_png(d / "a_rgb.png", rgb)
    save_png(d / "b_rgba.png", np.dstack([rgb, np.full(idx.shape, 200, np.uint8)]))
    pal = Image.fromarray(idx.astype(np.uint8), "P")
    pal.putpalette(cols.reshape(-1).tolist())
    pal.save(d / "c_palette.png")
    out = tmp_path / "o.json"
    assert run("masks-to-coco", d, "-o", out, "--kind", "color", "--jobs", "1", "-q") == 0
    doc = json.loads(out.read_text())
    by = {Path(n).stem: [] for n in ("a_rgb", "b_rgba", "c_palette")}
    for stem, counts, area, bbox in segs(doc):
        by[stem].append((counts, area, bbox))
    want = sorted((coco_rle(idx == k), int((idx == k).sum()),
                   pcm.toBbox(pcm.encode(np.asfortranarray((idx == k).astype(np.uint8)))).tolist())
                  for k in range(len(cols)) if k != 2 and (idx == k).any())
    assert len(want) == 4
    assert by["a_rgb"] == want
    assert by["b_rgba"] == want
    assert by["c_palette"] == want


def test_categories_table(tmp_path, capsys):
    d = tmp_path / "m"
    d.mkdir()
    lab = np.zeros((10, 10), np.uint8)
    lab[0:3, 0:3], lab[5:9, 5:9], lab[0:2, 7:9] = 1, 2, 255
    save_png(d / "x.png", lab)
    table = tmp_path / "t.json"
    table.write_text(json.dumps({"1": "cat", "2": "dog"}))
    out = tmp_path / "o.json"
    assert run("masks-to-coco", d, "-o", out, "--categories", table, "--jobs", "1") == 1
    assert "value 255 has no category" in capsys.readouterr().err
    assert not out.exists()
    table.write_text(json.dumps({"categories": [{"id": 5, "name": "cat"}],
                                 "values": {"1": "cat", "2": {"category": 6, "iscrowd": 1},
                                            "255": None}}))
    assert run("masks-to-coco", d, "-o", out, "--categories", table, "--jobs", "1", "-q") == 0
    doc = json.loads(out.read_text())
    assert [(a["category_id"], a["iscrowd"], a["area"]) for a in doc["annotations"]] == [
        (5, 0, 9), (6, 1, 16)]
    assert {c["id"] for c in doc["categories"]} == {5, 6}
    table.write_text(json.dumps({"values": {"#010000": 1}, "label_divisor": 0, "x": 1,
                                 "categories": []}))
    assert run("masks-to-coco", d, "-o", out, "--categories", table, "--jobs", "1") == 1


def test_polygon_format(tmp_path, capsys):
    out = tmp_path / "p.json"
    rc = run("masks-to-coco", EXAMPLES / "masks", "-o", out, "--format", "polygon",
             "--jobs", "1", "--categories", EXAMPLES / "categories.json")
    assert rc == 0
    assert run("validate", out) == 0
    doc = json.loads(out.read_text())
    known = _script().make_examples()
    names = {im["id"]: im["file_name"] for im in doc["images"]}
    for a in doc["annotations"]:
        assert isinstance(a["segmentation"], list) and a["iscrowd"] == 0
        arr, _ = known[names[a["image_id"]]]
        labels = arr if arr.ndim == 2 else be.rgb_to_ids(arr)
        h, w = labels.shape
        raster = pcm.decode(pcm.merge(pcm.frPyObjects(a["segmentation"], h, w))) > 0
        best = max(((raster & (labels == v)).sum() / (raster | (labels == v)).sum())
                   for v in np.unique(labels) if v)
        assert best > 0.5


# ---------------------------------------------------------------------------------------------
# bad inputs: --skip-bad, report, atomic output
# ---------------------------------------------------------------------------------------------

def _with_corrupt(tmp_path: Path) -> Path:
    d = tmp_path / "m"
    d.mkdir()
    for name in ("label_00.png", "label_01.png", "color_00.png"):
        (d / name).write_bytes((EXAMPLES / "masks" / name).read_bytes())
    good = (EXAMPLES / "masks" / "label_02.png").read_bytes()
    (d / "broken.png").write_bytes(good[: len(good) // 2])
    return d


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_skip_bad_and_atomic_output(tmp_path, capsys, jobs):
    d = _with_corrupt(tmp_path)
    out = tmp_path / "o.json"
    assert run("masks-to-coco", d, "-o", out, "--jobs", jobs) == 1
    err = capsys.readouterr().err
    assert "broken.png" in err and "--skip-bad" in err and "Traceback" not in err
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["m"]  # no temp or spool files left behind
    report = tmp_path / "report.json"
    assert run("masks-to-coco", d, "-o", out, "--jobs", jobs, "--skip-bad",
               "--report", report) == 0
    err = capsys.readouterr().err
    assert "skipped 1 bad item" in err and "broken.png" in err
    rep = json.loads(report.read_text())
    assert [s["item"] for s in rep["skipped"]] == ["broken.png"]
    doc = json.loads(out.read_text())
    assert [im["file_name"] for im in doc["images"]] == ["color_00.png", "label_00.png",
                                                         "label_01.png"]
    assert sorted(os.listdir(tmp_path)) == ["m", "o.json", "report.json"]


def test_existing_output_survives_a_failing_run(tmp_path):
    d = _with_corrupt(tmp_path)
    out = tmp_path / "o.json"
    out.write_text("previous")
    assert run("masks-to-coco", d, "-o", out, "--jobs", "1") == 1
    assert out.read_text() == "previous"


# ---------------------------------------------------------------------------------------------
# real data: panopticapi, Labelbox COCO panoptic masks, Encord label rows
# ---------------------------------------------------------------------------------------------

def test_panopticapi_masks_to_coco_exact(tmp_path):
    folder = realdata("panopticapi", "panoptic_examples")
    images = realdata("panopticapi", "panoptic_examples.json")
    det = load_json("panopticapi", "panoptic_coco_detection_format.json")
    pan = load_json("panopticapi", "panoptic_examples.json")
    out = tmp_path / "pan.json"
    assert run("masks-to-coco", folder, "-o", out, "--kind", "panoptic", "--images", images,
               "--jobs", "2", "-q") == 0
    doc = json.loads(out.read_text())
    got = sorted((a["image_id"], a["segmentation"]["counts"], a["area"], a["bbox"])
                 for a in doc["annotations"])
    exp = sorted((a["image_id"], a["segmentation"]["counts"], a["area"],
                  [float(v) for v in a["bbox"]]) for a in det["annotations"])
    assert len(got) == 50 and got == exp
    seg = sorted((a["image_id"], s["area"], [float(v) for v in s["bbox"]])
                 for a in pan["annotations"] for s in a["segments_info"])
    assert sorted((g[0], g[2], g[3]) for g in got) == seg
    assert {im["id"] for im in doc["images"]} == {im["id"] for im in pan["images"]}


def _labelbox_export(pan: dict, *, ndjson_import: bool) -> list[dict]:
    cats = {c["id"]: c["name"] for c in pan["categories"]}
    recs = []
    for a in pan["annotations"]:
        stem = a["file_name"].rsplit(".", 1)[0]
        url = f"https://api.labelbox.com/api/v1/tasks/t1/masks/{stem}/index/1"
        cols = [[s["id"] % 256, s["id"] // 256 % 256, s["id"] // 65536] for s in a["segments_info"]]
        names = [cats[s["category_id"]] for s in a["segments_info"]]
        if ndjson_import:
            recs += [{"uuid": f"{stem}-{k}", "dataRow": {"id": stem}, "name": n,
                      "mask": {"instanceURI": f"https://storage/x/{stem}?token=1", "colorRGB": c}}
                     for k, (n, c) in enumerate(zip(names, cols))]
        else:
            objs = [{"name": n, "annotation_kind": "ImageSegmentationMask",
                     "composite_mask": {"url": url, "color_rgb": c}} for n, c in zip(names, cols)]
            recs.append({"data_row": {"id": stem, "external_id": a["file_name"]},
                         "media_attributes": {"height": None, "width": None},
                         "projects": {"p": {"labels": [{"annotations": {"objects": objs}}]}}})
    return recs


@pytest.mark.parametrize("form", ["export-v2", "ndjson"])
def test_labelbox_composite_masks_real(tmp_path, form):
    masks = realdata("labelbox", "coco", "masks")
    pan = load_json("labelbox", "coco", "panoptic.json")
    recs = _labelbox_export(pan, ndjson_import=form == "ndjson")
    exp_path = tmp_path / ("e.json" if form == "export-v2" else "e.ndjson")
    args = []
    if form == "ndjson":
        exp_path.write_text("".join(json.dumps(r) + "\n" for r in recs))
        umap = {f"https://storage/x/{a['file_name'].rsplit('.', 1)[0]}?token=1": a["file_name"]
                for a in pan["annotations"]}
        (tmp_path / "map.json").write_text(json.dumps(umap))
        args = ["--url-map", tmp_path / "map.json"]
    else:
        exp_path.write_text(json.dumps(recs))
    out = tmp_path / "lb.json"
    assert run("labelbox-to-coco", exp_path, "--masks", masks, "-o", out, "--jobs", "2", "-q",
               *args) == 0
    doc = json.loads(out.read_text())
    exp = [(s["area"], [float(v) for v in s["bbox"]]) for a in pan["annotations"]
           for s in a["segments_info"]]
    assert [(a["area"], a["bbox"]) for a in doc["annotations"]] == exp
    assert len(doc["images"]) == 20
    assert run("validate", out) == 0


def test_labelbox_mask_png_and_imbytes(tmp_path, capsys):
    png = realdata("labelbox", "mask.png")
    b64 = base64.b64encode(png.read_bytes()).decode()
    lines = [{"dataRow": {"id": "r1"}, "name": "white",
              "mask": {"imBytes": b64, "colorRGB": [255, 255, 255]}},
             {"dataRow": {"id": "r1"}, "name": "cyan",
              "mask": {"instanceURI": "https://x/mask.png", "colorRGB": [0, 255, 255]}},
             {"dataRow": {"id": "r1"}, "name": "red",
              "mask": {"instanceURI": "https://x/mask.png", "colorRGB": [255, 0, 0]}}]
    binary = np.zeros((32, 32), np.uint8)
    binary[3:5, 6:9] = 1  # the SDK's own form: a 0/1 mode-L PNG of one instance
    buf = io.BytesIO()
    Image.fromarray(binary).save(buf, format="PNG")
    lines.append({"dataRow": {"id": "r1"}, "name": "small",
                  "mask": {"png": base64.b64encode(buf.getvalue()).decode()}})
    exp = tmp_path / "a.ndjson"
    exp.write_text("\n".join(json.dumps(x) for x in lines))
    out = tmp_path / "o.json"
    assert run("labelbox-to-coco", exp, "--masks", png.parent, "-o", out, "--jobs", "1") == 0
    assert "colour (255, 0, 0) of 'red' is absent" in capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert [(a["area"], a["bbox"]) for a in doc["annotations"]] == [
        (121, [0.0, 0.0, 11.0, 11.0]), (121, [20.0, 20.0, 11.0, 11.0]),
        (6, [6.0, 3.0, 3.0, 2.0])]
    # ids by sorted class name, not by order of appearance
    assert [(c["id"], c["name"]) for c in doc["categories"]] == [
        (1, "cyan"), (2, "red"), (3, "small"), (4, "white")]
    lines[1]["mask"]["instanceURI"] = "https://x/absent.png"
    exp.write_text("\n".join(json.dumps(x) for x in lines))
    assert run("labelbox-to-coco", exp, "--masks", png.parent, "-o", out, "--jobs", "1") == 1
    assert "no local file for mask URL https://x/absent.png" in capsys.readouterr().err


def _encord_rows(tmp_path: Path) -> Path:
    fx = load_json("encord_client_python", "coco_exporter_fixture.json")
    p = tmp_path / "rows.json"
    p.write_text(json.dumps(fx["LABELS_LIST"]))
    return p


def test_encord_fixture_to_coco(tmp_path):
    fx = load_json("encord_client_python", "coco_exporter_fixture.json")
    out = tmp_path / "c.json"
    assert run("encord-to-coco", _encord_rows(tmp_path), "-o", out) == 0
    doc = json.loads(out.read_text())
    exp = fx["COCO_EXPORTER_EXPECTED_RES"]
    e = sorted((a["segmentation"]["counts"], a["area"], a["bbox"]) for a in exp["annotations"]
               if isinstance(a["segmentation"], dict))
    g = sorted((a["segmentation"]["counts"], a["area"], a["bbox"]) for a in doc["annotations"]
               if isinstance(a["segmentation"], dict))
    assert len(g) == 9 and g == e
    assert len(doc["images"]) == len(exp["images"]) == 10
    assert run("validate", _encord_rows(tmp_path)) == 0


def test_encord_bitmask_cases():
    cases = load_json("encord_client_python", "encord_bitmask_cases.json")["bitmask_to_coco"]
    for c in cases:
        bm, exp = c["encord_bitmask"], c["expected_coco_segmentation"]
        r = be.encord_string_to_coco(bm["rleString"], bm["height"], bm["width"])
        assert r["counts"].decode() == exp["counts"]
        assert r["size"] == list(exp["size"])
        (area,), (box,) = be.rle_area_bbox([r])
        assert (area, box) == (c["expected_area"], c["expected_bbox"])
        assert be.coco_to_encord_string(r) == bm["rleString"]
    assert len(cases) == 9


def test_encord_string_spec_vectors():
    r = be.encord_string_to_coco("12310", 3, 4)
    assert r == {"size": [3, 4], "counts": b"22200OO"}
    assert be.coco_to_encord_string({"size": [3, 4], "counts": "22200OO"}) == "12310"
    assert be.coco_to_encord_string({"size": [2, 3], "counts": coco_rle(np.ones((2, 3)))}) == "06"
    # short runs are zero-padded (as Encord decodes); overlong runs are an error
    assert be.encord_string_to_coco("12", 3, 4)["counts"].decode() == coco_rle(
        np.array([[0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]))
    with pytest.raises(ValueError):
        be.encord_string_to_coco("1o0", 3, 4)


def _same_segmentations(a: dict, b: dict) -> None:
    assert len(a["annotations"]) == len(b["annotations"])
    fa = {im["id"]: im["file_name"] for im in a["images"]}
    fb = {im["id"]: im["file_name"] for im in b["images"]}
    ka = [(fa[x["image_id"]], json.dumps(x["segmentation"], sort_keys=True))
          for x in a["annotations"]]
    kb = [(fb[x["image_id"]], json.dumps(x["segmentation"], sort_keys=True))
          for x in b["annotations"]]
    assert sorted(ka) == sorted(kb)


@pytest.mark.parametrize("src", [("panopticapi", "panoptic_coco_detection_format.json"),
                                 ("labelbox", "coco", "instances.json")])
def test_coco_encord_coco_round_trip(tmp_path, src):
    coco = realdata(*src)
    rows, back = tmp_path / "rows.json", tmp_path / "back.json"
    assert run("coco-to-encord", coco, "-o", rows) == 1  # no feature hashes: none invented
    onto = encord_ontology(tmp_path, json.loads(coco.read_text()))
    assert run("coco-to-encord", coco, "-o", rows, "--ontology", onto) == 0
    r = json.loads(rows.read_text())
    assert all("data_units" in row for row in r)
    assert run("encord-to-coco", rows, "-o", back) == 0
    orig = json.loads(coco.read_text())
    new = json.loads(back.read_text())
    # multi-part polygons go through a bitmask: compare those as masks
    multi = [x for x in orig["annotations"] if isinstance(x["segmentation"], list)
             and len(x["segmentation"]) > 1]
    if multi:
        sizes = {im["id"]: (im["height"], im["width"]) for im in orig["images"]}
        by_obj = {x["encord"]["objectHash"]: x for x in new["annotations"]}
        for x in multi:
            h, w = sizes[x["image_id"]]
            want = pcm.merge(pcm.frPyObjects(x["segmentation"], h, w))["counts"].decode()
            assert by_obj[f"coco-{x['id']}"]["segmentation"]["counts"] == want
        orig["annotations"] = [x for x in orig["annotations"] if x not in multi]
        new["annotations"] = [x for x in new["annotations"]
                              if not isinstance(x["segmentation"], dict)]
    _same_segmentations(orig, new)


def test_encord_coco_encord_round_trip(tmp_path):
    rows = _encord_rows(tmp_path)
    c1, r2, c2 = tmp_path / "c1.json", tmp_path / "r2.json", tmp_path / "c2.json"
    assert run("encord-to-coco", rows, "-o", c1) == 0
    assert run("coco-to-encord", c1, "-o", r2) == 0
    assert run("encord-to-coco", r2, "-o", c2) == 0
    assert json.loads(c1.read_text()) == json.loads(c2.read_text())
    orig = sorted((o["objectHash"], o["bitmask"]["rleString"])
                  for row in json.loads(rows.read_text())
            for du in row["data_units"].values() for fr in (
                [du["labels"]] if "objects" in du["labels"] else du["labels"].values())
            for o in fr.get("objects", []) if "bitmask" in o)
    new = sorted((o["objectHash"], o["bitmask"]["rleString"]) for row in json.loads(r2.read_text())
           for du in row["data_units"].values() for fr in (
               [du["labels"]] if "objects" in du["labels"] else du["labels"].values())
           for o in fr.get("objects", []) if "bitmask" in o)
    assert new == orig and len(new) == 9


# ---------------------------------------------------------------------------------------------
# coco-to-masks and back
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode,kind", [("label", "label"), ("color", "panoptic")])
def test_coco_masks_coco_round_trip(tmp_path, mode, kind):
    coco = realdata("panopticapi", "panoptic_coco_detection_format.json")
    d = tmp_path / "m"
    assert run("coco-to-masks", coco, "-o", d, "--mode", mode, "--jobs", "2", "-q") == 0
    assert len(os.listdir(d)) == 2
    back = tmp_path / "b.json"
    assert run("masks-to-coco", d, "-o", back, "--kind", kind, "--images", coco, "-q",
               "--jobs", "1") == 0
    orig = json.loads(coco.read_text())
    new = json.loads(back.read_text())
    key = sorted((a["image_id"], a["segmentation"]["counts"], a["area"])
                 for a in orig["annotations"])
    assert sorted((a["image_id"], a["segmentation"]["counts"], a["area"])
                  for a in new["annotations"]) == key


def test_coco_to_masks_instance_and_16bit(tmp_path, capsys):
    h, w = 20, 30
    anns = []
    for k in range(300):
        m = np.zeros((h, w), np.uint8)
        m.flat[2 * k] = 1
        anns.append({"id": k + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                     "segmentation": {"size": [h, w], "counts": coco_rle(m)}})
    anns.append({"id": 301, "image_id": 2, "category_id": 1, "iscrowd": 0,
                 "segmentation": [[1, 1, 8, 1, 8, 6, 1, 6]]})
    coco = {"images": [{"id": 1, "file_name": "a/one.jpg", "height": h, "width": w},
                       {"id": 2, "file_name": "two.jpg", "height": h, "width": w}],
            "annotations": anns, "categories": [{"id": 1, "name": "x"}]}
    src = tmp_path / "c.json"
    src.write_text(json.dumps(coco))
    assert run("coco-to-masks", src, "-o", tmp_path / "L", "--jobs", "1", "-q") == 0
    lab = np.asarray(Image.open(tmp_path / "L" / "a" / "one.png"))
    assert lab.dtype == np.uint16 and lab.max() == 300
    assert lab.flat[2 * 299] == 300 and lab.flat[1] == 0
    assert run("coco-to-masks", src, "-o", tmp_path / "I", "--mode", "instance", "--jobs",
               "1", "-q") == 0
    inst = np.asarray(Image.open(tmp_path / "I" / "two_301.png"))
    want = pcm.decode(pcm.frPyObjects([[1, 1, 8, 1, 8, 6, 1, 6]], h, w))[:, :, 0]
    assert np.array_equal(inst > 0, want > 0)
    assert len(os.listdir(tmp_path / "I" / "a")) == 300
    bad = dict(coco, annotations=anns[:2] + [{"id": 9, "image_id": 2, "category_id": 1,
                                              "segmentation": {"size": [h, w], "counts": "!!"}}])
    src.write_text(json.dumps(bad))
    assert run("coco-to-masks", src, "-o", tmp_path / "B", "--jobs", "1") == 1
    assert run("coco-to-masks", src, "-o", tmp_path / "B", "--jobs", "1", "--skip-bad",
               "-q") == 0
    assert os.listdir(tmp_path / "B") == ["a"]
    wrong = dict(coco, annotations=[{"id": 1, "image_id": 2, "category_id": 1,
                                     "segmentation": {"size": [w, h], "counts": "0"}}])
    src.write_text(json.dumps(wrong))
    assert run("coco-to-masks", src, "-o", tmp_path / "W", "--jobs", "1") == 1
    # the dataset check of validate, shared by the converters (#18)
    assert "RLE size [30, 20] differs from the image [20, 30]" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# info, validate, show
# ---------------------------------------------------------------------------------------------

def test_info(capsys):
    rle = realdata("labelbox", "coco", "rle.json")
    assert run("info", rle, "--json") == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["images"], s["annotations"]) == (10, 231)
    assert s["segmentations"] == {"polygon": 221, "rle_list": 10}
    assert run("info", rle) == 0
    assert "231" in capsys.readouterr().out


def test_validate_real_rle_json(capsys):
    rle = realdata("labelbox", "coco", "rle.json")
    assert run("validate", rle) == 0
    out = capsys.readouterr().out
    assert "0 errors" in out and "annotation 900100546823" in out
    assert "bbox [5, 247, 634, 81] differs from the mask's [5.0, 247.0, 635.0, 82.0]" in out
    assert run("validate", rle, "--strict") == 1


def test_validate_reports_each_problem(tmp_path, capsys):
    good = coco_rle(np.eye(4, 5))
    coco = {"images": [{"id": 1, "file_name": "a", "height": 4, "width": 5}],
            "categories": [{"id": 1, "name": "x"}],
            "annotations": [
                {"id": 10, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "area": 4,
                 "segmentation": {"size": [4, 5], "counts": good}},
                {"id": 11, "image_id": 1, "category_id": 1,
                 "segmentation": {"size": [4, 5], "counts": "5"}},
                {"id": 12, "image_id": 1, "category_id": 1,
                 "segmentation": {"size": [5, 4], "counts": good}},
                {"id": 13, "image_id": 1, "category_id": 1,
                 "segmentation": {"size": [4, 5], "counts": "0\x7f"}},
                {"id": 14, "image_id": 1, "category_id": 1,
                 "segmentation": [[0, 0, 9, 0, 9, 3]]},
                {"id": 15, "image_id": 7, "category_id": 1, "segmentation": [[0, 0, 1, 0, 1, 1]]},
                {"id": 16, "image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9], "area": 3,
                 "segmentation": {"size": [4, 5], "counts": good}},
                {"id": 17, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 1]]},
            ]}
    p = tmp_path / "c.json"
    p.write_text(json.dumps(coco))
    assert run("validate", p) == 1
    err = capsys.readouterr().err
    assert "annotation 10" not in err
    for frag in ("annotation 11 (image 1): error: counts sum to 5, expected h*w = 4*5 = 20",
                 "annotation 12 (image 1): error: RLE size [5, 4] differs from the image [4, 5]",
                 "annotation 13 (image 1): error: compressed counts do not parse",
                 "annotation 14 (image 1): error: polygon 0 leaves the 5x4",
                 "annotation 15 (image 7): error: image_id 7 is not in images",
                 "annotation 16 (image 1): warning: area 3 differs from the mask's 4 pixels",
                 "annotation 16 (image 1): warning: bbox [0, 0, 9, 9] differs",
                 "annotation 17 (image 1): error: polygon 0 has 3 coordinates",
                 "FAILED"):
        assert frag in err, frag
    assert run("validate", p, "--json") == 1
    rep = json.loads(capsys.readouterr().out)
    assert rep["errors"] == 6 and rep["warnings"] == 2 and not rep["ok"]


def test_show(tmp_path):
    coco = realdata("panopticapi", "panoptic_coco_detection_format.json")
    out = tmp_path / "ov.png"
    assert run("show", coco, "--image", "142238", "-o", out, "--outline", "--labels", "-q") == 0
    img = np.asarray(Image.open(out))
    assert img.shape == (427, 640, 3) and img.any()
    pic = tmp_path / "pic.png"
    save_png(pic, np.full((427, 640, 3), 200, np.uint8))
    assert run("show", coco, "--image", "142238", "-o", out, "--image-file", pic,
               "--alpha", "0", "-q") == 0
    assert (np.asarray(Image.open(out)) == 200).all()
    assert run("show", coco, "--image", "1", "-o", out) == 1
    save_png(pic, np.zeros((5, 5, 3), np.uint8))
    assert run("show", coco, "--image", "142238", "-o", out, "--image-file", pic) == 1


# ---------------------------------------------------------------------------------------------
# Dask engine
# ---------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore")
def test_dask_engine_matches_local(tmp_path, monkeypatch):
    distributed = pytest.importorskip(
        "dask.distributed", reason="dask[distributed] not installed: the Dask engine is optional")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(SRC)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    folder = realdata("panopticapi", "panoptic_examples")
    local, remote = tmp_path / "local.json", tmp_path / "dask.json"
    common = ["-q"]
    assert run("masks-to-coco", EXAMPLES / "masks", "-o", local, "--jobs", "1",
               "--categories", EXAMPLES / "categories.json", *common) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as cluster:
        addr = cluster.scheduler_address
        assert run("masks-to-coco", EXAMPLES / "masks", "-o", remote, "--engine", "dask",
                   "--scheduler", addr, "--categories", EXAMPLES / "categories.json",
                   *common) == 0
        assert local.read_bytes() == remote.read_bytes()
        assert run("coco-to-masks", local, "-o", tmp_path / "dm", "--engine", "dask",
                   "--scheduler", addr, "--mode", "color", "-q") == 0
        assert run("coco-to-masks", local, "-o", tmp_path / "lm", "--jobs", "1",
                   "--mode", "color", "-q") == 0
        for name in os.listdir(tmp_path / "lm"):
            assert (tmp_path / "dm" / name).read_bytes() == (tmp_path / "lm" / name).read_bytes()
        pl = tmp_path / "pl.json"
        assert run("masks-to-coco", folder, "-o", pl, "--engine", "dask", "--scheduler", addr,
                   "--kind", "panoptic", "-q") == 0
        assert len(json.loads(pl.read_text())["annotations"]) == 50
    assert run("masks-to-coco", EXAMPLES / "masks", "-o", remote, "--engine", "dask") == 2


def test_png_written_bytes_are_pngs(tmp_path):
    # coco-to-masks writes real PNGs readable back to the same label values
    coco = {"images": [{"id": 3, "file_name": "z.png", "height": 4, "width": 4}],
            "annotations": [{"id": 1, "image_id": 3, "category_id": 1,
                             "segmentation": {"size": [4, 4], "counts": coco_rle(np.eye(4))}}],
            "categories": []}
    p = tmp_path / "c.json"
    p.write_text(json.dumps(coco))
    assert run("coco-to-masks", p, "-o", tmp_path / "o", "--jobs", "1", "-q") == 0
    raw = (tmp_path / "o" / "z.png").read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(raw))), np.eye(4, dtype=np.uint8))


def test_progress_forced_and_quiet_by_default(tmp_path, capsys):
    out = tmp_path / "o.json"
    assert run("masks-to-coco", EXAMPLES / "masks", "-o", out, "--jobs", "1", "--progress") == 0
    err = capsys.readouterr().err
    assert "12/12" in err and "wrote" in err
    assert run("masks-to-coco", EXAMPLES / "masks", "-o", out, "--jobs", "1") == 0
    assert "12/12" not in capsys.readouterr().err  # stderr is not a terminal here


def test_panoptic_json_info_and_validate(capsys):
    """A COCO panoptic file is read with its PNGs (one RLE annotation per segment)."""
    pan = realdata("labelbox", "coco", "panoptic.json")
    folder = pan.parent / "masks"
    assert run("info", pan, "--json", "--panoptic-folder", folder) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["format"] == "coco-panoptic" and s["panoptic_segments"] == 369
    assert s["annotations"] == 369
    assert run("validate", pan, "--panoptic-folder", folder) == 0
    assert run("validate", pan) == 1  # panopticapi's default folder is not there
    assert "panoptic segmentations does not exist" in capsys.readouterr().err


def test_coco_to_encord_non_square_and_polygon_modes(tmp_path):
    coco = {"images": [{"id": 1, "file_name": "a.png", "height": 3, "width": 4}],
            "categories": [{"id": 2, "name": "Thing"}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 2,
                 "segmentation": {"size": [3, 4], "counts": "22200OO"}},
                {"id": 2, "image_id": 1, "category_id": 2,
                 "segmentation": {"size": [3, 4], "counts": [2, 2, 2, 2, 2, 1, 1]}},
                {"id": 3, "image_id": 1, "category_id": 2,
                 "segmentation": [[0.5, 0.5, 3.5, 0.5, 3.5, 2.5]]}]}
    src, rows = tmp_path / "c.json", tmp_path / "r.json"
    src.write_text(json.dumps(coco))
    onto = encord_ontology(tmp_path, coco)
    assert run("coco-to-encord", src, "-o", rows, "-q", "--ontology", onto) == 0
    (row,) = json.loads(rows.read_text())
    (du,) = row["data_units"].values()
    objs = du["labels"]["objects"]
    assert objs[0]["bitmask"] == {"top": 0, "left": 0, "height": 3, "width": 4,
                                  "rleString": "12310"}
    assert objs[1]["bitmask"]["rleString"] == "12310"
    assert objs[2]["shape"] == "polygon" and objs[2]["polygon"]["1"] == {"x": 0.875, "y": 0.5 / 3}
    assert objs[0]["name"] == "Thing" and objs[0]["shape"] == "bitmask"
    assert run("coco-to-encord", src, "-o", rows, "-q", "--polygons", "bitmask",
               "--ontology", onto) == 0
    objs = json.loads(rows.read_text())[0]["data_units"][du["data_hash"]]["labels"]["objects"]
    want = pcm.frPyObjects([[0.5, 0.5, 3.5, 0.5, 3.5, 2.5]], 3, 4)[0]
    assert objs[2]["bitmask"]["rleString"] == be.coco_to_encord_string(want)
    back = tmp_path / "b.json"
    assert run("encord-to-coco", rows, "-o", back, "-q") == 0
    got = json.loads(back.read_text())["annotations"]
    assert [a["segmentation"]["counts"] for a in got[:2]] == ["22200OO", "22200OO"]
    # a bitmask whose size is not the frame's is a data error naming the object
    r = json.loads(rows.read_text())
    list(r[0]["data_units"].values())[0]["labels"]["objects"][0]["bitmask"]["height"] = 4
    rows.write_text(json.dumps(r[0]))  # a single row (not a list) is accepted too
    assert run("encord-to-coco", rows, "-o", back) == 1
    assert run("validate", rows) == 1


def test_outputs_are_world_readable_like_ordinary_files(tmp_path):
    # the atomic writer goes through mkstemp (0600); the result gets 0644, or keeps the mode
    # of the file it replaces
    import stat

    out = tmp_path / "c.json"
    assert run("masks-to-coco", EXAMPLES / "masks", "-o", out, "--jobs", "1") == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644
    os.chmod(out, 0o640)
    assert run("masks-to-coco", EXAMPLES / "masks", "-o", out, "--jobs", "1") == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640

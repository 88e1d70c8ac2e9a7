"""StreamingCOCOeval: batches in, COCOeval's arrays out, bit for bit.

The reference is COCOeval (pycocotools' own, and ours) on ``gt.loadRes`` of the same
detections in the order they were given; every comparison is ``np.array_equal`` on
precision, recall, scores and stats, and the summary lines.
"""
from __future__ import annotations

import contextlib
import copy
import io
import multiprocessing
import pickle
import threading

import numpy as np
import pytest
from conftest import load_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maskcodecs import errors
from maskcodecs.coco import COCO
from maskcodecs.cocoeval import COCOeval, StreamingCOCOeval, StreamingResult

pc_coco = pytest.importorskip("pycocotools.coco", reason="pycocotools (the oracle) is absent")
pc_eval = pytest.importorskip("pycocotools.cocoeval")
pc_mask = pytest.importorskip("pycocotools.mask")

IOU_TYPES = ("bbox", "segm", "keypoints")
NK = 17


# -- a random dataset and detections ---------------------------------------------------------------
def make_case(seed: int, n_img: int = 10) -> tuple[dict, list[dict]]:
    """GT with boxes, RLE masks, keypoints and some crowd; detections near and far from it,
    with tied scores, unknown labels, and several per image."""
    rng = np.random.default_rng(seed)
    images = [{"id": int(i), "height": int(rng.integers(12, 50)),
               "width": int(rng.integers(12, 50))}
              for i in rng.choice(200, n_img, replace=False)]
    cats = [{"id": c, "name": f"c{c}"} for c in (1, 3, 7)]
    anns, dets = [], []
    for im in images:
        H, W = im["height"], im["width"]
        boxes = []
        for _ in range(int(rng.integers(0, 5))):
            x, y = int(rng.integers(0, W - 3)), int(rng.integers(0, H - 3))
            w, h = int(rng.integers(1, W - x)), int(rng.integers(1, H - y))
            boxes.append((x, y, w, h))
            m = np.zeros((H, W), np.uint8)
            m[y:y + h, x:x + w] = 1
            if rng.random() < 0.3 and w > 2 and h > 2:
                m[y + 1, x + 1] = 0  # a hole: not a box
            rle = pc_mask.encode(np.asfortranarray(m))
            rle["counts"] = rle["counts"].decode()
            kp = []
            for _k in range(NK):
                kp += [float(rng.integers(x, x + w + 1)), float(rng.integers(y, y + h + 1)),
                       int(rng.integers(0, 3))]
            anns.append({"id": len(anns) + 1, "image_id": im["id"],
                         "category_id": int(rng.choice([1, 3, 7])),
                         "bbox": [float(x), float(y), float(w), float(h)],
                         "area": float(m.sum()), "iscrowd": int(rng.random() < 0.1),
                         "segmentation": rle, "keypoints": kp,
                         "num_keypoints": int(sum(v > 0 for v in kp[2::3]))})
        for _ in range(int(rng.integers(0, 8))):
            if boxes and rng.random() < 0.6:
                x, y, w, h = boxes[int(rng.integers(len(boxes)))]
                x = int(np.clip(x + rng.integers(-2, 3), 0, W - 2))
                y = int(np.clip(y + rng.integers(-2, 3), 0, H - 2))
                w, h = max(1, min(w, W - x)), max(1, min(h, H - y))
            else:
                x, y = int(rng.integers(0, W - 3)), int(rng.integers(0, H - 3))
                w, h = int(rng.integers(1, W - x)), int(rng.integers(1, H - y))
            m = np.zeros((H, W), bool)
            m[y:y + h, x:x + w] = True
            kp = np.array([[rng.integers(x, x + w + 1), rng.integers(y, y + h + 1), 1]
                           for _ in range(NK)], dtype=np.float64)
            dets.append({"image_id": im["id"], "box": [float(x), float(y), float(w), float(h)],
                         "score": float(np.round(rng.random(), 1)),  # ties
                         "label": int(rng.choice([1, 3, 7, 9])), "mask": m, "kp": kp})
    return {"images": images, "categories": cats, "annotations": anns}, dets


def result_dicts(dets: list[dict], iou: str) -> list[dict]:
    out = []
    for d in dets:
        r = {"image_id": d["image_id"], "category_id": d["label"], "score": d["score"]}
        if iou == "bbox":
            r["bbox"] = list(d["box"])
        elif iou == "segm":
            e = pc_mask.encode(np.asfortranarray(d["mask"].astype(np.uint8)))
            r["segmentation"] = {"size": e["size"], "counts": e["counts"].decode()}
        else:
            r["keypoints"] = d["kp"].reshape(-1).tolist()
        out.append(r)
    return out


def quiet(fn):
    with contextlib.redirect_stdout(io.StringIO()) as buf:
        out = fn()
    return out, buf.getvalue()


def reference(dataset: dict, dets: list[dict], iou: str, *, pyco: bool,
              edit=None) -> tuple[COCOeval, list[str]]:
    """COCOeval on loadRes of the detections; the summary lines it prints."""
    def run():
        if pyco:
            gt = pc_coco.COCO()
            gt.dataset = copy.deepcopy(dataset)
            gt.createIndex()
            E = pc_eval.COCOeval(gt, gt.loadRes(result_dicts(dets, iou)), iou)
        else:
            gt = COCO(copy.deepcopy(dataset))
            E = COCOeval(gt, gt.loadRes(result_dicts(dets, iou)), iou)
        if edit:
            edit(E.params)
        E.evaluate()
        E.accumulate()
        return E

    E, _ = quiet(run)
    _, text = quiet(E.summarize)
    return E, text.splitlines()


def feed(S: StreamingCOCOeval, dets: list[dict], iou: str, **kw) -> None:
    S.update(image_ids=np.array([d["image_id"] for d in dets], dtype=np.int64),
             boxes=np.array([d["box"] for d in dets], dtype=np.float64).reshape(-1, 4),
             scores=np.array([d["score"] for d in dets]),
             labels=np.array([d["label"] for d in dets], dtype=np.int64),
             masks=[d["mask"] for d in dets] if iou == "segm" else None,
             keypoints=np.stack([d["kp"] for d in dets]) if iou == "keypoints" and dets
             else (np.zeros((0, NK, 3)) if iou == "keypoints" else None), **kw)


def streamed(dataset: dict, dets: list[dict], iou: str, cuts: list[int],
             threads: int | None = None, edit=None) -> StreamingResult:
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, iou, threads=threads)
    if edit:
        edit(S.params)
    bounds = [0] + sorted(set(c for c in cuts if 0 < c < len(dets))) + [len(dets)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        feed(S, dets[a:b], iou)
    return S.compute()


def assert_same(E, R: StreamingResult, lines: list[str] | None = None) -> None:
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(E.eval[key], R.eval[key]), key
    assert np.array_equal(np.asarray(E.stats), R.stats)
    if lines is not None:
        assert R.lines == lines


# -- differential ----------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), iou=st.sampled_from(IOU_TYPES),
       cuts=st.lists(st.integers(0, 60), max_size=6), shuffle=st.booleans())
def test_batches_equal_pycocotools(seed, iou, cuts, shuffle):
    """Any split into batches (an image's detections across several batches included),
    in image order or shuffled: pycocotools' arrays and printed lines."""
    dataset, dets = make_case(seed)
    if not dets:
        return
    if shuffle:
        order = np.random.default_rng(seed).permutation(len(dets))
        dets = [dets[j] for j in order]
    E, lines = reference(dataset, dets, iou, pyco=True)
    R = streamed(dataset, dets, iou, cuts)
    assert_same(E, R, lines)
    ours, _ = reference(dataset, dets, iou, pyco=False)
    assert_same(ours, R)


@pytest.mark.parametrize("iou", IOU_TYPES)
def test_one_batch_per_image_and_serial_threads(iou):
    dataset, dets = make_case(5, n_img=14)
    E, lines = reference(dataset, dets, iou, pyco=True)
    per_image = [j for j in range(1, len(dets)) if dets[j]["image_id"] != dets[j - 1]["image_id"]]
    for threads in (1, 2):
        assert_same(E, streamed(dataset, dets, iou, per_image, threads=threads), lines)


def test_metrics_are_the_stats_by_name():
    dataset, dets = make_case(3)
    R = streamed(dataset, dets, "bbox", [4])
    assert list(R.metrics) == ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10",
                               "AR100", "ARs", "ARm", "ARl"]
    assert [R.metrics[k] for k in R.metrics] == [float(v) for v in R.stats]
    Rk = streamed(dataset, dets, "keypoints", [4])
    assert list(Rk.metrics) == ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75",
                                "ARm", "ARl"]
    out, text = quiet(R.summarize)
    assert text.splitlines() == R.lines and len(R.lines) == 12


def test_params_set_before_the_first_update():
    dataset, dets = make_case(8)
    ids = sorted(im["id"] for im in dataset["images"])[:6]

    def edit(p):
        p.maxDets = [1, 3, 5]
        p.imgIds = ids
        p.areaRng = [[0, 1e10], [0, 100], [100, 400], [400, 1e10]]
        p.catIds = [3, 7]

    E, lines = reference(dataset, dets, "bbox", pyco=True, edit=edit)
    R = streamed(dataset, dets, "bbox", [3, 9], edit=edit)
    assert_same(E, R, lines)
    assert "AR5" in R.metrics


def test_params_are_fixed_at_the_first_update():
    dataset, dets = make_case(9)
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, "bbox")
    feed(S, dets[:3], "bbox")
    S.params.maxDets = [1, 2, 3]  # too late: ignored
    feed(S, dets[3:], "bbox")
    E, lines = reference(dataset, dets, "bbox", pyco=True)
    assert_same(E, S.compute(), lines)


def test_results_round_trip_through_loadres():
    dataset, dets = make_case(11)
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    for iou in IOU_TYPES:
        S = StreamingCOCOeval(gt, iou)
        feed(S, dets[:5], iou)
        feed(S, dets[5:], iou)
        res = S.results()
        assert len(res) == sum(d["label"] in (1, 3, 7) for d in dets)

        def run(res=res, iou=iou):
            E = COCOeval(gt, gt.loadRes(copy.deepcopy(res)), iou)
            E.evaluate()
            E.accumulate()
            E.summarize()
            return E

        E, _ = quiet(run)
        assert_same(E, S.compute())


def test_unknown_labels_and_images_outside_params_are_dropped():
    dataset, dets = make_case(12)
    R = streamed(dataset, dets, "bbox", [2])
    kept = [d for d in dets if d["label"] != 9]
    assert_same(reference(dataset, kept, "bbox", pyco=True)[0], R)


def test_no_updates_is_ground_truth_alone():
    dataset, _ = make_case(13)
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))

    def run():
        empty = COCO({"images": dataset["images"], "categories": dataset["categories"],
                      "annotations": []})
        E = COCOeval(gt, empty, "bbox")
        E.evaluate()
        E.accumulate()
        E.summarize()
        return E

    E, _ = quiet(run)
    S = StreamingCOCOeval(gt, "bbox")
    assert_same(E, S.compute())
    assert S.results() == []


def test_reset_forgets_detections():
    dataset, dets = make_case(14)
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, "bbox")
    feed(S, dets, "bbox")
    feed(S, dets, "bbox")  # every image twice
    S.reset()
    feed(S, dets, "bbox")
    assert_same(reference(dataset, dets, "bbox", pyco=True)[0], S.compute())


def test_on_pycocotools_own_coco():
    dataset, dets = make_case(15)
    gt = pc_coco.COCO()
    gt.dataset = copy.deepcopy(dataset)
    quiet(gt.createIndex)
    for iou in IOU_TYPES:
        S = StreamingCOCOeval(gt, iou)
        feed(S, dets[:7], iou)
        feed(S, dets[7:], iou)
        assert_same(reference(dataset, dets, iou, pyco=True)[0], S.compute())


def test_ground_truth_read_from_a_file(tmp_path):
    import json
    dataset, dets = make_case(16)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(dataset))
    gt, _ = quiet(lambda: COCO(str(path)))
    for iou in IOU_TYPES:
        S = StreamingCOCOeval(gt, iou)
        feed(S, dets[:4], iou)
        feed(S, dets[4:], iou)
        assert_same(reference(dataset, dets, iou, pyco=True)[0], S.compute())


# -- input forms -----------------------------------------------------------------------------------
class DLPackOnly:
    """A producer that offers only DLPack (as a torch tensor does, without torch)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def __dlpack__(self, **kw):
        return self.a.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_dlpack_and_array_protocol_inputs_without_copies():
    from maskcodecs._streaming import _as_array
    a = np.arange(12.0).reshape(3, 4)
    assert np.shares_memory(_as_array(DLPackOnly(a), "boxes"), a)

    class WithArray:
        def __array__(self, dtype=None, copy=None):
            return a

    assert np.shares_memory(_as_array(WithArray(), "boxes"), a)
    dataset, dets = make_case(17)
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, "bbox")
    S.update(image_ids=DLPackOnly(np.array([d["image_id"] for d in dets])),
             boxes=DLPackOnly(np.array([d["box"] for d in dets])),
             scores=DLPackOnly(np.array([d["score"] for d in dets])),
             labels=DLPackOnly(np.array([d["label"] for d in dets])))
    assert_same(reference(dataset, dets, "bbox", pyco=True)[0], S.compute())


def test_torch_tensors():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    dataset, dets = make_case(18)
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, "segm")
    H = {im["id"]: (im["height"], im["width"]) for im in dataset["images"]}
    for d in dets:
        S.update(image_ids=torch.tensor([d["image_id"]]), boxes=None,
                 scores=torch.tensor([d["score"]], dtype=torch.float64),
                 labels=torch.tensor([d["label"]]),
                 masks=torch.from_numpy(d["mask"].reshape(1, *H[d["image_id"]])))
    assert_same(reference(dataset, dets, "segm", pyco=True)[0], S.compute())
    with pytest.raises(errors.EvaluationTypeError):
        S.update(image_ids=[dets[0]["image_id"]], scores=torch.ones(1, requires_grad=True),
                 labels=[1], masks=[dets[0]["mask"]])


def test_xyxy_boxes_are_converted_in_float64():
    dataset, dets = make_case(19)
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, "bbox")
    xyxy = np.array([[x, y, x + w, y + h] for x, y, w, h in (d["box"] for d in dets)])
    S.update(image_ids=[d["image_id"] for d in dets], boxes=xyxy, box_format="xyxy",
             scores=[d["score"] for d in dets], labels=[d["label"] for d in dets])
    assert_same(reference(dataset, dets, "bbox", pyco=True)[0], S.compute())


def test_masks_as_stacks_and_as_rles():
    dataset, dets = make_case(20, n_img=1)
    if not dets:
        pytest.skip("the seed gives no detection")
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    E = reference(dataset, dets, "segm", pyco=True)[0]
    args = dict(image_ids=[d["image_id"] for d in dets], scores=[d["score"] for d in dets],
                labels=[d["label"] for d in dets])
    forms = {
        "stack": np.stack([d["mask"] for d in dets]),
        "uint8 stack": np.stack([d["mask"] for d in dets]).astype(np.uint8),
        "str rles": [r["segmentation"] for r in result_dicts(dets, "segm")],
        "bytes rles": [dict(size=r["segmentation"]["size"],
                            counts=r["segmentation"]["counts"].encode())
                       for r in result_dicts(dets, "segm")],
        "uncompressed": [{"size": list(d["mask"].shape), "counts": _counts(d["mask"])}
                         for d in dets],
    }
    for r, d in zip(forms["uncompressed"], dets):  # the lists say what the masks say
        assert np.array_equal(pc_mask.decode(pc_mask.frPyObjects(r, *d["mask"].shape)),
                              d["mask"])
    for masks in forms.values():
        S = StreamingCOCOeval(gt, "segm")
        S.update(masks=masks, **args)
        assert_same(E, S.compute())


def _counts(m: np.ndarray) -> list[int]:
    """Uncompressed COCO counts (column-major runs, starting with zeros)."""
    flat = m.T.reshape(-1).astype(np.int8)
    change = np.flatnonzero(np.diff(flat) != 0) + 1
    runs = np.diff(np.concatenate(([0], change, [flat.size])))
    return ([0] if flat[0] else []) + [int(r) for r in runs]


# -- data-parallel and threads ---------------------------------------------------------------------
def _worker_state(args):
    dataset, dets, iou = args
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, iou, threads=1)
    if dets:
        feed(S, dets, iou)
    return pickle.dumps(S.state())


@pytest.mark.parametrize("iou", IOU_TYPES)
def test_states_from_a_process_pool_merge_to_one_process(iou):
    dataset, dets = make_case(21, n_img=12)
    images = sorted({d["image_id"] for d in dets})
    shards = [[d for d in dets if images.index(d["image_id"]) % 3 == r] for r in range(3)]
    # a padded sampler repeats an image in another shard: its detections are added again
    dup = [d for d in dets if d["image_id"] == images[0]]
    shards[1] = shards[1] + dup
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        states = [pickle.loads(s) for s in pool.map(_worker_state,
                                                    [(dataset, s, iou) for s in shards])]
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, iou)
    S.merge(states)
    order = shards[0] + shards[1] + shards[2]
    # one process given the shards in order: the repeated image holds both copies
    E, lines = reference(dataset, sorted(order, key=lambda d: _shard_rank(d, shards)), iou,
                         pyco=True)
    assert_same(E, S.compute(), lines)
    one = StreamingCOCOeval(gt, iou)
    for s in shards:
        if s:
            feed(one, s, iou)
    assert_same(E, one.compute(), lines)


def _shard_rank(d, shards):
    for r, s in enumerate(shards):
        for j, x in enumerate(s):
            if x is d:
                return (r, j)
    raise AssertionError


def test_state_is_small_and_rejects_another_ground_truth():
    dataset, dets = make_case(22)
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, "bbox")
    feed(S, dets, "bbox")
    blob = pickle.dumps(S.state())
    assert len(blob) < 400 * len(dets) + 4096  # columns, not dicts
    other = copy.deepcopy(dataset)
    other["annotations"] = other["annotations"][1:]
    gt2, _ = quiet(lambda: COCO(other))
    S2 = StreamingCOCOeval(gt2, "bbox")
    with pytest.raises(errors.EvaluationError, match="another ground truth"):
        S2.merge([pickle.loads(blob)])
    with pytest.raises(errors.EvaluationTypeError):
        S2.merge([{"format": "something else"}])


def test_concurrent_updates_from_threads():
    dataset, dets = make_case(23, n_img=16)
    # distinct scores: the arrival order of an image's detections cannot matter
    for j, d in enumerate(dets):
        d["score"] = 1.0 - j / (len(dets) + 1)
    E, lines = reference(dataset, dets, "segm", pyco=True)
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, "segm", threads=2)
    chunks = [dets[j::5] for j in range(5)]  # every thread touches most images
    start = threading.Barrier(len(chunks))

    def work(chunk):
        start.wait()
        for k in range(0, len(chunk), 2):
            feed(S, chunk[k:k + 2], "segm")

    ts = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert_same(E, S.compute(), lines)


# -- errors ----------------------------------------------------------------------------------------
def test_bad_inputs_raise_our_errors():
    dataset, dets = make_case(24)
    gt, _ = quiet(lambda: COCO(copy.deepcopy(dataset)))
    S = StreamingCOCOeval(gt, "bbox")
    ok = dict(image_ids=[dets[0]["image_id"]], boxes=[dets[0]["box"]], scores=[0.5], labels=[1])
    with pytest.raises(ValueError, match="do not correspond"):
        S.update(**{**ok, "image_ids": [10**6]})
    with pytest.raises(errors.EvaluationError):
        S.update(**{**ok, "boxes": [[1, 2, 3]]})
    with pytest.raises(errors.EvaluationError):
        S.update(**{**ok, "scores": [0.5, 0.4]})
    with pytest.raises(errors.EvaluationError):
        S.update(**{**ok, "box_format": "cxcywh"})
    with pytest.raises(TypeError):
        S.update(**{**ok, "labels": ["cat"]})
    with pytest.raises(errors.EvaluationError):
        S.update(**{**ok, "boxes": None})
    Sm = StreamingCOCOeval(gt, "segm")
    with pytest.raises(errors.EvaluationTypeError, match="threshold"):
        Sm.update(image_ids=[dets[0]["image_id"]], scores=[0.5], labels=[1],
                  masks=np.zeros((1, 4, 4), np.float32))
    with pytest.raises(errors.EvaluationError):
        Sm.update(image_ids=[dets[0]["image_id"]], scores=[0.5], labels=[1],
                  masks=[{"size": [4, 4], "counts": "é"}])
    Sk = StreamingCOCOeval(gt, "keypoints")
    with pytest.raises(errors.EvaluationError, match="keypoints must be"):
        Sk.update(image_ids=[dets[0]["image_id"]], scores=[0.5], labels=[1],
                  keypoints=np.zeros((1, 5, 3)))
    Su = StreamingCOCOeval(gt, "bbox")
    Su.params.useCats = 0
    with pytest.raises(errors.EvaluationError, match="useCats"):
        Su.update(**ok)
    with pytest.raises(errors.EvaluationError):
        StreamingCOCOeval(gt, "caption")
    # nothing was added by the failed calls
    S.update(**ok)
    assert len(S.results()) == 1


# -- real data ------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_real_coco_file_with_jittered_detections():
    dataset = load_json("labelbox", "coco", "rle.json")
    rng = np.random.default_rng(0)
    dets = []
    for a in dataset["annotations"]:
        x, y, w, h = a["bbox"]
        for _ in range(2):
            dets.append({"image_id": a["image_id"], "label": a["category_id"],
                         "box": [x + float(rng.normal(0, 3)), y + float(rng.normal(0, 3)),
                                 w * float(rng.uniform(0.8, 1.2)), h],
                         "score": float(np.round(rng.random(), 2))})
    E, lines = reference(dataset, dets, "bbox", pyco=True)
    R = streamed(dataset, dets, "bbox", list(range(7, len(dets), 7)))
    assert_same(E, R, lines)


@pytest.mark.parametrize("first", [0, 1])
def test_arrival_order_breaks_score_ties_as_in_the_results_list(first):
    """Two detections of one object with equal scores: the one given first is matched
    (pycocotools' stable sort), so AP depends on the order, across batches too."""
    dataset = {"images": [{"id": 1, "height": 40, "width": 40},
                          {"id": 2, "height": 40, "width": 40}],
               "categories": [{"id": 1, "name": "a"}],
               "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                                "bbox": [5.0, 5.0, 20.0, 20.0], "area": 400.0, "iscrowd": 0}]}
    a = {"image_id": 1, "label": 1, "score": 0.5, "box": [5.0, 5.0, 20.0, 20.0]}
    b = {"image_id": 1, "label": 1, "score": 0.5, "box": [6.0, 6.0, 20.0, 20.0]}
    other = {"image_id": 2, "label": 1, "score": 0.9, "box": [1.0, 1.0, 5.0, 5.0]}
    dets = [a, other, b] if first == 0 else [b, other, a]
    E, lines = reference(dataset, dets, "bbox", pyco=True)
    for cuts in ([1], [2], [1, 2], []):
        assert_same(E, streamed(dataset, dets, "bbox", cuts), lines)
    swapped, _ = reference(dataset, dets[::-1], "bbox", pyco=True)
    assert not np.array_equal(swapped.eval["precision"], E.eval["precision"])


@pytest.mark.parametrize("first", ["maskcodecs._streaming", "maskcodecs.cocoeval"])
def test_either_module_imports_first_and_cocoeval_stays_light(first):
    """The streaming module imports on its own (it once met a circular import), and
    importing cocoeval loads neither it nor hashlib (OpenSSL: 3.6 MB of every evaluation's
    peak memory) until StreamingCOCOeval is asked for."""
    import subprocess
    import sys
    code = (f"import sys, {first}\n"
            "import maskcodecs.cocoeval as ce\n"
            "print(first_loaded := sorted(m for m in ('hashlib', 'maskcodecs._streaming') "
            "if m in sys.modules))\n"
            "from maskcodecs.cocoeval import StreamingCOCOeval, StreamingResult\n"
            "from maskcodecs import _streaming\n"
            "assert StreamingCOCOeval is _streaming.StreamingCOCOeval\n"
            "assert ce.StreamingResult is _streaming.StreamingResult\n"
            "try:\n    ce.no_such_name\nexcept AttributeError as e:\n    print('ok', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    if first == "maskcodecs.cocoeval":
        assert out[0] == "[]"
    else:
        assert out[0] == "['maskcodecs._streaming']"  # hashlib still waits for a fingerprint
    assert out[1].startswith("ok ") and "no_such_name" in out[1]

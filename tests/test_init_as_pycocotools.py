"""maskcodecs.init_as_pycocotools(): ``import pycocotools`` and its submodules resolve to maskcodecs
until undone. Each check runs in a fresh interpreter so that sys.modules starts clean.

Also: the call sequence of torchmetrics' ``MeanAveragePrecision(backend="pycocotools")`` replayed
on both implementations (and through the alias), and the real class when torch/torchmetrics are
installed.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pycocotools.cocoeval")

import cocoeval_cases as cc  # noqa: E402

TESTS = Path(__file__).resolve().parent


def run_py(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter (tests/ on sys.path); it must succeed without warnings."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("MASKCODECS_TEST_OURS", None)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, (f"subprocess failed ({proc.returncode}):\n"
                                  f"{proc.stdout}\n{proc.stderr}")
    assert "Warning" not in proc.stderr, proc.stderr
    return proc


def _alias_only() -> None:
    cc.ours_only("init_as_pycocotools is maskcodecs'")


def test_imports_resolve_to_maskcodecs_and_undo_restores():
    _alias_only()
    out = run_py("""
        import sys
        import maskcodecs
        import maskcodecs.coco, maskcodecs.cocoeval, maskcodecs.mask
        assert not any(m == "pycocotools" or m.startswith("pycocotools.") for m in sys.modules)
        h = maskcodecs.init_as_pycocotools()
        import pycocotools
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval, Params
        from pycocotools import mask
        import pycocotools.mask as mask2
        import pycocotools.coco as coco_mod, pycocotools.cocoeval as eval_mod
        assert COCO is maskcodecs.coco.COCO, COCO
        assert COCOeval is maskcodecs.cocoeval.COCOeval, COCOeval
        assert Params is maskcodecs.cocoeval.Params, Params
        assert coco_mod.COCO is COCO and eval_mod.COCOeval is COCOeval
        assert mask is mask2 and pycocotools.mask is mask
        for fn in ("encode", "decode", "area", "toBbox", "iou", "merge", "frPyObjects"):
            assert getattr(mask, fn) is getattr(maskcodecs.mask, fn), fn
        h.undo()
        h.undo()  # idempotent
        import pycocotools.coco as real_coco, pycocotools.cocoeval as real_eval
        import pycocotools.mask as real_mask
        assert real_coco.COCO is not maskcodecs.coco.COCO
        assert real_coco.COCO.__module__ == "pycocotools.coco", real_coco.COCO.__module__
        assert real_eval.COCOeval.__module__ == "pycocotools.cocoeval"
        assert real_mask.encode is not maskcodecs.mask.encode
        assert "site-packages" in real_coco.__file__ or "dist-packages" in real_coco.__file__
        from pycocotools.coco import COCO as C2
        assert C2 is real_coco.COCO
        print("OK")
    """)
    assert out.stdout.strip().endswith("OK")


def test_alias_over_an_already_imported_pycocotools():
    _alias_only()
    run_py("""
        import sys
        import pycocotools, pycocotools.coco, pycocotools.cocoeval, pycocotools.mask
        real = {m: sys.modules[m] for m in ("pycocotools", "pycocotools.coco",
                                            "pycocotools.cocoeval", "pycocotools.mask")}
        real_COCO = pycocotools.coco.COCO
        import maskcodecs, maskcodecs.coco, maskcodecs.cocoeval, maskcodecs.mask
        h = maskcodecs.init_as_pycocotools()
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        from pycocotools import mask
        import pycocotools.coco as again
        assert COCO is maskcodecs.coco.COCO and again.COCO is COCO
        assert COCOeval is maskcodecs.cocoeval.COCOeval
        assert mask.encode is maskcodecs.mask.encode
        h.undo()
        for name, mod in real.items():
            assert sys.modules[name] is mod, name
        from pycocotools.coco import COCO as back
        assert back is real_COCO
        import pycocotools as pkg
        assert pkg.mask is real["pycocotools.mask"]
        print("OK")
    """)


def test_context_manager():
    _alias_only()
    run_py("""
        import maskcodecs, maskcodecs.coco, maskcodecs.cocoeval
        with maskcodecs.init_as_pycocotools() as h:
            from pycocotools.cocoeval import COCOeval
            assert COCOeval is maskcodecs.cocoeval.COCOeval
            assert hasattr(h, "undo")
        from pycocotools.cocoeval import COCOeval as real
        assert real is not maskcodecs.cocoeval.COCOeval
        assert real.__module__ == "pycocotools.cocoeval"
        # and when the block raises
        try:
            with maskcodecs.init_as_pycocotools():
                raise KeyError("x")
        except KeyError:
            pass
        from pycocotools.coco import COCO
        assert COCO.__module__ == "pycocotools.coco"
        print("OK")
    """)


def test_works_without_pycocotools_installed():
    """With the real pycocotools unimportable, the alias still provides the three modules, and
    undo leaves ``import pycocotools`` failing as before."""
    _alias_only()
    run_py("""
        import sys, importlib.abc
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "pycocotools" or name.startswith("pycocotools."):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None
        sys.meta_path.insert(0, Block())
        try:
            import pycocotools
            raise SystemExit("blocker did not work")
        except ModuleNotFoundError:
            pass
        import maskcodecs, maskcodecs.coco, maskcodecs.cocoeval, maskcodecs.mask
        h = maskcodecs.init_as_pycocotools()
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        from pycocotools import mask
        assert COCO is maskcodecs.coco.COCO and COCOeval is maskcodecs.cocoeval.COCOeval
        assert mask.encode is maskcodecs.mask.encode
        h.undo()
        try:
            import pycocotools.coco
            raise SystemExit("pycocotools still importable after undo")
        except ModuleNotFoundError:
            pass
        print("OK")
    """)


def test_evaluation_through_the_alias_matches_pycocotools():
    _alias_only()
    ref = cc.run_eval(cc.ref_impl(), cc.tv2())
    out = run_py("""
        import pickle, sys
        import maskcodecs
        h = maskcodecs.init_as_pycocotools()
        import pycocotools.coco as C, pycocotools.cocoeval as E, pycocotools.mask as M
        import cocoeval_cases as cc
        run = cc.run_eval(cc.Impl("alias", C.COCO, E.COCOeval, E.Params, M), cc.tv2())
        assert run.exc is None, run.exc
        sys.stdout.write(pickle.dumps({"out": run.out, "stats": run.E.stats,
                                       "precision": run.E.eval["precision"]}).hex())
    """)
    got = pickle.loads(bytes.fromhex(out.stdout.strip().splitlines()[-1]))
    assert got["out"]["summarize"] == ref.out["summarize"]
    assert np.array_equal(got["stats"], ref.E.stats)
    assert np.array_equal(got["precision"], ref.E.eval["precision"])


# ---------------------------------------------------------------------------------------------
# torchmetrics' MeanAveragePrecision(backend="pycocotools"), replayed
# ---------------------------------------------------------------------------------------------

def _compare_tm(ref: dict, ours: dict) -> None:
    d = cc.Differ()
    cc.deep_compare(ref, ours, "torchmetrics", d)
    assert not d, d.report()


@pytest.mark.parametrize("iou_types", [("bbox",), ("segm",), ("bbox", "segm")])
@pytest.mark.parametrize("average", ["macro", "micro"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_torchmetrics_sequence(iou_types, average, seed):
    batch = cc.detection_batch(seed, n_images=2 + seed)
    kw = dict(class_metrics=True, average=average)
    if seed == 2:
        kw.update(iou_thresholds=[0.5, 0.75], rec_thresholds=np.linspace(0, 1, 11).tolist(),
                  max_dets=[1, 5, 50])
    ref = cc.torchmetrics_like(cc.ref_impl(), batch, iou_types, **kw)
    ours = cc.torchmetrics_like(cc.ours_impl(), batch, iou_types, **kw)
    _compare_tm(ref, ours)


def test_torchmetrics_sequence_through_the_alias():
    _alias_only()
    batch = cc.detection_batch(7, n_images=4)
    ref = cc.torchmetrics_like(cc.ref_impl(), batch, ("bbox", "segm"), class_metrics=True)
    out = run_py("""
        import pickle, sys
        import maskcodecs
        h = maskcodecs.init_as_pycocotools()
        import pycocotools.mask as mask_utils
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval, Params
        import cocoeval_cases as cc
        impl = cc.Impl("alias", COCO, COCOeval, Params, mask_utils)
        res = cc.torchmetrics_like(impl, cc.detection_batch(7, n_images=4), ("bbox", "segm"),
                                   class_metrics=True)
        sys.stdout.write(pickle.dumps(res).hex())
    """)
    _compare_tm(ref, pickle.loads(bytes.fromhex(out.stdout.strip().splitlines()[-1])))


def test_real_torchmetrics_mean_average_precision():
    pytest.importorskip("torch", reason="torch is not installed")
    pytest.importorskip("torchmetrics", reason="torchmetrics is not installed")
    _alias_only()
    code = """
        import pickle, sys, warnings
        warnings.simplefilter("ignore")
        {init}
        import numpy as np, torch
        from torchmetrics.detection import MeanAveragePrecision
        import cocoeval_cases as cc
        batch = cc.detection_batch(11, n_images=4)
        out = {{}}
        for iou_type in ("bbox", "segm"):
            metric = MeanAveragePrecision(backend="pycocotools", iou_type=iou_type,
                                          box_format="xywh", class_metrics=True,
                                          extended_summary=True)
            preds = [dict(boxes=torch.tensor(p["boxes"], dtype=torch.float32).reshape(-1, 4),
                          masks=torch.tensor(np.array(p["masks"]).reshape(-1, 48, 64)),
                          scores=torch.tensor(p["scores"], dtype=torch.float32),
                          labels=torch.tensor(p["labels"], dtype=torch.int64))
                     for p in batch["preds"]]
            target = [dict(boxes=torch.tensor(t["boxes"], dtype=torch.float32).reshape(-1, 4),
                           masks=torch.tensor(np.array(t["masks"]).reshape(-1, 48, 64)),
                           labels=torch.tensor(t["labels"], dtype=torch.int64),
                           iscrowd=torch.tensor(t["iscrowd"], dtype=torch.int64))
                      for t in batch["targets"]]
            metric.update(preds, target)
            res = metric.compute()
            out[iou_type] = {{k: (v.numpy() if hasattr(v, "numpy") else repr(v))
                              for k, v in res.items()}}
        sys.stdout.write(pickle.dumps(out).hex())
    """
    ref = run_py(code.format(init="pass"), timeout=600)
    ours = run_py(code.format(init="import maskcodecs; maskcodecs.init_as_pycocotools()"),
                  timeout=600)
    _compare_tm(pickle.loads(bytes.fromhex(ref.stdout.strip().splitlines()[-1])),
                pickle.loads(bytes.fromhex(ours.stdout.strip().splitlines()[-1])))

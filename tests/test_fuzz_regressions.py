"""Replay every fuzz input that ever failed (fuzz/regressions/<harness>/) and the seed corpus
(fuzz/corpus/<harness>/) through its harness; each must pass the harness' invariants."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"

pytestmark = pytest.mark.skipif(not (FUZZ / "_fuzzcommon.py").exists(),
                                reason="fuzz/ is not beside tests/")


def _cases(kind: str) -> list:
    root = FUZZ / kind
    if not root.is_dir():
        return []
    return [pytest.param(d.name, f, id=f"{d.name}/{f.name}")
            for d in sorted(root.iterdir()) if d.is_dir()
            for f in sorted(d.iterdir()) if f.is_file()]


def _harness(name: str):
    if str(FUZZ) not in sys.path:
        sys.path.insert(0, str(FUZZ))
    return importlib.import_module(f"fuzz_{name}")


HARNESSES = sorted(p.stem[len("fuzz_"):] for p in FUZZ.glob("fuzz_*.py"))


@pytest.mark.parametrize("name", HARNESSES)
def test_harness_has_seed_corpus(name):
    assert any((FUZZ / "corpus" / name).iterdir()), f"no seeds for fuzz_{name}"
    assert callable(_harness(name).test_one)


@pytest.mark.parametrize(("name", "path"), _cases("regressions"))
def test_regression_input(name, path):
    _harness(name).test_one(path.read_bytes())


@pytest.mark.parametrize(("name", "path"), _cases("corpus"))
def test_seed_input(name, path):
    _harness(name).test_one(path.read_bytes())


def test_harness_rejects_a_broken_invariant(monkeypatch):
    # the harness must be able to fail: make area lie and replay a seed
    mod = _harness("counts_string")
    seed = next(p for p in sorted((FUZZ / "corpus" / "counts_string").iterdir())
                if p.read_bytes()[3:] == b"521O2")
    mod.test_one(seed.read_bytes())
    real_area = mod.mc.area
    monkeypatch.setattr(mod.mc, "area", lambda r: real_area(r) + 1 if isinstance(r, dict)
                        else real_area(r))
    with pytest.raises(AssertionError):
        mod.test_one(seed.read_bytes())


def test_harness_fails_on_unexpected_exception(monkeypatch):
    mod = _harness("merge")
    seed = sorted((FUZZ / "corpus" / "merge").iterdir())[0]

    def boom(*a, **k):
        raise RuntimeError("not a maskcodecs error")

    monkeypatch.setattr(mod.mc, "merge", boom)
    with pytest.raises(RuntimeError):
        mod.test_one(seed.read_bytes())

"""The cibuildwheel configuration builds exactly the expected wheels (skips without it)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_build_identifiers.py"

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("cibuildwheel") is None,
                       reason="cibuildwheel is not installed"),
    pytest.mark.skipif(not SCRIPT.exists() or not (ROOT / "setup.py").exists(),
                       reason="needs the source checkout (scripts/, setup.py)"),
]


def test_build_identifiers_match_expected_set():
    res = subprocess.run([sys.executable, str(SCRIPT), "--project", str(ROOT)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count(", ok") == 3


def test_check_script_detects_a_mismatch(tmp_path):
    # same project, but one Python version removed from the build selector: must fail
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'build = "cp39-* ' in text
    (tmp_path / "pyproject.toml").write_text(text.replace('build = "cp39-* ', 'build = "'),
                                             encoding="utf-8")
    (tmp_path / "setup.py").write_text((ROOT / "setup.py").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    res = subprocess.run([sys.executable, str(SCRIPT), "--project", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 1
    assert "missing: cp39-" in res.stdout

"""pytest configuration for the benchmarks (not part of the test suite).

Collects ``bench_*.py`` files in this directory and records the machine and library versions
in the ``--benchmark-json`` output, which ``scripts/bench_report.py`` reads.
"""
from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

PEER_DISTS = ("pycocotools", "hotcoco", "ultrafast-pycocotools", "faster-coco-eval",
              "rlemasklib", "numpy")


_LOAD: dict[str, list[float]] = {}


def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def pytest_sessionstart(session: pytest.Session) -> None:
    _LOAD["start"] = _loadavg()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collect ``bench_*.py`` as test modules (the default pattern is ``test_*.py``); a file
    named on the command line is collected by pytest itself, so not a second time here."""
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        named = {Path(str(a).split("::")[0]).resolve() for a in parent.config.args}
        if file_path.resolve() not in named:
            return pytest.Module.from_parent(parent, path=file_path)
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags() -> list[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return sorted(flags & {"sse4_2", "avx2", "avx512f", "avx512bw"})
    except OSError:
        pass
    return []


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True, cwd=Path(__file__).parent)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def pytest_benchmark_update_machine_info(config: pytest.Config,
                                         machine_info: dict[str, Any]) -> None:
    """Add CPU model, usable cores and library versions to the JSON's machine_info."""
    import maskcodecs

    machine_info["cpu_model"] = _cpu_model()
    machine_info["cpu_flags"] = _cpu_flags()
    machine_info["cpu_count"] = os.cpu_count()
    machine_info["usable_cores"] = (len(os.sched_getaffinity(0))
                                    if hasattr(os, "sched_getaffinity") else os.cpu_count())
    # other processes on the machine make the timings noisy; record how busy it was
    machine_info["loadavg_start"] = _LOAD.get("start", [])
    machine_info["loadavg_end"] = _loadavg()
    libs = {dist: _version(dist) for dist in PEER_DISTS}
    libs["maskcodecs"] = f"{maskcodecs.__version__} (git {_git_commit()})"
    machine_info["libraries"] = libs

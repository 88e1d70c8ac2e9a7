"""Check that the [tool.cibuildwheel] configuration builds exactly the wheels we ship.

Runs ``cibuildwheel --print-build-identifiers`` for Linux, macOS and Windows (each with the
architectures of its native runners) and compares the output with the expected set:
CPython 3.9-3.14 and free-threaded 3.14t; manylinux and musllinux on x86_64 and aarch64;
macOS x86_64 and arm64; Windows AMD64 and ARM64 (ARM64 from 3.11, the first version numpy
ships wheels for); no 32-bit builds.

Usage: ``python scripts/check_build_identifiers.py [--project DIR]``; exits 1 on a mismatch.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

PYTHONS = ["cp39", "cp310", "cp311", "cp312", "cp313", "cp314", "cp314t"]

# platform -> (value of --archs, expected platform tags by arch)
PLATFORMS: dict[str, tuple[str, list[str]]] = {
    "linux": ("x86_64,aarch64", ["manylinux_x86_64", "manylinux_aarch64",
                                 "musllinux_x86_64", "musllinux_aarch64"]),
    "macos": ("x86_64,arm64", ["macosx_x86_64", "macosx_arm64"]),
    "windows": ("AMD64,ARM64", ["win_amd64", "win_arm64"]),
}

# pairs that are deliberately not built (see the skip option in pyproject.toml)
SKIPPED = {"cp39-win_arm64", "cp310-win_arm64"}


def expected(platform: str) -> set[str]:
    """Return the build identifiers we expect for one platform."""
    _, tags = PLATFORMS[platform]
    return {f"{py}-{tag}" for py in PYTHONS for tag in tags} - SKIPPED


def actual(platform: str, project: Path) -> set[str]:
    """Return the identifiers cibuildwheel would build for one platform."""
    archs, _ = PLATFORMS[platform]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}
    cmd = [sys.executable, "-m", "cibuildwheel", "--print-build-identifiers",
           "--platform", platform, "--archs", archs, str(project)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr}")
    return {line.strip() for line in res.stdout.splitlines() if line.strip()}


def main(argv: list[str] | None = None) -> int:
    """Compare the identifiers of every platform; print the differences."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    ok = True
    for platform in PLATFORMS:
        want = expected(platform)
        got = actual(platform, args.project)
        missing = sorted(want - got)
        extra = sorted(got - want)
        status = "ok" if not missing and not extra else "MISMATCH"
        print(f"{platform}: {len(got)} identifiers, {status}")
        if missing:
            print(f"  missing: {' '.join(missing)}")
        if extra:
            print(f"  unexpected: {' '.join(extra)}")
        ok = ok and not missing and not extra
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

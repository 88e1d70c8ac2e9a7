"""Shared pieces of the maskcodecs fuzz harnesses.

Every harness ``fuzz/fuzz_<name>.py`` defines ``test_one(data: bytes) -> None`` and ends with
``main(test_one)``. Run one with::

    python fuzz/fuzz_counts_string.py fuzz/corpus/counts_string -max_total_time=60

With atheris installed this is libFuzzer (every libFuzzer flag works; the Python code of
maskcodecs is instrumented for coverage). Without atheris, or with
``MASKCODECS_FUZZ_DRIVER=random``,
a pure-Python random-mutation driver runs instead: it accepts ``-runs=N``,
``-max_total_time=S`` and ``-seed=N`` and corpus directories, and it writes a failing input
to ``fuzz/artifacts/`` (or the directory of ``-artifact_prefix=``).

A harness fails (raises) on any exception that is not an expected rejection of bad input
(``EXPECTED``), and on results that break an invariant. Inputs are read through ``Input``, a
small byte consumer, so both drivers and the regression replay see identical behaviour.
"""
from __future__ import annotations

import hashlib
import math
import os
import random
import struct
import sys
import time
from pathlib import Path
from typing import Any, Callable

try:  # pragma: no cover - depends on the environment
    import atheris
except ImportError:  # pragma: no cover
    atheris = None

_IS_HARNESS = bool(sys.argv) and Path(sys.argv[0]).name.startswith("fuzz_")
_RANDOM_DRIVER = atheris is None or os.environ.get("MASKCODECS_FUZZ_DRIVER") == "random"

if _IS_HARNESS and not _RANDOM_DRIVER:  # pragma: no cover - only under libFuzzer
    with atheris.instrument_imports(include=["maskcodecs"]):
        import maskcodecs  # noqa: F401
        import maskcodecs.coco  # noqa: F401
        import maskcodecs.encord  # noqa: F401
        import maskcodecs.labelbox  # noqa: F401
        import maskcodecs.mask  # noqa: F401
        import maskcodecs.rle  # noqa: F401

import numpy as np  # noqa: E402

from maskcodecs.errors import MaskCodecError  # noqa: E402

# A rejection of bad input: every maskcodecs error, and KeyError for a dict without the
# 'size' or 'counts' key (pycocotools raises KeyError there too).
EXPECTED: tuple[type[BaseException], ...] = (MaskCodecError, KeyError)

FUZZ_DIR = Path(__file__).resolve().parent
CORPUS_DIR = FUZZ_DIR / "corpus"
REGRESSION_DIR = FUZZ_DIR / "regressions"

# largest mask a harness decodes (decode allocates h*w bytes by design)
MAX_DECODE_PIXELS = 1 << 16


class Input:
    """Consume a fuzz input piece by piece; reads past the end give zeros / empty data."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        b = self.data[self.pos:self.pos + n]
        self.pos += len(b)
        return b

    def uint(self, nbytes: int) -> int:
        return int.from_bytes(self.take(nbytes).ljust(nbytes, b"\0"), "little")

    def below(self, n: int) -> int:
        """An integer in [0, n)."""
        return self.uint(2 if n > 255 else 1) % n if n > 1 else 0

    def flag(self) -> bool:
        return bool(self.uint(1) & 1)

    def size(self) -> int:
        """A mask side: mostly small, sometimes 0, sometimes large."""
        k = self.uint(1)
        if k < 200:
            return k % 40
        if k < 250:
            return self.uint(2)
        return self.uint(4)

    def double(self) -> float:
        """A coordinate: small values mostly, plus the awkward ones."""
        k = self.uint(1)
        if k < 180:
            return self.uint(2) / 256.0 - 20.0
        if k < 240:
            return struct.unpack("<d", self.take(8).ljust(8, b"\0"))[0]
        return [math.nan, math.inf, -math.inf, 1e12, -1e12, 4e8, -4e8, 2.0**31, 0.5, -0.5,
                1e-300, -0.0, 2.0**53, 429496729.5, 1e308, 5e-324][k - 240]

    def counts_string(self, nmax: int = 64) -> bytes:
        """Bytes biased towards the counts alphabet '0'..'o'."""
        n = self.below(nmax + 1)
        raw = self.take(n)
        if self.flag():
            return bytes(48 + (c % 64) for c in raw)
        return raw

    def rest(self) -> bytes:
        return self.take(self.remaining())


# ---------------------------------------------------------------------------------------------
# plain-numpy references for invariants
# ---------------------------------------------------------------------------------------------

def counts_of(s: bytes) -> list[int]:
    """Counts of a valid string, through the kernel (validated separately)."""
    from maskcodecs import _rle_core

    return np.frombuffer(_rle_core.counts_from_string(s), dtype=np.uint32).tolist()


def reference_decode(counts: list[int], h: int, w: int) -> np.ndarray:
    """Column-major runs to an (h, w) uint8 mask, the tail background."""
    flat = np.zeros(h * w, dtype=np.uint8)
    pos = 0
    v = 0
    for c in counts:
        flat[pos:pos + c] = v
        pos += c
        v ^= 1
    assert pos <= h * w
    return flat.reshape((w, h)).T


def reference_bbox(m: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(m)
    if xs.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
            float(ys.max() - ys.min() + 1)]


def check(cond: bool, msg: str) -> None:
    """Fail the harness with an AssertionError (never stripped by -O)."""
    if not cond:
        raise AssertionError(msg)


def expect_rejection(fn: Callable[[], Any]) -> tuple[bool, Any]:
    """Run fn; return (True, result) or (False, exception) for an expected rejection."""
    try:
        return True, fn()
    except EXPECTED as e:
        return False, e


# ---------------------------------------------------------------------------------------------
# drivers
# ---------------------------------------------------------------------------------------------

def _mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        if op == 0 and b:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
        elif op == 2 and b:
            i = rng.randrange(len(b))
            del b[i:i + rng.randint(1, 8)]
        elif op == 3 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 4 and b:
            b[rng.randrange(len(b))] = 48 + rng.randrange(64)
        elif op == 5 and pool:
            other = rng.choice(pool)
            i = rng.randrange(len(b) + 1)
            j = rng.randrange(len(other) + 1)
            b[i:] = other[j:]
        elif op == 6 and b:
            i = rng.randrange(len(b))
            b[i:i] = b[i:i + rng.randint(1, 16)]
        else:
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(b[:4096])


def _random_driver(test_one: Callable[[bytes], None], argv: list[str]) -> None:
    opts = {}
    dirs = []
    for a in argv[1:]:
        if a.startswith("-") and "=" in a:
            k, v = a[1:].split("=", 1)
            opts[k] = v
        elif not a.startswith("-"):
            dirs.append(Path(a))
    runs = int(opts.get("runs", "-1"))
    max_time = float(opts.get("max_total_time", "0"))
    seed = int(opts.get("seed", str(int(time.time()))))
    prefix = opts.get("artifact_prefix", str(FUZZ_DIR / "artifacts") + os.sep)
    rng = random.Random(seed)
    pool: list[bytes] = []
    for d in dirs:
        if d.is_dir():
            pool += [p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()]
        elif d.is_file():
            pool.append(d.read_bytes())
    if not pool:
        pool = [b""]
    t0 = time.monotonic()
    n = 0

    def run(data: bytes) -> None:
        try:
            test_one(data)
        except BaseException:
            name = hashlib.sha1(data).hexdigest()
            os.makedirs(os.path.dirname(prefix) or ".", exist_ok=True)
            path = f"{prefix}crash-{name}"
            with open(path, "wb") as f:
                f.write(data)
            print(f"==random-driver== failing input written to {path}", file=sys.stderr)
            raise

    for data in list(pool):
        run(data)
        n += 1
    while True:
        if runs >= 0 and n >= runs:
            break
        if max_time > 0 and time.monotonic() - t0 >= max_time:
            break
        if runs < 0 and max_time <= 0 and n >= 100000:
            break
        data = _mutate(rng, rng.choice(pool), pool)
        run(data)
        n += 1
        if rng.random() < 0.01:
            pool.append(data)
    print(f"==random-driver== {n} runs in {time.monotonic() - t0:.1f}s, seed {seed}, "
          "no failure", file=sys.stderr)


def main(test_one: Callable[[bytes], None]) -> None:
    """Fuzz test_one with libFuzzer (atheris) or the pure-Python random driver."""
    if _RANDOM_DRIVER:
        _random_driver(test_one, sys.argv)
        return
    atheris.Setup(sys.argv, test_one)  # pragma: no cover
    atheris.Fuzz()  # pragma: no cover

"""File output shared by the library and the command line: atomic writes and JSON."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", *, suffix: str = ".tmp",
                encoding: str | None = None, durable: bool = False) -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and ``os.replace`` it there only on
    success, so a failed write never leaves a complete-looking file. The result keeps the
    permissions of the file it replaces (0644 for a new one; mkstemp alone gives 0600).
    With ``durable`` the data is fsync'ed before the rename."""
    target = Path(path)
    try:
        perm = target.stat().st_mode & 0o777
    except FileNotFoundError:
        perm = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix,
                               dir=target.parent if str(target.parent) else ".")
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, perm)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def json_default(o: Any) -> Any:
    """``default=`` for json/orjson: bytes counts as ASCII text, numpy scalars and arrays,
    sets (sorted)."""
    if isinstance(o, (bytes, bytearray)):
        return bytes(o).decode("ascii")
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

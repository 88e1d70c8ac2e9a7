"""File output shared by the library and the command line: atomic writes, output paths
confined to their folder and checked for collisions, and JSON.

Output path rules (:func:`output_name`, :func:`confined_path`, :func:`plan_outputs`): a
name taken from the data (a COCO ``file_name``, an annotation id...) has its backslashes
read as ``/``; an absolute name or one with a ``..`` part is reduced to its last part; an
empty name, ``.`` or ``..`` falls back to the given default (the image id). The path is
then resolved, following every symbolic link that exists, and refused
(:class:`~maskcodecs.errors.OutputPathError`) unless it is still inside the resolved output
folder. Two outputs of one run that resolve to the same file are refused together
(:class:`~maskcodecs.errors.OutputCollisionError`, naming every source) before anything is
written.
"""
from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

import numpy as np

from maskcodecs.errors import (
    MaskCodecError,
    OutputCollisionError,
    OutputPathError,
    OutputWriteError,
)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", *, suffix: str = ".tmp",
                encoding: str | None = None, durable: bool = False,
                clean_stale: bool = True) -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and ``os.replace`` it there only on
    success, so a failed write never leaves a complete-looking file. The result keeps the
    permissions of the file it replaces (0644 for a new one; mkstemp alone gives 0600).
    With ``durable`` the data is fsync'ed before the rename.

    The temporary is ``.NAME.PID.XXXX<suffix>``; one that a killed process (SIGKILL, power
    loss) left for the same NAME is deleted first (:func:`remove_stale_temporaries`) unless
    ``clean_stale`` is false (a writer of many files in one folder sweeps it once instead)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        st = target.stat()
        perm = st.st_mode & 0o777
    except FileNotFoundError:
        st, perm = None, 0o644
    if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        # a device or a pipe (/dev/stdout, /dev/full, a FIFO): written in place, never
        # replaced by a regular file
        with _write_errors(target):
            with open(target, mode, encoding=encoding) as f:
                yield f
        return
    if clean_stale:
        remove_stale_temporaries(folder, target.name, suffixes=(suffix,))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=suffix,
                               dir=folder)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, perm)
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, MaskCodecError):
            raise OutputWriteError(f"cannot write {target}: {e.strerror or e}") from e
        raise


@contextlib.contextmanager
def _write_errors(target: Path) -> Iterator[None]:
    """An OSError of writing ``target`` as :class:`OutputWriteError`."""
    try:
        yield
    except OSError as e:
        if isinstance(e, MaskCodecError):
            raise
        raise OutputWriteError(f"cannot write {target}: {e.strerror or e}") from e


def is_special_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` exists and is neither a regular file nor a folder (a device such as
    /dev/stdout or /dev/full, a FIFO): :func:`atomic_open` writes those in place."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def spool_file(folder: str | os.PathLike[str], name: str) -> tuple[IO[bytes], str]:
    """A new hidden temporary ``.NAME.PID.XXXX.spool`` in ``folder``, open for reading and
    writing, and its path; the pid lets :func:`remove_stale_temporaries` tell a dead run's."""
    fd, path = tempfile.mkstemp(dir=folder, prefix=f".{name}.{os.getpid()}.", suffix=".spool")
    return os.fdopen(fd, "w+b"), path


#: Suffixes of the temporaries written by :func:`atomic_open` (the library's ``.tmp``, the
#: command line's ``.partial``) and :func:`spool_file`.
TEMPORARY_SUFFIXES = (".partial", ".tmp", ".spool")

#: Suffix of the hidden folders :func:`staging_folder` makes.
STAGING_SUFFIX = ".tmpdir"


def staging_folder(root: str | os.PathLike[str], name: str) -> Path:
    """A new hidden folder ``.NAME.PID.XXXX.tmpdir`` in ``root`` (the same file system, so
    its files can be renamed into ``root``), to write a set of files that only appears in
    ``root`` once complete (:func:`move_staged`); the pid lets
    :func:`remove_stale_temporaries` (``suffixes=(STAGING_SUFFIX,)``) delete a killed run's."""
    return Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=STAGING_SUFFIX,
                                 dir=root))


def is_staged(rel: str | os.PathLike[str]) -> bool:
    """Whether a relative path lies inside a staging folder (readers of a folder skip it)."""
    return any(part.startswith(".") and part.endswith(STAGING_SUFFIX)
               for part in Path(rel).parts[:-1])


def move_staged(staging: Path, root: Path, names: Iterable[str]) -> None:
    """Move each relative name from ``staging`` to ``root`` (creating its folders), keeping
    the permissions of a file it replaces. Renames within one file system, which do not fail
    for lack of space; a name on another file system mounted inside ``root`` is copied
    through :func:`atomic_open`. A failure is :class:`OutputWriteError`."""
    for rel in names:
        src, dst = staging / rel, root / rel
        with _write_errors(dst):
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                st = dst.stat()
                if stat.S_ISREG(st.st_mode):
                    os.chmod(src, st.st_mode & 0o777)
            except FileNotFoundError:
                pass
            try:
                os.replace(src, dst)
            except OSError as e:
                if e.errno != errno.EXDEV:
                    raise
                with atomic_open(dst, clean_stale=False) as f, open(src, "rb") as g:
                    shutil.copyfileobj(g, f)
                os.unlink(src)


def remove_stale_temporaries(folder: str | os.PathLike[str], name: str | None = None, *,
                             suffixes: Iterable[str] = TEMPORARY_SUFFIXES,
                             recursive: bool = False) -> list[Path]:
    """Delete the temporaries ``.NAME.PID.XXXX<suffix>`` in ``folder`` (of ``name`` only, or
    of any name; in its subfolders too with ``recursive``) whose process PID no longer
    exists: a run killed by SIGKILL cannot delete its own. A live process's temporaries,
    and files without a PID in their name, are never touched; a staging folder
    (:func:`staging_folder`) goes with everything in it. Return the deleted paths."""
    removed = []
    root = Path(folder)
    for suffix in suffixes:
        pattern = f".{glob.escape(name)}.*{suffix}" if name is not None else f".*{suffix}"
        for p in (root.rglob(pattern) if recursive else root.glob(pattern)):
            parts = p.name[:-len(suffix)].rsplit(".", 2)  # ".NAME", PID, mkstemp's letters
            if len(parts) != 3 or not parts[1].isdigit() or (
                    name is not None and parts[0] != f".{name}") or _alive(int(parts[1])):
                continue
            with contextlib.suppress(OSError):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()
                removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by another user
        return True
    return True


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


def output_name(name: Any, fallback: Any, suffix: str = ".png") -> PurePosixPath:
    """The relative output path for a name from the data (see the module's rules), with
    its suffix replaced by ``suffix``. OutputPathError if neither the name nor the fallback
    gives a usable name."""
    for cand in (name, fallback):
        if cand is None or isinstance(cand, (bool, list, dict)):
            continue
        p = PurePosixPath(str(cand).replace("\\", "/"))
        if p.is_absolute() or ".." in p.parts:
            p = PurePosixPath(p.parts[-1]) if p.parts and p.parts[-1] not in ("/", "..") \
                else PurePosixPath()
        if p.name in ("", ".", "..") or "\0" in str(p):
            continue
        return p.with_name(p.stem + suffix) if p.suffix else p.with_name(p.name + suffix)
    raise OutputPathError(f"no usable output file name in {name!r} (or {fallback!r})")


def confined_path(root: str | os.PathLike[str], rel: str | PurePosixPath) -> Path:
    """``root / rel`` with every existing symbolic link resolved; OutputPathError unless it
    is strictly inside the resolved ``root``."""
    base = Path(root).resolve()
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise OutputPathError(f"output name {str(rel)!r} is not a relative path inside "
                              "the output folder")
    target = (base / p).resolve()
    if base not in target.parents:
        raise OutputPathError(f"output name {str(rel)!r} leads outside the output folder "
                              f"{base} (to {target}, through a symbolic link)")
    return target


def plan_outputs(root: str | os.PathLike[str], outputs: Iterable[tuple[str, PurePosixPath]],
                 on_error: Callable[[str, OutputPathError], None] | None = None
                 ) -> list[Path | None]:
    """The confined path of each ``(source, relative name)``, in order. A name that leaves
    ``root`` raises OutputPathError, or with ``on_error`` is handed to it and gets None.
    Then OutputCollisionError names the sources of every file that two or more outputs
    would write."""
    paths: list[Path | None] = []
    by_path: dict[Path, list[str]] = {}
    for source, rel in outputs:
        try:
            path = confined_path(root, rel)
        except OutputPathError as e:
            err = OutputPathError(f"{source}: {e}")
            if on_error is None:
                raise err from None
            on_error(source, err)
            paths.append(None)
            continue
        paths.append(path)
        by_path.setdefault(path, []).append(source)
    clashes = [(p, s) for p, s in by_path.items() if len(s) > 1]
    if clashes:
        base = Path(root).resolve()
        lines = [f"{p.relative_to(base)} <- " + ", ".join(s[:5])
                 + (f" and {len(s) - 5} more" if len(s) > 5 else "") for p, s in clashes[:10]]
        more = f"; and {len(clashes) - 10} more files" if len(clashes) > 10 else ""
        raise OutputCollisionError(f"{len(clashes)} output file(s) would be written more than "
                                   "once: " + "; ".join(lines) + more)
    return paths

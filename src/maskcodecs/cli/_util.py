"""Plumbing shared by the subcommands: errors, JSON, atomic output, progress, parallel map."""
from __future__ import annotations

import collections
import contextlib
import importlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import IO, Any, Callable

import numpy as np

from maskcodecs._fileio import (
    atomic_open,
    is_special_file,
    json_default,
    remove_stale_temporaries,
    spool_file,
)
from maskcodecs._optional import require
from maskcodecs._png import encode_png
from maskcodecs._pool import process_pool
from maskcodecs.errors import MaskCodecError, OutputWriteError

# Optional extras, imported by name so that type checking does not depend on whether they (or
# their stubs) are installed; both are used through Any.
_orjson: Any
_tqdm: Any
try:  # optional speed-up
    _orjson = importlib.import_module("orjson")
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

try:  # optional nicer progress bar
    _tqdm = importlib.import_module("tqdm").tqdm
except (ImportError, AttributeError):  # pragma: no cover - depends on the environment
    _tqdm = None


class CliError(Exception):
    """An error reported as one line on stderr, with an exit code (1 data, 2 usage)."""

    code = 1


class UsageError(CliError):
    """Bad options or missing input paths (exit code 2)."""

    code = 2


class DataError(CliError):
    """Bad input data (exit code 1)."""

    code = 1


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------

def dumps(obj: Any) -> bytes:
    """Compact JSON bytes (orjson when installed)."""
    if _orjson is not None:
        return _orjson.dumps(obj, default=json_default)
    return json.dumps(obj, default=json_default, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def _loads(data: bytes | str) -> Any:
    """The one JSON parser of every input file: orjson where it is installed, else
    ``json.loads``; either way a lone surrogate (``"\\ud800"``, which orjson refuses and no
    UTF-8 output can hold) is a ValueError, so every command refuses such a file alike.
    What Python's json reads beyond strict JSON (NaN, Infinity, as json.dump writes them) is
    read too, whether orjson is installed or not; the dataset checks report where it lands."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # json.loads below: the same documents with or without orjson
    doc = json.loads(data)
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate (not valid Unicode)") from None
    return doc


def load_json(path: str | os.PathLike[str], what: str = "JSON") -> Any:
    """Read a JSON file; missing file -> UsageError, bad JSON -> DataError."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{what} file not found: {p}")
    try:
        data = p.read_bytes()
        return _loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{p}: not valid JSON ({e})") from None


def load_coco(path: str | os.PathLike[str], what: str = "COCO",
              panoptic_folder: str | None = None) -> Any:
    """Read a COCO file; a COCO panoptic file (annotations with segments_info) is read with
    its PNGs (``panoptic_folder``, else panopticapi's: the path without ``.json``) as an
    instance dataset, one RLE annotation per segment, categories (``isthing``) kept."""
    doc = load_json(path, what)
    from maskcodecs import panoptic
    if not panoptic.is_panoptic(doc):
        return doc
    try:
        folder = panoptic_folder if panoptic_folder else os.fspath(path).replace(".json", "")
        return panoptic.to_instances(doc, folder)
    except MaskCodecError as e:
        raise DataError(f"{path} (COCO panoptic): {e}") from None


def load_json_or_ndjson(path: str | os.PathLike[str], what: str = "export") -> list[Any]:
    """Read a JSON document (a list is returned as is, an object as [object]) or NDJSON lines."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{what} file not found: {p}")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{p}: not valid JSON ({e})") from None
    try:
        doc = _loads(text)
        return doc if isinstance(doc, list) else [doc]
    except ValueError:
        pass
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append(_loads(line))
            except ValueError as e:
                raise DataError(f"{p}:{i}: not valid JSON ({e})") from None
    return out


# ---------------------------------------------------------------------------------------------
# atomic output
# ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], mode: str = "wb", *,
                  clean_stale: bool = True) -> Iterator[IO[Any]]:
    """Write to a temporary ``.NAME.PID.XXXX.partial`` beside ``path``; ``os.replace`` it
    there only on success (see :func:`maskcodecs._fileio.atomic_open`, which also deletes
    the stale temporaries of NAME), after checking the directory exists."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"output directory does not exist: {parent}")
    with atomic_open(p, mode, suffix=".partial", clean_stale=clean_stale) as f:
        yield f


class CocoWriter:
    """Stream annotations into a COCO JSON file; images and categories are written at the end.

    Annotations go to a spool file beside the output (memory stays bounded by one image's
    annotations); :meth:`finish` assembles ``{"info", "images", "annotations", "categories"}``
    and moves it into place atomically. Ids are assigned here, in order, from 1.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        parent = self.path.parent if str(self.path.parent) else Path(".")
        if not parent.is_dir():
            raise UsageError(f"output directory does not exist: {parent}")
        if is_special_file(self.path):  # -o /dev/stdout: the spool goes to the temp folder
            parent = Path(tempfile.gettempdir())
        remove_stale_temporaries(parent, self.path.name, suffixes=(".spool",))  # killed runs
        self._spool, self._spool_name = spool_file(parent, self.path.name)
        self.count = 0
        self.next_id = 1

    def add(self, anns: Iterable[dict[str, Any]]) -> None:
        for a in anns:
            if "id" not in a:
                a = {"id": self.next_id, **a}
                self.next_id += 1
            self._spool.write(b",\n" if self.count else b"")
            self._spool.write(dumps(a))
            self.count += 1

    def finish(self, images: Sequence[dict[str, Any]], categories: Sequence[dict[str, Any]],
               info: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> None:
        self._spool.flush()
        self._spool.seek(0)
        with atomic_output(self.path) as f:
            f.write(b'{"info":' + dumps(info or {}) + b',\n"images":[')
            for i, im in enumerate(images):
                f.write((b",\n" if i else b"\n") + dumps(im))
            f.write(b'],\n"annotations":[\n')
            while True:
                chunk = self._spool.read(1 << 20)
                if not chunk:
                    break
                f.write(chunk)
            f.write(b'],\n"categories":' + dumps(list(categories)))
            for k, v in (extra or {}).items():
                f.write(b",\n" + dumps(k) + b":" + dumps(v))
            f.write(b"}\n")
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._spool.close()
        with contextlib.suppress(OSError):
            os.unlink(self._spool_name)

    def __enter__(self) -> CocoWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def write_png(path: Path, arr: Any) -> None:
    """Write an array as PNG atomically, with maskcodecs' own encoder (no Pillow needed).
    Stale temporaries are not looked for here (a folder of n PNGs would be listed n times):
    the writer sweeps its folder once."""
    data = encode_png(np.asarray(arr))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, clean_stale=False) as f:
        f.write(data)


def pil() -> Any:
    """Import Pillow or fail with the command line's install hint."""
    return require("PIL.Image", "this command")


# ---------------------------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------------------------

class Progress:
    """Counts and rates on stderr: tqdm if installed, else one refreshed line; off when quiet."""

    def __init__(self, total: int, desc: str, enabled: bool | None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.total, self.desc, self.n = total, desc, 0
        self.t0 = self._last = time.perf_counter()
        self._bar: Any = None
        if self.enabled and _tqdm is not None:
            self._bar = _tqdm(total=total, desc=desc, unit="img", file=sys.stderr)

    def update(self, k: int = 1) -> None:
        self.n += k
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(k)
            return
        now = time.perf_counter()
        if now - self._last >= 0.2 or self.n == self.total:
            self._last = now
            rate = self.n / max(now - self.t0, 1e-9)
            sys.stderr.write(f"\r{self.desc}: {self.n}/{self.total} ({rate:.1f}/s)")
            sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# parallel map
# ---------------------------------------------------------------------------------------------

def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _run_batch(fn: Callable[[Any], Any], batch: list[Any]) -> list[tuple[bool, Any]]:
    """Apply ``fn`` to each item; an exception becomes ``(False, message)`` for that item."""
    out: list[tuple[bool, Any]] = []
    for item in batch:
        try:
            out.append((True, fn(item)))
        except (MemoryError, KeyboardInterrupt, OutputWriteError):  # not the item's fault
            raise
        except Exception as e:  # noqa: BLE001 - reported per item, with its file name
            out.append((False, f"{type(e).__name__}: {e}" if not isinstance(e, CliError)
                        else str(e)))
    return out


def _batches(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def ordered_map(fn: Callable[[Any], Any], items: Sequence[Any], *, jobs: int,
                engine: str = "local", scheduler: str | None = None,
                batch: int | None = None) -> Generator[tuple[Any, bool, Any], None, None]:
    """Yield ``(item, ok, result_or_message)`` in input order, with bounded work in flight.

    ``fn`` must be picklable (a module-level function or a ``functools.partial`` of one)
    for ``jobs > 1`` or the Dask engine.
    """
    items = list(items)
    if not items:
        return
    if engine == "dask":
        yield from _dask_map(fn, items, scheduler, batch or 8)
        return
    if jobs <= 1 or len(items) == 1:
        for item in items:
            ok, res = _run_batch(fn, [item])[0]
            yield item, ok, res
        return
    size = batch or max(1, min(16, len(items) // (jobs * 4) or 1))
    window = jobs * 3
    ex = process_pool(jobs)  # workers exit with this process, even after a SIGKILL
    try:
        pending: collections.deque[Any] = collections.deque()
        it = _batches(items, size)
        for b in it:
            pending.append((b, ex.submit(_run_batch, fn, b)))
            if len(pending) >= window:
                break
        while pending:
            b, fut = pending.popleft()
            for item, (ok, res) in zip(b, fut.result()):
                yield item, ok, res
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, ex.submit(_run_batch, fn, nxt)))
    except BrokenProcessPool:  # from result() or from a submit() after the pool broke
        raise DataError("a worker process stopped abruptly (killed, or out of "
                        "memory) while converting; --jobs 1 runs the work in this "
                        "process") from None
    finally:  # a stopped run (error, Ctrl-C) does not wait for the queued batches
        ex.shutdown(wait=True, cancel_futures=True)


DASK_CONNECT_SECONDS = 5  # an unreachable scheduler fails this soon, with its address


def _dask_map(fn: Callable[[Any], Any], items: list[Any], scheduler: str | None,
              size: int) -> Iterator[tuple[Any, bool, Any]]:
    Client = require("dask.distributed", "--engine dask").Client
    if not scheduler:
        raise UsageError("--engine dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
    try:
        client = Client(scheduler, timeout=DASK_CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise DataError(f"cannot connect to the Dask scheduler at {scheduler}: {e}") from None
    try:
        nworkers = max(1, len(client.scheduler_info().get("workers", {})))
        window = nworkers * 3
        pending: collections.deque[Any] = collections.deque()
        it = _batches(items, size)
        for b in it:
            pending.append((b, client.submit(_run_batch, fn, b, pure=False)))
            if len(pending) >= window:
                break
        while pending:
            b, fut = pending.popleft()
            res = fut.result()
            fut.release()
            for item, (ok, r) in zip(b, res):
                yield item, ok, r
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, client.submit(_run_batch, fn, nxt, pure=False)))
    finally:
        client.close()


class BadItems:
    """Collects failed items for --skip-bad (stderr + --report FILE)."""

    def __init__(self, skip: bool, report: str | None) -> None:
        self.skip, self.report = skip, report
        self.items: list[tuple[str, str]] = []

    def fail(self, name: str, message: str) -> None:
        if not self.skip:
            raise DataError(f"{name}: {message} (use --skip-bad to skip failing items)")
        self.items.append((name, message))

    def finish(self) -> None:
        if self.items:
            sys.stderr.write(f"skipped {len(self.items)} bad item(s):\n")
            for name, msg in self.items:
                sys.stderr.write(f"  {name}: {msg}\n")
        if self.report:
            with atomic_output(self.report, "w") as f:
                json.dump({"skipped": [{"item": n, "error": m} for n, m in self.items]}, f,
                          indent=1)


def converted(fn: Callable[[Any], Any], items: Sequence[Any], args: Any, title: str,
              bad: BadItems, name: Callable[[Any], str]
              ) -> Generator[tuple[int, Any, Any], None, None]:
    """Run a subcommand's per-item work (``ordered_map`` with the command's --jobs and
    engine options) under a progress bar; yield ``(index, item, result)`` for the items that
    worked and hand the others to ``bad`` under ``name(item)``."""
    prog = Progress(len(items), title, args.progress)
    results = ordered_map(fn, items, jobs=args.jobs, engine=args.engine,
                          scheduler=args.scheduler)
    try:
        for pos, (item, ok, res) in enumerate(results):
            prog.update()
            if ok:
                yield pos, item, res
            else:
                bad.fail(name(item), res)
    finally:  # stop the workers now (not when the generator is collected): a caller that
        results.close()  # cleans up after a failure knows that nothing is written any more
        prog.close()

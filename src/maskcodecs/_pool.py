"""A shared worker pool for the threaded entry points (the kernels release the GIL).

One lazily created ``ThreadPoolExecutor`` is reused across calls, so a call with
``threads=2`` does not pay for starting threads. The calling thread always runs one part
itself. After ``fork`` (dataloader workers) the child starts with no pool and makes its own.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from maskcodecs._args import threads_arg

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def _reset_after_fork() -> None:
    global _pool, _pool_size, _lock
    _pool = None
    _pool_size = 0
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            old = _pool
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="maskcodecs")
            _pool_size = workers
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def resolve_threads(threads: int | None, n: int) -> int:
    """Number of parts to run: ``None`` -> 1; ``0`` or negative -> all cores; at most n.
    ``threads`` that is not None or an integer is an ArgumentError (:func:`threads_arg`)."""
    t = threads_arg(threads)
    if t is None:
        return 1
    if t <= 0:
        t = os.cpu_count() or 1
    return max(1, min(t, n))


def run_parts(fn: Callable[[int, int], Any], n: int, parts: int) -> list[Any]:
    """Run ``fn(start, stop)`` over ``parts`` contiguous slices of ``range(n)``; results in
    order. One slice runs in the calling thread, the others in the shared pool."""
    parts = max(1, min(parts, n))
    bounds = [n * i // parts for i in range(parts + 1)]
    slices = [(bounds[i], bounds[i + 1]) for i in range(parts) if bounds[i] < bounds[i + 1]]
    if len(slices) <= 1:
        return [fn(a, b) for a, b in slices]
    pool = _get_pool(len(slices) - 1)
    futures: list[Future[Any]] = [pool.submit(fn, a, b) for a, b in slices[1:]]
    first = fn(*slices[0])
    return [first] + [f.result() for f in futures]


def _die_with_parent(parent: int) -> None:
    """Initializer of pool worker processes: exit when the parent process dies, even by
    SIGKILL (no shutdown message ever comes then). On Linux the kernel sends SIGKILL
    (prctl PR_SET_PDEATHSIG); elsewhere, and as a backstop, a daemon thread polls the
    parent's pid."""
    import ctypes
    import ctypes.util
    import signal

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the parent died before the prctl
        os._exit(1)

    def watch() -> None:
        import time
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="maskcodecs-parent-watch", daemon=True).start()


def process_pool(workers: int) -> Any:
    """A ``ProcessPoolExecutor`` of ``workers`` processes that exit when this process dies
    (see :func:`_die_with_parent`)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent,
                               initargs=(os.getpid(),))

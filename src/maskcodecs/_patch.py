"""Make pycocotools use maskcodecs for its mask operations."""
from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any, Callable


class PatchHandle:
    """Undo handle returned by :func:`patch_pycocotools`; also a context manager."""

    def __init__(self, undo: Callable[[], None]) -> None:
        self._undo = undo
        self.active = True

    def undo(self) -> None:
        """Restore the original pycocotools modules (idempotent)."""
        if self.active:
            self._undo()
            self.active = False

    __call__ = undo

    def __enter__(self) -> PatchHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.undo()


def patch_pycocotools() -> PatchHandle:
    """Route ``pycocotools.mask`` and the ``maskUtils`` of ``pycocotools.coco`` and
    ``pycocotools.cocoeval`` to :mod:`maskcodecs.mask`.

    Existing code (``COCO.annToRLE``, ``COCOeval`` segm evaluation, ``from pycocotools import
    mask``) then runs on maskcodecs unchanged.

    Returns
    -------
    PatchHandle
        Call it (or ``.undo()``, or use it as a context manager) to restore pycocotools.

    Raises
    ------
    ImportError
        If pycocotools is not installed.

    Examples
    --------
    >>> import maskcodecs
    >>> handle = maskcodecs.patch_pycocotools()  # doctest: +SKIP
    >>> handle.undo()  # doctest: +SKIP
    """
    from maskcodecs import mask as ours

    pkg = importlib.import_module("pycocotools")
    saved: list[tuple[Any, str, Any]] = []
    original_mask = importlib.import_module("pycocotools.mask")

    def swap(obj: Any, attr: str) -> None:
        saved.append((obj, attr, getattr(obj, attr, None)))
        setattr(obj, attr, ours)

    swap(pkg, "mask")
    saved_sys = sys.modules.get("pycocotools.mask")
    sys.modules["pycocotools.mask"] = ours
    for name in ("pycocotools.coco", "pycocotools.cocoeval"):
        try:
            mod: ModuleType = importlib.import_module(name)
        except ImportError:  # pragma: no cover - partial installs
            continue
        if hasattr(mod, "maskUtils"):
            swap(mod, "maskUtils")

    def undo() -> None:
        for obj, attr, value in reversed(saved):
            setattr(obj, attr, value)
        sys.modules["pycocotools.mask"] = saved_sys if saved_sys is not None else original_mask

    return PatchHandle(undo)

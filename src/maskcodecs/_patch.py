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
    """Route the installed pycocotools to maskcodecs: ``pycocotools.mask`` and the
    ``maskUtils`` of ``pycocotools.coco`` and ``pycocotools.cocoeval`` to
    :mod:`maskcodecs.mask`, and ``pycocotools.coco.COCO``, ``pycocotools.cocoeval.COCOeval``
    and ``Params`` to :mod:`maskcodecs.coco` / :mod:`maskcodecs.cocoeval`.

    Code that looks these names up through the modules (``pycocotools.coco.COCO(...)``,
    ``from pycocotools.cocoeval import COCOeval`` run after the patch) then runs on maskcodecs.
    Names bound before the patch keep pointing at pycocotools; :func:`init_as_pycocotools`,
    called before anything imports pycocotools, covers every import.

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
    from maskcodecs import coco as our_coco
    from maskcodecs import cocoeval as our_eval
    from maskcodecs import mask as ours

    pkg = importlib.import_module("pycocotools")
    saved: list[tuple[Any, str, Any]] = []
    original_mask = importlib.import_module("pycocotools.mask")

    def swap(obj: Any, attr: str, value: Any = ours) -> None:
        saved.append((obj, attr, getattr(obj, attr, None)))
        setattr(obj, attr, value)

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
        if name == "pycocotools.coco":
            swap(mod, "COCO", our_coco.COCO)
        else:
            swap(mod, "COCOeval", our_eval.COCOeval)
            swap(mod, "Params", our_eval.Params)

    def undo() -> None:
        for obj, attr, value in reversed(saved):
            setattr(obj, attr, value)
        sys.modules["pycocotools.mask"] = saved_sys if saved_sys is not None else original_mask

    return PatchHandle(undo)


_ALIASES = ("pycocotools", "pycocotools.mask", "pycocotools.coco", "pycocotools.cocoeval")


def init_as_pycocotools() -> PatchHandle:
    """Make ``import pycocotools`` (and ``pycocotools.mask``, ``.coco``, ``.cocoeval``)
    resolve to maskcodecs, whether or not pycocotools is installed.

    Call it before the code that imports pycocotools (torchmetrics'
    ``MeanAveragePrecision(backend="pycocotools")``, detectron2's ``COCOEvaluator``,
    mmdetection's ``CocoMetric``): their ``COCO``, ``COCOeval`` and mask calls then run on
    maskcodecs. Modules already imported keep the names they bound.

    Returns
    -------
    PatchHandle
        Undoes the aliasing (restores whatever ``sys.modules`` held before).

    Examples
    --------
    >>> import maskcodecs
    >>> with maskcodecs.init_as_pycocotools():
    ...     from pycocotools.cocoeval import COCOeval
    ...     COCOeval.__module__
    'maskcodecs.cocoeval'
    """
    from maskcodecs import coco as our_coco
    from maskcodecs import cocoeval as our_eval
    from maskcodecs import mask as ours

    pkg = _package("pycocotools",
                   "maskcodecs standing in for pycocotools (maskcodecs.init_as_pycocotools).")
    coco_mod = ModuleType("pycocotools.coco")
    coco_mod.COCO = our_coco.COCO  # type: ignore[attr-defined]
    coco_mod.maskUtils = ours  # type: ignore[attr-defined]
    eval_mod = ModuleType("pycocotools.cocoeval")
    eval_mod.COCOeval = our_eval.COCOeval  # type: ignore[attr-defined]
    eval_mod.Params = our_eval.Params  # type: ignore[attr-defined]
    eval_mod.maskUtils = ours  # type: ignore[attr-defined]
    pkg.mask = ours  # type: ignore[attr-defined]
    pkg.coco = coco_mod  # type: ignore[attr-defined]
    pkg.cocoeval = eval_mod  # type: ignore[attr-defined]
    return _alias(dict(zip(_ALIASES, (pkg, ours, coco_mod, eval_mod))))


def _package(name: str, doc: str) -> ModuleType:
    pkg = ModuleType(name)
    pkg.__doc__ = doc
    pkg.__path__ = []  # a package, so that submodule imports go through sys.modules
    return pkg


def _alias(modules: dict[str, ModuleType]) -> PatchHandle:
    """Put these modules in sys.modules; the handle restores what was there before."""
    missing = object()
    saved = {name: sys.modules.get(name, missing) for name in modules}
    sys.modules.update(modules)

    def undo() -> None:
        for name, old in saved.items():
            if old is missing:
                if sys.modules.get(name) is modules[name]:
                    del sys.modules[name]
            else:
                sys.modules[name] = old  # type: ignore[assignment]

    return PatchHandle(undo)


_LVIS_ALIASES = ("lvis", "lvis.lvis", "lvis.results", "lvis.eval")


def init_as_lvis() -> PatchHandle:
    """Make ``import lvis`` (and ``lvis.lvis``, ``lvis.results``, ``lvis.eval``) resolve to
    :mod:`maskcodecs.lvis`, whether or not lvis-api is installed.

    Call it before the code that imports lvis (detectron2's ``LVISEvaluator``,
    mmdetection's ``LVISMetric``): their ``LVIS``, ``LVISResults`` and ``LVISEval`` then run
    on maskcodecs. Modules already imported keep the names they bound. lvis-api's
    visualiser ``LVISVis`` is not provided.

    Returns
    -------
    PatchHandle
        Undoes the aliasing (restores whatever ``sys.modules`` held before).

    Examples
    --------
    >>> import maskcodecs
    >>> with maskcodecs.init_as_lvis():
    ...     from lvis import LVISEval
    ...     LVISEval.__module__
    'maskcodecs.lvis'
    """
    from maskcodecs import lvis as ours
    from maskcodecs import mask as our_mask

    pkg = _package("lvis", "maskcodecs standing in for lvis-api (maskcodecs.init_as_lvis).")
    parts = {}
    for name, attrs in (("lvis", ("LVIS",)), ("results", ("LVISResults",)),
                        ("eval", ("LVISEval", "Params"))):
        mod = ModuleType(f"lvis.{name}")
        mod.mask_utils = our_mask  # type: ignore[attr-defined]
        for attr in attrs:
            setattr(mod, attr, getattr(ours, attr))
        setattr(pkg, name, mod)
        parts[f"lvis.{name}"] = mod
    for attr in ("LVIS", "LVISResults", "LVISEval"):
        setattr(pkg, attr, getattr(ours, attr))
    pkg.__all__ = ["LVIS", "LVISResults", "LVISEval"]  # type: ignore[attr-defined]
    return _alias({"lvis": pkg, **parts})

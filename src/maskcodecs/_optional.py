"""The optional imports, each with the one message that names what to install.

numpy is the only required dependency of the codecs. Pillow (image files the PNG reader
does not take, JPEG, drawing), matplotlib (``COCO.showAnns``) and dask (``--engine dask``)
are optional; :func:`require` imports one or raises :class:`OptionalDependencyError` (an
ImportError) naming the package and the extra that installs it. The command line reports
the same error with its own extra, ``maskcodecs[cli]``.
"""
from __future__ import annotations

import importlib
from typing import Any

from maskcodecs.errors import OptionalDependencyError

__all__ = ["require", "EXTRAS"]

#: module -> (package to install, the maskcodecs extra that installs it, or None)
EXTRAS: dict[str, tuple[str, str | None]] = {
    "PIL.Image": ("Pillow", "image"),
    "matplotlib.pyplot": ("matplotlib", None),
    "dask.distributed": ("dask[distributed]", "dask"),
}


def install_hint(package: str, extra: str | None) -> str:
    if extra is None:
        return f"pip install {package}"
    if extra == "image":  # the command line's extra brings Pillow too
        return "pip install 'maskcodecs[image]' (for the command line: 'maskcodecs[cli]')"
    return f"pip install 'maskcodecs[{extra}]'"


def require(module: str, purpose: str) -> Any:
    """Import ``module`` (a key of EXTRAS) or raise OptionalDependencyError saying that
    ``purpose`` needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        package, extra = EXTRAS[module]
        err = OptionalDependencyError(f"{purpose} needs {package}: "
                                      f"{install_hint(package, extra)}")
        err.package = package  # type: ignore[attr-defined]
        err.purpose = purpose  # type: ignore[attr-defined]
        raise err from e

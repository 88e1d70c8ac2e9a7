"""Type checks of values read from JSON documents (Labelbox, Encord, COCO files): a value
that is not the object or list the format says is a :class:`~maskcodecs.errors.FormatError`
naming it, instead of an ``AttributeError`` of ``.get`` or a ``TypeError`` of iteration."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maskcodecs.errors import FormatError


def json_object(v: Any, what: str, *, optional: bool = False) -> Mapping[str, Any]:
    """``v`` if it is a JSON object (``{}`` for None, or a missing value, when
    ``optional``); FormatError naming ``what`` otherwise."""
    if v is None and optional:
        return {}
    if not isinstance(v, Mapping):
        raise FormatError(f"{what} must be an object, got {type(v).__name__}")
    return v


def json_list(v: Any, what: str) -> list[Any]:
    """The items of a JSON list (none for None); FormatError naming ``what`` otherwise."""
    if v is None:
        return []
    if not isinstance(v, (list, tuple)):
        raise FormatError(f"{what} must be a list, got {type(v).__name__}")
    return list(v)

"""COCO category ids for the classes of an annotation platform's export, independent of the
order in which the export lists its objects.

Two exports of one project must give the same ids. With a table (``--categories FILE``) the
ids come from it: a COCO category list, a ``{name: id}`` object, an Encord ontology (its
objects' ``id``, matched by ``featureNodeHash`` or name, as Encord's own COCO exporter does)
or a Labelbox ontology (its tools in order, matched by ``featureSchemaId`` or name); a class
the table lacks is an error naming it. Without a table the ids follow the sorted class names
(then their source keys), not the order of first appearance.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from maskcodecs.errors import FormatError

__all__ = ["CategoryIds", "CategoryTableError"]


class CategoryTableError(FormatError):
    """A categories table that cannot be read, or a class that it does not list."""


class CategoryIds:
    """Ids for classes named by source keys (feature hashes, schema ids) and names."""

    def __init__(self, table: Mapping[str, int] | None = None,
                 names: Mapping[int, str] | None = None, source: str = "") -> None:
        self.table = dict(table) if table is not None else None
        self.names = dict(names or {})
        self.source = source

    # -- reading a table -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CategoryIds:
        """Read a categories table file (see the module notes for the forms)."""
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise CategoryTableError(f"{path}: cannot read the categories table: {e}") from e
        return cls.from_document(doc, str(path))

    @classmethod
    def from_document(cls, doc: Any, source: str = "the categories table") -> CategoryIds:
        table: dict[str, int] = {}
        names: dict[int, str] = {}

        def add(cid: Any, name: Any, *keys: Any) -> None:
            if isinstance(cid, bool) or not isinstance(cid, (int, str)):
                raise CategoryTableError(f"{source}: bad category id {cid!r}")
            try:
                cid = int(cid)
            except ValueError:
                raise CategoryTableError(f"{source}: bad category id {cid!r}") from None
            if cid <= 0:
                raise CategoryTableError(f"{source}: category ids must be positive, got {cid}")
            if name is not None:
                names.setdefault(cid, str(name))
            for k in (*keys, name):
                if k is not None:
                    table.setdefault(str(k), cid)

        if isinstance(doc, dict) and isinstance(doc.get("objects"), list):  # Encord ontology
            for obj in doc["objects"]:
                if not isinstance(obj, dict) or "id" not in obj:
                    raise CategoryTableError(f"{source}: an ontology object without an id")
                add(obj["id"], obj.get("name"), obj.get("featureNodeHash"))
        elif isinstance(doc, dict) and isinstance(doc.get("tools"), list):  # Labelbox
            for n, tool in enumerate(doc["tools"]):
                if not isinstance(tool, dict):
                    raise CategoryTableError(f"{source}: a tool that is not an object")
                add(n + 1, tool.get("name"), tool.get("featureSchemaId"),
                    tool.get("schemaNodeId"))
        else:
            cats = doc.get("categories") if isinstance(doc, dict) else doc
            if isinstance(cats, list):
                for c in cats:
                    if not isinstance(c, dict) or "id" not in c or "name" not in c:
                        raise CategoryTableError(
                            f"{source}: every category needs an id and a name: {c!r}")
                    add(c["id"], c["name"])
            elif isinstance(doc, dict) and doc:
                for name, cid in doc.items():
                    add(cid, name)
            else:
                raise CategoryTableError(
                    f"{source}: expected COCO categories, {{name: id}}, an Encord ontology "
                    "or a Labelbox ontology")
        if not table:
            raise CategoryTableError(f"{source}: no categories")
        return cls(table, names, source)

    # -- ids -------------------------------------------------------------------------------------
    def assign(self, classes: Iterable[tuple[str, tuple[Any, ...]]]) -> dict[str, int]:
        """Ids of classes given as ``(name, source keys)``: from the table (the first key
        it knows, then the name), else by sorted name and keys. Returns class key -> id,
        the class key being the first source key, or the name where there is none."""
        out: dict[str, int] = {}
        seen = {}
        for name, keys in classes:
            key = class_key(name, keys)
            seen.setdefault(key, (str(name), tuple(str(k) for k in keys if k)))
        if self.table is not None:
            for key, (name, keys) in seen.items():
                for k in (*keys, name):
                    if k in self.table:
                        out[key] = self.table[k]
                        break
                else:
                    ident = f" ({', '.join(keys)})" if keys else ""
                    raise CategoryTableError(f"class {name!r}{ident} is not in {self.source}")
            return out
        for n, key in enumerate(sorted(seen, key=lambda k: (seen[k][0], seen[k][1]))):
            out[key] = n + 1
        return out

    def categories(self, ids: Mapping[str, int], names: Mapping[str, str],
                   extra: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The COCO categories of the assigned ids, sorted by id (one per id; the table's
        name where it has one)."""
        out: dict[int, dict[str, Any]] = {}
        for key, cid in ids.items():
            if cid not in out:
                out[cid] = {"id": cid, "name": self.names.get(cid, names.get(key, key)),
                            **dict((extra or {}).get(key, {}))}
        return [out[c] for c in sorted(out)]


def class_key(name: Any, keys: Iterable[Any]) -> str:
    """The key a class is known by: its first source key, else its name."""
    for k in keys:
        if k:
            return str(k)
    return str(name)

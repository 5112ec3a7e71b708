"""CVAT 2.52.0's OpenAPI schema, vendored as package data, read as CVAT means it.

The file is parsed once per process (320 KB of YAML). drf-spectacular writes a
nullable reference as ``allOf: [<ref>]`` (or ``oneOf``) beside ``nullable: true``;
CVAT means "null or that object" and sends null, for instance for an unassigned
task's ``assignee``. OpenAPI 3.0.3 ties ``nullable`` to a ``type`` in the same
schema object, so a strict validator reads such a property as never null.
`as_cvat_means()` rewrites each into ``anyOf: [<the composition>, {enum: [null]}]``,
which says the same thing in a form every validator reads alike.
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA_FILE = "cvat-2.52.0-openapi.yml"
_COMPOSITIONS = ("allOf", "oneOf", "anyOf")


def schema_path() -> Path:
    """CVAT 2.52.0's schema, vendored as package data (see schema/PROVENANCE.md)."""
    path = Path(str(resources.files("annoflow.adapters.cvat_sim").joinpath("schema", SCHEMA_FILE)))
    if not path.is_file():
        raise FileNotFoundError(f"CVAT's OpenAPI schema is missing from the installed package: {path}")
    return path


def read_schema(path: Path) -> dict[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ten times faster where installed
    with open(path, encoding="utf-8") as handle:
        return as_cvat_means(yaml.load(handle, Loader=loader))


@functools.lru_cache(maxsize=1)
def _vendored() -> dict[str, Any]:
    return read_schema(schema_path())


def cvat_schema() -> dict[str, Any]:
    """The vendored schema as CVAT means it: a copy, parsed once per process."""
    return copy.deepcopy(_vendored())


def shared_schema() -> dict[str, Any]:
    """The same, not copied: for readers that never change it."""
    return _vendored()


def as_cvat_means(node: Any) -> Any:
    """The schema with every nullable composition written as null-or-the-composition."""
    if isinstance(node, list):
        return [as_cvat_means(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: as_cvat_means(value) for key, value in node.items()}
    compositions = [key for key in _COMPOSITIONS if key in out]
    if out.get("nullable") is True and "type" not in out and len(compositions) == 1:
        del out["nullable"]
        (composition,) = compositions
        out["anyOf"] = [{composition: out.pop(composition)}, {"enum": [None]}]
    return out

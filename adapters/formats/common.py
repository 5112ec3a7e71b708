"""What the format readers and writers share: coordinates rounded to what the files keep, label
attributes from a file's extra keys, and a file written whole or not at all."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from annoflow.domain.labels import RESERVED_ATTRIBUTE_NAMES

DECIMALS = 6  # pixel (COCO, VOC) or relative (YOLO) coordinates written with 6 decimals


def rounded(value: float) -> float:
    """A coordinate as written: 6 decimals, so a value read from a file with at most 6 decimals
    comes back to the same float (x / W * W may differ from x in its last bit)."""
    out = round(float(value), DECIMALS)
    return out + 0.0  # no -0.0 in files


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def attribute_problems(attributes: Mapping[str, Any]) -> list[str]:
    """Why these extra keys cannot be label attributes (names that are not identifiers or that name
    a label property)."""
    return [
        f"attribute {name!r} "
        + ("names a label property" if name in RESERVED_ATTRIBUTE_NAMES else "is not an identifier")
        for name in attributes
        if not name.isidentifier() or name in RESERVED_ATTRIBUTE_NAMES
    ]


def scalar_items(mapping: Mapping[str, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """The entries of ``mapping`` holding a scalar (lists and objects are not label attributes)."""
    skip = set(skip)
    return {k: v for k, v in mapping.items() if k not in skip and (v is None or isinstance(v, (bool, int, float, str)))}


def created_mode(directory: bool = False) -> int:
    """The permissions a plain ``open()`` or ``mkdir()`` would give under the process's umask:
    what a file written through a temporary one (created 0600, a folder 0700) gets back."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def write_whole(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``: a crash or an
    error leaves the old file (or none), never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(tmp, created_mode())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise

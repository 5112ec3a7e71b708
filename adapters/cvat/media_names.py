"""File names for media a server names: each one a plain name inside the download folder.

A server (or whoever made its task) chooses a frame's name; a download writes it into a folder the
user chose. A name must never leave that folder: path separators of any system, `..`, drive
letters, NUL and control characters, names Windows reserves and names longer than a file system
takes are turned into a plain name; two frames whose names end up equal get ``_1``, ``_2``...
before their extension. A name that resolves outside the folder (a symlink planted there) is
refused before anything is written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from annoflow.domain.errors import AnnoflowError

MAX_NAME_BYTES = 255  # most file systems' limit for one name, in bytes
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*\\/]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


class UnsafeMediaPathError(AnnoflowError, ValueError):
    """A download would write outside its folder (a symlink in it pointing elsewhere)."""


def safe_name(name: str, *, fallback: str = "frame") -> str:
    """``name``'s last part as one plain file name: no separator, no parent, no drive, no control
    character, not reserved by Windows, at most `MAX_NAME_BYTES` bytes in UTF-8 (the extension kept)."""
    text = unicodedata.normalize("NFC", str(name))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]  # the last part, whatever separator the server used
    text = re.sub(r"^[A-Za-z]:", "", text)  # a drive letter left without a separator ("C:evil.jpg")
    text = _UNSAFE.sub("_", text).strip(" .")  # Windows drops trailing dots and spaces; "." and ".." go
    if not text:
        text = fallback
    stem, dot, suffix = text.rpartition(".")
    if not dot:
        stem, suffix = text, ""
    if stem.split(".")[0].upper() in _RESERVED:
        stem = f"_{stem}"
    suffix = suffix[:16]
    ending = f".{suffix}" if suffix else ""
    while len((stem + ending).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem or fallback) + ending


def unique_names(names: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    """Safe names for ``names`` in order, each different from the others and from ``taken`` (compared
    without case, as Windows and macOS compare them): a repeat gets ``_1``, ``_2``... before its extension."""
    seen = {t.casefold() for t in taken}
    result = []
    for name in names:
        candidate = safe_name(name)
        stem, dot, suffix = candidate.rpartition(".")
        if not dot:
            stem, suffix = candidate, ""
        number = 0
        while candidate.casefold() in seen:
            number += 1
            tail = f"_{number}" + (f".{suffix}" if suffix else "")
            room = MAX_NAME_BYTES - len(tail.encode())
            trimmed = stem
            while len(trimmed.encode()) > room:
                trimmed = trimmed[:-1]
            candidate = trimmed + tail
        seen.add(candidate.casefold())
        result.append(candidate)
    return result


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, refused when it would resolve outside ``folder`` (a symlink there) or is a
    symlink itself: a download never writes through one."""
    root = folder.resolve()
    target = root / name
    if target.is_symlink() or target.resolve().parent != root:
        raise UnsafeMediaPathError(f"{target} is a symbolic link or leads outside {root}: nothing was written there")
    return target

"""Media files CVAT could not take, found before anything is recorded or sent.

CVAT accepts an upload of any bytes and fails later, in its background processing, leaving an
empty task behind. Each file is checked cheaply (a few bytes from each end): a regular, readable,
non-empty file whose content starts like an image or a video CVAT reads, and, for the formats that
say where they end (JPEG, PNG, GIF, BMP, WebP), is not cut short.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

_HEAD, _TAIL = 32, 1024


def _riff_complete(head: bytes, size: int) -> bool:
    return int.from_bytes(head[4:8], "little") + 8 <= size


def _kind(head: bytes, tail: bytes, size: int) -> tuple[str, bool] | None:
    """(the format, whether the file holds all of it), or None for content no known format starts with."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG", b"\xff\xd9" in tail  # the end-of-image marker, perhaps followed by padding
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG", b"IEND" in tail[-16:]
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF", tail.rstrip(b"\x00").endswith(b";")
    if head.startswith(b"BM") and len(head) >= 6:
        return "BMP", int.from_bytes(head[2:6], "little") <= size
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF", True
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP", _riff_complete(head, size)
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "AVI", True
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "MP4/MOV", True
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "Matroska/WebM", True
    if head[:1] == b"\x47" and size >= 188 * 2:
        return "MPEG-TS", True
    if head[:4] == b"\x00\x00\x01\xba":
        return "MPEG-PS", True
    return None


def why_unusable(path: str) -> str | None:
    """Why CVAT could not take the file at ``path``, or None when it looks like media CVAT reads."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "it does not exist"
    except OSError as error:
        return f"it cannot be read ({error.strerror})"
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    if info.st_size == 0:
        return "it is empty (0 bytes)"
    try:
        with open(path, "rb") as file:
            head = file.read(_HEAD)
            file.seek(max(0, info.st_size - _TAIL))
            tail = file.read(_TAIL)
    except OSError as error:
        return f"it cannot be read ({error.strerror})"
    kind = _kind(head, tail, info.st_size)
    if kind is None:
        return "its content is not an image or a video CVAT reads"
    name, complete = kind
    if not complete:
        return f"it is a {name} file cut short (truncated)"
    return None


def unusable_media(paths: Iterable[str]) -> list[tuple[str, str]]:
    """(path, reason) for every file CVAT could not take, in the order given, each path once."""
    found = []
    for path in dict.fromkeys(paths):
        reason = why_unusable(path)
        if reason is not None:
            found.append((path, reason))
    return found

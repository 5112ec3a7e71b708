"""A video's frame count and frame size from its MP4 / QuickTime header, without decoding a frame.

CVAT 2.52 counts a video's frames by decoding it while it builds the task's manifest
(``VideoStreamReader``), and takes the frame size from the video stream. For an MP4 whose one video
track plays every sample it stores, the count is the sample table's (``stsz``) and the size the
sample description's (``stsd``), both in the ``moov`` box: reading them costs microseconds where
starting ffmpeg to decode costs a tenth of a second a video. Anything this reader is not sure
gives what decoding gives (no ``moov``, several video tracks, an edit list that trims or skips, a
rotation, a box it cannot read) answers None, and the caller decodes the video as before.
"""

from __future__ import annotations

import struct
from pathlib import Path

_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"})
_IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)  # tkhd's matrix of an unrotated track
_HEADER_LIMIT = 64 << 20  # a moov larger than this is read by decoding, not into memory


def _boxes(buf: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes in buf[start:end]; ValueError when they do not tile it."""
    out = []
    while start < end:
        if end - start < 8:
            raise ValueError("a truncated box")
        size, kind = struct.unpack_from(">I4s", buf, start)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", buf, start + 8)
            header = 16
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            raise ValueError("a box past its parent")
        out.append((kind, start + header, start + size))
        start += size
    return out


def _moov(path: Path) -> bytes | None:
    """The moov box's bytes, found by walking the file's top-level boxes (the media data is skipped)."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        length = handle.tell()
        offset = 0
        while offset + 8 <= length:
            handle.seek(offset)
            head = handle.read(16)
            size, kind = struct.unpack_from(">I4s", head)
            header = 8
            if size == 1:
                (size,) = struct.unpack_from(">Q", head, 8)
                header = 16
            elif size == 0:
                size = length - offset
            if size < header or offset + size > length:
                return None
            if kind == b"moov":
                if size > _HEADER_LIMIT:
                    return None
                handle.seek(offset)
                return handle.read(size)
            offset += size
    return None


def _child(buf: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for found, payload, box_end in _boxes(buf, start, end):
        if found == kind:
            return payload, box_end
    return None


def mp4_video_info(path: str | Path) -> tuple[int, int, int] | None:
    """(frame count, width, height) of the video in an MP4 / QuickTime file, or None when only
    decoding it can tell (see the module's docstring)."""
    try:
        moov = _moov(Path(path))
        if moov is None:
            return None
        mvhd = _child(moov, 8, len(moov), b"mvhd")
        if mvhd is None:
            return None
        movie_scale = struct.unpack_from(">I", moov, mvhd[0] + (20 if moov[mvhd[0]] == 1 else 12))[0]
        videos: list[tuple[int, int, tuple[int, int]]] = []
        for kind, start, end in _boxes(moov, 8, len(moov)):
            if kind != b"trak":
                continue
            mdia = _child(moov, start, end, b"mdia")
            hdlr = mdia and _child(moov, *mdia, b"hdlr")
            if mdia and hdlr and moov[hdlr[0] + 8 : hdlr[0] + 12] == b"vide":
                videos.append((start, end, mdia))
        if len(videos) != 1:
            return None
        start, end, mdia = videos[0]
        tkhd = _child(moov, start, end, b"tkhd")
        if tkhd is None:
            return None
        matrix_at = tkhd[0] + (52 if moov[tkhd[0]] == 1 else 40)
        if struct.unpack_from(">9i", moov, matrix_at) != _IDENTITY:
            return None  # a rotated video: decoding decides its frames' size
        mdhd = _child(moov, *mdia, b"mdhd")
        if mdhd is None:
            return None
        if moov[mdhd[0]] == 1:
            media_scale, media_duration = struct.unpack_from(">IQ", moov, mdhd[0] + 20)
        else:
            media_scale, media_duration = struct.unpack_from(">II", moov, mdhd[0] + 12)
        edts = _child(moov, start, end, b"edts")
        if edts is not None and not _plays_everything(moov, edts, movie_scale, media_scale, media_duration):
            return None
        minf = _child(moov, *mdia, b"minf")
        stbl = minf and _child(moov, *minf, b"stbl")
        stsz = stbl and _child(moov, *stbl, b"stsz")
        stsd = stbl and _child(moov, *stbl, b"stsd")
        if not stsz or not stsd:
            return None
        (count,) = struct.unpack_from(">I", moov, stsz[0] + 8)
        entries = struct.unpack_from(">I", moov, stsd[0] + 4)[0]
        if entries != 1:
            return None
        # a visual sample entry: size, format, 6 reserved, data reference index, 16 pre-defined, then width, height
        width, height = struct.unpack_from(">HH", moov, stsd[0] + 8 + 8 + 8 + 16)
        if count <= 0 or width <= 0 or height <= 0:
            return None
        return count, width, height
    except (OSError, ValueError, struct.error, IndexError):
        return None


def _plays_everything(
    moov: bytes, edts: tuple[int, int], movie_scale: int, media_scale: int, media_duration: int
) -> bool:
    """An edit list of one edit that starts at or after the media's start (an encoder's B-frame delay)
    and plays it to its end: decoding gives every stored sample then."""
    elst = _child(moov, *edts, b"elst")
    if elst is None:
        return True
    version = moov[elst[0]]
    (entries,) = struct.unpack_from(">I", moov, elst[0] + 4)
    if entries != 1:
        return False
    if version == 1:
        segment, media_time = struct.unpack_from(">Qq", moov, elst[0] + 8)
    else:
        segment, media_time = struct.unpack_from(">Ii", moov, elst[0] + 8)
    rate = struct.unpack_from(">i", moov, elst[0] + 8 + (16 if version == 1 else 8))[0]
    if media_time < 0 or rate != 0x10000 or not movie_scale or not media_scale:
        return False
    # the edit must reach the media's end: what it leaves off would not be decoded
    return segment * media_scale >= (media_duration - media_time) * movie_scale

"""A task's data chunks, as CVAT 2.52's task frame provider serves ``GET /api/tasks/{id}/data?type=chunk``.

Chunk ``n`` holds the task's frames ``n * chunk_size`` up to the next chunk's first (task-relative
numbers; a video task's frame k is frame ``start_frame + k * step`` of its video). A chunk is an
MP4 of those frames when the quality's chunk type is ``video`` (a video task's original chunks,
and its compressed ones unless ``use_zip_chunks``), otherwise a zip of images named by their
position in the chunk (``000000.<ext>``): an image task's original files as uploaded, or every
frame as a JPEG at the task's ``image_quality`` for compressed chunks. The answer carries CVAT's
``X-Checksum`` (CRC-32 of the chunk's size and first 1,000 bytes) and ``X-Updated-Date``.
"""

from __future__ import annotations

import io
import math
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from annoflow.adapters.cvat_sim.state import SimError

_HEADER_BYTES = 1000


def chunk_range(data: dict[str, Any], number: int) -> range:
    """The task frames of chunk ``number``; refused as CVAT's ``validate_chunk_number`` words it."""
    size, chunk_size = data["size"], data.get("chunk_size") or 36
    last = math.ceil(size / chunk_size) - 1
    if not 0 <= number <= last:
        raise SimError(400, f"Invalid chunk number '{number}'. The chunk number should be in the [0, {last}] range")
    return range(number * chunk_size, min((number + 1) * chunk_size, size))


def video_frames(path: str | Path, indexes: Sequence[int]) -> Iterator[np.ndarray]:
    """The frames ``indexes`` (0-based, increasing) of a video, decoded in one pass."""
    import imageio_ffmpeg

    wanted = list(indexes)
    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
        width, height = meta["size"]
        position = 0
        for number, raw in enumerate(reader):
            if position < len(wanted) and number == wanted[position]:
                yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
                position += 1
            if position == len(wanted):
                return
    finally:
        reader.close()


def _mp4(frames: Sequence[np.ndarray], fps: int = 25) -> bytes:
    import imageio_ffmpeg

    height, width = frames[0].shape[:2]
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "chunk.mp4"
        writer = imageio_ffmpeg.write_frames(
            str(target),
            (width, height),
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            macro_block_size=1,
            ffmpeg_log_level="error",
        )
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
        return target.read_bytes()


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _zip(entries: Iterator[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "x", compresslevel=0) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


def chunk_types(data: dict[str, Any]) -> tuple[str, str]:
    """(original, compressed) chunk types, as task creation sets them."""
    video = data.get("mode") == "interpolation"
    return ("video" if video else "imageset"), ("video" if video and not data.get("use_zip_chunks") else "imageset")


def task_chunk(data: dict[str, Any], number: int, quality: str) -> tuple[bytes, str]:
    """(content, mime type) of chunk ``number`` in ``quality`` ("original" or "compressed")."""
    frames = chunk_range(data, number)
    original, compressed = chunk_types(data)
    kind = original if quality == "original" else compressed
    if data["mode"] == "interpolation":
        decoded = list(video_frames(data["files"][0], [data["start_frame"] + k * data["step"] for k in frames]))
        if kind == "video":
            return _mp4(decoded), "video/mp4"
        return _zip(
            (f"{i:06d}.jpeg", _jpeg(Image.fromarray(f), data["image_quality"])) for i, f in enumerate(decoded)
        ), "application/zip"
    paths = {Path(p).name: Path(p) for p in data["files"]}
    names = [data["frames"][k]["name"] for k in frames]
    if quality == "original":
        return _zip(
            (f"{i:06d}{paths[n].suffix}", paths[n].read_bytes()) for i, n in enumerate(names)
        ), "application/zip"
    return _zip(
        (f"{i:06d}.jpeg", _jpeg(Image.open(paths[n]), data["image_quality"])) for i, n in enumerate(names)
    ), "application/zip"


def chunk_headers(content: bytes, updated: str) -> dict[str, str]:
    """CVAT's checksum and date headers of a chunk answer."""
    checksum = zlib.crc32(content[:_HEADER_BYTES], zlib.crc32(str(len(content)).encode()))
    return {"X-Checksum": str(checksum), "X-Updated-Date": updated}

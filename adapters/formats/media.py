"""Media files as samples: images and videos found in folders, their sizes (and a video's frame
count and rate) read from the files themselves; the files stay where they are."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from annoflow.adapters.cvat_backend.media_check import why_unusable
from annoflow.adapters.formats.errors import DataImportError, raise_if
from annoflow.domain.samples import ImageMetadata, MediaType, Sample, VideoMetadata

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"})


def find_media(
    folder: str | os.PathLike[str], extensions: frozenset[str], recursive: bool = True, what: str = "image"
) -> list[Path]:
    """The files under ``folder`` with these extensions (any case), sorted by path; hidden files skipped.

    Raises:
        DataImportError: the folder does not exist or holds no such file.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataImportError([f"{root}: not a folder"])
    pattern = "**/*" if recursive else "*"
    found = sorted(
        p for p in root.glob(pattern) if p.suffix.lower() in extensions and not p.name.startswith(".") and p.is_file()
    )
    if not found:
        raise DataImportError(
            [
                f"{root}: no {what} files ({', '.join(sorted(extensions))})"
                + ("" if recursive else " directly in it (recursive=False)")
            ]
        )
    return found


def image_metadata(path: str | os.PathLike[str]) -> ImageMetadata | str:
    """The image's size from its header, or why it cannot be read (empty, cut short, not an image)."""
    reason = why_unusable(str(path))
    if reason is not None:
        return reason
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError) as error:
        return f"not a readable image ({error})"
    if width <= 0 or height <= 0:
        return f"an image of size {width}x{height}"
    return ImageMetadata(width, height)


def video_metadata(path: str | os.PathLike[str]) -> VideoMetadata | str:
    """The video's size, frame count and frame rate, read with ffmpeg, or why it cannot be read."""
    reason = why_unusable(str(path))
    if reason is not None:
        return reason
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = next(reader)
        finally:
            reader.close()
        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (RuntimeError, OSError, StopIteration) as error:
        return f"not a readable video ({str(error).splitlines()[0] if str(error) else type(error).__name__})"
    width, height = meta.get("size") or (0, 0)
    fps = meta.get("fps") or 0
    if width <= 0 or height <= 0 or frames <= 0 or fps <= 0:
        return f"a video without frames or size (size {width}x{height}, {frames} frames, {fps} fps)"
    return VideoMetadata(width, height, frames, fps)


def _samples(
    paths: Iterable[str | os.PathLike[str]], media_type: MediaType, metadata_of: Callable[[str], Any]
) -> list[Sample]:
    samples, problems = [], []
    for path in paths:
        path = os.path.abspath(path)
        meta = metadata_of(path)
        if isinstance(meta, str):
            problems.append(f"{path}: {meta}")
        else:
            samples.append(Sample(filepath=path, media_type=media_type, metadata=meta))
    raise_if(problems)
    return samples


def image_samples(paths: Iterable[str | os.PathLike[str]]) -> list[Sample]:
    """One image sample per file (absolute path, size from the file), or every unreadable file named."""
    return _samples(paths, MediaType.IMAGE, image_metadata)


def video_samples(paths: Iterable[str | os.PathLike[str]]) -> list[Sample]:
    """One video sample per file (absolute path; size, frame count and rate from the file)."""
    return _samples(paths, MediaType.VIDEO, video_metadata)


def inside(folder: Path, name: str) -> Path | None:
    """``folder / name`` when it stays inside ``folder`` (no absolute path, ``..`` or NUL out of it), else None."""
    if not name or "\x00" in name or os.path.isabs(name) or Path(name).drive:
        return None
    root = os.path.abspath(folder)
    path = os.path.normpath(os.path.join(root, name))  # lexical: a symlink inside the folder is the user's choice
    return Path(path) if os.path.commonpath([root, path]) == root else None

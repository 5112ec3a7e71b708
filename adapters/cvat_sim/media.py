"""Reading uploaded media as CVAT does: image sizes, video frame counts, frame selection."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from annoflow.adapters.cvat_sim.mp4 import mp4_video_info
from annoflow.adapters.cvat_sim.state import Upload, bad_request

# The common image formats' readers, loaded with the module as a running server has them, not by the
# first task's processing (20 ms of it)
Image.preinit()

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpeg", ".mpg"})
_STEP = re.compile(r"step\s*=\s*(\d+)")


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def order_files(files: Sequence[Upload], method: str, upload_order: Sequence[str]) -> list[Upload]:
    if method == "natural":
        return sorted(files, key=lambda f: _natural_key(f.name))
    if method == "predefined":
        if upload_order:
            position = {name: i for i, name in enumerate(upload_order)}
            return sorted(files, key=lambda f: position.get(f.name, len(position)))
        return list(files)
    if method == "random":
        shuffled = list(files)
        random.Random(len(files)).shuffle(shuffled)
        return shuffled
    return sorted(files, key=lambda f: f.name)


def parse_step(frame_filter: str) -> int:
    if not frame_filter:
        return 1
    match = _STEP.fullmatch(frame_filter.strip())
    if not match or int(match.group(1)) < 1:
        raise bad_request("frame_filter", f"Invalid frame filter {frame_filter!r}: expected 'step=N' with N >= 1")
    return int(match.group(1))


def _video_info(path: Path) -> tuple[int, int, int]:
    """(frame count, width, height) as CVAT finds them: from an MP4's header when it tells them
    exactly (`mp4`), else by decoding the video."""
    found = mp4_video_info(path)
    if found is not None:
        return found
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    width, height = meta["size"]
    return frames, width, height


def video_frame_png(path: str | Path, index: int) -> bytes:
    """Frame ``index`` (0-based) of a video as PNG, as CVAT's frame provider sends a video's frames
    (``IFrameProvider.VIDEO_FRAME_MIME``) in either quality."""
    import io

    import imageio_ffmpeg
    import numpy as np

    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
        width, height = meta["size"]
        for number, raw in enumerate(reader):
            if number == index:
                image = Image.fromarray(np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3))
                out = io.BytesIO()
                image.save(out, format="PNG")
                return out.getvalue()
    finally:
        reader.close()
    raise bad_request("number", f"the video has no frame {index}")


def new_data() -> dict[str, Any]:
    """A task's Data as CVAT creates it at the first data request, before any processing."""
    return {
        "mode": "",
        "frames": [],
        "size": 0,
        "start_frame": 0,
        "stop_frame": 0,
        "frame_filter": "",
        "step": 1,
        "image_quality": 50,
        "chunk_size": None,
        "use_cache": False,
        "use_zip_chunks": False,
        "files": [],
    }


def read_media(files: Sequence[Upload], fields: dict[str, Any]) -> dict[str, Any]:
    """What processing the media finds: frame names and sizes, the selected frame range.

    As CVAT's task creation: ``stop_frame`` is the last frame the step selects, and a chunk size
    not given is chosen (36 images here)."""
    if not files:
        raise bad_request("client_files", "No media data found")
    videos = [f for f in files if Path(f.name).suffix.lower() in VIDEO_SUFFIXES]
    if videos and len(files) > 1:
        raise bad_request("client_files", "Only one video can be uploaded per task, without other files")
    step = parse_step(fields.get("frame_filter") or "")
    start = int(fields.get("start_frame") or 0)
    if videos:
        (video,) = videos
        count, width, height = _video_info(video.path)
        mode = "interpolation"
        names = [(video.name, width, height)]
    else:
        ordered = order_files(
            files, fields.get("sorting_method") or "lexicographical", fields.get("upload_file_order") or []
        )
        names = []
        for f in ordered:
            try:
                with Image.open(f.path) as image:
                    names.append((f.name, image.width, image.height))
            except OSError:
                raise bad_request("client_files", f"File {f.name} is not an image or a video") from None
        count = len(names)
        mode = "annotation"
    stop_given = fields.get("stop_frame")
    stop = min(int(stop_given), count - 1) if stop_given not in (None, "") else count - 1
    if start < 0 or start > stop:
        raise bad_request("start_frame", f"Invalid frame range: start {start}, stop {stop} for {count} frames")
    included = list(range(start, stop + 1, step))
    if not videos:
        names = [names[i] for i in included]
    return {
        "mode": mode,
        "frames": [{"name": n, "width": w, "height": h} for n, w, h in names],
        "size": len(included),
        "start_frame": start,
        "stop_frame": included[-1],
        "frame_filter": fields.get("frame_filter") or "",
        "step": step,
        "chunk_size": int(fields["chunk_size"]) if fields.get("chunk_size") not in (None, "") else 36,
        "use_cache": str(fields.get("use_cache", "false")).lower() == "true",
        "use_zip_chunks": str(fields.get("use_zip_chunks", "false")).lower() == "true",
        "files": [str(f.path) for f in files],
    }

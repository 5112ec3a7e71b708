"""A task's data/meta answer as the frame sizes a download needs, checked before use.

An answer without frames is no data/meta (`CVATAnswerError`, naming the request). A frame whose
width or height is not a positive integer gets no size: the objects on it that need one are
refused when they are read (`download.size_of`), and the tags on it still load.
"""

from __future__ import annotations

from typing import Any

from annoflow.adapters.cvat.errors import CVATAnswerError
from annoflow.adapters.cvat_format.checks import is_int, json_type
from annoflow.adapters.cvat_format.download import Size

# Larger than any image CVAT shows; keeps a mask's pixel count (bounded by its frame) in int64.
LARGEST_SIDE = 2**31 - 1


def frame_sizes(meta: Any, *, method: str, url: str) -> list[Size | None]:
    """(width, height) of each frame data/meta lists, None for a frame without a usable size."""
    frames = meta.get("frames") if isinstance(meta, dict) else None
    if not isinstance(frames, list) or not frames:
        what = f"frames {json_type(frames)}" if isinstance(meta, dict) else json_type(meta)
        raise CVATAnswerError(f"a task's data/meta lists its frames, CVAT answered {what}", method=method, url=url)
    return [_size(frame) for frame in frames]


def _size(frame: Any) -> Size | None:
    if not isinstance(frame, dict):
        return None
    width, height = frame.get("width"), frame.get("height")
    if is_int(width, 1) and is_int(height, 1) and width <= LARGEST_SIDE and height <= LARGEST_SIDE:
        return width, height
    return None

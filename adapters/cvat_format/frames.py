"""A task's frames as the samples (and video frame numbers) they show, read from its data/meta.

An image task's frame k is its k-th sample. A video task (one video each) shows frames
``start_frame``, ``start_frame + step``, ... of its video, ``size`` of them; annoflow numbers a
video's frames from 1, so task frame k is frame ``start_frame + k * step + 1`` of the sample.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from annoflow.adapters.cvat.errors import CVATAnswerError
from annoflow.adapters.cvat_format.checks import is_int
from annoflow.domain.run_records import FrameRef

_STEP = re.compile(r"step\s*=\s*(\d+)")


def video_range(meta: Mapping[str, Any]) -> tuple[int, int, int]:
    """(first source frame, step, task frame count) of a video task's data/meta, 0-based as CVAT's."""
    start, size = meta.get("start_frame"), meta.get("size")
    frame_filter = meta.get("frame_filter") or ""
    match = _STEP.fullmatch(frame_filter.strip()) if isinstance(frame_filter, str) else None
    step = int(match.group(1)) if match else 1 if frame_filter == "" else None
    if not is_int(start, 0) or not is_int(size, 1) or step is None or step < 1:
        raise CVATAnswerError(
            f"a video task's data/meta gives start_frame {start!r}, size {size!r}, "
            f"frame_filter {frame_filter!r}: no frame range",
            method="GET",
            url="data/meta",
        )
    return start, step, size


def task_frames(meta: Mapping[str, Any], sample_ids: Sequence[str], video: bool) -> list[FrameRef]:
    """One `FrameRef` per frame of the task: a video's frame numbers 1-based, as its samples hold them."""
    if not video:
        return [FrameRef(sample_id) for sample_id in sample_ids]
    (sample_id,) = sample_ids
    start, step, size = video_range(meta)
    return [FrameRef(sample_id, start + k * step + 1) for k in range(size)]

"""How an annotation run's samples are cut into CVAT tasks and who gets them.

Images: one task for every ``task_size`` images (all of them when None);
videos: one task per video, as CVAT takes one video per task. Every label
field of the run goes into the same tasks. ``task_assignee`` and
``issue_tracker`` may be lists, taken round robin over the tasks;
``frame_start``, ``frame_stop`` and ``frame_step`` (videos only) may be an
int, a list taken round robin over the videos, or a dict keyed by media path.
Every problem is reported at once, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from annoflow.domain.errors import AnnoflowError
from annoflow.domain.samples import MediaType


class TaskPlanError(AnnoflowError, ValueError):
    """Every problem of the task options (task_size, assignees, issue trackers, frame ranges), listed."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid task options:\n" + "\n".join(f"  - {p}" for p in self.problems))


@attrs.frozen
class MediaItem:
    """What planning needs of a sample: no labels, just its media."""

    sample_id: str
    media_path: str
    media_type: MediaType = attrs.field(converter=MediaType)
    frame_count: int | None = None  # a video's, when its metadata gives it


@attrs.frozen
class TaskPlan:
    index: int
    name: str
    sample_ids: tuple[str, ...] = attrs.field(converter=tuple)
    media_paths: tuple[str, ...] = attrs.field(converter=tuple)
    assignee: str | None = None
    issue_tracker: str | None = None
    frame_start: int | None = None
    frame_stop: int | None = None
    frame_step: int | None = None


def _round_robin(value: Any, count: int, name: str, problems: list[str]) -> list[Any]:
    if value is None or isinstance(value, str):
        return [value] * count
    if isinstance(value, (list, tuple)):
        if not value:
            problems.append(f"{name} is an empty list")
            return [None] * count
        if not all(isinstance(v, str) and v for v in value):
            problems.append(f"{name} must hold non-empty strings, got {list(value)!r}")
            return [None] * count
        return [value[i % len(value)] for i in range(count)]
    problems.append(f"{name} must be a string or a list of strings, got {type(value).__name__}")
    return [None] * count


def _per_video(
    value: Any, items: Sequence[MediaItem], name: str, minimum: int, problems: list[str]
) -> list[int | None]:
    if value is None:
        return [None] * len(items)
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {i.media_path for i in items})
        if unknown:
            problems.append(f"{name} names media that the run does not include: {unknown[:3]}")
        values = [value.get(i.media_path) for i in items]
    elif isinstance(value, (list, tuple)):
        if not value:
            problems.append(f"{name} is an empty list")
            return [None] * len(items)
        values = [value[i % len(value)] for i in range(len(items))]
    else:
        values = [value] * len(items)
    for v in values:
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < minimum):
            problems.append(f"{name} values must be integers >= {minimum}, got {v!r}")
            return [None] * len(items)
    return values


def plan_tasks(
    items: Sequence[MediaItem],
    *,
    base_name: str,
    task_size: int | None = None,
    task_name: str | None = None,
    task_assignee: str | Sequence[str] | None = None,
    issue_tracker: str | Sequence[str] | None = None,
    frame_start: Any = None,
    frame_stop: Any = None,
    frame_step: Any = None,
) -> list[TaskPlan]:
    problems: list[str] = []
    if not items:
        raise TaskPlanError(["the run has no samples"])
    media_types = {i.media_type for i in items}
    if len(media_types) > 1:
        problems.append("a run cannot mix images and videos")
    is_video = MediaType.VIDEO in media_types
    if task_size is not None and (isinstance(task_size, bool) or not isinstance(task_size, int) or task_size < 1):
        problems.append(f"task_size must be a positive integer, got {task_size!r}")
        task_size = None
    if not is_video and any(v is not None for v in (frame_start, frame_stop, frame_step)):
        problems.append("frame_start, frame_stop and frame_step apply to videos only")
    if task_name is not None and (not isinstance(task_name, str) or not task_name):
        problems.append(f"task_name must be a non-empty string, got {task_name!r}")

    if is_video:
        batches = [[item] for item in items]
    else:
        size = task_size or len(items)
        batches = [list(items[i:i + size]) for i in range(0, len(items), size)]
    count = len(batches)
    assignees = _round_robin(task_assignee, count, "task_assignee", problems)
    trackers = _round_robin(issue_tracker, count, "issue_tracker", problems)
    starts = _per_video(frame_start, items, "frame_start", 0, problems) if is_video else [None] * count
    stops = _per_video(frame_stop, items, "frame_stop", 0, problems) if is_video else [None] * count
    steps = _per_video(frame_step, items, "frame_step", 1, problems) if is_video else [None] * count
    for start, stop, item in zip(starts, stops, items if is_video else ()):
        if start is not None and stop is not None and stop < start:
            problems.append(f"frame_stop {stop} comes before frame_start {start} for {item.media_path}")
        elif start is not None and item.frame_count is not None and start >= item.frame_count:
            # frame_start is 0-based, as CVAT's start_frame; a frame_stop past the end is cut there, as CVAT does
            problems.append(f"frame_start {start} selects no frame of {item.media_path}: it has {item.frame_count} "
                            f"frames (0 to {item.frame_count - 1})")
    if problems:
        raise TaskPlanError(problems)

    name = task_name or base_name
    return [
        TaskPlan(
            index=i,
            name=name if count == 1 else f"{name}_{i + 1}",
            sample_ids=[item.sample_id for item in batch],
            media_paths=[item.media_path for item in batch],
            assignee=assignees[i],
            issue_tracker=trackers[i],
            frame_start=starts[i],
            frame_stop=stops[i],
            frame_step=steps[i],
        )
        for i, batch in enumerate(batches)
    ]

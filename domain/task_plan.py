"""How an annotation run's samples are cut into tasks and who gets them.

Every problem of the task options is reported at once, before anything is sent
(ARCHITECTURE.md, "Task plans").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from annoflow.domain.errors import AnnoflowError
from annoflow.domain.samples import MediaType


def _tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: a named function mypy reads, where it cannot read ``converter=tuple``."""
    return tuple(values)


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
    sample_ids: tuple[str, ...] = attrs.field(converter=_tuple)
    media_paths: tuple[str, ...] = attrs.field(converter=_tuple)
    assignee: str | None = None
    issue_tracker: str | None = None
    frame_start: int | None = None
    frame_stop: int | None = None
    frame_step: int | None = None


@attrs.frozen
class _FrameRange:
    """A video task's frame_start, frame_stop and frame_step (None: the server's default)."""

    start: int | None = None
    stop: int | None = None
    step: int | None = None


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
    """The run's tasks, in order, or a TaskPlanError listing every problem of the options."""
    if not items:
        raise TaskPlanError(["the run has no samples"])
    is_video = any(item.media_type is MediaType.VIDEO for item in items)
    problems = _option_problems(items, task_size, task_name, (frame_start, frame_stop, frame_step))
    batches = _batches(items, is_video, task_size if _is_task_size(task_size) else None)
    count = len(batches)
    assignees, assignee_problems = _round_robin(task_assignee, count, "task_assignee")
    trackers, tracker_problems = _round_robin(issue_tracker, count, "issue_tracker")
    if is_video:
        frames, frame_problems = _frame_ranges(items, frame_start, frame_stop, frame_step)
    else:
        frames, frame_problems = [_FrameRange()] * count, []
    problems += assignee_problems + tracker_problems + frame_problems
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
            frame_start=frames[i].start,
            frame_stop=frames[i].stop,
            frame_step=frames[i].step,
        )
        for i, batch in enumerate(batches)
    ]


def _is_task_size(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


def _option_problems(
    items: Sequence[MediaItem], task_size: Any, task_name: Any, frame_options: Sequence[Any]
) -> list[str]:
    problems = []
    media_types = {item.media_type for item in items}
    if len(media_types) > 1:
        problems.append("a run cannot mix images and videos")
    if task_size is not None and not _is_task_size(task_size):
        problems.append(f"task_size must be a positive integer, got {task_size!r}")
    if MediaType.VIDEO not in media_types and any(v is not None for v in frame_options):
        problems.append("frame_start, frame_stop and frame_step apply to videos only")
    if task_name is not None and (not isinstance(task_name, str) or not task_name):
        problems.append(f"task_name must be a non-empty string, got {task_name!r}")
    return problems


def _batches(items: Sequence[MediaItem], is_video: bool, task_size: int | None) -> list[list[MediaItem]]:
    if is_video:
        return [[item] for item in items]
    size = task_size or len(items)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _round_robin(value: Any, count: int, name: str) -> tuple[list[Any], list[str]]:
    """``count`` values taken round robin from a list (a single string for every task), and the problems."""
    if value is None or isinstance(value, str):
        return [value] * count, []
    if not isinstance(value, (list, tuple)):
        return [None] * count, [f"{name} must be a string or a list of strings, got {type(value).__name__}"]
    if not value:
        return [None] * count, [f"{name} is an empty list"]
    if not all(isinstance(v, str) and v for v in value):
        return [None] * count, [f"{name} must hold non-empty strings, got {list(value)!r}"]
    return [value[i % len(value)] for i in range(count)], []


def _frame_ranges(
    items: Sequence[MediaItem], frame_start: Any, frame_stop: Any, frame_step: Any
) -> tuple[list[_FrameRange], list[str]]:
    """Each video's frame range, and the problems of the options and of the ranges they make."""
    starts, start_problems = _per_video(frame_start, items, "frame_start", 0)
    stops, stop_problems = _per_video(frame_stop, items, "frame_stop", 0)
    steps, step_problems = _per_video(frame_step, items, "frame_step", 1)
    ranges = [
        _FrameRange(start=start, stop=stop, step=step) for start, stop, step in zip(starts, stops, steps, strict=True)
    ]
    return ranges, start_problems + stop_problems + step_problems + _range_problems(items, ranges)


def _per_video(value: Any, items: Sequence[MediaItem], name: str, minimum: int) -> tuple[list[int | None], list[str]]:
    """One value a video: an int for all, a list round robin, or a dict by media path; and the problems."""
    nothing: list[int | None] = [None] * len(items)
    if value is None:
        return nothing, []
    problems = []
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {i.media_path for i in items})
        if unknown:
            problems.append(f"{name} names media that the run does not include: {unknown[:3]}")
        values = [value.get(i.media_path) for i in items]
    elif isinstance(value, (list, tuple)):
        if not value:
            return nothing, [f"{name} is an empty list"]
        values = [value[i % len(value)] for i in range(len(items))]
    else:
        values = [value] * len(items)
    bad = [v for v in values if v is not None and not _is_frame_value(v, minimum)]
    if bad:
        return nothing, [*problems, f"{name} values must be integers >= {minimum}, got {bad[0]!r}"]
    return values, problems


def _is_frame_value(value: Any, minimum: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= minimum


def _range_problems(items: Sequence[MediaItem], ranges: Sequence[_FrameRange]) -> list[str]:
    problems = []
    for item, frames in zip(items, ranges, strict=True):
        if frames.start is not None and frames.stop is not None and frames.stop < frames.start:
            problems.append(f"frame_stop {frames.stop} comes before frame_start {frames.start} for {item.media_path}")
        elif frames.start is not None and item.frame_count is not None and frames.start >= item.frame_count:
            # frame_start is 0-based, as the server's start frame; a frame_stop past the end is cut there,
            # as the server does
            problems.append(
                f"frame_start {frames.start} selects no frame of {item.media_path}: it has {item.frame_count} "
                f"frames (0 to {item.frame_count - 1})"
            )
    return problems

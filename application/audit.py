"""A run's audit trail: its events replayed as a readable history.

Each event becomes one entry (when, what); a load's LabelMerged and Rejected
events are summed into its entry, so the history says how many labels each
load added, edited, deleted and rejected, even for a load that crashed before
it completed.
"""

from __future__ import annotations

import datetime
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import AnnotationRun
from annoflow.domain.run_records import TaskSummary
from annoflow.domain.task_ledger import merged_in


@attrs.frozen
class AuditEntry:
    timestamp: datetime.datetime
    event: str
    text: str
    counts: tuple[tuple[str, int], ...] = ()

    def __str__(self) -> str:
        return f"{self.timestamp.isoformat(timespec='seconds')}  {self.event:<15} {self.text}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _requested(event: Any) -> str:
    fields = event.label_schema
    field_names = ", ".join(fields if isinstance(fields, dict) else getattr(fields, "field_names", ()))
    return (
        f"requested key {event.key!r} on dataset {event.dataset!r}: "
        f"{_plural(len(event.sample_ids), 'sample')} to {event.backend}"
        + (f", fields {field_names}" if field_names else "")
    )


def _task_created(event: Any) -> str:
    task = event.task if isinstance(event.task, TaskSummary) else event.task.summary()  # older runs: the record
    return (
        f"task {task.task_id} created"
        + (f" in project {task.project_id}" if task.project_id is not None else "")
        + f": {_plural(task.frame_count, 'frame')}, {_plural(len(task.job_ids), 'job')}, "
        f"{_plural(task.label_count, 'label')} uploaded"
    )


def _project_schema_adopted(event: Any) -> str:
    fields = ", ".join(f"{f.path} ({len(f.classes)} classes)" for f in event.label_schema) or "no field yet"
    return f"follows the existing project's labels: {fields}"


def _cleaned_up(event: Any) -> str:
    projects = f" and projects {list(event.project_ids)}" if event.project_ids else ""
    return f"cleaned up CVAT tasks {list(event.task_ids)}{projects}"


# Event class name -> its line in the history; an event not named here reads as its name.
_DESCRIPTIONS: dict[str, Callable[[Any], str]] = {
    "Requested": _requested,
    "TaskCreated": _task_created,
    "ProjectSchemaAdopted": _project_schema_adopted,
    "ProjectCreated": lambda e: f"project {e.project_id} created",
    "TaskStarted": lambda e: f"task {e.task_id} started on the server (plan {e.plan_index})",
    "TaskAbandoned": lambda e: f"unfilled task {e.task_id} deleted",
    "UploadCompleted": lambda e: "upload completed",
    "Renamed": lambda e: f"renamed {e.old_key!r} -> {e.new_key!r}",
    "CleanupStarted": lambda e: "cleanup of the CVAT side started",
    "CleanedUp": _cleaned_up,
    "Deleted": lambda e: "run record deleted",
    "ChangesApplied": lambda e: f"changes of task {e.task_id} applied to the dataset",
    "TaskUnchanged": lambda e: f"task {e.task_id} unchanged on the server at its new revision {e.revision}",
}


def _describe(event: Any) -> str:
    name = type(event).__name__
    describe = _DESCRIPTIONS.get(name)
    return name if describe is None else describe(event)


class _LoadTally:
    """Counts of one load's changes, filled from its LabelMerged and Rejected events."""

    def __init__(self, load_id: str, started: datetime.datetime) -> None:
        self.load_id = load_id
        self.started = started
        self.counts: Counter[str] = Counter()
        self.tasks: list[int] = []
        self.unchanged = 0
        self.completed = False
        self.jobs: str | None = None
        self.painted = 0

    def entry(self) -> AuditEntry:
        parts = [f"{self.counts[k]} {k}" for k in ("added", "edited", "deleted", "rejected")]
        status = "" if self.completed else " (not completed: the next load finishes it)"
        unchanged = f", {_plural(self.unchanged, 'task')} unchanged" if self.unchanged else ""
        unchanged += f", jobs with {self.jobs} only" if self.jobs else ""
        unchanged += f", {self.painted} box(es) or polygon(s) painted into masks" if self.painted else ""
        return AuditEntry(
            self.started,
            "load",
            f"load {self.load_id}: {', '.join(parts)} from {_plural(len(self.tasks), 'task')}{unchanged}{status}",
            tuple(sorted(self.counts.items())),
        )


def audit_entries(events: Iterable[Any]) -> list[AuditEntry]:
    entries: list[AuditEntry | _LoadTally] = []
    loads: dict[str, _LoadTally] = {}
    for event in events:
        name = type(event).__name__
        load_id: str = getattr(event, "load_id", "")  # the events that read it all have one
        if name == "ShapesImported":
            tally = loads.get(load_id)
            if tally is None:
                tally = loads[load_id] = _LoadTally(load_id, event.timestamp)
                entries.append(tally)  # becomes its entry once the whole history is read
            tally.tasks.append(event.task_id)
            if getattr(event, "added", None) is not None:  # the counts; older runs follow with their LabelMerged events
                tally.counts.update(
                    {"added": event.added, "edited": event.edited, "deleted": event.deleted, "rejected": event.rejected}
                )
        elif name == "LabelMerged" and hasattr(event, "task_id"):  # in the run's own events: an older run
            for change in merged_in(event):
                loads[load_id].counts[change.action.value] += 1
        elif name == "Rejected" and hasattr(event, "task_id"):
            loads[load_id].counts["rejected"] += 1
        elif name in ("LabelMerged", "Rejected"):
            continue  # a task ledger's detail of a load the ShapesImported event already counted
        elif name == "LoadCompleted":
            summary = event.summary
            tally = loads.get(summary.load_id)
            if tally is None:  # a load that found every task unchanged
                tally = loads[summary.load_id] = _LoadTally(summary.load_id, event.timestamp)
                entries.append(tally)
            tally.completed = True
            tally.unchanged = summary.unchanged_tasks
            tally.jobs = getattr(summary, "jobs", None)
            tally.painted = getattr(summary, "painted", 0)
        else:
            entries.append(AuditEntry(event.timestamp, name, _describe(event)))
    return [e.entry() if isinstance(e, _LoadTally) else e for e in entries]


def run_history(registry: RunRegistry, run_id: uuid.UUID) -> list[AuditEntry]:
    return audit_entries(registry.iter_history(run_id))


def dataset_history(registry: RunRegistry, dataset: str) -> Sequence[tuple[AnnotationRun, list[AuditEntry]]]:
    """Every run the dataset ever had, deleted ones included, with its history."""
    return [
        (registry.get_run_by_id(run_id), run_history(registry, run_id))
        for run_id in registry.run_ids(dataset, include_deleted=True)
    ]


def _label_text(change: Any) -> str:
    if change.is_scalar:
        return f"value {change.value!r}" if change.value is not None else "its value"
    label = change.label
    name = getattr(label, "label", None)
    return f"{type(label).__name__ if label is not None else 'label'} {change.label_id}" + (
        f" {name!r}" if name else ""
    )


def _ranges(numbers: Iterable[int]) -> str:
    """Frame numbers as runs: 2-5, 8."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


class _VideoTally:
    """The frames and tracks one task's block of a load changed, per video: a summary line when it ends."""

    def __init__(self) -> None:
        self.frames: dict[str, set[int]] = {}
        self.tracks: dict[str, set[int]] = {}

    def add(self, sample_id: str, frame: int | None, index: int | None) -> None:
        if frame is None:
            return
        self.frames.setdefault(sample_id, set()).add(frame)
        if index is not None:
            self.tracks.setdefault(sample_id, set()).add(index)

    def lines(self, where: str) -> Iterator[str]:
        for sample_id, frames in self.frames.items():
            tracks = self.tracks.get(sample_id)
            named = f"; tracks {', '.join(map(str, sorted(tracks)))}" if tracks else ""
            yield f"{where}: changed frames {_ranges(frames)} of video {sample_id}{named}"


def change_lines(events: Iterable[Any], only_load: str | None = None) -> Iterator[str]:
    """One line per change a load made and per edit it refused, as a run's detailed history streams
    them (its events with each task's LabelMerged and Rejected after the task's ShapesImported), and
    after a task's lines of a video, one naming the frames and tracks the load changed in it:
    nothing is held but the line being made and those frame numbers."""
    task_id = None
    tally, where = _VideoTally(), ""
    for event in events:
        name = type(event).__name__
        if name == "ShapesImported":
            yield from tally.lines(where)
            tally, task_id = _VideoTally(), event.task_id
            continue
        if name not in ("LabelMerged", "Rejected") or (only_load is not None and event.load_id != only_load):
            continue
        where = f"load {event.load_id}, task {getattr(event, 'task_id', task_id)}"
        if name == "LabelMerged":
            for change in merged_in(event):
                index = getattr(change.label, "index", None)
                tally.add(change.sample_id, change.frame, index)
                frame = f", frame {change.frame}" if change.frame is not None else ""
                track = f", track {index}" if index is not None else ""
                yield (
                    f"{where}: {change.action.value} {_label_text(change)} in {change.field!r} "
                    f"of sample {change.sample_id}{frame}{track}"
                )
        else:
            refused = event.rejection
            sample = f"sample {refused.sample_id}" if refused.sample_id is not None else "no sample"
            frame = f", frame {refused.frame}" if getattr(refused, "frame", None) is not None else ""
            yield f"{where}: refused ({refused.rule}) on {sample}{frame}, field {refused.field!r}: {refused.attempted}"
    yield from tally.lines(where)

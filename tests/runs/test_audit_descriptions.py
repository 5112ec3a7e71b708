"""Each event of a run's history reads as one line of text: the texts `annoflow audit` prints, pinned."""

from __future__ import annotations

import types

import pytest

from annoflow.application.audit import _describe
from annoflow.domain.run_records import TaskSummary


def _event(name: str, **fields):
    """An event of that class name with those fields: the description reads nothing else."""
    return type(name, (types.SimpleNamespace,), {})(**fields)


class _Record:
    """A TaskCreated's task as older runs recorded it: the whole record, summarised on reading."""

    def summary(self) -> TaskSummary:
        return TaskSummary(7, None, (1,), ("a" * 24,), frame_count=1, label_count=0)


class _Schema:
    field_names = ("ground_truth", "frames.kp")


@pytest.mark.parametrize(
    "event, text",
    [
        (
            _event("Requested", key="r", dataset="d", sample_ids=["x", "y"], backend="cvat", label_schema={"gt": {}}),
            "requested key 'r' on dataset 'd': 2 samples to cvat, fields gt",
        ),
        (
            _event("Requested", key="r", dataset="d", sample_ids=["x"], backend="cvat", label_schema=_Schema()),
            "requested key 'r' on dataset 'd': 1 sample to cvat, fields ground_truth, frames.kp",
        ),
        (
            _event("Requested", key="r", dataset="d", sample_ids=[], backend="cvat", label_schema=object()),
            "requested key 'r' on dataset 'd': 0 samples to cvat",
        ),
        (
            _event("TaskCreated", task=TaskSummary(3, 12, (4, 5), ("a" * 24, "b" * 24), frame_count=2, label_count=1)),
            "task 3 created in project 12: 2 frames, 2 jobs, 1 label uploaded",
        ),
        (_event("TaskCreated", task=_Record()), "task 7 created: 1 frame, 1 job, 0 labels uploaded"),
        (
            _event("ProjectSchemaAdopted", label_schema=[types.SimpleNamespace(path="gt", classes=("a", "b"))]),
            "follows the existing project's labels: gt (2 classes)",
        ),
        (_event("ProjectSchemaAdopted", label_schema=[]), "follows the existing project's labels: no field yet"),
        (_event("ProjectCreated", project_id=9), "project 9 created"),
        (_event("TaskStarted", task_id=4, plan_index=1), "task 4 started on the server (plan 1)"),
        (_event("TaskAbandoned", task_id=4), "unfilled task 4 deleted"),
        (_event("UploadCompleted"), "upload completed"),
        (_event("Renamed", old_key="a", new_key="b"), "renamed 'a' -> 'b'"),
        (_event("CleanupStarted"), "cleanup of the CVAT side started"),
        (_event("CleanedUp", task_ids=(1, 2), project_ids=(3,)), "cleaned up CVAT tasks [1, 2] and projects [3]"),
        (_event("CleanedUp", task_ids=(1,), project_ids=()), "cleaned up CVAT tasks [1]"),
        (_event("Deleted"), "run record deleted"),
        (_event("ChangesApplied", task_id=2), "changes of task 2 applied to the dataset"),
        (_event("TaskUnchanged", task_id=2, revision="r1"), "task 2 unchanged on the server at its new revision r1"),
        (_event("SomethingNew"), "SomethingNew"),
    ],
)
def test_each_event_reads_as_its_line(event, text):
    assert _describe(event) == text

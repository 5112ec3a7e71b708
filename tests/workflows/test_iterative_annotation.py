"""Annotate, load, keep annotating, load again: a label an earlier load added is merged once, and edits of it merge into it.

Issue #15, section 1, as a user meets it: 3 samples in 1 task on the simulator, the embedded
defaults (`wiring.open_dataset`: SQLite label store and run registry), the scripted annotator
editing in CVAT between loads. After every load the summary counts what the annotator did, and the
dataset holds what CVAT holds, label for label (`tests.workflows.agreement`), with CVAT objects
that were paired before still paired with the same labels.
"""

from __future__ import annotations

import pytest

from annoflow.adapters import wiring
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.quickstart import load_quickstart
from annoflow.domain.labels import labels_in
from tests.workflows.agreement import check_agreement, dataset_frames, read_cvat, task_frames

KEY = "iterative"
FIELD = "ground_truth"
BOX_A = [5.0, 6.0, 20.0, 21.0]


class Workflow:
    """One user's dataset, run and task, an annotator in CVAT, and what the last check paired."""

    def __init__(self, tmp_path, cvat_sim) -> None:
        self.login = {"url": cvat_sim.url, "username": USER, "password": PASSWORD}
        self.dataset = wiring.open_dataset("quickstart", env={"ANNOFLOW_DATA_DIR": str(tmp_path / "data")})
        load_quickstart(self.dataset.store, tmp_path / "media", num_samples=3, image_size=(96, 64))
        self.originals = {label.id for s in self.dataset.iter_samples() for label in labels_in(s.fields[FIELD])}
        (self.task_id,) = self.dataset.annotate(KEY, label_field=FIELD, **self.login).task_ids
        self.frames = task_frames(self.dataset, KEY, self.task_id)
        self.annotator = ScriptedAnnotator(cvat_sim.url, USER, PASSWORD)
        self.known: dict[int, str] = {}

    def load(self) -> tuple[int, int, int]:
        """Load, check the dataset against CVAT, and return (added, edited, deleted)."""
        self.dataset.load_annotations(KEY, **self.login)
        summary = self.dataset.last_load.summary
        counts = summary.added, summary.edited, summary.deleted
        cvat = read_cvat(self.annotator, self.task_id)
        try:
            self.known = check_agreement(cvat, dataset_frames(self.dataset, self.frames, FIELD), self.known)
        except AssertionError as problem:
            raise AssertionError(f"the load merged (added, edited, deleted) = {counts}; {problem}") from None
        return counts

    def original_shapes(self) -> list[int]:
        """CVAT ids of the shapes that carry an original label's id, by frame then id."""
        boxes = read_cvat(self.annotator, self.task_id).boxes
        return [
            b.object_id for b in sorted(boxes, key=lambda b: (b.frame, b.object_id)) if b.label_id in self.originals
        ]

    def count(self) -> int:
        return sum(len(labels_in(s.fields[FIELD])) for s in self.dataset.iter_samples())

    def new_labels(self) -> list:
        return [
            label
            for s in self.dataset.iter_samples()
            for label in labels_in(s.fields[FIELD])
            if label.id not in self.originals
        ]

    def some_class(self) -> str:
        return sorted(self.annotator.labels(self.task_id))[0]

    def other_class(self, name: str) -> str:
        return next(n for n in sorted(self.annotator.labels(self.task_id)) if n != name)


@pytest.fixture
def workflow(tmp_path, cvat_sim):
    flow = Workflow(tmp_path, cvat_sim)
    yield flow
    flow.annotator.close()


def test_a_label_added_in_cvat_is_not_merged_again_by_later_loads(workflow):
    flow, annotator, task = workflow, workflow.annotator, workflow.task_id
    start = flow.count()
    b, c, *_ = flow.original_shapes()
    annotator.add_shape(task, flow.some_class(), 0, "rectangle", BOX_A)
    assert flow.load() == (1, 0, 0)
    assert flow.count() == start + 1

    annotator.move_shape(task, b, [1.0, 2.0, 30.0, 40.0])  # an original box; A untouched
    assert flow.load() == (0, 1, 0)
    assert flow.count() == start + 1

    annotator.delete(task, c)  # another original box
    assert flow.load() == (0, 0, 1)
    assert flow.count() == start
    assert len(flow.new_labels()) == 1


def _move(flow, shape):
    flow.annotator.move_shape(flow.task_id, shape, [40.0, 30.0, 60.0, 50.0])


def _relabel(flow, shape):
    flow.annotator.relabel(flow.task_id, shape, flow.other_class(flow.some_class()))


def _set_attribute(flow, shape):
    flow.annotator.set_attribute(flow.task_id, shape, "iscrowd", "1")


EDITS = {"move": _move, "relabel": _relabel, "attribute": _set_attribute}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edit_in_cvat_of_a_label_a_load_added_merges_into_that_label(workflow, edit):
    flow, annotator, task = workflow, workflow.annotator, workflow.task_id
    a = annotator.add_shape(task, flow.some_class(), 0, "rectangle", BOX_A)
    assert flow.load() == (1, 0, 0)
    (added,) = flow.new_labels()

    EDITS[edit](flow, a)
    assert flow.load() == (0, 1, 0)  # an edit, not a second copy
    (edited,) = flow.new_labels()
    assert edited.id == added.id and edited != added


def test_deleting_in_cvat_a_label_a_load_added_deletes_it(workflow):
    flow, annotator, task = workflow, workflow.annotator, workflow.task_id
    start = flow.count()
    a = annotator.add_shape(task, flow.some_class(), 0, "rectangle", BOX_A)
    assert flow.load() == (1, 0, 0)

    annotator.delete(task, a)
    assert flow.load() == (0, 0, 1)
    assert flow.new_labels() == [] and flow.count() == start


def test_an_added_label_follows_every_edit_until_it_is_deleted(workflow):
    flow, annotator, task = workflow, workflow.annotator, workflow.task_id
    a = annotator.add_shape(task, flow.some_class(), 1, "rectangle", BOX_A)
    assert flow.load() == (1, 0, 0)
    (added,) = flow.new_labels()
    for edit in ("move", "relabel", "attribute"):
        EDITS[edit](flow, a)
        assert flow.load() == (0, 1, 0), f"after the {edit}"
        assert [label.id for label in flow.new_labels()] == [added.id], f"after the {edit}"
    annotator.delete(task, a)
    assert flow.load() == (0, 0, 1)
    assert flow.new_labels() == []
